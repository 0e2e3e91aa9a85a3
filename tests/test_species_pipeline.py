"""From a FASTA file and image folders to a fitted Pipeline, names checked first."""

import io
import warnings

import joblib
import numpy as np
import pytest
from _species_folder import write_species_data
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from vgestimators import VisualGeneticAligner, make_species_pipeline
from vgestimators.datasets import (
    load_image_folder,
    make_linked_embeddings,
    read_fasta,
    read_sequences,
    relabel_sequences,
)
from vgestimators.io import load_model, save_model
from vgestimators.pipeline import SpeciesPipeline

FASTA = """\
>s1 Orbulina universa
ACGTTGCAACGT
>s2 orbulina_universa
ACGTTGCAACGA
>s3 Candeina nitida
TTGACCGATTGA
>s4 candeina_nitida
TTGACCGATAGA
>s5 Globigerina_bulloides
GGCATCGATCGG
"""


def _embeddings(classes, n=8, seed=0):
    rng = np.random.RandomState(seed)
    centres = rng.normal(size=(len(classes), 6))
    X = np.vstack([c + 0.1 * rng.normal(size=(n, 6)) for c in centres])
    return X, np.repeat(classes, n)


def test_read_fasta_output_goes_into_sequences_as_it_is():
    # friction 1: the table had no species column, found after training
    sequences = read_fasta(io.StringIO(FASTA))
    X, y = _embeddings(["Orbulina universa", "Candeina nitida"])
    aligner = VisualGeneticAligner(sequences=sequences, random_state=0).fit(X, y)
    # friction 2: "orbulina_universa" and "Orbulina universa" are one species,
    # spelled as y spells it; the species without images joins as one class,
    # spelled as y spells names too ("_" as a space): one spelling for all
    assert sorted(aligner.anchors_.index) == [
        "Candeina nitida",
        "Globigerina bulloides",
        "Orbulina universa",
    ]
    assert aligner.classes_.tolist() == sorted(aligner.anchors_.index)
    assert aligner.predict(X[:3]).tolist() == ["Orbulina universa"] * 3


def test_pipe_headers_fail_before_training_with_the_field_to_use():
    text = FASTA.replace(">s1 Orbulina universa", ">s1|Orbulina_universa|18S")
    sequences = read_fasta(io.StringIO(text))
    pipe = make_species_pipeline(
        sequences,
        embedder={
            "backbone": "resnet18",
            "image_size": 16,
            "max_epochs": 1,
            "device": "cpu",
            "verbose": 0,
        },
    )
    images = np.zeros((8, 16, 16), dtype=np.uint8)
    y = ["Orbulina universa"] * 4 + ["Candeina nitida"] * 4
    with pytest.raises(
        ValueError,
        match=r"no species name.*s1\|Orbulina_universa"
        r".*species=1",
    ):
        pipe.fit(images, y)
    assert not hasattr(pipe.named_steps["embedder"], "net_")  # never trained
    fixed = read_fasta(
        io.StringIO(text),
        species=lambda h: h.split("|")[1] if "|" in h else h.split(None, 1)[1],
    )
    assert pipe.set_params(aligner__sequences=fixed).check_species(y)[
        "how"
    ].tolist() == ["exact", "name", "dna only"]


def test_printed_models_summarise_the_dna_table():
    # a user's table of hundreds of sequences: one line when printed
    sequences = read_fasta(io.StringIO(FASTA * 40))
    pipe = make_species_pipeline(sequences, embedder={"backbone": "resnet18"})
    shown = repr(pipe)
    assert "sequences=<DataFrame: 200 sequences of 3 species>" in shown
    assert "ACGTTGCAACGT" not in shown and len(shown) < 400
    assert shown.startswith("SpeciesPipeline(") and "\n" in shown  # still wrapped
    assert str(pipe) == shown  # print(pipe)
    # the parameter itself is the table, for clone and set_params
    assert pipe.get_params()["aligner__sequences"] is sequences
    assert clone(pipe).get_params()["aligner__sequences"].equals(sequences)
    aligner = VisualGeneticAligner(sequences=sequences, random_state=0)
    assert repr(aligner) == (
        "VisualGeneticAligner(random_state=0,\n"
        "                     sequences=<DataFrame: 200 sequences of 3 species>)"
    )
    pair = (sequences["sequence"].tolist(), sequences["species"].tolist())
    assert "sequences=<tuple: 200 sequences of 3 species>" in repr(
        VisualGeneticAligner(sequences=pair)
    )
    assert repr(VisualGeneticAligner()) == "VisualGeneticAligner()"


