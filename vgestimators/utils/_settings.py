"""How a message names a setting: a Python keyword, or a command-line flag.

Library code that tells the user what to change (``species=1``,
``dna_test=None``) words it with :func:`setting`. In Python that is the
keyword; the command line runs its commands inside :func:`settings_named`,
and the same messages then name its flags (``--species-field 1``), so no
command-line user is told to pass a Python argument.
"""

import json
from contextlib import contextmanager
from contextvars import ContextVar

_NAMES = ContextVar("vgestimators_setting_names", default=None)


@contextmanager
def settings_named(**templates):
    """Within the block, :func:`setting` words these settings as given.

    Parameters
    ----------
    **templates : str
        Setting name -> its words, with ``{value}`` where the value goes,
        e.g. ``species="--species-field {value}"``. Settings not named keep
        the Python keyword.

    Examples
    --------
    >>> from vgestimators.utils._settings import setting, settings_named
    >>> setting("species", 1)
    'species=1'
    >>> with settings_named(species="--species-field {value}"):
    ...     setting("species", 1)
    '--species-field 1'
    """
    token = _NAMES.set({**(_NAMES.get() or {}), **templates})
    try:
        yield
    finally:
        _NAMES.reset(token)


def setting(name, value):
    """The words that set ``name`` to ``value``, where the user is.

    ``name=value`` (the value's ``repr``) in Python; inside
    :func:`settings_named`, its template with the value as typed on a
    command line (a string as it is, anything else as JSON: ``null``).
    """
    template = (_NAMES.get() or {}).get(name)
    if template is None:
        return f"{name}={value!r}"
    return template.format(value=value if isinstance(value, str) else json.dumps(value))


def on_command_line():
    """Whether messages are worded for the command line (see :func:`settings_named`)."""
    return bool(_NAMES.get())
