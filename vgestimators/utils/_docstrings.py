"""Docstring parts shared by several estimators, substituted once.

As imbalanced-learn does: a docstring names a shared part as ``${name}``
and :func:`substitute` fills it in when the class or function is defined,
so the text lives in one place. Parts are written without indentation:
every line of a part takes the indentation of the line that names it, so
one part serves a class docstring (indented 4) and a method's (indented 8).
"""

import re

#: Parameters section of a method taking visual embeddings only.
_X_PARAMETERS = """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Visual embeddings."""


def _returns(text):
    """A method's Parameters (``X`` only) and Returns sections."""
    return f"{_X_PARAMETERS}\n\nReturns\n-------\n{text}"


#: Shared parts, without indentation (see the module docstring).
DOCS = {
    # ---------------------------------------------- methods on embeddings X
    "X_parameters": _X_PARAMETERS,
    "fit_parameters": """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Visual embeddings of the training images.
y : array-like of shape (n_samples,)
    Class (species) label of each image.

Returns
-------
self : object
    The fitted estimator.""",
    "predict": _returns("""\
y_pred : ndarray of shape (n_samples,)
    Labels from ``classes_``; with ``novelty_threshold`` set, samples
    whose :meth:`score_samples` falls below it get ``unknown_label``
    (the array is then of object dtype if the label types differ)."""),
    "predict_proba": _returns("""\
proba : ndarray of shape (n_samples, n_classes)
    Columns follow ``classes_``; rows sum to 1."""),
    "predict_log_proba": _returns("""\
log_proba : ndarray of shape (n_samples, n_classes)
    Columns follow ``classes_``."""),
    "decision_function": _returns("""\
scores : ndarray of shape (n_samples, n_classes) or (n_samples,)
    Columns follow ``classes_``. For two classes, the score of
    ``classes_[1]`` minus that of ``classes_[0]``: positive values mean
    ``classes_[1]``."""),
    "score_samples": _returns("""\
similarity : ndarray of shape (n_samples,)
    Higher means closer to what the model knows; compared with
    ``novelty_threshold``."""),
    "check_species": """\
Check the species names of ``y`` against the anchors, before fit.

Pairs the classes of ``y`` with anchor labels as ``fit`` does (same
spelling rules and ``species_mapping``) without computing any anchor,
and raises the error ``fit`` would raise for a class without anchor.
Cheap: call it before training an image embedder, as
:class:`~vgestimators.pipeline.SpeciesPipeline` does.

Parameters
----------
y : array-like of shape (n_samples,)
    Class (species) label of each training image.

Returns
-------
report : pandas.DataFrame
    One row per class of ``y`` and per species with DNA only:
    ``species``, ``n_images``, ``dna_label`` (the anchor label(s)
    paired with it, None if none) and ``how`` (``"exact"``,
    ``"name"``: case, ``_`` or spacing, ``"mapping"``, ``"none"``,
    ``"dna only"``).

Raises
------
ValueError
    Naming the classes of ``y`` without anchor (unless
    ``missing_anchors="visual_only"``), sequences without species
    name, or ``species_mapping`` entries that name nothing.""",
    "feature_names_parameters": """\
Parameters
----------
input_features : array-like of str or None, default=None
    Ignored except for validation against ``feature_names_in_``.""",
    "images_parameters": """\
Parameters
----------
X : array-like
    Images of any kind accepted by ``fit``.""",
    "pipeline_fit_parameters": """\
Parameters
----------
X : iterable
    Training images (anything the first step accepts).
y : array-like of shape (n_samples,)
    Species label of each image.
**params : dict
    Passed on to the steps as by :class:`sklearn.pipeline.Pipeline`.""",
    # ------------------------------------------ parameters of the estimators
    "species_mapping": """\
species_mapping : dict or None, default=None
    Pairs classes of ``y`` with anchor (DNA) labels written differently:
    ``{class of y: anchor label, or a list of labels}``. Without it,
    labels that differ from a class only in case, ``_`` or spacing
    already name that class (``"Globigerina_bulloides"`` is
    ``"globigerina bulloides"``); sequences are relabelled before their
    anchors are computed. :meth:`check_species` shows the pairing.""",
    "unknown_label": """\
unknown_label : str or int, default="unknown"
    Prediction for novel samples; must not be a class label.""",
    "embedding_input_attributes": """\
n_features_in_ : int
    Width of the visual embeddings seen in ``fit``.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Defined only when X has string column names.""",
    # ------------------------------------------------------------- metrics
    "y_true_y_pred": """\
y_true : array-like of shape (n_samples,)
    True class labels of the test samples.
y_pred : array-like of shape (n_samples,)
    Predicted class labels.""",
    "many_few": """\
many : float, default=100
    Classes with more than ``many`` training samples are many-shot.
few : float, default=20
    Classes with fewer than ``few`` training samples are few-shot.  Must
    not exceed ``many``.""",
    "long_tailed_example_data": """\
>>> from sklearn.datasets import make_classification
>>> from sklearn.neighbors import KNeighborsClassifier
>>> X, y = make_classification(n_samples=200, n_classes=4, n_informative=4,
...                            weights=[0.6, 0.25, 0.1, 0.05], random_state=0)""",
    # ----------------------------------------------------- examples' lines
    "example_temp_dir": """\
>>> import tempfile
>>> from pathlib import Path
>>> root = Path(tempfile.mkdtemp())""",
    # one line: the type of a parameter that takes DNA sequences
    "sequences_type": (
        "array-like of str of shape (n_sequences,), or of shape "
        "(n_sequences, 1), or list of token sequences"
    ),
}

_PART = re.compile(r"\$\{(\w+)\}")


def _body_indent(doc):
    """Indentation of a docstring's lines after the first (as Python keeps it)."""
    lines = [line for line in doc.splitlines()[1:] if line.strip()]
    return " " * min((len(line) - len(line.lstrip()) for line in lines), default=0)


def fill(doc):
    """Return ``doc`` with its ``${name}`` parts filled in from :data:`DOCS`.

    Every line of a part after its first takes the indentation of the line
    that names it (of the docstring's body when that is its first line).
    An unknown name raises a KeyError.
    """

    def part(match):
        line_start = doc.rfind("\n", 0, match.start()) + 1
        if line_start == 0:
            indent = _body_indent(doc)
        else:
            line = doc[line_start : match.start()]
            indent = line[: len(line) - len(line.lstrip())]
        lines = DOCS[match.group(1)].split("\n")
        return "\n".join([lines[0]] + [indent + x if x else x for x in lines[1:]])

    return _PART.sub(part, doc)


def substitute(obj):
    """Fill the ``${name}`` parts of ``obj.__doc__`` (and its methods') in place."""
    if obj.__doc__:
        obj.__doc__ = fill(obj.__doc__)
    for value in vars(obj).values() if isinstance(obj, type) else ():
        if callable(value) and value.__doc__ and "${" in value.__doc__:
            value.__doc__ = fill(value.__doc__)
    return obj
