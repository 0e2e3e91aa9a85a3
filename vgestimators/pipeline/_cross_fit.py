"""Cross-fitting: the held-out images on which a Pipeline's final rule is calibrated.

A network fitted on the training images embeds them more tightly than it
will embed new images, so constants chosen on those embeddings (how far to
trust the DNA, how much to favour image-less species) are biased. Cross-
fitting fits a clone of the whole Pipeline on part of the images, with some
species held out entirely, embeds the other images with that clone's
network, and hands the final step these held-out embeddings, on which it
chooses its constants; the Pipeline is then fitted on all images.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils import _safe_indexing

#: Share of each seen species' images held out for calibration.
CALIBRATION_SIZE = 1 / 3
#: Seed of the default calibration split.
CALIBRATION_SEED = 0


def default_n_unseen(y):
    """Species held out entirely: about one in six, at least 1 (0 below 4)."""
    n_species = len(np.unique(y))
    if n_species < 4:
        return 0
    candidates = n_species - max(1, n_species // 4)  # not the head quarter
    return int(min(max(1, round(n_species / 6)), candidates, n_species - 3))


def check_calibration_cv(cv, y):
    """The splitter of ``calibration_cv``: an int is that many hold-outs.

    An int ``k`` gives :class:`~vgestimators.model_selection.HeldOutSpeciesSplit`
    with ``k`` splits, about one species in six held out entirely
    (:func:`default_n_unseen`) and a third of the other species' images.
    Anything with a ``split(X, y)`` method is used as it is.
    """
    from ..model_selection import HeldOutSpeciesSplit

    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        if cv < 1:
            raise ValueError(f"calibration_cv={cv} must be at least 1.")
        return HeldOutSpeciesSplit(
            n_splits=int(cv),
            n_unseen=default_n_unseen(y),
            test_size=CALIBRATION_SIZE,
            random_state=CALIBRATION_SEED,
        )
    if hasattr(cv, "split") and not isinstance(cv, str):
        return cv
    raise ValueError(
        "calibration_cv must be None, an int (hold-outs) or a splitter with a "
        f"split(X, y) method; got {cv!r}."
    )


def cross_fit(pipeline, X, y, params):
    """Fit a clone of ``pipeline`` per hold-out; embed the held-out images.

    Parameters
    ----------
    pipeline : SpeciesPipeline
        With ``calibration_cv`` set and a final step that calibrates on
        held-out embeddings.
    X, y : array-like
        Training images and species.
    params : dict
        Fit parameters, passed to every clone's fit as they are.

    Returns
    -------
    held_out : list of (estimator, ndarray, ndarray)
        For each hold-out: the clone's fitted final step, the held-out
        images through the clone's other steps, and their species.
    """
    y = np.asarray(y)
    splitter = check_calibration_cv(pipeline.calibration_cv, y)
    final_name = pipeline.steps[-1][0]
    held_out = []
    splits = list(splitter.split(X, y))
    for k, (train, val) in enumerate(splits, start=1):
        announce(
            pipeline,
            f"hold-out {k}/{len(splits)}: fit on {len(train)} of {len(y)} images; "
            f"the other {len(val)} choose the final step's constants",
        )
        inner = clone(pipeline).set_params(calibration_cv=None)
        if "dna_test" in inner.steps[-1][1].get_params():
            # the held-out images decide instead
            inner.set_params(**{f"{final_name}__dna_test": None})
        with warnings.catch_warnings():
            # about the inner model, not the one the user gets
            warnings.simplefilter("ignore", UserWarning)
            inner.fit(_safe_indexing(X, train), y[train], **params)
        X_val = _safe_indexing(X, val)
        Z_val = inner[:-1].transform(X_val) if len(inner) > 1 else X_val
        held_out.append((inner.steps[-1][1], Z_val, y[val]))
    return held_out


def announce(pipeline, text):
    """Say which fit starts, when a step prints its progress (``verbose``).

    Cross-fitting fits the Pipeline once per hold-out and then on all images:
    without this line, the progress of those fits (epoch tables, progress
    bars) repeats without saying which fit it belongs to.
    """
    steps = [step for _, step in pipeline.steps if hasattr(step, "get_params")]
    if pipeline.verbose or any(
        step.get_params(deep=False).get("verbose") for step in steps
    ):
        print(f"[{type(pipeline).__name__}] {text}", flush=True)
