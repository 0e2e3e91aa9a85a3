"""TripletImageEmbedder: inputs, errors, scikit-learn contract, persistence."""

import pickle
import re
import urllib.error

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from vgestimators.vision import ImageDataset, TripletImageEmbedder, build_backbone

N_CLASSES, PER_CLASS, SIZE = 6, 6, 32


def _images(seed=0, n_classes=N_CLASSES, per_class=PER_CLASS, size=SIZE):
    """Class-dependent blobs on noise: class c puts a bright disc at spot c."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    images, labels = [], []
    for c in range(n_classes):
        angle = 2 * np.pi * c / n_classes
        cy, cx = (
            size / 2 + size / 4 * np.sin(angle),
            size / 2 + size / 4 * np.cos(angle),
        )
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2 < (size / 7) ** 2) * 200
        for _ in range(per_class):
            noise = rng.integers(0, 50, size=(size, size, 3))
            img = np.clip(noise + disc[..., None] * rng.uniform(0.7, 1.0, 3), 0, 255)
            images.append(img.astype(np.uint8))
            labels.append(f"species_{c}")
    return np.stack(images), np.array(labels)


def _embedder(**params):
    defaults = dict(
        backbone="resnet18",
        image_size=SIZE,
        embedding_dim=16,
        max_epochs=1,
        batch_size=12,
        m_per_class=3,
        verbose=0,
        random_state=0,
    )
    defaults.update(params)
    return TripletImageEmbedder(**defaults)


@pytest.fixture(scope="module")
def data():
    return _images()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return _embedder().fit(X, y)


@pytest.fixture(scope="module")
def image_files(tmp_path_factory, data):
    """The images as files: PNG (RGB, grayscale, RGBA, other sizes) and JPEG."""
    X, y = data
    root = tmp_path_factory.mktemp("images")
    paths = []
    for i, img in enumerate(X):
        path = root / f"img_{i:03d}.png"
        Image.fromarray(img).save(path)
        paths.append(str(path))
    gray = root / "gray.png"
    Image.fromarray(X[0, :, :, 0]).save(gray)
    rgba = root / "rgba.png"
    Image.fromarray(np.dstack([X[1], np.full(X.shape[1:3], 255, np.uint8)])).save(rgba)
    large = root / "large.png"
    Image.fromarray(X[2]).resize((97, 61)).save(large)
    jpeg = root / "img.jpg"
    Image.fromarray(X[3]).save(jpeg, quality=95)
    return {
        "paths": np.array(paths, dtype=object),
        "gray": str(gray),
        "rgba": str(rgba),
        "large": str(large),
        "jpeg": str(jpeg),
        "root": root,
    }


# -- output -------------------------------------------------------------------


def test_transform_is_float32_unit_norm(fitted, data):
    X, _ = data
    Z = fitted.transform(X)
    assert Z.shape == (len(X), 16)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0, atol=1e-5)
    assert fitted.get_feature_names_out().tolist()[:2] == [
        "tripletimageembedder0",
        "tripletimageembedder1",
    ]
    assert fitted.classes_.tolist() == [f"species_{c}" for c in range(N_CLASSES)]
    assert fitted.class_counts_.tolist() == [PER_CLASS] * N_CLASSES
    assert len(fitted.history_) == 1
    assert np.isfinite(fitted.history_[-1]["train_loss"])


def test_transform_is_batched_and_order_preserving(fitted, data):
    X, _ = data
    whole = fitted.transform(X)
    parts = np.vstack([fitted.transform(X[i : i + 5]) for i in range(0, len(X), 5)])
    np.testing.assert_allclose(whole, parts, atol=1e-5)
    reversed_ = fitted.transform(X[::-1])
    np.testing.assert_allclose(reversed_[::-1], whole, atol=1e-5)


# -- input kinds ------------------------------------------------------------------


def test_paths_in_every_container_match_arrays(fitted, data, image_files):
    X, _ = data
    paths = image_files["paths"]
    expected = fitted.transform(X)
    for container in (
        paths,
        list(paths),
        paths.reshape(-1, 1),
        pd.Series(paths),
        pd.DataFrame({"file": paths}),
    ):
        np.testing.assert_allclose(fitted.transform(container), expected, atol=1e-5)


def test_grayscale_rgba_jpeg_and_odd_sizes(fitted, data, image_files):
    X, _ = data
    Z = fitted.transform(
        [
            image_files["gray"],
            image_files["rgba"],
            image_files["large"],
            image_files["jpeg"],
        ]
    )
    gray3 = np.repeat(X[:1, :, :, :1], 3, axis=3)
    np.testing.assert_allclose(Z[0], fitted.transform(gray3)[0], atol=1e-5)
    np.testing.assert_allclose(Z[1], fitted.transform(X[1:2])[0], atol=1e-5)
    # resized and JPEG-compressed images stay close to their originals
    for row, original in ((2, 2), (3, 3)):
        cos = float(Z[row] @ fitted.transform(X[original : original + 1])[0])
        assert cos > 0.9


def test_uint8_layouts_float_and_dataset_agree(fitted, data):
    X, _ = data
    gray = X[..., 0]
    g = fitted.transform(gray)
    np.testing.assert_allclose(fitted.transform(gray[..., None]), g, atol=1e-5)
    np.testing.assert_allclose(
        fitted.transform(np.repeat(gray[..., None], 3, axis=3)), g, atol=1e-5
    )
    as_float = X.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    np.testing.assert_allclose(
        fitted.transform(as_float), fitted.transform(X), atol=1e-4
    )
    np.testing.assert_allclose(
        fitted.transform(torch.from_numpy(as_float)), fitted.transform(X), atol=1e-4
    )

    class Tensors(torch.utils.data.Dataset):
        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            return torch.from_numpy(X[i]).permute(2, 0, 1), 0

    np.testing.assert_allclose(
        fitted.transform(Tensors()), fitted.transform(X), atol=1e-4
    )


def test_other_sizes_are_resized(fitted):
    rng = np.random.default_rng(1)
    tiny = rng.integers(0, 256, size=(3, 8, 8), dtype=np.uint8)
    big = rng.integers(0, 256, size=(2, 300, 200, 3), dtype=np.uint8)
    assert fitted.transform(tiny).shape == (3, 16)
    assert fitted.transform(big).shape == (2, 16)


def test_fit_on_paths_and_on_dataset_with_targets(data, image_files):
    X, y = data
    from_paths = _embedder().fit(image_files["paths"], y)
    from_arrays = _embedder().fit(X, y)
    np.testing.assert_allclose(
        from_paths.transform(X), from_arrays.transform(X), atol=1e-4
    )

    class Folder(torch.utils.data.Dataset):
        targets = list(y)

        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            return Image.fromarray(X[i]), self.targets[i]

    emb = _embedder(max_epochs=0).fit(Folder())
    assert emb.classes_.tolist() == sorted(set(y))


def test_image_dataset_items():
    ds = ImageDataset(np.zeros((2, 5, 7), np.uint8), [3, 4], image_size=9)
    image, label = ds[1]
    assert image.shape == (3, 9, 9) and image.dtype == torch.uint8 and int(label) == 4
    floats = ImageDataset(np.ones((1, 1, 4, 4), np.float32), image_size=4)
    image, label = floats[0]
    assert (
        image.dtype == torch.float32 and image.shape == (3, 4, 4) and int(label) == -1
    )


# -- bad input --------------------------------------------------------------------


def test_missing_and_corrupt_files_are_named(fitted, data, image_files):
    X, y = data
    paths = image_files["paths"].copy()
    corrupt = image_files["root"] / "corrupt.png"
    corrupt.write_text("not an image")
    paths[4] = str(image_files["root"] / "missing.png")
    paths[7] = str(corrupt)
    with pytest.raises(ValueError, match=r"missing\.png.*no such file"):
        _embedder().fit(paths, y)
    with pytest.raises(ValueError, match=r"corrupt\.png"):
        fitted.transform(paths)
    skipper = _embedder(on_bad_image="skip", max_epochs=1)
    with pytest.warns(UserWarning, match=r"Skipping 2 of 36"):
        skipper.fit(paths, y)
    assert skipper.n_skipped_images_ == 2
    assert [row for row, _, _ in skipper.skipped_images_] == [4, 7]
    # transform must return one row per input: it raises even with "skip"
    with pytest.raises(ValueError, match=r"missing\.png"):
        skipper.transform(paths)


def test_truncated_file_raises_with_its_name(fitted, image_files):
    source = open(image_files["paths"][0], "rb").read()
    truncated = image_files["root"] / "truncated.png"
    truncated.write_bytes(source[: len(source) // 2])
    with pytest.raises(Exception, match=r"truncated\.png"):
        fitted.transform([str(truncated)])


@pytest.mark.parametrize(
    "X_y, match",
    [
        (lambda X, y: (X, y[:-1]), "same length"),
        (lambda X, y: (X, np.full(len(y), "one")), "single class"),
        (lambda X, y: (X, np.where(np.arange(len(y)) == 3, None, y)), "rows \\[3\\]"),
        (lambda X, y: (X.reshape(len(X), -1), y), "Unsupported|reshape"),
        (lambda X, y: (X.transpose(0, 3, 1, 2).astype(np.float32), y), r"\[0, 1\]"),
        (lambda X, y: (pd.DataFrame({"a": [1] * len(y), "b": 1}), y), "one column"),
        (lambda X, y: (X.astype(np.int64), y), "uint8"),
    ],
)
def test_bad_training_data_fails_before_training(data, X_y, match):
    X, y = X_y(*data)
    emb = _embedder()
    with pytest.raises(ValueError, match=match):
        emb.fit(X, y)
    assert not hasattr(emb, "net_")


def test_dataset_without_labels_needs_y(data):
    X, _ = data

    class Plain(torch.utils.data.Dataset):
        def __len__(self):
            return len(X)

        def __getitem__(self, i):
            return torch.from_numpy(X[i]).permute(2, 0, 1)

    with pytest.raises(ValueError, match="needs labels y"):
        _embedder().fit(Plain())


def test_invalid_parameters(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match="loss"):
        _embedder(loss="hinge").fit(X, y)
    with pytest.raises(ValueError, match="Unknown parameter 'iterator_trian__x'"):
        _embedder(iterator_trian__x=1).fit(X, y)
    with pytest.raises(ValueError, match="unexpected argument.*max_epoch"):
        _embedder(max_epoch=3).fit(X, y)
    with pytest.raises(ValueError, match="at least 2 \\* m_per_class"):
        _embedder(batch_size=4, m_per_class=3).fit(X, y)


def test_not_fitted(data):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        _embedder().transform(data[0])


# -- scikit-learn contract -----------------------------------------------------------


def test_clone_get_set_params_with_skorch_settings():
    emb = _embedder(iterator_train__num_workers=0, module__dropout=0.1)
    params = emb.get_params()
    assert params["iterator_train__num_workers"] == 0
    assert params["module__dropout"] == 0.1
    assert params["device"] == "auto"
    copy = clone(emb)
    assert copy.get_params()["module__dropout"] == 0.1
    copy.set_params(
        iterator_valid__batch_size=7, triplet_margin=0.3, module__dropout=0.0
    )
    assert copy.iterator_valid__batch_size == 7 and copy.triplet_margin == 0.3
    assert copy.module__dropout == 0.0 and emb.module__dropout == 0.1
    with pytest.raises(ValueError, match="Invalid parameter"):
        copy.set_params(not_a_param=1)


def test_fit_leaves_parameters_untouched(data):
    from skorch.callbacks import EarlyStopping

    X, y = data
    stopper = EarlyStopping(monitor="train_loss", patience=50)
    emb = _embedder(callbacks=[stopper])
    before = dict(emb.get_params(deep=False))
    emb.fit(X, y)
    after = emb.get_params(deep=False)
    assert after.keys() == before.keys()
    for key, value in before.items():
        assert after[key] is value, key
    # skorch initialises a copy of the callback, never the user's object
    used = dict(emb.net_.callbacks_)["EarlyStopping"]
    assert isinstance(used, EarlyStopping) and used is not stopper


def test_module_params_reach_the_network(data):
    X, y = data
    emb = _embedder(module__head_hidden_dim=32, max_epochs=0).fit(X, y)
    widths = [
        m.out_features for m in emb.net_.module_.head if hasattr(m, "out_features")
    ]
    assert widths == [32, 16]


def test_margin_is_the_deprecated_name_of_triplet_margin(recwarn):
    classes = ["a", "b"]
    new = _embedder(loss="triplet", miner="semihard", triplet_margin=0.3)
    new.initialize(classes)
    assert not [w for w in recwarn if issubclass(w.category, FutureWarning)]
    old = _embedder(loss="triplet", miner="semihard", margin=0.3)
    assert old.get_params()["margin"] == 0.3
    with pytest.warns(FutureWarning, match="`margin` was renamed `triplet_margin`"):
        old.initialize(classes)
    for emb in (new, old):
        assert emb.net_.criterion_.metric_loss.margin == 0.3
        assert emb.net_.criterion_.miner.margin == 0.3
    # the old name keeps its old constraint; "deprecated" is its default
    assert TripletImageEmbedder().get_params()["margin"] == "deprecated"
    with pytest.raises(InvalidParameterError, match="'margin'"):
        _embedder(margin=-1.0).initialize(classes)


def test_embedder_pickled_before_the_rename_loads():
    state = _embedder(triplet_margin=0.3).__getstate__()
    state["margin"] = state.pop("triplet_margin")  # as such pickles hold it
    old = TripletImageEmbedder.__new__(TripletImageEmbedder)
    old.__setstate__(state)
    params = clone(old).get_params()
    assert params["triplet_margin"] == 0.3 and params["margin"] == "deprecated"


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_pickle_and_joblib_round_trip(fitted, data, tmp_path, dump):
    X, _ = data
    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(fitted))
    else:
        joblib.dump(fitted, tmp_path / "emb.joblib")
        restored = joblib.load(tmp_path / "emb.joblib")
    np.testing.assert_allclose(restored.transform(X), fitted.transform(X), atol=1e-6)
    assert restored.get_params()["device"] == "auto"


def test_model_saved_on_cuda_loads_on_cpu(fitted, data):
    """The map_location path: a pickle whose net says 'cuda' loads on CPU."""
    from skorch.exceptions import DeviceWarning

    X, _ = data
    expected = fitted.transform(X)
    pretend = pickle.loads(pickle.dumps(fitted))
    pretend.net_.device = "cuda"
    blob = pickle.dumps(pretend)
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the real cross-device case runs in test_gpu_*")
    with pytest.warns(DeviceWarning):
        restored = pickle.loads(blob)
    assert str(restored.net_.device) == "cpu"
    assert next(restored.net_.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(restored.transform(X), expected, atol=1e-6)


@pytest.mark.parametrize("loss", ["triplet", "softmax_triplet"])
def test_deterministic_on_cpu_for_a_seed(data, loss):
    X, y = data
    kw = dict(sampler="class_balanced", loss=loss)
    first = _embedder(random_state=3, **kw).fit(X, y).transform(X)
    torch.rand(5)  # the global random state must not matter (a loss's own head)
    second = _embedder(random_state=3, **kw).fit(X, y).transform(X)
    other = _embedder(random_state=4, **kw).fit(X, y).transform(X)
    np.testing.assert_array_equal(first, second)
    assert np.abs(first - other).max() > 1e-3
    # fitting does not disturb the global torch random state
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    _embedder(max_epochs=0).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


# -- weights ------------------------------------------------------------------------


def test_save_backbone_then_weights_path_reproduces_the_network(fitted, data, tmp_path):
    X, y = data
    path = fitted.save_backbone(tmp_path / "triplet.pt")
    fresh = _embedder(weights=path, max_epochs=0).fit(X, y)
    np.testing.assert_allclose(fresh.transform(X), fitted.transform(X), atol=1e-6)
    with pytest.raises(ValueError, match="embedding_dim=8"):
        _embedder(weights=path, embedding_dim=8, max_epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="does not fit resnet34|do\\(es\\) not fit"):
        _embedder(weights=path, backbone="resnet34", max_epochs=0).fit(X, y)


def test_build_backbone_from_a_torchvision_state_dict(tmp_path):
    import torchvision

    torch.manual_seed(5)
    source = torchvision.models.resnet18()
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    net = build_backbone("resnet18", weights=str(path))
    for name, tensor in net.state_dict().items():
        torch.testing.assert_close(tensor, source.state_dict()[name])
    assert net.eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 512)
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        build_backbone("resnet18", weights=str(tmp_path / "nowhere.pth"))
    with pytest.raises(ValueError, match="Unknown weights 'IMAGENET2K'"):
        build_backbone("resnet18", weights="IMAGENET2K")
    (tmp_path / "junk.pth").write_text("junk")
    with pytest.raises(ValueError, match="junk.pth"):
        build_backbone("resnet18", weights=str(tmp_path / "junk.pth"))


def test_failed_download_names_the_offline_options(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(RuntimeError) as info:
        build_backbone("resnet18", weights="IMAGENET1K_V1")
    message = str(info.value)
    assert "no internet" in message
    assert "hub cache" in message and str(tmp_path) in message
    assert "weights=<path of a local state-dict" in message
    with pytest.raises(RuntimeError, match="Offline options"):
        _embedder(weights="DEFAULT").fit(*_images(per_class=2))


# -- training variants -----------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        dict(loss="reciprocal", miner="batch_hard", sampler="random"),
        dict(
            loss="softmax_triplet",
            miner="all",
            class_weight="balanced",
            logit_adjustment=1.0,
            sampler="class_balanced",
            balance="sqrt",
        ),
        dict(loss="triplet", miner=None, augment=False),
    ],
)
def test_losses_miners_and_samplers_train(data, params):
    X, y = data
    emb = _embedder(max_epochs=2, **params).fit(X, y)
    losses = [row["train_loss"] for row in emb.history_]
    assert len(losses) == 2 and np.isfinite(losses).all()
    assert emb.transform(X[:3]).shape == (3, 16)


def test_user_augmentation_callable_is_used(data):
    X, y = data
    calls = []

    class Recording:
        def __call__(self, image):
            calls.append(tuple(image.shape))
            return torch.flip(image, dims=[-1])

    _embedder(augment=Recording()).fit(X, y)
    assert calls and set(calls) == {(3, SIZE, SIZE)}


def test_validation_split_early_stopping_and_checkpoint(data, tmp_path):
    from skorch.callbacks import Checkpoint, EarlyStopping

    X, y = data
    stopper = EarlyStopping(monitor="valid_loss", patience=1, threshold=10.0)
    emb = _embedder(
        max_epochs=4,
        validation_fraction=0.34,
        callbacks=[stopper, Checkpoint(dirname=str(tmp_path), monitor=None)],
    ).fit(X, y)
    history = emb.history_
    assert len(history) == 2  # an absurd threshold stops after `patience` epochs
    for row in history:
        assert 0.0 <= row["valid_knn_acc"] <= 1.0
        assert 0.0 <= row["valid_knn_bal_acc"] <= 1.0
    assert (tmp_path / "params.pt").exists()
    assert all(cb is not stopper for _, cb in emb.net_.callbacks_)


def test_warm_start_continues_from_the_fitted_weights(data):
    X, y = data
    emb = _embedder(warm_start=True).fit(X, y)
    before = emb.transform(X)
    emb.set_params(max_epochs=0).fit(X, y)
    np.testing.assert_allclose(emb.transform(X), before, atol=1e-6)
    emb.set_params(max_epochs=1).fit(X, y)
    assert len(emb.history_) == 2
    assert np.abs(emb.transform(X) - before).max() > 1e-4


def test_init_starts_from_another_embedders_network(data, fitted):
    """init=: the two stages of the paper's fine-tuning as one estimator."""
    import copy

    from sklearn.frozen import FrozenEstimator

    X, y = data
    second = dict(max_epochs=1, lr=5e-4, random_state=1)
    # from a fitted embedder, frozen: the same as a warm start on a copy of it
    history = len(fitted.history_)
    from_frozen = _embedder(init=FrozenEstimator(fitted), **second).fit(X, y)
    warm = copy.deepcopy(fitted).set_params(warm_start=True, **second).fit(X, y)
    np.testing.assert_array_equal(from_frozen.transform(X), warm.transform(X))
    assert len(from_frozen.history_) == history + 1
    # the frozen embedder is untouched (weights and history)
    assert len(fitted.history_) == history
    np.testing.assert_array_equal(
        fitted.transform(X[:4]), copy.deepcopy(fitted).transform(X[:4])
    )
    # an unfitted init is fitted first (a clone: the parameter stays unfitted)
    init = _embedder()
    from_unfitted = _embedder(init=init, **second).fit(X, y)
    np.testing.assert_array_equal(from_unfitted.transform(X), warm.transform(X))
    assert not hasattr(init, "net_")
    # it clones and prints as the declaration it is
    assert "init=TripletImageEmbedder(" in repr(clone(from_unfitted))


