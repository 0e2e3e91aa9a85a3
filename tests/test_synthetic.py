"""Tests of make_forams, its phylogenetic helpers and plot_forams."""

import re
import sys

import numpy as np
import pandas as pd
import pytest

from vgestimators.datasets import make_forams, plot_forams
from vgestimators.datasets._phylo import (
    jc_distances,
    k80_step,
    mantel,
    yule_tree,
)
from vgestimators.model_selection import long_tail_split


def _small(**kwargs):
    params = dict(
        n_species=6,
        n_images=60,
        image_size=24,
        imbalance_ratio=10,
        sequence_length=120,
        n_permutations=99,
        random_state=0,
    )
    params.update(kwargs)
    return make_forams(**params)


@pytest.fixture(scope="module")
def data():
    return _small()


# --- the Bunch --------------------------------------------------------------------


def test_shapes_and_dtypes(data):
    assert data.images.shape == (60, 24, 24, 3)
    assert data.images.dtype == np.uint8
    assert data.target.shape == (60,)
    assert data.target.dtype.kind == "U"
    assert len(data.target_names) == 6 == len(set(data.target_names))
    assert set(data.target) == set(data.target_names)
    assert list(data.sequences.columns) == ["sequence", "species"]
    assert set(data.traits.index) == set(data.target_names)
    assert set(data.traits["coiling"]) <= {"dextral", "sinistral"}
    assert len(data.specimens) == 60
    assert (data.specimens["species"].to_numpy() == data.target).all()
    assert isinstance(data.DESCR, str) and "Mantel" in data.DESCR
    assert data.morphological_distances.shape == (6, 6)
    assert data.genetic_distances.shape == (6, 6)


def test_images_look_like_shells_on_dark_background(data):
    images = data.images.astype(float)
    # dark corners, brighter centre, and no two images alike
    corners = images[:, :3, :3].mean()
    centre = images[:, 9:15, 9:15].mean()
    assert corners < 40
    assert centre > corners + 40
    flat = data.images.reshape(len(images), -1)
    assert len(np.unique(flat, axis=0)) == len(images)


def test_sequences(data):
    seqs = data.sequences
    assert set(seqs["species"]) == set(data.target_names)
    per_species = seqs["species"].value_counts()
    assert per_species.min() >= 1 and per_species.max() <= 12
    assert (seqs["sequence"].str.len() == 120).all()
    assert seqs["sequence"].str.fullmatch("[ACGT]+").all()
    # within a species sequences are close, between species farther apart
    gen = data.genetic_distances.to_numpy()
    off = gen[~np.eye(6, dtype=bool)]
    assert (off > 0).all()
    codes = np.array([["ACGT".index(base) for base in s] for s in seqs["sequence"]])
    dist = jc_distances(codes)
    species = seqs["species"].to_numpy()
    same = species[:, None] == species[None, :]
    within = same & ~np.eye(len(species), dtype=bool)
    assert within.any()
    assert dist[within].mean() < dist[~same].mean()


def test_same_seed_same_data_other_seed_other_data():
    a = _small(random_state=3)
    b = _small(random_state=3)
    c = _small(random_state=4)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.target, b.target)
    pd.testing.assert_frame_equal(a.sequences, b.sequences)
    pd.testing.assert_frame_equal(a.traits, b.traits)
    assert a.tree == b.tree and a.mantel == b.mantel
    assert not np.array_equal(a.images, c.images)
    assert a.tree != c.tree


def test_species_and_dna_do_not_depend_on_n_images():
    a = _small(n_images=60)
    b = _small(n_images=90)
    assert a.tree == b.tree
    pd.testing.assert_frame_equal(a.sequences, b.sequences)
    pd.testing.assert_frame_equal(a.traits, b.traits)


def test_names_are_unique_binomials():
    data = make_forams(
        n_species=60, n_images=120, image_size=16, n_permutations=0, random_state=1
    )
    names = data.target_names
    assert len(set(names)) == 60
    assert all(re.fullmatch(r"[A-Z][a-z]+ ([a-z]+|sp\. \d+)", n) for n in names)
    # related species share a genus: fewer genera than species
    assert 1 < len({n.split()[0] for n in names}) < 60


def test_newick_tree_is_ultrametric(data):
    newick = data.tree
    assert newick.endswith(";") and newick.count("(") == newick.count(")")
    for name in data.target_names:
        assert newick.count(name.replace(" ", "_") + ":") == 1
    rng = np.random.default_rng(0)
    tree = yule_tree(20, rng)
    for leaf in range(20):
        depth, node = 0.0, leaf
        while tree.parent[node] >= 0:
            depth += tree.branch_length[node]
            node = tree.parent[node]
        assert depth == pytest.approx(1.0)
    assert (tree.branch_length[:-1] >= 0).all()


# --- long tail ---------------------------------------------------------------------


