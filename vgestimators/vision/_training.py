"""One training of the embedder: its data set, the run, what it leaves behind."""

import numpy as np

from ..utils._labels import check_labels
from ._build import augmentation
from ._data import ImageDataset, _is_torch_dataset, as_image_source


def _labels(X, y):
    if y is None:
        y = getattr(X, "targets", None) if _is_torch_dataset(X) else None
        if y is None:
            raise ValueError(
                "TripletImageEmbedder.fit needs labels y (or a torch Dataset "
                "with a `targets` attribute)."
            )
    try:
        n_images = len(X)
    except TypeError:
        as_image_source(X)  # raises the message listing accepted kinds
        raise
    return check_labels(
        y,
        n_images,
        min_classes=2,
        too_few=(
            "y holds a single class ({classes[0]!r}); triplet training "
            "needs at least 2 classes."
        ),
    )


def training_set(X, y, *, image_size, augment, on_bad_image, image_check, purpose):
    """The classes, their image counts and the dataset of a training.

    Parameters
    ----------
    X : array-like or torch Dataset
        Images of any kind :class:`ImageDataset` takes.
    y : array-like of shape (n_samples,) or None
        Class labels (None: the ``targets`` of a torch Dataset).
    image_size, augment, on_bad_image, image_check
        As the embedder's parameters (``on_bad_image`` as this call
        applies it).
    purpose : {"fit", "fit_transform"}
        The call, named in the errors about unreadable images.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        The sorted classes of ``y``.
    counts : ndarray of shape (n_classes,)
        Readable training images per class.
    dataset : ImageDataset
        The training images, augmented, with their class codes.
    """
    _, classes, encoded, _ = _labels(X, y)
    dataset = ImageDataset(
        X,
        encoded,
        image_size=image_size,
        transform=augmentation(augment, image_size),
        on_bad_image=on_bad_image,
        purpose=purpose,
        decode_check=image_check == "decode",
    )
    counts = np.bincount(dataset.labels, minlength=len(classes))
    if (counts == 0).any():
        raise ValueError(
            f"All images of classes {classes[counts == 0].tolist()} are "
            "unreadable and were skipped; fix or remove them."
        )
    if len(dataset) < 2:
        raise ValueError("fit needs at least 2 images.")
    return classes, counts, dataset


def count_batches(net, dataset):
    """Training batches of one epoch, counted from the batch sampler.

    Only indices are drawn (no image is loaded), from a fresh iterator whose
    sampler has its own seeded state; ``len()`` of a DataLoader is not
    reliable for pytorch-metric-learning's m-per-class sampler.
    """
    loader = net.get_iterator(dataset, training=True)
    return sum(1 for _ in loader.batch_sampler)


def train(net, dataset, *, max_epochs, lr_schedule, validation_fraction, verbose):
    """Train an initialised net on ``dataset`` (skorch's ``partial_fit``).

    The one-cycle schedule gets its number of steps and the progress bar its
    batches per epoch, counted from the sampler first.

    Parameters
    ----------
    net : EmbedderNet
        Initialised (from :func:`~._build.build_net`).
    dataset : ImageDataset
        Training images and labels.
    max_epochs, lr_schedule, validation_fraction, verbose
        As the embedder's parameters.

    Returns
    -------
    net : EmbedderNet
        The same net, trained.
    """
    per_epoch = count_batches(net, dataset)
    if verbose >= 2:
        # skorch counts len(dataset) / batch_size, which the samplers
        # (m-per-class batches, a dropped last batch) do not follow;
        # with a validation split, its own count of the first epoch
        net.set_params(
            callbacks__progress_bar__batches_per_epoch=(
                per_epoch if validation_fraction is None else "count"
            )
        )
    if lr_schedule == "onecycle":
        # (with a validation split, an upper bound: safe for OneCycleLR)
        net.set_params(
            callbacks__lr_scheduler__total_steps=max(1, max_epochs * per_epoch)
        )
    return net.partial_fit(dataset, None)


def drop_optimizer_state(net):
    """Free what only training needs: the optimizer's state and its scheduler.

    The optimizer's running moments (twice the weights for AdamW) are not
    needed once training is over: warm_start continues from the weights
    alone, with a fresh optimizer. Dropping them keeps saved models small.

    Parameters
    ----------
    net : EmbedderNet
        A trained net, changed in place.

    Returns
    -------
    net : EmbedderNet
        The same net.
    """
    from skorch.callbacks import LRScheduler

    net.optimizer_.state.clear()
    for _, callback in net.callbacks_:
        if isinstance(callback, LRScheduler):
            callback.lr_scheduler_ = None  # holds the optimizer too
    return net
