"""Speed of make_forams: images per second, batched vs one-image rendering.

Goal (issue 3): 4,000 images of 64 px in under 10 s on one core. Run with one
thread so the figure means "one core"::

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_forams.py

It prints the best of ``--repeat`` runs of the whole generator, in wall time
and in CPU time of this process (on a shared machine wall time also counts
the other jobs' turns; single-threaded, CPU time is the one-core figure), the
time spent rendering, and, as a baseline in the same run, the renderer fed
one image at a time (``chunk_size=1``) on a subset, so the ratio shows what
batching over images buys.
"""

import argparse
import time

import numpy as np

from vgestimators.datasets import _render, _synthetic, make_forams


def _best(fn, repeat, clock=time.perf_counter):
    times = []
    for _ in range(repeat):
        start = clock()
        fn()
        times.append(clock() - start)
    return min(times)


def _capture_geometry(n, size):
    """The renderer's input for ``make_forams(n_images=n, image_size=size)``."""
    captured = {}
    original = _synthetic.render_shells

    def capture(geom, image_size, rng, **kwargs):
        captured["geom"] = geom
        return original(geom, image_size, rng, **kwargs)

    _synthetic.render_shells = capture
    try:
        make_forams(n_images=n, image_size=size, random_state=0, n_permutations=0)
    finally:
        _synthetic.render_shells = original
    return captured["geom"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=4000)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-images", type=int, default=200)
    args = parser.parse_args(argv)
    n, size, repeat = args.n_images, args.image_size, args.repeat

    def generate():
        make_forams(n_images=n, image_size=size, random_state=0)

    wall = _best(generate, repeat)
    cpu = _best(generate, repeat, clock=time.process_time)

    geom = _capture_geometry(n, size)
    m = min(args.baseline_images, n)
    subset = {key: value[:m] for key, value in geom.items()}

    def render(g, chunk):
        return _render.render_shells(
            g, size, np.random.default_rng(0), chunk_size=chunk
        )

    cpu_clock = time.process_time
    render_all = _best(lambda: render(geom, 128), repeat, clock=cpu_clock)
    batched = _best(lambda: render(subset, 128), repeat, clock=cpu_clock)
    single = _best(lambda: render(subset, 1), repeat, clock=cpu_clock)

    print(f"make_forams(n_images={n}, image_size={size}), best of {repeat}:")
    print(f"  total, wall time     {wall:7.2f} s   {n / wall:8.0f} images/s")
    print(f"  total, CPU time      {cpu:7.2f} s   {n / cpu:8.0f} images/s")
    print(
        f"  rendering, CPU time  {render_all:7.2f} s   {n / render_all:8.0f} images/s"
    )
    print(f"baseline: the renderer on {m} images, CPU time:")
    print(f"  one image at a time  {single:7.3f} s   {m / single:8.0f} images/s")
    print(f"  batches of 128       {batched:7.3f} s   {m / batched:8.0f} images/s")
    print(f"  speed-up of batching {single / batched:7.1f} x")
    verdict = "met" if min(wall, cpu) < 10 else "NOT met"
    print(f"goal: {n} images in < 10 s on one core -> {verdict}")


if __name__ == "__main__":
    main()
