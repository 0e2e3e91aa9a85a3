"""torchvision ResNet backbones without their classification layer."""

import os
import urllib.error
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

BACKBONES = ("resnet18", "resnet34", "resnet50")
STEMS = ("torchvision", "small")
#: Largest image side for which ``stem="auto"`` chooses the small stem.
SMALL_STEM_MAX_SIZE = 64

# ImageNet statistics, which torchvision's pretrained networks expect.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Prefix of the backbone's keys in a state dict saved from a fitted
# TripletImageEmbedder (``save_backbone``); such files also hold "head.*".
_EMBEDDER_PREFIX = "backbone."
#: Key of a saved embedder's training image side (a 0-d tensor).
IMAGE_SIZE_KEY = "meta.image_size"


class WeightsDownloadError(RuntimeError):
    """Raised when pretrained weights are not cached and cannot be fetched.

    The message names the offline options (the cache folder and file, or a
    local weights file).
    """


_WeightsDownloadError = WeightsDownloadError  # the former private name


def _torchvision_weights(name, weights):
    """Resolve a torchvision weights name for ``name`` (e.g. "DEFAULT")."""
    from torchvision.models import get_model_weights

    enum = get_model_weights(name)
    try:
        return enum.verify(weights)
    except (KeyError, ValueError, TypeError):
        valid = ", ".join(["DEFAULT", *enum.__members__])
        raise ValueError(
            f"Unknown weights {weights!r} for {name}: not a local file and not "
            f"one of the torchvision weights names ({valid})."
        ) from None


def torchvision_download_error(name, weights_enum, exc):
    """The error of torchvision weights neither cached nor downloadable."""
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    filename = os.path.basename(weights_enum.url)
    return _WeightsDownloadError(
        f"Could not download the torchvision weights {weights_enum} for "
        f"{name} from {weights_enum.url} (no internet access?): {exc}. "
        "Offline options: (1) copy the file "
        f"{filename!r} into the torch hub cache {str(hub)!r} (set TORCH_HOME "
        "to move it), or (2) pass weights=<path of a local state-dict "
        "file> (on the command line: --weights FILE), e.g. one written with "
        "torch.save(model.state_dict(), path) or "
        "TripletImageEmbedder.save_backbone(path). weights=None starts from "
        "random weights (a trained network learns from there; frozen random "
        "features are only a control)."
    )


#: What a failed download raises (no network, no cache).
DOWNLOAD_ERRORS = (urllib.error.URLError, ConnectionError, TimeoutError, OSError)


def _load_torchvision_state_dict(name, weights_enum, progress):
    try:
        return weights_enum.get_state_dict(progress=progress, check_hash=False)
    except DOWNLOAD_ERRORS as exc:
        raise torchvision_download_error(name, weights_enum, exc) from exc


