"""TripletImageEmbedder: a scikit-learn transformer from images to embeddings."""

import os
from numbers import Integral, Real

import torch
import torch.nn.functional as F
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..longtail import BALANCE, SAMPLERS
from ..utils._warnings import renamed_parameter
from ._backbones import BACKBONES, save_weights
from ._build import (
    NET_PARAMETERS,
    alignment_anchors,
    build_net,
    class_weights,
    initial_classes,
    seeded_device,
    to_device,
)
from ._data import ON_BAD_IMAGE, ImageDataset
from ._skorch_params import SkorchParamsMixin
from ._training import drop_optimizer_state, train, training_set
from ._warm_start import check_init, continue_from, fit_init

LOSSES = ("triplet", "reciprocal", "softmax_triplet")
MINERS = ("semihard", "hard", "all", "batch_hard")


class TripletImageEmbedder(
    SkorchParamsMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Embed images with a ResNet trained by triplet losses (skorch, torchvision).

    ``fit(X, y)`` trains a torchvision ResNet with a linear embedding head so
    that images of one class lie close together: triplet losses with online
    mining over batches of P classes x m images, long-tail samplers and
    augmentation suited to microscope images of shells. ``transform(X)``
    returns L2-normalised float32 embeddings, ready for a k-NN classifier
    (k=5 in the paper) or a :class:`VisualGeneticAligner`. Optionally the
    network is fine-tuned end to end toward per-class genetic anchors with
    the paper's cosine alignment loss.

    Parameters
    ----------
    backbone : {"resnet18", "resnet34", "resnet50"}, default="resnet50"
        torchvision ResNet (the paper uses ResNet50).
    weights : None, str or path-like, default=None
        Initial weights: None (random), a torchvision weights name such as
        ``"DEFAULT"`` or ``"IMAGENET1K_V1"`` (from the torch hub cache or
        downloaded), or a local state-dict file: torchvision's, or one
        written by :meth:`save_backbone` (backbone and embedding head). A
        failed download raises; random weights are never used silently.
    embedding_dim : int, default=128
        Width of the embeddings.
    image_size : int, default=224
        Images of any size are resized to ``image_size`` x ``image_size``.
    stem : {"auto", "torchvision", "small"}, default="auto"
        First layers of the ResNet: torchvision's (7 x 7 stride-2
        convolution and max-pool, made for 224-pixel images) or a small-image
        stem (3 x 3 stride-1 convolution, no max-pool), as is usual for 32 to
        64 pixels: the torchvision stem shrinks a 32-pixel image to 1 x 1 by
        the last stage. "auto": the stem of pretrained ``weights``, else
        "small" up to 64 pixels and "torchvision" above.
    loss : {"triplet", "reciprocal", "softmax_triplet"} or nn.Module, \
            default="softmax_triplet"
        ``"triplet"``: pytorch-metric-learning's ``TripletMarginLoss``;
        ``"reciprocal"``: :class:`ReciprocalTripletLoss` (no margin);
        ``"softmax_triplet"``: :class:`SoftmaxTripletLoss` (triplet +
        ``softmax_weight`` x cross-entropy, with ``class_weight`` and
        ``logit_adjustment``). Or any loss module called as
        ``loss(embeddings, labels, indices_tuple)``.
    miner : {"semihard", "hard", "all", "batch_hard"}, BaseMiner or None, \
            default="batch_hard"
        Online triplet mining (pytorch-metric-learning): semi-hard, hard or
        all margin-violating triplets (``TripletMarginMiner``), the hardest
        positive and negative per anchor (``BatchHardMiner``), or None for
        every triplet of the batch.
    triplet_margin : float, default=0.2
        Margin of the triplet loss and of the margin miners.
    margin : float, default="deprecated"
        Former name of ``triplet_margin``; when set, its value is used.

        .. deprecated:: 0.2
           ``margin`` was renamed ``triplet_margin`` in 0.2 and will be
           removed in 0.3.
    sampler : {"m_per_class", "random", "class_balanced"}, default="m_per_class"
        Batch composition: P classes x ``m_per_class`` images (what triplet
        mining needs), plain shuffling, or class-balanced sampling with
        replacement (``balance``). See :func:`make_sampler`.
    m_per_class : int, default=4
        Images per class in a batch for ``sampler="m_per_class"``; the batch
        then holds ``batch_size // m_per_class`` classes (fewer if there are
        fewer classes, shrinking the batch).
    balance : {"inverse", "sqrt"}, default="inverse"
        Strength of ``sampler="class_balanced"``.
    augment : {"light", "shells"}, bool or callable, default="light"
        Augmentation of the training images. "light":
        :func:`light_augmentation` (a small random crop and resize; keeps
        orientation, so it suits digits, text or upright animals). "shells"
        (or True): :func:`default_augmentation` (any rotation, flips, scale
        jitter, slight blur: microscope images of shells, which have no
        preferred orientation). False: none. A callable replaces it; it gets
        a (3, image_size, image_size) tensor (uint8 for files and uint8
        arrays, float in [0, 1] otherwise) and returns an image tensor.
    max_epochs : int, default=20
        Training epochs.
    batch_size : int, default=64
        Batch size of training (and of ``transform``).
    lr : float, default=1e-3
        Learning rate (the peak of the "onecycle" schedule).
    lr_schedule : {"onecycle", "constant"}, default="onecycle"
        "onecycle": warm-up to ``lr`` over the first 30 % of the batches,
        then cosine annealing (skorch's ``LRScheduler`` with PyTorch's
        ``OneCycleLR``, stepped every batch); "constant": ``lr`` throughout.
    weight_decay : float, default=1e-4
        Weight decay of the optimizer (a first-class long-tail lever: the
        weight-balancing method tunes it).
    optimizer : torch optimizer class, default=torch.optim.AdamW
        Further options through ``optimizer__<name>``.
    softmax_weight : float, default=1.0
        Weight of the softmax term of ``loss="softmax_triplet"``.
    class_weight : "balanced" or None, default=None
        Weights classes inversely to their frequency in the softmax term and
        in the alignment term.
    logit_adjustment : float, default=0.0
        Logit-adjustment strength tau of the softmax term (0: off).
    alignment_anchors : GeneticAnchors, DataFrame, dict or None, default=None
        Per-class genetic anchors (a fitted GeneticAnchors, whose
        ``anchors_`` are used; a DataFrame indexed by class label; or a dict
        label -> vector) for end-to-end aligned fine-tuning. Every class of
        ``y`` needs an anchor; anchors of other classes serve as negatives.
    alignment_weight : float, default=0.0
        Weight of the cosine alignment loss added to the metric loss; the
        embeddings reach the anchor space through a linear head. 0: off.
    alignment_margin : float, default=0.5
        Margin of the alignment loss's negative term.
    standardize_anchors : bool, default=True
        Centre and scale anchors across classes before any cosine is taken
        (raw SGT anchors are nearly collinear). False keeps them raw.
    validation_fraction : float or None, default=None
        Hold out this fraction of each class (stratified) to score the
        embeddings by k-NN accuracy after each epoch (history keys
        ``valid_loss``, ``valid_knn_acc``, ``valid_knn_bal_acc``).
    precision : {"auto", "bf16", "fp32"}, default="auto"
        Autocast dtype; "auto" is bf16 on CUDA (where supported), float32
        on CPU.
    on_bad_image : {"raise", "skip"}, default="raise"
        A missing or unreadable image file in ``fit``: raise an error naming
        the files and rows, or leave it out with a warning (its label is
        dropped with it; see ``n_skipped_images_``). Before training starts,
        ``fit`` decodes every file in full (a JPEG at reduced scale), so a
        truncated file is reported up front. ``transform`` reads only the
        file headers (each file is decoded once anyway, and a file that
        fails to decode raises naming the file and its row) and always
        raises, since it must return one row per input.
    image_check : {"decode", "header"}, default="decode"
        What ``fit`` checks of image files before training: decode every
        file (a truncated one is named before any training; costs one
        decoding pass), or read the headers only, for files already
        checked (e.g. by ``load_image_folder(verify=True)`` or
        ``vgestimators train``); a file that then fails to decode stops
        training, naming it.
    device : str or torch.device, default="auto"
        "auto": CUDA when available, else CPU. On CUDA the network runs in
        channels-last memory format, with pinned memory and DataLoader
        worker processes.
    accelerator : accelerate.Accelerator or None, default=None
        Train on several devices or machines (DistributedDataParallel)
        through skorch's ``AccelerateMixin``: run the script with
        ``accelerate launch`` or ``torchrun``; each process trains on its
        shard of every epoch's batches and the gradients are averaged. The
        accelerator then places the tensors (``device`` is not used) and
        sets mixed precision (``Accelerator(mixed_precision="bf16")``;
        ``precision`` is not used). ``transform`` is then a collective call:
        every process embeds its shard and all get every embedding. An
        accelerator cannot be pickled or cloned: save the
        trained network with :meth:`save_backbone` or
        :func:`vgestimators.io.export_model` (which drop it), and do not
        put such an embedder in a search. Needs ``vgestimators[accelerate]``.
    random_state : int, RandomState instance or None, default=None
        Seed of weight initialisation, sampling, augmentation and the
        validation split; training is deterministic on CPU for a fixed seed.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (``EarlyStopping``, ``Checkpoint``,
        ``LRScheduler``, ...), added to the defaults (epoch log, k-NN
        scoring when validating).
    warm_start : bool, default=False
        If True and already fitted, ``fit`` continues from the current
        network weights (the history continues; the optimizer and loss heads
        start afresh), e.g. to add the alignment loss to a triplet-trained
        embedder.
    init : estimator or None, default=None
        A ``TripletImageEmbedder`` whose trained network this one starts
        from (the paper's aligned fine-tuning starts from a triplet-trained
        network): ``fit`` first fits a clone of ``init`` on the same images
        and labels, then trains this embedder from its weights (with this
        embedder's own loss heads, optimizer and schedule; the history
        continues). Wrap an already fitted embedder in
        :class:`sklearn.frozen.FrozenEstimator` to start from it without
        training it again. Both must build the same network (``backbone``,
        ``stem``, ``embedding_dim``). ``warm_start=True`` on a fitted
        embedder takes precedence. Like any parameter, ``init`` stays with
        the fitted embedder: a frozen fitted one doubles the size of a saved
        model (set ``init=None`` before :func:`vgestimators.io.save_model`;
        :func:`vgestimators.io.export_model` leaves it out).
    verbose : int, default=1
        0: silent; 1: skorch's per-epoch table (colour codes only when
        printing to a terminal); 2: also a progress bar per epoch.
    **kwargs
        skorch settings routed by prefix: ``iterator_train__<name>`` and
        ``iterator_valid__<name>`` (DataLoader options, e.g.
        ``iterator_train__num_workers=4``), ``module__<name>`` (embedding
        network: ``head_hidden_dim``, ``dropout``), ``optimizer__<name>``,
        ``callbacks__<name>__<param>``.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net (``net_.module_`` is the network); all of
        skorch's API (``save_params``, ``history_``, ...) is available on it.
    history_ : skorch.History
        Per-epoch log of training (same as ``net_.history_``).
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in ``fit``.
    class_counts_ : ndarray of shape (n_classes,)
        Training images per class.
    device_ : str
        Device used for training.
    n_skipped_images_ : int
        Images left out by ``on_bad_image="skip"``.
    skipped_images_ : list of tuple
        ``(row, path, reason)`` of each image left out.
    anchors_ : DataFrame
        The (standardised) anchors used for alignment; only with alignment.

    See Also
    --------
    VisualGeneticAligner : Aligns fixed embeddings with genetic anchors.
    build_backbone : The torchvision backbones.
    ImageDataset : How each input kind becomes image tensors.

    Notes
    -----
    Design: the estimator wraps a skorch net built in ``fit`` (``net_``)
    rather than subclassing ``NeuralNet``. Three reasons: (1) parameters
    such as ``device="auto"`` must keep their value for ``get_params`` and
    ``clone`` while skorch needs a concrete device everywhere it reads
    ``self.device`` (including when unpickling); (2) the loss heads depend
    on the classes (softmax classifier, priors, anchors) and skorch builds
    its criterion before it sees the data; (3) scikit-learn's contract
    (keyword-only signature, ``_parameter_constraints`` validated before any
    work, params untouched by ``fit``) holds without skorch's own
    constructor arguments (``module``, ``criterion``, ``train_split``, ...)
    leaking in as meaningless parameters. skorch's settings stay reachable
    through the prefixed ``**kwargs`` (``iterator_train__*``,
    ``module__*``, ``optimizer__*``, ``callbacks__*``), which ``get_params``
    and ``set_params`` handle, and the inner net uses only skorch's
    extension points (``get_iterator``, ``infer``, ``get_loss``,
    ``initialize_module``, callbacks).

    A ``torch.utils.data.Dataset`` X needs ``y``, or a ``targets`` attribute
    (as torchvision's ``ImageFolder`` has). Classes with a single image are
    allowed: the P x m sampler draws with replacement, so their positives are
    other augmented views of the same image.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.vision import TripletImageEmbedder
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, size=(16, 32, 32, 3), dtype=np.uint8)
    >>> y = np.repeat(["a", "b", "c", "d"], 4)
    >>> emb = TripletImageEmbedder(backbone="resnet18", image_size=32,
    ...                            embedding_dim=8, max_epochs=1, batch_size=8,
    ...                            verbose=0, random_state=0)
    >>> Z = emb.fit(X, y).transform(X)
    >>> Z.shape, Z.dtype, bool(np.allclose(np.linalg.norm(Z, axis=1), 1))
    ((16, 8), dtype('float32'), True)
    """

    _parameter_constraints = {
        "backbone": [StrOptions(set(BACKBONES))],
        "weights": [None, str, os.PathLike],
        "embedding_dim": [Interval(Integral, 1, None, closed="left")],
        "image_size": [Interval(Integral, 8, None, closed="left")],
        "loss": [StrOptions(set(LOSSES)), nn.Module],
        "miner": [StrOptions(set(MINERS)), None, nn.Module],
        "triplet_margin": [Interval(Real, 0, None, closed="left")],
        "margin": [
            Interval(Real, 0, None, closed="left"),
            Hidden(StrOptions({"deprecated"})),
        ],
        "sampler": [StrOptions(set(SAMPLERS))],
        "m_per_class": [Interval(Integral, 1, None, closed="left")],
        "balance": [StrOptions(set(BALANCE))],
        "augment": [StrOptions({"shells", "light"}), "boolean", callable],
        "stem": [StrOptions({"auto", "torchvision", "small"})],
        "lr_schedule": [StrOptions({"onecycle", "constant"})],
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "optimizer": [type],
        "softmax_weight": [Interval(Real, 0, None, closed="left")],
        "class_weight": [StrOptions({"balanced"}), None],
        "logit_adjustment": [Interval(Real, 0, None, closed="left")],
        "alignment_anchors": "no_validation",  # checked by genetics.read_anchors
        "alignment_weight": [Interval(Real, 0, None, closed="left")],
        "alignment_margin": [Interval(Real, -1, 1, closed="both")],
        "standardize_anchors": ["boolean"],
        "validation_fraction": [None, Interval(Real, 0, 1, closed="neither")],
        "precision": [StrOptions({"auto", "bf16", "fp32"})],
        "on_bad_image": [StrOptions(set(ON_BAD_IMAGE))],
        "image_check": [StrOptions({"decode", "header"})],
        "device": [str, torch.device],
        "accelerator": [None, HasMethods(["prepare"])],
        "random_state": ["random_state"],
        "callbacks": [None, list],
        "warm_start": ["boolean"],
        "init": [None, HasMethods(["fit", "transform"])],
        "verbose": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        backbone="resnet50",
        weights=None,
        embedding_dim=128,
        image_size=224,
        stem="auto",
        loss="softmax_triplet",
        miner="batch_hard",
        triplet_margin=0.2,
        margin="deprecated",
        sampler="m_per_class",
        m_per_class=4,
        balance="inverse",
        augment="light",
        max_epochs=20,
        batch_size=64,
        lr=1e-3,
        lr_schedule="onecycle",
        weight_decay=1e-4,
        optimizer=torch.optim.AdamW,
        softmax_weight=1.0,
        class_weight=None,
        logit_adjustment=0.0,
        alignment_anchors=None,
        alignment_weight=0.0,
        alignment_margin=0.5,
        standardize_anchors=True,
        validation_fraction=None,
        precision="auto",
        on_bad_image="raise",
        image_check="decode",
        device="auto",
        accelerator=None,
        random_state=None,
        callbacks=None,
        warm_start=False,
        init=None,
        verbose=1,
        **kwargs,
    ):
        self.backbone = backbone
        self.weights = weights
        self.embedding_dim = embedding_dim
        self.image_size = image_size
        self.stem = stem
        self.loss = loss
        self.miner = miner
        self.triplet_margin = triplet_margin
        self.margin = margin
        self.sampler = sampler
        self.m_per_class = m_per_class
        self.balance = balance
        self.augment = augment
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.optimizer = optimizer
        self.softmax_weight = softmax_weight
        self.class_weight = class_weight
        self.logit_adjustment = logit_adjustment
        self.alignment_anchors = alignment_anchors
        self.alignment_weight = alignment_weight
        self.alignment_margin = alignment_margin
        self.standardize_anchors = standardize_anchors
        self.validation_fraction = validation_fraction
        self.precision = precision
        self.on_bad_image = on_bad_image
        self.image_check = image_check
        self.device = device
        self.accelerator = accelerator
        self.random_state = random_state
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.init = init
        self.verbose = verbose
        vars(self).update(kwargs)

    # -- fitting ----------------------------------------------------------

    def _alignment(self, classes):
        matrix, rows, table = alignment_anchors(
            self.alignment_anchors,
            self.alignment_weight,
            classes,
            standardize=self.standardize_anchors,
        )
        if table is not None:
            self.anchors_ = table
        return matrix, rows

    def _build_net(self, classes, counts, device, seed):
        class_weight = class_weights(self.class_weight, counts)
        anchors, anchor_rows = self._alignment(classes)
        module_options, settings = self._skorch_settings()
        return build_net(
            classes,
            counts,
            device,
            seed,
            class_weight=class_weight,
            anchors=anchors,
            anchor_rows=anchor_rows,
            triplet_margin=renamed_parameter(
                "margin", "triplet_margin", self.margin, self.triplet_margin
            ),
            module_options=module_options,
            settings=settings,
            **{name: getattr(self, name) for name in NET_PARAMETERS},
        )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Train the network on images ``X`` with class labels ``y``.

        Parameters
        ----------
        X : array-like or torch Dataset
            Image file paths (list, 1-D or (n, 1) object array, Series,
            one-column DataFrame), uint8 arrays (n, h, w) or (n, h, w, c),
            float arrays (n, c, h, w) in [0, 1], or a torch Dataset.
        y : array-like of shape (n_samples,)
            Class labels (any hashable, e.g. species names).

        Returns
        -------
        self : TripletImageEmbedder
            Fitted estimator.
        """
        return self._fit(X, y, purpose="fit")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None):
        """Train on ``X`` and ``y``, then embed ``X`` (what a Pipeline's fit calls).

        One embedding is returned per row of ``X``, so no image can be left
        out: an unreadable file raises before training, naming it, whatever
        ``on_bad_image`` says (remove such files from ``X`` and ``y``
        first, e.g. with ``load_image_folder(root, verify=True,
        on_error="skip")``).

        Parameters
        ----------
        X : array-like or torch Dataset
            Images of any kind accepted by ``fit``.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, embedding_dim), float32
        """
        return self._fit(X, y, purpose="fit_transform").transform(X)

    def _fit(self, X, y, purpose):
        self._check_skorch_kwargs()
        classes, counts, dataset = training_set(
            X,
            y,
            image_size=self.image_size,
            augment=self.augment,
            on_bad_image=self.on_bad_image if purpose == "fit" else "raise",
            image_check=self.image_check,
            purpose=purpose,
        )
        decoded = self.image_check == "decode" and not dataset.skipped_
        start = self._start_from(X, y, classes, decoded=decoded)
        self._fit_dataset(dataset, classes, counts, start=start)
        return self

    def _start_from(self, X, y, classes, *, decoded=False):
        """The trained network ``fit`` continues from (None: a new one).

        An ``init`` is checked (its kind, its network, this embedder's
        anchors) before it is trained; ``decoded``: every image of ``X`` was
        just decoded, so the init's fit reads the headers only.
        """
        if self.warm_start and hasattr(self, "net_"):
            return self.net_
        if self.init is None:
            return None
        check_init(self.init, self, kind=TripletImageEmbedder)
        self._alignment(classes)  # anchors checked before any training
        return fit_init(self.init, X, y, decoded=decoded)

    def _fit_dataset(self, dataset, classes, counts, start=None):
        seeded = seeded_device(self.random_state, self.device, self.accelerator)
        with seeded as (device, seed):
            # built under the seed: the losses may hold parameters too (the
            # softmax head of SoftmaxTripletLoss)
            net = self._build_net(classes, counts, device, seed)
            net.initialize()
            if start is not None:
                continue_from(net, start)
            train(
                net,
                dataset,
                max_epochs=self.max_epochs,
                lr_schedule=self.lr_schedule,
                validation_fraction=self.validation_fraction,
                verbose=self.verbose,
            )
        drop_optimizer_state(net)
        return self._set_fitted(net, classes, counts, device, dataset.skipped_)

    def _set_fitted(self, net, classes, counts, device, skipped):
        self.net_ = net
        self.classes_ = classes
        self.class_counts_ = counts
        self.device_ = device
        self.skipped_images_ = list(skipped)
        self.n_skipped_images_ = len(skipped)
        self._n_features_out = self.embedding_dim
        return self

    def initialize(self, classes, class_counts=None):
        """Build the network for ``classes`` without training it.

        With ``weights=`` a file written by :meth:`save_backbone`, the
        embedder is then ready to ``transform``: the way to use a network
        shared as plain weights (see :func:`vgestimators.io.import_model`).
        As skorch's ``NeuralNet.initialize``.

        Parameters
        ----------
        classes : array-like of shape (n_classes,)
            The classes the network was trained on (they size the softmax
            head of the loss; ``transform`` does not use them).
        class_counts : array-like of shape (n_classes,), default=None
            Training images per class (for the losses' class weights);
            ones by default.

        Returns
        -------
        self : TripletImageEmbedder
        """
        self._validate_params()
        self._check_skorch_kwargs()
        classes, counts = initial_classes(classes, class_counts)
        with seeded_device(self.random_state, self.device) as (device, seed):
            net = self._build_net(classes, counts, device, seed)
            net.initialize()
        return self._set_fitted(net, classes, counts, device, [])

    @property
    def history_(self):
        """skorch History of the training epochs (``net_.history_``)."""
        check_is_fitted(self, "net_")
        return self.net_.history_

    def to_device(self, device):
        """Move the fitted network to another device, e.g. after loading.

        A network trained on a GPU computes on the CPU after
        ``to_device("cpu")`` (bf16 autocast and the channels-last layout
        are used on CUDA only); :func:`vgestimators.io.load_model` calls it.
        The ``device`` parameter, used by the next ``fit``, is left as set.

        Parameters
        ----------
        device : str or torch.device
            ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...

        Returns
        -------
        self : TripletImageEmbedder
        """
        check_is_fitted(self, "net_")
        self.device_ = to_device(self.net_, device, self.precision)
        return self

    # -- inference ----------------------------------------------------------

    def transform(self, X):
        """Embed images into L2-normalised float32 vectors.

        Runs in eval mode without gradients, in batches of ``batch_size``
        (``iterator_valid__batch_size`` overrides it). Unreadable files raise
        an error naming them, whatever ``on_bad_image`` says.

        Parameters
        ----------
        X : array-like or torch Dataset
            Images of any kind accepted by ``fit``.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, embedding_dim), float32
            Unit-length rows.
        """
        check_is_fitted(self, "net_")
        dataset = ImageDataset(X, image_size=self.image_size, purpose="transform")
        with torch.inference_mode():
            out = self.net_.forward(dataset, training=False, device="cpu")
        return F.normalize(out.float(), dim=1).numpy()

    def save_backbone(self, path):
        """Save the network's weights (backbone + embedding head) to ``path``.

        The file is a plain state dict of CPU tensors (keys ``backbone.*``
        and ``head.*``, and ``meta.image_size``) that ``weights=path`` loads
        into a new embedder, on any device: the way to start a fresh (e.g.
        aligned) training inside a Pipeline from a triplet-trained state.
        :class:`PretrainedImageEmbedder` uses the same file frozen, on other
        species, preparing images at the recorded size.

        Parameters
        ----------
        path : str or path-like
            Destination file.

        Returns
        -------
        path : str or path-like
            The same path.
        """
        check_is_fitted(self, "net_")
        return save_weights(self.net_.module_, path, image_size=self.image_size)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.string = True
        tags.target_tags.required = True
        tags.non_deterministic = True
        return tags

    def __setstate__(self, state):
        # an embedder pickled before the rename holds the triplet margin as
        # ``margin``; it loads as one that sets ``triplet_margin``
        if "triplet_margin" not in state and "margin" in state:
            state = {**state, "triplet_margin": state["margin"], "margin": "deprecated"}
        super().__setstate__(state)
