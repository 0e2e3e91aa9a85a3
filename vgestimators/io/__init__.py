"""Saving and loading fitted models."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "save_model": "._model",
        "load_model": "._model",
        "export_model": "._portable",
        "import_model": "._portable",
    },
)
