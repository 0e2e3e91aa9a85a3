"""Taxonomies, probabilities at a rank, the deepest sure rank, hierarchical metrics."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from vgestimators.alignment import (
    AnchorProjectionClassifier,
    GeneticPrototypeClassifier,
    VisualGeneticAligner,
)
from vgestimators.metrics import (
    make_rank_accuracy_scorer,
    mistake_severity,
    rank_accuracy_score,
)
from vgestimators.pipeline import SpeciesPipeline
from vgestimators.taxonomy import (
    Taxonomy,
    deepest_rank,
    predict_ranks,
    proba_at_rank,
    rank_proba,
    resolve_taxonomy,
)

SPECIES = ["Alpha x", "Alpha y", "Alpha z", "Beta u", "Beta v", "Gamma w"]


def _table():
    return pd.DataFrame(
        {
            "species": SPECIES,
            "Genus": ["Alpha"] * 3 + ["Beta"] * 2 + ["Gamma"],
            "family": ["Fa", "Fa", "Fa", "Fa", "Fa", "Fb"],
        }
    )


# ----------------------------------------------------------------- taxonomies
def test_genus_from_binomial_names_and_underscores():
    tax = Taxonomy.from_names(["Alpha_x", "alpha y", "Beta  u"])
    assert tax.ranks == ("species", "genus")
    assert tax.taxon_of(["Alpha_x", "Beta u"], "genus").tolist() == ["Alpha", "Beta"]
    # one genus whatever the case, spelled as in the first name (as taxa of
    # a table are): 'alpha y' is an Alpha, so genus probabilities add up
    assert tax.taxa("genus").tolist() == ["Alpha", "Beta"]
    assert tax.taxon_of(["alpha y"], "genus").tolist() == ["Alpha"]


def test_single_word_names_have_no_genus():
    with pytest.raises(ValueError, match=r"\['sp1'\] have no genus.*--taxonomy"):
        Taxonomy.from_names(["Alpha x", "sp1"])


def test_table_in_any_case_and_order_and_from_csv(tmp_path):
    table = _table()[["family", "species", "Genus"]]
    tax = Taxonomy.from_table(table)
    assert tax.ranks == ("species", "genus", "family")
    path = tmp_path / "tax.csv"
    table.to_csv(path, index=False)
    from_file = Taxonomy.from_table(path)
    pd.testing.assert_frame_equal(from_file.table, tax.table)
    assert from_file.taxon_of(["gamma_w"], "family").tolist() == ["Fb"]


def test_table_errors_name_the_row_and_species(tmp_path):
    missing = _table()
    missing.loc[4, "Genus"] = ""
    with pytest.raises(ValueError, match=r"empty 'genus'.*line\(s\) \[6\].*'Beta v'"):
        Taxonomy.from_table(missing)
    path = tmp_path / "tax.csv"
    missing.to_csv(path, index=False)
    with pytest.raises(ValueError, match="taxonomy file .*tax.csv.*empty 'genus'"):
        Taxonomy.from_table(path)

    twice = pd.concat([_table(), _table().iloc[[0]].assign(Genus="Beta")])
    with pytest.raises(ValueError, match="'Alpha x' is listed with different taxa"):
        Taxonomy.from_table(twice)

    misspelt = _table().rename(columns={"family": "famly"})
    with pytest.raises(ValueError, match=r"\['famly'\] are not rank names"):
        Taxonomy.from_table(misspelt)

    two_families = _table()
    two_families.loc[0, "family"] = "Fb"
    with pytest.raises(ValueError, match="genus 'Alpha' is placed in several family"):
        Taxonomy.from_table(two_families)

    with pytest.raises(ValueError, match="no 'species' column"):
        Taxonomy.from_table(_table().drop(columns="species"))
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        Taxonomy.from_table(tmp_path / "nope.csv")


def test_resolve_names_species_missing_from_the_table():
    tax = resolve_taxonomy(_table(), ["Gamma w", "alpha_x"])
    assert tax.species.tolist() == ["Gamma w", "alpha_x"]  # the model's spelling
    with pytest.raises(ValueError, match=r"\['Delta q'\] are not in the taxonomy"):
        resolve_taxonomy(_table(), ["Alpha x", "Delta q"])
    with pytest.raises(ValueError, match="rank 'order' is not in the taxonomy"):
        Taxonomy.from_table(_table()).taxa("order")


def test_distance_counts_ranks_to_the_common_taxon():
    tax = Taxonomy.from_table(_table())
    d = tax.distance(
        ["Alpha x", "Alpha x", "Alpha x", "Alpha x"],
        ["Alpha x", "Alpha y", "Beta u", "Gamma w"],
    )
    assert d.tolist() == [0, 1, 2, 3]


# ------------------------------------------------------------ ranks of probas
def test_proba_at_rank_sums_within_taxa():
    tax = Taxonomy.from_table(_table())
    proba = np.array([[0.1, 0.2, 0.3, 0.15, 0.15, 0.1]])
    P, taxa = proba_at_rank(proba, SPECIES, tax, "genus")
    assert taxa.tolist() == ["Alpha", "Beta", "Gamma"]
    np.testing.assert_allclose(P, [[0.6, 0.3, 0.1]])
    P, taxa = proba_at_rank(proba, SPECIES, tax, "family")
    np.testing.assert_allclose(P, [[0.9, 0.1]])


def test_deepest_rank_known_answers():
    tax = Taxonomy.from_table(_table())
    proba = np.array(
        [
            [0.92, 0.02, 0.02, 0.02, 0.01, 0.01],  # species
            [0.40, 0.30, 0.25, 0.03, 0.01, 0.01],  # genus Alpha (0.95)
            [0.30, 0.20, 0.10, 0.20, 0.15, 0.05],  # family Fa (0.95)
            [0.20, 0.10, 0.10, 0.10, 0.10, 0.40],  # nothing at 0.9
            [0.93, 0.02, 0.02, 0.01, 0.01, 0.01],  # sure, but flagged unknown
        ]
    )
    unknown = [False, False, False, False, True]
    t = deepest_rank(proba, SPECIES, tax, threshold=0.9, unknown=unknown)
    assert t["rank"].tolist() == ["species", "genus", "family", "none", "genus"]
    assert t["taxon"].tolist() == ["Alpha x", "Alpha", "Fa", "", "Alpha"]
    np.testing.assert_allclose(t["probability"][:3], [0.92, 0.95, 0.95])
    assert np.isnan(t["probability"][3])
    assert t["genus"].tolist() == ["Alpha", "Alpha", "Alpha", "Alpha", "Alpha"]
    # a lower threshold goes deeper
    t = deepest_rank(proba, SPECIES, tax, threshold=0.35)
    assert t["rank"].tolist() == ["species", "species", "genus", "species", "species"]
    with pytest.raises(ValueError, match="threshold must be in"):
        deepest_rank(proba, SPECIES, tax, threshold=0)


# ----------------------------------------------- every classifier with proba
def _clustered(seed=0, n=12):
    """Embeddings (compared by cosine too) where a genus' species lie together."""
    rng = np.random.RandomState(seed)
    genus_centre = {g: 4 * rng.normal(size=8) for g in ("Alpha", "Beta", "Gamma")}
    centres = {s: genus_centre[s.split()[0]] + rng.normal(size=8) for s in SPECIES}
    X = np.vstack([centres[s] + 0.3 * rng.normal(size=(n, 8)) for s in SPECIES])
    y = np.repeat(SPECIES, n)
    anchors = {s: c[:4] + 0.1 * rng.normal(size=4) for s, c in centres.items()}
    return X, y, anchors