def test_init_of_another_network_says_what_differs(data, fitted, monkeypatch):
    from sklearn.frozen import FrozenEstimator
    from sklearn.preprocessing import StandardScaler

    X, y = data
    with pytest.raises(ValueError, match="embedding_dim must match"):
        _embedder(embedding_dim=8, init=FrozenEstimator(fitted)).fit(X, y)
    # an unfitted init is not trained before the checks: nothing trains
    trained = []
    monkeypatch.setattr(
        TripletImageEmbedder, "_fit_dataset", lambda *a, **k: trained.append(1)
    )
    with pytest.raises(ValueError, match=r"'embedding_dim': 16\} against"):
        _embedder(embedding_dim=8, init=_embedder()).fit(X, y)
    rng = np.random.default_rng(0)
    anchors = {c: rng.normal(size=3) for c in np.unique(y)[:-1]}
    with pytest.raises(ValueError, match="no anchor for classes"):
        _embedder(
            alignment_anchors=anchors, alignment_weight=1.0, init=_embedder()
        ).fit(X, y)
    assert trained == []
    with pytest.raises(ValueError, match="init must be a TripletImageEmbedder"):
        scaler = StandardScaler().fit(np.zeros((2, 2)))
        _embedder(init=FrozenEstimator(scaler)).fit(X, y)


