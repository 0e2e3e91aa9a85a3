"""Reading FASTA sequence files."""

import io
import os

import pandas as pd


def read_fasta(path_or_file):
    """Read a FASTA file into a table of sequences.

    Records start with a header line ``>id description``; the sequence may
    span several lines. Blank lines, trailing spaces and Windows line ends
    are ignored, lowercase is kept as written (``SGTTransformer`` compares
    upper-cased), and lines starting with ``;`` are comments.

    Parameters
    ----------
    path_or_file : str, path-like or file-like
        Path of a FASTA file, or an open text (or binary, UTF-8) file.

    Returns
    -------
    pandas.DataFrame
        Columns ``id`` (the header's first word), ``description`` (the rest
        of the header, "" if none) and ``sequence``, one row per record in
        file order.

    Raises
    ------
    ValueError
        With the line number: sequence text before the first header, a
        header without id, a record without sequence, or a file with no
        record.

    See Also
    --------
    load_pfr2 : Read the PFR2 18S table (CSV).

    Examples
    --------
    >>> import io
    >>> from vgestimators.datasets import read_fasta
    >>> text = ">seq1 Globigerina bulloides\\nacgt\\nACGG\\n\\n>seq2\\nTTGA\\n"
    >>> df = read_fasta(io.StringIO(text))
    >>> df.to_dict("list")
    {'id': ['seq1', 'seq2'], 'description': ['Globigerina bulloides', ''], 'sequence': ['acgtACGG', 'TTGA']}
    """
    if isinstance(path_or_file, str | os.PathLike):
        name = os.fspath(path_or_file)
        with open(name, encoding="utf-8", newline=None) as handle:
            return _parse(handle, name)
    handle = path_or_file
    if isinstance(handle, io.BufferedIOBase | io.RawIOBase) or "b" in getattr(
        handle, "mode", ""
    ):
        handle = io.TextIOWrapper(handle, encoding="utf-8")
    return _parse(handle, getattr(path_or_file, "name", "<file>"))


def _parse(lines, name):
    ids, descriptions, sequences = [], [], []
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
    return pd.DataFrame({"id": ids, "description": descriptions, "sequence": sequences})


def _close(name, header_line, chunks, sequences):
    if not chunks:
        raise ValueError(f"{name}, line {header_line}: record without sequence lines.")
    sequences.append("".join(chunks))
