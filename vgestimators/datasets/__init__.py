"""Data: the synthetic foraminifera world and loaders for real data."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        # sequence files
        "read_fasta": "._fasta",
        "load_pfr2": "._pfr2",
        "read_sequences": "._sequences",
        "read_mapping": "._sequences",
        # synthetic long-tailed world
        "make_forams": "._synthetic",
        "plot_forams": "._plot",
        "make_linked_embeddings": "._linked",
        "write_forams_folder": "._export",
        # real image data
        "load_image_folder": "._folders",
        "list_images": "._folders",
        "match_species": "._matching",
        "relabel_sequences": "._matching",
    },
    moved={
        "long_tail_split": "vgestimators.model_selection",
        "LongTailSplit": "vgestimators.model_selection",
        "CropBorders": "vgestimators.vision",
        "crop_borders": "vgestimators.vision",
    },
)
