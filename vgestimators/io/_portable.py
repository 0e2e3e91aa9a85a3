"""A model file that runs no code when read: JSON, NumPy arrays, tensors.

A fitted estimator is written as a tree: parameters and fitted attributes
that are plain data go to JSON, arrays to ``.npy`` members read with
``allow_pickle=False``, network weights to a state dict read with
``torch.load(weights_only=True)``. Reading it instantiates only classes of
vgestimators and scikit-learn (by name, checked against that allow-list)
and sets data attributes on them: nothing in the file is executed.
"""

import dataclasses
import importlib
import io
import json
import os
import zipfile

import numpy as np
import pandas as pd

FORMAT = "vgestimators-portable-model"
FORMAT_VERSION = 1
#: Packages whose estimator classes a portable file may name.
ALLOWED_PACKAGES = ("vgestimators.", "sklearn.")
#: Packages whose classes may be parameters (e.g. ``optimizer``).
ALLOWED_TYPES = ("torch.optim.",)
#: Data-only records (dataclasses) that fitted estimators keep, by name.
ALLOWED_RECORDS = frozenset(
    {
        "vgestimators.alignment._calibration.Calibration",
        "vgestimators.utils._stacking.SeenUnseenCurve",
        # where files written before it moved to utils name it (still importable)
        "vgestimators.metrics._zero_shot.SeenUnseenCurve",
        "vgestimators.alignment._prototype_calibration.RuleState",
        "vgestimators.alignment._prior.PriorFit",
        "vgestimators.alignment._prior.MapData",
        "vgestimators.taxonomy._taxonomy.Taxonomy",
    }
)


