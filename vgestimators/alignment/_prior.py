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


def _kernel(kind, A, B, gamma):
    if kind == "neighbours":
        return _unit(A) @ _unit(B).T
    const = np.full((len(A), len(B)), _INTERCEPT_SCALE)
    if kind == "mean":
        return const
    if kind == "ridge":
        return const + A @ B.T / A.shape[1]
    # kernel_ridge: RBF on the anchors
    sq = (A**2).sum(1)[:, None] + (B**2).sum(1)[None, :] - 2 * A @ B.T
    return const + np.exp(-gamma * np.maximum(sq, 0.0))


def _ridge_candidates(kind, K, means, weights):
    """(alpha, loo_means, coef) of a weighted kernel ridge, each alpha."""
    # penalties relative to the mean diagonal of the non-constant part
    scale = max(float(np.mean(np.diag(K))) - _INTERCEPT_SCALE, 1e-12) if kind != "mean" else 1.0
    out = []
    for alpha in RIDGE_ALPHAS * scale:
        # f = K (K + alpha W^-1)^-1 m; hat matrix H = K (K + alpha W^-1)^-1
        inv = np.linalg.inv(K + alpha * np.diag(1.0 / weights))
        coef = inv @ means
        fitted = K @ coef
        leverage = np.einsum("ij,ji->i", K, inv)
        loo = means - (means - fitted) / (1.0 - leverage)[:, None]
        out.append((alpha / scale, loo, coef))
        if kind == "mean":  # the penalty only moves the (near-free) constant
            break
    return out


def _neighbour_candidates(K, means, weights):
    out = []
    for bandwidth in NEIGHBOUR_BANDWIDTHS:
        logits = K / bandwidth + np.log(weights)[None, :]
        np.fill_diagonal(logits, -np.inf)
        loo = softmax(logits, axis=1) @ means
        out.append((bandwidth, loo, means))
    return out


def fit_anchor_map(anchors, means, weights, maps=MAPS):
    """Choose and fit the map with the smallest leave-species-out error.

    Parameters
    ----------
    anchors : ndarray of shape (n_species, n_anchor_features)
    means : ndarray of shape (n_species, n_features)
        Visual class means of the species with images and an anchor.
    weights : ndarray of shape (n_species,)
        Precision of each mean (more images, more weight).
    maps : sequence of str
        Candidate kinds (see :data:`MAPS`).

    Returns
    -------
    best : AnchorMap
    candidates : list of (kind, param, loo_error)
        Every candidate tried, for inspection.
    """
    # RBF width from the median squared distance between anchors
    sq = ((anchors[:, None, :] - anchors[None, :, :]) ** 2).sum(-1)
    off = sq[~np.eye(len(sq), dtype=bool)]
    gamma = 1.0 / max(np.median(off), np.finfo(float).tiny)
    best, table = None, []
    w_norm = weights / weights.sum()
    for kind in maps:
        K = _kernel(kind, anchors, anchors, gamma)
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
                    _train_anchors=anchors,
                    _coef=coef,
                    _gamma=gamma,
                    _log_weights=np.log(weights),
                )
    return best, table
