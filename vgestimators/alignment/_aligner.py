"""VisualGeneticAligner: image embeddings aligned with genetic anchors."""

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ..utils._device import resolve_device
from ..utils._docstrings import substitute
from ..utils._labels import check_labels
from ..utils._random import derive_seed, torch_seeded
from ._anchors_input import (
    _fmt_labels,
    check_anchor_coverage,
    check_species,
    fit_anchor_table,
    union_classes,
)
from ._neighbours import KNN_ALGORITHMS, nearest_neighbours
from ._projection import build_projection, train_projection
from ._prototypes import GeneticPrototypeClassifier
from ._validation import check_finite_rows, check_unknown_label, label_unknown

#: Parameters the aligner hands to its GeneticPrototypeClassifier.
_PROTOTYPE_PARAMS = (
    "anchors",
    "sequences",
    "species_mapping",
    "standardize_anchors",
    "prior",
    "shrinkage",
    "seen_bias",
    "objective",
    "temperature",
    "zero_shot",
    "missing_anchors",
    "novelty_threshold",
    "novelty_rate",
    "unknown_label",
    "class_weight",
    "dna_test",
    "random_state",
)


def _delegated(method):
    """Hand ``method`` over to the prototype rule when that is the fitted rule."""

    @functools.wraps(method)
    def delegating(self, X):
        if self._delegate():
            rule = self.prototype_classifier_
            return getattr(rule, method.__name__)(self._validate_X(X))
        return method(self, X)

    return delegating


