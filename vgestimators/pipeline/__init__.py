"""The recommended Pipeline: images in, species out, names checked first."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "SpeciesPipeline": "._pipeline",
        "make_species_pipeline": "._pipeline",
    },
)
