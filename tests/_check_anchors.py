"""Anchors for the labels scikit-learn's estimator checks use.

The checks fit on labels 0..3, -1/1 and "one"/"two"/"three":
``ALL_CHECK_LABELS`` covers all of them, so no class lacks an anchor; small
integer vectors keep the test ids short. ``SOME_CHECK_LABELS`` covers only a
few, so the other labels have none.
"""

ALL_CHECK_LABELS = {
    -1: [1, 0, 2],
    0: [0, 1, -1],
    1: [2, -1, 0],
    2: [-1, 2, 1],
    3: [1, 1, 1],
    "one": [0, -2, 1],
    "two": [-2, 0, 0],
    "three": [1, -1, -2],
}
SOME_CHECK_LABELS = {0: [1, 0, 2], 1: [0, 1, -1], "one": [2, -1, 0]}
