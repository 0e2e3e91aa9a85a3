"""Losses in the pytorch-metric-learning calling convention.

Each loss is an ``nn.Module`` called as ``loss(embeddings, labels, ...)``.
pytorch-metric-learning's own ``TripletMarginLoss`` and miners are used
directly; this package holds only what that library lacks.
"""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "CosineAlignmentLoss": "._alignment",
        "ReciprocalTripletLoss": "._triplet",
        "SoftmaxTripletLoss": "._softmax",
        "LogitAdjustedCrossEntropy": "._softmax",
    },
)
