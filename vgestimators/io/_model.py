"""Model files: a fitted estimator with the versions it was made with."""

import os
import warnings
from datetime import datetime, timezone

import joblib

from ..utils._versions import versions as _versions

FORMAT = "vgestimators-model"
FORMAT_VERSION = 1


def save_model(model, path, *, metadata=None, compress=3):
    """Write a fitted estimator (e.g. a Pipeline) to a model file.

    The file holds the estimator, the versions of vgestimators,
    scikit-learn, torch and Python it was saved with (checked by
    :func:`load_model`) and ``metadata``. Networks are stored without their
    optimizer's state (dropped at the end of ``fit``), so a file weighs
    about the network's weights (45 MB for a ResNet18). A network trained
    on a GPU loads on a machine without one.

    .. warning::
       The file is a pickle (through :mod:`joblib`): loading it runs code,
       so load only files you trust, as for any pickled scikit-learn or
       PyTorch model. To pass weights on to someone else, prefer
       :meth:`TripletImageEmbedder.save_backbone
       <vgestimators.vision.TripletImageEmbedder.save_backbone>` (a plain
       state dict of tensors, loaded with ``weights_only=True``) plus the
       parameters.

    Parameters
    ----------
    model : estimator
        A fitted estimator.
    path : str or path-like
        Destination file (conventionally ``*.joblib``).
    metadata : dict or None, default=None
        Anything picklable to keep beside the model (a training report,
        class counts, file lists).
    compress : int, default=3
        joblib compression level (0 to 9).

    Returns
    -------
    path : str
        The path written.

    See Also
    --------
    load_model : Read it back.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.neighbors import NearestCentroid
    >>> from vgestimators.io import load_model, save_model
    >>> model = NearestCentroid().fit([[0.0], [1.0]], ["a", "b"])
    >>> path = save_model(model, Path(tempfile.mkdtemp()) / "model.joblib",
    ...                   metadata={"note": "toy"})
    >>> again, info = load_model(path, return_metadata=True)
    >>> again.predict([[0.9]]).tolist(), info["metadata"]
    (['b'], {'note': 'toy'})
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "metadata": {} if metadata is None else dict(metadata),
        "model": model,
    }
    path = os.fspath(path)
    joblib.dump(payload, path, compress=compress)
    return path


def load_model(path, *, device="auto", return_metadata=False):
    """Read a model file written by :func:`save_model`.

    Checks that the file is a vgestimators model and warns when it was
    saved with another version of vgestimators. Image embedders inside the
    model are moved to ``device`` (a model trained on a GPU is used on a
    CPU-only machine with ``device="auto"`` or ``"cpu"``).

    .. warning::
       Loading a pickle runs code: load only files you trust.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.
    device : str, default="auto"
        Where image embedders compute: ``"auto"`` (CUDA when available),
        ``"cpu"``, ``"cuda"``, ... None leaves them as saved.
    return_metadata : bool, default=False
        Also return a dict with ``versions``, ``saved`` (UTC time) and
        ``metadata``.

    Returns
    -------
    model : estimator
    info : dict
        Only with ``return_metadata=True``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a vgestimators model file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: '{path}'.")
    try:
        payload = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(
            f"'{path}' could not be read as a model file ({type(exc).__name__}: {exc})."
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(
            f"'{path}' is not a vgestimators model file (write one with "
            "vgestimators.io.save_model or `vgestimators train`)."
        )
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise ValueError(
            f"'{path}' uses model file format {payload['format_version']}; this "
            f"vgestimators reads up to {FORMAT_VERSION}: upgrade vgestimators."
        )
    saved = payload["versions"].get("vgestimators")
    current = _versions()["vgestimators"]
    if saved != current:
        warnings.warn(
            f"'{path}' was saved with vgestimators {saved} and is loaded with "
            f"{current}; predictions may differ. Re-train or re-save it with "
            "this version.",
            UserWarning,
            stacklevel=2,
        )
    model = payload["model"]
    if device is not None:
        _move_networks(model, device)
    if return_metadata:
        info = {k: payload[k] for k in ("versions", "saved", "metadata")}
        return model, info
    return model


def _move_networks(model, device):
    """Move every fitted image embedder inside ``model`` to ``device``."""
    from ..vision import PretrainedImageEmbedder, TripletImageEmbedder

    steps = getattr(model, "steps", None)
    estimators = [step for _, step in steps] if steps is not None else [model]
    for estimator in estimators:
        if isinstance(estimator, TripletImageEmbedder) and hasattr(estimator, "net_"):
            estimator.to_device(device)
        if isinstance(estimator, PretrainedImageEmbedder) and hasattr(
            estimator, "network_"
        ):
            estimator.to_device(device)
