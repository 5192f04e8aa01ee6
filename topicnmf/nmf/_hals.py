"""The Frobenius solver ``cd``: HALS coordinate descent with extrapolation.

HALS (Cichocki & Phan 2009) is the cyclic coordinate descent of scikit-learn's ``cd`` solver:
each outer iteration updates every column of W once, then every row of H. It is written with
whole-row numpy operations on factors stored topic-major (k x n), so one coordinate update is
one BLAS gemv and a few contiguous vector operations. On top of it the iterates are
extrapolated (Ang & Gillis 2019, "Accelerating nonnegative matrix factorization algorithms
using extrapolation"): an update starts from max(0, X_new + beta (X_new - X_old)); beta grows
while the objective falls, and when it rises the solver goes back to the best pair and cuts
beta. On 20 Newsgroups this reaches the objective of 200 plain iterations in 20 to 50.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from topicnmf.config import NMFConfig
from topicnmf.nmf._loss import Progress, SolverResult, frobenius_from_parts, penalty_value
from topicnmf.nmf._sparse import SparseOps

if TYPE_CHECKING:  # pragma: no cover
    from topicnmf.nmf._guided import Guide

# Extrapolation schedule (Ang & Gillis 2019): start, growth on success, growth of the cap,
# and the cut on failure. The start changes which local minimum the fit settles in. It was
# chosen with the randomized SVD start: on 20 Newsgroups (k=20, default settings) 0.3
# reached scikit-learn's own cd objective on both the sorted and a shuffled row order, where
# 0.4 stopped 1e-4 higher on the sorted order. From the exact SVD start (the default) it
# ends below scikit-learn's 200-iteration objective at k = 20, 50 and 100.
BETA0 = 0.3
BETA_GROW = 1.05
BETA_CAP_GROW = 1.01
BETA_CUT = 1.5


def hals_sweep(Xt: np.ndarray, G: np.ndarray, Pt: np.ndarray, scratch: np.ndarray) -> None:
    """One pass of exact coordinate minimization over the k rows of Xt, in place.

    Minimizes 0.5 * tr(Xt^T G Xt) - <Pt, Xt> over Xt >= 0 one row t at a time: the update
    x_t <- max(0, x_t + (p_t - G[t] @ Xt) / G[t, t]) is scikit-learn's cd step for every
    sample at once. ``scratch`` has the shape of one row.
    """
    diag = np.diagonal(G)
    for t in range(G.shape[0]):
        gtt = diag[t]
        if gtt <= 0:
            # A topic with an all-zero partner row carries no signal; scikit-learn skips it too.
            continue
        np.matmul(G[t], Xt, out=scratch)
        np.subtract(Pt[t], scratch, out=scratch)
        scratch *= 1.0 / gtt
        scratch += Xt[t]
        np.maximum(scratch, 0, out=Xt[t])


def sweep(ops: SparseOps, Xt: np.ndarray, G: np.ndarray, Pt: np.ndarray) -> None:
    """One HALS sweep over Xt in place; its columns are independent, so blocks go to threads."""

    def work(span: tuple[int, int]) -> None:
        lo, hi = span
        hals_sweep(Xt[:, lo:hi], G, Pt[:, lo:hi], np.empty(hi - lo, dtype=Xt.dtype))

    ops.map(work, ops.spans(Xt.shape[1]))


def _add_diag(G: np.ndarray, value: float) -> np.ndarray:
    """G + value * I (a copy when value is non-zero)."""
    if not value:
        return G
    G = G.copy()
    G.flat[:: G.shape[0] + 1] += value
    return G


def _no_penalty(H: np.ndarray) -> float:
    return 0.0


def _extrapolate(new: np.ndarray, old: np.ndarray, beta: float) -> np.ndarray:
    """max(0, new + beta * (new - old)), a fresh array."""
    out = np.subtract(new, old)
    out *= beta
    out += new
    np.maximum(out, 0, out=out)
    return out


def fit_hals(
    ops: SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
    guide: Guide | None = None,
) -> SolverResult:
    """HALS (scikit-learn's cd solver) with extrapolation.

    ``guide`` adds the seeded topics' pull to the H updates and to the objective.
    Returns (H, n_iter, objective history, converged).
    """
    l1_W, l2_W, l1_H, l2_H = pen = config.penalties(*ops.shape)
    # Topic-major storage: each coordinate update touches one contiguous row.
    W_prev = np.ascontiguousarray(W.T)  # last plain (not extrapolated) iterates
    H_prev = np.ascontiguousarray(H)
    W_y, H_y = W_prev.copy(), H_prev.copy()  # the points the next updates start from
    G_Hy = ops.gram(H_y)

    Qt = ops.tmul_t(W_prev)
    loss0 = frobenius_from_parts(ops.sq_norm, Qt, H_prev, ops.gram(W_prev), G_Hy)
    extra = guide.penalty if guide is not None else _no_penalty
    progress = Progress(loss0 + penalty_value(pen, W_prev, H_prev) + extra(H_prev), config.tol)

    beta, beta_cap = BETA0, 1.0
    best_W, best_H, best_G = W_y, H_y, G_Hy
    converged = False
    n_iter = 0
    for n_iter in range(1, config.max_iter + 1):
        # W: one sweep against H_y, then extrapolate.
        Pt = ops.mul_t(H_y)
        if l1_W:
            Pt -= l1_W
        W_new = W_y.copy()
        sweep(ops, W_new, _add_diag(G_Hy, l2_W), Pt)
        W_y = _extrapolate(W_new, W_prev, beta)

        # H: one sweep against the extrapolated W.
        Qt = ops.tmul_t(W_y)
        G_W = ops.gram(W_y)
        # H_y is this iteration's own array (an extrapolation or a copy of the best H, and
        # about to be replaced either way): sweep it in place.
        H_new = H_y
        G_sys, Q_sys = _add_diag(G_W, l2_H), Qt - l1_H if l1_H else Qt
        if guide is not None:
            G_sys, Q_sys = guide.h_system(G_sys, Q_sys)
        sweep(ops, H_new, G_sys, Q_sys)

        # The objective of (W_y, H_new) comes almost free from Qt and the Gram matrices.
        G_Hnew = ops.gram(H_new)
        loss = frobenius_from_parts(ops.sq_norm, Qt, H_new, G_W, G_Hnew)
        loss += penalty_value(pen, W_y, H_new) + extra(H_new)
        stop = progress.add(loss)
        if progress.improved:
            best_W, best_H, best_G = W_y, H_new, G_Hnew
            beta = min(beta_cap, beta * BETA_GROW)
            beta_cap = min(1.0, beta_cap * BETA_CAP_GROW)
            H_y = _extrapolate(H_new, H_prev, beta)
            G_Hy = ops.gram(H_y)
            W_prev, H_prev = W_new, H_new
        else:
            # The extrapolation overshot: go back to the best pair and extrapolate less.
            # Going back (rather than on from the worse point) keeps the accepted iterates
            # monotone, so the stopping rule sees steady progress.
            beta_cap = beta
            beta = beta / BETA_CUT
            W_y, H_y, G_Hy = best_W.copy(), best_H.copy(), best_G
            W_prev, H_prev = best_W, best_H
        if callback is not None:
            callback(n_iter, loss)
        if stop:
            converged = True
            break
    return best_H, n_iter, progress.history, converged
