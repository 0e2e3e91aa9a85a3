"""Draw the synthetic foraminifera data set: sample images per species.

Generates the default ``make_forams`` world (32 species, 4,000 images of
64 px, imbalance ratio 100), draws a grid of samples per species (most common
first) and saves it as a PNG, by default to ``docs/_static/forams_grid.png``
where the user guide shows it::

    python examples/plot_forams.py
    python examples/plot_forams.py --genetic-signal 0 --out /tmp/no_signal.png
"""

import argparse
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from vgestimators.datasets import make_forams, plot_forams  # noqa: E402

DEFAULT_OUT = (
    Path(__file__).resolve().parent.parent / "docs" / "_static" / "forams_grid.png"
)


def save_png(fig, path, *, dpi=96, colors=128):
    """Save ``fig`` as a palette PNG (a few hundred kB instead of a few MB)."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB")
    image = image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write")
    parser.add_argument("--n-species", type=int, default=32)
    parser.add_argument("--n-images", type=int, default=4000)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--genetic-signal", type=float, default=1.0)
    parser.add_argument("--n-per-species", type=int, default=6)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    data = make_forams(
        n_species=args.n_species,
        n_images=args.n_images,
        image_size=args.image_size,
        genetic_signal=args.genetic_signal,
        random_state=args.random_state,
    )
    print(data.DESCR)
    fig = plot_forams(data, n_per_species=args.n_per_species, cell_inches=0.6)
    save_png(fig, args.out)
    print(f"saved {args.out} ({args.out.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
