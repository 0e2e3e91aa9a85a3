"""Entry point of the ``vgestimators`` console script."""

import argparse
import os
import sys
import warnings

from . import _evaluate, _predict, _train

#: Errors a user can fix: shown as one line, without a traceback.
USER_ERRORS = (ValueError, TypeError, OSError, KeyError)


def _user_error(exc):
    """Whether ``exc`` is the user's to fix (one line), not a bug (traceback)."""
    if isinstance(exc, USER_ERRORS):
        return True
    from ..vision import WeightsDownloadError  # torch is imported by now

    return isinstance(exc, WeightsDownloadError)


def build_parser():
    """The argument parser of the ``vgestimators`` command."""
    parser = argparse.ArgumentParser(
        prog="vgestimators",
        description=(
            "Recognise species from images with the help of their DNA: train "
            "a model on a folder of images (one sub-folder per species) and a "
            "sequence file, predict species of new images, evaluate a model "
            "on labelled images, or run the benchmark."
        ),
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for module in (_train, _predict, _evaluate):
        # a command's flags for the settings messages name (see settings_named)
        module.add_parser(commands).set_defaults(
            settings=getattr(module, "SETTINGS", {})
        )
    commands.add_parser(
        "benchmark",
        help="compare the methods on synthetic or real data "
        "(`vgestimators benchmark --help`)",
        add_help=False,
    )
    return parser


def _one_line(command):
    """``warnings.showwarning`` printing ``vgestimators COMMAND: warning: ...``."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"vgestimators {command}: warning: {message}", file=sys.stderr)

    return show


def main(argv=None):
    """Run the ``vgestimators`` command; returns the exit status.

    Errors in the input (missing files, unmatched species names, bad
    settings) are printed as one line, ``vgestimators COMMAND: error:
    ...``, with exit status 2; set the environment variable
    ``VGESTIMATORS_DEBUG=1`` for the full traceback.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "benchmark":
        from ..benchmark import main as benchmark_main

        return benchmark_main(argv[1:], prog="vgestimators benchmark")
    parser = build_parser()
    args = parser.parse_args(argv)
    from ..utils._settings import settings_named

    try:
        # messages name this command's flags, not Python keywords
        with warnings.catch_warnings(), settings_named(**args.settings):
            warnings.showwarning = _one_line(args.command)
            return args.run(args) or 0
    except KeyboardInterrupt:
        print(f"vgestimators {args.command}: interrupted", file=sys.stderr)
        return 130
    except (*USER_ERRORS, RuntimeError) as exc:
        if os.environ.get("VGESTIMATORS_DEBUG") or not _user_error(exc):
            raise
        message = (
            str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        )
        message = " ".join(line.strip() for line in message.splitlines())
        print(f"vgestimators {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
