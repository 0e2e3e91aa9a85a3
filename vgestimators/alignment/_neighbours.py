"""Nearest neighbours for the k-NN rule: scikit-learn, or faiss for large sets."""

import numpy as np
from sklearn.neighbors import NearestNeighbors

#: Reference sets at least this large use faiss with ``knn_algorithm="auto"``.
FAISS_MIN_ROWS = 50_000
KNN_ALGORITHMS = ("auto", "sklearn", "faiss")


def _faiss():
    try:
        import faiss
    except ImportError:
        return None
    return faiss


def nearest_neighbours(Z, n_neighbors, algorithm="auto"):
    """A fitted neighbour index over ``Z`` with ``kneighbors(Q)``.

    ``"sklearn"``: :class:`sklearn.neighbors.NearestNeighbors`;
    ``"faiss"``: an exact faiss flat index (float32, BLAS matrix products,
    much faster predictions on large reference sets); ``"auto"``: faiss
    from :data:`FAISS_MIN_ROWS` rows on when it is installed, else
    scikit-learn. Both are exact: they differ only by float32 rounding.
    """
    use_faiss = algorithm == "faiss" or (
        algorithm == "auto" and len(Z) >= FAISS_MIN_ROWS and _faiss() is not None
    )
    if use_faiss:
        return FaissNeighbors(n_neighbors).fit(Z)
    return NearestNeighbors(n_neighbors=n_neighbors).fit(Z)


class FaissNeighbors:
    """Exact Euclidean neighbours from a faiss ``IndexFlatL2``.

    The ``kneighbors`` of :class:`sklearn.neighbors.NearestNeighbors`
    (distances, not squared), computed in float32. Picklable: the index is
    stored as faiss's own byte serialisation.

    Parameters
    ----------
    n_neighbors : int
        Neighbours returned per query.
    """

    def __init__(self, n_neighbors):
        self.n_neighbors = n_neighbors

    def fit(self, Z):
        faiss = _faiss()
        if faiss is None:
            raise ValueError(
                "knn_algorithm='faiss' needs faiss: pip install "
                "'vgestimators[faiss]' (faiss-cpu)."
            )
        Z = np.ascontiguousarray(Z, dtype=np.float32)
        self.index_ = faiss.IndexFlatL2(Z.shape[1])
        self.index_.add(Z)
        return self

    def kneighbors(self, Q):
        Q = np.ascontiguousarray(Q, dtype=np.float32)
        squared, index = self.index_.search(Q, self.n_neighbors)
        return np.sqrt(np.maximum(squared, 0.0)).astype(np.float64), index

    def __getstate__(self):
        state = dict(vars(self))
        if "index_" in state:
            state["index_"] = _faiss().serialize_index(state["index_"])
        return state

    def __setstate__(self, state):
        if "index_" in state:
            state["index_"] = _faiss().deserialize_index(state["index_"])
        vars(self).update(state)
