"""PretrainedImageEmbedder: each backend offline, on small random models.

Every backend's model is saved with the backend's own way of saving (a
torchvision state dict, timm's ``save_for_hf`` folder and a
``.safetensors`` file, open_clip's checkpoint state dict), loaded back by
path, and its features compared with what the backend itself computes with
its own preprocessing: the preprocessing is read from the backend, not
guessed.
"""

import importlib
import json
import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.base import clone

from vgestimators.vision import PretrainedImageEmbedder, TripletImageEmbedder


def _images(n=5, size=48, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size + 8, 3), dtype=np.uint8)


def _cosine(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(1)


@pytest.fixture(scope="module")
def saved_triplet(tmp_path_factory):
    """A small trained TripletImageEmbedder, its images and its saved file."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    y = np.repeat(["a", "b", "c", "d"], 4)
    trained = TripletImageEmbedder(
        backbone="resnet18",
        image_size=32,
        embedding_dim=8,
        max_epochs=1,
        batch_size=8,
        verbose=0,
        random_state=0,
    ).fit(X, y)
    path = trained.save_backbone(tmp_path_factory.mktemp("triplet") / "triplet.pt")
    return X, y, trained, path


@pytest.fixture(scope="module")
def torchvision_file(tmp_path_factory):
    from torchvision.models import get_model

    torch.manual_seed(0)
    model = get_model("mobilenet_v3_small", weights=None).eval()
    path = tmp_path_factory.mktemp("tv") / "mobilenet.pth"
    torch.save(model.state_dict(), path)
    return model, path


def test_torchvision_file_gives_the_backends_features(torchvision_file):
    from torchvision.models import MobileNet_V3_Small_Weights

    model, path = torchvision_file
    X = _images()
    emb = PretrainedImageEmbedder("mobilenet_v3_small", weights=path).fit()
    Z = emb.transform(X)
    # what torchvision computes: its weights' own transforms, the network
    # without its last linear layer
    transform = MobileNet_V3_Small_Weights.DEFAULT.transforms()
    model.classifier[3] = torch.nn.Identity()
    with torch.inference_mode():
        batch = torch.stack(
            [transform(torch.from_numpy(x).permute(2, 0, 1)) for x in X]
        )
        expected = model(batch).numpy()
    assert Z.shape == (5, expected.shape[1]) and Z.dtype == np.float32
    assert _cosine(Z, expected).min() > 0.9999
    assert emb.preprocessing_.size == 224 and emb.preprocessing_.resize == 256
    assert "torchvision's" in emb.preprocessing_.source


def test_timm_folder_and_safetensors_file(tmp_path):
    timm = pytest.importorskip("timm")
    torch.manual_seed(0)
    model = timm.create_model("test_vit", pretrained=False).eval()
    timm.models.save_for_hf(model, tmp_path / "folder", safe_serialization=True)
    from safetensors.torch import save_file

    save_file(model.state_dict(), tmp_path / "w.safetensors")
    X = _images(4, size=64)
    config = timm.data.resolve_data_config({}, model=model)
    transform = timm.data.create_transform(**config)
    with torch.inference_mode():
        batch = torch.stack([transform(Image.fromarray(x)) for x in X])
        expected = model.forward_head(model.forward_features(batch), pre_logits=True)
    for weights in (tmp_path / "folder", tmp_path / "w.safetensors"):
        emb = PretrainedImageEmbedder("test_vit", backend="timm", weights=weights)
        Z = emb.fit().transform(X)
        assert Z.shape == (4, model.num_features)
        assert emb.preprocessing_.size == config["input_size"][-1]
        assert emb.preprocessing_.mean == tuple(config["mean"])
        # PIL's bicubic resize against torch's: near, not bit-equal
        assert _cosine(Z, expected.numpy()).min() > 0.99


def test_open_clip_checkpoint(tmp_path):
    open_clip = pytest.importorskip("open_clip")
    config = {
        "embed_dim": 16,
        "vision_cfg": {
            "image_size": 32,
            "layers": 2,
            "width": 32,
            "patch_size": 8,
            "head_width": 16,
        },
        "text_cfg": {
            "context_length": 8,
            "vocab_size": 49408,
            "width": 32,
            "heads": 2,
            "layers": 1,
        },
    }
    (tmp_path / "vg-tiny-vit.json").write_text(json.dumps(config))
    open_clip.add_model_config(tmp_path)
    torch.manual_seed(0)
    model = open_clip.create_model("vg-tiny-vit").eval()
    torch.save({"state_dict": model.state_dict()}, tmp_path / "tiny.pt")
    X = _images(4, size=40)
    preprocess = open_clip.image_transform(
        model.visual.image_size,
        is_train=False,
        mean=model.visual.image_mean,
        std=model.visual.image_std,
    )
    with torch.inference_mode():
        batch = torch.stack([preprocess(Image.fromarray(x)) for x in X])
        expected = model.encode_image(batch).numpy()
    emb = PretrainedImageEmbedder(
        "vg-tiny-vit", backend="open_clip", weights=tmp_path / "tiny.pt"
    ).fit()
    Z = emb.transform(X)
    assert Z.shape == (4, 16)
    assert emb.preprocessing_.mean == pytest.approx(open_clip.OPENAI_DATASET_MEAN)
    assert _cosine(Z, expected).min() > 0.99


def test_a_saved_triplet_embedder_is_used_frozen_exactly(tmp_path, saved_triplet):
    X, y, trained, path = saved_triplet
    frozen = PretrainedImageEmbedder("resnet18", weights=path).fit()
    assert frozen.preprocessing_.size == 32  # recorded in the file
    np.testing.assert_allclose(frozen.transform(X), trained.transform(X), atol=1e-5)
    # the same file starts a fine-tuning
    again = TripletImageEmbedder(
        backbone="resnet18",
        weights=path,
        image_size=32,
        embedding_dim=8,
        max_epochs=0,
        verbose=0,
    ).fit(X, y)
    np.testing.assert_allclose(again.transform(X), trained.transform(X), atol=1e-5)


def test_truncated_or_wrong_weights_are_named_before_any_image(
    tmp_path, torchvision_file
):
    _, path = torchvision_file
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(path.read_bytes()[:5000])
    missing_images = [str(tmp_path / "no-such-image.png")]
    with pytest.raises(ValueError, match="truncated.pth"):
        PretrainedImageEmbedder("mobilenet_v3_small", weights=truncated).fit(
            missing_images
        )
    with pytest.raises(ValueError, match=r"mobilenet\.pth.*resnet18"):
        PretrainedImageEmbedder("resnet18", weights=path).fit(missing_images)
    with pytest.raises(FileNotFoundError, match="nothere.pth"):
        PretrainedImageEmbedder("resnet18", weights=tmp_path / "nothere.pth").fit()
    with pytest.raises(ValueError, match="not a torchvision model"):
        PretrainedImageEmbedder("resnet5O", weights=None).fit()


def test_a_missing_backend_names_the_extra(monkeypatch):
    real = importlib.import_module

    def fail(name, *args):
        if name == "open_clip":
            raise ImportError("No module named 'open_clip'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", fail)
    with pytest.raises(ImportError, match=r"vgestimators\[open-clip\]"):
        PretrainedImageEmbedder("ViT-B-16", backend="open_clip").fit()


def test_layer_pooling_size_pickle_clone_and_feature_names(tmp_path):
    X = _images(3)
    emb = PretrainedImageEmbedder(
        "resnet18", weights=None, layer="layer3", pooling="max", image_size=32
    ).fit()
    Z = emb.transform(X)
    assert Z.shape == (3, 256) and np.allclose(np.linalg.norm(Z, axis=1), 1)
    assert emb.preprocessing_.size == 32
    assert emb.get_feature_names_out()[0] == "pretrainedimageembedder0"
    again = pickle.loads(pickle.dumps(emb))
    np.testing.assert_array_equal(again.transform(X), Z)
    assert clone(emb).get_params() == emb.get_params()
    with pytest.raises(ValueError, match="layer='layer9'"):
        PretrainedImageEmbedder("resnet18", weights=None, layer="layer9").fit()


def test_image_files_stream_with_their_rows_checked(tmp_path):
    from vgestimators.vision import embed_to_file

    paths = []
    for i, image in enumerate(_images(5)):
        path = tmp_path / f"{i}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    emb = PretrainedImageEmbedder("resnet18", weights=None, image_size=32).fit()
    Z = emb.transform(paths)
    np.testing.assert_allclose(Z, emb.transform(_images(5)), atol=1e-5)
    out = embed_to_file(emb, paths, tmp_path / "Z.npy", chunk_size=2, progress=False)
    np.testing.assert_allclose(np.asarray(out), Z, atol=1e-6)
    (tmp_path / "3.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"3\.png.*row 3|row 3.*3\.png"):
        emb.transform(paths)


def test_export_model_includes_or_refers_to_the_weights(tmp_path, torchvision_file):
    from vgestimators.io import export_model, import_model, load_model, save_model

    _, path = torchvision_file
    X = _images(3)
    emb = PretrainedImageEmbedder(
        "mobilenet_v3_small", weights=path, image_size=64, device="cpu"
    ).fit()
    Z = emb.transform(X)
    for mode in ("include", "reference"):
        out = export_model(emb, tmp_path / f"{mode}.zip", pretrained_weights=mode)
        again = import_model(out, device="cpu")
        # a path comes back as its text
        assert again.get_params() == {**emb.get_params(), "weights": str(path)}
        assert again.preprocessing_ == emb.preprocessing_
        np.testing.assert_allclose(again.transform(X), Z, atol=1e-6)
    # the weights travel with "include" only
    sizes = {
        m: (tmp_path / f"{m}.zip").stat().st_size for m in ("include", "reference")
    }
    assert sizes["include"] > 1_000_000 > sizes["reference"]
    save_model(emb, tmp_path / "model.joblib")
    again = load_model(tmp_path / "model.joblib", device="cpu")
    np.testing.assert_allclose(again.transform(X), Z, atol=1e-6)


def test_export_model_of_a_frozen_triplet_embedder_file(tmp_path, saved_triplet):
    from vgestimators.io import export_model, import_model

    X, y, trained, saved = saved_triplet
    path = tmp_path / "copy.pt"
    path.write_bytes(saved.read_bytes())
    frozen = PretrainedImageEmbedder("resnet18", weights=path).fit()
    out = export_model(frozen, tmp_path / "frozen.zip")
    path.unlink()  # the file is not needed any more
    again = import_model(out, device="cpu")
    np.testing.assert_allclose(again.transform(X), trained.transform(X), atol=1e-5)


class _CountingEmbedder(PretrainedImageEmbedder):
    """Counts the images it embeds; ``frozen=False`` hides trains_nothing."""

    def __init__(self, model="resnet18", *, weights=None, image_size=32, frozen=True):
        super().__init__(model, weights=weights, image_size=image_size)
        self.frozen = frozen

    def trains_nothing(self):
        return self.frozen

    def transform(self, X):
        type(self).embedded += len(X)
        return super().transform(X)


def test_species_pipeline_embeds_frozen_features_once(tmp_path):
    from torchvision.models import resnet18

    from vgestimators.datasets import make_forams
    from vgestimators.pipeline import make_species_pipeline

    data = make_forams(
        n_species=8, n_images=160, image_size=32, n_permutations=0, random_state=0
    )
    torch.manual_seed(0)
    torch.save(resnet18().state_dict(), tmp_path / "r18.pth")
    results = {}
    for frozen in (True, False):
        _CountingEmbedder.embedded = 0
        pipe = make_species_pipeline(
            data.sequences,
            embedder=_CountingEmbedder(weights=tmp_path / "r18.pth", frozen=frozen),
            aligner={"random_state": 0},
        )
        pipe.fit(data.images, data.target)
        results[frozen] = (_CountingEmbedder.embedded, pipe.predict_proba(data.images))
    # once, against the cross-fit's 60% + 40% and the fit's 100%
    assert results[True][0] == len(data.images)
    assert results[False][0] == 2 * len(data.images)
    np.testing.assert_allclose(results[True][1], results[False][1], atol=1e-6)


def test_export_with_a_layer_and_reference_rules(tmp_path, saved_triplet):
    from vgestimators.io import export_model, import_model

    X, y, trained, path = saved_triplet
    frozen = PretrainedImageEmbedder("resnet18", weights=path, layer="backbone.layer3")
    Z = frozen.fit().transform(X)
    assert Z.shape == (16, 256)
    again = import_model(export_model(frozen, tmp_path / "layer.zip"), device="cpu")
    np.testing.assert_allclose(again.transform(X), Z, atol=1e-5)
    assert again.get_params() == {**frozen.get_params(), "weights": str(path)}
    random = PretrainedImageEmbedder("resnet18", weights=None, image_size=32).fit()
    with pytest.raises(TypeError, match="random weights"):
        export_model(random, tmp_path / "r.zip", pretrained_weights="reference")
    assert frozen.weights_ == str(path) and random.weights_ is None


def test_a_timm_folder_of_another_architecture_and_untraceable_layers(tmp_path):
    timm = pytest.importorskip("timm")
    model = timm.create_model("test_vit", pretrained=False)
    timm.models.save_for_hf(model, tmp_path / "vit", safe_serialization=True)
    with pytest.raises(ValueError, match="holds a 'test_vit'.*model='test_vit'"):
        PretrainedImageEmbedder(
            "resnet50", backend="timm", weights=tmp_path / "vit"
        ).fit()
    with pytest.raises(ValueError, match="layer="):
        PretrainedImageEmbedder(
            "test_vit", backend="timm", weights=None, layer="blocks.0"
        ).fit()


def test_the_fast_path_keeps_pipeline_semantics(tmp_path):
    from sklearn.neighbors import NearestCentroid

    from vgestimators.pipeline import SpeciesPipeline

    X = _images(6, size=32)
    y = np.array(["a", "a", "b", "b", "c", "c"])
    emb = PretrainedImageEmbedder("resnet18", weights=None, image_size=32)
    # a passthrough final step returns the embeddings, as Pipeline does
    Z = SpeciesPipeline([("e", emb), ("last", "passthrough")]).fit_transform(X, y)
    assert Z.shape == (6, 512)
    # fit_predict needs the final step's own, as in Pipeline
    pipe = SpeciesPipeline([("e", clone(emb)), ("ncm", NearestCentroid())])
    with pytest.raises(AttributeError, match="fit_predict"):
        pipe.fit_predict(X, y)
    assert pipe.fit(X, y).predict(X).shape == (6,)
    with pytest.raises(ValueError, match="nope"):
        pipe.fit(X, y, nope=1)
