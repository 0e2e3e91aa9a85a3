"""The benchmark's driver: data, splits, every method's Pipeline, result files."""

import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._config import as_config
from ._methods import METHODS


def run_benchmark(config=None, **overrides):
    """Run the rare-species benchmark and write its table and figures.

    Every method's Pipeline (:func:`build_pipeline`) is fitted and scored
    on the same :class:`~vgestimators.model_selection.HeldOutSpeciesSplit`
    splits (synthetic data: a balanced test set; real data: stratified
    long-tail splits); results are appended to ``scores.csv`` and
    ``per_class.csv`` as each (split, method) finishes, and the summary
    (``results.csv``, ``results.md``) is rewritten each time, so that an
    interrupted run (Ctrl-C) keeps everything finished so far. Figures are
    drawn at the end (or on interruption, from what is there).

    Parameters
    ----------
    config : BenchmarkConfig, str or dict, default=None
        Settings, a preset name, or a dict of fields; None means the
        default preset.
    **overrides
        Fields of :class:`BenchmarkConfig` to change.

    Returns
    -------
    result : Bunch
        ``summary`` (DataFrame, mean and std per method), ``scores``
        (DataFrame, one row per split and method), ``per_class``
        (DataFrame), ``files`` (dict name -> Path), ``config``,
        ``elapsed`` (seconds) and ``interrupted`` (bool).

    Raises
    ------
    KeyboardInterrupt
        Re-raised after the files are finalised when the run is
        interrupted.

    See Also
    --------
    BenchmarkConfig : the settings.

    Examples
    --------
    >>> from vgestimators.benchmark import BenchmarkConfig, run_benchmark
    >>> config = BenchmarkConfig.from_preset("tiny", out="tiny_results", progress=False)
    >>> result = run_benchmark(config)  # doctest: +SKIP
    >>> result.summary[["label", "accuracy_mean"]]  # doctest: +SKIP
    """
    import joblib

    from ..utils._device import resolve_device
    from ..utils._progress import progress
    from ._data import load_data
    from ._report import ResultWriter, format_table, run_settings
    from ._split_run import SplitRun, make_splits

    config = as_config(config, **overrides)
    device = resolve_device(config.device)
    config = replace(config, device=device)
    if config.n_threads is not None:
        import torch

        torch.set_num_threads(int(config.n_threads))
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    labels = {m: METHODS[m] for m in config.methods}
    bar = progress(
        total=2 + config.n_splits * len(config.methods),
        desc="benchmark",
        enabled=config.progress,
        unit="step",
        position=0,
    )
    files = {}
    writer = None
    interrupted = False
    tsne_inputs = None
    curves = {}
    # the Pipelines' cache: the embedder that several rows share is fitted
    # once per split (see SplitRun)
    cache = tempfile.TemporaryDirectory(prefix="vgestimators-benchmark-")
    try:
        bar.set_postfix_str("making data", refresh=True)
        data = load_data(config)
        splits = make_splits(config, data)
        # training images per species in the first split (the sample figure)
        sample_counts = pd.Series(data.y[splits[0].train]).value_counts()
        settings = run_settings(config, data)
        (out / "config.json").write_text(
            json.dumps(config.settings(), indent=2, default=str), encoding="utf-8"
        )
        files["config"] = out / "config.json"
        writer = ResultWriter(out, settings, labels, data=data)
        files.update(
            scores=writer.scores_path,
            per_class=writer.per_class_path,
            results_csv=writer.results_csv,
            results_md=writer.results_md,
        )
        bar.update(1)

        memory = joblib.Memory(cache.name, verbose=0)
        for split in splits:
            runner = SplitRun(config, data, split, memory)
            for method in config.methods:
                bar.set_postfix_str(
                    f"split {split.index + 1}/{config.n_splits}: {method}",
                    refresh=True,
                )
                result = runner.run(method)
                row, per_class = runner.score(method, result)
                writer.add(row, per_class)
                if split.index == 0:
                    files["pipelines"] = _save_pipeline(
                        out, method, result.pipeline, writer
                    )
                    if result.curve is not None:
                        curves[method] = (
                            *result.curve,
                            (row["balanced_accuracy"], row["unseen_accuracy"]),
                            result.ausuc,
                        )
                if (
                    config.tsne
                    and split.index == 0
                    and method in {"aligned", "zero_shot"}
                    and tsne_inputs is None
                ):
                    tsne_inputs = _tsne_inputs(runner, result, split)
                bar.update(1)
            # the cache keys hold the split's data and seed: nothing carries over
            memory.clear(warn=False)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        cache.cleanup()

    if writer is not None:
        bar2 = progress(
            total=3, desc="figures", enabled=config.progress, unit="fig", leave=False
        )
        try:
            files.update(
                _figures(
                    config,
                    data,
                    writer,
                    labels,
                    tsne_inputs,
                    sample_counts,
                    out,
                    bar2,
                    curves,
                )
            )
        except KeyboardInterrupt:
            interrupted = True
        finally:
            bar2.close()
        note = None
        if interrupted:
            done = len(writer.scores)
            note = (
                f"Interrupted: {done} of {config.n_splits * len(config.methods)} "
                "(split, method) results finished."
            )
        summary = writer.write_summary(note=note)
        scores = pd.DataFrame(writer.scores)
        per_class = pd.DataFrame(writer.per_class)
    else:
        summary = scores = per_class = pd.DataFrame()
    elapsed = time.perf_counter() - start
    result = Bunch(
        summary=summary,
        scores=scores,
        per_class=per_class,
        files=files,
        config=config,
        elapsed=elapsed,
        interrupted=interrupted,
    )
    result.table = format_table(summary) if writer is not None else ""
    if interrupted:
        raise KeyboardInterrupt(
            f"benchmark interrupted; results so far are in {out.resolve()}"
        )
    return result