@substitute
class VisualGeneticAligner(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Classify species from image embeddings with the help of their DNA.

    The default rule (``classifier="prototype"``) is a
    :class:`GeneticPrototypeClassifier`: nearest class prototype, where a
    map learned across species from genetic anchors to visual class means
    (the cross-domain alignment) gives every species with DNA a predicted
    prototype, and each class's visual mean is shrunk toward it the more,
    the fewer images it has. Species with DNA but no image are recognised
    from their predicted prototype, balanced against the seen ones by
    calibrated stacking. It needs no training loop and was the strongest
    rule measured on rare and image-less species (see the user guide).

    The paper's rules (``"knn"``, ``"anchor"``, ``"hybrid"``) train a
    projection (linear or a small MLP) maps visual embeddings, such as those
    of :class:`~vgestimators.vision.TripletImageEmbedder`, into the space of
    the genetic anchors (one vector per species, e.g. averaged SGT embeddings
    of 18S sequences from :class:`~vgestimators.genetics.GeneticAnchors`). It
    is trained with the cross-domain cosine alignment loss of Karaderi et al.
    (2024), ``(1 - cos(v, a_y)) + max(0, cos(v, a_n) - margin)``, so that
    species with few images borrow structure from their DNA. Classification
    happens in the aligned space: k-NN over the aligned training images, the
    nearest anchor, or a blend; the anchor rules also recognise species that
    have an anchor but no training image (zero-shot recognition from DNA).

    Parameters
    ----------
    anchors : dict, DataFrame, estimator or None, default=None
        The genetic anchors:

        - dict mapping class label -> 1-D vector, or a DataFrame indexed by
          class label with one numeric column per feature;
        - an anchor estimator such as
          :class:`~vgestimators.genetics.GeneticAnchors`. When ``sequences``
          is given, a clone of it is fitted on them inside ``fit`` (so
          ``GridSearchCV`` can tune e.g. ``anchors__embedder__kappa`` of
          ``GeneticAnchors(embedder=SGTTransformer())``); when
          ``sequences`` is None it must already be fitted and its
          ``anchors_`` are used (wrap it in
          :class:`sklearn.frozen.FrozenEstimator` to survive cloning);
        - None: ``GeneticAnchors()`` fitted on ``sequences``.

        Anchors of classes absent from ``y`` take part in the loss as
        negatives and, with ``zero_shot=True`` and an anchor-based
        ``classifier``, become predictable classes.
    sequences : DataFrame or tuple, default=None
        DNA used to fit the anchor estimator: a DataFrame with a
        ``"sequence"`` column and a ``"label"`` column (as from
        :func:`~vgestimators.datasets.load_pfr2`) or, failing that, a
        ``"species"`` column (as in ``make_forams(...).sequences``), or a
        ``(sequences, labels)`` pair; the output of
        :func:`~vgestimators.datasets.read_fasta` works as it is. Only used
        with an anchor estimator.
    ${species_mapping}
    standardize_anchors : bool, default=True
        Centre and scale the anchors feature-wise across classes before any
        cosine is taken. Raw SGT anchors of different species are nearly
        collinear (pairwise cosine 0.98 to 0.9999 on real 18S data), which
        leaves the margin of the loss nothing to separate; False keeps the
        paper's raw anchors.
    projection : {"linear", "mlp"}, default="linear"
        Affine map, or affine -> ReLU -> affine with ``hidden_layer_size``
        hidden units.
    hidden_layer_size : int, default=256
        Width of the hidden layer of the ``"mlp"`` projection.
    margin : float, default=0.5
        Cosine above which another class's anchor is penalised.
    negatives : {"random", "hardest", "all"}, default="random"
        Negative anchor(s) per sample: one drawn at random (the paper), the
        most similar one, or the mean hinge over all others.
    neighbourhood_weight : float, default=0.0
        Weight of a term that keeps each sample's visual neighbours close
        after projection (KL divergence between softmax neighbour
        distributions, cosine / 0.1, within a batch). 0 turns it off. Samples
        of classes without an anchor enter this term only.
    classifier : {"prototype", "knn", "anchor", "hybrid"}, default="prototype"
        Decision rule. "prototype": DNA-informed class prototypes on the
        visual embeddings themselves (no projection is trained; the
        projection parameters are ignored). The others work in the aligned
        space: k-NN over the aligned training images (the paper), the
        nearest anchor by cosine, or the blend
        ``hybrid_weight * knn + (1 - hybrid_weight) * anchor`` of their
        probabilities. See Notes.
    prior : {"auto", "mean", "ridge", "kernel_ridge", "neighbours"}, default="auto"
        "prototype" rule: the map from anchors to visual means ("auto":
        chosen by leave-species-out error; "mean" ignores the DNA).
    shrinkage : "auto" or float, default="auto"
        "prototype" rule: the prior's strength in images ("auto": chosen on
        held-out images when ``fit`` gets them, else empirical Bayes; 0:
        nearest class mean for classes with images).
    ${seen_bias_objective}
        ("prototype" rule.)
    dna_test : float or None, default=0.05
        "prototype" rule: level of the permutation test that the DNA
        predicts the visual means at all (see
        :class:`GeneticPrototypeClassifier`); None skips it.
    n_neighbors : int, default=5
        Neighbours of the k-NN vote (at most the number of training images).
    knn_algorithm : {"auto", "sklearn", "faiss"}, default="auto"
        Neighbour search of the k-NN rules: scikit-learn's
        ``NearestNeighbors``, or an exact faiss flat index (float32; much
        faster predictions on large reference sets; ``vgestimators[faiss]``).
        "auto" uses faiss from 50,000 training images on when it is
        installed. Both are exact, up to float32 rounding.
    hybrid_weight : float, default=0.5
        Weight of the k-NN part in the ``"hybrid"`` rule (1 is ``"knn"``, 0
        is ``"anchor"``).
    temperature : "auto" or float, default="auto"
        Softmax temperature turning cosines into probabilities. "auto":
        fitted on held-out (or leave-one-image-out) scores for the
        "prototype" rule, 0.1 for the anchor rules.
    zero_shot : bool, default=True
        With ``classifier="prototype"``, ``"anchor"`` or ``"hybrid"``, let
        anchor classes that have no training image join ``classes_``.
        Ignored for ``"knn"``, which cannot predict them.
    novelty_threshold : float or None, default=None
        Open-set recognition: a sample whose similarity
        (:meth:`score_samples`) falls below this value is predicted as
        ``unknown_label``. None predicts a known class for every sample.
        Read at predict time: ``set_params`` on a fitted aligner needs no
        refit.
    ${novelty_rate}
        ("prototype" rule.)
    ${unknown_label}
    missing_anchors : {"raise", "visual_only"}, default="raise"
        A class of ``y`` without an anchor raises a ValueError listing such
        classes, or (``"visual_only"``) takes part through the visual k-NN
        alone: its samples are left out of the alignment loss (they are still
        projected, and enter the neighbourhood term), and in the anchor and
        hybrid rules it receives its k-NN share (see Notes).
    class_weight : dict, "balanced" or None, default=None
        Per-class weights of the samples in the alignment loss; "balanced"
        weighs each class by ``n_samples / (n_classes * count)``. It shapes
        the projection, not the k-NN vote.
    max_epochs : int, default=100
        Passes over the training set.
    batch_size : int or None, default=1024
        Mini-batch size; None trains on the full batch.
    lr : float, default=0.01
        Adam learning rate.
    weight_decay : float, default=0.0
        Adam weight decay.
    tol : float or None, default=1e-4
        Early stop when the epoch loss has not improved by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs; None always runs
        ``max_epochs``.
    n_iter_no_change : int, default=10
        Patience of the early stop.
    device : {"auto", "cpu", "cuda"} or str, default="auto"
        Where the projection is trained ("auto": CUDA when available). The
        fitted projection is kept on the CPU; prediction runs there in
        float64.
    random_state : int, RandomState instance or None, default=None
        Seeds the projection's initialisation, shuffling and random
        negatives, and the "prototype" rule's DNA test; fits are repeatable given
        the same value.
    verbose : int, default=0
        Print the loss every ``verbose`` epochs (0: silent).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels the rule can predict: those of ``y``, plus anchor-only
        classes when ``zero_shot`` applies.
    anchors_ : DataFrame of shape (n_anchors, n_anchor_features)
        The anchors used (standardised when ``standardize_anchors``), indexed
        by class label.
    anchor_mean_, anchor_scale_ : ndarray of shape (n_anchor_features,) or None
        Centring and scaling applied to the raw anchors (None when not
        standardised).
    genetic_anchors_ : estimator or None
        The fitted anchor estimator (a clone of ``anchors`` fitted on
        ``sequences``, or ``anchors`` itself), None for dict/DataFrame
        anchors.
    unanchored_classes_ : ndarray
        Classes of ``y`` without an anchor (``missing_anchors="visual_only"``).
    zero_shot_classes_ : ndarray
        Classes in ``classes_`` with an anchor but no training image.
    calibration_ : Calibration or None
        "prototype" rule: where its constants come from and what they
        promise (see :class:`GeneticPrototypeClassifier`); None for the
        other rules.
    prototype_classifier_ : GeneticPrototypeClassifier or None
        The fitted default rule (``classifier="prototype"``): its
        ``prior_``, ``shrinkage_``, ``seen_bias_``, ``dna_p_value_`` and
        ``prototypes_`` explain the predictions. None for the other rules.
    projection_ : torch.nn.Module or None
        The trained projection (on the CPU, evaluation mode); None with
        ``classifier="prototype"``, which trains none.
    loss_curve_ : list of float
        Training loss of each epoch.
    n_epochs_ : int
        Epochs run (fewer than ``max_epochs`` after an early stop).
    device_ : str
        Device the projection was trained on.
    ${embedding_input_attributes}

    See Also
    --------
    vgestimators.genetics.GeneticAnchors : Per-species anchors from DNA.
    vgestimators.vision.TripletImageEmbedder : Visual embeddings of images.
    vgestimators.losses.CosineAlignmentLoss : The alignment loss.
    sklearn.neighbors.KNeighborsClassifier : k-NN without alignment.

    Notes
    -----
    Let ``P_knn`` be the k-NN vote fractions over the classes, ``P_anc`` the
    softmax of the cosines to the anchors (over classes with an anchor),
    ``g`` the share of a sample's k neighbours whose class has an anchor and
    ``w`` the k-NN weight (1 for "knn", 0 for "anchor", ``hybrid_weight``
    for "hybrid"). The class probabilities are::

        P = w * P_knn + (1 - w) * (P_knn[unanchored] + g * P_anc)

    With every class anchored, ``g = 1`` and this is the plain blend
    ``w * P_knn + (1 - w) * P_anc``; anchor-only (zero-shot) classes receive
    probability through ``P_anc`` alone, classes without an anchor through
    ``P_knn`` alone. ``predict`` takes the most probable class, so
    "anchor" with all classes anchored is the nearest anchor by cosine.

    The similarity used for open-set recognition mixes the same way the mean
    cosine ``s_knn`` to the k nearest aligned training images and the
    largest cosine ``s_anc`` to an anchor:
    ``s = w * s_knn + (1 - w) * ((1 - g) * s_knn + g * s_anc)``.

    The loss and the k-NN rule follow Karaderi, Burghardt, Morard and
    Schmidt, "Deep Visual-Genetic Biometrics for Taxonomic Classification of
    Rare Species", WACV 2024 (arXiv:2305.06695); the anchor and hybrid rules,
    zero-shot classes and the open-set threshold are additions.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.alignment import VisualGeneticAligner
    >>> rng = np.random.RandomState(0)
    >>> names = list("abcdefghijkl")
    >>> anchors = {name: rng.normal(size=4) for name in names}
    >>> mix = rng.normal(size=(4, 16))  # images depend on DNA through `mix`
    >>> y = np.repeat(names[:-1], 10)  # no image of species "l"
    >>> X = np.vstack([anchors[c] for c in y]) @ mix
    >>> X += 0.5 * rng.normal(size=X.shape)
    >>> clf = VisualGeneticAligner(anchors=anchors, classifier="anchor",
    ...                            random_state=0).fit(X, y)
    >>> clf.zero_shot_classes_
    array(['l'], dtype='<U1')
    >>> X_l = anchors["l"] @ mix + 0.5 * rng.normal(size=(5, 16))
    >>> clf.predict(X_l)  # recognised from its DNA alone
    array(['l', 'l', 'l', 'l', 'l'], dtype='<U1')
    >>> clf.transform(X_l).shape
    (5, 4)
    """

    _parameter_constraints: dict = {
        "anchors": [None, dict, pd.DataFrame, HasMethods(["fit"])],
        "sequences": [None, pd.DataFrame, tuple],
        "species_mapping": [None, dict],
        "standardize_anchors": ["boolean"],
        "projection": [StrOptions({"linear", "mlp"})],
        "hidden_layer_size": [Interval(Integral, 1, None, closed="left")],
        "margin": [Interval(Real, -1, 1, closed="both")],
        "negatives": [StrOptions({"random", "hardest", "all"})],
        "neighbourhood_weight": [Interval(Real, 0, None, closed="left")],
        "classifier": [StrOptions({"prototype", "knn", "anchor", "hybrid"})],
        "prior": GeneticPrototypeClassifier._parameter_constraints["prior"],
        "shrinkage": GeneticPrototypeClassifier._parameter_constraints["shrinkage"],
        "seen_bias": GeneticPrototypeClassifier._parameter_constraints["seen_bias"],
        "objective": GeneticPrototypeClassifier._parameter_constraints["objective"],
        "dna_test": GeneticPrototypeClassifier._parameter_constraints["dna_test"],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "knn_algorithm": [StrOptions(set(KNN_ALGORITHMS))],
        "hybrid_weight": [Interval(Real, 0, 1, closed="both")],
        "temperature": GeneticPrototypeClassifier._parameter_constraints["temperature"],
        "zero_shot": ["boolean"],
        "novelty_threshold": [None, Interval(Real, None, None, closed="neither")],
        "novelty_rate": GeneticPrototypeClassifier._parameter_constraints[
            "novelty_rate"
        ],
        "unknown_label": [str, Integral],
        "missing_anchors": [StrOptions({"raise", "visual_only"})],
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [None, Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "tol": [None, Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        anchors=None,
        sequences=None,
        species_mapping=None,
        standardize_anchors=True,
        projection="linear",
        hidden_layer_size=256,
        margin=0.5,
        negatives="random",
        neighbourhood_weight=0.0,
        classifier="prototype",
        prior="auto",
        shrinkage="auto",
        seen_bias="auto",
        objective="balanced",
        dna_test=0.05,
        n_neighbors=5,
        knn_algorithm="auto",
        hybrid_weight=0.5,
        temperature="auto",
        zero_shot=True,
        novelty_threshold=None,
        novelty_rate=None,
        unknown_label="unknown",
        missing_anchors="raise",
        class_weight=None,
        max_epochs=100,
        batch_size=1024,
        lr=0.01,
        weight_decay=0.0,
        tol=1e-4,
        n_iter_no_change=10,
        device="auto",
        random_state=None,
        verbose=0,
    ):
        self.anchors = anchors
        self.sequences = sequences
        self.species_mapping = species_mapping
        self.standardize_anchors = standardize_anchors
        self.projection = projection
        self.hidden_layer_size = hidden_layer_size
        self.margin = margin
        self.negatives = negatives
        self.neighbourhood_weight = neighbourhood_weight
        self.classifier = classifier
        self.prior = prior
        self.shrinkage = shrinkage
        self.seen_bias = seen_bias
        self.objective = objective
        self.dna_test = dna_test
        self.n_neighbors = n_neighbors
        self.knn_algorithm = knn_algorithm
        self.hybrid_weight = hybrid_weight
        self.temperature = temperature
        self.zero_shot = zero_shot
        self.novelty_threshold = novelty_threshold
        self.novelty_rate = novelty_rate
        self.unknown_label = unknown_label
        self.missing_anchors = missing_anchors
        self.class_weight = class_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_val=None, y_val=None, held_out=None):
        """Fit the anchors (if needed), the projection and the classifier.

        ``X_val``, ``y_val`` and ``held_out`` are for the "prototype" rule
        only.

        ${fit_held_out_parameters}
        """
        if self.classifier != "prototype" and (
            X_val is not None or held_out is not None
        ):
            raise ValueError(
                "X_val / held_out choose the constants of the prototype rule; "
                f"classifier={self.classifier!r} has none to choose."
            )
        X, y = validate_data(
            self,
            X,
            y,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
        )
        check_finite_rows(X, "X")
        y, y_classes, y_idx, _ = check_labels(
            y,
            classification=True,
            min_classes=2,
            too_few=(
                "VisualGeneticAligner needs images of at least 2 classes; y "
                "holds one class ({classes[0]!r}), so there is nothing to "
                "classify."
            ),
        )

        if self.classifier == "prototype":
            return self._fit_prototype(X, y, X_val, y_val, held_out)
        self.prototype_classifier_ = self.calibration_ = None
        fitted = fit_anchor_table(self, y_classes)
        labels, matrix = fitted.labels, fitted.matrix
        self.genetic_anchors_, self.anchors_ = fitted.genetic_anchors, fitted.table
        self.anchor_mean_, self.anchor_scale_ = fitted.mean, fitted.scale
        if not self.standardize_anchors:
            self._warn_if_collinear(matrix)
        row_of = {label: i for i, label in enumerate(labels)}

        missing = check_anchor_coverage(
            y_classes,
            labels,
            self.missing_anchors,
            "classify them by the visual k-NN alone",
        )
        if len(missing) == len(y_classes):
            raise ValueError(
                "no class of y has an anchor, so there is nothing to align: y's "
                f"classes are {_fmt_labels(y_classes)}, the anchors' "
                f"{_fmt_labels(labels)}."
            )
        self.unanchored_classes_ = np.asarray(missing, dtype=y_classes.dtype)

        in_y = set(y_classes.tolist())
        extra = [lab for lab in labels if lab not in in_y]
        if self.classifier != "knn" and self.zero_shot and extra:
            self.classes_ = union_classes(y_classes, extra)
            self.zero_shot_classes_ = np.asarray(
                [c for c in self.classes_ if c not in in_y], dtype=self.classes_.dtype
            )
        else:
            self.classes_ = y_classes
            self.zero_shot_classes_ = y_classes[:0]
        if self.novelty_threshold is not None:
            check_unknown_label(self.unknown_label, self.classes_)
        # anchor row of each class of classes_ (-1: no anchor)
        self._class_anchor_row = np.array(
            [row_of.get(c, -1) for c in self.classes_], dtype=np.intp
        )
        y_cls = np.searchsorted(self.classes_, y_classes)[y_idx]
        targets = self._class_anchor_row[y_cls]

        # projection ----------------------------------------------------
        self.device_ = resolve_device(self.device)
        seed = derive_seed(self.random_state)
        self._x_mean = X.mean(axis=0)
        scale = X.std(axis=0)
        self._x_scale = np.where(scale > 0, scale, 1.0)
        # built on the CPU (train_projection moves it to device_)
        with torch_seeded(seed):
            module = build_projection(
                self.projection, X.shape[1], matrix.shape[1], self.hidden_layer_size
            )
        self.loss_curve_ = train_projection(
            module,
            (X - self._x_mean) / self._x_scale,
            X,
            targets,
            matrix,
            self._sample_weights(y, targets),
            margin=self.margin,
            negatives=self.negatives,
            neighbourhood_weight=self.neighbourhood_weight,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            device=self.device_,
            seed=seed,
            verbose=self.verbose,
        )
        self.n_epochs_ = len(self.loss_curve_)
        # float64 on the CPU once, for every later transform / predict
        self.projection_ = module.cpu().double().eval()

        # decision rule -------------------------------------------------
        self._anchor_unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        self._anchored_mask = self._class_anchor_row >= 0
        needs_knn = self.classifier != "anchor" or len(missing) > 0
        if needs_knn:
            self._knn_basis = self._span_basis()
            Z = self._project(X)
            if self._knn_basis is not None:
                Z = Z @ self._knn_basis
            self._n_neighbors = min(self.n_neighbors, Z.shape[0])
            self._knn = nearest_neighbours(Z, self._n_neighbors, self.knn_algorithm)
            self._knn_classes = y_cls
        else:
            self._knn = None
        return self

    def check_species(self, y):
        """${check_species}"""
        return check_species(self, y)

    def calibrates_on_held_out(self):
        """Whether ``fit`` takes held-out embeddings (the "prototype" rule)."""
        return self.classifier == "prototype"

    def _fit_prototype(self, X, y, X_val, y_val, held_out):
        params = {name: getattr(self, name) for name in _PROTOTYPE_PARAMS}
        clf = GeneticPrototypeClassifier(**params).fit(
            X, y, X_val=X_val, y_val=y_val, held_out=held_out
        )
        self.prototype_classifier_ = clf
        for name in (
            "classes_",
            "anchors_",
            "genetic_anchors_",
            "zero_shot_classes_",
            "unanchored_classes_",
            "calibration_",
        ):
            setattr(self, name, getattr(clf, name))
        self.anchor_mean_ = self.anchor_scale_ = self.projection_ = None
        self.loss_curve_, self.n_epochs_, self.device_ = [], 0, None
        return self

    def _span_basis(self):
        """Orthonormal basis of the subspace the aligned embeddings live in.

        The last layer is affine, ``z = W h + b``, so every aligned embedding
        lies in the span of W's columns and b. When that span is narrower than
        the anchor space (e.g. 128-wide embeddings, 256-wide SGT anchors), the
        k-NN search runs on coordinates in this basis: the same distances,
        fewer dimensions. None when nothing is gained.
        """
        last = self.projection_[-1]
        weight = last.weight.detach().double().numpy()
        bias = last.bias.detach().double().numpy()
        if weight.shape[1] + 1 >= weight.shape[0]:
            return None
        basis, _ = np.linalg.qr(np.column_stack([weight, bias]))
        return basis

    def _sample_weights(self, y, targets):
        weights = np.ones(len(y), dtype=np.float64)
        if self.class_weight is None:
            return weights
        anchored = targets >= 0
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            # only the anchored classes take part in the alignment loss
            present = set(np.unique(y[anchored]).tolist())
            class_weight = {c: w for c, w in class_weight.items() if c in present}
        weights[anchored] = compute_sample_weight(class_weight, y[anchored])
        return weights

    def _warn_if_collinear(self, matrix):
        unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
        cos = unit @ unit.T
        off = cos[~np.eye(len(cos), dtype=bool)]
        if off.min() > self.margin:
            warnings.warn(
                f"every pair of raw anchors has cosine above margin={self.margin} "
                f"(smallest {off.min():.4f}, median {np.median(off):.4f}): the "
                "hinge of the alignment loss is active for every negative and "
                "cannot be satisfied. standardize_anchors=True centres and "
                "scales them first.",
                UserWarning,
                stacklevel=3,
            )

    # ------------------------------------------------------------ inference
    def _validate_X(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
        )
        check_finite_rows(X, "X")
        return X

    def _delegate(self):
        check_is_fitted(self)
        return self.prototype_classifier_ is not None

    def _project(self, X):
        """Aligned, L2-normalised embeddings of validated X (float64)."""
        module = self.projection_
        x = torch.as_tensor((X.astype(np.float64) - self._x_mean) / self._x_scale)
        with torch.no_grad():
            z = module(x)
        z = torch.nn.functional.normalize(z, dim=1)
        return z.numpy()

    def _knn_weight(self):
        return {"knn": 1.0, "anchor": 0.0, "hybrid": float(self.hybrid_weight)}[
            self.classifier
        ]

    def _proba_and_similarity(self, X):
        """Probabilities and similarity of the aligned-space rules."""
        Z = self._project(self._validate_X(X))
        n, n_classes = Z.shape[0], len(self.classes_)
        w = self._knn_weight()
        if w > 0 and self._knn is None:
            raise ValueError(
                "this aligner was fitted with classifier='anchor' and kept no "
                f"training embeddings; refit it to use classifier={self.classifier!r}."
            )
        anchored = self._anchored_mask
        if self._knn is not None:
            Zk = Z if self._knn_basis is None else Z @ self._knn_basis
            dist, ind = self._knn.kneighbors(Zk)
            s_knn = (1.0 - dist**2 / 2.0).mean(axis=1)
            votes = self._knn_classes[ind]
            p_knn = np.zeros((n, n_classes))
            rows = np.repeat(np.arange(n), votes.shape[1])
            np.add.at(p_knn, (rows, votes.ravel()), 1.0)
            p_knn /= votes.shape[1]
            gate = p_knn[:, anchored].sum(axis=1)
        else:
            s_knn = p_knn = None
            gate = np.ones(n)
        if w == 1.0:
            return p_knn, s_knn
        rows = self._class_anchor_row[anchored]
        cos = Z @ self._anchor_unit[rows].T
        temperature = 0.1 if self.temperature == "auto" else self.temperature
        logits = cos / temperature
        logits -= logits.max(axis=1, keepdims=True)
        p_anc = np.exp(logits)
        p_anc /= p_anc.sum(axis=1, keepdims=True)
        s_anc = cos.max(axis=1)
        anchor_part = np.zeros((n, n_classes))
        anchor_part[:, anchored] = gate[:, None] * p_anc
        if p_knn is not None:
            anchor_part[:, ~anchored] = p_knn[:, ~anchored]
            s_anchor_rule = (1.0 - gate) * s_knn + gate * s_anc
        else:
            s_anchor_rule = s_anc
        if w == 0.0:
            return anchor_part, s_anchor_rule
        return w * p_knn + (1 - w) * anchor_part, w * s_knn + (1 - w) * s_anchor_rule

    def transform(self, X):
        """Project embeddings into the anchor space (cosines to prototypes).

        With ``classifier="prototype"`` no projection is trained: the
        output is the cosine similarity of each sample to each class
        prototype (one column per class of ``classes_``).

        ${X_parameters}

        Returns
        -------
        Z : ndarray of shape (n_samples, n_anchor_features or n_classes)
            L2-normalised aligned embeddings (or cosines), in X's float dtype.
        """
        X = self._validate_X(X)
        if self._delegate():
            Z = self.prototype_classifier_.cosine_similarity(X)
        else:
            Z = self._project(X)
        return Z.astype(X.dtype, copy=False)

    @_delegated
    def predict_proba(self, X):
        """Class probabilities (see Notes of the class).

        ${predict_proba}
        """
        return self._proba_and_similarity(X)[0]

    @_delegated
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (zeros become ``-inf``).

        ${predict_log_proba}
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @_delegated
    def decision_function(self, X):
        """Class scores: log-probabilities (log-odds for two classes).

        Probabilities of zero are clipped to the smallest positive float, so
        the scores are finite.

        ${decision_function}
        """
        log_proba = np.log(np.clip(self.predict_proba(X), np.finfo(float).tiny, None))
        if log_proba.shape[1] == 2:
            return log_proba[:, 1] - log_proba[:, 0]
        return log_proba

    @_delegated
    def score_samples(self, X):
        """Similarity of each sample to what the model knows (higher: more known).

        The mean cosine to the k nearest aligned training images, the largest
        cosine to an anchor, or their blend, following ``classifier`` (see
        Notes of the class): values in [-1, 1]. The "prototype" rule gives
        its largest adjusted cosine to a prototype.

        ${score_samples}
        """
        return self._proba_and_similarity(X)[1]

    def predict(self, X):
        """Predict the class of each sample (``unknown_label`` when novel).

        ${predict}
        """
        if self._delegate():
            # predict-time settings: the aligner's, also when changed after
            # fit; the fitted rule itself is left as it is
            return self.prototype_classifier_._predict(
                self._validate_X(X), self.novelty_threshold, self.unknown_label
            )
        proba, similarity = self._proba_and_similarity(X)
        y_pred = self.classes_[np.argmax(proba, axis=1)]
        if self.novelty_threshold is None:
            return y_pred
        check_unknown_label(self.unknown_label, self.classes_)
        return label_unknown(
            y_pred, similarity < self.novelty_threshold, self.unknown_label
        )

    def get_feature_names_out(self, input_features=None):
        """Names of the aligned features (the anchor columns).

        ${feature_names_parameters}

        Returns
        -------
        feature_names_out : ndarray of str objects
            The anchor DataFrame's column names when they are strings (e.g.
            SGT features), else ``visualgeneticaligner0``, ``...1``, ...
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        if self.prototype_classifier_ is not None:
            return np.asarray([f"cosine_{c}" for c in self.classes_], dtype=object)
        columns = list(self.anchors_.columns)
        if all(isinstance(c, str) for c in columns):
            return np.asarray(columns, dtype=object)
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(len(columns))], dtype=object)
