"""Where the prototype rule's constants come from: training or held-out images.

:class:`~vgestimators.alignment.GeneticPrototypeClassifier` has five
data-chosen constants: whether the DNA is used at all (the DNA test), the
shrinkage ``kappa``, the seen bias of calibrated stacking, the softmax
temperature and (on request) the open-set threshold. Two functions choose
them:

- :func:`calibrate_on_training`: leave-one-image-out and leave-species-out
  simulation on the training embeddings. Right when training and new
  embeddings come from one distribution (fixed features).
- :func:`calibrate_on_held_out`: images the network never trained on, some
  of them of species held out entirely (cross-fitting). Right when the
  embeddings come from a network trained on the training images, which has
  fitted them more closely than it will fit new ones. The temperature is
  the exception: it stays on the final rule's leave-one-out scores (see
  that function).
"""

from dataclasses import dataclass

import numpy as np

from ..utils._names import taxon_key
from ..utils._stacking import StackingEvidence
from ._calibration import settle
from ._prior import HeldOutMeans, held_out_p_value, permutation_p_value
from ._vectors import blend_rows, normalize_rows, shrinkage_weights

#: Permutations of the test that the DNA predicts appearance at all.
DNA_TEST_PERMUTATIONS = 99
#: Shrinkage values (in images) tried on held-out images.
KAPPA_GRID = np.array([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0])


@dataclass
class RuleState:
    """A rule fitted up to its constants: what they are chosen from.

    ``means`` are the visual class means (NaN rows: no image), ``counts``
    the training images per class, ``prior`` the :class:`~._prior.PriorFit`
    and ``within`` the within-class variance of the training embeddings.
    """

    classes: np.ndarray
    counts: np.ndarray
    means: np.ndarray
    prior: object
    within: float
    anchored: np.ndarray

    @property
    def seen(self):
        return self.counts > 0

    def dna(self, use_dna):
        """Prototypes predicted from the DNA (or, without it, from the others)."""
        return self.prior.dna if use_dna else self.prior.mean

    def excess(self, dna):
        """Leave-species-out error of ``dna`` beyond the noise of the means."""
        train, w = self.prior.train, self.prior.weights
        n = self.counts[train].astype(float)
        resid = ((self.means[train] - dna[train]) ** 2).sum(1) - self.within / n
        return float((w / w.sum()) @ resid)

    def empirical_bayes_kappa(self, dna):
        """``kappa = s2 / t2`` from the training means (0 without a map)."""
        if self.prior.weights is None:
            return 0.0
        floor = np.finfo(float).eps * max(self.within, 1.0)
        return float(self.within / max(self.excess(dna), floor))

    def prototypes(self, use_dna, kappa):
        """Prototypes and the mask of classes that can never win."""
        dna = self.dna(use_dna)
        has = ~np.isnan(dna).any(axis=1)
        lam = shrinkage_weights(self.counts, kappa, has)
        return blend_rows(lam, self.means, dna), lam, ~self.seen & ~has

    def scores(self, U, use_dna, kappa):
        """Cosine of each row of ``U`` to each prototype (-inf: unreachable)."""
        prototypes, _, unreachable = self.prototypes(use_dna, kappa)
        scores = U @ normalize_rows(prototypes).T
        scores[:, unreachable] = -np.inf
        return scores


def dna_decision(state, prior, dna_test, p_value):
    """Whether the DNA's map is used, given the test's p-value (or none)."""
    if state.prior.kind in ("none", "mean"):
        return False
    if prior != "auto" or dna_test is None or p_value is None:
        return True
    return p_value <= dna_test


