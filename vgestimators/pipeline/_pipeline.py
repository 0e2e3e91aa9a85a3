"""SpeciesPipeline: a Pipeline whose steps check the labels before any fit."""

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.metaestimators import available_if

from ..utils._docstrings import substitute
from ..utils._repr import summarized_repr
from ..utils._warnings import warn_user


def _final_has(method):
    """``available_if`` check: the final step offers ``method``."""

    def check(pipeline):
        return hasattr(pipeline._final_estimator, method)

    return check


@substitute
class SpeciesPipeline(Pipeline):
    """A Pipeline that checks the species names before fitting any step.

    In a plain :class:`~sklearn.pipeline.Pipeline` the steps are fitted one
    after the other, so a species name of ``y`` that the DNA does not know
    is found by the aligner only after the image embedder has trained for
    hours. ``SpeciesPipeline`` first calls ``check_species(y)`` of every
    step that offers it (:class:`~vgestimators.VisualGeneticAligner`,
    :class:`~vgestimators.alignment.GeneticPrototypeClassifier`): names are
    paired as the aligner will pair them (case, ``_`` and spacing ignored,
    ``species_mapping``) and a class without DNA raises at once, naming the
    species. Image files are checked next, by the embedder's ``fit`` before
    its first epoch. Otherwise it is a scikit-learn Pipeline: ``clone``,
    ``GridSearchCV``, ``set_params`` with ``step__param`` names, caching
    with ``memory=`` all work as usual.

    With ``calibration_cv``, ``fit`` cross-fits before it fits: a clone of
    the whole Pipeline is fitted on part of the images, with some species
    held out entirely, the other images are embedded by that clone's
    network, and the final step (the default
    :class:`~vgestimators.VisualGeneticAligner`) chooses its constants on
    those held-out embeddings (the DNA test, shrinkage, the balance between
    species with and without images, the open-set threshold);
    then the Pipeline is fitted on all images with those choices. A network
    fits its own training images more tightly than new ones, so constants
    chosen on its training embeddings would be biased; this is the zero-shot
    literature's protocol (Xian et al., TPAMI 2018). It costs one more fit
    of the Pipeline per hold-out, on about 60% of the images; when a step
    prints its progress (``verbose``), a line names each fit
    (``[SpeciesPipeline] hold-out 1/1: ...``, ``... final fit on all N
    images``). When the steps
    before the last train nothing (``trains_nothing()``: a
    :class:`~vgestimators.vision.PretrainedImageEmbedder`), the images are
    embedded once and every fit of the final step uses those embeddings.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As in :class:`~sklearn.pipeline.Pipeline`.
    calibration_cv : int, splitter or None, default=None
        Hold-outs of the cross-fitting: an int ``k`` gives ``k`` hold-outs of
        :class:`~vgestimators.model_selection.HeldOutSpeciesSplit` (about one
        species in six held out entirely, a third of the other species'
        images; fixed seed), pooled; a splitter is used as it is (it should
        hold some species out entirely). None: the final step chooses its
        constants on the training embeddings. Only used when the final step
        calibrates on held-out embeddings (``calibrates_on_held_out()``:
        :class:`~vgestimators.VisualGeneticAligner` with its default rule,
        :class:`~vgestimators.alignment.GeneticPrototypeClassifier`); a
        warning says so otherwise. Fit parameters go to every clone as they
        are; held-out embeddings of your own (``<final>__X_val``) and
        ``calibration_cv`` exclude each other.
    taxonomy : None, Taxonomy, DataFrame or path, default=None
        The ranks above species, for :meth:`predict_ranks` and
        :meth:`rank_proba`: None takes the genus from binomial names
        (``"Globorotalia menardii"``); a table (DataFrame or CSV file with
        a ``species`` column and ``genus``, ``family``, ... columns, see
        :class:`~vgestimators.taxonomy.Taxonomy`) is checked against the
        species of ``y`` and those the final step knows from DNA only
        before any step is fitted.
    transform_input : list of str or None, default=None
        As in :class:`~sklearn.pipeline.Pipeline`.
    memory : str, object with the joblib.Memory interface or None, \
default=None
        As in :class:`~sklearn.pipeline.Pipeline`.
    verbose : bool, default=False
        As in :class:`~sklearn.pipeline.Pipeline`.

    Attributes
    ----------
    species_report_ : pandas.DataFrame or None
        The pairing of the last step that checked the species (columns
        ``species``, ``n_images``, ``dna_label``, ``how``), None if no step
        offers ``check_species``.
    calibration_ : Calibration or None
        The final step's ``calibration_`` (where its constants come from
        and what they promise: ``calibration_.summary()``), None when it has
        none.
    taxonomy_ : Taxonomy or None
        The taxonomy of the final step's ``classes_``; None when
        ``taxonomy`` is None and some species name is not a binomial.

    See Also
    --------
    make_species_pipeline : Build the recommended SpeciesPipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from vgestimators.alignment import GeneticPrototypeClassifier
    >>> from vgestimators.pipeline import SpeciesPipeline
    >>> dna = {"Orbulina universa": [1.0, 0.0], "Candeina nitida": [0.0, 1.0]}
    >>> pipe = SpeciesPipeline([
    ...     ("scale", StandardScaler()),
    ...     ("classify", GeneticPrototypeClassifier(anchors=dna)),
    ... ])
    >>> X = np.random.RandomState(0).normal(size=(6, 3))
    >>> y = ["orbulina_universa"] * 3 + ["Globigerina bulloides"] * 3
    >>> pipe.fit(X, y)
    Traceback (most recent call last):
    ...
    ValueError: classes ['Globigerina bulloides'] of y have no anchor ...
    >>> pipe.check_species(["orbulina_universa", "Candeina nitida"])[
    ...     ["species", "dna_label", "how"]]
                 species          dna_label    how
    0    Candeina nitida    Candeina nitida  exact
    1  orbulina_universa  Orbulina universa   name
    """

    def __init__(
        self,
        steps,
        *,
        calibration_cv=None,
        taxonomy=None,
        transform_input=None,
        memory=None,
        verbose=False,
    ):
        self.calibration_cv = calibration_cv
        self.taxonomy = taxonomy
        super().__init__(
            steps, transform_input=transform_input, memory=memory, verbose=verbose
        )

    def __repr__(self, N_CHAR_MAX=700):
        # scikit-learn's repr, DNA tables of the steps summarised
        return summarized_repr(self, N_CHAR_MAX)

    def check_species(self, y):
        """Run ``check_species(y)`` of every step that offers it.

        Parameters
        ----------
        y : array-like of shape (n_samples,)
            Species label of each training image.

        Returns
        -------
        report : pandas.DataFrame or None
            The last step's report (see ``species_report_``).

        Raises
        ------
        ValueError
            As raised by the steps' checks, e.g. naming the species of
            ``y`` that have no DNA.
        """
        report = None
        for _, _, step in self._iter(with_final=True, filter_passthrough=True):
            if hasattr(step, "check_species"):
                report = step.check_species(y)
        return report

    def fit(self, X, y=None, **params):
        """Check the species names, then fit as a Pipeline does.

        ${pipeline_fit_parameters}

        Returns
        -------
        self : SpeciesPipeline
            The fitted pipeline.
        """
        return self._check_then("fit", X, y, params)

    def fit_transform(self, X, y=None, **params):
        """Check the species names, then ``fit_transform`` as a Pipeline.

        ${pipeline_fit_parameters}

        Returns
        -------
        Xt : ndarray
            Output of the last step's ``fit_transform``.
        """
        return self._check_then("fit_transform", X, y, params)

    def fit_predict(self, X, y=None, **params):
        """Check the species names, then ``fit_predict`` as a Pipeline.

        ${pipeline_fit_parameters}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predictions of the last step.
        """
        return self._check_then("fit_predict", X, y, params)

    def _check_then(self, method, X, y, params):
        """Check the species names, cross-fit if asked, then run ``method``."""
        from ._cross_fit import announce, cross_fit

        # parameter errors before any step trains, not after the network
        for _, _, step in self._iter(with_final=True, filter_passthrough=True):
            if hasattr(step, "_parameter_constraints"):
                step._validate_params()
        self.species_report_ = self.check_species(y)
        self._taxonomy_of(pd.unique(np.asarray(y, dtype=object).ravel()), "y")
        report = self.species_report_
        if self.taxonomy is not None and report is not None:
            # species the final step will know from their DNA only
            dna_only = report.loc[report["how"] == "dna only", "species"]
            if len(dna_only):
                self._taxonomy_of(dna_only, "the DNA (species without images)")
        final_name, final = self.steps[-1]
        calibrates = getattr(final, "calibrates_on_held_out", lambda: False)()
        if self.calibration_cv is not None and not calibrates:
            warn_user(
                f"calibration_cv={self.calibration_cv!r} is not used: the final "
                f"step {type(final).__name__} chooses no constants on held-out "
                "embeddings."
            )
        calibrate = self.calibration_cv is not None and calibrates
        if calibrate:
            given = [
                name
                for name in ("X_val", "y_val", "held_out")
                if f"{final_name}__{name}" in params
            ]
            if given:
                raise ValueError(
                    f"{final_name}__{given[0]} and calibration_cv both give the "
                    "final step held-out embeddings; pass one (calibration_cv="
                    "None to use your own)."
                )
        if self._embeds_without_training():
            result = self._fit_on_embeddings(method, X, y, params, calibrate)
        else:
            if calibrate:
                held_out = cross_fit(self, X, y, params)
                params = {**params, f"{final_name}__held_out": held_out}
                announce(self, f"final fit on all {len(y)} images")
            result = getattr(super(), method)(X, y, **params)
        self.calibration_ = getattr(self.steps[-1][1], "calibration_", None)
        classes = getattr(self.steps[-1][1], "classes_", None)
        self.taxonomy_ = (
            None if classes is None else self._taxonomy_of(classes, "the model")
        )
        return result

    def _taxonomy_of(self, species, where):
        """The taxonomy of ``species`` (None: no genus in some name, no table)."""
        from ..taxonomy import resolve_taxonomy

        species = [str(s) for s in np.asarray(species, dtype=object).tolist()]
        try:
            return resolve_taxonomy(self.taxonomy, species, where=where)
        except (TypeError, ValueError):
            if self.taxonomy is not None:
                raise
            return None

    @available_if(_final_has("predict_proba"))
    def rank_proba(self, X, rank="genus"):
        """Probabilities at ``rank``: species probabilities summed per taxon.

        Parameters
        ----------
        X : iterable
            What the first step takes (e.g. image paths).
        rank : str, default="genus"
            A rank of ``taxonomy_``.

        Returns
        -------
        proba : DataFrame of shape (n_samples, n_taxa)
            One column per taxon of ``rank``.
        """
        from ..taxonomy import rank_proba

        return rank_proba(self, X, rank)

    @available_if(_final_has("predict_proba"))
    def predict_ranks(self, X, *, threshold=0.9):
        """The deepest rank each sample is named at, with ``threshold`` confidence.

        See :func:`vgestimators.taxonomy.predict_ranks`: an image the final
        step's open-set rule flags as unknown is named at the genus or
        above, when one is that probable.

        Parameters
        ----------
        X : iterable
            What the first step takes (e.g. image paths).
        threshold : float in (0, 1], default=0.9

        Returns
        -------
        table : DataFrame
            Per rank the most probable taxon and its probability, then
            ``rank``, ``taxon``, ``probability`` and ``unknown``.
        """
        from ..taxonomy import predict_ranks

        return predict_ranks(self, X, threshold=threshold)

    def _embeds_without_training(self):
        """Whether every step before the last trains nothing (frozen features).

        Only for a plain Pipeline: a final estimator, no cache, no verbose
        output, no metadata routing (the Pipeline's own fit handles those).
        """
        from sklearn.utils.metadata_routing import _routing_enabled

        head = [
            step for _, step in self.steps[:-1] if step not in (None, "passthrough")
        ]
        return (
            bool(head)
            and self.steps[-1][1] not in (None, "passthrough")
            and self.memory is None
            and self.transform_input is None
            and not self.verbose
            and not _routing_enabled()
            and all(getattr(s, "trains_nothing", lambda: False)() for s in head)
        )

    def _fit_on_embeddings(self, method, X, y, params, calibrate):
        """Embed the images once; cross-fit and fit the final step on them.

        The steps before the last learn nothing from the images (a
        pretrained network's features), so the embeddings of the
        cross-fitting's hold-outs are those of the whole fit: computed once,
        not once per fit.
        """
        from ._cross_fit import announce, cross_fit

        names = [name for name, _ in self.steps]
        routed = {name: {} for name in names}
        for key, value in params.items():
            name, _, param = key.partition("__")
            if name not in routed or not param:
                raise ValueError(
                    f"Pipeline.fit does not accept the {key} parameter: give fit "
                    "parameters as stepname__parameter, with a step of "
                    f"{names}."
                )
            routed[name][param] = value
        Z = X
        for name, step in self.steps[:-1]:
            if step not in (None, "passthrough"):
                Z = step.fit(Z, y, **routed[name]).transform(Z)
        final_name, final = self.steps[-1]
        own = routed[final_name]
        if calibrate:
            tail = type(self)([(final_name, final)], calibration_cv=self.calibration_cv)
            prefixed = {f"{final_name}__{k}": v for k, v in own.items()}
            own = {**own, "held_out": cross_fit(tail, Z, y, prefixed)}
            announce(tail, f"final fit on all {len(y)} images")
        # as Pipeline: fit_predict needs the final step's; fit_transform
        # falls back to fit then transform
        if method == "fit_predict":
            return final.fit_predict(Z, y, **own)
        if method == "fit_transform" and hasattr(final, "fit_transform"):
            return final.fit_transform(Z, y, **own)
        final.fit(Z, y, **own)
        return self if method == "fit" else final.transform(Z)


