"""The benchmark's settings, declared once.

Each field of :class:`BenchmarkConfig` carries its help text, command-line
aliases and choices; the class docstring's parameter list and the command
line (``python -m vgestimators.benchmark --help``) are both derived from
these declarations.
"""

import types
from dataclasses import MISSING, dataclass, field, fields
from typing import Union, get_args, get_origin

from ._methods import FEATURE_METHODS, METHODS

_PRESETS = {
    # measured on a shared 2-core CPU sandbox: see docs/user_guide/benchmark.rst
    "default": {},  # the BenchmarkConfig defaults
    # smaller data, fewer epochs and splits: a few minutes
    "quick": dict(
        n_species=16,
        n_images=600,
        image_size=32,
        n_splits=2,
        max_epochs=4,
        finetune_epochs=2,
        n_unseen=2,
        many=60,
        few=12,
    ),
    # a GPU (sized for an H200 in about 5 minutes): 32 species, 64 px,
    # ResNet50 with the small-image stem, bf16; see benchmarks/gpu_check.py
    "gpu": dict(
        device="cuda",
        n_species=32,
        n_images=4000,
        image_size=64,
        backbone="resnet50",
        stem="auto",
        batch_size=128,
        n_splits=2,
        max_epochs=12,
        finetune_epochs=4,
        many=100,
        few=20,
    ),
    # seconds: for tests
    "tiny": dict(
        n_species=6,
        n_images=72,
        image_size=16,
        imbalance_ratio=6,
        n_splits=1,
        max_epochs=1,
        finetune_epochs=1,
        batch_size=24,
        n_unseen=1,
        n_undescribed=1,  # its 6 species: one genus of at least 3
        many=10,
        few=5,
        tsne=True,
        n_test_per_species=4,
    ),
}


def _setting(default, help, *, flags=(), choices=None, synthetic=False, off=None):
    """A field of :class:`BenchmarkConfig` with its documentation.

    ``flags`` are extra command-line spellings (the first flag is always
    ``--field-name``); ``synthetic`` marks a field that only shapes the
    ``make_forams`` data; ``off`` is the help of ``--no-name`` for a
    boolean field.
    """
    return field(
        default=default,
        metadata={
            "help": help,
            "flags": tuple(flags),
            "choices": choices,
            "synthetic": synthetic,
            "off": off,
        },
    )


