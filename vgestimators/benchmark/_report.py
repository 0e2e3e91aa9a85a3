"""Scores, tables and incremental result files of the benchmark.

Every finished (split, method) pair is appended to ``scores.csv`` and
``per_class.csv`` at once and the summary files are rewritten, so an
interrupted run (Ctrl-C) leaves complete, readable files behind.
"""

import contextlib
import csv
import math
import os
import platform
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..taxonomy import PAIRING_RULES

#: Score columns of the table, in display order, with their header text.
SCORE_COLUMNS = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced acc.",
    "macro_f1": "Macro-F1",
    "many_shot": "Many-shot",
    "medium_shot": "Medium-shot",
    "few_shot": "Few-shot",
    "tail_accuracy": "Rarest classes",
    "unseen_accuracy": "Zero-shot, all classes compete",
    "unseen_restricted": "Zero-shot, among unseen",
    "harmonic_mean": "H (seen, unseen)",
    "ausuc": "AUSUC (seen/unseen curve)",
    "ece": "ECE of probabilities",
    "undescribed_genus_accuracy": "Undescribed species: genus acc.",
    "unknown_auroc": "Unknown detection AUROC (x100)",
}
#: Fewest test images of a class for its accuracy to be read on its own.
MIN_TEST_TO_JUDGE = 10


def compute_scores(y_true, y_pred, y_train, *, many, few, tail_fraction):
    """Long-tail scores of one prediction, as a dict of floats.

    Uses :func:`vgestimators.metrics.ltr_report` for the figures.
    """
    from ..metrics import ltr_report

    with _expected_extra_classes():
        report = ltr_report(
            np.asarray(y_true),
            np.asarray(y_pred),
            np.asarray(y_train),
            many=many,
            few=few,
            tail_fraction=tail_fraction,
        )
    row = report.iloc[0].rename({"f1_macro": "macro_f1"})
    return {name: float(row[name]) for name in SCORE_COLUMNS if name in row}


def zero_shot_scores(y_test, y_pred, y_unseen, y_pred_unseen, y_pred_restricted):
    """Zero-shot figures of the held-out species, as the literature reports them.

    ``unseen_accuracy``: mean per-species accuracy on the held-out species'
    images when every class competes (generalized zero-shot);
    ``unseen_restricted``: the same with only the held-out species as
    candidates; ``harmonic_mean``: of the seen species' balanced accuracy
    and ``unseen_accuracy``. Methods that cannot predict a held-out species
    score 0 on the first and have no second.
    """
    from sklearn.metrics import balanced_accuracy_score

    out = {}
    if y_pred_unseen is None or len(y_unseen) == 0:
        return out

    def per_species(y_true, y_hat):
        return float(
            np.mean([np.mean(y_hat[y_true == c] == c) for c in np.unique(y_true)])
        )

    out["unseen_accuracy"] = per_species(y_unseen, np.asarray(y_pred_unseen))
    if y_pred_restricted is not None:
        out["unseen_restricted"] = per_species(y_unseen, np.asarray(y_pred_restricted))
    with _expected_extra_classes():
        seen = balanced_accuracy_score(y_test, y_pred)
    u = out["unseen_accuracy"]
    out["harmonic_mean"] = 0.0 if seen + u == 0 else 2 * seen * u / (seen + u)
    return out