def test_species_pipeline_names_unknown_species_before_any_step_is_fitted():
    sequences = read_fasta(io.StringIO(FASTA))
    pipe = make_species_pipeline(sequences, embedder={"max_epochs": 1})
    y = ["Orbulina universa"] * 4 + ["Hastigerina pelagica"] * 4
    with pytest.raises(ValueError, match=r"\['Hastigerina pelagica'\] of y have"):
        pipe.fit(np.zeros((8, 16, 16), dtype=np.uint8), y)
    assert not hasattr(pipe.named_steps["embedder"], "net_")
    # an explicit mapping pairs names that differ beyond spelling
    pipe.set_params(
        aligner__species_mapping={"Hastigerina pelagica": "Globigerina bulloides"}
    )
    report = pipe.check_species(y)
    assert dict(zip(report.species, report.how, strict=True)) == {
        "Hastigerina pelagica": "mapping",
        "Orbulina universa": "exact",
        "Candeina nitida": "dna only",
    }


def test_species_pipeline_is_a_scikit_learn_pipeline():
    data = make_linked_embeddings(random_state=0)
    from sklearn.preprocessing import FunctionTransformer

    from vgestimators.alignment import GeneticPrototypeClassifier

    pipe = SpeciesPipeline(
        [
            ("identity", FunctionTransformer()),
            (
                "classify",
                GeneticPrototypeClassifier(anchors=data.anchors, random_state=0),
            ),
        ]
    )
    search = GridSearchCV(pipe, {"classify__shrinkage": [0.0, "auto"]}, cv=2)
    search.fit(data.X_train, data.y_train)
    assert isinstance(search.best_estimator_, SpeciesPipeline)
    assert clone(pipe).get_params()["classify__shrinkage"] == "auto"
    assert set(search.best_estimator_.species_report_["how"]) == {"exact", "dna only"}


def test_relabel_sequences_pairs_spellings_and_keeps_image_less_species(tmp_path):
    data = write_species_data(tmp_path, n_species=4, n_images=40)
    folder = load_image_folder(data["images"])
    sequences = read_sequences(data["fasta"])
    relabelled, report = relabel_sequences(sequences, folder.target_names)
    assert set(relabelled["species"]) == {*data["species"], data["image_less"]}
    assert report.loc[report["how"] == "dna only", "species"].tolist() == [
        data["image_less"]
    ]
    assert report["n_sequences"].sum() == len(sequences)


def test_saved_model_round_trip_versions_and_checks(tmp_path, monkeypatch):
    data = make_linked_embeddings(random_state=0)
    from vgestimators.alignment import GeneticPrototypeClassifier

    model = GeneticPrototypeClassifier(anchors=data.anchors, random_state=0).fit(
        data.X_train, data.y_train
    )
    path = save_model(model, tmp_path / "m.joblib", metadata={"n": 1})
    again, info = load_model(path, return_metadata=True)
    np.testing.assert_array_equal(
        again.predict(data.X_test), model.predict(data.X_test)
    )
    assert info["versions"]["vgestimators"] and info["metadata"] == {"n": 1}
    # another version: warned about, by name
    payload = joblib.load(path)
    payload["versions"]["vgestimators"] = "0.0.1"
    joblib.dump(payload, tmp_path / "old.joblib")
    with pytest.warns(UserWarning, match="saved with vgestimators 0.0.1"):
        load_model(tmp_path / "old.joblib")
    # not a model file
    joblib.dump({"weights": [1, 2]}, tmp_path / "other.joblib")
    with pytest.raises(ValueError, match="not a vgestimators model file"):
        load_model(tmp_path / "other.joblib")
    (tmp_path / "text.joblib").write_text("hello")
    with pytest.raises(ValueError, match="could not be read as a model file"):
        load_model(tmp_path / "text.joblib")
    with pytest.raises(FileNotFoundError, match="none.joblib"):
        load_model(tmp_path / "none.joblib")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(path)


def _with_manifest(path, out, manifest):
    """A copy of the portable file ``path`` at ``out`` with another manifest."""
    import zipfile

    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name != "manifest.json":
                target.writestr(name, source.read(name))
        target.writestr("manifest.json", manifest)
    return out


def test_portable_file_naming_the_curve_where_it_was_before_utils_still_reads(
    tmp_path,
):
    import zipfile

    from vgestimators.alignment import GeneticPrototypeClassifier
    from vgestimators.io import export_model, import_model

    data = make_linked_embeddings(random_state=0)
    model = GeneticPrototypeClassifier(anchors=data.anchors, random_state=0).fit(
        data.X_train, data.y_train
    )
    path = export_model(model, tmp_path / "m.zip")
    text = zipfile.ZipFile(path).read("manifest.json").decode()
    new, old = (
        f"vgestimators.{where}.SeenUnseenCurve"
        for where in ("utils._stacking", "metrics._zero_shot")
    )
    assert new in text
    older = _with_manifest(path, tmp_path / "older.zip", text.replace(new, old))
    again = import_model(older)
    np.testing.assert_array_equal(
        again.calibration_.curve.seen, model.calibration_.curve.seen
    )
    np.testing.assert_array_equal(
        again.predict(data.X_test), model.predict(data.X_test)
    )


