"""CropBorders / crop_borders on synthetic microscope frames with known boxes."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import tv_tensors
from torchvision.transforms import v2

from vgestimators.vision import CropBorders, crop_borders

H, W = 200, 240


def _scene(h=H, w=W, suture=False, seed=0):
    """Shell on a dark field, black frame, burnt-in label and scale bar.

    Returns the RGB uint8 image and the shell's true box (top, left, height,
    width).
    """
    rng = np.random.default_rng(seed)
    img = np.full((h, w), 40.0)
    border = max(2, h * 15 // 200)
    img[:border] = img[-border:] = 0
    img[:, :border] = img[:, -border:] = 0
    rr, cc = np.mgrid[:h, :w]
    cy, cx, ry, rx = 0.475 * h, 0.46 * w, 0.225 * h, 0.25 * w
    shell = ((rr - cy) / ry) ** 2 + ((cc - cx) / rx) ** 2 <= 1
    img[shell] = 170 + rng.uniform(-30, 30, size=shell.sum())  # porous texture
    if suture:  # a dark suture splits the shell into two chambers
        img[:, int(cx) - 1 : int(cx) + 2][shell[:, int(cx) - 1 : int(cx) + 2]] = 40
    # Label text (small blocks) and a long scale bar in the bottom-right corner.
    for k in range(5):
        x0 = int(0.7 * w) + 6 * k
        img[h - border - 14 : h - border - 8, x0 : x0 + 4] = 255
    img[h - border - 5 : h - border - 2, int(0.6 * w) : w - border - 2] = 255
    img += rng.normal(0, 3, size=img.shape)  # sensor noise
    rgb = np.clip(np.stack([img, img * 0.9, img * 0.8], axis=-1), 0, 255)
    rows, cols = np.flatnonzero(shell.any(1)), np.flatnonzero(shell.any(0))
    box = (rows[0], cols[0], rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    return rgb.astype(np.uint8), tuple(int(v) for v in box)


def test_finds_the_shell_not_the_text():
    img, box = _scene()
    assert CropBorders(padding=0).get_box(img) == box
    out = crop_borders(img, padding=0)
    assert out.shape == (box[2], box[3], 3)
    assert np.shares_memory(out, img)  # numpy crops are views
    # The crop holds no pure-white label pixels and no black frame.
    assert out.max() < 250 and out[out.shape[0] // 2].min() > 0


@pytest.mark.parametrize(
    "convert",
    [
        lambda a: a[..., 0],  # (h, w) uint8
        lambda a: a.astype(np.float32) / 255,  # float array
        lambda a: Image.fromarray(a),  # PIL RGB
        lambda a: Image.fromarray(a).convert("L"),  # PIL grayscale
        lambda a: torch.from_numpy(a).permute(2, 0, 1).contiguous(),  # (c, h, w)
        lambda a: torch.from_numpy(a[..., :1]).permute(2, 0, 1).float() / 255,
        lambda a: tv_tensors.Image(torch.from_numpy(a).permute(2, 0, 1)),
    ],
    ids=["gray", "float", "pil", "pil-L", "tensor", "tensor-1ch", "tv_image"],
)
def test_every_input_type_gives_the_same_box(convert):
    img, box = _scene()
    x = convert(img)
    cropped, found = crop_borders(x, padding=0, return_box=True)
    assert found == box
    assert type(cropped) is type(x) or isinstance(cropped, type(x))
    if isinstance(cropped, Image.Image):
        assert cropped.size == (box[3], box[2])
    elif isinstance(cropped, torch.Tensor):
        assert tuple(cropped.shape[-2:]) == box[2:]
    else:
        assert cropped.shape[:2] == box[2:]


def test_padding_pixels_and_fraction():
    img, (t, lft, h, w) = _scene()
    assert CropBorders(padding=7).get_box(img) == (t - 7, lft - 7, h + 14, w + 14)
    pad = round(0.1 * max(h, w))
    assert CropBorders(padding=0.1).get_box(img) == (
        t - pad,
        lft - pad,
        h + 2 * pad,
        w + 2 * pad,
    )
    # A padding larger than the room left stops at the image edge.
    assert CropBorders(padding=500).get_box(img) == (0, 0, H, W)


def test_square_box_is_centred_and_kept_inside():
    img, (t, lft, h, w) = _scene()
    top, left, height, width = CropBorders(padding=0, square=True).get_box(img)
    assert height == width == max(h, w)
    assert left == lft and top == t - (w - h) // 2  # wider than tall: grows rows
    # Shell near the top edge: the square moves down instead of leaving the image.
    shifted = np.zeros_like(img)
    shifted[: H - 40] = img[40:]
    top, left, height, width = CropBorders(padding=0, square=True).get_box(shifted)
    assert top == 0 and height == width == max(h, w)
    assert top <= t - 40 and top + height >= t - 40 + h


def test_closing_keeps_a_split_shell_whole():
    img, box = _scene(suture=True)
    assert CropBorders(padding=0).get_box(img) == box
    half = CropBorders(padding=0, closing=0).get_box(img)
    assert half[3] < 0.6 * box[3]  # only one chamber without closing
    assert CropBorders(padding=0, closing=3).get_box(img) == box  # pixels


def test_relative_threshold():
    img, box = _scene()
    assert CropBorders(threshold=0.5, padding=0).get_box(img) == box
    # Above the shell's brightness only the burnt-in text is left.
    top, left, height, width = CropBorders(threshold=0.95, padding=0).get_box(img)
    assert top > box[0] + box[2] and height < 20


def test_shrunk_search_matches_full_resolution():
    img, box = _scene(h=1000, w=1200)
    exact = CropBorders(padding=0, max_size=None).get_box(img)
    assert exact == box
    fast = CropBorders(padding=0, max_size=256).get_box(img)  # factor 5
    # Widened by one block at most twice (rounding + safety): never cut.
    assert fast[0] <= box[0] and fast[0] + fast[2] >= box[0] + box[2]
    assert fast[1] <= box[1] and fast[1] + fast[3] >= box[1] + box[3]
    assert all(abs(a - b) <= 10 for a, b in zip(fast[:2], exact[:2], strict=True))
    assert all(0 <= a - b <= 20 for a, b in zip(fast[2:], exact[2:], strict=True))
    # 8-bit inputs are shrunk by Pillow, others by numpy: the same block means.
    slow = CropBorders(padding=0, max_size=256).get_box(img.astype(np.float32))
    assert all(abs(a - b) <= 5 for a, b in zip(slow, fast, strict=True))


def test_degenerate_images_come_back_unchanged():
    blank = np.zeros((50, 60, 3), dtype=np.uint8)
    assert crop_borders(blank) is blank
    white = np.full((50, 60), 255, dtype=np.uint8)
    assert crop_borders(white, return_box=True) == (white, None)
    speck = np.zeros((200, 200), dtype=np.uint8)
    speck[100, 100] = 255  # 1 pixel < min_area
    assert crop_borders(speck) is speck
    assert crop_borders(speck, min_area=0, padding=0).shape == (1, 1)
    rng = np.random.default_rng(0)
    bright = rng.integers(200, 256, size=(80, 90), dtype=np.uint8)
    assert crop_borders(bright, padding=0).shape == bright.shape  # one big object
    pil = Image.new("RGB", (30, 20))
    assert crop_borders(pil) is pil


def test_inside_v2_compose_with_boxes_and_masks():
    img, (t, lft, h, w) = _scene()
    pipeline = v2.Compose(
        [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), CropBorders(padding=0)]
    )
    bbox = tv_tensors.BoundingBoxes(
        [[lft, t, lft + w, t + h]], format="XYXY", canvas_size=(H, W)
    )
    mask = tv_tensors.Mask(torch.zeros(H, W, dtype=torch.uint8))
    out_img, out = pipeline(img, {"boxes": bbox, "mask": mask, "label": 3})
    assert isinstance(out_img, tv_tensors.Image) and out_img.shape == (3, h, w)
    assert out_img.dtype == torch.float32
    assert out["boxes"].tolist() == [[0, 0, w, h]]
    assert out["mask"].shape == (h, w) and out["label"] == 3
    # numpy arrays of the image's size are cropped alike; other arrays untouched.
    seg = np.arange(H * W).reshape(H, W)
    meta = np.array([1.0, 2.0])
    c_img, c_seg, c_meta = CropBorders(padding=0)(img, seg, meta)
    assert c_img.shape[:2] == c_seg.shape == (h, w) and c_seg[0, 0] == seg[t, lft]
    assert c_meta is meta


def test_transform_is_a_picklable_module():
    t = CropBorders(padding=3, square=True)
    assert isinstance(t, torch.nn.Module)
    clone = pickle.loads(pickle.dumps(t))
    img, _ = _scene()
    assert clone.get_box(img) == t.get_box(img)
    assert "square=True" in repr(t) and "padding=3" in repr(t)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"threshold": "mean"}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
        ({"padding": -1}, "padding"),
        ({"closing": "big"}, "closing"),
        ({"square": "yes"}, "square"),
        ({"min_area": 1}, "min_area"),
        ({"max_size": 4}, "max_size"),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CropBorders(**kwargs)
    with pytest.raises(ValueError, match=match):
        crop_borders(np.zeros((4, 4)), **kwargs)


def test_bad_images():
    with pytest.raises(ValueError, match="one image at a time"):
        crop_borders(torch.zeros(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"\(h, w\) or \(h, w, c\)"):
        crop_borders(np.zeros((3, 8, 8)))
    with pytest.raises(TypeError, match="PIL image"):
        crop_borders([[0, 1], [1, 0]])


def test_margin_is_the_deprecated_name_of_padding():
    img, _ = _scene()
    expected = CropBorders(padding=7).get_box(img)
    with pytest.warns(FutureWarning, match="`margin` was renamed `padding`"):
        old = CropBorders(margin=7)
    assert old.padding == 7 and old.get_box(img) == expected
    assert "padding=7" in repr(old) and "margin" not in repr(old)
    with pytest.warns(FutureWarning, match="`margin` was renamed `padding`"):
        _, box = crop_borders(img, margin=7, return_box=True)
    assert box == expected
    with pytest.warns(FutureWarning), pytest.raises(ValueError, match="padding"):
        crop_borders(img, margin=-1)


def test_transform_pickled_before_the_rename_loads():
    img, _ = _scene()
    state = dict(vars(CropBorders(padding=5)))
    state["margin"] = state.pop("padding")  # as such pickles hold it
    old = CropBorders.__new__(CropBorders)
    old.__setstate__(state)
    assert old.padding == 5 and old.get_box(img) == CropBorders(padding=5).get_box(img)
