"""The benchmark's bar of training epochs (a skorch callback).

Its bars, this one's included, are :func:`~vgestimators.utils._progress.progress`'s.
"""

import inspect

from skorch.callbacks import Callback

from ..utils._progress import progress


class EpochProgress(Callback):
    """skorch callback: a nested tqdm bar advancing once per training epoch.

    Parameters
    ----------
    desc : str, default="epochs"
        Text in front of the bar.
    enabled : bool, default=True
        False makes the callback silent.
    """

    def __init__(self, desc="epochs", enabled=True):
        self.desc = desc
        self.enabled = enabled

    def initialize(self):
        self.bar_ = None
        return self

    def __repr__(self):
        """The call that builds this callback (arguments that differ from defaults).

        So an estimator holding it prints as code, ``callbacks=[EpochProgress()]``
        rather than ``<... object at 0x...>``.

        >>> EpochProgress(desc="triplet", enabled=False)
        EpochProgress(desc='triplet', enabled=False)
        """
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params(deep=False).items()
            if name not in defaults or value != defaults[name]
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.bar_ = progress(
            total=getattr(net, "max_epochs", None),
            desc=f"    {self.desc}",
            leave=False,
            enabled=self.enabled,
            unit="epoch",
            position=1,
        )

    def on_epoch_end(self, net, **kwargs):
        if self.bar_ is None:
            return
        loss = net.history[-1].get("train_loss") if len(net.history) else None
        if loss is not None:
            self.bar_.set_postfix(loss=f"{loss:.3f}", refresh=False)
        self.bar_.update(1)

    def on_train_end(self, net, X=None, y=None, **kwargs):
        if self.bar_ is not None:
            self.bar_.close()
            self.bar_ = None

    def __getstate__(self):
        state = dict(self.__dict__)
        state["bar_"] = None
        return state
