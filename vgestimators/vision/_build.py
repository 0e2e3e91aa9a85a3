"""Builders of the image estimators' skorch nets, from explicit parameters.

The network settings, the losses, the augmentation, the callbacks, the
autocast precision and the class weights of a
:class:`~vgestimators.vision.TripletImageEmbedder` (which passes its
parameters), the seeded device a training runs on, and the move of a
fitted net to another device. :class:`SoftmaxImageClassifier` uses the
same network, class weights, augmentation and seeded device.
"""

import contextlib

import numpy as np
import torch
from sklearn.base import clone
from sklearn.utils.class_weight import compute_class_weight
from torch import nn

from ..utils._device import is_cuda, resolve_device
from ..utils._random import derive_seed, torch_seeded


def resolve_precision(precision, device):
    """The autocast dtype of ``precision`` on ``device`` (None: float32).

    Parameters
    ----------
    precision : {"auto", "bf16", "fp32"}
        "auto" is bf16 on CUDA (where supported), float32 elsewhere.
    device : str or torch.device
        The device the network computes on.

    Returns
    -------
    dtype : torch.dtype or None
    """
    on_cuda = is_cuda(device)
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if on_cuda and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def class_weights(class_weight, counts):
    """float32 weights of the classes (None unless ``"balanced"``).

    Parameters
    ----------
    class_weight : "balanced" or None
        The estimator's ``class_weight``.
    counts : array-like of shape (n_classes,)
        Training images per class.

    Returns
    -------
    weights : ndarray of shape (n_classes,), float32, or None
        scikit-learn's "balanced" weights, inversely proportional to
        ``counts``.
    """
    if class_weight != "balanced":
        return None
    classes = np.arange(len(counts))
    encoded = np.repeat(classes, counts)
    return compute_class_weight("balanced", classes=classes, y=encoded).astype(
        np.float32
    )


def alignment_anchors(anchors, weight, classes, *, standardize):
    """The anchors of aligned fine-tuning, read by ``genetics.read_anchors``.

    Every check of the aligners' anchors applies (formats, NaN, all-zero
    or identical anchors, names paired with ``classes`` in other
    spellings), then every class needs an anchor.

    Returns
    -------
    matrix : ndarray of shape (n_anchors, n_features) or None
        The (standardised) anchors; None without alignment.
    rows : ndarray of shape (n_classes,) or None
        The anchor row of each class of ``classes``.
    table : DataFrame or None
        ``matrix`` indexed by label (the embedder's ``anchors_``).
    """
    if anchors is None or weight == 0:
        if weight > 0:
            raise ValueError("alignment_weight > 0 needs alignment_anchors.")
        return None, None, None
    from ..genetics import read_anchors

    read = read_anchors(anchors, classes=classes, standardize=standardize)
    position = {label: i for i, label in enumerate(read.labels)}
    missing = [c for c in classes.tolist() if c not in position]
    if missing:
        raise ValueError(
            f"alignment_anchors has no anchor for classes {missing}; every "
            "class of y needs one."
        )
    rows = np.array([position[c] for c in classes.tolist()])
    return read.matrix, rows, read.table.rename_axis("label")


def augmentation(augment, image_size):
    """The training transform that ``augment`` names (None: no augmentation).

    Parameters
    ----------
    augment : {"light", "shells"}, bool or callable
        A preset of :data:`AUGMENTATIONS` (True: "shells"), False, or the
        transform itself.
    image_size : int
        Side of the (square) training images.

    Returns
    -------
    transform : callable or None
    """
    from ._transforms import AUGMENTATIONS

    if callable(augment):
        return augment
    if isinstance(augment, str):
        return AUGMENTATIONS[augment](image_size)
    if augment:  # True: the shells preset, as in earlier versions
        return AUGMENTATIONS["shells"](image_size)
    return None