def _save_pipeline(out, method, pipeline, writer):
    """Append the Pipeline of a method (as printed by scikit-learn) to pipelines.md."""
    from sklearn import config_context

    path = out / "pipelines.md"
    if not path.exists() or method == next(iter(writer.labels)):
        path.write_text(
            "# The Pipelines of the benchmark\n\n"
            "Each row of the table is one of these Pipelines (parameters that "
            "differ from the defaults shown), fitted on the training images "
            "and labels and scored with `predict` on the test images. "
            "`sequences` stands for the DNA table the anchors are fitted on (a "
            "DataFrame with columns `sequence` and `species`: "
            "`make_forams(...).sequences`, or the sequence file with each "
            "species renamed to its image class); `shuffled_sequences` is that "
            "table with the species names permuted across species. The "
            "benchmark's progress-bar callbacks are left out, and so is the "
            "`memory=` it gives the Pipelines that start with the shared "
            "embedder: one joblib cache per run, so "
            "that the triplet embedder several rows start with is trained once "
            "per split and loaded by the other rows. To run one, paste the "
            "imports, then `sequences` and `shuffled_sequences = "
            "shuffle_species(sequences, seed)` (seed: the split's "
            "`random_state`), then the Pipeline:\n\n" + _IMPORTS,
            encoding="utf-8",
        )
    with config_context(print_changed_only=True):
        # never truncated: the text is meant to be pasted into a script
        text = _printable(method, pipeline).__repr__(N_CHAR_MAX=1_000_000)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"## {writer.labels[method]} (`{method}`)\n\n")
        if method in _NOTES:
            fh.write(_NOTES[method] + "\n\n")
        fh.write(f"```python\n{text}\n```\n\n")
    return path


_IMPORTS = """```python
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from sklearn.pipeline import Pipeline

from vgestimators import GeneticAnchors, TripletImageEmbedder, VisualGeneticAligner
from vgestimators.benchmark import shuffle_species
from vgestimators.pipeline import SpeciesPipeline
from vgestimators.vision import SoftmaxImageClassifier
```

"""


