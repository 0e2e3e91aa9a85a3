"""``vgestimators evaluate``: a model file + labelled images -> per-species scores."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._common import (
    add_device,
    add_quiet,
    model_taxonomy,
    pair_folders,
    predict_files,
    say,
    training_counts,
)

#: Confusions listed per species in per_species.csv.
N_CONFUSIONS = 3


def add_parser(commands):
    parser = commands.add_parser(
        "evaluate",
        help="score a model on labelled images (one sub-folder per species)",
        description=(
            "Predict the images of IMAGES (one sub-folder per species, names "
            "paired with the model's species as in training) and write to OUT: "
            "per_species.csv (training images, test images, accuracy and the "
            "top confusions of each species), confusions.csv, summary.json "
            "(accuracy, balanced accuracy, expected calibration error, how many "
            "images went to species without training images) and, with "
            "matplotlib installed, per_species_accuracy.png and, when the test "
            "images include species without training images, "
            "seen_unseen_curve.png (the accuracy trade-off between the two "
            "groups and its area)."
        ),
    )
    parser.add_argument("model", help="model file from `vgestimators train`")
    parser.add_argument("--images", required=True, help="folder of species folders")
    parser.add_argument("--out", required=True, help="folder to write to")
    parser.add_argument(
        "--mapping",
        help="CSV (image class, model species; 'none' to leave a class out) for "
        "names that do not pair; the header line is optional",
    )
    add_device(parser)
    add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def per_species(y_true, y_pred, counts):
    """Per-species table and confusion pairs."""
    frame = pd.DataFrame({"true": y_true, "pred": y_pred})
    pairs = frame.value_counts().rename("count").reset_index()
    wrong = pairs[pairs["true"] != pairs["pred"]].sort_values(
        ["count", "true", "pred"], ascending=[False, True, True], kind="stable"
    )
    rows = []
    for species, group in frame.groupby("true", sort=True):
        correct = int((group["pred"] == species).sum())
        confused = wrong[wrong["true"] == species].head(N_CONFUSIONS)
        rows.append(
            {
                "species": species,
                "n_train": int(counts.get(species, 0)),
                "n_test": len(group),
                "n_correct": correct,
                "accuracy": round(correct / len(group), 4),
                "top_confusions": "; ".join(
                    f"{r.pred} ({r.count})" for r in confused.itertuples()
                ),
            }
        )
    table = pd.DataFrame(rows).sort_values(
        ["n_train", "species"], ascending=[False, True], kind="stable"
    )
    return table.reset_index(drop=True), wrong.reset_index(drop=True)


def per_rank(y_true, y_pred, taxonomy, unknown_label):
    """Accuracy (and balanced accuracy) at every rank of the taxonomy."""
    from ..metrics import rank_accuracy_score

    rows = []
    for rank in taxonomy.ranks:
        kwargs = {"rank": rank, "taxonomy": taxonomy, "unknown_label": unknown_label}
        rows.append(
            {
                "rank": rank,
                "n_taxa": len(set(taxonomy.taxon_of(y_true, rank).tolist())),
                "accuracy": round(rank_accuracy_score(y_true, y_pred, **kwargs), 4),
                "balanced_accuracy": round(
                    rank_accuracy_score(y_true, y_pred, balanced=True, **kwargs), 4
                ),
            }
        )
    return pd.DataFrame(rows)


def plot_ranks(ranks, summary, path):
    """Accuracy at each rank (species, genus, ...): bars with their values."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4.2, 1.8 + 1.3 * len(ranks)), 3.8))
    x = np.arange(len(ranks))
    for offset, column, label in (
        (-0.2, "accuracy", "accuracy (over images)"),
        (0.2, "balanced_accuracy", "balanced (each taxon once)"),
    ):
        values = ranks[column].to_numpy(float) * 100
        bars = ax.bar(x + offset, values, width=0.38, label=label)
        ax.bar_label(bars, fmt="%.1f", fontsize=7, padding=2)
    ax.set_xticks(
        x,
        [
            f"{r}\n({n} taxa)"
            for r, n in zip(ranks["rank"], ranks["n_taxa"], strict=True)
        ],
    )
    ax.set_ylim(0, 112)
    ax.set_ylabel("named in the right taxon (%)")
    ax.set_title(
        f"Accuracy by rank: {summary['n_images']} images, "
        f"{summary['n_species']} species\n(right at a rank when the predicted "
        "species\nis in the true taxon)",
        fontsize=8,
    )
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def plot(table, summary, path):
    """Accuracy of each species, one bar per species, by training images.

    Species run down the page from the most training images to the fewest
    (species known from DNA only last, in their own colour), each named on
    the axis with its number of training images: readable for a hundred
    species, as the figure grows with them. When the species have different
    numbers of test images, each bar ends in "right / test images".

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure written to ``path`` (closed).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    n = len(table)
    fig, ax = plt.subplots(figsize=(7, max(3.0, 1.6 + 0.2 * n)))
    rows = np.arange(n)
    accuracy = table["accuracy"].to_numpy(float) * 100
    dna_only = table["n_train"].to_numpy() == 0
    colours = np.where(dna_only, "tab:red", "tab:blue")
    ax.barh(rows, accuracy, height=0.7, color=colours)
    ax.set_yticks(
        rows,
        [f"{r.species} ({r.n_train})" for r in table.itertuples()],
        fontsize=7 if n <= 60 else 6,
    )
    ax.set_ylim(n - 0.5, -0.5)  # the most training images on top
    n_test = table["n_test"].to_numpy()
    same_test = len(set(n_test.tolist())) <= 1
    if not same_test:
        for row, acc, right, total in zip(
            rows, accuracy, table["n_correct"], n_test, strict=True
        ):
            ax.text(acc + 1, row, f"{right}/{total}", va="center", fontsize=6)
    balanced = summary["balanced_accuracy"] * 100
    ax.axvline(balanced, color="0.3", linestyle="--", linewidth=1)
    handles = [Patch(color="tab:blue", label="with training images")]
    if dna_only.any():
        handles.append(Patch(color="tab:red", label="known from DNA only"))
    handles.append(
        plt.Line2D([], [], color="0.3", linestyle="--", label="balanced accuracy")
    )
    # above the bars, where it hides none
    ax.legend(
        handles=handles,
        fontsize=7,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=len(handles),
        frameon=False,
    )
    ax.set_xlim(0, 110 if not same_test else 100)
    ax.set_xlabel("accuracy on the test images (%)")
    # short enough for the shortest figure (a handful of species); the
    # counts beside the names show the order (most training images first)
    ax.set_ylabel("species (training images)")
    tests = (
        f"{n_test[0]} test images per species"
        if same_test and n
        else "right / test images at the end of each bar"
    )
    # over the whole figure: the species names take the left of it
    fig.suptitle(
        f"Per-species accuracy: {summary['n_images']} images of "
        f"{summary['n_species']} species\naccuracy {summary['accuracy']:.1%}, "
        f"balanced {summary['balanced_accuracy']:.1%} ({tests})",
        fontsize=9,
    )
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return fig


def image_less_summary(y_true, y_pred, proba, classes, counts):
    """Where test images went: species with and without training images.

    ``counts`` maps species to training images; a model species missing
    from it (or with 0) has none. With test images of both kinds, the
    seen/image-less accuracy curve of calibrated stacking and its area.
    """
    from ..metrics import seen_unseen_curve
    from ..utils._stacking import area_under_curve

    image_less = [c for c in classes.tolist() if counts.get(c, 0) == 0]
    to_image_less = np.isin(y_pred, image_less)
    of_image_less = np.isin(y_true, image_less)
    out = {
        "n_predicted_as_species_without_images": int(to_image_less.sum()),
        "n_of_them_right": int((to_image_less & (y_pred == y_true)).sum()),
        "n_test_images_of_species_without_images": int(of_image_less.sum()),
        "n_test_images_of_species_with_images_sent_to_species_without": int(
            (to_image_less & ~of_image_less).sum()
        ),
        "species_without_images_never_named": [
            c for c in image_less if not proba[:, classes == c].any()
        ],
        "seen_unseen_curve": None,
        "ausuc": None,
    }
    nameable = set(image_less) - set(out["species_without_images_never_named"])
    if np.isin(y_true, list(nameable)).any() and (~of_image_less).any():
        seen = [c for c in classes.tolist() if c not in set(image_less)]
        with np.errstate(divide="ignore"):
            scores = np.log(proba)
        acc_seen, acc_unseen, biases = seen_unseen_curve(
            y_true, scores, classes=classes, seen_classes=seen
        )
        right = y_pred == y_true
        out["seen_unseen_curve"] = {
            "log_bias": biases.tolist(),
            "seen_accuracy": acc_seen.tolist(),
            "unseen_accuracy": acc_unseen.tolist(),
            # where this model predicts: mean accuracy per species of each group
            "operating_point": {
                "seen": _species_mean(right, y_true, ~of_image_less),
                "unseen": _species_mean(right, y_true, of_image_less),
            },
        }
        out["ausuc"] = area_under_curve(acc_seen, acc_unseen)
    return out


def _species_mean(right, y_true, mask):
    """Mean over species of the share of their images named right."""
    return float(
        np.mean([right[mask & (y_true == c)].mean() for c in np.unique(y_true[mask])])
    )


def image_less_sentence(summary):
    """One line on the test images named as species without training images."""
    n = summary["n_predicted_as_species_without_images"]
    if not summary["species_without_training_images"] and n == 0:
        text = "no species of the test set lacks training images"
    else:
        text = (
            f"{n} test image(s) were named as species without training images "
            f"({summary['n_of_them_right']} rightly; "
            f"{summary['n_test_images_of_species_with_images_sent_to_species_without']} "
            "were images of species with training images)"
        )
    never = summary["species_without_images_never_named"]
    if never:
        text += (
            f"; {len(never)} species without training images ("
            f"{', '.join(never[:5])}{' ...' if len(never) > 5 else ''}) can never "
            f"be named: the model gives {'it' if len(never) == 1 else 'them'} "
            "probability 0 (see the DNA test in the training report)"
        )
    if summary["ausuc"] is not None:
        text += (
            f"; area under the seen/image-less accuracy curve {summary['ausuc']:.3f} "
            "(seen_unseen_curve.png)"
        )
    return text


def rank_sentence(summary):
    """One line: accuracy at each rank, and how far off the mistakes are."""
    parts = ", ".join(
        f"{rank} {acc:.1%}" for rank, acc in summary["accuracy_by_rank"].items()
    )
    severity = summary["mistake_severity"]
    text = f"accuracy by rank: {parts}"
    if severity is not None:
        text += (
            f"; a wrong species is {severity:.2f} ranks away on average (1: the "
            "right genus)"
        )
    return text


def plot_curve(summary, path):
    """The seen/image-less accuracy curve (Chao et al., 2016), with this model's point."""
    from ..utils._plots import plot_seen_unseen_curves

    curve = summary["seen_unseen_curve"]
    point = (curve["operating_point"]["seen"], curve["operating_point"]["unseen"])
    plot_seen_unseen_curves(
        {
            "model": (
                curve["seen_accuracy"],
                curve["unseen_accuracy"],
                point,
                summary["ausuc"],
            )
        },
        {"model": "this model"},
        path,
        title="Species with and without training images: the trade-off",
        unseen_label="species without training images: accuracy (%)",
        seen_label="species with training images: accuracy (%)",
    )


