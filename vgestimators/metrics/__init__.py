"""Metrics and scorers for long-tailed recognition."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "per_class_accuracy": "._longtail",
        "shot_accuracy": "._longtail",
        "tail_accuracy_score": "._longtail",
        "ltr_report": "._longtail",
        "tail_accuracy_scorer": "._scorers",
        "make_tail_accuracy_scorer": "._scorers",
        "LTR_SCORING": "._scorers",
    },
)
