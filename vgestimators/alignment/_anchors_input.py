"""Turn the aligner's ``anchors`` / ``sequences`` parameters into a matrix.

The aligner accepts anchors as a dict (label -> vector), a DataFrame indexed
by label, or an anchor estimator such as
:class:`~vgestimators.genetics.GeneticAnchors` (fitted on ``sequences`` inside
the aligner's ``fit``, or already fitted). Everything here validates and
normalises those forms; nothing is fitted in place (an estimator passed as a
parameter is cloned before fitting, as scikit-learn requires).
"""

import numbers

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

_MAX_LISTED = 20


def _fmt_labels(labels):
    """Readable, truncated list of class labels for error messages."""
    labels = list(labels)
    shown = ", ".join(repr(_py(label)) for label in labels[:_MAX_LISTED])
    if len(labels) > _MAX_LISTED:
        shown += f", ... ({len(labels)} in all)"
    return "[" + shown + "]"


def _py(value):
    """NumPy scalar -> Python scalar (for readable reprs)."""
    return value.item() if isinstance(value, np.generic) else value


def default_anchor_estimator():
    """``GeneticAnchors()``: the anchor estimator used when ``anchors`` is None."""
    from ..genetics import GeneticAnchors

    return GeneticAnchors()


def split_sequences(sequences):
    """Split the ``sequences`` parameter into (sequences, labels).

    Parameters
    ----------
    sequences : DataFrame or tuple of (array-like, array-like)
        A DataFrame with a ``"sequence"`` column and a ``"label"`` or
        ``"species"`` column (``"label"`` wins when both exist: in
        ``load_pfr2`` it is the binomial class label while ``"species"`` is
        the epithet; ``make_forams`` has ``"species"`` only), or a pair
        ``(sequences, labels)``.

    Returns
    -------
    seqs, labels : ndarray
    """
    if isinstance(sequences, pd.DataFrame):
        if "sequence" not in sequences.columns:
            raise ValueError(
                "sequences DataFrame needs a 'sequence' column; it has "
                f"{list(sequences.columns)}. Pass a (sequences, labels) pair "
                "for other layouts."
            )
        for column in ("label", "species"):
            if column in sequences.columns:
                labels = sequences[column].to_numpy()
                _check_named(labels, sequences, column)
                return sequences["sequence"].to_numpy(), labels
        raise ValueError(
            "sequences DataFrame needs a 'label' or 'species' column naming the "
            f"class of each sequence; it has {list(sequences.columns)}. Pass a "
            "(sequences, labels) pair for other layouts."
        )
    if isinstance(sequences, tuple) and len(sequences) == 2:
        seqs, labels = sequences
        seqs = np.asarray(seqs, dtype=object) if not hasattr(seqs, "iloc") else seqs
        labels = np.asarray(labels)
        _check_named(labels, None, "labels")
        if len(seqs) != len(labels):
            raise ValueError(
                f"sequences pair holds {len(seqs)} sequences but {len(labels)} "
                "labels; they must have the same length."
            )
        return seqs, labels
    raise TypeError(
        "sequences must be a DataFrame with 'sequence' and 'species'/'label' "
        "columns or a (sequences, labels) tuple; got "
        f"{type(sequences).__name__}."
    )


def _check_named(labels, frame, column):
    """Every sequence must name its species; raise naming those that do not."""
    empty = np.array(
        [
            v is None
            or (isinstance(v, float) and np.isnan(v))
            or (isinstance(v, str) and not v.strip())
            for v in labels
        ],
        dtype=bool,
    )
    if not empty.any():
        return
    rows = np.flatnonzero(empty)
    where = f"rows {rows[:10].tolist()}{' ...' if len(rows) > 10 else ''}"
    hint = ""
    if frame is not None and "id" in frame.columns:
        from ..utils._names import species_field_hint

        ids = frame["id"].to_numpy()[rows]
        where += f" (ids {[str(i) for i in ids[:10]]})"
        hint = " " + species_field_hint(ids)
    raise ValueError(
        f"{len(rows)} of {len(labels)} sequences have no species name in column "
        f"{column!r}: {where}.{hint}"
    )


