"""Augmentation presets (torchvision transforms v2).

``"shells"`` suits microscope images of foraminifera, which have no
preferred orientation; ``"light"`` only jitters scale and position, so it
keeps what orientation says (digits, letters, most photographs).
"""

from torchvision.transforms import v2


def default_augmentation(image_size, *, scale=(0.85, 1.0), blur_probability=0.3):
    """The ``"shells"`` preset: augmentation for microscope images of shells.

    Shells have no preferred orientation, so the images are rotated by any
    angle and flipped both ways; a small random crop-and-resize jitters the
    scale, and a slight Gaussian blur imitates focus changes. Works on
    image tensors of shape (3, h, w), uint8 or float.

    Parameters
    ----------
    image_size : int
        Side of the square output image.
    scale : tuple of float, default=(0.85, 1.0)
        Range of the area fraction kept by the random crop (scale jitter).
    blur_probability : float, default=0.3
        Probability of applying a slight blur (sigma 0.1 to 1.0 pixels).

    Returns
    -------
    transform : torchvision.transforms.v2.Compose
        Picklable transform, safe to run in DataLoader worker processes.

    See Also
    --------
    TripletImageEmbedder : Applies it to training images when ``augment="shells"``.

    Examples
    --------
    >>> import torch
    >>> from vgestimators.vision import default_augmentation
    >>> aug = default_augmentation(32)
    >>> image = torch.zeros(3, 40, 40, dtype=torch.uint8)
    >>> aug(image).shape, aug(image).dtype
    (torch.Size([3, 32, 32]), torch.uint8)
    """
    return v2.Compose(
        [
            v2.RandomRotation(degrees=180.0),
            v2.RandomHorizontalFlip(),
            v2.RandomVerticalFlip(),
            v2.RandomResizedCrop(
                (image_size, image_size),
                scale=scale,
                ratio=(0.9, 1.1),
                antialias=True,
            ),
            v2.RandomApply([v2.GaussianBlur(3, sigma=(0.1, 1.0))], p=blur_probability),
        ]
    )


def light_augmentation(image_size, *, scale=(0.8, 1.0)):
    """The ``"light"`` preset: a small random crop-and-resize, nothing else.

    No rotation and no flip, so images whose orientation matters (digits,
    text, animals standing upright) keep it.

    Parameters
    ----------
    image_size : int
        Side of the square output image.
    scale : tuple of float, default=(0.8, 1.0)
        Range of the area fraction kept by the random crop.

    Returns
    -------
    transform : torchvision.transforms.v2.RandomResizedCrop
        Picklable transform.

    Examples
    --------
    >>> import torch
    >>> from vgestimators.vision import light_augmentation
    >>> light_augmentation(32)(torch.zeros(3, 40, 40, dtype=torch.uint8)).shape
    torch.Size([3, 32, 32])
    """
    return v2.RandomResizedCrop(
        (image_size, image_size), scale=scale, ratio=(0.9, 1.1), antialias=True
    )


#: Named augmentation presets of ``TripletImageEmbedder(augment=...)``.
AUGMENTATIONS = {"shells": default_augmentation, "light": light_augmentation}
