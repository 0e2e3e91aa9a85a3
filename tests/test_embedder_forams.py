"""Done-when check: learned embeddings beat raw pixels on synthetic forams."""

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from vgestimators.datasets import make_forams
from vgestimators.vision import TripletImageEmbedder


def _knn_balanced_accuracy(train, y_train, test, y_test):
    knn = KNeighborsClassifier(5).fit(train, y_train)
    return balanced_accuracy_score(y_test, knn.predict(test))


def test_knn_on_embeddings_beats_knn_on_raw_pixels():
    data = make_forams(
        n_species=8,
        n_images=480,
        image_size=64,
        imbalance_ratio=5,
        n_permutations=0,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(
        data.images, data.target, test_size=0.4, stratify=data.target, random_state=0
    )
    raw = _knn_balanced_accuracy(
        X_train.reshape(len(X_train), -1),
        y_train,
        X_test.reshape(len(X_test), -1),
        y_test,
    )
    embedder = TripletImageEmbedder(
        backbone="resnet18",
        image_size=64,
        loss="softmax_triplet",
        miner="batch_hard",
        max_epochs=6,
        batch_size=32,
        lr=3e-4,
        device="cpu",
        verbose=0,
        random_state=0,
    )
    Z_train = embedder.fit_transform(X_train, y_train)
    Z_test = embedder.transform(X_test)
    learned = _knn_balanced_accuracy(Z_train, y_train, Z_test, y_test)
    print(f"balanced accuracy: raw pixels {raw:.3f}, embeddings {learned:.3f}")
    assert learned > raw + 0.1
    assert np.isfinite(Z_test).all()
