"""Write the synthetic world to disk, laid out as a user's real data."""

from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

#: Imbalance ratio of the world's long tail.
IMBALANCE = 4


def write_forams_folder(
    root,
    *,
    n_species=6,
    n_images=281,
    image_size=64,
    n_test_per_species=10,
    n_new=20,
    random_state=0,
):
    """Write a make_forams world as image folders and a FASTA file.

    The layout a user brings to ``vgestimators train``: ``root/images`` with
    one sub-folder of PNGs per species (folder names with spaces),
    ``root/test`` laid out alike with a balanced held-out set (also of the
    species without images), ``root/new`` with unlabelled PNGs to predict,
    and ``root/dna.fasta``
    whose headers spell the species another way (``_`` for spaces, about
    half of them lower-case), with one species that has DNA but no images.
    For trying the command line and for tests.

    Parameters
    ----------
    root : str or path-like
        Folder to write into (created if needed; must not hold ``images``,
        ``new`` or ``dna.fasta`` yet).
    n_species : int, default=6
        Species with images; one more has DNA only.
    n_images : int, default=281
        Images written to ``root/images``: of all species with images
        together, long-tailed (imbalance ratio 4). The default writes the
        demo the user guide measures.
    image_size : int, default=64
        Side of the PNGs in pixels.
    n_test_per_species : int, default=10
        Held-out images of every species (with or without training images)
        in ``root/test``; 0 writes no ``test`` folder.
    n_new : int, default=20
        Unlabelled images in ``root/new`` (drawn from the species with
        images, in random order).
    random_state : int, default=0
        Seed of the world.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``images``, ``test``, ``new`` (folders) and ``fasta`` (file) as
        Paths;
        ``species`` (folder names), ``image_less`` (the species with DNA
        only, ``_`` read as spaces) and ``new_target`` (the species of each
        file of ``new``, in file order).

    Examples
    --------
    >>> import tempfile
    >>> from vgestimators.datasets import write_forams_folder
    >>> data = write_forams_folder(tempfile.mkdtemp(), n_species=3,
    ...                            n_images=30, image_size=16, n_new=2)
    >>> sorted(p.name for p in data.images.iterdir()) == sorted(data.species)
    True
    >>> data.fasta.read_text().startswith(">seq0 ")
    True
    """
    from PIL import Image

    from ._synthetic import make_forams

    root = Path(root)
    for name in ("images", "test", "new", "dna.fasta"):
        if (root / name).exists():
            raise FileExistsError(f"'{root / name}' exists; choose an empty folder.")
    n_species, n_new, n_test = int(n_species), int(n_new), int(n_test_per_species)
    if int(n_images) < 2 * n_species:
        raise ValueError(
            f"n_images={n_images} leaves fewer than 2 images to some of the "
            f"{n_species} species; give at least {2 * n_species}."
        )
    world = make_forams(
        n_species=n_species + 1,
        n_images=_world_size(n_species + 1, int(n_images)),
        image_size=image_size,
        imbalance_ratio=IMBALANCE,
        n_test_per_species=n_test + max(1, -(-n_new // n_species)),
        random_state=random_state,
    )
    names = [str(n) for n in world.target_names]
    # the rarest species keeps its DNA only
    counts = {n: int(np.sum(np.asarray(world.target) == n)) for n in names}
    image_less = min(names, key=lambda n: (counts[n], n))
    species = [n for n in names if n != image_less]
    images = root / "images"
    for name in species:
        (images / name).mkdir(parents=True)
    counter = {}
    for image, label in zip(world.images, world.target, strict=True):
        label = str(label)
        if label == image_less:
            continue
        k = counter[label] = counter.get(label, -1) + 1
        Image.fromarray(image).save(images / label / f"shot{k:03d}.png")
    rng = np.random.default_rng(random_state)
    test_target = np.asarray(world.target_test).astype(str)
    test = root / "test"
    pool = []
    for name in names:
        rows = np.flatnonzero(test_target == name)
        for k, i in enumerate(rows[:n_test]):
            (test / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(world.images_test[i]).save(test / name / f"held{k:03d}.png")
        if name != image_less:
            pool.extend(rows[n_test:].tolist())
    keep = rng.permutation(np.asarray(pool, dtype=int))[:n_new]
    new = root / "new"
    new.mkdir(parents=True)
    for k, i in enumerate(keep):
        Image.fromarray(world.images_test[i]).save(new / f"unknown_{k:03d}.png")
    lines = []
    for k, row in enumerate(world.sequences.itertuples()):
        name = str(row.species).replace(" ", "_")
        if rng.random() < 0.5:
            name = name.lower()
        lines += [f">seq{k} {name}", str(row.sequence)]
    fasta = root / "dna.fasta"
    fasta.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Bunch(
        images=images,
        test=test,
        new=new,
        fasta=fasta,
        species=species,
        image_less=image_less,
        new_target=test_target[keep],
    )


def _world_size(n_classes, n_images):
    """Images of a world whose rarest species (left image-less) leaves ``n_images``.

    The world's long tail (imbalance ratio 4) gives its rarest species the
    fewest images; they are not written, so the world is drawn that much
    larger. Its rarest count grows by at most one per image added, so some
    size leaves exactly ``n_images``.
    """
    from ._synthetic import _long_tail_counts

    total = max(n_images, 2 * n_classes)  # make_forams' least
    while total - _long_tail_counts(n_classes, total, IMBALANCE).min() < n_images:
        total += 1
    return total