@pytest.mark.parametrize("ratio", [1, 10, 100])
def test_class_counts_follow_exponential_profile(ratio):
    data = make_forams(
        n_species=20,
        n_images=2000,
        image_size=16,
        imbalance_ratio=ratio,
        n_permutations=0,
        random_state=0,
    )
    counts = data.class_counts
    assert counts.sum() == 2000
    assert counts.is_monotonic_decreasing
    assert list(counts.index) == list(data.target_names)
    observed = pd.Series(data.target).value_counts()
    assert (observed[counts.index].to_numpy() == counts.to_numpy()).all()
    assert counts.iloc[0] / counts.iloc[-1] == pytest.approx(ratio, rel=0.1)
    if ratio > 1:
        # log-counts fall on a straight line against the rank
        slope, _ = np.polyfit(np.arange(20), np.log(counts.to_numpy()), 1)
        assert slope == pytest.approx(-np.log(ratio) / 19, rel=0.05)


def test_every_species_has_at_least_two_images():
    data = make_forams(
        n_species=30,
        n_images=100,
        image_size=16,
        imbalance_ratio=1000,
        n_permutations=0,
        random_state=0,
    )
    assert data.class_counts.min() == 2
    assert data.class_counts.sum() == 100


def test_unshuffled_images_are_grouped_by_species():
    data = _small(shuffle=False)
    runs = [
        name
        for i, name in enumerate(data.target)
        if i == 0 or name != data.target[i - 1]
    ]
    assert runs == list(data.target_names)


# --- DNA model and Mantel test -------------------------------------------------------


def test_k80_matches_expected_substitution_probabilities():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, 200_000).astype(np.int8)
    d, kappa = 0.3, 4.0
    out = k80_step(codes, np.full(codes.shape, d), kappa, rng)
    changed = out != codes
    transitions = out == (codes ^ 2)
    beta = d / (kappa + 2)
    p_tv = 0.5 - 0.5 * np.exp(-4 * beta)
    p_ts = 0.25 + 0.25 * np.exp(-4 * beta) - 0.5 * np.exp(-2 * (kappa + 1) * beta)
    assert transitions.mean() == pytest.approx(p_ts, abs=0.004)
    assert (changed & ~transitions).mean() == pytest.approx(p_tv, abs=0.004)
    # with kappa=1 (Jukes-Cantor) the JC distance recovers d
    jc = k80_step(codes, np.full(codes.shape, d), 1.0, rng)
    assert jc_distances(np.stack([codes, jc]))[0, 1] == pytest.approx(d, abs=0.01)


def test_mantel_against_brute_force():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(12, 3))
    a = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    noise = rng.normal(scale=2.0, size=a.shape)
    b = a + (noise + noise.T) / 2  # a weak link: p-value neither 1 nor minimal
    np.fill_diagonal(b, 0)
    r, p = mantel(a, b, n_permutations=199, rng=7)
    iu = np.triu_indices(12, 1)
    assert r == pytest.approx(np.corrcoef(a[iu], b[iu])[0, 1])
    # the same permutations, one at a time
    perms = np.argsort(np.random.default_rng(7).random((199, 12)), axis=1)
    r_perm = np.array([np.corrcoef(a[q][:, q][iu], b[iu])[0, 1] for q in perms])
    assert p == pytest.approx((1 + np.sum(r_perm >= r - 1e-12)) / 200)
    assert 0.005 < p < 0.9
    # a strong link beats every permutation; no permutations means no p-value
    r_strong, p_strong = mantel(a, a**2, n_permutations=99, rng=0)
    assert r_strong > 0.9 and p_strong == pytest.approx(1 / 100)
    assert np.isnan(mantel(a, b, n_permutations=0)[1])


def test_mantel_rises_with_genetic_signal():
    def rs(signal):
        out = []
        for seed in range(5):
            d = make_forams(
                n_species=32,
                n_images=64,
                image_size=16,
                sequence_length=300,
                genetic_signal=signal,
                n_permutations=199,
                random_state=seed,
            )
            out.append((d.mantel["r"], d.mantel["p_value"]))
        return np.array(out)

    none, full = rs(0.0), rs(1.0)
    assert abs(none[:, 0].mean()) < 0.1
    assert np.all(full[:, 0] > 0.35)
    assert np.all(full[:, 1] <= 0.01)
    assert full[:, 0].mean() > none[:, 0].mean() + 0.4


def test_genetic_distances_follow_the_tree():
    data = make_forams(
        n_species=16, n_images=32, image_size=16, n_permutations=0, random_state=2
    )
    # species of one genus (one clade) are genetically closer than others
    genus = np.array([n.split()[0] for n in data.genetic_distances.index])
    gen = data.genetic_distances.to_numpy()
    same = (genus[:, None] == genus[None]) & ~np.eye(16, dtype=bool)
    assert same.any()
    assert gen[same].mean() < gen[~same & ~np.eye(16, dtype=bool)].mean()


