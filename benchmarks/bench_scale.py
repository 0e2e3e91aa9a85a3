"""Scale: 1M sequences on Dask, 10x images to disk, 1M embeddings predicted.

Prints its figures (ratios against a baseline measured in the same run):

* ``sgt``: GeneticAnchors of ``--sequences`` synthetic sequences of
  ``--length`` bases (default 1,000,000 of 1 kbp) over 32 species, fitted
  on a dask DataFrame whose partitions generate their own sequences
  and species (``--layout bags``: two separate dask Bags): in one
  process with 1 thread (dask's synchronous scheduler, BLAS limited to one
  thread), in one process with all cores (the synchronous scheduler with
  BLAS on every core, and dask's threads scheduler with a thread per core),
  and on a ``LocalCluster`` of ``--workers`` worker processes x 1 thread;
  the median compute time of a partition's task in each (from dask's
  profiler and the cluster's task stream), peak memory of the main process
  and of each worker, minor page faults, and the largest difference
  between the anchors; ``--control`` adds a cluster run with the package's
  malloc setting off (vgestimators/utils/_malloc.py), the code before it;
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
import contextlib
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


def _partition_frame(index, size, length):
    """One partition's sequences and their species, as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(
        {
            "sequence": _partition_sequences(index, size, length),
            "species": _partition_labels(index, size),
        }
    )


def _collections(n, length, layout):
    """Sequences and labels, generated where each partition is computed.

    ``layout="frame"``: two columns of one dask DataFrame (a partition is
    generated once and both columns stay where it was, as when a table is
    read from Parquet or CSV); ``"bags"``: two independent dask Bags (each
    partition of labels is made apart from its sequences, and one of them
    travels to the other's worker).
    """
    import dask
    import dask.bag as db
    import dask.dataframe as dd

    sizes = [min(PARTITION, n - start) for start in range(0, n, PARTITION)]
    if layout == "frame":
        frame = dd.from_delayed(
            [dask.delayed(_partition_frame)(i, s, length) for i, s in enumerate(sizes)],
            meta=_partition_frame(0, 0, length),
            verify_meta=False,
        )
        return frame["sequence"], frame["species"]
    seqs = db.from_delayed(
        [dask.delayed(_partition_sequences)(i, s, length) for i, s in enumerate(sizes)]
    )
    labels = db.from_delayed(
        [dask.delayed(_partition_labels)(i, s) for i, s in enumerate(sizes)]
    )
    return seqs, labels


# the tasks that embed one partition (sequences and labels from one table,
# or from two collections)
_EMBED_TASKS = ("_pair_sums", "_partition_sums")


def _task_seconds_local(profiler):
    """Compute time of each embedding task under a local scheduler."""
    return [
        r.end_time - r.start_time
        for r in profiler.results
        if str(r.key).startswith(_EMBED_TASKS)
    ]


def _embed_steps(stream, action):
    """(worker, start, seconds) of each ``action`` of the embedding tasks."""
    return [
        (task["worker"], part["start"], part["stop"] - part["start"])
        for task in stream.data
        if str(task["key"]).startswith(_EMBED_TASKS)
        for part in task["startstops"]
        if part["action"] == action
    ]


def _task_seconds_cluster(stream):
    """Compute time of each embedding task on the cluster's workers."""
    return [seconds for _, _, seconds in _embed_steps(stream, "compute")]


def _first_tasks(stream):
    """Compute time of each worker's first embedding task."""
    first = {}
    for worker, start, seconds in _embed_steps(stream, "compute"):
        if worker not in first or start < first[worker][0]:
            first[worker] = (start, seconds)
    return [seconds for _, seconds in first.values()]


def _warm():
    """Import and run the SGT code once, as a process that has used it has.

    Both sides get it before their timer starts: the main process (whose
    imports a benchmark never times) and each worker (which would otherwise
    pay the imports of scikit-learn and SciPy inside its first task).
    """
    from vgestimators.genetics import GeneticAnchors

    GeneticAnchors().fit(["ACGTTGCA", "TTGACCAG"], ["a", "b"])


