"""End-to-end aligned fine-tuning of TripletImageEmbedder (issue 5)."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from test_embedder import _embedder, _images

from vgestimators.losses import CosineAlignmentLoss
from vgestimators.vision import ImageDataset


@pytest.fixture(scope="module")
def data():
    return _images(n_classes=4, per_class=6, seed=5)


@pytest.fixture(scope="module")
def anchors(data):
    _, y = data
    rng = np.random.default_rng(0)
    # nearly collinear raw anchors, like SGT anchors, plus one extra class
    base = rng.normal(size=6)
    labels = [*np.unique(y), "no_images"]
    return {label: base + 0.05 * rng.normal(size=6) for label in labels}


@pytest.fixture(scope="module")
def triplet_trained(data):
    X, y = data
    return _embedder(batch_size=8, m_per_class=2, max_epochs=2).fit(X, y)


def _alignment_cosines(emb, X, y):
    """Mean cosine of projected embeddings to own and to the other anchors."""
    criterion = emb.net_.criterion_
    with torch.no_grad():
        raw = emb.net_.forward(ImageDataset(X, image_size=emb.image_size))
        cos = (
            F.normalize(criterion.alignment_head(raw), dim=1)
            @ F.normalize(criterion.anchors, dim=1).T
        )
    rows = criterion.anchor_rows[torch.as_tensor(np.searchsorted(emb.classes_, y))]
    own = cos[torch.arange(len(y)), rows]
    mask = torch.ones_like(cos, dtype=torch.bool)
    mask[torch.arange(len(y)), rows] = False
    return float(own.mean()), float(cos[mask].mean())


def test_alignment_anchors_are_standardised_and_used(data, anchors):
    X, y = data
    emb = _embedder(
        batch_size=8, m_per_class=2, alignment_anchors=anchors, alignment_weight=1.0
    ).fit(X, y)
    table = emb.anchors_
    assert list(table.index) == list(anchors)
    np.testing.assert_allclose(table.to_numpy().mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(table.to_numpy().std(axis=0), 1, atol=1e-9)
    criterion = emb.net_.criterion_
    assert criterion.alignment_head.out_features == 6
    assert criterion.anchor_rows.tolist() == [0, 1, 2, 3]
    raw = _embedder(
        batch_size=8,
        m_per_class=2,
        alignment_anchors=pd.DataFrame(anchors).T,
        alignment_weight=1.0,
        standardize_anchors=False,
        max_epochs=0,
    ).fit(X, y)
    np.testing.assert_allclose(
        raw.anchors_.to_numpy(), np.vstack(list(anchors.values()))
    )


def test_criterion_adds_the_weighted_cosine_alignment_loss(data, anchors):
    X, y = data
    emb = _embedder(
        batch_size=8,
        m_per_class=2,
        alignment_anchors=anchors,
        alignment_weight=0.7,
        miner=None,
        max_epochs=0,
    ).fit(X, y)
    criterion = emb.net_.criterion_
    torch.manual_seed(0)
    embeddings = torch.randn(8, 16)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    torch.manual_seed(1)
    total = criterion(embeddings, labels)
    metric = criterion.metric_loss(embeddings, labels)
    torch.manual_seed(1)
    alignment = CosineAlignmentLoss(margin=0.5)(
        criterion.alignment_head(embeddings), labels, criterion.anchors
    )
    torch.testing.assert_close(total, metric + 0.7 * alignment)


def test_fine_tuning_from_a_triplet_trained_state_pulls_toward_anchors(
    data, anchors, triplet_trained, tmp_path
):
    X, y = data
    # route 1: warm start on the fitted embedder
    emb = copy.deepcopy(triplet_trained)
    emb.set_params(
        warm_start=True, alignment_anchors=anchors, alignment_weight=2.0, max_epochs=0
    )
    emb.fit(X, y)
    np.testing.assert_allclose(
        emb.transform(X), triplet_trained.transform(X), atol=1e-6
    )
    own_before, other_before = _alignment_cosines(emb, X, y)
    emb.set_params(max_epochs=4, lr=3e-3).fit(X, y)
    own_after, other_after = _alignment_cosines(emb, X, y)
    # images move toward their own species' anchor, away from the others
    assert own_after - other_after > own_before - other_before + 0.3
    assert own_after > other_after + 0.15

    # route 2 (inside a Pipeline): weights = a state dict saved from it
    path = triplet_trained.save_backbone(tmp_path / "triplet.pt")
    fresh = _embedder(
        weights=str(path),
        batch_size=8,
        m_per_class=2,
        alignment_anchors=anchors,
        alignment_weight=2.0,
        max_epochs=0,
    ).fit(X, y)
    np.testing.assert_allclose(
        fresh.transform(X), triplet_trained.transform(X), atol=1e-6
    )


def test_genetic_anchors_estimator_is_accepted(data):
    genetics = pytest.importorskip("vgestimators.genetics")
    X, y = data
    rng = np.random.default_rng(1)
    species = np.repeat(np.unique(y), 3)
    sequences = ["".join(rng.choice(list("ACGT"), 60)) for _ in species]
    fitted = genetics.GeneticAnchors().fit(sequences, species)
    emb = _embedder(
        batch_size=8,
        m_per_class=2,
        alignment_anchors=fitted,
        alignment_weight=1.0,
        max_epochs=1,
    ).fit(X, y)
    assert emb.anchors_.shape == fitted.anchors_.shape
    with pytest.raises(ValueError, match="unfitted"):
        _embedder(
            alignment_anchors=genetics.GeneticAnchors(), alignment_weight=1.0
        ).fit(X, y)


@pytest.mark.parametrize(
    "make_anchors, match",
    [
        (
            lambda labels: {label: np.eye(3)[i] for i, label in enumerate(labels[:2])},
            "no anchor for classes",
        ),
        (
            # the checks of genetics.read_anchors, as for the aligners
            lambda labels: {label: np.ones(3) for label in labels},
            "all anchors are identical",
        ),
        (
            lambda labels: {
                label: np.arange(3.0) * i for i, label in enumerate(labels)
            },
            r"anchors of classes \[.*\] are all-zero",
        ),
        (
            lambda labels: {label: np.ones(2 + i) for i, label in enumerate(labels)},
            "mixed",
        ),
        (lambda labels: {label: np.full(3, np.nan) for label in labels}, "NaN"),
        (lambda labels: [1, 2, 3], "DataFrame"),
    ],
)
def test_bad_anchors(data, make_anchors, match):
    X, y = data
    emb = _embedder(
        alignment_anchors=make_anchors(list(np.unique(y))), alignment_weight=1.0
    )
    with pytest.raises((ValueError, TypeError), match=match):
        emb.fit(X, y)
    with pytest.raises(ValueError, match="needs alignment_anchors"):
        _embedder(alignment_weight=1.0).fit(X, y)


def test_all_zero_alignment_anchor_is_refused_before_any_network(data, monkeypatch):
    # one anchor parser for the package (genetics.read_anchors): the
    # embedder gets the aligners' checks, before a network is even built
    from vgestimators.vision import _net

    X, y = data
    classes = np.unique(y).tolist()
    rng = np.random.default_rng(0)
    anchors = {c: rng.normal(size=6) for c in classes}
    anchors[classes[2]] = np.zeros(6)
    built = []
    monkeypatch.setattr(
        _net.EmbedderNet, "initialize", lambda net: built.append(net) or net
    )
    emb = _embedder(alignment_anchors=anchors, alignment_weight=0.5)
    with pytest.raises(
        ValueError, match=rf"anchors of classes \['{classes[2]}'\] are all-zero"
    ):
        emb.fit(X, y)
    assert built == [] and not hasattr(emb, "net_")
    # names are paired as the aligners pair them: case, "_" and spacing
    respelled = {c.upper(): v for c, v in anchors.items() if c != classes[2]}
    respelled[classes[2].upper()] = rng.normal(size=6)
    _, rows = emb.set_params(alignment_anchors=respelled)._alignment(
        np.asarray(classes, dtype=object)
    )
    assert emb.anchors_.index[rows].tolist() == classes
