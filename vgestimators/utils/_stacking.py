"""Calibrated stacking's evidence: the seen/unseen curve and its area.

Calibrated stacking (Chao et al., ECCV 2016) subtracts one constant, the
seen bias, from the scores of the species that have images. The evidence of
a set of evaluation images (their own species' score and the best seen and
image-less rivals) gives, at every bias, the mean per-species accuracy of
the seen and of the image-less species: the curve, and its area (AUSUC).

One home for two layers: the public scores of :mod:`vgestimators.metrics`
(``seen_unseen_curve``, ``ausuc_score``) and the choice of the prototype
rule's seen bias in :mod:`vgestimators.alignment`; the benchmark and the
command line read the area of curves they draw.
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
