"""The ``vgestimators`` command, run as a user would: in fresh processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _species_folder import write_species_data

from vgestimators.cli import main
from vgestimators.cli._predict import COLUMNS

EXE = Path(sys.executable).with_name("vgestimators")


def _run(*args, cwd):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [str(EXE)] if EXE.exists() else [sys.executable, "-m", "vgestimators.cli"]
    return subprocess.run(
        [*command, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.fixture(scope="module")
def species_data(tmp_path_factory):
    return write_species_data(tmp_path_factory.mktemp("species"))


def _train_args(images, sequences, out):
    """``train`` with the test's images, sequences, model file and small net."""
    return [
        "train",
        "--images",
        str(images),
        "--sequences",
        str(sequences),
        "--out",
        str(out),
        *TRAIN,
    ]


TRAIN = (
    "--backbone",
    "resnet18",
    "--image-size",
    "24",
    "--max-epochs",
    "2",
    "--device",
    "cpu",
    "--seed",
    "0",
)


def test_train_predict_evaluate_in_fresh_processes(species_data, tmp_path):
    model = tmp_path / "model.joblib"
    done = _run(
        *_train_args(species_data["images"], species_data["fasta"], model),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    species = pd.read_csv(tmp_path / "model.species.csv")
    # folder names with spaces paired with FASTA names in other case and "_"
    paired = species[species["n_images"] > 0]
    assert sorted(paired["species"]) == sorted(species_data["species"])
    assert set(paired["how"]) == {"name"}
    # the image-less species is one species (two spellings in the FASTA)
    image_less = species[species["n_images"] == 0]
    assert image_less["species"].tolist() == [
        species_data["image_less"].replace("_", " ")
    ]
    report = (tmp_path / "model.report.md").read_text()
    assert "species with DNA and no images (1)" in report
    # how names were paired, in words (no Python dict)
    assert "- species names paired: 5 by name (case, '_' and spaces ignored)" in report
    assert "{'name'" not in report
    # the two trainings' progress, each named
    assert "[SpeciesPipeline] hold-out 1/1: fit on" in done.stdout
    assert "[SpeciesPipeline] final fit on all 56 images" in done.stdout
    assert done.stdout.index("hold-out 1/1") < done.stdout.index("final fit")
    assert "## Settings" in report and "object at 0x" not in report
    # the calibration says where its constants come from and what it expects
    calibration = report.split("## Calibration", 1)[1].split("## Species")[0]
    assert "chosen on held-out images (1 hold-out(s))" in calibration
    assert "objective: balanced accuracy over all species" in calibration
    assert "expected on new images" in calibration

    out = tmp_path / "predictions.csv"
    new = species_data["new"]
    one = next(
        iter(
            sorted((species_data["images"] / species_data["species"][0]).glob("*.png"))
        )
    )
    done = _run(
        "predict", model, new, one, "--out", out, "--device", "cpu", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    # genus from the binomial names: the deepest rank the model is sure of
    assert table.columns.tolist() == [*COLUMNS, "genus", "genus_probability", "rank"]
    assert set(table["rank"]) <= {"species", "genus", "none"}
    genus = table["species"].str.split().str[0]
    assert (table["genus_probability"] >= table["probability"] - 1e-6).all()
    sure = table["rank"] == "species"
    assert (table.loc[sure, "probability"] >= 0.9).all()
    assert (table.loc[sure, "genus"] == genus[sure]).all()
    assert len(table) == len(list(new.glob("*.png"))) + 1
    assert table["file"].iloc[-1] == str(one)
    known = set(species["species"])
    assert set(table["species"]) <= known and set(table["species_3"]) <= known
    ranked = table[["probability", "probability_2", "probability_3"]].to_numpy()
    assert (np.diff(ranked, axis=1) <= 1e-9).all() and (ranked >= 0).all()
    assert not table["unknown"].any()  # no novelty threshold set

    evaluation = tmp_path / "evaluation"
    done = _run(
        "evaluate",
        model,
        "--images",
        species_data["test"],
        "--out",
        evaluation,
        "--device",
        "cpu",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    per_species = pd.read_csv(evaluation / "per_species.csv")
    assert per_species.columns.tolist() == [
        "species",
        "n_train",
        "n_test",
        "n_correct",
        "accuracy",
        "top_confusions",
    ]
    assert sorted(per_species["species"]) == sorted(species["species"])
    # training counts come from the model; the image-less species has none
    n_train = dict(zip(species["species"], species["n_images"], strict=True))
    assert dict(zip(per_species["species"], per_species["n_train"], strict=True)) == (
        n_train
    )
    assert (per_species["n_test"] == 10).all()
    summary = json.loads((evaluation / "summary.json").read_text())
    assert summary["n_images"] == per_species["n_test"].sum()
    expected = per_species["n_correct"].sum() / per_species["n_test"].sum()
    assert summary["accuracy"] == pytest.approx(expected)
    # where the test images went, instead of scikit-learn's raw warning
    assert "y_pred contains classes not in y_true" not in done.stderr
    image_less = per_species.loc[per_species["n_train"] == 0, "species"].tolist()
    confused = pd.read_csv(evaluation / "confusions.csv")
    wrongly = confused.loc[confused["predicted"].isin(image_less), "count"].sum()
    assert summary["n_predicted_as_species_without_images"] == (
        summary["n_of_them_right"] + wrongly
    )
    assert 0 <= summary["expected_calibration_error"] <= 1
    # accuracy per rank: species is the accuracy, genus at least that
    per_rank = pd.read_csv(evaluation / "per_rank.csv")
    assert per_rank["rank"].tolist() == ["species", "genus"]
    by_rank = summary["accuracy_by_rank"]
    assert by_rank["species"] == pytest.approx(summary["accuracy"], abs=1e-4)
    assert by_rank["genus"] >= by_rank["species"]
    assert "accuracy by rank: species" in done.stderr + done.stdout
    assert (evaluation / "accuracy_by_rank.png").stat().st_size > 1000
    assert "named as species without training images" in done.stderr + done.stdout
    confusions = pd.read_csv(evaluation / "confusions.csv")
    assert confusions.columns.tolist() == ["species", "predicted", "count"]
    assert (
        confusions["count"].sum()
        == (per_species["n_test"] - per_species["n_correct"]).sum()
    )
    assert (evaluation / "per_species_accuracy.png").stat().st_size > 1000


def test_species_without_dna_stops_train_before_training(species_data, tmp_path):
    images = tmp_path / "images"
    images.symlink_to(species_data["images"], target_is_directory=True)
    fasta = tmp_path / "partial.fasta"
    missing = species_data["species"][1]
    records = species_data["fasta"].read_text().split(">")[1:]
    kept = [
        r
        for r in records
        if missing.replace(" ", "_").lower() not in r.split("\n", 1)[0].lower()
    ]
    assert len(kept) < len(records)
    fasta.write_text("".join(">" + r for r in kept))
    model = tmp_path / "model.joblib"
    done = _run(
        *_train_args(images, fasta, model),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert missing in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("vgestimators train: error:")
    assert (
        "training resnet18" not in done.stderr and "decoded" not in done.stderr
    )  # stopped before training
    assert not model.exists()


def test_pipe_delimited_headers_need_a_field_and_then_train(species_data, tmp_path):
    fasta = tmp_path / "pipes.fasta"
    lines = species_data["fasta"].read_text().splitlines()
    fasta.write_text(
        "\n".join(
            f">{line[1:].split()[0]}|{line.split()[1]}|18S"
            if line.startswith(">")
            else line
            for line in lines
        )
        + "\n"
    )
    assert (
        main(
            [
                *_train_args(
                    str(species_data["images"]), str(fasta), str(tmp_path / "m.joblib")
                ),
                "--quiet",
            ]
        )
        == 2
    )
    done = _run(
        *_train_args(species_data["images"], fasta, tmp_path / "m.joblib"),
        cwd=tmp_path,
    )
    assert "--species-field 1" in done.stderr and "Traceback" not in done.stderr
    assert (
        main(
            [
                "train",
                "--images",
                str(species_data["images"]),
                "--sequences",
                str(fasta),
                "--species-field",
                "1",
                "--out",
                str(tmp_path / "m.joblib"),
                *TRAIN,
                "--quiet",
            ]
        )
        == 0
    )
    assert (tmp_path / "m.joblib").exists()


def test_config_file_sets_any_parameter_and_bad_names_fail_early(
    species_data, tmp_path, capsys
):
    config = tmp_path / "settings.yaml"
    config.write_text("embedder:\n  embedding_dim: 16\naligner:\n  shrinkage: 0.0\n")
    model = tmp_path / "m.joblib"
    args = [
        *_train_args(
            str(species_data["images"]), str(species_data["fasta"]), str(model)
        ),
        "--quiet",
    ]
    assert main([*args, "--config", str(config)]) == 0
    from vgestimators.io import load_model

    fitted = load_model(model)
    assert fitted.named_steps["embedder"].embedding_dim == 16
    # printed, the DNA table is one line; get_params keeps the table
    shown = repr(fitted)
    assert "sequences=<DataFrame: 56 sequences of 6 species>" in shown
    table = fitted.get_params()["aligner__sequences"]
    assert len(table) == 56 and len(shown) < 700
    assert not any(sequence[:12] in shown for sequence in table["sequence"])
    assert fitted.named_steps["aligner"].shrinkage == 0.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"embedder__no_such_setting": 1}))
    model.unlink()
    capsys.readouterr()
    assert main([*args, "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "no_such_setting" in err
    assert not model.exists()


def test_predict_errors_are_one_line(tmp_path, capsys):
    from PIL import Image

    Image.new("RGB", (8, 8)).save(tmp_path / "shot.png")
    assert (
        main(
            [
                "predict",
                str(tmp_path / "none.joblib"),
                str(tmp_path),
                "--out",
                str(tmp_path / "p.csv"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("vgestimators predict: error:") and "none.joblib" in err
    assert len(err.splitlines()) == 1
    # the images are checked before the model is read
    assert (
        main(
            [
                "predict",
                str(tmp_path / "none.joblib"),
                str(tmp_path / "gone"),
                "--out",
                str(tmp_path / "p.csv"),
            ]
        )
        == 2
    )
    assert "gone" in capsys.readouterr().err


def _copy_images(source, target):
    import shutil

    shutil.copytree(source, target)
    return target


def test_bad_image_stops_train_early_or_is_left_out_with_the_flag(
    species_data, tmp_path, capsys
):
    images = _copy_images(species_data["images"], tmp_path / "images")
    bad = sorted((images / species_data["species"][0]).glob("*.png"))[1]
    data = bad.read_bytes()
    bad.write_bytes(data[: len(data) // 2])
    model = tmp_path / "deep" / "folder" / "m.joblib"
    args = [
        *_train_args(str(images), str(species_data["fasta"]), str(model)),
        "--quiet",
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert bad.name in err and "--skip-bad-images" in err and "truncated" in err
    assert not model.parent.exists()  # nothing written, nothing trained
    # flags win over the config file; missing folders of --out are created
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"embedder": {"max_epochs": 3}}))
    assert main([*args, "--skip-bad-images", "--config", str(config)]) == 0
    from vgestimators.io import load_model

    fitted = load_model(model)
    assert fitted.named_steps["embedder"].max_epochs == 2  # --max-epochs 2
    assert len(fitted.named_steps["embedder"].history_) == 2
    report = model.with_name("m.report.md").read_text()
    assert f"not used (--skip-bad-images): {bad}" in report
    # one count of the unreadable file, plural-correct, and the check that ran
    n_files = len(list(images.rglob("*.png")))
    assert (
        f"- image check: every one of {n_files} image files read in full "
        f"before training: {n_files - 1} decoded, 1 unreadable (left out, "
        "--skip-bad-images)"
    ) in report
    assert "- not used: 1 entry: unreadable image file (1)" in report
    assert "0 of them unreadable" not in report and "1 entries" not in report
    assert "image_check='header'" not in report
    assert fitted.named_steps["embedder"].image_check == "decode"  # as configured
    table = pd.read_csv(model.with_name("m.species.csv"))
    counts = dict(zip(table["species"], table["n_images"], strict=True))
    on_disk = len(list((images / species_data["species"][0]).glob("*.png")))
    assert counts[species_data["species"][0]] == on_disk - 1


def test_mapping_without_header_and_a_class_without_dna(species_data, tmp_path):
    images = _copy_images(species_data["images"], tmp_path / "images")
    (images / species_data["species"][0]).rename(images / "Mystery shells")
    (images / species_data["species"][1]).rename(images / "Unsequenced one")
    mapping = tmp_path / "pairs.csv"
    first = species_data["species"][0].replace(" ", "_")
    mapping.write_text(f"Mystery shells,{first}\nUnsequenced one,none\n")
    model = tmp_path / "m.joblib"
    assert (
        main(
            [
                "train",
                "--images",
                str(images),
                "--sequences",
                str(species_data["fasta"]),
                "--mapping",
                str(mapping),
                "--out",
                str(model),
                *TRAIN,
                "--quiet",
            ]
        )
        == 0
    )
    table = pd.read_csv(tmp_path / "m.species.csv").set_index("species")
    assert table.loc["Mystery shells", "how"] == "mapping"
    assert table.loc["Unsequenced one", "how"] == "images only"
    assert table.loc["Unsequenced one", "n_sequences"] == 0
    assert bool(table.loc["Unsequenced one", "recognised"])
    # the unmatched species' sequences stay as a DNA-only species
    assert species_data["species"][1].lower() in {s.lower() for s in table.index}


def test_evaluate_names_folders_the_model_does_not_know(species_data, tmp_path, capsys):
    model = tmp_path / "m.joblib"
    assert (
        main(
            [
                *_train_args(
                    str(species_data["images"]), str(species_data["fasta"]), str(model)
                ),
                "--quiet",
            ]
        )
        == 0
    )
    test = _copy_images(species_data["test"], tmp_path / "test")
    (test / species_data["species"][0]).rename(test / "Hastigerina pelagica")
    capsys.readouterr()
    evaluate = ["evaluate", str(model), "--images", str(test)]
    evaluate += ["--out", str(tmp_path / "ev"), "--quiet"]
    assert main(evaluate) == 2
    err = capsys.readouterr().err
    assert "'Hastigerina pelagica'" in err and "--mapping" in err
    assert "mapping=" not in err
    mapping = tmp_path / "leave_out.csv"
    mapping.write_text("image_class,species\nHastigerina pelagica,none\n")
    assert main([*evaluate, "--mapping", str(mapping)]) == 0
    per_species = pd.read_csv(tmp_path / "ev" / "per_species.csv")
    assert "Hastigerina pelagica" not in set(per_species["species"])
    # what was left out is said, not silently dropped
    summary = json.loads((tmp_path / "ev" / "summary.json").read_text())
    assert summary["folders_left_out"] == ["Hastigerina pelagica"]
    n_left = len(list((test / "Hastigerina pelagica").glob("*.png")))
    assert summary["n_images_left_out"] == n_left > 0
    assert main([*evaluate[:-1], "--mapping", str(mapping)]) == 0
    assert f"{n_left} images of 1 folder(s) mapped to 'none' left out" in (
        capsys.readouterr().err
    )


def test_review_findings_mapping_none_folders_and_recursive_predict(
    species_data, tmp_path, capsys
):
    images = _copy_images(species_data["images"], tmp_path / "images")
    first = species_data["species"][0]
    # a "none" line for a class whose sequences are in the file: an error,
    # not the DNA used anyway
    mapping = tmp_path / "pairs.csv"
    mapping.write_text(f"{first},none\n")
    args = [
        *_train_args(
            str(images), str(species_data["fasta"]), str(tmp_path / "m.joblib")
        ),
        "--quiet",
    ]
    assert main([*args, "--mapping", str(mapping)]) == 2
    assert "have no sequences, but the sequences name" in capsys.readouterr().err
    # a species whose files are all unreadable keeps its row in the table
    for png in (images / first).glob("*.png"):
        png.write_bytes(png.read_bytes()[:40])
    assert main([*args, "--skip-bad-images"]) == 0
    table = pd.read_csv(tmp_path / "m.species.csv").set_index("species")
    assert table.loc[first, "n_images"] == 0 and table.loc[first, "how"] == "name"
    # predict searches folders recursively and creates the folder of --out
    out = tmp_path / "new" / "folder" / "p.csv"
    assert (
        main(
            [
                "predict",
                str(tmp_path / "m.joblib"),
                str(species_data["test"]),
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    n_test = len(list(species_data["test"].rglob("*.png")))
    assert len(pd.read_csv(out)) == n_test
    # the unknown column follows the novelty threshold (scores are cosines)
    for threshold, expected in (("1.5", True), ("-1.5", False)):
        assert (
            main(
                [
                    "predict",
                    str(tmp_path / "m.joblib"),
                    str(species_data["new"]),
                    "--out",
                    str(out),
                    "--novelty-threshold",
                    threshold,
                    "--quiet",
                ]
            )
            == 0
        )
        table = pd.read_csv(out)
        assert (table["unknown"] == expected).all()
        assert table["species"].notna().all()  # the candidates stay listed
    # --novelty-rate: the threshold that flags a share of the held-out images
    # of known species (the model's own scale, read for the user)
    from vgestimators.io import load_model, save_model

    aligner = load_model(tmp_path / "m.joblib").named_steps["aligner"]
    predict = ["predict", str(tmp_path / "m.joblib"), str(species_data["test"])]
    predict += ["--out", str(out)]
    flagged = []
    capsys.readouterr()
    for rate in (0.1, 0.9):
        assert main([*predict, "--novelty-rate", str(rate)]) == 0
        expected = aligner.novelty_threshold_for(rate)
        assert (
            f"novelty threshold {expected:.4f}: flags {rate:.1%} of the held-out "
            "images of known species"
        ) in capsys.readouterr().err
        flagged.append(pd.read_csv(out)["unknown"].mean())
    assert 0 < flagged[1] and flagged[0] <= flagged[1]
    predict.append("--quiet")
    with pytest.raises(SystemExit):  # argparse: a share, and one of the two
        main([*predict, "--novelty-rate", "1.5"])
    assert "a share strictly between 0 and 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*predict, "--novelty-rate", "0.1", "--novelty-threshold", "0.5"])
    assert "not allowed with argument" in capsys.readouterr().err
    # a model without held-out scores (as one written before they were kept)
    old = load_model(tmp_path / "m.joblib")
    old.named_steps["aligner"].calibration_.novelty_scores = None
    save_model(old, tmp_path / "old.joblib")
    predict[1] = str(tmp_path / "old.joblib")
    assert main([*predict, "--novelty-rate", "0.1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vgestimators predict: error: --novelty-rate reads")
    assert "--calibration-holdouts 1" in err and "--novelty-threshold" in err
    assert len(err.splitlines()) == 1


def test_train_refuses_a_folder_as_model_path_before_training(
    species_data, tmp_path, capsys
):
    import time

    start = time.perf_counter()
    args = _train_args(species_data["images"], species_data["fasta"], tmp_path)
    assert main([*args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "is a folder; give the model file to write" in err
    assert "train_loss" not in err and time.perf_counter() - start < 60


def test_train_with_frozen_features_then_predict(species_data, tmp_path, capsys):
    import torch
    from torchvision.models import resnet18

    weights = tmp_path / "r18.pth"
    torch.manual_seed(0)
    torch.save(resnet18().state_dict(), weights)  # as a user's local file
    model = tmp_path / "features.joblib"
    base = ["train", "--images", species_data["images"], "--sequences"]
    base += [species_data["fasta"], "--out", model, "--device", "cpu"]
    # training flags make no sense without training: refused at once (in
    # this process: the error path needs no fresh one)
    argv = [str(a) for a in base]
    assert main([*argv, "--features", "torchvision:resnet18", "--max-epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert "--max-epochs" in err and "Traceback" not in err and not model.exists()
    assert main([*argv, "--features", "resnet18"]) == 2
    assert "BACKEND:NAME" in capsys.readouterr().err
    done = _run(
        *base,
        "--features",
        "torchvision:resnet18",
        "--weights",
        weights,
        "--image-size",
        "32",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "training-free" in done.stdout + done.stderr
    report = (tmp_path / "features.report.md").read_text()
    assert "training-free: features of torchvision:resnet18" in report
    assert "centre 32 x 32 crop" in report
    out = tmp_path / "predictions.csv"
    done = _run(
        "predict",
        model,
        species_data["new"],
        "--out",
        out,
        "--device",
        "cpu",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out)
    assert len(table) == len(list(species_data["new"].glob("*.png")))
    assert set(table["species"]) <= set(
        pd.read_csv(tmp_path / "features.species.csv")["species"]
    )


def test_features_without_weights_offline_is_one_line(
    species_data, tmp_path, capsys, monkeypatch
):
    import torch

    def offline(url, dst, *args, **kwargs):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache
    code = main(
        [
            "train",
            "--images",
            str(species_data["images"]),
            "--sequences",
            str(species_data["fasta"]),
            "--out",
            str(tmp_path / "m.joblib"),
            "--features",
            "torchvision:resnet18",
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("vgestimators train: error: Could not download")
    assert "--weights FILE" in err


def test_taxonomy_table_checked_before_training_and_used_by_predict(
    species_data, tmp_path, capsys
):
    species = [*species_data["species"], species_data["image_less"]]
    genus = [s.replace("_", " ").split()[0] for s in species]
    families = {g: f"Fam{i % 2}" for i, g in enumerate(sorted(set(genus)))}
    table = pd.DataFrame(
        {"species": species, "genus": genus, "family": [families[g] for g in genus]}
    )
    model = tmp_path / "m.joblib"
    args = [
        *_train_args(species_data["images"], species_data["fasta"], model),
        *("--calibration-holdouts", "0", "--max-epochs", "1", "--quiet"),
    ]

    def fails(frame, *match):
        path = tmp_path / "bad.csv"
        frame.to_csv(path, index=False)
        assert main([*args, "--taxonomy", str(path)]) == 2
        err = capsys.readouterr().err
        assert all(m in err for m in match), err
        assert len(err.strip().splitlines()) == 1 and not model.exists()

    no_genus = table.copy()
    no_genus.loc[1, "genus"] = ""
    fails(no_genus, "bad.csv", "empty 'genus'", species[1])
    two = pd.concat([table, table.iloc[[0]].assign(genus="Othergenus")])
    fails(two, f"{species[0]!r} is listed with different taxa")
    fails(table.rename(columns={"family": "famly"}), "'famly'", "not rank names")
    # the DNA-only species must be in it too, before any training
    fails(table.iloc[:-1], "not in the taxonomy table", "the images and the sequence")

    path = tmp_path / "taxonomy.csv"
    table.to_csv(path, index=False)
    assert main([*args, "--taxonomy", str(path)]) == 0
    out = tmp_path / "p.csv"
    # every image flagged unknown: named at the deepest rank it is sure of
    predict = ["predict", str(model), str(species_data["new"]), "--out", str(out)]
    assert main([*predict, "--novelty-threshold", "2", "--quiet"]) == 0
    flagged = pd.read_csv(out, keep_default_na=False)
    assert flagged.columns.tolist()[-5:] == [
        "genus",
        "genus_probability",
        "family",
        "family_probability",
        "rank",
    ]
    assert flagged["unknown"].all() and (flagged["rank"] != "species").all()
    expected = flagged["rank"].map(
        {"genus": "{} sp.", "family": "{} (family)", "none": "unknown"}
    )
    taxon = np.where(flagged["rank"] == "family", flagged["family"], flagged["genus"])
    assert (
        flagged["species"]
        == [e.format(t) for e, t in zip(expected, taxon, strict=True)]
    ).all()
    # a low threshold names every image at some rank; species where none is flagged
    assert main([*predict, "--rank-threshold", "0.01", "--quiet"]) == 0
    table_ = pd.read_csv(out)
    assert (table_["rank"] == "species").all() and not table_["unknown"].any()
    assert main([*predict, "--rank-threshold", "1.5"]) == 2
    assert "--rank-threshold must be in (0, 1]" in capsys.readouterr().err


def test_fasta_errors_name_the_command_line_flags(species_data, tmp_path, capsys):
    # on the command line, the flag to pass: never a Python argument
    fasta = tmp_path / "dna.fasta"
    args = ["train", "--images", str(species_data["images"]), "--sequences"]
    args += [str(fasta), "--out", str(tmp_path / "m.joblib"), "--quiet"]
    fasta.write_text(">s1\nACGT\n>s2\nACGA\n")
    assert main(args) == 2
    errors = [capsys.readouterr().err]
    assert "--species-field id, binomial or a field number" in errors[-1]
    fasta.write_text(">s1|Orbulina_universa|18S\nACGT\n")
    assert main(args) == 2
    errors.append(capsys.readouterr().err)
    assert "(read with --species-field description)" in errors[-1]
    assert "(--species-field 1; 0 is the first field)" in errors[-1]
    assert main([*args, "--species-field", "5"]) == 2
    errors.append(capsys.readouterr().err)
    assert "dna.fasta, line 1:" in errors[-1]
    assert "--species-field 5 asks for another" in errors[-1]
    for err in errors:
        assert "read_fasta(" not in err and "species=" not in err


def _per_species_table(n_species, n_test):
    rng = np.random.RandomState(0)
    n_train = np.sort(rng.randint(1, 300, n_species))[::-1]
    n_train[-2:] = 0  # species known from DNA only
    n_test = np.broadcast_to(n_test, n_species)
    right = np.minimum(rng.randint(0, 11, n_species), n_test)
    return pd.DataFrame(
        {
            "species": [f"Globigerinoides species{k:03d}" for k in range(n_species)],
            "n_train": n_train,
            "n_test": n_test,
            "n_correct": right,
            "accuracy": right / n_test,
        }
    )


def test_per_species_figure_names_every_species_readably(tmp_path):
    from vgestimators.cli._evaluate import plot

    summary = {"n_images": 800, "n_species": 80, "accuracy": 0.5}
    summary["balanced_accuracy"] = 0.45
    table = _per_species_table(80, 10)
    fig = plot(table, summary, tmp_path / "same.png")
    assert (tmp_path / "same.png").stat().st_size > 1000
    ax = fig.axes[0]
    # every species named on the axis, most training images on top
    labels = ax.get_yticklabels()
    assert [t.get_text() for t in labels] == [
        f"{r.species} ({r.n_train})" for r in table.itertuples()
    ]
    fig.canvas.draw()
    boxes = sorted((t.get_window_extent() for t in labels), key=lambda b: b.y0)
    assert all(
        low.y1 <= high.y0 for low, high in zip(boxes, boxes[1:], strict=False)
    )  # no overlap
    # the same test images per species: said once, nothing drawn per bar
    assert "(10 test images per species)" in fig._suptitle.get_text()
    assert "marker" not in fig._suptitle.get_text() and not ax.texts
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "with training images",
        "known from DNA only",
        "balanced accuracy",
    ]
    # different numbers of test images: each bar says how many were right
    table = _per_species_table(30, np.arange(30) % 7 + 3)
    fig = plot(table, {**summary, "n_species": 30}, tmp_path / "different.png")
    assert [t.get_text() for t in fig.axes[0].texts] == [
        f"{r.n_correct}/{r.n_test}" for r in table.itertuples()
    ]
    assert "right / test images" in fig._suptitle.get_text()


def test_image_less_sentence_says_which_species_can_never_be_named():
    from vgestimators.cli._evaluate import image_less_sentence

    summary = {
        "species_without_training_images": ["Globothecina solida"],
        "n_predicted_as_species_without_images": 0,
        "n_of_them_right": 0,
        "n_test_images_of_species_with_images_sent_to_species_without": 0,
        "species_without_images_never_named": ["Globothecina solida"],
        "ausuc": None,
    }
    text = image_less_sentence(summary)
    assert "probability 0 to" not in text
    assert (
        "1 species without training images (Globothecina solida) can never be "
        "named: the model gives it probability 0"
    ) in text
    summary["species_without_images_never_named"] = ["A b", "C d"]
    assert "2 species without training images (A b, C d)" in image_less_sentence(
        summary
    )
    assert "gives them probability 0" in image_less_sentence(summary)


def test_predict_rank_without_genera_follows_the_threshold():
    # names without a genus and no table: the rank is species when its
    # probability reaches --rank-threshold, else none (flagged rows: unknown)
    from vgestimators.cli._predict import rank_columns

    table = pd.DataFrame(
        {
            "species": ["alpha", "beta", "alpha"],
            "probability": [0.95, 0.6, 0.99],
            "unknown": [False, False, True],
        }
    )
    proba = np.array([[0.95, 0.05], [0.4, 0.6], [0.99, 0.01]])
    out = rank_columns(table, proba, np.array(["alpha", "beta"]), None, 0.9)
    assert out["rank"].tolist() == ["species", "none", "none"]
    assert out["species"].tolist() == ["alpha", "beta", "unknown"]
