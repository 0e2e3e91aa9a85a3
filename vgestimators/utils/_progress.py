"""Progress bars: one tqdm rule for the command line and the benchmark."""

import sys


def progress(iterable=None, *, enabled=True, **kwargs):
    """A tqdm bar on stderr that fits the terminal, or a silent one.

    Parameters
    ----------
    iterable : iterable, default=None
        What the bar wraps (None: advance it with ``update``).
    enabled : bool, default=True
        False makes the bar silent (``disable=True``).
    **kwargs
        tqdm's other arguments (``total``, ``desc``, ``unit`` ...); ``file``
        (default ``sys.stderr``) and ``dynamic_ncols`` (default True) may be
        overridden.

    Returns
    -------
    tqdm.tqdm

    Examples
    --------
    >>> from vgestimators.utils._progress import progress
    >>> sum(progress(range(4), enabled=False))
    6
    """
    from tqdm.auto import tqdm

    kwargs.setdefault("file", sys.stderr)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, disable=not enabled, **kwargs)
