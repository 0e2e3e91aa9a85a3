"""The compared methods, each a scikit-learn Pipeline of public estimators.

``build_pipeline(name, config, sequences, seed)`` returns the unfitted
Pipeline of a row of the table; a reader can copy it into a script and call
``fit(X_train, y_train)`` / ``predict(X_test)``.

The benchmark itself avoids training the same network twice: the triplet
embedder of ``"triplet"`` is fitted once per split and its fitted copy is the
first step of ``"aligned"``, ``"zero_shot"`` and the warm start of
``"finetuned"``. Fitting a Pipeline whose first step is already fitted with
the same parameters and ``random_state`` is what ``Pipeline.fit`` would do
(the embedder is deterministic on CPU for a given ``random_state``), so the
scores are those of the Pipelines as printed.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.pipeline import Pipeline

from ._progress import EpochProgress

#: Method name -> label in the table, in the order they are run and shown.
METHODS = {
    "softmax": "Softmax CNN (baseline)",
    "triplet": "Triplet + k-NN (paper)",
    "ncm": "Triplet + nearest class mean",
    "crt": "Triplet + balanced logistic regression (cRT)",
    "triplet_lt": "Triplet, m-per-class sampling + k-NN",
    "prototype": "Triplet + VisualGeneticAligner (default: DNA prototypes)",
    "prototype_shuffled": "Control: default aligner, DNA shuffled across species",
    "aligned": "Triplet + aligner, paper's k-NN rule",
    "finetuned": "Triplet + aligned fine-tuning + k-NN (paper)",
    "zero_shot": "Triplet + aligner, nearest anchor",
}

#: Methods whose last step is fitted on the shared triplet embeddings.
_ON_EMBEDDINGS = (
    "triplet",
    "ncm",
    "crt",
    "prototype",
    "prototype_shuffled",
    "aligned",
    "zero_shot",
)


def embedder(config, seed, *, desc="triplet", **params):
    """A TripletImageEmbedder configured for the benchmark."""
    from ..vision import TripletImageEmbedder

    kwargs = dict(
        backbone=config.backbone,
        weights=None,
        embedding_dim=config.embedding_dim,
        image_size=config.image_size,
        stem=config.stem,
        loss=config.loss,
        miner=config.miner,
        margin=0.2,
        sampler="random",
        augment="shells",
        max_epochs=config.max_epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        device=config.device,
        random_state=seed,
        callbacks=[EpochProgress(desc=desc, enabled=config.progress)],
        verbose=0,
    )
    kwargs.update(params)
    return TripletImageEmbedder(**kwargs)


def anchors_estimator(config):
    """The GeneticAnchors estimator used by every aligned method."""
    from ..genetics import GeneticAnchors

    return GeneticAnchors(n_components=config.anchor_components)


def aligner(config, sequences, seed, **params):
    """A VisualGeneticAligner whose anchors are fitted on ``sequences``."""
    from ..alignment import VisualGeneticAligner

    kwargs = dict(
        anchors=anchors_estimator(config),
        sequences=sequences,
        device=config.device,
        random_state=seed,
    )
    kwargs.update(params)
    return VisualGeneticAligner(**kwargs)


def shuffle_species(sequences, seed):
    """The sequences with species names permuted across species (the control).

    Every sequence of a species gets the name given by a seeded random
    permutation of the species names, so the anchors are real DNA attached
    to (mostly) the wrong species.
    """
    names = np.unique(sequences["species"].to_numpy())
    perm = np.random.default_rng(seed).permutation(len(names))
    shuffled = sequences.copy()
    shuffled["species"] = sequences["species"].map(dict(zip(names, names[perm], strict=True)))
    return shuffled


def build_pipeline(name, config, sequences, seed):
    """The unfitted Pipeline of method ``name``.

    Parameters
    ----------
    name : str
        One of :data:`METHODS`.
    config : BenchmarkConfig
        Sizes, epochs and device.
    sequences : DataFrame
        DNA sequences with columns ``sequence`` and ``species``.
    seed : int
        ``random_state`` of every step.

    Returns
    -------
    pipeline : Pipeline
    """
    knn = KNeighborsClassifier(n_neighbors=5)
    if name == "ncm":
        return Pipeline([("embed", embedder(config, seed)), ("ncm", NearestCentroid())])
    if name == "crt":
        return Pipeline(
            [
                ("embed", embedder(config, seed)),
                (
                    "logreg",
                    LogisticRegression(class_weight="balanced", max_iter=2000),
                ),
            ]
        )
    if name == "prototype":
        return Pipeline(
            [("embed", embedder(config, seed)), ("align", aligner(config, sequences, seed))]
        )
    if name == "prototype_shuffled":
        return Pipeline(
            [
                ("embed", embedder(config, seed)),
                ("align", aligner(config, shuffle_species(sequences, seed), seed)),
            ]
        )
    if name == "softmax":
        from ._softmax import SoftmaxImageClassifier

        return Pipeline(
            [
                (
                    "cnn",
                    SoftmaxImageClassifier(
                        backbone=config.backbone,
                        stem=config.stem,
                        image_size=config.image_size,
                        max_epochs=config.max_epochs,
                        batch_size=config.batch_size,
                        lr=config.lr,
                        device=config.device,
                        random_state=seed,
                        callbacks=[
                            EpochProgress(desc="softmax", enabled=config.progress)
                        ],
                    ),
                )
            ]
        )
    if name == "triplet":
        return Pipeline([("embed", embedder(config, seed)), ("knn", knn)])
    if name == "triplet_lt":
        return Pipeline(
            [
                (
                    "embed",
                    embedder(config, seed, desc="triplet LT", sampler="m_per_class"),
                ),
                ("knn", knn),
            ]
        )
    if name == "aligned":
        return Pipeline(
            [
                ("embed", embedder(config, seed)),
                ("align", aligner(config, sequences, seed, classifier="knn")),
            ]
        )
    if name == "finetuned":
        anchors = anchors_estimator(config).fit(
            sequences["sequence"], sequences["species"]
        )
        return Pipeline(
            [
                (
                    "embed",
                    embedder(
                        config,
                        seed,
                        desc="aligned fine-tuning",
                        max_epochs=config.finetune_epochs,
                        lr=config.lr * config.finetune_lr_factor,
                        alignment_anchors=anchors,
                        alignment_weight=config.alignment_weight,
                        warm_start=True,
                    ),
                ),
                ("knn", knn),
            ]
        )
    if name == "zero_shot":
        return Pipeline(
            [
                ("embed", embedder(config, seed)),
                ("align", aligner(config, sequences, seed, classifier="anchor")),
            ]
        )
    raise ValueError(f"unknown method {name!r}; choose from {list(METHODS)}.")


@dataclass
class MethodResult:
    """Predictions and timing of one method on one split."""

    pipeline: Pipeline
    y_pred: np.ndarray
    y_pred_unseen: np.ndarray | None
    fit_time: float
    predict_time: float
    extra: dict = field(default_factory=dict)


class SplitRunner:
    """Fits the methods of one split, sharing the triplet embedder.

    Parameters
    ----------
    config : BenchmarkConfig
    data : BenchmarkData
    split : Split
    """

    def __init__(self, config, data, split):
        self.config = config
        self.data = data
        self.split = split
        self.X_train = data.X[split.train]
        self.y_train = data.y[split.train]
        self.X_test = data.X[split.test]
        self.y_test = data.y[split.test]
        self.X_unseen = data.X[split.unseen]
        self.y_unseen = data.y[split.unseen]
        self._triplet = None  # (fitted embedder, Z_train, Z_test, Z_unseen, time)

    # -- shared work -----------------------------------------------------------
    def _embed_all(self, emb):
        Z_train = emb.transform(self.X_train)
        Z_test = emb.transform(self.X_test)
        Z_unseen = emb.transform(self.X_unseen) if len(self.X_unseen) else None
        return Z_train, Z_test, Z_unseen

    def triplet(self):
        """The fitted triplet embedder of this split and its embeddings."""
        if self._triplet is None:
            pipe = build_pipeline(
                "triplet", self.config, self.data.sequences, self.split.seed
            )
            emb = pipe.named_steps["embed"]
            start = time.perf_counter()
            emb.fit(self.X_train, self.y_train)
            fit_time = time.perf_counter() - start
            start = time.perf_counter()
            Z = self._embed_all(emb)
            self._triplet = (emb, *Z, fit_time, time.perf_counter() - start)
        return self._triplet

    # -- methods ---------------------------------------------------------------
    def run(self, name):
        """Fit and evaluate method ``name``; returns a :class:`MethodResult`."""
        if name in _ON_EMBEDDINGS:
            return self._fit_head(name)
        return getattr(self, f"_run_{name}")()

    def _fit_embed_knn(self, name):
        pipe = build_pipeline(name, self.config, self.data.sequences, self.split.seed)
        emb, knn = pipe.named_steps["embed"], pipe.named_steps["knn"]
        start = time.perf_counter()
        emb.fit(self.X_train, self.y_train)
        Z_train = emb.transform(self.X_train)
        knn.fit(Z_train, self.y_train)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        y_pred = knn.predict(emb.transform(self.X_test))
        return MethodResult(pipe, y_pred, None, fit_time, time.perf_counter() - start)

    def _run_softmax(self):
        pipe = build_pipeline(
            "softmax", self.config, self.data.sequences, self.split.seed
        )
        start = time.perf_counter()
        pipe.fit(self.X_train, self.y_train)
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        y_pred = pipe.predict(self.X_test)
        return MethodResult(pipe, y_pred, None, fit_time, time.perf_counter() - start)

    def _run_triplet_lt(self):
        return self._fit_embed_knn("triplet_lt")

    def _fit_head(self, name):
        """Fit the last step of method ``name`` on the shared embeddings."""
        emb, Z_train, Z_test, Z_unseen, emb_time, embed_time = self.triplet()
        pipe = build_pipeline(name, self.config, self.data.sequences, self.split.seed)
        pipe.steps[0] = ("embed", emb)
        head = pipe.steps[-1][1]
        start = time.perf_counter()
        head.fit(Z_train, self.y_train)
        fit_time = emb_time + time.perf_counter() - start
        start = time.perf_counter()
        y_pred = head.predict(Z_test)
        y_pred_unseen = head.predict(Z_unseen) if Z_unseen is not None else None
        predict_time = time.perf_counter() - start + embed_time
        extra = {"Z_test": Z_test, "Z_unseen": Z_unseen}
        if hasattr(head, "anchors_"):
            extra["align"] = head
        if Z_unseen is not None:
            extra["y_pred_unseen_restricted"] = _restricted_predict(
                head, Z_unseen, self.split.unseen_species
            )
        return MethodResult(pipe, y_pred, y_pred_unseen, fit_time, predict_time, extra)

    def _run_finetuned(self):
        emb0, _, _, _, emb_time, _ = self.triplet()
        pipe = build_pipeline(
            "finetuned", self.config, self.data.sequences, self.split.seed
        )
        knn = pipe.named_steps["knn"]
        # Warm start: continue from a copy of the triplet-trained network with
        # the fine-tuning parameters (warm_start=True keeps its weights).
        emb = clone_fitted(emb0).set_params(
            **pipe.named_steps["embed"].get_params(deep=False)
        )
        pipe.steps[0] = ("embed", emb)
        start = time.perf_counter()
        emb.fit(self.X_train, self.y_train)
        knn.fit(emb.transform(self.X_train), self.y_train)
        fit_time = emb_time + time.perf_counter() - start
        start = time.perf_counter()
        y_pred = knn.predict(emb.transform(self.X_test))
        return MethodResult(pipe, y_pred, None, fit_time, time.perf_counter() - start)


def clone_fitted(estimator):
    """A deep copy of a fitted estimator (``clone`` would drop its weights)."""
    import copy

    return copy.deepcopy(estimator)


def _restricted_predict(classifier, Z, unseen_species):
    """Prediction among the held-out species only (None if it cannot name them).

    The zero-shot figure of the zero-shot literature: which of the unseen
    species an image of an unseen species is closest to, with the seen
    species out of the competition.
    """
    classes = getattr(classifier, "classes_", np.asarray([]))
    columns = np.flatnonzero(np.isin(classes, unseen_species))
    if len(columns) == 0 or not hasattr(classifier, "predict_proba"):
        return None
    proba = classifier.predict_proba(Z)[:, columns]
    if not proba.any():
        return None  # none of them can be recognised (e.g. the DNA test failed)
    return classes[columns][np.argmax(proba, axis=1)]
