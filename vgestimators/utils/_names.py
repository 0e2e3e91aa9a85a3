"""Comparing species names written in different ways."""


def taxon_key(name):
    """Case- and spacing-insensitive form of a taxon name.

    ``"Globigerina_bulloides"``, ``"globigerina bulloides"`` and
    ``" Globigerina  Bulloides"`` share one key.
    """
    return " ".join(str(name).replace("_", " ").split()).casefold()


def display_name(name):
    """A taxon name as image folder names are read: ``_`` as a space.

    ``"Globigerina_bulloides "`` becomes ``"Globigerina bulloides"``; case
    is kept.
    """
    return " ".join(str(name).replace("_", " ").split())


def species_field_hint(ids, sep="|"):
    """How to read the species of FASTA records whose rule found none.

    ``ids`` are the records' ids (the header's first word). When they look
    delimited (``SEQ1|Genus_species|18S``), the field that looks like a
    binomial is named; otherwise the expected header is shown.
    """
    delimited = next((str(i) for i in ids if sep in str(i)), None)
    if delimited is None:
        return (
            "Write headers as '>id Genus species', or choose another rule "
            "(read_fasta(path, species='id' | 'binomial' | a field number | "
            "a function); on the command line --species-field)."
        )
    fields = delimited.split(sep)
    field = next(
        (k for k, f in enumerate(fields) if len(display_name(f).split()) == 2), 1
    )
    return (
        f"The headers look delimited by {sep!r} ({delimited!r}): the species "
        f"looks like field {field} (read_fasta(path, species={field}); on the "
        f"command line --species-field {field}; 0 is the first field)."
    )
