"""Fit and predict time of VisualGeneticAligner beside scikit-learn's k-NN.

The default rule (``classifier="prototype"``, DNA-informed class prototypes)
is timed beside KNeighborsClassifier(k=5) and NearestCentroid, then the
paper's projection-based rules.

Data: ``--n-samples`` training and as many test embeddings of width
``--n-features`` (default 30,000 x 128, the size of the paper's visual
embeddings), 32 species whose class means are a fixed linear map of their
anchors (``--anchor-dim`` wide; 256 is the default GeneticAnchors width:
dinucleotide SGT), long-tailed counts. Every figure is a wall-clock time
measured in this run; the ratios are against KNeighborsClassifier(k=5) fitted
and used on the same arrays. Accuracy is printed too, as a sanity check (the
data are synthetic: it is not evidence of anything).

Threads: ``--threads`` (default 1) caps torch's and the BLAS/OpenMP thread
pools (threadpoolctl) for both estimators alike. On a shared, oversubscribed
machine torch's multi-threaded small matrix products can run tens of times
slower than single-threaded ones, which would measure the machine, not the
estimator; pass ``--threads 0`` to keep the libraries' defaults.

Run::

    python benchmarks/bench_aligner.py [--n-samples 30000] [--threads 1] [--device cpu]
"""

import argparse
import os
import platform
import time

import numpy as np
import torch
from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
from threadpoolctl import threadpool_limits

from vgestimators.alignment import VisualGeneticAligner


def make_data(n_samples, n_features, n_classes, anchor_dim, seed=0):
    rng = np.random.RandomState(seed)
    anchors = rng.normal(size=(n_classes, anchor_dim))
    mix = rng.normal(size=(anchor_dim, n_features)) / np.sqrt(anchor_dim)
    # long tail: class c has weight 100 ** (-c / (n_classes - 1))
    weights = 100.0 ** (-np.arange(n_classes) / (n_classes - 1))
    weights /= weights.sum()
    y_train = rng.choice(n_classes, size=n_samples, p=weights)
    y_test = rng.choice(n_classes, size=n_samples)
    means = anchors @ mix
    X_train = means[y_train] + rng.normal(size=(n_samples, n_features))
    X_test = means[y_test] + rng.normal(size=(n_samples, n_features))
    names = np.array([f"species_{c:02d}" for c in range(n_classes)])
    anchor_dict = {names[c]: anchors[c] for c in range(n_classes)}
    return (
        X_train.astype(np.float32),
        names[y_train],
        X_test.astype(np.float32),
        names[y_test],
        anchor_dict,
    )


def timed(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=30_000)
    parser.add_argument("--n-features", type=int, default=128)
    parser.add_argument("--n-classes", type=int, default=32)
    parser.add_argument("--anchor-dim", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=1, help="best of N timings")
    parser.add_argument(
        "--threads", type=int, default=1, help="thread cap (0: library defaults)"
    )
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
        with threadpool_limits(limits=args.threads):
            run(args)
    else:
        run(args)


def run(args):

    X_train, y_train, X_test, y_test, anchors = make_data(
        args.n_samples, args.n_features, args.n_classes, args.anchor_dim
    )
    print(
        f"{args.n_samples} train + {args.n_samples} test embeddings x "
        f"{args.n_features}, {args.n_classes} anchors x {args.anchor_dim}, "
        f"device={args.device}"
    )
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs visible, torch "
        f"{torch.__version__} using {torch.get_num_threads()} threads"
    )

    # warm-up: first-call costs of torch and scikit-learn stay out of the figures
    VisualGeneticAligner(anchors=anchors, max_epochs=2).fit(
        X_train[:500], y_train[:500]
    )

    rows = []
    knn = KNeighborsClassifier(n_neighbors=5)
    fit_s, _ = timed(lambda: knn.fit(X_train, y_train), args.repeat)
    pred_s, pred = timed(lambda: knn.predict(X_test), args.repeat)
    rows.append(
        ("KNeighborsClassifier(k=5)", fit_s, pred_s, np.mean(pred == y_test), "")
    )
    base_fit, base_pred = fit_s, pred_s
    ncm = NearestCentroid()
    fit_s, _ = timed(lambda: ncm.fit(X_train, y_train), args.repeat)
    pred_s, pred = timed(lambda: ncm.predict(X_test), args.repeat)
    rows.append(("NearestCentroid", fit_s, pred_s, np.mean(pred == y_test), ""))

    for classifier in ("prototype", "knn", "anchor", "hybrid"):
        clf = VisualGeneticAligner(
            anchors=anchors, classifier=classifier, device=args.device, random_state=0
        )
        fit_s, _ = timed(lambda clf=clf: clf.fit(X_train, y_train), args.repeat)
        pred_s, pred = timed(lambda clf=clf: clf.predict(X_test), args.repeat)
        rows.append(
            (
                f"VisualGeneticAligner({classifier})",
                fit_s,
                pred_s,
                np.mean(pred == y_test),
                f"{clf.n_epochs_} epochs" if classifier != "prototype" else "",
            )
        )

    print()
    print(
        f"{'estimator':32s} {'fit s':>8s} {'x kNN':>8s} {'predict s':>10s} "
        f"{'x kNN':>7s} {'accuracy':>9s}"
    )
    for name, fit_s, pred_s, acc, note in rows:
        print(
            f"{name:32s} {fit_s:8.2f} {fit_s / base_fit:8.1f} {pred_s:10.2f} "
            f"{pred_s / base_pred:7.2f} {acc:9.3f}  {note}"
        )


if __name__ == "__main__":
    main()
