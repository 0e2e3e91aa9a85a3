"""Class-balanced and P x m batch samplers for long-tailed training."""

import numpy as np
import torch
from torch.utils.data import Sampler, WeightedRandomSampler

from ..utils._labels import check_labels
from ..utils._random import derive_seed

#: Names of the batch samplers :func:`make_sampler` builds.
SAMPLERS = ("random", "class_balanced", "m_per_class")
#: Strengths of class-balanced sampling: weights 1/n or 1/sqrt(n) per class.
BALANCE = ("inverse", "sqrt")


def _as_labels(labels):
    labels = np.asarray(labels).reshape(-1)
    _, _, encoded, counts = check_labels(labels, min_classes=1, name="labels")
    return encoded, counts


class ClassBalancedSampler(WeightedRandomSampler):
    """Draw samples with class-dependent probabilities, with replacement.

    A ``torch.utils.data.WeightedRandomSampler`` whose per-sample weights come
    from the class counts.

    Each sample of a class with ``n_c`` images is drawn with probability
    proportional to ``n_c ** -1`` (``balance="inverse"``: every class is
    equally likely, the classic class-balanced sampling) or ``n_c ** -0.5``
    (``"sqrt"``: class frequencies proportional to ``sqrt(n_c)``, a milder
    re-balancing that over-fits the tail less).

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Class label of each sample of the dataset.
    balance : {"inverse", "sqrt"}, default="inverse"
        Re-balancing strength.
    num_samples : int, default=None
        Samples drawn per epoch; default ``len(labels)``.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws (each pass over the sampler draws anew).

    Attributes
    ----------
    class_probabilities_ : ndarray of shape (n_classes,)
        Probability of drawing each class (sorted labels).

    See Also
    --------
    make_sampler : Builds this or another sampler by name.

    Examples
    --------
    >>> from vgestimators.longtail import ClassBalancedSampler
    >>> labels = [0] * 90 + [1] * 10
    >>> sampler = ClassBalancedSampler(labels, random_state=0)
    >>> sampler.class_probabilities_.round(2).tolist()
    [0.5, 0.5]
    >>> drawn = [labels[i] for i in sampler]
    >>> len(drawn), 35 < sum(drawn) < 65
    (100, True)
    """

    def __init__(
        self, labels, *, balance="inverse", num_samples=None, random_state=None
    ):
        if balance not in BALANCE:
            raise ValueError(f"balance must be one of {BALANCE}, got {balance!r}.")
        encoded, counts = _as_labels(labels)
        power = 1.0 if balance == "inverse" else 0.5
        per_class = counts.astype(np.float64) ** -power
        mass = per_class * counts
        self.class_probabilities_ = mass / mass.sum()
        super().__init__(
            per_class[encoded],
            len(encoded) if num_samples is None else int(num_samples),
            replacement=True,
            generator=torch.Generator().manual_seed(derive_seed(random_state)),
        )


class _SeededMPerClassSampler(Sampler):
    """pytorch-metric-learning's MPerClassSampler with its own random state.

    MPerClassSampler draws from the module-level ``NUMPY_RANDOM`` of
    pytorch-metric-learning (numpy's global generator by default); this
    wrapper swaps in a private RandomState while a pass is drawn, so the
    batches depend on ``random_state`` only and global state is untouched.
    """

    def __init__(self, labels, m, batch_size, length, random_state=None):
        from pytorch_metric_learning.samplers import MPerClassSampler

        self.sampler = MPerClassSampler(
            np.asarray(labels), m, batch_size=batch_size, length_before_new_iter=length
        )
        self.rng = np.random.RandomState(derive_seed(random_state))

    def __len__(self):
        return len(self.sampler)

    def __iter__(self):
        from pytorch_metric_learning.utils import common_functions as c_f

        previous = c_f.NUMPY_RANDOM
        c_f.NUMPY_RANDOM = self.rng
        try:
            return self.sampler.__iter__()
        finally:
            c_f.NUMPY_RANDOM = previous


def m_per_class_batch_size(batch_size, m_per_class, n_classes):
    """Batch size used by the P x m sampler: a multiple of m, <= m * n_classes."""
    return min(batch_size - batch_size % m_per_class, m_per_class * n_classes)


def make_sampler(
    name,
    labels,
    *,
    batch_size=32,
    m_per_class=4,
    balance="inverse",
    random_state=None,
):
    """Build a training sampler by name.

    Parameters
    ----------
    name : {"random", "class_balanced", "m_per_class"}
        ``"random"``: uniform shuffling without replacement.
        ``"class_balanced"``: :class:`ClassBalancedSampler`.
        ``"m_per_class"``: pytorch-metric-learning's ``MPerClassSampler``:
        every batch holds P classes x ``m_per_class`` images (P =
        ``batch_size // m_per_class``, fewer when there are fewer classes),
        which online triplet mining needs. A class with fewer than
        ``m_per_class`` images is drawn with replacement, so a single-image
        class still gets a positive (another augmented view of itself).
    labels : array-like of shape (n_samples,)
        Class label of each sample.
    batch_size : int, default=32
        Batch size of the DataLoader; see ``m_per_class_batch_size`` for the
        size the ``"m_per_class"`` sampler actually fills.
    m_per_class : int, default=4
        Images per class in a batch (``"m_per_class"`` only).
    balance : {"inverse", "sqrt"}, default="inverse"
        Strength of ``"class_balanced"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the sampler.

    Returns
    -------
    sampler : torch.utils.data.Sampler
        Yields one epoch of about ``len(labels)`` indices per pass.

    See Also
    --------
    ClassBalancedSampler : Class-balanced sampling with replacement.

    Examples
    --------
    >>> import numpy as np
    >>> from vgestimators.longtail import make_sampler
    >>> labels = np.repeat([0, 1, 2, 3], [20, 10, 5, 5])
    >>> sampler = make_sampler("m_per_class", labels, batch_size=8, m_per_class=4,
    ...                        random_state=0)
    >>> batch = labels[list(sampler)[:8]]
    >>> sorted(np.unique(batch, return_counts=True)[1].tolist())
    [4, 4]
    """
    if name not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {name!r}.")
    encoded, counts = _as_labels(labels)
    if name == "random":
        generator = torch.Generator().manual_seed(derive_seed(random_state))
        return torch.utils.data.RandomSampler(encoded, generator=generator)
    if name == "class_balanced":
        return ClassBalancedSampler(encoded, balance=balance, random_state=random_state)
    if m_per_class < 1:
        raise ValueError(f"m_per_class must be >= 1, got {m_per_class}.")
    if len(counts) < 2:
        raise ValueError("The m_per_class sampler needs at least 2 classes.")
    if batch_size < 2 * m_per_class:
        raise ValueError(
            f"batch_size={batch_size} must be at least 2 * m_per_class "
            f"(= {2 * m_per_class}) so that a batch holds two classes."
        )
    size = m_per_class_batch_size(batch_size, m_per_class, len(counts))
    length = max(len(encoded) - len(encoded) % size, size)
    return _SeededMPerClassSampler(encoded, m_per_class, size, length, random_state)
