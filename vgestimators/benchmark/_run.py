"""The benchmark's settings and its driver."""

import json
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._methods import METHODS

_PRESETS = {
    # measured on a shared 2-core CPU sandbox: see docs/user_guide/benchmark.rst
    "default": {},  # the BenchmarkConfig defaults
    # smaller data, fewer epochs and splits: a few minutes
    "quick": dict(
        n_species=16,
        n_images=600,
        image_size=32,
        n_splits=2,
        max_epochs=4,
        finetune_epochs=2,
        n_unseen=2,
        many=60,
        few=12,
    ),
    # a GPU (sized for an H200 in about 5 minutes): 32 species, 64 px,
    # ResNet50 with the small-image stem, bf16; see benchmarks/gpu_check.py
    "gpu": dict(
        device="cuda",
        n_species=32,
        n_images=4000,
        image_size=64,
        backbone="resnet50",
        stem="auto",
        batch_size=128,
        n_splits=2,
        max_epochs=12,
        finetune_epochs=4,
        many=100,
        few=20,
    ),
    # seconds: for tests
    "tiny": dict(
        n_species=6,
        n_images=72,
        image_size=16,
        imbalance_ratio=6,
        n_splits=1,
        max_epochs=1,
        finetune_epochs=1,
        batch_size=24,
        n_unseen=1,
        many=10,
        few=5,
        tsne=True,
        n_test_per_species=4,
    ),
}


#: Fields that only shape the synthetic data (``make_forams``).
SYNTHETIC_ONLY = (
    "n_species",
    "n_images",
    "imbalance_ratio",
    "genetic_signal",
    "n_test_per_species",
)


