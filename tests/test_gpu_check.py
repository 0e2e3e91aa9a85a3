"""The prepared GPU check, run at a tiny scale on the CPU so it cannot rot."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_gpu_check_dry_run_writes_every_figure(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "benchmarks/gpu_check.py", "--dry-run", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads((out / "gpu_check.json").read_text())
    assert summary["mode"] == "dry-run"
    assert {s["exit_status"] for s in summary["steps"].values()} == {0}
    assert set(summary["steps"]) == {
        "gpu_tests",
        "bench_embedder",
        "bench_pretrained",
        "benchmark",
    }
    assert summary["bench_pretrained"]["frozen transform images/s"] > 0
    assert summary["bench_pretrained"]["ready ratio trained/frozen"] > 0
    figures = summary["bench_embedder"]
    for key in (
        "training ratio embedder/plain",
        "from files ratio embedder/plain",
        "transform ratio embedder/plain",
    ):
        assert figures[key] > 0
    assert "skipped" in summary["gpu_tests"] or "passed" in summary["gpu_tests"]
    results = (out / "benchmark_results.md").read_text()
    assert "Triplet + VisualGeneticAligner" in results
    # a lent GPU machine returns at most 8 files
    assert len(list(out.iterdir())) <= 8
