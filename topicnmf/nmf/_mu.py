"""Multiplicative updates (Lee & Seung 2001) for both losses: the ``mu`` solver.

The updates and their safeguards (the same epsilon clipping) are scikit-learn's, so from the
same start the iterates follow scikit-learn's ``mu`` solver. Only numpy and scipy are needed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from topicnmf.config import NMFConfig
from topicnmf.nmf._loss import (
    EPS,
    Progress,
    SolverResult,
    frobenius_from_parts,
    kl_from_values,
    penalty_value,
)
from topicnmf.nmf._sparse import SparseOps

# Values of H below this are set to 0 after a KL update, as scikit-learn does.
_TINY_H = float(np.finfo(np.float64).eps)


def fit_mu_frobenius(
    ops: SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
) -> SolverResult:
    """Lee & Seung's updates for 0.5||V - WH||^2 (+ penalties), as scikit-learn's mu solver."""
    l1_W, l2_W, l1_H, l2_H = pen = config.penalties(*ops.shape)
    W = np.ascontiguousarray(W)
    Ht = np.ascontiguousarray(H.T)
    Q = ops.tmul(W)
    loss0 = frobenius_from_parts(ops.sq_norm, Q, Ht, W.T @ W, Ht.T @ Ht)
    progress = Progress(loss0 + penalty_value(pen, W, Ht), config.tol)
    converged = False
    n_iter = 0
    for n_iter in range(1, config.max_iter + 1):
        numer = ops.mul(Ht)
        denom = W @ (Ht.T @ Ht)
        mu_step(W, numer, denom, l1_W, l2_W)
        Q = ops.tmul(W)
        G_W = W.T @ W
        denom = Ht @ G_W
        mu_step(Ht, Q.copy(), denom, l1_H, l2_H)
        loss = frobenius_from_parts(ops.sq_norm, Q, Ht, G_W, Ht.T @ Ht)
        loss += penalty_value(pen, W, Ht)
        stop = progress.add(loss)
        if callback is not None:
            callback(n_iter, loss)
        if stop:
            converged = True
            break
    return np.ascontiguousarray(Ht.T), n_iter, progress.history, converged


def mu_step(X: np.ndarray, numer: np.ndarray, denom: np.ndarray, l1: float, l2: float) -> None:
    """X *= numer / (denom + l1 + l2 X), with scikit-learn's guard against 0 / 0."""
    if l1:
        denom += l1
    if l2:
        denom += l2 * X
    denom[denom == 0] = EPS
    numer /= denom
    X *= numer


def fit_mu_kl(
    ops: SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
) -> SolverResult:
    """Multiplicative updates for the KL divergence, scikit-learn's mu solver with beta=1.

    Each half-step needs WH only where V is non-zero: it is computed block by block on the
    thread pool (a sampled dense-dense product), V / WH is laid on V's pattern, and the
    numerators are then ordinary CSR products. The W half-step's WH belongs to the previous
    iteration's (W, H), so it also gives that iteration's loss at no extra cost.
    """
    l1_W, l2_W, l1_H, l2_H = pen = config.penalties(*ops.shape)
    v, v_t = ops.X.data, ops.Xt.data
    W = np.ascontiguousarray(W)
    Ht = np.ascontiguousarray(H.T)
    progress: Progress | None = None
    converged = False
    n_iter = 0
    while True:
        wh = ops.sampled(W, Ht)
        total = float(W.sum(axis=0, dtype=np.float64) @ Ht.sum(axis=0, dtype=np.float64))
        loss = kl_from_values(v, wh, total) + penalty_value(pen, W, Ht)
        if progress is None:
            progress = Progress(loss, config.tol)
        else:
            stop = progress.add(loss)
            if callback is not None:
                callback(n_iter, loss)
            if stop:
                converged = True
                break
        if n_iter == config.max_iter:
            break
        n_iter += 1

        np.maximum(wh, EPS, out=wh)
        np.divide(v, wh, out=wh)
        numer = ops.mul(Ht, data=wh)
        denom = np.broadcast_to(Ht.sum(axis=0), W.shape).copy()
        mu_step(W, numer, denom, l1_W, l2_W)

        wh_t = ops.sampled(Ht, W, transpose=True)
        np.maximum(wh_t, EPS, out=wh_t)
        np.divide(v_t, wh_t, out=wh_t)
        numer = ops.tmul(W, data=wh_t)
        w_sum = W.sum(axis=0)
        w_sum[w_sum == 0] = 1.0
        denom = np.broadcast_to(w_sum, Ht.shape).copy()
        mu_step(Ht, numer, denom, l1_H, l2_H)
        # As scikit-learn does for beta <= 1: tiny values would only slow later updates.
        Ht[Ht < _TINY_H] = 0.0
    return np.ascontiguousarray(Ht.T), n_iter, progress.history, converged
