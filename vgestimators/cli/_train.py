"""``vgestimators train``: image folder + sequence file -> model file + report."""

import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..utils._labels import counted
from ._common import (
    add_device,
    add_quiet,
    markdown_table,
    raise_unpaired,
    read_config,
    say,
)

#: How messages name the settings of this command (see
#: ``utils._settings.settings_named``): its flags, not Python keywords.
SETTINGS = {
    "species": "--species-field {value}",
    "dna_test": '--config FILE holding {{"aligner": {{"dna_test": {value}}}}}',
}


def add_parser(commands):
    parser = commands.add_parser(
        "train",
        help="train a model on an image folder and a sequence file",
        description=(
            "Train the recommended Pipeline (a triplet-trained ResNet embedder "
            "and the default VisualGeneticAligner: DNA-informed class "
            "prototypes) on IMAGES (one sub-folder per species) and SEQUENCES "
            "(FASTA, or a PFR2-style CSV). Species names of the folders and of "
            "the sequences are paired (case, '_' and spaces ignored, class "
            "numbers, epithets, --mapping) and every image is decoded BEFORE "
            "training starts; species with DNA but no images are recognised "
            "from their DNA. Writes OUT (the model) and, next to it, "
            "OUT-stem.report.md and OUT-stem.species.csv."
        ),
    )
    parser.add_argument("--images", required=True, help="folder of species folders")
    parser.add_argument(
        "--sequences", required=True, help="FASTA file (or PFR2-style CSV)"
    )
    parser.add_argument(
        "--mapping",
        help="CSV with two columns (image class, species name in SEQUENCES; "
        "'none' for a class without sequences) for names that do not pair by "
        "themselves; the header line is optional",
    )
    parser.add_argument(
        "--species-field",
        default="description",
        help="where FASTA headers name the species: description (text after "
        "the id, default), binomial (its first two words), id, or a field "
        "number of a delimited header (0 = first; see --header-sep)",
    )
    parser.add_argument(
        "--header-sep", default="|", help="field separator of FASTA headers"
    )
    parser.add_argument(
        "--out", required=True, help="model file to write (folders are created)"
    )
    parser.add_argument(
        "--skip-bad-images",
        action="store_true",
        help="train without image files that cannot be decoded (listed in the "
        "report) instead of stopping",
    )
    parser.add_argument(
        "--backbone",
        choices=["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"],
        help="ResNet of the image embedder (default: resnet50 on a GPU; on a CPU "
        "with none of --backbone, --image-size, --max-epochs, --weights: a "
        "recipe whose training fits about 11 minutes, about 15 with the "
        "checks and the calibration; see the docs)",
    )
    parser.add_argument(
        "--features",
        metavar="BACKEND:NAME",
        help="training-free: embed the images with a pretrained network as it "
        "is (PretrainedImageEmbedder) instead of training one, e.g. "
        "torchvision:resnet50, timm:vit_small_patch16_224, "
        "open_clip:hf-hub:imageomics/bioclip; seconds to minutes on a CPU. "
        "Its weights: --weights, else the backend's default (downloaded once, "
        "then cached)",
    )
    parser.add_argument(
        "--weights",
        help="weights of the network: a local file (a state dict, .safetensors, "
        "a saved embedder's backbone) or the backend's weights name. With "
        "--features they are used frozen; without, the trained network starts "
        "from them (torchvision ResNet weights)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        help="image side in pixels (default: 224 on a GPU; on a CPU, see --backbone)",
    )
    parser.add_argument("--max-epochs", type=int, help="training epochs (default: 20)")
    parser.add_argument("--batch-size", type=int, help="images per batch")
    parser.add_argument("--seed", type=int, help="random_state of the estimators")
    parser.add_argument(
        "--objective",
        help="which new images you expect, for the balance between species with "
        "images and species with DNA only: balanced (default: every species "
        "counts once), harmonic (the zero-shot literature's H: the few "
        "DNA-only species weigh as much as all the others), or a number in "
        "[0, 1]: the share of new images you expect from DNA-only species",
    )
    parser.add_argument(
        "--calibration-holdouts",
        type=int,
        help="hold-outs on which that balance, the DNA test and the other "
        "constants are chosen: images the network never trained on, some "
        "species held out entirely; each costs one more training on about 60%% "
        "of the images (default: 1; 0 chooses them on the training images, "
        "which the network has memorised: faster, and biased)",
    )
    parser.add_argument(
        "--novelty-rate",
        type=float,
        help="flag new images as 'unknown' below a threshold set so that this "
        "share of held-out images of known species is flagged (e.g. 0.05); "
        "default: never flag",
    )
    parser.add_argument(
        "--taxonomy",
        metavar="FILE",
        help="CSV file with a 'species' column and one column per rank above "
        "it ('genus', 'family', ...), for predictions at the deepest rank the "
        "model is sure of; checked against every species before training "
        "(default: the genus is the first word of each species name)",
    )
    add_device(parser)
    parser.add_argument(
        "--config",
        help="JSON or YAML file of further estimator parameters, as "
        '{"embedder__lr": 0.001} or {"embedder": {"lr": 0.001}, '
        '"aligner": {"shrinkage": 2}}; the flags above win over it',
    )
    add_quiet(parser)
    parser.set_defaults(run=run)
    return parser


