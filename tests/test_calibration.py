"""Where the prototype rule's constants come from: held-out images, a stated objective."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.neighbors import NearestCentroid
from sklearn.preprocessing import StandardScaler

from vgestimators import VisualGeneticAligner
from vgestimators.alignment import GeneticPrototypeClassifier
from vgestimators.datasets import make_linked_embeddings
from vgestimators.metrics import (
    ausuc_score,
    expected_calibration_error,
    seen_unseen_curve,
)
from vgestimators.model_selection import HeldOutSpeciesSplit
from vgestimators.pipeline import SpeciesPipeline


def _unit(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _group_accuracy(y_true, y_pred, mask):
    classes = np.unique(y_true[mask])
    return np.mean([np.mean(y_pred[mask & (y_true == c)] == c) for c in classes])


def _memorised(data, tightness=0.3, seed=0):
    """Training embeddings drawn tighter around their class means than new ones.

    A network that fitted its training images embeds them closer to their
    class means than images it never saw; here the training noise is
    ``tightness`` times the test noise, the held-out (validation) images
    are drawn like the test images.
    """
    rng = np.random.RandomState(seed)
    means = {c: data.X_test[data.y_test == c].mean(0) for c in np.unique(data.y_test)}
    centre = np.vstack([means[c] for c in data.y_train])
    X_train = centre + tightness * (data.X_train - centre)
    X_val = np.vstack([means[c] for c in data.y_test]) + rng.normal(
        scale=1.0, size=data.X_test.shape
    )
    return X_train, X_val


# ---------------------------------------------------------------- metrics
def test_seen_unseen_curve_spans_the_trade_off_and_ausuc_reads_it():
    rng = np.random.RandomState(0)
    classes = np.arange(6)
    seen = classes[:4]
    y = np.repeat(classes, 20)
    scores = rng.normal(size=(len(y), 6))
    scores[np.arange(len(y)), y] += 1.5  # informative scores
    acc_seen, acc_unseen, biases = seen_unseen_curve(
        y, scores, classes=classes, seen_classes=seen
    )
    assert np.all(np.diff(biases) > 0) and 0.0 in biases
    # one end: nothing is named unseen; the other: nothing is named seen
    assert acc_unseen[0] == 0.0 and acc_seen[-1] == 0.0
    assert acc_seen[0] > 0.5 and acc_unseen[-1] > 0.5
    # at bias 0 the curve is plain argmax
    at0 = np.flatnonzero(biases == 0.0)[0]
    pred = classes[np.argmax(scores, axis=1)]
    on_seen = np.isin(y, seen)
    assert acc_seen[at0] == pytest.approx(_group_accuracy(y, pred, on_seen))
    area = ausuc_score(y, scores, classes=classes, seen_classes=seen)
    assert 0.3 < area <= acc_seen.max() * acc_unseen.max() + 1e-12
    # scores that say nothing: a small area
    noise = ausuc_score(
        y, rng.normal(size=scores.shape), classes=classes, seen_classes=seen
    )
    assert noise < area / 2


def test_zero_shot_metrics_name_bad_input():
    scores = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"not in classes, e.g. 'z' at row 2"):
        seen_unseen_curve(
            ["a", "b", "z"], scores, classes=["a", "b"], seen_classes=["a"]
        )
    with pytest.raises(ValueError, match=r"shape \(n_samples, n_classes\) = \(3, 3\)"):
        seen_unseen_curve(
            ["a", "b", "a"], scores, classes=["a", "b", "c"], seen_classes=["a"]
        )
    with pytest.raises(ValueError, match="seen and of unseen"):
        ausuc_score(["a", "a", "a"], scores, classes=["a", "b"], seen_classes=["a"])


def test_expected_calibration_error():
    y = np.array([0, 1, 0, 1])
    sure_and_right = np.eye(2)[y]
    assert expected_calibration_error(y, sure_and_right, classes=[0, 1]) == 0.0
    sure_and_wrong = np.eye(2)[1 - y]
    assert expected_calibration_error(y, sure_and_wrong, classes=[0, 1]) == 1.0
    rng = np.random.RandomState(0)
    # calibrated by construction: the label is drawn from the probabilities
    p = rng.uniform(0.5, 1.0, size=20000)
    proba = np.column_stack([p, 1 - p])
    labels = np.where(rng.uniform(size=p.size) < p, 0, 1)
    assert expected_calibration_error(labels, proba, classes=[0, 1]) < 0.02


# ------------------------------------------------------- the stated objective
def test_objective_moves_the_seen_bias_the_stated_way():
    d = make_linked_embeddings(random_state=0)
    biases, zero_acc, head_acc = {}, {}, {}
    for objective in (0.0, "balanced", "harmonic", 1.0):
        clf = GeneticPrototypeClassifier(
            anchors=d.anchors, objective=objective, random_state=0
        ).fit(d.X_train, d.y_train)
        pred = clf.predict(d.X_test)
        biases[objective] = clf.seen_bias_
        zero_acc[objective] = _group_accuracy(d.y_test, pred, d.group == "zero")
        head_acc[objective] = _group_accuracy(d.y_test, pred, d.group == "head")
        assert clf.calibration_.objective == objective
        assert clf.calibration_.source.startswith("training images")
    # 3 image-less species among 27: "balanced" weighs them 3/27
    assert biases[0.0] <= biases["balanced"] <= biases["harmonic"] <= biases[1.0]
    assert biases[0.0] < biases[1.0]
    assert zero_acc[1.0] >= zero_acc[0.0] + 0.2
    assert head_acc[0.0] >= head_acc[1.0]


def test_no_image_less_species_no_bias():
    d = make_linked_embeddings(random_state=0)
    clf = GeneticPrototypeClassifier(
        anchors=d.anchors, zero_shot=False, objective="harmonic"
    ).fit(d.X_train, d.y_train)
    assert clf.seen_bias_ == 0.0


# ----------------------------------------------------- held-out embeddings
def test_held_out_embeddings_choose_the_constants():
    d = make_linked_embeddings(random_state=1)
    X_train, X_val = _memorised(d)
    val = d.group != "zero"  # held-out images of the seen species only
    clf = GeneticPrototypeClassifier(
        anchors=d.anchors, novelty_rate=0.1, random_state=0
    ).fit(X_train, d.y_train, X_val=X_val[val], y_val=d.y_test[val])
    cal = clf.calibration_
    assert cal.source == "held-out images" and cal.n_folds == 1
    assert cal.n_images == val.sum()
    # no held-out species: held-out images are also scored against their
    # DNA prototype alone (pretended image-less)
    assert cal.n_unseen_images > 0
    assert clf.seen_bias_ == cal.seen_bias and clf.shrinkage_ == cal.shrinkage
    # the threshold flags the stated share of held-out images of known species
    flagged = clf.score_samples(X_val[val]) < clf.novelty_threshold_
    assert flagged.mean() == pytest.approx(0.1, abs=0.01)
    pred = clf.predict(d.X_test)
    assert 0.03 < np.mean(pred[val] == "unknown") < 0.2
    summary = cal.summary()
    assert summary["source"] == "held-out images"
    assert summary["objective_text"].startswith("balanced accuracy")
    # held-out images of image-less species count as such
    with_zero = GeneticPrototypeClassifier(anchors=d.anchors, random_state=0).fit(
        X_train, d.y_train, X_val=X_val, y_val=d.y_test
    )
    assert with_zero.calibration_.n_unseen_images == (d.group == "zero").sum()


def test_novelty_threshold_for_a_share_of_held_out_images(tmp_path):
    from vgestimators.io import export_model, import_model

    d = make_linked_embeddings(random_state=1)
    X_train, X_val = _memorised(d)
    val = d.group != "zero"
    clf = GeneticPrototypeClassifier(
        anchors=d.anchors, novelty_rate=0.1, random_state=0
    ).fit(X_train, d.y_train, X_val=X_val[val], y_val=d.y_test[val])
    # the held-out top scores are kept, sorted, small
    scores = clf.calibration_.novelty_scores
    assert scores.dtype == np.float32 and len(scores) == val.sum()
    assert (np.diff(scores) >= 0).all()
    # the rate given at fit, or any other after it, on one scale
    assert clf.novelty_threshold_for(0.1) == clf.novelty_threshold_
    for rate in (0.05, 0.3):
        threshold = clf.novelty_threshold_for(rate)
        flagged = clf.score_samples(X_val[val]) < threshold
        assert flagged.mean() == pytest.approx(rate, abs=0.01)
    # the aligner gives the same; a portable file keeps the scores
    aligner = VisualGeneticAligner(anchors=d.anchors, random_state=0).fit(
        X_train, d.y_train, X_val=X_val[val], y_val=d.y_test[val]
    )
    assert aligner.novelty_threshold_for(0.3) == pytest.approx(
        clf.novelty_threshold_for(0.3)
    )
    again = import_model(export_model(aligner, tmp_path / "model.zip"))
    assert again.novelty_threshold_for(0.3) == aligner.novelty_threshold_for(0.3)
    # no held-out scores, another rule, a rate that is no share: named
    on_training = GeneticPrototypeClassifier(anchors=d.anchors).fit(X_train, d.y_train)
    with pytest.raises(ValueError, match="chose them on training images.*X_val"):
        on_training.novelty_threshold_for(0.1)
    with pytest.raises(ValueError, match=r"rate must be a share of images in \(0, 1\)"):
        clf.novelty_threshold_for(5)
    knn = VisualGeneticAligner(
        anchors=d.anchors, classifier="knn", max_epochs=2, device="cpu"
    ).fit(X_train, d.y_train)
    with pytest.raises(ValueError, match="classifier='knn': set novelty_threshold"):
        knn.novelty_threshold_for(0.1)


@pytest.mark.filterwarnings("ignore:the DNA is not used")
def test_one_spelling_for_all_classes_and_held_out_species_found_by_it():
    # the FASTA writes "_" and lower case; y writes names as image folders do
    rng = np.random.RandomState(0)
    names = ["Alpha one", "Beta two", "Gamma three", "Delta four", "Zeta six"]
    dna = {n: "".join(rng.choice(list("ACGT"), 120)) for n in names}
    sequences = pd.DataFrame(
        {
            "sequence": [dna[n] for n in names for _ in range(2)],
            "species": [
                n.replace(" ", "_").lower() if k else n.replace(" ", "_")
                for n in names
                for k in range(2)
            ],
        }
    )
    X, y = rng.normal(size=(40, 8)), np.repeat(names[:4], 10)
    X_val, y_val = rng.normal(size=(12, 8)), np.repeat(["Alpha one", "Zeta six"], 6)
    clf = GeneticPrototypeClassifier(sequences=sequences, random_state=0).fit(
        X, y, X_val=X_val, y_val=y_val
    )
    # the species known from DNA only is spelled as the others
    assert clf.classes_.tolist() == sorted(names)
    # its held-out images count as images of a species without images
    assert clf.calibration_.n_skipped == 0
    assert clf.calibration_.n_unseen_images == 6


@pytest.mark.filterwarnings("ignore:the DNA is not used")
def test_held_out_calibration_is_not_fooled_by_memorised_training_images():
    # shuffled DNA and training embeddings tighter than new ones: whatever
    # the DNA test says, the seen species keep nearest class mean's accuracy
    # when the constants are chosen on held-out images
    gaps = []
    for seed in range(3):
        d = make_linked_embeddings(random_state=seed)
        X_train, X_val = _memorised(d, seed=seed)
        keys = list(d.anchors)
        perm = np.random.RandomState(seed).permutation(len(keys))
        shuffled = {keys[i]: d.anchors[keys[j]] for i, j in enumerate(perm)}
        half = np.random.RandomState(seed).rand(len(d.y_test)) < 0.5
        clf = GeneticPrototypeClassifier(anchors=shuffled, random_state=0).fit(
            X_train, d.y_train, X_val=X_val[half], y_val=d.y_test[half]
        )
        test = ~half & (d.group != "zero")
        ncm = NearestCentroid().fit(_unit(X_train), d.y_train)
        acc = np.mean(clf.predict(d.X_test[test]) == d.y_test[test])
        acc_ncm = np.mean(ncm.predict(_unit(d.X_test[test])) == d.y_test[test])
        gaps.append(acc_ncm - acc)
    assert max(gaps) <= 0.03, gaps


def test_held_out_arguments_are_checked():
    d = make_linked_embeddings(random_state=0)
    clf = GeneticPrototypeClassifier(anchors=d.anchors)
    with pytest.raises(ValueError, match="X_val and y_val go together"):
        clf.fit(d.X_train, d.y_train, X_val=d.X_test)
    with pytest.raises(ValueError, match="X_val has 810 rows and y_val 3 labels"):
        clf.fit(d.X_train, d.y_train, X_val=d.X_test, y_val=d.y_test[:3])
    fitted = clone(clf).fit(d.X_train, d.y_train)
    with pytest.raises(ValueError, match="not both"):
        clf.fit(
            d.X_train,
            d.y_train,
            X_val=d.X_test,
            y_val=d.y_test,
            held_out=[(fitted, d.X_test, d.y_test)],
        )
    with pytest.raises(ValueError, match="needs a fitted prototype rule"):
        clf.fit(d.X_train, d.y_train, held_out=[(StandardScaler(), d.X_test, d.y_test)])
    knn = VisualGeneticAligner(anchors=d.anchors, classifier="knn", max_epochs=2)
    with pytest.raises(ValueError, match="classifier='knn' has none to choose"):
        knn.fit(d.X_train, d.y_train, X_val=d.X_test, y_val=d.y_test)


def test_aligner_predict_leaves_the_fitted_rule_alone():
    d = make_linked_embeddings(random_state=0)
    aligner = VisualGeneticAligner(anchors=d.anchors, random_state=0).fit(
        d.X_train, d.y_train
    )
    rule = aligner.prototype_classifier_
    before = rule.get_params()
    threshold = float(np.quantile(aligner.score_samples(d.X_test), 0.5))
    aligner.set_params(novelty_threshold=threshold, unknown_label=-1)
    pred = aligner.predict(d.X_test)
    assert 0.3 < np.mean(pred == -1) < 0.7
    assert rule.get_params() == before  # predict changed nothing fitted


# -------------------------------------------------- cross-fitting a Pipeline
class CountingScaler(StandardScaler):
    """StandardScaler that counts its fits (how often the Pipeline trains)."""

    fits = 0

    def fit(self, X, y=None, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


def _pipeline(anchors, **params):
    return SpeciesPipeline(
        [
            ("scale", CountingScaler()),
            ("aligner", VisualGeneticAligner(anchors=anchors, random_state=0)),
        ],
        **params,
    )


def test_species_pipeline_cross_fits_on_held_out_species():
    d = make_linked_embeddings(random_state=0)
    pipe = _pipeline(d.anchors, calibration_cv=1)
    assert clone(pipe).get_params()["calibration_cv"] == 1
    CountingScaler.fits = 0
    pipe.fit(d.X_train, d.y_train)
    assert CountingScaler.fits == 2  # one hold-out, then all images
    cal = pipe.calibration_
    assert cal is pipe.named_steps["aligner"].calibration_
    assert cal.source == "held-out images" and cal.n_folds == 1
    # some species were held out entirely, and were scored as image-less
    assert cal.n_unseen_images > 0
    assert cal.n_images < len(d.y_train) / 2
    # the final aligner knows every species and kept its parameters
    assert pipe.named_steps["aligner"].get_params()["seen_bias"] == "auto"
    assert pipe.named_steps["aligner"].get_params()["dna_test"] == 0.05
    assert set(pipe.classes_) == set(d.anchors)

    CountingScaler.fits = 0
    three = _pipeline(d.anchors, calibration_cv=3).fit(d.X_train, d.y_train)
    assert CountingScaler.fits == 4 and three.calibration_.n_folds == 3
    cv = HeldOutSpeciesSplit(n_splits=2, n_unseen=3, random_state=5)
    custom = _pipeline(d.anchors, calibration_cv=cv).fit(d.X_train, d.y_train)
    assert custom.calibration_.n_folds == 2

    off = _pipeline(d.anchors).fit(d.X_train, d.y_train)
    assert off.calibration_.source.startswith("training images")
    with pytest.raises(ValueError, match="calibration_cv must be None, an int"):
        _pipeline(d.anchors, calibration_cv="yes").fit(d.X_train, d.y_train)
    with pytest.raises(ValueError, match="calibration_cv=0 must be at least 1"):
        _pipeline(d.anchors, calibration_cv=0).fit(d.X_train, d.y_train)


def test_cross_fitting_names_each_fit_when_steps_print_progress(capsys):
    d = make_linked_embeddings(random_state=0)
    pipe = _pipeline(d.anchors, calibration_cv=2)
    pipe.fit(d.X_train, d.y_train)
    assert capsys.readouterr().out == ""  # silent steps: no label either
    pipe.set_params(aligner__verbose=1).fit(d.X_train, d.y_train)
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if "[SpeciesPipeline]" in line
    ]
    n = len(d.y_train)
    assert [line.split(":")[0] for line in lines] == [
        "[SpeciesPipeline] hold-out 1/2",
        "[SpeciesPipeline] hold-out 2/2",
        f"[SpeciesPipeline] final fit on all {n} images",
    ]
    assert f"of {n} images; the other" in lines[0]


def test_cross_fitting_skips_final_steps_without_constants():
    d = make_linked_embeddings(random_state=0)
    CountingScaler.fits = 0
    pipe = SpeciesPipeline(
        [("scale", CountingScaler()), ("ncm", NearestCentroid())], calibration_cv=1
    )
    with pytest.warns(UserWarning, match="calibration_cv=1 is not used"):
        pipe.fit(d.X_train, d.y_train)
    assert CountingScaler.fits == 1 and pipe.calibration_ is None
    # the rule alone cross-fits too
    rule = SpeciesPipeline(
        [
            ("scale", CountingScaler()),
            ("rule", GeneticPrototypeClassifier(anchors=d.anchors)),
        ],
        calibration_cv=1,
    ).fit(d.X_train, d.y_train)
    assert rule.calibration_.source == "held-out images"


def test_held_out_input_errors_come_before_training_and_name_the_problem():
    d = make_linked_embeddings(random_state=0)
    CountingScaler.fits = 0
    pipe = _pipeline(d.anchors, calibration_cv=1)
    with pytest.raises(ValueError, match="aligner__X_val and calibration_cv"):
        pipe.fit(d.X_train, d.y_train, aligner__X_val=d.X_test, aligner__y_val=d.y_test)
    assert CountingScaler.fits == 0
    bad = _pipeline(d.anchors, calibration_cv=1).set_params(aligner__objective="all")
    with pytest.raises(ValueError, match="objective"):
        bad.fit(d.X_train, d.y_train)
    assert CountingScaler.fits == 0  # refused before anything trained
    clf = GeneticPrototypeClassifier(anchors=d.anchors)
    as_text = d.y_test.astype(str)  # the rule was fitted on integer labels
    with pytest.raises(ValueError, match="no held-out label is a class of the rule"):
        clf.fit(d.X_train, d.y_train, X_val=d.X_test, y_val=as_text)
    fitted = clone(clf).fit(d.X_train, d.y_train)
    with pytest.raises(ValueError, match=r"held_out\[0\]: the embeddings have shape"):
        clf.fit(d.X_train, d.y_train, held_out=[(fitted, d.X_test[:, :5], d.y_test)])


def test_search_with_ordinary_folds_is_warned_held_out_species_folds_are_not():
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    d = make_linked_embeddings(random_state=0)
    search = GridSearchCV(
        VisualGeneticAligner(anchors=d.anchors, random_state=0),
        {"seen_bias": [0.0, 0.05]},
        cv=StratifiedKFold(2),
    )
    with pytest.warns(UserWarning, match="HeldOutSpeciesSplit"):
        search.fit(d.X_train, d.y_train)
    search.set_params(cv=HeldOutSpeciesSplit(n_splits=2, n_unseen=3, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        search.fit(d.X_train, d.y_train)