@pytest.mark.parametrize(
    "make",
    [
        lambda a: KNeighborsClassifier(n_neighbors=5),
        lambda a: GeneticPrototypeClassifier(anchors=a, dna_test=None),
        lambda a: VisualGeneticAligner(anchors=a, dna_test=None),
        lambda a: AnchorProjectionClassifier(anchors=a, max_epochs=20, random_state=0),
    ],
    ids=["knn", "prototype", "aligner", "projection"],
)
def test_rank_proba_and_predict_ranks_on_every_classifier(make):
    X, y, anchors = _clustered()
    clf = make(anchors).fit(X, y)
    P = rank_proba(clf, X, "genus")
    assert P.columns.tolist() == ["Alpha", "Beta", "Gamma"]
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-6)
    t = predict_ranks(clf, X, threshold=0.5)
    assert {"species", "genus", "genus_probability", "rank", "unknown"} <= set(t)
    truth = np.array([s.split()[0] for s in y])
    assert (t["genus"].to_numpy() == truth).mean() > 0.9
    assert (
        P.to_numpy().argmax(1)
        == pd.Series(truth).map({"Alpha": 0, "Beta": 1, "Gamma": 2}).to_numpy()
    ).mean() > 0.9


def test_open_set_images_of_a_new_species_are_named_at_the_genus():
    X, y, anchors = _clustered()
    known = y != "Alpha y"  # a species the model never sees, nor its DNA
    del anchors["Alpha y"]
    clf = VisualGeneticAligner(anchors=anchors, dna_test=None).fit(X[known], y[known])
    # a threshold under which the new species' images fall, and few others
    scores = clf.score_samples(X)
    clf.set_params(novelty_threshold=np.quantile(scores[known], 0.05))
    t = predict_ranks(clf, X[~known], threshold=0.8)
    assert t["unknown"].mean() > 0.5
    flagged = t[t["unknown"]]
    assert (flagged["rank"] != "species").all()
    assert (flagged.loc[flagged["rank"] == "genus", "taxon"] == "Alpha").all()
    assert (flagged["rank"] == "genus").mean() > 0.5


