"""Which classes of ``y`` the anchors cover: the classifiers' side of anchors.

The anchors themselves are read by :func:`~vgestimators.genetics.read_anchors`
(every form, every check, the standardisation); here the classifiers on
embeddings decide what their coverage of ``y`` means: the error for a class
without anchor, the image-less classes that join ``classes_``, and
``check_species``, the pairing of names before any fit.
"""

import numbers

import numpy as np
import pandas as pd

from ..genetics import anchor_labels
from ..taxonomy import match_labels
from ..utils._labels import as_python as _py
from ..utils._labels import format_labels as _fmt_labels


def check_anchor_coverage(y_classes, labels, missing_anchors, fallback):
    """Classes of y without anchor; raise when ``missing_anchors="raise"``."""
    present = set(labels)
    missing = [c for c in y_classes if c not in present]
    if len(missing) and len(missing) == len(y_classes):
        raise ValueError(
            f"no class of y has an anchor (y's classes are {_fmt_labels(y_classes)}, "
            f"the anchors' {_fmt_labels(labels)}): the DNA pairs with none of the "
            "species of y, so it can inform nothing. Check the names (the "
            "classifier's check_species(y) shows each pairing) or pair them "
            "with species_mapping={class: species}; for a classifier without "
            "DNA, use sklearn.neighbors.NearestCentroid."
        )
    if missing and missing_anchors == "raise":
        raise ValueError(
            f"classes {_fmt_labels(missing)} of y have no anchor (anchors "
            f"cover {len(labels)} classes: {_fmt_labels(labels)}). Give them "
            f"anchors, pair names with species_mapping={{class: species}}, or "
            f"set missing_anchors='visual_only' to {fallback}."
        )
    return missing


def check_species(estimator, y):
    """``check_species`` of the aligners: pair names, raise as fit would.

    Checks only names (no anchor is computed): the cheap part of ``fit``
    that can run before an image embedder is trained.
    """
    from sklearn.utils.validation import column_or_1d

    from ..utils._labels import check_labels

    estimator._validate_params()
    # column vectors warn, as in fit (scikit-learn's validate_data)
    _, classes, _, counts = check_labels(
        column_or_1d(y, warn=True), classification=True
    )
    raw = anchor_labels(estimator.anchors, estimator.sequences)
    relabelled, how = match_labels(raw, list(classes), estimator.species_mapping)
    labels = list(dict.fromkeys(relabelled))
    check_anchor_coverage(
        classes, labels, estimator.missing_anchors, "classify them without DNA"
    )
    spellings = {}
    for original, label in zip(raw, relabelled, strict=True):
        spellings.setdefault(label, [])
        if original not in spellings[label]:
            spellings[label].append(original)
    rows = [
        (
            _py(c),
            int(n),
            " | ".join(map(str, spellings.get(c, []))) or None,
            how.get(c, "unmatched"),
        )
        for c, n in zip(classes, counts, strict=True)
    ]
    in_y = set(classes.tolist())
    rows += [
        (_py(label), 0, " | ".join(map(str, names)), "dna only")
        for label, names in spellings.items()
        if label not in in_y
    ]
    return pd.DataFrame(rows, columns=["species", "n_images", "dna_label", "how"])


def union_classes(y_classes, extra):
    """Sorted union of the training classes and anchor-only classes.

    Raises a ValueError when the two sets of labels cannot be ordered together
    (e.g. integer labels in ``y`` and string keys in the anchors): NumPy would
    otherwise silently turn the integers into strings.
    """
    if len(extra) == 0:
        return y_classes
    y_numeric = y_classes.dtype.kind in "iuf"
    extra_numeric = all(
        isinstance(e, numbers.Number) and not isinstance(e, bool | np.bool_)
        for e in extra
    )
    y_text = all(isinstance(c, str) for c in y_classes)
    extra_text = all(isinstance(e, str) for e in extra)
    if y_numeric and extra_numeric:
        return np.unique(np.concatenate([y_classes, np.asarray(extra)]))
    if y_text and extra_text:
        merged = np.unique(
            np.concatenate([y_classes.astype(object), np.asarray(extra, dtype=object)])
        )
        return merged if y_classes.dtype == object else merged.astype(str)
    raise ValueError(
        "the anchors hold classes without training images "
        f"{_fmt_labels(extra)} whose labels are not of the same type as y's "
        f"labels ({y_classes.dtype}); they cannot join classes_. Use labels of "
        "one type, or zero_shot=False."
    )