@contextlib.contextmanager
def _expected_extra_classes():
    """Silence scikit-learn's warning that y_pred holds classes not in y_true.

    Here it is expected: a rule that can name held-out species predicts them
    for some images of seen species too (counted as errors).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="y_pred contains classes not in y_true"
        )
        yield


def _wilson(hits, n, z=1.96):
    """Wilson score interval of a proportion (95 % by default)."""
    if n == 0:
        return math.nan, math.nan
    p = hits / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def per_class_rows(y_true, y_pred, y_train, test_set="seen"):
    """Per-class accuracy with the training and test counts and a 95 % interval.

    ``judgeable`` is False for a class with fewer than
    :data:`MIN_TEST_TO_JUDGE` test images: its accuracy alone says little.
    """
    from ..metrics import per_class_accuracy

    y_true = np.asarray(y_true)
    labels = np.unique(y_true)
    acc = per_class_accuracy(y_true, np.asarray(y_pred), labels=labels)
    classes, counts = np.unique(np.asarray(y_train), return_counts=True)
    train_count = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    n_test = pd.Series(y_true).value_counts()
    rows = []
    for label in labels.tolist():
        n = int(n_test[label])
        low, high = _wilson(round(float(acc[label]) * n), n)
        rows.append(
            {
                "class": label,
                "test_set": test_set,
                "train_count": int(train_count.get(label, 0)),
                "n_test": n,
                "accuracy": float(acc[label]),
                "ci_low": low,
                "ci_high": high,
                "judgeable": n >= MIN_TEST_TO_JUDGE,
            }
        )
    return rows


class ResultWriter:
    """Append-only CSV files plus summary files rewritten after each result.

    Parameters
    ----------
    out : path-like
        Output folder (created).
    settings : dict
        Benchmark settings written into ``results.md``.
    labels : dict of str to str
        Method name -> display label, in display order.
    data : BenchmarkData or None, default=None
        The data set; its ``info`` gives the "Data" section of ``results.md``
        (see :func:`data_section`).
    """

    def __init__(self, out, settings, labels, data=None):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self.labels = dict(labels)
        self.data_lines = data_section(data)
        self.scores_path = self.out / "scores.csv"
        self.per_class_path = self.out / "per_class.csv"
        self.results_csv = self.out / "results.csv"
        self.results_md = self.out / "results.md"
        for path in (
            self.scores_path,
            self.per_class_path,
            self.results_csv,
            self.results_md,
        ):
            if path.exists():
                path.unlink()
        self.scores = []
        self.per_class = []
        self._fields = {}

    def _append(self, path, rows):
        if not rows:
            return
        new = not path.exists()
        # the first row fixes the columns; later rows are written in that order
        fieldnames = self._fields.setdefault(path, list(rows[0]))
        with open(path, "a", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fieldnames)
            if new:
                writer.writeheader()
            writer.writerows(rows)
            fh.flush()
            os.fsync(fh.fileno())

    def add(self, row, per_class):
        """Record one (split, method) result and refresh the summaries."""
        first = {
            "method": row["method"],
            "label": self.labels.get(row["method"], row["method"]),
            "split": row["split"],
            **{column: row.get(column, math.nan) for column in SCORE_COLUMNS},
        }
        row = {**first, **{k: v for k, v in row.items() if k not in first}}
        self.scores.append(row)
        self._append(self.scores_path, [row])
        pc = [{"method": row["method"], "split": row["split"], **r} for r in per_class]
        self.per_class.extend(pc)
        self._append(self.per_class_path, pc)
        self.write_summary()

    def summary(self):
        """Mean and standard deviation over splits, one row per method."""
        return summarize(pd.DataFrame(self.scores), self.labels)

    def write_summary(self, note=None):
        """(Re)write ``results.csv`` and ``results.md`` atomically."""
        summary = self.summary()
        tmp = self.results_csv.with_suffix(".csv.tmp")
        summary.to_csv(tmp, index=False)
        os.replace(tmp, self.results_csv)
        text = markdown_report(
            summary, self.settings, note=note, data_lines=self.data_lines
        )
        tmp = self.results_md.with_suffix(".md.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.results_md)
        return summary


def summarize(scores, labels):
    """Aggregate per-split scores into mean/std columns per method."""
    columns = ["method", "label", "n_splits"]
    for c in [*SCORE_COLUMNS, "fit_time"]:
        columns += [f"{c}_mean", f"{c}_std"]
    if scores is None or len(scores) == 0:
        return pd.DataFrame(columns=columns)
    order = [m for m in labels if m in set(scores["method"])]
    rows = []
    for method in order:
        part = scores[scores["method"] == method]
        row = {
            "method": method,
            "label": labels[method],
            "n_splits": int(part["split"].nunique()),
        }
        for c in [*SCORE_COLUMNS, "fit_time"]:
            values = pd.to_numeric(part[c], errors="coerce").dropna()
            row[f"{c}_mean"] = float(values.mean()) if len(values) else math.nan
            row[f"{c}_std"] = float(values.std(ddof=0)) if len(values) else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _fmt(mean, std, percent=True):
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    scale = 100.0 if percent else 1.0
    if std is None or math.isnan(std):
        return f"{mean * scale:.1f}"
    return f"{mean * scale:.1f} ± {std * scale:.1f}"


def format_table(summary, markdown=False):
    """The summary as a text table (mean ± std over splits, in percent)."""
    headers = ["Method", *SCORE_COLUMNS.values(), "Fit time (s)"]
    body = []
    for _, row in summary.iterrows():
        cells = [str(row["label"])]
        for c in SCORE_COLUMNS:
            cells.append(_fmt(row[f"{c}_mean"], row[f"{c}_std"]))
        cells.append(_fmt(row["fit_time_mean"], row["fit_time_std"], percent=False))
        body.append(cells)
    if markdown:
        lines = [
            "| " + " | ".join(headers) + " |",
            "|" + "|".join(["---"] + ["---:"] * (len(headers) - 1)) + "|",
        ]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h)
        for i, h in enumerate(headers)
    ]
    sep = "  "
    lines = [sep.join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append(sep.join("-" * w for w in widths))
    for cells in body:
        lines.append(
            sep.join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
    return "\n".join(lines)


def machine_description(device="cpu"):
    """One line naming the machine the benchmark ran on."""
    import torch

    from ..utils._device import is_cuda

    cpu = platform.processor() or platform.machine()
    text = (
        f"{os.cpu_count()} CPU cores ({cpu}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )
    if is_cuda(device) and torch.cuda.is_available():
        text += f", GPU {torch.cuda.get_device_name(0)}"
    return text


def run_settings(config, data):
    """The settings lines of ``results.md``: data, splits, networks, machine."""
    return {
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
            f"lr {config.lr}, device {config.device}"
        ),
        "thresholds": (
            f"many-shot > {config.many}, few-shot < {config.few} training "
            f"images; rarest = {config.tail_fraction:.0%} of species"
        ),
        "machine": machine_description(config.device),
        "preset": config.preset,
    }


def markdown_report(summary, settings, note=None, data_lines=()):
    """``results.md``: the table, the data (``data_lines``) and the settings."""
    lines = ["# vgestimators rare-species benchmark", ""]
    if note:
        lines += [f"**{note}**", ""]
    lines += [
        "Scores in percent, mean ± standard deviation over splits, on the "
        "test images of the species seen in training, except the zero-shot "
        "columns; 'Rarest classes' is the accuracy over the 20% of species "
        "with the fewest training images. The zero-shot columns are on "
        "images of species held out of training entirely (their DNA is "
        "known): mean per-species accuracy when every class competes "
        "(generalized zero-shot; 0 for a method that cannot name a species "
        "from its DNA), the same among the held-out species only, and H, the "
        "harmonic mean of the seen species' balanced accuracy and the first. "
        "The control row feeds the default aligner DNA whose species labels "
        "are shuffled: a gain that survives it is not the DNA's. "
        "per_class.csv gives every class's test count and a 95% interval.",
        "",
        format_table(summary, markdown=True),
        "",
        *data_lines,
        "## Settings",
        "",
    ]
    for key, value in settings.items():
        lines.append(f"- **{key}**: {value}")
    lines.append("")
    return "\n".join(lines)


def data_section(data):
    """The "Data" section of ``results.md`` as a list of lines ([] if none).

    Real data carry in ``data.info`` the ``"matching"`` report of
    :func:`~vgestimators.datasets.match_species` (``return_report=True``:
    columns ``image_class``, ``species``, ``how``, ``note``) and
    ``"image_less"``, the species with sequences but no images. The section
    counts the image classes paired by each rule, lists every class paired
    otherwise than by name (and any left unpaired) and names the image-less
    species. Without either key (synthetic data) there is no section.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> matching = pd.DataFrame(
    ...     [("ruber", "Globigerinoides ruber", "name", ""),
    ...      ("sacculifer", "Trilobatus sacculifer", "epithet", "")],
    ...     columns=["image_class", "species", "how", "note"])
    >>> data = SimpleNamespace(info={"matching": matching, "image_less": []})
    >>> print("\\n".join(data_section(data)))
    ## Data
    <BLANKLINE>
    - **Matching**: 2 image classes paired with the species of the sequences: 1 by name, 1 by epithet.
      - `sacculifer` → Trilobatus sacculifer (by epithet)
    - **Image-less species**: none; every species of the sequences has images.
    <BLANKLINE>
    >>> data_section(SimpleNamespace(info={"mantel_r": 0.4}))
    []
    """  # noqa: E501
    info = getattr(data, "info", None) or {}
    matching, image_less = info.get("matching"), info.get("image_less")
    if matching is None and image_less is None:
        return []
    lines = ["## Data", ""]
    if matching is not None:
        lines += _matching_lines(pd.DataFrame(matching))
    if image_less is not None:
        names = sorted(str(name) for name in image_less)
        lines.append(
            f"- **Image-less species**: {len(names)} species with DNA "
            f"but no images: {', '.join(names)}; their anchors take part (as "
            "other species' negatives, and as zero-shot candidates)."
            if names
            else "- **Image-less species**: none; every species of the sequences "
            "has images."
        )
    lines.append("")
    return lines


def _matching_lines(report):
    """Lines on how the image classes were paired with the sequences' species."""

    def words(how):
        return PAIRING_RULES.get(how, f"by {how}")

    def note_of(notes):
        kept = [str(n) for n in notes if not pd.isna(n) and str(n)]
        return "; ".join(dict.fromkeys(kept))

    # rows without an image class (image-less species, "dna only") are the
    # "image_less" key's to report
    report = report[report["image_class"].notna()]
    paired = report[report["species"].notna()]
    classes = {}  # image class -> (how, species names, note), in report order
    for image_class, part in paired.groupby("image_class", sort=False):
        classes[str(image_class)] = (
            str(part["how"].iloc[0]),
            [str(s) for s in part["species"]],
            note_of(part["note"]),
        )
    counts = pd.Series([how for how, _, _ in classes.values()]).value_counts()
    order = [h for h in PAIRING_RULES if h in counts] + [
        h for h in counts.index if h not in PAIRING_RULES
    ]
    lines = [
        f"- **Matching**: {len(classes)} image classes paired with the "
        "species of the sequences: "
        + ", ".join(f"{counts[how]} {words(how)}" for how in order)
        + "."
    ]
    for image_class, (how, species, note) in classes.items():
        if how not in ("exact", "name"):
            detail = words(how) + (f"; {note}" if note else "")
            lines.append(f"  - `{image_class}` → {', '.join(species)} ({detail})")
    unpaired = report[report["species"].isna()]
    for image_class, part in unpaired.groupby("image_class", sort=False):
        how, note = str(part["how"].iloc[0]), note_of(part["note"])
        lines.append(
            f"  - `{image_class}`: not paired ({how}"
            + (f": {note}" if note else "")
            + ")"
        )
    return lines
