"""Cross-validation for long-tailed species data: long-tail and held-out-species splits."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "long_tail_split": "._split",
        "LongTailSplit": "._split",
        "HeldOutSpeciesSplit": "._held_out",
    },
)
