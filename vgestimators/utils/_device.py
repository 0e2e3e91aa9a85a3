"""Resolving the ``device`` parameter shared by the torch-backed estimators."""

import torch


def resolve_device(device):
    """The torch device string for an estimator's ``device`` parameter.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``, ...

    Returns
    -------
    device : str
        A device string torch accepts, e.g. ``"cpu"`` or ``"cuda:0"``.

    Raises
    ------
    ValueError
        If the string is not a device, or CUDA is asked for but absent.

    Examples
    --------
    >>> from vgestimators.utils._device import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Invalid device {device!r}: {exc}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available; use "
            "device='auto' or 'cpu'."
        )
    return str(resolved)


def is_cuda(device):
    """Whether ``device`` is a CUDA device: the one test of the package.

    Parameters
    ----------
    device : str or torch.device
        A device torch accepts, e.g. ``"cpu"``, ``"cuda"`` or ``"cuda:1"``
        (resolve ``"auto"`` first with :func:`resolve_device`).

    Returns
    -------
    on_cuda : bool
        True for ``"cuda"`` and ``"cuda:<index>"``, False otherwise.

    Examples
    --------
    >>> from vgestimators.utils._device import is_cuda
    >>> is_cuda("cuda:1"), is_cuda("cpu")
    (True, False)
    """
    return torch.device(device).type == "cuda"
