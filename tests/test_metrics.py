"""Long-tail metrics and scorers against values worked out by hand."""

import pickle
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils._param_validation import InvalidParameterError

from vgestimators.metrics import (
    LTR_SCORING,
    ltr_report,
    make_tail_accuracy_scorer,
    per_class_accuracy,
    shot_accuracy,
    tail_accuracy_score,
    tail_accuracy_scorer,
)

# Worked example.  Per class (correct / samples):
#   a: 3/4, b: 1/2, c: 1/3, d: 0/1
# accuracy = 5/10; balanced accuracy = (3/4 + 1/2 + 1/3 + 0) / 4 = 19/48.
# F1: a: P=3/7 R=3/4 -> 6/11; b: P=1/2 R=1/2 -> 1/2; c: P=1 R=1/3 -> 1/2;
#     d: no prediction -> 0; macro = (6/11 + 1/2 + 1/2 + 0) / 4 = 17/44.
Y_TRUE = ["a", "a", "a", "a", "b", "b", "c", "c", "c", "d"]
Y_PRED = ["a", "a", "a", "b", "b", "a", "c", "a", "a", "a"]
RECALL = {"a": Fraction(3, 4), "b": Fraction(1, 2), "c": Fraction(1, 3), "d": 0}
# b sits exactly on many=100 and c exactly on few=20: both are medium-shot.
TRAIN_COUNTS = {"a": 500, "b": 100, "c": 20, "d": 3}
Y_TRAIN = [k for k, n in TRAIN_COUNTS.items() for _ in range(n)]


def approx(x):
    return pytest.approx(float(x), abs=1e-12)


def test_per_class_accuracy_by_hand():
    acc = per_class_accuracy(Y_TRUE, Y_PRED)
    assert list(acc.index) == ["a", "b", "c", "d"]
    assert acc.index.name == "class" and acc.name == "accuracy"
    for cls, value in RECALL.items():
        assert acc[cls] == approx(value)
    assert acc.mean() == approx(balanced_accuracy_score(Y_TRUE, Y_PRED))


def test_per_class_accuracy_labels_order_and_absent_class():
    acc = per_class_accuracy(Y_TRUE, Y_PRED, labels=["d", "zzz", "a"])
    assert list(acc.index) == ["d", "zzz", "a"]
    assert acc["d"] == 0 and acc["a"] == approx(RECALL["a"])
    assert np.isnan(acc["zzz"])


def test_per_class_accuracy_integer_labels():
    acc = per_class_accuracy(np.array([2, 2, 7, 7, 7]), np.array([2, 7, 7, 7, 2]))
    assert list(acc.index) == [2, 7]
    assert acc[2] == approx(Fraction(1, 2)) and acc[7] == approx(Fraction(2, 3))


def test_per_class_accuracy_bad_input():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        per_class_accuracy(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="empty"):
        per_class_accuracy([], [])
    with pytest.raises(ValueError, match="more than once"):
        per_class_accuracy(["a"], ["a"], labels=["a", "a"])


def test_shot_accuracy_by_hand_and_boundaries():
    shots = shot_accuracy(Y_TRUE, Y_PRED, TRAIN_COUNTS, many=100, few=20)
    assert list(shots.index) == ["many", "medium", "few"]
    assert shots["many"] == approx(RECALL["a"])
    assert shots["medium"] == approx((RECALL["b"] + RECALL["c"]) / 2)
    assert shots["few"] == 0.0
    # Moving the thresholds moves b into many-shot and c into few-shot.
    shots = shot_accuracy(Y_TRUE, Y_PRED, pd.Series(TRAIN_COUNTS), many=99, few=21)
    assert shots["many"] == approx((RECALL["a"] + RECALL["b"]) / 2)
    assert np.isnan(shots["medium"])  # empty group
    assert shots["few"] == approx((RECALL["c"] + 0) / 2)


def test_shot_accuracy_missing_class_counts_as_zero_with_warning():
    counts = {"a": 500, "b": 100, "c": 20}
    with pytest.warns(UserWarning, match="no training count.*'d'"):
        shots = shot_accuracy(Y_TRUE, Y_PRED, counts)
    assert shots["few"] == 0.0


def test_shot_accuracy_bad_parameters():
    with pytest.raises(ValueError, match="few=50 must not exceed many=10"):
        shot_accuracy(Y_TRUE, Y_PRED, TRAIN_COUNTS, many=10, few=50)
    with pytest.raises(InvalidParameterError, match="train_counts"):
        shot_accuracy(Y_TRUE, Y_PRED, Y_TRAIN)  # labels, not counts
    with pytest.raises(ValueError, match="non-negative integers.*'b'"):
        shot_accuracy(Y_TRUE, Y_PRED, {"a": 5, "b": -1, "c": 1, "d": 1})
    with pytest.raises(ValueError, match="non-numeric"):
        shot_accuracy(Y_TRUE, Y_PRED, pd.Series(["x", "y"], index=["a", "b"]))


def test_tail_accuracy_by_train_counts():
    # Rarest in training: d (3), then c (20), b (100), a (500).
    assert tail_accuracy_score(
        Y_TRUE, Y_PRED, fraction=0.25, train_counts=TRAIN_COUNTS
    ) == approx(0)
    assert tail_accuracy_score(
        Y_TRUE, Y_PRED, fraction=0.5, train_counts=TRAIN_COUNTS
    ) == approx((RECALL["c"] + RECALL["d"]) / 2)
    # ceil(0.3 * 4) = 2 classes.
    assert tail_accuracy_score(
        Y_TRUE, Y_PRED, fraction=0.3, train_counts=TRAIN_COUNTS
    ) == approx((RECALL["c"] + RECALL["d"]) / 2)
    assert tail_accuracy_score(
        Y_TRUE, Y_PRED, fraction=1.0, train_counts=TRAIN_COUNTS
    ) == approx(balanced_accuracy_score(Y_TRUE, Y_PRED))


def test_tail_accuracy_by_test_counts_and_ties():
    # Test counts: a 4, b 2, c 3, d 1 -> rarest two are d and b.
    assert tail_accuracy_score(Y_TRUE, Y_PRED, fraction=0.5) == approx(
        (RECALL["d"] + RECALL["b"]) / 2
    )
    # Ties at the cut are all taken: b and d both have 1 training image.
    counts = {"a": 9, "b": 1, "c": 5, "d": 1}
    assert tail_accuracy_score(
        Y_TRUE, Y_PRED, fraction=0.25, train_counts=counts
    ) == approx((RECALL["b"] + RECALL["d"]) / 2)
    # The labels' order does not matter.
    renamed = {"a": "z", "b": "y", "c": "x", "d": "w"}
    yt = [renamed[v] for v in Y_TRUE]
    yp = [renamed[v] for v in Y_PRED]
    assert tail_accuracy_score(
        yt, yp, fraction=0.25, train_counts={renamed[k]: v for k, v in counts.items()}
    ) == approx((RECALL["b"] + RECALL["d"]) / 2)


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5])
def test_tail_accuracy_fraction_validated(fraction):
    with pytest.raises(InvalidParameterError, match="fraction"):
        tail_accuracy_score(Y_TRUE, Y_PRED, fraction=fraction)
    with pytest.raises(InvalidParameterError, match="fraction"):
        make_tail_accuracy_scorer(fraction)


def test_ltr_report_by_hand():
    report = ltr_report(Y_TRUE, Y_PRED, Y_TRAIN, tail_fraction=0.25, name="model")
    assert list(report.index) == ["model"]
    row = report.loc["model"]
    assert row["accuracy"] == approx(Fraction(1, 2))
    assert row["balanced_accuracy"] == approx(Fraction(19, 48))
    assert row["f1_macro"] == approx(Fraction(17, 44))
    assert row["many_shot"] == approx(RECALL["a"])
    assert row["medium_shot"] == approx((RECALL["b"] + RECALL["c"]) / 2)
    assert row["few_shot"] == 0.0
    assert row["tail_accuracy"] == 0.0
    assert (row["n_many"], row["n_medium"], row["n_few"], row["n_tail"]) == (1, 2, 1, 1)
    assert report["n_many"].dtype.kind == "i"


def test_ltr_report_rows_concatenate_and_match_components():
    perfect = ltr_report(Y_TRUE, Y_TRUE, Y_TRAIN, name="oracle")
    noisy = ltr_report(Y_TRUE, Y_PRED, Y_TRAIN, many=10, few=5, name="noisy")
    table = pd.concat([perfect, noisy])
    assert list(table.index) == ["oracle", "noisy"]
    assert (table.loc["oracle", ["accuracy", "f1_macro", "tail_accuracy"]] == 1).all()
    shots = shot_accuracy(Y_TRUE, Y_PRED, TRAIN_COUNTS, many=10, few=5)
    assert table.loc["noisy", "many_shot"] == approx(shots["many"])
    assert table.loc["noisy", "few_shot"] == approx(shots["few"])
    assert np.isnan(table.loc["noisy", "medium_shot"])  # no class in 5..10
    assert table.loc["noisy", "n_medium"] == 0


