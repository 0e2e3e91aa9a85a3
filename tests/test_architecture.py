"""The layering of docs/architecture.rst, checked on the source (no import runs).

- ``utils`` is the bottom layer: its modules import only each other.
- A module reaches another package through that package's public names
  only: never its private modules (``..metrics._zero_shot``) nor its
  private names (``from ..metrics import _x``), relatively or absolutely.
  ``utils``, the shared private helpers, is the one exception.
"""

import ast
from pathlib import Path

import pytest

import vgestimators

PACKAGE = Path(vgestimators.__file__).parent
ROOT = PACKAGE.parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _imports(path, root=ROOT):
    """(line, imported module as a list of names, names imported from it).

    Every import of ``path``, those inside functions included, with relative
    imports resolved against its package (``vgestimators.a`` for
    ``vgestimators/a/_b.py``), in the order of the lines.
    """
    module = list(path.relative_to(root).with_suffix("").parts)
    package = module[:-1]  # for __init__.py too: its folder is the package
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name.split("."), []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = base + (node.module.split(".") if node.module else [])
            found.append((node.lineno, target, [a.name for a in node.names]))
    return sorted(found, key=lambda item: item[0])


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def _cross_package_offences(path, root=ROOT):
    """'file:line: what: import' for each private import from another package."""
    own = list(path.relative_to(root).parts[1:-1])[:1]  # [] for the root
    offences = []
    for line, target, names in _imports(path, root):
        if target[:1] != ["vgestimators"] or target[1:2] in (own, ["utils"]):
            continue
        if any(_private(part) for part in target[2:]):
            what = "private module"
        elif len(target) == 2 and any(_private(name) for name in names):
            what = "private name"
        else:
            continue
        statement = ".".join(target) + (f" import {', '.join(names)}" * bool(names))
        offences.append(f"{path.relative_to(root)}:{line}: {what}: {statement}")
    return offences


def _outside_utils(path, root=ROOT):
    return [
        f"{path.relative_to(root)}:{line}: {'.'.join(target)}"
        for line, target, _ in _imports(path, root)
        if target[:1] == ["vgestimators"] and target[1:2] != ["utils"]
    ]


@pytest.mark.parametrize(
    "path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES]
)
def test_no_import_of_another_package_private_module_or_name(path):
    offences = _cross_package_offences(path)
    assert not offences, (
        "import another package through its public names (its __init__), "
        "or move the shared helper to utils:\n" + "\n".join(offences)
    )


UTILS = [p for p in MODULES if p.parent == PACKAGE / "utils"]


@pytest.mark.parametrize("path", UTILS, ids=[p.name for p in UTILS])
def test_utils_imports_nothing_outside_utils(path):
    offences = _outside_utils(path)
    assert not offences, (
        "utils is the bottom layer: it imports neither the package root nor "
        "another subpackage:\n" + "\n".join(offences)
    )


def test_the_checks_catch_each_forbidden_form(tmp_path):
    package = tmp_path / "vgestimators"
    (package / "cli").mkdir(parents=True)
    (package / "utils").mkdir()
    cli = package / "cli" / "_x.py"
    cli.write_text(
        "from ..metrics._zero_shot import area_under_curve\n"
        "from ..metrics import _private_name, ausuc_score\n"
        "import vgestimators.benchmark._plots\n"
        "from vgestimators.alignment._calibration import settle\n"
        "from ..utils._stacking import area_under_curve\n"
        "from ._common import progress\n"
        "from ..metrics import ausuc_score\n"
        "from .. import __version__\n"
        "def f():\n"
        "    from ..benchmark._plots import plot_tsne\n"
    )
    utils = package / "utils" / "_y.py"
    utils.write_text(
        "from .. import __version__\n"
        "from ._lazy import attach\n"
        "def f():\n"
        "    from ..metrics import ausuc_score\n"
    )
    offences = _cross_package_offences(cli, tmp_path)
    assert [o.split(":")[1] for o in offences] == ["1", "2", "3", "4", "10"]
    assert offences[0] == (
        "vgestimators/cli/_x.py:1: private module: "
        "vgestimators.metrics._zero_shot import area_under_curve"
    )
    assert "private name" in offences[1]
    assert _outside_utils(utils, tmp_path) == [
        "vgestimators/utils/_y.py:1: vgestimators",
        "vgestimators/utils/_y.py:4: vgestimators.metrics",
    ]
    assert _cross_package_offences(utils, tmp_path) == []
