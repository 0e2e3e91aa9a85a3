"""vgestimators: visual-genetic estimators for rare-species recognition.

scikit-learn estimators for the method of Karaderi et al., "Deep
Visual-Genetic Biometrics for Taxonomic Classification of Rare Species"
(WACV 2024, arXiv:2305.06695): DNA sequences are embedded with the Sequence
Graph Transform into per-species genetic anchors, images are embedded by a
triplet-trained CNN, and a cosine alignment pulls the image embeddings toward
their species' anchor.

Heavy dependencies (torch, torchvision, skorch) are imported lazily, on first
access of the estimator that needs them.
"""

from .utils._lazy import attach
from .utils._versions import __version__ as __version__  # its one home

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "SGTTransformer": ".genetics",
        "GeneticAnchors": ".genetics",
        "TripletImageEmbedder": ".vision",
        "PretrainedImageEmbedder": ".vision",
        "VisualGeneticAligner": ".alignment",
        "make_forams": ".datasets",
        "ltr_report": ".metrics",
        "make_species_pipeline": ".pipeline",
    },
    submodules=[
        "alignment",
        "benchmark",
        "datasets",
        "genetics",
        "longtail",
        "losses",
        "metrics",
        "model_selection",
        "pipeline",
        "taxonomy",
        "vision",
    ],
)
