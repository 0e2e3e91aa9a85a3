"""read_anchors and anchor_labels: every form of anchors, every check, exactly."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import InvalidParameterError
from test_anchors import _simulate

from vgestimators.genetics import (
    GeneticAnchors,
    SGTTransformer,
    anchor_labels,
    read_anchors,
)

SEQS, LABELS = _simulate(n_per_class=(3, 2, 2), length=60)
RAW = np.array([[1.0, 0.0, 4.0], [3.0, 2.0, 4.0], [2.0, 7.0, 4.0]])
DICT = dict(zip(["a", "b", "c"], RAW, strict=True))


class _ArrayAnchors(BaseEstimator):
    """An anchor estimator whose ``anchors_`` is an array labelled by ``classes_``."""

    def __init__(self, with_classes=True):
        self.with_classes = with_classes

    def fit(self, sequences, labels):
        classes = np.unique(labels)
        if self.with_classes:
            self.classes_ = classes
        self.anchors_ = np.arange(2.0, 2.0 + 2 * len(classes)).reshape(-1, 2) ** 2
        return self


class _FitForbidden(BaseEstimator):
    def fit(self, sequences, labels):
        raise AssertionError("anchor_labels must not fit anything")


# ------------------------------------------------------------ the input forms


def test_dict_gives_the_standardised_table_exactly():
    out = read_anchors(DICT)
    mean = RAW.mean(axis=0)
    scale = np.array([np.sqrt(2 / 3), np.sqrt(26 / 3), 1.0])  # constant -> 1
    expected = (RAW - mean) / scale
    expected[:, 2] = 0.0  # a feature constant across anchors is zeroed
    np.testing.assert_allclose(out.matrix, expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(out.mean, mean)
    np.testing.assert_allclose(out.scale, scale, rtol=1e-15)
    assert out.labels == ["a", "b", "c"]
    assert out.feature_names is None and out.genetic_anchors is None
    assert list(out.table.index) == ["a", "b", "c"] and out.table.index.dtype == object
    assert list(out.table.columns) == [0, 1, 2]
    np.testing.assert_array_equal(out.table.to_numpy(), out.matrix)


def test_standardize_false_keeps_the_raw_vectors():
    out = read_anchors(DICT, standardize=False)
    np.testing.assert_array_equal(out.matrix, RAW)
    assert out.mean is None and out.scale is None
    assert out.matrix.dtype == np.float64


def test_dataframe_keeps_its_feature_names_and_equals_the_dict():
    frame = pd.DataFrame(RAW, index=["a", "b", "c"], columns=["AA", "AC", "AG"])
    out = read_anchors(frame)
    assert out.feature_names == ["AA", "AC", "AG"]
    assert list(out.table.columns) == ["AA", "AC", "AG"]
    np.testing.assert_array_equal(out.matrix, read_anchors(DICT).matrix)
    # integer column names are not feature names
    assert read_anchors(pd.DataFrame(RAW, index=[1, 2, 3])).feature_names is None


def test_fitted_estimator_is_read_as_it_is():
    fitted = GeneticAnchors(embedder=SGTTransformer(kmer=2)).fit(SEQS, LABELS)
    out = read_anchors(fitted, standardize=False)
    assert out.genetic_anchors is fitted
    assert out.labels == ["sp0", "sp1", "sp2"]
    np.testing.assert_array_equal(out.matrix, fitted.anchors_.to_numpy())
    assert out.feature_names == list(fitted.anchors_.columns)


def test_estimator_and_sequences_fit_a_clone():
    unfitted = GeneticAnchors(aggregate="median")
    out = read_anchors(unfitted, (SEQS, LABELS), standardize=False)
    assert not hasattr(unfitted, "anchors_")
    assert out.genetic_anchors is not unfitted
    assert out.genetic_anchors.aggregate == "median"
    expected = GeneticAnchors(aggregate="median").fit(SEQS, LABELS).anchors_
    np.testing.assert_array_equal(out.matrix, expected.to_numpy())


def test_none_fits_genetic_anchors_on_a_sequences_frame():
    frame = pd.DataFrame({"sequence": SEQS, "species": LABELS})
    out = read_anchors(None, frame)
    assert isinstance(out.genetic_anchors, GeneticAnchors)
    assert out.genetic_anchors.get_params() == GeneticAnchors().get_params()
    np.testing.assert_array_equal(out.matrix, read_anchors(None, (SEQS, LABELS)).matrix)
    # "label" wins over "species" when both columns exist
    both = frame.assign(label=[f"L{s}" for s in LABELS])
    assert read_anchors(None, both).labels == ["Lsp0", "Lsp1", "Lsp2"]


def test_estimator_with_array_anchors_uses_its_classes():
    out = read_anchors(_ArrayAnchors(), (SEQS, LABELS), standardize=False)
    assert out.labels == ["sp0", "sp1", "sp2"]
    np.testing.assert_array_equal(out.matrix, [[4, 9], [16, 25], [36, 49]])
    with pytest.raises(ValueError, match="has no classes_ to label its rows"):
        read_anchors(_ArrayAnchors(with_classes=False), (SEQS, LABELS))


# ----------------------------------------------------------------- the checks


@pytest.mark.parametrize(
    "anchors, sequences, message",
    [
        ({}, None, "anchors is an empty dict"),
        ({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]}, None, "mixed dimensions"),
        ({"a": [[1.0, 2.0]], "b": [[1.0, 2.0]]}, None, "must be a 1-D vector"),
        ({"a": ["x", "y"], "b": [1.0, 2.0]}, None, r"class 'a' is not numeric"),
        ({"a": [1.0, np.inf], "b": [1.0, 2.0]}, None, r"infinity for classes \['a'\]"),
        ({"a": [1.0, 2.0]}, None, r"at least 2 classes; got 1 \(\['a'\]\)"),
        ({"a": [0.0, 0.0], "b": [1.0, 2.0]}, None, r"\['a'\] are all-zero"),
        ({"a": [1.0, 2.0], "b": [1.0, 2.0]}, None, "all anchors are identical"),
        (
            {"a": [1.0, 2.0], "b": [3.0, 4.0], "c": [2.0, 3.0]},
            None,
            r"after standardisation the anchors of classes \['c'\] are zero",
        ),
        (
            {"Orbulina universa": [1.0, 0.0], "orbulina_universa": [0.0, 1.0]},
            None,
            r"same class once spellings are matched: \['Orbulina universa'\]",
        ),
        (pd.DataFrame(columns=["x"], dtype=float), None, "holds no anchor"),
        (
            pd.DataFrame([[1.0], [2.0]], index=["a", "a"]),
            None,
            r"several rows for classes \['a'\]",
        ),
        (
            pd.DataFrame({"x": [1.0, 2.0], "name": ["p", "q"]}, index=["a", "b"]),
            None,
            r"non-numeric columns \['name'\]",
        ),
        (None, None, "anchors is None and sequences is None"),
        (GeneticAnchors(), None, "unfitted GeneticAnchors and sequences is None"),
        (DICT, (SEQS, LABELS), "sequences is given but anchors is a dict"),
        (
            pd.DataFrame(DICT).T,
            (SEQS, LABELS),
            "sequences is given but anchors is a DataFrame",
        ),
        (None, (SEQS, LABELS[:-1]), "holds 7 sequences but 6 labels"),
        (None, (SEQS, [None, *LABELS[1:]]), r"1 of 7 sequences have no species"),
        (
            None,
            pd.DataFrame({"seq": SEQS, "species": LABELS}),
            "needs a 'sequence' column",
        ),
        (
            None,
            pd.DataFrame({"sequence": SEQS, "taxon": LABELS}),
            "needs a 'label' or 'species' column",
        ),
    ],
)
def test_bad_anchors_are_refused_with_a_telling_error(anchors, sequences, message):
    with pytest.raises(ValueError, match=message):
        read_anchors(anchors, sequences)


def test_sequences_without_species_name_the_rows_and_ids():
    frame = pd.DataFrame(
        {"sequence": SEQS, "species": [" ", *LABELS[1:]], "id": range(7)}
    )
    with pytest.raises(
        ValueError, match=r"column 'species': rows \[0\] \(ids \['0'\]\)"
    ):
        read_anchors(None, frame)


@pytest.mark.parametrize(
    "params",
    [
        {"anchors": [1.0, 2.0]},
        {"anchors": DICT, "sequences": SEQS},
        {"anchors": DICT, "species_mapping": [("a", "b")]},
        {"anchors": DICT, "standardize": "center"},
    ],
)
def test_parameters_of_the_wrong_type_are_refused(params):
    with pytest.raises(InvalidParameterError, match="parameter of read_anchors"):
        read_anchors(**params)


# -------------------------------------------------- pairing with the classes


def test_labels_are_respelled_as_the_classes_of_y():
    anchors = {"Orbulina universa": [1.0, 0.0], "Candeina_nitida": [0.0, 1.0]}
    out = read_anchors(anchors, classes=["orbulina_universa", "Beella digitata"])
    assert out.labels == ["orbulina_universa", "Candeina_nitida"]
    assert list(out.table.index) == out.labels
    mapped = read_anchors(
        anchors,
        classes=["orbulina_universa", "Beella digitata"],
        species_mapping={"Beella digitata": "candeina nitida"},
    )
    assert mapped.labels == ["orbulina_universa", "Beella digitata"]
    np.testing.assert_array_equal(mapped.matrix, out.matrix)
    with pytest.raises(ValueError, match="species_mapping pairs the class"):
        read_anchors(
            anchors,
            classes=["Beella digitata"],
            species_mapping={"Beella digitata": "Globigerina bulloides"},
        )


def test_sequences_are_relabelled_before_their_anchors_are_computed():
    spelled = np.array([s.upper() if i % 2 else s for i, s in enumerate(LABELS)])
    out = read_anchors(None, (SEQS, spelled), classes=["sp0", "sp1", "sp2"])
    assert out.labels == ["sp0", "sp1", "sp2"]
    assert out.genetic_anchors.classes_.tolist() == ["sp0", "sp1", "sp2"]
    np.testing.assert_array_equal(out.matrix, read_anchors(None, (SEQS, LABELS)).matrix)
    # a mapping joins two species' sequences into one anchor
    joined = read_anchors(
        None,
        (SEQS, LABELS),
        classes=["sp0", "x"],
        species_mapping={"x": ["sp1", "sp2"]},
    )
    assert joined.labels == ["sp0", "x"]
    assert joined.genetic_anchors.counts_.to_dict() == {"sp0": 3, "x": 4}


def test_image_less_labels_are_spelled_as_the_classes_of_y():
    # one spelling for every class of the model: "_" as the image folders
    # write it (a space), also for species known from DNA only
    anchors = {"Orbulina universa": [1.0, 0.0], "Candeina_nitida": [0.0, 1.0]}
    out = read_anchors(anchors, classes=["orbulina universa"])
    assert out.labels == ["orbulina universa", "Candeina nitida"]
    names = np.array(["Sp_zero", "sp_one", "Sp_two"])[[int(s[2:]) for s in LABELS]]
    fitted = read_anchors(None, (SEQS, names), classes=["Sp zero", "Sp one"])
    assert fitted.labels == ["Sp one", "Sp two", "Sp zero"]  # sorted by the estimator
    assert fitted.genetic_anchors.classes_.tolist() == ["Sp one", "Sp two", "Sp zero"]
    # classes written with "_": the DNA's spelling is theirs too
    kept = read_anchors(anchors, classes=["orbulina_universa"])
    assert kept.labels == ["orbulina_universa", "Candeina_nitida"]


# ------------------------------------------------------------- anchor_labels


def test_anchor_labels_lists_labels_without_fitting():
    assert anchor_labels(DICT) == ["a", "b", "c"]
    assert anchor_labels(pd.DataFrame(DICT).T) == ["a", "b", "c"]
    frame = pd.DataFrame({"sequence": SEQS, "species": LABELS[::-1]})
    assert anchor_labels(_FitForbidden(), frame) == ["sp2", "sp1", "sp0"]
    fitted = GeneticAnchors().fit(SEQS, LABELS)
    assert anchor_labels(fitted) == ["sp0", "sp1", "sp2"]
    with pytest.raises(ValueError, match="unfitted GeneticAnchors"):
        anchor_labels(GeneticAnchors())
    with pytest.raises(ValueError, match="have no species name"):
        anchor_labels(None, (SEQS, ["", *LABELS[1:]]))