class _Writer:
    def __init__(self, pretrained_weights="include"):
        self.arrays, self.tensors = {}, {}
        self.pretrained_weights = pretrained_weights

    def array(self, value, where):
        if value.dtype.kind == "O":
            if not all(isinstance(v, str) for v in value.ravel()):
                # mixed labels (ints, strings): element by element, in JSON
                return {
                    "__objects__": [self.encode(v, where) for v in value.ravel()],
                    "shape": list(value.shape),
                }
            key = f"a{len(self.arrays)}"
            self.arrays[key] = value.astype(str)
            return {"__array__": key, "object": True}
        if value.dtype.kind not in "biufcUS":
            raise TypeError(
                f"{where}: arrays of dtype {value.dtype} cannot be exported."
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = value
        return {"__array__": key}

    def encode(self, value, where):
        from sklearn.base import BaseEstimator
        from sklearn.pipeline import Pipeline

        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, int | float):
            if isinstance(value, float) and not np.isfinite(value):
                return {"__float__": repr(value)}
            return value
        if isinstance(value, np.ndarray):
            return self.array(value, where)
        if isinstance(value, pd.DataFrame):
            return {
                "__frame__": {
                    "columns": self.array(np.asarray(value.columns), where),
                    "data": [
                        self.encode(value[c].to_numpy(), f"{where}[{c!r}]")
                        for c in value.columns
                    ],
                    "index": self.array(np.asarray(value.index), where),
                    "index_name": value.index.name,
                }
            }
        if isinstance(value, pd.Series):
            return {
                "__series__": {
                    "data": self.encode(value.to_numpy(), where),
                    "index": self.array(np.asarray(value.index), where),
                    "name": self.encode(value.name, where),
                }
            }
        if isinstance(value, list | tuple):
            items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"__tuple__": items}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                return {
                    "__dict__": [
                        [self.encode(k, where), self.encode(v, f"{where}[{k!r}]")]
                        for k, v in value.items()
                    ]
                }
            return {k: self.encode(v, f"{where}.{k}") for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            name = _class_name(value)
            if name not in ALLOWED_RECORDS:
                raise TypeError(f"{where}: a {name} cannot be exported.")
            return {
                "__record__": name,
                "fields": self.encode(
                    {f.name: getattr(value, f.name) for f in dataclasses.fields(value)},
                    where,
                ),
            }
        if isinstance(value, type):
            name = f"{value.__module__}.{value.__qualname__}"
            if not name.startswith(ALLOWED_TYPES):
                raise TypeError(f"{where}: the class {name} cannot be exported.")
            return {"__type__": name}
        if isinstance(value, Pipeline):
            return {
                "__pipeline__": _class_name(value),
                "steps": [
                    [name, self.encode(step, f"{where}.{name}")]
                    for name, step in value.steps
                ],
                "params": self.encode(
                    {
                        k: v
                        for k, v in value.get_params(deep=False).items()
                        if k != "steps"
                    },
                    where,
                ),
            }
        from ..vision import PretrainedImageEmbedder, TripletImageEmbedder

        if isinstance(value, TripletImageEmbedder):
            return self.embedder(value, where)
        if isinstance(value, PretrainedImageEmbedder):
            return self.pretrained(value, where)
        if isinstance(value, BaseEstimator):
            name = _class_name(value)
            if not name.startswith(ALLOWED_PACKAGES):
                raise TypeError(
                    f"{where}: {name} is not a vgestimators or "
                    "scikit-learn estimator and cannot be exported."
                )
            params = value.get_params(deep=False)
            state = {k: v for k, v in vars(value).items() if k not in params}
            return {
                "__estimator__": name,
                "params": self.encode(params, where),
                "state": self.encode(state, where),
            }
        raise TypeError(
            f"{where}: a {type(value).__name__} cannot be exported to a portable "
            "model file (only data, scikit-learn and vgestimators estimators); "
            "use vgestimators.io.save_model for this model."
        )

    def embedder(self, value, where):

        params = value.get_params(deep=False)
        if params.get("callbacks"):
            raise TypeError(
                f"{where}: callbacks cannot be exported; set callbacks=None."
            )
        if callable(params.get("augment")):
            raise TypeError(f"{where}: a callable augment cannot be exported.")
        if params.get("alignment_anchors") is not None:
            raise TypeError(f"{where}: alignment_anchors cannot be exported.")
        params["accelerator"] = None  # a run-time object: one process on import
        params["init"] = None  # where training started: the weights say the rest
        if params["weights"] is not None and not isinstance(params["weights"], str):
            params["weights"] = None  # an enum or object: not data
        key = f"t{len(self.tensors)}"
        buffer = io.BytesIO()
        value.save_backbone(buffer)  # the network's state dict, CPU tensors
        self.tensors[key] = buffer.getvalue()
        return {
            "__embedder__": _class_name(value),
            "params": self.encode(params, where),
            "weights": key,
            "classes": self.encode(value.classes_, where),
            "class_counts": self.encode(value.class_counts_, where),
        }

    def pretrained(self, value, where):
        params = value.get_params(deep=False)
        if self.pretrained_weights == "reference":
            if value.weights_ is None:
                raise TypeError(
                    f"{where}: random weights (weights=None) have no name to "
                    "refer to; export with pretrained_weights='include'."
                )
            # the weights as loaded: "DEFAULT" pinned to what it stood for
            params["weights"] = value.weights_
        if params["weights"] is not None:
            params["weights"] = os.fspath(params["weights"])
        node = {
            "__pretrained__": _class_name(value),
            "params": self.encode(params, where),
            "preprocessing": self.encode(
                dataclasses.asdict(value.preprocessing_), where
            ),
        }
        if self.pretrained_weights == "include":
            import torch

            key = f"t{len(self.tensors)}"
            buffer = io.BytesIO()
            torch.save(value.weights_state(), buffer)
            self.tensors[key] = buffer.getvalue()
            node["weights"] = key
        return node


def _class_name(value):
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def _resolve(name, allowed):
    """The class a file names, if it is on the allow-list; else a ValueError.

    Estimators: subclasses of scikit-learn's ``BaseEstimator`` defined in
    scikit-learn or vgestimators; types: torch optimizers.
    """
    from sklearn.base import BaseEstimator

    if not isinstance(name, str) or not name.startswith(allowed):
        raise ValueError(f"the file names the class {name!r}, which is not allowed.")
    module, _, attr = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), attr, None)
    except ImportError:
        cls = None
    if allowed is ALLOWED_TYPES:
        import torch

        base = torch.optim.Optimizer
    else:
        base = BaseEstimator
    if (
        not isinstance(cls, type)
        or not issubclass(cls, base)
        or not cls.__module__.startswith(allowed)
    ):
        raise ValueError(
            f"the file names {name!r}, which is not an allowed "
            f"{'optimizer' if allowed is ALLOWED_TYPES else 'estimator'} class."
        )
    return cls


def _resolve_record(name):
    """The dataclass a file names, if it is one of :data:`ALLOWED_RECORDS`."""
    if name not in ALLOWED_RECORDS:
        raise ValueError(f"the file names the record {name!r}, which is not allowed.")
    module, _, attr = name.rpartition(".")
    cls = getattr(importlib.import_module(module), attr, None)
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise ValueError(f"the file names {name!r}, which is not a record class.")
    return cls