@dataclass
class BenchmarkConfig:
    """Settings of the rare-species benchmark.

    The defaults (preset ``"default"``) run on ``make_forams`` data on the CPU
    within a quarter of an hour on 2 cores; ``BenchmarkConfig.from_preset("quick")``
    is a smaller run (a few minutes) and ``"tiny"`` is for tests (seconds). Every field can be
    overridden, e.g. ``BenchmarkConfig.from_preset("quick", device="cuda")``.

    Parameters
    ----------
    out : str, default="results"
        Folder for the result files and figures.
    preset : str, default="default"
        Name of the preset the settings came from (recorded in the report).
    methods : tuple of str
        Methods to run, a subset of ``"softmax"``, ``"triplet"``,
        ``"triplet_lt"``, ``"aligned"``, ``"finetuned"``, ``"zero_shot"``.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where the networks train.
    n_splits : int, default=3
        Repeated stratified long-tail splits (seeds ``random_state + k``).
    test_size : float, default=0.25
        Fraction of each seen species' images in the test set.
    n_unseen : int, default=2
        Species held out of training entirely in each split (their images
        are the zero-shot test set; their DNA is known).
    random_state : int, default=0
        Seed of the data, the splits and the networks.
    n_species, n_images, image_size, imbalance_ratio, genetic_signal
        Passed to :func:`~vgestimators.datasets.make_forams`.
    n_test_per_species : int, default=30
        Synthetic data: test images rendered for every species, so the
        test set is balanced (train on the long tail, test on a balanced
        set, as long-tailed recognition is measured); 0 uses stratified
        splits of the long-tailed images instead (as for real data).
    images, sequences, mapping : str or None
        Real data instead: an image folder (one sub-folder per class), a
        PFR2-style CSV or FASTA file of sequences, and an optional two-column
        CSV mapping image class to species name.
    backbone : str, default="resnet18"
        torchvision ResNet trained from scratch.
    stem : {"torchvision", "small", "auto"}, default="torchvision"
        ResNet stem of every network. The embedder's default ("auto": the
        small-image stem up to 64 px) measured 3 to 5 points better on this
        data at 6 to 7 times the CPU time, which would take the default run
        past its quarter of an hour on 2 cores; ``--stem auto`` on a GPU.
    embedding_dim : int, default=128
        Size of the image embedding (as the paper).
    loss, miner : str, default="softmax_triplet", "batch_hard"
        ``TripletImageEmbedder`` loss and miner of every triplet method.
    anchor_components : int or None, default=None
        ``GeneticAnchors(n_components=...)``: PCA size of the anchor space
        (None keeps all 256 SGT dinucleotide features).
    max_epochs, finetune_epochs : int
        Epochs of each training and of the aligned fine-tuning.
    batch_size : int, default=64
    lr : float, default=1e-3
    finetune_lr_factor : float, default=0.5
        Fine-tuning learning rate, as a fraction of ``lr``.
    alignment_weight : float, default=1.0
        Weight of the cosine alignment loss during fine-tuning.
    many, few : int
        Training-count thresholds of many-shot (> many) and few-shot
        (< few) classes.
    tail_fraction : float, default=0.2
        Fraction of rarest classes in 'rarest-class accuracy'.
    n_threads : int or None, default=None
        ``torch.set_num_threads`` for the run (None: torch's default, one
        per core). On a machine shared with other jobs, 1 thread per process
        avoids oversubscription, which slows small CPU operations a lot.
    tsne : bool, default=True
        Draw the t-SNE figure (needs the aligner).
    progress : bool, default=True
        Show progress bars.

    Examples
    --------
    >>> from vgestimators.benchmark import BenchmarkConfig
    >>> config = BenchmarkConfig.from_preset("quick", out="my_results")
    >>> config.preset, config.n_splits, config.out
    ('quick', 2, 'my_results')
    >>> BenchmarkConfig().backbone
    'resnet18'
    """

    out: str = "results"
    preset: str = "default"
    methods: tuple = tuple(METHODS)
    device: str = "cpu"
    n_splits: int = 3
    test_size: float = 0.25
    n_unseen: int = 2
    random_state: int = 0
    # data
    n_species: int = 16
    n_images: int = 1000
    image_size: int = 32
    imbalance_ratio: float = 100.0
    genetic_signal: float = 1.0
    n_test_per_species: int = 30
    images: str | None = None
    sequences: str | None = None
    mapping: str | None = None
    # training
    backbone: str = "resnet18"
    stem: str = "torchvision"
    embedding_dim: int = 128
    loss: str = "softmax_triplet"
    miner: str = "batch_hard"
    anchor_components: int | None = None
    max_epochs: int = 10
    finetune_epochs: int = 3
    batch_size: int = 64
    lr: float = 1e-3
    finetune_lr_factor: float = 0.5
    alignment_weight: float = 1.0
    # scoring
    many: int = 60
    few: int = 15
    tail_fraction: float = 0.2
    n_threads: int | None = None
    # output
    tsne: bool = True
    progress: bool = True

    @classmethod
    def from_preset(cls, name="default", **overrides):
        """Settings of a named preset (``"default"``, ``"quick"``, ``"gpu"``, ``"tiny"``).

        Parameters
        ----------
        name : {"default", "quick", "gpu", "tiny"}
            The preset.
        **overrides
            Fields to change.

        Returns
        -------
        config : BenchmarkConfig
        """
        if name not in _PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {list(_PRESETS)}.")
        return cls(**{**_PRESETS[name], "preset": name, **overrides}).validate()

    def validate(self):
        """Check the settings; returns ``self``, raises ValueError."""
        methods = tuple(self.methods)
        unknown = [m for m in methods if m not in METHODS]
        if unknown or not methods:
            raise ValueError(
                f"unknown methods {unknown}; choose from {list(METHODS)}."
                if unknown
                else "methods is empty."
            )
        self.methods = tuple(m for m in METHODS if m in methods)
        if self.stem not in {"torchvision", "small", "auto"}:
            raise ValueError(
                f"stem must be torchvision, small or auto, got {self.stem!r}."
            )
        if self.device not in {"cpu", "cuda", "auto"}:
            raise ValueError(f"device must be cpu, cuda or auto, got {self.device!r}.")
        if self.n_splits < 1:
            raise ValueError(f"n_splits must be >= 1, got {self.n_splits}.")
        if not 0 < self.test_size < 1:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size}.")
        if not 0 <= self.genetic_signal <= 1:
            raise ValueError(
                f"genetic_signal must be in [0, 1], got {self.genetic_signal}."
            )
        if self.n_unseen < 0:
            raise ValueError(f"n_unseen must be >= 0, got {self.n_unseen}.")
        if "zero_shot" in self.methods and self.n_unseen == 0:
            raise ValueError("the zero_shot method needs n_unseen >= 1.")
        if (self.images is None) != (self.sequences is None):
            raise ValueError("real data needs both images and sequences.")
        return self

    def settings(self):
        """The settings that apply, as a flat, JSON-serialisable dict.

        With real data (``images`` set) the ``make_forams``-only fields
        (:data:`SYNTHETIC_ONLY`) are left out: they shaped nothing.
        ``BenchmarkConfig(**settings).validate()`` rebuilds the configuration.

        Examples
        --------
        >>> config = BenchmarkConfig(images="photos", sequences="dna.fasta")
        >>> "n_species" in config.settings(), config.settings()["images"]
        (False, 'photos')
        >>> "n_species" in BenchmarkConfig().settings()
        True
        """
        out = {}
        for f in fields(self):
            if self.images is not None and f.name in SYNTHETIC_ONLY:
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def _as_config(config, overrides):
    if config is None:
        config = BenchmarkConfig()
    elif isinstance(config, str):
        config = BenchmarkConfig.from_preset(config)
    elif isinstance(config, dict):
        config = BenchmarkConfig(**config)
    if overrides:
        config = replace(config, **overrides)
    return config.validate()


