"""Checking image files before they are used: one home for every loader."""

import os
import warnings

import numpy as np

# Large images are shrunk in PIL to no less than REDUCING_GAP * image_size a
# side; the final antialiased resize from there looks the same as from the
# full image (PIL's own ``reducing_gap`` rule), and images under twice that
# are left as they are.
REDUCING_GAP = 2


def _check_image_file(path, *, decode=False, image_size=224):
    """Check one image file; return ``(reason, size)``.

    ``reason`` is None if the file is readable, else why not; ``size`` is
    ``(width, height)`` read from the header, or None. With ``decode=True``
    the pixels are decoded too (JPEG at reduced scale, as the dataset
    decodes it), which catches truncated or corrupt image bodies.
    """
    from PIL import Image

    path = os.fspath(path)
    if isinstance(path, str):
        path = str(path)  # PIL's messages show repr(path): np.str_('...')
    if not os.path.isfile(path):
        return "no such file", None
    size = None
    try:
        with Image.open(path) as im:
            size = im.size
            if decode:
                target = REDUCING_GAP * image_size
                im.draft("RGB", (target, target))
                im.load()
    except Image.DecompressionBombError as exc:
        return (
            f"too large for PIL: {exc} If you trust the file, raise "
            f"PIL.Image.MAX_IMAGE_PIXELS (now {Image.MAX_IMAGE_PIXELS:,}; PIL "
            "refuses images over twice it)",
            None,
        )
    except Exception as exc:  # noqa: BLE001 - any failure makes the file unusable
        what = "cannot be read as an image" if size is None else "cannot be decoded"
        return f"{what} ({type(exc).__name__}: {exc})", size
    return None, size


def scan_image_files(paths, *, decode=False, image_size=224):
    """Check image files before any is served; return ``(bad, large)``.

    ``bad`` lists ``(row, path, reason)`` for each unreadable file and
    ``large`` lists ``(row, path, (width, height))`` for each readable file
    over PIL's ``MAX_IMAGE_PIXELS``, both in row order. Without ``decode``
    only each header is read (the file exists and is an image of a known
    format); with ``decode`` every file is decoded in full, in threads (PIL
    releases the GIL while decoding).
    """
    from joblib import Parallel, delayed
    from PIL import Image

    with warnings.catch_warnings():
        # large images are reported once by the caller, not once per file;
        # threads, not processes, so that they share these filters
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        if decode and len(paths) > 1:
            results = Parallel(n_jobs=-1, backend="threading")(
                delayed(_check_image_file)(path, decode=True, image_size=image_size)
                for path in paths
            )
        else:
            results = [
                _check_image_file(path, decode=decode, image_size=image_size)
                for path in paths
            ]
    limit = Image.MAX_IMAGE_PIXELS
    bad, large = [], []
    for row, (path, (reason, size)) in enumerate(zip(paths, results, strict=True)):
        if reason is not None:
            bad.append((row, path, reason))
        elif limit and size[0] * size[1] > limit:
            large.append((row, path, size))
    return bad, large


def typical_image_side(paths, *, sample=200):
    """Median shorter side of image files, from the headers of a sample.

    Parameters
    ----------
    paths : sequence of str
        Image files (unreadable ones are passed over).
    sample : int, default=200
        Files read, evenly spaced over ``paths``.

    Returns
    -------
    side : int or None
        None when no file of the sample could be read.
    """
    from PIL import Image

    paths = list(paths)
    step = max(1, len(paths) // sample)
    sides = []
    for path in paths[::step][:sample]:
        try:
            with Image.open(path) as im:
                sides.append(min(im.size))
        except (OSError, ValueError):
            continue
    return int(np.median(sides)) if sides else None
