"""The compared methods, each declared once as a Pipeline of public estimators.

``build_pipeline(name, config, sequences, seed)`` returns the unfitted
Pipeline of a row of the table; a reader can copy it into a script and call
``fit(X_train, y_train)`` / ``predict(X_test)``, which is all the benchmark
does with it (:mod:`._split_run`).

Several rows start with the same triplet embedder (same parameters, same
``random_state``). The benchmark gives their Pipelines one ``memory=``
cache, as a user comparing heads would, so that embedder is trained once
per split and its fitted copy is loaded by the others; the fine-tuned row
starts from it through ``init=FrozenEstimator(...)``.
"""

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
    "features_ncm": "Pretrained features + nearest class mean (training-free)",
    "features_prototype": "Pretrained features + VisualGeneticAligner (default)",
}
#: Rows of a pretrained network's features: run when ``features`` is set.
FEATURE_METHODS = ("features_ncm", "features_prototype")


#: Rows whose Pipeline cross-fits the aligner's constants on held-out images.
CALIBRATED = ("prototype", "prototype_shuffled", "features_prototype")


def embedder(config, seed, *, desc="triplet", **params):
    """The TripletImageEmbedder of the triplet rows (``params`` change it)."""
    from ..vision import TripletImageEmbedder

    kwargs = dict(
        backbone=config.backbone,
        weights=None,
        embedding_dim=config.embedding_dim,
        image_size=config.image_size,
        stem=config.stem,
        loss=config.loss,
        miner=config.miner,
        triplet_margin=0.2,
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
    return TripletImageEmbedder(**{**kwargs, **params})


def features(config):
    """The PretrainedImageEmbedder of the feature rows (``config.features``)."""
    from ..vision import PretrainedImageEmbedder

    return PretrainedImageEmbedder.from_spec(
        config.features,
        weights=config.weights or "DEFAULT",
        batch_size=config.batch_size,
        device=config.device,
    )


def _anchors(config):
    from ..genetics import GeneticAnchors

    return GeneticAnchors(n_components=config.anchor_components)


def _aligner(config, sequences, seed, **params):
    from ..alignment import VisualGeneticAligner
    from ..utils._objective import parse_objective

    if params.get("classifier", "prototype") == "prototype":
        params.setdefault("objective", parse_objective(config.objective))
    return VisualGeneticAligner(
        anchors=_anchors(config),
        sequences=sequences,
        device=config.device,
        random_state=seed,
        **params,
    )


def _softmax(config, seed):
    from ..vision import SoftmaxImageClassifier

    return SoftmaxImageClassifier(
        backbone=config.backbone,
        stem=config.stem,
        image_size=config.image_size,
        max_epochs=config.max_epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        device=config.device,
        random_state=seed,
        callbacks=[EpochProgress(desc="softmax", enabled=config.progress)],
    )


def _finetuned(config, sequences, seed):
    from sklearn.frozen import FrozenEstimator

    # frozen: fitted beforehand, and kept fitted when the Pipeline clones
    anchors = FrozenEstimator(
        _anchors(config).fit(sequences["sequence"], sequences["species"])
    )
    return embedder(
        config,
        seed,
        desc="aligned fine-tuning",
        max_epochs=config.finetune_epochs,
        lr=config.lr * config.finetune_lr_factor,
        alignment_anchors=anchors,
        alignment_weight=config.alignment_weight,
        init=embedder(config, seed),
    )


def shuffle_species(sequences, seed):
    """The sequences with species names permuted across species (the control).

    Every sequence of a species gets the name given by a seeded random
    permutation of the species names, so the anchors are real DNA attached
    to (mostly) the wrong species: a gain that survives this control is not
    the DNA's.

    Parameters
    ----------
    sequences : DataFrame
        Columns ``sequence`` and ``species``.
    seed : int
        Seed of the permutation (the benchmark uses the split's seed).

    Returns
    -------
    shuffled : DataFrame
        A copy of ``sequences`` with the species names permuted.

    Examples
    --------
    >>> import pandas as pd
    >>> from vgestimators.benchmark import shuffle_species
    >>> dna = pd.DataFrame({"sequence": ["AC", "AG", "TT"], "species": ["a", "b", "c"]})
    >>> sorted(shuffle_species(dna, seed=0)["species"]) == ["a", "b", "c"]
    True
    """
    names = np.unique(sequences["species"].to_numpy())
    perm = np.random.default_rng(seed).permutation(len(names))
    shuffled = sequences.copy()
    shuffled["species"] = sequences["species"].map(
        dict(zip(names, names[perm], strict=True))
    )
    return shuffled


def _steps(name, config, sequences, seed):
    """The (name, estimator) steps of method ``name``."""
    triplet = ("embed", embedder(config, seed))
    knn = ("knn", KNeighborsClassifier(n_neighbors=5))
    if name == "softmax":
        return [("cnn", _softmax(config, seed))]
    if name == "triplet":
        return [triplet, knn]
    if name == "ncm":
        return [triplet, ("ncm", NearestCentroid())]
    if name == "crt":
        return [
            triplet,
            ("logreg", LogisticRegression(class_weight="balanced", max_iter=2000)),
        ]
    if name == "triplet_lt":
        return [
            ("embed", embedder(config, seed, desc="triplet LT", sampler="m_per_class")),
            knn,
        ]
    if name == "prototype":
        return [triplet, ("align", _aligner(config, sequences, seed))]
    if name == "prototype_shuffled":
        shuffled = shuffle_species(sequences, seed)
        return [triplet, ("align", _aligner(config, shuffled, seed))]
    if name == "aligned":
        return [triplet, ("align", _aligner(config, sequences, seed, classifier="knn"))]
    if name == "finetuned":
        return [("embed", _finetuned(config, sequences, seed)), knn]
    if name == "zero_shot":
        return [
            triplet,
            ("align", _aligner(config, sequences, seed, classifier="anchor")),
        ]
    if name == "features_ncm":
        return [("embed", features(config)), ("ncm", NearestCentroid())]
    if name == "features_prototype":
        return [
            ("embed", features(config)),
            ("align", _aligner(config, sequences, seed)),
        ]
    raise ValueError(f"unknown method {name!r}; choose from {list(METHODS)}.")


def build_pipeline(name, config, sequences, seed, *, memory=None):
    """The unfitted Pipeline of method ``name``.

    Parameters
    ----------
    name : str
        One of the methods, ``"softmax"``, ``"triplet"``, ``"ncm"``,
        ``"crt"``, ``"triplet_lt"``, ``"prototype"``,
        ``"prototype_shuffled"``, ``"aligned"``, ``"finetuned"``,
        ``"zero_shot"``, or, with ``config.features``, ``"features_ncm"`` and
        ``"features_prototype"``.
    config : BenchmarkConfig
        Sizes, epochs and device.
    sequences : DataFrame
        DNA sequences with columns ``sequence`` and ``species``.
    seed : int
        ``random_state`` of every step.
    memory : str, joblib.Memory or None, default=None
        The Pipeline's cache of fitted transformers (``Pipeline(memory=)``).

    Returns
    -------
    pipeline : Pipeline

    Examples
    --------
    >>> import pandas as pd
    >>> from vgestimators.benchmark import BenchmarkConfig, build_pipeline
    >>> dna = pd.DataFrame({"sequence": ["ACGT", "ACGA"], "species": ["a", "b"]})
    >>> pipe = build_pipeline("ncm", BenchmarkConfig.from_preset("tiny"), dna, seed=0)
    >>> [name for name, _ in pipe.steps]
    ['embed', 'ncm']
    """
    steps = _steps(name, config, sequences, seed)
    if name in CALIBRATED and config.calibration_cv:
        from ..pipeline import SpeciesPipeline

        return SpeciesPipeline(
            steps, calibration_cv=config.calibration_cv, memory=memory
        )
    return Pipeline(steps, memory=memory)
