"""Frozen pretrained features against a trained embedder: fit and transform time.

The same images (in memory, uint8), the same torchvision backbone and image
size, on the same device:

* ``PretrainedImageEmbedder``: ``fit`` loads the weights (a local file of
  the architecture, written here with random values: the time does not
  depend on them, and the sandbox has no internet for ImageNet's), then
  ``transform`` embeds;
* ``TripletImageEmbedder``: ``fit`` trains ``--epochs`` epochs, then
  ``transform`` embeds.

It prints the seconds of each, images/s of ``transform`` (and of the
training), and how many times sooner a training-free model is ready
(``ready ratio``: fit + transform of the trained embedder over those of the
frozen one).

Examples::

    python benchmarks/bench_pretrained.py                       # CPU, resnet18, 96 px
    python benchmarks/bench_pretrained.py --backbone resnet50 --image-size 224 \\
        --device cuda --n-images 4096
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def _timed(function):
    start = time.perf_counter()
    out = function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--n-images", type=int, default=740)
    parser.add_argument("--n-classes", type=int, default=34)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    from torchvision.models import get_model

    from vgestimators.vision import PretrainedImageEmbedder, TripletImageEmbedder

    rng = np.random.default_rng(0)
    size = args.image_size
    X = rng.integers(0, 256, (args.n_images, size, size, 3), dtype=np.uint8)
    y = np.arange(args.n_images) % args.n_classes
    print(
        f"{args.n_images} images of {size} px, {args.n_classes} classes, "
        f"{args.backbone}, {args.device}; {platform.platform()}, "
        f"{torch.get_num_threads()} threads, torch {torch.__version__}"
    )
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "weights.pth"
        torch.save(get_model(args.backbone).state_dict(), weights)
        frozen = PretrainedImageEmbedder(
            args.backbone,
            weights=weights,
            image_size=size,
            batch_size=args.batch_size,
            device=args.device,
        )
        _, frozen_fit = _timed(frozen.fit)
        _, frozen_transform = _timed(lambda: frozen.transform(X))
    trained = TripletImageEmbedder(
        backbone=args.backbone,
        image_size=size,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        device=args.device,
        verbose=0,
        random_state=0,
    )
    _, trained_fit = _timed(lambda: trained.fit(X, y))
    _, trained_transform = _timed(lambda: trained.transform(X))
    rows = [
        ("PretrainedImageEmbedder", frozen_fit, frozen_transform),
        (
            f"TripletImageEmbedder ({args.epochs} epochs)",
            trained_fit,
            trained_transform,
        ),
    ]
    print(f"{'':42s} {'fit s':>9s} {'transform s':>12s} {'ready s':>9s}")
    for name, fit, transform in rows:
        print(f"{name:42s} {fit:9.1f} {transform:12.1f} {fit + transform:9.1f}")
    n = args.n_images
    print(f"frozen transform images/s: {n / frozen_transform:.1f}")
    print(f"trained transform images/s: {n / trained_transform:.1f}")
    print(f"trained fit images/s: {n * args.epochs / trained_fit:.1f}")
    ready = (trained_fit + trained_transform) / (frozen_fit + frozen_transform)
    print(f"ready ratio trained/frozen: {ready:.1f}")


if __name__ == "__main__":
    main()
