"""The documented ways to tune the DNA embedding work as written.

The README section "The full Pipeline in code" and the user guide name
parameter paths through ``GeneticAnchors``' embedder
(``...anchors__embedder__kappa``). Each example is run up to its first
``fit`` (the construction: data, Pipeline, grid search); every parameter
path it names must then be settable, and the search must survive
``get_params`` and ``clone``.
"""

import ast
import re
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from sklearn.base import clone

import vgestimators
from vgestimators.alignment import VisualGeneticAligner
from vgestimators.genetics import GeneticAnchors, SGTTransformer

ROOT = Path(__file__).resolve().parent.parent
README_SECTION = "## The full Pipeline in code"


def _readme_section():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(README_SECTION, 1)[1]
    return section.split("\n## ", 1)[0]


def _markdown_code(text):
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _rst_code(text):
    """The ``.. code-block:: python`` blocks of an rst text, dedented."""
    blocks = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() != ".. code-block:: python":
            continue
        body = []
        for following in lines[i + 1 :]:
            if following.strip() and not following.startswith("    "):
                break
            body.append(following)
        blocks.append(textwrap.dedent("\n".join(body)).strip() + "\n")
    return blocks


def _calls_fit(node):
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr in {"fit", "fit_transform", "predict"}
        for n in ast.walk(node)
    )


def _run_until_fit(code, namespace):
    """Execute the statements of ``code`` that come before its first fit."""
    tree = ast.parse(code)
    kept = []
    for statement in tree.body:
        if _calls_fit(statement):
            break
        kept.append(statement)
    exec(compile(ast.Module(kept, type_ignores=[]), "<docs>", "exec"), namespace)
    return namespace


def _parameter_paths(text):
    """Nested parameter names (``a__b__c``) quoted in a text."""
    return set(re.findall(r"[`\"']([a-z_]+__[a-z_]+(?:__[a-z_]+)*)[`\"']", text))


def _check_search(search, estimator, paths):
    """Every path is a parameter; every grid value can be set and read back."""
    params = estimator.get_params(deep=True)
    assert paths, "the example names no nested parameter"
    missing = sorted(p for p in paths if p not in params)
    assert missing == [], f"documented paths that are no parameters: {missing}"
    for key, values in search.param_grid.items():
        for value in values:
            estimator.set_params(**{key: value})
            assert estimator.get_params(deep=True)[key] == value, key
    search_params = clone(search).get_params(deep=True)
    for key in search.param_grid:
        assert f"estimator__{key}" in search_params, key
    clone(estimator)


def test_readme_pipeline_tunes_the_documented_embedder_parameter():
    section = _readme_section()
    blocks = _markdown_code(section)
    namespace = {}
    for block in blocks:
        _run_until_fit(block, namespace)
    model = namespace["model"]
    paths = _parameter_paths(section)
    assert "visualgeneticaligner__anchors__embedder__kappa" in paths
    # the path the text names reaches the embedder GeneticAnchors clones in fit
    model.set_params(visualgeneticaligner__anchors__embedder__kappa=5.0)
    anchors = model.named_steps["visualgeneticaligner"].anchors
    assert anchors.embedder.kappa == 5.0
    search = namespace.get("search")
    assert search is not None, "the README section builds no GridSearchCV"
    assert search.estimator is model
    _check_search(search, model, paths)


def test_genetics_guide_tunes_the_documented_embedder_parameter():
    text = (ROOT / "docs" / "user_guide" / "genetics.rst").read_text()
    blocks = [b for b in _rst_code(text) if "__embedder__" in b]
    assert len(blocks) == 1, "genetics.rst: no example block tuning the embedder"
    namespace = _run_until_fit(blocks[0], {})
    search = namespace["search"]
    paths = _parameter_paths(blocks[0])
    assert "geneticanchors__embedder__kappa" in paths
    _check_search(search, search.estimator, paths)


def test_alignment_guide_tunes_the_documented_embedder_parameter():
    text = (ROOT / "docs" / "user_guide" / "alignment.rst").read_text()
    (block,) = [b for b in _rst_code(text) if "__embedder__" in b]
    dna = pd.DataFrame({"sequence": ["ACGTAC", "ACGAAC"], "species": ["a", "b"]})
    names = {n: getattr(vgestimators, n) for n in vgestimators.__all__}
    namespace = _run_until_fit(block, {**names, "dna": dna})
    search = namespace["search"]
    paths = _parameter_paths(block)
    assert "anchors__embedder__kappa" in paths
    _check_search(search, search.estimator, paths)


def test_embedder_parameter_with_the_default_embedder_says_what_to_do():
    """``embedder=None`` has no ``kappa``: a ValueError says how to tune it."""
    message = r"embedder=None.*GeneticAnchors\(embedder=SGTTransformer"
    with pytest.raises(ValueError, match=message):
        GeneticAnchors().set_params(embedder__kappa=5.0)
    aligner = VisualGeneticAligner(anchors=GeneticAnchors())
    with pytest.raises(ValueError, match=message):
        aligner.set_params(anchors__embedder__kappa=5.0)
    # an embedder given in the same call is there to be set
    anchors = GeneticAnchors().set_params(
        embedder=SGTTransformer(kmer=2), embedder__kappa=5.0
    )
    assert anchors.embedder.kappa == 5.0 and anchors.embedder.kmer == 2
    # and the default embedder made explicit is tunable
    explicit = GeneticAnchors(embedder=SGTTransformer(kmer=2))
    assert explicit.set_params(embedder__kappa=0.5).embedder.kappa == 0.5
