"""The projection from the visual space into the anchor space and its training."""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils.class_weight import compute_sample_weight
from torch import nn

from ..losses import CosineAlignmentLoss
from ..utils._warnings import warn_user


def build_projection(kind, n_in, n_out, hidden_layer_size):
    """Return the projection module.

    Parameters
    ----------
    kind : {"linear", "mlp"}
        A single affine map, or affine -> ReLU -> affine.
    n_in, n_out, hidden_layer_size : int

    Returns
    -------
    module : nn.Sequential
    """
    if kind == "linear":
        return nn.Sequential(nn.Linear(n_in, n_out))
    return nn.Sequential(
        nn.Linear(n_in, hidden_layer_size),
        nn.ReLU(),
        nn.Linear(hidden_layer_size, n_out),
    )


class NeighbourhoodLoss(nn.Module):
    """Keep each sample's visual neighbours its neighbours after projection.

    For a batch, each row's similarities to the other rows are turned into a
    distribution with a softmax (cosine / ``temperature``) in the visual space
    (``P``, fixed) and in the projected space (``Q``); the loss is the mean
    Kullback-Leibler divergence ``KL(P || Q)``. It is local, as in stochastic
    neighbour embedding: close neighbours dominate ``P``, so the projection is
    free to move far-apart points.

    Parameters
    ----------
    temperature : float, default=0.1
    """

    def __init__(self, temperature=0.1):
        super().__init__()
        self.temperature = temperature

    def forward(self, visual, projected):
        n = visual.shape[0]
        if n < 3:
            return projected.sum() * 0.0
        eye = torch.eye(n, dtype=torch.bool, device=visual.device)
        with torch.no_grad():
            v = F.normalize(visual, dim=1)
            p_logits = (v @ v.T / self.temperature).masked_fill(eye, float("-inf"))
            p = torch.softmax(p_logits, dim=1)
        z = F.normalize(projected, dim=1)
        q_logits = (z @ z.T / self.temperature).masked_fill(eye, float("-inf"))
        log_q = torch.log_softmax(q_logits, dim=1).masked_fill(eye, 0.0)
        log_p = torch.log(p.clamp_min(1e-30)).masked_fill(eye, 0.0)
        return (p * (log_p - log_q)).sum(dim=1).mean()


def train_projection(
    module,
    X,
    X_visual,
    targets,
    anchors,
    weights,
    *,
    margin,
    negatives,
    neighbourhood_weight,
    max_epochs,
    batch_size,
    lr,
    weight_decay,
    tol,
    n_iter_no_change,
    device,
    seed,
    verbose=0,
):
    """Fit ``module`` with Adam on the cosine alignment (+ neighbourhood) loss.

    Parameters
    ----------
    module : nn.Module
        Maps rows of ``X`` into the anchor space; trained in place.
    X : ndarray of shape (n, d_in)
        Standardised inputs.
    X_visual : ndarray of shape (n, d_in)
        The inputs as given (their cosine geometry is what the neighbourhood
        term preserves).
    targets : ndarray of shape (n,), int
        Row of each sample's anchor in ``anchors``, or -1 for a sample without
        an anchor (it enters the neighbourhood term only).
    anchors : ndarray of shape (n_anchors, d_out)
    weights : ndarray of shape (n,)
        Per-sample weight in the alignment term.
    seed : int
        Seeds shuffling and the random negatives.

    Returns
    -------
    loss_curve : list of float
        Mean training loss of each epoch.
    """
    generator = torch.Generator().manual_seed(seed)
    dev = torch.device(device)
    module.to(dev).train()
    align = CosineAlignmentLoss(margin=margin, negatives=negatives)
    neighbourhood = NeighbourhoodLoss() if neighbourhood_weight > 0 else None
    if neighbourhood is None:
        keep = targets >= 0
        X, X_visual, targets, weights = (
            X[keep],
            X_visual[keep],
            targets[keep],
            weights[keep],
        )
    # np.array copies: inputs may be read-only (memory maps), which torch
    # refuses to share.
    x_all = torch.from_numpy(np.array(X, dtype=np.float32)).to(dev)
    xv_all = None
    if neighbourhood is not None:
        xv_all = torch.from_numpy(np.array(X_visual, dtype=np.float32)).to(dev)
    t_all = torch.from_numpy(np.array(targets, dtype=np.int64)).to(dev)
    w_all = torch.from_numpy(np.array(weights, dtype=np.float32)).to(dev)
    ref = torch.from_numpy(np.array(anchors, dtype=np.float32)).to(dev)
    n = x_all.shape[0]
    step = n if batch_size is None else min(batch_size, n)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    loss_curve = []
    best, stale = np.inf, 0
    for epoch in range(max_epochs):
        order = torch.randperm(n, generator=generator).to(dev)
        total = 0.0
        for start in range(0, n, step):
            idx = order[start : start + step]
            z = module(x_all[idx])
            t = t_all[idx]
            has_anchor = t >= 0
            loss = z.sum() * 0.0
            if bool(has_anchor.any()):
                loss = loss + align(
                    z[has_anchor],
                    t[has_anchor],
                    ref,
                    weights=w_all[idx][has_anchor],
                    generator=generator,
                )
            if neighbourhood is not None:
                loss = loss + neighbourhood_weight * neighbourhood(xv_all[idx], z)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * idx.shape[0]
        epoch_loss = total / n
        loss_curve.append(epoch_loss)
        if verbose and (epoch % max(1, verbose) == 0 or epoch == max_epochs - 1):
            print(f"epoch {epoch + 1:4d}  loss {epoch_loss:.5f}")
        if tol is not None:
            if epoch_loss < best - tol:
                best, stale = epoch_loss, 0
            else:
                stale += 1
                if stale >= n_iter_no_change:
                    break
    module.eval()
    return loss_curve


def span_basis(projection):
    """Orthonormal basis of the subspace the aligned embeddings live in.

    The last layer of ``projection`` is affine, ``z = W h + b``, so every
    aligned embedding lies in the span of W's columns and b. When that span
    is narrower than the anchor space (e.g. 128-wide embeddings, 256-wide
    SGT anchors), the k-NN search runs on coordinates in this basis: the
    same distances, fewer dimensions. None when nothing is gained.
    """
    last = projection[-1]
    weight = last.weight.detach().double().numpy()
    bias = last.bias.detach().double().numpy()
    if weight.shape[1] + 1 >= weight.shape[0]:
        return None
    basis, _ = np.linalg.qr(np.column_stack([weight, bias]))
    return basis


def alignment_weights(y, targets, class_weight):
    """Sample weights of the alignment loss (``class_weight``, anchored samples)."""
    weights = np.ones(len(y), dtype=np.float64)
    if class_weight is None:
        return weights
    anchored = targets >= 0
    if isinstance(class_weight, dict):
        # only the anchored classes take part in the alignment loss
        present = set(np.unique(y[anchored]).tolist())
        class_weight = {c: w for c, w in class_weight.items() if c in present}
    weights[anchored] = compute_sample_weight(class_weight, y[anchored])
    return weights


def warn_if_collinear(matrix, margin):
    """Warn when raw anchors are too alike for the alignment hinge to act."""
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    cos = unit @ unit.T
    off = cos[~np.eye(len(cos), dtype=bool)]
    if off.min() > margin:
        warn_user(
            f"every pair of raw anchors has cosine above margin={margin} "
            f"(smallest {off.min():.4f}, median {np.median(off):.4f}): the "
            "hinge of the alignment loss is active for every negative and "
            "cannot be satisfied. standardize_anchors=True centres and "
            "scales them first."
        )
