"""Largest score difference between two benchmark runs (their scores.csv).

A refactor of the benchmark must reproduce its table: run the benchmark
before and after on the same machine and seeds, then::

    python benchmarks/compare_scores.py before/scores.csv after/scores.csv

prints every score column that differs and the largest difference (timing
columns are not scores and are left out). Exits with status 1 when a score
differs or a (method, split) row is missing from one run.
"""

import argparse
import sys

import numpy as np
import pandas as pd

NOT_SCORES = {"label", "fit_time", "predict_time"}


def compare(before, after):
    """Differences per column and the largest one; (method, split) rows paired."""
    a, b = pd.read_csv(before), pd.read_csv(after)
    keys = ["method", "split"]
    merged = a.merge(b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    missing = [
        (str(method), int(split))
        for method, split in merged.loc[merged["_merge"] != "both", keys].itertuples(
            index=False
        )
    ]
    both = merged[merged["_merge"] == "both"]
    differences = {
        column: (np.inf, 0)
        for column in set(a.columns) ^ set(b.columns)
        if column not in NOT_SCORES
    }
    for column in a.columns:
        if column in NOT_SCORES or column in keys or column + "_b" not in both:
            continue
        x, y = both[column + "_a"], both[column + "_b"]
        if x.dtype.kind in "fi" and y.dtype.kind in "fi":
            nan_differs = int((x.isna() != y.isna()).sum())
            gap = np.abs(x - y).to_numpy()
            largest = float(np.nanmax(gap)) if np.isfinite(gap).any() else 0.0
            if largest > 0 or nan_differs:
                differences[column] = (largest, nan_differs)
        elif (~((x.astype(str) == y.astype(str)) | (x.isna() & y.isna()))).any():
            # text columns: equal, or empty in both runs
            differences[column] = (np.inf, 0)
    return len(both), missing, differences


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    args = parser.parse_args(argv)
    n, missing, differences = compare(args.before, args.after)
    print(f"{n} (method, split) rows compared")
    for row in missing:
        print(f"only in one run: {row}")
    for column, (largest, nan_differs) in differences.items():
        print(
            f"{column}: largest difference {largest}, NaN in one run only: {nan_differs}"
        )
    largest = max((d for d, _ in differences.values()), default=0.0)
    print(f"largest score difference: {largest}")
    return 1 if differences or missing else 0


if __name__ == "__main__":
    sys.exit(main())
