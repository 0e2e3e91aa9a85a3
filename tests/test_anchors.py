"""GeneticAnchors: aggregation, standardisation, projection, contract; demo."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.metrics.pairwise import cosine_similarity
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from vgestimators.datasets import load_pfr2
from vgestimators.genetics import GeneticAnchors, SGTTransformer


def _simulate(n_per_class=(6, 4, 1, 3), length=120, seed=0):
    """Species = a random ancestor each, sequences = point mutations of it."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for k, n in enumerate(n_per_class):
        ancestor = rng.choice(list("ACGT"), size=length)
        for _ in range(n):
            seq = ancestor.copy()
            sites = rng.choice(length, size=length // 20, replace=False)
            seq[sites] = rng.choice(list("ACGT"), size=len(sites))
            seqs.append("".join(seq))
            labels.append(f"sp{k}")
    return seqs, np.array(labels)


SEQS, LABELS = _simulate()


@pytest.fixture(scope="module")
def fitted():
    return GeneticAnchors().fit(SEQS, LABELS)


def test_default_embedder_is_built_in_fit(fitted):
    assert GeneticAnchors().embedder is None
    assert fitted.embedder is None
    emb = fitted.embedder_
    assert isinstance(emb, SGTTransformer)
    assert (emb.kmer, emb.kmer_step, emb.kappa, emb.length_sensitive) == (
        2,
        1,
        1,
        False,
    )
    assert fitted.anchors_.shape == (4, 256)
    assert fitted.anchors_.columns[1] == "AA->AC"


def test_classes_counts_and_single_sequence_species(fitted):
    assert fitted.classes_.tolist() == ["sp0", "sp1", "sp2", "sp3"]
    assert fitted.counts_.to_dict() == {"sp0": 6, "sp1": 4, "sp2": 1, "sp3": 3}
    assert fitted.anchors_.index.tolist() == ["sp0", "sp1", "sp2", "sp3"]
    # the single-sequence species' anchor is its sequence, standardised
    single = fitted.transform([SEQS[10]])[0]
    np.testing.assert_allclose(fitted.anchors_.loc["sp2"].to_numpy(), single)


def test_mean_anchors_are_class_means_then_standardised():
    sgt = SGTTransformer(kappa=1.0)
    E = sgt.fit_transform(SEQS)
    raw = pd.DataFrame(E).groupby(LABELS).mean().to_numpy()
    anchors = GeneticAnchors(embedder=sgt).fit(SEQS, LABELS)
    np.testing.assert_allclose(anchors.raw_anchors_.to_numpy(), raw)
    sd = raw.std(axis=0)
    expected = (raw - raw.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    np.testing.assert_allclose(anchors.anchors_.to_numpy(), expected, atol=1e-12)
    # standardised: centred, unit spread across species for varying features
    A = anchors.anchors_.to_numpy()
    np.testing.assert_allclose(A.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(A.std(axis=0)[sd > 0], 1.0)
    # transform uses the same standardisation: mean of transformed = anchor
    Z = anchors.transform(SEQS)
    np.testing.assert_allclose(pd.DataFrame(Z).groupby(LABELS).mean().to_numpy(), A)


def test_standardize_options():
    sgt = SGTTransformer()
    raw = GeneticAnchors(embedder=sgt, standardize=False).fit(SEQS, LABELS)
    centred = GeneticAnchors(embedder=sgt, standardize="center").fit(SEQS, LABELS)
    R = raw.anchors_.to_numpy()
    np.testing.assert_allclose(R, raw.raw_anchors_.to_numpy())
    np.testing.assert_allclose(centred.anchors_.to_numpy(), R - R.mean(axis=0))
    np.testing.assert_array_equal(centred.scale_, 1.0)


def test_median_and_medoid():
    sgt = SGTTransformer()
    E = sgt.fit_transform(SEQS)
    med = GeneticAnchors(embedder=sgt, aggregate="median", standardize=False)
    med.fit(SEQS, LABELS)
    np.testing.assert_allclose(
        med.anchors_.loc["sp0"].to_numpy(), np.median(E[LABELS == "sp0"], axis=0)
    )
    medoid = GeneticAnchors(embedder=sgt, aggregate="medoid", standardize=False)
    medoid.fit(SEQS, LABELS)
    members = E[LABELS == "sp0"]
    costs = [np.linalg.norm(members - m, axis=1).sum() for m in members]
    np.testing.assert_allclose(
        medoid.anchors_.loc["sp0"].to_numpy(), members[int(np.argmin(costs))]
    )


def test_n_components_projection():
    anchors = GeneticAnchors(n_components=5).fit(SEQS, LABELS)
    assert anchors.anchors_.shape == (4, 5)
    assert anchors.get_feature_names_out().tolist() == [f"pc{i}" for i in range(5)]
    # linear projection: centred anchors stay centred; transform consistent
    np.testing.assert_allclose(anchors.anchors_.to_numpy().mean(axis=0), 0, atol=1e-12)
    Z = anchors.transform(SEQS)
    assert Z.shape == (len(SEQS), 5)
    np.testing.assert_allclose(
        pd.DataFrame(Z).groupby(LABELS).mean().to_numpy(), anchors.anchors_.to_numpy()
    )
    with pytest.raises(ValueError, match="n_components=100 exceeds"):
        GeneticAnchors(n_components=100).fit(SEQS, LABELS)


def test_bad_labels():
    with pytest.raises(ValueError, match="3 labels for 14 sequences"):
        GeneticAnchors().fit(SEQS, LABELS[:3])
    labels = LABELS.astype(object)
    labels[4] = None
    with pytest.raises(ValueError, match=r"labels row 4: missing label"):
        GeneticAnchors().fit(SEQS, labels)
    with pytest.raises(ValueError, match=r"sequences row 1: missing sequence"):
        GeneticAnchors().fit(["ACGT", None], ["a", "b"])
    with pytest.raises(ValueError, match=r"labels mix types \['number', 'str'\]"):
        GeneticAnchors().fit(SEQS[:2], ["a", 1])
    with pytest.raises(ValueError, match="aggregate"):
        GeneticAnchors(aggregate="mode").fit(SEQS, LABELS)


def test_real_anchors_spread(pfr2_path):
    """The figures of the Notes: raw anchors nearly parallel, standardised not."""
    data = load_pfr2(pfr2_path)
    sgt = SGTTransformer(kappa=1.0)
    spreads = {}
    for standardize in (False, "center", True):
        anchors = GeneticAnchors(embedder=sgt, standardize=standardize)
        anchors.fit(data["sequence"], data["endless_forams_class"])
        assert len(anchors.classes_) == 32
        C = cosine_similarity(anchors.anchors_.to_numpy())
        pairs = C[np.triu_indices(32, 1)]
        spreads[standardize] = (pairs.min(), pairs.max())
    print("cosine spread (min, max) of 32 anchors, kappa=1 ACGT:", spreads)
    assert 0.97 < spreads[False][0] and spreads[False][1] < 1.0
    assert spreads["center"][0] < -0.8 and spreads[True][0] < -0.8
    assert spreads[True][1] < 0.999


# --------------------------------------------------------------------------
# scikit-learn contract
# --------------------------------------------------------------------------


def test_clone_params_and_fit_leaves_params_untouched():
    est = GeneticAnchors(embedder=SGTTransformer(kappa=3.0), aggregate="medoid")
    params = est.get_params()
    assert params["embedder__kappa"] == 3.0
    assert clone(est).get_params()["embedder__kappa"] == 3.0
    est.set_params(embedder__kappa=2.0, n_components=2)
    assert est.embedder.kappa == 2.0
    before = dict(vars(est))
    embedder_before = est.embedder.get_params()
    est.fit(SEQS, LABELS)
    assert {k: vars(est)[k] for k in before} == before
    assert est.embedder.get_params() == embedder_before
    assert not hasattr(est.embedder, "alphabet_")  # the clone was fitted
    assert est.embedder_.kappa == 2.0
    new = set(vars(est)) - set(before)
    assert new and all(k.endswith("_") for k in new if not k.startswith("_"))


def test_not_fitted_repeated_fit_and_pickle():
    est = GeneticAnchors()
    with pytest.raises(NotFittedError):
        est.transform(SEQS)
    a = est.fit(SEQS, LABELS).anchors_.copy()
    b = est.fit(SEQS, LABELS).anchors_
    pd.testing.assert_frame_equal(a, b)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(SEQS), est.transform(SEQS))


def test_dataframe_input_set_output_and_feature_names_in():
    frame = pd.DataFrame({"dna": SEQS}, index=np.arange(100, 100 + len(SEQS)))
    est = GeneticAnchors(n_components=3).set_output(transform="pandas")
    out = est.fit(frame, LABELS).transform(frame)
    assert est.feature_names_in_.tolist() == ["dna"]
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == ["pc0", "pc1", "pc2"]
    assert out.index[0] == 100


def test_pipeline_column_transformer_and_grid_search():
    seqs, labels = _simulate(n_per_class=(6, 6, 6), length=100, seed=1)
    frame = pd.DataFrame({"dna": seqs, "other": 0.0})
    pipe = make_pipeline(
        ColumnTransformer([("anchors", GeneticAnchors(), ["dna"])]),
        KNeighborsClassifier(n_neighbors=1),
    )
    assert pipe.fit(frame, labels).score(frame, labels) == 1.0
    search = GridSearchCV(
        make_pipeline(GeneticAnchors(), KNeighborsClassifier(n_neighbors=1)),
        {
            "geneticanchors__embedder": [SGTTransformer(kmer=1)],
            "geneticanchors__embedder__kappa": [0.5, 2.0],
        },
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.fit(seqs, labels)
    assert search.best_score_ == 1.0
    kappas = set(search.cv_results_["param_geneticanchors__embedder__kappa"])
    assert kappas == {0.5, 2.0}


# --------------------------------------------------------------------------
# The genetic demo (examples/genetic_demo.py)
# --------------------------------------------------------------------------


def _load_demo():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "genetic_demo.py"
    spec = importlib.util.spec_from_file_location("genetic_demo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_runs_on_simulated_sequences(capsys):
    demo = _load_demo()
    result = demo.main(["--n-species", "4", "--per-species", "5", "--length", "300"])
    out = capsys.readouterr().out
    assert "leave-one-out 1-NN" in out and "most similar species" in out
    assert 0.0 <= result["accuracy"] <= 1.0
    assert result["accuracy"] > 0.5  # distinct ancestors are recognisable
    assert len(result["pairs"]) > 0


def test_demo_reads_fasta(tmp_path, capsys):
    demo = _load_demo()
    seqs, labels = _simulate(n_per_class=(3, 3, 3), length=150, seed=4)
    fasta = tmp_path / "seqs.fasta"
    fasta.write_text(
        "".join(
            f">id{i} {lab}\n{s}\n"
            for i, (s, lab) in enumerate(zip(seqs, labels, strict=True))
        )
    )
    result = demo.main(["--sequences", str(fasta)])
    assert result["n_sequences"] == 9 and result["n_species"] == 3
    assert "leave-one-out" in capsys.readouterr().out
