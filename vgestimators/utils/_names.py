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
