"""Helpers shared by the subcommands."""

import json
import sys
from pathlib import Path

import numpy as np

from ..utils._progress import progress

#: Images embedded per step of the progress bars of predict and evaluate.
CHUNK = 256


def say(message, quiet=False):
    """One line of progress information on stderr."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def add_device(parser):
    parser.add_argument(
        "--device",
        default="auto",
        help="where the network computes: auto (a GPU when there is one), "
        "cpu, cuda, cuda:1 ... (default: auto)",
    )


def add_quiet(parser):
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bars or messages"
    )


def read_config(path):
    """Estimator parameters from a JSON or YAML file, as ``step__param`` keys.

    The file holds either flat names (``{"embedder__lr": 0.001}``) or one
    mapping per step (``{"embedder": {"lr": 0.001}, "aligner": {...}}``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file not found: '{path}'.")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in {".yaml", ".yml"}:
        import yaml

        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"config file {path} is not valid YAML: {exc}") from None
    else:
        try:
            config = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"config file {path} is not valid JSON (line {exc.lineno}, "
                f"column {exc.colno}: {exc.msg}); YAML files must end in .yaml."
            ) from None
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ValueError(
            f"config file {path} must hold a mapping of parameter names to "
            f"values; it holds a {type(config).__name__}."
        )
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict) and "__" not in key:
            for name, inner in value.items():
                flat[f"{key}__{name}"] = inner
        else:
            flat[key] = value
    return flat


def final_step(model):
    """(embedding part, classifier) of a fitted Pipeline, or (None, model)."""
    steps = getattr(model, "steps", None)
    if steps is None:
        return None, model
    return (model[:-1] if len(steps) > 1 else None), steps[-1][1]


def predict_files(model, files, *, proba=True, quiet=False, desc="predicting"):
    """Class probabilities and predictions of image files, chunk by chunk.

    With ``proba=False`` only ``predict`` runs (the classifier's work is
    not done twice) and ``proba`` is None.

    Returns
    -------
    proba : ndarray of shape (n_files, n_classes) or None
    pred : ndarray of shape (n_files,)
    classes : ndarray of shape (n_classes,)
    """
    embed, clf = final_step(model)
    probas, preds = [], []
    with progress(total=len(files), enabled=not quiet, desc=desc, unit="img") as bar:
        for start in range(0, len(files), CHUNK):
            chunk = files[start : start + CHUNK]
            Z = embed.transform(chunk) if embed is not None else chunk
            if proba:
                probas.append(clf.predict_proba(Z))
            preds.append(clf.predict(Z))
            bar.update(len(chunk))
    return (
        np.vstack(probas) if proba else None,
        np.concatenate(preds),
        np.asarray(clf.classes_),
    )


def model_taxonomy(model, classes):
    """The model's taxonomy: fitted with it, or the genus from the names."""
    from ..taxonomy import resolve_taxonomy

    fitted = getattr(model, "taxonomy_", None)
    if fitted is not None:
        return fitted
    try:
        return resolve_taxonomy(None, [str(c) for c in classes])
    except (TypeError, ValueError):
        return None


def training_counts(model, metadata):
    """Training images per species: from the model file's report or the embedder."""
    species = (metadata or {}).get("species")
    if species is not None:
        return dict(zip(species["species"], species["n_images"], strict=True))
    embed, _ = final_step(model)
    for step in [] if embed is None else [s for _, s in embed.steps]:
        if hasattr(step, "class_counts_"):
            return dict(
                zip(step.classes_.tolist(), step.class_counts_.tolist(), strict=True)
            )
    return {}


def markdown_table(frame):
    """A DataFrame as a Markdown table (no extra dependency)."""
    cells = [[str(c) for c in frame.columns]]
    cells += [[str(v) for v in row] for row in frame.itertuples(index=False)]
    lines = ["| " + " | ".join(row) + " |" for row in cells]
    lines.insert(1, "|" + "---|" * len(frame.columns))
    return "\n".join(lines)


def raise_unpaired(report, *, images, against, hint):
    """One command-line error naming the image folders that paired with no species.

    ``report`` is the pairing table of ``match_species`` or
    ``relabel_sequences`` (rows ``how`` = unmatched or ambiguous fail).
    """
    problems = report[report["how"].isin(["unmatched", "ambiguous"])]
    if len(problems):
        listed = "; ".join(
            f"'{r.image_class}' ({r.note})" for r in problems.itertuples()
        )
        raise ValueError(
            f"{len(problems)} image folder(s) of {images} match no species "
            f"{against}: {listed}. {hint}"
        )


def pair_folders(folder, species, *, mapping, images, against, hint):
    """Pair image folders with species names; one CLI error for the unpaired.

    Parameters
    ----------
    folder : Bunch
        ``load_image_folder`` output.
    species : list of str
        The names to pair with.
    mapping : dict or None
        From ``--mapping``.
    images : str
        The image folder, for the message.
    against : str
        What ``species`` are, for the message ("of dna.fasta").
    hint : str
        What to do, for the message.

    Returns
    -------
    matches : dict
    report : pandas.DataFrame
        As :func:`vgestimators.datasets.match_species` returns them.
    """
    from ..datasets import match_species

    matches, report = match_species(
        [str(c) for c in folder.target_names],
        species,
        mapping=mapping,
        # a test folder of another species must not pass for a relative
        by_epithet=False,
        on_unmatched="ignore",
        return_report=True,
    )
    raise_unpaired(report, images=images, against=against, hint=hint)
    return matches, report
