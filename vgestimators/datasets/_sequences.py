"""Sequence files with species names, and mapping files, for real data sets."""

from pathlib import Path

import numpy as np
import pandas as pd

from ..utils._docstrings import substitute
from ..utils._names import species_field_hint
from ..utils._settings import setting

FASTA_SUFFIXES = {".fasta", ".fa", ".fas", ".fna", ".ffn", ".fsa", ".seq"}


@substitute
def read_sequences(path, *, species="description", sep="|"):
    """Sequences and their species from a FASTA file or a PFR2-style CSV.

    A file ending in ``.csv``/``.tsv`` is read with :func:`load_pfr2`
    (species = the binomial ``label``, plus the Endless Forams class
    ``number`` when the table has it); anything else is read as FASTA with
    :func:`read_fasta`, the species taken from each header by the
    ``species`` rule. Every record must name a species: records that do not
    are listed by id, with a hint when the headers look delimited.

    Parameters
    ----------
    path : str or path-like
        The sequence file.
    species : {"description", "binomial", "id"}, int or callable, \
default="description"
        FASTA only: where the species is in the header (see
        :func:`read_fasta`).
    sep : str, default="|"
        FASTA only: field separator for an int ``species``.

    Returns
    -------
    pandas.DataFrame
        Columns ``sequence``, ``species`` and, for PFR2 tables with it,
        ``number``; one row per record, in file order.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If a record has no species name (naming its id and line rule).

    Examples
    --------
    ${example_temp_dir}
    >>> from vgestimators.datasets import read_sequences
    >>> path = root / "dna.fasta"
    >>> _ = path.write_text(">s1|Orbulina_universa|18S\\nACGT\\n")
    >>> read_sequences(path, species=1).to_dict("list")
    {'sequence': ['ACGT'], 'species': ['Orbulina_universa']}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sequence file not found: '{path}'.")
    if path.suffix.lower() in {".csv", ".tsv"}:
        from ._pfr2 import load_pfr2

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
    from ._fasta import read_fasta

    table = read_fasta(path, species=species, sep=sep)
    missing = np.flatnonzero(table["species"].isna().to_numpy())
    if len(missing):
        ids = table["id"].iloc[missing].tolist()
        hint = species_field_hint(ids, sep)
        raise ValueError(
            f"{path}: {len(missing)} of {len(table)} records name no species "
            f"(read with {setting('species', species)}): ids {ids[:10]}"
            f"{' ...' if len(ids) > 10 else ''}. {hint}"
        )
    return table[["sequence", "species"]].reset_index(drop=True)


#: First cells that mark a header line of a mapping file (compared lower-case).
MAPPING_HEADERS = {
    "image class",
    "image_class",
    "imageclass",
    "class",
    "folder",
    "image",
}
#: Species cells that mean "this image class has no sequences".
NO_SPECIES = {"", "none", "-", "na", "n/a"}


@substitute
def read_mapping(path):
    """A two-column CSV (image class, species name) as a dict.

    Each line pairs one image class with one species name of the sequence
    file; a class may appear on several lines (several species in one
    image class). A first line naming the columns is optional: it is
    recognised by its first cell (``image_class``, ``image class``,
    ``class``, ``folder`` or ``image``); any other first line is data, so
    a header with other names is reported as an unknown image class rather
    than ignored. A species cell that is empty or ``none`` (or ``-``,
    ``NA``) says that the class has no sequences: it is kept as images only.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    dict
        Image class -> species name, tuple of names, or None.

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        If the file is empty, has fewer than two columns, or a line has no
        image class (naming the line).

    Examples
    --------
    ${example_temp_dir}
    >>> from vgestimators.datasets import read_mapping
    >>> path = root / "mapping.csv"
    >>> _ = path.write_text("image_class,species\\nsacc,Trilobatus sacculifer\\n"
    ...                     "blurry shots,none\\n")
    >>> read_mapping(path)
    {'sacc': 'Trilobatus sacculifer', 'blurry shots': None}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mapping file not found: '{path}'.")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, header=None)
    except pd.errors.EmptyDataError:
        raise ValueError(f"mapping file {path} is empty.") from None
    if table.shape[1] < 2:
        raise ValueError(
            f"mapping file {path} needs two columns (image class, species); "
            f"it has {table.shape[1]}."
        )
    first = 1
    if str(table.iloc[0, 0]).strip().lower() in MAPPING_HEADERS:
        table, first = table.iloc[1:], 2
    mapping = {}
    for line, (image_class, name) in enumerate(
        table.iloc[:, :2].itertuples(index=False), start=first
    ):
        image_class, name = str(image_class).strip(), str(name).strip()
        if not image_class:
            raise ValueError(f"mapping file {path}, line {line}: no image class.")
        if name.lower() in NO_SPECIES:
            if mapping.get(image_class) is not None:
                raise ValueError(
                    f"mapping file {path}, line {line}: {image_class!r} is paired "
                    "with a species on another line and with none here."
                )
            mapping[image_class] = None
            continue
        if image_class in mapping and mapping[image_class] is None:
            raise ValueError(
                f"mapping file {path}, line {line}: {image_class!r} is paired "
                "with no species on another line and with one here."
            )
        known = mapping.get(image_class)
        if known is None:
            mapping[image_class] = name
        else:
            known = known if isinstance(known, tuple) else (known,)
            mapping[image_class] = (*known, name)
    return mapping
