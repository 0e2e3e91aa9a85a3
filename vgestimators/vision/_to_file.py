"""Embed more images than fit in memory, into a file, resumably."""

import json
import os
from pathlib import Path

import numpy as np

from ..utils._docstrings import substitute


@substitute
def embed_to_file(embedder, images, path, *, chunk_size=4096, progress=True):
    """Embed images chunk by chunk into a ``.npy`` file on disk, resumably.

    For collections too large to embed in memory: the embeddings are
    written into a NumPy memory-mapped ``.npy`` file (``np.load(path,
    mmap_mode="r")`` reads it back without loading it), ``chunk_size``
    images at a time, so that memory stays bounded by one chunk whatever
    the number of images. After each chunk the number of rows done is
    recorded beside the file (``path + ".progress.json"``); when
    interrupted (a crash, a killed job), calling again with the same
    arguments continues from the last finished chunk. The progress file
    is removed when the last chunk is written.

    Parameters
    ----------
    embedder : fitted transformer
        E.g. a fitted :class:`TripletImageEmbedder`, or a Pipeline ending
        in one (anything with ``transform``), returning one row per image.
    images : array-like of str
        Image file paths (a list or 1-D array; e.g.
        :func:`~vgestimators.datasets.list_images`). Arrays of pixels work
        too, but then they are in memory already.
    path : str or path-like
        The ``.npy`` file to write.
    chunk_size : int, default=4096
        Images embedded per step (memory: about ``chunk_size`` decoded
        images plus their embeddings).
    progress : bool, default=True
        Show a progress bar (tqdm, on stderr).

    Returns
    -------
    embeddings : numpy.memmap of shape (n_images, n_features), float32
        The file, opened read-only.

    Raises
    ------
    ValueError
        If ``path`` holds an unfinished run for other images (another
        count, or other first or last file) or another width: remove it to
        start again.

    Examples
    --------
    ${example_temp_dir}
    >>> import numpy as np
    >>> from sklearn.decomposition import PCA
    >>> from vgestimators.vision import embed_to_file
    >>> X = np.random.RandomState(0).normal(size=(10, 5))
    >>> pca = PCA(n_components=2).fit(X)
    >>> out = embed_to_file(pca, X, root / "Z.npy",
    ...                     chunk_size=4, progress=False)
    >>> out.shape, bool(np.allclose(out, pca.transform(X), atol=1e-6))
    ((10, 2), True)
    """
    from tqdm.auto import tqdm

    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}.")
    chunk_size = int(chunk_size)
    path = Path(path)
    marker = path.with_name(path.name + ".progress.json")
    n = len(images)
    if n == 0:
        raise ValueError("images is empty.")
    identity = {"n": n, "first": _name(images[0]), "last": _name(images[n - 1])}

    done, out = 0, None
    if marker.exists() and path.exists():
        state = json.loads(marker.read_text())
        if {k: state.get(k) for k in identity} != identity:
            raise ValueError(
                f"{path} holds an unfinished run for other images ({state['n']} "
                f"images from {state['first']!r}); remove {path} and {marker} "
                "to start again."
            )
        out = np.load(path, mmap_mode="r+")
        done = int(state["done"])
    with tqdm(
        total=n, initial=done, disable=not progress, desc="embedding", unit="img"
    ) as bar:
        for start in range(done, n, chunk_size):
            block = np.asarray(
                embedder.transform(images[start : start + chunk_size]),
                dtype=np.float32,
            )
            if out is None:
                out = np.lib.format.open_memmap(
                    path, mode="w+", dtype=np.float32, shape=(n, block.shape[1])
                )
            elif block.shape[1] != out.shape[1]:
                raise ValueError(
                    f"the embedder returns {block.shape[1]} features but {path} "
                    f"holds {out.shape[1]}: remove it to start again."
                )
            out[start : start + len(block)] = block
            out.flush()
            _write_marker(marker, {**identity, "done": start + len(block)})
            bar.update(len(block))
    del out
    if marker.exists():
        marker.unlink()
    return np.load(path, mmap_mode="r")


def _name(item):
    return (
        os.fspath(item)
        if isinstance(item, str | os.PathLike)
        else f"<{type(item).__name__}>"
    )


def _write_marker(marker, state):
    # write then rename: an interruption never leaves half a progress file
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, marker)
