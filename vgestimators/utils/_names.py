"""Comparing species names written in different ways."""


def taxon_key(name):
    """Case- and spacing-insensitive form of a taxon name.

    ``"Globigerina_bulloides"``, ``"globigerina bulloides"`` and
    ``" Globigerina  Bulloides"`` share one key.
    """
    return " ".join(str(name).replace("_", " ").split()).casefold()
