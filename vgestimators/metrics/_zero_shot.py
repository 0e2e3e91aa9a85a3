"""Generalized zero-shot scores: the seen/unseen accuracy curve, its area, ECE.

Calibrated stacking (Chao et al., ECCV 2016) adds one constant to the
scores of the species without training images (equivalently, subtracts it
from the seen ones'); as it moves, accuracy on the seen species falls and
accuracy on the image-less ("unseen") species rises. The curve of the two
describes the whole trade-off, and its area (AUSUC) a model's scores
independently of where the constant is set.
"""

from dataclasses import dataclass, field

import numpy as np

#: Points of the seen-bias grid (quantiles of the margins at which an
#: image's prediction changes).
SEEN_BIAS_GRID = 401


@dataclass
class StackingEvidence:
    """Scores of evaluation images: own species, best seen and image-less rivals.

    Attributes
    ----------
    own, rival_seen, rival_unseen : ndarray of shape (n_images,)
        Score of the image's own species and the best score among the other
        seen and the other image-less species (``-inf`` when there is none).
    own_seen : ndarray of bool
        Whether the image's species counts as seen (has images).
    labels : ndarray
        Species of each image (per-species accuracies are averaged over it).
    """

    own: np.ndarray
    rival_seen: np.ndarray
    rival_unseen: np.ndarray
    own_seen: np.ndarray
    labels: np.ndarray

    @classmethod
    def from_scores(cls, scores, target, seen, own_seen=None, own=None, labels=None):
        """Evidence from a score matrix (n_images, n_classes).

        ``target`` is each row's column, ``seen`` marks the seen columns,
        ``own_seen`` (default ``seen[target]``) how the row's species counts
        and ``own`` replaces the row's own score (e.g. its DNA prototype's
        score when a seen species is pretended image-less).
        """
        rows = np.arange(len(target))
        own_seen = seen[target] if own_seen is None else own_seen
        own = scores[rows, target] if own is None else own
        rivals = scores.copy()
        rivals[rows, target] = -np.inf
        rival_seen = np.where(seen, rivals, -np.inf).max(1, initial=-np.inf)
        rival_unseen = np.where(~seen, rivals, -np.inf).max(1, initial=-np.inf)
        return cls(
            own=own,
            rival_seen=rival_seen,
            rival_unseen=rival_unseen,
            own_seen=np.asarray(own_seen, dtype=bool),
            labels=target if labels is None else labels,
        )

    @classmethod
    def concat(cls, parts):
        """Evidence pooled over several hold-outs."""
        parts = list(parts)
        return cls(
            *(np.concatenate([getattr(p, name) for p in parts]) for name in _FIELDS)
        )

    def correct(self, bias):
        """Whether each image is named right at seen bias ``bias``."""
        seen_ok = (self.own > self.rival_seen) & (self.own - bias > self.rival_unseen)
        unseen_ok = (self.own > self.rival_unseen) & (self.own > self.rival_seen - bias)
        return np.where(self.own_seen, seen_ok, unseen_ok)

    def _best(self):
        """Best score among seen and among image-less species, own included."""
        best_seen = np.where(
            self.own_seen, np.maximum(self.own, self.rival_seen), self.rival_seen
        )
        best_unseen = np.where(
            self.own_seen, self.rival_unseen, np.maximum(self.own, self.rival_unseen)
        )
        return best_seen, best_unseen

    def to_unseen(self, bias):
        """Whether each image is sent to an image-less species at ``bias``."""
        best_seen, best_unseen = self._best()
        return best_unseen > best_seen - bias

    def top_score(self, bias):
        """Largest adjusted score of each image (the open-set score)."""
        best_seen, best_unseen = self._best()
        return np.maximum(best_seen - bias, best_unseen)

    def margins(self):
        """Biases at which some image's verdict changes (finite ones)."""
        with np.errstate(invalid="ignore"):  # -inf - -inf: no margin
            seen_margin = self.own - self.rival_unseen
            unseen_margin = self.rival_seen - self.own
        cand = np.where(self.own_seen, seen_margin, unseen_margin)
        return cand[np.isfinite(cand)]