def _fit_local(seqs, labels, scheduler, threads):
    """GeneticAnchors in this process: seconds, per-task seconds, anchors,
    peak memory growth and minor page faults."""
    import dask
    from dask.diagnostics import Profiler
    from threadpoolctl import threadpool_limits

    from vgestimators.genetics import GeneticAnchors

    base, faults = _reset_peak(), _minor_faults()
    with (
        dask.config.set(scheduler=scheduler, num_workers=threads),
        threadpool_limits(
            limits=1 if scheduler == "synchronous" and threads == 1 else None
        ),
        Profiler() as profiler,
    ):
        start = time.perf_counter()
        anchors = GeneticAnchors().fit(seqs, labels).anchors_.to_numpy()
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "tasks": _task_seconds_local(profiler),
        "anchors": anchors,
        "peak_mb": _peak_mb(),
        "growth_mb": _peak_mb() - base,
        "minor_faults": _minor_faults() - faults,
    }


def _start_cluster(stack, workers, start_env):
    """A LocalCluster of ``workers`` processes x 1 thread, warmed; its Client.

    ``start_env``: variables of the environment the workers start with
    (``LocalCluster(env=...)`` is applied only after they started).
    """
    import dask
    from dask.distributed import Client, LocalCluster

    prespawn = "distributed.nanny.pre-spawn-environ"
    with dask.config.set({f"{prespawn}.{k}": v for k, v in start_env.items()}):
        cluster = stack.enter_context(
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: clusters side by side
            )
        )
    client = stack.enter_context(Client(cluster, set_as_default=False))
    client.run(_warm)
    return client


def _fit_cluster(seqs, labels, client):
    """GeneticAnchors on the cluster of ``client`` (timed once it is up)."""
    import dask
    from dask.distributed import get_task_stream

    from vgestimators.genetics import GeneticAnchors

    base = client.run(_reset_peak)
    faults = client.run(_minor_faults)
    with dask.config.set(scheduler=client.get), get_task_stream(client) as stream:
        start = time.perf_counter()
        anchors = GeneticAnchors().fit(seqs, labels).anchors_.to_numpy()
        seconds = time.perf_counter() - start
    peaks = client.run(_peak_mb)
    after = client.run(_minor_faults)
    return {
        "seconds": seconds,
        "tasks": _task_seconds_cluster(stream),
        "first_tasks": _first_tasks(stream),
        "transfers": [t for _, _, t in _embed_steps(stream, "transfer")],
        "anchors": anchors,
        "peak_mb": max(peaks.values()),
        "growth_mb": max(peaks[w] - base[w] for w in peaks),
        "minor_faults": sum(after[w] - faults[w] for w in after),
    }


