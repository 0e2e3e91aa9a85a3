"""Genetic half: DNA sequences to SGT vectors and per-species anchors."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "SGTTransformer": "._sgt",
        "GeneticAnchors": "._anchors",
    },
)
