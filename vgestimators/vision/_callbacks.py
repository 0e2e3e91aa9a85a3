"""skorch callbacks that report training cleanly."""

import re
import sys

from skorch.callbacks import PrintLog

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TerminalAwarePrintLog(PrintLog):
    """skorch's epoch table, without ANSI colour codes unless printing to a terminal.

    skorch colours the best value of each column with ANSI escape codes,
    which a log file, a notebook capture or CI output shows as raw
    ``[36m...[0m`` text. With ``colors="auto"`` the codes are kept only when
    standard output is a terminal.

    Parameters
    ----------
    colors : {"auto", True, False}, default="auto"
        Colour the best values: when stdout is a terminal, always, or never.
    **kwargs
        Passed to :class:`skorch.callbacks.PrintLog`.
    """

    def __init__(self, colors="auto", **kwargs):
        super().__init__(**kwargs)
        self.colors = colors

    def table(self, row):
        text = super().table(row)
        colors = self.colors
        if colors == "auto":
            colors = bool(getattr(sys.stdout, "isatty", lambda: False)())
        return text if colors else _ANSI.sub("", text)
