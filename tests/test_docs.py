"""The documentation lists every public name and every user-guide page."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import vgestimators

DOCS = Path(__file__).resolve().parent.parent / "docs"
# every subpackage with public names (utils is private, cli is the command)
SUBPACKAGES = sorted(
    p.name
    for p in Path(vgestimators.__file__).parent.iterdir()
    if (p / "__init__.py").exists() and p.name not in {"utils", "cli"}
)


def _api_entries():
    """(current module, name) pairs listed in autosummary blocks of api.rst."""
    entries, module, in_block = [], None, False
    for line in (DOCS / "api.rst").read_text().splitlines():
        found = re.match(r"\.\. currentmodule:: (\S+)", line)
        if found:
            module = found.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_block = True
            continue
        if in_block:
            if line.strip().startswith(":") or not line.strip():
                continue
            if line.startswith("   "):
                entries.append((module, line.strip()))
            else:
                in_block = False
    return entries


def test_api_reference_lists_every_public_name():
    listed = set(_api_entries())
    expected = set()
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"vgestimators.{sub}")
        expected |= {(f"vgestimators.{sub}", name) for name in module.__all__}
    assert expected - listed == set(), "public names missing from docs/api.rst"
    assert listed - expected == set(), "docs/api.rst lists names that are not public"


def test_top_level_names_are_documented_through_their_subpackage():
    listed = {name for _, name in _api_entries()}
    top = [n for n in vgestimators.__all__ if n not in SUBPACKAGES]
    assert top and set(top) <= listed


def test_user_guide_toctree_pages_exist():
    text = (DOCS / "user_guide" / "index.rst").read_text()
    block = text.split(".. toctree::", 1)[1]
    pages = [
        line.strip()
        for line in block.splitlines()[1:]
        if line.strip() and not line.strip().startswith(":")
    ]
    assert pages[0] == "method" and pages[-1] == "benchmark"
    missing = [p for p in pages if not (DOCS / "user_guide" / f"{p}.rst").is_file()]
    assert missing == [], f"user-guide pages listed but not written: {missing}"
    on_disk = {p.stem for p in (DOCS / "user_guide").glob("*.rst")} - {"index"}
    assert on_disk <= set(pages), f"pages not in the toctree: {on_disk - set(pages)}"


def test_benchmark_page_figures_exist():
    text = (DOCS / "user_guide" / "benchmark.rst").read_text()
    images = re.findall(r"\.\. (?:figure|image):: (\S+)", text)
    assert images, "the benchmark page shows its figures"
    for image in images:
        path = (DOCS / "user_guide" / image).resolve()
        assert path.is_file(), image


@pytest.mark.slow
def test_sphinx_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    cmd = [sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html"]
    cmd += [str(DOCS), str(tmp_path / "html")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.mark.parametrize(
    "old, new",
    [
        ("vgestimators.datasets.long_tail_split", "vgestimators.model_selection"),
        ("vgestimators.datasets.LongTailSplit", "vgestimators.model_selection"),
        ("vgestimators.datasets.CropBorders", "vgestimators.vision"),
        ("vgestimators.datasets.crop_borders", "vgestimators.vision"),
        ("vgestimators.benchmark.SoftmaxImageClassifier", "vgestimators.vision"),
    ],
)
def test_moved_names_still_import_with_a_warning(old, new):
    package, name = old.rsplit(".", 1)
    module = importlib.import_module(package)
    with pytest.warns(FutureWarning, match=f"moved to {new}.{name}"):
        value = getattr(module, name)
    assert value is getattr(importlib.import_module(new), name)
    assert name not in module.__all__
