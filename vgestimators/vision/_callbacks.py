"""skorch callbacks that report training cleanly."""

import re
import sys
import time

from skorch.callbacks import Callback, PrintLog

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


class TimeEstimate(Callback):
    """Print, after the first batches, how long the training will take.

    A CPU user learns within seconds whether the run takes minutes or
    hours, instead of after the first epoch. The estimate extrapolates the
    time of batches ``skip + 1`` to ``skip + n_batches`` (the first ones
    include warm-up) to all batches of all epochs.

    Parameters
    ----------
    n_batches : int, default=5
        Batches timed.
    skip : int, default=1
        First batches not timed.
    run_image_epochs : int or None, default=None
        Images times epochs of the whole run (several trainings, e.g. a
        hold-out's and the final one); with ``final_images``, a training
        on fewer images than the final one also estimates all the run's
        trainings together.
    final_images : int or None, default=None
        Images of the run's last training.
    stream : {"stdout", "stderr"}, default="stdout"
        Where the message goes.
    """

    def __init__(
        self,
        n_batches=5,
        skip=1,
        run_image_epochs=None,
        final_images=None,
        stream="stdout",
    ):
        self.n_batches = n_batches
        self.skip = skip
        self.run_image_epochs = run_image_epochs
        self.final_images = final_images
        self.stream = stream

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        from ._training import count_batches

        self.seen_, self.start_ = 0, None
        self.n_images_ = len(X)
        self.per_epoch_ = max(1, count_batches(net, X))

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and self.seen_ == self.skip and self.start_ is None:
            self.start_ = time.perf_counter()  # the first timed batch starts

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if not training or self.seen_ is None:
            return
        self.seen_ += 1
        if self.seen_ < self.skip + self.n_batches or self.start_ is None:
            return
        per_batch = (time.perf_counter() - self.start_) / self.n_batches
        epochs = net.max_epochs
        this = per_batch * self.per_epoch_ * epochs
        message = (
            f"estimated from the first batches ({per_batch:.2f} s each): this "
            f"training about {_minutes(this)} ({epochs} epochs of "
            f"{self.per_epoch_} batches)"
        )
        own = self.n_images_ * epochs
        if (
            self.run_image_epochs
            and self.final_images
            and self.n_images_ < self.final_images
            and self.run_image_epochs > own
        ):
            # a hold-out's training: the run's trainings together
            run = this * self.run_image_epochs / own
            message += f"; all the run's trainings about {_minutes(run)}"
        from tqdm.auto import tqdm

        # between the lines of a progress bar, not inside one
        tqdm.write(message, file=getattr(sys, self.stream))
        self.seen_ = None  # once per training


def _minutes(seconds):
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
