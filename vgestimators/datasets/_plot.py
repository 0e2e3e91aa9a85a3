"""plot_forams: a grid of sample images per species."""

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_forams needs matplotlib, which is not installed. Install it with "
            "`pip install matplotlib` (or `pip install vgestimators[plot]`)."
        ) from exc
    return plt


@validate_params(
    {
        "bunch": [dict],
        "n_per_species": [Interval(numbers.Integral, 1, None, closed="left")],
        "species": [
            "array-like",
            Interval(numbers.Integral, 1, None, closed="left"),
            None,
        ],
        "random_state": ["random_state"],
        "title": [str, None],
        "cell_inches": [Interval(numbers.Real, 0, None, closed="neither")],
        "fig": "no_validation",
    },
    prefer_skip_nested_validation=True,
)
def plot_forams(
    bunch,
    *,
    n_per_species=8,
    species=None,
    random_state=0,
    title=None,
    cell_inches=0.7,
    fig=None,
):
    """Draw a grid of sample images: one row per species, most common first.

    Each row is labelled with the species name and its number of images; rows
    of species with fewer images than ``n_per_species`` end in empty cells.

    Read more in the :ref:`User Guide <data_synthetic>`.

    Parameters
    ----------
    bunch : Bunch or dict
        Needs ``images`` (uint8, (n, h, w, 3) or (n, h, w)) and ``target``;
        as returned by :func:`make_forams`.
    n_per_species : int, default=8
        Images shown per species (randomly chosen).
    species : int or array-like of str, default=None
        Species to show: all (None), the ``species`` most common ones (int),
        or the listed names in the given order.
    random_state : int, RandomState instance or None, default=0
        Seed of the choice of images.
    title : str, default=None
        Figure title; by default, the number of images and species and, if
        the bunch has one, the Mantel correlation.
    cell_inches : float, default=0.7
        Size of one image cell, in inches.
    fig : matplotlib Figure, default=None
        Figure to draw into (it is cleared); a new one by default.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure, with one Axes holding the whole grid.

    See Also
    --------
    make_forams : Generate the synthetic data set whose images this function shows.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from vgestimators.datasets import make_forams, plot_forams
    >>> data = make_forams(n_species=4, n_images=40, image_size=24, random_state=0)
    >>> fig = plot_forams(data, n_per_species=3)
    >>> len(fig.axes)
    1
    """
    plt = _import_pyplot()
    if "images" not in bunch or "target" not in bunch:
        raise ValueError("plot_forams needs a bunch with 'images' and 'target'.")
    images = np.asarray(bunch["images"])
    target = np.asarray(bunch["target"]).astype(str)
    if images.ndim == 3:
        images = images[..., None].repeat(3, axis=-1)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise ValueError(
            "bunch['images'] must have shape (n, height, width[, channels]); "
            f"got {images.shape}."
        )
    if len(images) != len(target):
        raise ValueError(
            f"bunch['images'] has {len(images)} images but bunch['target'] has "
            f"{len(target)} labels."
        )
    if images.shape[-1] == 1:
        images = images.repeat(3, axis=-1)
    images = images[..., :3]
    if images.dtype != np.uint8:
        images = np.clip(np.asarray(images, dtype=float) * 255.0, 0, 255).astype(
            np.uint8
        )

    counts = pd.Series(target).value_counts()
    counts = counts.iloc[np.lexsort((counts.index.to_numpy(), -counts.to_numpy()))]
    if species is None:
        names = list(counts.index)
    elif isinstance(species, numbers.Integral):
        names = list(counts.index[:species])
    else:
        names = [str(s) for s in species]
        missing = [s for s in names if s not in counts.index]
        if missing:
            raise ValueError(
                f"Species not in bunch['target']: {missing[:5]}"
                + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            )

    rng = check_random_state(random_state)
    h, w = images.shape[1:3]
    pad = max(1, h // 16)
    n_rows, n_cols = len(names), n_per_species
    mosaic = np.full(
        (n_rows * (h + pad) + pad, n_cols * (w + pad) + pad, 3), 255, dtype=np.uint8
    )
    for row, name in enumerate(names):
        idx = np.flatnonzero(target == name)
        if len(idx) > n_cols:
            idx = np.sort(rng.choice(idx, n_cols, replace=False))
        for col, i in enumerate(idx):
            top, left = pad + row * (h + pad), pad + col * (w + pad)
            mosaic[top : top + h, left : left + w] = images[i]

    if fig is None:
        fig = plt.figure(
            figsize=(n_cols * cell_inches + 2.6, n_rows * cell_inches + 0.6)
        )
    else:
        fig.clear()
    # Leave room for the row labels on the left and the title on top.
    fig_w, fig_h = fig.get_size_inches()
    left = min(2.4 / fig_w, 0.5)
    top = min(0.6 / fig_h, 0.2)
    ax = fig.add_axes((left, 0.01, 0.99 - left, 0.99 - top))
    ax.imshow(mosaic, interpolation="nearest")
    ax.set_yticks(
        [pad + row * (h + pad) + h / 2 for row in range(n_rows)],
        [f"{name} ({counts[name]})" for name in names],
        fontsize=8,
        fontstyle="italic",
    )
    ax.set_xticks([])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if title is None:
        title = f"{len(target)} images, {len(counts)} species"
        mantel = bunch.get("mantel")
        if isinstance(mantel, dict) and "r" in mantel:
            title += f"; Mantel r (morphology vs DNA) = {mantel['r']:.2f}"
    fig.suptitle(title, fontsize=9, y=1.0 - 0.1 / fig_h, va="top")
    return fig