def run(args):
    from sklearn.metrics import balanced_accuracy_score

    from ..datasets import load_image_folder, read_mapping
    from ..io import load_model
    from ..metrics import expected_calibration_error
    from ._common import final_step

    out = Path(args.out)
    model, info = load_model(args.model, device=args.device, return_metadata=True)
    _, clf = final_step(model)
    folder = load_image_folder(args.images)
    known = [str(c) for c in np.asarray(clf.classes_)]
    mapping = read_mapping(args.mapping) if args.mapping else None
    matches, report = pair_folders(
        folder,
        known,
        mapping=mapping,
        images=args.images,
        against="the model knows",
        hint="Pair the names in a --mapping CSV file (image class, model "
        "species), or leave those folders out ('none').",
    )
    excluded = set(report.loc[report["how"] == "excluded", "image_class"])
    several = {k: v for k, v in matches.items() if isinstance(v, tuple)}
    if several:
        raise ValueError(
            f"image classes pair with several species of the model: {several}; "
            "give one species per class in --mapping."
        )
    target = np.asarray(folder.target).astype(str)
    kept = ~np.isin(target, list(excluded))
    y_true = np.array([matches[c] for c in target[kept]])
    out.mkdir(parents=True, exist_ok=True)
    files = np.asarray(folder.filenames)[kept]
    left_out = ""
    if (~kept).any():
        left_out = (
            f"; {int((~kept).sum())} images of {len(excluded)} folder(s) mapped "
            f"to 'none' left out ({', '.join(sorted(map(str, excluded)))}): "
            "this evaluation does not score unknown-species detection"
        )
    say(
        f"{len(files)} images of {len(matches)} species to evaluate{left_out}",
        args.quiet,
    )
    proba, y_pred, classes = predict_files(
        model, files, proba=True, quiet=args.quiet, desc="evaluating"
    )
    y_pred = np.asarray(y_pred).astype(str)
    classes = np.asarray(classes).astype(str)
    counts = training_counts(model, info["metadata"])
    table, wrong = per_species(y_true, y_pred, counts)
    with warnings.catch_warnings():
        # predictions of species absent from the test folder are counted below
        warnings.simplefilter("ignore", UserWarning)
        balanced = float(balanced_accuracy_score(y_true, y_pred))
    summary = {
        "model": str(args.model),
        "images": str(args.images),
        "n_images": len(files),
        "n_species": len(table),
        # folders mapped to 'none': not scored (no open-set score here)
        "folders_left_out": sorted(map(str, excluded)),
        "n_images_left_out": int((~kept).sum()),
        "accuracy": float(np.mean(y_true == y_pred)),
        "balanced_accuracy": balanced,
        "expected_calibration_error": expected_calibration_error(
            y_true, proba, classes=classes
        ),
        "species_without_training_images": table.loc[
            table["n_train"] == 0, "species"
        ].tolist(),
        **image_less_summary(y_true, y_pred, proba, classes, counts),
    }
    taxonomy = model_taxonomy(model, classes)
    ranks = None
    if taxonomy is not None:
        from ..metrics import mistake_severity

        unknown_label = clf.get_params().get("unknown_label")
        ranks = per_rank(y_true, y_pred, taxonomy, unknown_label)
        summary["accuracy_by_rank"] = dict(
            zip(ranks["rank"], ranks["accuracy"].astype(float), strict=True)
        )
        severity = mistake_severity(
            y_true, y_pred, taxonomy=taxonomy, unknown_label=unknown_label
        )
        summary["mistake_severity"] = None if np.isnan(severity) else severity
        ranks.to_csv(out / "per_rank.csv", index=False)
    table.to_csv(out / "per_species.csv", index=False)
    wrong.rename(columns={"true": "species", "pred": "predicted"}).to_csv(
        out / "confusions.csv", index=False
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    try:
        plot(table, summary, out / "per_species_accuracy.png")
        figure = "per_species_accuracy.png"
    except ImportError:
        figure = None
        say(
            "matplotlib is not installed: no figure (pip install -e '.[plot]')",
            args.quiet,
        )
    if summary["seen_unseen_curve"] is not None:
        try:
            plot_curve(summary, out / "seen_unseen_curve.png")
        except ImportError:
            pass
    if ranks is not None and figure is not None:
        plot_ranks(ranks, summary, out / "accuracy_by_rank.png")
    say(image_less_sentence(summary), args.quiet)
    if ranks is not None:
        say(rank_sentence(summary), args.quiet)
    say(
        f"accuracy {summary['accuracy']:.1%}, balanced {summary['balanced_accuracy']:.1%}"
        f"; wrote per_species.csv, confusions.csv, summary.json"
        + (f", {figure}" if figure else "")
        + (
            ", per_rank.csv" + (", accuracy_by_rank.png" if figure else "")
            if ranks is not None
            else ""
        )
        + f" to {out}",
        args.quiet,
    )
    return 0
