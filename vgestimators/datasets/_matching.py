"""Name each sequence after the image class its species matches."""

import pandas as pd

from ..taxonomy import match_species
from ..utils._names import display_name, parse_class_name, taxon_key

__all__ = ["relabel_sequences"]

_key = taxon_key


def relabel_sequences(
    sequences, image_classes, *, mapping=None, image_numbers=None, on_unmatched="raise"
):
    """Name each sequence after the image class its species matches.

    The species of ``sequences`` are paired with the image classes by
    :func:`match_species` (mapping, class numbers, names ignoring case,
    ``_`` and spacing, epithets); an image class that matches no species
    raises a ``ValueError`` naming it, before anything is trained. Sequences
    of species without images keep their own name: their anchors still
    take part (as negatives, and as candidates for image-less
    recognition); the spellings of one such species (case, ``_``, spacing)
    become one name, its first spelling with ``_`` read as a space.

    Parameters
    ----------
    sequences : pandas.DataFrame
        Columns ``sequence`` and ``species`` and, optionally, ``number``
        (class numbers, e.g. from :func:`read_sequences` of a PFR2 table).
    image_classes : sequence of str
        Class names of the images, e.g.
        ``load_image_folder(root).target_names``.
    mapping : dict or None, default=None
        Explicit pairs, as in :func:`match_species`.
    image_numbers : sequence of int or None, default=None
        Class number of each image class (used when ``sequences`` has a
        ``number`` column).
    on_unmatched : {"raise", "warn", "ignore"}, default="raise"
        As in :func:`match_species`; unmatched and ambiguous classes are in
        the report in any case.

    Returns
    -------
    relabelled : pandas.DataFrame
        Columns ``sequence`` and ``species`` (the image class, or the
        species' own name when it has no images).
    report : pandas.DataFrame
        One row per pairing, per unpaired image class (``species`` None)
        and per image-less species, with columns ``image_class`` (None for
        image-less species), ``species``, ``how`` (as in
        :func:`match_species`, or ``"dna only"``), ``note`` and
        ``n_sequences``.

    Raises
    ------
    ValueError
        If an image class matches no species (with
        ``on_unmatched="raise"``), if the mapping gives no species for a
        class whose name the sequences use, or if ``sequences`` lacks the
        needed columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from vgestimators.datasets import relabel_sequences
    >>> dna = pd.DataFrame({"sequence": ["ACGT", "ACGA", "TTGA"],
    ...                     "species": ["Orbulina_universa", "Orbulina universa",
    ...                                 "Candeina nitida"]})
    >>> relabelled, report = relabel_sequences(dna, ["orbulina universa"])
    >>> relabelled.species.tolist()
    ['orbulina universa', 'orbulina universa', 'Candeina nitida']
    >>> report[["image_class", "species", "how"]]
             image_class            species       how
    0  orbulina universa  Orbulina_universa      name
    1  orbulina universa  Orbulina universa      name
    2               None    Candeina nitida  dna only
    """
    if not isinstance(sequences, pd.DataFrame) or not {"sequence", "species"} <= set(
        sequences.columns
    ):
        raise ValueError(
            "sequences must be a DataFrame with 'sequence' and 'species' columns "
            "(e.g. read_sequences(path))."
        )
    names = [str(c) for c in image_classes]
    use_numbers = "number" in sequences.columns and image_numbers is not None
    matches, report = match_species(
        names,
        sequences["species"].tolist(),
        mapping=mapping,
        image_numbers=list(image_numbers) if use_numbers else None,
        species_numbers=sequences["number"].tolist() if use_numbers else None,
        on_unmatched=on_unmatched,
        return_report=True,
    )
    to_class = {}
    for image_class, found in matches.items():
        for name in found if isinstance(found, tuple) else (found,):
            to_class[name] = image_class
    # match_species returns one spelling per species: pair every spelling
    by_key = {_key(name): cls for name, cls in to_class.items()}
    species = sequences["species"].astype(str)
    excluded = report.loc[report["how"] == "excluded", "image_class"].tolist()
    named_like = [
        c
        for c in excluded
        if any(_key(s) == _key(parse_class_name(c)[0]) for s in species)
    ]
    if named_like:
        raise ValueError(
            f"the mapping says the image classes {named_like} have no sequences, "
            "but the sequences name species spelled like them: remove those "
            "lines from the mapping, or those sequences."
        )
    # species without images: one name per species, its first spelling
    # written as image folder names are read ("_" as spaces)
    for name in species:
        by_key.setdefault(_key(name), display_name(name))
    relabelled = pd.DataFrame(
        {
            "sequence": sequences["sequence"].to_numpy(),
            "species": [to_class.get(s, by_key.get(_key(s), s)) for s in species],
        }
    )
    counts = species.value_counts()
    paired = {_key(s) for s in report["species"].dropna()}
    image_less = list(
        dict.fromkeys(by_key[_key(s)] for s in species if _key(s) not in paired)
    )
    report = pd.concat(
        [
            report,
            pd.DataFrame(
                {
                    "image_class": [None] * len(image_less),
                    "species": image_less,
                    "how": "dna only",
                    "note": "",
                }
            ),
        ],
        ignore_index=True,
    )
    per_name = relabelled["species"].value_counts()
    report["n_sequences"] = [
        0
        if s is None
        else int(counts.get(s, 0))
        if c is not None
        else int(per_name.get(s, 0))
        for c, s in zip(report["image_class"], report["species"], strict=True)
    ]
    return relabelled, report.reset_index(drop=True)