@dataclass
class BenchmarkConfig:
    """Settings of the rare-species benchmark.

    The defaults (preset ``"default"``) run on ``make_forams`` data on the CPU
    within a quarter of an hour on 2 cores;
    ``BenchmarkConfig.from_preset("quick")`` is a smaller run (a few
    minutes) and ``"tiny"`` is for tests (seconds). Every field can be
    overridden, e.g. ``BenchmarkConfig.from_preset("quick", device="cuda")``,
    and is an option of ``python -m vgestimators.benchmark`` (``n_splits``
    is ``--n-splits``).

    Parameters
    ----------
    ${settings}

    Examples
    --------
    >>> from vgestimators.benchmark import BenchmarkConfig
    >>> config = BenchmarkConfig.from_preset("quick", out="my_results")
    >>> config.preset, config.n_splits, config.out
    ('quick', 2, 'my_results')
    >>> BenchmarkConfig().backbone
    'resnet18'
    """

    out: str = _setting("results", "Folder for the result files and figures.")
    preset: str = _setting(
        "default",
        "Named settings the others start from (quick: a few minutes on a CPU; "
        "gpu: 32 species, 64 px, ResNet50 on CUDA, about 5 minutes on an "
        "H200; tiny: seconds, for tests).",
        choices=tuple(_PRESETS),
    )
    methods: tuple = _setting(
        tuple(m for m in METHODS if m not in FEATURE_METHODS),
        "Methods to run, shown in the table's order (default: all; the "
        "pretrained-feature rows when features or weights is set).",
        choices=tuple(METHODS),
    )
    device: str = _setting(
        "cpu",
        "Where the networks train (auto: CUDA when available).",
        choices=("cpu", "cuda", "auto"),
    )
    n_splits: int = _setting(
        3,
        "Repeated splits; split k uses seed random_state + k.",
        flags=("--seeds",),
    )
    test_size: float = _setting(
        0.25,
        "Fraction of each seen species' images in the test set (real data, "
        "or n_test_per_species=0).",
    )
    n_unseen: int = _setting(
        2,
        "Species held out of training entirely in each split (their images "
        "are the zero-shot test set; their DNA is known).",
    )
    n_undescribed: int = _setting(
        2,
        "Species held out of training with neither images nor DNA in each "
        "split (undescribed species), drawn from genera that keep at least 2 "
        "described species; their images score unknown detection and genus "
        "accuracy.",
    )
    random_state: int = _setting(
        0, "Seed of the data, the splits and the networks.", flags=("--seed",)
    )
    # data
    n_species: int = _setting(16, "make_forams n_species.", synthetic=True)
    n_images: int = _setting(1000, "make_forams n_images.", synthetic=True)
    image_size: int = _setting(
        32, "Image side in pixels (make_forams, and what the networks see)."
    )
    imbalance_ratio: float = _setting(
        100.0, "make_forams imbalance_ratio.", synthetic=True
    )
    genetic_signal: float = _setting(
        1.0,
        "make_forams genetic_signal, in [0, 1] (0: appearance unrelated to DNA).",
        synthetic=True,
    )
    n_test_per_species: int = _setting(
        30,
        "Synthetic data: test images rendered for every species, so the test "
        "set is balanced (train on the long tail, test on a balanced set, as "
        "long-tailed recognition is measured); 0 uses stratified splits of "
        "the long-tailed images instead (as for real data).",
        synthetic=True,
    )
    images: str | None = _setting(
        None, "Real data: an image folder, one sub-folder per class."
    )
    sequences: str | None = _setting(
        None, "Real data: a PFR2-style CSV or FASTA file of sequences."
    )
    mapping: str | None = _setting(
        None, "Real data: an optional two-column CSV, image class -> species name."
    )
    features: str | None = _setting(
        None,
        "Pretrained features BACKEND:NAME (e.g. torchvision:resnet50, "
        "timm:vit_small_patch16_224, open_clip:hf-hub:imageomics/bioclip): "
        "adds the training-free rows features_ncm and features_prototype "
        "(PretrainedImageEmbedder at the network's own image size).",
    )
    weights: str | None = _setting(
        None,
        "Weights of the features' network: a local file or the backend's "
        "weights name (default: DEFAULT); alone, it means "
        "features=torchvision:BACKBONE.",
    )
    # training
    backbone: str = _setting(
        "resnet18",
        "torchvision ResNet, trained from scratch.",
        choices=("resnet18", "resnet34", "resnet50"),
    )
    stem: str = _setting(
        "torchvision",
        "ResNet stem of every network. The embedder's default (auto: the "
        "small-image stem up to 64 px) measured 3 to 5 points better on this "
        "data at 6 to 7 times the CPU time, which would take the default run "
        "past its quarter of an hour on 2 cores; auto on a GPU.",
        choices=("torchvision", "small", "auto"),
    )
    embedding_dim: int = _setting(
        128, "Size of the image embedding (128, as in the paper)."
    )
    loss: str = _setting(
        "softmax_triplet",
        "TripletImageEmbedder loss of every triplet method.",
        choices=("triplet", "reciprocal", "softmax_triplet"),
    )
    miner: str = _setting(
        "batch_hard",
        "TripletImageEmbedder miner of every triplet method.",
        choices=("semihard", "hard", "all", "batch_hard"),
    )
    anchor_components: int | None = _setting(
        None,
        "GeneticAnchors(n_components=...): PCA size of the anchor space (None "
        "keeps all 256 SGT dinucleotide features).",
    )
    max_epochs: int = _setting(10, "Epochs of each training.", flags=("--epochs",))
    finetune_epochs: int = _setting(3, "Epochs of the aligned fine-tuning.")
    batch_size: int = _setting(64, "Images per batch.")
    lr: float = _setting(1e-3, "Learning rate.")
    finetune_lr_factor: float = _setting(
        0.5, "Fine-tuning learning rate, as a fraction of lr."
    )
    alignment_weight: float = _setting(
        1.0, "Weight of the cosine alignment loss during fine-tuning."
    )
    objective: str = _setting(
        "balanced",
        "What the default aligner's balance between species with and without "
        "images maximises: balanced (every species counts once), harmonic (H, "
        "the zero-shot literature's), or a number in [0, 1] (the share of new "
        "images expected from image-less species).",
    )
    calibration_cv: int = _setting(
        1,
        "Hold-outs on which the default aligner rows choose their constants "
        "(cross-fitting: one more network trained on part of the training "
        "images per hold-out); 0 chooses them on the training embeddings.",
    )
    # scoring
    many: int = _setting(60, "Many-shot classes have more training images than this.")
    few: int = _setting(15, "Few-shot classes have fewer training images than this.")
    tail_fraction: float = _setting(
        0.2, "Fraction of rarest classes in 'rarest-class accuracy'."
    )
    n_threads: int | None = _setting(
        None,
        "torch.set_num_threads for the run (None: torch's default, one per "
        "core). On a machine shared with other jobs, 1 thread per process "
        "avoids oversubscription, which slows small CPU operations a lot.",
        flags=("--threads",),
    )
    # output
    tsne: bool = _setting(
        True,
        "Draw the t-SNE figure of the aligned embeddings (needs the aligned or "
        "zero_shot row).",
        off="Skip the t-SNE figure.",
    )
    progress: bool = _setting(True, "Show progress bars.", off="No progress bars.")

    @classmethod
    def from_preset(cls, name="default", **overrides):
        """Settings of a named preset (``"default"``, ``"quick"``, ``"gpu"``, ``"tiny"``).

        Parameters
        ----------
        name : {"default", "quick", "gpu", "tiny"}
            The preset.
        **overrides
            Fields to change.

        Returns
        -------
        config : BenchmarkConfig
        """
        if name not in _PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {list(_PRESETS)}.")
        return cls(**{**_PRESETS[name], "preset": name, **overrides}).validate()

    def validate(self):
        """Check the settings; returns ``self``, raises ValueError."""
        methods = tuple(self.methods)
        unknown = [m for m in methods if m not in METHODS]
        if unknown or not methods:
            raise ValueError(
                f"unknown methods {unknown}; choose from {list(METHODS)}."
                if unknown
                else "methods is empty."
            )
        if self.weights is not None and self.features is None:
            self.features = f"torchvision:{self.backbone}"
        default = tuple(m for m in METHODS if m not in FEATURE_METHODS)
        if self.features is not None and methods == default:
            methods = tuple(METHODS)
        wanted = [m for m in methods if m in FEATURE_METHODS]
        if wanted and self.features is None:
            raise ValueError(
                f"methods {wanted} need pretrained features: set features "
                "(--features BACKEND:NAME) or weights."
            )
        if self.features is not None:
            from ..vision import PretrainedImageEmbedder

            PretrainedImageEmbedder.from_spec(self.features)  # checks the spelling
        self.methods = tuple(m for m in METHODS if m in methods)
        for f in fields(self):
            choices = f.metadata["choices"]
            value = getattr(self, f.name)
            if choices and f.name != "methods" and value not in choices:
                raise ValueError(
                    f"{f.name} must be one of {', '.join(choices)}, got {value!r}."
                )
        if self.n_splits < 1:
            raise ValueError(f"n_splits must be >= 1, got {self.n_splits}.")
        if not 0 < self.test_size < 1:
            raise ValueError(f"test_size must be in (0, 1), got {self.test_size}.")
        if not 0 <= self.genetic_signal <= 1:
            raise ValueError(
                f"genetic_signal must be in [0, 1], got {self.genetic_signal}."
            )
        from ..utils._objective import parse_objective

        parse_objective(self.objective)
        if self.calibration_cv < 0:
            raise ValueError(f"calibration_cv must be >= 0, got {self.calibration_cv}.")
        if self.n_unseen < 0:
            raise ValueError(f"n_unseen must be >= 0, got {self.n_unseen}.")
        if self.n_undescribed < 0:
            raise ValueError(f"n_undescribed must be >= 0, got {self.n_undescribed}.")
        if "zero_shot" in self.methods and self.n_unseen == 0:
            raise ValueError("the zero_shot method needs n_unseen >= 1.")
        if (self.images is None) != (self.sequences is None):
            raise ValueError("real data needs both images and sequences.")
        return self

    def settings(self):
        """The settings that apply, as a flat, JSON-serialisable dict.

        With real data (``images`` set) the ``make_forams``-only fields
        (:func:`synthetic_only`) are left out: they shaped nothing.
        ``BenchmarkConfig(**settings).validate()`` rebuilds the configuration.

        Returns
        -------
        settings : dict

        Examples
        --------
        >>> config = BenchmarkConfig(images="photos", sequences="dna.fasta")
        >>> "n_species" in config.settings(), config.settings()["images"]
        (False, 'photos')
        >>> "n_species" in BenchmarkConfig().settings()
        True
        """
        skipped = synthetic_only() if self.images is not None else ()
        out = {}
        for f in fields(self):
            if f.name not in skipped:
                value = getattr(self, f.name)
                out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def synthetic_only():
    """Names of the fields that only shape the synthetic data (``make_forams``)."""
    return tuple(f.name for f in fields(BenchmarkConfig) if f.metadata["synthetic"])