class _Name:
    """Prints as a bare name: a variable that a printed Pipeline refers to."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def _printable(method, pipeline):
    """A copy of ``pipeline`` that prints as code a reader can paste.

    Progress bars (:class:`~._progress.EpochProgress`, run-time only) and
    the cache (``memory``) are dropped, a frozen fitted ``init`` is shown as
    the unfitted embedder it was declared as, frozen fitted anchors as the
    call that fits them, and the DNA table is named (``sequences``, or
    ``shuffled_sequences`` for the control) instead of printed row by row.
    """
    from sklearn.base import clone
    from sklearn.frozen import FrozenEstimator

    from ._progress import EpochProgress

    shown = clone(pipeline).set_params(memory=None)
    steps = [step for _, step in shown.steps]
    for step in steps:
        init = step.get_params(deep=False).get("init")
        if isinstance(init, FrozenEstimator):
            init = clone(init.estimator)
            step.set_params(init=init)
        if init is not None:
            steps.append(init)
    for step in steps:
        params = step.get_params(deep=False)
        if params.get("callbacks"):
            kept = [
                c
                for c in params["callbacks"]
                if not isinstance(c[1] if isinstance(c, tuple) else c, EpochProgress)
            ]
            step.set_params(callbacks=kept or None)
        if isinstance(params.get("sequences"), pd.DataFrame):
            name = (
                "shuffled_sequences" if method == "prototype_shuffled" else "sequences"
            )
            step.set_params(sequences=_Name(name))
        anchors = params.get("alignment_anchors")
        if isinstance(anchors, FrozenEstimator):
            # fitted beforehand: shown as the call that fits it
            fitted_on = '.fit(sequences["sequence"], sequences["species"])'
            step.set_params(
                alignment_anchors=_Name(
                    f"FrozenEstimator({clone(anchors.estimator)!r}{fitted_on})"
                )
            )
    return shown


_NOTES = {
    "prototype": (
        "A `SpeciesPipeline` with `calibration_cv=1`: before the fit on all "
        "training images, a clone is fitted leaving out a hold-out (about one "
        "species in six held out entirely, a third of the other species' "
        "images), and the aligner chooses its constants on the held-out "
        "images, embedded by that clone's network (the cache shares that "
        "network with the control row)."
    ),
    "prototype_shuffled": (
        "The default row with the species names of the sequences permuted "
        "across species (`shuffled_sequences`), cross-fitted the same way."
    ),
    "aligned": (
        "The embedder is the one of `triplet` (trained once per split through "
        "the cache, and loaded here); the aligner's anchors are GeneticAnchors fitted on all species' sequences "
        "inside `fit`."
    ),
    "zero_shot": (
        'As `aligned`, with `classifier="anchor"` (nearest genetic anchor): the '
        "held-out species have anchors (DNA) but no training image, and can "
        "still be predicted."
    ),
    "finetuned": (
        "`init` is the embedder of `triplet`: `fit` first fits it, then "
        "continues from its weights with the cosine alignment loss added (the "
        "paper's aligned fine-tuning). The benchmark passes the one `triplet` "
        "trained as `init=FrozenEstimator(fitted)`, so it is not trained again. "
        "`alignment_anchors` is the `GeneticAnchors` shown, fitted beforehand "
        'with `.fit(sequences["sequence"], sequences["species"])`.'
    ),
}


def _tsne_inputs(runner, result, split):
    """Embeddings of the test images before and after the aligner."""
    align = result.pipeline.named_steps.get("align")
    if align is None:
        return None
    X = runner.X_test
    y = runner.y_test
    if len(runner.y_unseen):
        X = np.concatenate([runner.X_test, runner.X_unseen])
        y = np.concatenate([runner.y_test, runner.y_unseen])
    before = result.pipeline[:-1].transform(X)
    after = align.transform(before)
    anchors = align.anchors_
    counts = pd.Series(runner.y_train).value_counts()
    return dict(
        before=before,
        after=after,
        y=y,
        anchors=anchors,
        train_counts=counts,
        unseen_species=split.unseen_species,
        random_state=split.seed,
    )


def _figures(config, data, writer, labels, tsne_inputs, train_counts, out, bar, curves):
    from ..utils._plots import plot_seen_unseen_curves
    from ._plots import plot_per_class_accuracy, plot_samples, plot_tsne

    files = {}
    if curves:
        files["seen_unseen_figure"] = plot_seen_unseen_curves(
            curves, labels, out / "seen_unseen_curve.png"
        )
    bar.set_postfix_str("per-class accuracy")
    if writer.per_class:
        files["per_class_figure"] = plot_per_class_accuracy(
            writer.per_class, labels, out / "per_class_accuracy.png"
        )
    bar.update(1)
    bar.set_postfix_str("t-SNE")
    if tsne_inputs is not None:
        files["tsne_figure"] = plot_tsne(**tsne_inputs, path=out / "tsne.png")
    bar.update(1)
    bar.set_postfix_str("samples")
    files["samples_figure"] = plot_samples(
        data, out / "samples.png", train_counts=train_counts
    )
    bar.update(1)
    return files
