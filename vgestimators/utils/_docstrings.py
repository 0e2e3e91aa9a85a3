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


#: Parameters section of a fit on visual embeddings (X, y).
_FIT_XY = """\
Parameters
----------
X : array-like of shape (n_samples, n_features)
    Visual embeddings of the training images.
y : array-like of shape (n_samples,)
    Class (species) label of each image."""


def _returns(text):
    """A method's Parameters (``X`` only) and Returns sections."""
    return f"{_X_PARAMETERS}\n\nReturns\n-------\n{text}"


#: Shared parts, without indentation (see the module docstring).
DOCS = {
    # ---------------------------------------------- methods on embeddings X
    "X_parameters": _X_PARAMETERS,
    "fit_parameters": f"""\
{_FIT_XY}

Returns
-------
self : object
    The fitted estimator.""",
    "fit_held_out_parameters": f"""\
{_FIT_XY}
X_val : array-like of shape (n_val_samples, n_features), default=None
    Embeddings of held-out images, made the way new images will be (by a
    network that never trained on them). The constants (DNA test,
    shrinkage, seen bias, novelty threshold) are then chosen on them
    instead of on leave-one-out simulations of the training embeddings (the
    temperature stays on the training embeddings' leave-one-out scores,
    where it measured better calibrated). Species of ``y_val`` absent from ``y`` but with an anchor
    are scored as image-less species; without any, held-out images of seen
    species are also scored against their DNA prototype alone. Held-out
    images of species the rule cannot know (no anchor, no image) are left
    out and counted in ``calibration_.n_skipped``.
y_val : array-like of shape (n_val_samples,), default=None
    Species of ``X_val``.
held_out : list of (estimator, array-like, array-like), default=None
    Cross-fitting, as :class:`~vgestimators.pipeline.SpeciesPipeline`
    passes it: for each hold-out, this rule fitted on part of the training
    images, the other images embedded by the network trained on that
    part, and their species. The constants are chosen on them, pooled.
    Not together with ``X_val``.

Returns
-------
self : object
    The fitted estimator; ``calibration_`` says where its constants come
    from and what they promise.""",
    "seen_bias_objective": """\
seen_bias : "auto" or float, default="auto"
    Subtracted from the cosine score of every class that has training
    images (calibrated stacking, Chao et al., 2016), so that species known
    from their DNA alone can win. "auto": chosen to maximise
    ``objective``, on held-out images when ``fit`` gets them (cross-fitting
    in :class:`~vgestimators.pipeline.SpeciesPipeline`, or ``X_val``),
    else by leave-species-out simulation on the training embeddings; 0
    when no class lacks images or the DNA test fails.
objective : {"balanced", "harmonic"} or float in [0, 1], default="balanced"
    What the "auto" seen bias maximises, i.e. which new images are expected:
    "balanced" counts every species once, seen and image-less alike
    (balanced accuracy over all species: with 35 species with images and 6
    without, image-less species weigh 6/41); "harmonic" is the harmonic
    mean H of the seen and the image-less species' accuracies (the
    zero-shot literature's score: a few image-less species weigh as much
    as all the others, and seen accuracy pays for it); a number ``p`` is
    the share of new images expected from image-less species, maximising
    ``(1 - p) * seen + p * image-less`` accuracy.""",
    "novelty_rate": """\
novelty_rate : float in (0, 1) or None, default=None
    Open-set recognition at a stated cost: the threshold is set at fit so
    that this share of images of known species falls below it (held-out
    images when ``fit`` gets them, else leave-one-out training scores);
    ``novelty_threshold``, when set, wins. None flags nothing. After a fit
    on held-out images, ``novelty_threshold_for(rate)`` gives the threshold
    of any rate.""",
    "calibration_attributes": """\
calibration_ : Calibration
    Where the constants come from (``source``: held-out images or the
    training images), the objective, the DNA test's p-value, the chosen
    shrinkage, seen bias, temperature and novelty threshold, the seen and
    image-less accuracies they promise on that evidence
    (``expected_seen_accuracy``, ``expected_unseen_accuracy``), the share
    of images of seen species sent to image-less ones
    (``seen_sent_to_unseen``), the whole seen/image-less curve and its
    area (``curve``, ``ausuc``); ``calibration_.summary()`` as a dict. On
    held-out images, also their top scores (``novelty_scores``), from which
    :meth:`novelty_threshold_for` reads a threshold for any share of
    flagged images.
novelty_threshold_ : float or None
    Threshold set from ``novelty_rate`` (None without it).""",
    "missing_anchors": """\
missing_anchors : {"raise", "visual_only"}, default="raise"
    A class of ``y`` without an anchor raises a ValueError listing such
    classes, or (``"visual_only"``) takes part through the visual k-NN
    alone: its samples are left out of the alignment loss (they are still
    projected, and enter the neighbourhood term), and in the anchor and
    hybrid rules it receives its k-NN share (see Notes). If no class of
    ``y`` has an anchor, both raise, as :class:`GeneticPrototypeClassifier`
    does: the DNA then pairs with no species of ``y``.""",
    "projection_parameters": """\
projection : {"linear", "mlp"}, default="linear"
    Affine map, or affine -> ReLU -> affine with ``hidden_layer_size``
    hidden units.
hidden_layer_size : int, default=256
    Width of the hidden layer of the ``"mlp"`` projection.
alignment_margin : float, default=0.5
    Cosine above which another class's anchor is penalised (the margin
    of the cosine alignment loss, as ``alignment_margin`` of
    :class:`~vgestimators.vision.TripletImageEmbedder`).
negatives : {"random", "hardest", "all"}, default="random"
    Negative anchor(s) per sample: one drawn at random (the paper), the
    most similar one, or the mean hinge over all others.
neighbourhood_weight : float, default=0.0
    Weight of a term that keeps each sample's visual neighbours close
    after projection (KL divergence between softmax neighbour
    distributions, cosine / 0.1, within a batch). 0 turns it off. Samples
    of classes without an anchor enter this term only.""",
    "knn_parameters": """\
n_neighbors : int, default=5
    Neighbours of the k-NN vote (at most the number of training images).
knn_algorithm : {"auto", "sklearn", "faiss"}, default="auto"
    Neighbour search of the k-NN rules: scikit-learn's
    ``NearestNeighbors``, or an exact faiss flat index (float32; much
    faster predictions on large reference sets; ``vgestimators[faiss]``).
    "auto" uses faiss from 50,000 training images on when it is
    installed. Both are exact, up to float32 rounding.
hybrid_weight : float, default=0.5
    Weight of the k-NN part in the ``"hybrid"`` rule (1 is ``"knn"``, 0
    is ``"anchor"``).""",
    "training_parameters": """\
class_weight : dict, "balanced" or None, default=None
    Per-class weights of the samples in the alignment loss; "balanced"
    weighs each class by ``n_samples / (n_classes * count)``. It shapes
    the projection, not the k-NN vote.
max_epochs : int, default=100
    Passes over the training set.
batch_size : int or None, default=1024
    Mini-batch size; None trains on the full batch.
lr : float, default=0.01
    Adam learning rate.
weight_decay : float, default=0.0
    Adam weight decay.
tol : float or None, default=1e-4
    Early stop when the epoch loss has not improved by at least ``tol``
    for ``n_iter_no_change`` consecutive epochs; None always runs
    ``max_epochs``.
n_iter_no_change : int, default=10
    Patience of the early stop.
device : {"auto", "cpu", "cuda"} or str, default="auto"
    Where the projection is trained ("auto": CUDA when available). The
    fitted projection is kept on the CPU; prediction runs there in
    float64.
random_state : int, RandomState instance or None, default=None
    Seeds the projection's initialisation, shuffling and random
    negatives (and, in VisualGeneticAligner, the "prototype" rule's DNA
    test); fits are repeatable given the same value.
verbose : int, default=0
    Print the loss every ``verbose`` epochs (0: silent).
margin : float, default="deprecated"
    Old name of ``alignment_margin``.

    .. deprecated:: 0.2
        ``margin`` was renamed ``alignment_margin`` in 0.2 and will be
        removed in 0.3.""",
    "projection_attributes": """\
projection_ : torch.nn.Module or None
    The trained projection (on the CPU, evaluation mode); None in a
    VisualGeneticAligner with ``classifier="prototype"``, which trains
    none.
loss_curve_ : list of float
    Training loss of each epoch.
n_epochs_ : int
    Epochs run (fewer than ``max_epochs`` after an early stop).
device_ : str
    Device the projection was trained on.""",
    "projection_notes": """\
Let ``P_knn`` be the k-NN vote fractions over the classes, ``P_anc`` the
softmax of the cosines to the anchors (over classes with an anchor),
``g`` the share of a sample's k neighbours whose class has an anchor and
``w`` the k-NN weight (1 for "knn", 0 for "anchor", ``hybrid_weight``
for "hybrid"). The class probabilities are::

    P = w * P_knn + (1 - w) * (P_knn[unanchored] + g * P_anc)

With every class anchored, ``g = 1`` and this is the plain blend
``w * P_knn + (1 - w) * P_anc``; anchor-only (zero-shot) classes receive
probability through ``P_anc`` alone, classes without an anchor through
``P_knn`` alone. ``predict`` takes the most probable class, so
"anchor" with all classes anchored is the nearest anchor by cosine.

The similarity used for open-set recognition mixes the same way the mean
cosine ``s_knn`` to the k nearest aligned training images and the
largest cosine ``s_anc`` to an anchor:
``s = w * s_knn + (1 - w) * ((1 - g) * s_knn + g * s_anc)``.

The loss and the k-NN rule follow Karaderi, Burghardt, Morard and
Schmidt, "Deep Visual-Genetic Biometrics for Taxonomic Classification of
Rare Species", WACV 2024 (arXiv:2305.06695); the anchor and hybrid rules,
zero-shot classes and the open-set threshold are additions.""",
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
    paired with it, None if none) and ``how``, in the words of
    :func:`vgestimators.taxonomy.match_species` (``"mapping"``,
    ``"exact"``, ``"name"``: case, ``_`` or spacing, ``"unmatched"``,
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
