"""The torch pieces behind TripletImageEmbedder: network, criterion, skorch net."""

import copy
import os

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback
from torch import nn
from torch.utils.data import Subset

from ..longtail import make_sampler
from ..utils._device import is_cuda
from ._backbones import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    build_backbone,
    is_weights_file,
    load_weights_file,
    resolve_stem,
)
from ._callbacks import TerminalAwarePrintLog


class EmbeddingNetwork(nn.Module):
    """Backbone + embedding head; takes uint8 or [0, 1] float image batches.

    Normalisation (scaling uint8 to [0, 1], ImageNet mean and std) happens
    here, on the compute device, so the DataLoader moves compact uint8
    tensors. ``forward`` returns the raw (unnormalised) embeddings.
    """

    def __init__(
        self,
        backbone="resnet50",
        weights=None,
        embedding_dim=128,
        head_hidden_dim=None,
        dropout=0.0,
        stem="torchvision",
        image_size=224,
    ):
        super().__init__()
        head_state = None
        if is_weights_file(weights):
            # read the file once: its backbone part builds the backbone, its
            # head part (when saved by save_backbone) fills the head
            path = weights
            weights, head_state = load_weights_file(path)
        stem = resolve_stem(stem, image_size, weights)
        self.backbone = build_backbone(backbone, weights, stem=stem)
        width = self.backbone.num_features
        layers = [nn.Dropout(dropout)] if dropout else []
        if head_hidden_dim:
            layers += [
                nn.Linear(width, head_hidden_dim),
                nn.ReLU(inplace=True),
                nn.Linear(head_hidden_dim, embedding_dim),
            ]
        else:
            layers.append(nn.Linear(width, embedding_dim))
        self.head = nn.Sequential(*layers)
        self.register_buffer(
            "mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False
        )
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)
        if head_state:
            try:
                self.head.load_state_dict(head_state)
            except RuntimeError as exc:
                raise ValueError(
                    f"The embedding head saved in {str(path)!r} does not "
                    f"fit embedding_dim={embedding_dim} (and the head "
                    f"options): {exc}"
                ) from exc

    def forward(self, x):
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        x = (x - self.mean) / self.std
        return self.head(self.backbone(x))


def make_miner(miner, margin):
    """A pytorch-metric-learning miner from its name (None: no mining)."""
    from pytorch_metric_learning import miners

    if miner is None or not isinstance(miner, str):
        return copy.deepcopy(miner)
    if miner == "batch_hard":
        return miners.BatchHardMiner()
    return miners.TripletMarginMiner(margin=margin, type_of_triplets=miner)


class EmbedderCriterion(nn.Module):
    """Metric loss (+ optional alignment term) of a batch of embeddings.

    Mining runs first (without gradients, in pytorch-metric-learning's
    miners); the metric loss gets the mined triplets. With anchors, a
    linear head maps the embeddings into the anchor space and the cosine
    alignment loss, weighted by ``alignment_weight``, is added.
    """

    def __init__(
        self,
        metric_loss,
        miner=None,
        embedding_dim=128,
        anchors=None,
        anchor_rows=None,
        alignment_weight=0.0,
        alignment_margin=0.5,
        class_weight=None,
    ):
        super().__init__()
        from ..losses import CosineAlignmentLoss

        self.metric_loss = metric_loss
        self.miner = miner
        self.alignment_weight = float(alignment_weight)
        self.register_buffer(
            "class_weight",
            None if class_weight is None else torch.as_tensor(class_weight),
        )
        if anchors is not None and self.alignment_weight > 0:
            anchors = torch.as_tensor(anchors, dtype=torch.float32)
            self.register_buffer("anchors", anchors)
            self.register_buffer(
                "anchor_rows", torch.as_tensor(anchor_rows, dtype=torch.long)
            )
            self.alignment_head = nn.Linear(embedding_dim, anchors.shape[1])
            self.alignment_loss = CosineAlignmentLoss(margin=alignment_margin)
        else:
            self.anchors = None
            self.alignment_head = None

    def forward(self, embeddings, labels):
        labels = labels.long()
        indices = None if self.miner is None else self.miner(embeddings, labels)
        loss = self.metric_loss(embeddings, labels, indices)
        if self.alignment_head is not None:
            projected = self.alignment_head(embeddings)
            weights = None
            if self.class_weight is not None:
                weights = self.class_weight.to(projected)[labels]
            alignment = self.alignment_loss(
                projected, self.anchor_rows[labels], self.anchors, weights=weights
            )
            loss = loss + self.alignment_weight * alignment
        return loss


def dataset_labels(dataset):
    """Integer labels of an ImageDataset or of a Subset of one."""
    if isinstance(dataset, Subset):
        return dataset_labels(dataset.dataset)[np.asarray(dataset.indices)]
    labels = getattr(dataset, "labels", None)
    if labels is None:
        raise ValueError("The training dataset carries no labels.")
    return np.asarray(labels)


def without_augmentation(dataset):
    """The same images without the training transform."""
    if isinstance(dataset, Subset):
        return Subset(without_augmentation(dataset.dataset), dataset.indices)
    plain = copy.copy(dataset)
    plain.transform = None
    return plain


