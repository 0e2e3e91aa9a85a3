"""VisualGeneticAligner with GeneticAnchors, GridSearchCV and Pipelines."""

import numpy as np
import pandas as pd
import pytest
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vgestimators.alignment import VisualGeneticAligner
from vgestimators.genetics import GeneticAnchors, SGTTransformer

SPECIES = [f"sp{i}" for i in range(8)]


@pytest.fixture(scope="module")
def dna_and_images():
    """Short sequences mutated from one ancestor per species, and embeddings.

    Species sp7 has DNA but no image. The visual class means are a fixed
    linear map of the species' dinucleotide-free SGT profile, so images and
    DNA share structure.
    """
    rng = np.random.RandomState(0)
    rows = []
    for name in SPECIES:
        ancestor = rng.choice(list("ACGT"), 60)
        for _ in range(4):
            seq = ancestor.copy()
            flip = rng.rand(60) < 0.05
            seq[flip] = rng.choice(list("ACGT"), flip.sum())
            rows.append(("".join(seq), name))
    sequences = pd.DataFrame(rows, columns=["sequence", "species"])
    profile = GeneticAnchors(embedder=SGTTransformer(kmer=1)).fit(
        sequences["sequence"], sequences["species"]
    )
    mix = rng.normal(size=(16, 24)) / 4
    counts = [20, 20, 15, 15, 10, 4, 2, 0]
    y = np.repeat(SPECIES, counts)
    means = profile.anchors_.loc[SPECIES].to_numpy() @ mix
    X = means[np.searchsorted(SPECIES, y)] + 0.3 * rng.normal(size=(len(y), 24))
    return sequences, X, y


def test_genetic_anchors_fitted_inside_fit(dna_and_images):
    sequences, X, y = dna_and_images
    anchors = GeneticAnchors(embedder=SGTTransformer(kmer=1, kappa=0.5))
    clf = VisualGeneticAligner(
        anchors=anchors, sequences=sequences, classifier="anchor", random_state=0
    ).fit(X, y)
    # the parameter is left unfitted; a fitted clone is kept
    assert not hasattr(anchors, "anchors_")
    assert clf.genetic_anchors_ is not anchors
    assert clf.genetic_anchors_.embedder_.kappa == 0.5
    assert clf.anchors_.index.tolist() == SPECIES
    assert (
        clf.anchors_.columns.tolist() == clf.genetic_anchors_.anchors_.columns.tolist()
    )
    # species sp7 has sequences but no image: a zero-shot class
    assert clf.zero_shot_classes_.tolist() == ["sp7"]
    assert clf.predict_proba(X).shape == (len(X), 8)
    # the same sequences as a (sequences, labels) pair give the same model
    pair = (sequences["sequence"].tolist(), sequences["species"].to_numpy())
    same = clone(clf).set_params(sequences=pair).fit(X, y)
    np.testing.assert_array_equal(same.transform(X), clf.transform(X))
    # "label" wins over "species" when both columns are there
    relabelled = sequences.assign(label="x" + sequences["species"])
    with pytest.raises(ValueError, match=r"no class of y has an anchor.*'sp0', 'sp1'"):
        clone(clf).set_params(sequences=relabelled).fit(X, y)


def test_prefitted_and_frozen_genetic_anchors(dna_and_images):
    sequences, X, y = dna_and_images
    fitted = GeneticAnchors(embedder=SGTTransformer(kmer=1)).fit(
        sequences["sequence"], sequences["species"]
    )
    clf = VisualGeneticAligner(anchors=fitted, random_state=0).fit(X, y)
    assert clf.genetic_anchors_ is fitted
    # cloning (as cross-validation does) drops the fit: a clear error ...
    with pytest.raises(
        ValueError, match="unfitted GeneticAnchors and sequences is None"
    ):
        clone(clf).fit(X, y)
    # ... which FrozenEstimator avoids
    frozen = VisualGeneticAligner(anchors=FrozenEstimator(fitted), random_state=0)
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    scores = cross_val_score(frozen, X, y, cv=cv)
    assert scores.shape == (2,) and scores.min() > 0.5
    with pytest.raises(ValueError, match="sequences DataFrame needs a 'sequence'"):
        VisualGeneticAligner(
            anchors=GeneticAnchors(),
            sequences=sequences.rename(columns={"sequence": "s"}),
        ).fit(X, y)


