"""The rare-species benchmark: how much does each step buy for rare species?

Compares, on the same repeated stratified long-tail splits of a long-tailed
species data set, six scikit-learn Pipelines built from vgestimators'
estimators:

1. a softmax-trained CNN (the classic baseline),
2. TripletImageEmbedder + k-NN (the paper's pre-training),
3. the same with class-balanced (m-per-class) sampling,
4. + VisualGeneticAligner (image embeddings aligned with genetic anchors),
5. + end-to-end aligned fine-tuning of the network,
6. zero-shot: species held out of training, named from their DNA anchor.

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
