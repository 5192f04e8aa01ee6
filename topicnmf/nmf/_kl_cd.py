"""The KL solver ``cd``: Newton coordinate descent over rows, with the compiled kernels."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from topicnmf.config import NMFConfig
from topicnmf.nmf._kernels import chunk_bounds, numba_kernels, set_numba_threads
from topicnmf.nmf._loss import Progress, SolverResult, kl_from_values, penalty_value
from topicnmf.nmf._sparse import SparseOps

NEWTON_STEPS = 4  # Newton steps per weight and sweep; the sweeps refine further
# transform: a row is solved when no weight moved by more than this, relative to its largest
KL_CD_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-9}
KL_CD_MAX_SWEEPS = 1000


def fit_cd_kl(
    ops: SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
) -> SolverResult:
    """Coordinate descent for the KL loss: one Newton-CD sweep over W, then over H.

    The sweep over H runs on V^T's rows and leaves WH exact at every non-zero, so the loss of
    the new (W, H) falls out of it.
    """
    kernels = numba_kernels()
    set_numba_threads(ops.parts)
    l1_W, l2_W, l1_H, l2_H = pen = config.penalties(*ops.shape)
    X, Xt = ops.X, ops.Xt
    W = np.ascontiguousarray(W)
    Ht = np.ascontiguousarray(H.T)
    chunks = 8 * ops.parts
    bounds_w = chunk_bounds(X.indptr, chunks)
    bounds_h = chunk_bounds(Xt.indptr, chunks)
    log_w = np.zeros(X.shape[0])
    log_h = np.zeros(Xt.shape[0])
    sum_v = float(X.data.sum(dtype=np.float64))

    def total_wh() -> float:
        return float(W.sum(axis=0, dtype=np.float64) @ Ht.sum(axis=0, dtype=np.float64))

    loss0 = kl_from_values(X.data, ops.sampled(W, Ht), total_wh())
    progress = Progress(loss0 + penalty_value(pen, W, Ht), config.tol)
    converged = False
    n_iter = 0
    for n_iter in range(1, config.max_iter + 1):
        kernels["sweep"](
            X.indptr,
            X.indices,
            X.data,
            W,
            Ht,
            Ht.sum(axis=0, dtype=np.float64),
            l1_W,
            l2_W,
            bounds_w,
            NEWTON_STEPS,
            log_w,
        )
        kernels["sweep"](
            Xt.indptr,
            Xt.indices,
            Xt.data,
            Ht,
            W,
            W.sum(axis=0, dtype=np.float64),
            l1_H,
            l2_H,
            bounds_h,
            NEWTON_STEPS,
            log_h,
        )
        loss = float(log_h.sum()) - sum_v + total_wh() + penalty_value(pen, W, Ht)
        stop = progress.add(loss)
        if callback is not None:
            callback(n_iter, loss)
        if stop:
            converged = True
            break
    return np.ascontiguousarray(Ht.T), n_iter, progress.history, converged


def kl_solve(ops: SparseOps, H: np.ndarray, l1_W: float, l2_W: float) -> np.ndarray:
    """W for fixed H under the KL loss, row by row, with the compiled Newton-CD kernel."""
    kernels = numba_kernels()
    set_numba_threads(ops.parts)
    X = ops.X
    Ht = np.ascontiguousarray(H.T)
    W = np.zeros((X.shape[0], H.shape[0]), dtype=ops.dtype)
    kernels["solve"](
        X.indptr,
        X.indices,
        X.data,
        W,
        Ht,
        Ht.sum(axis=0, dtype=np.float64),
        float(l1_W),
        float(l2_W),
        chunk_bounds(X.indptr, 8 * ops.parts),
        NEWTON_STEPS,
        KL_CD_TOL[np.dtype(ops.dtype)],
        KL_CD_MAX_SWEEPS,
    )
    return W
