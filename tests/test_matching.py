"""match_species on hand-made names and on the real PFR2 species list."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.utils._param_validation import InvalidParameterError

from vgestimators.datasets import load_image_folder, match_species
from vgestimators.taxonomy import PAIRING_RULES, match_labels

SPECIES = [
    "Orbulina universa",
    "Trilobatus sacculifer",
    "Globigerinoides ruber-albus",
    "Globigerinoides ruber-ruber",
    "Neogloboquadrina  dutertrei",  # spacing as in the real table
    "Globorotalia menardii",
]


def test_case_spacing_and_underscores():
    images = ["orbulina_UNIVERSA", "Globorotalia   menardii"]
    assert match_species(images, SPECIES) == {
        "orbulina_UNIVERSA": "Orbulina universa",
        "Globorotalia   menardii": "Globorotalia menardii",
    }


def test_epithet_only_either_side():
    assert match_species(["universa", "dutertrei"], SPECIES) == {
        "universa": "Orbulina universa",
        "dutertrei": "Neogloboquadrina  dutertrei",
    }
    # Species given by epithet only, image classes with genus.
    assert match_species(["Orbulina universa"], ["universa", "menardii"]) == {
        "Orbulina universa": "universa"
    }
    with pytest.raises(ValueError, match="'universa': no species has this name"):
        match_species(["universa"], SPECIES, by_epithet=False)


def test_genus_revision_matches_with_a_warning():
    with pytest.warns(
        UserWarning,
        match="across genera.*'Globigerinoides sacculifer' -> 'Trilobatus sacculifer'",
    ):
        result, report = match_species(
            ["Globigerinoides sacculifer"], SPECIES, return_report=True
        )
    assert result == {"Globigerinoides sacculifer": "Trilobatus sacculifer"}
    assert (
        report.loc[0, "how"] == "epithet" and report.loc[0, "note"] == "genus differs"
    )


def test_ambiguous_epithet_is_reported():
    species = ["Globorotalia tumida", "Globigerina tumida", "Orbulina universa"]
    with pytest.raises(ValueError, match="'tumida': ambiguous.*Globorotalia tumida"):
        match_species(["tumida", "Orbulina universa"], species)
    with pytest.warns(UserWarning, match="ambiguous"):
        result, report = match_species(
            ["tumida", "Orbulina universa"],
            species,
            on_unmatched="warn",
            return_report=True,
        )
    assert result == {"Orbulina universa": "Orbulina universa"}
    assert report.set_index("image_class").loc["tumida", "how"] == "ambiguous"


def test_unmatched_classes_are_named():
    images = ["Orbulina universa", "Globigerinoides ruber", "Hastigerina pelagica"]
    with pytest.raises(ValueError, match="2 image class") as err:
        match_species(images, SPECIES)
    assert "'Globigerinoides ruber'" in str(err.value)
    assert "'Hastigerina pelagica'" in str(err.value)
    assert "Orbulina" not in str(err.value).split("\n", 1)[1].split("Pair them")[0]
    with pytest.warns(UserWarning, match="Hastigerina pelagica"):
        result = match_species(images, SPECIES, on_unmatched="warn")
    assert result == {"Orbulina universa": "Orbulina universa"}
    result, report = match_species(
        images, SPECIES, on_unmatched="ignore", return_report=True
    )
    assert report.how.tolist() == ["exact", "unmatched", "unmatched"]


def test_mapping_lists_and_none():
    mapping = {
        "globigerinoides ruber": [
            "Globigerinoides ruber-albus",
            "Globigerinoides ruber-ruber",
        ],
        "Hastigerina pelagica": None,  # no sequences: left out on purpose
    }
    images = ["Orbulina universa", "Globigerinoides ruber", "Hastigerina pelagica"]
    result, report = match_species(images, SPECIES, mapping=mapping, return_report=True)
    assert result == {
        "Orbulina universa": "Orbulina universa",
        "Globigerinoides ruber": (
            "Globigerinoides ruber-albus",
            "Globigerinoides ruber-ruber",
        ),
    }
    assert report.how.tolist() == ["exact", "mapping", "mapping", "excluded"]
    # The report relabels sequences with their image class.
    relabel = dict(
        zip(
            report.species.dropna(),
            report.image_class[report.species.notna()],
            strict=True,
        )
    )
    assert relabel["Globigerinoides ruber-ruber"] == "Globigerinoides ruber"
    # The mapping overrides a name match.
    assert match_species(
        ["Orbulina universa"],
        SPECIES,
        mapping={"Orbulina universa": "Globorotalia menardii"},
    ) == {"Orbulina universa": "Globorotalia menardii"}


def test_mapping_typos_are_errors():
    with pytest.raises(ValueError, match="twice"):
        match_species(
            ["Orbulina universa"],
            SPECIES,
            mapping={"Orbulina universa": None, "orbulina_universa": None},
        )
    with pytest.raises(ValueError, match="not in image_classes.*'Orbulina universe'"):
        match_species(
            ["Orbulina universa"],
            SPECIES,
            mapping={"Orbulina universe": "Orbulina universa"},
        )
    with pytest.raises(
        ValueError, match="with \\['Orbulina universe'\\], which no species"
    ):
        match_species(
            ["Orbulina universa"],
            SPECIES,
            mapping={"Orbulina universa": "Orbulina universe"},
        )


def test_input_validation():
    with pytest.raises(InvalidParameterError, match="image_classes"):
        match_species("Orbulina universa", SPECIES)
    with pytest.raises(InvalidParameterError, match="mapping"):
        match_species(["x"], SPECIES, mapping=[("x", "y")])
    with pytest.raises(TypeError, match="non-empty strings"):
        match_species(["Orbulina universa", 3], SPECIES)
    with pytest.raises(ValueError, match="empty"):
        match_species([], SPECIES)
    with pytest.raises(ValueError, match="on_unmatched"):
        match_species(["x"], SPECIES, on_unmatched="drop")
    with pytest.raises(ValueError, match="must be aligned"):
        match_species(["x"], SPECIES, species_numbers=[1, 2])
    with pytest.raises(ValueError, match="two class numbers"):
        match_species(["x"], ["A b", "a  B"], species_numbers=[1, 2])
    with pytest.raises(ValueError, match=r"image_numbers\[0\] = 'x'"):
        match_species(["x"], SPECIES, image_numbers=["x"])


@pytest.fixture(scope="module")
def pfr2(pfr2_path):
    table = pd.read_csv(pfr2_path)
    # Raw columns: one genus is spelled "Neogloboquadrina " (trailing space).
    names = (table["Genus"] + " " + table["species"]).tolist()
    assert "Neogloboquadrina  dutertrei" in names
    return table, names


def _endless_forams_folders(table):
    """Folder names in the Endless Forams style, one per PFR2 class number.

    Class 11 holds both G. ruber-albus and ruber-ruber in PFR2 and is named
    "Globigerinoides ruber" here; class 12 keeps the old genus of
    T. sacculifer.
    """
    first = table.drop_duplicates("EndlessForams_Class").sort_values(
        "EndlessForams_Class"
    )
    folders = {}
    for _, row in first.iterrows():
        number = int(row["EndlessForams_Class"])
        name = f"{row['Genus'].strip()} {row['species'].strip()}"
        folders[number] = {
            11: "Globigerinoides ruber",
            12: "Globigerinoides sacculifer",
        }.get(number, name)
    return folders


def test_real_pfr2_by_class_number(pfr2, tmp_path):
    table, names = pfr2
    folders = _endless_forams_folders(table)
    assert len(folders) == 32
    root = tmp_path / "forams"
    for number, name in folders.items():
        (root / f"{number} - {name}").mkdir(parents=True)
        Image.new("RGB", (4, 4)).save(root / f"{number} - {name}" / "a.png")
    data = load_image_folder(root)
    result, report = match_species(
        data.target_names,
        names,
        image_numbers=data.class_numbers,
        species_numbers=table["EndlessForams_Class"],
        return_report=True,
    )
    assert len(result) == 32 and set(report.how) == {"number"}
    assert result["Neogloboquadrina dutertrei"] == "Neogloboquadrina dutertrei"
    assert (
        report.species.str.contains("Neogloboquadrina  dutertrei", regex=False).sum()
        == 1
    )
    assert result["Globigerinoides ruber"] == (
        "Globigerinoides ruber-albus",
        "Globigerinoides ruber-ruber",
    )
    assert result["Globigerinoides sacculifer"] == "Trilobatus sacculifer"
    # Every sequence, whatever its spelling, gets exactly one image class.
    relabel = dict(zip(report.species, report.image_class, strict=True))
    labels = pd.Series(names).map(relabel)
    assert labels.notna().all()
    counts = labels.value_counts()
    assert counts["Globigerinoides ruber"] == (table["EndlessForams_Class"] == 11).sum()
    assert counts["Pulleniatina obliquiloculata"] == 249


def test_real_pfr2_by_name(pfr2):
    table, names = pfr2
    folders = _endless_forams_folders(table)
    images = list(folders.values())
    # The untidy genus "Neogloboquadrina " of the raw table still matches.
    assert "Neogloboquadrina dutertrei" in images
    with pytest.warns(UserWarning, match="Trilobatus sacculifer"):
        with pytest.raises(
            ValueError, match="(?s)1 image class.*'Globigerinoides ruber'"
        ):
            match_species(images, names)
    mapping = {
        "Globigerinoides ruber": [
            "Globigerinoides ruber-albus",
            "Globigerinoides ruber-ruber",
        ]
    }
    with pytest.warns(UserWarning, match="across genera"):
        result, report = match_species(
            images, names, mapping=mapping, return_report=True
        )
    assert len(result) == 32
    # 30 classes by identical names (dutertrei in both spellings), ruber by
    # the mapping.
    assert report.how.value_counts().to_dict() == {
        "exact": 31,
        "mapping": 2,
        "epithet": 1,
    }
    # Raw folder names work too: the prefixes become class numbers.
    raw = [f"{n} - {name}" for n, name in folders.items()]
    by_prefix = match_species(
        raw, names, species_numbers=table["EndlessForams_Class"].to_numpy()
    )
    assert by_prefix["11 - Globigerinoides ruber"] == result["Globigerinoides ruber"]
    assert np.all([v == result[k.split(" - ", 1)[1]] for k, v in by_prefix.items()])


def test_epithet_rule_skips_species_claimed_by_name_and_double_claims_fail():
    # "Globigerina rara" must not take the DNA of the "Dentatocellina rara"
    # folder through their shared epithet
    species = ["Dentatocellina_rara", "Orbulina universa"]
    with pytest.raises(ValueError, match=r"'Globigerina rara': no species"):
        match_species(["Dentatocellina rara", "Globigerina rara"], species)
    matches = match_species(
        ["Dentatocellina rara", "Globigerina rara"], species, on_unmatched="ignore"
    )
    assert matches == {"Dentatocellina rara": "Dentatocellina_rara"}
    # two classes mapped to one species: both named, neither paired
    matches, report = match_species(
        ["a", "b"],
        species,
        mapping={"a": "Orbulina universa", "b": "orbulina_universa"},
        on_unmatched="ignore",
        return_report=True,
    )
    assert matches == {}
    assert set(report.loc[report.how == "ambiguous", "image_class"]) == {"a", "b"}


def test_one_matcher_two_faces_one_vocabulary():
    # match_labels (anchors against the classes of y) is match_species
    # without epithets and numbers: the same pairs, said with the same words
    classes = ["Orbulina universa", "Globigerina_bulloides", "Candeina nitida"]
    labels = ["Orbulina universa", "globigerina bulloides", "nitida", "Hastigerina x"]
    relabelled, how = match_labels(labels, classes)
    matches, report = match_species(
        classes, labels, by_epithet=False, on_unmatched="ignore", return_report=True
    )
    assert how == {"Orbulina universa": "exact", "Globigerina_bulloides": "name"}
    assert dict(zip(report.image_class, report.how, strict=True)) == {
        **how,
        "Candeina nitida": "unmatched",
    }
    assert relabelled == [
        "Orbulina universa",
        "Globigerina_bulloides",
        "nitida",
        "Hastigerina x",
    ]
    assert set(report.how) <= set(PAIRING_RULES) | {"unmatched"}


def test_match_labels_mapping_in_a_fold_and_spellings_kept_apart():
    # a mapping key that is no class of this y (a cross-validation fold)
    # is ignored; classes "A" and "a" keep their own labels
    relabelled, how = match_labels(
        ["A", "a", "x y", "X_Y"],
        ["A", "a", "Q"],
        mapping={"Q": "x_y", "not here": "A"},
    )
    assert relabelled == ["A", "a", "Q", "Q"]
    assert how == {"Q": "mapping", "A": "exact", "a": "exact"}
    # labels of other types are paired by equality only
    assert match_labels([1, 2, 5], [1, 2, 3]) == ([1, 2, 5], {1: "exact", 2: "exact"})
    with pytest.raises(ValueError, match="string class labels"):
        match_labels([1, 2], [1, 2], mapping={1: 2})
