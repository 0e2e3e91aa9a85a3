"""embed_to_file: bounded memory, resumable after an interruption."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin

from vgestimators.vision import embed_to_file


class _Recorder(TransformerMixin, BaseEstimator):
    """Embeds paths by their number; records each chunk; can fail once."""

    def __init__(self, fail_at=None):
        self.fail_at = fail_at

    def fit(self, X=None, y=None):
        self.calls_ = []
        return self

    def transform(self, X):
        self.calls_.append(len(X))
        if self.fail_at is not None and len(self.calls_) == self.fail_at:
            raise KeyboardInterrupt("killed")
        numbers = np.array([int(str(x).split("_")[1]) for x in X], dtype=float)
        return np.c_[numbers, -numbers, numbers**2]


def test_interrupted_run_resumes_from_the_last_chunk(tmp_path):
    files = [f"shot_{i}" for i in range(10)]
    path = tmp_path / "Z.npy"
    first = _Recorder(fail_at=3).fit()
    with pytest.raises(KeyboardInterrupt):
        embed_to_file(first, files, path, chunk_size=4, progress=False)
    assert first.calls_ == [4, 4, 2]  # the third chunk was being computed
    assert (tmp_path / "Z.npy.progress.json").exists()
    again = _Recorder().fit()
    out = embed_to_file(again, files, path, chunk_size=4, progress=False)
    assert again.calls_ == [2]  # only the unfinished chunk
    expected = _Recorder().fit().transform(files)
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float32 and isinstance(out, np.memmap)
    assert not (tmp_path / "Z.npy.progress.json").exists()


def test_unfinished_run_for_other_images_is_refused(tmp_path):
    path = tmp_path / "Z.npy"
    with pytest.raises(KeyboardInterrupt):
        embed_to_file(
            _Recorder(fail_at=2).fit(),
            [f"a_{i}" for i in range(6)],
            path,
            chunk_size=2,
            progress=False,
        )
    with pytest.raises(ValueError, match="unfinished run for other images"):
        embed_to_file(
            _Recorder().fit(),
            [f"b_{i}" for i in range(6)],
            path,
            chunk_size=2,
            progress=False,
        )
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        embed_to_file(_Recorder().fit(), ["a_0"], path, chunk_size=0)


def test_embedder_to_file_matches_transform(tmp_path):
    from PIL import Image

    from vgestimators import TripletImageEmbedder

    rng = np.random.RandomState(0)
    files = []
    for i in range(12):
        f = tmp_path / f"img_{i}.png"
        Image.fromarray(rng.randint(0, 255, (16, 16, 3), dtype=np.uint8)).save(f)
        files.append(str(f))
    emb = TripletImageEmbedder(
        backbone="resnet18",
        image_size=16,
        max_epochs=1,
        batch_size=8,
        m_per_class=2,
        device="cpu",
        verbose=0,
        random_state=0,
    )
    emb.fit(files, np.repeat(["a", "b", "c"], 4))
    out = embed_to_file(emb, files, tmp_path / "Z.npy", chunk_size=5, progress=False)
    np.testing.assert_allclose(out, emb.transform(files), atol=1e-6)