def _species_rule(text):
    text = str(text).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    if text not in ("description", "binomial", "id"):
        raise ValueError(
            f"--species-field must be description, binomial, id or a field "
            f"number; got {text!r}."
        )
    return text


def check_images(folder, args):
    """Decode every image once, with a progress bar; drop or stop on bad ones.

    Returns the folder's filenames and labels without the unreadable files
    (with ``--skip-bad-images``) and the list of ``(path, reason)`` left out.
    """
    from ..utils._images import scan_image_files
    from ..utils._progress import progress

    files = np.asarray(folder.filenames)
    bad = []
    chunk = 256
    with progress(
        total=len(files), enabled=not args.quiet, desc="checking images", unit="img"
    ) as bar:
        for start in range(0, len(files), chunk):
            found, _ = scan_image_files(files[start : start + chunk], decode=True)
            bad += [(start + row, path, reason) for row, path, reason in found]
            bar.update(min(chunk, len(files) - start))
    if bad and not args.skip_bad_images:
        listed = "; ".join(f"{path} ({reason})" for _, path, reason in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise ValueError(
            f"{len(bad)} image file(s) cannot be read: {listed}{more}. Fix or "
            "remove them, or pass --skip-bad-images to train without them."
        )
    keep = np.ones(len(files), dtype=bool)
    keep[[row for row, _, _ in bad]] = False
    if bad:
        say(
            f"left out {counted(len(bad), 'unreadable image file')} (see the report)",
            args.quiet,
        )
    target = np.asarray(folder.target).astype(str)
    return files[keep], target[keep], [(path, reason) for _, path, reason in bad]


def load_training_data(args):
    """Images, labels, relabelled sequences and the pairing report."""
    from ..datasets import (
        load_image_folder,
        read_mapping,
        read_sequences,
        relabel_sequences,
    )

    folder = load_image_folder(args.images)
    sequences = read_sequences(
        args.sequences, species=_species_rule(args.species_field), sep=args.header_sep
    )
    mapping = read_mapping(args.mapping) if args.mapping else None
    relabelled, pairing = relabel_sequences(
        sequences,
        [str(c) for c in folder.target_names],
        mapping=mapping,
        image_numbers=folder.class_numbers,
        on_unmatched="ignore",
    )
    hint = (
        "Add their sequences, or pair the names in a --mapping CSV file (image "
        "class, species name; 'none' to keep a class without sequences)."
    )
    long_names = [s for s in sequences["species"] if len(str(s).split()) > 2]
    if long_names and args.species_field == "description":
        hint += (
            f" The headers name species such as {long_names[0]!r}: "
            "--species-field binomial reads only the first two words."
        )
    raise_unpaired(
        pairing, images=args.images, against=f"of {args.sequences}", hint=hint
    )
    return folder, relabelled, pairing, mapping


def _check_writable(out):
    """Fail before training when the model file cannot be written."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as exc:
        raise OSError(f"cannot write the model to {out.parent}: {exc}") from None


def _objective(text):
    from ..utils._objective import parse_objective

    try:
        return parse_objective(text)
    except ValueError:
        raise ValueError(
            f"--objective must be balanced, harmonic or a number in [0, 1]; got "
            f"{text!r}."
        ) from None


#: Flags that set how a network trains: none of them applies to --features.
TRAINING_FLAGS = ("backbone", "max_epochs")


def _embedder(args):
    """The image embedder --features names, or None (a trained one)."""
    if not args.features:
        return None
    from ..vision import PretrainedImageEmbedder

    try:
        embedder = PretrainedImageEmbedder.from_spec(args.features)
    except ValueError as exc:
        raise ValueError(f"--{exc}") from None
    given = [
        f"--{f.replace('_', '-')}"
        for f in TRAINING_FLAGS
        if getattr(args, f) is not None
    ]
    if given:
        raise ValueError(
            f"{', '.join(given)} set(s) how a network trains; --features trains "
            "none (drop it, or drop --features to train)."
        )
    return embedder


def _taxonomy(args):
    """The --taxonomy table, read and checked (None without the flag)."""
    if not getattr(args, "taxonomy", None):
        return None
    from ..taxonomy import Taxonomy

    return Taxonomy.from_table(args.taxonomy)


def check_taxonomy(model, y, sequences):
    """Every species, with images or DNA only, in the taxonomy: before training.

    Returns the taxonomy of those species, or None (no table, and some name
    has no genus: the predictions then stop at species).
    """
    species = sorted(set(y.tolist()) | set(sequences["species"].astype(str)))
    return model._taxonomy_of(species, "the images and the sequence file")


def taxonomy_sentence(taxonomy, args):
    """One line on the ranks above species the predictions can use."""
    if taxonomy is None:
        return (
            "ranks above species: none (some species names are not binomials "
            "'Genus epithet'; --taxonomy FILE gives their genera)"
        )
    counts = ", ".join(
        f"{taxonomy.table[r].nunique()} {r} taxa" for r in taxonomy.ranks[1:]
    )
    source = f"from {args.taxonomy}" if args.taxonomy else "genus from the names"
    return f"ranks above species ({source}): {counts}"


def build_model(args, sequences, mapping=None):
    """The recommended SpeciesPipeline: --config first, then the flags."""
    from ..pipeline import make_species_pipeline

    aligner = {}
    if mapping and any(v is None for v in mapping.values()):
        # classes the mapping pairs with no species keep their visual mean
        aligner["missing_anchors"] = "visual_only"
    model = make_species_pipeline(
        sequences,
        aligner=aligner,
        embedder=_embedder(args),
        taxonomy=_taxonomy(args),
    )
    if args.config:
        params = read_config(args.config)
        try:
            model.set_params(**params)
        except ValueError as exc:
            raise ValueError(f"config file {args.config}: {exc}") from None
    flags = {
        "embedder__device": args.device,
        "embedder__verbose": 0 if args.quiet else 2,
    }
    for flag, name in (
        ("backbone", "embedder__backbone"),
        ("weights", "embedder__weights"),
        ("image_size", "embedder__image_size"),
        ("max_epochs", "embedder__max_epochs"),
        ("batch_size", "embedder__batch_size"),
        ("seed", "aligner__random_state"),
        ("novelty_rate", "aligner__novelty_rate"),
    ):
        value = getattr(args, flag)
        if value is not None:
            flags[name] = value
    if args.seed is not None and not args.features:
        flags["embedder__random_state"] = args.seed
    if args.objective is not None:
        flags["aligner__objective"] = _objective(args.objective)
    if args.calibration_holdouts is not None:
        if args.calibration_holdouts < 0:
            raise ValueError(
                "--calibration-holdouts must be 0 or more; got "
                f"{args.calibration_holdouts}."
            )
        flags["calibration_cv"] = args.calibration_holdouts or None
    return model.set_params(**flags)


def _cpu_settings(args, model, files, holdouts, device):
    """The CPU recipe when no training flag is given; warnings; the estimate."""
    from ..utils._images import typical_image_side
    from ..utils._warnings import warn_user
    from ..vision import TimeEstimate
    from ._recipe import HOLDOUT_SHARE, cpu_recipe, enlargement

    embedder = model.steps[0][1]
    side = typical_image_side(files)
    settings = ("backbone", "image_size", "max_epochs", "weights")
    configured = read_config(args.config) if args.config else {}
    chosen = [
        name
        for name in settings
        if getattr(args, name) is not None or f"embedder__{name}" in configured
    ]
    if device == "cpu" and not {"backbone", "weights"} & set(chosen):
        # the recipe sets what the user left open; its epochs fit the budget
        # at the image size that will be used
        size = embedder.image_size if "image_size" in chosen else side
        recipe = cpu_recipe(len(files), size, holdouts)
        if "image_size" in chosen:
            recipe["image_size"] = embedder.image_size
        if "max_epochs" in chosen:
            recipe["max_epochs"] = embedder.max_epochs
        model.set_params(
            **{f"embedder__{k}": v for k, v in recipe.items() if k != "estimate_s"}
        )
        given = ", ".join(f"--{c.replace('_', '-')}" for c in chosen)
        say(
            "on a CPU, "
            + (f"with {given} as given: " if chosen else "with no training flag: ")
            + f"{recipe['backbone']} at {recipe['image_size']} px for "
            f"{recipe['max_epochs']} epochs"
            + (
                f", about {recipe['estimate_s'] / 60:.0f} min here (timed)"
                if "max_epochs" not in chosen
                else ""
            )
            + "; the estimators' defaults (resnet50 at 224 px) suit a GPU, "
            "--backbone resnet50 takes them; --features trains nothing",
            args.quiet,
        )
    elif device == "cpu":
        say(
            f"on a CPU with {embedder.backbone} as given (--backbone or "
            "--weights): no CPU recipe; the estimate follows the first batches",
            args.quiet,
        )
    warning = enlargement(side, embedder.image_size)
    if warning:
        warn_user(warning)
    if not args.quiet:
        final = len(files)
        run = embedder.max_epochs * final * (1 + HOLDOUT_SHARE * holdouts)
        estimate = TimeEstimate(
            run_image_epochs=int(run), final_images=final, stream="stderr"
        )
        given = embedder.get_params().get("callbacks") or []
        model.set_params(embedder__callbacks=[*given, estimate])


def species_table(folder, y, pairing, model):
    """One row per species: images, sequences, how the names were paired.

    Every class folder has a row, also one whose images were all left out
    (``n_images`` counts the images trained on).
    """
    import pandas as pd

    trained = pd.Series(y).value_counts()
    rows = []
    for image_class in folder.target_names.tolist():
        paired = pairing[pairing["image_class"] == image_class]
        named = paired[paired["species"].notna()]
        rows.append(
            {
                "species": image_class,
                "n_images": int(trained.get(image_class, 0)),
                "n_sequences": int(named["n_sequences"].sum()),
                "dna_names": ", ".join(named["species"].astype(str)),
                "how": ", ".join(sorted(set(named["how"]))) or "images only",
            }
        )
    for row in pairing[pairing["how"] == "dna only"].itertuples():
        rows.append(
            {
                "species": row.species,
                "n_images": 0,
                "n_sequences": int(row.n_sequences),
                "dna_names": row.species,
                "how": "dna only",
            }
        )
    table = pd.DataFrame(rows)
    aligner = model.steps[-1][1]
    recognised = set(np.asarray(aligner.classes_).tolist())
    unreachable = set()
    clf = getattr(aligner, "prototype_classifier_", None)
    if clf is not None:
        # no image and no DNA prototype (e.g. the DNA test failed): probability 0
        never = (clf.class_counts_ == 0) & np.isnan(clf.dna_prototypes_).any(axis=1)
        unreachable = set(np.asarray(clf.classes_)[never].tolist())
    table["recognised"] = [
        s in recognised and s not in unreachable for s in table["species"]
    ]
    return table


def write_report(path, args, folder, table, model, seconds, versions, bad):
    """The training report: data, pairing, settings, training, in Markdown."""
    from sklearn.base import clone

    embedder = model.steps[0][1]
    aligner = model.steps[-1][1]
    image_less = table.loc[table["how"] == "dna only", "species"].tolist()
    odd = table[~table["how"].isin(["exact", "name", "dna only"])]
    lines = [
        "# vgestimators training report",
        "",
        f"- date (UTC): {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"- machine: {platform.platform()}, {platform.machine()}, device "
        f"{embedder.device_}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in versions.items())}",
        f"- training time: {seconds:.0f} s",
        "",
        "## Data",
        "",
        *_image_lines(args, folder, table, bad),
        f"- sequences: {args.sequences} ({int(table['n_sequences'].sum())} "
        f"sequences of {len(table)} species)",
        f"- species names paired: {_pairing_words(table, args.mapping)}",
    ]
    if len(odd):
        lines.append(
            "- paired other than by the same name (ignoring case, _ and spacing): "
            + "; ".join(
                f"{r.species} <- {r.dna_names} ({r.how})" for r in odd.itertuples()
            )
        )
    lines.append(
        f"- species with DNA and no images ({len(image_less)}): "
        + (", ".join(image_less) if image_less else "none")
    )
    for row in folder.skipped.itertuples():
        lines.append(f"- not used: {row.path} ({row.reason})")
    for name, reason in bad:
        lines.append(f"- not used (--skip-bad-images): {name} ({reason})")
    lines += [
        "",
        "## Settings",
        "",
        "```python",
        f"embedder = {embedder!r}",
        f"aligner = {clone(aligner).set_params(sequences=None)!r}",
        "```",
        "",
        "(`sequences` = the sequence file above, relabelled with the image "
        "class names.)",
        "",
        "## Training",
        "",
        *_training_lines(embedder),
    ]
    not_recognised = table.loc[~table["recognised"], "species"].tolist()
    lines.append(
        "- species the model cannot predict: "
        + (", ".join(not_recognised) if not_recognised else "none")
    )
    lines += ["", *calibration_lines(aligner, image_less)]
    lines += ["", "## Species", "", markdown_table(table), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


#: What the pairing rules of PAIRING_RULES ignore or use, for the report.
PAIRING_DETAILS = {
    "name": "case, '_' and spaces ignored",
    "number": "the class numbers of the folders and of the sequences",
    "epithet": "the same species epithet, genus aside",
}


def _pairing_words(table, mapping_file):
    """How many image classes each rule paired, in words: "34 by name (...)"."""
    from ..taxonomy import PAIRING_RULES

    counts = table.loc[table["how"] != "dna only", "how"].value_counts()
    order = [h for h in PAIRING_RULES if h in counts.index]
    order += [h for h in counts.index if h not in PAIRING_RULES]
    details = {**PAIRING_DETAILS, "mapping": f"--mapping {mapping_file}"}
    parts = []
    for how in order:
        if how == "images only":
            words, detail = "without sequences", "--mapping 'none'"
        else:
            words, detail = PAIRING_RULES.get(how, f"by {how}"), details.get(how)
        parts.append(f"{counts[how]} {words}" + (f" ({detail})" if detail else ""))
    return ", ".join(parts) or "none"


def _image_lines(args, folder, table, bad):
    """What the images were: used, checked, left out; one count for each."""
    used = table.loc[table["n_images"] > 0, "n_images"]
    n_files = len(folder.filenames)
    reasons = folder.skipped["reason"].value_counts()
    not_used = [f"unreadable image file ({len(bad)})"] if bad else []
    not_used += [f"{reason} ({n})" for reason, n in reasons.items()]
    n_not_used = len(bad) + len(folder.skipped)
    return [
        f"- images: {args.images}: {counted(int(used.sum()), 'image')} of "
        f"{len(used)} species used for training (smallest {used.min()}, largest "
        f"{used.max()})",
        f"- image check: every one of {counted(n_files, 'image file')} read "
        f"in full before training: {n_files - len(bad)} decoded, "
        f"{len(bad)} unreadable" + (" (left out, --skip-bad-images)" if bad else ""),
        f"- not used: {counted(n_not_used, 'entry', 'entries')}"
        + (f": {', '.join(not_used)} (listed below)" if not_used else ""),
    ]


def _training_lines(embedder):
    history = getattr(embedder, "history_", None)
    if history is None:  # a pretrained network's features
        return [
            f"- training-free: features of {embedder.backend}:{embedder.model} "
            f"(weights {embedder.weights}), {embedder.n_features_out_} per image",
            f"- images: {embedder.preprocessing_.describe()}",
        ]
    return [
        f"- epochs: {len(history)}, last training loss {history[-1, 'train_loss']:.4f}"
    ]


def _percent(value):
    return "n/a" if value is None or value != value else f"{value:.1%}"


def calibration_lines(aligner, image_less):
    """The report's account of the aligner's data-chosen constants."""
    from ..utils._objective import describe_objective

    cal = getattr(aligner, "calibration_", None)
    lines = ["## Calibration: species with images against DNA-only species", ""]
    if cal is None:
        return lines + [
            f"- the aligner's rule (classifier={aligner.classifier!r}) has no "
            "data-chosen constants."
        ]
    if cal.source == "held-out images":
        lines.append(
            f"- chosen on held-out images ({cal.n_folds} hold-out(s)): "
            f"{cal.n_images} images of species with training images and "
            f"{cal.n_unseen_images} scored as images of species without any "
            "(held out entirely, or, where none could be, images of seen "
            "species scored against their DNA prototype alone), embedded by a "
            "network trained on the other images (new images lie farther from "
            "their species than training images do)"
        )
    else:
        lines.append(
            "- chosen on the training images (leave-species-out): the network "
            "has fitted them, so these figures are optimistic "
            "(--calibration-holdouts 1 chooses them on held-out images)"
        )
    lines.append(f"- objective: {describe_objective(cal.objective)} (--objective)")
    if cal.dna_p_value is not None:
        # does the DNA predict where a species' images lie (p small)?
        level = aligner.get_params().get("dna_test")
        if cal.use_dna:
            verdict = "passed: the DNA is used"
        else:
            verdict = (
                "not passed: the DNA is not used, so species known from DNA "
                "only cannot be named and species with few images are "
                "recognised from their own images alone (the warning says "
                "what to try)"
            )
        lines.append(
            f"- DNA test on these images: p = {cal.dna_p_value:.3f}"
            + (f" (passes below {level:g})" if level is not None else "")
            + f", {verdict}"
        )
    elif not cal.use_dna:
        lines.append(
            "- the DNA is not used (no map from DNA to appearance): species "
            "known from DNA only cannot be named"
        )
    threshold = (
        "none (--novelty-rate sets one)"
        if cal.novelty_threshold is None
        else f"{cal.novelty_threshold:.4f} ({cal.novelty_rate:.0%} of the "
        f"{cal.source} of known species flagged)"
    )
    lines.append(
        f"- constants: shrinkage {cal.shrinkage:.3g} images, seen bias "
        f"{cal.seen_bias:.4f}, temperature {cal.temperature:.4f}, novelty "
        f"threshold {threshold}"
    )
    if not image_less:
        lines.append(
            "- no species has DNA and no images: the seen bias changes nothing."
        )
        return lines
    lines.append(
        "- expected on new images (mean accuracy per species, on the evidence "
        f"above): species with images {_percent(cal.expected_seen_accuracy)}, "
        f"DNA-only species {_percent(cal.expected_unseen_accuracy)}; "
        f"{_percent(cal.seen_sent_to_unseen)} of the images of species with "
        "images are named as a DNA-only species"
    )
    curve = cal.curve
    finite = np.isfinite(curve.seen) & np.isfinite(curve.unseen)
    if finite.sum() > 1:
        lines += [
            f"- the whole trade-off (area under the curve {cal.ausuc:.3f}); a "
            "larger seen bias names more images as DNA-only species:",
            "",
            "| seen bias | species with images | DNA-only species | their images sent to DNA-only species |",
            "|---:|---:|---:|---:|",
        ]
        index = np.flatnonzero(finite)
        for i in index[np.unique(np.linspace(0, len(index) - 1, 7).astype(int))]:
            lines.append(
                f"| {curve.bias[i]:.4f} | {_percent(curve.seen[i])} | "
                f"{_percent(curve.unseen[i])} | {_percent(curve.to_unseen[i])} |"
            )
    return lines


def run(args):
    from .. import __version__
    from ..io import save_model
    from ..utils._versions import versions as _versions

    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give the model file to write.")
    start = time.perf_counter()
    say(
        f"vgestimators {__version__}: reading {args.images} and {args.sequences}",
        args.quiet,
    )
    folder, sequences, pairing, mapping = load_training_data(args)
    model = build_model(args, sequences, mapping)
    y = np.asarray(folder.target).astype(str)
    model.check_species(y)  # names first: seconds, not hours
    taxonomy = check_taxonomy(model, y, sequences)
    image_less = pairing.loc[pairing["how"] == "dna only", "species"].tolist()
    say(
        f"{len(y)} images of {len(set(y))} species; {len(sequences)} sequences; "
        f"species with DNA and no images: {len(image_less)}",
        args.quiet,
    )
    say(taxonomy_sentence(taxonomy, args), args.quiet)
    files, y, bad = check_images(folder, args)
    from ..utils._device import resolve_device

    embedder = model.steps[0][1]
    holdouts = model.calibration_cv or 0
    device = resolve_device(embedder.device)
    callbacks = embedder.get_params().get("callbacks")
    if not args.features:
        _cpu_settings(args, model, files, holdouts, device)
    if args.features:
        what = f"embedding with {args.features} (training-free) on {device}"
    else:
        what = (
            f"training {embedder.backbone} at {embedder.image_size} px for "
            f"{embedder.max_epochs} epochs on {device}"
        )
    say(
        what
        + (
            f": first {holdouts} time(s) leaving out a hold-out of images, on "
            "which the aligner's constants are chosen, then on all images"
            if holdouts
            else ""
        ),
        args.quiet,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    _check_writable(out)
    if not args.features:
        # check_images decoded every file already: the embedder reads headers
        checked = embedder.get_params()["image_check"]
        model.set_params(embedder__image_check="header")
    model.fit(files, y)
    if not args.features:
        # as given: exportable, and a refit checks its images as configured
        model.set_params(embedder__callbacks=callbacks, embedder__image_check=checked)
    seconds = time.perf_counter() - start
    table = species_table(folder, y, pairing, model)
    # the model first: what follows cannot lose the training
    save_model(
        model,
        out,
        metadata={
            "species": table[["species", "n_images"]].to_dict("list"),
            "images": str(args.images),
            "sequences": str(args.sequences),
        },
    )
    report = out.with_name(out.stem + ".report.md")
    species_csv = out.with_name(out.stem + ".species.csv")
    table.to_csv(species_csv, index=False)
    write_report(report, args, folder, table, model, seconds, _versions(), bad)
    cal = getattr(model.steps[-1][1], "calibration_", None)
    if cal is not None and image_less:
        say(
            f"calibrated on {cal.source}: expects {_percent(cal.expected_seen_accuracy)} "
            f"on species with images, {_percent(cal.expected_unseen_accuracy)} on "
            f"DNA-only species ({_percent(cal.seen_sent_to_unseen)} of images of "
            "species with images named as DNA-only species; see the report)",
            args.quiet,
        )
    say(f"wrote {out}, {report}, {species_csv} ({seconds:.0f} s)", args.quiet)
    return 0
