"""Checks and labelling shared by the classifiers on embeddings."""

import numpy as np


def check_finite_rows(X, name):
    """Raise a ValueError naming the rows of ``X`` that hold NaN or infinity."""
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        shown = rows[:20].tolist()
        more = f" ... ({len(rows)} rows in all)" if len(rows) > 20 else ""
        raise ValueError(
            f"Input {name} contains NaN or infinity in rows {shown}{more} "
            f"(first at row {rows[0]}, column {int(np.flatnonzero(bad[rows[0]])[0])}); "
            "embeddings must be finite."
        )


def check_unknown_label(unknown_label, classes):
    """The open-set label must not be a class label."""
    if unknown_label in set(np.asarray(classes).tolist()):
        raise ValueError(
            f"unknown_label={unknown_label!r} is also a class label; "
            "choose a label that no class uses."
        )


def label_unknown(y_pred, novel, unknown_label):
    """``y_pred`` with ``unknown_label`` where ``novel`` (object dtype if needed)."""
    if not novel.any():
        return y_pred
    unknown = np.asarray([unknown_label])
    same_kind = (y_pred.dtype.kind in "iu" and unknown.dtype.kind in "iu") or (
        y_pred.dtype.kind == "U" and unknown.dtype.kind == "U"
    )
    dtype = np.result_type(y_pred, unknown) if same_kind else object
    y_pred = y_pred.astype(dtype)
    y_pred[novel] = unknown_label
    return y_pred


def warn_if_no_image_less_images(classifier, y):
    """Warn when a rule with image-less species is scored without any of their images.

    Ordinary cross-validation folds hold images of species that have
    training images only; a search over the balance between those and the
    image-less species (``seen_bias``, ``objective``) then favours never
    naming an image-less species, silently.
    """
    from ..utils._warnings import warn_user

    zero = np.asarray(getattr(classifier, "zero_shot_classes_", []))
    if len(zero) and not np.isin(np.asarray(y), zero).any():
        warn_user(
            f"scored on images of species that all have training images, while "
            f"the model also names {len(zero)} species without images: a search "
            "over seen_bias, objective or novelty settings on such folds favours "
            "never naming those species. Search with folds that hold species "
            "out of training (vgestimators.model_selection.HeldOutSpeciesSplit) "
            "to tune these; make_species_pipeline (SpeciesPipeline with "
            "calibration_cv=1) chooses them on held-out species already."
        )
