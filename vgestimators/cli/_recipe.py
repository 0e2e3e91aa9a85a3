"""What ``vgestimators train`` trains on a CPU when no training flag is given.

The estimators' defaults (ResNet50 at 224 px for 20 epochs) are the
strongest measured on a GPU; on a laptop's CPU they take hours for a few
hundred images. The command line then picks a recipe that fits about
:data:`CPU_BUDGET_S` seconds of training on this machine: ResNet18 at the
images' own size (never enlarged, at most 224 px), with as many epochs
(at most 20) as a timed training step says fit.
"""

import math
import time

#: Network of the CPU recipe.
CPU_BACKBONE = "resnet18"
#: Most epochs of the CPU recipe (the estimators' default).
CPU_MAX_EPOCHS = 20
#: Fewest epochs the CPU recipe trains, whatever the estimate.
CPU_MIN_EPOCHS = 5
#: Training time the CPU recipe aims at, in seconds (checks, embedding and
#: calibration come on top: about 15 minutes in all).
CPU_BUDGET_S = 11 * 60
#: Largest image side of the CPU recipe.
CPU_MAX_SIZE = 224
#: Share of the images a cross-fitting hold-out trains on.
HOLDOUT_SHARE = 0.6
#: One training epoch costs this many timed steps per image: the timed step
#: is the network's forward and backward pass alone; decoding, augmentation,
#: mining and the loss add the rest (measured on the development sandbox,
#: 2 cores, ResNet18 at 96 px: a step 0.0111 s per image, an epoch of 740
#: images 9.2 s, of the hold-out's 444 images 6.8 s).
STEP_OVERHEAD = 1.25
#: Embedding an image costs this share of a training step.
EMBED_SHARE = 0.35


def seconds_per_image(backbone, image_size, *, batch_size=32, repeats=2):
    """Time one training step (forward and backward) of the network here.

    Parameters
    ----------
    backbone : str
        A ResNet of :func:`~vgestimators.vision.build_backbone`.
    image_size : int
        Image side; the stem is the embedder's default (``stem="auto"``).
    batch_size : int, default=32
        Images of the timed batch.
    repeats : int, default=2
        Timed steps, after one untimed (warm-up) step.

    Returns
    -------
    seconds : float
        Per image of one step.
    """
    import torch

    from ..vision import TripletImageEmbedder

    embedder = TripletImageEmbedder(
        backbone=backbone, image_size=image_size, device="cpu", verbose=0
    ).initialize(classes=[0, 1])
    network = embedder.net_.module_.train()
    images = torch.rand(batch_size, 3, image_size, image_size)
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        network(images).square().mean().backward()
        times.append(time.perf_counter() - start)
    return min(times[1:]) / batch_size


def cpu_recipe(n_images, side, holdouts, *, speed=None):
    """The CPU recipe for ``n_images`` images of about ``side`` pixels.

    Parameters
    ----------
    n_images : int
        Training images.
    side : int or None
        Their typical shorter side (None: :data:`CPU_MAX_SIZE`).
    holdouts : int
        Cross-fitting hold-outs (each trains once more on about 60%).
    speed : float or None, default=None
        Seconds per image of a training step (None: timed here).

    Returns
    -------
    recipe : dict
        ``backbone``, ``image_size``, ``max_epochs`` and ``estimate_s``, the
        expected time of the trainings and the embedding.
    """
    image_size = int(min(side or CPU_MAX_SIZE, CPU_MAX_SIZE))
    image_size = max(16, image_size)
    if speed is None:
        speed = seconds_per_image(CPU_BACKBONE, image_size)
    trained_images = n_images * (1 + HOLDOUT_SHARE * holdouts)
    per_epoch = speed * STEP_OVERHEAD * trained_images
    epochs = math.floor(CPU_BUDGET_S / per_epoch) if per_epoch > 0 else CPU_MAX_EPOCHS
    epochs = int(min(CPU_MAX_EPOCHS, max(CPU_MIN_EPOCHS, epochs)))
    embedding = speed * EMBED_SHARE * n_images * (1 + (1 - HOLDOUT_SHARE) * holdouts)
    return {
        "backbone": CPU_BACKBONE,
        "image_size": image_size,
        "max_epochs": epochs,
        "estimate_s": epochs * per_epoch + embedding,
    }


def enlargement(side, image_size):
    """A warning when ``image_size`` enlarges images of about ``side`` pixels."""
    if side is None or image_size <= 1.1 * side:
        return None
    return (
        f"the images are about {side} px and are enlarged to {image_size} px: "
        f"about {(image_size / side) ** 2:.0f}x the computation for no more "
        f"detail (--image-size {side} keeps their size)"
    )
