"""Pretrained networks as feature extractors: torchvision, timm, open_clip.

Each backend turns ``(model, weights)`` into the network that computes
features and the preprocessing that network was trained with, read from the
backend (its weights' transforms, timm's data config, open_clip's
preprocessing config), never guessed. The weights are a name of the
backend's (downloaded where a network is reachable, then cached), a local
file or folder, or None (random initialisation, for tests and controls).
"""

import dataclasses
import importlib
import os
from pathlib import Path

import torch
from torch import nn

from ..utils._warnings import warn_user
from ._backbones import (
    DOWNLOAD_ERRORS,
    IMAGE_SIZE_KEY,
    IMAGENET_MEAN,
    IMAGENET_STD,
    _WeightsDownloadError,
    build_backbone,
    load_strict,
    read_state_dict,
    split_embedder_state,
    torchvision_download_error,
)

#: The backends, each an optional extra of the package except torchvision.
BACKENDS = ("torchvision", "timm", "open_clip")
FEATURE_BACKENDS = BACKENDS  # the public name (vgestimators.vision)
_EXTRAS = {"torchvision": "torchvision", "timm": "timm", "open_clip": "open_clip_torch"}
#: How the feature maps or tokens of ``layer=`` become one vector per image.
POOLINGS = ("avg", "max", "token")


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How images are prepared for a network, as its backend states it.

    Attributes
    ----------
    size : int
        Side of the square image the network receives.
    resize : int or None
        The shorter side is resized to this before a centre crop of
        ``size``; None resizes the whole image to ``size`` x ``size``.
    mean, std : tuple of float
        Per-channel normalisation of intensities in [0, 1].
    interpolation : str
        ``"bilinear"`` or ``"bicubic"`` (antialiased when shrinking).
    source : str
        Where these values come from.
    """

    size: int
    resize: int | None
    mean: tuple
    std: tuple
    interpolation: str
    source: str

    def at_size(self, image_size):
        """The same preprocessing for another network input side."""
        if image_size is None or image_size == self.size:
            return self
        resize = None
        if self.resize is not None:
            resize = max(image_size, round(image_size * self.resize / self.size))
        return dataclasses.replace(
            self,
            size=int(image_size),
            resize=resize,
            source=f"{self.source}, at image_size={image_size}",
        )

    def __call__(self, image):
        """Resize (and centre-crop) one image tensor (c, h, w)."""
        from torchvision.transforms.v2 import InterpolationMode
        from torchvision.transforms.v2 import functional as F

        mode = InterpolationMode(self.interpolation)
        if self.resize is None:
            if list(image.shape[-2:]) != [self.size, self.size]:
                image = F.resize(
                    image, [self.size, self.size], interpolation=mode, antialias=True
                )
            return image
        if min(image.shape[-2:]) != self.resize:
            image = F.resize(image, self.resize, interpolation=mode, antialias=True)
        return F.center_crop(image, [self.size, self.size])

    def describe(self):
        """One line for reports: what is done to each image."""
        step = (
            f"resized to {self.size} x {self.size}"
            if self.resize is None
            else f"shorter side resized to {self.resize}, centre {self.size} x "
            f"{self.size} crop"
        )
        return f"{step} ({self.interpolation}), mean {_round(self.mean)} std " + (
            f"{_round(self.std)}; from {self.source}"
        )


def _round(values):
    return "(" + ", ".join(f"{v:.3f}" for v in values) + ")"


class FeatureNetwork(nn.Module):
    """A feature extractor that takes uint8 or [0, 1] float image batches.

    Intensities are scaled and normalised here, on the compute device; the
    output of a ``layer`` with feature maps (n, c, h, w) or tokens
    (n, t, d) is pooled to one vector per image.
    """

    def __init__(self, network, preprocessing, pooling="avg"):
        super().__init__()
        self.network = network
        self.pooling = pooling
        self.register_buffer("mean", torch.zeros(1, 3, 1, 1), False)
        self.register_buffer("std", torch.ones(1, 3, 1, 1), False)
        self.set_preprocessing(preprocessing)

    def set_preprocessing(self, preprocessing):
        """Normalise with ``preprocessing``'s mean and std."""
        mean = torch.tensor(preprocessing.mean, dtype=torch.float32)
        std = torch.tensor(preprocessing.std, dtype=torch.float32)
        self.mean.copy_(mean.view(1, 3, 1, 1))
        self.std.copy_(std.view(1, 3, 1, 1))

    def forward(self, x):
        if x.dtype == torch.uint8:
            x = x.float().div_(255.0)
        out = self.network((x - self.mean) / self.std)
        if isinstance(out, dict):  # torchvision's feature extractor
            out = next(iter(out.values()))
        if isinstance(out, (tuple, list)):
            out = out[0]
        if out.ndim == 4:
            out = out.mean((2, 3)) if self.pooling != "max" else out.amax((2, 3))
        elif out.ndim == 3:
            if self.pooling == "token":
                out = out[:, 0]
            else:
                out = out.mean(1) if self.pooling == "avg" else out.amax(1)
        return out.flatten(1)