def _check_names(node):
    """Resolve every class the tree names before anything is built."""
    if isinstance(node, list):
        for item in node:
            _check_names(item)
    elif isinstance(node, dict):
        for key in ("__estimator__", "__pipeline__", "__embedder__", "__pretrained__"):
            if key in node:
                _resolve(node[key], ALLOWED_PACKAGES)
        if "__type__" in node:
            _resolve(node["__type__"], ALLOWED_TYPES)
        if "__record__" in node:
            _resolve_record(node["__record__"])
        for value in node.values():
            _check_names(value)


class _Reader:
    def __init__(self, archive, device):
        self.archive, self.device = archive, device

    def array(self, node):
        if "__objects__" in node:
            out = np.empty(len(node["__objects__"]), dtype=object)
            out[:] = [self.decode(v) for v in node["__objects__"]]
            return out.reshape(node["shape"])
        with self.archive.open(f"arrays/{node['__array__']}.npy") as handle:
            value = np.load(io.BytesIO(handle.read()), allow_pickle=False)
        return value.astype(object) if node.get("object") else value

    def decode(self, node):
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "__array__" in node or "__objects__" in node:
            return self.array(node)
        if "__float__" in node:
            return float(node["__float__"])
        if "__tuple__" in node:
            return tuple(self.decode(v) for v in node["__tuple__"])
        if "__dict__" in node:
            return {self.decode(k): self.decode(v) for k, v in node["__dict__"]}
        if "__type__" in node:
            return _resolve(node["__type__"], ALLOWED_TYPES)
        if "__record__" in node:
            return _resolve_record(node["__record__"])(**self.decode(node["fields"]))
        if "__frame__" in node:
            spec = node["__frame__"]
            columns = self.array(spec["columns"])
            data = {i: self.decode(c) for i, c in enumerate(spec["data"])}
            frame = pd.DataFrame(data, index=self.array(spec["index"]))
            frame.columns = pd.Index(columns.tolist())
            frame.index.name = spec["index_name"]
            return frame
        if "__series__" in node:
            spec = node["__series__"]
            return pd.Series(
                self.decode(spec["data"]),
                index=self.array(spec["index"]),
                name=self.decode(spec["name"]),
            )
        if "__pipeline__" in node:
            cls = _resolve(node["__pipeline__"], ALLOWED_PACKAGES)
            steps = [(name, self.decode(step)) for name, step in node["steps"]]
            params = self.decode(node["params"])
            if params.get("memory") is not None:
                # joblib would read cached pickles from that folder at fit
                raise ValueError("a portable model cannot name a cache folder.")
            return cls(steps, **params)
        if "__embedder__" in node:
            return self.embedder(node)
        if "__pretrained__" in node:
            return self.pretrained(node)
        if "__estimator__" in node:
            cls = _resolve(node["__estimator__"], ALLOWED_PACKAGES)
            estimator = cls(**self.decode(node["params"]))
            vars(estimator).update(self.decode(node["state"]))
            return estimator
        return {k: self.decode(v) for k, v in node.items()}

    def embedder(self, node):
        import tempfile

        cls = _resolve(node["__embedder__"], ALLOWED_PACKAGES)
        params = self.decode(node["params"])
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "weights.pt")
            with (
                self.archive.open(f"tensors/{node['weights']}.pt") as handle,
                open(path, "wb") as out,
            ):
                out.write(handle.read())
            device = params["device"] if self.device is None else self.device
            embedder = cls(**{**params, "weights": path, "device": device})
            embedder.initialize(
                self.decode(node["classes"]), self.decode(node["class_counts"])
            )
        # the parameters as saved: a clone refits from the same starting weights
        embedder.set_params(weights=params["weights"], device=params["device"])
        return embedder

    def pretrained(self, node):
        import torch

        cls = _resolve(node["__pretrained__"], ALLOWED_PACKAGES)
        params = self.decode(node["params"])
        device = params["device"] if self.device is None else self.device
        if "weights" not in node:  # by reference: read from its name or file
            embedder = cls(**{**params, "device": device}).fit()
        else:
            with self.archive.open(f"tensors/{node['weights']}.pt") as handle:
                state = torch.load(
                    io.BytesIO(handle.read()), map_location="cpu", weights_only=True
                )
            embedder = cls(**params).rebuild(state, device=device)
        embedder.use_preprocessing(self.decode(node["preprocessing"]))
        embedder.set_params(device=params["device"])  # as saved, for a clone
        return embedder


