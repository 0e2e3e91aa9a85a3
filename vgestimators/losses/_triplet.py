"""The reciprocal triplet loss (no margin), in pytorch-metric-learning form."""

from pytorch_metric_learning.distances import LpDistance
from pytorch_metric_learning.losses import BaseMetricLossFunction
from pytorch_metric_learning.reducers import MeanReducer
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu


class ReciprocalTripletLoss(BaseMetricLossFunction):
    """Reciprocal triplet loss ``d(a, p) + 1 / d(a, n)``, without a margin.

    For each triplet of an anchor ``a``, a positive ``p`` (same class) and a
    negative ``n`` (another class), the loss is the anchor-positive distance
    plus the reciprocal of the anchor-negative distance (Masullo et al.,
    2019), the formulation used by the paper's authors. It needs no margin:
    the reciprocal keeps pushing negatives away, ever more weakly.

    Called as ``loss(embeddings, labels, indices_tuple=None, ref_emb=None,
    ref_labels=None)`` like every pytorch-metric-learning loss: give mined
    triplets through ``indices_tuple`` (e.g. from ``BatchHardMiner``), or
    all triplets of the batch are used. A batch without a valid triplet
    gives a zero loss that still back-propagates.

    Parameters
    ----------
    eps : float, default=1e-6
        Added to ``d(a, n)`` before taking the reciprocal.
    triplets_per_anchor : int or "all", default="all"
        Triplets formed per anchor when ``indices_tuple`` is not given.
    distance : BaseDistance, default=None
        Distance ``d``; default squared Euclidean distance between
        L2-normalised embeddings (``LpDistance(power=2)``), in [0, 4].
    reducer : BaseReducer, default=None
        Default: mean over triplets (``MeanReducer``).

    See Also
    --------
    pytorch_metric_learning.losses.TripletMarginLoss : The margin form.
    SoftmaxTripletLoss : Adds a softmax classification term.

    Examples
    --------
    >>> import torch
    >>> from vgestimators.losses import ReciprocalTripletLoss
    >>> emb = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> loss = ReciprocalTripletLoss()
    >>> # triplets (0, 1, 2) and (1, 0, 2): d(a, p) = 0, d(a, n) = 2
    >>> round(float(loss(emb, torch.tensor([0, 0, 1]))), 4)
    0.5
    """

    def __init__(self, eps=1e-6, triplets_per_anchor="all", **kwargs):
        super().__init__(**kwargs)
        self.eps = eps
        self.triplets_per_anchor = triplets_per_anchor

    def get_default_distance(self):
        return LpDistance(normalize_embeddings=True, p=2, power=2)

    def get_default_reducer(self):
        return MeanReducer()

    def compute_loss(self, embeddings, labels, indices_tuple, ref_emb, ref_labels):
        indices_tuple = lmu.convert_to_triplets(
            indices_tuple, labels, ref_labels, t_per_anchor=self.triplets_per_anchor
        )
        anchor, positive, negative = indices_tuple
        if len(anchor) == 0:
            return self.zero_losses()
        if not self.distance.is_inverted:
            mat = self.distance(embeddings, ref_emb)
        else:  # a similarity: turn it into a dissimilarity
            raise ValueError(
                "ReciprocalTripletLoss needs a distance, not a similarity "
                f"({type(self.distance).__name__})."
            )
        ap = mat[anchor, positive]
        an = mat[anchor, negative]
        losses = ap + 1.0 / (an + self.eps)
        return {
            "loss": {
                "losses": losses,
                "indices": (anchor, positive, negative),
                "reduction_type": "triplet",
            }
        }
