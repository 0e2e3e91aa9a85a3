"""The rare-species benchmark, end to end in a tiny configuration."""

import importlib
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from vgestimators.benchmark import BenchmarkConfig, build_pipeline, run_benchmark
from vgestimators.benchmark._cli import build_parser, config_from_args
from vgestimators.benchmark._methods import METHODS
from vgestimators.benchmark._report import SCORE_COLUMNS, format_table, summarize
from vgestimators.benchmark._split_run import SplitRun

# the restricted figure, AUSUC and ECE exist only for rows that can have them
ALWAYS_FINITE = [
    c for c in SCORE_COLUMNS if c not in ("unseen_restricted", "ausuc", "ece")
]


def _is_png(path):
    with open(path, "rb") as fh:
        return fh.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    import torch
    from torchvision.models import resnet18

    out = tmp_path_factory.mktemp("bench")
    # the pretrained-feature rows, on a local weights file (no internet here)
    torch.manual_seed(0)
    weights = out.parent / "resnet18-weights.pth"
    torch.save(resnet18().state_dict(), weights)
    config = BenchmarkConfig.from_preset(
        "tiny", out=str(out), progress=False, weights=str(weights)
    )
    return run_benchmark(config), out


def test_every_method_scores_and_every_file_is_written(tiny_run):
    result, out = tiny_run
    summary = result.summary
    assert list(summary["method"]) == list(METHODS)
    for _, row in summary.iterrows():
        for column in ["accuracy", "balanced_accuracy", "macro_f1", "tail_accuracy"]:
            value = row[f"{column}_mean"]
            assert math.isfinite(value) and 0.0 <= value <= 1.0, (row["method"], column)
        assert row["fit_time_mean"] > 0
    by_method = summary.set_index("method")
    for method in ("zero_shot", "prototype"):
        for column in ("unseen_accuracy", "harmonic_mean"):
            value = by_method.loc[method, f"{column}_mean"]
            assert math.isfinite(value) and 0.0 <= value <= 1.0, (method, column)
    # the nearest anchor always names held-out species; the default rule only
    # when its DNA test passes (with the 5 seen species of the tiny preset it
    # has no restricted figure then)
    value = by_method.loc["zero_shot", "unseen_restricted_mean"]
    assert math.isfinite(value) and 0.0 <= value <= 1.0
    # Methods that cannot name a species from its DNA score 0 on the held-out
    # species and have no restricted figure.
    for method in (
        "softmax",
        "triplet",
        "ncm",
        "crt",
        "triplet_lt",
        "finetuned",
        "features_ncm",
    ):
        assert by_method.loc[method, "unseen_accuracy_mean"] == 0.0
        assert by_method.loc[method, "harmonic_mean_mean"] == 0.0
        assert math.isnan(by_method.loc[method, "unseen_restricted_mean"])

    expected = [
        "config.json",
        "scores.csv",
        "per_class.csv",
        "results.csv",
        "results.md",
        "pipelines.md",
        "per_class_accuracy.png",
        "tsne.png",
        "samples.png",
    ]
    for name in expected:
        path = out / name
        assert path.is_file() and path.stat().st_size > 0, name
    for name in ("per_class_accuracy.png", "tsne.png", "samples.png"):
        assert _is_png(out / name), name
        assert str(out / name) in {str(p) for p in result.files.values()}
    # probabilities: ECE wherever the last step has predict_proba; the
    # seen/unseen curve's area where held-out species can be named
    for method in ("softmax", "ncm", "crt", "prototype", "zero_shot"):
        assert 0.0 <= by_method.loc[method, "ece_mean"] <= 1.0, method
    assert 0.0 <= by_method.loc["zero_shot", "ausuc_mean"] <= 1.0
    assert math.isnan(by_method.loc["ncm", "ausuc_mean"])
    scores = pd.read_csv(out / "scores.csv").set_index("method")
    assert scores.loc["prototype", "calibrated_on"] == "held-out images"
    assert pd.isna(scores.loc["ncm", "calibrated_on"])


