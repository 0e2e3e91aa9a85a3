"""One split of the benchmark: each method's Pipeline fitted and used as a user would."""

import time
import warnings
from dataclasses import dataclass, field

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ._methods import build_pipeline, embedder


@dataclass
class Split:
    """Train, test and held-out-species images of one split."""

    index: int
    seed: int  # random_state of every network of the split
    train: np.ndarray
    test: np.ndarray  # images of the seen species
    unseen: np.ndarray  # images of the species held out of training
    unseen_species: list
    # images of species with neither images nor DNA in training (undescribed)
    undescribed: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    undescribed_species: list = field(default_factory=list)

    @classmethod
    def from_indices(cls, index, seed, y, train, test, undescribed=(), pool=None):
        """Split ``test`` (from a HeldOutSpeciesSplit) into seen and unseen.

        The images of the ``undescribed`` species leave training and the
        test sets; those in ``pool`` (the balanced test set, or all when
        None) are their test images.
        """
        train, test = np.asarray(train), np.asarray(test)
        gone = np.isin(y, list(undescribed))
        kept_train, kept_test = train[~gone[train]], test[~gone[test]]
        seen = np.isin(y[kept_test], y[kept_train])
        mask = gone if pool is None else gone & pool
        return cls(
            index=index,
            seed=seed,
            train=kept_train,
            test=kept_test[seen],
            unseen=kept_test[~seen],
            unseen_species=np.unique(y[kept_test[~seen]]).tolist(),
            undescribed=np.flatnonzero(mask),
            undescribed_species=sorted(undescribed),
        )


def genus_taxonomy(y):
    """The genus of each species from its binomial name; None if some has none."""
    from ..taxonomy import Taxonomy

    try:
        return Taxonomy.from_names(np.unique(np.asarray(y, dtype=str)))
    except (TypeError, ValueError):
        return None


def pick_undescribed(y, train, taxonomy, n, seed):
    """``n`` species of the training images to hold out as undescribed.

    At most one per genus, from genera of at least 3 species, so that each
    keeps 2 described species (with images or DNA) the genus is known by.
    """
    if n == 0 or taxonomy is None:
        return []
    genus = dict(
        zip(
            taxonomy.species,
            taxonomy.taxon_of(taxonomy.species, "genus"),
            strict=True,
        )
    )
    sizes = pd.Series(genus).value_counts()
    trained = sorted(set(np.asarray(y)[train].tolist()))
    rng = np.random.default_rng(seed)
    chosen, used = [], set()
    for species in rng.permutation(trained).tolist():
        g = genus[species]
        if sizes[g] >= 3 and g not in used and len(chosen) < n:
            chosen.append(species)
            used.add(g)
    if len(chosen) < n:
        warnings.warn(
            f"n_undescribed={n}, but only {len(chosen)} species can be held out "
            f"as undescribed: one per genus of at least 3 species "
            f"({int((sizes >= 3).sum())} such genera).",
            UserWarning,
            stacklevel=2,
        )
    return sorted(chosen)


def make_splits(config, data):
    """The run's splits: :class:`~vgestimators.model_selection.HeldOutSpeciesSplit`.

    Each split also holds out ``config.n_undescribed`` species with neither
    images nor DNA (:func:`pick_undescribed`).
    """
    from ..model_selection import HeldOutSpeciesSplit

    cv = HeldOutSpeciesSplit(
        config.n_splits,
        n_unseen=config.n_unseen,
        test_size=config.test_size,
        test_pool=data.balanced_test,
        random_state=config.random_state,
    )
    taxonomy = genus_taxonomy(data.y)
    splits = []
    for k, (train, test) in enumerate(cv.split(data.y, data.y)):
        seed = config.random_state + k
        undescribed = pick_undescribed(
            data.y, train, taxonomy, config.n_undescribed, seed
        )
        splits.append(
            Split.from_indices(
                k, seed, data.y, train, test, undescribed, data.balanced_test
            )
        )
    return splits


@dataclass
class MethodResult:
    """Predictions and timing of one method on one split."""

    pipeline: Pipeline
    y_pred: np.ndarray
    y_pred_unseen: np.ndarray | None
    y_pred_restricted: np.ndarray | None
    fit_time: float
    predict_time: float
    ece: float = float("nan")
    ausuc: float = float("nan")
    curve: tuple | None = None  # (seen accuracy, unseen accuracy) along the bias
    undescribed_genus_accuracy: float = float("nan")
    unknown_auroc: float = float("nan")


