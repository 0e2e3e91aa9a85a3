"""Random phylogenies, trait and DNA evolution along them, and the Mantel test.

Private helpers of :func:`vgestimators.datasets.make_forams`. A tree is stored
as flat arrays: nodes ``0 .. n_leaves - 1`` are the leaves (species), nodes
``n_leaves .. 2 * n_leaves - 2`` the internal nodes in the order they were
created, so every parent has a larger index than its children and the root is
the last node. Walking the nodes from the last to the first therefore visits
each parent before its children.
"""

from dataclasses import dataclass

import numpy as np

# Nucleotides are coded A=0, C=1, G=2, T=3: the transition partner of a base
# (A<->G, C<->T) is ``code ^ 2``; its two transversion partners are
# ``code ^ 1`` and ``code ^ 3``.
NUCLEOTIDES = np.array(list("ACGT"))


@dataclass
class Tree:
    """An ultrametric rooted binary tree (root-to-tip depth 1)."""

    parent: np.ndarray  # (n_nodes,) int, -1 for the root
    branch_length: np.ndarray  # (n_nodes,) float, 0 for the root
    height: np.ndarray  # (n_nodes,) float, 0 for the leaves, 1 for the root
    clades: np.ndarray  # (n_leaves,) int, clade of each leaf at the genus cut

    @property
    def n_leaves(self):
        return (len(self.parent) + 1) // 2

    @property
    def root(self):
        return len(self.parent) - 1

    def children(self):
        """List of ``(left, right)`` children per internal node."""
        kids = {}
        for node, par in enumerate(self.parent):
            if par >= 0:
                kids.setdefault(int(par), []).append(node)
        return kids

    def to_newick(self, names, digits=5):
        """Newick string with ``names`` on the leaves and branch lengths."""
        kids = self.children()

        def _format(node):
            if node < self.n_leaves:
                label = str(names[node]).replace(" ", "_")
            else:
                left, right = kids[node]
                label = f"({_format(left)},{_format(right)})"
            if node == self.root:
                return label
            return f"{label}:{self.branch_length[node]:.{digits}f}"

        return _format(self.root) + ";"


def yule_tree(n_leaves, rng, n_clades=1):
    """Random Yule (pure-birth) tree scaled to root-to-tip depth 1.

    Built backwards in time: with ``k`` lineages left, two random lineages
    merge after an exponential waiting time of rate ``k``, which gives the
    reconstructed tree of a pure-birth process. ``clades`` records, for each
    leaf, which of the ``n_clades`` lineages alive at that point it descends
    from (used to give related species the same genus).
    """
    n_nodes = 2 * n_leaves - 1
    parent = np.full(n_nodes, -1, dtype=np.intp)
    height = np.zeros(n_nodes)
    lineages = list(range(n_leaves))
    member = np.arange(n_leaves)  # current lineage of each leaf
    clades = np.zeros(n_leaves, dtype=np.intp)
    t = 0.0
    for node in range(n_leaves, n_nodes):
        k = len(lineages)
        if k == n_clades:
            _, clades = np.unique(member, return_inverse=True)
        t += rng.exponential(1.0 / k)
        i, j = sorted(rng.choice(k, size=2, replace=False))
        a, b = lineages[i], lineages[j]
        parent[a] = parent[b] = node
        height[node] = t
        member[(member == a) | (member == b)] = node
        lineages[i] = node
        del lineages[j]
    height /= height[-1]
    branch_length = np.zeros(n_nodes)
    branch_length[:-1] = height[parent[:-1]] - height[:-1]
    return Tree(parent, branch_length, height, np.asarray(clades, dtype=np.intp))


def brownian_traits(tree, n_traits, rng):
    """Brownian motion from 0 at the root; leaf values have unit variance."""
    values = np.zeros((len(tree.parent), n_traits))
    steps = rng.standard_normal((len(tree.parent), n_traits))
    for node in range(tree.root - 1, -1, -1):
        values[node] = (
            values[tree.parent[node]] + np.sqrt(tree.branch_length[node]) * steps[node]
        )
    return values[: tree.n_leaves]


