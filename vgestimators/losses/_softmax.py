"""Softmax (cross-entropy) terms: logit adjustment and softmax + triplet."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def _log_priors(class_counts):
    counts = torch.as_tensor(np.asarray(class_counts, dtype=np.float64))
    if counts.ndim != 1 or len(counts) < 2 or bool((counts <= 0).any()):
        raise ValueError(
            "class_counts must be a 1-D array of at least 2 positive counts; "
            f"got {np.asarray(class_counts).tolist()}."
        )
    return torch.log(counts / counts.sum()).float()


class LogitAdjustedCrossEntropy(nn.Module):
    """Cross-entropy with logit adjustment for long-tailed labels.

    The logit-adjusted loss of Menon et al. (ICLR 2021) adds
    ``tau * log(prior_y)`` to each class's logit before the softmax during
    training, which makes the plain ``argmax`` of the unadjusted logits
    approximately balanced-error optimal: rare classes get a larger margin.
    With ``tau=0`` it is the ordinary (optionally class-weighted)
    cross-entropy.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,), default=None
        Training images per class, giving the priors. Needed when
        ``tau > 0``.
    tau : float, default=1.0
        Strength of the adjustment.
    weight : array-like of shape (n_classes,), default=None
        Per-class weights (e.g. ``class_weight="balanced"``).

    See Also
    --------
    SoftmaxTripletLoss : Uses it for its softmax term.

    Examples
    --------
    >>> import torch
    >>> from vgestimators.losses import LogitAdjustedCrossEntropy
    >>> loss = LogitAdjustedCrossEntropy(class_counts=[90, 10], tau=1.0)
    >>> logits = torch.zeros(2, 2)
    >>> # logits become log(0.9), log(0.1): loss of class 1 is -log(0.1)
    >>> round(float(loss(logits, torch.tensor([1, 1]))), 4)
    2.3026
    """

    def __init__(self, class_counts=None, tau=1.0, weight=None):
        super().__init__()
        self.tau = float(tau)
        if self.tau != 0.0 and class_counts is None:
            raise ValueError("class_counts are needed for logit adjustment (tau > 0).")
        log_priors = None if class_counts is None else _log_priors(class_counts)
        self.register_buffer("log_priors", log_priors)
        weight = None if weight is None else torch.as_tensor(weight).float()
        self.register_buffer("weight", weight)

    def forward(self, logits, labels):
        """Cross-entropy of ``logits`` (n, n_classes) against ``labels`` (n,)."""
        if self.tau != 0.0:
            logits = logits + self.tau * self.log_priors.to(logits)
        weight = None if self.weight is None else self.weight.to(logits)
        return F.cross_entropy(logits, labels.long(), weight=weight)


class SoftmaxTripletLoss(nn.Module):
    """A triplet loss plus a weighted softmax classification term.

    ``loss = triplet(embeddings) + softmax_weight * CE(W embeddings + b)``.
    The linear classifier ``W, b`` lives in the loss (as pytorch-metric-
    learning's classification losses do), so the embedding network stays a
    pure embedder; the softmax term can be class-weighted and logit-adjusted
    for long-tailed data.

    Parameters
    ----------
    num_classes : int
        Number of classes.
    embedding_size : int
        Width of the embeddings.
    softmax_weight : float, default=1.0
        Weight of the softmax term.
    triplet_loss : torch.nn.Module, default=None
        Any pytorch-metric-learning loss; default
        ``TripletMarginLoss(margin=0.2)``.
    miner : BaseMiner, default=None
        Mines triplets for ``triplet_loss`` when ``indices_tuple`` is not
        given; default none (all triplets of the batch).
    class_counts : array-like of shape (n_classes,), default=None
        Training images per class (for logit adjustment).
    tau : float, default=0.0
        Logit-adjustment strength (0: plain cross-entropy).
    class_weight : array-like of shape (n_classes,), default=None
        Per-class weights of the cross-entropy.

    See Also
    --------
    LogitAdjustedCrossEntropy : The softmax term.
    ReciprocalTripletLoss : A margin-free triplet loss to combine with it.

    Examples
    --------
    >>> import torch
    >>> from vgestimators.losses import SoftmaxTripletLoss
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> loss = SoftmaxTripletLoss(num_classes=3, embedding_size=8)
    >>> emb = torch.randn(6, 8, requires_grad=True)
    >>> value = loss(emb, torch.tensor([0, 0, 1, 1, 2, 2]))
    >>> value.backward()
    >>> bool(value > 0), emb.grad.shape
    (True, torch.Size([6, 8]))
    """

    def __init__(
        self,
        num_classes,
        embedding_size,
        *,
        softmax_weight=1.0,
        triplet_loss=None,
        miner=None,
        class_counts=None,
        tau=0.0,
        class_weight=None,
    ):
        super().__init__()
        from pytorch_metric_learning.losses import TripletMarginLoss

        self.softmax_weight = float(softmax_weight)
        self.triplet_loss = (
            TripletMarginLoss(margin=0.2) if triplet_loss is None else triplet_loss
        )
        self.miner = miner
        self.classifier = nn.Linear(embedding_size, num_classes)
        self.cross_entropy = LogitAdjustedCrossEntropy(
            class_counts=class_counts, tau=tau, weight=class_weight
        )

    def forward(
        self, embeddings, labels, indices_tuple=None, ref_emb=None, ref_labels=None
    ):
        """Return the combined loss of a batch."""
        if indices_tuple is None and self.miner is not None:
            indices_tuple = self.miner(embeddings, labels, ref_emb, ref_labels)
        triplet = self.triplet_loss(
            embeddings, labels, indices_tuple, ref_emb, ref_labels
        )
        if self.softmax_weight == 0.0:
            return triplet
        logits = self.classifier(embeddings)
        return triplet + self.softmax_weight * self.cross_entropy(logits, labels)
