"""Scorers for model selection on long-tailed data."""

from collections.abc import Mapping
from numbers import Real

import pandas as pd
from sklearn.metrics import get_scorer, make_scorer
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._docstrings import fill, substitute
from ._longtail import _check_train_counts, tail_accuracy_score

__all__ = ["make_tail_accuracy_scorer", "tail_accuracy_scorer", "LTR_SCORING"]


@validate_params(
    {
        "fraction": [Interval(Real, 0, 1, closed="right")],
        "train_counts": [Mapping, pd.Series, None],
    },
    prefer_skip_nested_validation=True,
)
@substitute
def make_tail_accuracy_scorer(fraction=0.2, *, train_counts=None):
    """Scorer of the mean accuracy over the rarest classes.

    Usable as ``scoring=`` in :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_validate` and friends.

    Parameters
    ----------
    fraction : float in (0, 1], default=0.2
        Share of the classes that counts as the tail.
    train_counts : dict or pandas.Series, default=None
        Fixed number of training samples per class used to rank the classes,
        e.g. the counts of the whole training set.  By default each test fold
        ranks its classes by their own frequency in that fold, which with
        stratified folds follows the training frequencies.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)`` returning
        :func:`tail_accuracy_score` of ``estimator.predict(X)``; greater is
        better.

    See Also
    --------
    tail_accuracy_score : The underlying metric, including how ties are handled.
    LTR_SCORING : A dictionary of scorers for multi-metric evaluation.

    Examples
    --------
    ${long_tailed_example_data}
    >>> from sklearn.model_selection import cross_val_score
    >>> from vgestimators.metrics import make_tail_accuracy_scorer
    >>> scores = cross_val_score(KNeighborsClassifier(), X, y, cv=3,
    ...                          scoring=make_tail_accuracy_scorer(0.25))
    >>> scores.shape
    (3,)
    """
    kwargs = {"fraction": fraction}
    if train_counts is not None:
        # Validate now, not in the middle of a grid search.
        _check_train_counts(train_counts)
        kwargs["train_counts"] = train_counts
    return make_scorer(tail_accuracy_score, **kwargs)


_TAIL_SCORER_DOC = """Scorer of :func:`tail_accuracy_score` with ``fraction=0.2``.

``tail_accuracy_scorer(estimator, X, y)`` is the mean per-class accuracy of
``estimator.predict(X)`` over the rarest 20% of the classes of ``y`` (rarest
in ``y`` itself).  Use :func:`make_tail_accuracy_scorer` for another fraction
or a fixed ranking.
"""

_LTR_SCORING_DOC = fill("""Scorers for ``scoring=`` in cross_validate / GridSearchCV (multi-metric).

Keys: ``"accuracy"``, ``"balanced_accuracy"``, ``"f1_macro"`` (scikit-learn's
own scorers) and ``"tail_accuracy"`` (:data:`tail_accuracy_scorer`).  With
GridSearchCV pass ``refit=`` one of these names.  It is a plain ``dict``
subclass; copy it (``dict(LTR_SCORING)``) before adding entries.

Examples
--------
>>> from sklearn.model_selection import cross_validate
>>> from vgestimators.metrics import LTR_SCORING
${long_tailed_example_data}
>>> result = cross_validate(KNeighborsClassifier(), X, y, cv=3,
...                         scoring=LTR_SCORING)
>>> sorted(k for k in result if k.startswith("test_"))
['test_accuracy', 'test_balanced_accuracy', 'test_f1_macro', 'test_tail_accuracy']
""")


class _ScoringDict(dict):
    """Name -> scorer; a dict whose docstring documents LTR_SCORING."""

    __doc__ = _LTR_SCORING_DOC


tail_accuracy_scorer = make_tail_accuracy_scorer()
tail_accuracy_scorer.__doc__ = _TAIL_SCORER_DOC

LTR_SCORING = _ScoringDict(
    accuracy=get_scorer("accuracy"),
    balanced_accuracy=get_scorer("balanced_accuracy"),
    f1_macro=get_scorer("f1_macro"),
    tail_accuracy=tail_accuracy_scorer,
)
