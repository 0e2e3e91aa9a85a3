"""TripletImageEmbedder inside imblearn and scikit-learn pipelines, GridSearchCV."""

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from PIL import Image
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from test_embedder import _embedder, _images

from vgestimators.vision import TripletImageEmbedder


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """An imbalanced set of image files: 8, 5, 3 and 2 images per class."""
    X, y = _images(n_classes=4, per_class=8, seed=2)
    keep = np.concatenate(
        [
            np.flatnonzero(y == c)[:k]
            for c, k in zip(np.unique(y), (8, 5, 3, 2), strict=True)
        ]
    )
    root = tmp_path_factory.mktemp("pipeline")
    paths = []
    for i in keep:
        path = root / f"{i}.png"
        Image.fromarray(X[i]).save(path)
        paths.append(str(path))
    return np.array(paths, dtype=object), y[keep]


def test_imblearn_pipeline_oversamples_file_paths(files):
    paths, y = files
    pipe = Pipeline(
        [
            ("over", RandomOverSampler(random_state=0)),
            ("emb", _embedder(batch_size=8, m_per_class=2)),
            ("knn", KNeighborsClassifier(5)),
        ]
    )
    # RandomOverSampler needs a 2-D X: an (n, 1) object array of paths
    pipe.fit(paths.reshape(-1, 1), y)
    embedder = pipe.named_steps["emb"]
    assert embedder.class_counts_.tolist() == [8, 8, 8, 8]  # resampled before it
    predicted = pipe.predict(paths.reshape(-1, 1))
    assert predicted.shape == y.shape and set(predicted) <= set(y)
    # at predict time, no resampling: one embedding per input file
    assert pipe[:-1].transform(paths.reshape(-1, 1)).shape == (len(y), 16)


def test_grid_search_over_embedder_parameters():
    X, y = _images(n_classes=4, per_class=6, seed=3)
    pipe = make_pipeline(
        TripletImageEmbedder(
            backbone="resnet18",
            image_size=32,
            embedding_dim=8,
            max_epochs=1,
            batch_size=8,
            m_per_class=2,
            verbose=0,
            random_state=0,
        ),
        KNeighborsClassifier(3),
    )
    grid = GridSearchCV(
        pipe,
        {
            "tripletimageembedder__triplet_margin": [0.1, 0.4],
            "tripletimageembedder__loss": ["triplet", "reciprocal"],
        },
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        scoring="balanced_accuracy",
        error_score="raise",
    )
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    best = grid.best_estimator_.named_steps["tripletimageembedder"]
    assert (
        best.triplet_margin == grid.best_params_["tripletimageembedder__triplet_margin"]
    )
    assert best.loss == grid.best_params_["tripletimageembedder__loss"]
    assert grid.predict(X).shape == y.shape


def test_set_output_pandas():
    X, y = _images(n_classes=3, per_class=4, seed=4)
    emb = _embedder(max_epochs=0).set_output(transform="pandas")
    frame = emb.fit_transform(X, y)
    assert frame.shape == (12, 16)
    assert frame.columns[0] == "tripletimageembedder0"
