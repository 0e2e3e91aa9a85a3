"""Image files checked before training, large images, and listing images.

Covers: transform's error about unreadable files (no ``on_bad_image`` hint),
the full decode of every file before ``fit`` trains, large images decoded at
reduced size without PIL's DecompressionBombWarning, warnings of the folder
loader attributed to the caller, and ``list_images``.
"""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_embedder import _embedder as base_embedder

from vgestimators.datasets import list_images, load_image_folder
from vgestimators.vision import ImageDataset, TripletImageEmbedder, _data

N_CLASSES, PER_CLASS, SIZE = 3, 6, 32


def _embedder(**params):
    return base_embedder(**{"embedding_dim": 8, **params})


def _write_images(folder, size=SIZE):
    """PNG files of 3 classes (a bright square at a class-specific spot)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths, labels = [], []
    for c in range(N_CLASSES):
        for i in range(PER_CLASS):
            img = rng.integers(0, 60, size=(size, size, 3), dtype=np.uint8)
            img[8 * c : 8 * c + 8, 8:16] = 220
            path = folder / f"c{c}_{i}.png"
            Image.fromarray(img).save(path)
            paths.append(str(path))
            labels.append(f"species_{c}")
    return np.array(paths, dtype=object), np.array(labels)


def _truncate(path, target):
    """Write the first half of ``path``'s bytes to ``target``."""
    data = Path(path).read_bytes()
    Path(target).write_bytes(data[: len(data) // 2])
    return str(target)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return _write_images(tmp_path_factory.mktemp("images"))


@pytest.fixture(scope="module")
def fitted(files):
    paths, labels = files
    return _embedder().fit(paths, labels)


@pytest.fixture
def training_spy(monkeypatch):
    """Records each call of the embedder's training step (``_fit_dataset``)."""
    calls = []
    original = TripletImageEmbedder._fit_dataset

    def spy(self, dataset, classes, counts, **kwargs):
        calls.append(len(dataset))
        return original(self, dataset, classes, counts, **kwargs)

    monkeypatch.setattr(TripletImageEmbedder, "_fit_dataset", spy)
    return calls


# -- transform's error names files and rows, without the on_bad_image hint ----


def test_transform_error_names_file_and_row_without_skip_hint(fitted, files, tmp_path):
    paths, _ = files
    X = [paths[0], str(tmp_path / "gone.png"), paths[1]]
    with pytest.raises(ValueError) as info:
        fitted.transform(X)
    message = str(info.value)
    assert "gone.png" in message and "row 1" in message
    assert "on_bad_image" not in message
    assert "remove those rows from X" in message


def test_fit_error_keeps_the_skip_hint(files, tmp_path):
    paths, labels = files
    paths = paths.copy()
    paths[2] = str(tmp_path / "gone.png")
    with pytest.raises(ValueError, match=r"row 2: .*gone\.png.*on_bad_image='skip'"):
        _embedder().fit(paths, labels)


def test_image_dataset_for_transform_refuses_skip(files):
    paths, _ = files
    with pytest.raises(ValueError, match="purpose='transform'.*on_bad_image"):
        ImageDataset(paths, purpose="transform", on_bad_image="skip")
    with pytest.raises(ValueError, match="purpose must be one of"):
        ImageDataset(paths, purpose="predict")


# -- every file decoded before training ---------------------------------------


def test_pipeline_fit_refuses_to_skip_rows_before_training(
    files, tmp_path, training_spy
):
    # a Pipeline's fit calls fit_transform, which owes one row per image: with
    # on_bad_image="skip" the embedder trained, then transform failed
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    paths, labels = files
    paths = paths.copy()
    paths[4] = _truncate(paths[4], tmp_path / "truncated.png")
    pipe = make_pipeline(_embedder(on_bad_image="skip"), FunctionTransformer())
    with pytest.raises(
        ValueError,
        match=r"row 4: .*truncated\.png.*remove them "
        r"from X and y first.*whatever on_bad_image says",
    ):
        pipe.fit(paths, labels)
    assert training_spy == []


def test_truncated_png_fails_fit_before_training(files, tmp_path, training_spy):
    paths, labels = files
    paths = paths.copy()
    paths[4] = _truncate(paths[4], tmp_path / "truncated.png")
    emb = _embedder()
    with pytest.raises(ValueError) as info:
        emb.fit(paths, labels)
    message = str(info.value)
    assert "row 4: " in message and "truncated.png" in message
    assert "cannot be decoded" in message and "on_bad_image='skip'" in message
    assert training_spy == []
    assert not hasattr(emb, "net_")


def test_truncated_png_is_skipped_with_skip(files, tmp_path, training_spy):
    paths, labels = files
    paths = paths.copy()
    paths[4] = _truncate(paths[4], tmp_path / "truncated.png")
    emb = _embedder(on_bad_image="skip")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb.fit(paths, labels)
    skips = [w for w in caught if "Skipping 1 of 18" in str(w.message)]
    assert len(skips) == 1
    assert skips[0].filename == __file__  # attributed to the caller's line
    assert training_spy == [len(paths) - 1]
    assert emb.n_skipped_images_ == 1
    ((row, path, reason),) = emb.skipped_images_
    assert row == 4 and path.endswith("truncated.png")
    assert "cannot be decoded" in reason


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_full_check_lists_every_bad_file_in_row_order(tmp_path, fmt):
    paths, labels = _write_images(tmp_path / "ok")
    paths = paths.copy()
    ext = fmt.lower()
    rng = np.random.default_rng(2)
    for row in (11, 2, 16):
        source = tmp_path / f"source{row}.{ext}"
        noise = rng.integers(0, 255, (SIZE * 4, SIZE * 4, 3), dtype=np.uint8)
        Image.fromarray(noise).save(source, format=fmt)
        paths[row] = _truncate(source, tmp_path / f"cut{row}.{ext}")
    encoded = np.unique(labels, return_inverse=True)[1]
    with pytest.raises(ValueError, match=r"3 of 18 image files cannot be read"):
        ImageDataset(paths, encoded, image_size=SIZE)
    with pytest.warns(UserWarning, match="Skipping 3 of 18"):
        ds = ImageDataset(paths, encoded, image_size=SIZE, on_bad_image="skip")
    assert [row for row, _, _ in ds.skipped_] == [2, 11, 16]
    assert [Path(p).name for _, p, _ in ds.skipped_] == [
        f"cut2.{ext}",
        f"cut11.{ext}",
        f"cut16.{ext}",
    ]
    assert len(ds) == 15 and 2 not in ds.rows_
    # transform-style datasets read only the headers: built without error,
    # the truncated file fails when decoded, naming it and its row
    cheap = ImageDataset(paths, image_size=SIZE, purpose="transform")
    with pytest.raises(ValueError, match=rf"cut2\.{ext}.*row 2"):
        cheap[2]


# -- large images ------------------------------------------------------------


def _big(path, size):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), np.uint8)).save(path)
    return str(path)


