"""Sequence files with species names, and mapping files, for real data sets."""

from pathlib import Path

import numpy as np
import pandas as pd

FASTA_SUFFIXES = {".fasta", ".fa", ".fas", ".fna", ".ffn", ".fsa", ".seq"}


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
    >>> import tempfile
    >>> from pathlib import Path
    >>> from vgestimators.datasets import read_sequences
    >>> path = Path(tempfile.mkdtemp()) / "dna.fasta"
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
        delimited = next((i for i in ids if sep in i), None)
        if delimited is not None:
            hint = (
                f"The headers look delimited by {sep!r} ({delimited!r}): name "
                "the field that holds the species (read_sequences(path, "
                "species=1), or `--species-field 1` on the command line; 0 is "
                "the first field)."
            )
        else:
            hint = (
                "Write headers as '>id Genus species', or choose another "
                "rule (species='id', a field number, a function)."
            )
        raise ValueError(
            f"{path}: {len(missing)} of {len(table)} records name no species "
            f"(rule species={species!r}): ids {ids[:10]}"
            f"{' ...' if len(ids) > 10 else ''}. {hint}"
        )
    return table[["sequence", "species"]].reset_index(drop=True)


def read_mapping(path):
    """A two-column CSV (image class, species name) as a dict.

    The first line is a header (any names); each further line pairs one
    image class with one species name of the sequence file. A class may
    appear on several lines (several species in one image class).

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    dict
        Image class -> species name, or tuple of names.

    Raises
    ------
    ValueError
        If the file has fewer than two columns or an empty cell (naming the
        line).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from vgestimators.datasets import read_mapping
    >>> path = Path(tempfile.mkdtemp()) / "mapping.csv"
    >>> _ = path.write_text("image_class,species\\nsacc,Trilobatus sacculifer\\n")
    >>> read_mapping(path)
    {'sacc': 'Trilobatus sacculifer'}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mapping file not found: '{path}'.")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if table.shape[1] < 2:
        raise ValueError(
            f"mapping file {path} needs two columns (image class, species); "
            f"it has {table.shape[1]}."
        )
    mapping = {}
    for line, (image_class, name) in enumerate(
        table.iloc[:, :2].itertuples(index=False), start=2
    ):
        image_class, name = str(image_class).strip(), str(name).strip()
        if not image_class or not name:
            raise ValueError(f"mapping file {path}, line {line}: empty cell.")
        known = mapping.get(image_class)
        if known is None:
            mapping[image_class] = name
        else:
            known = known if isinstance(known, tuple) else (known,)
            mapping[image_class] = (*known, name)
    return mapping
