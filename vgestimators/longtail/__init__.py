"""Long-tail levers: class-balanced batch samplers and class weights."""

from ..utils._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "BALANCE": "._samplers",
        "ClassBalancedSampler": "._samplers",
        "SAMPLERS": "._samplers",
        "make_sampler": "._samplers",
    },
)
