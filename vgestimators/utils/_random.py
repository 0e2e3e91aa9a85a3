"""Seeding: one rule from ``random_state`` to an integer seed, one for torch."""

import contextlib

import numpy as np


def derive_seed(random_state):
    """The integer seed an estimator derives from its ``random_state``.

    One draw in ``[0, 2**31 - 1)`` from scikit-learn's
    :func:`~sklearn.utils.check_random_state`: an int gives the same seed
    every time, a ``RandomState`` instance advances by one draw, and None
    draws from numpy's global generator.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        The estimator's ``random_state`` parameter.

    Returns
    -------
    seed : int
        A seed for torch, numpy's ``SeedSequence`` or a ``RandomState``.

    See Also
    --------
    torch_seeded : Run a block under this seed without touching torch's
        global random state.

    Examples
    --------
    >>> from vgestimators.utils._random import derive_seed
    >>> derive_seed(0)
    209652396
    >>> derive_seed(0) == derive_seed(0)
    True
    """
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def torch_seeded(seed, device="cpu"):
    """Run a block with torch seeded, restoring torch's random state after.

    Forks torch's CPU generator, and the generator of ``device`` when it is
    a CUDA device, then calls :func:`torch.manual_seed` with ``seed``. Code
    outside the block sees the random state it had before.

    Parameters
    ----------
    seed : int
        Seed of the block, e.g. from :func:`derive_seed`.
    device : str or torch.device, default="cpu"
        The device the block computes on; its CUDA generator is restored on
        exit too.

    Yields
    ------
    None

    See Also
    --------
    derive_seed : The seed an estimator derives from its ``random_state``.

    Examples
    --------
    >>> import torch
    >>> from vgestimators.utils._random import torch_seeded
    >>> with torch_seeded(0):
    ...     a = torch.rand(2)
    >>> with torch_seeded(0):
    ...     b = torch.rand(2)
    >>> torch.equal(a, b)
    True
    """
    import torch

    from ._device import is_cuda

    devices = [torch.device(device).index or 0] if is_cuda(device) else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield
