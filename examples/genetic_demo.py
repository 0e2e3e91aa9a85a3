"""Species identification from DNA alone, and genetic anchors.

Embeds 18S rDNA sequences with the Sequence Graph Transform (SGT), identifies
the species of every sequence by its nearest other sequence (leave-one-out
1-NN), builds one genetic anchor per species (``GeneticAnchors``) and prints
the most similar species pairs.

Sequences come from ``--sequences``: a PFR2-style CSV table (columns
FullSequence, Genus, species, ...; see ``vgestimators.datasets.load_pfr2``)
or a FASTA file whose header text after the id is the species name. Without
it, the demo simulates sequences: one random ancestor per genus, species
derived from it by point mutations, and individuals from their species by
fewer mutations.

Run::

    python examples/genetic_demo.py
    python examples/genetic_demo.py --sequences ../shared/data/pfr2_foram_18s_32class.csv
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, balanced_accuracy_score, pairwise_distances
from sklearn.metrics.pairwise import cosine_similarity
from tqdm.auto import tqdm

from vgestimators.datasets import load_pfr2, read_fasta
from vgestimators.genetics import GeneticAnchors, SGTTransformer

FASTA_SUFFIXES = {".fa", ".fasta", ".fas", ".fna", ".ffn", ".faa"}


def simulate(n_species=8, per_species=12, length=1000, seed=0):
    """Simulated 18S-like sequences: genera, species and individuals.

    Returns
    -------
    pandas.DataFrame
        Columns ``sequence`` and ``species``.
    """
    rng = np.random.default_rng(seed)
    bases = np.array(list("ACGT"))
    n_genera = max(1, n_species // 3)
    genera = [rng.choice(bases, size=length, p=[0.25, 0.2, 0.23, 0.32])]
    for _ in range(n_genera - 1):
        genera.append(_mutate(genera[0], 0.15, rng))
    rows = []
    for k in range(n_species):
        genus = k % n_genera
        ancestor = _mutate(genera[genus], 0.04, rng)
        name = f"Genus{genus} species{k}"
        for _ in range(per_species):
            rows.append(("".join(_mutate(ancestor, 0.01, rng)), name))
    return pd.DataFrame(rows, columns=["sequence", "species"])


def _mutate(seq, rate, rng):
    """Point substitutions, plus a few deletions and insertions."""
    seq = seq.copy()
    sites = rng.random(len(seq)) < rate
    seq[sites] = rng.choice(list("ACGT"), size=int(sites.sum()))
    keep = rng.random(len(seq)) > rate / 10
    seq = seq[keep]
    inserts = np.flatnonzero(rng.random(len(seq)) < rate / 10)
    return np.insert(seq, inserts, rng.choice(list("ACGT"), size=len(inserts)))


def read_sequences(path, label_column=None):
    """A PFR2-style CSV or a FASTA file as (sequences, labels, label names)."""
    path = Path(path)
    with open(path, encoding="utf-8") as handle:
        first = next((line for line in handle if line.strip()), "")
    if path.suffix.lower() in FASTA_SUFFIXES or first.lstrip().startswith(">"):
        table = read_fasta(path)
        missing = table["description"] == ""
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise ValueError(
                f"{path}: record {table['id'][i]!r} has no species name after its "
                "id in the header ('>id Genus species')."
            )
        return table["sequence"], table["description"].to_numpy(), {}
    table = load_pfr2(path)
    if label_column is None:
        label_column = (
            "endless_forams_class" if "endless_forams_class" in table else "label"
        )
    if label_column not in table:
        raise ValueError(
            f"{path}: no column {label_column!r}; columns are {list(table.columns)}"
        )
    labels = table[label_column].to_numpy()
    names = {
        key: " / ".join(sorted(group.unique()))
        for key, group in table.groupby(label_column)["label"]
    }
    return table["sequence"], labels, names


def embed(sequences, transformer, chunk=200):
    """Fit and transform in chunks, with a progress bar if it takes a while."""
    transformer.fit(sequences)
    parts = []
    starts = range(0, len(sequences), chunk)
    for start in tqdm(starts, desc="SGT", unit="chunk", delay=2.0, leave=False):
        parts.append(transformer.transform(sequences[start : start + chunk]))
    return np.vstack(parts)


def loo_nearest_neighbour(X, y, metric="euclidean"):
    """Leave-one-out 1-NN: every sequence gets the label of its nearest other."""
    D = pairwise_distances(X, metric=metric)
    np.fill_diagonal(D, np.inf)
    return y[np.argmin(D, axis=1)]


def main(argv=None):
    """Run the demo; returns the figures it prints (a dict)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sequences",
        help="PFR2-style CSV or FASTA file (default: simulate sequences)",
    )
    parser.add_argument(
        "--label-column",
        help="class column of a CSV (default: endless_forams_class if present, "
        "else label = 'Genus species')",
    )
    parser.add_argument("--kappa", type=float, default=1.0, help="SGT kappa (1)")
    parser.add_argument(
        "--metric", default="euclidean", help="1-NN distance (euclidean, cosine)"
    )
    parser.add_argument("--top", type=int, default=8, help="species pairs to list")
    parser.add_argument("--n-species", type=int, default=8, help="simulation")
    parser.add_argument("--per-species", type=int, default=12, help="simulation")
    parser.add_argument("--length", type=int, default=1000, help="simulation")
    parser.add_argument("--seed", type=int, default=0, help="simulation")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.sequences:
        sequences, labels, names = read_sequences(args.sequences, args.label_column)
        source = args.sequences
    else:
        table = simulate(args.n_species, args.per_species, args.length, args.seed)
        sequences, labels, names = table["sequence"], table["species"].to_numpy(), {}
        source = (
            f"simulated: {args.n_species} species x {args.per_species} sequences "
            f"of ~{args.length} bp"
        )
    sequences = np.asarray(sequences, dtype=object)
    n_species = len(np.unique(labels))
    print(f"Sequences: {len(sequences)} of {n_species} species ({source})")

    sgt = SGTTransformer(kappa=args.kappa, alphabet="ACGT", unknown="skip")
    X = embed(sequences, sgt)
    predicted = loo_nearest_neighbour(X, labels, args.metric)
    acc = accuracy_score(labels, predicted)
    bacc = balanced_accuracy_score(labels, predicted)
    print(
        f"Species from DNA alone, leave-one-out 1-NN on SGT vectors (kappa="
        f"{args.kappa:g}, ACGT, {args.metric}): accuracy {acc:.1%}, balanced "
        f"accuracy {bacc:.1%}"
    )

    anchors = GeneticAnchors().fit(sequences, labels)
    A = anchors.anchors_
    C = cosine_similarity(A.to_numpy())
    i, j = np.triu_indices(len(A), 1)
    order = np.argsort(-C[i, j])[: args.top]
    print(
        f"Genetic anchors: {A.shape[0]} species x {A.shape[1]} features (SGT of "
        "dinucleotides, standardised across species)"
    )
    print(f"The {len(order)} most similar species pairs (cosine of anchors):")
    pairs = []
    for k in order:
        a, b = A.index[i[k]], A.index[j[k]]
        na, nb = names.get(a, str(a)), names.get(b, str(b))
        pairs.append((a, b, float(C[i[k], j[k]])))
        print(f"  {C[i[k], j[k]]:+.3f}  {na}  ~  {nb}")
    print(f"Done in {time.perf_counter() - start:.1f} s")
    return {
        "n_sequences": len(sequences),
        "n_species": n_species,
        "accuracy": acc,
        "balanced_accuracy": bacc,
        "pairs": pairs,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