class HoldoutSplit:
    """Stratified hold-out split for skorch's ``train_split``.

    About ``fraction`` of each class goes to validation, always leaving at
    least one image of the class (and all of a single-image class) for
    training. The validation part is served without augmentation.
    """

    def __init__(self, fraction, random_state=0):
        self.fraction = fraction
        self.random_state = random_state

    def __call__(self, dataset, y=None, **fit_params):
        labels = dataset_labels(dataset)
        rng = np.random.RandomState(self.random_state)
        valid = []
        for label in np.unique(labels):
            rows = np.flatnonzero(labels == label)
            n_valid = min(int(round(self.fraction * len(rows))), len(rows) - 1)
            valid.extend(rng.permutation(rows)[:n_valid].tolist())
        if not valid:
            raise ValueError(
                f"validation_fraction={self.fraction} leaves no validation images "
                "(every class is too small); use a larger fraction or None."
            )
        valid = np.sort(np.asarray(valid))
        train = np.setdiff1d(np.arange(len(labels)), valid)
        return Subset(dataset, train.tolist()), without_augmentation(
            Subset(dataset, valid.tolist())
        )


class KNNValidationScoring(Callback):
    """Score the embeddings by k-NN accuracy on the validation split.

    At the end of each epoch the training images (without augmentation) and
    the validation images are embedded in eval mode; a k-NN classifier on
    the L2-normalised training embeddings predicts the validation labels.
    Records ``valid_knn_acc`` and ``valid_knn_bal_acc`` in the history
    (monitor either with ``EarlyStopping(monitor="valid_knn_bal_acc",
    lower_is_better=False)``).
    """

    def __init__(self, n_neighbors=5):
        self.n_neighbors = n_neighbors

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        from sklearn.metrics import accuracy_score, balanced_accuracy_score
        from sklearn.neighbors import KNeighborsClassifier

        if dataset_valid is None:
            return
        gallery = without_augmentation(dataset_train)
        emb_train = F.normalize(net.forward(gallery).float(), dim=1).numpy()
        emb_valid = F.normalize(net.forward(dataset_valid).float(), dim=1).numpy()
        y_train, y_valid = dataset_labels(gallery), dataset_labels(dataset_valid)
        knn = KNeighborsClassifier(min(self.n_neighbors, len(y_train)))
        pred = knn.fit(emb_train, y_train).predict(emb_valid)
        net.history.record("valid_knn_acc", float(accuracy_score(y_valid, pred)))
        net.history.record(
            "valid_knn_bal_acc", float(balanced_accuracy_score(y_valid, pred))
        )


class EmbedderNet(NeuralNet):
    """skorch NeuralNet specialised through its extension points only.

    ``get_iterator`` builds the long-tail sampler and the DataLoader
    settings (workers and pinned memory on CUDA), ``infer`` moves uint8
    batches to the device (channels-last, bf16 autocast when asked) and
    ``get_loss`` computes the float32 metric loss. ``fit``, ``partial_fit``
    and ``fit_loop`` are skorch's own.
    """

    def __init__(
        self,
        module,
        criterion,
        *,
        sampler="random",
        m_per_class=4,
        balance="inverse",
        seed=0,
        amp_dtype=None,
        channels_last=False,
        **kwargs,
    ):
        super().__init__(module, criterion, **kwargs)
        self.sampler = sampler
        self.m_per_class = m_per_class
        self.balance = balance
        self.seed = seed
        self.amp_dtype = amp_dtype
        self.channels_last = channels_last

    def _on_cuda(self):
        return self.device is not None and is_cuda(self.device)

    def get_default_callbacks(self):
        # skorch's epoch table, without raw colour codes in logs and captures
        return [
            (name, TerminalAwarePrintLog() if name == "print_log" else callback)
            for name, callback in super().get_default_callbacks()
        ]

    def initialize_module(self):
        super().initialize_module()
        if self.channels_last:
            self.module_ = self.module_.to(memory_format=torch.channels_last)
        return self

    def get_iterator(self, dataset, training=False):
        kwargs = self.get_params_for("iterator_train" if training else "iterator_valid")
        iterator = self.iterator_train if training else self.iterator_valid
        kwargs.setdefault("batch_size", self.batch_size)
        if kwargs["batch_size"] == -1:
            kwargs["batch_size"] = len(dataset)
        on_cuda = self._on_cuda()
        kwargs.setdefault("num_workers", min(8, os.cpu_count() or 1) if on_cuda else 0)
        kwargs.setdefault("pin_memory", on_cuda)
        if training:
            if kwargs["num_workers"] > 0:
                kwargs.setdefault("persistent_workers", True)
            kwargs.setdefault("generator", torch.Generator().manual_seed(self.seed))
            if "sampler" not in kwargs and "batch_sampler" not in kwargs:
                sampler = make_sampler(
                    self.sampler,
                    dataset_labels(dataset),
                    batch_size=kwargs["batch_size"],
                    m_per_class=self.m_per_class,
                    balance=self.balance,
                    random_state=self.seed,
                )
                if self.sampler == "m_per_class":
                    kwargs["batch_size"] = sampler.sampler.batch_size
                kwargs["sampler"] = sampler
                # a last batch of one image breaks BatchNorm in train mode
                kwargs.setdefault("drop_last", len(sampler) > kwargs["batch_size"])
        return iterator(dataset, **kwargs)

    def infer(self, x, **fit_params):
        # device None: an accelerator placed the module (and the training
        # batches); inference batches go where the module is
        device = self.device
        if device is None:
            device = next(self.module_.parameters()).device
        x = x.to(device, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        device_type = torch.device(device).type
        with torch.autocast(
            device_type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None
        ):
            return self.module_(x, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = y_true.to(y_pred.device, non_blocking=True)
        return self.criterion_(y_pred.float(), y_true)
