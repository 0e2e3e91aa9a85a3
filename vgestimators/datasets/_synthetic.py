"""make_forams: a synthetic, long-tailed world of foraminifer images and DNA."""

import numbers

import numpy as np
import pandas as pd
from scipy.special import ndtr
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ..utils._random import derive_seed
from ._phylo import (
    NUCLEOTIDES,
    brownian_traits,
    evolve_sequences,
    jc_distances,
    k80_step,
    mantel,
    yule_tree,
)
from ._render import render_shells

# Morphological traits: name -> (low, high, meaning). A species' latent value
# z (standard normal across species) maps to low + (high - low) * Phi(z).
TRAITS = {
    "n_chambers": (3.5, 7.0, "chambers in the final whorl"),
    "growth_factor": (1.06, 1.45, "size ratio of successive chambers"),
    "spire_height": (0.0, 1.0, "height of the trochospire (0 = flat coil)"),
    "elongation": (0.8, 1.5, "radial / tangential chamber diameter"),
    "compactness": (0.72, 1.0, "spacing of chambers along the spiral"),
    "aperture": (0.15, 1.0, "size of the aperture on the final chamber"),
    "porosity": (0.0, 1.0, "depth (visibility) of the wall pores"),
    "pore_size": (0.1, 0.3, "pore spacing / final chamber radius"),
    "roughness": (0.0, 1.0, "wall texture: 0 glossy and smooth, 1 matte and rough"),
    "brightness": (0.45, 1.0, "albedo of the test"),
    "tint": (-1.0, 1.0, "colour: -1 brown, 0 cream, +1 pink"),
}
_LATENT = [*TRAITS, "coiling"]  # coiling is the sign of its latent value

_GENUS_HEADS = [
    "Globo", "Neo", "Pseudo", "Turbo", "Hasti", "Orbi", "Sphaero", "Tenui",
    "Candi", "Beli", "Pulvi", "Dentato", "Trilo", "Clavi", "Berg", "Para",
]  # fmt: skip
_GENUS_TAILS = [
    "spirella", "coilina", "camerina", "loculina", "porella", "thecina",
    "vesica", "rotulina", "ampulla", "cellina", "testina", "phaerella",
]  # fmt: skip
_EPITHETS = [
    "alba", "ampla", "arcuata", "bicolor", "brevis", "crassa", "curta", "densa",
    "depressa", "elegans", "exigua", "fragilis", "globosa", "gracilis", "hirta",
    "inflata", "laevis", "lata", "lucida", "magna", "minor", "mollis", "nitida",
    "obesa", "opaca", "pallida", "parva", "pertusa", "plana", "porosa",
    "pulchra", "rara", "rosea", "rotunda", "rugosa", "scabra", "serena",
    "simplex", "sinistra", "solida", "spissa", "tenuis", "tersa", "tumida",
    "umbilicata", "vagans", "varia", "venusta", "vitrea", "zonata",
]  # fmt: skip


