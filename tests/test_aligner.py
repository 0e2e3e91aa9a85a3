"""VisualGeneticAligner: contract, decision rules, evidence, bad input."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from _check_anchors import ALL_CHECK_LABELS, SOME_CHECK_LABELS
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from vgestimators.alignment import (
    AnchorProjectionClassifier,
    GeneticPrototypeClassifier,
    VisualGeneticAligner,
)
from vgestimators.alignment._projection import NeighbourhoodLoss, train_projection
from vgestimators.datasets import make_linked_embeddings
from vgestimators.losses import CosineAlignmentLoss

# ---------------------------------------------------------------- helpers


def make_linked(seed=0, **params):
    """The constructed data of :func:`make_linked_embeddings`, as a tuple."""
    d = make_linked_embeddings(random_state=seed, **params)
    return d.X_train, d.y_train, d.X_test, d.y_test, d.anchors, d.group


def small_problem(seed=0, labels=("a", "b", "c", "d"), n=15, d_anchor=4, d_visual=6):
    rng = np.random.RandomState(seed)
    anchors = {lab: rng.normal(size=d_anchor) for lab in labels}
    M = rng.normal(size=(d_anchor, d_visual))
    y = np.repeat(np.asarray(labels), n)
    X = np.vstack([anchors[c] for c in y]) @ M + 0.3 * rng.normal(
        size=(len(y), d_visual)
    )
    return X, y, anchors


def _paper_aligner(**params):
    """The aligner with a projection (the paper's k-NN rule unless told)."""
    params.setdefault("classifier", "knn")
    return VisualGeneticAligner(**params)


# -------------------------------------------- scikit-learn's estimator checks


_CLASS_WEIGHT_REASON = (
    "class_weight weights the alignment loss, which shapes the projection; the "
    "k-NN vote over aligned training images is unweighted, so a 1000:0.0001 "
    "class weight cannot make the k-NN rule predict class 0 for >87% of the "
    "overlapping blobs"
)


def _expected_failed_checks(estimator):
    rule = getattr(estimator, "classifier", getattr(estimator, "rule", None))
    if rule == "knn":
        return {"check_class_weight_classifiers": _CLASS_WEIGHT_REASON}
    return {}


@parametrize_with_checks(
    [
        # the default rule (DNA-informed prototypes), every label anchored;
        # the dict mixes int and str labels, so no zero-shot classes
        VisualGeneticAligner(anchors=ALL_CHECK_LABELS, zero_shot=False),
        # the default rule, some labels visual only (string labels: none
        # anchored, so it warns and fits nearest class mean)
        VisualGeneticAligner(
            anchors=SOME_CHECK_LABELS, missing_anchors="visual_only", zero_shot=False
        ),
        # the paper's rule, every label of the checks anchored
        VisualGeneticAligner(
            anchors=ALL_CHECK_LABELS, classifier="knn", max_epochs=30, random_state=0
        ),
        # nearest anchor, every label anchored: passes every check
        VisualGeneticAligner(
            anchors=ALL_CHECK_LABELS,
            classifier="anchor",
            zero_shot=False,
            random_state=0,
        ),
        # hybrid rule, mlp, neighbourhood term, some labels visual only
        VisualGeneticAligner(
            anchors=SOME_CHECK_LABELS,
            classifier="hybrid",
            projection="mlp",
            hidden_layer_size=16,
            neighbourhood_weight=0.5,
            missing_anchors="visual_only",
            zero_shot=False,
            max_epochs=30,
            random_state=0,
        ),
        # the projection rules on their own (what the aligner fits for them)
        AnchorProjectionClassifier(
            anchors=ALL_CHECK_LABELS, rule="knn", max_epochs=30, random_state=0
        ),
        AnchorProjectionClassifier(
            anchors=ALL_CHECK_LABELS, rule="anchor", zero_shot=False, random_state=0
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ------------------------------------------------------------ the evidence


@pytest.fixture(scope="module")
def linked():
    return make_linked(seed=0)


def test_beats_knn_on_tail_and_recognises_unseen_species(linked):
    X_train, y_train, X_test, y_test, anchors, group = linked
    tail, zero = group == "tail", group == "zero"
    knn = KNeighborsClassifier(n_neighbors=5).fit(X_train, y_train)
    knn_tail = np.mean(knn.predict(X_test[tail]) == y_test[tail])

    hybrid = VisualGeneticAligner(
        anchors=anchors, classifier="hybrid", random_state=0
    ).fit(X_train, y_train)
    hybrid_tail = np.mean(hybrid.predict(X_test[tail]) == y_test[tail])
    assert hybrid_tail > knn_tail + 0.25, (hybrid_tail, knn_tail)

    anchor = VisualGeneticAligner(
        anchors=anchors, classifier="anchor", random_state=0
    ).fit(X_train, y_train)
    assert set(anchor.zero_shot_classes_) == set(np.unique(y_test[zero]))
    chance = 1.0 / len(anchor.classes_)
    anchor_tail = np.mean(anchor.predict(X_test[tail]) == y_test[tail])
    anchor_zero = np.mean(anchor.predict(X_test[zero]) == y_test[zero])
    assert anchor_tail > knn_tail + 0.25, (anchor_tail, knn_tail)
    assert anchor_zero > 10 * chance, (anchor_zero, chance)
    # plain k-NN cannot name a species it never saw
    assert not np.isin(knn.predict(X_test[zero]), y_test[zero]).any()


# --------------------------------------------------------- decision rules


@pytest.fixture(scope="module")
def small():
    return small_problem()


def test_classes_and_zero_shot(small):
    X, y, anchors = small
    seen = y != "d"
    for rule, expected in [
        ("knn", ["a", "b", "c"]),
        ("anchor", ["a", "b", "c", "d"]),
        ("hybrid", ["a", "b", "c", "d"]),
    ]:
        clf = VisualGeneticAligner(
            anchors=anchors, classifier=rule, max_epochs=20, random_state=0
        ).fit(X[seen], y[seen])
        assert clf.classes_.tolist() == expected
        proba = clf.predict_proba(X)
        assert proba.shape == (len(X), len(expected))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert (proba >= 0).all()
        np.testing.assert_array_equal(
            clf.classes_[proba.argmax(axis=1)], clf.predict(X)
        )
        np.testing.assert_array_equal(
            clf.classes_[clf.decision_function(X).argmax(axis=1)], clf.predict(X)
        )
    clf = VisualGeneticAligner(
        anchors=anchors, classifier="anchor", zero_shot=False, max_epochs=20
    ).fit(X[seen], y[seen])
    assert clf.classes_.tolist() == ["a", "b", "c"]
    assert clf.zero_shot_classes_.size == 0
    # "d" still shaped the projection as a negative anchor
    assert clf.anchors_.index.tolist() == ["a", "b", "c", "d"]


def test_anchor_rule_is_nearest_anchor_and_hybrid_is_the_blend(small):
    X, y, anchors = small
    params = dict(anchors=anchors, max_epochs=20, random_state=0)
    anchor = VisualGeneticAligner(classifier="anchor", **params).fit(X, y)
    Z = anchor.transform(X)
    unit = anchor.anchors_.to_numpy()
    unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
    cos = Z @ unit.T
    nearest = anchor.anchors_.index.to_numpy()[cos.argmax(axis=1)]
    np.testing.assert_array_equal(anchor.predict(X), nearest)
    np.testing.assert_allclose(anchor.score_samples(X), cos.max(axis=1))

    knn = VisualGeneticAligner(classifier="knn", **params).fit(X, y)
    reference = KNeighborsClassifier(n_neighbors=5).fit(Z, y)
    np.testing.assert_allclose(knn.predict_proba(X), reference.predict_proba(Z))

    w = 0.3
    hybrid = VisualGeneticAligner(classifier="hybrid", hybrid_weight=w, **params)
    hybrid.fit(X, y)
    np.testing.assert_allclose(
        hybrid.predict_proba(X),
        w * knn.predict_proba(X) + (1 - w) * anchor.predict_proba(X),
    )


def test_knn_in_a_narrow_embedding_space_matches_plain_knn():
    # 3-wide embeddings, 8-wide anchors: the k-NN search runs in the 4-dim
    # span of the affine projection and must find the same neighbours
    X, y, anchors = small_problem(seed=1, d_anchor=8, d_visual=3)
    clf = _paper_aligner(anchors=anchors, max_epochs=20, random_state=0)
    clf.fit(X, y)
    assert clf.rule_._knn_basis.shape == (8, 4)
    X_test = small_problem(seed=2, d_anchor=8, d_visual=3)[0]
    Z_train, Z_test = clf.transform(X), clf.transform(X_test)
    reference = KNeighborsClassifier(n_neighbors=5).fit(Z_train, y)
    np.testing.assert_allclose(
        clf.predict_proba(X_test), reference.predict_proba(Z_test)
    )
    dist, _ = reference.kneighbors(Z_test)
    np.testing.assert_allclose(
        clf.set_params(classifier="knn").score_samples(X_test),
        (1 - dist**2 / 2).mean(axis=1),
    )


def test_visual_only_classes_enter_through_knn(small):
    X, y, anchors = small
    partial = {k: v for k, v in anchors.items() if k != "b"}
    with pytest.raises(ValueError, match=r"classes \['b'\] of y have no anchor"):
        VisualGeneticAligner(anchors=partial, max_epochs=2).fit(X, y)
    for rule in ("knn", "anchor", "hybrid"):
        clf = VisualGeneticAligner(
            anchors=partial,
            classifier=rule,
            missing_anchors="visual_only",
            max_epochs=30,
            random_state=0,
        ).fit(X, y)
        assert clf.unanchored_classes_.tolist() == ["b"]
        assert clf.classes_.tolist() == ["a", "b", "c", "d"]
        Z = clf.transform(X)
        knn = KNeighborsClassifier(n_neighbors=5).fit(Z, y)
        b = list(clf.classes_).index("b")
        # "b" gets exactly its k-NN share, whatever the rule
        np.testing.assert_allclose(
            clf.predict_proba(X)[:, b], knn.predict_proba(Z)[:, b]
        )
        assert np.mean(clf.predict(X[y == "b"]) == "b") > 0.8


def test_unanchored_samples_are_left_out_of_the_alignment_loss():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 5))
    targets = np.repeat([0, 1, 2], 10)
    anchors = rng.normal(size=(3, 4))
    kwargs = dict(
        margin=0.5,
        negatives="random",
        neighbourhood_weight=0.0,
        max_epochs=5,
        batch_size=8,
        lr=0.01,
        weight_decay=0.0,
        tol=None,
        n_iter_no_change=1,
        device="cpu",
        seed=3,
    )

    def run(X, targets):
        torch.manual_seed(0)
        module = torch.nn.Linear(5, 4)
        curve = train_projection(
            module, X, X, targets, anchors, np.ones(len(X)), **kwargs
        )
        return curve, module.weight.detach().clone()

    curve, weight = run(X, targets)
    garbage = np.vstack([X, 1e6 * rng.normal(size=(7, 5))])
    curve_g, weight_g = run(garbage, np.concatenate([targets, np.full(7, -1)]))
    assert curve == curve_g
    torch.testing.assert_close(weight, weight_g)


def test_novelty_threshold_predicts_unknown(small):
    # 12 known species; 4 more species whose DNA is not among the anchors
    X_train, y_train, X_test, y_test, anchors, group = make_linked(
        seed=0, n_head=12, n_tail=0, n_zero=4, d_anchor=16, n_head_train=20, n_test=20
    )
    known = {k: v for k, v in anchors.items() if k < 12}
    novel = group == "zero"
    for rule in ("knn", "anchor", "hybrid"):
        clf = _paper_aligner(anchors=known, classifier=rule, random_state=0)
        clf.fit(X_train, y_train)
        similarity = clf.score_samples(X_test)
        assert roc_auc_score(~novel, similarity) > 0.9
        threshold = float(np.quantile(similarity[~novel], 0.1))
        clf.set_params(novelty_threshold=threshold, unknown_label="novel")
        pred = clf.predict(X_test)
        np.testing.assert_array_equal(pred == "novel", similarity < threshold)
        assert np.mean(pred[novel] == "novel") > 0.8
    # integer classes with a string unknown label -> object array
    X, y, anchors = small
    far = 50 * np.random.RandomState(1).normal(size=(5, X.shape[1]))
    y_int = np.unique(y, return_inverse=True)[1]
    int_anchors = {i: anchors[c] for i, c in enumerate("abcd")}
    clf = _paper_aligner(anchors=int_anchors, novelty_threshold=1.0, max_epochs=5).fit(
        X, y_int
    )
    pred = clf.predict(far)
    assert pred.dtype == object and set(pred) == {"unknown"}
    clf.set_params(unknown_label=-1)
    assert clf.predict(far).dtype.kind == "i" and set(clf.predict(far)) == {-1}


def test_unknown_label_must_not_be_a_class(small):
    X, y, anchors = small
    with pytest.raises(ValueError, match="unknown_label='a' is also a class"):
        VisualGeneticAligner(
            anchors=anchors, unknown_label="a", novelty_threshold=0.5
        ).fit(X, y)
    # without a threshold unknown_label is never predicted: any label is fine
    VisualGeneticAligner(anchors=anchors, unknown_label="a", max_epochs=2).fit(X, y)
    clf = VisualGeneticAligner(anchors=anchors, classifier="anchor", max_epochs=2)
    clf.fit(X, y).set_params(unknown_label="b", novelty_threshold=0.5)
    with pytest.raises(ValueError, match="unknown_label='b' is also a class"):
        clf.predict(X)
    # the anchor rule keeps no training embeddings: switching rule needs a refit
    clf.set_params(novelty_threshold=None, classifier="hybrid")
    with pytest.raises(ValueError, match="refit it to use the 'hybrid' rule"):
        clf.predict(X)


# ------------------------------------------------------------- anchors


def test_standardised_and_raw_anchors():
    rng = np.random.RandomState(0)
    base = rng.uniform(5, 6, size=8)
    # nearly collinear, like raw SGT anchors
    raw = {c: base + 0.01 * rng.normal(size=8) for c in "abcd"}
    cos = [
        raw[a] @ raw[b] / np.linalg.norm(raw[a]) / np.linalg.norm(raw[b])
        for a in "abcd"
        for b in "abcd"
        if a < b
    ]
    assert min(cos) > 0.99
    X = rng.normal(size=(40, 6))
    y = np.repeat(list("abcd"), 10)
    clf = _paper_aligner(anchors=raw, max_epochs=2).fit(X, y)
    A = clf.anchors_.to_numpy()
    np.testing.assert_allclose(A.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(A.std(axis=0), 1)
    raw_matrix = np.vstack([raw[c] for c in "abcd"])
    np.testing.assert_allclose(
        A * clf.anchor_scale_ + clf.anchor_mean_, raw_matrix, rtol=1e-12
    )
    with pytest.warns(UserWarning, match="every pair of raw anchors has cosine"):
        clf = _paper_aligner(anchors=raw, standardize_anchors=False, max_epochs=2).fit(
            X, y
        )
    np.testing.assert_array_equal(clf.anchors_.to_numpy(), raw_matrix)
    assert clf.anchor_mean_ is None


def test_dataframe_anchors_name_the_output_features(small):
    X, y, anchors = small
    frame = pd.DataFrame(anchors).T
    frame.columns = ["AA", "AC", "AG", "AT"]
    clf = _paper_aligner(anchors=frame, max_epochs=5, random_state=0).fit(X, y)
    assert clf.get_feature_names_out().tolist() == ["AA", "AC", "AG", "AT"]
    clf.set_output(transform="pandas")
    out = clf.transform(X)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(frame.columns)
    # same anchors as a dict: same model
    clf_dict = _paper_aligner(anchors=anchors, max_epochs=5, random_state=0)
    np.testing.assert_allclose(clf_dict.fit(X, y).transform(X), out.to_numpy())
    assert clf_dict.get_feature_names_out()[0] == "visualgeneticaligner0"


@pytest.mark.parametrize(
    "anchors, message",
    [
        ({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]}, "mixed dimensions"),
        ({"a": [1.0, np.nan], "b": [1.0, 2.0]}, r"NaN or infinity for classes \['a'\]"),
        (
            pd.DataFrame([[1.0, 2.0], [np.inf, 0.0]], index=["a", "b"]),
            r"NaN or infinity for classes \['b'\]",
        ),
        ({"a": [1.0, 2.0]}, "at least 2 classes"),
        ({"a": [[1.0, 2.0]], "b": [[1.0, 2.0]]}, "1-D vector"),
        ({"a": [0.0, 0.0], "b": [1.0, 2.0]}, "all-zero"),
        ({"a": [1.0, 2.0], "b": [1.0, 2.0]}, "all anchors are identical"),
        (
            pd.DataFrame([[1.0, 2.0], [3.0, 0.0]], index=["a", "a"]),
            r"several rows for classes \['a'\]",
        ),
        (
            pd.DataFrame({"x": [1.0, 2.0], "name": ["p", "q"]}, index=["a", "b"]),
            "non-numeric columns",
        ),
    ],
)
def test_bad_anchors(anchors, message):
    X = np.random.RandomState(0).normal(size=(6, 3))
    y = np.array(["a", "b"] * 3)
    with pytest.raises(ValueError, match=message):
        VisualGeneticAligner(anchors=anchors).fit(X, y)


def test_bad_data(small):
    X, y, anchors = small
    with pytest.raises(ValueError, match="one class"):
        _paper_aligner(anchors=anchors).fit(X, np.full(len(X), "a"))
    X_nan = X.copy()
    X_nan[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity in rows \[7\].*column 2"):
        _paper_aligner(anchors=anchors).fit(X_nan, y)
    clf = _paper_aligner(anchors=anchors, max_epochs=2).fit(X, y)
    with pytest.raises(ValueError, match="X has 5 features, but VisualGenetic"):
        clf.predict(X[:, :5])
    with pytest.raises(ValueError, match=r"NaN or infinity in rows \[7\]"):
        clf.transform(X_nan)
    with pytest.raises(ValueError, match="anchors is None and sequences is None"):
        _paper_aligner().fit(X, y)
    with pytest.raises(ValueError, match="sequences is given but anchors is a dict"):
        _paper_aligner(anchors=anchors, sequences=(["ACGT", "ACGA"], ["a", "b"])).fit(
            X, y
        )
    with pytest.raises(InvalidParameterError, match="classifier"):
        _paper_aligner(anchors=anchors, classifier="svm").fit(X, y)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            _paper_aligner(anchors=anchors, device="cuda").fit(X, y)


def test_zero_shot_labels_of_another_type_are_refused(small):
    X, y, anchors = small
    y_int = np.unique(y, return_inverse=True)[1]
    mixed = {0: anchors["a"], 1: anchors["b"], 2: anchors["c"], 3: anchors["d"]}
    mixed["e"] = anchors["a"] + anchors["b"]
    with pytest.raises(ValueError, match=r"\['e'\] whose labels are not of the same"):
        _paper_aligner(anchors=mixed, classifier="anchor").fit(X, y_int)
    # k-NN cannot predict "e", so it does not join classes_ and nothing clashes
    clf = _paper_aligner(anchors=mixed, max_epochs=2).fit(X, y_int)
    assert clf.classes_.tolist() == [0, 1, 2, 3]


# ----------------------------------------------------- training mechanics


def test_repeatable_given_random_state(small):
    X, y, anchors = small
    params = dict(anchors=anchors, projection="mlp", max_epochs=10, batch_size=16)
    a = _paper_aligner(random_state=3, **params).fit(X, y)
    b = _paper_aligner(random_state=3, **params).fit(X, y)
    c = _paper_aligner(random_state=4, **params).fit(X, y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.allclose(a.transform(X), c.transform(X))
    again = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(again.predict_proba(X), a.predict_proba(X))


@pytest.mark.parametrize("negatives", ["random", "hardest", "all"])
@pytest.mark.parametrize("projection", ["linear", "mlp"])
def test_training_reduces_the_alignment_loss(small, negatives, projection):
    X, y, anchors = small
    clf = _paper_aligner(
        anchors=anchors,
        projection=projection,
        negatives=negatives,
        tol=None,
        max_epochs=40,
        random_state=0,
    ).fit(X, y)
    assert clf.n_epochs_ == 40 and len(clf.loss_curve_) == 40
    anchor_matrix = torch.tensor(clf.anchors_.to_numpy())
    targets = torch.as_tensor(np.searchsorted(clf.anchors_.index.to_numpy(), y))
    loss = CosineAlignmentLoss(margin=0.5, negatives="hardest")
    after = float(loss(torch.as_tensor(clf.transform(X)), targets, anchor_matrix))
    untrained = clone(clf).set_params(max_epochs=1, lr=1e-9).fit(X, y)
    before = float(
        loss(torch.as_tensor(untrained.transform(X)), targets, anchor_matrix)
    )
    assert after < 0.5 * before, (before, after)


def test_early_stop_on_plateau(small):
    X, y, anchors = small
    clf = _paper_aligner(
        anchors=anchors, max_epochs=1000, tol=1e-3, n_iter_no_change=5, random_state=0
    ).fit(X, y)
    assert clf.n_epochs_ < 1000
    best_before = min(clf.loss_curve_[:-5])
    assert min(clf.loss_curve_[-5:]) > best_before - 1e-3


def test_class_weight_balanced_pulls_the_tail_to_its_anchor(linked):
    X_train, y_train, _, _, anchors, _ = linked
    tail = y_train >= 16
    scores = {}
    for cw in (None, "balanced"):
        clf = _paper_aligner(anchors=anchors, class_weight=cw, random_state=0).fit(
            X_train, y_train
        )
        Z = clf.transform(X_train[tail])
        unit = clf.anchors_.loc[list(y_train[tail])].to_numpy()
        unit = unit / np.linalg.norm(unit, axis=1, keepdims=True)
        scores[cw] = np.mean(np.sum(Z * unit, axis=1))
    assert scores["balanced"] > scores[None]


def test_neighbourhood_loss_against_a_loop():
    rng = np.random.RandomState(0)
    v = torch.as_tensor(rng.normal(size=(6, 4)))
    z = torch.as_tensor(rng.normal(size=(6, 3)))
    loss = NeighbourhoodLoss(temperature=0.5)
    expected = 0.0
    vn = v / v.norm(dim=1, keepdim=True)
    zn = z / z.norm(dim=1, keepdim=True)
    for i in range(6):
        others = [j for j in range(6) if j != i]
        p = torch.softmax(torch.stack([vn[i] @ vn[j] / 0.5 for j in others]), 0)
        q = torch.softmax(torch.stack([zn[i] @ zn[j] / 0.5 for j in others]), 0)
        expected += float((p * (p.log() - q.log())).sum()) / 6
    assert float(loss(v, z)) == pytest.approx(expected, rel=1e-10)
    assert float(loss(v, v)) == pytest.approx(0.0, abs=1e-12)
    z.requires_grad_(True)
    loss(v, z).backward()
    assert torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


def test_neighbourhood_term_keeps_visual_neighbours(linked):
    X_train, y_train, _, _, anchors, _ = linked
    sub = slice(0, 400)
    X, y = X_train[sub], y_train[sub]

    def overlap(clf):
        Z = clf.transform(X)
        Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
        nv = np.argsort(-(Xn @ Xn.T), axis=1)[:, 1:11]
        nz = np.argsort(-(Z @ Z.T), axis=1)[:, 1:11]
        return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(nv, nz, strict=True)])

    plain = _paper_aligner(anchors=anchors, random_state=0).fit(X, y)
    kept = _paper_aligner(
        anchors=anchors, neighbourhood_weight=5.0, random_state=0
    ).fit(X, y)
    assert overlap(kept) > overlap(plain) + 0.05


# ------------------------------------------------------ model selection


def test_grid_search_over_aligner_params(small):
    X, y, anchors = small
    grid = GridSearchCV(
        VisualGeneticAligner(anchors=anchors, max_epochs=20, random_state=0),
        {"classifier": ["knn", "anchor"], "alignment_margin": [0.2, 0.5]},
        cv=3,
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_score_ > 0.8


def test_old_margin_name_warns_and_gives_the_same_fit(small):
    # `margin` (the cosine hinge) was renamed `alignment_margin`: the
    # embedder's `alignment_margin` is the same margin of the same loss
    X, y, anchors = small
    settings = dict(anchors=anchors, classifier="anchor", max_epochs=5, random_state=0)
    new = VisualGeneticAligner(alignment_margin=0.2, **settings).fit(X, y)
    with pytest.warns(FutureWarning, match="renamed `alignment_margin`"):
        old = VisualGeneticAligner(margin=0.2, **settings).fit(X, y)
    np.testing.assert_array_equal(old.predict_proba(X), new.predict_proba(X))
    assert "margin" in old.get_params() and old.get_params()["margin"] == 0.2


@pytest.mark.gpu
def test_cuda_training_matches_cpu(small):
    X, y, anchors = small
    params = dict(anchors=anchors, batch_size=None, max_epochs=20, random_state=0)
    cpu = VisualGeneticAligner(device="cpu", **params).fit(X, y)
    gpu = VisualGeneticAligner(device="cuda", **params).fit(X, y)
    assert gpu.device_.startswith("cuda")
    assert next(gpu.projection_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(gpu.transform(X), cpu.transform(X), atol=1e-3)
    assert np.mean(gpu.predict(X) == cpu.predict(X)) > 0.95


def test_warns_nothing_on_a_clean_fit(small):
    X, y, anchors = small
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VisualGeneticAligner(anchors=anchors, max_epochs=3).fit(X, y).predict(X)


def test_aligner_fits_the_projection_classifier_it_names():
    X, y, anchors = small_problem()
    params = dict(anchors=anchors, max_epochs=20, random_state=0)
    aligner = VisualGeneticAligner(classifier="hybrid", **params).fit(X, y)
    alone = AnchorProjectionClassifier(rule="hybrid", **params).fit(X, y)
    assert isinstance(aligner.rule_, AnchorProjectionClassifier)
    np.testing.assert_allclose(aligner.predict_proba(X), alone.predict_proba(X))
    np.testing.assert_allclose(aligner.transform(X), alone.transform(X))
    np.testing.assert_array_equal(aligner.loss_curve_, alone.loss_curve_)
    # a prototype-fitted aligner cannot switch to a projection rule unrefitted
    proto = VisualGeneticAligner(anchors=anchors, random_state=0).fit(X, y)
    proto.set_params(classifier="knn")
    with pytest.raises(ValueError, match="fitted with classifier='prototype'"):
        proto.predict(X)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: GeneticPrototypeClassifier(anchors=a, missing_anchors="visual_only"),
        lambda a: AnchorProjectionClassifier(anchors=a, missing_anchors="visual_only"),
        lambda a: VisualGeneticAligner(anchors=a, missing_anchors="visual_only"),
        lambda a: VisualGeneticAligner(
            anchors=a, classifier="knn", missing_anchors="visual_only"
        ),
    ],
)
def test_no_class_with_an_anchor_raises_in_every_rule(make):
    # the twins agree: DNA that pairs with no species of y is an error (the
    # prototype rule used to warn and fit nearest class mean, the projection
    # rules raised), found by check_species before any fit
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(12, 4)), np.repeat(["a", "b", "c"], 4)
    clf = make({"x": rng.normal(size=3), "z": rng.normal(size=3)})
    with pytest.raises(ValueError, match="no class of y has an anchor"):
        clf.check_species(y)
    with pytest.raises(ValueError, match="NearestCentroid"):
        clf.fit(X, y)


def test_projection_rules_fit_their_temperature_like_the_prototype_rule():
    # temperature="auto" means fitted in every rule (it was a fixed 0.1 for
    # the projection rules): on linked embeddings the fitted temperature's
    # probabilities are better calibrated on new images, over 4 worlds
    from vgestimators.metrics import expected_calibration_error

    gaps = []
    for seed in range(4):
        data = make_linked_embeddings(random_state=seed)
        clf = AnchorProjectionClassifier(
            anchors=data.anchors, rule="anchor", random_state=0
        ).fit(data.X_train, data.y_train)
        assert clf.settings()["temperature"] == clf.temperature_ != 0.1
        fitted = expected_calibration_error(
            data.y_test, clf.predict_proba(data.X_test), classes=clf.classes_
        )
        fixed = clf.set_params(temperature=0.1)  # read at predict time
        assert fixed.settings()["temperature"] == 0.1
        gaps.append(
            expected_calibration_error(
                data.y_test, fixed.predict_proba(data.X_test), classes=clf.classes_
            )
            - fitted
        )
    assert np.mean(gaps) > 0.02, gaps
    # the aligner reads its rule's fitted temperature
    aligner = VisualGeneticAligner(
        anchors=data.anchors, classifier="anchor", random_state=0
    ).fit(data.X_train, data.y_train)
    assert aligner._settings()["temperature"] == aligner.rule_.temperature_