class SplitRun:
    """Fits and scores the methods' Pipelines on one split.

    The Pipelines that start with the triplet embedder several rows share
    get the run's ``memory``, so it is trained once per split and loaded
    from the cache by the others; the fine-tuned row gets it as a frozen
    ``init``. A row's fit time counts that training too.

    Parameters
    ----------
    config : BenchmarkConfig
    data : BenchmarkData
    split : Split
    memory : joblib.Memory
        The Pipelines' cache.
    """

    def __init__(self, config, data, split, memory):
        self.config = config
        self.data = data
        self.split = split
        self.memory = memory
        self.X_train, self.y_train = data.X[split.train], data.y[split.train]
        self.X_test, self.y_test = data.X[split.test], data.y[split.test]
        self.X_unseen, self.y_unseen = data.X[split.unseen], data.y[split.unseen]
        self.X_undescribed = data.X[split.undescribed]
        self.y_undescribed = data.y[split.undescribed]
        # the DNA of described species only
        self.sequences = data.sequences[
            ~data.sequences["species"].isin(split.undescribed_species)
        ].reset_index(drop=True)
        # the shared embedder: what identifies it, and once fitted, itself
        # and its training time
        self._shared_key = joblib.hash(clone(embedder(config, split.seed)))
        self._shared = None

    def _is_shared(self, step):
        return joblib.hash(clone(step)) == self._shared_key

    def _shared_embedder(self):
        """The shared triplet embedder, fitted through the cache, and its seconds."""
        if self._shared is None:
            step = embedder(self.config, self.split.seed)
            pipe = Pipeline(
                [("embed", step), ("rest", "passthrough")], memory=self.memory
            )
            start = time.perf_counter()
            pipe.fit(self.X_train, self.y_train)
            seconds = time.perf_counter() - start
            self._shared = (pipe.named_steps["embed"], seconds)
        return self._shared

    def run(self, name):
        """Fit method ``name`` on the training images; predict the test images.

        Returns
        -------
        result : MethodResult
        """
        from sklearn.frozen import FrozenEstimator

        pipe = build_pipeline(name, self.config, self.sequences, self.split.seed)
        first = pipe.steps[0][1]
        shared_seconds = 0.0
        init = getattr(first, "init", None)
        if init is not None and self._is_shared(init):
            # the fine-tuned row starts from the shared embedder, trained once
            fitted, shared_seconds = self._shared_embedder()
            first.set_params(init=FrozenEstimator(fitted))
        elif len(pipe.steps) > 1 and self._is_shared(first):
            # loaded from the cache: only these rows get it
            pipe.set_params(memory=self.memory)
            shared_seconds = self._shared_embedder()[1]
        start = time.perf_counter()
        pipe.fit(self.X_train, self.y_train)
        fit_time = time.perf_counter() - start + shared_seconds
        start = time.perf_counter()
        # pipe.predict, with the test images through the network once
        Z_test = pipe[:-1].transform(self.X_test) if len(pipe) > 1 else self.X_test
        y_pred = pipe[-1].predict(Z_test)
        predict_time = time.perf_counter() - start
        y_pred_unseen = restricted = None
        Z_unseen = None
        if len(self.y_unseen):
            # the held-out images through the network once, for every figure
            Z_unseen = (
                pipe[:-1].transform(self.X_unseen) if len(pipe) > 1 else self.X_unseen
            )
            y_pred_unseen = pipe[-1].predict(Z_unseen)
            restricted = restricted_predict(
                pipe[-1], Z_unseen, self.split.unseen_species
            )
        result = MethodResult(
            pipe, y_pred, y_pred_unseen, restricted, fit_time, predict_time
        )
        self._probability_scores(result, pipe[-1], Z_test, Z_unseen)
        if len(self.y_undescribed):
            Z_undescribed = (
                pipe[:-1].transform(self.X_undescribed)
                if len(pipe) > 1
                else self.X_undescribed
            )
            known = Z_test if Z_unseen is None else _stack(Z_test, Z_unseen)
            scores = undescribed_scores(
                pipe[-1], known, Z_undescribed, self.y_undescribed
            )
            result.undescribed_genus_accuracy, result.unknown_auroc = scores
        return result

    def _probability_scores(self, result, classifier, Z_test, Z_unseen):
        """ECE of ``predict_proba`` and the seen/unseen curve, where they exist."""
        from ..metrics import expected_calibration_error, seen_unseen_curve
        from ..utils._stacking import area_under_curve

        if not hasattr(classifier, "predict_proba"):
            return
        classes = np.asarray(classifier.classes_)
        proba = classifier.predict_proba(Z_test)
        y_true = self.y_test
        if Z_unseen is not None:
            proba = np.vstack([proba, classifier.predict_proba(Z_unseen)])
            y_true = np.concatenate([y_true, self.y_unseen])
        result.ece = expected_calibration_error(y_true, proba, classes=classes)
        unseen = self.split.unseen_species
        nameable = [c for c in unseen if c in set(classes.tolist())]
        if Z_unseen is None or len(nameable) < len(unseen):
            return
        if not proba[:, np.isin(classes, unseen)].any():
            return  # the held-out species can never be named
        with np.errstate(divide="ignore"):
            scores = np.log(proba)
        seen_acc, unseen_acc, _ = seen_unseen_curve(
            y_true,
            scores,
            classes=classes,
            seen_classes=np.unique(self.y_train),
        )
        result.ausuc = area_under_curve(seen_acc, unseen_acc)
        result.curve = (seen_acc, unseen_acc)

    def score(self, name, result):
        """The row of ``scores.csv`` and the rows of ``per_class.csv`` of a result."""
        from ._report import compute_scores, per_class_rows, zero_shot_scores

        config, split = self.config, self.split
        scores = compute_scores(
            self.y_test,
            result.y_pred,
            self.y_train,
            many=config.many,
            few=config.few,
            tail_fraction=config.tail_fraction,
        )
        scores.update(
            zero_shot_scores(
                self.y_test,
                result.y_pred,
                self.y_unseen,
                result.y_pred_unseen,
                result.y_pred_restricted,
            )
        )
        row = {
            "method": name,
            "split": split.index,
            "seed": split.seed,
            **scores,
            "ece": result.ece,
            "ausuc": result.ausuc,
            "undescribed_genus_accuracy": result.undescribed_genus_accuracy,
            "unknown_auroc": result.unknown_auroc,
            **calibration_columns(result.pipeline[-1]),
            "fit_time": result.fit_time,
            "predict_time": result.predict_time,
            "n_train": len(self.y_train),
            "n_test": len(self.y_test),
            "unseen_species": ";".join(split.unseen_species),
            "undescribed_species": ";".join(split.undescribed_species),
        }
        per_class = per_class_rows(
            self.y_test, result.y_pred, self.y_train, test_set="seen"
        )
        if len(self.y_unseen):
            per_class += per_class_rows(
                self.y_unseen, result.y_pred_unseen, self.y_train, test_set="zero-shot"
            )
        return row, per_class