def export_model(model, path, *, pretrained_weights="include"):
    """Write a fitted model to a file that runs no code when read.

    Unlike :func:`save_model` (a pickle), the file is a zip archive of JSON
    (parameters, fitted scalars and names), NumPy ``.npy`` arrays (read with
    ``allow_pickle=False``) and network weights (a state dict, read with
    ``torch.load(weights_only=True)``). :func:`import_model` instantiates
    only scikit-learn and vgestimators estimator classes (checked by name)
    and sets data attributes on them: the format to share models with
    people who should not have to trust the sender. It holds the
    Pipeline of :func:`~vgestimators.make_species_pipeline` (image embedder
    and the default aligner) and any scikit-learn estimator whose
    parameters and fitted attributes are data; anything else (a callable
    parameter, callbacks, the paper's projection rules) raises a
    ``TypeError`` naming it.

    Parameters
    ----------
    model : estimator
        A fitted estimator or Pipeline.
    path : str or path-like
        Destination file (conventionally ``*.zip``).
    pretrained_weights : {"include", "reference"}, default="include"
        The network of a :class:`~vgestimators.vision.PretrainedImageEmbedder`:
        its weights in the file (they read back offline; an open_clip model
        named ``hf-hub:...`` or read from a folder still needs that name's
        configuration, or the folder, where it is imported), or only
        their name (``model``, ``backend``, and ``weights_``: ``"DEFAULT"``
        pinned to the weights it stood for, or the file's path): a small
        file that reads the weights from the backend's cache, the network
        or the local file named, where it is imported.

    Returns
    -------
    path : str

    Raises
    ------
    TypeError
        Naming the part of the model that cannot be written as data.

    See Also
    --------
    import_model : Read it back.
    save_model : Any fitted model, as a pickle.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from vgestimators.alignment import GeneticPrototypeClassifier
    >>> from vgestimators.datasets import make_linked_embeddings
    >>> from vgestimators.io import export_model, import_model
    >>> data = make_linked_embeddings(random_state=0)
    >>> clf = GeneticPrototypeClassifier(anchors=data.anchors, random_state=0)
    >>> clf = clf.fit(data.X_train, data.y_train)
    >>> path = export_model(clf, Path(tempfile.mkdtemp()) / "model.zip")
    >>> again = import_model(path)
    >>> bool((again.predict(data.X_test) == clf.predict(data.X_test)).all())
    True
    """
    from sklearn.utils.validation import check_is_fitted

    from ._model import _versions

    check_is_fitted(model)
    if pretrained_weights not in ("include", "reference"):
        raise ValueError(
            "pretrained_weights must be 'include' or 'reference'; got "
            f"{pretrained_weights!r}."
        )
    writer = _Writer(pretrained_weights)
    tree = writer.encode(model, type(model).__name__)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "versions": _versions(),
        "model": tree,
    }
    path = os.fspath(path)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=1))
        for key, value in writer.arrays.items():
            buffer = io.BytesIO()
            np.save(buffer, value, allow_pickle=False)
            archive.writestr(f"arrays/{key}.npy", buffer.getvalue())
        for key, value in writer.tensors.items():
            archive.writestr(f"tensors/{key}.pt", value)
    return path


def import_model(path, *, device="auto"):
    """Read a model written by :func:`export_model`; runs no code from the file.

    Parameters
    ----------
    path : str or path-like
        The ``.zip`` file.
    device : str or None, default="auto"
        Where image embedders compute (None: as saved).

    Returns
    -------
    model : estimator

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a portable vgestimators model, or names a class
        outside scikit-learn and vgestimators.
    """
    import warnings

    from ._model import _versions

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: '{path}'.")
    try:
        archive = zipfile.ZipFile(path)
        manifest = json.loads(archive.read("manifest.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"'{path}' is not a portable vgestimators model file ({exc})."
        ) from None
    with archive:
        if manifest.get("format") != FORMAT:
            raise ValueError(f"'{path}' is not a portable vgestimators model file.")
        if manifest.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(
                f"'{path}' uses format {manifest['format_version']}; this "
                f"vgestimators reads up to {FORMAT_VERSION}: upgrade vgestimators."
            )
        saved = manifest.get("versions", {}).get("vgestimators")
        if saved != _versions()["vgestimators"]:
            warnings.warn(
                f"'{path}' was exported with vgestimators {saved} and is read "
                f"with {_versions()['vgestimators']}; predictions may differ.",
                UserWarning,
                stacklevel=2,
            )
        try:
            _check_names(manifest["model"])
            return _Reader(archive, device).decode(manifest["model"])
        except (KeyError, AttributeError, TypeError, IndexError) as exc:
            raise ValueError(
                f"'{path}' is not a valid portable vgestimators model file "
                f"({type(exc).__name__}: {exc})."
            ) from None
