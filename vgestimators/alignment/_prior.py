"""Map genetic anchors to visual class means, chosen by leave-species-out CV.

Every candidate map is a weighted linear smoother of the species' visual means:
kernel ridge regressions on the anchors (a constant kernel, i.e. the weighted
mean of the other species; a linear kernel; an RBF kernel) and a
genetic-neighbour average (Nadaraya-Watson over anchor cosines). For each one
the leave-one-species-out prediction has a closed form, so choosing the map
and its regularisation costs a few small matrix inversions, not a refit per
species.
"""

from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

#: Ridge penalties tried for the kernel maps, relative to the kernel's mean
#: diagonal.
RIDGE_ALPHAS = np.logspace(-3, 3, 13)
#: Bandwidths (temperatures on the anchor cosine) of the neighbour average.
NEIGHBOUR_BANDWIDTHS = (0.02, 0.05, 0.1, 0.2, 0.5)
#: Penalised scale of the constant kernel: the intercept of the ridge maps
#: is then nearly free.
_INTERCEPT_SCALE = 100.0

MAPS = ("mean", "ridge", "kernel_ridge", "neighbours")
#: Fewest species with images and an anchor from which a map is learned.
MIN_MAP_SPECIES = 3


@dataclass
class AnchorMap:
    """A fitted map from anchors to visual means.

    Attributes
    ----------
    kind : str
        One of :data:`MAPS`.
    param : float
        The ridge penalty (kernel maps) or the bandwidth (neighbours).
    loo_error : float
        Weighted mean squared leave-one-species-out error of the means.
    loo_means : ndarray of shape (n_species, n_features)
        Leave-one-species-out prediction of each training species' mean.
    """

    kind: str
    param: float
    loo_error: float
    loo_means: np.ndarray
    _train_anchors: np.ndarray
    _coef: np.ndarray  # dual coefficients (kernel maps) or the means (neighbours)
    _gamma: float  # RBF width
    _log_weights: np.ndarray  # neighbours: log precision of each mean

    def predict(self, anchors):
        """Predicted visual mean of each anchor row."""
        K = _kernel(self.kind, anchors, self._train_anchors, self._gamma)
        if self.kind == "neighbours":
            return softmax(K / self.param + self._log_weights, axis=1) @ self._coef
        return K @ self._coef