def metric_loss(
    loss,
    *,
    n_classes,
    embedding_dim,
    class_counts,
    class_weight,
    triplet_margin,
    softmax_weight,
    logit_adjustment,
):
    """The metric loss module of the embedder's ``loss`` parameter.

    Built under the training seed: :class:`SoftmaxTripletLoss` holds a
    softmax head, whose initial weights are drawn here.

    Parameters
    ----------
    loss : {"triplet", "reciprocal", "softmax_triplet"} or nn.Module
        The loss's name, or a loss module (a copy is returned).
    n_classes, embedding_dim : int
        Classes and embedding width (the softmax head's size).
    class_counts : ndarray of shape (n_classes,)
        Training images per class (priors of the logit adjustment).
    class_weight : ndarray of shape (n_classes,) or None
        Weights of the softmax term.
    triplet_margin, softmax_weight, logit_adjustment : float
        As the embedder's parameters.

    Returns
    -------
    loss : nn.Module
        Called as ``loss(embeddings, labels, indices_tuple)``.
    """
    from pytorch_metric_learning.losses import TripletMarginLoss

    from ..losses import ReciprocalTripletLoss, SoftmaxTripletLoss

    if isinstance(loss, nn.Module):
        return clone(loss, safe=False)
    if loss == "triplet":
        return TripletMarginLoss(margin=triplet_margin)
    if loss == "reciprocal":
        return ReciprocalTripletLoss()
    return SoftmaxTripletLoss(
        n_classes,
        embedding_dim,
        softmax_weight=softmax_weight,
        triplet_loss=TripletMarginLoss(margin=triplet_margin),
        class_counts=class_counts,
        tau=logit_adjustment,
        class_weight=class_weight,
    )


def training_callbacks(callbacks, *, validation_fraction, lr_schedule, lr, verbose):
    """The net's callbacks, in order: k-NN scoring, the user's, schedule, bar.

    Parameters
    ----------
    callbacks : list of skorch callbacks or None
        The user's callbacks (cloned: the user's objects stay untouched).
    validation_fraction : float or None
        With a validation split, the k-NN scoring comes first.
    lr_schedule : {"onecycle", "constant"}
        "onecycle" adds a one-cycle LRScheduler peaking at ``lr`` (its
        number of steps is set once the sampler is known).
    lr : float
        Peak learning rate.
    verbose : int
        2 or more adds a progress bar.

    Returns
    -------
    callbacks : list
        Callbacks and ``(name, callback)`` pairs, as skorch takes them.
    """
    from skorch.callbacks import LRScheduler, ProgressBar

    from ._net import KNNValidationScoring

    callbacks = list(clone(callbacks, safe=False) or [])
    if validation_fraction is not None:
        callbacks.insert(0, ("valid_knn", KNNValidationScoring(n_neighbors=5)))
    if lr_schedule == "onecycle":
        # warm-up then cosine annealing, stepped every batch; the number
        # of steps is set before training, once the sampler is known
        callbacks.append(
            (
                "lr_scheduler",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.OneCycleLR,
                    max_lr=lr,
                    total_steps=1,
                    step_every="batch",
                    # a fresh cycle each fit, also when warm_start
                    # continues the history
                    last_epoch=-1,
                ),
            )
        )
    if verbose >= 2:
        callbacks.append(("progress_bar", ProgressBar()))
    return callbacks


def network_params(*, backbone, weights, embedding_dim, stem, image_size, **options):
    """skorch settings of an :class:`EmbeddingNetwork` (``module`` and its options).

    Parameters
    ----------
    backbone, weights, embedding_dim, stem, image_size
        As the estimators' parameters (``embedding_dim``: the output width).
    **options
        Further options of the network (``head_hidden_dim``, ``dropout``).

    Returns
    -------
    params : dict
        ``module`` and ``module__<name>`` keyword arguments of a skorch net.
    """
    from ._net import EmbeddingNetwork

    return {
        "module": EmbeddingNetwork,
        "module__backbone": backbone,
        "module__weights": weights,
        "module__embedding_dim": embedding_dim,
        "module__stem": stem,
        "module__image_size": image_size,
        **{f"module__{k}": v for k, v in options.items()},
    }


