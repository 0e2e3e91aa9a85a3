"""Estimator reprs that summarise data parameters instead of printing them.

scikit-learn prints an estimator with the ``repr`` of every parameter that
differs from its default, so ``VisualGeneticAligner(sequences=df)`` prints
the whole DNA table (hundreds of rows). :func:`summarized_repr` prints what
scikit-learn prints, with such parameters as a one-line summary
(``sequences=<DataFrame: 878 sequences of 34 species>``), nested estimators
(a Pipeline's steps) included. ``get_params`` still returns the real
objects: the summary exists only in the printed text, through stand-ins
that print as the estimators they stand for.
"""

import functools

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ._names import taxon_key


class _Summary:
    """Prints as its text: a parameter's place in a repr."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def summarize_parameter(value):
    """A one-line summary of a data parameter, or None for other values.

    Parameters
    ----------
    value : object
        A parameter's value.

    Returns
    -------
    text : str or None
        ``"<DataFrame: 878 sequences of 34 species>"`` for a table with a
        ``sequence`` column (species counted from its ``label`` or
        ``species`` column, spellings that differ only in case, ``_`` or
        spacing counted once), ``"<tuple: 878 sequences of 34 species>"``
        for a ``(sequences, labels)`` pair, ``"<DataFrame: R rows x C
        columns>"`` for any other DataFrame; None otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> from vgestimators.utils._repr import summarize_parameter
    >>> dna = pd.DataFrame({"sequence": ["ACGT", "ACGA", "TTGA"],
    ...                     "species": ["Orbulina_universa", "orbulina universa",
    ...                                 "Candeina nitida"]})
    >>> summarize_parameter(dna)
    '<DataFrame: 3 sequences of 2 species>'
    >>> summarize_parameter((["ACGT", "TTGA"], ["a", "b"]))
    '<tuple: 2 sequences of 2 species>'
    >>> summarize_parameter(0.5) is None
    True
    """
    if isinstance(value, pd.DataFrame):
        if "sequence" not in value.columns:
            return f"<DataFrame: {value.shape[0]} rows x {value.shape[1]} columns>"
        column = next((c for c in ("label", "species") if c in value.columns), None)
        species = "" if column is None else f" of {_n_species(value[column])} species"
        return f"<DataFrame: {len(value)} sequences{species}>"
    if _is_sequence_pair(value):
        return f"<tuple: {len(value[0])} sequences of {_n_species(value[1])} species>"
    return None


def _is_sequence_pair(value):
    """Whether ``value`` is a ``(sequences, labels)`` pair of equal lengths."""
    if not (isinstance(value, tuple) and len(value) == 2):
        return False
    sequences, labels = value
    if isinstance(sequences, str | bytes) or isinstance(labels, str | bytes):
        return False
    try:
        n = len(sequences)
    except TypeError:
        return False
    return (
        n > 0
        and hasattr(labels, "__len__")
        and len(labels) == n
        and isinstance(next(iter(sequences)), str)
    )


def _n_species(labels):
    """Distinct labels, spellings of one name (case, ``_``, spacing) once."""
    keys = set()
    for label in np.asarray(labels, dtype=object).ravel().tolist():
        if label is None or (isinstance(label, float) and label != label):
            continue
        keys.add(taxon_key(label) if isinstance(label, str) else label)
    return len(keys)


class _StandIn(BaseEstimator):
    """Prints as the estimator it stands for, some parameters summarised."""

    def get_params(self, deep=True):
        return dict(vars(self)["_shown_params"])


@functools.cache
def _stand_in_class(cls):
    """A :class:`_StandIn` named as ``cls``, with its ``__init__`` (its defaults)."""
    return type(
        cls.__name__,
        (_StandIn,),
        {
            "__init__": cls.__init__,
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
        },
    )


def _shown(value):
    """``value`` as it should print: data summarised, estimators stood in for.

    An estimator is stood in for when one of its parameters (or of its
    nested estimators) prints as a summary, or when its class prints its own
    way (as those that call :func:`summarized_repr`): scikit-learn's
    printer wraps the lines only of estimators that print the default way.
    """
    text = summarize_parameter(value)
    if text is not None:
        return _Summary(text)
    if isinstance(value, BaseEstimator):
        params = value.get_params(deep=False)
        shown = {name: _shown(v) for name, v in params.items()}
        changed = any(shown[name] is not params[name] for name in params)
        if not changed and type(value).__repr__ is BaseEstimator.__repr__:
            return value
        stand_in = object.__new__(_stand_in_class(type(value)))
        stand_in._shown_params = shown
        return stand_in
    if type(value) in (list, tuple):
        items = [_shown(v) for v in value]
        if any(a is not b for a, b in zip(items, value, strict=True)):
            return type(value)(items)
    return value


def summarized_repr(estimator, N_CHAR_MAX=700):
    """scikit-learn's repr of ``estimator``, data parameters as summaries.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator to print.
    N_CHAR_MAX : int, default=700
        As :meth:`sklearn.base.BaseEstimator.__repr__`.

    Returns
    -------
    text : str
    """
    shown = _shown(estimator)
    if shown is estimator:  # a class printing the default way, nothing to summarise
        return BaseEstimator.__repr__(estimator, N_CHAR_MAX)
    return BaseEstimator.__repr__(shown, N_CHAR_MAX)
