"""Lazy attribute loading for the public package namespaces.

``import vgestimators`` stays cheap: torch, torchvision and skorch are imported
only when an estimator that needs them is first accessed.
"""

import importlib
import sys


def attach(package_name, names, submodules=()):
    """Make ``names`` of ``package_name`` load from private modules on first use.

    Parameters
    ----------
    package_name : str
        ``__name__`` of the package whose namespace is populated.
    names : dict of str to str
        Public name -> relative module that defines it (e.g. ``"._sgt"``).
    submodules : iterable of str, default=()
        Subpackages reachable as attributes (e.g. ``"datasets"``).

    Returns
    -------
    __getattr__, __dir__, __all__
        To be assigned in the package's ``__init__``.
    """
    names = dict(names)
    submodules = tuple(submodules)
    public = sorted([*names, *submodules])

    def __getattr__(name):
        if name in names:
            module = importlib.import_module(names[name], package_name)
            value = getattr(module, name)
        elif name in submodules:
            value = importlib.import_module(f".{name}", package_name)
        else:
            raise AttributeError(f"module {package_name!r} has no attribute {name!r}")
        setattr(sys.modules[package_name], name, value)
        return value

    def __dir__():
        return public

    return __getattr__, __dir__, public
