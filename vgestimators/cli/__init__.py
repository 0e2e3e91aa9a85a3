"""The ``vgestimators`` command: train, predict, evaluate, benchmark.

Run ``vgestimators --help``; each subcommand lives in its own module.
"""

from ._main import build_parser, main

__all__ = ["build_parser", "main"]
