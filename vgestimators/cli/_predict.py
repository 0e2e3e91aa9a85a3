"""``vgestimators predict``: a model file + images -> one CSV row per image."""

from pathlib import Path

import numpy as np
import pandas as pd

from ._common import add_device, add_quiet, predict_files, say

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
            "a CSV with one row per image: " + ",".join(COLUMNS) + " (the three "
            "most probable species and whether the image was rejected as an "
            "unknown species)."
        ),
    )
    parser.add_argument("model", help="model file from `vgestimators train`")
    parser.add_argument("paths", nargs="+", metavar="PATH", help="images to classify")
    parser.add_argument("--out", required=True, help="CSV file to write")
    parser.add_argument(
        "--novelty-threshold",
        type=float,
        help="reject images whose similarity to every species falls below this "
        "value as unknown (default: the model's setting, none)",
    )
    add_device(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


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


def run(args):
    from ..datasets import list_images
    from ..io import load_model
    from ._common import final_step

    files = list_images(args.paths, recursive=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model, device=args.device)
    _, clf = final_step(model)
    if args.novelty_threshold is not None:
        if "novelty_threshold" not in clf.get_params():
            raise ValueError(
                f"the model's classifier {type(clf).__name__} has no novelty_threshold."
            )
        clf.set_params(novelty_threshold=args.novelty_threshold)
    say(f"{len(files)} images to classify", args.quiet)
    proba, pred, classes = predict_files(model, files, quiet=args.quiet)
    threshold = clf.get_params().get("novelty_threshold")
    unknown_label = (
        clf.get_params().get("unknown_label") if threshold is not None else None
    )
    table = top_three(files, proba, pred, classes, unknown_label)
    table.to_csv(out, index=False)
    say(f"wrote {out} ({len(table)} rows)", args.quiet)
    return 0
