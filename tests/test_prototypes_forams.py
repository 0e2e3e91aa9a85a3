"""The default aligner on learned embeddings of the synthetic world.

Long-tailed training, a balanced test set, two species held out with DNA
only. Measured on the development sandbox for this seed (printed with
``-s``): few-shot accuracy 0.15 for 5-NN and 0.375 for the default aligner;
held-out species 0.325 for the default aligner (DNA test p = 0.01) and 0.0
for its shuffled-DNA control. The benchmark reports the same comparison
over three splits and more epochs.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsClassifier

from vgestimators.alignment import VisualGeneticAligner
from vgestimators.benchmark import shuffle_species
from vgestimators.datasets import make_forams
from vgestimators.vision import TripletImageEmbedder

UNSEEN = 2


@pytest.fixture(scope="module")
def forams_embeddings():
    data = make_forams(
        n_species=12,
        n_images=600,
        image_size=32,
        imbalance_ratio=50,
        n_test_per_species=20,
        n_permutations=0,
        random_state=0,
    )
    # hold out two species that are neither the commonest nor the rarest
    unseen = list(data.class_counts.index[[4, 7]])
    train = ~np.isin(data.target, unseen)
    embedder = TripletImageEmbedder(
        backbone="resnet18",
        image_size=32,
        max_epochs=6,
        augment="shells",
        device="cpu",
        verbose=0,
        random_state=0,
    )
    Z_train = embedder.fit_transform(data.images[train], data.target[train])
    Z_test = embedder.transform(data.images_test)
    sequences = pd.DataFrame(
        {
            "sequence": data.sequences["sequence"].astype(str),
            "species": data.sequences["species"].astype(str),
        }
    )
    return Z_train, data.target[train], Z_test, data.target_test, sequences, unseen


def _per_species(y_true, y_pred, species):
    return np.mean([np.mean(y_pred[y_true == c] == c) for c in species])


def test_default_aligner_against_knn_and_its_shuffled_control(forams_embeddings):
    Z_train, y_train, Z_test, y_test, sequences, unseen = forams_embeddings
    counts = pd.Series(y_train).value_counts()
    few = list(counts.index[counts < 15])
    knn = KNeighborsClassifier(5).fit(Z_train, y_train).predict(Z_test)
    default = VisualGeneticAligner(sequences=sequences, random_state=0)
    default.fit(Z_train, y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the control's DNA may fail the test
        control = VisualGeneticAligner(
            sequences=shuffle_species(sequences, 0), random_state=0
        ).fit(Z_train, y_train)
    pred, pred_control = default.predict(Z_test), control.predict(Z_test)
    print(
        "few-shot: knn",
        _per_species(y_test, knn, few),
        "default",
        _per_species(y_test, pred, few),
        "| zero-shot: default",
        _per_species(y_test, pred, unseen),
        "control",
        _per_species(y_test, pred_control, unseen),
        "| p",
        default.prototype_classifier_.dna_p_value_,
        control.prototype_classifier_.dna_p_value_,
    )
    assert set(unseen) <= set(default.classes_)
    assert _per_species(y_test, pred, few) >= _per_species(y_test, knn, few) + 0.1
    assert _per_species(y_test, pred, unseen) > _per_species(
        y_test, pred_control, unseen
    )
