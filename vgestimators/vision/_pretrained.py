"""PretrainedImageEmbedder: a pretrained network's features, nothing trained."""

import contextlib
import copy
import os
from numbers import Integral

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..utils._device import is_cuda, resolve_device
from ..utils._progress import progress
from ._backbones import IMAGE_SIZE_KEY
from ._build import resolve_precision
from ._data import ImageDataset, as_image_source
from ._feature_backends import (
    BACKENDS,
    POOLINGS,
    FeatureNetwork,
    Preprocessing,
    load_feature_network,
)


class PretrainedImageEmbedder(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Embed images with a pretrained network's features, training nothing.

    The practical start with few images per species and no GPU: the
    features of a network pretrained on many images (an ImageNet ResNet or
    ViT from torchvision, any timm model, a CLIP-style model such as BioCLIP
    through open_clip), L2-normalised, with a nearest-class-mean style rule
    on top (:class:`~sklearn.neighbors.NearestCentroid`, or the default
    :class:`VisualGeneticAligner`, which adds the DNA). ``fit`` only loads
    the network; ``transform`` embeds images in batches without gradients.
    Each image is prepared as the network's backend says (its weights'
    resize, centre crop, mean and std), not as guessed here.

    When to train instead: when the pretrained features do not separate
    your species (measure it: ``NearestCentroid`` on these features against
    raw pixels), train a :class:`TripletImageEmbedder` starting from the
    same weights (``TripletImageEmbedder(weights=...)`` takes a torchvision
    weights name or the same local file).

    Parameters
    ----------
    model : str, default="resnet50"
        The backend's model name: ``torchvision.models.list_models()``
        (``"resnet50"``, ``"vit_b_16"``, ``"convnext_tiny"`` ...),
        ``timm.list_models()`` (``"resnet50"``, ``"vit_small_patch16_224"``
        ...; a tag as in ``"resnet50.a1_in1k"`` chooses timm's weights), or
        ``open_clip.list_models()`` (``"ViT-B-16"``;
        ``"hf-hub:imageomics/bioclip"`` reads BioCLIP with its weights from
        the Hugging Face hub).
    backend : {"torchvision", "timm", "open_clip"}, default="torchvision"
        Library that builds the network. timm and open_clip are optional:
        ``pip install 'vgestimators[timm]'`` or ``'vgestimators[open-clip]'``.
    weights : str, path-like or None, default="DEFAULT"
        ``"DEFAULT"``: the backend's recommended weights of ``model``
        (downloaded where a network is reachable, then read from the
        backend's cache; offline, the error names the file to copy). Another
        name: torchvision's weights name (``"IMAGENET1K_V1"``), timm's tag
        or open_clip's pretrained tag (``"openai"``). A local file: a state
        dict (``torch.save(model.state_dict(), path)``, a ``.safetensors``
        file, or a :meth:`TripletImageEmbedder.save_backbone` file, whose
        embedding head and training image size are used). A local folder:
        timm's ``save_for_hf`` or an open_clip ``local-dir`` folder. None:
        random weights, a control only. A file that does not fit the model
        is refused in ``fit``, naming the file, before any image is read.
    layer : str or None, default=None
        None: the backend's image feature (the input of the classifier:
        ResNet50's 2048 pooled features; open_clip's image embedding; a
        saved embedder's embedding). A node name (listed by
        ``torchvision.models.feature_extraction.get_graph_node_names``,
        e.g. ``"layer3"``): that node's output, pooled by ``pooling``.
    pooling : {"avg", "max", "token"}, default="avg"
        How a ``layer``'s feature maps (n, c, h, w) or tokens (n, t, d)
        become a vector: average, maximum, or the first (class) token.
    image_size : "auto" or int, default="auto"
        Side of the network's input. "auto": the backend's (224 for most
        ImageNet networks, the recorded size of a saved embedder). An int
        keeps the backend's resize-to-crop ratio at that side (smaller is
        faster on a CPU; accuracy usually falls away from the trained size).
    batch_size : int, default=64
        Images per batch.
    num_workers : int, default=0
        DataLoader worker processes decoding images.
    device : str or torch.device, default="auto"
        "auto": CUDA when available, else CPU.
    precision : {"auto", "bf16", "fp32"}, default="auto"
        Autocast dtype: "auto" is bf16 on CUDA (where supported), float32
        on CPU. Output is float32 in every case.
    num_threads : int or None, default=None
        CPU threads of ``transform`` (``torch.set_num_threads`` for the
        call, restored afterwards); None leaves torch's setting.
    verbose : int, default=0
        1: a progress bar per ``transform``.

    Attributes
    ----------
    network_ : torch.nn.Module
        The frozen network, in eval mode, with the normalisation.
    preprocessing_ : Preprocessing
        What is done to each image and where the values come from
        (``preprocessing_.describe()``).
    n_features_out_ : int
        Width of the embeddings.
    weights_ : str or None
        The weights as loaded: the name that pins them (``"DEFAULT"``
        resolved, e.g. ``"ResNet50_Weights.IMAGENET1K_V2"``), a file or
        folder path, or None (random).
    device_ : str
        Device the network runs on.

    See Also
    --------
    TripletImageEmbedder : Trains a network on your images.
    make_species_pipeline : ``embedder=PretrainedImageEmbedder(...)``.

    Notes
    -----
    ``fit`` reads no image (nothing is learned); in a
    :func:`make_species_pipeline` the aligner then learns from these
    features. Pickling keeps the weights (a copy on the CPU);
    :func:`vgestimators.io.export_model` includes them or refers to them
    (``pretrained_weights=``).

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.vision import PretrainedImageEmbedder
    >>> images = np.random.default_rng(0).integers(0, 256, (4, 40, 40, 3),
    ...                                            dtype=np.uint8)
    >>> emb = PretrainedImageEmbedder("resnet18", weights=None, image_size=32)
    >>> Z = emb.fit().transform(images)
    >>> Z.shape, Z.dtype, bool(np.allclose(np.linalg.norm(Z, axis=1), 1))
    ((4, 512), dtype('float32'), True)
    """

    _parameter_constraints = {
        "model": [str],
        "backend": [StrOptions(set(BACKENDS))],
        "weights": [None, str, os.PathLike],
        "layer": [None, str],
        "pooling": [StrOptions(set(POOLINGS))],
        "image_size": [
            StrOptions({"auto"}),
            Interval(Integral, 8, None, closed="left"),
        ],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "num_workers": [Interval(Integral, 0, None, closed="left")],
        "device": [str, torch.device],
        "precision": [StrOptions({"auto", "bf16", "fp32"})],
        "num_threads": [None, Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model="resnet50",
        *,
        backend="torchvision",
        weights="DEFAULT",
        layer=None,
        pooling="avg",
        image_size="auto",
        batch_size=64,
        num_workers=0,
        device="auto",
        precision="auto",
        num_threads=None,
        verbose=0,
    ):
        self.model = model
        self.backend = backend
        self.weights = weights
        self.layer = layer
        self.pooling = pooling
        self.image_size = image_size
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.device = device
        self.precision = precision
        self.num_threads = num_threads
        self.verbose = verbose

    @classmethod
    def from_spec(cls, spec, **params):
        """An embedder from ``"BACKEND:NAME"`` (the command line's spelling).

        Parameters
        ----------
        spec : str
            E.g. ``"torchvision:resnet50"``, ``"timm:vit_small_patch16_224"``,
            ``"open_clip:hf-hub:imageomics/bioclip"``.
        **params
            Further parameters (``weights``, ``device`` ...).

        Returns
        -------
        embedder : PretrainedImageEmbedder

        Examples
        --------
        >>> from vgestimators.vision import PretrainedImageEmbedder
        >>> emb = PretrainedImageEmbedder.from_spec("timm:resnet50", weights=None)
        >>> emb.backend, emb.model
        ('timm', 'resnet50')
        """
        backend, _, model = str(spec).partition(":")
        if backend not in BACKENDS or not model:
            raise ValueError(
                f"features must be BACKEND:NAME with BACKEND one of "
                f"{', '.join(BACKENDS)} (e.g. torchvision:resnet50); got {spec!r}."
            )
        return cls(model, backend=backend, **params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Load the network and its preprocessing; no image is read.

        Parameters
        ----------
        X : array-like or torch Dataset or None, default=None
            Images (their kind is checked, their pixels are not read).
        y : None
            Ignored.

        Returns
        -------
        self : PretrainedImageEmbedder
        """
        if X is not None:
            as_image_source(X)  # a wrong kind of input fails before loading
        device = resolve_device(self.device)
        network, base, preprocessing, self.weights_ = load_feature_network(
            self.backend, self.model, self.weights, layer=self.layer
        )
        if self.image_size != "auto":
            preprocessing = preprocessing.at_size(self.image_size)
        network = FeatureNetwork(network, preprocessing, self.pooling)
        # the whole network (a layer's extractor shares its parameters):
        # what weights_state() saves, not a submodule of network_
        object.__setattr__(network, "base", base)
        self._set_network(network, device)
        self.preprocessing_ = preprocessing
        size = preprocessing.size
        with torch.inference_mode():
            probe = self.network_(torch.zeros(1, 3, size, size, device=device))
        self.n_features_out_ = int(probe.shape[1])
        self._n_features_out = self.n_features_out_
        return self

    def trains_nothing(self):
        """True: ``fit`` learns nothing from the images.

        :class:`~vgestimators.pipeline.SpeciesPipeline` then embeds the
        images once for its cross-fitting and its fit.

        Returns
        -------
        bool
        """
        return True

    def weights_state(self):
        """The network's weights as the backend's weights file holds them.

        Returns
        -------
        state : dict
            CPU tensors of the whole network without its classifier (also
            with ``layer=``), which ``weights=<a file of it>`` loads back;
            a saved :class:`TripletImageEmbedder`'s network keeps its
            ``backbone.*``, ``head.*`` and ``meta.image_size`` keys.
        """
        check_is_fitted(self, "network_")
        base = self.network_.base
        state = {k: v.detach().cpu() for k, v in base.state_dict().items()}
        if any(k.startswith("backbone.") for k in state):
            state[IMAGE_SIZE_KEY] = torch.tensor(int(self.preprocessing_.size))
        return state

    def rebuild(self, state, *, device=None):
        """Fit from ``state`` (:meth:`weights_state`) instead of ``weights``.

        For reading a model whose weights were saved with it: the
        architecture comes from the parameters, the weights from ``state``;
        the parameters are left as they are.

        Parameters
        ----------
        state : dict
            Of :meth:`weights_state`.
        device : str or None, default=None
            Where to compute (None: ``device``).

        Returns
        -------
        self : PretrainedImageEmbedder
        """
        import tempfile

        given = {"weights": self.weights, "device": self.device}
        try:
            with tempfile.TemporaryDirectory() as folder:
                path = os.path.join(folder, "weights.pt")
                torch.save(state, path)
                self.set_params(weights=path, device=device or self.device).fit()
            self.weights_ = given["weights"]
        finally:
            self.set_params(**given)  # the parameters as they were
        return self

    def use_preprocessing(self, preprocessing):
        """Prepare images as ``preprocessing`` says, e.g. as saved with the model.

        Parameters
        ----------
        preprocessing : Preprocessing or dict
            Its fields (``size``, ``resize``, ``mean``, ``std``,
            ``interpolation``, ``source``).

        Returns
        -------
        self : PretrainedImageEmbedder
        """
        check_is_fitted(self, "network_")
        if isinstance(preprocessing, dict):
            preprocessing = Preprocessing(
                **{
                    k: tuple(v) if isinstance(v, list) else v
                    for k, v in preprocessing.items()
                }
            )
        self.preprocessing_ = preprocessing
        self.network_.set_preprocessing(preprocessing)
        return self

    def to_device(self, device):
        """Move the fitted network to ``device`` ("auto", "cpu", "cuda" ...).

        Parameters
        ----------
        device : str or torch.device

        Returns
        -------
        self : PretrainedImageEmbedder
        """
        check_is_fitted(self, "network_")
        self._set_network(self.network_, resolve_device(device))
        return self

    def _set_network(self, network, device):
        self.network_ = network.to(device).eval()
        if is_cuda(device):
            self.network_ = self.network_.to(memory_format=torch.channels_last)
        self.device_ = device

    def transform(self, X):
        """Embed images into L2-normalised float32 vectors.

        Image files are checked as by :meth:`TripletImageEmbedder.transform`
        (headers first; a file that fails to decode raises, naming it and
        its row). For more images than fit in memory, use
        :func:`embed_to_file`.

        Parameters
        ----------
        X : array-like or torch Dataset
            Image file paths, uint8 arrays (n, h, w[, c]), float arrays
            (n, c, h, w) in [0, 1], or a torch Dataset of images.

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features_out_), float32
            Unit-length rows.
        """
        check_is_fitted(self, "network_")
        pre = self.preprocessing_
        dataset = ImageDataset(
            X,
            image_size=pre.resize or pre.size,
            purpose="transform",
            resize=pre,
        )
        on_cuda = is_cuda(self.device_)
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=self.batch_size,
            num_workers=self.num_workers,
            pin_memory=on_cuda,
        )
        dtype = resolve_precision(self.precision, self.device_)
        out = []
        with (
            self._threads(),
            torch.inference_mode(),
            torch.autocast(
                torch.device(self.device_).type,
                dtype=dtype or torch.float32,
                enabled=dtype is not None,
            ),
        ):
            for images, _ in progress(
                loader, enabled=bool(self.verbose), desc="embedding", unit="batch"
            ):
                images = images.to(self.device_, non_blocking=on_cuda)
                if on_cuda:
                    images = images.contiguous(memory_format=torch.channels_last)
                out.append(self.network_(images).float().cpu())
        if not out:
            return np.zeros((0, self.n_features_out_), dtype=np.float32)
        return F.normalize(torch.cat(out), dim=1).numpy()

    @contextlib.contextmanager
    def _threads(self):
        if self.num_threads is None or is_cuda(self.device_):
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(self.num_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.input_tags.string = True
        tags.requires_fit = True
        tags.non_deterministic = False
        return tags

    def __getstate__(self):
        state = super().__getstate__()
        if "network_" in state and is_cuda(state.get("device_", "cpu")):
            state["network_"] = copy.deepcopy(self.network_).cpu()
            state["device_"] = "cpu"
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if "network_" in state:
            try:
                device = resolve_device(self.device)
            except ValueError:  # saved with CUDA, read where there is none
                device = "cpu"
            self._set_network(self.network_, device)
