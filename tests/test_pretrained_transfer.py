"""Done-when check: a network trained on one world, used frozen on another.

A ``TripletImageEmbedder`` trains on one ``make_forams`` world (its species
and seed), is saved with ``save_backbone`` and embeds, frozen, the images of
another world with other species. The default aligner on those features
must beat raw pixels with nearest class mean by at least 10 points of
balanced accuracy (long-tailed training, balanced test). The figures are
printed (``-s``) and stated in docs/user_guide/pretrained.rst.
"""

from sklearn.metrics import balanced_accuracy_score
from sklearn.neighbors import NearestCentroid

from vgestimators.alignment import VisualGeneticAligner
from vgestimators.datasets import make_forams
from vgestimators.vision import PretrainedImageEmbedder, TripletImageEmbedder


def test_frozen_features_of_another_world_beat_raw_pixels(tmp_path):
    source = make_forams(
        n_species=12,
        n_images=480,
        image_size=32,
        imbalance_ratio=20,
        n_permutations=0,
        random_state=0,
    )
    target = make_forams(
        n_species=10,
        n_images=300,
        image_size=32,
        imbalance_ratio=20,
        n_test_per_species=20,
        n_permutations=0,
        random_state=1,
    )
    assert not set(source.target_names) & set(target.target_names)
    trained = TripletImageEmbedder(
        backbone="resnet18",
        image_size=32,
        max_epochs=5,
        augment="shells",
        device="cpu",
        verbose=0,
        random_state=0,
    ).fit(source.images, source.target)
    weights = trained.save_backbone(tmp_path / "source.pt")

    X, y = target.images, target.target
    X_test, y_test = target.images_test, target.target_test
    raw = NearestCentroid().fit(X.reshape(len(X), -1), y)
    raw_score = balanced_accuracy_score(
        y_test, raw.predict(X_test.reshape(len(X_test), -1))
    )
    frozen = PretrainedImageEmbedder("resnet18", weights=weights, device="cpu").fit()
    Z, Z_test = frozen.transform(X), frozen.transform(X_test)
    ncm_score = balanced_accuracy_score(
        y_test, NearestCentroid().fit(Z, y).predict(Z_test)
    )
    aligner = VisualGeneticAligner(sequences=target.sequences, random_state=0)
    score = balanced_accuracy_score(y_test, aligner.fit(Z, y).predict(Z_test))
    print(
        f"balanced accuracy on the other world: raw pixels + NCM {raw_score:.3f}, "
        f"frozen features + NCM {ncm_score:.3f}, + default aligner {score:.3f}"
    )
    assert score >= raw_score + 0.10
