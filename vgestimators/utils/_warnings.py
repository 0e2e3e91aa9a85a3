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


def renamed_parameter(old, new, old_value, new_value, *, unset="deprecated"):
    """The value of parameter ``new``, or of its old name ``old`` when set.

    A parameter renamed in 0.2 keeps its old name for one release:
    ``old_value`` is ``unset`` unless the user set it, and then a
    FutureWarning names the new parameter and the old value is used
    (scikit-learn's way of renaming a parameter).
    """
    if old_value is unset or (
        isinstance(old_value, str) and isinstance(unset, str) and old_value == unset
    ):
        return new_value
    warn_user(
        f"`{old}` was renamed `{new}` in 0.2 and will be removed in 0.3; use "
        f"{new}={old_value!r}.",
        FutureWarning,
    )
    return old_value
