"""Starting an embedder's training from another network (``init``, warm start).

The check that ``init`` builds the same network, the training of a clone
of it, and the copy of a trained network's weights and history into a new
net.
"""

import copy

from sklearn.base import clone

from ._backbones import resolve_stem

_NETWORK = ("backbone", "stem", "embedding_dim")


def _network(embedder):
    """What must match to start from another network (``"auto"`` stem resolved)."""
    stem = resolve_stem(embedder.stem, embedder.image_size, embedder.weights)
    return (embedder.backbone, stem, embedder.embedding_dim)


def check_init(init, embedder, kind):
    """Raise unless ``init`` is a ``kind`` that builds ``embedder``'s network.

    Parameters
    ----------
    init : estimator
        The ``init`` parameter: an embedder, or a FrozenEstimator of one.
    embedder : TripletImageEmbedder
        The embedder that starts from it.
    kind : type
        The class ``init`` must be (or wrap).
    """
    base = getattr(init, "estimator", init)  # FrozenEstimator
    if not isinstance(base, kind):
        raise ValueError(
            f"init must be a {kind.__name__} (or a FrozenEstimator of a "
            f"fitted one); got {type(base).__name__}."
        )
    mine, theirs = _network(embedder), _network(base)
    if mine != theirs:
        raise ValueError(
            "the network to start from (init) differs from this one; "
            "backbone, stem and embedding_dim must match (with "
            "stem='auto', image_size chooses the stem): "
            f"{dict(zip(_NETWORK, theirs, strict=True))} against "
            f"{dict(zip(_NETWORK, mine, strict=True))}."
        )


def fit_init(init, X, y, *, decoded=False):
    """The trained net of a clone of ``init`` fitted on ``X`` and ``y``.

    A FrozenEstimator clones to itself and its fit does nothing.
    ``decoded``: every image of ``X`` was just decoded, so the clone's fit
    reads the headers only.
    """
    fitted = clone(init)  # a FrozenEstimator clones to itself
    if decoded and fitted is not init:
        fitted.set_params(image_check="header")
    return fitted.fit(X, y).net_


def continue_from(net, start):
    """Copy the weights and the history of the trained net ``start`` into ``net``.

    Parameters
    ----------
    net : EmbedderNet
        A newly initialised net.
    start : EmbedderNet
        The trained net to continue from; left untouched.

    Raises
    ------
    ValueError
        If the two networks differ (backbone, stem or embedding width).
    """
    try:
        net.module_.load_state_dict(start.module_.state_dict())
    except RuntimeError as exc:
        raise ValueError(
            "the network to start from (init or warm_start) differs "
            "from this one; backbone, stem and embedding_dim must "
            "match (with stem='auto', image_size chooses the stem): "
            f"{str(exc).splitlines()[0]}"
        ) from None
    # a copy: a frozen init must not see this training's epochs
    net.history_ = copy.deepcopy(start.history_)
    return net