def test_reduce_keeps_both_sides_at_least_twice_the_target():
    image = Image.new("RGB", (1000, 700))
    reduced = _data._reduce_image(image, 64)
    # factor 700 // 128 = 5
    assert reduced.size == (200, 140)
    assert min(reduced.size) >= 2 * 64
    small = Image.new("RGB", (250, 250))
    assert _data._reduce_image(small, 64).size == (250, 250)  # factor 1
    palette = Image.new("P", (600, 600))
    assert _data._reduce_image(palette, 32).mode == "RGB"  # not averaged indices
    deep = Image.new("I;16", (600, 600), 65535)
    reduced = _data._reduce_image(deep, 32)  # factor 600 // 64 = 9
    assert reduced.size == (67, 67) and reduced.mode == "I;16"
    assert reduced.getpixel((10, 10)) == 65535


def test_large_file_is_reduced_before_it_becomes_an_array(tmp_path, monkeypatch):
    path = _big(tmp_path / "big.png", (1000, 640))
    handed = []
    original = _data._image_to_tensor

    def spy(image):
        handed.append(image.size)
        return original(image)

    monkeypatch.setattr(_data, "_image_to_tensor", spy)
    image, _ = ImageDataset([path], image_size=32)[0]
    assert tuple(image.shape) == (3, 32, 32)
    assert handed == [(1000 // 10, 640 // 10)]  # factor 640 // 64 = 10


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path, monkeypatch):
    path = tmp_path / "big.jpg"
    Image.new("RGB", (1024, 768), (10, 200, 30)).save(path, quality=90)
    handed = []
    original = _data._image_to_tensor

    def spy(image):
        handed.append(image.size)
        return original(image)

    monkeypatch.setattr(_data, "_image_to_tensor", spy)
    image, _ = ImageDataset([str(path)], image_size=32)[0]
    assert tuple(image.shape) == (3, 32, 32)
    # JPEG draft at 1/8 scale (128 x 96), then reduce(1): nothing larger
    assert handed == [(128, 96)]
    assert abs(int(image[1].float().mean()) - 200) <= 2


def test_images_over_pil_limit_warn_once_and_train(files, tmp_path, monkeypatch):
    paths, labels = files
    big = [_big(tmp_path / f"big{i}.png", (160, 150)) for i in range(2)]
    # 24,000 pixels: over the limit, under twice the limit
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)
    X = np.concatenate([paths, big])
    y = np.concatenate([labels, labels[:2]])
    emb = _embedder()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb.fit(X, y)
        Z = emb.transform(X)
    assert Z.shape == (len(X), 8)
    bombs = [
        w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)
    ]
    assert bombs == []
    large = [w for w in caught if "larger than PIL's limit" in str(w.message)]
    assert len(large) == 2  # once for fit, once for transform
    assert "2 of 20 image files" in str(large[0].message)
    assert "MAX_IMAGE_PIXELS" in str(large[0].message)
    assert large[0].filename == __file__
    assert emb.n_skipped_images_ == 0


