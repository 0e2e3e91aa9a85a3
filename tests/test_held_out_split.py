"""HeldOutSpeciesSplit: long-tail splits that hold whole species out of training."""

import numpy as np
import pytest
from sklearn.model_selection import cross_validate
from sklearn.neighbors import KNeighborsClassifier

from vgestimators.model_selection import HeldOutSpeciesSplit

Y = np.repeat([f"s{i}" for i in range(8)], [40, 30, 20, 12, 8, 6, 4, 3])


def _unseen(train, test):
    return sorted(set(Y[test]) - set(Y[train]))


def test_splits_hold_out_species_and_keep_every_seen_class():
    cv = HeldOutSpeciesSplit(3, n_unseen=2, test_size=0.25, random_state=0)
    splits = list(cv.split(Y, Y))
    assert len(splits) == cv.get_n_splits() == 3
    for train, test in splits:
        unseen = _unseen(train, test)
        assert len(unseen) == 2
        # never drawn from the head quarter (s0, s1)
        assert not {"s0", "s1"} & set(unseen)
        # every image is used once: train, seen test or held-out species
        assert len(train) + len(test) == len(Y)
        assert len(np.intersect1d(train, test)) == 0
        assert np.all(np.diff(train) > 0) and np.all(np.diff(test) > 0)
        # all images of a held-out species are test images
        assert set(np.flatnonzero(np.isin(Y, unseen))) <= set(test)
        assert set(Y[train]) == set(Y) - set(unseen)
    assert len({tuple(_unseen(*s)) for s in splits}) > 1


def test_split_k_is_the_split_of_seed_random_state_plus_k():
    many = list(HeldOutSpeciesSplit(3, random_state=5).split(Y, Y))
    third = next(HeldOutSpeciesSplit(1, random_state=7).split(Y, Y))
    np.testing.assert_array_equal(many[2][0], third[0])
    np.testing.assert_array_equal(many[2][1], third[1])


def test_test_pool_is_the_test_set_and_never_trained_on():
    pool = np.zeros(len(Y), dtype=bool)
    pool[::5] = True
    cv = HeldOutSpeciesSplit(2, n_unseen=1, test_pool=pool, random_state=0)
    for train, test in cv.split(Y, Y):
        np.testing.assert_array_equal(test, np.flatnonzero(pool))
        assert not pool[train].any()
        unseen = _unseen(train, test)
        assert len(unseen) == 1
        assert not np.isin(Y[train], unseen).any()


def test_held_out_species_have_pool_images_and_pool_only_species_are_named():
    y = np.repeat(["a", "b", "c", "d", "e", "f"], [20, 12, 8, 6, 4, 3])
    pool = np.zeros(len(y), dtype=bool)
    pool[np.flatnonzero(y == "a")[:3]] = True  # a: in the pool and training
    pool[np.flatnonzero(y == "f")] = True  # f: only in the pool
    pool[np.flatnonzero(y == "d")[:2]] = True
    cv = HeldOutSpeciesSplit(4, n_unseen=1, test_pool=pool, random_state=0)
    with pytest.warns(UserWarning, match=r"species \['f'\] have images only in"):
        splits = list(cv.split(y, y))
    for train, test in splits:
        # the drawn species (d: the only candidate with pool images) is tested
        assert set(np.setdiff1d(y[test], y[train])) == {"d", "f"}
        assert "d" not in set(y[train])


def test_no_unseen_species_gives_plain_long_tail_splits():
    train, test = next(HeldOutSpeciesSplit(1, n_unseen=0, random_state=0).split(Y, Y))
    assert set(Y[test]) <= set(Y[train]) == set(Y)


def test_cross_validate_scores_the_held_out_species_as_errors():
    """A classifier that knows only the seen species misses the held-out ones."""
    X = np.eye(8)[np.unique(Y, return_inverse=True)[1]]
    cv = HeldOutSpeciesSplit(2, n_unseen=2, random_state=0)
    scores = cross_validate(KNeighborsClassifier(1), X, Y, cv=cv)["test_score"]
    for score, (train, test) in zip(scores, cv.split(X, Y), strict=True):
        seen = np.isin(Y[test], Y[train])
        assert score == pytest.approx(seen.mean())


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_unseen": 7}, "fewer than 2 species"),
        ({"test_pool": np.ones(3, dtype=bool)}, "got 3 entries of dtype bool"),
        ({"test_pool": np.arange(len(Y))}, "must be a boolean mask"),
        ({"n_splits": 0}, "n_splits"),
    ],
)
def test_bad_settings_say_what(params, message):
    with pytest.raises(ValueError, match=message):
        next(HeldOutSpeciesSplit(**params).split(Y, Y))


def test_more_held_out_species_than_candidates_says_so():
    y = np.repeat([f"s{i}" for i in range(12)], np.arange(30, 6, -2))
    with pytest.raises(ValueError, match="most frequent quarter"):
        next(HeldOutSpeciesSplit(n_unseen=10).split(y, y))


def test_needs_labels():
    with pytest.raises(ValueError, match="needs the class labels"):
        next(HeldOutSpeciesSplit().split(Y))
