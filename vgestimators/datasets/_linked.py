"""Constructed embeddings in which images follow DNA: the alignment's premise."""

import numpy as np
from sklearn.utils import Bunch, check_random_state


def make_linked_embeddings(
    *,
    n_head=16,
    n_tail=8,
    n_zero=3,
    n_head_train=40,
    n_tail_train=2,
    n_test=30,
    d_anchor=8,
    d_visual=32,
    noise=1.0,
    random_state=None,
):
    """Gaussian visual embeddings whose class means are a linear map of anchors.

    The setting in which genetic alignment must work: every species has a
    Gaussian anchor ``a_c`` (its "DNA"), and its images are Gaussian around
    ``a_c @ M`` for one fixed random matrix ``M``. Head species have many
    training images, tail species very few, and zero-shot species an anchor
    but no training image at all. Use it to check a visual-genetic method
    against plain k-NN before trusting it on real data.

    Parameters
    ----------
    n_head, n_tail, n_zero : int, default=16, 8, 3
        Number of head, tail and zero-shot species.
    n_head_train, n_tail_train : int, default=40, 2
        Training images per head and per tail species.
    n_test : int, default=30
        Test images of every species (zero-shot ones included).
    d_anchor, d_visual : int, default=8, 32
        Dimensions of the anchors and of the visual embeddings.
    noise : float, default=1.0
        Standard deviation of the visual noise around each class mean.
    random_state : int, RandomState instance or None, default=None
        Seed of the anchors, the map and the noise.

    Returns
    -------
    data : Bunch
        ``X_train``, ``y_train``, ``X_test``, ``y_test`` (class labels are
        integers: head species first, then tail, then zero-shot),
        ``anchors`` (dict label -> anchor vector, for every species) and
        ``group`` (``"head"``, ``"tail"`` or ``"zero"`` for each test sample).

    Examples
    --------
    >>> from vgestimators.datasets import make_linked_embeddings
    >>> data = make_linked_embeddings(random_state=0)
    >>> data.X_train.shape, data.X_test.shape, len(data.anchors)
    ((656, 32), (810, 32), 27)
    """
    rng = check_random_state(random_state)
    n_classes = n_head + n_tail + n_zero
    A = rng.normal(size=(n_classes, d_anchor))
    M = rng.normal(size=(d_anchor, d_visual)) / np.sqrt(d_anchor)
    means = A @ M
    counts = [n_head_train] * n_head + [n_tail_train] * n_tail + [0] * n_zero
    y_train = np.repeat(np.arange(n_classes), counts)
    y_test = np.repeat(np.arange(n_classes), n_test)
    X_train = means[y_train] + noise * rng.normal(size=(len(y_train), d_visual))
    X_test = means[y_test] + noise * rng.normal(size=(len(y_test), d_visual))
    groups = np.full(n_classes, "head", dtype=object)
    groups[n_head : n_head + n_tail] = "tail"
    groups[n_head + n_tail :] = "zero"
    return Bunch(
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        anchors={c: A[c] for c in range(n_classes)},
        group=groups[y_test],
    )
