"""Sequences in dask collections: SGT by partition, anchors by reduction.

Only imported when a dask collection is passed, so dask stays optional
(``pip install "vgestimators[dask]"``). Each partition is embedded where it
lives (a worker of a ``dask.distributed`` cluster, or a thread of the local
scheduler) and only small results travel: embeddings as a dask array, or,
for anchors, per-species sums and counts.
"""

import numpy as np
import pandas as pd

from ..utils._malloc import restore_thresholds


def is_dask_collection(value):
    """True for dask DataFrames, Series, Bags and Arrays (without importing dask)."""
    return hasattr(value, "__dask_graph__") and hasattr(value, "to_delayed")


def one_column(collection, name):
    """A dask Series, Bag or Array of values (a one-column DataFrame's column).

    Builds nothing and computes nothing: the check of a fit that reads no
    partition.
    """
    import dask.dataframe as dd

    if isinstance(collection, dd.DataFrame):
        if len(collection.columns) != 1:
            raise ValueError(
                f"{name} must be a dask Series, a one-column dask DataFrame or a "
                f"dask Bag; got a DataFrame with columns {list(collection.columns)}."
            )
        collection = collection[collection.columns[0]]
    return collection


def _partitions(collection, name):
    """The delayed partitions of a dask Series, one-column DataFrame or Bag."""
    parts = one_column(collection, name).to_delayed()
    if hasattr(parts, "ravel"):  # a dask Array gives an array of blocks
        parts = list(parts.ravel())
    return list(parts)


def _as_list(part):
    if len(part) == 0:  # an empty file or partition
        return []
    if isinstance(part, pd.Series | pd.DataFrame | np.ndarray):
        return np.asarray(part, dtype=object).reshape(len(part), -1)[:, 0].tolist()
    return list(part)


def transform(embedder, sequences, n_features):
    """``embedder.transform`` of every partition, as a lazy dask array.

    Parameters
    ----------
    embedder : fitted transformer
        Applied to each partition as a list of sequences.
    sequences : dask Series, one-column DataFrame, Bag or Array
    n_features : int
        Width of the embeddings.

    Returns
    -------
    dask.array.Array of shape (n_sequences, n_features)
        Chunked by partition (chunk lengths unknown until computed).
    """
    import dask
    import dask.array as da

    blocks = [
        da.from_delayed(
            dask.delayed(_embed)(embedder, part, n_features, k),
            shape=(np.nan, n_features),
            dtype=np.float64,
        )
        for k, part in enumerate(_partitions(sequences, "sequences"))
    ]
    return da.concatenate(blocks, axis=0, allow_unknown_chunksizes=True)


def _embed(embedder, part, n_features, index):
    restore_thresholds()  # dask workers turn glibc's adaptation off
    rows = _as_list(part)
    if not rows:
        return np.zeros((0, n_features))
    return _transform(embedder, rows, index)


def _transform(embedder, rows, index):
    """``embedder.transform(rows)``; an input error names the partition."""
    try:
        return np.asarray(embedder.transform(rows), dtype=np.float64)
    except ValueError as error:
        raise ValueError(f"partition {index}: {error}") from error


def class_sums(embedder, sequences, labels):
    """Per-class sums and counts of the embeddings, reduced across partitions.

    Returns
    -------
    classes : ndarray
        Sorted class labels.
    sums : ndarray of shape (n_classes, n_features)
    counts : ndarray of int of shape (n_classes,)
    """
    import dask

    if labels is None:
        raise ValueError("labels are required: one class label per sequence.")
    if not is_dask_collection(labels):
        raise TypeError(
            "with dask sequences, labels must be a dask collection partitioned "
            "like them (e.g. sequences=ddf['sequence'], labels=ddf['species'])."
        )
    if _same_table(sequences, labels):
        # one task per partition makes both: two columns of one table are then
        # read once (dask pushes each column selection into the reader, so
        # apart they are read twice, maybe on two workers), and the partition
        # is embedded where it was read
        seqs, labs = one_column(sequences, "sequences"), one_column(labels, "labels")
        pieces = [
            dask.delayed(_pair_sums)(embedder, pair, k)
            for k, pair in enumerate(_paired(seqs, labs))
        ]
    else:
        seq_parts = _partitions(sequences, "sequences")
        label_parts = _partitions(labels, "labels")
        _check_partitions(len(seq_parts), len(label_parts))
        pieces = [
            dask.delayed(_partition_sums)(embedder, s, y, k)
            for k, (s, y) in enumerate(zip(seq_parts, label_parts, strict=True))
        ]
    return dask.delayed(_combine)(pieces).compute()


