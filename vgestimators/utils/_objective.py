"""The ``objective`` that chooses the seen bias: its values, parsed and in words.

One home for the aligner's parameter (``GeneticPrototypeClassifier``'s
``objective``), the benchmark's ``--objective`` setting and the command
line's ``--objective`` option and training report.
"""

OBJECTIVES = ("balanced", "harmonic")


def parse_objective(text):
    """``"balanced"``, ``"harmonic"`` or a share in [0, 1] (a float)."""
    if text in ("balanced", "harmonic"):
        return text
    try:
        share = float(text)
    except (TypeError, ValueError):
        share = None
    if share is None or not 0 <= share <= 1:
        raise ValueError(
            f"objective must be balanced, harmonic or a share in [0, 1]; got {text!r}."
        )
    return share


def describe_objective(objective):
    """Words for ``objective`` (reports and docs)."""
    if objective == "balanced":
        return "balanced accuracy over all species (every species counts once)"
    if objective == "harmonic":
        return "harmonic mean H of seen and image-less species' accuracy"
    return (
        f"expected accuracy when {float(objective):.0%} of new images come from "
        "image-less species"
    )