@pytest.mark.parametrize("params", [{}, {"purpose": "transform"}])
def test_images_over_twice_the_limit_are_named(files, tmp_path, monkeypatch, params):
    paths, _ = files
    X = [paths[0], _big(tmp_path / "huge.png", (200, 210))]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 20_000)  # 42,000 > 2 x 20,000
    with pytest.raises(ValueError) as info:
        ImageDataset(X, image_size=SIZE, **params)
    message = str(info.value)
    assert "row 1: " in message and "huge.png" in message
    assert "PIL.Image.MAX_IMAGE_PIXELS" in message and "too large" in message


# -- load_image_folder's warnings point at the caller ---------------------------


def _png(path, size=(8, 8)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (120, 60, 0)).save(path)


@pytest.mark.parametrize("case", ["empty class", "stray image", "unreadable"])
def test_folder_warnings_point_at_the_caller(tmp_path, case):
    _png(tmp_path / "a" / "x.png")
    _png(tmp_path / "b" / "y.png")
    if case == "empty class":
        (tmp_path / "c").mkdir()
    elif case == "stray image":
        _png(tmp_path / "stray.png")
    else:
        (tmp_path / "b" / "z.png").write_text("not a PNG")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_image_folder(tmp_path, verify=True, on_error="skip")
    assert len(caught) == 1
    assert caught[0].category is UserWarning
    assert caught[0].filename == __file__


# -- list_images ----------------------------------------------------------------


@pytest.fixture
def shots(tmp_path):
    root = tmp_path / "shots"
    for name in ["img10.png", "img9.png", "IMG2.jpg", "img1.png"]:
        _png(root / name)
    _png(root / ".hidden.png")
    (root / "notes.txt").write_text("x")
    (root / "Thumbs.db").write_bytes(b"\x00")
    _png(root / "day2" / "a.png")
    _png(root / ".cache" / "b.png")
    _png(root / "__MACOSX" / "c.png")
    return root


def _names(paths, root):
    return [Path(p).relative_to(root).as_posix() for p in paths]


