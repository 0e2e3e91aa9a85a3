"""Crop the black borders and burnt-in text around a shell.

Endless Forams images show one shell on a dark background, framed by black
borders and with text burnt into a corner (scale bar, specimen label).  The
authors of the paper cropped these away before training.  The crop here finds
the shell as the largest bright object: threshold (Otsu by default), join
nearby bright parts, label connected components (:mod:`scipy.ndimage`), keep
the component with the largest bright area, and crop to its bounding box plus
some padding.
"""

import math
from numbers import Integral, Real

import numpy as np
import torch
from PIL import Image
from scipy import ndimage
from torchvision import tv_tensors
from torchvision.transforms.v2 import Transform
from torchvision.transforms.v2 import functional as F

from ..utils._warnings import renamed_parameter

__all__ = ["CropBorders", "crop_borders"]

_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R 601, as PIL's "L" mode


def _padding(padding, margin):
    """``padding``, or the value of its deprecated name ``margin`` if given."""
    return renamed_parameter("margin", "padding", margin, padding, unset=None)


def _check_params(threshold, padding, square, closing, min_area, max_size):
    if isinstance(threshold, str):
        if threshold != "otsu":
            raise ValueError(f"threshold must be 'otsu' or a float, got {threshold!r}.")
    elif not (
        isinstance(threshold, Real)
        and not isinstance(threshold, bool)
        and 0 < threshold < 1
    ):
        raise ValueError(
            "threshold must be 'otsu' or a float in (0, 1) (a share of the "
            f"image's intensity range), got {threshold!r}."
        )
    for name, value in (("padding", padding), ("closing", closing)):
        if isinstance(value, bool) or not isinstance(value, Real) or value < 0:
            raise ValueError(
                f"{name} must be a non-negative int (pixels) or float (share), "
                f"got {value!r}."
            )
    if not isinstance(square, (bool, np.bool_)):
        raise ValueError(f"square must be True or False, got {square!r}.")
    if isinstance(min_area, bool) or not isinstance(min_area, Real):
        raise ValueError(f"min_area must be a float in [0, 1), got {min_area!r}.")
    if not 0 <= min_area < 1:
        raise ValueError(f"min_area must be a float in [0, 1), got {min_area!r}.")
    if max_size is not None and (
        isinstance(max_size, bool)
        or not isinstance(max_size, Integral)
        or max_size < 16
    ):
        raise ValueError(f"max_size must be None or an int >= 16, got {max_size!r}.")


def _to_gray(img):
    """2-D float64 brightness of a PIL image, (h, w[, c]) array or (c, h, w) tensor."""
    if isinstance(img, Image.Image):
        if img.mode in ("1", "L", "I", "I;16", "F"):
            gray = np.asarray(img, dtype=np.float64)
        else:
            gray = np.asarray(img.convert("RGB"), dtype=np.float64) @ _LUMA
        return gray
    if isinstance(img, torch.Tensor):
        if img.ndim == 2:
            arr = img.detach().cpu().double().numpy()
        elif img.ndim == 3 and 1 <= img.shape[0] <= 4:
            arr = img.detach().cpu().double().numpy().transpose(1, 2, 0)
        else:
            raise ValueError(
                "A tensor image must have shape (h, w) or (c, h, w) with 1 to 4 "
                f"channels (one image at a time), got {tuple(img.shape)}."
            )
    elif isinstance(img, np.ndarray):
        if img.ndim == 2 or (img.ndim == 3 and 1 <= img.shape[2] <= 4):
            arr = img.astype(np.float64, copy=False)
        else:
            raise ValueError(
                "An array image must have shape (h, w) or (h, w, c) with 1 to 4 "
                f"channels, got {img.shape}."
            )
    else:
        raise TypeError(
            "Expected a PIL image, a numpy array (h, w[, c]) or a torch tensor "
            f"(c, h, w); got {type(img).__name__}."
        )
    if arr.ndim == 2:
        return arr
    if arr.shape[2] >= 3:
        return arr[..., :3] @ _LUMA
    return arr[..., 0]


def _image_size(img):
    """(height, width) of any supported image (shape checked by _to_gray)."""
    if isinstance(img, Image.Image):
        return img.height, img.width
    if isinstance(img, torch.Tensor):
        if img.ndim not in (2, 3):
            _to_gray(img)  # raises the explanatory error
        return tuple(img.shape[-2:])
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            _to_gray(img)
        return tuple(img.shape[:2])
    return _to_gray(img).shape  # raises TypeError for unsupported types


