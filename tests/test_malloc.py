"""SGT in processes whose environment turned glibc's adaptive thresholds off.

dask.distributed starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``;
there every large temporary of the SGT kernel used to be mapped (or the
heap grown) and given back again, one page fault per 4 KiB page each time.
The faults are counted, not timed: a count does not depend on what else
the machine runs.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from vgestimators.utils._malloc import adaptation_off

glibc_linux = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="glibc's mallopt on Linux",
)

# A dask worker's situation: the sequences are made (long-lived objects on
# the heap), then a partition is embedded.
CHILD = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from vgestimators.genetics import SGTTransformer
    from vgestimators.utils._malloc import restore_thresholds

    rng = np.random.default_rng(0)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)[
        rng.integers(0, 4, size=(1000, 1000))
    ]
    seqs = [row.tobytes().decode() for row in letters]
    sgt = SGTTransformer(kmer=2).fit(seqs[:200])
    if sys.argv[1] == "fix":
        print("set", restore_thresholds())
    sgt.transform(seqs)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    sgt.transform(seqs)
    print("faults", resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    """
)


def _faults(mode, **env):
    """Minor page faults of one transform in a fresh process with ``env``."""
    plain = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode],
        env={**plain, "OMP_NUM_THREADS": "1", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = dict(line.split() for line in done.stdout.splitlines())
    return int(lines["faults"]), lines.get("set")


def test_adaptation_off_reads_the_environment():
    assert not adaptation_off({})
    assert adaptation_off({"MALLOC_TRIM_THRESHOLD_": "65536"})
    assert adaptation_off({"MALLOC_TOP_PAD_": "0"})
    # a threshold the user chose is kept
    assert not adaptation_off(
        {"MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_MMAP_THRESHOLD_": "131072"}
    )


@glibc_linux
def test_restored_thresholds_remove_the_page_faults_of_dask_workers():
    worker = {"MALLOC_TRIM_THRESHOLD_": "65536"}  # what distributed sets
    plain, _ = _faults("plain")
    slow, _ = _faults("as-is", **worker)
    fixed, was_set = _faults("fix", **worker)
    kept, kept_set = _faults("fix", MALLOC_MMAP_THRESHOLD_="131072", **worker)
    assert was_set == "True" and kept_set == "False"
    # distributed's setting: many times the faults of a plain process
    assert slow > 5 * plain, (plain, slow)
    # restored: no more than a plain process (plus slack for the heap's growth)
    assert fixed < 2 * plain + 1000, (plain, fixed)
    # a threshold chosen by the user is left alone
    assert kept > 5 * plain, (plain, kept)
