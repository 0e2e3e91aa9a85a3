"""Data for the benchmark: the synthetic world or real images + sequences."""

from dataclasses import dataclass, field
from pathlib import Path

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


def _read_mapping(path):
    """A two-column CSV (image class, species) as a dict."""
    table = pd.read_csv(path, dtype=str)
    if table.shape[1] < 2:
        raise ValueError(
            f"mapping file {path} needs two columns (image class, species); "
            f"it has {table.shape[1]}."
        )
    mapping = {}
    for row, (image_class, species) in enumerate(
        table.iloc[:, :2].itertuples(index=False), start=2
    ):
        if pd.isna(image_class) or pd.isna(species):
            raise ValueError(f"mapping file {path}, line {row}: empty cell.")
        mapping[str(image_class).strip()] = str(species).strip()
    return mapping


def read_sequences(path):
    """Sequences with species names from a PFR2-style CSV or a FASTA file.

    Returns a DataFrame with columns ``sequence``, ``species`` and, for a
    PFR2 table that has it, ``number`` (the Endless Forams class number).
    In a FASTA file the species is the record's description (the header
    text after the identifier), e.g. ``>AB123 Globigerinoides ruber``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sequence file not found: {path}")
    if path.suffix.lower() in {".csv", ".tsv", ".txt"}:
        from ..datasets import load_pfr2

        table = load_pfr2(path)
        out = pd.DataFrame(
            {
                "sequence": table["sequence"].astype(str),
                "species": table["label"].astype(str),
            }
        )
        if "endless_forams_class" in table:
            out["number"] = table["endless_forams_class"]
        return out
    from ..datasets import read_fasta

    table = read_fasta(path)
    species = table["description"].fillna("").astype(str).str.strip()
    empty = np.flatnonzero(species.eq("").to_numpy())
    if len(empty):
        raise ValueError(
            f"{path}: record {table['id'].iloc[empty[0]]!r} has no description; "
            "the benchmark reads the species name from the FASTA header text "
            "after the identifier."
        )
    return pd.DataFrame({"sequence": table["sequence"].astype(str), "species": species})


def load_real(config):
    """Image folder + sequence file (+ optional class-to-species mapping).

    Image classes are paired with the species of the sequence file by
    :func:`~vgestimators.datasets.match_species` (class numbers, names,
    epithets, then the mapping); an unmatched class raises. Sequences are
    relabelled with their image class; species without images keep their
    own name, so their anchors still take part (as negatives, and as
    zero-shot candidates).
    """
    from ..datasets import load_image_folder, match_species

    folder = load_image_folder(config.images)
    sequences = read_sequences(config.sequences)
    mapping = _read_mapping(config.mapping) if config.mapping else None
    names = [str(c) for c in folder.target_names]
    numbers = getattr(folder, "class_numbers", None)
    use_numbers = "number" in sequences and numbers is not None
    matches = match_species(
        names,
        sequences["species"].tolist(),
        mapping=mapping,
        image_numbers=list(numbers) if use_numbers else None,
        species_numbers=sequences["number"].tolist() if use_numbers else None,
    )
    to_class = {}
    for image_class, species in matches.items():
        for name in species if isinstance(species, tuple) else (species,):
            to_class[name] = image_class
    y = np.asarray(folder.target).astype(str)
    relabelled = pd.DataFrame(
        {
            "sequence": sequences["sequence"].to_numpy(),
            "species": [to_class.get(s, s) for s in sequences["species"]],
        }
    )
    no_dna = sorted(set(y) - set(relabelled["species"]))
    if no_dna:
        raise ValueError(
            f"image classes {no_dna} have no sequence in {config.sequences}."
        )
    source = (
        f"images from {config.images} ({len(y)} files, {len(set(y))} classes), "
        f"{len(relabelled)} sequences from {config.sequences}"
    )
    return BenchmarkData(
        X=np.asarray(folder.filenames).astype(str),
        y=y,
        sequences=relabelled,
        source=source,
    )


def load_data(config):
    """The benchmark's data set, synthetic unless ``config.images`` is set."""
    if config.images:
        return load_real(config)
    return load_synthetic(config)


@dataclass
class Split:
    """One evaluation split: train/test indices plus held-out species."""

    index: int
    seed: int
    train: np.ndarray
    test: np.ndarray
    unseen: np.ndarray  # images of species held out of training entirely
    unseen_species: list


def make_splits(
    y, *, n_splits, test_size, n_unseen, random_state, balanced_test=None
):
    """Repeated splits with a few species held out of training.

    Each split draws ``n_unseen`` species (never among the largest quarter)
    whose images are all kept out of training (for zero-shot evaluation).
    With ``balanced_test`` (a mask of images set aside as a balanced test
    set, as long-tailed recognition is evaluated), the other species train
    on all their long-tailed images and are tested on their balanced ones;
    the split seed then only changes the held-out species and the networks.
    Without it, the other images are split with
    :func:`vgestimators.datasets.long_tail_split` (stratified, so the test
    set keeps the long tail).
    """
    from ..datasets import long_tail_split

    y = np.asarray(y)
    pool = (
        np.zeros(len(y), dtype=bool) if balanced_test is None else balanced_test
    )
    classes, counts = np.unique(y[~pool], return_counts=True)
    order = np.argsort(-counts, kind="stable")
    # Candidates for zero-shot: not the head quarter, so that seen classes
    # keep the head; and only classes with at least one image.
    candidates = classes[order[max(1, len(classes) // 4) :]]
    if n_unseen and len(classes) - n_unseen < 2:
        raise ValueError(
            f"n_unseen={n_unseen} leaves fewer than 2 species to train on "
            f"(there are {len(classes)})."
        )
    splits = []
    for k in range(n_splits):
        seed = int(random_state) + k
        rng = np.random.default_rng(seed)
        unseen_species = (
            sorted(rng.choice(candidates, size=n_unseen, replace=False).tolist())
            if n_unseen
            else []
        )
        is_unseen = np.isin(y, unseen_species)
        if balanced_test is not None:
            train = np.flatnonzero(~is_unseen & ~pool)
            test = np.flatnonzero(~is_unseen & pool)
            unseen = np.flatnonzero(is_unseen & pool)
        else:
            seen_idx = np.flatnonzero(~is_unseen)
            train, test = long_tail_split(
                y[seen_idx],
                strategy="stratified",
                test_size=test_size,
                random_state=seed,
            )
            train, test = seen_idx[np.asarray(train)], seen_idx[np.asarray(test)]
            unseen = np.flatnonzero(is_unseen)
        splits.append(
            Split(
                index=k,
                seed=seed,
                train=train,
                test=test,
                unseen=unseen,
                unseen_species=unseen_species,
            )
        )
    return splits
