"""GeneticPrototypeClassifier: contracts, the evidence, and its controls."""

import warnings

import numpy as np
import pytest
from _check_anchors import ALL_CHECK_LABELS, SOME_CHECK_LABELS
from scipy.special import softmax
from sklearn.neighbors import NearestCentroid
from sklearn.utils.estimator_checks import parametrize_with_checks

from vgestimators.alignment import GeneticPrototypeClassifier
from vgestimators.alignment._prior import AnchorKernels, _kernel
from vgestimators.datasets import make_linked_embeddings


@parametrize_with_checks(
    [
        GeneticPrototypeClassifier(anchors=ALL_CHECK_LABELS, zero_shot=False),
        GeneticPrototypeClassifier(
            anchors=SOME_CHECK_LABELS, missing_anchors="visual_only", zero_shot=False
        ),
        GeneticPrototypeClassifier(
            anchors=ALL_CHECK_LABELS, zero_shot=False, prior="ridge", shrinkage=2.0
        ),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _shuffled(anchors, seed):
    keys = list(anchors)
    perm = np.random.RandomState(seed).permutation(len(keys))
    return {keys[i]: anchors[keys[j]] for i, j in enumerate(perm)}


def _group_accuracy(y_true, y_pred, mask):
    """Mean per-class accuracy over the test samples in ``mask``."""
    return np.mean(
        [np.mean(y_pred[mask & (y_true == c)] == c) for c in np.unique(y_true[mask])]
    )


@pytest.fixture(scope="module")
def linked_results():
    """Default rule, its shuffled-DNA control and nearest class mean, 3 seeds."""
    rows = []
    for seed in range(3):
        d = make_linked_embeddings(random_state=seed)
        U = d.X_train / np.linalg.norm(d.X_train, axis=1, keepdims=True)
        Ut = d.X_test / np.linalg.norm(d.X_test, axis=1, keepdims=True)
        preds = {
            "default": GeneticPrototypeClassifier(anchors=d.anchors, random_state=0)
            .fit(d.X_train, d.y_train)
            .predict(d.X_test),
            "shuffled": GeneticPrototypeClassifier(
                anchors=_shuffled(d.anchors, seed), random_state=0
            )
            .fit(d.X_train, d.y_train)
            .predict(d.X_test),
            "ncm": NearestCentroid().fit(U, d.y_train).predict(Ut),
        }
        for name, pred in preds.items():
            for group in ("head", "tail", "zero"):
                acc = _group_accuracy(d.y_test, pred, d.group == group)
                rows.append((seed, name, group, acc))
    return rows


def _mean(rows, name, group):
    return np.mean([acc for _, n, g, acc in rows if n == name and g == group])


def test_dna_prototypes_recognise_rare_and_imageless_species(linked_results):
    rows = linked_results
    # few-shot species: at least as good as nearest class mean (measured with
    # the default objective="balanced": 0.85 against 0.51 on seeds 0-2)
    assert _mean(rows, "default", "tail") >= _mean(rows, "ncm", "tail") + 0.15
    # species with DNA and no image (measured: 0.93; chance 1/27)
    assert _mean(rows, "default", "zero") >= 0.8
    # head species pay a little for sharing with the image-less ones
    assert _mean(rows, "default", "head") >= _mean(rows, "ncm", "head") - 0.1


def test_shuffled_dna_removes_the_gain(linked_results):
    rows = linked_results
    assert _mean(rows, "shuffled", "zero") <= 0.15
    assert _mean(rows, "default", "tail") >= _mean(rows, "shuffled", "tail") + 0.1


def test_dna_without_signal_falls_back_to_nearest_class_mean():
    d = make_linked_embeddings(random_state=0)
    rng = np.random.RandomState(123)
    noise = {c: rng.normal(size=8) for c in d.anchors}  # DNA unrelated to images
    with pytest.warns(UserWarning, match="cannot be named"):
        clf = GeneticPrototypeClassifier(anchors=noise, prior="mean").fit(
            d.X_train, d.y_train
        )
    zero = np.isin(clf.classes_, clf.zero_shot_classes_)
    proba = clf.predict_proba(d.X_test)
    assert np.all(proba[:, zero] == 0.0)
    assert clf.seen_bias_ == 0.0
    # with "auto", noise anchors give almost no shrinkage
    clf = GeneticPrototypeClassifier(anchors=noise, random_state=0)
    auto_noise = clf.fit(d.X_train, d.y_train).shrinkage_
    clf = GeneticPrototypeClassifier(anchors=d.anchors, random_state=0)
    clf.fit(d.X_train, d.y_train)
    assert clf.shrinkage_ > 3 * auto_noise


def test_leave_one_species_out_closed_form_matches_refits():
    rng = np.random.RandomState(0)
    A = rng.normal(size=(9, 4))
    M = A @ rng.normal(size=(4, 6)) + 0.3 * rng.normal(size=(9, 6))
    w = rng.uniform(0.5, 2.0, size=9)
    unit = A / np.linalg.norm(A, axis=1, keepdims=True)
    for kind in ("mean", "ridge", "neighbours"):
        best, _ = AnchorKernels(A, (kind,)).select(M, w)
        for i in range(9):
            keep = np.arange(9) != i
            if kind == "mean":  # the weighted mean of the other species
                expected = w[keep] @ M[keep] / w[keep].sum()
            elif kind == "neighbours":
                logits = unit[keep] @ unit[i] / best.param + np.log(w[keep])
                expected = softmax(logits) @ M[keep]
            else:  # weighted ridge with a near-free intercept, refitted
                K = _kernel("ridge", A[keep], A[keep], 1.0)
                alpha = best.param * (np.mean(np.diag(K)) - 100.0)
                # the penalty scale is that of the full fit
                full = _kernel("ridge", A, A, 1.0)
                alpha = best.param * (np.mean(np.diag(full)) - 100.0)
                coef = np.linalg.solve(K + alpha * np.diag(1.0 / w[keep]), M[keep])
                expected = (_kernel("ridge", A[i : i + 1], A[keep], 1.0) @ coef)[0]
            np.testing.assert_allclose(
                best.loo_means[i], expected, rtol=1e-3, atol=1e-6
            )


def test_shrinkage_weights_and_prototypes():
    d = make_linked_embeddings(random_state=1)
    clf = GeneticPrototypeClassifier(anchors=d.anchors, shrinkage=4.0).fit(
        d.X_train, d.y_train
    )
    n = clf.class_counts_
    seen = n > 0
    np.testing.assert_allclose(clf.shrinkage_weights_[seen], n[seen] / (n[seen] + 4))
    assert np.all(clf.shrinkage_weights_[~seen] == 0)
    lam = clf.shrinkage_weights_[seen, None]
    np.testing.assert_allclose(
        clf.prototypes_[seen],
        lam * clf.visual_means_[seen] + (1 - lam) * clf.dna_prototypes_[seen],
    )
    np.testing.assert_allclose(
        clf.prototypes_[~seen], clf.dna_prototypes_[~seen], rtol=1e-12
    )
    # shrinkage=0 and no image-less class: nearest class mean by cosine
    ncm = GeneticPrototypeClassifier(
        anchors=d.anchors, shrinkage=0.0, zero_shot=False
    ).fit(d.X_train, d.y_train)
    U = d.X_test / np.linalg.norm(d.X_test, axis=1, keepdims=True)
    means = ncm.visual_means_ / np.linalg.norm(ncm.visual_means_, axis=1)[:, None]
    np.testing.assert_array_equal(
        ncm.predict(d.X_test), ncm.classes_[np.argmax(U @ means.T, axis=1)]
    )


def test_calibrated_stacking_and_temperature():
    d = make_linked_embeddings(random_state=0)
    clf = GeneticPrototypeClassifier(anchors=d.anchors).fit(d.X_train, d.y_train)
    assert clf.seen_bias_ > 0  # image-less classes need a lift
    assert 1e-3 < clf.temperature_ < 10
    none = GeneticPrototypeClassifier(anchors=d.anchors, zero_shot=False).fit(
        d.X_train, d.y_train
    )
    assert none.seen_bias_ == 0.0
    unbiased = GeneticPrototypeClassifier(anchors=d.anchors, seen_bias=0.0).fit(
        d.X_train, d.y_train
    )
    zero = d.group == "zero"
    lifted = np.mean(clf.predict(d.X_test[zero]) == d.y_test[zero])
    plain = np.mean(unbiased.predict(d.X_test[zero]) == d.y_test[zero])
    assert lifted > plain
    proba = clf.predict_proba(d.X_test)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(d.X_test))


def test_novelty_threshold_and_errors():
    d = make_linked_embeddings(random_state=0)
    clf = GeneticPrototypeClassifier(anchors=d.anchors).fit(d.X_train, d.y_train)
    # directions orthogonal to every prototype: cosine 0 with all of them
    basis, _ = np.linalg.qr(clf.prototypes_.T)
    far = np.random.RandomState(0).normal(size=(3, d.X_test.shape[1]))
    far -= far @ basis @ basis.T
    threshold = float(np.quantile(clf.score_samples(d.X_test), 0.05))
    clf.set_params(novelty_threshold=threshold)
    assert set(clf.predict(far).tolist()) == {"unknown"}
    partial = {c: v for c, v in d.anchors.items() if c != 3}
    with pytest.raises(ValueError, match=r"classes \[3\] of y have no anchor"):
        GeneticPrototypeClassifier(anchors=partial).fit(d.X_train, d.y_train)
    clf = GeneticPrototypeClassifier(anchors=partial, missing_anchors="visual_only")
    clf.fit(d.X_train, d.y_train)
    i = list(clf.classes_).index(3)
    np.testing.assert_allclose(clf.prototypes_[i], clf.visual_means_[i])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict(d.X_test)


def test_permutation_test_keeps_dna_that_predicts_nothing_out():
    d = make_linked_embeddings(random_state=2)
    clf = GeneticPrototypeClassifier(anchors=d.anchors, random_state=0)
    clf.fit(d.X_train, d.y_train)
    assert clf.dna_p_value_ <= 0.05 and clf.prior_ != "mean"
    rng = np.random.RandomState(7)
    noise = {c: rng.normal(size=8) for c in d.anchors}
    shuffled = _shuffled(d.anchors, 3)
    for anchors in (noise, shuffled):
        clf = GeneticPrototypeClassifier(anchors=anchors, random_state=0)
        with pytest.warns(UserWarning, match="permutation p-value"):
            clf.fit(d.X_train, d.y_train)
        assert clf.dna_p_value_ > 0.05 and clf.prior_ == "mean"
        # without the test, model selection may find a map in the noise
        untested = GeneticPrototypeClassifier(anchors=anchors, dna_test=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            untested.fit(d.X_train, d.y_train)
        assert untested.dna_p_value_ is None
    # repeatable given random_state
    a = GeneticPrototypeClassifier(anchors=noise, random_state=1)
    b = GeneticPrototypeClassifier(anchors=noise, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert a.fit(d.X_train, d.y_train).dna_p_value_ == (
            b.fit(d.X_train, d.y_train).dna_p_value_
        )


def test_warnings_point_at_the_callers_line():
    d = make_linked_embeddings(random_state=0)
    rng = np.random.RandomState(123)
    noise = {c: rng.normal(size=8) for c in d.anchors}
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from vgestimators.alignment import VisualGeneticAligner

    pipe = make_pipeline(
        FunctionTransformer(), VisualGeneticAligner(anchors=noise, random_state=0)
    )
    with pytest.warns(UserWarning, match="cannot be named") as record:
        pipe.fit(d.X_train, d.y_train)
    assert record[0].filename == __file__


def test_spelling_differences_are_matched_and_unmatched_classes_named():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 4))
    y = np.repeat(["Globigerina bulloides", "Orbulina universa", "Other one"], 10)
    anchors = {
        "Globigerina_bulloides": rng.normal(size=3),
        "orbulina universa": rng.normal(size=3),
        "Candeina nitida": rng.normal(size=3),
    }
    with pytest.raises(ValueError, match="have no anchor") as info:
        GeneticPrototypeClassifier(anchors=anchors).fit(X, y)
    message = str(info.value)
    assert "classes ['Other one'] of y" in message
    assert "species_mapping" in message
    clf = GeneticPrototypeClassifier(
        anchors=anchors, species_mapping={"Other one": "Candeina nitida"}
    )
    report = clf.check_species(y)
    assert dict(zip(report.species, report.how, strict=True)) == {
        "Globigerina bulloides": "name",
        "Orbulina universa": "name",
        "Other one": "mapping",
    }
    clf.fit(X, y)
    assert sorted(clf.anchors_.index) == sorted(set(y))
    assert len(clf.zero_shot_classes_) == 0


def test_name_matching_keeps_exact_labels_and_spellings_of_dna_only_species():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4))
    y = np.repeat(["A", "a", "c_d", "EF"], 10)
    anchors = {k: rng.normal(size=3) for k in ["A", "a", "c d", "e_f", "Gh"]}
    clf = GeneticPrototypeClassifier(anchors=anchors, missing_anchors="visual_only")
    clf.fit(X, y)
    # "A" and "a" keep their own anchors; "c d" pairs with "c_d"; species
    # without images keep the spelling they were given
    assert sorted(clf.anchors_.index) == ["A", "Gh", "a", "c_d", "e_f"]
    assert sorted(clf.zero_shot_classes_) == ["Gh", "e_f"]
    assert clf.unanchored_classes_.tolist() == ["EF"]


