"""``vgestimators predict``: a model file + images -> one CSV row per image."""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import add_device, add_quiet, model_taxonomy, predict_files, say

#: Columns of the predictions table.
COLUMNS = [
    "file",
    "species",
    "probability",
    "species_2",
    "probability_2",
    "species_3",
    "probability_3",
    "unknown",
]


def add_parser(commands):
    parser = commands.add_parser(
        "predict",
        help="predict the species of image files",
        description=(
            "Predict the species of images with a model written by "
            "`vgestimators train`. PATH may be image files, folders (searched "
            "recursively) or glob patterns (quote them: 'shots/*.png'). Writes "
            "a CSV with one row per image: " + ",".join(COLUMNS) + ",genus,"
            "genus_probability,rank (the three most probable species, whether "
            "the image was rejected as an unknown species, the most probable "
            "genus and the deepest rank the model is sure of; with a "
            "--taxonomy table at training, one pair of columns per rank; when "
            "the species names carry no genus and no table was given, only "
            "rank: 'species' or 'none'). An image rejected as unknown is named "
            "at that rank in 'species' ('Globorotalia sp.') or 'unknown'."
        ),
    )
    parser.add_argument("model", help="model file from `vgestimators train`")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="images to classify")
    parser.add_argument("--out", required=True, help="CSV file to write")
    novelty = parser.add_mutually_exclusive_group()
    novelty.add_argument(
        "--novelty-threshold",
        type=float,
        metavar="T",
        help="flag as unknown the images whose similarity to every species "
        "falls below T. The scale is the model's own (a cosine, -1 to 1, "
        "shifted by its calibration): the share of images a T flags differs "
        "from model to model; --novelty-rate states it instead (default: the "
        "model's setting, none)",
    )
    novelty.add_argument(
        "--novelty-rate",
        type=_share,
        metavar="R",
        help="flag as unknown a share R (between 0 and 1, e.g. 0.05) of the "
        "images of species the model knows: the threshold is read from the "
        "held-out images the model was calibrated on (a model trained with "
        "--calibration-holdouts 1 or more, the default); images of species it "
        "does not know are flagged more often",
    )
    parser.add_argument(
        "--rank-threshold",
        type=float,
        default=0.9,
        help="probability a taxon needs for 'rank' to name its rank: species "
        "when the top species reaches it, else genus when the top genus "
        "(its species' probabilities summed) does, and so on (default: 0.9)",
    )
    add_device(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def _share(text):
    """``--novelty-rate``: a share of images, strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"a share strictly between 0 and 1 (e.g. 0.05), not {text!r}"
        )
    return value


def top_three(files, proba, pred, classes, unknown_label):
    """The predictions table: top three species per image and the unknown flag."""
    order = np.argsort(-proba, axis=1, kind="stable")[:, :3]
    table = {"file": [str(f) for f in files]}
    for rank in range(3):
        suffix = "" if rank == 0 else f"_{rank + 1}"
        if rank < proba.shape[1]:
            idx = order[:, rank]
            table["species" + suffix] = classes[idx]
            table["probability" + suffix] = np.round(
                proba[np.arange(len(proba)), idx], 6
            )
        else:
            table["species" + suffix] = ""
            table["probability" + suffix] = np.nan
    table["unknown"] = (
        np.asarray(pred == unknown_label) if unknown_label is not None else False
    )
    return pd.DataFrame(table, columns=COLUMNS)


def rank_columns(table, proba, classes, taxonomy, threshold):
    """Add each rank's taxon and probability, and the deepest sure rank.

    Rows flagged unknown name, in ``species``, the deepest rank the model
    is sure of ("Globorotalia sp.", "Globorotaliidae (family)") or
    "unknown", with that taxon's probability.
    """
    from ..taxonomy import NO_RANK, deepest_rank

    unknown = table["unknown"].to_numpy(bool)
    if taxonomy is None:
        sure = table["probability"].to_numpy(float) >= threshold
        table["rank"] = np.where(~unknown & sure, "species", NO_RANK)
        ranks = None
    else:
        ranks = deepest_rank(
            proba, classes, taxonomy, threshold=threshold, unknown=unknown
        )
        for rank in taxonomy.ranks[1:]:
            table[rank] = ranks[rank].to_numpy()
            table[f"{rank}_probability"] = ranks[f"{rank}_probability"].round(6)
        table["rank"] = ranks["rank"].to_numpy()
    if unknown.any():
        species = table["species"].to_numpy(dtype=object, copy=True)
        probability = table["probability"].to_numpy(dtype=float, copy=True)
        for i in np.flatnonzero(unknown):
            rank = NO_RANK if ranks is None else ranks["rank"].iloc[i]
            if rank == NO_RANK:
                species[i], probability[i] = "unknown", np.nan
            else:
                taxon = ranks["taxon"].iloc[i]
                species[i] = f"{taxon} sp." if rank == "genus" else f"{taxon} ({rank})"
                probability[i] = round(float(ranks["probability"].iloc[i]), 6)
        table["species"], table["probability"] = species, probability
    return table


def run(args):
    from ..datasets import list_images
    from ..io import load_model
    from ._common import final_step

    if not 0 < args.rank_threshold <= 1:
        raise ValueError(
            f"--rank-threshold must be in (0, 1]; got {args.rank_threshold}."
        )
    files = list_images(args.paths, recursive=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model, device=args.device)
    _, clf = final_step(model)
    threshold = args.novelty_threshold
    if args.novelty_rate is not None:
        if not hasattr(clf, "novelty_threshold_for"):
            raise ValueError(
                f"--novelty-rate: the model's classifier {type(clf).__name__} "
                "cannot read a threshold from held-out images; pass "
                "--novelty-threshold."
            )
        try:
            threshold = clf.novelty_threshold_for(args.novelty_rate)
        except ValueError:
            raise ValueError(
                "--novelty-rate reads the threshold from the held-out images "
                "the model was calibrated on, and this model kept none (trained "
                "with --calibration-holdouts 0, with another rule than the "
                "default, or by an earlier vgestimators): pass "
                "--novelty-threshold, or train again with --calibration-holdouts 1."
            ) from None
        say(
            f"novelty threshold {threshold:.4f}: flags {args.novelty_rate:.1%} of "
            "the held-out images of known species",
            args.quiet,
        )
    if threshold is not None:
        if "novelty_threshold" not in clf.get_params():
            raise ValueError(
                f"the model's classifier {type(clf).__name__} has no novelty_threshold."
            )
        clf.set_params(novelty_threshold=threshold)
    say(f"{len(files)} images to classify", args.quiet)
    proba, pred, classes = predict_files(model, files, quiet=args.quiet)
    # a sample is flagged when predicted as the label (a threshold given
    # here or at training, or one set from --novelty-rate at training)
    unknown_label = clf.get_params().get("unknown_label")
    table = top_three(files, proba, pred, classes, unknown_label)
    table = rank_columns(
        table, proba, classes, model_taxonomy(model, classes), args.rank_threshold
    )
    table.to_csv(out, index=False)
    say(f"wrote {out} ({len(table)} rows)", args.quiet)
    return 0
