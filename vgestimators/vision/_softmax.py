"""The classic baseline: a CNN trained with softmax cross-entropy."""

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ..utils._docstrings import substitute
from ..utils._labels import check_labels
from ._backbones import BACKBONES
from ._build import augmentation, class_weights, network_params, seeded_device


@substitute
class SoftmaxImageClassifier(ClassifierMixin, BaseEstimator):
    """A CNN image classifier trained with softmax cross-entropy (skorch).

    The classic baseline of the benchmark: a ResNet from
    :func:`~vgestimators.vision.build_backbone` with a linear layer, trained
    by skorch's ``NeuralNetClassifier`` with the shell augmentation (the
    embedder's ``augment="shells"``, as the benchmark's triplet rows use it),
    predicting the class of
    highest logit. Takes the same image inputs (file paths, uint8 arrays,
    float arrays) through :class:`~vgestimators.vision.ImageDataset`.

    Parameters
    ----------
    backbone : {"resnet18", "resnet34", "resnet50"}, default="resnet18"
        Network, trained from scratch.
    stem : {"auto", "torchvision", "small"}, default="auto"
        ResNet stem, as in :class:`~vgestimators.vision.TripletImageEmbedder`
        ("auto": the small-image stem up to 64 pixels).
    image_size : int, default=64
        Images are resized to ``image_size`` x ``image_size``.
    augment : bool, default=True
        Use :func:`~vgestimators.vision.default_augmentation` in training.
    class_weight : "balanced" or None, default=None
        Weight the cross-entropy inversely to class frequency.
    max_epochs : int, default=10
    batch_size : int, default=64
    lr : float, default=1e-3
    weight_decay : float, default=1e-4
    device : str or torch.device, default="auto"
        "auto": CUDA when available, else CPU; or a torch device
        (``"cuda:1"``).
    random_state : int or None, default=None
        Seeds weight initialisation, shuffling and augmentation.
    callbacks : list of skorch callbacks or None, default=None
    verbose : int, default=0
        skorch's per-epoch log when 1.

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The trained network.
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    vgestimators.vision.TripletImageEmbedder : The metric-learning alternative.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.vision import SoftmaxImageClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 255, size=(8, 8, 8, 3), dtype=np.uint8)
    >>> y = np.repeat(["a", "b"], 4)
    >>> clf = SoftmaxImageClassifier(image_size=8, max_epochs=1, batch_size=4,
    ...                              device="cpu", random_state=0).fit(X, y)
    >>> clf.predict(X[:3]).shape, clf.classes_.tolist()
    ((3,), ['a', 'b'])
    """

    _parameter_constraints = {
        "backbone": [StrOptions(set(BACKBONES))],
        "stem": [StrOptions({"auto", "torchvision", "small"})],
        "image_size": [Interval(Integral, 8, None, closed="left")],
        "augment": ["boolean"],
        "class_weight": [StrOptions({"balanced"}), None],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "callbacks": [list, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        backbone="resnet18",
        stem="auto",
        image_size=64,
        augment=True,
        class_weight=None,
        max_epochs=10,
        batch_size=64,
        lr=1e-3,
        weight_decay=1e-4,
        device="auto",
        random_state=None,
        callbacks=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.stem = stem
        self.image_size = image_size
        self.augment = augment
        self.class_weight = class_weight
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Train the network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like
            Images (paths, uint8 (n, h, w[, c]), float (n, c, h, w)).
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : SoftmaxImageClassifier
        """
        from sklearn.base import clone
        from skorch import NeuralNetClassifier

        from ._data import ImageDataset

        _, classes, encoded, counts = check_labels(
            y,
            len(X) if hasattr(X, "__len__") else None,
            min_classes=2,
            classification=True,
            too_few="y holds a single class ({classes}); a classifier needs 2 or more.",
        )
        dataset = ImageDataset(
            X,
            encoded,
            image_size=self.image_size,
            transform=augmentation(self.augment, self.image_size),
        )
        weight = class_weights(self.class_weight, counts)
        with seeded_device(self.random_state, self.device) as (device, seed):
            net = NeuralNetClassifier(
                # a ResNet with a linear layer to the classes: the embedding
                # network with one output per class, trained on logits
                **network_params(
                    backbone=self.backbone,
                    weights=None,
                    embedding_dim=len(classes),
                    # the embedder's stem rule: small-image stem up to 64 pixels
                    stem=self.stem,
                    image_size=self.image_size,
                ),
                criterion=nn.CrossEntropyLoss,
                criterion__weight=None if weight is None else torch.as_tensor(weight),
                optimizer=torch.optim.AdamW,
                optimizer__weight_decay=self.weight_decay,
                lr=self.lr,
                max_epochs=self.max_epochs,
                batch_size=self.batch_size,
                train_split=None,
                iterator_train__shuffle=True,
                iterator_train__drop_last=len(dataset) > self.batch_size,
                iterator_train__generator=torch.Generator().manual_seed(seed),
                callbacks=list(clone(self.callbacks, safe=False) or []),
                device=device,
                verbose=self.verbose,
            )
            net.fit(dataset, None)
        self.net_ = net
        self.classes_ = classes
        return self

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits).

        ${images_parameters}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_``.
        """
        from ._data import ImageDataset

        check_is_fitted(self, "net_")
        dataset = ImageDataset(X, image_size=self.image_size, purpose="transform")
        # skorch applies the softmax for a CrossEntropyLoss criterion
        return self.net_.predict_proba(dataset)

    def predict(self, X):
        """The class of highest probability for each image.

        ${images_parameters}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
