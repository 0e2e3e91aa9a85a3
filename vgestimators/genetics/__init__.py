"""Genetic half: DNA sequences to SGT vectors, per-species anchors, anchor tables."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "SGTTransformer": "._sgt",
        "GeneticAnchors": "._anchors",
        "read_anchors": "._anchor_table",
        "anchor_labels": "._anchor_table",
    },
)
