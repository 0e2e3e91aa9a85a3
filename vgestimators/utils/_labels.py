"""Checking class labels ``y``: one home for every estimator and sampler."""

import numpy as np

_MAX_LISTED = 20


def format_labels(labels):
    """Readable, truncated list of class labels for error messages."""
    labels = list(labels)
    shown = ", ".join(repr(as_python(label)) for label in labels[:_MAX_LISTED])
    if len(labels) > _MAX_LISTED:
        shown += f", ... ({len(labels)} in all)"
    return "[" + shown + "]"


def counted(n, word, plural=None):
    """``"1 entry"``, ``"2 entries"``: a count and its noun, plural-correct.

    Examples
    --------
    >>> from vgestimators.utils._labels import counted
    >>> counted(1, "image file"), counted(0, "entry", "entries")
    ('1 image file', '0 entries')
    """
    return f"{n} {word if n == 1 else plural or word + 's'}"


def as_python(value):
    """NumPy scalar -> Python scalar (for readable reprs)."""
    return value.item() if isinstance(value, np.generic) else value


def _missing_rows(y):
    """Rows of ``y`` holding None or NaN."""
    if y.dtype.kind in "fc":
        return np.flatnonzero(np.isnan(y)).tolist()
    if y.dtype.kind != "O":
        return []  # integers, booleans, strings: nothing can be missing
    return [i for i, v in enumerate(y.tolist()) if v is None or v != v]


def check_labels(
    y,
    n_samples=None,
    *,
    min_classes=0,
    classification=False,
    name="y",
    too_few=None,
):
    """Check class labels; return them with their classes, codes and counts.

    In order: ``y`` is made a 1-D array (a pandas Series or one-column
    frame gives its values, a column vector is flattened), its length is
    compared with ``n_samples``, missing labels (None, NaN) are refused, its
    type is checked as scikit-learn's classifiers check it
    (``classification=True``), and the classes are counted.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, 1)
        Class labels.
    n_samples : int, default=None
        Number of samples of ``X``; ``y`` must hold as many labels.
    min_classes : int, default=0
        Fewest distinct classes ``y`` must hold; with 1 or more, an empty
        ``y`` is refused too.
    classification : bool, default=False
        Also refuse targets that are not classes (continuous values,
        multi-output), with
        :func:`~sklearn.utils.multiclass.check_classification_targets`.
    name : str, default="y"
        Name of the labels in the error messages.
    too_few : str, default=None
        Message of the error raised when ``y`` holds fewer than
        ``min_classes`` classes (but at least one label), formatted with
        ``classes`` (the sorted classes found); a generic message if None.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The labels as a 1-D array.
    classes : ndarray of shape (n_classes,)
        The sorted distinct labels (:func:`numpy.unique`).
    encoded : ndarray of shape (n_samples,)
        Index of each label in ``classes``.
    counts : ndarray of shape (n_classes,)
        Number of labels of each class.

    Raises
    ------
    ValueError
        If ``y`` is not 1-D, is not as long as ``n_samples``, is not a
        classification target, holds missing labels, is empty or holds
        fewer than ``min_classes`` classes.

    Examples
    --------
    >>> from vgestimators.utils._labels import check_labels
    >>> y, classes, encoded, counts = check_labels(["b", "a", "b"], min_classes=2)
    >>> classes.tolist(), encoded.tolist(), counts.tolist()
    (['a', 'b'], [1, 0, 1], [1, 2])
    >>> check_labels(["a", "a"], min_classes=2)
    Traceback (most recent call last):
    ...
    ValueError: y holds 1 class (['a']); at least 2 are needed.
    """
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}.")
    if n_samples is not None and len(y) != n_samples:
        raise ValueError(
            f"X holds {n_samples} samples but {name} holds {len(y)} labels; "
            "they must have the same length."
        )
    missing = _missing_rows(y)
    if missing:
        raise ValueError(
            f"{name} holds missing labels (None/NaN) at rows {missing[:10]}."
        )
    if classification:
        from sklearn.utils.multiclass import check_classification_targets

        check_classification_targets(y)
    if min_classes >= 1 and len(y) == 0:
        raise ValueError(f"{name} is empty.")
    classes, encoded, counts = np.unique(y, return_inverse=True, return_counts=True)
    if len(classes) < min_classes:
        if too_few is not None:
            raise ValueError(too_few.format(classes=classes))
        raise ValueError(
            f"{name} holds {len(classes)} class"
            f"{'' if len(classes) == 1 else 'es'} ({classes.tolist()}); at "
            f"least {min_classes} are needed."
        )
    return y, classes, encoded.reshape(-1), counts
