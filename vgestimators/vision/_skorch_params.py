"""The scikit-learn parameter protocol extended to skorch's prefixed settings."""

# Prefixes of the skorch settings passed through ``**kwargs`` to the net.
_SKORCH_PREFIXES = (
    "iterator_train",
    "iterator_valid",
    "module",
    "optimizer",
    "callbacks",
)


class SkorchParamsMixin:
    """``get_params`` and ``set_params`` that carry skorch's prefixed settings.

    For an estimator that wraps a skorch net and takes skorch's settings
    (``iterator_train__num_workers``, ``module__dropout``, ...) through
    ``**kwargs``, stored as attributes of their own name: they are listed by
    ``get_params`` (so ``clone`` and searches keep them), routed by
    ``set_params``, and their prefixes are checked before training. Goes
    before ``BaseEstimator`` in the bases.
    """

    def _skorch_kwargs(self):
        return {
            key: value
            for key, value in vars(self).items()
            if "__" in key and not key.endswith("_") and not key.startswith("_")
        }

    def _skorch_settings(self):
        """The network's options (``module__`` stripped) and the other settings."""
        settings = self._skorch_kwargs()
        module = {
            key[len("module__") :]: value
            for key, value in settings.items()
            if key.startswith("module__")
        }
        rest = {
            key: value
            for key, value in settings.items()
            if not key.startswith("module__")
        }
        return module, rest

    def get_params(self, deep=True):
        """Get parameters, including the prefixed skorch settings.

        Parameters
        ----------
        deep : bool, default=True
            Also return parameters of nested estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        params.update(self._skorch_kwargs())
        return params

    def set_params(self, **params):
        """Set parameters, including prefixed skorch settings.

        Parameters
        ----------
        **params : dict
            Estimator parameters, or skorch settings such as
            ``iterator_train__num_workers``.

        Returns
        -------
        self : estimator instance
            The estimator.
        """
        routed = {
            k: v
            for k, v in params.items()
            if "__" in k and k.split("__", 1)[0] in _SKORCH_PREFIXES
        }
        for key, value in routed.items():
            setattr(self, key, value)
        rest = {k: v for k, v in params.items() if k not in routed}
        if rest:
            super().set_params(**rest)
        return self

    def _check_skorch_kwargs(self):
        known = set(self._get_param_names())
        unknown = [
            key
            for key in vars(self)
            if key not in known
            and "__" not in key
            and not key.endswith("_")
            and not key.startswith("_")
        ]
        if unknown:
            raise ValueError(
                f"{type(self).__name__} got unexpected argument(s) {sorted(unknown)}."
            )
        for key in self._skorch_kwargs():
            prefix = key.split("__", 1)[0]
            if prefix not in _SKORCH_PREFIXES:
                raise ValueError(
                    f"Unknown parameter {key!r}: prefixed settings must start with "
                    f"one of {', '.join(p + '__' for p in _SKORCH_PREFIXES)}."
                )
