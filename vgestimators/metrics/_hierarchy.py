"""Hierarchical metrics: accuracy at a rank, and how far off the mistakes are."""

import numpy as np
import pandas as pd
from sklearn.metrics import make_scorer
from sklearn.utils._param_validation import validate_params

from ..taxonomy import resolve_taxonomy

__all__ = ["make_rank_accuracy_scorer", "mistake_severity", "rank_accuracy_score"]

#: A taxonomy argument: checked by resolve_taxonomy, which names what is wrong.
_TAXONOMY = "no_validation"


def _inputs(y_true, y_pred, taxonomy, unknown_label):
    """Arrays of species, the taxonomy of every species named, the abstentions."""
    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be 1-D and of one length, got shapes "
            f"{y_true.shape} and {y_pred.shape}."
        )
    if unknown_label is not None and (y_true == unknown_label).any():
        raise ValueError(
            f"y_true holds unknown_label={unknown_label!r} "
            f"({int((y_true == unknown_label).sum())} samples): images of species "
            "outside the taxonomy have no taxon to be right at; score them with "
            "an open-set metric and leave them out here."
        )
    abstain = y_pred == unknown_label if unknown_label is not None else None
    if abstain is None:
        abstain = np.zeros(len(y_pred), bool)
    names = sorted(set(y_true.tolist()) | set(y_pred[~abstain].tolist()), key=str)
    tax = resolve_taxonomy(taxonomy, names, where="y_true and y_pred")
    return y_true, y_pred, tax, abstain


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "rank": [str],
        "taxonomy": _TAXONOMY,
        "unknown_label": "no_validation",
        "balanced": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def rank_accuracy_score(
    y_true,
    y_pred,
    *,
    rank="genus",
    taxonomy=None,
    unknown_label="unknown",
    balanced=False,
):
    """Accuracy at a rank: how often the predicted species is in the true taxon.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted species.
    rank : str, default="genus"
        A rank of the taxonomy (``"species"`` is plain accuracy).
    taxonomy : None, Taxonomy, DataFrame or path, default=None
        None: the genus from the binomial names (see
        :func:`~vgestimators.taxonomy.resolve_taxonomy`).
    unknown_label : object, default="unknown"
        A prediction equal to it abstains and counts as wrong at every rank.
    balanced : bool, default=False
        Average over the true taxa of ``rank`` (each taxon once) instead of
        over samples.

    Returns
    -------
    score : float

    Examples
    --------
    >>> from vgestimators.metrics import rank_accuracy_score
    >>> y_true = ["A x", "A y", "B z", "B z"]
    >>> y_pred = ["A y", "A y", "A x", "unknown"]
    >>> rank_accuracy_score(y_true, y_pred)
    0.5
    >>> rank_accuracy_score(y_true, y_pred, rank="species")
    0.25
    """
    y_true, y_pred, tax, abstain = _inputs(y_true, y_pred, taxonomy, unknown_label)
    tax.check_rank(rank)
    true_taxon = tax.taxon_of(y_true, rank)
    right = np.zeros(len(y_true), bool)
    right[~abstain] = tax.taxon_of(y_pred[~abstain], rank) == true_taxon[~abstain]
    if not balanced:
        return float(right.mean())
    return float(pd.Series(right).groupby(true_taxon.astype(str)).mean().mean())


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "taxonomy": _TAXONOMY,
        "unknown_label": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def mistake_severity(y_true, y_pred, *, taxonomy=None, unknown_label="unknown"):
    """Mean taxonomic distance of the mistakes (lower: better mistakes).

    The distance of a wrong species is the number of ranks climbed before
    it meets the true one: 1 for a species of the right genus, 2 for the
    right family but another genus, and so on; the number of ranks of the
    taxonomy when they differ at every rank (2 with genera only). This is
    the "mistake severity" of Bertinetto et al., "Making Better Mistakes"
    (CVPR 2020). Abstentions (``unknown_label``) are not mistakes here.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    taxonomy : None, Taxonomy, DataFrame or path, default=None
    unknown_label : object, default="unknown"

    Returns
    -------
    severity : float
        NaN when no prediction is wrong.

    Examples
    --------
    >>> from vgestimators.metrics import mistake_severity
    >>> mistake_severity(["A x", "A y", "B z"], ["A y", "A y", "A x"])
    1.5
    """
    y_true, y_pred, tax, abstain = _inputs(y_true, y_pred, taxonomy, unknown_label)
    # compared as the taxonomy compares names ('A_x' is 'A x')
    distance = np.asarray(tax.distance(y_true[~abstain], y_pred[~abstain]))
    wrong = distance[distance > 0]
    if not len(wrong):
        return float("nan")
    return float(wrong.mean())


@validate_params(
    {
        "rank": [str],
        "taxonomy": _TAXONOMY,
        "balanced": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_rank_accuracy_scorer(rank="genus", *, taxonomy=None, balanced=False):
    """Scorer of :func:`rank_accuracy_score`, for ``scoring=`` in model selection.

    Parameters
    ----------
    rank : str, default="genus"
    taxonomy : None, Taxonomy, DataFrame or path, default=None
    balanced : bool, default=False

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; greater is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from vgestimators.metrics import make_rank_accuracy_scorer
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> y = np.array(["A x", "A y", "A y", "B z"])
    >>> knn = KNeighborsClassifier(n_neighbors=1).fit(X, y)
    >>> make_rank_accuracy_scorer("genus")(knn, [[0.4], [9.0]], ["A y", "B z"])
    1.0
    """
    kwargs = {"rank": rank, "balanced": balanced}
    if taxonomy is not None:
        kwargs["taxonomy"] = taxonomy
    return make_scorer(rank_accuracy_score, **kwargs)
