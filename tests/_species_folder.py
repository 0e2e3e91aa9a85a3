"""A small real-looking data set on disk for the CLI and pipeline tests."""

from vgestimators.datasets import write_forams_folder


def write_species_data(root, *, n_species=5, n_images=56, image_size=24, seed=0):
    """``write_forams_folder`` at test size, as a dict (56 training images)."""
    data = write_forams_folder(
        root,
        n_species=n_species,
        n_images=n_images,
        image_size=image_size,
        n_new=12,
        random_state=seed,
    )
    return dict(data)
