"""GeneticPrototypeClassifier: class prototypes that borrow strength from DNA."""

from numbers import Real

import numpy as np
import pandas as pd
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._docstrings import substitute
from ..utils._labels import check_labels
from ..utils._labels import format_labels as _fmt_labels
from ..utils._objective import OBJECTIVES
from ..utils._settings import setting
from ..utils._warnings import warn_user
from ._base import AnchoredClassifierMixin
from ._calibration import novelty_threshold_at
from ._prior import MAPS, MIN_MAP_SPECIES, RIDGE_ALPHAS, fit_prior
from ._prototype_calibration import (
    HeldOutFold,
    RuleState,
    calibrate_on_held_out,
    calibrate_on_training,
)
from ._validation import check_finite_rows
from ._vectors import normalize_rows


@substitute
class GeneticPrototypeClassifier(
    AnchoredClassifierMixin, ClassifierMixin, BaseEstimator
):
    """Nearest class prototype, each prototype shrunk toward what its DNA predicts.

    Three steps, all inside ``fit``:

    1. **Visual prototypes.** The mean of each class's (L2-normalised)
       training embeddings, as in nearest class mean (Kang et al., 2020).
    2. **Cross-domain map.** A map from genetic anchors to visual means,
       learned across the species that have both. Candidates: the weighted
       mean of the other species (no DNA), ridge and RBF kernel ridge on the
       anchors, and an average of the genetic neighbours' visual means; the
       map and its regularisation are chosen by leave-one-species-out error,
       each species weighted by the precision of its mean (more images, more
       weight). Every class with an anchor then has a DNA-predicted
       prototype, also those without any image.
    3. **Empirical Bayes shrinkage.** A class with ``n`` images gets
       ``lambda * visual_mean + (1 - lambda) * dna_prototype`` with
       ``lambda = n / (n + kappa)``, where ``kappa`` is the within-class
       variance divided by the map's leave-species-out error variance: the
       better the DNA predicts appearance, the more a rare class leans on it.
       A class without images uses its DNA prototype; a class without an
       anchor keeps its visual mean. When the DNA predicts nothing, ``kappa``
       falls toward 0 and the rule becomes nearest class mean.

    Scores are cosine similarities to the prototypes. Classes without images
    (generalized zero-shot learning) compete with the seen ones through
    calibrated stacking (Chao et al., 2016): ``seen_bias`` is subtracted from
    the seen classes' scores, chosen to maximise a stated ``objective`` (by
    default balanced accuracy over all species, each counted once).
    Probabilities are a softmax of the scores over a fitted temperature.

    Where the constants (DNA test, shrinkage, seen bias, temperature,
    novelty threshold) are chosen matters: embeddings of the images a
    network trained on lie closer to their class means than new images
    will. ``fit(X, y)`` alone chooses them by leave-one-out simulations on
    ``X``, right for fixed features; given held-out embeddings (``X_val``,
    or cross-fitting by :class:`~vgestimators.pipeline.SpeciesPipeline`)
    it chooses them there: the DNA test compares where held-out images lie
    with what the DNA predicts, the shrinkage is the smallest within one
    standard error of the best held-out accuracy of seen species, and the
    seen bias and the novelty threshold are chosen on the held-out images
    (the temperature stays on leave-one-out scores of the training
    embeddings, where it measured better calibrated).

    Read more in the :ref:`User Guide <zero_shot>`.

    Parameters
    ----------
    anchors : dict, DataFrame, estimator or None, default=None
        The genetic anchors, in any form
        :class:`~vgestimators.alignment.VisualGeneticAligner` accepts: a dict
        label -> vector, a DataFrame indexed by label, an anchor estimator
        (cloned and fitted on ``sequences``, or already fitted), or None for
        ``GeneticAnchors()`` fitted on ``sequences``.
    sequences : DataFrame or tuple, default=None
        DNA to fit the anchor estimator on: a DataFrame with a ``"sequence"``
        column and a ``"label"`` or ``"species"`` column, or a
        ``(sequences, labels)`` pair (the output of
        :func:`~vgestimators.datasets.read_fasta` works as it is).
    ${species_mapping}
    standardize_anchors : bool, default=True
        Centre and scale the anchors feature-wise across classes first.
    prior : {"auto", "mean", "ridge", "kernel_ridge", "neighbours"}, default="auto"
        The map from anchors to visual means. "auto" chooses among all four
        by leave-species-out error; "mean" ignores the DNA (every prior is
        the mean of the other species).
    shrinkage : "auto" or float, default="auto"
        ``kappa``, the prior's strength in images: "auto" estimates it by
        empirical Bayes; 0 gives plain nearest class mean for seen classes.
    ${seen_bias_objective}
    temperature : "auto" or float, default="auto"
        Softmax temperature of :meth:`predict_proba`; "auto" minimises the
        class-balanced log-loss of the training images' leave-one-image-out
        scores. This holds also when ``fit`` gets held-out images: fitted on
        those, from the hold-out's weaker network, it left the final model
        under-confident.
    zero_shot : bool, default=True
        Let anchor classes without training images join ``classes_``.
    missing_anchors : {"raise", "visual_only"}, default="raise"
        A class of ``y`` without an anchor raises a ValueError naming such
        classes, or (``"visual_only"``) keeps its visual mean. If no class
        of ``y`` has an anchor, both raise (the DNA pairs with no species
        of ``y``: most likely their names differ; see
        :meth:`check_species`).
    novelty_threshold : float or None, default=None
        Open-set recognition: a sample whose :meth:`score_samples` falls
        below this value is predicted as ``unknown_label``.
    ${novelty_rate}
    ${unknown_label}
    class_weight : dict, "balanced" or None, default=None
        Multiplies each class's probability (adds ``log(weight)`` to its
        logit), as a class prior; "balanced" is the inverse training
        frequency. The rule is already class-balanced without it (every
        prototype counts the same whatever its class's size).
    dna_test : float or None, default=0.05
        With ``prior="auto"``: significance level of a permutation test (99
        permutations of the anchors across species, the whole choice of map
        repeated on each) that the DNA predicts the visual means at all.
        When it fails, the prior is the mean of the other species: no class
        is then recognised from its DNA alone. None skips the test.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations of ``dna_test``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels: those of ``y``, plus anchor-only classes when
        ``zero_shot``.
    prototypes_ : ndarray of shape (n_classes, n_features)
        The class prototypes (in the space of the normalised embeddings).
    visual_means_ : ndarray of shape (n_classes, n_features)
        Mean normalised training embedding of each class (NaN rows for
        classes without images).
    dna_prototypes_ : ndarray of shape (n_classes, n_features)
        What the DNA predicts for each class (leave-one-species-out for
        classes with images; NaN rows for classes without an anchor).
    class_counts_ : ndarray of shape (n_classes,)
        Training images per class.
    shrinkage_ : float
        ``kappa`` used (0 when no map was learned).
    shrinkage_weights_ : ndarray of shape (n_classes,)
        ``lambda`` of each class (weight of the visual mean).
    prior_ : str
        Kind of map chosen (``"none"`` when fewer than
        ``MIN_MAP_SPECIES`` = 3 species have images and an anchor).
    prior_param_ : float or None
        Its ridge penalty or neighbour bandwidth.
    prior_cv_error_ : float or None
        Its weighted leave-species-out mean squared error.
    prior_candidates_ : DataFrame
        Every map tried, with its parameter and leave-species-out error.
    dna_p_value_ : float or None
        p-value of the ``dna_test`` permutation test (None when not run).
    seen_bias_ : float
        Calibrated-stacking constant used.
    temperature_ : float
        Softmax temperature used.
    ${calibration_attributes}
    anchors_ : DataFrame
        The anchors used (standardised when ``standardize_anchors``).
    genetic_anchors_ : estimator or None
        The fitted anchor estimator, None for dict/DataFrame anchors.
    zero_shot_classes_ : ndarray
        Classes of ``classes_`` without training images.
    unanchored_classes_ : ndarray
        Classes of ``y`` without an anchor.
    ${embedding_input_attributes}

    See Also
    --------
    VisualGeneticAligner : The one-line entry point; its default rule is this.
    sklearn.neighbors.NearestCentroid : Nearest class mean without DNA.

    Notes
    -----
    With ``s2`` the within-class variance of the normalised embeddings
    (summed over features) and ``t2`` the leave-species-out squared error of
    the map beyond what ``s2 / n`` explains, ``kappa = s2 / t2``: the
    posterior mean of a class mean under a Gaussian prior centred on the
    DNA prediction.

    References: B. Kang et al., "Decoupling Representation and Classifier for
    Long-Tailed Recognition", ICLR 2020; S. Badirli et al., "Fine-Grained
    Zero-Shot Learning with DNA as Side Information", NeurIPS 2021; W.-L.
    Chao et al., "An Empirical Study and Analysis of Generalized Zero-Shot
    Learning for Object Recognition in the Wild", ECCV 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.alignment import GeneticPrototypeClassifier
    >>> from vgestimators.datasets import make_linked_embeddings
    >>> data = make_linked_embeddings(random_state=0)
    >>> clf = GeneticPrototypeClassifier(anchors=data.anchors).fit(
    ...     data.X_train, data.y_train)
    >>> clf.zero_shot_classes_  # species with DNA and no image
    array([24, 25, 26])
    >>> zero = data.group == "zero"
    >>> bool((clf.predict(data.X_test[zero]) == data.y_test[zero]).mean() > 0.5)
    True
    """

    _parameter_constraints: dict = {
        "anchors": [None, dict, pd.DataFrame, HasMethods(["fit"])],
        "sequences": [None, pd.DataFrame, tuple],
        "species_mapping": [None, dict],
        "standardize_anchors": ["boolean"],
        "prior": [StrOptions({"auto", *MAPS})],
        "shrinkage": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
        "seen_bias": [
            StrOptions({"auto"}),
            Interval(Real, None, None, closed="neither"),
        ],
        "objective": [
            StrOptions(set(OBJECTIVES)),
            Interval(Real, 0, 1, closed="both"),
        ],
        "temperature": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "zero_shot": ["boolean"],
        "missing_anchors": [StrOptions({"raise", "visual_only"})],
        "novelty_threshold": [None, Interval(Real, None, None, closed="neither")],
        "novelty_rate": [None, Interval(Real, 0, 1, closed="neither")],
        "unknown_label": [str, int],
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "dna_test": [None, Interval(Real, 0, 1, closed="both")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        anchors=None,
        sequences=None,
        species_mapping=None,
        standardize_anchors=True,
        prior="auto",
        shrinkage="auto",
        seen_bias="auto",
        objective="balanced",
        temperature="auto",
        zero_shot=True,
        missing_anchors="raise",
        novelty_threshold=None,
        novelty_rate=None,
        unknown_label="unknown",
        class_weight=None,
        dna_test=0.05,
        random_state=None,
    ):
        self.anchors = anchors
        self.sequences = sequences
        self.species_mapping = species_mapping
        self.standardize_anchors = standardize_anchors
        self.prior = prior
        self.shrinkage = shrinkage
        self.seen_bias = seen_bias
        self.objective = objective
        self.temperature = temperature
        self.zero_shot = zero_shot
        self.missing_anchors = missing_anchors
        self.novelty_threshold = novelty_threshold
        self.novelty_rate = novelty_rate
        self.unknown_label = unknown_label
        self.class_weight = class_weight
        self.dna_test = dna_test
        self.random_state = random_state

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, *, X_val=None, y_val=None, held_out=None):
        """Fit the anchors (if needed), the map, the prototypes and the scores.

        ${fit_held_out_parameters}
        """
        X, y = validate_data(
            self, X, y, dtype=[np.float64, np.float32], ensure_all_finite=False
        )
        check_finite_rows(X, "X")
        if X_val is not None and held_out is not None:
            raise ValueError("pass X_val/y_val or held_out, not both.")
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val go together: pass both or neither.")
        y, y_classes, y_idx, _ = check_labels(
            y,
            classification=True,
            min_classes=2,
            too_few=(
                f"{type(self).__name__} needs images of at least 2 classes; y "
                "holds one class ({classes[0]!r})."
            ),
        )
        if X_val is not None:
            X_val, y_val = self._check_held_out(X_val, y_val)
        U, y_cls = self._fit_state(X, y, y_classes, y_idx)
        rng = check_random_state(self.random_state)
        params = self._calibration_params()
        if X_val is not None:
            held_out = [(self, X_val, y_val)]
        if held_out:
            folds = [
                HeldOutFold.from_rule(_rule_state(rule, k), Z, labels)
                for k, (rule, Z, labels) in enumerate(held_out)
            ]
            _check_folds(folds, held_out)
            calibration = calibrate_on_held_out(
                folds, params, rng, state=self._state, U=U, y_cls=y_cls
            )
        else:
            calibration = calibrate_on_training(self._state, U, y_cls, params, rng)
        self._finish(calibration)
        self._log_prior = self._class_log_weights(y)
        return self

    def calibrates_on_held_out(self):
        """Whether ``fit`` takes held-out embeddings (always, for this rule)."""
        return True

    def _check_held_out(self, X_val, y_val):
        X_val = validate_data(
            self,
            X_val,
            reset=False,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
        )
        check_finite_rows(X_val, "X_val")
        y_val = np.asarray(y_val)
        if y_val.ndim != 1 or len(y_val) != len(X_val):
            raise ValueError(
                f"X_val has {len(X_val)} rows and y_val {len(y_val)} labels; "
                f"y_val must be 1-D (its shape is {y_val.shape})."
            )
        return X_val, y_val

    def _calibration_params(self):
        return {
            name: getattr(self, name)
            for name in (
                "prior",
                "dna_test",
                "shrinkage",
                "seen_bias",
                "temperature",
                "objective",
                "novelty_rate",
            )
        }

    def _fit_state(self, X, y, y_classes, y_idx):
        """Anchors, classes, visual means and the DNA's map: all but the constants."""
        fitted = self._fit_anchor_table(y_classes)
        labels, matrix = fitted.labels, fitted.matrix
        row_of = {label: i for i, label in enumerate(labels)}
        self._set_classes(y_classes, labels, "keep their visual mean")
        seen = np.isin(self.classes_, y_classes)
        anchor_row = np.array([row_of.get(c, -1) for c in self.classes_])
        y_cls = np.searchsorted(self.classes_, y_classes)[y_idx]

        U = normalize_rows(X.astype(np.float64))
        n_classes, n_features = len(self.classes_), U.shape[1]
        counts = np.bincount(y_cls, minlength=n_classes)
        sums = np.zeros((n_classes, n_features))
        np.add.at(sums, y_cls, U)
        means = np.full((n_classes, n_features), np.nan)
        means[seen] = sums[seen] / counts[seen, None]
        resid = U - means[y_cls]
        within = float((resid**2).sum() / max(len(U) - seen.sum(), 1))
        self.class_counts_ = counts
        self.visual_means_ = means
        prior = fit_prior(matrix, anchor_row, means, counts, seen, within, self.prior)
        self.prior_candidates_ = pd.DataFrame(
            prior.candidates, columns=["prior", "param", "cv_error"]
        )
        self._state = RuleState(
            self.classes_, counts, means, prior, within, anchor_row >= 0
        )
        if prior.kind == "none":
            unseen = ~seen & (anchor_row >= 0)
            if unseen.any():
                warn_user(
                    f"only {len(prior.train)} species have both images and an "
                    f"anchor (at least {MIN_MAP_SPECIES} are needed to learn how "
                    "DNA predicts appearance), so the classes without images "
                    f"{_fmt_labels(self.classes_[unseen])} cannot be named "
                    "(probability 0)."
                )
        return U, y_cls

    def _finish(self, calibration):
        """Prototypes and fitted attributes from the chosen constants."""
        state = self._state
        prior = state.prior
        self.calibration_ = calibration
        self.dna_p_value_ = calibration.dna_p_value
        use_dna = calibration.use_dna
        if prior.kind == "none":
            self.prior_, self.prior_param_, self.prior_cv_error_ = "none", None, None
        elif use_dna:
            self.prior_, self.prior_param_ = prior.kind, prior.param
            self.prior_cv_error_ = prior.cv_error
        else:
            self.prior_, self.prior_param_, self.prior_cv_error_ = (
                "mean",
                float(RIDGE_ALPHAS[0]),
                prior.mean_error,
            )
        dna = state.dna(use_dna)
        self.dna_prototypes_ = dna
        self.shrinkage_ = calibration.shrinkage
        self.prototypes_, self.shrinkage_weights_, self._unreachable = state.prototypes(
            use_dna, calibration.shrinkage
        )
        self.seen_bias_ = calibration.seen_bias
        self.temperature_ = calibration.temperature
        self.novelty_threshold_ = calibration.novelty_threshold
        image_less = ~state.seen & state.anchored
        if prior.kind != "none" and not use_dna and image_less.any():
            warn_user(self._dna_unused_message(calibration, self.classes_[image_less]))

    def _dna_unused_message(self, calibration, image_less):
        """What it means for the user that the DNA is not used, and what to try."""
        p_value = calibration.dna_p_value
        if p_value is not None:
            why = (
                "it did not predict how the species look better than chance "
                f"(DNA test: permutation p-value {p_value:.3g} on "
                f"{calibration.source}, not below {self.dna_test:g})"
            )
        elif self.prior == "mean":
            why = f"{setting('prior', 'mean')} ignores it"
        else:
            why = (
                "it did not predict how the species look better than the "
                "average of the other species (leave-species-out error "
                f"{self._state.prior.cv_error:.4g})"
            )
        n = len(image_less)
        named = ", ".join(str(c) for c in image_less[:10])
        named += f", ... ({n} in all)" if n > 10 else ""
        text = (
            f"the DNA is not used: {why}. So the {n} species known from DNA "
            f"only ({named}) cannot be named (probability 0), and species "
            "with few images are recognised from their own images alone."
        )
        if self.prior == "mean":
            return text
        return text + (
            " To try: more species with both images and DNA (how DNA predicts "
            "appearance is learned across them), more images per species, or "
            "a better image embedder (more epochs, pretrained features); "
            f"{setting('dna_test', None)} uses the DNA untested."
        )

    def _class_log_weights(self, y):
        if self.class_weight is None:
            return np.zeros(len(self.classes_))
        from sklearn.utils.class_weight import compute_class_weight

        seen = np.isin(self.classes_, np.unique(y))
        weights = np.ones(len(self.classes_))
        if isinstance(self.class_weight, dict):
            for i, c in enumerate(self.classes_):
                weights[i] = self.class_weight.get(c, 1.0)
        else:
            weights[seen] = compute_class_weight(
                "balanced", classes=self.classes_[seen], y=y
            )
        if (weights <= 0).any():
            raise ValueError("class_weight values must be positive.")
        return np.log(weights)

    # ------------------------------------------------------------ inference
    def cosine_similarity(self, X):
        """Cosine similarity of each sample to each class prototype.

        ${X_parameters}

        Returns
        -------
        cosines : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``; ``seen_bias_`` not applied.
        """
        X = self._validate_X(X)
        return normalize_rows(X.astype(np.float64)) @ normalize_rows(self.prototypes_).T

    def _scores(self, X):
        """Cosine to each prototype, minus seen_bias_ for seen classes."""
        scores = self.cosine_similarity(X)
        scores[:, self.class_counts_ > 0] -= self.seen_bias_
        scores[:, self._unreachable] = -np.inf
        return scores

    def _logits(self, X):
        return self._scores(X) / self.temperature_ + self._log_prior

    def decision_function(self, X):
        """Logits: adjusted cosine scores over the temperature, plus log class weights.

        ${decision_function}
        """
        logits = self._logits(X)
        if logits.shape[1] == 2:
            return logits[:, 1] - logits[:, 0]
        return logits

    def predict_proba(self, X):
        """Class probabilities: softmax of :meth:`decision_function`.

        ${predict_proba}
        """
        return softmax(self._logits(X), axis=1)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        ${predict_log_proba}
        """
        return log_softmax(self._logits(X), axis=1)

    def score_samples(self, X):
        """Largest adjusted cosine to a prototype (higher: more familiar).

        ${score_samples}
        """
        return self._scores(X).max(axis=1)

    def predict(self, X):
        """Most probable class (``unknown_label`` when novel).

        ${predict}
        """
        return self._predict(X, self.novelty_threshold, self.unknown_label)

    def novelty_threshold_for(self, rate):
        """The novelty threshold that flags a share ``rate`` of known species' images.

        Read from the held-out images the constants were chosen on: the
        score (:meth:`score_samples`) below which that share of the held-out
        images of species with training images falls. The scale of
        ``novelty_threshold`` is a cosine, which says little by itself; this
        is its scale in images flagged. Set it with
        ``set_params(novelty_threshold=...)``, no refit needed;
        ``novelty_rate=rate`` at fit sets the same threshold.

        Parameters
        ----------
        rate : float in (0, 1)
            Share of images of known species to flag as unknown (e.g. 0.05).
            New images of unknown species score lower, so more of them are
            flagged.

        Returns
        -------
        threshold : float

        Raises
        ------
        ValueError
            If ``rate`` is not in (0, 1), or the constants were not chosen
            on held-out images (the rule kept no held-out scores).
        """
        check_is_fitted(self)
        if (
            not isinstance(rate, Real)
            or isinstance(rate, bool)
            or not 0 < float(rate) < 1
        ):
            raise ValueError(
                f"rate must be a share of images in (0, 1), e.g. 0.05; got {rate!r}."
            )
        cal = self.calibration_
        scores = getattr(cal, "novelty_scores", None)
        if scores is None or not len(scores):
            why = (
                f"this rule chose them on {cal.source}"
                if cal.source != "held-out images"
                else "this rule kept none (fitted by an earlier vgestimators)"
            )
            raise ValueError(
                "novelty_threshold_for reads the threshold from the held-out "
                f"images the constants were chosen on, and {why}: fit it with "
                "held-out images (X_val and y_val, held_out, or in a "
                "SpeciesPipeline calibration_cv=1), or set novelty_threshold "
                "directly."
            )
        return novelty_threshold_at(scores, float(rate))

    def _predict(self, X, novelty_threshold, unknown_label):
        """Prediction with the open-set settings given (the aligner's, or own).

        ``novelty_threshold`` None falls back to ``novelty_threshold_`` (set
        from ``novelty_rate`` at fit, None otherwise).
        """
        scores = self._scores(X)
        y_pred = self.classes_[
            np.argmax(scores / self.temperature_ + self._log_prior, axis=1)
        ]
        threshold = (
            self.novelty_threshold_ if novelty_threshold is None else novelty_threshold
        )
        return self._label_unknown(y_pred, scores.max(axis=1), threshold, unknown_label)


def _rule_state(rule, k=0):
    """The fitted :class:`RuleState` of a prototype rule or of an aligner using one."""
    inner = getattr(rule, "prototype_classifier_", rule)
    state = getattr(inner, "_state", None)
    if state is None:
        raise ValueError(
            f"held_out[{k}] needs a fitted prototype rule "
            "(GeneticPrototypeClassifier, or VisualGeneticAligner with "
            f"classifier='prototype'); got {type(rule).__name__}"
            + (
                f" with classifier={rule.classifier!r}."
                if hasattr(rule, "classifier")
                else "."
            )
        )
    return state


def _check_folds(folds, held_out):
    """Each hold-out's embeddings fit its rule; some held-out image is usable."""
    for k, (fold, (_, Z, labels)) in enumerate(zip(folds, held_out, strict=True)):
        n_features = fold.state.means.shape[1]
        if np.ndim(Z) != 2 or np.shape(Z)[1] != n_features:
            raise ValueError(
                f"held_out[{k}]: the embeddings have shape {np.shape(Z)}, the "
                f"rule was fitted on {n_features} features."
            )
        if len(Z) != len(labels):
            raise ValueError(
                f"held_out[{k}]: {len(Z)} embeddings and {len(labels)} labels."
            )
    if not any(len(fold.target) for fold in folds):
        labels = np.asarray(held_out[0][2])
        classes = folds[0].state.classes
        raise ValueError(
            "no held-out label is a class of the rule, so nothing can be "
            f"chosen on them: held-out labels such as {labels[:3].tolist()} "
            f"(dtype {labels.dtype}), classes such as {classes[:3].tolist()} "
            f"(dtype {classes.dtype})."
        )
