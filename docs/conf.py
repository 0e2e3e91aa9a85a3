"""Sphinx configuration for the vgestimators documentation.

Build offline, warnings as errors::

    sphinx-build -W -b html docs docs/_build/html
"""

import re
import sys
from datetime import date
from pathlib import Path

# Build against the working tree even when the package is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import vgestimators  # noqa: E402

project = "vgestimators"
author = "vgestimators developers"
copyright = f"{date.today().year}, {author}"
version = vgestimators.__version__
release = vgestimators.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

# -- offline: no intersphinx, no remote images, mathjax loaded lazily ---------
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "autolink"

# -- autodoc / autosummary -----------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
autodoc_member_order = "groupwise"

# -- numpydoc ------------------------------------------------------------------
# Method tables come from the class template; numpydoc's own member tables
# would list every inherited scikit-learn/skorch method and warn on them.
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Docstring style is checked by the tests' doctests and reviews, not by the
# docs build: validation warnings would turn into errors under -W.
numpydoc_validation_checks = set()

# -- HTML ----------------------------------------------------------------------
html_theme = "alabaster"
html_static_path = ["_static"]
html_theme_options = {
    "description": "Visual-genetic estimators for rare species",
    "fixed_sidebar": True,
    "show_related": False,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"]
}
html_title = f"vgestimators {release}"
html_show_sourcelink = False


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_*_request`` methods.

    scikit-learn adds them to every estimator class for metadata routing;
    their docstrings cross-reference scikit-learn's own glossary.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


# "name : ndarray of shape (n_features_in_,)": in reStructuredText a word
# ending in "_" is a link target, so escape it in the type part of parameter
# and attribute lines (scikit-learn's docstring idiom).
_FIELD = re.compile(r"^(\s*\*?\*?\w+\*?\*? : )(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\\\w])([A-Za-z]\w*?)_(?=[\s,.;:)\]]|$)")


def _escape_link_targets_in_types(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _FIELD.match(line)
        if match and "`" not in match.group(2):
            lines[i] = match.group(1) + _TRAILING_UNDERSCORE.sub(
                r"\1\\_", match.group(2)
            )


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
    # before numpydoc (priority 500) turns the sections into field lists
    app.connect("autodoc-process-docstring", _escape_link_targets_in_types, 400)
