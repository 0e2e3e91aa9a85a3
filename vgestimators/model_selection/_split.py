"""Train/test splits of long-tailed data: stratified or balanced test set."""

import numbers

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from sklearn.utils.validation import column_or_1d

_CONSTRAINTS = {
    "strategy": [StrOptions({"stratified", "balanced"})],
    "test_size": [
        Interval(numbers.Real, 0, 1, closed="neither"),
        Interval(numbers.Integral, 1, None, closed="left"),
    ],
    "n_test_per_class": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "random_state": ["random_state"],
}


def _label(value):
    """A label as a plain Python object, for error messages."""
    return value.item() if isinstance(value, np.generic) else value


def _test_counts(classes, counts, strategy, test_size, n_test_per_class):
    """Number of test samples per class, with clear errors when impossible."""
    n_samples = counts.sum()
    if isinstance(test_size, numbers.Integral):
        if test_size >= n_samples:
            raise ValueError(
                f"test_size={test_size} must be smaller than the number of "
                f"samples ({n_samples})."
            )
        fraction = test_size / n_samples
    else:
        fraction = float(test_size)

    if strategy == "stratified":
        if n_test_per_class is not None:
            raise ValueError(
                "n_test_per_class applies to strategy='balanced' only; use "
                "test_size with strategy='stratified'."
            )
        # Each class gives its share (at least one sample when it has two or
        # more), and always keeps one for training.
        n_test = np.round(fraction * counts).astype(int)
        n_test = np.clip(n_test, np.where(counts >= 2, 1, 0), counts - 1)
        return n_test

    # balanced: the same number of test samples in every class
    min_count = counts.min()
    if n_test_per_class is None:
        if min_count < 2:
            rare = classes[counts < 2]
            raise ValueError(
                "A balanced test set needs at least 2 samples in every class (one "
                f"for testing, one for training); class {_label(rare[0])!r} has "
                f"{min_count} ({len(rare)} such class(es))."
            )
        share = int(np.floor(fraction * n_samples / len(classes)))
        per_class = int(np.clip(share, 1, min_count - 1))
    else:
        per_class = int(n_test_per_class)
        short = counts <= per_class
        if short.any():
            worst = np.argmin(counts)
            raise ValueError(
                f"n_test_per_class={per_class} leaves no training sample for "
                f"{short.sum()} class(es); e.g. class {_label(classes[worst])!r} has only "
                f"{counts[worst]} samples. Use n_test_per_class <= {min_count - 1} "
                "or strategy='stratified'."
            )
    return np.full(len(classes), per_class)


def _prepare(y, strategy, test_size, n_test_per_class):
    """The part of a split that depends on ``y`` only (no randomness)."""
    y = column_or_1d(y, warn=True)
    if y.shape[0] < 2:
        raise ValueError(f"Need at least 2 samples to split; got {y.shape[0]}.")
    classes, y_idx, counts = np.unique(y, return_inverse=True, return_counts=True)
    n_test = _test_counts(classes, counts, strategy, test_size, n_test_per_class)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    # Rank within its class of each position of the class-sorted order.
    within = np.arange(len(y)) - np.repeat(start, counts)
    return y_idx, within, n_test[y_idx]


def _draw(y_idx, within, n_test_of, rng):
    """One random split of data prepared by :func:`_prepare`."""
    n = len(y_idx)
    # Random order within each class: sort by (class, random key).
    order = np.lexsort((rng.random(n), y_idx))
    rank = np.empty(n, dtype=np.intp)
    rank[order] = within
    is_test = rank < n_test_of
    if not is_test.any():
        raise ValueError(
            "The split leaves no test sample: every class has a single sample. "
            "Use more samples per class."
        )
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