def test_grid_search_tunes_anchor_and_aligner_params_together(dna_and_images):
    sequences, X, y = dna_and_images
    aligner = VisualGeneticAligner(
        anchors=GeneticAnchors(embedder=SGTTransformer(kmer=1)),
        sequences=sequences,
        max_epochs=30,
        random_state=0,
    )
    grid = {
        "anchors__embedder__kappa": [0.1, 2.0],
        "anchors__aggregate": ["mean", "medoid"],
        "classifier": ["knn", "anchor"],
    }
    cv = StratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    search = GridSearchCV(aligner, grid, cv=cv).fit(X, y)
    assert len(search.cv_results_["params"]) == 8
    best = search.best_estimator_
    assert (
        best.genetic_anchors_.embedder_.kappa
        == search.best_params_["anchors__embedder__kappa"]
    )
    assert best.genetic_anchors_.aggregate == search.best_params_["anchors__aggregate"]
    # the candidates really used different anchors
    other_kappa = {0.1: 2.0, 2.0: 0.1}[search.best_params_["anchors__embedder__kappa"]]
    other = clone(best).set_params(anchors__embedder__kappa=other_kappa).fit(X, y)
    assert not np.allclose(other.anchors_.to_numpy(), best.anchors_.to_numpy())
    assert search.best_score_ > 0.5


def test_imblearn_pipeline_oversamples_embeddings(dna_and_images):
    sequences, X, y = dna_and_images
    for sampler in (
        RandomOverSampler(random_state=0),
        SMOTE(k_neighbors=1, random_state=0),
    ):
        pipe = make_imb_pipeline(
            StandardScaler(),
            sampler,
            VisualGeneticAligner(
                anchors=GeneticAnchors(embedder=SGTTransformer(kmer=1)),
                sequences=sequences,
                classifier="hybrid",
                random_state=0,
            ),
        ).fit(X, y)
        aligner = pipe[-1]
        # the aligner was trained on the resampled (balanced) embeddings
        n_seen = len(np.unique(y))
        assert (
            aligner.rule_._knn.n_samples_fit_
            == n_seen * np.bincount(np.unique(y, return_inverse=True)[1]).max()
        )
        assert pipe.predict(X).shape == y.shape
        assert pipe.score(X, y) > 0.8
        np.testing.assert_allclose(pipe.predict_proba(X).sum(axis=1), 1.0)


@pytest.fixture(scope="module")
def tiny_images():
    rng = np.random.RandomState(0)
    y = np.repeat(["a", "b", "c", "d"], [10, 6, 4, 2])
    tint = {"a": 40, "b": 100, "c": 160, "d": 220}
    X = np.stack([np.full((32, 32, 3), tint[c], dtype=np.uint8) for c in y])
    X = np.clip(X + rng.randint(-20, 20, size=X.shape), 0, 255).astype(np.uint8)
    anchors = {c: rng.normal(size=8) for c in "abcde"}
    return X, y, anchors


def _tiny_embedder():
    from vgestimators.vision import TripletImageEmbedder

    return TripletImageEmbedder(
        backbone="resnet18",
        image_size=32,
        embedding_dim=16,
        max_epochs=1,
        batch_size=16,
        device="cpu",
        verbose=0,
        random_state=0,
    )


def test_pipeline_with_triplet_image_embedder(tiny_images):
    X, y, anchors = tiny_images
    pipe = make_pipeline(
        _tiny_embedder(),
        VisualGeneticAligner(anchors=anchors, classifier="hybrid", random_state=0),
    ).fit(X, y)
    assert pipe.classes_.tolist() == ["a", "b", "c", "d", "e"]  # e: DNA only
    assert pipe[-1].n_features_in_ == 16
    assert set(pipe.predict(X)) <= set(pipe.classes_)
    np.testing.assert_allclose(pipe.predict_proba(X).sum(axis=1), 1.0)
    aligned = pipe.transform(X)
    assert aligned.shape == (len(X), 8) and aligned.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(aligned, axis=1), 1.0, rtol=1e-5)


def test_imblearn_pipeline_with_embedder_and_oversampler(tiny_images):
    X, y, anchors = tiny_images
    pipe = make_imb_pipeline(
        _tiny_embedder(),
        RandomOverSampler(random_state=0),
        VisualGeneticAligner(anchors=anchors, random_state=0),
    ).fit(X, y)
    assert pipe[-1].prototype_classifier_.class_counts_.sum() == 4 * 10
    assert pipe.predict(X).shape == (len(X),)
    # "e" has an anchor and no image: the default rule can still predict it
    assert pipe.classes_.tolist() == ["a", "b", "c", "d", "e"]
    assert pipe[-1].zero_shot_classes_.tolist() == ["e"]
