"""Warnings that point at the user's line, not at library internals."""

import sys
import warnings
from pathlib import Path

import sklearn

_INTERNAL = (
    str(Path(__file__).resolve().parent.parent),  # vgestimators
    str(Path(sklearn.__file__).resolve().parent),  # Pipeline, _fit_context
)


def warn_user(message, category=UserWarning):
    """``warnings.warn`` attributed to the first frame outside the libraries.

    A warning raised deep in ``fit`` (the aligner inside a Pipeline inside a
    grid search) is then reported at the user's call, whatever the depth.
    """
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