def test_open_set_rule_set_at_fit_by_a_rate_is_the_one_ranks_follow():
    # novelty_rate chooses the threshold at fit, inside the aligner's rule:
    # predict_ranks must flag exactly what predict flags
    X, y, anchors = _clustered(n=30)
    rng = np.random.RandomState(1)
    val = rng.rand(len(y)) < 0.4
    clf = VisualGeneticAligner(anchors=anchors, dna_test=None, novelty_rate=0.3)
    clf.fit(X[~val], y[~val], X_val=X[val], y_val=y[val])
    flagged = clf.predict(X) == "unknown"
    assert 0 < flagged.mean() < 1
    t = predict_ranks(clf, X, threshold=0.5)
    np.testing.assert_array_equal(t["unknown"].to_numpy(), flagged)
    assert (t.loc[flagged, "rank"] != "species").all()


# -------------------------------------------------------------------- metrics
def test_rank_accuracy_and_mistake_severity():
    tax = Taxonomy.from_table(_table())
    y_true = ["Alpha x", "Alpha x", "Beta u", "Gamma w", "Beta v"]
    y_pred = ["Alpha x", "Alpha y", "Gamma w", "Alpha z", "unknown"]
    assert rank_accuracy_score(y_true, y_pred, rank="species") == 0.2
    assert rank_accuracy_score(y_true, y_pred, taxonomy=tax) == 0.4
    assert rank_accuracy_score(y_true, y_pred, rank="family", taxonomy=tax) == 0.4
    # balanced: genus Alpha 2/2, Beta 0/2, Gamma 0/1
    assert rank_accuracy_score(
        y_true, y_pred, taxonomy=tax, balanced=True
    ) == pytest.approx(1 / 3)
    # mistakes: Alpha y (1), Gamma w for Beta u (3), Alpha z for Gamma w (3)
    assert mistake_severity(y_true, y_pred, taxonomy=tax) == pytest.approx(7 / 3)
    assert np.isnan(mistake_severity(["Alpha x"], ["Alpha x"]))
    # one species, two spellings: no mistake
    assert np.isnan(mistake_severity(["Alpha x"], ["Alpha_x"]))
    with pytest.raises(ValueError, match="y_true holds unknown_label='unknown'"):
        rank_accuracy_score(["unknown", "Alpha x"], ["Alpha x", "Alpha x"])
    with pytest.raises(ValueError, match="rank 'famly' is not in the taxonomy"):
        rank_accuracy_score(y_true, y_pred, rank="famly", taxonomy=tax)


def test_rank_accuracy_scorer_in_cross_validation():
    X, y, _ = _clustered()
    scores = cross_val_score(
        KNeighborsClassifier(n_neighbors=3),
        X,
        y,
        cv=3,
        scoring=make_rank_accuracy_scorer("genus"),
    )
    species = cross_val_score(KNeighborsClassifier(n_neighbors=3), X, y, cv=3)
    assert (scores >= species).all() and scores.mean() > 0.9


# -------------------------------------------------------------------- pipeline
class _Recorder(TransformerMixin, BaseEstimator):
    """Counts its fits: a stand-in for a network that would train."""

    fits = 0

    def fit(self, X, y=None):
        type(self).fits += 1
        self.n_fits_ = type(self).fits
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float)


def test_species_pipeline_checks_the_table_before_any_step_fits():
    X, y, anchors = _clustered()
    table = _table()[_table()["species"] != "Beta v"]
    pipe = SpeciesPipeline(
        [("embed", _Recorder()), ("clf", GeneticPrototypeClassifier(anchors=anchors))],
        taxonomy=table,
    )
    _Recorder.fits = 0
    with pytest.raises(ValueError, match=r"species of y \['Beta v'\] are not in"):
        pipe.fit(X, y)
    assert _Recorder.fits == 0
    # a species known from DNA only must have its taxa too, before any fit
    known = y != "Beta v"
    with pytest.raises(ValueError, match=r"the DNA \(species without images\)"):
        pipe.fit(X[known], y[known])
    assert _Recorder.fits == 0
    pipe.set_params(taxonomy=_table(), clf__dna_test=None).fit(X, y)
    assert pipe.taxonomy_.ranks == ("species", "genus", "family")
    P = pipe.rank_proba(X, "family")
    assert P.columns.tolist() == ["Fa", "Fb"]
    t = pipe.predict_ranks(X[:3])
    assert t["family"].tolist() == ["Fa"] * 3
