"""Validation and integer coding of sequence input (private)."""

import numbers

import numpy as np
import pandas as pd

_TOKEN_TYPES = (str, numbers.Integral)


def _is_missing(value):
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    return False


def as_rows(X, *, name="X"):
    """Sequences from the accepted input forms, each checked.

    Accepted: a 1-D array-like of str (list, tuple, ndarray, pandas Series),
    a 2-D array or DataFrame with exactly one column, or a list of token
    sequences (lists, tuples or 1-D arrays of str or int tokens).

    Returns
    -------
    list
        One entry per row: a ``str`` or a ``list`` of tokens.

    Raises
    ------
    ValueError
        Naming the row and the reason: missing value (None/NaN), an item that
        is neither a string nor a sequence of tokens, an empty input (no
        rows), or a 2-D input with more than one column. An empty sequence
        is valid (it embeds to a zero row).
    """
    if isinstance(X, str | bytes):
        raise ValueError(
            f"{name} must be a collection of sequences, got a single "
            f"{type(X).__name__}; wrap it in a list: [{name}]."
        )
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"{name} must have exactly one column of sequences, got a "
                f"DataFrame with {X.shape[1]} columns {list(X.columns)}; select "
                "the sequence column (e.g. in a ColumnTransformer)."
            )
        items = X.iloc[:, 0].tolist()
    elif isinstance(X, pd.Series):
        items = X.tolist()
    elif isinstance(X, np.ndarray):
        if X.ndim == 2:
            if X.shape[1] != 1:
                raise ValueError(
                    f"{name} must have exactly one column of sequences, got an "
                    f"array of shape {X.shape}."
                )
            items = X[:, 0].tolist()
        elif X.ndim == 1:
            items = list(X)
        else:
            raise ValueError(
                f"{name} must be 1-D (sequences) or 2-D with one column, got an "
                f"array of shape {X.shape}."
            )
    else:
        try:
            items = list(X)
        except TypeError:
            raise ValueError(
                f"{name} must be a collection of sequences, got {type(X).__name__}."
            ) from None
    if len(items) == 0:
        raise ValueError(f"{name} contains no sequences (empty input).")
    rows = []
    for i, item in enumerate(items):
        if isinstance(item, np.str_):
            item = str(item)
        if _is_missing(item):
            raise ValueError(f"{name} row {i}: missing sequence ({item!r}).")
        if isinstance(item, str):
            # an empty string is a sequence with no symbol: a zero row, like
            # any sequence with fewer than two known symbols
            rows.append(item)
            continue
        if isinstance(item, list | tuple | np.ndarray | pd.Series):
            tokens = item.tolist() if hasattr(item, "tolist") else list(item)
            for j, tok in enumerate(tokens):
                if not isinstance(tok, _TOKEN_TYPES) or isinstance(tok, bool):
                    raise ValueError(
                        f"{name} row {i}, token {j}: tokens must be str or int, "
                        f"got {type(tok).__name__} ({tok!r})."
                    )
            rows.append(tokens)
            continue
        raise ValueError(
            f"{name} row {i}: expected a str or a sequence of tokens, got "
            f"{type(item).__name__} ({item!r})."
        )
    return rows


def normalise(symbol, case_sensitive):
    """A symbol as compared: upper-cased strings unless case-sensitive."""
    if isinstance(symbol, np.str_):
        symbol = str(symbol)
    elif isinstance(symbol, np.integer):
        symbol = int(symbol)
    if not case_sensitive and isinstance(symbol, str):
        return symbol.upper()
    return symbol


def symbols_in(rows, case_sensitive):
    """Sorted distinct (normalised) symbols of ``rows`` (the learned alphabet)."""
    found = set()
    strings = [r for r in rows if isinstance(r, str)]
    if strings:
        text = "".join(strings)
        found.update(normalise(c, case_sensitive) for c in set(text))
    for r in rows:
        if not isinstance(r, str):
            found.update(normalise(t, case_sensitive) for t in r)
    try:
        return sorted(found)
    except TypeError:  # str and int tokens mixed: order by type, then value
        return sorted(found, key=lambda s: (type(s).__name__, s))


def encode(rows, symbols, case_sensitive):
    """Integer codes of ``rows`` over ``symbols`` (``-1``: not in ``symbols``).

    Returns
    -------
    codes : ndarray of int32 of shape (total length,)
    lengths : ndarray of int64 of shape (n_rows,)
    """
    index = {s: i for i, s in enumerate(symbols)}
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
    if all(isinstance(r, str) for r in rows):
        return _encode_text("".join(rows), index, case_sensitive), lengths
    parts = []
    for r in rows:
        if isinstance(r, str):
            parts.append(_encode_text(r, index, case_sensitive))
        else:
            parts.append(
                np.fromiter(
                    (index.get(normalise(t, case_sensitive), -1) for t in r),
                    dtype=np.int32,
                    count=len(r),
                )
            )
    return np.concatenate(parts), lengths


def _encode_text(text, index, case_sensitive):
    """Codes of the characters of ``text`` through a look-up table."""
    if text.isascii():
        chars = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        table = np.full(128, -1, dtype=np.int32)
        for b in range(128):
            table[b] = index.get(normalise(chr(b), case_sensitive), -1)
        return table[chars]
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    distinct, inverse = np.unique(points, return_inverse=True)
    table = np.array(
        [index.get(normalise(chr(p), case_sensitive), -1) for p in distinct],
        dtype=np.int32,
    )
    return table[inverse.ravel()]