def calibrate_on_training(state, U, y_cls, params, rng):
    """Constants from the training embeddings (leave-one-out simulations).

    Parameters
    ----------
    state : RuleState
    U : ndarray of shape (n_samples, n_features)
        Normalised training embeddings.
    y_cls : ndarray of int
        Class (column of ``state.classes``) of each row.
    params : dict
        The rule's parameters (``prior``, ``dna_test``, ``shrinkage``,
        ``seen_bias``, ``temperature``, ``objective``, ``novelty_rate``).
    rng : numpy.random.RandomState
        Permutations of the DNA test.

    Returns
    -------
    calibration : Calibration
    """
    prior = state.prior
    p_value = None
    if (
        params["prior"] == "auto"
        and params["dna_test"] is not None
        and prior.kind not in ("none", "mean")
    ):
        p_value = permutation_p_value(
            prior.map_data, prior.cv_error, DNA_TEST_PERMUTATIONS, rng
        )
    use_dna = dna_decision(state, params["prior"], params["dna_test"], p_value)
    dna = state.dna(use_dna)
    kappa = (
        state.empirical_bayes_kappa(dna)
        if params["shrinkage"] == "auto"
        else float(params["shrinkage"])
    )
    seen = state.seen
    has_dna = ~np.isnan(dna).any(axis=1)
    scores, ok = _leave_one_out_scores(state, U, y_cls, use_dna, kappa)
    rows = np.flatnonzero(ok)
    evidence = [StackingEvidence.from_scores(scores[rows], y_cls[rows], seen)]
    if not seen.all():
        evidence += _pretended_image_less(state, U, y_cls, scores, dna)
    evidence = StackingEvidence.concat(evidence)

    def logit_sets(bias):
        return [(scores[rows] - bias * seen[None, :], y_cls[rows])]

    return settle(
        evidence,
        logit_sets,
        params,
        source="training images (leave-species-out)",
        use_dna=use_dna,
        dna_p_value=p_value,
        shrinkage=kappa,
        n_seen=int(seen.sum()),
        n_zero=int((~seen & has_dna).sum()),
    )


def _pretended_image_less(state, U, target, scores, dna, labels=None):
    """Images of seen species with DNA, scored as if their species had no image.

    Each image's own score is its cosine to its species' leave-species-out
    DNA prototype; its species' own prototype leaves the competition. The
    leave-species-out simulation of the image-less side (a list of at most
    one :class:`StackingEvidence`).
    """
    has_dna = ~np.isnan(dna).any(axis=1)
    rows = np.flatnonzero((state.seen & has_dna)[target])
    if not len(rows):
        return []
    own = (U[rows] * normalize_rows(np.nan_to_num(dna))[target[rows]]).sum(1)
    return [
        StackingEvidence.from_scores(
            scores[rows],
            target[rows],
            state.seen,
            own_seen=np.zeros(len(rows), dtype=bool),
            own=own,
            labels=None if labels is None else labels[rows],
        )
    ]


def _leave_one_out_scores(state, U, y_cls, use_dna, kappa):
    """Cosine scores of the training images, own image left out of its prototype.

    Returns the scores (n_samples, n_classes) and a mask of the rows whose
    own-class score exists (a class of one image needs a DNA prototype).
    """
    dna = state.dna(use_dna)
    has_dna = ~np.isnan(dna).any(axis=1)
    scores = state.scores(U, use_dna, kappa)
    counts = state.counts
    sums = np.nan_to_num(state.means) * counts[:, None]
    n_own = counts[y_cls] - 1.0
    own_mean = (sums[y_cls] - U) / np.maximum(n_own, 1.0)[:, None]
    lam = np.where(has_dna[y_cls], n_own / np.maximum(n_own + kappa, 1e-300), 1.0)
    prior = np.where(has_dna[y_cls][:, None], np.nan_to_num(dna[y_cls]), 0.0)
    own = blend_rows(lam, own_mean, prior)
    ok = (n_own > 0) | has_dna[y_cls]
    with np.errstate(invalid="ignore", divide="ignore"):
        own_score = (U * normalize_rows(own)).sum(1)
    rows = np.arange(len(U))
    scores[rows[ok], y_cls[ok]] = own_score[ok]
    return scores, ok