def test_ltr_report_errors():
    with pytest.raises(ValueError, match="y_train is empty"):
        ltr_report(Y_TRUE, Y_PRED, [])
    with pytest.raises(ValueError, match="must not exceed"):
        ltr_report(Y_TRUE, Y_PRED, Y_TRAIN, many=1, few=2)


class ColumnClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the label stored in column ``column`` of X (known answers)."""

    def __init__(self, column=0):
        self.column = column

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.asarray(X)[:, self.column]


def _column_data():
    # Column 0 gets the head right and the tail wrong; column 1 the reverse.
    y = np.array(["a"] * 8 + ["b"] * 4 + ["c"] * 2, dtype=object)
    col0 = np.where(y == "a", "a", "a")
    col1 = np.where(y == "a", "b", y)
    col1[0] = "a"  # one head sample right
    return np.column_stack([col0, col1]).astype(object), y


def test_scorers_in_cross_validate_match_hand_values():
    X, y = _column_data()
    folds = [
        (np.arange(0, 14, 2), np.arange(1, 14, 2)),
        (np.arange(1, 14, 2), np.arange(0, 14, 2)),
    ]
    result = cross_validate(
        ColumnClassifier(column=1), X, y, cv=folds, scoring=LTR_SCORING
    )
    for i, (_, test) in enumerate(folds):
        yt, yp = y[test], X[test, 1]
        # By hand, class c (1 test sample per fold) is the rarest: always right.
        assert result["test_tail_accuracy"][i] == 1.0
        assert result["test_accuracy"][i] == approx(np.mean(yt == yp))
        assert result["test_balanced_accuracy"][i] == approx(
            np.mean([np.mean(yp[yt == c] == c) for c in np.unique(yt)])
        )
    assert set(LTR_SCORING) == {
        "accuracy",
        "balanced_accuracy",
        "f1_macro",
        "tail_accuracy",
    }


def test_tail_scorer_drives_grid_search():
    X, y = _column_data()
    common = dict(param_grid={"column": [0, 1]}, cv=2)
    by_accuracy = GridSearchCV(ColumnClassifier(), scoring="accuracy", **common).fit(
        X, y
    )
    by_tail = GridSearchCV(
        ColumnClassifier(), scoring=tail_accuracy_scorer, **common
    ).fit(X, y)
    assert by_accuracy.best_params_ == {"column": 0}  # 8/14 vs 7/14 correct
    assert by_tail.best_params_ == {"column": 1}
    assert by_tail.cv_results_["mean_test_score"].tolist() == [0.0, 1.0]
    multi = GridSearchCV(
        ColumnClassifier(), scoring=LTR_SCORING, refit="tail_accuracy", **common
    ).fit(X, y)
    assert multi.best_params_ == {"column": 1}


def test_scorer_with_fixed_train_counts_and_pickle():
    X, y = _column_data()
    model = ColumnClassifier(column=1).fit(X, y)
    # Ranked by these counts the tail (fraction 1/3 of 3 classes) is "a".
    scorer = make_tail_accuracy_scorer(1 / 3, train_counts={"a": 1, "b": 50, "c": 50})
    assert scorer(model, X, y) == approx(Fraction(1, 8))
    clone = pickle.loads(pickle.dumps(scorer))
    assert clone(model, X, y) == approx(Fraction(1, 8))
    with pytest.raises(ValueError, match="non-negative integers"):
        make_tail_accuracy_scorer(0.2, train_counts={"a": 1.5})
    scoring = pickle.loads(pickle.dumps(LTR_SCORING))
    assert isinstance(scoring, dict) and scoring["tail_accuracy"](model, X, y) == 1.0


def test_ltr_scoring_with_a_real_classifier():
    rng = np.random.default_rng(0)
    counts = [60, 20, 6]
    centers = np.array([[0, 0], [4, 0], [0, 4]])
    X = np.vstack(
        [rng.normal(c, 1.0, size=(n, 2)) for c, n in zip(centers, counts, strict=True)]
    )
    y = np.repeat([0, 1, 2], counts)
    result = cross_validate(KNeighborsClassifier(3), X, y, cv=3, scoring=LTR_SCORING)
    for key in LTR_SCORING:
        scores = result[f"test_{key}"]
        assert scores.shape == (3,) and np.all((scores >= 0) & (scores <= 1))
    # Well separated blobs: every figure is high, and the rarest class is found.
    assert result["test_tail_accuracy"].mean() > 0.5
