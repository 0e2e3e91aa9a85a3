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