@dataclass
class HeldOutFold:
    """One hold-out: a rule fitted without these images, and the images."""

    state: RuleState
    U: np.ndarray  # normalised held-out embeddings of classes the rule knows
    target: np.ndarray  # their class (column of state.classes)
    n_skipped: int  # held-out images of classes the rule does not know

    @classmethod
    def from_rule(cls, state, X, y):
        classes = state.classes
        # by value and type: "3" is not the class 3
        index = {label: i for i, label in enumerate(classes.tolist())}
        # a name the rule spells otherwise (case, "_", spacing): a species
        # held out entirely keeps the spelling of its DNA in the hold-out's rule
        by_key = {
            taxon_key(label): i
            for i, label in enumerate(classes.tolist())
            if isinstance(label, str)
        }
        found = [
            index.get(label, by_key.get(taxon_key(label), -1))
            if isinstance(label, str)
            else index.get(label, -1)
            for label in np.asarray(y).tolist()
        ]
        target = np.asarray(found, dtype=np.intp)
        known = target >= 0
        target = target[known]
        return cls(
            state,
            normalize_rows(np.asarray(X, float)[known]),
            target,
            int((~known).sum()),
        )

    def held_out_means(self):
        """Held-out means of the map's species and of the held-out species."""
        state, prior = self.state, self.state.prior
        n_classes = len(state.classes)
        counts = np.bincount(self.target, minlength=n_classes).astype(float)
        sums = np.zeros((n_classes, self.U.shape[1]))
        np.add.at(sums, self.target, self.U)
        have = counts > 0
        means = np.zeros_like(sums)
        means[have] = sums[have] / counts[have, None]
        resid = self.U - means[self.target]
        within = float((resid**2).sum() / max(len(self.U) - have.sum(), 1))
        spread = float(((means[have] - means[have].mean(0)) ** 2).sum(1).mean())
        weight = np.where(have, 1.0 / (spread + within / np.maximum(counts, 1)), 0.0)
        data = prior.map_data
        seen_index = np.flatnonzero(have[prior.train])
        seen_cls = prior.train[seen_index]
        unseen_cls = np.flatnonzero(have & ~state.seen & state.anchored)
        return HeldOutMeans(
            map_data=data,
            seen_index=seen_index,
            seen_means=means[seen_cls],
            seen_weights=weight[seen_cls],
            unseen_anchors=data.class_anchor[unseen_cls],
            unseen_means=means[unseen_cls],
            unseen_weights=weight[unseen_cls],
        )


