"""Data for the benchmark: the synthetic world or real images + sequences."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class BenchmarkData:
    """Images, labels and DNA sequences the benchmark runs on."""

    X: object  # uint8 images (n, s, s, 3) or an array of file paths
    y: np.ndarray  # species name per image
    sequences: pd.DataFrame  # columns "sequence", "species"
    source: str  # short description for the report
    bunch: object = None  # the make_forams Bunch (synthetic data only)
    info: dict = field(default_factory=dict)
    # True for images of the balanced test set (synthetic data), which are
    # never trained on; None when test images come from stratified splits
    balanced_test: np.ndarray | None = None


def load_synthetic(config):
    """``make_forams`` data as configured."""
    from ..datasets import make_forams

    bunch = make_forams(
        n_species=config.n_species,
        n_images=config.n_images,
        image_size=config.image_size,
        imbalance_ratio=config.imbalance_ratio,
        genetic_signal=config.genetic_signal,
        n_test_per_species=config.n_test_per_species,
        random_state=config.random_state,
    )
    y = np.asarray(bunch.target).astype(str)
    X = np.asarray(bunch.images)
    balanced = None
    if config.n_test_per_species:
        y = np.concatenate([y, np.asarray(bunch.target_test).astype(str)])
        X = np.concatenate([X, np.asarray(bunch.images_test)])
        balanced = np.arange(len(y)) >= len(bunch.target)
    sequences = pd.DataFrame(
        {
            "sequence": np.asarray(bunch.sequences["sequence"]).astype(str),
            "species": np.asarray(bunch.sequences["species"]).astype(str),
        }
    )
    info = {"mantel_r": float(bunch.mantel["r"])}
    source = (
        f"make_forams(n_species={config.n_species}, n_images={config.n_images}, "
        f"image_size={config.image_size}, imbalance_ratio={config.imbalance_ratio}, "
        f"genetic_signal={config.genetic_signal}, "
        f"n_test_per_species={config.n_test_per_species}, "
        f"random_state={config.random_state})"
    )
    return BenchmarkData(
        X=X,
        y=y,
        sequences=sequences,
        source=source,
        bunch=bunch,
        info=info,
        balanced_test=balanced,
    )


def load_real(config):
    """Image folder + sequence file (+ optional class-to-species mapping).

    Image classes are paired with the species of the sequence file by
    :func:`~vgestimators.datasets.relabel_sequences` (class numbers, names,
    epithets, then the mapping); an unmatched class raises. Species without
    images keep their own name, so their anchors still take part (as
    negatives, and as zero-shot candidates). ``info`` records the pairing
    (``"matching"``) and the image-less species (``"image_less"``).
    """
    from ..datasets import (
        load_image_folder,
        read_mapping,
        read_sequences,
        relabel_sequences,
    )

    folder = load_image_folder(config.images)
    sequences = read_sequences(config.sequences)
    mapping = read_mapping(config.mapping) if config.mapping else None
    relabelled, report = relabel_sequences(
        sequences,
        [str(c) for c in folder.target_names],
        mapping=mapping,
        image_numbers=folder.class_numbers,
    )
    y = np.asarray(folder.target).astype(str)
    source = (
        f"images from {config.images} ({len(y)} files, {len(set(y))} classes), "
        f"{len(relabelled)} sequences from {config.sequences}"
    )
    image_less = report.loc[report["how"] == "dna only", "species"].tolist()
    return BenchmarkData(
        X=np.asarray(folder.filenames).astype(str),
        y=y,
        sequences=relabelled,
        source=source,
        info={"matching": report, "image_less": image_less},
    )


def load_data(config):
    """The benchmark's data set, synthetic unless ``config.images`` is set."""
    if config.images:
        return load_real(config)
    return load_synthetic(config)