def initial_classes(classes, class_counts=None):
    """Classes and counts that a net is built for without training.

    Parameters
    ----------
    classes : array-like of shape (n_classes,)
        At least 2 classes.
    class_counts : array-like of shape (n_classes,), default=None
        Training images per class; ones by default.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
    counts : ndarray of shape (n_classes,), int64
    """
    classes = np.asarray(classes)
    counts = (
        np.ones(len(classes), dtype=np.int64)
        if class_counts is None
        else np.asarray(class_counts, dtype=np.int64)
    )
    if len(classes) < 2 or counts.shape != classes.shape:
        raise ValueError(
            "initialize needs at least 2 classes and one count per class; "
            f"got {len(classes)} classes and counts of shape {counts.shape}."
        )
    return classes, counts


#: The embedder's parameters that :func:`build_net` takes as they are.
NET_PARAMETERS = (
    "backbone",
    "weights",
    "embedding_dim",
    "image_size",
    "stem",
    "loss",
    "miner",
    "sampler",
    "m_per_class",
    "balance",
    "max_epochs",
    "batch_size",
    "lr",
    "lr_schedule",
    "weight_decay",
    "optimizer",
    "softmax_weight",
    "logit_adjustment",
    "alignment_weight",
    "alignment_margin",
    "validation_fraction",
    "precision",
    "accelerator",
    "callbacks",
    "verbose",
)


def build_net(
    classes,
    counts,
    device,
    seed,
    *,
    class_weight,
    anchors,
    anchor_rows,
    triplet_margin,
    module_options,
    settings,
    backbone,
    weights,
    embedding_dim,
    image_size,
    stem,
    loss,
    miner,
    sampler,
    m_per_class,
    balance,
    max_epochs,
    batch_size,
    lr,
    lr_schedule,
    weight_decay,
    optimizer,
    softmax_weight,
    logit_adjustment,
    alignment_weight,
    alignment_margin,
    validation_fraction,
    precision,
    accelerator,
    callbacks,
    verbose,
):
    """The embedder's skorch net for ``classes``, not yet initialised.

    Run it under the training seed: the metric loss may hold parameters
    (the softmax head of :class:`SoftmaxTripletLoss`), drawn here.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        The classes of training.
    counts : ndarray of shape (n_classes,)
        Training images per class.
    device : str
        The device of training (not used with an accelerator).
    seed : int
        Seed of the sampler, the DataLoader and the validation split.
    class_weight : ndarray of shape (n_classes,) or None
        From :func:`class_weights`.
    anchors : ndarray of shape (n_anchors, anchor_dim) or None
        Anchors of the alignment term (None: off).
    anchor_rows : ndarray of shape (n_classes,) or None
        Row of ``anchors`` of each class.
    triplet_margin : float
        Margin of the triplet loss and of the margin miners.
    module_options : dict
        Further options of the network (``module__`` stripped).
    settings : dict
        Further skorch settings (``iterator_train__*``, ``optimizer__*``,
        ``callbacks__*``).
    backbone, weights, embedding_dim, image_size, stem, loss, miner, \
sampler, m_per_class, balance, max_epochs, batch_size, lr, lr_schedule, \
weight_decay, optimizer, softmax_weight, logit_adjustment, \
alignment_weight, alignment_margin, validation_fraction, precision, \
accelerator, callbacks, verbose
        The embedder's parameters (:data:`NET_PARAMETERS`).

    Returns
    -------
    net : EmbedderNet
        An ``AcceleratedEmbedderNet`` with an accelerator.
    """
    from torch.utils.data import DataLoader

    from ._net import EmbedderCriterion, EmbedderNet, HoldoutSplit, make_miner

    callbacks = training_callbacks(
        callbacks,
        validation_fraction=validation_fraction,
        lr_schedule=lr_schedule,
        lr=lr,
        verbose=verbose,
    )
    on_cuda = is_cuda(device)
    net_class, placement = EmbedderNet, {}
    if accelerator is not None:
        from ._accelerate import AcceleratedEmbedderNet

        # the accelerator places tensors and owns mixed precision
        net_class = AcceleratedEmbedderNet
        placement = {"accelerator": accelerator}
    return net_class(
        **network_params(
            backbone=backbone,
            weights=weights,
            embedding_dim=embedding_dim,
            stem=stem,
            image_size=image_size,
            **module_options,
        ),
        criterion=EmbedderCriterion,
        criterion__metric_loss=metric_loss(
            loss,
            n_classes=len(classes),
            embedding_dim=embedding_dim,
            class_counts=counts,
            class_weight=class_weight,
            triplet_margin=triplet_margin,
            softmax_weight=softmax_weight,
            logit_adjustment=logit_adjustment,
        ),
        criterion__miner=make_miner(miner, triplet_margin),
        criterion__embedding_dim=embedding_dim,
        criterion__anchors=anchors,
        criterion__anchor_rows=anchor_rows,
        criterion__alignment_weight=alignment_weight,
        criterion__alignment_margin=alignment_margin,
        criterion__class_weight=class_weight,
        optimizer=optimizer,
        optimizer__weight_decay=weight_decay,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=DataLoader,
        iterator_valid=DataLoader,
        train_split=(
            None
            if validation_fraction is None
            else HoldoutSplit(validation_fraction, random_state=seed)
        ),
        callbacks=callbacks,
        predict_nonlinearity=None,
        warm_start=False,
        verbose=verbose,
        device=None if accelerator is not None else device,
        sampler=sampler,
        m_per_class=m_per_class,
        balance=balance,
        seed=seed,
        amp_dtype=(
            None if accelerator is not None else resolve_precision(precision, device)
        ),
        channels_last=on_cuda and accelerator is None,
        **placement,
        **settings,
    )


