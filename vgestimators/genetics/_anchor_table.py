"""Anchor tables: per-class anchors read from any accepted form, checked once.

Anchors come as a dict (label -> vector), a DataFrame indexed by label, or
an anchor estimator such as :class:`~vgestimators.genetics.GeneticAnchors`
(fitted here on ``sequences``, or already fitted). :func:`read_anchors`
validates and normalises those forms, pairs their labels with the classes
of ``y`` and standardises the vectors; the alignment classifiers read
their anchors through it. Nothing is fitted in place: an estimator passed
in is cloned before fitting, as scikit-learn requires.
"""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, validate_params
from sklearn.utils.validation import check_is_fitted

from ..taxonomy import match_labels
from ..utils._labels import as_python as _py
from ..utils._labels import format_labels as _fmt_labels
from ..utils._names import display_name
from ._anchors import GeneticAnchors

#: The forms ``anchors`` and ``sequences`` may take (parameter constraints).
_ANCHOR_CONSTRAINTS = {
    "anchors": [None, dict, pd.DataFrame, HasMethods(["fit"])],
    "sequences": [None, pd.DataFrame, tuple],
}


def default_anchor_estimator():
    """``GeneticAnchors()``: the anchor estimator used when ``anchors`` is None."""
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


@validate_params(_ANCHOR_CONSTRAINTS, prefer_skip_nested_validation=True)
def anchor_labels(anchors, sequences=None):
    """Class labels that anchors will have, without computing any anchor.

    The cheap part of :func:`read_anchors`, for checks made before any
    training (``check_species`` of the aligners): the keys of a dict, the
    index of a DataFrame, the distinct species of ``sequences`` in order of
    appearance, or the classes of a fitted anchor estimator. Labels are
    returned as written, before any pairing with the classes of ``y``.

    Parameters
    ----------
    anchors : dict, DataFrame, estimator or None
        The anchors, in any form :func:`read_anchors` accepts.
    sequences : DataFrame or tuple, default=None
        DNA an anchor estimator would be fitted on (see
        :func:`read_anchors`); its labels are checked (every sequence must
        name its species) but no sequence is embedded.

    Returns
    -------
    labels : list
        One label per anchor the table will hold.

    See Also
    --------
    read_anchors : Computes and checks the anchors themselves.

    Examples
    --------
    >>> import pandas as pd
    >>> from vgestimators.genetics import anchor_labels
    >>> dna = pd.DataFrame({"sequence": ["ACGT", "ACGA", "TTGA"],
    ...                     "species": ["b", "a", "b"]})
    >>> anchor_labels(None, dna)
    ['b', 'a']
    >>> anchor_labels({"a": [1.0, 0.0], "b": [0.0, 1.0]})
    ['a', 'b']
    """
    if isinstance(anchors, dict):
        return list(anchors)
    if isinstance(anchors, pd.DataFrame):
        return list(anchors.index)
    if sequences is not None:
        _, labels = split_sequences(sequences)
        return list(pd.unique(labels))
    # a fitted estimator, or the error that explains what is missing
    return _from_estimator(anchors, None)[0]


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
            f"{source} has non-numeric columns {non_numeric[:20]}; "
            "anchor vectors must be numeric (index = class label)."
        )
    columns = list(frame.columns)
    names = columns if all(isinstance(c, str) for c in columns) else None
    # C order, whatever the frame's blocks: the standardisation's sums (and so
    # every number downstream) then do not depend on the container
    matrix = np.ascontiguousarray(frame.to_numpy(dtype=np.float64))
    return list(frame.index), matrix, names


def _from_estimator(anchors, sequences, classes=(), mapping=None):
    if sequences is not None:
        seqs, labels = split_sequences(sequences)
        labels = np.asarray(_class_labels(labels, classes, mapping), dtype=object)
        estimator = (
            clone(anchors) if anchors is not None else default_anchor_estimator()
        )
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


def _class_labels(labels, classes, mapping):
    """The class label of each anchor label: one spelling for all classes.

    Labels that name a class of ``y`` are respelled as that class
    (:func:`~vgestimators.taxonomy.match_labels`). The others (species with
    DNA and no images) are written as the classes of ``y`` are: with
    ``_`` read as a space (``"Globothecina_solida"`` becomes
    ``"Globothecina solida"``, as image folder names are read) unless a
    class of ``y`` is written with ``_``. Labels that are not all strings,
    or no classes given, leave them as they are.
    """
    labels = match_labels(labels, classes, mapping)[0]
    classes = list(classes)
    strings = all(isinstance(v, str) for v in [*classes, *labels])
    if not classes or not strings or any("_" in c for c in classes):
        return labels
    known = set(classes)
    return [label if label in known else display_name(label) for label in labels]


def resolve_anchors(anchors, sequences, classes=(), mapping=None):
    """Validate the anchor parameters and return the raw anchor matrix.

    Parameters
    ----------
    anchors : dict, DataFrame, estimator or None
    sequences : DataFrame, tuple or None
    classes : sequence, default=()
        Classes of y: anchor labels that name one of them in another
        spelling (or through ``mapping``) are respelled as the class
        (:func:`~vgestimators.taxonomy.match_labels`); the others are
        written as the classes are (``_`` as a space, unless a class has
        one); sequences are relabelled before their anchors are computed, so
        two spellings make one anchor.
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
            anchors, sequences, classes, mapping
        )
    if estimator is None or sequences is None:
        labels = _class_labels(labels, classes, mapping)
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


def _standardize(matrix, labels):
    """Centre and scale anchor vectors feature-wise across classes.

    A feature whose spread across the anchors is rounding error (at most
    16 eps times the largest absolute value, at least 1) is set to 0.

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