# --- parameter validation ------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"genetic_signal": 1.5}, "'genetic_signal' parameter of make_forams"),
        ({"imbalance_ratio": 0.5}, "'imbalance_ratio' parameter"),
        ({"n_species": 1}, "'n_species' parameter"),
        ({"image_size": 8}, "'image_size' parameter"),
        ({"n_species": 40, "n_images": 50}, "at least 2 images per species"),
        ({"sequences_per_species": (5, 2)}, "sequences_per_species must be"),
        ({"sequences_per_species": (1, 2, 3)}, "sequences_per_species must be"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_parameter_errors(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_forams(**{"n_images": 40, "n_species": 4, "image_size": 16, **kwargs})


def test_fixed_number_of_sequences():
    data = _small(sequences_per_species=3)
    assert (data.sequences["species"].value_counts() == 3).all()


# --- the data set is learnable at the head, hard at the tail -----------------------


def test_small_cnn_learns_head_species_but_not_the_rarest():
    torch = pytest.importorskip("torch")
    from torch import nn

    data = make_forams(
        n_species=8,
        n_images=1000,
        image_size=32,
        imbalance_ratio=40,
        n_permutations=0,
        random_state=0,
    )
    lookup = {name: i for i, name in enumerate(data.target_names)}  # head first
    y = np.array([lookup[name] for name in data.target])
    train, test = long_tail_split(
        y, strategy="balanced", n_test_per_class=8, random_state=0
    )

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        x = torch.as_tensor(data.images).permute(0, 3, 1, 2).float() / 255
        mean = x[train].mean((0, 2, 3), keepdim=True)
        std = x[train].std((0, 2, 3), keepdim=True)
        x = (x - mean) / std
        target = torch.as_tensor(y)
        net = nn.Sequential(
            nn.Conv2d(3, 12, 5, stride=2, padding=2),
            nn.BatchNorm2d(12),
            nn.ReLU(),
            nn.Conv2d(12, 24, 3, stride=2, padding=1),
            nn.BatchNorm2d(24),
            nn.ReLU(),
            nn.Conv2d(24, 48, 3, padding=1),
            nn.BatchNorm2d(48),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(48, 8),
        )
        epochs, batch = 15, 64
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        steps = epochs * ((len(train) + batch - 1) // batch)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=5e-3, total_steps=steps)
        gen = torch.Generator().manual_seed(0)
        train_t = torch.as_tensor(train)
        for _ in range(epochs):
            net.train()
            order = train_t[torch.randperm(len(train), generator=gen)]
            for i in range(0, len(order), batch):
                idx = order[i : i + batch]
                k = int(torch.randint(4, (1,), generator=gen))  # random 90° turns
                logits = net(torch.rot90(x[idx], k, (2, 3)))
                loss = nn.functional.cross_entropy(logits, target[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        net.eval()
        with torch.no_grad():
            pred = net(x[test]).argmax(1).numpy()
    finally:
        torch.set_num_threads(threads)

    recall = np.array([(pred[y[test] == c] == c).mean() for c in range(8)])
    head, tail = recall[:3].mean(), recall[-3:].mean()
    assert head >= 0.6, recall  # chance is 1/8
    assert tail <= 0.4, recall
    assert head - tail >= 0.4, recall


# --- plot_forams -----------------------------------------------------------------------


def test_plot_forams_rows_sorted_by_count(data):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plot_forams(data, n_per_species=4)
    try:
        (ax,) = fig.axes
        labels = [t.get_text() for t in ax.get_yticklabels()]
        expected = [f"{n} ({c})" for n, c in data.class_counts.items()]
        assert labels == expected
        mosaic = ax.get_images()[0].get_array()
        pad = max(1, 24 // 16)
        assert mosaic.shape[0] == 6 * (24 + pad) + pad
        assert mosaic.shape[1] == 4 * (24 + pad) + pad
        assert "Mantel" in fig.get_suptitle()
    finally:
        plt.close(fig)

    fig = plot_forams(data, species=2, n_per_species=2, title="two")
    try:
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        assert len(labels) == 2 and fig.get_suptitle() == "two"
    finally:
        plt.close(fig)


def test_plot_forams_errors(data, monkeypatch):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="Species not in"):
        plot_forams(data, species=["Nonexistens species"])
    with pytest.raises(ValueError, match="has 60 images but"):
        plot_forams({"images": data.images, "target": data.target[:5]})
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="plot_forams needs matplotlib"):
        plot_forams(data)


@pytest.mark.parametrize("n_species, n_images", [(6, 200), (4, 39), (3, 6)])
def test_write_forams_folder_writes_exactly_n_images(tmp_path, n_species, n_images):
    from vgestimators.datasets import write_forams_folder

    data = write_forams_folder(
        tmp_path,
        n_species=n_species,
        n_images=n_images,
        image_size=16,
        n_test_per_species=0,
        n_new=1,
    )
    written = list(data.images.rglob("*.png"))
    assert len(written) == n_images
    assert {p.parent.name for p in written} == set(data.species)  # each has some
    with pytest.raises(ValueError, match="fewer than 2 images"):
        write_forams_folder(tmp_path / "small", n_species=4, n_images=7)
