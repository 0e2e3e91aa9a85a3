"""Large temporaries from the heap in processes that turned glibc's adaptation off.

glibc's ``malloc`` serves a request above its mmap threshold (128 KiB at
start) with a fresh ``mmap``, whose pages the kernel zero-fills one page
fault at a time, and gives it back with ``munmap`` on ``free``; memory
freed at the top of the heap beyond the trim threshold goes back to the
system too. By default both thresholds adapt: a freed mapped block raises
the mmap threshold to its size (up to 32 MiB on 64-bit systems) and the
trim threshold to twice that, so a loop that allocates and frees blocks of
one size soon reuses heap memory. Setting any of ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_TOP_PAD_``, ``MALLOC_MMAP_MAX_`` or ``MALLOC_MMAP_THRESHOLD_``
turns the adaptation off (``man mallopt``). ``dask.distributed`` sets
``MALLOC_TRIM_THRESHOLD_=65536`` in every worker it starts, so that
workers give freed memory back; there the SGT kernel's 8 MiB blocks are
mapped or grown and given back again for every batch, and a partition of
10,000 sequences of 1 kbp costs 50 times more page faults and twice the
CPU time of the same work in a plain process (docs/user_guide/scaling.rst).

:func:`restore_thresholds` sets, once per process and only when the
adaptation is off and ``MALLOC_MMAP_THRESHOLD_`` is not set in the
environment the process started with (set it there to keep your own
choice; for dask workers through ``distributed.nanny.pre-spawn-environ``,
as ``LocalCluster(env=...)`` is applied after the worker started), the values where the adaptation ends: an mmap threshold
of 32 MiB and a trim threshold of 64 MiB. Setting the mmap threshold alone
is not enough once long-lived data (the partition's sequences) sit above
the freed blocks: the heap top is then trimmed and grown again every batch.
A worker still gives back freed memory beyond 64 MiB at the heap's top.
"""

import ctypes
import os
import sys

# glibc's mallopt parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
# DEFAULT_MMAP_THRESHOLD_MAX on 64-bit glibc: where the adaptation stops,
# with a trim threshold of twice the mmap threshold.
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_ADAPTATION_OFF = (
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "MALLOC_MMAP_MAX_",
)
_done = {}


def _start_environment():
    """The environment this process started with: what glibc read.

    ``os.environ`` may have changed since (distributed's nanny writes its
    workers' variables into the process it runs in, the user's for a
    LocalCluster); Linux keeps the start-up one in /proc/self/environ.
    """
    try:
        with open("/proc/self/environ", "rb") as handle:
            entries = handle.read().split(b"\0")
    except OSError:
        return dict(os.environ)
    pairs = (e.decode(errors="replace").partition("=") for e in entries if e)
    return {name: value for name, _, value in pairs}


def adaptation_off(environ=None):
    """True when the environment turned glibc's adaptive mmap threshold off
    without choosing the threshold itself.

    ``environ`` defaults to the environment the process started with.
    """
    environ = _start_environment() if environ is None else environ
    if "MALLOC_MMAP_THRESHOLD_" in environ:
        return False
    return any(name in environ for name in _ADAPTATION_OFF)


def restore_thresholds():
    """glibc's mmap and trim thresholds at 32 and 64 MiB when :func:`adaptation_off`.

    Called by the tasks that embed sequences on dask workers. Does nothing
    on other C libraries and systems, when the adaptation is on, or after
    the first call in a process.

    Returns
    -------
    bool
        Whether this process's thresholds were set (now or by an earlier call).
    """
    pid = os.getpid()  # a forked child starts afresh
    if pid not in _done:
        _done[pid] = _is_glibc() and adaptation_off() and _set()
    return _done[pid]


def _is_glibc():
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (ValueError, OSError):  # not glibc (e.g. musl)
        return False


def _set():
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library already loaded
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # both or neither: the trim threshold alone would keep freed memory
    # without the blocks coming from the heap
    if mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1:
        return False
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