def anchor_labels(anchors, sequences):
    """Class labels the anchors will have, without fitting anything.

    For the checks made before any training (``check_species``): dict keys,
    DataFrame index, the species of ``sequences`` or a fitted estimator's
    classes.
    """
    if isinstance(anchors, dict):
        return list(anchors)
    if isinstance(anchors, pd.DataFrame):
        return list(anchors.index)
    if sequences is not None:
        _, labels = split_sequences(sequences)
        return list(pd.unique(labels))
    # a fitted estimator, or the error that explains what is missing
    return _from_estimator(anchors, None, None)[0]


def match_labels(labels, classes, mapping):
    """Anchor labels respelled as the classes of y they name.

    An anchor label names class ``c`` of y if it equals it (exact labels
    first), if ``mapping`` says so (``{class of y: anchor label, list of
    labels, or None}``; keys that are no class of this ``y``, as in a
    cross-validation fold, are ignored), or if the two differ only in case,
    ``_`` or spacing. Other labels (species with DNA and no images) keep
    their spelling; several spellings of one such species become its first
    spelling.

    Returns
    -------
    labels : list
        One entry per input label.
    how : dict
        Class of y -> how it was matched (``"exact"``, ``"mapping"``,
        ``"name"``); classes not in it have no anchor.
    """
    from ..utils._names import taxon_key

    labels, classes = list(labels), list(classes)
    present = set(labels)
    if not all(isinstance(v, str) for v in classes + labels):
        if mapping:
            raise ValueError(
                "species_mapping needs string class labels and anchor labels."
            )
        return labels, {c: "exact" for c in classes if c in present}
    how, routed, closed = {}, {}, set()
    if mapping:
        label_keys = {taxon_key(label) for label in labels}
        by_key = {taxon_key(c): c for c in classes}
        for key, value in mapping.items():
            cls = by_key.get(taxon_key(key))
            if cls is None:
                continue  # no class of this y (e.g. a cross-validation fold)
            values = (
                []
                if value is None
                else [value]
                if isinstance(value, str)
                else list(value)
            )
            unknown = [v for v in values if taxon_key(v) not in label_keys]
            if unknown:
                raise ValueError(
                    f"species_mapping pairs the class {_py(cls)!r} with {unknown}, which "
                    "no anchor label names (anchor labels: "
                    f"{_fmt_labels(list(dict.fromkeys(labels)))})."
                )
            closed.add(cls)
            for v in values:
                routed[taxon_key(v)] = cls
            if values:
                how[cls] = "mapping"
    for c in classes:
        if c in present and c not in closed:
            how[c] = "exact"
    keys = {}
    for c in classes:
        keys.setdefault(taxon_key(c), []).append(c)
    free = {k: cs[0] for k, cs in keys.items() if len(cs) == 1 and cs[0] not in closed}
    out, first = [], {}
    for label in labels:
        key = taxon_key(label)
        if key in routed:
            out.append(routed[key])
        elif label in how and how[label] == "exact":
            out.append(label)
        elif key in free:
            how.setdefault(free[key], "name")
            out.append(free[key])
        else:
            out.append(first.setdefault(key, label))
    return out, how


def check_anchor_coverage(y_classes, labels, missing_anchors, fallback):
    """Classes of y without anchor; raise when ``missing_anchors="raise"``."""
    present = set(labels)
    missing = [c for c in y_classes if c not in present]
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
            how.get(c, "none"),
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


def _from_dict(anchors):
    if len(anchors) == 0:
        raise ValueError("anchors is an empty dict; give one vector per class.")
    labels = list(anchors)
    vectors = []
    for label in labels:
        vec = np.asarray(anchors[label])
        if vec.ndim != 1:
            raise ValueError(
                f"anchor of class {_py(label)!r} must be a 1-D vector; got an "
                f"array of shape {vec.shape}."
            )
        try:
            vec = vec.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"anchor of class {_py(label)!r} is not numeric: {exc}"
            ) from None
        vectors.append(vec)
    dims = {}
    for label, vec in zip(labels, vectors, strict=True):
        dims.setdefault(vec.shape[0], []).append(label)
    if len(dims) > 1:
        detail = "; ".join(
            f"dimension {dim}: {_fmt_labels(group)}" for dim, group in dims.items()
        )
        raise ValueError(f"anchors have mixed dimensions ({detail}).")
    return labels, np.vstack(vectors), None


