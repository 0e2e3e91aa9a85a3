"""Figures of the benchmark (matplotlib, Agg backend, PNG files).

The seen/unseen curves, drawn by ``vgestimators evaluate`` too, are in
``utils/_plots.py``.
"""

import numpy as np
import pandas as pd

from ..utils._plots import COLORS, MARKERS, pyplot


def _plain_numbers(value, _position=None):
    return f"{value:g}"


def _plain_log_axis(axis):
    from matplotlib import ticker

    axis.set_major_formatter(ticker.FuncFormatter(_plain_numbers))
    axis.set_minor_formatter(ticker.NullFormatter())


def plot_per_class_accuracy(per_class, labels, path, *, title=None):
    """Per-class test accuracy against training-image count, one colour per method.

    Points are classes (mean over splits); lines are the mean accuracy in
    logarithmic bins of training count.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10.5, 5.2), dpi=120)
    table = pd.DataFrame(per_class)
    if len(table):
        table = table[table["train_count"] > 0]
    if len(table):
        lo = max(1, int(table["train_count"].min()))
        hi = int(table["train_count"].max())
        edges = np.unique(np.geomspace(lo, hi + 1, num=7).round(0))
    methods = [m for m in labels if len(table) and m in set(table["method"])]
    for k, method in enumerate(methods):
        part = table[table["method"] == method]
        by_class = part.groupby("class").agg(
            train_count=("train_count", "mean"), accuracy=("accuracy", "mean")
        )
        color = COLORS[k % len(COLORS)]
        jitter = 1.0 + 0.03 * (k - (len(methods) - 1) / 2)
        ax.scatter(
            by_class["train_count"] * jitter,
            by_class["accuracy"] * 100,
            s=14,
            alpha=0.45,
            color=color,
            linewidths=0,
        )
        bins = np.digitize(by_class["train_count"], edges)
        centers, means = [], []
        for b in np.unique(bins):
            sel = bins == b
            centers.append(np.exp(np.log(by_class["train_count"][sel]).mean()))
            means.append(by_class["accuracy"][sel].mean() * 100)
        ax.plot(
            centers,
            means,
            "-",
            marker=MARKERS[k % len(MARKERS)],
            color=color,
            lw=2,
            ms=5,
            label=labels[method],
        )
    ax.set_xscale("log")
    _plain_log_axis(ax.xaxis)
    ax.set_xlabel("training images of the species (log scale)")
    ax.set_ylabel("per-species test accuracy (%)")
    ax.set_ylim(-3, 103)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(
        title
        or "Per-species accuracy against training-set size "
        "(dots: species; lines: mean in log bins)",
        fontsize=10,
    )
    if methods:
        ax.legend(
            fontsize=8,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            title="method (mean over splits)",
            title_fontsize=8,
        )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _tsne(points, seed):
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(points) - 1) // 3)))
    return TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        random_state=seed,
        metric="cosine",
    ).fit_transform(np.asarray(points, dtype=np.float64))


def plot_tsne(
    before,
    after,
    y,
    anchors,
    train_counts,
    path,
    *,
    unseen_species=(),
    random_state=0,
):
    """t-SNE of test embeddings before and after alignment, anchors drawn in.

    Parameters
    ----------
    before : ndarray (n, d)
        Triplet embeddings of test images.
    after : ndarray (n, k)
        The same images in the aligned (anchor) space.
    y : ndarray (n,)
        Species of each image.
    anchors : DataFrame
        Genetic anchors in the aligned space, indexed by species.
    train_counts : Series
        Training images per species (sets each species' colour).
    path : path-like
        PNG file to write.
    unseen_species : sequence of str
        Species held out of training (drawn with crosses).
    """
    plt = pyplot()
    from matplotlib import cm, colors

    y = np.asarray(y)
    species = sorted(set(y) | set(anchors.index.astype(str)))
    counts = pd.Series(train_counts).reindex(species).fillna(0)
    norm = colors.LogNorm(vmin=1, vmax=max(2, counts.max()))
    cmap = cm.viridis
    colour = {s: cmap(norm(max(1, counts[s]))) for s in species}

    emb_before = _tsne(before, random_state)
    anchor_names = [str(s) for s in anchors.index]
    joint = _tsne(np.vstack([after, anchors.to_numpy()]), random_state)
    emb_after, emb_anchor = joint[: len(after)], joint[len(after) :]

    fig, axes = plt.subplots(1, 2, figsize=(13, 6), dpi=120)
    unseen = set(unseen_species)
    for ax, pts, title in (
        (
            axes[0],
            emb_before,
            "Before alignment: triplet embedding\n"
            "(the anchors live in DNA space, so they appear only after alignment)",
        ),
        (
            axes[1],
            emb_after,
            "After alignment: VisualGeneticAligner space\n"
            "(images and genetic anchors embedded together)",
        ),
    ):
        seen_mask = ~np.isin(y, list(unseen))
        ax.scatter(
            pts[seen_mask, 0],
            pts[seen_mask, 1],
            c=[colour[s] for s in y[seen_mask]],
            s=10,
            alpha=0.75,
            linewidths=0,
        )
        if (~seen_mask).any():
            ax.scatter(
                pts[~seen_mask, 0],
                pts[~seen_mask, 1],
                c=[colour[s] for s in y[~seen_mask]],
                s=28,
                marker="x",
                linewidths=1.2,
                label="images of held-out (zero-shot) species",
            )
        ax.set_title(title, fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[1].scatter(
        emb_anchor[:, 0],
        emb_anchor[:, 1],
        marker="*",
        s=200,
        c=[colour.get(s, "grey") for s in anchor_names],
        edgecolors="black",
        linewidths=0.8,
        label="genetic anchor (from DNA)",
    )
    k = 0
    x_mid = np.mean(axes[1].get_xlim())
    for (x0, y0), name in zip(emb_anchor, anchor_names, strict=True):
        if name in unseen:
            # labels point into the axes, so they never run over the colour bar
            right = x0 > x_mid
            axes[1].annotate(
                f"{name} (held out)",
                (x0, y0),
                fontsize=7,
                xytext=(-6 if right else 6, 4 - 10 * k),
                textcoords="offset points",
                ha="right" if right else "left",
            )
            k += 1
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="best", framealpha=0.9)
    sm = cm.ScalarMappable(norm=norm, cmap=cmap)
    bar = fig.colorbar(sm, ax=axes, fraction=0.025, pad=0.01)
    bar.set_label("training images of the species (colour)")
    _plain_log_axis(bar.ax.yaxis)
    fig.suptitle(
        "t-SNE of test-image embeddings (one colour per species, by its "
        "training-set size)",
        fontsize=11,
    )
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_samples(data, path, *, train_counts=None, n_per_species=4, max_species=16):
    """The sample grid of the data set (``plot_forams`` for synthetic data).

    For real data (image files), one row per species, most images first,
    labelled with the species' number of training images in ``train_counts``
    (e.g. those of the first split; 0 for a species held out of training),
    or with its number of images when ``train_counts`` is None.
    """
    plt = pyplot()
    if data.bunch is not None:
        from ..datasets import plot_forams

        fig = plot_forams(data.bunch, n_per_species=n_per_species)
    else:
        from PIL import Image

        y = np.asarray(data.y)
        totals = pd.Series(y).value_counts()
        species = totals.index[:max_species]
        fig, axes = plt.subplots(
            len(species),
            n_per_species,
            figsize=(1.6 * n_per_species, 1.6 * len(species) + 0.6),
            squeeze=False,
            layout="constrained",
        )
        for r, name in enumerate(species):
            files = np.asarray(data.X)[y == name][:n_per_species]
            for c in range(n_per_species):
                ax = axes[r, c]
                ax.axis("off")
                if c < len(files):
                    with Image.open(files[c]) as img:
                        ax.imshow(np.asarray(img.convert("RGB")))
            axes[r, 0].set_title(
                _sample_label(name, totals[name], train_counts), fontsize=7, loc="left"
            )
        which = (
            f"the {len(species)} species with the most images, of {len(totals)}"
            if len(species) < len(totals)
            else f"all {len(totals)} species"
        )
        counted = (
            "in brackets: training images of the species in the first split"
            if train_counts is not None
            else "in brackets: images of the species"
        )
        fig.suptitle(
            f"Sample images of {which} (up to {n_per_species} each)\n{counted}",
            fontsize=9,
        )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _sample_label(name, total, train_counts):
    """Row label of the sample grid: the species and its image count."""
    if train_counts is None:
        return f"{name} ({total} image{'s' * (total != 1)})"
    n = int(pd.Series(train_counts).get(name, 0))
    if n == 0:
        return f"{name} (0 training images: held out, zero-shot)"
    return f"{name} ({n} training image{'s' * (n != 1)})"
