"""Benchmark: SGTTransformer against the reference ``sgt`` package.

Measures, in one run:

1. Both implementations on the real PFR2 18S sequences (804 by default, about
   1.1 kbp each; the reference takes a minute or two): total time, the
   speed-up, and the largest relative difference of the outputs.
2. The same for overlapping dinucleotides (``kmer=2``, 256 features) on a
   subset (``--n-kmer``), against the reference run on dinucleotide tokens.
3. Time and peak memory (tracemalloc) of ``SGTTransformer`` on one random
   sequence of 1 kbp, 10 kbp, 100 kbp and 1 Mbp: linear time, bounded memory.

Run from the repository root::

    python benchmarks/bench_sgt.py            # everything (~2 minutes)
    python benchmarks/bench_sgt.py --n 100    # reference on 100 sequences only
"""

import argparse
import os
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from vgestimators.datasets import load_pfr2
from vgestimators.genetics import SGTTransformer

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "pfr2_foram_18s_32class.csv"
)


def best_time(func, repeat):
    """Smallest wall time of ``repeat`` calls (seconds) and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def reference_sgt(token_lists, alphabet, kappa):
    """The ``sgt`` package, one sequence at a time (its documented use)."""
    from sgt import SGT
    from tqdm.auto import tqdm

    out = []
    for tokens in tqdm(token_lists, desc="reference sgt", unit="seq", leave=False):
        model = SGT(alphabets=list(alphabet), kappa=kappa, lengthsensitive=False)
        out.append(model.fit(np.array(tokens)).to_numpy())
    return np.vstack(out)


def max_relative_difference(ours, ref):
    scale = np.where(ref != 0, np.abs(ref), 1.0)
    return float(np.max(np.abs(ours - ref) / scale))


def compare(name, seqs, token_lists, transformer, alphabet, kappa, repeat):
    print(f"\n== {name}: {len(seqs)} sequences, {sum(map(len, seqs)):,} bases ==")
    start = time.perf_counter()
    ref = reference_sgt(token_lists, alphabet, kappa)
    t_ref = time.perf_counter() - start
    t_ours, ours = best_time(lambda: transformer.fit_transform(seqs), repeat)
    print(
        f"reference sgt 2.0.3 : {t_ref:10.3f} s  ({t_ref / len(seqs) * 1e3:.1f} ms/seq)"
    )
    print(f"SGTTransformer      : {t_ours:10.4f} s  (best of {repeat})")
    print(f"speed-up            : {t_ref / t_ours:10.0f} x")
    print(f"max relative diff.  : {max_relative_difference(ours, ref):10.2e}")
    return t_ref / t_ours


def scaling(lengths, kappa, kmer, seed=0):
    print(
        f"\n== Scaling with length (one random sequence, kappa={kappa}, kmer={kmer}) =="
    )
    print(f"{'length':>10} {'time (s)':>10} {'us/base':>9} {'peak MB':>9}")
    rng = np.random.default_rng(seed)
    sgt = SGTTransformer(kappa=kappa, kmer=kmer).fit(["ACGT"])
    for n in lengths:
        seq = "".join(rng.choice(list("ACGT"), size=n))
        repeat = 3 if n <= 100_000 else 1
        sgt.transform([seq])  # warm-up
        t, _ = best_time(lambda s=seq: sgt.transform([s]), repeat)
        tracemalloc.start()
        sgt.transform([seq])
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"{n:>10,} {t:>10.4f} {t / n * 1e6:>9.3f} {peak / 2**20:>9.1f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="PFR2 CSV")
    parser.add_argument(
        "--n",
        type=int,
        default=None,
        help="sequences for the reference (default all; 0: scaling table only)",
    )
    parser.add_argument(
        "--n-kmer", type=int, default=40, help="sequences for the kmer=2 comparison"
    )
    parser.add_argument("--kappa", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--lengths",
        type=lambda s: [int(float(x)) for x in s.split(",")],
        default=[1_000, 10_000, 100_000, 1_000_000],
        help="comma-separated lengths for the scaling table",
    )
    args = parser.parse_args(argv)

    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print(
        f"Machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f}; python "
        f"{sys.version.split()[0]}, numpy {np.__version__}"
    )
    data = load_pfr2(args.data)
    seqs = data["sequence"].str.upper().tolist()
    if args.n is not None:
        seqs = seqs[: args.n]
    kappa = args.kappa
    if seqs:
        compare(
            f"PFR2 18S, kappa={kappa}, ACGT",
            seqs,
            [list(s) for s in seqs],
            SGTTransformer(kappa=kappa),
            "ACGT",
            kappa,
            args.repeat,
        )
    if args.n_kmer and seqs:
        sub = seqs[: args.n_kmer]
        sgt2 = SGTTransformer(kappa=kappa, kmer=2).fit(["A"])
        compare(
            f"PFR2 18S, kappa={kappa}, dinucleotides (kmer=2)",
            sub,
            [[s[i : i + 2] for i in range(len(s) - 1)] for s in sub],
            SGTTransformer(kappa=kappa, kmer=2),
            sgt2.symbols_,
            kappa,
            args.repeat,
        )
    t_all, _ = best_time(
        lambda: SGTTransformer(kappa=kappa).fit_transform(data["sequence"]),
        args.repeat,
    )
    print(f"\nSGTTransformer on all {len(data)} sequences: {t_all:.4f} s")
    scaling(args.lengths, kappa, kmer=1)
    scaling(args.lengths, kappa, kmer=2)


if __name__ == "__main__":
    main()
