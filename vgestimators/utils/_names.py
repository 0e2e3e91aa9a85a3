"""Comparing species names written in different ways."""

import re

# "12 - Globigerinoides sacculifer", "12_Globigerinoides_sacculifer",
# "012. Orbulina universa", "7) Candeina nitida".
_NUMBER_PREFIX = re.compile(r"^\s*(\d+)\s*(?:[-_.):]+\s*|\s+)(.*)$")


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
    binomial is named; otherwise the expected header is shown. The setting
    is worded where the user is (``species=1`` in Python, ``--species-field
    1`` on the command line; see :mod:`._settings`).
    """
    from ._settings import on_command_line, setting

    delimited = next((str(i) for i in ids if sep in str(i)), None)
    if delimited is None:
        rules = (
            setting("species", "id, binomial or a field number")
            if on_command_line()
            else "read_fasta(path, species='id' | 'binomial' | a field number | "
            "a function)"
        )
        return (
            f"Write headers as '>id Genus species', or choose another rule ({rules})."
        )
    fields = delimited.split(sep)
    field = next(
        (k for k, f in enumerate(fields) if len(display_name(f).split()) == 2), 1
    )
    where = setting("species", field)
    if not on_command_line():
        where = f"read_fasta(path, {where})"
    return (
        f"The headers look delimited by {sep!r} ({delimited!r}): the species "
        f"looks like field {field} ({where}; 0 is the first field)."
    )


def parse_class_name(folder):
    """Class name and number of a class folder's name.

    A leading number followed by a separator (``" - "``, ``"_"``, ``"."``,
    ``")"``, ``":"`` or spaces) is split off as the class number; underscores
    become spaces and runs of white space shrink to one space.  A name that is
    only a number keeps that number as its name.

    Examples
    --------
    >>> parse_class_name("12 - Globigerinoides  sacculifer")
    ('Globigerinoides sacculifer', 12)
    >>> parse_class_name("Orbulina_universa")
    ('Orbulina universa', None)
    >>> parse_class_name("07")
    ('07', 7)
    """
    number = None
    rest = folder
    match = _NUMBER_PREFIX.match(folder)
    if match and match.group(2).strip(" _-.):"):
        number, rest = int(match.group(1)), match.group(2)
    elif folder.strip().isdigit():
        number = int(folder.strip())
    name = " ".join(rest.replace("_", " ").split())
    return name, number