@pytest.mark.parametrize(
    "check",
    [
        "check_get_params_invariance",
        "check_set_params",
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_estimator_repr",
        "check_estimator_cloneable",
        "check_valid_tag_types",
    ],
)
def test_scikit_learn_api_checks(check):
    """The parameter-level scikit-learn checks (the data-level ones need 2-D
    numeric X, which an image embedder does not take; see the tests above).

    Expected failures: ``check_do_not_raise_errors_in_init_or_set_params``
    passes a parameter literally named ``kwargs`` (our ``**kwargs`` carries
    skorch's prefixed settings, as skorch's own nets do), and
    ``check_no_attributes_set_in_init`` fails only when such prefixed
    settings are given, since they are stored under their own names.
    """
    from sklearn.utils import estimator_checks

    getattr(estimator_checks, check)("TripletImageEmbedder", TripletImageEmbedder())


def test_sixteen_bit_grayscale_files_are_scaled(tmp_path):
    values = np.linspace(0, 65535, 12 * 10).reshape(12, 10).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I;16")
    image = ImageDataset([str(path)], image_size=10).load(0)
    assert image.shape == (3, 12, 10) and image.dtype == torch.uint8
    np.testing.assert_allclose(image[0].numpy(), np.round(values / 257.0), atol=1)


