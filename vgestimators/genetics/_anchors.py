"""Per-species genetic anchors from DNA sequences."""

import numbers

import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context, clone
from sklearn.decomposition import PCA
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_is_fitted,
    validate_data,
)

from ..utils._docstrings import substitute
from ._input import _is_missing, as_rows
from ._sgt import SGTTransformer


@substitute
class GeneticAnchors(TransformerMixin, BaseEstimator):
    """Per-class anchors in a sequence-embedding space (the paper's genetic anchors).

    Every sequence is embedded (by default with the SGT over overlapping
    dinucleotides, as in Karaderi et al., 2024), the embeddings of each class
    (species) are aggregated into one anchor, and the anchors are centred
    and scaled across classes so that their directions differ (see Notes).
    ``transform`` maps any sequence into the same space, so a sequence can be
    compared with the anchors directly.

    Parameters
    ----------
    embedder : transformer or None, default=None
        Maps sequences to vectors (``fit``/``transform``); cloned in ``fit``,
        so the parameters of an embedder passed here are tunable as
        ``embedder__<name>`` (e.g. ``embedder__kappa``). None uses
        ``SGTTransformer(kmer=2, kmer_step=1, kappa=1)``: 256 dinucleotide
        features, the paper's setting. None has no parameters to tune: pass
        ``SGTTransformer(kmer=2)`` (the same embedder) to tune its ``kappa``.
    aggregate : {"mean", "median", "medoid"}, default="mean"
        How a class's embeddings become its anchor: their mean (as in the
        paper), the feature-wise median, or the medoid (the embedding with
        the smallest summed Euclidean distance to the others of its class,
        an actual sequence's vector).
    standardize : bool or "center", default=True
        True: subtract the mean of the anchors and divide each feature by
        its standard deviation across the anchors (features constant across
        anchors are only centred). "center": only subtract the mean.
        False: keep the raw aggregates.
    n_components : int or None, default=None
        If set, project onto this many principal axes, fitted on the
        (standardised) embeddings of all training sequences, e.g. to match
        the size of a visual embedding. The projection is linear (no
        re-centring), so centred anchors stay centred.

    Attributes
    ----------
    embedder_ : transformer
        The fitted clone of ``embedder``.
    anchors_ : pandas.DataFrame of shape (n_classes, n_features_out)
        One row per class, indexed by class label, columns as
        :meth:`get_feature_names_out`.
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels.
    counts_ : pandas.Series of shape (n_classes,)
        Number of training sequences per class.
    raw_anchors_ : pandas.DataFrame
        The aggregated embeddings before standardisation and projection.
    mean_ : ndarray of shape (n_embedding_features,)
        Mean of the raw anchors (zeros if ``standardize=False``).
    scale_ : ndarray of shape (n_embedding_features,)
        Standard deviation of the raw anchors across classes (ones where it
        is zero or ``standardize`` is not True).
    pca_ : sklearn.decomposition.PCA or None
        The fitted projection when ``n_components`` is set.
    n_features_in_ : int
        Always 1: one sequence per row.
    feature_names_in_ : ndarray of shape (1,)
        Name of the sequence column, when ``fit`` received a DataFrame.

    See Also
    --------
    SGTTransformer : The default embedder.

    Notes
    -----
    Why standardise: SGT vectors of 18S rDNA are all positive and dominated
    by what every foraminifer shares, so raw anchors point the same way.
    Measured with this code on the 804 PFR2 sequences (``load_pfr2``),
    anchors = class means over the 32 ``endless_forams_class`` classes,
    pairwise cosine similarity (min .. max, mean):

    - SGT kappa=1 over ACGT (16 features): raw anchors 0.981 to 0.9999
      (mean 0.995); standardised -0.89 to 0.997 (mean -0.03).
    - Default embedder, dinucleotides (256 features): raw anchors 0.939 to
      0.999 (mean 0.970); standardised -0.46 to 0.970 (mean -0.03).

    Centring alone (``standardize="center"``) gives -0.88 .. 0.997 for
    kappa=1 over ACGT. With the 33 binomial names (``label``: ruber-albus
    and ruber-ruber apart) the figures agree to 0.02. A cosine loss that
    pulls images toward raw anchors can hardly tell species apart; toward
    standardised anchors it can.

    Examples
    --------
    >>> from vgestimators.genetics import GeneticAnchors
    >>> seqs = ["ACGTACGTAA", "ACGTACGTTA", "TTGCATGCAA", "TTGCATGGAA"]
    >>> species = ["alpha", "alpha", "beta", "beta"]
    >>> anchors = GeneticAnchors().fit(seqs, species)
    >>> anchors.anchors_.shape
    (2, 256)
    >>> anchors.counts_.to_dict()
    {'alpha': 2, 'beta': 2}
    >>> anchors.transform(["ACGTACGTAA"]).shape
    (1, 256)
    """

    _parameter_constraints: dict = {
        "embedder": [HasMethods(["fit", "transform"]), None],
        "aggregate": [StrOptions({"mean", "median", "medoid"})],
        "standardize": ["boolean", StrOptions({"center"})],
        "n_components": [Interval(numbers.Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self, *, embedder=None, aggregate="mean", standardize=True, n_components=None
    ):
        self.embedder = embedder
        self.aggregate = aggregate
        self.standardize = standardize
        self.n_components = n_components

    def set_params(self, **params):
        """Set the parameters of this estimator (see ``BaseEstimator.set_params``).

        ``embedder__<name>`` needs an embedder: with the default
        ``embedder=None`` there is no nested estimator to set, and a
        ``ValueError`` says how to pass the default one explicitly.

        Parameters
        ----------
        **params : dict
            Estimator parameters, ``embedder__<name>`` included.

        Returns
        -------
        self : GeneticAnchors
            The estimator.
        """
        nested = sorted(key for key in params if key.startswith("embedder__"))
        if nested and params.get("embedder", self.embedder) is None:
            raise ValueError(
                f"Cannot set {', '.join(nested)}: this GeneticAnchors has "
                "embedder=None (the default SGT embedder is built inside fit), "
                "so there is no embedder to set them on. Pass the embedder "
                "explicitly, e.g. GeneticAnchors(embedder=SGTTransformer(kmer=2, "
                "kappa=1)) (the default), then tune embedder__kappa; or search "
                "over whole embedders: {'embedder': [SGTTransformer(kmer=2, "
                "kappa=1), SGTTransformer(kmer=2, kappa=5)]}."
            )
        return super().set_params(**params)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, sequences, labels):
        """Embed the sequences and build one anchor per class.

        Parameters
        ----------
        sequences : ${sequences_type}
            Training sequences, as accepted by the embedder; or a dask Series,
            one-column DataFrame or Bag of them (``vgestimators[dask]``):
            each partition is embedded where it lives and the anchors are a
            per-species reduction of sums and counts (``aggregate="mean"``
            only, no ``n_components``).
        labels : array-like of shape (n_sequences,)
            Class (species) of each sequence; a dask collection partitioned
            like ``sequences`` when they are one (e.g. ``ddf["species"]``).

        Returns
        -------
        self : GeneticAnchors
            The fitted estimator.
        """
        if self.embedder is None:
            embedder = SGTTransformer(kmer=2, kmer_step=1, kappa=1.0)
        else:
            embedder = clone(self.embedder)
        from . import _dask

        if _dask.is_dask_collection(labels) and not _dask.is_dask_collection(sequences):
            raise TypeError(
                "labels are a dask collection but sequences are not; give both "
                "as dask collections of one table (e.g. sequences=ddf['sequence'], "
                "labels=ddf['species']) or both in memory."
            )
        if _dask.is_dask_collection(sequences):
            classes, raw, counts, E = self._fit_dask(embedder, sequences, labels)
            if hasattr(self, "feature_names_in_"):  # of an earlier fit
                del self.feature_names_in_
        else:
            validate_data(
                self, sequences, reset=True, skip_check_array=True, ensure_2d=False
            )
            rows = as_rows(sequences, name="sequences")
            labels = _check_labels(labels, len(rows))
            E = np.asarray(
                embedder.fit_transform(_as_input(sequences, rows)), dtype=float
            )
            if E.ndim != 2 or E.shape[0] != len(rows):
                raise ValueError(
                    f"The embedder returned shape {E.shape} for {len(rows)} "
                    "sequences; expected (n_sequences, n_features)."
                )
            classes, y = np.unique(labels, return_inverse=True)
            raw = np.vstack([self._aggregate(E[y == c]) for c in range(len(classes))])
            counts = np.bincount(y, minlength=len(classes))
        self.n_features_in_ = 1
        self.embedder_ = embedder
        self.classes_ = classes
        self.counts_ = pd.Series(
            counts, index=pd.Index(classes, name="class"), name="count"
        )
        names = _embedding_names(embedder, raw.shape[1])
        self.raw_anchors_ = pd.DataFrame(
            raw, index=pd.Index(classes, name="class"), columns=names
        )
        if self.standardize is False:
            self.mean_ = np.zeros(raw.shape[1])
        else:
            self.mean_ = raw.mean(axis=0)
        scale = np.ones(raw.shape[1])
        if self.standardize is True and len(classes) > 1:
            sd = raw.std(axis=0)
            scale = np.where(sd > 1e-12 * np.abs(raw).max(axis=0), sd, 1.0)
        self.scale_ = scale
        Z = (raw - self.mean_) / self.scale_
        self.pca_ = None
        if self.n_components is not None:
            limit = min(E.shape)
            if self.n_components > limit:
                raise ValueError(
                    f"n_components={self.n_components} exceeds min(n_sequences, "
                    f"n_features) = {limit}."
                )
            self.pca_ = PCA(n_components=self.n_components, svd_solver="full")
            self.pca_.fit((E - self.mean_) / self.scale_)
            Z = Z @ self.pca_.components_.T
        self.anchors_ = pd.DataFrame(
            Z,
            index=pd.Index(classes, name="class"),
            columns=self._output_names(names),
        )
        return self

    def transform(self, sequences):
        """Map sequences into the anchor space.

        Parameters
        ----------
        sequences : ${sequences_type}
            Sequences, as in :meth:`fit`; a dask collection is embedded
            partition by partition where it lives.

        Returns
        -------
        X_new : ndarray of shape (n_sequences, n_features_out)
            Embeddings standardised (and projected) like ``anchors_``; a
            lazy dask array, one chunk per computed partition, for dask
            input.
        """
        check_is_fitted(self)
        from . import _dask

        if _dask.is_dask_collection(sequences):
            return _dask.transform(self, sequences, self.anchors_.shape[1])
        validate_data(
            self, sequences, reset=False, skip_check_array=True, ensure_2d=False
        )
        rows = as_rows(sequences, name="sequences")
        E = np.asarray(
            self.embedder_.transform(_as_input(sequences, rows)), dtype=float
        )
        Z = (E - self.mean_) / self.scale_
        if self.pca_ is not None:
            Z = Z @ self.pca_.components_.T
        return Z

    def get_feature_names_out(self, input_features=None):
        """Names of the anchor-space features (the columns of ``anchors_``).

        ${feature_names_parameters}

        Returns
        -------
        feature_names_out : ndarray of str objects
            The embedder's feature names, or ``"pc0", "pc1", ...`` with PCA.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray(self.anchors_.columns, dtype=object)

    def _fit_dask(self, embedder, sequences, labels):
        """Anchors of dask collections: per-species sums reduced across partitions."""
        from . import _dask

        if self.aggregate != "mean":
            raise ValueError(
                f"aggregate={self.aggregate!r} needs every sequence of a class in "
                "one place; with dask collections use aggregate='mean' (a sum "
                "and a count per partition)."
            )
        if self.n_components is not None:
            raise ValueError(
                "n_components (PCA over all sequences) is not available for dask "
                "collections; reduce the anchors afterwards, or fit on a sample."
            )
        _dask.one_column(sequences, "sequences")
        if isinstance(embedder, SGTTransformer):
            embedder.fit(sequences)
        else:
            # any other embedder learns from the first partition(s) only
            embedder.fit(_dask.first_rows(sequences))
        classes, sums, counts = _dask.class_sums(embedder, sequences, labels)
        return classes, sums / counts[:, None], counts, None

    def _aggregate(self, E):
        if self.aggregate == "mean":
            return E.mean(axis=0)
        if self.aggregate == "median":
            return np.median(E, axis=0)
        return E[np.argmin(cdist(E, E).sum(axis=1))]

    def _output_names(self, names):
        if self.pca_ is None:
            return names
        return [f"pc{i}" for i in range(self.pca_.n_components_)]


def _as_input(sequences, rows):
    """What the embedder receives: the original container when it is tabular."""
    if isinstance(sequences, pd.DataFrame | pd.Series | np.ndarray):
        return sequences
    return rows


def _embedding_names(embedder, n):
    try:
        names = list(embedder.get_feature_names_out())
    except (AttributeError, TypeError, ValueError):
        names = []
    if len(names) != n:
        names = [f"e{i}" for i in range(n)]
    return [str(s) for s in names]


def _check_labels(labels, n):
    """1-D labels, one per sequence, none missing."""
    if labels is None:
        raise ValueError("labels are required: one class label per sequence.")
    if isinstance(labels, pd.DataFrame):
        if labels.shape[1] != 1:
            raise ValueError(f"labels must be 1-D, got {labels.shape[1]} columns.")
        labels = labels.iloc[:, 0]
    values = labels.tolist() if hasattr(labels, "tolist") else list(labels)
    if np.ndim(values) != 1:
        raise ValueError(f"labels must be 1-D, got shape {np.shape(values)}.")
    if len(values) != n:
        raise ValueError(
            f"labels and sequences differ in length: {len(values)} labels for "
            f"{n} sequences."
        )
    for i, v in enumerate(values):
        if _is_missing(v):
            raise ValueError(f"labels row {i}: missing label ({v!r}).")
    kinds = {
        "str"
        if isinstance(v, str)
        else "number"
        if isinstance(v, numbers.Number)
        else type(v).__name__
        for v in values
    }
    if len(kinds) > 1:
        raise ValueError(
            f"labels mix types {sorted(kinds)}; use one type (e.g. all str), so "
            "that 1 and '1' are not silently merged."
        )
    return np.asarray(values)
