"""The version of vgestimators, and the versions a model file or report records."""

import platform

#: The version of vgestimators: its one home. ``vgestimators.__version__``
#: and the distribution's metadata (pyproject.toml's ``dynamic`` version,
#: read by setuptools without importing anything) come from here, so a
#: source checkout and an installed copy always agree, and utils never
#: imports the package root for it.
__version__ = "0.2.0"


def versions():
    """Versions of vgestimators, scikit-learn, torch and Python, for model files and reports."""
    import sklearn
    import torch

    return {
        "vgestimators": __version__,
        "scikit-learn": sklearn.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
