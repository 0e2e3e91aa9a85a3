"""The versions a model file or report records."""

import platform


def versions():
    """Versions of vgestimators, scikit-learn, torch and Python, for model files and reports."""
    import sklearn
    import torch

    from .. import __version__

    return {
        "vgestimators": __version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
