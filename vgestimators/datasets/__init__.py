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
        "long_tail_split": "._split",
        "LongTailSplit": "._split",
        "plot_forams": "._plot",
        "make_linked_embeddings": "._linked",
        "write_forams_folder": "._export",
        # real image data
        "load_image_folder": "._folders",
        "list_images": "._folders",
        "CropBorders": "._crop",
        "crop_borders": "._crop",
        "match_species": "._matching",
        "relabel_sequences": "._matching",
    },
)