def read_state_dict(path):
    """Read a state dict from a weights file, naming the file on failure.

    A ``.safetensors`` file is read with safetensors, any other with
    ``torch.load(weights_only=True)`` (no code runs); a checkpoint that
    wraps its state dict under ``"state_dict"`` is unwrapped.
    """
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(path, device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise ValueError(
            f"Could not read a state dict from weights file {str(path)!r} "
            f"(truncated, or not a weights file?): {exc}"
        ) from exc
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise ValueError(
            f"Weights file {str(path)!r} does not hold a state dict (a mapping "
            "of parameter names to tensors)."
        )
    return state


def split_embedder_state(state):
    """Split a state dict into (backbone part, embedding-head part).

    A file written by ``TripletImageEmbedder.save_backbone`` prefixes the
    backbone's keys with ``"backbone."`` and the embedding head's with
    ``"head."``; a plain torchvision state dict has neither (its ``fc.*``
    classification layer is dropped).
    """
    if any(k.startswith(_EMBEDDER_PREFIX) for k in state):
        backbone = {
            k[len(_EMBEDDER_PREFIX) :]: v
            for k, v in state.items()
            if k.startswith(_EMBEDDER_PREFIX)
        }
        head = {k[len("head.") :]: v for k, v in state.items() if k.startswith("head.")}
        return backbone, head
    return {k: v for k, v in state.items() if not k.startswith("fc.")}, {}


def is_weights_file(weights):
    """Whether ``weights`` names an existing local file."""
    return isinstance(weights, (str, os.PathLike)) and Path(weights).is_file()


def load_weights_file(weights):
    """Read a local weights file: (backbone state, head state)."""
    return split_embedder_state(read_state_dict(weights))


def save_weights(network, path, *, image_size=None):
    """Write a network's state dict as CPU tensors to ``path`` (a weights file).

    Of an embedding network the keys are ``backbone.*`` and ``head.*``:
    :func:`load_weights_file` splits them again, on any device.

    Parameters
    ----------
    network : torch.nn.Module
        The network whose weights are saved.
    path : str, path-like or file object
        Destination.
    image_size : int or None, default=None
        The image side the network was trained at, recorded under
        ``"meta.image_size"`` so that a frozen use of the file
        (:class:`PretrainedImageEmbedder`) prepares images alike.

    Returns
    -------
    path : str, path-like or file object
        The same path.
    """
    state = {k: v.detach().cpu() for k, v in network.state_dict().items()}
    if image_size is not None:
        state[IMAGE_SIZE_KEY] = torch.tensor(int(image_size))
    torch.save(state, path)
    return path


def resolve_stem(stem, image_size, weights):
    """The stem ``"auto"`` stands for, given the image size and the weights.

    Pretrained weights decide by themselves: a torchvision weights name has
    the torchvision stem, a state dict the stem its ``conv1`` kernel shows
    (3 x 3: small). Otherwise the small stem for images up to
    :data:`SMALL_STEM_MAX_SIZE` pixels, where the torchvision stem's stride-2
    convolution and max-pool would shrink a 32-pixel image to 1 x 1 by the
    last stage.
    """
    if stem != "auto":
        return stem
    if isinstance(weights, Mapping):
        conv1 = weights.get("conv1.weight", weights.get("backbone.conv1.weight"))
        if conv1 is not None:
            return "small" if conv1.shape[-1] == 3 else "torchvision"
    elif weights is not None:
        return "torchvision"
    return "small" if image_size <= SMALL_STEM_MAX_SIZE else "torchvision"


def _small_stem(model):
    """3 x 3 stride-1 first convolution and no max-pool (for small images)."""
    out = model.conv1.out_channels
    model.conv1 = nn.Conv2d(3, out, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = nn.Identity()


def build_backbone(
    name="resnet50", weights=None, *, stem="torchvision", progress=False
):
    """Build a torchvision ResNet feature extractor (no classification layer).

    Parameters
    ----------
    name : {"resnet18", "resnet34", "resnet50"}, default="resnet50"
        Architecture; the paper uses ResNet50.
    weights : None, str, path-like or dict, default=None
        ``None``: random initialisation. A dict: a state dict already in
        memory, of either kind a file may hold (below). A torchvision weights name of this
        architecture (``"DEFAULT"``, ``"IMAGENET1K_V1"`` or
        ``"ResNet50_Weights.IMAGENET1K_V2"``): read from the torch hub cache
        or downloaded. A path of a local state-dict file: a torchvision
        state dict of the same architecture (the ``fc.*`` layer is ignored)
        or a file written by ``TripletImageEmbedder.save_backbone``. Loading
        is strict: a file that does not fit the architecture raises.
    stem : {"torchvision", "small"}, default="torchvision"
        The first layers: torchvision's (7 x 7 stride-2 convolution and a
        max-pool, made for 224-pixel images) or a 3 x 3 stride-1 convolution
        without max-pool, as is usual for images of 32 to 64 pixels (the
        torchvision stem shrinks a 32-pixel image to 1 x 1 by the last
        stage). Weights must come from a network with the same stem.
    progress : bool, default=False
        Show a progress bar while downloading.

    Returns
    -------
    backbone : torch.nn.Module
        The network with ``fc`` replaced by ``nn.Identity``; it maps images
        of shape (n, 3, h, w) to features of shape (n, ``num_features``) and
        carries the feature width as the attribute ``num_features``.

    Raises
    ------
    RuntimeError
        When torchvision weights are neither cached nor downloadable (no
        internet); the message names the two offline options. Random weights
        are never substituted silently.

    See Also
    --------
    TripletImageEmbedder : Trains such a backbone with triplet losses.

    Examples
    --------
    >>> import torch
    >>> from vgestimators.vision import build_backbone
    >>> net = build_backbone("resnet18", weights=None)
    >>> net.num_features
    512
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 512])
    """
    import torchvision

    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {BACKBONES}, got {name!r}.")
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {STEMS}, got {stem!r}.")
    model = getattr(torchvision.models, name)(weights=None)
    if stem == "small":
        _small_stem(model)
    num_features = model.fc.in_features
    model.fc = nn.Identity()
    model.num_features = num_features
    if weights is None:
        return model
    if isinstance(weights, Mapping):
        state, _ = split_embedder_state(dict(weights))
        source = "given state dict"
    elif is_weights_file(weights):
        state, _ = load_weights_file(weights)
        source = f"weights file {str(weights)!r}"
    elif isinstance(weights, (str, os.PathLike)) and (
        os.sep in str(weights) or str(weights).endswith((".pt", ".pth", ".bin"))
    ):
        raise FileNotFoundError(f"Weights file {str(weights)!r} does not exist.")
    elif isinstance(weights, str):
        enum = _torchvision_weights(name, weights)
        state = _load_torchvision_state_dict(name, enum, progress)
        state, _ = split_embedder_state(state)
        source = f"torchvision weights {enum}"
    else:
        raise TypeError(
            "weights must be None, a torchvision weights name or a path of a "
            f"state-dict file, got {type(weights).__name__}."
        )
    load_strict(model, state, source, f"{name} with the {stem!r} stem")
    return model


def load_strict(module, state, source, model):
    """Load ``state`` into ``module``; any key too many or missing raises.

    Parameters
    ----------
    module : torch.nn.Module
    state : dict
        The state dict.
    source : str
        Where the state comes from, for the message (e.g. "weights file
        'b.pt'").
    model : str
        What the module is, for the message.
    """
    try:
        result = module.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ValueError(f"The {source} do(es) not fit {model}: {exc}") from exc
    missing, unexpected = result.missing_keys, result.unexpected_keys
    if missing or unexpected:
        raise ValueError(
            f"The {source} do(es) not fit {model}: missing keys "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}, unexpected keys "
            f"{unexpected[:5]}{'...' if len(unexpected) > 5 else ''}."
        )
