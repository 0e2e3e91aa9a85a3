"""Losses and miners against brute-force loops over tiny batches."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pytorch_metric_learning.losses import TripletMarginLoss
from pytorch_metric_learning.miners import BatchHardMiner, TripletMarginMiner

from vgestimators.losses import (
    LogitAdjustedCrossEntropy,
    ReciprocalTripletLoss,
    SoftmaxTripletLoss,
)

DTYPES = [torch.float32, torch.float64]
LABELS = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])


def _batch(dtype, seed=0, n=8, dim=5):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, dim, generator=generator, dtype=dtype).requires_grad_(True)


def _sq_dist(x, i, j):
    xn = x / x.norm(dim=1, keepdim=True)
    return ((xn[i] - xn[j]) ** 2).sum()


def _all_triplets(labels):
    labels = labels.tolist()
    n = len(labels)
    for a, p, q in itertools.product(range(n), repeat=3):
        if a != p and labels[a] == labels[p] and labels[q] != labels[a]:
            yield a, p, q


def _dist(x, i, j):
    xn = x / x.norm(dim=1, keepdim=True)
    return (xn[i] - xn[j]).norm()


@pytest.mark.parametrize("dtype", DTYPES)
def test_reciprocal_triplet_loss_matches_brute_force(dtype):
    x = _batch(dtype)
    eps = 1e-6
    terms = [
        _sq_dist(x, a, p) + 1.0 / (_sq_dist(x, a, q) + eps)
        for a, p, q in _all_triplets(LABELS)
    ]
    expected = torch.stack(terms).mean()
    got = ReciprocalTripletLoss(eps=eps)(x, LABELS)
    assert got.dtype == dtype
    torch.testing.assert_close(got, expected)
    (grad_got,) = torch.autograd.grad(got, x)
    (grad_expected,) = torch.autograd.grad(expected, x)
    torch.testing.assert_close(grad_got, grad_expected)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reciprocal_triplet_loss_uses_the_given_triplets(dtype):
    x = _batch(dtype, seed=1)
    triplets = (torch.tensor([0, 3]), torch.tensor([2, 4]), torch.tensor([5, 0]))
    expected = (
        _sq_dist(x, 0, 2)
        + 1 / (_sq_dist(x, 0, 5) + 1e-6)
        + _sq_dist(x, 3, 4)
        + 1 / (_sq_dist(x, 3, 0) + 1e-6)
    ) / 2
    torch.testing.assert_close(ReciprocalTripletLoss()(x, LABELS, triplets), expected)


def test_reciprocal_hand_case():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    # one triplet per anchor among (0, 1 | 2): d(0,1) = 2, d(0,2) = 4, d(1,2) = 2
    got = ReciprocalTripletLoss(eps=0.0)(x, torch.tensor([0, 0, 1]))
    assert float(got) == pytest.approx(((2 + 1 / 4) + (2 + 1 / 2)) / 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "loss",
    [ReciprocalTripletLoss(), TripletMarginLoss(margin=0.2)],
    ids=["reciprocal", "margin"],
)
@pytest.mark.parametrize(
    "labels", [[0, 1, 2, 3], [1, 1, 1, 1]], ids=["distinct", "same"]
)
def test_no_triplet_gives_zero_loss_that_backpropagates(dtype, loss, labels):
    x = _batch(dtype, n=4)
    value = loss(x, torch.tensor(labels))
    assert float(value.detach()) == 0.0 and value.requires_grad
    value.backward()
    assert x.grad is not None and torch.count_nonzero(x.grad) == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_triplet_margin_loss_all_triplets_matches_brute_force(dtype):
    x = _batch(dtype, seed=2)
    margin = 0.3
    losses = torch.stack(
        [
            F.relu(_dist(x, a, p) - _dist(x, a, q) + margin)
            for a, p, q in _all_triplets(LABELS)
        ]
    )
    expected = losses[losses > 0].mean()  # pytorch-metric-learning's AvgNonZero
    torch.testing.assert_close(TripletMarginLoss(margin=margin)(x, LABELS), expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["semihard", "hard", "all"])
def test_triplet_margin_miner_matches_brute_force(dtype, kind):
    x = _batch(dtype, seed=3).detach()
    margin = 0.5
    expected = set()
    for a, p, q in _all_triplets(LABELS):
        gap = float(_dist(x, a, q) - _dist(x, a, p))
        keep = gap <= margin
        if kind == "semihard":
            keep &= gap > 0
        elif kind == "hard":
            keep &= gap <= 0
        if keep:
            expected.add((a, p, q))
    mined = TripletMarginMiner(margin=margin, type_of_triplets=kind)(x, LABELS)
    got = set(zip(*(t.tolist() for t in mined), strict=True))
    assert got == expected
    assert expected  # the case is not vacuous


@pytest.mark.parametrize("dtype", DTYPES)
def test_batch_hard_miner_matches_brute_force(dtype):
    x = _batch(dtype, seed=4).detach()
    labels = LABELS.tolist()
    expected = set()
    for a in range(len(labels)):
        positives = [p for p in range(len(labels)) if p != a and labels[p] == labels[a]]
        negatives = [q for q in range(len(labels)) if labels[q] != labels[a]]
        hardest_p = max(positives, key=lambda p: float(_dist(x, a, p)))
        hardest_n = min(negatives, key=lambda q: float(_dist(x, a, q)))
        expected.add((a, hardest_p, hardest_n))
    got = set(zip(*(t.tolist() for t in BatchHardMiner()(x, LABELS)), strict=True))
    assert got == expected


@pytest.mark.parametrize("dtype", DTYPES)
def test_logit_adjusted_cross_entropy(dtype):
    generator = torch.Generator().manual_seed(5)
    logits = torch.randn(6, 3, generator=generator, dtype=dtype)
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    counts = np.array([60, 30, 10])
    tau = 1.5
    shifted = logits + tau * torch.log(torch.tensor(counts / counts.sum(), dtype=dtype))
    expected = -torch.log_softmax(shifted, dim=1)[torch.arange(6), labels].mean()
    got = LogitAdjustedCrossEntropy(class_counts=counts, tau=tau)(logits, labels)
    torch.testing.assert_close(got, expected)
    plain = LogitAdjustedCrossEntropy(tau=0.0)(logits, labels)
    torch.testing.assert_close(plain, F.cross_entropy(logits, labels))
    weight = torch.tensor([1.0, 2.0, 4.0])
    weighted = LogitAdjustedCrossEntropy(tau=0.0, weight=weight)(logits, labels)
    per_row = -torch.log_softmax(logits, dim=1)[torch.arange(6), labels]
    w = weight.to(dtype)[labels]
    torch.testing.assert_close(weighted, (per_row * w).sum() / w.sum())
    with pytest.raises(ValueError, match="class_counts"):
        LogitAdjustedCrossEntropy(tau=1.0)
    with pytest.raises(ValueError, match="positive counts"):
        LogitAdjustedCrossEntropy(class_counts=[3, 0], tau=1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_triplet_loss_is_triplet_plus_weighted_cross_entropy(dtype):
    x = _batch(dtype, seed=6)
    loss = SoftmaxTripletLoss(3, 5, softmax_weight=0.4, miner=BatchHardMiner()).to(
        dtype
    )
    triplets = BatchHardMiner()(x, LABELS)
    expected = TripletMarginLoss(margin=0.2)(
        x, LABELS, triplets
    ) + 0.4 * F.cross_entropy(loss.classifier(x), LABELS)
    torch.testing.assert_close(loss(x, LABELS), expected)
    only_triplet = SoftmaxTripletLoss(3, 5, softmax_weight=0.0).to(dtype)
    torch.testing.assert_close(
        only_triplet(x, LABELS), TripletMarginLoss(margin=0.2)(x, LABELS)
    )
    value = loss(x, LABELS)
    value.backward()
    assert loss.classifier.weight.grad is not None and x.grad.abs().sum() > 0
