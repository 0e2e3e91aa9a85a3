"""What every classifier on embeddings that uses genetic anchors shares.

Anchors (fitted from ``anchors`` / ``sequences``), their coverage of the
classes of ``y``, the image-less classes that join ``classes_``, the species
check before any fit, the open-set label, and a ``score`` that warns when
ordinary folds cannot judge image-less species: one home each, used by
:class:`~vgestimators.alignment.GeneticPrototypeClassifier`,
:class:`~vgestimators.alignment.AnchorProjectionClassifier` and
:class:`~vgestimators.alignment.VisualGeneticAligner`.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from ..genetics import read_anchors
from ..utils._docstrings import substitute
from ..utils._repr import summarized_repr
from ._coverage import check_anchor_coverage, check_species, union_classes
from ._validation import (
    check_finite_rows,
    check_unknown_label,
    label_unknown,
    warn_if_no_image_less_images,
)


@substitute
class AnchoredClassifierMixin:
    """Anchors, coverage, image-less classes and unknown labelling, once."""

    def check_species(self, y):
        """${check_species}"""
        return check_species(self, y)

    def __repr__(self, N_CHAR_MAX=700):
        # scikit-learn's repr, a DNA table given as `sequences` summarised
        # (<DataFrame: 878 sequences of 34 species>) instead of printed
        return summarized_repr(self, N_CHAR_MAX)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on ``(X, y)``, as :class:`~sklearn.base.ClassifierMixin`.

        Warns when the model names species without training images and ``y``
        holds none of their images (ordinary cross-validation folds): a
        search over ``seen_bias`` or ``objective`` on such folds favours
        never naming them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Visual embeddings.
        y : array-like of shape (n_samples,)
            True species.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        warn_if_no_image_less_images(self, y)
        return super().score(X, y, sample_weight=sample_weight)

    def _validate_X(self, X):
        """Fitted, the same features as at fit, finite rows (float64 or 32)."""
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

    def _fit_anchor_table(self, y_classes):
        """The anchors of ``anchors``/``sequences``; sets ``anchors_`` and co."""
        fitted = read_anchors(
            self.anchors,
            self.sequences,
            classes=y_classes,
            species_mapping=self.species_mapping,
            standardize=self.standardize_anchors,
        )
        self.genetic_anchors_, self.anchors_ = fitted.genetic_anchors, fitted.table
        return fitted

    def _set_classes(self, y_classes, labels, fallback, *, image_less=True):
        """``classes_``, ``zero_shot_classes_`` and ``unanchored_classes_``.

        Classes of ``y`` without an anchor raise or, with
        ``missing_anchors="visual_only"``, are kept (``fallback`` says how
        they are classified). Anchor classes absent from ``y`` join
        ``classes_`` when ``zero_shot`` and ``image_less`` allow, and some
        class of ``y`` has an anchor.

        Returns
        -------
        missing : list
            The classes of ``y`` without an anchor.
        """
        missing = check_anchor_coverage(
            y_classes, labels, self.missing_anchors, fallback
        )
        self.unanchored_classes_ = np.asarray(missing, dtype=y_classes.dtype)
        in_y = set(y_classes.tolist())
        extra = [label for label in labels if label not in in_y]
        if self.zero_shot and image_less and extra and len(missing) < len(y_classes):
            self.classes_ = union_classes(y_classes, extra)
        else:
            self.classes_ = y_classes
        self.zero_shot_classes_ = self.classes_[~np.isin(self.classes_, y_classes)]
        if self.novelty_threshold is not None:
            check_unknown_label(self.unknown_label, self.classes_)
        return missing

    def _label_unknown(self, y_pred, similarity, threshold, unknown_label):
        """``y_pred`` with ``unknown_label`` where ``similarity < threshold``."""
        if threshold is None:
            return y_pred
        check_unknown_label(unknown_label, self.classes_)
        return label_unknown(y_pred, similarity < threshold, unknown_label)