def test_pipeline_fed_shuffled_dna_keeps_the_seen_species(tmp_path):
    # The default data, split 0. Before the constants were chosen on held-out
    # images, species-shuffled DNA passed the DNA test on this split and the
    # rule sent most images of seen species to the image-less ones (seen
    # balanced accuracy 15% against 52% for nearest class mean).
    config = BenchmarkConfig(
        out=str(tmp_path),
        n_splits=1,
        methods=("ncm", "prototype_shuffled"),
        tsne=False,
        progress=False,
    )
    scores = run_benchmark(config).scores.set_index("method")
    ncm = scores.loc["ncm", "balanced_accuracy"]
    control = scores.loc["prototype_shuffled", "balanced_accuracy"]
    assert control >= ncm - 0.03, (control, ncm)
    # held-out species named at no more than twice chance (16 species)
    assert scores.loc["prototype_shuffled", "unseen_accuracy"] <= 2 / 16


def test_result_files_agree_with_returned_tables(tiny_run):
    result, out = tiny_run
    scores = pd.read_csv(out / "scores.csv")
    assert len(scores) == len(METHODS)  # one split
    assert set(scores["method"]) == set(METHODS)
    results = pd.read_csv(out / "results.csv")
    np.testing.assert_allclose(
        results["accuracy_mean"], result.summary["accuracy_mean"], rtol=1e-12
    )
    per_class = pd.read_csv(out / "per_class.csv")
    # every test species of every method has a per-class row, with its counts
    # and a 95% interval around its accuracy
    assert set(per_class["method"]) == set(METHODS)
    seen = per_class["test_set"] == "seen"
    assert (per_class.loc[seen, "train_count"] > 0).all()
    assert (per_class.loc[~seen, "train_count"] == 0).all()
    assert (per_class["ci_low"] <= per_class["accuracy"]).all()
    assert (per_class["accuracy"] <= per_class["ci_high"]).all()
    assert (per_class["judgeable"] == (per_class["n_test"] >= 10)).all()
    md = (out / "results.md").read_text()
    for label in METHODS.values():
        assert label in md
    assert "machine" in md and "CPU cores" in md
    pipelines = (out / "pipelines.md").read_text()
    assert "TripletImageEmbedder" in pipelines and "VisualGeneticAligner" in pipelines


def test_zero_shot_species_never_trained_on(tiny_run):
    result, _ = tiny_run
    scores = result.scores
    unseen = set(scores["unseen_species"].iloc[0].split(";"))
    per_class = result.per_class
    # the held-out species are not among the classes scored on the seen test
    # set; they are the zero-shot rows
    seen = per_class["test_set"] == "seen"
    assert unseen.isdisjoint(set(per_class.loc[seen, "class"]))
    assert set(per_class.loc[~seen, "class"]) == unseen
    # the test set is balanced: every seen species has the same test count
    assert per_class.loc[seen, "n_test"].nunique() == 1


def test_interrupt_keeps_finished_results(tmp_path, monkeypatch):
    """Ctrl-C during the second method leaves the first method's results."""

    run = SplitRun.run

    def interrupted(self, name):
        if name == "triplet_lt":
            raise KeyboardInterrupt
        return run(self, name)

    monkeypatch.setattr(SplitRun, "run", interrupted)
    config = BenchmarkConfig.from_preset(
        "tiny",
        out=str(tmp_path),
        progress=False,
        methods=("triplet", "triplet_lt"),
        n_unseen=0,
    )
    with pytest.raises(KeyboardInterrupt, match="results so far"):
        run_benchmark(config)
    scores = pd.read_csv(tmp_path / "scores.csv")
    assert list(scores["method"]) == ["triplet"]
    assert math.isfinite(scores["accuracy"].iloc[0])
    results = pd.read_csv(tmp_path / "results.csv")
    assert list(results["method"]) == ["triplet"]
    assert "Interrupted: 1 of 2" in (tmp_path / "results.md").read_text()
    assert _is_png(tmp_path / "per_class_accuracy.png")
    # no half-written temporary files remain
    assert not list(tmp_path.glob("*.tmp"))


