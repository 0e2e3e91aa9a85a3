"""Command line of the benchmark, derived from the fields of BenchmarkConfig."""

import argparse
import sys
from dataclasses import fields

from ._config import BenchmarkConfig, value_type

_DESCRIPTION = (
    "Compare softmax, triplet, nearest-class-mean, cRT, DNA-prototype (with its "
    "shuffled-DNA control), aligned and zero-shot pipelines on a long-tailed "
    "species data set (synthetic make_forams data by default, or real images + "
    "DNA). Options left out keep the preset's value."
)


def build_parser(prog="python -m vgestimators.benchmark"):
    """The argument parser: one option per :class:`BenchmarkConfig` field.

    Every field ``name`` is ``--name`` (underscores as dashes) plus the
    aliases it declares; a boolean field that defaults to True is turned off
    by ``--no-name``. Options not given keep the preset's value.

    Parameters
    ----------
    prog : str
        Program name shown in the usage line.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description=_DESCRIPTION,
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--quick", action="store_true", help="the same as --preset quick"
    )
    for f in fields(BenchmarkConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata["help"].replace("%", "%%")
        kind = value_type(f)
        if kind is bool:
            parser.add_argument(
                "--no-" + f.name.replace("_", "-"),
                dest=f.name,
                action="store_false",
                help=f.metadata["off"],
            )
            continue
        if f.name not in ("methods", "preset"):
            help_text += f" (default preset: {f.default})"
        options = dict(dest=f.name, help=help_text)
        if f.metadata["choices"]:
            options["choices"] = list(f.metadata["choices"])
        if kind is tuple:
            options.update(nargs="+", metavar="METHOD")
            options["help"] += " Choices: " + ", ".join(f.metadata["choices"]) + "."
        else:
            options["type"] = kind
            if not f.metadata["choices"]:
                options["metavar"] = f.name.upper()
        parser.add_argument(flag, *f.metadata["flags"], **options)
    return parser


def config_from_args(args):
    """A :class:`BenchmarkConfig` from parsed command-line arguments.

    Parameters
    ----------
    args : argparse.Namespace
        From :func:`build_parser`.

    Returns
    -------
    config : BenchmarkConfig
    """
    overrides = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in vars(args).items()
        if k != "quick"
    }
    if getattr(args, "quick", False) and overrides.get("preset", "quick") != "quick":
        raise ValueError(
            f"--quick is --preset quick; it cannot go with --preset {overrides['preset']}."
        )
    preset = overrides.pop(
        "preset", "quick" if getattr(args, "quick", False) else "default"
    )
    return BenchmarkConfig.from_preset(preset, **overrides)


def main(argv=None, prog="python -m vgestimators.benchmark"):
    """Run the benchmark from the command line; returns the exit status.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments (None: ``sys.argv[1:]``).
    prog : str
        Program name shown in the usage line.

    Returns
    -------
    status : int
        0 on success, 130 when interrupted (the results so far are kept).
    """
    from ._run import run_benchmark

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
