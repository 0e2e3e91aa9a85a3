"""SoftmaxImageClassifier (the softmax baseline): labels and devices."""

import numpy as np
import pytest
import torch

from vgestimators.vision import SoftmaxImageClassifier

X = np.random.default_rng(0).integers(0, 255, size=(6, 8, 8, 3), dtype=np.uint8)


def _clf(**params):
    return SoftmaxImageClassifier(
        image_size=8, max_epochs=1, batch_size=3, random_state=0, **params
    )


@pytest.mark.parametrize(
    "y, message",
    [
        (["a", None, "b", "b", "a", "b"], r"missing labels \(None/NaN\) at rows \[1\]"),
        (
            [1.0, np.nan, 2.0, 2.0, 1.0, 2.0],
            r"missing labels \(None/NaN\) at rows \[1\]",
        ),
        (["a"] * 6, "a single class"),
        (["a", "b"], "same length"),
    ],
)
def test_bad_labels_are_refused_before_training(y, message):
    with pytest.raises(ValueError, match=message):
        _clf().fit(X, y)


def test_device_may_be_a_torch_device():
    y = np.repeat(["a", "b"], 3)
    clf = _clf(device=torch.device("cpu")).fit(X, y)
    assert clf.predict(X).shape == (6,)
    assert clf.classes_.tolist() == ["a", "b"]