@validate_params(
    {
        **_ANCHOR_CONSTRAINTS,
        "classes": ["array-like"],
        "species_mapping": [None, dict],
        "standardize": ["boolean"],
    },
    # an anchor estimator fitted here validates its own parameters
    prefer_skip_nested_validation=False,
)
def read_anchors(
    anchors, sequences=None, *, classes=(), species_mapping=None, standardize=True
):
    """Read per-class anchors from any accepted form into one checked table.

    The one reader of genetic anchors: the alignment classifiers read their
    ``anchors`` / ``sequences`` parameters with it. Labels are paired with
    the classes of ``y`` (spelling and ``species_mapping``), the vectors
    checked, then centred and scaled feature-wise across classes.

    Parameters
    ----------
    anchors : dict, DataFrame, estimator or None
        The anchors:

        - a dict mapping class label -> 1-D vector, or a DataFrame indexed
          by class label with one numeric column per feature;
        - an anchor estimator such as
          :class:`~vgestimators.genetics.GeneticAnchors`: with
          ``sequences``, a clone of it is fitted on them; without, it must
          already be fitted and its ``anchors_`` are read;
        - None: ``GeneticAnchors()`` fitted on ``sequences``.
    sequences : DataFrame or tuple, default=None
        DNA to fit the anchor estimator on: a DataFrame with a
        ``"sequence"`` column and a ``"label"`` column or, failing that, a
        ``"species"`` column (as in ``make_forams(...).sequences``), or a
        ``(sequences, labels)`` pair. Only used with an anchor estimator
        or None.
    classes : array-like, default=()
        Classes of ``y``. An anchor label that names one of them in another
        spelling (case, ``_`` or spacing) or through ``species_mapping`` is
        respelled as that class (:func:`~vgestimators.taxonomy.match_labels`);
        the other labels (species with DNA and no images) are written as the
        classes are: ``_`` read as a space (``"Globothecina_solida"`` becomes
        ``"Globothecina solida"``) unless a class of ``classes`` has a
        ``_``. Sequences are relabelled before their anchors are computed,
        so two spellings of one species make one anchor.
    species_mapping : dict or None, default=None
        Pairs classes of ``y`` with anchor labels written differently:
        ``{class of y: anchor label, or a list of labels}``. Keys that are
        no class of ``classes`` are ignored.
    standardize : bool, default=True
        Centre and scale each feature across the anchors (features constant
        across them become 0); False keeps the raw vectors.

    Returns
    -------
    anchors : :class:`~sklearn.utils.Bunch`
        With the attributes:

        labels : list
            Class label of each anchor, respelled as in ``classes``.
        matrix : ndarray of shape (n_anchors, n_features), float64
            The anchors, standardised when ``standardize``.
        feature_names : list of str or None
            Column names of a DataFrame (or of a fitted estimator's
            ``anchors_``) when they are all strings.
        genetic_anchors : estimator or None
            The fitted anchor estimator; None for a dict or DataFrame.
        mean, scale : ndarray of shape (n_features,) or None
            Centring and scaling applied to the raw anchors (None when not
            standardised).
        table : DataFrame of shape (n_anchors, n_features)
            ``matrix`` indexed by label, its columns ``feature_names``
            (or 0, 1, ...).

    Raises
    ------
    ValueError
        For anchors of the wrong form, an empty or duplicated table (once
        spellings are matched), NaN or infinity, fewer than 2 classes,
        all-zero anchors, mixed dimensions, non-numeric columns, identical
        anchors or anchors that become zero once standardised; sequences
        without species name; ``species_mapping`` entries that name no
        anchor label.

    See Also
    --------
    anchor_labels : The labels alone, without computing any anchor.
    GeneticAnchors : Fits one anchor per species from DNA sequences.

    Examples
    --------
    >>> from vgestimators.genetics import read_anchors
    >>> anchors = {
    ...     "Orbulina universa": [1.0, 0.0, 5.0],
    ...     "Candeina nitida": [0.0, 1.0, 5.0],
    ...     "Globigerina bulloides": [2.0, 2.0, 5.0],
    ... }
    >>> table = read_anchors(anchors, classes=["orbulina_universa"])
    >>> table.labels
    ['orbulina_universa', 'Candeina nitida', 'Globigerina bulloides']
    >>> table.table.round(2)
                              0     1    2
    orbulina_universa      0.00 -1.22  0.0
    Candeina nitida       -1.22  0.00  0.0
    Globigerina bulloides  1.22  1.22  0.0

    From DNA, with :class:`GeneticAnchors` fitted on the sequences:

    >>> sequences = (["ACGTACGTAA", "ACGAACGTAA", "TTGCAATGCA"], ["a", "a", "b"])
    >>> fitted = read_anchors(None, sequences)
    >>> fitted.matrix.shape, fitted.genetic_anchors.classes_.tolist()
    ((2, 256), ['a', 'b'])
    """
    labels, raw, names, fitted = resolve_anchors(
        anchors, sequences, classes=list(classes), mapping=species_mapping
    )
    if standardize:
        matrix, mean, scale = _standardize(raw, labels)
    else:
        matrix, mean, scale = raw, None, None
    columns = names if names is not None else range(matrix.shape[1])
    table = pd.DataFrame(matrix, index=pd.Index(labels, dtype=object), columns=columns)
    return Bunch(
        labels=labels,
        matrix=matrix,
        feature_names=names,
        genetic_anchors=fitted,
        mean=mean,
        scale=scale,
        table=table,
    )
