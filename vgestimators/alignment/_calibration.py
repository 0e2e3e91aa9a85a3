"""The prototype rule's constants, chosen on evidence of how new images score.

Calibrated stacking (Chao et al., 2016) subtracts one constant, the seen
bias, from the scores of the species that have images, so that species known
from their DNA alone can win. Where it is chosen decides what it is worth:

- On the training images of a network that fitted them, their scores are
  too sure (new images lie farther from their class means), and a bias that
  looks right there sends new images of seen species to image-less ones.
- On held-out images, embedded by a network that never trained on them, with
  some species held out entirely (the zero-shot literature's protocol:
  Xian et al., TPAMI 2018), it is chosen where it will be used. Cross-fitting
  in :class:`~vgestimators.pipeline.SpeciesPipeline` gives such images.

Everything here works on *stacking evidence*: for each evaluation image its
score for its own species, the best score among the other seen species and
the best among the image-less ones. One image is right at a bias ``b`` when

- its species has images: ``own > rival_seen`` and ``own - b > rival_unseen``;
- its species has none: ``own > rival_unseen`` and ``own > rival_seen - b``.

The objective that picks ``b`` is stated, not hidden (``objective``):

- ``"balanced"``: every species counts once, seen and image-less alike
  (balanced accuracy over all species of the final model);
- ``"harmonic"``: the harmonic mean H of the seen and the image-less
  species' mean accuracies, the zero-shot literature's score, which weighs a
  handful of image-less species as much as all the seen ones;
- a number ``p`` in [0, 1]: the share of new images expected to come from
  image-less species (``(1 - p) * seen + p * image-less``).
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

from ..utils._objective import describe_objective
from ..utils._stacking import (
    SeenUnseenCurve,
    area_under_curve,
    bias_grid,
    evidence_curve,
)


def objective_value(acc_seen, acc_unseen, objective, n_seen, n_zero):
    """The objective at (seen accuracy, image-less accuracy); arrays allowed."""
    acc_seen, acc_unseen = np.asarray(acc_seen), np.asarray(acc_unseen)
    if objective == "harmonic":
        total = acc_seen + acc_unseen
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, 2 * acc_seen * acc_unseen / total, 0.0)
    if objective == "balanced":
        share = n_zero / max(n_seen + n_zero, 1)
    else:
        share = float(objective)
    return (1 - share) * acc_seen + share * acc_unseen


def choose_seen_bias(evidence, objective, n_seen, n_zero):
    """The bias that maximises ``objective``, ties broken toward 0.

    Parameters
    ----------
    evidence : StackingEvidence
        Must hold images of seen and of image-less (or pretended image-less)
        species.
    objective : {"balanced", "harmonic"} or float
    n_seen, n_zero : int
        Species with images and image-less species of the model the bias is
        for (the "balanced" objective's weights).

    Returns
    -------
    bias : float
    curve : SeenUnseenCurve
        The whole trade-off, for reports (``bias`` column sorted).
    """
    grid = bias_grid(evidence)
    curve = evidence_curve(evidence, grid)
    if np.isnan(curve.seen).all() or np.isnan(curve.unseen).all():
        return 0.0, curve
    value = objective_value(
        np.nan_to_num(curve.seen),
        np.nan_to_num(curve.unseen),
        objective,
        n_seen,
        n_zero,
    )
    best = value.max()
    ties = np.flatnonzero(value >= best - 1e-12)
    return float(grid[ties[np.argmin(np.abs(grid[ties]))]]), curve


def fit_temperature(logit_sets, sample_weight=None):
    """The softmax temperature minimising a class-balanced log-loss.

    Parameters
    ----------
    logit_sets : list of (scores, target)
        Adjusted scores (n_images, n_classes) of evaluation images and the
        column of each one's species; pooled over the list, every species
        weighing the same.
    sample_weight : ndarray or None, default=None
        Further weights of the images of a single set (a classifier's
        ``class_weight``), multiplying the per-species ones.

    Returns
    -------
    temperature : float
        In [1e-3, 10]; 0.1 when there is nothing to fit.
    """
    sets = [(s, t) for s, t in logit_sets if len(t)]
    if not sets:
        return 0.1
    weights = []
    for _, target in sets:
        counts = np.bincount(target)
        weights.append(1.0 / counts[target])
    if sample_weight is not None:
        weights = [weights[0] * np.asarray(sample_weight, dtype=np.float64)]
    total = sum(w.sum() for w in weights)

    def loss(log_t):
        value = 0.0
        for (scores, target), w in zip(sets, weights, strict=True):
            lp = log_softmax(scores / np.exp(log_t), axis=1)
            value -= (w * lp[np.arange(len(target)), target]).sum()
        return value / total

    res = minimize_scalar(loss, bounds=(np.log(1e-3), np.log(10.0)), method="bounded")
    return float(np.exp(res.x))


def novelty_threshold_at(scores, rate):
    """The score below which a share ``rate`` of known-species images falls."""
    scores = np.asarray(scores, dtype=float)
    scores = scores[np.isfinite(scores)]
    if len(scores) == 0:
        return None
    return float(np.quantile(scores, rate))


@dataclass
class Calibration:
    """The rule's constants, what they were chosen on and what they promise.

    Attributes
    ----------
    source : str
        ``"held-out images"`` (cross-fitting, or ``X_val``) or
        ``"training images (leave-species-out)"``.
    objective : str or float
        What the seen bias maximises (see :func:`describe_objective`).
    use_dna : bool
        Whether the DNA's map is used (the DNA test passed, or was not run).
    dna_p_value : float or None
        p-value of the DNA test on this evidence (None: not run).
    shrinkage, seen_bias, temperature : float
    novelty_threshold : float or None
        Set from ``novelty_rate`` (None: no rate asked for).
    novelty_rate : float or None
    expected_seen_accuracy, expected_unseen_accuracy : float
        Mean per-species accuracy of the evaluation images of seen and of
        image-less (held-out or pretended) species at ``seen_bias`` (NaN when
        there were none).
    seen_sent_to_unseen : float
        Share of evaluation images of seen species named as an image-less
        species at ``seen_bias``.
    curve : SeenUnseenCurve
        The whole seen/image-less trade-off along the bias.
    ausuc : float
        Area under that curve.
    n_images, n_unseen_images, n_folds, n_skipped : int
        Evaluation images (of seen and of image-less species), hold-outs,
        and evaluation images of species the rule cannot know (no anchor),
        left out.
    novelty_scores : ndarray of float32 or None
        Held-out images only: the top score (at ``seen_bias``) of each
        evaluation image of a seen species, sorted: what a novelty threshold
        for any share of flagged images is read from
        (:func:`novelty_threshold_at`). None when the constants were chosen
        on the training images (or by a version that did not keep them).
    """

    source: str
    objective: object
    use_dna: bool
    dna_p_value: float | None
    shrinkage: float
    seen_bias: float
    temperature: float
    novelty_threshold: float | None
    novelty_rate: float | None
    expected_seen_accuracy: float
    expected_unseen_accuracy: float
    seen_sent_to_unseen: float
    curve: SeenUnseenCurve
    ausuc: float
    n_images: int
    n_unseen_images: int
    n_folds: int
    n_skipped: int = 0
    novelty_scores: np.ndarray | None = None

    def summary(self):
        """The constants and the expectations as a plain dict (reports, JSON)."""
        out = {
            "source": self.source,
            "objective": self.objective,
            "objective_text": describe_objective(self.objective),
            "use_dna": self.use_dna,
            "dna_p_value": self.dna_p_value,
            "shrinkage": self.shrinkage,
            "seen_bias": self.seen_bias,
            "temperature": self.temperature,
            "novelty_rate": self.novelty_rate,
            "novelty_threshold": self.novelty_threshold,
            "expected_seen_accuracy": self.expected_seen_accuracy,
            "expected_unseen_accuracy": self.expected_unseen_accuracy,
            "seen_sent_to_unseen": self.seen_sent_to_unseen,
            "ausuc": self.ausuc,
            "n_images": self.n_images,
            "n_unseen_images": self.n_unseen_images,
            "n_folds": self.n_folds,
            "n_skipped": self.n_skipped,
        }
        return {
            k: (None if isinstance(v, float) and np.isnan(v) else v)
            for k, v in out.items()
        }


def settle(
    evidence,
    logit_sets,
    params,
    *,
    source,
    use_dna,
    dna_p_value,
    shrinkage,
    n_seen,
    n_zero,
    n_folds=1,
    n_skipped=0,
    keep_scores=False,
):
    """Choose the seen bias, temperature and threshold from the evidence.

    ``params`` holds the rule's ``objective``, ``seen_bias`` and
    ``temperature`` ("auto" or a number) and ``novelty_rate``;
    ``logit_sets`` is a function of the bias returning the
    ``(scores, target)`` pairs of :func:`fit_temperature`. With
    ``keep_scores`` (held-out evidence), the top scores of the images of
    seen species are kept (``novelty_scores``), and the threshold is read
    from them.
    """
    objective, seen_bias = params["objective"], params["seen_bias"]
    temperature, novelty_rate = params["temperature"], params["novelty_rate"]
    can_choose = use_dna and n_zero > 0
    grid_bias, curve = choose_seen_bias(evidence, objective, n_seen, n_zero)
    if seen_bias != "auto":
        bias = float(seen_bias)
    else:
        bias = grid_bias if can_choose else 0.0
    at = evidence_curve(evidence, [bias])
    temp = (
        fit_temperature(logit_sets(bias))
        if temperature == "auto"
        else float(temperature)
    )
    top = evidence.top_score(bias)[evidence.own_seen]
    kept = None
    if keep_scores:
        kept = np.sort(top[np.isfinite(top)]).astype(np.float32)
        top = kept
    threshold = None
    if novelty_rate is not None:
        threshold = novelty_threshold_at(top, novelty_rate)
    return Calibration(
        source=source,
        objective=objective,
        use_dna=use_dna,
        dna_p_value=dna_p_value,
        shrinkage=float(shrinkage),
        seen_bias=bias,
        temperature=temp,
        novelty_threshold=threshold,
        novelty_rate=novelty_rate,
        expected_seen_accuracy=float(at.seen[0]),
        expected_unseen_accuracy=float(at.unseen[0]),
        seen_sent_to_unseen=float(at.to_unseen[0]),
        curve=curve,
        ausuc=area_under_curve(curve.seen, curve.unseen),
        n_images=int(evidence.own_seen.sum()),
        n_unseen_images=int((~evidence.own_seen).sum()),
        n_folds=n_folds,
        n_skipped=n_skipped,
        novelty_scores=kept,
    )
