"""Generalized zero-shot scores: the seen/unseen accuracy curve, its area, ECE.

Calibrated stacking (Chao et al., ECCV 2016) adds one constant to the
scores of the species without training images (equivalently, subtracts it
from the seen ones'); as it moves, accuracy on the seen species falls and
accuracy on the image-less ("unseen") species rises. The curve of the two
describes the whole trade-off, and its area (AUSUC) a model's scores
independently of where the constant is set.
"""

import numpy as np

# model files saved before the record moved to utils name it here
from ..utils._stacking import SeenUnseenCurve as SeenUnseenCurve
from ..utils._stacking import (
    StackingEvidence,
    area_under_curve,
    bias_grid,
    evidence_curve,
)


def _check_scores(y_true, y_score, classes, name):
    """``y_score`` as a float array of shape (n_samples, n_classes)."""
    y_score = np.asarray(y_score, dtype=float)
    classes = np.asarray(classes)
    if y_score.ndim != 2 or y_score.shape != (len(y_true), len(classes)):
        raise ValueError(
            f"{name} must have shape (n_samples, n_classes) = ({len(y_true)}, "
            f"{len(classes)}); got {y_score.shape}."
        )
    return y_score, classes


def _score_inputs(y_true, y_score, classes, seen_classes):
    """Validated arrays: scores, target columns, seen column mask."""
    y_true = np.asarray(y_true)
    y_score, classes = _check_scores(y_true, y_score, classes, "y_score")
    index = {c: i for i, c in enumerate(classes.tolist())}
    target = np.array([index.get(c, -1) for c in y_true.tolist()], dtype=np.intp)
    if (target < 0).any():
        rows = np.flatnonzero(target < 0)
        raise ValueError(
            f"y_true holds labels that are not in classes, e.g. "
            f"{y_true[rows[0]].item()!r} at row {rows[0]} ({len(rows)} row(s) in "
            "all)."
        )
    seen = np.isin(classes, np.asarray(seen_classes))
    return y_score, target, seen


def seen_unseen_curve(y_true, y_score, *, classes, seen_classes):
    """Seen and unseen species' accuracy as a constant moves between them.

    The curve of calibrated stacking (Chao et al., ECCV 2016): a constant
    ``b`` is subtracted from the scores of the seen classes (those with
    training images) and every image is assigned its highest-scoring class;
    for each ``b`` where some prediction changes, the mean per-class
    accuracy of the test images of seen classes and of unseen classes.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True classes; every one must be in ``classes``.
    y_score : array-like of shape (n_samples, n_classes)
        Scores (e.g. ``decision_function`` or log-probabilities), columns
        in the order of ``classes``; ``-inf`` for a class that cannot win.
    classes : array-like of shape (n_classes,)
    seen_classes : array-like
        The classes with training images.

    Returns
    -------
    seen_accuracy, unseen_accuracy : ndarray
        Mean per-class accuracy of the seen and of the unseen classes' test
        images (NaN when ``y_true`` holds none of them).
    biases : ndarray
        The constants, increasing (0 is among them: the scores as given).

    See Also
    --------
    ausuc_score : The area under this curve.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.metrics import seen_unseen_curve
    >>> scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.7], [0.6, 0.3, 0.55]])
    >>> seen, unseen, biases = seen_unseen_curve(
    ...     ["a", "b", "c"], scores, classes=["a", "b", "c"], seen_classes=["a", "b"])
    >>> float(seen[0]), float(unseen[0]), float(seen[-1]), float(unseen[-1])
    (1.0, 0.0, 0.0, 1.0)
    """
    y_score, target, seen = _score_inputs(y_true, y_score, classes, seen_classes)
    evidence = StackingEvidence.from_scores(y_score, target, seen, labels=target)
    biases = bias_grid(evidence)
    curve = evidence_curve(evidence, biases)
    return curve.seen, curve.unseen, curve.bias


def ausuc_score(y_true, y_score, *, classes, seen_classes):
    """Area under the seen-unseen accuracy curve (AUSUC, Chao et al., 2016).

    One number for a model's scores over the whole trade-off between seen
    and unseen classes, wherever the constant between them is set: 1 when
    both can be perfect at once; the product of the two accuracies' maxima
    at most otherwise.

    Parameters
    ----------
    y_true, y_score, classes, seen_classes
        As for :func:`seen_unseen_curve`; ``y_true`` must hold images of
        seen and of unseen classes.

    Returns
    -------
    score : float

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.metrics import ausuc_score
    >>> scores = np.array([[0.9, 0.1, 0.5], [0.2, 0.6, 0.7], [0.6, 0.3, 0.55]])
    >>> round(ausuc_score(["a", "b", "c"], scores, classes=["a", "b", "c"],
    ...                   seen_classes=["a", "b"]), 3)
    0.75
    """
    seen, unseen, _ = seen_unseen_curve(
        y_true, y_score, classes=classes, seen_classes=seen_classes
    )
    if np.isnan(seen).all() or np.isnan(unseen).all():
        raise ValueError(
            "ausuc_score needs test images of seen and of unseen classes; "
            "y_true holds only one kind."
        )
    return area_under_curve(seen, unseen)


def expected_calibration_error(y_true, y_proba, *, classes, n_bins=15):
    """Expected calibration error of the most probable class's probability.

    Images are binned by the probability of their predicted class (equal
    widths over [0, 1]); ECE is the image-weighted mean, over bins, of the
    gap between that probability and the share of images rightly named
    (Guo et al., ICML 2017). 0 is perfectly calibrated; an over-confident
    model has a large ECE.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
    y_proba : array-like of shape (n_samples, n_classes)
        ``predict_proba`` output, columns in the order of ``classes``.
    classes : array-like of shape (n_classes,)
    n_bins : int, default=15

    Returns
    -------
    ece : float

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.metrics import expected_calibration_error
    >>> proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.4, 0.6]])
    >>> round(expected_calibration_error(["a", "b", "a", "b"], proba,
    ...                                  classes=["a", "b"], n_bins=10), 3)
    0.4
    """
    y_proba, classes = _check_scores(y_true, y_proba, classes, "y_proba")
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1; got {n_bins}.")
    confidence = y_proba.max(axis=1)
    correct = classes[np.argmax(y_proba, axis=1)] == np.asarray(y_true)
    bins = np.minimum((confidence * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        members = bins == b
        ece += members.mean() * abs(
            confidence[members].mean() - correct[members].mean()
        )
    return float(ece)