def value_type(f):
    """The Python type of a field's values (``int`` for ``int | None``)."""
    kind = f.type
    if get_origin(kind) in (Union, types.UnionType):
        (kind,) = [t for t in get_args(kind) if t is not type(None)]
    return kind


def _type_text(f):
    """The numpydoc type of a field, e.g. ``int or None, default=None``."""
    if f.metadata["choices"] and f.name != "methods":
        kind = "{" + ", ".join(f'"{c}"' for c in f.metadata["choices"]) + "}"
    else:
        kind = {tuple: "tuple of str"}.get(value_type(f), value_type(f).__name__)
        if type(None) in get_args(f.type):
            kind += " or None"
    default = repr(f.default)
    if f.name == "methods":
        default = "all but the pretrained-feature rows"
    return f"{kind}, default={default}"


def _settings_doc():
    """The Parameters section of :class:`BenchmarkConfig`, from its fields."""
    import textwrap

    lines = []
    for f in fields(BenchmarkConfig):
        assert f.default is not MISSING, f.name
        help_text = f.metadata["help"]
        if f.name == "methods":
            help_text += (
                " One or more of " + ", ".join(f'``"{m}"``' for m in METHODS) + "."
            )
        lines.append(f"{f.name} : {_type_text(f)}")
        lines += textwrap.wrap(
            help_text, width=72, initial_indent="    ", subsequent_indent="    "
        )
    return "\n    ".join(lines)


BenchmarkConfig.__doc__ = BenchmarkConfig.__doc__.replace(
    "${settings}", _settings_doc()
)


def as_config(config=None, **overrides):
    """A validated :class:`BenchmarkConfig` from settings, a preset name or a dict."""
    from dataclasses import replace

    if config is None:
        config = BenchmarkConfig()
    elif isinstance(config, str):
        config = BenchmarkConfig.from_preset(config)
    elif isinstance(config, dict):
        config = BenchmarkConfig(**config)
    if overrides:
        config = replace(config, **overrides)
    return config.validate()
