"""Peak memory and time of decoding one very large image file.

Writes a ``--side`` x ``--side`` RGB PNG or JPEG (``--format``; default a
12,000 x 12,000 PNG: 144 Mpixel, over PIL's default ``MAX_IMAGE_PIXELS`` of
89.5 Mpixel and under twice it) to a temporary folder, then measures each way of turning it into
an ``--image-size`` training tensor in a fresh subprocess, which reports its
peak resident memory (``resource.getrusage``) and wall time:

* ``imports``: the interpreter with torch, torchvision and PIL imported and
  nothing decoded (the floor of the others' peak memory);
* ``full``: the decoding before large images were reduced: header check,
  full-size RGB decode, numpy array, torch tensor, antialiased resize;
* ``reduced``: ``ImageDataset(..., purpose="transform")[0]``: header check,
  then the file reduced in PIL (``Image.reduce``) before it becomes an array;
* ``fit check``: the full decode of every file that ``fit`` runs before
  training (``scan_image_files(decode=True)``);
* ``fit item``: ``ImageDataset(..., purpose="fit")[0]``: that check, then
  the reduced decode.

A PNG has no reduced-scale decoding: its pixels are decoded in full into
PIL's memory (4 bytes a pixel for RGB) and reduced there, so that one image
is the floor of its peak; a JPEG is decoded at 1/8 scale (DCT scaling).

It prints the figures and the ratios of ``full`` to ``reduced``, and the
number of PIL ``DecompressionBombWarning`` each way raised.

Examples::

    python benchmarks/bench_large_images.py
    python benchmarks/bench_large_images.py --format jpeg
    python benchmarks/bench_large_images.py --side 4000 --image-size 128
"""

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("imports", "full", "reduced", "fit check", "fit item")


def write_png(path, side):
    """An RGB test pattern: two smooth gradients and one band of noise."""
    from PIL import Image

    red = Image.linear_gradient("L").resize((side, side))
    green = Image.radial_gradient("L").resize((side, side))
    blue = Image.effect_noise((side, side), 24)  # texture, as in a photograph
    image = Image.merge("RGB", (red, green, blue))
    if Path(path).suffix == ".png":
        image.save(path, compress_level=1)
    else:
        image.save(path, quality=90)


def _full_decode(path, image_size):
    """The decoding of the code before large images were reduced."""
    import numpy as np
    import torch
    from PIL import Image
    from torchvision.transforms.v2 import functional as F

    with Image.open(path) as im:  # the header check
        im.size  # noqa: B018
    with Image.open(path) as im:
        arr = np.array(im.convert("RGB"), dtype=np.uint8)
    image = torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)
    return F.resize(image, [image_size, image_size], antialias=True)


def child(mode, path, image_size):
    """Run one mode in this (fresh) process and print its figures as JSON."""
    import warnings

    if mode == "write":
        start = time.perf_counter()
        write_png(path, image_size)
        print(json.dumps({"seconds": time.perf_counter() - start}))
        return

    import torch  # noqa: F401 - part of every mode's floor
    from PIL import Image
    from torchvision.transforms.v2 import functional  # noqa: F401

    from vgestimators.utils._images import scan_image_files
    from vgestimators.vision import ImageDataset

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        shape = None
        if mode == "full":
            shape = tuple(_full_decode(path, image_size).shape)
        elif mode == "reduced":
            ds = ImageDataset([path], image_size=image_size, purpose="transform")
            shape = tuple(ds[0][0].shape)
        elif mode == "fit check":
            bad, _ = scan_image_files([path], decode=True, image_size=image_size)
            assert not bad, bad
        elif mode == "fit item":
            ds = ImageDataset([path], [0], image_size=image_size)
            shape = tuple(ds[0][0].shape)
        seconds = time.perf_counter() - start
    bombs = sum(issubclass(w.category, Image.DecompressionBombWarning) for w in caught)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(
        json.dumps(
            {"seconds": seconds, "peak_mib": peak_mib, "bombs": bombs, "shape": shape}
        )
    )


def measure(mode, path, size):
    """Figures of ``mode`` (or ``"write"``, with ``size`` the side) in a child."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path), str(size)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", type=int, default=12_000)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--format", choices=["png", "jpeg"], default="png")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path, image_size = args.child
        child(mode, path, int(image_size))
        return

    with tempfile.TemporaryDirectory() as tmp:
        # every step runs in its own process, this one stays small: Linux
        # counts the RSS of the process forked for a child in the child's
        # ru_maxrss
        path = Path(tmp) / f"large.{args.format}"
        seconds = measure("write", path, args.side)["seconds"]
        print(
            f"wrote {args.side:,} x {args.side:,} {args.format.upper()} "
            f"({path.stat().st_size / 2**20:.0f}"
            f" MiB) in {seconds:.1f} s; image_size={args.image_size}"
        )
        results = {mode: measure(mode, path, args.image_size) for mode in MODES}
    floor = results["imports"]["peak_mib"]
    print(f"{'mode':<10} {'seconds':>8} {'peak MiB':>9} {'above imports':>14} bombs")
    for mode, r in results.items():
        print(
            f"{mode:<10} {r['seconds']:8.2f} {r['peak_mib']:9.0f} "
            f"{r['peak_mib'] - floor:14.0f} {r['bombs']:5d}"
        )
    full, reduced = results["full"], results["reduced"]
    print(
        f"full / reduced: {full['seconds'] / reduced['seconds']:.1f}x the time, "
        f"{(full['peak_mib'] - floor) / max(reduced['peak_mib'] - floor, 1):.1f}x "
        "the memory above the imports"
    )


if __name__ == "__main__":
    main()
