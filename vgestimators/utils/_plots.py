"""Figures shared by the benchmark and the command line (matplotlib, PNG files).

The seen/unseen accuracy curves are drawn alike in the benchmark's
``seen_unseen_curve.png`` and in ``vgestimators evaluate``'s.
"""

import numpy as np


def pyplot():
    """matplotlib.pyplot on the Agg backend (PNG files, no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


# one colour and marker per method of the table (ten rows)
COLORS = [
    "#4c4c4c",
    "#1f77b4",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#17becf",
    "#e377c2",
    "#bcbd22",
]
MARKERS = ["s", "o", "^", "D", "v", "P", "X", "<", ">", "h"]


def plot_seen_unseen_curves(
    curves,
    labels,
    path,
    *,
    title="Seen/unseen trade-off, split 0",
    unseen_label="held-out species' images: accuracy when all species compete (%)",
    seen_label="seen species: balanced accuracy (%)",
):
    """Seen/unseen accuracy curves (Chao et al., 2016) of the rows that have one.

    ``curves`` maps method -> (seen accuracy, unseen accuracy, operating
    point (seen, unseen), AUSUC); the operating point, a marker, is where
    the fitted model predicts. Also the figure of ``vgestimators evaluate``.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 5.2), dpi=120)
    order = list(labels)
    for method, (seen, unseen, point, area) in curves.items():
        k = order.index(method) % len(COLORS)
        ax.plot(
            np.asarray(unseen) * 100,
            np.asarray(seen) * 100,
            color=COLORS[k],
            drawstyle="steps-post",
            label=f"{labels[method]} (AUSUC {area:.3f})",
        )
        ax.plot(
            point[1] * 100,
            point[0] * 100,
            marker=MARKERS[k],
            color=COLORS[k],
            markersize=8,
            linestyle="none",
        )
    ax.set_xlabel(unseen_label)
    ax.set_ylabel(seen_label)
    ax.set_xlim(-2, 102)
    ax.set_ylim(-2, 102)
    ax.set_title(f"{title}\n(markers: where the fitted model predicts)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