def _minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def bench_sgt(args):
    """One process with 1 thread, with all cores, and 2 workers x 1 thread.

    With ``--repeats R`` the runs take turns (all of them once, R times):
    this machine's speed drifts by up to 30% within minutes, and runs that
    take turns share the drift (each round starts one run later). Times
    are medians over the rounds, ratios the median of each round's ratio;
    "per task" is the median over every round's tasks. Each cluster is started
    once, before the first round, and kept (idle during the other runs):
    the first round is the one of fresh processes (their memory not yet
    grown), the others are not.
    """
    from vgestimators.genetics import _dask  # noqa: F401 - imports before the base

    n, cores, w = args.sequences, os.cpu_count(), args.workers
    seqs, labels = _collections(n, args.length, args.layout)
    _warm()
    held = {
        "frame": "two columns of one dask DataFrame",
        "bags": "two separate dask Bags",
    }[args.layout]
    print(
        f"sgt  GeneticAnchors of {n:,} sequences of {args.length} bases, "
        f"{N_SPECIES} species, partitions of {PARTITION:,} ({held}), {cores} cores"
        + (f"; {args.repeats} rounds, medians" if args.repeats > 1 else "")
    )
    runs = [
        ("one", "one process, 1 thread (synchronous)", "synchronous", 1),
        (
            "blas",
            f"one process, all cores (synchronous, BLAS {cores} threads)",
            "synchronous",
            cores,
        ),
        (
            "threads",
            f"one process, all cores (threads scheduler, {cores} threads)",
            "threads",
            cores,
        ),
        ("cluster", f"{w} workers x 1 thread", {}, w),
    ]
    if args.control:
        # glibc's starting threshold chosen explicitly in the environment the
        # workers start with: the package then leaves the allocator as
        # distributed set it (the code before the fix)
        runs.append(
            (
                "control",
                f"{w} workers x 1 thread (malloc fix off)",
                {"MALLOC_MMAP_THRESHOLD_": "131072"},
                w,
            )
        )
    found = {key: [] for key, *_ in runs}
    reference = None
    with contextlib.ExitStack() as stack:
        # each cluster is started once and kept, as a user keeps a Client
        clients = {
            key: _start_cluster(stack, size, how)
            for key, _label, how, size in runs
            if isinstance(how, dict)
        }
        for r in range(args.repeats):
            # each round starts one run later: none always runs first
            for key, _label, how, size in runs[r % len(runs) :] + runs[: r % len(runs)]:
                if key in clients:
                    result = _fit_cluster(seqs, labels, clients[key])
                else:
                    result = _fit_local(seqs, labels, how, size)
                if reference is None:
                    reference = result["anchors"]
                diff = np.abs(result["anchors"] - reference).max()
                result["max_diff"] = float(diff)
                found[key].append(result)

    def times(key):
        return np.array([r["seconds"] for r in found[key]])

    def task(key):
        return float(np.median([t for r in found[key] for t in r["tasks"]]))

    def ratio(numerator, denominator):
        """Median over the rounds of one round's ratio (runs of a round
        share the machine's drift), with the range when there are rounds."""
        each = numerator / denominator
        text = f"{np.median(each):.2f}x"
        if len(each) > 1:
            text += f" ({each.min():.2f}-{each.max():.2f})"
        return text

    one = times("one")
    all_cores = np.minimum(times("blas"), times("threads"))
    spread = args.repeats > 1
    print(
        f"sgt  {'run':58s} {'time':>8s} {'seq/s':>8s} {'vs 1 thread':>17s} "
        f"{'per task':>9s}" + ("  rounds (s)" if spread else "")
    )
    for key, label, *_ in runs:
        median = float(np.median(times(key)))
        rounds = " ".join(f"{t:.1f}" for t in times(key))
        print(
            f"sgt  {label:58s} {median:7.1f}s {n / median:8.0f} "
            f"{ratio(one, times(key)):>17s} {task(key):8.2f}s"
            + (f"  {rounds}" if spread else "")
        )
    task_ratio = task("cluster") / task("one")
    max_diff = max(r["max_diff"] for rs in found.values() for r in rs)
    print(
        f"sgt  {w} workers: {ratio(one, times('cluster'))} one process with "
        f"1 thread, {ratio(all_cores, times('cluster'))} one process with all "
        f"cores (the faster of the two, each round); median task "
        f"{task_ratio:.2f}x the main process' (1 thread); largest anchor "
        f"difference {max_diff:.1e}"
    )
    first = found["cluster"][0]
    later = [t for r in found["cluster"][1:] for t in r["first_tasks"]]
    transfers = [t for r in found["cluster"] for t in r["transfers"]]
    print(
        f"sgt  {w} workers: first task of each fresh worker "
        + ", ".join(f"{t:.2f}" for t in first["first_tasks"])
        + " s"
        + (
            f" (first task of a later round: median {np.median(later):.2f} s)"
            if later
            else ""
        )
        + f"; {len(transfers)} partitions moved between workers"
        + (f", {sum(transfers):.1f} s in all" if transfers else "")
    )
    one_run, fixed = found["one"][0], found["cluster"][0]
    print(
        f"sgt  peak memory{' (first round)' if spread else ''}: main process "
        f"{one_run['peak_mb']:.0f} MiB (+{one_run['growth_mb']:.0f} during the "
        f"run), per worker {fixed['peak_mb']:.0f} MiB (+{fixed['growth_mb']:.0f}); "
        f"minor page faults: main process {one_run['minor_faults']:,}, workers "
        f"{fixed['minor_faults']:,}"
        + (
            f", workers with the fix off {found['control'][0]['minor_faults']:,}"
            if "control" in found
            else ""
        )
    )
    return {
        "n": n,
        "one_thread_s": float(np.median(one)),
        "all_cores_s": float(np.median(all_cores)),
        "cluster_s": float(np.median(times("cluster"))),
        "task_ratio": task_ratio,
        "worker_peak_mb": fixed["peak_mb"],
        "max_diff": max_diff,
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
        "--repeats",
        type=int,
        default=1,
        help="rounds of the sgt runs, taking turns (medians reported)",
    )
    parser.add_argument(
        "--layout",
        choices=["frame", "bags"],
        default="frame",
        help="sequences and species as two columns of one dask DataFrame "
        "(default), or as two separate dask Bags (one of each pair of "
        "partitions travels between workers)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="also run the workers with the package's malloc setting off "
        "(MALLOC_MMAP_THRESHOLD_ chosen explicitly: the code before the fix)",
    )
    parser.add_argument("--images", type=int, default=14_800)
    parser.add_argument("--embeddings", type=int, default=1_000_000)
    parser.add_argument("--child-images", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
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