def test_summary_mean_and_std_over_splits():
    scores = pd.DataFrame(
        {
            "method": ["a", "a", "b"],
            "split": [0, 1, 0],
            **{c: [0.5, 0.7, 0.2] for c in SCORE_COLUMNS},
            "fit_time": [1.0, 3.0, 2.0],
        }
    )
    summary = summarize(scores, {"b": "B", "a": "A"})
    assert list(summary["method"]) == ["b", "a"]
    a = summary.set_index("method").loc["a"]
    assert a["accuracy_mean"] == pytest.approx(0.6)
    assert a["accuracy_std"] == pytest.approx(0.1)
    assert a["n_splits"] == 2
    table = format_table(summary)
    assert "60.0 ± 10.0" in table and "20.0 ± 0.0" in table
    md = format_table(summary, markdown=True)
    assert md.splitlines()[0].startswith("| Method |")


def test_command_line_options_reach_the_config():
    args = build_parser().parse_args(
        [
            "--quick",
            "--out",
            "x",
            "--seeds",
            "5",
            "--genetic-signal",
            "0",
            "--methods",
            "aligned",
            "triplet",
        ]
    )
    config = config_from_args(args)
    assert config.preset == "quick"
    assert config.out == "x" and config.n_splits == 5
    assert config.genetic_signal == 0.0
    assert config.methods == ("triplet", "aligned")  # table order
    assert config.device == "cpu"


def test_every_setting_is_an_option_and_documented():
    """The settings are declared once: the command line and docstring follow."""
    from dataclasses import fields

    parser = build_parser()
    options = {a.dest for a in parser._actions}
    doc = BenchmarkConfig.__doc__
    for f in fields(BenchmarkConfig):
        assert f.name in options, f.name
        assert f"\n    {f.name} : " in doc, f.name
    config = config_from_args(
        parser.parse_args(
            [
                "--seed",
                "7",
                "--epochs",
                "2",
                "--threads",
                "1",
                "--no-tsne",
                "--lr",
                "0.01",
                "--test-size",
                "0.3",
                "--anchor-components",
                "8",
            ]
        )
    )
    assert (config.random_state, config.max_epochs, config.n_threads) == (7, 2, 1)
    assert (config.tsne, config.lr, config.test_size) == (False, 0.01, 0.3)
    assert config.anchor_components == 8
    # options not given keep the preset's values
    gpu = config_from_args(parser.parse_args(["--preset", "gpu", "--n-splits", "1"]))
    assert (gpu.backbone, gpu.n_splits) == ("resnet50", 1)
    with pytest.raises(SystemExit):
        parser.parse_args(["--backbone", "vgg"])
    with pytest.raises(ValueError, match="--quick is --preset quick"):
        config_from_args(parser.parse_args(["--quick", "--preset", "tiny"]))
    assert config_from_args(parser.parse_args(["--quick"])).preset == "quick"
    assert "(default preset: 0.001)" in parser.format_help()


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"methods": ("nope",)}, "unknown methods"),
        ({"genetic_signal": 2.0}, "genetic_signal"),
        ({"device": "tpu"}, "device"),
        ({"n_unseen": 0}, "zero_shot"),
        ({"images": "folder"}, "both images and sequences"),
        ({"methods": ("features_ncm",)}, "need pretrained features"),
        ({"features": "resnet50"}, "BACKEND:NAME"),
    ],
)
def test_bad_settings_are_rejected(overrides, message):
    with pytest.raises(ValueError, match=message):
        BenchmarkConfig.from_preset("tiny", **overrides)


def test_every_row_is_a_pipeline_of_public_estimators():
    from sklearn.pipeline import Pipeline

    import vgestimators
    from vgestimators.vision import SoftmaxImageClassifier

    config = BenchmarkConfig.from_preset("tiny", features="torchvision:resnet18")
    sequences = pd.DataFrame(
        {"sequence": ["ACGTAC", "ACGAGG", "TTGACA"], "species": ["a", "b", "c"]}
    )
    public = {
        getattr(vgestimators, n)
        for n in (
            "TripletImageEmbedder",
            "VisualGeneticAligner",
            "PretrainedImageEmbedder",
        )
    } | {SoftmaxImageClassifier}
    for name in METHODS:
        pipe = build_pipeline(name, config, sequences, seed=0)
        assert isinstance(pipe, Pipeline)
        assert type(pipe.steps[0][1]) in public
        # each estimator is a public name of its package
        for _, step in pipe.steps:
            package = ".".join(type(step).__module__.split(".")[:2])
            assert getattr(importlib.import_module(package), type(step).__name__)
        # the Pipeline clones as scikit-learn's tools do (the fine-tuned
        # row's fitted anchors are frozen, so they survive the clone)
        clone(pipe)
    finetuned = build_pipeline("finetuned", config, sequences, seed=0)
    anchors = clone(finetuned).named_steps["embed"].alignment_anchors
    assert anchors.anchors_.shape[0] == 3