def test_species_mapping_survives_cross_validation_and_names_bad_values():
    from sklearn.model_selection import KFold, cross_val_score

    rng = np.random.RandomState(0)
    y = np.repeat(["p q", "r s", "t u", "EF"], 12)  # sorted folds drop classes
    X = rng.normal(size=(48, 4)) + 3 * (y[:, None] == np.unique(y)).argmax(1)[:, None]
    anchors = {k: rng.normal(size=3) for k in ["p q", "r s", "t u", "Ee ff"]}
    clf = GeneticPrototypeClassifier(
        anchors=anchors, species_mapping={"EF": "Ee ff"}, missing_anchors="visual_only"
    )
    scores = cross_val_score(clf, X, y, cv=KFold(3))
    assert np.isfinite(scores).all()
    bad = clf.set_params(species_mapping={"EF": "No such"})
    with pytest.raises(
        ValueError,
        match=r"species_mapping pairs the class 'EF' "
        r"with \['No such'\], which no anchor label names",
    ):
        bad.check_species(y)
    with pytest.raises(ValueError, match="species_mapping"):
        clf.set_params(species_mapping=["EF"]).check_species(y)


def test_dna_unused_warning_says_what_happens_and_what_to_try():
    d = make_linked_embeddings(random_state=0)
    rng = np.random.RandomState(123)
    noise = {c: rng.normal(size=8) for c in d.anchors}
    with pytest.warns(UserWarning, match="the DNA is not used") as record:
        GeneticPrototypeClassifier(anchors=noise, random_state=0).fit(
            d.X_train, d.y_train
        )
    message = str(record[0].message)
    # what happens, in the user's terms, then what to try
    assert "DNA test: permutation p-value" in message
    assert "species known from DNA only" in message and "cannot be named" in message
    assert "recognised from their own images alone" in message
    assert "To try: more species with both images and DNA" in message
    assert "dna_test=None uses the DNA untested" in message
    # a prior that ignores the DNA by choice: no test, nothing to try
    with pytest.warns(UserWarning, match="the DNA is not used") as record:
        GeneticPrototypeClassifier(anchors=noise, prior="mean").fit(
            d.X_train, d.y_train
        )
    message = str(record[0].message)
    assert "prior='mean' ignores it" in message and "To try" not in message