def _from_frame(frame, source):
    if frame.shape[0] == 0:
        raise ValueError(f"{source} holds no anchor (0 rows).")
    if frame.index.has_duplicates:
        dup = frame.index[frame.index.duplicated()].unique()
        raise ValueError(
            f"{source} has several rows for classes {_fmt_labels(dup)}; give "
            "one anchor per class."
        )
    non_numeric = [
        col for col in frame.columns if not pd.api.types.is_numeric_dtype(frame[col])
    ]
    if non_numeric:
        raise ValueError(
            f"{source} has non-numeric columns {non_numeric[:_MAX_LISTED]}; "
            "anchor vectors must be numeric (index = class label)."
        )
    columns = list(frame.columns)
    names = columns if all(isinstance(c, str) for c in columns) else None
    return list(frame.index), frame.to_numpy(dtype=np.float64), names


def _from_estimator(anchors, sequences, default_factory, classes=(), mapping=None):
    if sequences is not None:
        seqs, labels = split_sequences(sequences)
        labels = np.asarray(match_labels(labels, classes, mapping)[0], dtype=object)
        estimator = clone(anchors) if anchors is not None else default_factory()
        estimator.fit(seqs, labels)
    else:
        if anchors is None:
            raise ValueError(
                "anchors is None and sequences is None: pass anchors (a dict, a "
                "DataFrame or a GeneticAnchors estimator) or sequences to build "
                "GeneticAnchors from."
            )
        try:
            check_is_fitted(anchors, "anchors_")
        except NotFittedError:
            raise ValueError(
                f"anchors is an unfitted {type(anchors).__name__} and sequences "
                "is None: pass sequences=(a DataFrame with 'sequence' and "
                "'species' columns, or a (sequences, labels) pair) so it is "
                "fitted inside fit, or pass a fitted one. A fitted anchor "
                "estimator loses its fit when cloned (GridSearchCV, "
                "cross_validate); wrap it in sklearn.frozen.FrozenEstimator to "
                "keep it."
            ) from None
        estimator = anchors
    fitted = estimator.anchors_
    if isinstance(fitted, pd.DataFrame):
        labels, matrix, names = _from_frame(
            fitted, f"{type(anchors).__name__}.anchors_"
        )
    else:
        classes = getattr(estimator, "classes_", None)
        if classes is None:
            raise ValueError(
                f"{type(estimator).__name__}.anchors_ is not a DataFrame indexed "
                "by class and the estimator has no classes_ to label its rows."
            )
        matrix = np.asarray(fitted, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[0] != len(classes):
            raise ValueError(
                f"{type(estimator).__name__}.anchors_ has shape {matrix.shape}; "
                f"expected ({len(classes)}, n_features), one row per class."
            )
        labels, names = list(classes), None
    return labels, matrix, names, estimator


def resolve_anchors(anchors, sequences, default_factory, classes=(), mapping=None):
    """Validate the anchor parameters and return the raw anchor matrix.

    Parameters
    ----------
    anchors : dict, DataFrame, estimator or None
    sequences : DataFrame, tuple or None
    default_factory : callable
        Builds the anchor estimator used when ``anchors`` is None and
        ``sequences`` is given.
    classes : sequence, default=()
        Classes of y: anchor labels that name one of them in another
        spelling (or through ``mapping``) are respelled as the class
        (:func:`match_labels`); sequences are relabelled before their
        anchors are computed, so two spellings make one anchor.
    mapping : dict or None
        ``species_mapping`` of the estimator.

    Returns
    -------
    labels : list
        Class label of each row.
    matrix : ndarray of shape (n_anchors, n_features), float64
    feature_names : list of str or None
    estimator : fitted anchor estimator or None
    """
    estimator = None
    if isinstance(anchors, dict):
        _reject_sequences(sequences, "a dict")
        labels, matrix, names = _from_dict(anchors)
    elif isinstance(anchors, pd.DataFrame):
        _reject_sequences(sequences, "a DataFrame")
        labels, matrix, names = _from_frame(anchors, "anchors DataFrame")
    else:
        labels, matrix, names, estimator = _from_estimator(
            anchors, sequences, default_factory, classes, mapping
        )
    if estimator is None or sequences is None:
        labels = match_labels(labels, classes, mapping)[0]
    dup = pd.Index(labels)
    if dup.has_duplicates:
        raise ValueError(
            "several anchors name the same class once spellings are matched: "
            f"{_fmt_labels(dup[dup.duplicated()].unique())}; give one anchor "
            "per class."
        )
    bad = ~np.isfinite(matrix).all(axis=1)
    if bad.any():
        raise ValueError(
            "anchors contain NaN or infinity for classes "
            f"{_fmt_labels(np.asarray(labels, dtype=object)[bad])}."
        )
    if len(labels) < 2:
        raise ValueError(
            f"the alignment needs anchors of at least 2 classes; got {len(labels)} "
            f"({_fmt_labels(labels)})."
        )
    zero = ~np.any(matrix != 0, axis=1)
    if zero.any():
        raise ValueError(
            "anchors of classes "
            f"{_fmt_labels(np.asarray(labels, dtype=object)[zero])} are all-zero "
            "vectors; a cosine with them is undefined."
        )
    return labels, matrix, names, estimator


def _reject_sequences(sequences, what):
    if sequences is not None:
        raise ValueError(
            f"sequences is given but anchors is {what}: sequences are only used "
            "to fit an anchor estimator (anchors=GeneticAnchors(...) or None). "
            "Drop one of the two."
        )


def standardize(matrix, labels):
    """Centre and scale anchor vectors feature-wise across classes.

    Returns
    -------
    standardized : ndarray
    mean, scale : ndarray of shape (n_features,)
    """
    mean = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    tiny = np.finfo(np.float64).eps * max(np.abs(matrix).max(), 1.0) * 16
    constant = scale <= tiny
    scale = np.where(constant, 1.0, scale)
    if constant.all():
        raise ValueError(
            "all anchors are identical: after centring across classes nothing "
            "distinguishes one class from another."
        )
    out = (matrix - mean) / scale
    out[:, constant] = 0.0
    norms = np.linalg.norm(out, axis=1)
    zero = norms <= tiny * np.sqrt(out.shape[1])
    if zero.any():
        raise ValueError(
            "after standardisation the anchors of classes "
            f"{_fmt_labels(np.asarray(labels, dtype=object)[zero])} are zero "
            "vectors (they equal the mean anchor), so their cosine is undefined; "
            "use standardize_anchors=False or check these anchors."
        )
    return out, mean, scale


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


def fit_anchor_table(estimator, classes):
    """Fit the anchors of an aligner: ``resolve_anchors`` then ``standardize``.

    ``estimator`` gives ``anchors``, ``sequences``, ``species_mapping`` and
    ``standardize_anchors`` (the aligner and the prototype classifier).

    Returns
    -------
    anchors : Bunch
        ``labels``, ``matrix`` (standardised or raw), ``names`` (feature
        names or None), ``genetic_anchors`` (the fitted estimator or None),
        ``mean`` and ``scale`` (None when not standardised) and ``table``
        (``matrix`` as a DataFrame indexed by label).
    """
    import pandas as pd
    from sklearn.utils import Bunch

    labels, raw, names, fitted = resolve_anchors(
        estimator.anchors,
        estimator.sequences,
        default_anchor_estimator,
        classes=list(classes),
        mapping=estimator.species_mapping,
    )
    if estimator.standardize_anchors:
        matrix, mean, scale = standardize(raw, labels)
    else:
        matrix, mean, scale = raw, None, None
    columns = names if names is not None else range(matrix.shape[1])
    table = pd.DataFrame(matrix, index=pd.Index(labels, dtype=object), columns=columns)
    return Bunch(
        labels=labels,
        matrix=matrix,
        names=names,
        genetic_anchors=fitted,
        mean=mean,
        scale=scale,
        table=table,
    )