def _unit(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def _sq_distances(A, B):
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return np.maximum(sq, 0.0)


def _kernel(kind, A, B, gamma):
    if kind == "neighbours":
        return _unit(A) @ _unit(B).T
    const = np.full((len(A), len(B)), _INTERCEPT_SCALE)
    if kind == "mean":
        return const
    if kind == "ridge":
        return const + A @ B.T / A.shape[1]
    return const + np.exp(-gamma * _sq_distances(A, B))  # kernel_ridge: RBF


def _ridge_candidates(kind, K, means, weights):
    """(alpha, loo_means, coef) of a weighted kernel ridge, each alpha."""
    if kind == "mean":  # the penalty only moves the (near-free) constant
        alphas, scale = RIDGE_ALPHAS[:1], 1.0
    else:  # penalties relative to the mean diagonal of the non-constant part
        alphas = RIDGE_ALPHAS
        scale = max(float(np.mean(np.diag(K))) - _INTERCEPT_SCALE, 1e-12)
    out = []
    for alpha in alphas:
        # f = K (K + alpha W^-1)^-1 m; hat matrix H = K (K + alpha W^-1)^-1
        inv = np.linalg.inv(K + alpha * scale * np.diag(1.0 / weights))
        coef = inv @ means
        leverage = np.einsum("ij,ji->i", K, inv)
        loo = means - (means - K @ coef) / (1.0 - leverage)[:, None]
        out.append((alpha, loo, coef))
    return out


def _neighbour_candidates(K, means, weights):
    out = []
    for bandwidth in NEIGHBOUR_BANDWIDTHS:
        logits = K / bandwidth + np.log(weights)[None, :]
        np.fill_diagonal(logits, -np.inf)
        out.append((bandwidth, softmax(logits, axis=1) @ means, means))
    return out


class AnchorKernels:
    """The anchors' kernel matrices of every candidate map, computed once.

    Parameters
    ----------
    anchors : ndarray of shape (n_species, n_anchor_features)
    maps : sequence of str
        Candidate kinds (see :data:`MAPS`).
    """

    def __init__(self, anchors, maps=MAPS):
        self.anchors = anchors
        # RBF width from the median squared distance between anchors
        off = _sq_distances(anchors, anchors)[~np.eye(len(anchors), dtype=bool)]
        self.gamma = 1.0 / max(np.median(off), np.finfo(float).tiny)
        self.matrices = {k: _kernel(k, anchors, anchors, self.gamma) for k in maps}

    def select(self, means, weights, order=None):
        """Choose and fit the map with the smallest leave-species-out error.

        Parameters
        ----------
        means : ndarray of shape (n_species, n_features)
            Visual class means of the species with images and an anchor.
        weights : ndarray of shape (n_species,)
            Precision of each mean (more images, more weight).
        order : ndarray of int or None
            Pair the anchors with the means in this order instead (a
            permutation of the species, for the permutation test): the same
            as permuting the anchors, without recomputing their kernels.

        Returns
        -------
        best : AnchorMap
        candidates : list of (kind, param, loo_error)
            Every candidate tried, for inspection.
        """
        if order is not None:
            means, weights = means[order], weights[order]
        best, table = None, []
        w_norm = weights / weights.sum()
        for kind, K in self.matrices.items():
            if kind == "neighbours":
                candidates = _neighbour_candidates(K, means, weights)
            else:
                candidates = _ridge_candidates(kind, K, means, weights)
            for param, loo, coef in candidates:
                error = float(w_norm @ ((means - loo) ** 2).sum(1))
                table.append((kind, float(param), error))
                if best is None or error < best.loo_error - 1e-12:
                    best = AnchorMap(
                        kind=kind,
                        param=float(param),
                        loo_error=error,
                        loo_means=loo,
                        _train_anchors=self.anchors,
                        _coef=coef,
                        _gamma=self.gamma,
                        _log_weights=np.log(weights),
                    )
        return best, table


@dataclass
class PriorFit:
    """What the DNA predicts for each class, under the chosen and the mean map.

    Attributes
    ----------
    kind, param, cv_error : str, float or None, float or None
        The map chosen by leave-species-out error (``"none"`` when fewer
        than ``MIN_MAP_SPECIES`` species have images and an anchor).
    candidates : list of (kind, param, cv_error)
    dna : ndarray of shape (n_classes, n_features)
        Prototypes of the chosen map: leave-species-out for the classes it
        learned from, predicted from the anchor for the others; NaN rows for
        classes without an anchor (and all NaN when no map was learned).
    mean : ndarray of shape (n_classes, n_features)
        The same under the "mean" map (no DNA): the weighted mean of the
        other species for the learned classes, NaN elsewhere.
    train : ndarray of int
        Classes the maps learned from (images and an anchor).
    weights : ndarray
        Precision of each learned class's mean.
    mean_error : float or None
        Leave-species-out error of the "mean" map.
    map_data : MapData or None
        What a held-out permutation test needs.
    """

    kind: str
    param: float | None
    cv_error: float | None
    candidates: list
    dna: np.ndarray
    mean: np.ndarray
    train: np.ndarray
    weights: np.ndarray | None
    mean_error: float | None
    map_data: "MapData | None"


@dataclass
class MapData:
    """The species a map is learned from, and the candidate kinds."""

    anchors: np.ndarray  # (n_train, n_anchor_features)
    means: np.ndarray  # (n_train, n_features)
    weights: np.ndarray  # (n_train,)
    maps: tuple
    class_anchor: np.ndarray  # anchor of every class of the rule (NaN rows: none)


def fit_prior(matrix, anchor_row, means, counts, seen, within, prior="auto"):
    """Learn the map from anchors to visual means; predict every class's prior.

    Parameters
    ----------
    matrix : ndarray of shape (n_anchors, n_anchor_features)
    anchor_row : ndarray of int of shape (n_classes,)
        Row of ``matrix`` of each class (-1: no anchor).
    means : ndarray of shape (n_classes, n_features)
        Visual class means (NaN rows for classes without images).
    counts : ndarray of shape (n_classes,)
    seen : ndarray of bool
    within : float
        Within-class variance of the embeddings (summed over features).
    prior : {"auto", "mean", "ridge", "kernel_ridge", "neighbours"}

    Returns
    -------
    fit : PriorFit
    """
    n_classes, n_features = means.shape
    nan = np.full((n_classes, n_features), np.nan)
    train = np.flatnonzero(seen & (anchor_row >= 0))
    if len(train) < MIN_MAP_SPECIES:
        return PriorFit(
            "none", None, None, [], nan, nan.copy(), train, None, None, None
        )
    m, n = means[train], counts[train].astype(float)
    spread = float(((m - m.mean(0)) ** 2).sum(1).mean())
    weights = 1.0 / (spread + within / n)
    maps = MAPS if prior == "auto" else (prior,)
    anchors = matrix[anchor_row[train]]
    best, table = AnchorKernels(anchors, maps).select(m, weights)
    mean_map = (
        best
        if best.kind == "mean"
        else AnchorKernels(anchors, ("mean",)).select(m, weights)[0]
    )
    dna, mean = nan.copy(), nan.copy()
    dna[train], mean[train] = best.loo_means, mean_map.loo_means
    predict = np.flatnonzero(~seen & (anchor_row >= 0))
    if len(predict) and best.kind != "mean":
        dna[predict] = best.predict(matrix[anchor_row[predict]])
    class_anchor = np.full((n_classes, matrix.shape[1]), np.nan)
    has = anchor_row >= 0
    class_anchor[has] = matrix[anchor_row[has]]
    return PriorFit(
        best.kind,
        best.param,
        best.loo_error,
        table,
        dna,
        mean,
        train,
        weights,
        mean_map.loo_error,
        MapData(anchors, m, weights, maps, class_anchor),
    )


def permutation_p_value(map_data, best_error, permutations, rng):
    """How often anchors shuffled across species predict the means as well.

    Model selection over a dozen maps finds some structure in pure noise
    when there are few species: the whole selection is repeated on anchors
    permuted across species, and the p-value is the share of permutations
    (plus the real one) whose best leave-species-out error is as small as
    the real one. The training means of a network that fitted its images
    are what is compared here; :func:`held_out_p_value` compares held-out
    images instead.
    """
    kernels = AnchorKernels(map_data.anchors, map_data.maps)
    as_good = 0
    for _ in range(permutations):
        # anchors in the order perm, paired with the means: the same as the
        # means in the inverse order, paired with the anchors
        order = np.argsort(rng.permutation(len(map_data.means)))
        shuffled, _ = kernels.select(map_data.means, map_data.weights, order)
        as_good += shuffled.loo_error <= best_error
    return (1 + as_good) / (1 + permutations)


@dataclass
class HeldOutMeans:
    """Held-out images of one fold, summarised per species for the DNA test.

    ``seen_index``: rows of the fold's ``MapData`` (learned species) that
    have held-out images, with their held-out means ``seen_means``;
    ``unseen_anchors``/``unseen_means``: the held-out species (no training
    image in the fold); ``seen_weights``/``unseen_weights``: precision of
    each held-out mean.
    """

    map_data: MapData
    seen_index: np.ndarray
    seen_means: np.ndarray
    seen_weights: np.ndarray
    unseen_anchors: np.ndarray
    unseen_means: np.ndarray
    unseen_weights: np.ndarray

    def error(self, perm=None):
        """Held-out squared error of the DNA's predictions (anchors in ``perm``)."""
        data = self.map_data
        pool = np.vstack([data.anchors, self.unseen_anchors])
        if perm is not None:
            pool = pool[perm]
        n_train = len(data.anchors)
        best, _ = AnchorKernels(pool[:n_train], data.maps).select(
            data.means, data.weights
        )
        error = float(
            self.seen_weights
            @ ((best.loo_means[self.seen_index] - self.seen_means) ** 2).sum(1)
        )
        if len(self.unseen_means):
            predicted = best.predict(pool[n_train:])
            error += float(
                self.unseen_weights @ ((predicted - self.unseen_means) ** 2).sum(1)
            )
        return error


def held_out_p_value(folds, permutations, rng):
    """Permutation test that the DNA predicts where held-out images lie.

    For each fold the map is learned on the training means, as in the
    rule; its predictions (leave-species-out for the learned species, from
    the anchor for the held-out ones) are compared with the means of the
    held-out images. The statistic, summed over folds, is repeated with
    the anchors permuted across species (independently in each fold, the
    held-out species' anchors included); the p-value is the share of
    permutations (plus the real one) that predict as well.

    Parameters
    ----------
    folds : list of HeldOutMeans
    permutations : int
    rng : numpy.random.RandomState

    Returns
    -------
    p_value : float
    error : float
        The real statistic.
    """
    real = sum(fold.error() for fold in folds)
    as_good = 0
    for _ in range(permutations):
        total = 0.0
        for fold in folds:
            size = len(fold.map_data.anchors) + len(fold.unseen_anchors)
            total += fold.error(rng.permutation(size))
        as_good += total <= real
    return (1 + as_good) / (1 + permutations), real
