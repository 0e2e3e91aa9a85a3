"""The rare-species benchmark (``python -m vgestimators.benchmark``)."""

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