def run_benchmark(config=None, **overrides):
    """Run the rare-species benchmark and write its table and figures.

    Every method is fitted and scored on the same repeated stratified
    long-tail splits; results are appended to ``scores.csv`` and
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
    from ._data import load_data, make_splits
    from ._methods import SplitRunner
    from ._progress import progress
    from ._report import (
        ResultWriter,
        compute_scores,
        format_table,
        machine_description,
        per_class_rows,
        zero_shot_scores,
    )

    config = _as_config(config, overrides)
    from ..utils._device import resolve_device

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
    try:
        bar.set_postfix_str("making data", refresh=True)
        data = load_data(config)
        splits = make_splits(
            data.y,
            n_splits=config.n_splits,
            test_size=config.test_size,
            n_unseen=config.n_unseen,
            random_state=config.random_state,
            balanced_test=data.balanced_test,
        )
        # training images per species in the first split (the sample figure)
        sample_counts = pd.Series(data.y[splits[0].train]).value_counts()
        settings = {
            "data": data.source,
            **(
                {"Mantel r (morphology vs DNA)": f"{data.info['mantel_r']:.3f}"}
                if "mantel_r" in data.info
                else {}
            ),
            "images": f"{len(data.y)} images of {len(np.unique(data.y))} species",
            "splits": (
                (
                    f"{config.n_splits} splits: train on the long tail, test on "
                    f"a balanced set ({config.n_test_per_species} images of every "
                    "species)"
                    if data.balanced_test is not None
                    else f"{config.n_splits} repeated stratified long-tail splits "
                    f"(test_size={config.test_size})"
                )
                + f"; {config.n_unseen} species held out of training per split "
                "(DNA only) for zero-shot"
            ),
            "networks": (
                f"{config.backbone} from scratch ({config.stem} stem), "
                f"{config.image_size} px, "
                f"embedding {config.embedding_dim}-d, {config.max_epochs} epochs "
                f"(fine-tuning {config.finetune_epochs}), batch {config.batch_size}, "
                f"lr {config.lr}, device {device}"
            ),
            "thresholds": (
                f"many-shot > {config.many}, few-shot < {config.few} training "
                f"images; rarest = {config.tail_fraction:.0%} of species"
            ),
            "machine": machine_description(device),
            "preset": config.preset,
        }
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

        for split in splits:
            runner = SplitRunner(config, data, split)
            for method in config.methods:
                bar.set_postfix_str(
                    f"split {split.index + 1}/{config.n_splits}: {method}",
                    refresh=True,
                )
                result = runner.run(method)
                if result.y_pred_unseen is None and len(runner.y_unseen):
                    # every method is scored on the held-out species' images
                    result.y_pred_unseen = result.pipeline.predict(runner.X_unseen)
                scores = compute_scores(
                    runner.y_test,
                    result.y_pred,
                    runner.y_train,
                    many=config.many,
                    few=config.few,
                    tail_fraction=config.tail_fraction,
                )
                scores.update(
                    zero_shot_scores(
                        runner.y_test,
                        result.y_pred,
                        runner.y_unseen,
                        result.y_pred_unseen,
                        result.extra.get("y_pred_unseen_restricted"),
                    )
                )
                row = {
                    "method": method,
                    "split": split.index,
                    "seed": split.seed,
                    **scores,
                    "fit_time": result.fit_time,
                    "predict_time": result.predict_time,
                    "n_train": len(runner.y_train),
                    "n_test": len(runner.y_test),
                    "unseen_species": ";".join(split.unseen_species),
                }
                per_class = per_class_rows(
                    runner.y_test, result.y_pred, runner.y_train, test_set="seen"
                )
                if len(runner.y_unseen):
                    per_class += per_class_rows(
                        runner.y_unseen,
                        result.y_pred_unseen,
                        runner.y_train,
                        test_set="zero-shot",
                    )
                writer.add(row, per_class)
                if split.index == 0:
                    files["pipelines"] = _save_pipeline(
                        out, method, result.pipeline, writer
                    )
                if (
                    config.tsne
                    and split.index == 0
                    and method in {"aligned", "zero_shot"}
                    and tsne_inputs is None
                ):
                    tsne_inputs = _tsne_inputs(runner, result, split)
                bar.update(1)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()

    if writer is not None:
        bar2 = progress(
            total=3, desc="figures", enabled=config.progress, unit="fig", leave=False
        )
        try:
            files.update(
                _figures(
                    config, data, writer, labels, tsne_inputs, sample_counts, out, bar2
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
            "benchmark's progress-bar callbacks are left out.\n\n",
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


class _Name:
    """Prints as a bare name: a variable that a printed Pipeline refers to."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def _printable(method, pipeline):
    """A copy of ``pipeline`` that prints as code a reader can paste.

    Progress bars (:class:`~._progress.EpochProgress`, run-time only) are
    dropped from ``callbacks`` and the DNA table is named (``sequences``, or
    ``shuffled_sequences`` for the control) instead of printed row by row.
    """
    from sklearn.base import clone

    from ._progress import EpochProgress

    shown = clone(pipeline)
    for _, step in shown.steps:
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
    return shown


