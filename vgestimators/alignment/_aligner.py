"""VisualGeneticAligner: image embeddings aligned with genetic anchors."""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ..utils._docstrings import substitute
from ._base import AnchoredClassifierMixin
from ._projection_rule import RULES, AnchorProjectionClassifier, clipped_log_odds
from ._prototypes import GeneticPrototypeClassifier

#: Parameters the aligner hands to its GeneticPrototypeClassifier.
_PROTOTYPE_PARAMS = tuple(
    name for name in GeneticPrototypeClassifier._parameter_constraints
)
#: Parameters the aligner hands to its AnchorProjectionClassifier (besides
#: ``rule`` and ``temperature``).
_PROJECTION_PARAMS = tuple(
    name
    for name in AnchorProjectionClassifier._parameter_constraints
    if name not in ("rule", "temperature")
)


@substitute
class VisualGeneticAligner(
    AnchoredClassifierMixin, ClassifierMixin, TransformerMixin, BaseEstimator
):
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
    ${projection_parameters}
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
    ${knn_parameters}
    temperature : "auto" or float, default="auto"
        Softmax temperature turning cosines into probabilities. "auto":
        fitted by the rule, the one of least class-balanced log-loss: on
        leave-one-image-out scores of the training images for the
        "prototype" rule, on the training images' cosines to the anchors
        for the anchor rules (a fixed 0.1 before 0.2).
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
    ${missing_anchors}
    ${training_parameters}

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
    ${projection_attributes}
    ${embedding_input_attributes}

    See Also
    --------
    vgestimators.genetics.GeneticAnchors : Per-species anchors from DNA.
    vgestimators.vision.TripletImageEmbedder : Visual embeddings of images.
    vgestimators.losses.CosineAlignmentLoss : The alignment loss.
    sklearn.neighbors.KNeighborsClassifier : k-NN without alignment.

    Notes
    -----
    ${projection_notes}

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
        **{
            name: AnchorProjectionClassifier._parameter_constraints[name]
            for name in _PROJECTION_PARAMS
        },
        **{
            name: GeneticPrototypeClassifier._parameter_constraints[name]
            for name in _PROTOTYPE_PARAMS
        },
        "classifier": [StrOptions({"prototype", *RULES})],
        # "auto": fitted by every rule
        "temperature": GeneticPrototypeClassifier._parameter_constraints["temperature"],
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
        alignment_margin=0.5,
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
        margin="deprecated",
    ):
        self.anchors = anchors
        self.sequences = sequences
        self.species_mapping = species_mapping
        self.standardize_anchors = standardize_anchors
        self.projection = projection
        self.hidden_layer_size = hidden_layer_size
        self.alignment_margin = alignment_margin
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
        self.margin = margin

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
        X = validate_data(
            self, X, dtype=[np.float64, np.float32], ensure_all_finite=False
        )
        rule = self._build_rule()
        if self.classifier == "prototype":
            rule.fit(X, y, X_val=X_val, y_val=y_val, held_out=held_out)
        else:
            rule.fit(X, y)
        self.rule_ = rule
        for name in (
            "classes_",
            "anchors_",
            "genetic_anchors_",
            "zero_shot_classes_",
            "unanchored_classes_",
        ):
            setattr(self, name, getattr(rule, name))
        if self.classifier == "prototype":
            self.prototype_classifier_, self.calibration_ = rule, rule.calibration_
            self.anchor_mean_ = self.anchor_scale_ = self.projection_ = None
            self.loss_curve_, self.n_epochs_, self.device_ = [], 0, None
        else:
            self.prototype_classifier_ = self.calibration_ = None
            for name in (
                "anchor_mean_",
                "anchor_scale_",
                "projection_",
                "loss_curve_",
                "n_epochs_",
                "device_",
            ):
                setattr(self, name, getattr(rule, name))
        return self

    def _build_rule(self):
        """The unfitted rule of ``classifier``, with this aligner's parameters."""
        if self.classifier == "prototype":
            return GeneticPrototypeClassifier(
                **{name: getattr(self, name) for name in _PROTOTYPE_PARAMS}
            )
        return AnchorProjectionClassifier(
            **{name: getattr(self, name) for name in _PROJECTION_PARAMS},
            rule=self.classifier,
            temperature=self.temperature,
        )

    def calibrates_on_held_out(self):
        """Whether ``fit`` takes held-out embeddings (the "prototype" rule)."""
        return self.classifier == "prototype"

    # ------------------------------------------------------------ inference
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
        if self.prototype_classifier_ is not None:
            Z = self.rule_.cosine_similarity(X)
        else:
            Z = self.rule_.transform(X)
        return Z.astype(X.dtype, copy=False)

    def _settings(self):
        """The projection rule's predict-time settings, from this aligner."""
        check_is_fitted(self)
        fitted_prototype = self.prototype_classifier_ is not None
        if fitted_prototype != (self.classifier == "prototype"):
            fitted = "'prototype'" if fitted_prototype else "a projection rule"
            raise ValueError(
                f"this aligner was fitted with classifier={fitted}; refit it to "
                f"use classifier={self.classifier!r}."
            )
        if fitted_prototype:
            return None
        temperature = (
            self.rule_.temperature_ if self.temperature == "auto" else self.temperature
        )
        return {
            "rule": self.classifier,
            "hybrid_weight": self.hybrid_weight,
            "temperature": temperature,
        }

    def predict_proba(self, X):
        """Class probabilities of the fitted rule (see Notes of the class).

        ${predict_proba}
        """
        X = self._validate_X(X)
        settings = self._settings()
        if settings is None:
            return self.rule_.predict_proba(X)
        return self.rule_.scores(X, settings)[0]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (zeros become ``-inf``).

        ${predict_log_proba}
        """
        if self._settings() is None:
            return self.rule_.predict_log_proba(self._validate_X(X))
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def decision_function(self, X):
        """Class scores of the fitted rule.

        The "prototype" rule's logits; for the projection rules,
        log-probabilities with zeros clipped to the smallest positive float,
        so the scores are finite (log-odds for two classes).

        ${decision_function}
        """
        if self._settings() is None:
            return self.rule_.decision_function(self._validate_X(X))
        return clipped_log_odds(self.predict_proba(X))

    def score_samples(self, X):
        """Similarity of each sample to what the model knows (higher: more known).

        The mean cosine to the k nearest aligned training images, the largest
        cosine to an anchor, or their blend, following ``classifier`` (see
        Notes of the class): values in [-1, 1]. The "prototype" rule gives
        its largest adjusted cosine to a prototype.

        ${score_samples}
        """
        X = self._validate_X(X)
        settings = self._settings()
        if settings is None:
            return self.rule_.score_samples(X)
        return self.rule_.scores(X, settings)[1]

    def predict(self, X):
        """Predict the class of each sample (``unknown_label`` when novel).

        ``novelty_threshold``, ``unknown_label`` and, for the projection
        rules, ``classifier``, ``hybrid_weight`` and ``temperature`` are this
        aligner's, read now (a ``set_params`` after fit needs no refit); the
        fitted rule is left as it is.

        ${predict}
        """
        X = self._validate_X(X)
        settings = self._settings()
        if settings is None:
            return self.rule_._predict(X, self.novelty_threshold, self.unknown_label)
        return self.rule_._predict(
            X, self.novelty_threshold, self.unknown_label, settings
        )

    def novelty_threshold_for(self, rate):
        """The novelty threshold that flags a share ``rate`` of known species' images.

        "prototype" rule fitted on held-out images: see
        :meth:`GeneticPrototypeClassifier.novelty_threshold_for`. Set it with
        ``set_params(novelty_threshold=...)``, no refit needed.

        Parameters
        ----------
        rate : float in (0, 1)
            Share of images of known species to flag as unknown (e.g. 0.05).

        Returns
        -------
        threshold : float

        Raises
        ------
        ValueError
            If ``rate`` is not in (0, 1), the rule is not "prototype", or
            its constants were not chosen on held-out images.
        """
        check_is_fitted(self)
        if self.prototype_classifier_ is None:
            raise ValueError(
                "novelty_threshold_for reads the threshold from the held-out "
                "scores of the 'prototype' rule; this aligner was fitted with "
                f"classifier={self.rule_.rule!r}: set novelty_threshold directly "
                "(a similarity, see score_samples)."
            )
        return self.prototype_classifier_.novelty_threshold_for(rate)

    def get_feature_names_out(self, input_features=None):
        """Names of the aligned features (the anchor columns).

        ${feature_names_parameters}

        Returns
        -------
        feature_names_out : ndarray of str objects
            "prototype" rule: ``cosine_<class>`` for each class; otherwise
            the anchor DataFrame's column names when they are strings (e.g.
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
