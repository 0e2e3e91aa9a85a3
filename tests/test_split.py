"""Tests of long_tail_split and LongTailSplit."""

import pickle
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate

from vgestimators.model_selection import LongTailSplit, long_tail_split


def _long_tail_labels(counts):
    return np.repeat([f"class {i}" for i in range(len(counts))], counts)


def _per_class(y, index):
    classes, counts = np.unique(y[index], return_counts=True)
    return dict(zip(classes, counts, strict=True))


def _check_partition(y, train, test):
    assert train.dtype.kind == "i" and test.dtype.kind == "i"
    assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
    assert len(np.intersect1d(train, test)) == 0
    assert len(train) + len(test) == len(y)
    # every class keeps at least one training sample
    assert set(y[train]) == set(y)


def test_stratified_keeps_the_imbalance():
    counts = [100, 50, 20, 10, 5, 2]
    y = _long_tail_labels(counts)
    train, test = long_tail_split(y, test_size=0.2, random_state=0)
    _check_partition(y, train, test)
    n_test = _per_class(y, test)
    assert [n_test[f"class {i}"] for i in range(6)] == [20, 10, 4, 2, 1, 1]


def test_stratified_single_sample_class_goes_to_train():
    y = _long_tail_labels([10, 4, 1])
    train, test = long_tail_split(y, random_state=0)
    _check_partition(y, train, test)
    assert "class 2" not in set(y[test])


def test_balanced_gives_equal_test_counts():
    y = _long_tail_labels([100, 50, 20, 10, 6])
    train, test = long_tail_split(
        y, strategy="balanced", n_test_per_class=5, random_state=0
    )
    _check_partition(y, train, test)
    assert set(_per_class(y, test).values()) == {5}
    assert _per_class(y, train)["class 4"] == 1


def test_balanced_default_uses_test_size_capped_by_rarest_class():
    y = _long_tail_labels([100, 50, 20, 10, 6])
    # 0.2 * 186 / 5 = 7.4 -> 7, capped at 6 - 1 = 5
    _, test = long_tail_split(y, strategy="balanced", random_state=0)
    assert set(_per_class(y, test).values()) == {5}
    # 0.05 * 186 / 5 = 1.86 -> 1
    _, test = long_tail_split(y, strategy="balanced", test_size=0.05, random_state=0)
    assert set(_per_class(y, test).values()) == {1}


def test_int_test_size_and_determinism():
    y = _long_tail_labels([60, 30, 10])
    a = long_tail_split(y, test_size=20, random_state=1)
    b = long_tail_split(y, test_size=20, random_state=1)
    c = long_tail_split(y, test_size=20, random_state=2)
    assert len(a[1]) == 20
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[1], c[1])


def test_split_is_random_within_classes():
    y = _long_tail_labels([200])
    seen = np.zeros(200)
    for seed in range(30):
        _, test = long_tail_split(y, random_state=seed)
        seen[test] += 1
    assert (seen > 0).mean() > 0.95  # not always the first samples


@pytest.mark.parametrize(
    "y, kwargs, message",
    [
        (
            _long_tail_labels([10, 3]),
            {"strategy": "balanced", "n_test_per_class": 3},
            "n_test_per_class=3 leaves no training sample for 1 class(es); "
            "e.g. class 'class 1' has only 3 samples",
        ),
        (
            _long_tail_labels([10, 1]),
            {"strategy": "balanced"},
            "class 'class 1' has 1",
        ),
        (
            _long_tail_labels([10, 5]),
            {"n_test_per_class": 2},
            "strategy='balanced' only",
        ),
        (_long_tail_labels([10, 5]), {"test_size": 15}, "test_size=15 must be smaller"),
        (_long_tail_labels([10, 5]), {"test_size": 1.5}, "'test_size' parameter"),
        (_long_tail_labels([10, 5]), {"strategy": "ordered"}, "'strategy' parameter"),
        (np.array(["a", "b", "c"]), {}, "every class has a single sample"),
        (np.array(["a"]), {}, "at least 2 samples"),
    ],
)
def test_errors(y, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        long_tail_split(y, **kwargs)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(2, 40), min_size=2, max_size=8),
    test_size=st.floats(0.05, 0.6),
    strategy=st.sampled_from(["stratified", "balanced"]),
    seed=st.integers(0, 2**16),
)
def test_properties(counts, test_size, strategy, seed):
    y = _long_tail_labels(counts)
    train, test = long_tail_split(
        y, strategy=strategy, test_size=test_size, random_state=seed
    )
    _check_partition(y, train, test)
    n_test = _per_class(y, test)
    assert set(n_test) == set(y)  # every class (>= 2 samples) is tested
    if strategy == "balanced":
        assert len(set(n_test.values())) == 1
    else:
        for i, c in enumerate(counts):
            expected = min(max(round(test_size * c), 1), c - 1)
            assert n_test[f"class {i}"] == expected


# --- LongTailSplit --------------------------------------------------------------------


def test_cv_splits_are_repeatable_and_differ():
    y = _long_tail_labels([30, 12, 4])
    x = np.zeros((len(y), 1))
    cv = LongTailSplit(n_splits=4, strategy="balanced", random_state=0)
    first = list(cv.split(x, y))
    again = list(cv.split(x, y))
    assert cv.get_n_splits() == len(first) == 4
    for (tr1, te1), (_, te2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(te1, te2)
        _check_partition(y, tr1, te1)
        assert set(_per_class(y, te1).values()) == {3}
    assert len({tuple(te) for _, te in first}) == 4
    assert "LongTailSplit(" in repr(cv) and "strategy='balanced'" in repr(cv)
    restored = pickle.loads(pickle.dumps(cv))
    assert [te.tolist() for _, te in restored.split(x, y)] == [
        te.tolist() for _, te in first
    ]


def test_cv_in_cross_validate_and_grid_search():
    rng = np.random.default_rng(0)
    y = _long_tail_labels([60, 20, 6])
    centers = {"class 0": 0.0, "class 1": 8.0, "class 2": 16.0}
    x = np.array([centers[c] for c in y])[:, None] + rng.normal(size=(len(y), 1))
    cv = LongTailSplit(n_splits=3, strategy="balanced", random_state=0)
    scores = cross_validate(
        LogisticRegression(), x, y, cv=cv, scoring="balanced_accuracy"
    )
    assert len(scores["test_score"]) == 3 and scores["test_score"].mean() > 0.8
    search = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0]}, cv=cv).fit(x, y)
    assert search.n_splits_ == 3


def test_cv_errors():
    y = _long_tail_labels([10, 3])
    with pytest.raises(ValueError, match="'n_splits' parameter of LongTailSplit"):
        next(LongTailSplit(n_splits=0).split(np.zeros(13), y))
    with pytest.raises(ValueError, match="needs the class labels"):
        next(LongTailSplit().split(np.zeros(13)))
    with pytest.raises(ValueError, match="different lengths"):
        next(LongTailSplit().split(np.zeros(5), y))
