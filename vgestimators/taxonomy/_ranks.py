"""Predictions at every rank: species probabilities summed within each taxon."""

import numpy as np
import pandas as pd

from ._taxonomy import resolve_taxonomy

__all__ = [
    "NO_RANK",
    "deepest_rank",
    "predict_ranks",
    "proba_at_rank",
    "rank_proba",
]

#: The ``rank`` of a prediction no rank of the taxonomy is sure of.
NO_RANK = "none"


def proba_at_rank(proba, classes, taxonomy, rank):
    """Species probabilities summed within each taxon of ``rank``.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Species probabilities (``predict_proba``), columns in ``classes``'
        order.
    classes : array-like of shape (n_classes,)
        The species of the columns.
    taxonomy : Taxonomy
        Covers ``classes``.
    rank : str
        A rank of ``taxonomy`` (``"species"`` returns ``proba`` itself).

    Returns
    -------
    proba_rank : ndarray of shape (n_samples, n_taxa)
    taxa : ndarray of str objects of shape (n_taxa,)
        The taxa of the columns, sorted.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.taxonomy import Taxonomy, proba_at_rank
    >>> classes = ["A x", "A y", "B z"]
    >>> tax = Taxonomy.from_names(classes)
    >>> P, taxa = proba_at_rank(np.array([[0.5, 0.3, 0.2]]), classes, tax, "genus")
    >>> taxa.tolist(), P.round(2).tolist()
    (['A', 'B'], [[0.8, 0.2]])
    """
    proba = np.asarray(proba, dtype=float)
    of = taxonomy.taxon_of(classes, rank)
    taxa, inverse = np.unique(of.astype(str), return_inverse=True)
    if proba.ndim != 2 or proba.shape[1] != len(of):
        raise ValueError(
            f"proba has shape {proba.shape}; it needs one column per class ({len(of)})."
        )
    member = np.zeros((len(of), len(taxa)))
    member[np.arange(len(of)), inverse] = 1.0
    return proba @ member, taxa.astype(object)


def deepest_rank(proba, classes, taxonomy, *, threshold=0.9, unknown=None):
    """The deepest rank whose most probable taxon reaches ``threshold``.

    Ranks are tried from species up; where ``unknown`` is True (the
    open-set rule says no known species fits the image), species is
    skipped, so such an image is named at the genus or above, or not at
    all.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Species probabilities.
    classes : array-like of shape (n_classes,)
    taxonomy : Taxonomy
    threshold : float in (0, 1], default=0.9
        The probability a taxon needs.
    unknown : array-like of bool of shape (n_samples,) or None
        Samples no known species fits.

    Returns
    -------
    table : DataFrame
        One row per sample: for each rank, the most probable taxon and its
        probability (``genus``, ``genus_probability``, ...); then ``rank``
        (the deepest confident rank, or ``"none"``), ``taxon`` (the taxon
        there, or ``""``) and ``probability`` (its probability, NaN for
        ``"none"``).

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.taxonomy import Taxonomy, deepest_rank
    >>> classes = ["A x", "A y", "B z"]
    >>> proba = np.array([[0.95, 0.03, 0.02], [0.5, 0.45, 0.05], [0.4, 0.2, 0.4]])
    >>> t = deepest_rank(proba, classes, Taxonomy.from_names(classes))
    >>> t[["rank", "taxon"]].to_numpy().tolist()
    [['species', 'A x'], ['genus', 'A'], ['none', '']]
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}.")
    proba = np.asarray(proba, dtype=float)
    n = len(proba)
    unknown = np.zeros(n, bool) if unknown is None else np.asarray(unknown, bool)
    columns = {}
    rank_of = np.full(n, NO_RANK, dtype=object)
    taxon_of = np.full(n, "", dtype=object)
    probability = np.full(n, np.nan)
    open_ = np.ones(n, bool)
    for rank in taxonomy.ranks:
        P, taxa = proba_at_rank(proba, classes, taxonomy, rank)
        best = np.argmax(P, axis=1)
        p_best = P[np.arange(n), best]
        columns[rank] = taxa[best]
        columns[f"{rank}_probability"] = p_best
        sure = open_ & (p_best >= threshold)
        if rank == "species":
            sure &= ~unknown
        rank_of[sure], taxon_of[sure], probability[sure] = (
            rank,
            taxa[best][sure],
            p_best[sure],
        )
        open_ &= ~sure
    return pd.DataFrame(
        {**columns, "rank": rank_of, "taxon": taxon_of, "probability": probability}
    )


def _final_step(estimator):
    """(transform before the last step or None, last step) of a Pipeline."""
    steps = getattr(estimator, "steps", None)
    if steps is None or len(steps) < 2:
        return None, estimator if steps is None else steps[-1][1]
    return estimator[:-1], estimator[-1]


def _fitted_taxonomy(estimator, classifier, taxonomy):
    if taxonomy is None:
        taxonomy = getattr(estimator, "taxonomy_", None) or getattr(
            classifier, "taxonomy_", None
        )
    classes = [str(c) for c in np.asarray(classifier.classes_, dtype=object)]
    return resolve_taxonomy(taxonomy, classes, where="the classifier")


def _scores(estimator, X):
    head, classifier = _final_step(estimator)
    Z = X if head is None else head.transform(X)
    if not hasattr(classifier, "predict_proba"):
        raise TypeError(
            f"{type(classifier).__name__} has no predict_proba: ranks above "
            "species need species probabilities."
        )
    return classifier, Z, classifier.predict_proba(Z)


def _unknown(classifier, Z):
    """Where the classifier's open-set rule flags a sample (None if it has none)."""
    params = classifier.get_params() if hasattr(classifier, "get_params") else {}
    label = params.get("unknown_label")
    if label is None:
        return None
    # the classifier's own rule, wherever its threshold lives (a parameter,
    # one chosen at fit from novelty_rate, or one of an inner rule)
    return np.asarray(classifier.predict(Z)) == label


