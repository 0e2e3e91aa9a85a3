"""Multi-process training of TripletImageEmbedder through Accelerate (DDP).

Two CPU processes (torchrun, the gloo backend) stand for two GPUs: each
trains on its shard of the batches, gradients are averaged, so both end
with the same weights.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("accelerate", reason="needs vgestimators[accelerate]")
TORCHRUN = shutil.which("torchrun") or str(Path(sys.executable).with_name("torchrun"))
HERE = Path(__file__).resolve().parent


@pytest.mark.skipif(not Path(TORCHRUN).exists(), reason="torchrun not installed")
def test_two_process_training_keeps_the_processes_in_step(tmp_path):
    done = subprocess.run(
        [
            TORCHRUN,
            "--nproc_per_node",
            "2",
            "--master_port",
            "29517",
            str(HERE / "_accelerate_script.py"),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        cwd=HERE.parent,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    infos = [(tmp_path / f"info{r}.txt").read_text().split() for r in (0, 1)]
    assert all(info[0] == "2" for info in infos)
    w0 = torch.load(tmp_path / "weights0.pt", weights_only=True)
    w1 = torch.load(tmp_path / "weights1.pt", weights_only=True)
    # DDP: after training both processes hold the same weights
    for key in w0:
        if w0[key].is_floating_point():
            torch.testing.assert_close(w0[key], w1[key], rtol=0, atol=1e-6)
    # inference is sharded and gathered: every process gets every embedding
    Z0, Z1 = np.load(tmp_path / "Z0.npy"), np.load(tmp_path / "Z1.npy")
    assert Z0.shape == Z1.shape == (int(infos[0][2]), 128)
    np.testing.assert_allclose(Z0, Z1, atol=1e-5)


def test_single_process_accelerator_trains_and_exports(tmp_path):
    from accelerate import Accelerator

    from vgestimators import TripletImageEmbedder
    from vgestimators.datasets import make_forams
    from vgestimators.io import export_model, import_model

    data = make_forams(n_species=4, n_images=64, image_size=16, random_state=0)
    emb = TripletImageEmbedder(
        backbone="resnet18",
        image_size=16,
        max_epochs=1,
        batch_size=16,
        accelerator=Accelerator(cpu=True),
        verbose=0,
        random_state=0,
    )
    emb.fit(data.images, data.target)
    Z = emb.transform(data.images)
    again = import_model(export_model(emb, tmp_path / "e.zip"), device="cpu")
    assert again.accelerator is None
    np.testing.assert_allclose(again.transform(data.images), Z, atol=1e-5)