_FIELDS = ("own", "rival_seen", "rival_unseen", "own_seen", "labels")


@dataclass
class SeenUnseenCurve:
    """Seen and image-less species' mean accuracy along the seen bias.

    ``bias`` sorted increasingly; ``seen`` and ``unseen`` are mean
    per-species accuracies (NaN when the evidence holds no such species).
    """

    bias: np.ndarray
    seen: np.ndarray
    unseen: np.ndarray
    to_unseen: np.ndarray = field(default=None)  # share of seen images sent away


class _Groups:
    """Species codes of a subset of images, for per-species means."""

    def __init__(self, labels):
        _, self.codes = np.unique(labels, return_inverse=True)
        self.totals = np.bincount(self.codes).astype(float)

    def mean(self, values):
        if len(self.codes) == 0:
            return np.nan
        hits = np.bincount(self.codes, weights=values, minlength=len(self.totals))
        return float((hits / self.totals).mean())


def evidence_curve(evidence, biases):
    """Per-species mean accuracies of seen and image-less species at each bias.

    A species that appears both as seen and as pretended image-less (the
    leave-species-out simulation) counts in each group with its own images.
    """
    seen_rows = evidence.own_seen
    seen_groups = _Groups(evidence.labels[seen_rows])
    unseen_groups = _Groups(evidence.labels[~seen_rows])
    seen_acc = np.full(len(biases), np.nan)
    unseen_acc = np.full(len(biases), np.nan)
    sent = np.full(len(biases), np.nan)
    for i, bias in enumerate(biases):
        correct = evidence.correct(bias).astype(float)
        seen_acc[i] = seen_groups.mean(correct[seen_rows])
        unseen_acc[i] = unseen_groups.mean(correct[~seen_rows])
        if seen_rows.any():
            sent[i] = evidence.to_unseen(bias)[seen_rows].mean()
    return SeenUnseenCurve(np.asarray(biases, dtype=float), seen_acc, unseen_acc, sent)


def bias_grid(evidence, n_points=SEEN_BIAS_GRID):
    """0 and both sides of every margin at which a verdict changes.

    Beyond ``n_points`` distinct margins, evenly spaced quantiles of them.
    """
    cand = np.unique(evidence.margins())
    if len(cand) == 0:
        return np.array([0.0])
    if len(cand) > n_points:
        cand = np.unique(np.quantile(cand, np.linspace(0, 1, n_points)))
    # a verdict changes strictly beyond its margin: look just before and after
    eps = 1e-9 * max(1.0, float(np.abs(cand).max()))
    return np.unique(np.concatenate([[0.0], cand - eps, cand + eps]))


def area_under_curve(seen, unseen):
    """Area under the seen-unseen accuracy curve (AUSUC, Chao et al., 2016).

    ``seen`` and ``unseen`` are accuracies along the whole range of the
    bias; the curve is closed at (0, max unseen) and (max seen, 0) and
    integrated with the trapezoid rule over unseen accuracy as a function
    of seen accuracy.
    """
    seen, unseen = np.asarray(seen, float), np.asarray(unseen, float)
    ok = np.isfinite(seen) & np.isfinite(unseen)
    if not ok.any():
        return float("nan")
    seen, unseen = seen[ok], unseen[ok]
    # the upper envelope: at seen accuracy x, the best unseen accuracy of
    # any point with seen accuracy x or more
    xs = np.unique(seen)
    ys = np.array([unseen[seen == x].max() for x in xs])
    ys = np.maximum.accumulate(ys[::-1])[::-1]
    xs, ys = np.concatenate([[0.0], xs]), np.concatenate([[ys[0]], ys])
    # the trapezoid rule (np.trapezoid exists from NumPy 2.0 on only)
    return float(np.sum(np.diff(xs) * (ys[1:] + ys[:-1]) / 2.0))


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
