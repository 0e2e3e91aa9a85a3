"""Docstring parts shared by several estimators, substituted once.

As imbalanced-learn does: a docstring names a shared part as ``${name}``
and :func:`substitute` fills it in when the class or function is defined,
so the text lives in one place.
"""

from string import Template

#: Shared parts, written at the indentation of a method's docstring.
DOCS = {
    "X_embeddings": (
        "X : array-like of shape (n_samples, n_features)\n"
        "            Visual embeddings."
    ),
    "Xy_fit": (
        "X : array-like of shape (n_samples, n_features)\n"
        "            Visual embeddings of the training images.\n"
        "        y : array-like of shape (n_samples,)\n"
        "            Class (species) label of each image."
    ),
    "pipeline_fit_parameters": (
        "Parameters\n"
        "        ----------\n"
        "        X : iterable\n"
        "            Training images (anything the first step accepts).\n"
        "        y : array-like of shape (n_samples,)\n"
        "            Species label of each image.\n"
        "        **params : dict\n"
        "            Passed on to the steps as by :class:`sklearn.pipeline.Pipeline`."
    ),
    # class-level parameter, at the indentation of a class docstring
    "species_mapping": (
        "species_mapping : dict or None, default=None\n"
        "        Pairs classes of ``y`` with anchor (DNA) labels written "
        "differently:\n"
        "        ``{class of y: anchor label, or a list of labels}``. Without "
        "it,\n"
        "        labels that differ from a class only in case, ``_`` or "
        "spacing\n"
        "        already name that class (``\"Globigerina_bulloides\"`` is\n"
        "        ``\"globigerina bulloides\"``); sequences are relabelled "
        "before their\n"
        "        anchors are computed. :meth:`check_species` shows the "
        "pairing."
    ),
    "check_species": (
        "Check the species names of ``y`` against the anchors, before fit.\n"
        "\n"
        "        Pairs the classes of ``y`` with anchor labels as ``fit`` does "
        "(same\n"
        "        spelling rules and ``species_mapping``) without computing any "
        "anchor,\n"
        "        and raises the error ``fit`` would raise for a class without "
        "anchor.\n"
        "        Cheap: call it before training an image embedder, as\n"
        "        :class:`~vgestimators.pipeline.SpeciesPipeline` does.\n"
        "\n"
        "        Parameters\n"
        "        ----------\n"
        "        y : array-like of shape (n_samples,)\n"
        "            Class (species) label of each training image.\n"
        "\n"
        "        Returns\n"
        "        -------\n"
        "        report : pandas.DataFrame\n"
        "            One row per class of ``y`` and per species with DNA only:\n"
        "            ``species``, ``n_images``, ``dna_label`` (the anchor "
        "label(s)\n"
        "            paired with it, None if none) and ``how`` (``\"exact\"``,\n"
        "            ``\"name\"``: case, ``_`` or spacing, ``\"mapping\"``, "
        "``\"none\"``,\n"
        "            ``\"dna only\"``).\n"
        "\n"
        "        Raises\n"
        "        ------\n"
        "        ValueError\n"
        "            Naming the classes of ``y`` without anchor (unless\n"
        "            ``missing_anchors=\"visual_only\"``), sequences without "
        "species\n"
        "            name, or ``species_mapping`` entries that name nothing."
    ),
}


def substitute(obj):
    """Fill the ``${name}`` parts of ``obj.__doc__`` (and its methods') in place."""
    if obj.__doc__:
        obj.__doc__ = Template(obj.__doc__).safe_substitute(DOCS)
    for value in vars(obj).values() if isinstance(obj, type) else ():
        if callable(value) and value.__doc__ and "${" in value.__doc__:
            value.__doc__ = Template(value.__doc__).safe_substitute(DOCS)
    return obj
