"""Image inputs: file paths, arrays or torch Datasets, as one torch Dataset."""

import os
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..utils._images import REDUCING_GAP, scan_image_files
from ..utils._warnings import warn_user

ON_BAD_IMAGE = ("raise", "skip")
PURPOSES = ("fit", "fit_transform", "transform")


def _is_torch_dataset(X):
    return isinstance(X, Dataset)


def _path_array(values):
    """Return a 1-D object array of str paths, or None if not all are paths."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if isinstance(value, (str, os.PathLike)):
            out[i] = os.fspath(value)
        else:
            return None
    return out


def as_image_source(X):
    """Classify the input kind and return ``(kind, data)``.

    kind is ``"paths"`` (1-D object array of str), ``"uint8"`` (array of
    shape (n, h, w, c)), ``"float"`` (float32 array (n, c, h, w)) or
    ``"dataset"`` (a torch Dataset).
    """
    if _is_torch_dataset(X):
        return "dataset", X
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                "A DataFrame X must have exactly one column of image file "
                f"paths; got {X.shape[1]} columns."
            )
        X = X.iloc[:, 0].to_numpy(dtype=object)
    elif hasattr(X, "iloc"):  # Series
        X = X.to_numpy(dtype=object)
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if isinstance(X, (list, tuple)):
        if len(X) and all(isinstance(v, (str, os.PathLike)) for v in X):
            return "paths", _path_array(X)
        X = np.asarray(X)
    if not isinstance(X, np.ndarray):
        raise TypeError(
            "X must be image file paths (list, 1-D array, (n, 1) array, "
            "Series or one-column DataFrame), a uint8 array (n, h, w) or "
            "(n, h, w, c), a float array (n, c, h, w) or a torch Dataset; got "
            f"{type(X).__name__}."
        )
    if X.dtype.kind in "OUS":
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                "An array of image file paths must be 1-D or of shape (n, 1); "
                f"got shape {X.shape}."
            )
        paths = _path_array(X.tolist())
        if paths is None:
            bad = next(i for i, v in enumerate(X) if not isinstance(v, (str, Path)))
            raise TypeError(
                f"X holds a non-path value {X[bad]!r} at row {bad}; an object "
                "array X must hold image file paths only."
            )
        return "paths", paths
    if X.dtype == np.uint8:
        if X.ndim == 3:
            return "uint8", X[..., None]
        if X.ndim == 4 and X.shape[-1] in (1, 3, 4):
            return "uint8", X
        raise ValueError(
            "A uint8 image array must have shape (n, h, w) or (n, h, w, c) "
            f"with c in (1, 3, 4); got shape {X.shape}. Flattened images "
            "(n, h * w) must be reshaped to (n, h, w)."
        )
    if X.dtype.kind == "f":
        if X.ndim == 3:
            X = X[:, None]
        if X.ndim != 4 or X.shape[1] not in (1, 3):
            raise ValueError(
                "A float image array must have shape (n, c, h, w) with c in "
                f"(1, 3), or (n, h, w); got shape {X.shape}."
            )
        X = np.asarray(X, dtype=np.float32)
        flat = X.reshape(len(X), -1)
        bad = ~np.isfinite(flat).all(axis=1) | (flat.min(axis=1, initial=0) < 0)
        bad |= flat.max(axis=1, initial=0) > 1
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ValueError(
                "Float images must hold finite intensities in [0, 1]; rows "
                f"{rows[:10].tolist()}{'...' if len(rows) > 10 else ''} "
                f"({len(rows)} images) do not. Scale them to [0, 1] (or pass "
                "uint8 arrays)."
            )
        return "float", X
    raise ValueError(
        f"Unsupported image array dtype {X.dtype} with shape {X.shape}: pass "
        "uint8 arrays (n, h, w[, c]) or float arrays (n, c, h, w) in [0, 1]. "
        "A 2-D numeric array (flattened images) must be reshaped to (n, h, w)."
    )


def _format_bad(bad, limit=5):
    lines = [f"row {row}: {path!r} ({reason})" for row, path, reason in bad[:limit]]
    more = f"; and {len(bad) - limit} more" if len(bad) > limit else ""
    return "; ".join(lines) + more


def _reduce_image(im, image_size):
    """Shrink PIL image ``im`` in PIL, before any array of it exists.

    An unloaded JPEG is decoded at 1/2, 1/4 or 1/8 scale (``draft``: DCT
    scaling, which never holds the full-size pixels); any image then has
    factor x factor blocks averaged (``Image.reduce``) with the largest
    integer factor that keeps both sides at least ``REDUCING_GAP *
    image_size``. Images smaller than twice that come back unchanged.
    """
    target = REDUCING_GAP * image_size
    im.draft("RGB", (target, target))  # a no-op except for unloaded JPEGs
    factor = min(im.size) // target
    if factor < 2:
        return im
    mode = im.mode
    if mode.startswith("I;16"):
        # no 16-bit reduce in PIL: reduce as 32-bit, return 16-bit values
        return im.convert("I").reduce(factor).convert("I;16")
    if mode in ("1", "P", "PA"):
        im = im.convert("RGB")  # average colours, not bits or palette indices
    return im.reduce(factor)


def _image_to_tensor(im):
    """A PIL image as a uint8 tensor: (3, h, w), or (1, h, w) for 16-bit."""
    if im.mode.startswith("I;16"):
        arr = (np.asarray(im, dtype=np.float32) / 257.0).round()
        arr = arr.clip(0, 255).astype(np.uint8)
        return torch.from_numpy(np.ascontiguousarray(arr))[None]
    arr = np.array(im.convert("RGB"), dtype=np.uint8)
    return torch.from_numpy(arr).permute(2, 0, 1)


def _decode_file(path, row, image_size):
    """Image file ``path`` as a uint8 tensor, reduced for ``image_size``."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            # large files are decoded at reduced size; the dataset's check
            # reports them once
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return _image_to_tensor(_reduce_image(im, image_size))
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(
            f"Cannot decode image file {path!r} (row {row}): {exc}"
        ) from exc