def _as_pil_8bit(img):
    """The image as an 8-bit PIL image when that is lossless, else None."""
    if isinstance(img, Image.Image):
        return None if img.mode in ("I", "I;16", "I;16B", "I;16L", "F") else img
    if isinstance(img, torch.Tensor):
        if img.dtype != torch.uint8 or img.ndim not in (2, 3):
            return None
        arr = img.detach().cpu().numpy()
        arr = arr if arr.ndim == 2 else arr.transpose(1, 2, 0)
    elif isinstance(img, np.ndarray) and img.dtype == np.uint8:
        arr = img
    else:
        return None
    if arr.ndim == 3:
        if not 1 <= arr.shape[2] <= 4:
            return None
        arr = arr[..., :3] if arr.shape[2] >= 3 else arr[..., 0]
    return Image.fromarray(np.ascontiguousarray(arr))


def _shrunk_gray(img, max_size):
    """Brightness shrunk by block means, the shrink factor and the full size."""
    h, w = _image_size(img)
    big = max(h, w)
    factor = 1 if max_size is None or big == 0 else max(1, math.ceil(big / max_size))
    pil = _as_pil_8bit(img) if factor > 1 else None
    if pil is not None:
        # Pillow's luma and box reduction run in C: several times faster on
        # large 8-bit images than the same block means in numpy.
        gray = pil if pil.mode == "L" else pil.convert("L")
        return np.asarray(gray.reduce(factor), dtype=np.float64), factor, (h, w)
    return _downsample(_to_gray(img), factor), factor, (h, w)


def _otsu(gray, lo, hi):
    """Lowest value of the bright class in Otsu's two-class split."""
    hist, edges = np.histogram(gray, bins=256, range=(lo, hi))
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist, dtype=np.float64)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu0 = m0 / w0
        mu1 = (m0[-1] - m0) / w1
        between = w0 * w1 * (mu0 - mu1) ** 2
    between = np.nan_to_num(between[:-1], nan=-1.0)
    return edges[int(np.argmax(between)) + 1]


def _downsample(gray, factor):
    """Block means over ``factor`` x ``factor`` tiles (edges padded)."""
    if factor == 1:
        return gray
    h, w = gray.shape
    ph, pw = -h % factor, -w % factor
    gray = np.pad(gray, ((0, ph), (0, pw)), mode="edge")
    H, W = gray.shape[0] // factor, gray.shape[1] // factor
    return gray.reshape(H, factor, W, factor).mean(axis=(1, 3))


def _pixels(value, reference):
    """An int is already pixels; a float is a share of ``reference``."""
    if isinstance(value, Integral):
        return int(value)
    return int(round(value * reference))


def _fit_axis(start, length, limit, shift):
    """Keep [start, start + length) inside [0, limit)."""
    if shift:
        length = min(length, limit)
        start = min(max(start, 0), limit - length)
        return start, length
    stop = min(start + length, limit)
    start = max(start, 0)
    return start, stop - start


def _find_box(img, threshold, padding, square, closing, min_area, max_size):
    """(top, left, height, width) of the shell plus padding, or None."""
    small, factor, (h, w) = _shrunk_gray(img, max_size)
    if h == 0 or w == 0:
        return None
    lo, hi = float(np.min(small)), float(np.max(small))
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return None  # blank image: nothing to find
    cut = _otsu(small, lo, hi) if threshold == "otsu" else lo + threshold * (hi - lo)
    mask = small >= cut if threshold == "otsu" else small > cut
    if not mask.any():
        return None
    eight = np.ones((3, 3), dtype=bool)
    radius = _pixels(closing, min(h, w)) // factor
    joined = (
        ndimage.binary_dilation(mask, structure=eight, iterations=radius)
        if radius > 0
        else mask
    )
    labels, n = ndimage.label(joined, structure=eight)
    area = np.bincount(labels[mask], minlength=n + 1)
    area[0] = 0
    best = int(np.argmax(area))
    if area[best] == 0 or area[best] < min_area * mask.size:
        return None
    shell = (labels == best) & mask
    rows = np.flatnonzero(shell.any(axis=1))
    cols = np.flatnonzero(shell.any(axis=0))
    # On a shrunk copy, blocks the shell only partly covers may fall below the
    # threshold: widen by one block so the shell is never cut.
    grow = factor if factor > 1 else 0
    top, bottom = (
        max(rows[0] * factor - grow, 0),
        min((rows[-1] + 1) * factor + grow, h),
    )
    left, right = (
        max(cols[0] * factor - grow, 0),
        min((cols[-1] + 1) * factor + grow, w),
    )
    height, width = bottom - top, right - left

    pad = _pixels(padding, max(height, width))
    top, left = top - pad, left - pad
    height, width = height + 2 * pad, width + 2 * pad
    if square:
        side = max(height, width)
        top -= (side - height) // 2
        left -= (side - width) // 2
        height = width = side
    top, height = _fit_axis(top, height, h, shift=square)
    left, width = _fit_axis(left, width, w, shift=square)
    return int(top), int(left), int(height), int(width)


