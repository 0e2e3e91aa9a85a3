"""TripletImageEmbedder on CUDA (skipped without a GPU)."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from test_embedder import _embedder, _images

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cuda_fitted():
    X, y = _images()
    return _embedder(device="cuda", max_epochs=2).fit(X, y), X


def test_cuda_training_uses_bf16_channels_last_and_workers(cuda_fitted):
    emb, X = cuda_fitted
    net = emb.net_
    assert emb.device_.startswith("cuda") and emb.get_params()["device"] == "cuda"
    assert net.amp_dtype == torch.bfloat16 and net.channels_last
    conv = net.module_.backbone.conv1.weight
    assert conv.is_cuda and conv.is_contiguous(memory_format=torch.channels_last)
    loader = net.get_iterator(
        torch.utils.data.TensorDataset(torch.zeros(4)), training=False
    )
    assert loader.pin_memory and loader.num_workers > 0
    Z = emb.transform(X)
    assert Z.dtype == np.float32 and np.allclose(
        np.linalg.norm(Z, axis=1), 1, atol=1e-3
    )


def test_auto_device_picks_cuda():
    X, y = _images(per_class=3)
    emb = _embedder(max_epochs=1).fit(X, y)
    assert emb.device_.startswith("cuda") and emb.get_params()["device"] == "auto"


def test_gpu_model_loads_and_transforms_on_a_cpu_only_process(cuda_fitted, tmp_path):
    emb, X = cuda_fitted
    expected = emb.transform(X)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(emb))
    np.save(tmp_path / "X.npy", X)
    script = (
        "import pickle, sys, warnings, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "warnings.simplefilter('ignore')\n"
        f"emb = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        "assert str(emb.net_.device) == 'cpu'\n"
        f"Z = emb.transform(np.load({str(tmp_path / 'X.npy')!r}))\n"
        f"np.save({str(tmp_path / 'Z.npy')!r}, Z)\n"
    )
    # keep PYTHONPATH: on the lent GPU machine skorch & co. come from wheels
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    Z = np.load(tmp_path / "Z.npy")
    # CPU runs float32, the GPU ran bf16 autocast: embeddings agree closely
    cosine = (Z * expected).sum(axis=1)
    assert cosine.min() > 0.99


def test_save_backbone_on_gpu_loads_on_cpu(cuda_fitted, tmp_path):
    emb, X = cuda_fitted
    path = emb.save_backbone(tmp_path / "w.pt")
    state = torch.load(path, weights_only=True)
    assert all(t.device.type == "cpu" for t in state.values())
    cpu = _embedder(weights=str(path), device="cpu", max_epochs=0).fit(X, _images()[1])
    cosine = (cpu.transform(X) * emb.transform(X)).sum(axis=1)
    assert cosine.min() > 0.99


def test_model_files_written_on_gpu_predict_on_a_cpu_only_process(tmp_path):
    from vgestimators import make_species_pipeline
    from vgestimators.datasets import make_forams
    from vgestimators.io import export_model, save_model

    data = make_forams(n_species=4, n_images=64, image_size=16, random_state=0)
    model = make_species_pipeline(
        data.sequences,
        embedder={
            "backbone": "resnet18",
            "image_size": 16,
            "max_epochs": 2,
            "batch_size": 16,
            "device": "cuda",
            "verbose": 0,
            "random_state": 0,
        },
        aligner={"random_state": 0},
    ).fit(data.images, data.target)
    assert model.named_steps["embedder"].device_.startswith("cuda")
    expected = model.predict_proba(data.images)
    save_model(model, tmp_path / "model.joblib")
    export_model(model, tmp_path / "model.zip")
    np.save(tmp_path / "X.npy", data.images)
    script = (
        "import sys, warnings, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "from vgestimators.io import import_model, load_model\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"a = load_model({str(tmp_path / 'model.joblib')!r})\n"
        f"b = import_model({str(tmp_path / 'model.zip')!r})\n"
        "assert a.named_steps['embedder'].device_ == 'cpu'\n"
        "assert b.named_steps['embedder'].device_ == 'cpu'\n"
        f"np.save({str(tmp_path / 'Pa.npy')!r}, a.predict_proba(X))\n"
        f"np.save({str(tmp_path / 'Pb.npy')!r}, b.predict_proba(X))\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, "-c", script], check=True, env=env)
    for name in ("Pa.npy", "Pb.npy"):
        proba = np.load(tmp_path / name)
        # CPU float32 against the GPU's bf16 autocast: the same decisions
        agree = (proba.argmax(1) == expected.argmax(1)).mean()
        assert agree > 0.95, (name, agree)
