"""Visual half: images to embeddings, triplet-trained (skorch) or pretrained."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "TripletImageEmbedder": "._embedder",
        "PretrainedImageEmbedder": "._pretrained",
        "FEATURE_BACKENDS": "._feature_backends",
        "TimeEstimate": "._callbacks",
        "WeightsDownloadError": "._backbones",
        "ImageDataset": "._data",
        "embed_to_file": "._to_file",
        "SoftmaxImageClassifier": "._softmax",
        "build_backbone": "._backbones",
        "default_augmentation": "._transforms",
        "light_augmentation": "._transforms",
        "CropBorders": "._crop",
        "crop_borders": "._crop",
    },
)