def k80_step(codes, distance, kappa, rng):
    """Evolve integer-coded sequences by ``distance`` substitutions per site.

    Kimura's two-parameter model (K80): transitions are ``kappa`` times as
    likely as each transversion; ``kappa=1`` is Jukes-Cantor. ``distance``
    broadcasts against ``codes`` (per-site rates times branch length).
    """
    beta = distance / (kappa + 2.0)  # per-transversion rate times time
    e4 = np.exp(-4.0 * beta)
    p_tv = 0.25 - 0.25 * e4  # probability of each of the two transversions
    p_ts = 0.25 + 0.25 * e4 - 0.5 * np.exp(-2.0 * (kappa + 1.0) * beta)
    u = rng.random(codes.shape)
    out = codes.copy()
    ts = u < p_ts
    tv1 = ~ts & (u < p_ts + p_tv)
    tv2 = ~ts & ~tv1 & (u < p_ts + 2.0 * p_tv)
    out[ts] ^= 2
    out[tv1] ^= 1
    out[tv2] ^= 3
    return out


def evolve_sequences(tree, length, divergence, kappa, gamma_shape, rng):
    """Leaf sequences (n_leaves, length) evolved from a random root sequence.

    ``divergence`` is the root-to-tip depth in expected substitutions per
    site; site rates follow a Gamma distribution with mean 1 and shape
    ``gamma_shape`` (``None`` for equal rates).
    """
    if gamma_shape is None:
        rates = np.ones(length)
    else:
        rates = rng.gamma(gamma_shape, 1.0 / gamma_shape, size=length)
    seqs = np.zeros((len(tree.parent), length), dtype=np.int8)
    seqs[tree.root] = rng.integers(0, 4, size=length)
    for node in range(tree.root - 1, -1, -1):
        d = divergence * tree.branch_length[node] * rates
        seqs[node] = k80_step(seqs[tree.parent[node]], d, kappa, rng)
    return seqs[: tree.n_leaves], rates


def jc_distances(codes):
    """Jukes-Cantor corrected pairwise distances between coded sequences."""
    codes = np.asarray(codes)
    length = codes.shape[1]
    onehot = np.zeros((codes.shape[0], length * 4), dtype=np.float32)
    onehot[np.arange(codes.shape[0])[:, None], np.arange(length) * 4 + codes] = 1.0
    p = 1.0 - (onehot @ onehot.T) / length
    p = np.clip(p, 0.0, 0.74)  # saturated pairs get a large finite distance
    return -0.75 * np.log1p(-4.0 / 3.0 * p)


def mantel(a, b, *, n_permutations=999, rng=None):
    """Mantel test: Pearson correlation of two distance matrices.

    The p-value is one-sided (H1: positive correlation) from
    ``n_permutations`` joint permutations of the rows and columns of ``a``,
    computed for all permutations at once.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n = a.shape[0]
    iu = np.triu_indices(n, k=1)
    y = b[iu] - b[iu].mean()
    y /= np.linalg.norm(y)

    def _corr(x):
        x = x - x.mean(axis=-1, keepdims=True)
        norm = np.linalg.norm(x, axis=-1)
        return (x @ y) / np.where(norm > 0, norm, np.inf)

    r = float(_corr(a[iu]))
    if n_permutations == 0 or n < 4:
        return r, np.nan
    rng = np.random.default_rng(rng)
    perms = np.argsort(rng.random((n_permutations, n)), axis=1)
    permuted = a[perms[:, iu[0]], perms[:, iu[1]]]  # (n_permutations, n_pairs)
    r_perm = _corr(permuted)
    p_value = (1.0 + np.count_nonzero(r_perm >= r - 1e-12)) / (n_permutations + 1.0)
    return r, float(p_value)