def import_backend(backend):
    """Import a backend's package, or say which extra installs it."""
    module = {"open_clip": "open_clip"}.get(backend, backend)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"backend={backend!r} needs the package {_EXTRAS[backend]!r}: pip "
            f"install 'vgestimators[{backend.replace('_', '-')}]' (or pip "
            f"install {_EXTRAS[backend]})."
        ) from exc


def _is_path(weights):
    return isinstance(weights, os.PathLike) or (
        isinstance(weights, str)
        and (
            os.sep in weights
            or weights.endswith((".pt", ".pth", ".bin", ".safetensors"))
        )
    )


def check_weights_path(weights):
    """A path ``weights`` that does not exist raises, naming it."""
    if _is_path(weights) and not Path(weights).exists():
        raise FileNotFoundError(f"Weights file {str(weights)!r} does not exist.")
    return _is_path(weights)


def _offline_error(backend, model, weights, exc):
    return _WeightsDownloadError(
        f"Could not download the {backend} weights {weights!r} of {model!r} (no "
        f"internet access?): {exc}. Offline: pass weights=<path of a local file> "
        "written by the backend (a state dict, a .safetensors file, or a folder "
        "saved with timm's save_for_hf), or copy the files into the backend's "
        "cache (torch hub or Hugging Face hub cache, see HF_HOME / TORCH_HOME) "
        "on a machine that has them (on the command line: --weights FILE). "
        "weights=None gives random features, which are only a control."
    )


# -- torchvision ------------------------------------------------------------


def _last_linear(module):
    """Name of the last ``nn.Linear`` in ``module`` (its classifier)."""
    names = [n for n, m in module.named_modules() if isinstance(m, nn.Linear)]
    return names[-1] if names else None


def _replace(module, name, new):
    parent, _, leaf = name.rpartition(".")
    owner = module.get_submodule(parent) if parent else module
    setattr(owner, leaf, new)


def _torchvision_preprocessing(name, enum):
    from torchvision.models import get_model_weights

    if enum is None:
        try:
            enum = get_model_weights(name).DEFAULT
        except (ValueError, KeyError, AttributeError):
            return Preprocessing(
                224,
                256,
                IMAGENET_MEAN,
                IMAGENET_STD,
                "bilinear",
                "ImageNet defaults (torchvision names none)",
            )
    t = enum.transforms()
    return Preprocessing(
        size=int(t.crop_size[0]),
        resize=int(t.resize_size[0]),
        mean=tuple(float(v) for v in t.mean),
        std=tuple(float(v) for v in t.std),
        interpolation=t.interpolation.value,
        source=f"torchvision's {enum} transforms",
    )


