"""Metrics and scorers for long-tailed and generalized zero-shot recognition."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "per_class_accuracy": "._longtail",
        "shot_accuracy": "._longtail",
        "tail_accuracy_score": "._longtail",
        "ltr_report": "._longtail",
        "seen_unseen_curve": "._zero_shot",
        "ausuc_score": "._zero_shot",
        "expected_calibration_error": "._zero_shot",
        "tail_accuracy_scorer": "._scorers",
        "make_tail_accuracy_scorer": "._scorers",
        "LTR_SCORING": "._scorers",
        "rank_accuracy_score": "._hierarchy",
        "mistake_severity": "._hierarchy",
        "make_rank_accuracy_scorer": "._hierarchy",
    },
)