def calibrate_on_held_out(folds, params, rng, *, state, U, y_cls):
    """Constants chosen on held-out images (cross-fitting).

    The DNA test, the shrinkage, the seen bias and the novelty threshold
    are chosen on the held-out images. The temperature is not: the
    hold-out's network, trained on fewer images, is less accurate than the
    final one, and a temperature fitted to its held-out images left the
    final model under-confident (expected calibration error 0.159 against
    0.101 with the temperature of the final model's leave-one-out scores,
    mean of the benchmark's 3 splits), so it is fitted on the final rule's
    leave-one-out scores, at the chosen bias and shrinkage.

    Parameters
    ----------
    folds : list of HeldOutFold
        Each: a rule fitted on part of the training images, some species
        held out entirely, and the held-out images embedded by the network
        that was trained on that part.
    params : dict
        As for :func:`calibrate_on_training`.
    rng : numpy.random.RandomState
    state : RuleState
        The rule that will use the constants (its species with and without
        images weigh the "balanced" objective).
    U, y_cls : ndarray
        Its normalised training embeddings and their classes (the
        temperature).

    Returns
    -------
    calibration : Calibration
    """
    # hold-outs whose rule learned a map from DNA (a hold-out with too few
    # species for one says nothing about the DNA)
    mapped = [f for f in folds if f.state.prior.kind not in ("none", "mean")]
    p_value = None
    if params["prior"] == "auto" and params["dna_test"] is not None and mapped:
        p_value, _ = held_out_p_value(
            [f.held_out_means() for f in mapped], DNA_TEST_PERMUTATIONS, rng
        )
    # the final rule must have a map too, and the test (if run) must pass
    use_dna = (
        bool(mapped)
        and dna_decision(state, params["prior"], None, None)
        and all(
            dna_decision(f.state, params["prior"], params["dna_test"], p_value)
            for f in mapped
        )
    )
    if params["shrinkage"] == "auto":
        kappa = _held_out_kappa(folds, use_dna)
    else:
        kappa = float(params["shrinkage"])

    parts = [
        StackingEvidence.from_scores(
            fold.state.scores(fold.U, use_dna, kappa),
            fold.target,
            fold.state.seen,
            labels=fold.state.classes[fold.target],
        )
        for fold in folds
    ]
    evidence = StackingEvidence.concat(parts)
    if evidence.own_seen.all():
        # no held-out species: held-out images of seen species, pretended
        # image-less, against their DNA prototypes
        evidence = StackingEvidence.concat(
            [evidence, *_pseudo_unseen(folds, use_dna, kappa)]
        )

    loo, ok = _leave_one_out_scores(state, U, y_cls, use_dna, kappa)

    def logit_sets(bias):
        return [(loo[ok] - bias * state.seen[None, :], y_cls[ok])]

    final_dna = state.dna(use_dna)
    return settle(
        evidence,
        logit_sets,
        params,
        source="held-out images",
        use_dna=use_dna,
        dna_p_value=p_value,
        shrinkage=kappa,
        n_seen=int(state.seen.sum()),
        n_zero=int((~state.seen & ~np.isnan(final_dna).any(axis=1)).sum()),
        n_folds=len(folds),
        n_skipped=sum(f.n_skipped for f in folds),
        keep_scores=True,
    )


def _pseudo_unseen(folds, use_dna, kappa):
    """Held-out images of seen species, scored as if their species had no image."""
    parts = []
    for fold in folds:
        state = fold.state
        scores = state.scores(fold.U, use_dna, kappa)
        parts += _pretended_image_less(
            state,
            fold.U,
            fold.target,
            scores,
            state.dna(use_dna),
            labels=state.classes[fold.target],
        )
    return parts


def _held_out_kappa(folds, use_dna):
    """The shrinkage chosen on held-out images of seen species.

    For each ``kappa`` of :data:`KAPPA_GRID`, the balanced accuracy of the
    held-out images of seen species among the seen species; the smallest
    ``kappa`` within one standard error of the best is kept (the one-SE
    rule: a prior that does not clearly help is not used; the standard
    error is that of the per-species differences to the best).
    """
    correct, labels = [], []
    for fold in folds:
        state = fold.state
        rows = state.seen[fold.target]
        if not rows.any():
            continue
        U, target = fold.U[rows], fold.target[rows]
        hits = []
        for kappa in KAPPA_GRID:
            scores = state.scores(U, use_dna, kappa)
            scores[:, ~state.seen] = -np.inf
            hits.append(np.argmax(scores, axis=1) == target)
        correct.append(np.array(hits))
        labels.append(state.classes[target])
    if not correct:
        return 0.0
    correct, labels = np.hstack(correct), np.concatenate(labels)
    _, codes = np.unique(labels, return_inverse=True)
    totals = np.bincount(codes)
    per_species = np.array(
        [np.bincount(codes, weights=c, minlength=len(totals)) / totals for c in correct]
    )  # (n_kappa, n_species)
    accuracy = per_species.mean(axis=1)
    best = int(np.argmax(accuracy))
    diff = per_species[best] - per_species
    se = diff.std(axis=1, ddof=1) / np.sqrt(max(per_species.shape[1], 1))
    within = np.flatnonzero(accuracy >= accuracy[best] - np.nan_to_num(se))
    return float(KAPPA_GRID[within.min()])