def rank_proba(estimator, X, rank="genus", *, taxonomy=None):
    """Probabilities at ``rank`` of a fitted classifier or Pipeline.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline with ``predict_proba``
        Any of the package's classifiers, a scikit-learn one, or a
        Pipeline ending in one (the images go through its steps once).
    X : array-like
        What ``estimator.predict_proba`` takes.
    rank : str, default="genus"
    taxonomy : None, Taxonomy, DataFrame or path, default=None
        None: the estimator's own (``taxonomy_`` of a
        :class:`~vgestimators.pipeline.SpeciesPipeline` with a taxonomy) or
        the genus from the binomial names of ``classes_``.

    Returns
    -------
    proba : DataFrame of shape (n_samples, n_taxa)
        Columns are the taxa of ``rank``.
    """
    classifier, _, proba = _scores(estimator, X)
    tax = _fitted_taxonomy(estimator, classifier, taxonomy)
    P, taxa = proba_at_rank(proba, classifier.classes_, tax, tax.check_rank(rank))
    return pd.DataFrame(P, columns=pd.Index(taxa, name=rank))


def predict_ranks(estimator, X, *, taxonomy=None, threshold=0.9):
    """The deepest rank each sample is named at with ``threshold`` confidence.

    Works on every fitted classifier with ``predict_proba`` (and a Pipeline
    ending in one). When the classifier has an open-set rule
    (``novelty_threshold`` or ``novelty_rate`` of
    :class:`~vgestimators.VisualGeneticAligner`), a sample it flags as
    unknown is named at the genus or above: an image of a species the
    model does not know, in a genus it knows, gets that genus.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline with ``predict_proba``
    X : array-like
    taxonomy : None, Taxonomy, DataFrame or path, default=None
        See :func:`rank_proba`.
    threshold : float in (0, 1], default=0.9
        The probability a taxon needs to be named.

    Returns
    -------
    table : DataFrame
        See :func:`deepest_rank`, plus ``unknown`` (flagged by the open-set
        rule).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from vgestimators.taxonomy import predict_ranks
    >>> X = np.array([[0.0], [0.1], [1.0], [1.1], [5.0], [5.1]])
    >>> y = ["A x", "A x", "A y", "A y", "B z", "B z"]
    >>> knn = KNeighborsClassifier(n_neighbors=4).fit(X, y)
    >>> predict_ranks(knn, [[0.5], [5.0]])[["rank", "taxon"]].to_numpy().tolist()
    [['genus', 'A'], ['none', '']]
    """
    classifier, Z, proba = _scores(estimator, X)
    tax = _fitted_taxonomy(estimator, classifier, taxonomy)
    unknown = _unknown(classifier, Z)
    table = deepest_rank(
        proba, classifier.classes_, tax, threshold=threshold, unknown=unknown
    )
    table["unknown"] = np.zeros(len(table), bool) if unknown is None else unknown
    return table