def _stack(a, b):
    if isinstance(a, pd.DataFrame):
        return pd.concat([a, b], ignore_index=True)
    return np.concatenate([np.asarray(a), np.asarray(b)])


def known_score(classifier, Z, proba=None):
    """How known each sample looks: ``score_samples``, else the top probability.

    ``proba``: ``classifier.predict_proba(Z)`` when already computed.
    """
    if hasattr(classifier, "score_samples"):
        return np.asarray(classifier.score_samples(Z), dtype=float)
    if proba is None:
        proba = classifier.predict_proba(Z)
    return np.asarray(proba, dtype=float).max(axis=1)


def undescribed_scores(classifier, Z_known, Z_undescribed, y_undescribed):
    """Genus accuracy on images of undescribed species, and unknown-detection AUROC.

    The genus is the one of largest summed species probability, with the
    genus of each species from its binomial name (the classifier's classes
    include the species known from DNA only, spelled as it spells them);
    the AUROC separates the undescribed species' images from the test
    images of the species the model knows, by :func:`known_score` (lower:
    more unknown). NaN for both without ``predict_proba`` or when some name
    carries no genus.
    """
    from sklearn.metrics import roc_auc_score

    from ..taxonomy import proba_at_rank

    taxonomy = genus_taxonomy(
        np.r_[
            np.asarray(classifier.classes_, dtype=str),
            np.asarray(y_undescribed, dtype=str),
        ]
    )
    if not hasattr(classifier, "predict_proba") or taxonomy is None:
        return float("nan"), float("nan")
    proba = classifier.predict_proba(Z_undescribed)
    P, genera = proba_at_rank(proba, classifier.classes_, taxonomy, "genus")
    truth = taxonomy.taxon_of(y_undescribed, "genus")
    accuracy = float(np.mean(genera[np.argmax(P, axis=1)] == truth))
    known = known_score(classifier, Z_known)
    novel = known_score(classifier, Z_undescribed, proba)
    is_novel = np.r_[np.zeros(len(known)), np.ones(len(novel))]
    auroc = float(roc_auc_score(is_novel, -np.r_[known, novel]))
    return accuracy, auroc


def restricted_predict(classifier, X, unseen_species):
    """Prediction among the held-out species only (None if it cannot name them).

    The zero-shot figure of the zero-shot literature: which of the unseen
    species an image of an unseen species is closest to, with the seen
    species out of the competition.
    """
    classes = getattr(classifier, "classes_", np.asarray([]))
    columns = np.flatnonzero(np.isin(classes, unseen_species))
    if len(columns) == 0 or not hasattr(classifier, "predict_proba"):
        return None
    proba = classifier.predict_proba(X)[:, columns]
    if not proba.any():
        return None  # none of them can be recognised (e.g. the DNA test failed)
    return classes[columns][np.argmax(proba, axis=1)]


def calibration_columns(classifier):
    """The constants a calibrated rule chose, for ``scores.csv`` (else empty)."""
    calibration = getattr(classifier, "calibration_", None)
    names = {
        "calibrated_on": "source",
        "dna_p_value": "dna_p_value",
        "uses_dna": "use_dna",
        "shrinkage": "shrinkage",
        "seen_bias": "seen_bias",
        "expected_seen_accuracy": "expected_seen_accuracy",
        "expected_unseen_accuracy": "expected_unseen_accuracy",
    }
    # every row has the columns (scores.csv's first row fixes them)
    return {
        column: None if calibration is None else getattr(calibration, name)
        for column, name in names.items()
    }