def _item_to_tensor(item, index):
    """An image from a user's Dataset as a float32 (c, h, w) tensor in [0, 1]."""
    from torchvision.transforms.v2 import functional as F

    if isinstance(item, (tuple, list)):
        item = item[0]
    if hasattr(item, "convert") and hasattr(item, "mode"):  # PIL image
        return F.to_dtype(F.pil_to_tensor(item.convert("RGB")), torch.float32, True)
    if isinstance(item, np.ndarray):
        item = torch.from_numpy(np.ascontiguousarray(item))
        if item.ndim == 3 and item.shape[-1] in (1, 3, 4) and item.shape[0] > 4:
            item = item.permute(2, 0, 1)
    if not isinstance(item, torch.Tensor):
        raise TypeError(
            f"Item {index} of the Dataset is a {type(item).__name__}; expected a "
            "PIL image, a tensor (c, h, w) or an array (h, w[, c])."
        )
    if item.ndim == 2:
        item = item[None]
    if item.dtype == torch.uint8:
        return F.to_dtype(item, torch.float32, scale=True)
    return item.float()


class ImageDataset(Dataset):
    """Images of any supported kind as a torch Dataset of square tensors.

    Images are decoded lazily, one item at a time (so in DataLoader worker
    processes when ``num_workers > 0``), converted to 3 channels and resized
    to ``image_size`` x ``image_size``. A large image file is shrunk in PIL
    as it is decoded, to no less than twice ``image_size`` a side, before
    it becomes an array: a JPEG by DCT scaling (never decoded at full
    size), any format by averaging blocks of pixels (``PIL.Image.reduce``;
    a PNG is decoded once at full size in PIL's memory), so no full-size
    copy reaches numpy or torch. Items are ``(image, label)`` pairs:
    ``image`` is a tensor of shape (3, ``image_size``, ``image_size``), uint8
    for file paths and uint8 arrays, float32 in [0, 1] otherwise (the
    embedder normalises it on the compute device); ``label`` is the integer
    label, or -1 without labels.

    Parameters
    ----------
    images : array-like or torch Dataset
        Image file paths (list, 1-D or (n, 1) array, Series or one-column
        DataFrame), a uint8 array (n, h, w) or (n, h, w, c) with c in 1, 3, 4
        (alpha is dropped), a float array (n, c, h, w) or (n, h, w) with
        values in [0, 1], or a torch Dataset whose items are images (PIL,
        tensor (c, h, w), array (h, w[, c])) or tuples starting with one.
    labels : array-like of int of shape (n,), default=None
        Integer labels (already encoded).
    image_size : int, default=224
        Side of the square images produced.
    transform : callable, default=None
        Applied to each resized image tensor (e.g. an augmentation); if it
        changes the size, the result is resized back to ``image_size``.
    on_bad_image : {"raise", "skip"}, default="raise"
        What to do with an image file that fails the check made when the
        dataset is built (see ``purpose``): raise a ``ValueError`` naming
        the files and rows, or leave those rows out with a warning (their
        labels are left out with them; see ``skipped_`` and ``rows_``).
        Must be "raise" unless ``purpose="fit"``.
    purpose : {"fit", "fit_transform", "transform"}, default="fit"
        What the dataset is for, which sets how image files are checked
        when it is built. "fit" (a training set, read once per epoch):
        every file is decoded in full (a JPEG at reduced scale), in
        threads, so that a truncated or corrupt file is reported here with
        its row, before any training. "transform" (one output per input
        row, each file read once): only the headers are read, a file that
        fails to decode later raises naming the file and its row, and no
        row can be left out, so unreadable files always raise.
        "fit_transform" (training, then one output per input row, as in a
        Pipeline's ``fit``): decoded in full as for "fit", and unreadable
        files always raise, before any training.

        In both cases files larger than ``PIL.Image.MAX_IMAGE_PIXELS`` are
        reported by one warning (they are decoded at reduced size, without
        PIL's ``DecompressionBombWarning``), and files over twice that
        limit, which PIL refuses, count as unreadable.
    decode_check : bool or None, default=None
        Decode every file when the dataset is built (True) or read only the
        headers (False); None: as ``purpose`` says.
    resize : callable or None, default=None
        Replaces the square resize: it gets each loaded image tensor
        (3, h, w) and returns the image of the side the network expects
        (e.g. a pretrained network's resize and centre crop). Large files
        are still shrunk in PIL to no less than twice ``image_size``.

    Attributes
    ----------
    kind : str
        ``"paths"``, ``"uint8"``, ``"float"`` or ``"dataset"``.
    rows_ : ndarray of int
        Rows of ``images`` that the dataset serves, in order.
    skipped_ : list of tuple
        ``(row, path, reason)`` for each image left out.

    See Also
    --------
    TripletImageEmbedder : Builds an ``ImageDataset`` from its ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.vision import ImageDataset
    >>> gray = np.zeros((4, 10, 12), dtype=np.uint8)
    >>> ds = ImageDataset(gray, labels=[0, 1, 0, 1], image_size=16)
    >>> image, label = ds[1]
    >>> tuple(image.shape), image.dtype, int(label)
    ((3, 16, 16), torch.uint8, 1)
    """

    def __init__(
        self,
        images,
        labels=None,
        *,
        image_size=224,
        transform=None,
        on_bad_image="raise",
        purpose="fit",
        decode_check=None,
        resize=None,
    ):
        if on_bad_image not in ON_BAD_IMAGE:
            raise ValueError(
                f"on_bad_image must be one of {ON_BAD_IMAGE}, got {on_bad_image!r}."
            )
        if purpose not in PURPOSES:
            raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}.")
        if purpose != "fit" and on_bad_image != "raise":
            raise ValueError(
                f"purpose={purpose!r} needs on_bad_image='raise': every input row "
                f"needs an output, so no image can be left out; got {on_bad_image!r}."
            )
        self.kind, self.data = as_image_source(images)
        self.image_size = int(image_size)
        self.transform = transform
        self.resize = resize
        n = len(self.data)
        if labels is not None:
            labels = np.asarray(labels, dtype=np.int64).reshape(-1)
            if len(labels) != n:
                raise ValueError(
                    f"X holds {n} images but y holds {len(labels)} labels."
                )
        self.skipped_ = []
        rows = np.arange(n)
        if self.kind == "paths":
            bad, large = scan_image_files(
                self.data,
                decode=(purpose != "transform")
                if decode_check is None
                else decode_check,
                image_size=self.image_size,
            )
            if large:
                self._warn_large(large, n)
            if bad and on_bad_image == "raise":
                hint = {
                    "fit": "Fix or remove them, or pass on_bad_image='skip' to "
                    "leave them out.",
                    "fit_transform": "Fix them, or remove them from X and y "
                    "first (e.g. load_image_folder(root, verify=True, "
                    "on_error='skip')): fit_transform, and so a Pipeline's fit, "
                    "returns one row per input, so no image can be left out "
                    "here, whatever on_bad_image says.",
                    "transform": "Fix them, or remove those rows from X: there "
                    "is one output row per input, so no image can be left out "
                    "here.",
                }[purpose]
                raise ValueError(
                    f"{len(bad)} of {n} image files cannot be read: "
                    f"{_format_bad(bad)}. {hint}"
                )
            if bad:
                warn_user(
                    f"Skipping {len(bad)} of {n} unreadable image files: "
                    f"{_format_bad(bad)}."
                )
                self.skipped_ = bad
                rows = np.setdiff1d(rows, [row for row, _, _ in bad])
        self.rows_ = rows
        self.labels = None if labels is None else labels[rows]

    def _warn_large(self, large, n):
        from PIL import Image

        row, path, (width, height) = large[0]
        warn_user(
            f"{len(large)} of {n} image files are larger than PIL's limit of "
            f"{Image.MAX_IMAGE_PIXELS:,} pixels (PIL.Image.MAX_IMAGE_PIXELS), "
            f"e.g. row {row}: {path!r} ({width} x {height}); they are decoded "
            f"at reduced size for image_size={self.image_size}."
        )

    def __len__(self):
        return len(self.rows_)

    def load(self, index):
        """Return image ``index`` as a (3, h, w) tensor, before resizing.

        A large image file comes reduced in PIL (see the class description).
        """
        row = int(self.rows_[index])
        if self.kind == "paths":
            image = _decode_file(self.data[row], row, self.image_size)
        elif self.kind == "uint8":
            image = torch.from_numpy(self.data[row]).permute(2, 0, 1)
        elif self.kind == "float":
            image = torch.from_numpy(self.data[row])
        else:
            image = _item_to_tensor(self.data[row], row)
        channels = image.shape[0]
        if channels == 1:
            image = image.expand(3, -1, -1)
        elif channels == 4:
            image = image[:3]
        elif channels != 3:
            raise ValueError(
                f"Image {row} has {channels} channels; expected 1, 3 or 4."
            )
        return image

    def __getitem__(self, index):
        from torchvision.transforms.v2 import functional as F

        size = [self.image_size, self.image_size]
        image = self.load(index)
        if self.resize is not None:
            image = self.resize(image)
        elif list(image.shape[-2:]) != size:
            image = F.resize(image, size, antialias=True)
        if self.transform is not None:
            image = self.transform(image)
            if list(image.shape[-2:]) != size:
                image = F.resize(image, size, antialias=True)
        image = image.contiguous()
        label = -1 if self.labels is None else self.labels[index]
        return image, torch.as_tensor(label, dtype=torch.int64)