def _embedder_file_network(model, state, path):
    """The network of a ``TripletImageEmbedder.save_backbone`` file."""
    backbone_state, head_state = split_embedder_state(state)
    conv1 = backbone_state.get("conv1.weight")
    stem = "small" if conv1 is not None and conv1.shape[-1] == 3 else "torchvision"
    try:
        backbone = build_backbone(model, backbone_state, stem=stem)
    except ValueError as exc:
        raise ValueError(f"Weights file {str(path)!r}: {exc}") from exc
    linears = sorted({int(k.split(".")[0]) for k in head_state if k.endswith("weight")})
    layers = nn.ModuleDict()
    for index in linears:
        weight = head_state[f"{index}.weight"]
        layers[str(index)] = nn.Linear(weight.shape[1], weight.shape[0])
    load_strict(layers, head_state, f"head of weights file {str(path)!r}", model)
    size = state.get(IMAGE_SIZE_KEY)
    return _EmbedderFeatures(backbone, layers), (None if size is None else int(size))


class _EmbedderFeatures(nn.Module):
    """A saved embedder's backbone and head (ReLU between head layers)."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, x):
        x = self.backbone(x)
        layers = list(self.head.values())
        for i, layer in enumerate(layers):
            x = layer(x)
            if i < len(layers) - 1:
                x = torch.relu(x)
        return x


def _torchvision(model, weights, progress):
    import torchvision
    from torchvision.models import get_model

    from ._backbones import _torchvision_weights

    if model not in torchvision.models.list_models():
        raise ValueError(
            f"{model!r} is not a torchvision model; torchvision.models."
            "list_models() names them (e.g. 'resnet50', 'vit_b_16', "
            "'convnext_tiny')."
        )
    if check_weights_path(weights):
        state = read_state_dict(weights)
        if any(k.startswith("backbone.") for k in state):
            network, size = _embedder_file_network(model, state, weights)
            pre = Preprocessing(
                size or 224,
                None,
                IMAGENET_MEAN,
                IMAGENET_STD,
                "bilinear",
                f"the TripletImageEmbedder file {str(weights)!r}"
                + ("" if size else " (no image size recorded: 224)"),
            )
            return network, pre, os.fspath(weights)
        network = get_model(model, weights=None)
        classifier = _last_linear(network)
        if classifier is not None:
            _replace(network, classifier, nn.Identity())
            state = {
                k: v for k, v in state.items() if not k.startswith(classifier + ".")
            }
        load_strict(network, state, f"weights file {str(weights)!r}", model)
        pre = _torchvision_preprocessing(model, None)
        return (
            network,
            dataclasses.replace(
                pre,
                source=pre.source
                + " (the model's default weights'; a file names none)",
            ),
            os.fspath(weights),
        )
    enum = None if weights is None else _torchvision_weights(model, weights)
    try:
        # the builder sets what these weights need (e.g. transform_input)
        network = get_model(model, weights=enum, progress=progress)
    except DOWNLOAD_ERRORS as exc:
        raise torchvision_download_error(model, enum, exc) from exc
    classifier = _last_linear(network)
    if classifier is not None:
        _replace(network, classifier, nn.Identity())
    return (
        network,
        _torchvision_preprocessing(model, enum),
        (None if enum is None else str(enum)),
    )


# -- timm -------------------------------------------------------------------


def _timm_preprocessing(network, source):
    import timm

    config = timm.data.resolve_data_config({}, model=network)
    height, size = (int(v) for v in config["input_size"][-2:])
    crop_pct = float(config.get("crop_pct") or 1.0)
    mode = config.get("crop_mode") or "center"
    if (
        height != size
        or mode not in ("center", "squash")
        or (mode == "squash" and crop_pct < 1)
    ):
        warn_user(
            f"timm's preprocessing of {source.rpartition(' ')[-1]} (input "
            f"{height} x {size}, crop_mode {mode!r}, crop_pct {crop_pct}) is "
            f"approximated by a centre crop of {size} x {size}."
        )
    resize = None if mode == "squash" else int(size / crop_pct)
    return Preprocessing(
        size=size,
        resize=resize,
        mean=tuple(float(v) for v in config["mean"]),
        std=tuple(float(v) for v in config["std"]),
        interpolation=str(config.get("interpolation") or "bicubic"),
        source=source,
    )


def _timm(model, weights, progress):
    import timm

    timm.models.set_pretrained_download_progress(progress)
    if check_weights_path(weights):
        path = Path(weights)
        if path.is_dir():
            try:
                network = timm.create_model(f"local-dir:{path}", pretrained=True)
            except Exception as exc:  # noqa: BLE001 - re-raised with the folder
                raise ValueError(
                    f"Could not read a timm model from the folder {str(path)!r} "
                    f"(expected config.json and model.safetensors or "
                    f"pytorch_model.bin, as timm's save_for_hf writes): {exc}"
                ) from exc
            architecture = network.pretrained_cfg.get("architecture")
            if architecture and architecture != model.partition(".")[0]:
                raise ValueError(
                    f"The timm folder {str(path)!r} holds a {architecture!r}, "
                    f"not a {model!r}: set model={architecture!r}."
                )
            network.reset_classifier(0)
            return (
                network,
                _timm_preprocessing(network, f"timm's data config of {str(path)!r}"),
                os.fspath(path),
            )
        network = _timm_model(timm, model, pretrained=False)
        state = read_state_dict(path)
        classifier = network.pretrained_cfg.get("classifier") or ""
        network.reset_classifier(0)
        heads = (classifier,) if isinstance(classifier, str) else tuple(classifier)
        state = {
            k: v
            for k, v in state.items()
            if not any(h and k.startswith(h + ".") for h in heads)
        }
        load_strict(network, state, f"weights file {str(path)!r}", model)
        return (
            network,
            _timm_preprocessing(network, f"timm's data config of {model}"),
            os.fspath(path),
        )
    name = model if weights in (None, "DEFAULT") else f"{model}.{weights}"
    try:
        network = _timm_model(timm, name, pretrained=weights is not None)
    except DOWNLOAD_ERRORS as exc:
        raise _offline_error("timm", model, weights, exc) from exc
    network.reset_classifier(0)
    tag = network.pretrained_cfg.get("tag") if weights is not None else None
    return network, _timm_preprocessing(network, f"timm's data config of {name}"), tag


def _timm_model(timm, name, pretrained):
    try:
        return timm.create_model(name, pretrained=pretrained)
    except RuntimeError as exc:
        if "Unknown model" in str(exc) or "Invalid pretrained tag" in str(exc):
            raise ValueError(
                f"{name!r} is not a timm model (and tag); timm.list_models() "
                "and timm.list_pretrained() name them."
            ) from exc
        raise


# -- open_clip --------------------------------------------------------------


def _open_clip(model, weights, progress):
    import open_clip

    local = check_weights_path(weights)
    if local and Path(weights).is_dir():
        # a folder as open_clip writes one (open_clip_config.json and weights)
        name, source, kwargs = f"local-dir:{weights}", str(weights), {}
    elif local or weights is None:
        name, source, kwargs = model, model, {"load_weights": False}
    elif model.startswith(("hf-hub:", "local-dir:")):
        name, source, kwargs = model, model, {}  # the weights come with it
    else:
        tags = open_clip.list_pretrained_tags_by_model(model)
        if weights == "DEFAULT" and not tags:
            raise ValueError(
                f"open_clip names no pretrained weights for {model!r}; pass "
                "weights=<local file> or None."
            )
        pretrained = tags[0] if weights == "DEFAULT" else weights
        name, source = model, f"{model} ({pretrained})"
        tag_cfg = open_clip.get_pretrained_cfg(model, pretrained) or {}
        # e.g. OpenAI's weights were trained with QuickGELU
        kwargs = {
            "pretrained": pretrained,
            "force_quick_gelu": bool(tag_cfg.get("quick_gelu", False)),
        }
    try:
        network = open_clip.create_model(name, **kwargs)
    except DOWNLOAD_ERRORS as exc:
        raise _offline_error("open_clip", model, weights, exc) from exc
    except RuntimeError as exc:
        if "download" in str(exc).lower() or "hub" in str(exc).lower():
            raise _offline_error("open_clip", model, weights, exc) from exc
        raise ValueError(
            f"open_clip cannot build {name!r} with weights {weights!r}: {exc} "
            "(open_clip.list_models() and open_clip.list_pretrained() name "
            "models and weights; 'hf-hub:<repository>', e.g. "
            "'hf-hub:imageomics/bioclip', reads one from the Hugging Face hub)."
        ) from exc
    if local and not Path(weights).is_dir():
        state = read_state_dict(weights)
        state = {k.removeprefix("module."): v for k, v in state.items()}
        visual = {
            k[len("visual.") :]: v for k, v in state.items() if k.startswith("visual.")
        }
        load_strict(
            network.visual, visual or state, f"weights file {str(weights)!r}", model
        )
    cfg = open_clip.get_model_preprocess_cfg(network)
    size = cfg["size"]
    size = int(size if isinstance(size, int) else size[-1])
    mode = cfg.get("resize_mode", "shortest")
    if mode not in ("shortest", "squash"):
        warn_user(
            f"open_clip's resize_mode {mode!r} of {source} is approximated by "
            "resizing the whole image."
        )
    resize = size if mode == "shortest" else None
    if local and not Path(weights).is_dir():
        source += " (the model's defaults: a weights file names no preprocessing)"
    pre = Preprocessing(
        size=size,
        resize=resize,
        mean=tuple(float(v) for v in cfg["mean"]),
        std=tuple(float(v) for v in cfg["std"]),
        interpolation=str(cfg.get("interpolation", "bicubic")),
        source=f"open_clip's preprocessing config of {source}",
    )
    resolved = os.fspath(weights) if local else kwargs.get("pretrained", weights)
    return network.visual, pre, resolved


_LOADERS = {"torchvision": _torchvision, "timm": _timm, "open_clip": _open_clip}


def load_feature_network(backend, model, weights, *, layer=None, progress=False):
    """The network computing features and the preprocessing it expects.

    Parameters
    ----------
    backend : {"torchvision", "timm", "open_clip"}
    model : str
        The backend's model name.
    weights : str, path-like or None
        A weights name of the backend, a local file or folder, or None.
    layer : str or None, default=None
        A node of the network whose output is the feature (see
        ``torchvision.models.feature_extraction.get_graph_node_names``);
        None: the backend's image feature (the input of the classifier, or
        open_clip's image embedding).
    progress : bool, default=False
        Show a download progress bar.

    Returns
    -------
    network : torch.nn.Module
        In eval mode, its parameters frozen: ``base``, or the part of it
        that computes ``layer``.
    base : torch.nn.Module
        The whole network without its classifier (what a weights file of
        the backend holds; ``network`` shares its parameters).
    preprocessing : Preprocessing
    resolved : str or None
        The weights as loaded: a weights name that pins them (the one
        ``"DEFAULT"`` stood for), a file or folder path, or None (random).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}.")
    import_backend(backend)
    base, preprocessing, resolved = _LOADERS[backend](model, weights, progress)
    base.eval()
    for parameter in base.parameters():
        parameter.requires_grad_(False)
    network = base if layer is None else _extractor(base, model, layer)
    return network, base, preprocessing, resolved


def _extractor(base, model, layer):
    """The output of node ``layer`` of ``base`` (torch.fx feature extraction)."""
    from torchvision.models.feature_extraction import (
        create_feature_extractor,
        get_graph_node_names,
    )

    try:
        _, nodes = get_graph_node_names(base)
    except Exception as exc:  # noqa: BLE001 - torch.fx cannot trace every model
        raise ValueError(
            f"layer={layer!r}: torch.fx cannot trace {model!r} to find its "
            f"nodes ({type(exc).__name__}: {str(exc)[:200]}); use layer=None, "
            "or a network torch.fx traces (torchvision's do)."
        ) from exc
    if layer not in nodes and layer not in dict(base.named_modules()):
        near = [n for n in nodes if layer in n][:8] or nodes[-8:]
        raise ValueError(
            f"layer={layer!r} is not a node of {model!r}; e.g. {near} "
            "(torchvision.models.feature_extraction.get_graph_node_names "
            "lists them all)."
        )
    return create_feature_extractor(base, return_nodes={layer: "features"}).eval()