def _crop(img, box):
    top, left, height, width = box
    if isinstance(img, Image.Image):
        return img.crop((left, top, left + width, top + height))
    if isinstance(img, np.ndarray):
        return img[top : top + height, left : left + width]
    return F.crop(img, top, left, height, width)


class CropBorders(Transform):
    """Crop an image to the largest bright object: the shell, not its frame.

    A transform in the torchvision-v2 style (an :class:`torch.nn.Module`
    usable inside :class:`torchvision.transforms.v2.Compose`) that also takes
    PIL images and numpy arrays.  The box is found on the first image of the
    input and applied to every part of it that has a position (tensors,
    ``tv_tensors`` bounding boxes and masks, arrays of the image's size), so
    detection or segmentation samples stay aligned.

    Parameters
    ----------
    threshold : "otsu" or float in (0, 1), default="otsu"
        How bright a pixel must be to belong to an object: Otsu's threshold
        on the image's histogram, or a share of its intensity range
        (``min + threshold * (max - min)``).
    padding : int or float, default=0.05
        Space kept around the shell's box on each side: pixels (int) or a
        share of the box's longer side (float).
    square : bool, default=False
        Grow the box's shorter side to make it square (centred, moved back
        inside the image when it sticks out; an image narrower than the box
        limits it), which keeps the shell's shape through a later square
        resize.
    closing : int or float, default=0.01
        Bright parts closer than this are joined into one object before the
        largest is chosen, so a shell split by dark sutures stays whole:
        pixels (int) or a share of the image's shorter side (float).
    min_area : float in [0, 1), default=0.001
        If the largest object covers less than this share of the image, the
        image is returned unchanged (dark noise, no shell).
    max_size : int or None, default=512
        The box is searched on a copy shrunk (by block averaging) so its
        longer side is at most ``max_size`` pixels, and widened by one block
        (``ceil(longer side / max_size)`` pixels) on each side so the shell is
        never cut; the crop is applied at full resolution.  ``None`` searches
        at full resolution (exact box, slower on large images).
    margin : int, float or None, default=None
        Former name of ``padding``; when given, its value is used.

        .. deprecated:: 0.2
           ``margin`` was renamed ``padding`` in 0.2 and will be removed in
           0.3.

    See Also
    --------
    crop_borders : The same crop as a function, optionally returning the box.
    vgestimators.datasets.load_image_folder : List the files of a
        folder-per-class image set.

    Notes
    -----
    Inputs: PIL images, numpy arrays of shape (h, w) or (h, w, c) with any
    dtype, and torch tensors (``tv_tensors.Image`` or plain) of shape (h, w)
    or (c, h, w); one image at a time.  The output has the input's type (a
    numpy crop is a view; a PIL crop is a new image).  Brightness is the
    ITU-R 601 luminance of RGB inputs (alpha ignored).

    The shell must be brighter than its surroundings, as under the dark-field
    lighting of Endless Forams; invert images with a bright background first.
    On a mid-grey background framed in black, Otsu's threshold may separate
    frame from background instead, and only the frame is cropped away; a
    relative ``threshold`` above the background's brightness then helps.

    Degenerate images come back unchanged: a blank image (one value
    everywhere), one with no pixel above the threshold, and one whose largest
    object is smaller than ``min_area``.  An image that is bright everywhere
    is one large object, so its box is the whole image and it is also
    unchanged.  Text or a scale bar touching the shell (closer than
    ``closing``) joins it and widens the box.

    Examples
    --------
    >>> import numpy as np
    >>> from torchvision.transforms import v2
    >>> from vgestimators.vision import CropBorders
    >>> img = np.zeros((100, 120, 3), dtype=np.uint8)
    >>> img[30:60, 40:80] = 200          # the shell
    >>> img[90:95, 90:118] = 255         # a scale bar in the corner
    >>> CropBorders(padding=0).get_box(img)
    (30, 40, 30, 40)
    >>> pipeline = v2.Compose([v2.ToImage(), CropBorders(padding=5, square=True),
    ...                        v2.Resize((64, 64))])
    >>> tuple(pipeline(img).shape)
    (3, 64, 64)
    """

    _transformed_types = (torch.Tensor, Image.Image, np.ndarray)

    def __init__(
        self,
        *,
        threshold="otsu",
        padding=0.05,
        square=False,
        closing=0.01,
        min_area=0.001,
        max_size=512,
        margin=None,
    ):
        super().__init__()
        padding = _padding(padding, margin)
        _check_params(threshold, padding, square, closing, min_area, max_size)
        self.threshold = threshold
        self.padding = padding
        self.square = square
        self.closing = closing
        self.min_area = min_area
        self.max_size = max_size

    def __setstate__(self, state):
        # a transform pickled before the rename holds the padding as ``margin``
        if "margin" in state and "padding" not in state:
            state = {**state}
            state["padding"] = state.pop("margin")
        super().__setstate__(state)

    def get_box(self, img):
        """Crop box of one image, or None when it would be left unchanged.

        Parameters
        ----------
        img : PIL.Image.Image, ndarray or torch.Tensor
            One image (see the class's Notes for the shapes accepted).

        Returns
        -------
        box : tuple of int or None
            ``(top, left, height, width)``, the order of
            :func:`torchvision.transforms.v2.functional.crop`.
        """
        return _find_box(
            img,
            self.threshold,
            self.padding,
            self.square,
            self.closing,
            self.min_area,
            self.max_size,
        )

    def make_params(self, flat_inputs):
        """Find the box on the first image of a sample (torchvision-v2 hook).

        Parameters
        ----------
        flat_inputs : list
            The sample's parts that the transform handles.

        Returns
        -------
        params : dict
            ``{"box": (top, left, height, width) or None, "size": (h, w)}``.
        """
        image = _first_image(flat_inputs)
        if image is None:
            return {"box": None, "size": None}
        return {"box": self.get_box(image), "size": _image_size(image)}

    def transform(self, inpt, params):
        """Crop one part of a sample to ``params["box"]`` (torchvision-v2 hook).

        Parameters
        ----------
        inpt : PIL.Image.Image, ndarray, torch.Tensor or tv_tensors object
            One part of the sample.
        params : dict
            From :meth:`make_params`.

        Returns
        -------
        out : same type as ``inpt``
            Cropped; unchanged when no box was found, and for arrays whose
            size differs from the image's.
        """
        box = params["box"]
        if box is None:
            return inpt
        if isinstance(inpt, np.ndarray):
            # Crop arrays of the image's size (image, mask); leave the rest.
            if inpt.ndim >= 2 and tuple(inpt.shape[:2]) == tuple(params["size"]):
                return _crop(inpt, box)
            return inpt
        return self._call_kernel(F.crop, inpt, *box)


