"""What ``vgestimators train`` does on a CPU when no training flag is given."""

import numpy as np
import pytest
from _species_folder import write_species_data

from vgestimators.cli._main import build_parser
from vgestimators.cli._recipe import (
    CPU_MAX_EPOCHS,
    CPU_MIN_EPOCHS,
    cpu_recipe,
    enlargement,
    seconds_per_image,
)
from vgestimators.cli._train import _cpu_settings, build_model, load_training_data
from vgestimators.vision import TimeEstimate, TripletImageEmbedder


def test_the_recipe_fits_its_budget_and_never_enlarges():
    # fast machine: all epochs; slow machine: fewer, never under the floor
    fast = cpu_recipe(740, 96, 1, speed=1e-4)
    slow = cpu_recipe(740, 96, 1, speed=0.05)
    slower = cpu_recipe(740, 96, 1, speed=10.0)
    assert fast["max_epochs"] == CPU_MAX_EPOCHS
    assert CPU_MIN_EPOCHS < slow["max_epochs"] < CPU_MAX_EPOCHS
    assert slower["max_epochs"] == CPU_MIN_EPOCHS
    assert fast["image_size"] == 96 and fast["backbone"] == "resnet18"
    assert cpu_recipe(10, 1000, 0, speed=1e-4)["image_size"] == 224
    # a hold-out trains once more: the same budget buys fewer epochs
    assert cpu_recipe(740, 96, 0, speed=0.05)["max_epochs"] > slow["max_epochs"]
    assert enlargement(96, 224).startswith("the images are about 96 px")
    assert enlargement(96, 96) is None and enlargement(None, 224) is None
    assert seconds_per_image("resnet18", 32, batch_size=4, repeats=1) > 0


def _args(data, tmp_path, *extra):
    return build_parser().parse_args(
        [
            "train",
            "--images",
            str(data["images"]),
            "--sequences",
            str(data["fasta"]),
            "--out",
            str(tmp_path / "m.joblib"),
            "--device",
            "cpu",
            *extra,
        ]
    )


def test_train_on_a_cpu_without_training_flags_takes_the_recipe(tmp_path, capsys):
    data = write_species_data(tmp_path / "d", image_size=40)
    args = _args(data, tmp_path)
    folder, sequences, _, mapping = load_training_data(args)
    model = build_model(args, sequences, mapping)
    files = np.asarray(folder.filenames)
    _cpu_settings(args, model, files, 1, "cpu")
    embedder = model.named_steps["embedder"]
    assert embedder.backbone == "resnet18" and embedder.image_size == 40
    assert CPU_MIN_EPOCHS <= embedder.max_epochs <= CPU_MAX_EPOCHS
    assert isinstance(embedder.callbacks[-1], TimeEstimate)
    assert "resnet18 at 40 px" in capsys.readouterr().err
    # a flag given: the user's choice stands, enlarging is said, and the
    # recipe fills the rest
    args = _args(data, tmp_path, "--image-size", "96", "--max-epochs", "3")
    model = build_model(args, sequences, mapping)
    with pytest.warns(UserWarning, match="about 40 px and are enlarged to 96"):
        _cpu_settings(args, model, files, 1, "cpu")
    embedder = model.named_steps["embedder"]
    assert (embedder.backbone, embedder.image_size) == ("resnet18", 96)
    assert embedder.max_epochs == 3
    assert "with --image-size, --max-epochs as given" in capsys.readouterr().err
    # weights, or a config file naming a setting (even its default), are a
    # choice too: the recipe would swap the network they were made for
    config = tmp_path / "c.json"
    config.write_text('{"embedder": {"backbone": "resnet50"}}')
    for extra in (["--weights", "IMAGENET1K_V2"], ["--config", str(config)]):
        args = _args(data, tmp_path, *extra)
        model = build_model(args, sequences, mapping)
        _cpu_settings(args, model, files, 1, "cpu")
        assert model.named_steps["embedder"].backbone == "resnet50"
        assert model.named_steps["embedder"].image_size == 224


def test_the_estimate_is_printed_once_after_the_first_batches(capsys):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (32, 16, 16, 3), dtype=np.uint8)
    y = np.repeat(["a", "b", "c", "d"], 8)
    TripletImageEmbedder(
        backbone="resnet18",
        image_size=16,
        max_epochs=3,
        batch_size=8,
        verbose=0,
        random_state=0,
        callbacks=[
            TimeEstimate(
                n_batches=2, skip=0, run_image_epochs=3 * 32 * 2, final_images=64
            )
        ],
    ).fit(X, y)
    out = capsys.readouterr().out
    assert out.count("estimated from the first batches") == 1
    assert "(3 epochs of 4 batches)" in out and "all the run's trainings" in out