@validate_params(
    {"y": ["array-like"], **_CONSTRAINTS}, prefer_skip_nested_validation=True
)
def long_tail_split(
    y, *, strategy="stratified", test_size=0.2, n_test_per_class=None, random_state=None
):
    """Split a long-tailed labelled set into train and test indices.

    Two protocols of the long-tail literature:

    - ``"stratified"`` keeps the class imbalance in both parts (each class
      gives ``test_size`` of its samples, rounded), like the split of the
      visual-genetic paper;
    - ``"balanced"`` draws the same number of test samples from every class
      and leaves the long tail to the training set, like ImageNet-LT.

    In both, every class keeps at least one training sample, and with
    ``"stratified"`` every class of two or more samples gets at least one
    test sample.

    Read more in the :ref:`User Guide <data_synthetic>`.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    strategy : {"stratified", "balanced"}, default="stratified"
        Which protocol to follow.
    test_size : float in (0, 1) or int, default=0.2
        Fraction (float) or number (int) of samples to put in the test set.
        With ``"balanced"`` and ``n_test_per_class=None`` it sets the test
        samples per class to ``floor(test_size * n_samples / n_classes)``,
        capped so that the rarest class keeps one training sample.
    n_test_per_class : int, default=None
        Test samples per class for ``"balanced"`` (overrides ``test_size``).
        An error is raised if any class has no more samples than this.
    random_state : int, RandomState instance or None, default=None
        Seed of the random choice within each class.

    Returns
    -------
    train_index, test_index : ndarray of int
        Sorted positions of the training and test samples.

    See Also
    --------
    LongTailSplit : Repeated long-tail splits as a cross-validator.
    HeldOutSpeciesSplit : Splits that also hold species out of training.
    vgestimators.datasets.make_forams : A synthetic long-tailed data set.

    Notes
    -----
    A class with a single sample goes to the training set in ``"stratified"``
    mode; ``"balanced"`` mode needs two samples in every class.

    Examples
    --------
    >>> from vgestimators.model_selection import long_tail_split
    >>> y = ["a"] * 10 + ["b"] * 5 + ["c"] * 2
    >>> train, test = long_tail_split(y, random_state=0)
    >>> np.unique(np.asarray(y)[test], return_counts=True)[1].tolist()
    [2, 1, 1]
    >>> train, test = long_tail_split(y, strategy="balanced", random_state=0)
    >>> np.unique(np.asarray(y)[test], return_counts=True)[1].tolist()
    [1, 1, 1]
    """
    rng = check_random_state(random_state)
    return _draw(*_prepare(y, strategy, test_size, n_test_per_class), rng)


class _LabelledSplitter(BaseCrossValidator):
    """Base of the splitters here: parameter checks, labels, ``n_splits``."""

    def _check(self, X, y):
        """Validate the parameters and ``y``; returns ``y`` as a 1-D array."""
        params = {name: getattr(self, name) for name in self._parameter_constraints}
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )
        if y is None:
            raise ValueError(f"{type(self).__name__}.split needs the class labels y.")
        y = column_or_1d(y, warn=True)
        if len(X) != len(y):
            raise ValueError(f"X and y have different lengths: {len(X)} and {len(y)}.")
        return y

    def split(self, X, y=None, groups=None):
        """Generate train and test indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Data; only its length is used.
        y : array-like of shape (n_samples,)
            Class (species) labels.
        groups : None
            Ignored, present for API consistency.

        Yields
        ------
        train, test : ndarray of int
            Sorted indices of each split.
        """
        y = self._check(X, y)
        yield from self._splits(y)

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits (``n_splits``).

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API consistency.

        Returns
        -------
        n_splits : int
            The number of splits.
        """
        return self.n_splits


class LongTailSplit(_LabelledSplitter):
    """Repeated random long-tail train/test splits, as a cross-validator.

    Each split is drawn as by :func:`long_tail_split`, so ``GridSearchCV`` and
    ``cross_validate`` can score on splits that keep every class in training
    (stratified) or test on a balanced set (balanced). Like
    :class:`~sklearn.model_selection.StratifiedShuffleSplit`, test sets of
    different splits may overlap.

    Read more in the :ref:`User Guide <data_synthetic>`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of splits.
    strategy : {"stratified", "balanced"}, default="stratified"
        See :func:`long_tail_split`.
    test_size : float in (0, 1) or int, default=0.2
        See :func:`long_tail_split`.
    n_test_per_class : int, default=None
        See :func:`long_tail_split`.
    random_state : int, RandomState instance or None, default=None
        Seed; an int gives the same splits on every call of ``split``.

    See Also
    --------
    long_tail_split : One split as index arrays.

    Examples
    --------
    >>> from vgestimators.model_selection import LongTailSplit
    >>> y = np.repeat([0, 1, 2], [12, 4, 2])
    >>> cv = LongTailSplit(n_splits=3, strategy="balanced", random_state=0)
    >>> [np.bincount(y[test]).tolist() for _, test in cv.split(np.zeros(18), y)]
    [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
    """

    _parameter_constraints = {
        "n_splits": [Interval(numbers.Integral, 1, None, closed="left")],
        **_CONSTRAINTS,
    }

    def __init__(
        self,
        n_splits=5,
        *,
        strategy="stratified",
        test_size=0.2,
        n_test_per_class=None,
        random_state=None,
    ):
        self.n_splits = n_splits
        self.strategy = strategy
        self.test_size = test_size
        self.n_test_per_class = n_test_per_class
        self.random_state = random_state

    def _splits(self, y):
        rng = check_random_state(self.random_state)
        prepared = _prepare(y, self.strategy, self.test_size, self.n_test_per_class)
        for _ in range(self.n_splits):
            yield _draw(*prepared, rng)
