"""Species names and the ranks above them.

Pairing the names of images, DNA and anchors:

One matcher for the whole package (:func:`match_species`, and
:func:`match_labels` for anchor labels against the classes of ``y``),
with one vocabulary for how a pair was made: ``"mapping"``, ``"number"``,
``"exact"``, ``"name"`` (equal once case, ``_`` and spacing are ignored)
and ``"epithet"``.

The ranks above species: a :class:`Taxonomy` (the genus from binomial
names, or a table of genus, family, ...), probabilities at a rank
(:func:`rank_proba`, :func:`proba_at_rank`) and the deepest rank a
prediction is sure of (:func:`predict_ranks`, :func:`deepest_rank`), for
every classifier with ``predict_proba``.
"""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "PAIRING_RULES": "._matching",
        "match_species": "._matching",
        "match_labels": "._matching",
        "RANKS": "._taxonomy",
        "Taxonomy": "._taxonomy",
        "resolve_taxonomy": "._taxonomy",
        "NO_RANK": "._ranks",
        "deepest_rank": "._ranks",
        "predict_ranks": "._ranks",
        "proba_at_rank": "._ranks",
        "rank_proba": "._ranks",
    },
)
