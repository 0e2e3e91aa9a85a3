"""Species names: pairing the names of images, DNA and anchors.

One matcher for the whole package (:func:`match_species`, and
:func:`match_labels` for anchor labels against the classes of ``y``),
with one vocabulary for how a pair was made: ``"mapping"``, ``"number"``,
``"exact"``, ``"name"`` (equal once case, ``_`` and spacing are ignored)
and ``"epithet"``.
"""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "PAIRING_RULES": "._matching",
        "match_species": "._matching",
        "match_labels": "._matching",
    },
)
