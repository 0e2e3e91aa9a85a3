"""Cross-domain alignment of image embeddings with genetic anchors."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "VisualGeneticAligner": "._aligner",
        "GeneticPrototypeClassifier": "._prototypes",
        "AnchorProjectionClassifier": "._projection_rule",
    },
)
