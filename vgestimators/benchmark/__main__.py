"""Command line of the benchmark: ``python -m vgestimators.benchmark --help``."""

import argparse
import sys

from ._methods import METHODS
from ._run import BenchmarkConfig, run_benchmark


def build_parser(prog="python -m vgestimators.benchmark"):
    """The argument parser of ``python -m vgestimators.benchmark``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Compare softmax, triplet, nearest-class-mean, cRT, DNA-prototype "
            "(with its shuffled-DNA control), aligned and zero-shot pipelines on "
            "a long-tailed species data set "
            "(synthetic make_forams data by default, or real images + DNA)."
        ),
    )
    parser.add_argument("--out", default="results", help="output folder")
    parser.add_argument(
        "--quick", action="store_true", help="a smaller run (about 2-3 min on 2 cores)"
    )
    parser.add_argument(
        "--preset",
        choices=["default", "quick", "gpu", "tiny"],
        help="named settings (--quick is --preset quick; gpu: 32 species, 64 px, "
        "ResNet50 on CUDA, about 5 minutes on an H200)",
    )
    parser.add_argument(
        "--device",
        choices=["cpu", "cuda", "auto"],
        help="where networks train (default: the preset's; cpu but for --preset gpu)",
    )
    parser.add_argument("--seed", type=int, help="random_state of data, splits, nets")
    parser.add_argument(
        "--seeds", "--n-splits", dest="n_splits", type=int, help="number of splits"
    )
    parser.add_argument(
        "--genetic-signal", type=float, help="make_forams genetic_signal (0..1)"
    )
    parser.add_argument(
        "--anchor-components",
        type=int,
        help="PCA size of the genetic anchor space (default: all 256 features)",
    )
    parser.add_argument("--n-images", type=int, help="make_forams n_images")
    parser.add_argument("--n-species", type=int, help="make_forams n_species")
    parser.add_argument("--image-size", type=int, help="image side in pixels")
    parser.add_argument("--epochs", dest="max_epochs", type=int, help="training epochs")
    parser.add_argument(
        "--finetune-epochs", type=int, help="aligned fine-tuning epochs"
    )
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--backbone", choices=["resnet18", "resnet34", "resnet50"])
    parser.add_argument(
        "--stem",
        choices=["torchvision", "small", "auto"],
        help="ResNet stem (auto: small-image stem up to 64 px; 6-7x the CPU time)",
    )
    parser.add_argument(
        "--n-unseen",
        type=int,
        help="species held out of training per split (zero-shot)",
    )
    parser.add_argument(
        "--n-test-per-species",
        type=int,
        help="synthetic data: balanced test images per species (0: stratified "
        "long-tail splits)",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        help="methods to run (default: all)",
    )
    parser.add_argument(
        "--images", help="real data: image folder, one sub-folder per class"
    )
    parser.add_argument(
        "--sequences", help="real data: PFR2-style CSV or FASTA of sequences"
    )
    parser.add_argument(
        "--mapping", help="real data: CSV of image class -> species name"
    )
    parser.add_argument(
        "--threads", dest="n_threads", type=int, help="torch CPU threads (default: all)"
    )
    parser.add_argument("--no-tsne", action="store_true", help="skip the t-SNE figure")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def config_from_args(args):
    """A :class:`BenchmarkConfig` from parsed command-line arguments."""
    preset = args.preset or ("quick" if args.quick else "default")
    overrides = {
        "out": args.out,
        "tsne": not args.no_tsne,
        "progress": not args.no_progress,
    }
    for name in (
        "device",
        "n_splits",
        "genetic_signal",
        "n_images",
        "n_species",
        "image_size",
        "max_epochs",
        "finetune_epochs",
        "batch_size",
        "backbone",
        "stem",
        "n_unseen",
        "n_test_per_species",
        "images",
        "sequences",
        "mapping",
        "n_threads",
        "anchor_components",
    ):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    if args.seed is not None:
        overrides["random_state"] = args.seed
    if args.methods:
        overrides["methods"] = tuple(args.methods)
    return BenchmarkConfig.from_preset(preset, **overrides)


def main(argv=None, prog="python -m vgestimators.benchmark"):
    """Run the benchmark from the command line; returns the exit status."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        result = run_benchmark(config)
    except KeyboardInterrupt as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 130
    print()
    print(result.table)
    print(f"\nfinished in {result.elapsed:.0f} s; files:")
    for name, path in result.files.items():
        print(f"  {name:18s} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
