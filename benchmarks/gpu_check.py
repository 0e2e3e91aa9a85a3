"""The GPU check: gpu tests, embedder throughput and the benchmark, in one run.

Run it whenever a GPU is at hand (a lent H200 has about 15 minutes); it
prints every figure and writes them, with the logs, under one folder:

1. the ``gpu``-marked tests (bf16 autocast, channels-last, pinned memory,
   DataLoader workers, a CUDA-trained model loaded and used on a CPU);
2. ``bench_embedder.py`` at ResNet50, 224 px, bf16, batch 128:
   ``TripletImageEmbedder.fit`` against a plain PyTorch loop of the same
   network, on images in memory and on PNG files decoded by DataLoader
   workers, and transform throughput (goal: fit >= 0.9 of the plain loop);
3. ``bench_pretrained.py`` at ResNet50, 224 px (bf16): the frozen
   ``PretrainedImageEmbedder`` against ``TripletImageEmbedder`` (2 epochs),
   fit and transform;
4. the benchmark with ``--preset gpu`` (32 species, 64 px, ResNet50).

``--dry-run`` does the same on the CPU at a tiny scale in under two minutes
(the test suite runs it, so the script cannot rot while no GPU is at hand).

Examples::

    python benchmarks/gpu_check.py --dry-run --out gpu_check_dry
    OUT=/some/folder python benchmarks/gpu_check.py        # on the GPU machine

On the lent GPU machine, where skorch, imbalanced-learn and
pytorch-metric-learning are not installed, carry them as wheels (see
docs/user_guide/gpu.rst for the exact commands).
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: bench_pretrained arguments per mode.
PRETRAINED = {
    "gpu": [
        "--device",
        "cuda",
        "--backbone",
        "resnet50",
        "--image-size",
        "224",
        "--n-images",
        "2048",
        "--epochs",
        "2",
        "--batch-size",
        "128",
    ],
    "dry-run": [
        "--device",
        "cpu",
        "--backbone",
        "resnet18",
        "--image-size",
        "32",
        "--n-images",
        "64",
        "--epochs",
        "1",
        "--batch-size",
        "16",
    ],
}

#: (bench_embedder arguments, benchmark arguments) per mode.
SETTINGS = {
    "gpu": (
        [
            "--device",
            "cuda",
            "--backbone",
            "resnet50",
            "--image-size",
            "224",
            "--batch-size",
            "128",
            "--bf16",
            "--steps",
            "30",
            "--warmup",
            "5",
            "--workers",
            "8",
            "--from-files",
            "--transform-images",
            "2048",
            "--stem",
            "auto",
        ],
        ["--preset", "gpu"],
    ),
    "dry-run": (
        [
            "--device",
            "cpu",
            "--backbone",
            "resnet18",
            "--image-size",
            "32",
            "--batch-size",
            "16",
            "--steps",
            "3",
            "--warmup",
            "1",
            "--workers",
            "2",
            "--from-files",
            "--transform-images",
            "64",
            "--stem",
            "torchvision",
        ],
        ["--preset", "tiny", "--device", "cpu", "--no-tsne"],
    ),
}


def _environment():
    import torch

    cuda = torch.cuda.is_available()
    return {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": torch.cuda.get_device_name() if cuda else "CPU only",
        "cpu_count": os.cpu_count(),
    }


def _run(name, command, out, log):
    """Run one step in a subprocess; its output to the console and a log file."""
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    with open(out / f"{name}.log", "w") as handle:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = []
        for line in process.stdout:
            sys.stdout.write(line)
            handle.write(line)
            lines.append(line)
        code = process.wait()
    seconds = time.perf_counter() - start
    log[name] = {"exit_status": code, "seconds": round(seconds, 1)}
    print(f"=== {name}: exit status {code}, {seconds:.0f} s", flush=True)
    return code, "".join(lines)


def _figures(text):
    """images/s and ratios printed by bench_embedder.py."""
    figures = {}
    for line in text.splitlines():
        if ":" not in line or "images/s" not in line and "ratio" not in line:
            continue
        key, _, value = line.partition(":")
        try:
            figures[" ".join(key.split())] = float(value.split()[0])
        except (ValueError, IndexError):
            continue
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="tiny scale on the CPU (< 2 min)"
    )
    parser.add_argument(
        "--out", help="output folder (default: $OUT when set, else gpu_check)"
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["tests", "embedder", "pretrained", "benchmark"],
        help="steps to leave out (e.g. for a rerun of the rest)",
    )
    args = parser.parse_args(argv)
    out = Path(args.out or os.environ.get("OUT") or "gpu_check")
    out.mkdir(parents=True, exist_ok=True)
    mode = "dry-run" if args.dry_run else "gpu"
    environment = _environment()
    if mode == "gpu" and environment["device"] == "CPU only":
        parser.error("no CUDA device here: use --dry-run on a CPU")
    print(json.dumps(environment, indent=1))
    bench_args, benchmark_args = SETTINGS[mode]
    log = {}
    summary = {"mode": mode, "environment": environment, "steps": log}
    python = sys.executable
    status = 0
    if "tests" not in args.skip:
        code, text = _run(
            "gpu_tests",
            [
                python,
                "-m",
                "pytest",
                "-m",
                "gpu",
                "-q",
                "-p",
                "no:cacheprovider",
                "-o",
                "addopts=",
                "tests/test_embedder_gpu.py",
                "tests/test_aligner.py",
            ],
            out,
            log,
        )
        # on a CPU the gpu tests are skipped (exit 0); none collected is 5
        status |= code not in (0, 5)
        summary["gpu_tests"] = text.strip().splitlines()[-1] if text.strip() else ""
    if "embedder" not in args.skip:
        code, text = _run(
            "bench_embedder",
            [python, "benchmarks/bench_embedder.py", *bench_args],
            out,
            log,
        )
        status |= code != 0
        summary["bench_embedder"] = _figures(text)
    if "pretrained" not in args.skip:
        code, text = _run(
            "bench_pretrained",
            [python, "benchmarks/bench_pretrained.py", *PRETRAINED[mode]],
            out,
            log,
        )
        status |= code != 0
        summary["bench_pretrained"] = _figures(text)
    if "benchmark" not in args.skip:
        with tempfile.TemporaryDirectory() as folder:
            code, _ = _run(
                "benchmark",
                [
                    python,
                    "-m",
                    "vgestimators.benchmark",
                    *benchmark_args,
                    "--out",
                    folder,
                    "--no-progress",
                ],
                out,
                log,
            )
            status |= code != 0
            # only the tables come back (a GPU machine returns few files)
            for name, target in (
                ("results.md", "benchmark_results.md"),
                ("results.csv", "benchmark_results.csv"),
            ):
                if (Path(folder) / name).exists():
                    shutil.copy(Path(folder) / name, out / target)
    (out / "gpu_check.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"\nfigures and logs in {out}/ (gpu_check.json)")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