def _check_partitions(n_sequences, n_labels):
    if n_sequences != n_labels:
        raise ValueError(
            f"sequences have {n_sequences} partitions and labels "
            f"{n_labels}; take both from one dask collection."
        )


def _same_table(sequences, labels):
    """True for columns of one dask DataFrame (``ddf["a"]``, ``ddf["b"]``).

    Only those are paired in one task: columns of two tables may be split
    into different partitions once dask reads a single column (it merges
    small files), and pairing their tasks would fail. True only when both
    are plain column selections of the same frame (a filtered or
    transformed column may have other rows), False when it cannot tell.
    """
    import dask.dataframe as dd

    if not all(isinstance(c, dd.Series | dd.DataFrame) for c in (sequences, labels)):
        return False
    try:
        exprs = [c.expr for c in (sequences, labels)]
        if any(type(e).__name__ != "Projection" for e in exprs):
            return False
        return exprs[0].frame._name == exprs[1].frame._name
    except AttributeError:
        return False


def _paired(sequences, labels):
    """Delayed two-column partitions (sequence, label), paired by position."""
    import dask.dataframe as dd

    meta = pd.DataFrame(
        {"sequence": pd.Series(dtype=object), "label": pd.Series(dtype=object)}
    )
    pairs = dd.map_partitions(
        _pair,
        sequences,
        labels,
        align_dataframes=False,
        meta=meta,
        enforce_metadata=False,
    )
    return pairs.to_delayed()


def _pair(sequences, labels):
    return pd.DataFrame(
        {
            "sequence": np.asarray(sequences, dtype=object),
            "label": np.asarray(labels, dtype=object),
        }
    )


def _pair_sums(embedder, pair, index):
    return _partition_sums(embedder, pair["sequence"], pair["label"], index)


def _partition_sums(embedder, sequences, labels, index):
    restore_thresholds()  # dask workers turn glibc's adaptation off
    rows, labels = _as_list(sequences), _as_list(labels)
    if len(rows) != len(labels):
        raise ValueError(
            f"partition {index}: {len(rows)} sequences but {len(labels)} labels; "
            "take both from one dask collection."
        )
    if not rows:
        return {}
    missing = [i for i, v in enumerate(labels) if v is None or v != v]
    if missing:
        raise ValueError(
            f"partition {index}: sequences at rows {missing[:10]} of the "
            "partition have no label."
        )
    E = _transform(embedder, rows, index)
    classes, inverse = np.unique(np.asarray(labels), return_inverse=True)
    sums = np.zeros((len(classes), E.shape[1]))
    np.add.at(sums, inverse, E)
    counts = np.bincount(inverse, minlength=len(classes))
    return {c: (sums[i], int(counts[i])) for i, c in enumerate(classes.tolist())}


def _combine(pieces):
    total = {}
    for piece in pieces:
        for label, (s, n) in piece.items():
            if label in total:
                total[label] = (total[label][0] + s, total[label][1] + n)
            else:
                total[label] = (s, n)
    if not total:
        raise ValueError("the dask collections hold no sequence.")
    classes = np.array(sorted(total))
    sums = np.vstack([total[c][0] for c in classes.tolist()])
    counts = np.array([total[c][1] for c in classes.tolist()])
    return classes, sums, counts


def symbols(sequences, case_sensitive):
    """The sorted union of the symbols of every partition (a reduction)."""
    import dask

    from ._input import symbols_in

    found = dask.compute(
        *[
            dask.delayed(_symbols_of)(part, case_sensitive)
            for part in _partitions(sequences, "sequences")
        ]
    )
    rows = [list(s) for s in found if s]
    if not rows:
        raise ValueError("the dask collection holds no sequence.")
    return symbols_in(rows, case_sensitive)


def _symbols_of(part, case_sensitive):
    from ._input import as_rows, symbols_in

    rows = _as_list(part)
    return symbols_in(as_rows(rows), case_sensitive) if rows else []


def first_rows(sequences, n=1000):
    """Up to ``n`` sequences of the first non-empty partitions (to fit on)."""
    rows = []
    for part in _partitions(sequences, "sequences"):
        rows += _as_list(part.compute())
        if len(rows) >= n:
            break
    if not rows:
        raise ValueError("the dask collection holds no sequence.")
    return rows[:n]
