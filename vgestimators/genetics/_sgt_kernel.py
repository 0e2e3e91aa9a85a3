"""Fast exact Sequence Graph Transform on integer-coded sequences (private).

The SGT of Ranjan et al. (arXiv:1608.03533), as implemented by the ``sgt``
package (version 2.0.3), is for every ordered pair of symbols ``(u, v)``::

    W0[u, v] = #{(i, j) : i < j, s_i = u, s_j = v}          (divided by the
                                                              number of known
                                                              symbols when
                                                              length-sensitive)
    Wk[u, v] = sum over those pairs of exp(-kappa * (j - i))
    sgt[u, v] = (Wk[u, v] / W0[u, v]) ** (1 / kappa)        (0 where W0 == 0)

The reference loops over all position pairs (quadratic). With the exponential
kernel, ``Wk = sum_j R_j (x) e_{s_j}`` where ``R_j = sum_{i<j} q^(j-i) e_{s_i}``
and ``q = exp(-kappa)`` obeys ``R_{j+1} = q (R_j + e_{s_j})``: a running sum,
linear in the length.

Layout of the computation (all numpy, no Python loop over sequences):

* Sequences are sorted by length and grouped into batches whose padded size
  stays below a memory budget; a sequence longer than the budget is cut into
  consecutive chunks that pass their running sums on to the next chunk.
* Each batch row is cut into segments of ``seg`` positions. One matrix
  product of a fixed ``(2 seg + 3) x seg`` weight matrix with the one-hot
  codes gives, for every position, the counts and kernel sums of the earlier
  positions of its segment, and each segment's totals. The contribution of
  earlier segments is added in closed form: ``R_in(s+1) = q^seg R_in(s) +
  end(s)`` (a first-order linear filter along the segments,
  :func:`scipy.signal.lfilter`) times ``h(s) = sum_p q^p e_{s_p}``. The sums
  over positions ``sum_t before[t] (x) e_{s_t}`` are matrix products for
  small alphabets and sorted segment sums (``O(positions * A)``) for large.
* Nothing is ever rescaled by ``exp(+kappa * p)``, so no overflow for any
  ``kappa``; terms only underflow, as in the reference.
* For large ``kappa`` (fewer than ``_BAND_MAX`` distances with a non-zero
  ``exp(-kappa * k)`` in double precision) ``Wk`` is counted distance by
  distance instead, exactly as the reference sums it.
* Entries whose ``Wk`` falls below ``_TINY`` (all their pairs so far apart
  that the reference sums subnormal numbers or exact zeros) are recomputed
  by counting pairs per distance, so that the result equals the reference
  even where double precision underflows.
"""

import math

import numpy as np
from scipy.signal import lfilter

# Memory budget: elements of one (positions x symbols) float64 block.
_BLOCK_ELEMENTS = 1 << 20
# Distances counted one by one when exp(-kappa * k) > 0 for at most this many k.
_BAND_MAX = 24
# Below this, Wk is recomputed pair-distance by pair-distance.
_TINY = 1e-250
_LOG_TINY = -math.log(_TINY)
# Largest alphabet reduced by matrix products (larger: sorted segment sums).
_DENSE_MAX = 32
# Positions per segment (independent lanes of the vectorised computation).
_SEGMENT = 16


def max_nonzero_distance(kappa):
    """Largest distance ``k`` with ``np.exp(-kappa * k) > 0`` in float64."""
    k = int(745.2 / kappa) + 2
    while k > 0 and np.exp(-kappa * k) == 0.0:
        k -= 1
    return k


