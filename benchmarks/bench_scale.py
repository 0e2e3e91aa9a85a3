"""Scale: 1M sequences on Dask, 10x images to disk, 1M embeddings predicted.

Prints its figures (ratios against a baseline measured in the same run):

* ``sgt``: GeneticAnchors of ``--sequences`` synthetic sequences of
  ``--length`` bases (default 1,000,000 of 1 kbp) over 32 species, fitted
  on a dask Bag whose partitions generate their own sequences: in one
  process (dask's synchronous scheduler) and on a ``LocalCluster`` of
  ``--workers`` worker processes; throughput and peak memory of each
  process, and the largest difference between the two sets of anchors;
* ``images``: ``embed_to_file`` of ``--images`` PNG files (default 14,800:
  10x the 1,480 images of the default benchmark) with chunks of 1,024,
  against ``transform`` of all at once: time and peak memory (each in its
  own process);
* ``predict``: the default aligner rule (DNA prototypes, 32 classes) on
  ``--embeddings`` x 128 embeddings (default 1,000,000), and the k-NN rule
  over a 20,000-image reference set with scikit-learn and with faiss.

Examples::

    python benchmarks/bench_scale.py                      # everything
    python benchmarks/bench_scale.py --only sgt --sequences 100000
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

N_SPECIES = 32
PARTITION = 10_000


def _memory_mb(field="VmHWM"):
    """This process's peak (VmHWM) or current (VmRSS) resident memory, MiB.

    Read from /proc (Linux): unlike ``getrusage``'s ``ru_maxrss``, the peak
    is not inherited from the parent across fork and exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_mb():
    return _memory_mb("VmHWM")