@pytest.fixture(scope="module")
def fitted_pipe(tmp_path_factory):
    """A small recommended Pipeline fitted on image files and a FASTA file."""
    data = write_species_data(
        tmp_path_factory.mktemp("species"), n_species=3, n_images=30, image_size=16
    )
    folder = load_image_folder(data["images"])
    pipe = make_species_pipeline(
        read_fasta(data["fasta"]),
        embedder={
            "backbone": "resnet18",
            "image_size": 16,
            "max_epochs": 1,
            "device": "cpu",
            "verbose": 0,
            "random_state": 0,
        },
        aligner={"random_state": 0},
    ).fit(folder.filenames, folder.target)
    return pipe, folder, data


def test_saved_pipeline_embeds_the_same_after_loading(fitted_pipe, tmp_path):
    pipe, folder, _ = fitted_pipe
    path = save_model(pipe, tmp_path / "pipe.joblib")
    loaded = load_model(path, device="cpu")
    np.testing.assert_allclose(
        loaded.predict_proba(folder.filenames[:5]),
        pipe.predict_proba(folder.filenames[:5]),
        rtol=1e-6,
        atol=1e-9,
    )
    assert loaded.named_steps["embedder"].device_ == "cpu"
    # no optimizer moments in the file
    assert not loaded.named_steps["embedder"].net_.optimizer_.state


def test_portable_model_runs_no_code_and_predicts_the_same(fitted_pipe, tmp_path):
    import copy
    import json
    import zipfile

    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from vgestimators.io import export_model, import_model

    pipe, folder, data = fitted_pipe
    path = export_model(pipe, tmp_path / "model.zip")
    again = import_model(path, device="cpu")
    assert isinstance(again, SpeciesPipeline)
    np.testing.assert_array_equal(
        again.predict_proba(folder.filenames), pipe.predict_proba(folder.filenames)
    )
    np.testing.assert_array_equal(again.classes_, pipe.classes_)
    names = zipfile.ZipFile(path).namelist()
    assert "manifest.json" in names and not any(n.endswith(".pkl") for n in names)
    # where training started (init=) is not in the file: the weights are
    with_init = copy.deepcopy(pipe)  # the fixture is shared: left untouched
    embedder = with_init.named_steps["embedder"]
    embedder.set_params(init=clone(embedder))
    started = import_model(export_model(with_init, tmp_path / "init.zip"), device="cpu")
    assert started.named_steps["embedder"].init is None
    np.testing.assert_array_equal(
        started.predict_proba(folder.filenames), pipe.predict_proba(folder.filenames)
    )

    # a file naming anything but an estimator class of the allow-list fails
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    manifest["model"]["steps"][1][1]["__estimator__"] = "os.system"
    crafted = tmp_path / "crafted.zip"
    with zipfile.ZipFile(crafted, "w") as archive:
        archive.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(ValueError, match="'os.system', which is not allowed"):
        import_model(crafted)

    # names on the allow-list's paths that are no estimator or optimizer
    def crafted_with(edit):
        tree = json.loads(zipfile.ZipFile(path).read("manifest.json"))
        edit(tree["model"])
        return _with_manifest(path, tmp_path / "edited.zip", json.dumps(tree))

    def optimizer_to(name):
        return lambda tree: tree["steps"][0][1]["params"].update(
            optimizer={"__type__": name}
        )

    with pytest.raises(ValueError, match="not an allowed optimizer class"):
        import_model(crafted_with(optimizer_to("torch.optim.lr_scheduler.partial")))
    with pytest.raises(ValueError, match="not an allowed estimator class"):
        import_model(
            crafted_with(lambda tree: tree.update(__pipeline__="sklearn.utils.Bunch"))
        )
    with pytest.raises(ValueError, match="cannot name a cache folder"):
        import_model(
            crafted_with(lambda tree: tree["params"].update(memory="/tmp/somewhere"))
        )
    with pytest.raises(ValueError, match="not a valid portable vgestimators model"):
        import_model(crafted_with(lambda tree: tree["steps"][1][1].pop("params")))
    assert import_model(path).named_steps["embedder"].weights is None
    (tmp_path / "junk.zip").write_text("no zip")
    with pytest.raises(ValueError, match="not a portable vgestimators model"):
        import_model(tmp_path / "junk.zip")
    # what is not data is named, not pickled
    odd = make_pipeline(FunctionTransformer(np.log1p), pipe.named_steps["aligner"])
    odd.fit(
        np.abs(np.random.RandomState(0).normal(size=(9, 128))),
        np.repeat(data["species"], 3),
    )
    with pytest.raises(
        TypeError,
        match=r"functiontransformer.func: a ufunc cannot be exported",
    ):
        export_model(odd, tmp_path / "odd.zip")
