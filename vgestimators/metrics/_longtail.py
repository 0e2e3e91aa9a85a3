"""Metrics for long-tailed recognition.

Long-tailed benchmarks (OLTR, Liu et al. 2019; decoupling, Kang et al. 2020;
ImageNet-LT, iNaturalist) judge a classifier by its accuracy *per class*,
averaged over groups of classes defined by how many training images each class
had.  The figures here are all built on scikit-learn's per-class recall, so
they agree with :func:`sklearn.metrics.balanced_accuracy_score` by
construction.
"""

import math
import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    recall_score,
)
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._docstrings import substitute

__all__ = [
    "per_class_accuracy",
    "shot_accuracy",
    "tail_accuracy_score",
    "ltr_report",
]

_GROUPS = ("many", "medium", "few")


def _check_predictions(y_true, y_pred):
    """1-D label arrays of equal, non-zero length."""
    y_true = column_or_1d(y_true, warn=True)
    y_pred = column_or_1d(y_pred, warn=True)
    check_consistent_length(y_true, y_pred)
    if y_true.shape[0] == 0:
        raise ValueError("y_true and y_pred are empty: there is nothing to score.")
    return y_true, y_pred


def _check_train_counts(train_counts):
    """Series class -> number of training samples (non-negative integers)."""
    if isinstance(train_counts, Mapping):
        counts = pd.Series(dict(train_counts), dtype=object)
    elif isinstance(train_counts, pd.Series):
        counts = train_counts
    else:  # pragma: no cover - guarded by validate_params
        raise TypeError(
            "train_counts must map class -> number of training samples "
            f"(dict or pandas Series), got {type(train_counts).__name__}."
        )
    hint = (
        "train_counts must map each class to its number of training samples; "
        "to count a vector of training labels use pd.Series(y_train).value_counts()."
    )
    try:
        values = pd.to_numeric(counts, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{hint} Found non-numeric counts.") from exc
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        examples = list(counts.index[bad][:5])
        raise ValueError(
            f"{hint} Counts must be non-negative integers; bad entries for "
            f"classes {examples}."
        )
    if counts.index.has_duplicates:
        dup = list(counts.index[counts.index.duplicated()].unique()[:5])
        raise ValueError(f"train_counts lists classes more than once: {dup}.")
    return pd.Series(values.astype(np.int64), index=counts.index)


def _counts_for(classes, train_counts, stacklevel=3):
    """Training counts of ``classes``; classes without a count get 0 (warned)."""
    counts = _check_train_counts(train_counts)
    present = pd.Index(classes).isin(counts.index)
    if not present.all():
        missing = [c for c, p in zip(classes, present, strict=True) if not p]
        shown = ", ".join(repr(c) for c in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        warnings.warn(
            f"{len(missing)} evaluated class(es) have no training count and are "
            f"treated as having 0 training samples: {shown}{more}. Check that "
            "train_counts uses the same labels as y_true.",
            UserWarning,
            stacklevel=stacklevel,
        )
    out = counts.reindex(pd.Index(classes), fill_value=0).astype(np.int64)
    out.index.name = "class"
    return out


def _check_thresholds(many, few):
    if few > many:
        raise ValueError(
            f"few={few} must not exceed many={many}: classes with more than "
            "`many` training samples are many-shot, those with fewer than `few` "
            "are few-shot."
        )


def _shot_groups(counts, many, few):
    """Group name per class: 'many' (> many), 'few' (< few), else 'medium'."""
    groups = np.where(counts > many, "many", np.where(counts < few, "few", "medium"))
    return pd.Series(groups, index=counts.index, name="group")


def _shot_table(y_true, y_pred, train_counts, many, few):
    """Per-class accuracy, training counts, shot groups and mean per group.

    ``y_true`` and ``y_pred`` are already checked (:func:`_check_predictions`).
    Returns ``(acc, counts, groups, shots)``; ``shots`` is indexed by
    ``_GROUPS`` (NaN for a group without classes).
    """
    acc = _per_class_accuracy(y_true, y_pred)
    # One frame deeper than the public callers: warn at the same place.
    counts = _counts_for(acc.index, train_counts, stacklevel=4)
    groups = _shot_groups(counts, many, few)
    shots = acc.groupby(groups.to_numpy()).mean().reindex(list(_GROUPS))
    return acc, counts, groups, shots


def _rarest(counts, fraction):
    """Boolean mask of the rarest ``ceil(fraction * n)`` classes, ties included."""
    n = len(counts)
    # The small tolerance keeps 0.3 * 10 from becoming 4 through rounding error.
    k = min(n, max(1, math.ceil(fraction * n - 1e-9)))
    cutoff = np.sort(counts.to_numpy())[k - 1]
    return counts <= cutoff


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "labels": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
@substitute
def per_class_accuracy(y_true, y_pred, *, labels=None):
    """Accuracy of each class, i.e. its recall: the share of its samples found.

    Parameters
    ----------
    ${y_true_y_pred}
    labels : array-like, default=None
        Classes to report, in this order.  By default the sorted classes that
        occur in ``y_true``.  A listed class without samples in ``y_true`` has
        no defined accuracy and gets NaN.

    Returns
    -------
    accuracy : pandas.Series
        Indexed by class (index name ``"class"``), named ``"accuracy"``.

    See Also
    --------
    sklearn.metrics.recall_score : Computes the figures (``average=None``).
    shot_accuracy : Averages them over many/medium/few-shot classes.

    Notes
    -----
    The mean of this Series over the classes of ``y_true`` is
    :func:`sklearn.metrics.balanced_accuracy_score`.

    Examples
    --------
    >>> from vgestimators.metrics import per_class_accuracy
    >>> per_class_accuracy(["a", "a", "b", "b", "b", "c"],
    ...                    ["a", "b", "b", "b", "a", "a"])
    class
    a    0.500000
    b    0.666667
    c    0.000000
    Name: accuracy, dtype: float64
    """
    y_true, y_pred = _check_predictions(y_true, y_pred)
    return _per_class_accuracy(y_true, y_pred, labels)


def _per_class_accuracy(y_true, y_pred, labels=None):
    """:func:`per_class_accuracy` of labels already checked."""
    if labels is None:
        labels = np.unique(y_true)
    else:
        labels = column_or_1d(labels)
        if labels.shape[0] == 0:
            raise ValueError("labels is empty: give at least one class.")
        if len(pd.unique(labels)) != len(labels):
            raise ValueError("labels lists a class more than once.")
    with warnings.catch_warnings():
        # Classes absent from y_true are NaN by design; no warning needed.
        warnings.simplefilter("ignore", UserWarning)
        recall = recall_score(
            y_true, y_pred, labels=labels, average=None, zero_division=np.nan
        )
    return pd.Series(
        np.asarray(recall, dtype=float),
        index=pd.Index(labels, name="class"),
        name="accuracy",
    )


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "train_counts": [Mapping, pd.Series],
        "many": [Interval(Real, 0, None, closed="left")],
        "few": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
@substitute
def shot_accuracy(y_true, y_pred, train_counts, many=100, few=20):
    """Many-, medium- and few-shot accuracy, as in the long-tail literature.

    Each class evaluated (each class of ``y_true``) is put in a group by its
    number of training samples ``n``:

    - ``"many"``: ``n > many`` (more than 100 by default);
    - ``"few"``: ``n < few`` (fewer than 20 by default);
    - ``"medium"``: ``few <= n <= many`` (20 to 100 inclusive by default).

    A group's accuracy is the mean per-class accuracy (recall) over its
    classes, so each class counts once however many test samples it has.  This
    is the convention of OLTR (Liu et al., 2019) and the ImageNet-LT /
    iNaturalist benchmarks.

    Parameters
    ----------
    ${y_true_y_pred}
    train_counts : dict or pandas.Series
        Number of training samples per class (class -> count), e.g.
        ``pd.Series(y_train).value_counts()``.  A test class missing from it
        is counted as 0 (few-shot) with a warning.
    ${many_few}

    Returns
    -------
    accuracy : pandas.Series
        Index ``["many", "medium", "few"]``, named ``"accuracy"``.  A group
        without classes gets NaN.

    See Also
    --------
    per_class_accuracy : The per-class figures averaged here.
    ltr_report : All long-tail figures in one table.

    Examples
    --------
    >>> from vgestimators.metrics import shot_accuracy
    >>> y_true = ["head", "head", "mid", "mid", "tail", "tail"]
    >>> y_pred = ["head", "head", "mid", "head", "head", "head"]
    >>> counts = {"head": 500, "mid": 50, "tail": 5}
    >>> shot_accuracy(y_true, y_pred, counts)
    many      1.0
    medium    0.5
    few       0.0
    Name: accuracy, dtype: float64
    """
    _check_thresholds(many, few)
    y_true, y_pred = _check_predictions(y_true, y_pred)
    _, _, _, shots = _shot_table(y_true, y_pred, train_counts, many, few)
    return pd.Series(shots.to_numpy(dtype=float), index=list(_GROUPS), name="accuracy")


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "fraction": [Interval(Real, 0, 1, closed="right")],
        "train_counts": [Mapping, pd.Series, None],
    },
    prefer_skip_nested_validation=True,
)
@substitute
def tail_accuracy_score(y_true, y_pred, *, fraction=0.2, train_counts=None):
    """Mean per-class accuracy over the rarest classes.

    The classes of ``y_true`` are ranked by their number of training samples
    (``train_counts``) or, when that is not given, by their number of samples
    in ``y_true``.  The rarest ``ceil(fraction * n_classes)`` of them (at
    least one) form the tail, and the score is the mean of their per-class
    accuracies (recalls).

    Parameters
    ----------
    ${y_true_y_pred}
    fraction : float in (0, 1], default=0.2
        Share of the classes that counts as the tail.  ``fraction=1`` gives
        the balanced accuracy.
    train_counts : dict or pandas.Series, default=None
        Number of training samples per class (class -> count).  A class of
        ``y_true`` missing from it counts as 0 (with a warning).  By default
        classes are ranked by their frequency in ``y_true``, which matches the
        training ranking when the test set was drawn stratified.

    Returns
    -------
    score : float
        Between 0 and 1; higher is better.

    See Also
    --------
    make_tail_accuracy_scorer : The same figure as a scorer for model selection.
    shot_accuracy : Accuracy over fixed many/medium/few-shot groups.

    Notes
    -----
    Ties: every class whose count equals that of the last class taken is also
    taken, so the tail can hold more than ``ceil(fraction * n_classes)``
    classes (with a balanced ``y_true`` and no ``train_counts`` it holds them
    all).  The result therefore never depends on the order of labels.

    Examples
    --------
    >>> from vgestimators.metrics import tail_accuracy_score
    >>> y_true = ["a"] * 6 + ["b"] * 3 + ["c"] * 1
    >>> y_pred = ["a"] * 6 + ["b", "b", "a"] + ["a"]
    >>> tail_accuracy_score(y_true, y_pred, fraction=0.2)  # tail = {"c"}
    0.0
    >>> round(tail_accuracy_score(y_true, y_pred, fraction=0.5), 4)  # {"b", "c"}
    0.3333
    """
    acc = per_class_accuracy(y_true, y_pred)
    if train_counts is None:
        y_true = column_or_1d(y_true)
        counts = pd.Series(y_true).value_counts().reindex(acc.index)
    else:
        counts = _counts_for(acc.index, train_counts)
    tail = _rarest(counts, fraction)
    return float(acc[tail.to_numpy()].mean())


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "y_train": ["array-like"],
        "many": [Interval(Real, 0, None, closed="left")],
        "few": [Interval(Real, 0, None, closed="left")],
        "tail_fraction": [Interval(Real, 0, 1, closed="right")],
        "name": [str, Integral, None],
    },
    prefer_skip_nested_validation=True,
)
@substitute
def ltr_report(
    y_true, y_pred, y_train, *, many=100, few=20, tail_fraction=0.2, name=None
):
    """All the long-tailed recognition figures of one model, as a table row.

    Parameters
    ----------
    ${y_true_y_pred}
    y_train : array-like of shape (n_train_samples,)
        Class labels of the *training* samples; their counts define the
        many/medium/few-shot groups and the rarest classes.
    ${many_few}
    tail_fraction : float in (0, 1], default=0.2
        Share of the evaluated classes, rarest in training, whose mean
        accuracy is reported as ``tail_accuracy``.
    name : str or int, default=None
        Row label (e.g. the model's name); ``None`` gives ``0``.  Rows of
        several models join with :func:`pandas.concat`.

    Returns
    -------
    report : pandas.DataFrame
        One row with columns ``accuracy``, ``balanced_accuracy``,
        ``f1_macro``, ``many_shot``, ``medium_shot``, ``few_shot``,
        ``tail_accuracy`` (floats; a shot group without classes is NaN) and
        the number of evaluated classes in each group: ``n_many``,
        ``n_medium``, ``n_few``, ``n_tail`` (integers).

    See Also
    --------
    sklearn.metrics.balanced_accuracy_score, sklearn.metrics.f1_score
    shot_accuracy, tail_accuracy_score

    Notes
    -----
    ``accuracy`` counts samples; every other figure averages over classes.
    ``f1_macro`` is :func:`sklearn.metrics.f1_score` with
    ``average="macro"`` over the classes of ``y_true`` and ``y_pred``
    (``zero_division=0``), the same figure as the ``"f1_macro"`` scorer.
    Groups and the tail are taken among the classes present in ``y_true``.

    Examples
    --------
    >>> from vgestimators.metrics import ltr_report
    >>> y_train = ["head"] * 150 + ["mid"] * 40 + ["tail"] * 4
    >>> y_true = ["head"] * 4 + ["mid"] * 2 + ["tail"] * 2
    >>> y_pred = ["head"] * 4 + ["mid", "head"] + ["tail", "head"]
    >>> report = ltr_report(y_true, y_pred, y_train, tail_fraction=0.3)
    >>> report[["accuracy", "balanced_accuracy", "few_shot", "n_few"]]
       accuracy  balanced_accuracy  few_shot  n_few
    0      0.75           0.666667       0.5      1
    """
    _check_thresholds(many, few)
    y_true, y_pred = _check_predictions(y_true, y_pred)
    y_train = column_or_1d(y_train, warn=True)
    if y_train.shape[0] == 0:
        raise ValueError("y_train is empty: the shot groups need training labels.")
    train_counts = pd.Series(y_train).value_counts()

    acc, counts, groups, shots = _shot_table(y_true, y_pred, train_counts, many, few)
    sizes = groups.value_counts().reindex(list(_GROUPS), fill_value=0)
    tail = _rarest(counts, tail_fraction)

    row = {
        "accuracy": accuracy_score(y_true, y_pred),
        "balanced_accuracy": balanced_accuracy_score(y_true, y_pred),
        "f1_macro": f1_score(y_true, y_pred, average="macro", zero_division=0),
        "many_shot": shots["many"],
        "medium_shot": shots["medium"],
        "few_shot": shots["few"],
        "tail_accuracy": acc[tail.to_numpy()].mean(),
    }
    row = {key: float(value) for key, value in row.items()}
    row.update(
        n_many=int(sizes["many"]),
        n_medium=int(sizes["medium"]),
        n_few=int(sizes["few"]),
        n_tail=int(tail.sum()),
    )
    return pd.DataFrame([row], index=[0 if name is None else name])