def sgt_codes(codes, lengths, n_symbols, kappa, length_sensitive):
    """SGT of integer-coded sequences.

    Parameters
    ----------
    codes : ndarray of int of shape (sum(lengths),)
        Concatenated sequences, symbols coded ``0 .. n_symbols - 1``; ``-1``
        marks a position that keeps its place but is not counted.
    lengths : ndarray of int of shape (n_sequences,)
        Length of each sequence in ``codes``.
    n_symbols : int
        Alphabet size ``A``.
    kappa : float
        Decay of the exponential kernel, > 0.
    length_sensitive : bool
        Divide the pair counts by the number of counted symbols (reference's
        ``lengthsensitive=True``).

    Returns
    -------
    ndarray of float64 of shape (n_sequences, A * A)
        Row-major ``sgt[u, v]`` (``u`` before ``v``), the reference's order.
    """
    codes = np.asarray(codes)
    lengths = np.asarray(lengths, dtype=np.int64)
    n = lengths.shape[0]
    A = int(n_symbols)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    W0 = np.zeros((n, A, A))
    Wk = np.zeros((n, A, A))
    known = np.zeros(n)
    k_max = max_nonzero_distance(kappa)
    band = k_max <= _BAND_MAX

    max_positions = max(64, _BLOCK_ELEMENTS // (2 * A))
    order = np.argsort(lengths, kind="stable")
    start = int(np.searchsorted(lengths[order], 2))  # shorter: no pair, zero row
    while start < n:
        first = order[start]
        if lengths[first] > max_positions:
            # A long sequence: chunks along its positions, carrying the sums.
            _long_sequence(
                codes[offsets[first] : offsets[first + 1]],
                A,
                kappa,
                max_positions,
                band,
                k_max,
                W0[first],
                Wk[first],
            )
            known[first] = np.count_nonzero(
                codes[offsets[first] : offsets[first + 1]] >= 0
            )
            start += 1
            continue
        stop = start + 1
        while stop < n and (stop - start + 1) * lengths[order[stop]] <= max_positions:
            stop += 1
        rows = order[start:stop]
        batch = _pad(codes, offsets, rows)
        w0, wk, _, _ = _batch(batch, A, kappa, band)
        if band:
            wk = _band_counts(batch, A, kappa, 1, k_max)
        W0[rows] = w0
        Wk[rows] = wk
        known[rows] = np.count_nonzero(batch >= 0, axis=1)
        start = stop

    if not band:
        _fix_tiny(codes, offsets, A, kappa, k_max, W0, Wk)

    if length_sensitive:
        with np.errstate(invalid="ignore", divide="ignore"):
            W0 = W0 / known[:, None, None]
        W0[~np.isfinite(W0)] = 0.0
    W0[W0 == 0] = 1e7  # as the reference: no pair -> 0 / 1e7 = 0
    out = np.power(np.divide(Wk, W0), 1.0 / kappa)
    return out.reshape(n, A * A)


def _segment_weights(seg, kappa, band):
    """Weights over the ``seg`` positions of a segment (see :func:`_batch`)."""
    d = np.arange(seg)[:, None] - np.arange(seg)[None, :]
    before = (d > 0).astype(np.float64)
    total = np.ones((1, seg))
    if band:
        return np.vstack([before, total])
    kernel = np.where(d > 0, np.exp(-kappa * np.maximum(d, 1)), 0.0)
    past_end = np.exp(-kappa * (seg - np.arange(seg)))[None, :]
    from_start = np.exp(-kappa * np.arange(seg))[None, :]
    return np.vstack([before, kernel, total, past_end, from_start])


def _pad(codes, offsets, rows):
    """Rows of the concatenated ``codes`` as a -1 padded 2-D array."""
    lens = offsets[rows + 1] - offsets[rows]
    width = int(lens.max()) if len(lens) else 0
    out = np.full((len(rows), width), -1, dtype=np.int32)
    for i, r in enumerate(rows):
        out[i, : lens[i]] = codes[offsets[r] : offsets[r + 1]]
    return out


def _segment_length(width):
    """Positions per segment (measured: 8 to 24 are equally fast)."""
    return int(min(_SEGMENT, max(width, 1)))


def _batch(batch, A, kappa, band, carry_r=None, carry_c=None, seg=None):
    """Pair counts and kernel sums of a padded batch of coded sequences.

    Returns ``(W0, Wk, end_r, end_c)``: arrays of shape (rows, A, A) and the
    running sums after the last position (rows, A), to carry into the next
    chunk of the same sequences. ``Wk`` is zero when ``band`` (computed
    elsewhere).
    """
    rows, width = batch.shape
    if seg is None:
        seg = _segment_length(width)
    n_seg = -(-width // seg)
    if n_seg * seg != width:
        batch = np.pad(batch, ((0, 0), (0, n_seg * seg - width)), constant_values=-1)
    # Index (row, p, s): position p of segment s, C-contiguous.
    lane_codes = batch.reshape(rows, n_seg, seg).transpose(0, 2, 1)
    lane_codes = np.where(lane_codes < 0, A, lane_codes)  # new array, C order
    # One-hot rows (code A, uncounted, gets the all-zero last row).
    X = np.take(np.eye(A + 1, A), lane_codes, axis=0)
    Xs = X.reshape(rows, seg, n_seg * A)
    Xl = X.reshape(rows, seg * n_seg, A)
    # All within-segment sums in one matrix product over the positions p:
    # rows [0, seg) of ``weights`` give the counts before p, the next seg
    # rows the kernel sums before p, then the segment's total count, its
    # kernel sum one past its end, and its kernel sum from its start.
    weights = _segment_weights(seg, kappa, band)
    sums = np.matmul(weights, Xs)  # (rows, n_rows(weights), n_seg * A)
    # sum over positions t of before[t] (x) onehot[t]: a matrix product for
    # small alphabets, a sorted segment sum (O(positions * A)) for large ones.
    if A > _DENSE_MAX:
        reduce = _SparseReduce(lane_codes.reshape(rows, seg * n_seg), A)
    else:
        reduce = _DenseReduce(Xl)
    before_c = sums[:, :seg].reshape(rows, seg * n_seg, A)
    local_c = reduce(before_c)
    seg_counts = sums[:, -1 if band else -3].reshape(rows, n_seg, A)
    # Counts before each segment: exclusive cumulative sum over segments.
    c_in = np.cumsum(seg_counts, axis=1) - seg_counts
    if carry_c is not None:
        c_in += carry_c[:, None, :]
    W0 = local_c + np.matmul(c_in.transpose(0, 2, 1), seg_counts)
    end_c = c_in[:, -1] + seg_counts[:, -1]
    if band:
        return W0, np.zeros_like(W0), None, end_c

    before_k = sums[:, seg : 2 * seg].reshape(rows, seg * n_seg, A)
    local_k = reduce(before_k)
    e = sums[:, -2].reshape(rows, n_seg, A)
    h = sums[:, -1].reshape(rows, n_seg, A)

    # Kernel sums entering each segment: r_in[s+1] = q^seg r_in[s] + end[s].
    a = math.exp(-kappa * seg)
    if carry_r is not None:
        # Transposed direct form state: r_in[0] = carry_r.
        r_in = lfilter([0.0, 1.0], [1.0, -a], e, axis=1, zi=carry_r[:, None, :])[0]
    else:
        r_in = lfilter([0.0, 1.0], [1.0, -a], e, axis=1)
    Wk = local_k + np.matmul(r_in.transpose(0, 2, 1), h)
    end_r = a * r_in[:, -1] + e[:, -1]
    return W0, Wk, end_r, end_c


class _DenseReduce:
    """``out[r, u, v] = sum_t before[r, t, u] * onehot[r, t, v]`` by matmul."""

    def __init__(self, onehot):
        self.onehot = onehot

    def __call__(self, before):
        return np.matmul(before.transpose(0, 2, 1), self.onehot)


class _SparseReduce:
    """The same sums, grouping positions by (row, symbol): O(positions * A)."""

    def __init__(self, codes, A):
        rows = codes.shape[0]
        keys = (np.arange(rows)[:, None] * A + codes).ravel()
        valid = np.flatnonzero(codes.ravel() < A)
        self.order = valid[np.argsort(keys[valid], kind="stable")]
        sorted_keys = keys[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
        self.groups = sorted_keys[self.starts]
        self.shape = (rows, A)

    def __call__(self, before):
        rows, A = self.shape
        out = np.zeros((rows * A, A))
        if len(self.order):
            flat = before.reshape(-1, A)[self.order]
            out[self.groups] = np.add.reduceat(flat, self.starts, axis=0)
        # out[r * A + v, u] -> [r, u, v]
        return out.reshape(rows, A, A).transpose(0, 2, 1)


def _long_sequence(seq, A, kappa, chunk, band, k_max, W0, Wk):
    """Accumulate one long sequence chunk by chunk into ``W0``, ``Wk``."""
    seg = _SEGMENT
    chunk = max(seg, chunk // seg * seg)  # whole segments: no padding inside
    carry_r = np.zeros((1, A))
    carry_c = np.zeros((1, A))
    for s in range(0, len(seq), chunk):
        part = seq[s : s + chunk].astype(np.int32)[None, :]
        w0, wk, end_r, end_c = _batch(part, A, kappa, band, carry_r, carry_c, seg)
        W0 += w0[0]
        carry_c = end_c
        if not band:
            Wk += wk[0]
            carry_r = end_r
    if band:
        Wk += _band_counts(np.asarray(seq)[None, :], A, kappa, 1, k_max)[0]


def _band_counts(batch, A, kappa, k_lo, k_hi):
    """``sum_k exp(-kappa k) * #pairs at distance k`` for k in [k_lo, k_hi]."""
    rows, width = batch.shape
    out = np.zeros(rows * A * A)
    base = (np.arange(rows, dtype=np.int64) * (A * A))[:, None]
    for k in range(max(k_lo, 1), min(k_hi, width - 1) + 1):
        a = batch[:, :-k]
        b = batch[:, k:]
        ok = (a >= 0) & (b >= 0)
        key = (base + a.astype(np.int64) * A + b)[ok]
        cnt = np.bincount(key, minlength=rows * A * A)
        out += np.exp(-kappa * k) * cnt
    return out.reshape(rows, A, A)


def _fix_tiny(codes, offsets, A, kappa, k_max, W0, Wk):
    """Recompute entries whose kernel sum underflows, as the reference does.

    An entry with pairs (``W0 > 0``) but ``Wk < _TINY`` has no pair closer
    than ``_LOG_TINY / kappa``; its exact (reference) value only depends on
    pairs at distances up to ``k_max``, counted here one distance at a time.
    """
    flagged = (W0 > 0) & (Wk < _TINY)
    if not flagged.any():
        return
    rows = np.flatnonzero(flagged.any(axis=(1, 2)))
    k_lo = max(1, int(_LOG_TINY / kappa * 0.99))
    for r in rows:
        seq = codes[offsets[r] : offsets[r + 1]]
        exact = _band_counts(np.asarray(seq)[None, :], A, kappa, k_lo, k_max)[0]
        Wk[r][flagged[r]] = exact[flagged[r]]
