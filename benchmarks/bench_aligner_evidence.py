"""Accuracy of the aligner's rules against plain k-NN on constructed data.

On :func:`vgestimators.datasets.make_linked_embeddings` (visual class means
are a linear map of the genetic anchors; head species with 40 training
images, tail species with 2, zero-shot species with none), prints the mean
and standard deviation over seeds of the accuracy on head, tail and
zero-shot species for plain k-NN and the aligner's three rules. This is the
table of the user guide's alignment page.

Run::

    python benchmarks/bench_aligner_evidence.py [--seeds 5]
"""

import argparse

import pandas as pd
from sklearn.neighbors import KNeighborsClassifier

from vgestimators import VisualGeneticAligner
from vgestimators.datasets import make_linked_embeddings

RULES = {
    "plain k-NN (k=5)": None,
    'aligner, "knn"': "knn",
    'aligner, "anchor"': "anchor",
    'aligner, "hybrid" (weight 0.5)': "hybrid",
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args(argv)
    rows = []
    for seed in range(args.seeds):
        data = make_linked_embeddings(random_state=seed)
        for name, rule in RULES.items():
            if rule is None:
                model = KNeighborsClassifier(n_neighbors=5)
            else:
                model = VisualGeneticAligner(
                    anchors=data.anchors, classifier=rule, random_state=seed
                )
            y_pred = model.fit(data.X_train, data.y_train).predict(data.X_test)
            correct = y_pred == data.y_test
            for group in ("head", "tail", "zero"):
                rows.append((name, group, seed, correct[data.group == group].mean()))
    scores = pd.DataFrame(rows, columns=["rule", "group", "seed", "accuracy"])
    table = scores.groupby(["rule", "group"], sort=False)["accuracy"].agg(
        ["mean", "std"]
    )
    table = table.apply(lambda r: f"{r['mean']:.2f} ± {r['std']:.2f}", axis=1)
    print(f"accuracy over seeds 0..{args.seeds - 1} (chance 1/27)")
    print(table.unstack("group").to_string())


if __name__ == "__main__":
    main()
