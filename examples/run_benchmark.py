"""The rare-species benchmark: how much does each step buy for rare species?

Compares, on the same splits of a long-tailed species data set (a few
species held out of training in each, for zero-shot testing), ten
scikit-learn Pipelines built from vgestimators' estimators, each declared
once (``vgestimators.benchmark.build_pipeline``) and fitted as a user would:

1. a softmax-trained CNN (the classic baseline),
2. TripletImageEmbedder + k-NN (the paper's pre-training),
3. the same embeddings + nearest class mean,
4. + class-balanced logistic regression (cRT),
5. triplet training with m-per-class sampling + k-NN,
6. + VisualGeneticAligner, its default DNA-informed prototypes,
7. the control: (6) with the DNA shuffled across species,
8. + the aligner with the paper's aligned k-NN rule,
9. + end-to-end aligned fine-tuning of the network (the paper),
10. + the aligner's nearest genetic anchor (zero-shot).

It prints the table (mean ± std over splits of accuracy, balanced accuracy,
macro-F1, many/medium/few-shot and rarest-class accuracy) and writes
``results.csv``, ``results.md``, the per-split ``scores.csv`` and
``per_class.csv``, ``pipelines.md`` and three figures under ``--out``
(default ``results/``).

Run ``python examples/run_benchmark.py --help`` for the options, e.g.::

    python examples/run_benchmark.py --quick
    python examples/run_benchmark.py --device cuda
    python examples/run_benchmark.py --images EndlessForams/ \\
        --sequences pfr2_foram_18s_32class.csv --mapping classes.csv

This script is the same as ``python -m vgestimators.benchmark``.
"""

import sys

from vgestimators.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