def test_list_images_of_a_folder_in_natural_order(shots):
    paths = list_images(shots)
    assert isinstance(paths, np.ndarray) and paths.ndim == 1
    assert paths.dtype.kind == "U"
    assert _names(paths, shots) == ["img1.png", "IMG2.jpg", "img9.png", "img10.png"]
    deep = list_images(str(shots), recursive=True)
    assert _names(deep, shots) == [
        "day2/a.png",
        "img1.png",
        "IMG2.jpg",
        "img9.png",
        "img10.png",
    ]
    assert all(os.path.isfile(p) for p in deep)


def test_list_images_of_globs(shots):
    assert _names(list_images(str(shots / "*.png")), shots) == [
        "img1.png",
        "img9.png",
        "img10.png",
    ]
    assert _names(list_images(str(shots / "**" / "*.png")), shots) == [
        "day2/a.png",
        "img1.png",
        "img9.png",
        "img10.png",
    ]
    # a glob matching non-images too keeps the images only
    assert len(list_images(str(shots / "*"))) == 4
    # hidden folders are skipped where a wildcard matched them only
    assert _names(list_images(str(shots / "__MACOSX" / "*")), shots) == [
        "__MACOSX/c.png"
    ]
    with pytest.raises(ValueError, match=r"matches 1 file\(s\) but no image"):
        list_images(str(shots / "*" / "c.png"))
    # an existing name is taken literally, even with glob characters in it
    _png(shots.parent / "[2024] shots" / "x.png")
    assert _names(list_images(shots.parent / "[2024] shots"), shots.parent) == [
        "[2024] shots/x.png"
    ]
    with pytest.raises(FileNotFoundError, match=r"No file matches .*\*\.gif"):
        list_images(str(shots / "*.gif"))
    with pytest.raises(ValueError, match=r"notes\*.*no image"):
        list_images(str(shots / "notes*"))


def test_list_images_of_a_list_keeps_first_seen_order_once(shots):
    single = shots / "img9.png"
    paths = list_images([single, str(shots / "img1*"), shots, str(single)])
    assert _names(paths, shots) == ["img9.png", "img1.png", "img10.png", "IMG2.jpg"]
    assert paths[0] == str(single)
    # a named hidden file is listed: it was asked for
    assert _names(list_images(shots / ".hidden.png"), shots) == [".hidden.png"]


def test_list_images_errors_name_the_path(shots, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nowhere"):
        list_images(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"gone\.png"):
        list_images([shots / "img1.png", shots / "gone.png"])
    with pytest.raises(ValueError, match=r"notes\.txt.*not an image extension"):
        list_images([shots / "notes.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"No images? in .*empty"):
        list_images(tmp_path / "empty")
    _png(tmp_path / "nested" / "deep" / "a.png")
    with pytest.raises(ValueError, match=r"nested.*recursive=True"):
        list_images(tmp_path / "nested")
    with pytest.raises(ValueError, match="no path"):
        list_images([])
    with pytest.raises(TypeError, match=r"item 1 .*int"):
        list_images([str(shots), 3])


def test_list_images_extensions_and_verify(shots):
    assert _names(list_images(shots, extensions=".JPG"), shots) == ["IMG2.jpg"]
    (shots / "broken.png").write_text("not a PNG")
    assert len(list_images(shots)) == 5  # not decoded by default
    with pytest.raises(ValueError, match=r"(?s)1 unreadable .*broken\.png"):
        list_images(shots, verify=True)
    with pytest.warns(UserWarning, match=r"Skipped 1 unreadable.*broken\.png"):
        paths = list_images(shots, verify=True, on_error="skip")
    assert len(paths) == 4


def test_list_images_feeds_transform(fitted, files, tmp_path):
    paths, _ = files
    Z = fitted.transform(list_images(Path(paths[0]).parent / "c1_*.png"))
    assert Z.shape == (PER_CLASS, 8)


def test_header_check_leaves_decoding_to_training(files, tmp_path, training_spy):
    # image_check="header": for files checked before (vgestimators train does)
    paths, labels = files
    paths = paths.copy()
    paths[4] = _truncate(paths[4], tmp_path / "truncated.png")
    with pytest.raises(ValueError, match=r"truncated\.png.*row 4"):
        _embedder(image_check="header").fit(paths, labels)
    assert training_spy == [len(paths)]  # training started, then the file failed
