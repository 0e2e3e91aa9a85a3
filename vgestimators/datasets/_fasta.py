"""Reading FASTA sequence files."""

import io
import os
from numbers import Integral

import pandas as pd

from ..utils._settings import setting

SPECIES_RULES = ("description", "binomial", "id")


def read_fasta(path_or_file, *, species="description", sep="|"):
    """Read a FASTA file into a table of sequences and their species.

    Records start with a header line ``>id description``; the sequence may
    span several lines. Blank lines, trailing spaces and Windows line ends
    are ignored, lowercase is kept as written (``SGTTransformer`` compares
    upper-cased), and lines starting with ``;`` are comments.

    The species of each record is read from its header by one rule
    (``species``), so that the table goes straight into
    ``VisualGeneticAligner(sequences=...)``:

    ==================  ==========================================  =====================
    ``species``         header                                      species
    ==================  ==========================================  =====================
    ``"description"``   ``>AB12 Globigerina bulloides``             ``Globigerina bulloides``
    ``"binomial"``      ``>AB12.1 Globigerina bulloides 18S rRNA``  ``Globigerina bulloides``
    ``"id"``            ``>Globigerina_bulloides``                  ``Globigerina_bulloides``
    ``1`` (a field)     ``>SEQ1|Globigerina_bulloides|18S``         ``Globigerina_bulloides``
    ==================  ==========================================  =====================

    Names are kept as written (case, ``_``); the species matching of the
    aligner and of :func:`match_species` ignores case, underscores and
    spacing.

    Parameters
    ----------
    path_or_file : str, path-like or file-like
        Path of a FASTA file, or an open text (or binary, UTF-8) file.
    species : {"description", "binomial", "id"}, int, callable or None, \
default="description"
        Where the species name is in the header: the text after the id
        (``"description"``), the first two words of that text
        (``"binomial"``: genus and epithet, dropping what follows), the id
        itself, field number ``species`` (0 is the first, negative counts
        from the end) of the whole header split at ``sep``, or
        ``species(header)`` for any other layout. None adds no ``species``
        column. A record whose rule finds no name gets ``None`` (a later
        step that needs species names reports it by id).
    sep : str, default="|"
        Field separator of delimited headers, used when ``species`` is an
        int.

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (the header's first word), ``description`` (the rest
        of the header, "" if none), ``sequence`` and, unless ``species`` is
        None, ``species``; one row per record in file order.

    Raises
    ------
    ValueError
        With the line number: sequence text before the first header, a
        header without id, a record without sequence, a file with no
        record, or a header with fewer fields than ``species`` asks for.

    See Also
    --------
    load_pfr2 : Read the PFR2 18S table (CSV).
    match_species : Pair image classes with the species of the sequences.

    Examples
    --------
    >>> import io
    >>> from vgestimators.datasets import read_fasta
    >>> text = ">seq1 Globigerina bulloides\\nacgt\\nACGG\\n\\n>seq2\\nTTGA\\n"
    >>> df = read_fasta(io.StringIO(text))
    >>> df.to_dict("list")
    {'id': ['seq1', 'seq2'], 'description': ['Globigerina bulloides', ''], \
'sequence': ['acgtACGG', 'TTGA'], 'species': ['Globigerina bulloides', None]}

    Delimited headers:

    >>> text = ">SEQ1|Orbulina_universa|18S\\nACGT\\n"
    >>> read_fasta(io.StringIO(text), species=1)["species"].tolist()
    ['Orbulina_universa']
    """
    _check_species_rule(species, sep)
    if isinstance(path_or_file, str | os.PathLike):
        name = os.fspath(path_or_file)
        with open(name, encoding="utf-8", newline=None) as handle:
            return _parse(handle, name, species, sep)
    handle = path_or_file
    if isinstance(handle, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(
        handle, "mode", ""
    ):
        handle = io.TextIOWrapper(handle, encoding="utf-8")
    return _parse(handle, getattr(path_or_file, "name", "<file>"), species, sep)


def _check_species_rule(species, sep):
    if species is None or callable(species) or species in SPECIES_RULES:
        return
    if isinstance(species, Integral) and not isinstance(species, bool):
        if not isinstance(sep, str) or not sep:
            raise ValueError(f"sep must be a non-empty string, got {sep!r}.")
        return
    raise ValueError(
        f"species must be one of {SPECIES_RULES}, a field number, a callable "
        f"or None; got {species!r}."
    )


def _species_of(header, species, sep, name, number):
    """The species name a header gives under rule ``species`` (None if none)."""
    if callable(species):
        found = species(header)
    elif species == "id":
        found = header.split(None, 1)[0]
    elif species in ("description", "binomial"):
        parts = header.split(None, 1)
        found = parts[1] if len(parts) > 1 else ""
        if species == "binomial":
            found = " ".join(found.replace("_", " ").split()[:2])
    else:
        fields = header.split(sep)
        if not -len(fields) <= species < len(fields):
            raise ValueError(
                f"{name}, line {number}: header {header[:60]!r} has "
                f"{len(fields)} field(s) separated by {sep!r}; "
                f"{setting('species', species)} asks for another."
            )
        found = fields[species]
    if found is None:
        return None
    found = str(found).strip()
    return found or None


def _parse(lines, name, species, sep):
    ids, descriptions, sequences, names = [], [], [], []
    chunks = None
    header_line = 0
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r\n").strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith(">"):
            if chunks is not None:
                _close(name, header_line, chunks, sequences)
            header = line[1:].strip()
            if not header:
                raise ValueError(f"{name}, line {number}: header '>' without an id.")
            parts = header.split(None, 1)
            if species is not None:
                names.append(_species_of(header, species, sep, name, number))
            ids.append(parts[0])
            descriptions.append(parts[1].strip() if len(parts) > 1 else "")
            chunks = []
            header_line = number
            continue
        if chunks is None:
            raise ValueError(
                f"{name}, line {number}: sequence text before the first '>' "
                f"header ({line[:20]!r}); is this a FASTA file?"
            )
        if any(c.isspace() for c in line):
            line = "".join(line.split())
        chunks.append(line)
    if chunks is None:
        raise ValueError(f"{name}: no FASTA record (no line starting with '>').")
    _close(name, header_line, chunks, sequences)
    table = pd.DataFrame(
        {"id": ids, "description": descriptions, "sequence": sequences}
    )
    if species is not None:
        table["species"] = pd.Series(names, dtype=object)
    return table


def _close(name, header_line, chunks, sequences):
    if not chunks:
        raise ValueError(f"{name}, line {header_line}: record without sequence lines.")
    sequences.append("".join(chunks))
