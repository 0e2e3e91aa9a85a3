"""The rare-species benchmark (``python -m vgestimators.benchmark``): accuracy.

How well each method names species, the rarest above all. How fast and in
how much memory the package runs is measured elsewhere, by the scripts of
the top-level ``benchmarks/`` folder (plural, in a checkout; see its
README.md).
"""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "run_benchmark": "._run",
        "BenchmarkConfig": "._config",
        "build_pipeline": "._methods",
        "shuffle_species": "._methods",
        "main": "._cli",
    },
    moved={"SoftmaxImageClassifier": "vgestimators.vision"},
)