@contextlib.contextmanager
def seeded_device(random_state, device, accelerator=None):
    """Run a block on the device of ``device``, under the seed of ``random_state``.

    The device is the accelerator's when there is one, else ``device``
    resolved (``"auto"``: CUDA when available); the seed is derived from
    ``random_state`` (one draw); torch's random state outside the block is
    left as it was.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        The estimator's ``random_state``.
    device : str or torch.device
        The estimator's ``device``.
    accelerator : accelerate.Accelerator or None, default=None
        The estimator's ``accelerator``.

    Yields
    ------
    device : str
        The device the block computes on.
    seed : int
        The seed of the block.
    """
    if accelerator is not None:
        device = str(accelerator.device)
    else:
        device = resolve_device(device)
    seed = derive_seed(random_state)
    with torch_seeded(seed, device):
        yield device, seed


def to_device(net, device, precision):
    """Move a fitted embedder's net (network and losses) to ``device``.

    bf16 autocast (as ``precision`` says) and the channels-last layout are
    used on CUDA only.

    Parameters
    ----------
    net : EmbedderNet
        The fitted net, moved in place.
    device : str or torch.device
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
    precision : {"auto", "bf16", "fp32"}
        The embedder's ``precision``.

    Returns
    -------
    device : str
        The device resolved.
    """
    device = resolve_device(device)
    on_cuda = is_cuda(device)
    net.device = device
    net.amp_dtype = resolve_precision(precision, device)
    net.channels_last = on_cuda
    layout = torch.channels_last if on_cuda else torch.contiguous_format
    for name in [*net._modules, *net._criteria]:
        part = getattr(net, name + "_").to(device)
        if name in net._modules:
            part = part.to(memory_format=layout)
        setattr(net, name + "_", part)
    return device