def make_species_pipeline(
    sequences,
    *,
    species_mapping=None,
    embedder=None,
    aligner=None,
    calibration_cv=1,
    taxonomy=None,
    memory=None,
    verbose=False,
):
    """The recommended Pipeline from images to species, checked before fit.

    An image embedder (:class:`~vgestimators.TripletImageEmbedder` with its
    defaults, the strongest settings measured) followed by the default
    :class:`~vgestimators.VisualGeneticAligner` (DNA-informed class
    prototypes, so that rare species lean on their relatives and species
    with DNA but no image are recognised), in a :class:`SpeciesPipeline`
    that pairs the species names of ``y`` with those of ``sequences``
    before the network trains. The steps are named ``"embedder"`` and
    ``"aligner"``: tune them with ``embedder__lr``,
    ``aligner__shrinkage``, ...

    Parameters
    ----------
    sequences : DataFrame or tuple
        DNA of the species: a DataFrame with ``"sequence"`` and
        ``"species"`` (or ``"label"``) columns, e.g.
        :func:`~vgestimators.datasets.read_fasta` or
        :func:`~vgestimators.datasets.load_pfr2` output, or a
        ``(sequences, labels)`` pair.
    species_mapping : dict or None, default=None
        ``{image class: species name in sequences}`` for names that differ
        beyond case, ``_`` and spacing (those pair by themselves).
    embedder : dict or estimator or None, default=None
        Parameters of the :class:`~vgestimators.TripletImageEmbedder` (a
        dict, e.g. ``{"backbone": "resnet18", "image_size": 64}``), or an
        embedder estimator to use as it is, e.g. a
        :class:`~vgestimators.vision.PretrainedImageEmbedder` (a pretrained
        network's features, nothing trained; the images are then embedded
        once for the cross-fitting and the fit).
    aligner : dict or None, default=None
        Further parameters of the
        :class:`~vgestimators.VisualGeneticAligner`, e.g. ``{"objective":
        0.3}`` when about 30% of new images are expected to come from
        species that have DNA but no training image (the default,
        ``"balanced"``, counts every species once).
    calibration_cv : int, splitter or None, default=1
        Cross-fitting of the aligner's constants on held-out images (see
        :class:`SpeciesPipeline`): one hold-out by default, which costs one
        more training of the network on about 60% of the images; None
        chooses them on the training embeddings (faster, biased).
    taxonomy : None, Taxonomy, DataFrame or path, default=None
        The ranks above species (see :class:`SpeciesPipeline`): None takes
        the genus from binomial names.
    memory : str, joblib.Memory or None, default=None
        Caching of the fitted embedder (see :class:`~sklearn.pipeline.Pipeline`).
    verbose : bool, default=False
        Print the time of each step's fit.

    Returns
    -------
    pipeline : SpeciesPipeline

    See Also
    --------
    SpeciesPipeline : The Pipeline that checks names before any fit.

    Examples
    --------
    >>> import pandas as pd
    >>> from vgestimators.pipeline import make_species_pipeline
    >>> dna = pd.DataFrame({"sequence": ["ACGTTGCA", "TTGACCGA"],
    ...                     "species": ["Orbulina universa", "Candeina nitida"]})
    >>> pipe = make_species_pipeline(dna, embedder={"backbone": "resnet18"})
    >>> [name for name, _ in pipe.steps]
    ['embedder', 'aligner']
    >>> pipe.check_species(["orbulina_universa", "Candeina nitida"]).how.tolist()
    ['exact', 'name']
    >>> pipe.check_species(["Globigerina bulloides", "Candeina nitida"])
    Traceback (most recent call last):
    ...
    ValueError: classes ['Globigerina bulloides'] of y have no anchor ...
    """
    from ..alignment import VisualGeneticAligner
    from ..vision import TripletImageEmbedder

    if embedder is None or isinstance(embedder, dict):
        embedder = TripletImageEmbedder(**(embedder or {}))
    aligner = VisualGeneticAligner(
        **{
            "sequences": sequences,
            "species_mapping": species_mapping,
            **(aligner or {}),
        }
    )
    return SpeciesPipeline(
        [("embedder", embedder), ("aligner", aligner)],
        calibration_cv=calibration_cv,
        taxonomy=taxonomy,
        memory=memory,
        verbose=verbose,
    )
