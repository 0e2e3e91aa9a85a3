"""load_image_folder on tiny real image folders written with PIL."""

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vgestimators.datasets import load_image_folder
from vgestimators.datasets._folders import parse_class_name


def _png(path, mode="RGB", size=(12, 10), value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode == "L" else (value, value // 2, 0)).save(path)


def _jpeg(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 16), (200, 180, 160)).save(path, format="JPEG")


@pytest.fixture
def forams(tmp_path):
    """Endless-Forams-like tree with the usual mess around the images."""
    root = tmp_path / "endless_forams"
    sac = root / "12 - Globigerinoides sacculifer"
    can = root / "2 - Candeina  nitida"
    orb = root / "Orbulina_universa"
    _png(sac / "img10.png")
    _png(sac / "img9.png")
    _jpeg(sac / "IMG_1.JPG")
    _png(sac / "cruise_B" / "a.png")  # nested subfolder
    (sac / "notes.txt").write_text("scale: 1 px = 1 um")
    (sac / ".DS_Store").write_bytes(b"\x00\x01")
    _png(can / "gray.png", mode="L")  # grayscale
    (can / "broken.jpg").write_bytes(b"this is not a JPEG at all")  # corrupt
    _jpeg(orb / "o1.jpeg")
    (root / "README.md").write_text("Endless Forams")
    return root


def test_lists_images_and_parses_class_names(forams):
    data = load_image_folder(forams)
    rel = [Path(f).relative_to(forams).as_posix() for f in data.filenames]
    assert rel == [
        "2 - Candeina  nitida/broken.jpg",
        "2 - Candeina  nitida/gray.png",
        "12 - Globigerinoides sacculifer/cruise_B/a.png",
        "12 - Globigerinoides sacculifer/img9.png",
        "12 - Globigerinoides sacculifer/img10.png",
        "12 - Globigerinoides sacculifer/IMG_1.JPG",  # case-blind: "img_" > "img"
        "Orbulina_universa/o1.jpeg",
    ]
    assert data.target.tolist() == ["Candeina nitida"] * 2 + [
        "Globigerinoides sacculifer"
    ] * 4 + ["Orbulina universa"]
    assert data.target_names.tolist() == [
        "Candeina nitida",
        "Globigerinoides sacculifer",
        "Orbulina universa",
    ]
    assert data.class_numbers.tolist() == [2, 12, None]
    assert data.classes.n_images.tolist() == [2, 4, 1]
    assert data.classes.number.isna().tolist() == [False, False, True]
    assert data.frame.class_number.iloc[2] == 12
    assert all(isinstance(f, str) and Path(f).is_file() for f in data.filenames)
    assert data.n_unreadable == 0 and "7 images in 3 classes" in data.DESCR
    reasons = dict(zip(data.skipped.path, data.skipped.reason, strict=True))
    assert reasons == {
        "README.md": "not an image extension",
        "12 - Globigerinoides sacculifer/.DS_Store": "hidden file",
        "12 - Globigerinoides sacculifer/notes.txt": "not an image extension",
    }
    # Nothing decoded, so nothing opened: the corrupt file is still listed.
    X, y = load_image_folder(forams, return_X_y=True)
    np.testing.assert_array_equal(X, data.filenames)
    np.testing.assert_array_equal(y, data.target)
    pickle.loads(pickle.dumps(data))


def test_order_is_deterministic_and_independent_of_creation(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    names = ["x10.png", "x2.png", "x1.png"]
    for root, order in ((a, names), (b, names[::-1])):
        for n in order:
            _png(root / "k" / n)
    fa = [Path(f).name for f in load_image_folder(a).filenames]
    fb = [Path(f).name for f in load_image_folder(b).filenames]
    assert fa == fb == ["x1.png", "x2.png", "x10.png"]


def test_recursive_false_skips_nested_folders(forams):
    data = load_image_folder(forams, recursive=False)
    assert not any("cruise_B" in f for f in data.filenames)
    assert "subfolder (recursive=False)" in data.skipped.reason.tolist()


def test_parse_names_false_keeps_folder_names(forams):
    data = load_image_folder(forams, parse_names=False)
    assert data.target_names.tolist()[0] == "2 - Candeina  nitida"
    assert data.class_numbers.tolist() == [None, None, None]


def test_extensions_option(forams):
    with pytest.warns(UserWarning, match="hold no images"):
        data = load_image_folder(forams, extensions=["PNG"])
    assert all(f.lower().endswith(".png") for f in data.filenames)
    assert data.target_names.tolist() == [
        "Candeina nitida",
        "Globigerinoides sacculifer",
    ]
    with pytest.warns(UserWarning, match="hold no images.*Orbulina_universa"):
        load_image_folder(forams, extensions="png")
    with pytest.raises(ValueError, match="extensions"):
        load_image_folder(forams, extensions=[""])


def test_verify_reports_corrupt_file_by_name(forams):
    with pytest.raises(
        ValueError, match=r"(?s)1 unreadable.*2 - Candeina  nitida/broken\.jpg"
    ):
        load_image_folder(forams, verify=True)
    with pytest.warns(UserWarning, match="Skipped 1 unreadable.*broken.jpg"):
        data = load_image_folder(forams, verify=True, on_error="skip")
    assert data.n_unreadable == 1
    assert not any(f.endswith("broken.jpg") for f in data.filenames)
    assert data.classes.loc["Candeina nitida", "n_images"] == 1  # grayscale kept
    assert data.skipped.reason.str.startswith("unreadable").sum() == 1
    # the summary counts the unreadable files only when it decoded them
    assert data.DESCR.endswith("4 entries skipped, 1 of them unreadable.")
    assert "unreadable" not in load_image_folder(forams).DESCR
    with pytest.raises(ValueError, match="on_error"):
        load_image_folder(forams, on_error="ignore")
    with pytest.raises(ValueError, match="verify"):
        load_image_folder(forams, verify="yes")


def test_missing_and_not_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found.*nowhere"):
        load_image_folder(tmp_path / "nowhere")
    file = tmp_path / "file.png"
    _png(file)
    with pytest.raises(NotADirectoryError, match="file, not a folder"):
        load_image_folder(file)


def test_empty_root_and_no_images(tmp_path):
    with pytest.raises(ValueError, match="No class folders.*found nothing"):
        load_image_folder(tmp_path)
    _png(tmp_path / "stray.png")
    with pytest.raises(ValueError, match="No class folders.*1 file"):
        load_image_folder(tmp_path)
    (tmp_path / "empty_class").mkdir()
    (tmp_path / "empty_class" / "labels.csv").write_text("a,b")
    with pytest.raises(ValueError, match="No images in the 1 class folder"):
        with pytest.warns(UserWarning, match="belong to no class"):
            load_image_folder(tmp_path)


def test_stray_images_in_root_are_warned(tmp_path):
    _png(tmp_path / "cls" / "a.png")
    _png(tmp_path / "stray.png")
    with pytest.warns(UserWarning, match="belong to no class.*stray.png"):
        data = load_image_folder(tmp_path)
    assert len(data.filenames) == 1
    assert "outside a class folder" in data.skipped.reason.tolist()


def test_clashing_class_names_and_numbers(tmp_path):
    _png(tmp_path / "12 - Orbulina universa" / "a.png")
    _png(tmp_path / "Orbulina_universa" / "b.png")
    with pytest.raises(ValueError, match="same class name"):
        load_image_folder(tmp_path)
    assert len(load_image_folder(tmp_path, parse_names=False).target_names) == 2
    other = tmp_path / "other"
    _png(other / "3 - Beella digitata" / "a.png")
    _png(other / "3_Candeina nitida" / "a.png")
    with pytest.raises(ValueError, match="same class number"):
        load_image_folder(other)


@pytest.mark.parametrize(
    "folder, expected",
    [
        ("12 - Globigerinoides sacculifer", ("Globigerinoides sacculifer", 12)),
        ("12_Globigerinoides_sacculifer", ("Globigerinoides sacculifer", 12)),
        ("003. Orbulina   universa ", ("Orbulina universa", 3)),
        ("7) Candeina nitida", ("Candeina nitida", 7)),
        ("Neogloboquadrina pachyderma", ("Neogloboquadrina pachyderma", None)),
        ("3D scans", ("3D scans", None)),
        ("21", ("21", 21)),
    ],
)
def test_parse_class_name(folder, expected):
    assert parse_class_name(folder) == expected


def test_summary_is_plural_correct(tmp_path):
    _png(tmp_path / "Orbulina universa" / "o1.png")
    (tmp_path / "Orbulina universa" / "notes.txt").write_text("x")
    data = load_image_folder(tmp_path)
    assert "1 image in 1 class" in data.DESCR
    assert data.DESCR.endswith("; 1 entry skipped.")
