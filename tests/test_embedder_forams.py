"""Done-when checks: default embeddings beat raw pixels on small real and synthetic images.

Only ``backbone``, ``image_size``, ``max_epochs`` and ``device`` are given
(plus the shell preset for the shells): what a user gets by default. Both
sets train on a long tail and test on a balanced set.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import balanced_accuracy_score
from sklearn.neighbors import KNeighborsClassifier

from vgestimators.datasets import make_forams
from vgestimators.vision import TripletImageEmbedder


def _knn_balanced_accuracy(train, y_train, test, y_test):
    knn = KNeighborsClassifier(5).fit(train, y_train)
    return balanced_accuracy_score(y_test, knn.predict(test))


def _raw_and_embedded(X, y, X_test, y_test, **params):
    raw = _knn_balanced_accuracy(
        X.reshape(len(X), -1), y, X_test.reshape(len(X_test), -1), y_test
    )
    embedder = TripletImageEmbedder(
        backbone="resnet18", device="cpu", verbose=0, random_state=0, **params
    )
    Z = embedder.fit_transform(X, y)
    Z_test = embedder.transform(X_test)
    assert np.isfinite(Z_test).all()
    return raw, _knn_balanced_accuracy(Z, y, Z_test, y_test)


def test_defaults_beat_raw_pixels_on_digits_whose_orientation_matters():
    # scikit-learn's 8 x 8 handwritten digits (real, offline): a 6 is not a
    # 9 turned round, so the default augmentation must not rotate or flip
    digits = load_digits()
    X = (digits.images / 16 * 255).astype(np.uint8)
    y = digits.target
    rng = np.random.RandomState(0)
    counts = np.round(120 * (3 / 120) ** (np.arange(10) / 9)).astype(int)
    train, test = [], []
    for c in range(10):
        idx = rng.permutation(np.flatnonzero(y == c))
        train += list(idx[: counts[c]])  # 120 down to 3 training images
        test += list(idx[counts[c] : counts[c] + 50])  # 50 test images each
    raw, learned = _raw_and_embedded(
        X[train], y[train], X[test], y[test], image_size=32, max_epochs=10
    )
    print(f"digits, balanced accuracy: raw pixels {raw:.3f}, embeddings {learned:.3f}")
    assert learned > raw + 0.05


def test_defaults_with_the_shell_preset_beat_raw_pixels_on_forams():
    data = make_forams(
        n_species=8,
        n_images=480,
        image_size=32,
        imbalance_ratio=20,
        n_test_per_species=20,
        n_permutations=0,
        random_state=0,
    )
    raw, learned = _raw_and_embedded(
        data.images,
        data.target,
        data.images_test,
        data.target_test,
        image_size=32,
        max_epochs=6,
        augment="shells",
    )
    print(f"forams, balanced accuracy: raw pixels {raw:.3f}, embeddings {learned:.3f}")
    assert learned > raw + 0.05
