"""Row-wise vector helpers of the prototype rule."""

import numpy as np


def normalize_rows(A):
    """Rows scaled to unit length (zero rows left as they are)."""
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.where(norms > 0, norms, 1.0)


def blend_rows(lam, a, b):
    """``lam * a + (1 - lam) * b`` row-wise, NaN rows of the unused side ignored."""
    lam = np.asarray(lam, dtype=float)[:, None]
    return np.where(lam > 0, lam * np.nan_to_num(a), 0.0) + np.where(
        lam < 1, (1 - lam) * np.nan_to_num(b), 0.0
    )


def shrinkage_weights(counts, kappa, has_prior):
    """``lambda = n / (n + kappa)``: weight of each class's visual mean.

    0 for classes without images, 1 for classes without a prior.
    """
    counts = np.asarray(counts, dtype=float)
    lam = np.where(counts > 0, counts / np.maximum(counts + kappa, 1e-300), 0.0)
    lam[~has_prior] = 1.0
    return lam