def test_saved_model_holds_weights_not_optimizer_state(fitted):
    # AdamW keeps two running moments per weight: pickled with the model they
    # tripled its size (137 MB for 45 MB of ResNet50 weights)
    weights = sum(
        p.numel() * p.element_size()
        for module in (fitted.net_.module_, fitted.net_.criterion_)
        for p in module.state_dict().values()
    )
    size = len(pickle.dumps(fitted))
    assert size < 1.2 * weights, (size, weights)
    assert len(fitted.net_.optimizer_.state) == 0


def test_warm_start_without_optimizer_state_still_continues(data):
    X, y = data
    first = _embedder(max_epochs=1).fit(X, y)
    before = first.transform(X)
    first.set_params(warm_start=True).fit(X, y)
    assert len(first.history_) == 2
    assert not np.allclose(first.transform(X), before)


def test_training_log_is_plain_text_and_progress_total_is_right(data, capsys):
    X, y = data
    _embedder(verbose=1, max_epochs=2).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "\x1b[" not in out  # no raw colour codes
    _embedder(verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""
    # the m-per-class sampler yields a number of batches that is not
    # len(dataset) / batch_size: the bar must count what it really runs
    emb = _embedder(verbose=2, max_epochs=1, batch_size=8, m_per_class=2).fit(X, y)
    err = capsys.readouterr().err
    totals = {int(total) for _, total in re.findall(r"(\d+)/(\d+) \[", err)}
    # (tqdm redraws at most every 0.1 s, so the last "done" drawn may lag)
    assert totals == {emb.history_[-1, "train_batch_count"]}, err