def _first_image(flat_inputs):
    """The input the box is found on: the first image-like entry."""
    for inpt in flat_inputs:
        if isinstance(inpt, (Image.Image, tv_tensors.Image)):
            return inpt
        if isinstance(inpt, np.ndarray) and inpt.ndim in (2, 3):
            return inpt
        if type(inpt) is torch.Tensor:
            return inpt
    return None


def crop_borders(
    img,
    *,
    threshold="otsu",
    padding=0.05,
    square=False,
    closing=0.01,
    min_area=0.001,
    max_size=512,
    return_box=False,
    margin=None,
):
    """Crop one image to its largest bright object (the shell).

    Function form of :class:`CropBorders`; see there for the method and for
    what happens to degenerate images (returned unchanged).

    Parameters
    ----------
    img : PIL.Image.Image, ndarray of shape (h, w) or (h, w, c), or \
torch.Tensor of shape (h, w) or (c, h, w)
        The image.
    threshold : "otsu" or float in (0, 1), default="otsu"
        Brightness threshold: Otsu's, or a share of the intensity range.
    padding : int or float, default=0.05
        Space kept around the shell: pixels (int) or a share of the box's
        longer side (float).
    square : bool, default=False
        Make the box square.
    closing : int or float, default=0.01
        Join bright parts closer than this (pixels, or share of the shorter
        image side).
    min_area : float in [0, 1), default=0.001
        Smallest share of the image the shell must cover to be cropped to.
    max_size : int or None, default=512
        Longer side of the shrunk copy on which the box is searched.
    return_box : bool, default=False
        Also return the box ``(top, left, height, width)`` (None when the
        image is returned unchanged).
    margin : int, float or None, default=None
        Former name of ``padding``; when given, its value is used.

        .. deprecated:: 0.2
           ``margin`` was renamed ``padding`` in 0.2 and will be removed in
           0.3.

    Returns
    -------
    cropped : same type as ``img``
        The crop (or ``img`` itself when nothing is found).
    box : tuple of int or None
        Only if ``return_box`` is True.

    See Also
    --------
    CropBorders : The transform, for torchvision pipelines.

    Examples
    --------
    >>> from PIL import Image, ImageDraw
    >>> from vgestimators.vision import crop_borders
    >>> img = Image.new("L", (200, 150))
    >>> ImageDraw.Draw(img).ellipse((60, 40, 120, 110), fill=180)
    >>> ImageDraw.Draw(img).rectangle((150, 135, 195, 145), fill=255)  # label
    >>> cropped, box = crop_borders(img, padding=0, return_box=True)
    >>> box
    (40, 60, 71, 61)
    >>> cropped.size
    (61, 71)
    """
    padding = _padding(padding, margin)
    _check_params(threshold, padding, square, closing, min_area, max_size)
    box = _find_box(img, threshold, padding, square, closing, min_area, max_size)
    out = img if box is None else _crop(img, box)
    return (out, box) if return_box else out