def _species_names(clades, rng):
    """Unique Latin-looking binomials; species of one clade share a genus."""
    n_clades = int(clades.max()) + 1
    heads = rng.permutation(len(_GENUS_HEADS))
    tails = rng.permutation(len(_GENUS_TAILS))
    genera = []
    for i in range(n_clades):  # past len(heads) clades, pair heads with new tails
        head = _GENUS_HEADS[heads[i % len(heads)]]
        tail = _GENUS_TAILS[tails[(i + i // len(heads)) % len(tails)]]
        genera.append((head + tail).capitalize())
    names, used = [], set()
    for clade in clades:
        for epithet in rng.permutation(_EPITHETS):
            name = f"{genera[clade]} {epithet}"
            if name not in used:
                break
        else:  # all epithets taken in this genus: number the species
            name = f"{genera[clade]} sp. {len(used) + 1:02d}"
        used.add(name)
        names.append(name)
    return np.array(names, dtype=object)


def _long_tail_counts(n_classes, n_total, imbalance_ratio):
    """Exponential class counts (largest / smallest = imbalance_ratio), >= 2."""
    profile = imbalance_ratio ** (-np.arange(n_classes) / max(n_classes - 1, 1))
    counts = np.maximum(np.round(profile * n_total / profile.sum()), 2).astype(int)
    # Rounding and the floor of 2 leave the total a little off: adjust the
    # head classes (where one image more or less changes the profile least).
    diff = n_total - counts.sum()
    i = 0
    while diff != 0:
        step = 1 if diff > 0 else -1
        if counts[i % n_classes] + step >= 2:
            counts[i % n_classes] += step
            diff -= step
        i += 1
    return counts


def _seeds(random_state, n):
    seed = derive_seed(random_state)
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def _decode(codes):
    table = np.frombuffer("".join(NUCLEOTIDES).encode(), dtype=np.uint8)
    letters = table[codes]
    return [row.tobytes().decode("ascii") for row in letters]


def _geometry(t, coil, image_size, rng, max_chambers):
    """Chamber layout in pixels for each specimen (vectorised over specimens).

    ``t`` holds per-specimen trait values (arrays of length n).
    """
    n = len(coil)
    npw = t["n_chambers"]
    per_whorl = np.clip(np.round(npw), 3, 8).astype(int)
    total = np.minimum(per_whorl + (per_whorl + 1) // 2 + 1, max_chambers)
    j = np.arange(max_chambers)[None, :]
    valid = j < total[:, None]
    age = np.where(valid, total[:, None] - 1 - j, 0)  # 0 = final chamber
    g = t["growth_factor"][:, None]
    r = g ** (-age.astype(float))
    theta = coil[:, None] * j * (2 * np.pi / npw[:, None])
    sin_half = np.sin(np.pi / npw)[:, None]
    el = np.sqrt(t["elongation"])[:, None]
    ra, rb = r * el, r / el  # radial and tangential radius
    # Neighbouring chambers touch (compactness 1) or overlap along the spiral;
    # radially elongated chambers reach further out.
    radius = t["compactness"][:, None] * rb * (1 + 1 / g) / (2 * sin_half)
    radius = radius + 0.6 * (ra - rb)
    x = radius * np.cos(theta)
    y = radius * np.sin(theta)
    z = t["spire_height"][:, None] * 2.2 * (1.0 - r)  # older chambers stand higher
    h = 0.85 * r
    # Random view: tilt about the x axis, then rotation in the image plane.
    tilt = rng.uniform(0.0, 0.6, n)[:, None]
    y, z = y * np.cos(tilt) - z * np.sin(tilt), y * np.sin(tilt) + z * np.cos(tilt)
    angle = rng.uniform(0, 2 * np.pi, n)
    ca, sa = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = x * ca - y * sa, x * sa + y * ca
    orient = np.arctan2(y, x)  # chamber's radial direction in the image
    reach = np.maximum(ra, rb)
    big = np.where(valid, 1.0, np.nan)
    lo_x, hi_x = np.nanmin((x - reach) * big, 1), np.nanmax((x + reach) * big, 1)
    lo_y, hi_y = np.nanmin((y - reach) * big, 1), np.nanmax((y + reach) * big, 1)
    extent = np.maximum(hi_x - lo_x, hi_y - lo_y) / 2
    fill = rng.uniform(0.72, 0.95, n)
    scale = fill * (image_size / 2) / extent
    shift = rng.uniform(-0.05, 0.05, (n, 2)) * image_size
    cx = (
        image_size / 2
        + shift[:, :1]
        + scale[:, None] * (x - (lo_x + hi_x)[:, None] / 2)
    )
    cy = (
        image_size / 2
        + shift[:, 1:]
        + scale[:, None] * (y - (lo_y + hi_y)[:, None] / 2)
    )
    s = scale[:, None]
    geom = {
        "cx": cx,
        "cy": cy,
        "ra": np.maximum(s * ra, 0.3),
        "rb": np.maximum(s * rb, 0.3),
        "cos": np.cos(orient),
        "sin": np.sin(orient),
        "z0": s * z,
        "h": s * h,
        "valid": valid,
        "last": total - 1,
    }
    nuisance = {
        "rotation": angle,
        "tilt": tilt[:, 0],
        "scale": scale,
        "shift_x": shift[:, 0],
        "shift_y": shift[:, 1],
        "n_chambers_total": total,
    }
    return geom, nuisance


def _appearance(t, coil, geom, rng):
    n = len(coil)
    cream = np.array([0.96, 0.92, 0.84])
    pink = np.array([1.0, 0.72, 0.76])
    brown = np.array([0.86, 0.66, 0.45])
    tint = t["tint"][:, None]
    base = np.where(
        tint > 0, cream + tint * (pink - cream), cream - tint * (brown - cream)
    )
    color = base * t["brightness"][:, None] * rng.uniform(0.95, 1.05, (n, 3))
    azimuth = rng.uniform(np.pi * 1.0, np.pi * 1.5, n)  # from the upper left
    elevation = rng.uniform(0.6, 1.15, n)
    light = np.stack(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ],
        axis=1,
    )
    exposure = rng.uniform(0.8, 1.1, n)
    last_ra = geom["ra"][np.arange(n), geom["last"]]
    appearance = {
        "coil": coil,
        "aperture": t["aperture"],
        "pore_spacing": np.maximum(t["pore_size"] * last_ra, 1.6),
        "pore_depth": t["porosity"],
        "gloss": 1.0 - t["roughness"],
        "grain": t["roughness"],
        "color": color,
        "light": light,
        "exposure": exposure,
        "background": rng.uniform(0.02, 0.08, n),
        "noise": rng.uniform(0.01, 0.035, n),
    }
    nuisance = {
        "light_azimuth": azimuth,
        "light_elevation": elevation,
        "exposure": exposure,
        "background": appearance["background"],
        "noise": appearance["noise"],
    }
    return appearance, nuisance


def _traits_from_latent(latent):
    values = {}
    for i, (name, (low, high, _)) in enumerate(TRAITS.items()):
        values[name] = low + (high - low) * ndtr(latent[:, i])
    return values


@validate_params(
    {
        "n_species": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_images": [Interval(numbers.Integral, 4, None, closed="left")],
        "image_size": [Interval(numbers.Integral, 16, None, closed="left")],
        "imbalance_ratio": [Interval(numbers.Real, 1, None, closed="left")],
        "genetic_signal": [Interval(numbers.Real, 0, 1, closed="both")],
        "sequence_length": [Interval(numbers.Integral, 20, None, closed="left")],
        "sequences_per_species": [
            tuple,
            Interval(numbers.Integral, 1, None, closed="left"),
        ],
        "divergence": [Interval(numbers.Real, 0, None, closed="neither")],
        "intraspecific_divergence": [Interval(numbers.Real, 0, None, closed="left")],
        "kappa": [Interval(numbers.Real, 0, None, closed="neither")],
        "gamma_shape": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "intraspecific_variation": [Interval(numbers.Real, 0, None, closed="left")],
        "n_permutations": [Interval(numbers.Integral, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "n_test_per_species": [Interval(numbers.Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_forams(
    *,
    n_species=32,
    n_images=4000,
    image_size=64,
    imbalance_ratio=100,
    genetic_signal=1.0,
    sequence_length=1000,
    sequences_per_species=(1, 12),
    divergence=0.15,
    intraspecific_divergence=0.005,
    kappa=2.0,
    gamma_shape=0.5,
    intraspecific_variation=0.3,
    n_permutations=999,
    shuffle=True,
    n_test_per_species=0,
    random_state=None,
):
    """Generate a long-tailed world of foraminifer images and 18S-like DNA.

    One random phylogeny drives both halves. DNA evolves along it from a
    random root sequence under Kimura's two-parameter model with Gamma rate
    heterogeneity across sites; each species then gets several sequences with
    a little within-species variation. Eleven morphological traits (chambers
    per whorl, chamber growth, spire height, chamber elongation, compactness,
    aperture, porosity, pore size, wall roughness, brightness, tint) and the
    coiling direction evolve along the same tree by Brownian motion, mixed
    with independent per-species variation according to ``genetic_signal``.
    Each image renders one specimen (species traits plus individual
    variation) under a random view, lighting and sensor noise. Class counts
    follow an exponential long tail as in CIFAR-LT.

    Read more in the :ref:`User Guide <data_synthetic>`.

    Parameters
    ----------
    n_species : int, default=32
        Number of species (classes), at least 2.
    n_images : int, default=4000
        Total number of images; must allow 2 images per species.
    image_size : int, default=64
        Height and width of the square images, in pixels (at least 16).
    imbalance_ratio : float, default=100
        Images of the most common species divided by images of the rarest
        (before the floor of 2 images per species). 1 gives balanced classes.
    genetic_signal : float in [0, 1], default=1.0
        Share of each trait's between-species variance that follows the
        phylogeny (Brownian motion on the tree); the rest is independent per
        species. At 0 the images carry no information about the DNA.
    sequence_length : int, default=1000
        Length of the DNA sequences (18S rDNA fragments are about 1,000 bp).
    sequences_per_species : int or tuple of (int, int), default=(1, 12)
        Number of sequences per species, or the inclusive range from which
        each species' number is drawn uniformly.
    divergence : float, default=0.15
        Root-to-tip depth of the tree in expected substitutions per site.
    intraspecific_divergence : float, default=0.005
        Mean substitutions per site between a sequence and its species'
        sequence (exponentially distributed per sequence).
    kappa : float, default=2.0
        Transition/transversion rate ratio of the K80 model (1 = Jukes-Cantor).
    gamma_shape : float or None, default=0.5
        Shape of the Gamma distribution of site rates (smaller = more
        heterogeneous); None gives equal rates.
    intraspecific_variation : float, default=0.3
        Standard deviation of a specimen's traits around its species' values,
        in units of the between-species standard deviation.
    n_permutations : int, default=999
        Permutations of the Mantel test (0 skips the p-value).
    shuffle : bool, default=True
        Shuffle the images; otherwise they are grouped by species, most
        common first.
    n_test_per_species : int, default=0
        Also render this many images of every species into a balanced test
        set (``images_test``, ``target_test``, ``specimens_test``), as
        long-tailed recognition is evaluated (train on a long tail, test on
        a balanced set). Drawn from their own random stream: the long-tailed
        images are the same whatever this value.
    random_state : int, RandomState instance or None, default=None
        Seed. The tree, species, sequences and traits depend only on
        ``random_state`` and the phylogenetic parameters, not on ``n_images``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the attributes:

        images : ndarray of uint8, shape (n_images, image_size, image_size, 3)
            RGB images, one specimen each.
        target : ndarray of str, shape (n_images,)
            Species name of each image.
        target_names : ndarray of str, shape (n_species,)
            Species names, most common first.
        class_counts : Series
            Images per species, indexed by name, most common first.
        sequences : DataFrame
            Columns ``"sequence"`` (str of ACGT) and ``"species"``.
        traits : DataFrame
            Species' mean trait values (one row per species) and ``"coiling"``
            (``"dextral"`` or ``"sinistral"``).
        specimens : DataFrame
            Per image: species, the specimen's own trait values and the
            nuisance parameters of the view (rotation, tilt, scale, shift,
            light, exposure, background, noise).
        tree : str
            The phylogeny as a Newick string (species names with ``_``).
        morphological_distances, genetic_distances : DataFrame
            Species x species distances: Euclidean distance of the
            standardised latent traits, and mean Jukes-Cantor distance between
            the species' sequences.
        mantel : dict
            ``{"r": ..., "p_value": ..., "n_permutations": ...}``: Mantel
            correlation between the two distance matrices.
        images_test, target_test, specimens_test
            The balanced test set (``n_test_per_species`` images of every
            species, grouped by species in the order of ``target_names``);
            present only when ``n_test_per_species > 0``.
        DESCR : str
            Description of the data set.

    See Also
    --------
    vgestimators.model_selection.long_tail_split : Stratified or balanced-test
        splits of a long-tailed set.
    vgestimators.model_selection.LongTailSplit : The same splits as a
        cross-validator.
    plot_forams : A grid of sample images per species.

    Notes
    -----
    The tree is a Yule (pure-birth) tree with root-to-tip depth 1, so Brownian
    motion from 0 gives traits of unit variance at the tips. A species' latent
    trait vector is ``sqrt(g) * phylo + sqrt(1 - g) * independent`` with
    ``g = genetic_signal``; the latent value maps to the trait's range through
    the normal distribution function. Species names are invented; related
    species (one clade of the tree) share a genus.

    Examples
    --------
    >>> from vgestimators.datasets import make_forams
    >>> data = make_forams(n_species=5, n_images=60, image_size=32,
    ...                    imbalance_ratio=10, random_state=0)
    >>> data.images.shape, data.images.dtype
    ((60, 32, 32, 3), dtype('uint8'))
    >>> data.class_counts.tolist()
    [27, 16, 9, 5, 3]
    >>> str(data.target_names[0])
    'Clavicoilina tersa'
    >>> sorted(data.sequences.columns)
    ['sequence', 'species']
    >>> data.tree.endswith(";")
    True
    """
    if n_images < 2 * n_species:
        raise ValueError(
            f"make_forams needs at least 2 images per species: n_images={n_images} "
            f"< 2 * n_species={2 * n_species}."
        )
    if isinstance(sequences_per_species, tuple):
        if (
            len(sequences_per_species) != 2
            or not all(isinstance(v, numbers.Integral) for v in sequences_per_species)
            or not 1 <= sequences_per_species[0] <= sequences_per_species[1]
        ):
            raise ValueError(
                "sequences_per_species must be an int >= 1 or a tuple (low, high) "
                f"of ints with 1 <= low <= high; got {sequences_per_species!r}."
            )
        seq_low, seq_high = sequences_per_species
    else:
        seq_low = seq_high = int(sequences_per_species)

    rng_tree, rng_dna, rng_traits, rng_images, rng_test, rng_balanced = _seeds(
        random_state, 6
    )

    # --- phylogeny and names -------------------------------------------------
    n_genera = max(1, int(round(n_species / 4)))
    tree = yule_tree(n_species, rng_tree, n_clades=n_genera)
    names = _species_names(tree.clades, rng_tree)

    # --- DNA -------------------------------------------------------------------
    leaf_seqs, site_rates = evolve_sequences(
        tree, sequence_length, divergence, kappa, gamma_shape, rng_dna
    )
    per_species = rng_dna.integers(seq_low, seq_high + 1, size=n_species)
    owner = np.repeat(np.arange(n_species), per_species)
    distance = intraspecific_divergence * rng_dna.exponential(1.0, size=len(owner))
    codes = k80_step(
        leaf_seqs[owner], distance[:, None] * site_rates[None, :], kappa, rng_dna
    )
    sequences = pd.DataFrame(
        {"sequence": _decode(codes), "species": pd.Series(names[owner], dtype=object)}
    )

    # --- morphology ------------------------------------------------------------
    phylo = brownian_traits(tree, len(_LATENT), rng_traits)
    independent = rng_traits.standard_normal((n_species, len(_LATENT)))
    latent = (
        np.sqrt(genetic_signal) * phylo + np.sqrt(1.0 - genetic_signal) * independent
    )
    species_traits = _traits_from_latent(latent)
    coiling = np.where(latent[:, -1] >= 0, 1, -1)
    traits = pd.DataFrame(species_traits, index=pd.Index(names, name="species"))
    traits["coiling"] = np.where(coiling > 0, "dextral", "sinistral")

    # --- distances and the Mantel test -----------------------------------------
    z = (latent - latent.mean(0)) / latent.std(0)
    morph = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1))
    seq_dist = jc_distances(codes)
    member = np.zeros((n_species, len(owner)))
    member[owner, np.arange(len(owner))] = 1.0 / per_species[owner]
    genetic = member @ seq_dist @ member.T
    np.fill_diagonal(genetic, 0.0)
    r, p_value = mantel(morph, genetic, n_permutations=n_permutations, rng=rng_test)

    # --- long-tailed class counts and specimens ----------------------------------
    counts = _long_tail_counts(n_species, n_images, imbalance_ratio)
    species_rank = rng_images.permutation(n_species)  # species_rank[i] has counts[i]
    labels = np.repeat(species_rank, counts)
    if shuffle:
        labels = labels[rng_images.permutation(n_images)]
    specimen_args = (latent, coiling, names, intraspecific_variation, image_size)
    images, specimens = _render_specimens(labels, *specimen_args, rng_images)
    target_names = names[species_rank].astype(str)

    index = pd.Index(names, name="species")
    bunch = Bunch(
        images=images,
        target=names[labels].astype(str),
        target_names=target_names,
        class_counts=pd.Series(
            counts, index=pd.Index(target_names, name="species"), name="count"
        ),
        sequences=sequences,
        traits=traits,
        specimens=specimens,
        tree=tree.to_newick(names),
        morphological_distances=pd.DataFrame(morph, index=index, columns=names),
        genetic_distances=pd.DataFrame(genetic, index=index, columns=names),
        mantel={"r": r, "p_value": p_value, "n_permutations": n_permutations},
    )
    if n_test_per_species > 0:
        test_labels = np.repeat(species_rank, int(n_test_per_species))
        bunch.images_test, bunch.specimens_test = _render_specimens(
            test_labels, *specimen_args, rng_balanced
        )
        bunch.target_test = names[test_labels].astype(str)
    bunch.DESCR = _describe(bunch, locals())
    return bunch


def _render_specimens(
    labels, latent, coiling, names, intraspecific_variation, image_size, rng
):
    """Images of one specimen per label, and the specimens' table."""
    n = len(labels)
    individual = latent[labels] + intraspecific_variation * rng.standard_normal(
        (n, len(_LATENT))
    )
    spec_traits = _traits_from_latent(individual)
    # Coiling is (nearly) fixed per species: 3 % of specimens coil the other way.
    flip = rng.random(n) < 0.03
    spec_coil = np.where(flip, -coiling[labels], coiling[labels])
    geom, nuisance = _geometry(spec_traits, spec_coil, image_size, rng, 12)
    appearance, nuisance2 = _appearance(spec_traits, spec_coil, geom, rng)
    images = render_shells({**geom, **appearance}, image_size, rng)
    specimens = pd.DataFrame({"species": names[labels]})
    for key, value in spec_traits.items():
        specimens[key] = value
    specimens["coiling"] = np.where(spec_coil > 0, "dextral", "sinistral")
    for key, value in {**nuisance, **nuisance2}.items():
        specimens[key] = value
    return images, specimens


def _describe(bunch, params):
    counts = bunch.class_counts
    lines = [
        "Synthetic foraminifera dataset",
        "------------------------------",
        "",
        "A simulated, long-tailed collection of microscope images of planktic",
        "foraminifer shells with 18S-like DNA sequences, generated by",
        "vgestimators.datasets.make_forams. One random Yule phylogeny drives both",
        "the DNA (K80 substitutions with Gamma site rates) and the morphology",
        "(Brownian motion of 12 latent traits).",
        "",
        "**Data Set Characteristics:**",
        "",
        f":Number of species: {len(counts)}",
        f":Number of images: {int(counts.sum())} "
        f"({params['image_size']} x {params['image_size']} RGB, uint8)",
        f":Images per species: {int(counts.max())} (most common) to "
        f"{int(counts.min())} (rarest), imbalance ratio {params['imbalance_ratio']}",
        f":Sequences: {len(bunch.sequences)} of {params['sequence_length']} bp "
        f"({params['seq_low']} to {params['seq_high']} per species)",
        f":Genetic signal in morphology: {params['genetic_signal']}",
        f":Mantel r (morphology vs DNA): {bunch.mantel['r']:.3f} "
        f"(p = {bunch.mantel['p_value']:.3g}, "
        f"{bunch.mantel['n_permutations']} permutations)",
        "",
        "Traits (species means in bunch.traits, per image in bunch.specimens):",
    ]
    lines += [f"- {name}: {meaning}" for name, (_, _, meaning) in TRAITS.items()]
    lines += [
        "- coiling: dextral or sinistral (3 % of specimens coil the other way)",
        "",
        "Species names are invented; species of one clade share a genus.",
    ]
    return "\n".join(lines) + "\n"