def _reset_peak():
    """Reset VmHWM to the current RSS (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass
    return _memory_mb("VmRSS")


# -- sequences ----------------------------------------------------------------


def _partition_sequences(index, size, length):
    """Sequences of one partition, generated where the partition is computed."""
    rng = np.random.default_rng(index)
    codes = rng.integers(0, 4, size=(size, length), dtype=np.uint8)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)[codes]
    return [row.tobytes().decode() for row in letters]


def _partition_labels(index, size):
    rng = np.random.default_rng(10_000_000 + index)
    return [f"species {k}" for k in rng.integers(0, N_SPECIES, size=size)]


def _bags(n, length):
    import dask
    import dask.bag as db

    sizes = [min(PARTITION, n - start) for start in range(0, n, PARTITION)]
    seqs = db.from_delayed(
        [dask.delayed(_partition_sequences)(i, s, length) for i, s in enumerate(sizes)]
    )
    labels = db.from_delayed(
        [dask.delayed(_partition_labels)(i, s) for i, s in enumerate(sizes)]
    )
    return seqs, labels


def bench_sgt(args):
    import dask
    from dask.distributed import Client, LocalCluster

    from vgestimators.genetics import GeneticAnchors

    n = args.sequences
    seqs, labels = _bags(n, args.length)
    from vgestimators.genetics import _dask  # noqa: F401 - imports before the base

    base = _reset_peak()
    with dask.config.set(scheduler="synchronous"):
        start = time.perf_counter()
        one = GeneticAnchors().fit(seqs, labels)
        one_s = time.perf_counter() - start
    one_peak = _peak_mb()
    # distributed makes glibc return freed memory at once in its workers
    # (MALLOC_TRIM_THRESHOLD_=65536); with SGT's large temporaries a larger
    # threshold was faster in one test (2.6 -> 1.7 s per 10,000 sequences),
    # though not as fast as the main process (0.9 s): see docs/user_guide/scaling.rst
    trim = {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": args.malloc_trim
    }
    with (
        dask.config.set(trim),
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"OMP_NUM_THREADS": "1"},
        ) as cluster,
        Client(cluster) as client,
    ):
        worker_base = client.run(_reset_peak)
        start = time.perf_counter()
        many = GeneticAnchors().fit(seqs, labels)
        many_s = time.perf_counter() - start
        worker_peaks = client.run(_peak_mb)
    diff = float(np.abs(one.anchors_.to_numpy() - many.anchors_.to_numpy()).max())
    print(f"sgt  {n:,} sequences of {args.length} bases, {N_SPECIES} species")
    worker_peak = max(worker_peaks.values())
    worker_growth = max(worker_peaks[w] - worker_base[w] for w in worker_peaks)
    print(
        f"sgt  one process : {one_s:8.1f} s  {n / one_s:9.0f} seq/s  "
        f"peak {one_peak:6.0f} MiB (+{one_peak - base:.0f} over the imports)"
    )
    print(
        f"sgt  {args.workers} workers     : {many_s:8.1f} s  {n / many_s:9.0f} seq/s  "
        f"peak per worker {worker_peak:6.0f} MiB (+{worker_growth:.0f})"
    )
    print(f"sgt  speed-up {one_s / many_s:.2f}x; largest anchor difference {diff:.1e}")
    return {
        "n": n,
        "one_s": one_s,
        "cluster_s": many_s,
        "one_peak_mb": one_peak,
        "worker_peak_mb": worker_peak,
        "max_diff": diff,
    }


# -- images --------------------------------------------------------------------


def _images_child(mode, folder, n, out):
    """Run in a fresh process: embed the PNG files, report time and peak."""
    from vgestimators.vision import TripletImageEmbedder, embed_to_file

    files = [os.path.join(folder, f"img{i:06d}.png") for i in range(n)]
    emb = TripletImageEmbedder(
        backbone="resnet18",
        image_size=32,
        stem="torchvision",
        device="cpu",
        random_state=0,
        verbose=0,
    )
    emb.initialize(classes=np.arange(N_SPECIES))  # an untrained net: same cost
    base = _reset_peak()
    start = time.perf_counter()
    if mode == "file":
        Z = embed_to_file(emb, files, out, chunk_size=1024, progress=False)
    else:
        Z = emb.transform(files)
    seconds = time.perf_counter() - start
    print(
        json.dumps({"seconds": seconds, "peak_mb": _peak_mb() - base, "shape": Z.shape})
    )


def bench_images(args):
    from PIL import Image

    n = args.images
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        for i in range(n):
            pixels = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(os.path.join(folder, f"img{i:06d}.png"))
        results = {}
        for mode in ("memory", "file"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child-images",
                    mode,
                    folder,
                    str(n),
                    os.path.join(folder, "Z.npy"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    m, f = results["memory"], results["file"]
    print(
        f"images {n:,} PNG files of 32 px, resnet18 (one process each; transform "
        "already decodes batch by batch, embed_to_file also bounds the output "
        "and can resume)"
    )
    print(
        f"images transform, all at once : {m['seconds']:7.1f} s  peak +{m['peak_mb']:5.0f} MiB"
    )
    print(
        f"images embed_to_file, 1,024   : {f['seconds']:7.1f} s  peak +{f['peak_mb']:5.0f} MiB"
    )
    print(
        f"images time ratio file/memory {f['seconds'] / m['seconds']:.2f}, "
        f"peak ratio {f['peak_mb'] / m['peak_mb']:.2f}"
    )
    return results


# -- predict --------------------------------------------------------------------


def bench_predict(args):
    from vgestimators import VisualGeneticAligner
    from vgestimators.alignment import GeneticPrototypeClassifier

    rng = np.random.default_rng(0)
    d, n = 128, args.embeddings
    centres = rng.normal(size=(N_SPECIES, d))
    y = rng.integers(0, N_SPECIES, size=20_000)
    X = centres[y] + rng.normal(scale=2.0, size=(len(y), d))
    anchors = {k: centres[k, :64] + rng.normal(size=64) for k in range(N_SPECIES)}
    Q = centres[rng.integers(0, N_SPECIES, size=n)]
    Q += rng.normal(scale=2.0, size=Q.shape)
    clf = GeneticPrototypeClassifier(anchors=anchors, random_state=0).fit(X, y)
    start = time.perf_counter()
    clf.predict(Q)
    proto_s = time.perf_counter() - start
    print(
        f"predict {n:,} x {d} embeddings, {N_SPECIES} classes, 20,000 training images"
    )
    print(f"predict default rule (DNA prototypes): {proto_s:7.2f} s")
    figures = {"prototype_s": proto_s}
    for algorithm in ("sklearn", "faiss"):
        knn = VisualGeneticAligner(
            anchors=anchors,
            classifier="knn",
            max_epochs=5,
            knn_algorithm=algorithm,
            random_state=0,
        ).fit(X, y)
        start = time.perf_counter()
        knn.predict(Q)
        figures[algorithm] = time.perf_counter() - start
        print(
            f"predict k-NN rule, {algorithm:7s}            : {figures[algorithm]:7.2f} s"
        )
    print(
        f"predict k-NN faiss/sklearn time ratio {figures['faiss'] / figures['sklearn']:.2f}"
    )
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=["sgt", "images", "predict"])
    parser.add_argument("--sequences", type=int, default=1_000_000)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--malloc-trim",
        default=str(2**30),
        help="MALLOC_TRIM_THRESHOLD_ of the dask workers (distributed's: 65536)",
    )
    parser.add_argument("--images", type=int, default=14_800)
    parser.add_argument("--embeddings", type=int, default=1_000_000)
    parser.add_argument("--child-images", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_images:
        mode, folder, n, out = args.child_images
        return _images_child(mode, folder, int(n), out)
    import platform

    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}"
    )
    steps = args.only or ["sgt", "images", "predict"]
    for name in steps:
        {"sgt": bench_sgt, "images": bench_images, "predict": bench_predict}[name](args)


if __name__ == "__main__":
    main()
