"""Lazy attribute loading for the public package namespaces.

``import vgestimators`` stays cheap: torch, torchvision and skorch are imported
only when an estimator that needs them is first accessed.
"""

import importlib
import sys
import warnings


def attach(package_name, names, submodules=(), moved=None):
    """Make ``names`` of ``package_name`` load from private modules on first use.

    Parameters
    ----------
    package_name : str
        ``__name__`` of the package whose namespace is populated.
    names : dict of str to str
        Public name -> relative module that defines it (e.g. ``"._sgt"``).
    submodules : iterable of str, default=()
        Subpackages reachable as attributes (e.g. ``"datasets"``).
    moved : dict of str to str, default=None
        Names that moved to another package: old name -> the package that
        now exports it. Reading one warns (``FutureWarning``) and returns the
        object from its new home; moved names are not listed in ``__all__``.

    Returns
    -------
    __getattr__, __dir__, __all__
        To be assigned in the package's ``__init__``.
    """
    names = dict(names)
    submodules = tuple(submodules)
    moved = dict(moved or {})
    public = sorted([*names, *submodules])

    def __getattr__(name):
        if name in names:
            module = importlib.import_module(names[name], package_name)
            value = getattr(module, name)
        elif name in submodules:
            value = importlib.import_module(f".{name}", package_name)
        elif name in moved:
            warnings.warn(
                f"{package_name}.{name} moved to {moved[name]}.{name}; import it "
                "from there (the old name goes in version 0.3).",
                FutureWarning,
                stacklevel=2,
            )
            # kept, so that one import warns once (``from ... import`` looks
            # a name up twice); still out of __all__ and dir()
            value = getattr(importlib.import_module(moved[name]), name)
        else:
            raise AttributeError(f"module {package_name!r} has no attribute {name!r}")
        setattr(sys.modules[package_name], name, value)
        return value

    def __dir__():
        return public

    return __getattr__, __dir__, public
