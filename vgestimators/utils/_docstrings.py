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
}


def substitute(obj):
    """Fill the ``${name}`` parts of ``obj.__doc__`` (and its methods') in place."""
    if obj.__doc__:
        obj.__doc__ = Template(obj.__doc__).safe_substitute(DOCS)
    for value in vars(obj).values() if isinstance(obj, type) else ():
        if callable(value) and value.__doc__ and "${" in value.__doc__:
            value.__doc__ = Template(value.__doc__).safe_substitute(DOCS)
    return obj
