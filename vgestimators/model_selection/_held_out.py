"""Splits that hold whole species out of training (zero-shot testing)."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import column_or_1d

from ..utils._random import derive_seed
from ..utils._warnings import warn_user
from ._split import _LabelledSplitter, long_tail_split


class HeldOutSpeciesSplit(_LabelledSplitter):
    """Long-tail splits that also hold a few species out of training.

    In each split, ``n_unseen`` species are drawn (never among the most
    frequent quarter of species) and all their images go to the test set:
    a model can only name them from other knowledge (their DNA), which is
    the generalized zero-shot setting. The images of the other species are
    split as by :func:`long_tail_split` (stratified, so the test set keeps
    the long tail), or, with ``test_pool``, the pooled images are their
    test set and all their other images train (a balanced test set, as
    long-tailed recognition is evaluated).

    The held-out species of a split are those of its test images that are
    absent from its training images: ``np.setdiff1d(y[test], y[train])``.

    Read more in the :ref:`User Guide <zero_shot>`.

    Parameters
    ----------
    n_splits : int, default=3
        Number of splits.
    n_unseen : int, default=2
        Species held out of training in each split (0: none, plain
        long-tail splits).
    test_size : float in (0, 1) or int, default=0.25
        Test share of each seen species (see :func:`long_tail_split`); not
        used with ``test_pool``.
    test_pool : array-like of bool of shape (n_samples,), default=None
        Images set aside for testing (e.g. a balanced test set): never
        trained on. The held-out species are drawn among the classes of
        the other images, and only their pooled images are tested. The test
        sets are then balanced, so tail scores must rank classes by their
        training counts: ``make_tail_accuracy_scorer(train_counts=...)``
        (see :func:`~vgestimators.metrics.tail_accuracy_score`).
    random_state : int, RandomState instance or None, default=None
        Split ``k`` draws with seed ``random_state + k``, so a run with
        ``n_splits=1`` and ``random_state=s + k`` gives split ``k`` (a
        RandomState instance or None: the first seed is drawn from it, per
        call of ``split``).

    See Also
    --------
    LongTailSplit : Long-tail splits without held-out species.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.model_selection import HeldOutSpeciesSplit
    >>> y = np.repeat(["a", "b", "c", "d", "e"], [20, 10, 6, 4, 3])
    >>> cv = HeldOutSpeciesSplit(n_splits=2, n_unseen=1, random_state=0)
    >>> for train, test in cv.split(np.zeros(len(y)), y):
    ...     print(np.setdiff1d(y[test], y[train]).tolist(), len(train), len(test))
    ['e'] 30 13
    ['c'] 28 15
    """

    _parameter_constraints = {
        "n_splits": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_unseen": [Interval(numbers.Integral, 0, None, closed="left")],
        "test_size": [
            Interval(numbers.Real, 0, 1, closed="neither"),
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "test_pool": ["array-like", None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_splits=3,
        *,
        n_unseen=2,
        test_size=0.25,
        test_pool=None,
        random_state=None,
    ):
        self.n_splits = n_splits
        self.n_unseen = n_unseen
        self.test_size = test_size
        self.test_pool = test_pool
        self.random_state = random_state

    def _splits(self, y):
        pool = self._pool(len(y))
        classes, counts = np.unique(y[~pool], return_counts=True)
        # Candidates: not the head quarter, so that the seen classes keep the
        # head, and only classes with an image outside the pool (and, with a
        # pool, in it too: a held-out species must have test images).
        order = np.argsort(-counts, kind="stable")
        candidates = classes[order[max(1, len(classes) // 4) :]]
        if self.test_pool is not None:
            candidates = candidates[np.isin(candidates, y[pool])]
            pool_only = np.setdiff1d(y[pool], classes)
            if len(pool_only):
                warn_user(
                    f"species {pool_only.tolist()} have images only in test_pool: "
                    "they are never trained on, so every split tests them as "
                    "held-out species (besides the n_unseen drawn ones)."
                )
        if self.n_unseen and len(classes) - self.n_unseen < 2:
            raise ValueError(
                f"n_unseen={self.n_unseen} leaves fewer than 2 species to train "
                f"on (there are {len(classes)})."
            )
        if self.n_unseen > len(candidates):
            raise ValueError(
                f"n_unseen={self.n_unseen} is more than the {len(candidates)} "
                "species outside the most frequent quarter"
                + (
                    " that have test_pool images."
                    if self.test_pool is not None
                    else "."
                )
            )
        start = (
            int(self.random_state)
            if isinstance(self.random_state, numbers.Integral)
            else derive_seed(self.random_state)
        )
        for k in range(self.n_splits):
            yield self._one_split(y, pool, candidates, start + k)

    def _pool(self, n_samples):
        if self.test_pool is None:
            return np.zeros(n_samples, dtype=bool)
        pool = column_or_1d(self.test_pool)
        if len(pool) != n_samples or pool.dtype.kind != "b":
            raise ValueError(
                "test_pool must be a boolean mask, one entry per sample; got "
                f"{len(pool)} entries of dtype {pool.dtype} for {n_samples} samples."
            )
        return pool

    def _one_split(self, y, pool, candidates, seed):
        rng = np.random.default_rng(seed)
        unseen_species = (
            rng.choice(candidates, size=self.n_unseen, replace=False)
            if self.n_unseen
            else []
        )
        is_unseen = np.isin(y, unseen_species)
        if self.test_pool is not None:
            train = np.flatnonzero(~is_unseen & ~pool)
            test = np.flatnonzero(pool)
            return train, test
        seen = np.flatnonzero(~is_unseen)
        train, test = long_tail_split(
            y[seen], strategy="stratified", test_size=self.test_size, random_state=seed
        )
        train = seen[np.asarray(train)]
        test = np.union1d(seen[np.asarray(test)], np.flatnonzero(is_unseen))
        return train, test
