#!/usr/bin/env bash
# Download the wheels the lent GPU machine lacks (Python 3.12, x86-64) into
# .whl/ (ignored by git), at the versions installed here. See
# docs/user_guide/gpu.rst for the command that installs them there and runs
# benchmarks/gpu_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
PY=${PYTHON:-.venv/bin/python}
version() { "$PY" -c "import importlib.metadata as m; print(m.version('$1'))"; }
mkdir -p .whl
for name in skorch imbalanced-learn sklearn-compat pytorch-metric-learning; do
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform any -d .whl "$name==$(version "$name")"
done
ls -la .whl