_NOTES = {
    "aligned": (
        "The embedder is the one of `triplet` (fitted once, shared); the "
        "aligner's anchors are GeneticAnchors fitted on all species' sequences "
        "inside `fit`."
    ),
    "zero_shot": (
        'As `aligned`, with `classifier="anchor"` (nearest genetic anchor): the '
        "held-out species have anchors (DNA) but no training image, and can "
        "still be predicted."
    ),
    "finetuned": (
        "Fitted in two stages: first as in `triplet`, then "
        "`set_params(alignment_anchors=..., alignment_weight=..., "
        "max_epochs=..., warm_start=True)` and `fit` again, which continues "
        "from the triplet-trained weights with the cosine alignment loss added. "
        "`alignment_anchors` is the `GeneticAnchors` shown, fitted beforehand "
        'with `.fit(sequences["sequence"], sequences["species"])`.'
    ),
}


def _tsne_inputs(runner, result, split):
    align = result.extra.get("align")
    Z_test, Z_unseen = result.extra.get("Z_test"), result.extra.get("Z_unseen")
    if align is None or Z_test is None:
        return None
    before = Z_test if Z_unseen is None else np.vstack([Z_test, Z_unseen])
    y = (
        runner.y_test
        if Z_unseen is None
        else np.concatenate([runner.y_test, runner.y_unseen])
    )
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


def _figures(config, data, writer, labels, tsne_inputs, train_counts, out, bar):
    from ._plots import plot_per_class_accuracy, plot_samples, plot_tsne

    files = {}
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