def test_default_config_is_the_default_preset():
    assert BenchmarkConfig() == BenchmarkConfig.from_preset("default")
    assert BenchmarkConfig().preset == "default"


def test_real_data_from_image_folder_and_fasta(tmp_path):
    """--images/--sequences: folders of PNG files and a FASTA file."""
    from PIL import Image

    from vgestimators.datasets import make_forams

    data = make_forams(n_species=4, n_images=48, image_size=16, random_state=1)
    root = tmp_path / "images"
    names = list(data.target_names)
    for k, name in enumerate(names):
        # Endless-Forams-style folder names: number prefix, genus + species
        folder = root / f"{k + 1:02d} - {name}"
        folder.mkdir(parents=True)
        for i, image in enumerate(data.images[data.target == name]):
            Image.fromarray(image).save(folder / f"{i}.png")
    fasta = tmp_path / "seqs.fasta"
    with open(fasta, "w") as fh:
        for i, row in enumerate(data.sequences.itertuples()):
            fh.write(f">seq{i} {row.species}\n{row.sequence}\n")
    out = tmp_path / "out"
    args = build_parser().parse_args(
        ["--preset", "tiny", "--images", str(root), "--sequences", str(fasta)]
        + ["--out", str(out), "--no-progress", "--methods", "triplet", "zero_shot"]
        + ["--n-unseen", "1"]
    )
    result = run_benchmark(config_from_args(args))
    summary = result.summary.set_index("method")
    assert list(summary.index) == ["triplet", "zero_shot"]
    assert np.isfinite(summary["balanced_accuracy_mean"]).all()
    assert math.isfinite(summary.loc["zero_shot", "unseen_accuracy_mean"])
    assert "4 classes" in (out / "results.md").read_text()
    assert _is_png(out / "samples.png") and _is_png(out / "tsne.png")


def test_real_data_with_an_unmatched_class_says_which(tmp_path):
    from PIL import Image

    root = tmp_path / "images"
    for name in ("Alpha one", "Beta two"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8)).save(root / name / f"{i}.png")
    fasta = tmp_path / "seqs.fasta"
    fasta.write_text(">a Alpha one\nACGTACGT\n>b Gamma three\nACGAACGA\n")
    config = BenchmarkConfig.from_preset(
        "tiny", images=str(root), sequences=str(fasta), out=str(tmp_path / "o")
    )
    with pytest.raises(ValueError, match="Beta two"):
        run_benchmark(config)


def test_the_shared_embedder_trains_once_per_split(tmp_path, monkeypatch):
    """Rows that start with the same embedder load it from the Pipelines' cache."""
    from vgestimators.vision import TripletImageEmbedder

    trained = []
    original = TripletImageEmbedder._fit_dataset

    def spy(self, dataset, classes, counts, **kwargs):
        trained.append((self.max_epochs, kwargs.get("start") is not None))
        return original(self, dataset, classes, counts, **kwargs)

    monkeypatch.setattr(TripletImageEmbedder, "_fit_dataset", spy)
    config = BenchmarkConfig.from_preset(
        "tiny",
        out=str(tmp_path),
        progress=False,
        tsne=False,
        methods=("triplet", "ncm", "prototype", "prototype_shuffled", "finetuned"),
        finetune_epochs=2,
    )
    result = run_benchmark(config)
    # one triplet training (shared by four rows), one training without the
    # calibration hold-out (shared by the default row and its control), one
    # fine-tuning from the first
    assert trained == [(1, False), (1, False), (2, True)]
    assert len(result.scores) == 5
    # the fit times of the rows that loaded it still count its training
    times = result.scores.set_index("method")["fit_time"]
    assert times["finetuned"] > times["ncm"] > 0
