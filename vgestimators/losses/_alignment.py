"""The paper's cross-domain cosine alignment loss."""

import torch
import torch.nn.functional as F
from torch import nn

_NEGATIVES = ("random", "hardest", "all")


class CosineAlignmentLoss(nn.Module):
    """Cosine alignment of embeddings with per-class reference vectors (anchors).

    For an embedding ``v`` of class ``y``, its anchor ``a_y`` and the anchor
    ``a_n`` of another class, the loss of Karaderi et al. (2024) is::

        (1 - cos(v, a_y)) + max(0, cos(v, a_n) - margin)

    The positive term pulls ``v`` toward its own anchor; the hinge pushes it
    away from other anchors once their cosine exceeds ``margin``.

    Parameters
    ----------
    margin : float, default=0.5
        Cosine above which another class's anchor is penalised.
    negatives : {"random", "hardest", "all"}, default="random"
        Which other anchors enter the hinge: one drawn at random per sample
        (as in the paper), the most similar one, or the mean over all others.

    Examples
    --------
    >>> import torch
    >>> from vgestimators.losses import CosineAlignmentLoss
    >>> anchors = torch.eye(3)
    >>> emb = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    >>> loss = CosineAlignmentLoss(margin=0.5, negatives="hardest")
    >>> round(float(loss(emb, torch.tensor([0, 1]), anchors)), 4)
    0.25
    """

    def __init__(self, margin=0.5, negatives="random"):
        super().__init__()
        if negatives not in _NEGATIVES:
            raise ValueError(
                f"negatives must be one of {_NEGATIVES}, got {negatives!r}."
            )
        self.margin = margin
        self.negatives = negatives

    def forward(self, embeddings, labels, ref_emb, weights=None, generator=None):
        """Compute the loss.

        Parameters
        ----------
        embeddings : Tensor of shape (n, d)
            Embeddings in the anchor space (need not be normalised).
        labels : LongTensor of shape (n,)
            Row index in ``ref_emb`` of each embedding's own anchor.
        ref_emb : Tensor of shape (n_classes, d)
            The anchors, one row per class (need not be normalised).
        weights : Tensor of shape (n,), default=None
            Per-sample weights (e.g. balanced class weights); the loss is
            their weighted mean.
        generator : torch.Generator, default=None
            Random source for ``negatives="random"``.

        Returns
        -------
        loss : scalar Tensor
        """
        if ref_emb.shape[0] < 2:
            raise ValueError("CosineAlignmentLoss needs at least 2 anchors.")
        labels = labels.long()
        cos = F.normalize(embeddings, dim=1) @ F.normalize(ref_emb, dim=1).T
        rows = torch.arange(cos.shape[0], device=cos.device)
        positive = 1.0 - cos[rows, labels]
        hinge = F.relu(cos - self.margin)
        if self.negatives == "random":
            n_classes = cos.shape[1]
            other = torch.randint(
                0, n_classes - 1, labels.shape, generator=generator
            ).to(labels.device)
            other = other + (other >= labels).long()
            negative = hinge[rows, other]
        else:
            own = F.one_hot(labels, cos.shape[1]).bool()
            if self.negatives == "hardest":
                negative = hinge.masked_fill(own, float("-inf")).amax(dim=1)
            else:
                negative = hinge.masked_fill(own, 0.0).sum(dim=1) / (cos.shape[1] - 1)
        per_sample = positive + negative
        if weights is None:
            return per_sample.mean()
        weights = weights.to(per_sample)
        return (per_sample * weights).sum() / weights.sum().clamp_min(1e-12)
