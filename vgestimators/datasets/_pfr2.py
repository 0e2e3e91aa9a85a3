"""Reading PFR2-style 18S rDNA tables."""

import pandas as pd

# Output column -> accepted input column names (compared case-insensitively,
# spaces and underscores ignored).
_REQUIRED = {
    "sequence": ("fullsequence", "sequence"),
    "genus": ("genus",),
    "species": ("species",),
}
_EXTRAS = {
    "endless_forams_class": ("endlessforamsclass",),
    "accession": ("accessionnumber", "accession"),
    "pfr2_class": ("class",),
    "clade": ("clade",),
    "basetype": ("basetype",),
}


def _key(name):
    return "".join(str(name).lower().replace("_", " ").split())


def load_pfr2(csv):
    """Read a PFR2-style table of 18S rDNA sequences into a tidy DataFrame.

    The PFR2 database (Morard et al., 2015) export used by Karaderi et al.
    (2024) has one row per sequence with columns such as ``FullSequence``,
    ``Genus``, ``species``, ``EndlessForams_Class`` and ``Accession number``.

    Parameters
    ----------
    csv : str, path-like or file-like
        The CSV table. Column names are matched ignoring case, spaces and
        underscores; ``FullSequence`` (or ``sequence``), ``Genus`` and
        ``species`` are required.

    Returns
    -------
    pandas.DataFrame
        One row per sequence, columns ``sequence`` (as written, stripped),
        ``genus``, ``species`` (the epithet, e.g. "ruber-albus"), ``label``
        (the binomial "Genus species", the class label to use), then, when
        present, ``endless_forams_class`` (the Endless Forams image class
        number, shared by "Globigerinoides ruber-albus" and "ruber-ruber"),
        ``accession``, ``pfr2_class`` (the table's ``Class``), ``clade`` and
        ``basetype``.

    Raises
    ------
    ValueError
        If a required column is missing (listing the columns found), or a
        row has no sequence, genus or species (naming the CSV line).

    See Also
    --------
    read_fasta : Read any FASTA file into sequences and species.

    Examples
    --------
    >>> import io
    >>> from vgestimators.datasets import load_pfr2
    >>> text = ("Accession number,FullSequence,Genus,species,EndlessForams_Class\\n"
    ...         "AB1,acgtacgt,Globigerina ,bulloides,3\\n")
    >>> df = load_pfr2(io.StringIO(text))
    >>> df.loc[0, ["label", "sequence", "accession"]].tolist()
    ['Globigerina bulloides', 'acgtacgt', 'AB1']
    >>> int(df.loc[0, "endless_forams_class"])
    3
    """
    table = pd.read_csv(csv, dtype={"Accession number": str})
    by_key = {}
    for column in table.columns:
        by_key.setdefault(_key(column), column)
    source = getattr(csv, "name", csv)

    def find(options):
        for option in options:
            if option in by_key:
                return by_key[option]
        return None

    out = {}
    for name, options in _REQUIRED.items():
        column = find(options)
        if column is None:
            raise ValueError(
                f"{source}: no {name!r} column (looked for {list(options)}); "
                f"columns are {list(table.columns)}."
            )
        values = table[column]
        stripped = values.astype(str).str.strip()
        bad = values.isna() | (stripped == "")
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ValueError(
                f"{source}, line {row + 2} (row {row}): missing {column!r}."
            )
        out[name] = stripped.to_numpy(dtype=object)
    tidy = pd.DataFrame(out)
    tidy["label"] = tidy["genus"] + " " + tidy["species"]
    for name, options in _EXTRAS.items():
        column = find(options)
        if column is not None:
            values = table[column]
            if values.dtype == object or pd.api.types.is_string_dtype(values):
                values = values.astype("string").str.strip()
            tidy[name] = values.to_numpy()
    return tidy
