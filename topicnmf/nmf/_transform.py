"""W for a fixed H: the non-negative least squares (or KL) problem of each row on its own."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from topicnmf.config import NMFConfig
from topicnmf.nmf._kernels import have_numba
from topicnmf.nmf._kl_cd import kl_solve
from topicnmf.nmf._loss import EPS
from topicnmf.nmf._sparse import SparseOps, sampled_dot

# A row has converged when the L1 norm of its projected gradient is at most this fraction
# of its value at W = 0 (scikit-learn's "violation" ratio, taken per row).
_NNLS_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-9}
_NNLS_MAX_SWEEPS = 1000
# Rows x topics that make a thread's share of the row solves worth its hand-offs.
_ENTRIES_PER_THREAD = 250_000
# KL without numba: a row has converged when no weight moved by more than this, relatively.
_KL_TRANSFORM_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-8}
_KL_TRANSFORM_MAX_ITER = 2000


def transform_on(ops: SparseOps, H: np.ndarray, config: NMFConfig) -> np.ndarray:
    dtype = ops.dtype
    H = np.ascontiguousarray(H, dtype=dtype)
    l1_W, l2_W, _, _ = config.penalties(*ops.shape)
    k = H.shape[0]
    if config.loss == "frobenius":
        B = ops.mul(np.ascontiguousarray(H.T))  # n x k
        G = H @ H.T
        if l2_W:
            G.flat[:: G.shape[0] + 1] += l2_W
        if l1_W:
            B -= l1_W
        W = np.empty_like(B)

        def work(span: tuple[int, int]) -> None:
            lo, hi = span
            W[lo:hi] = nnls_rows(B[lo:hi], G, _NNLS_TOL[dtype], _NNLS_MAX_SWEEPS)

        # Threads pay only when each has plenty to do: the row solves are many small numpy
        # calls, and below this they spend more time passing the GIL than computing.
        ops.map(work, ops.spans(B.shape[0], min_size=max(512, _ENTRIES_PER_THREAD // k)))
        return W
    if have_numba():
        return kl_solve(ops, H, l1_W, l2_W)
    return kl_rows(ops, H, l1_W, l2_W)


def nnls_rows(B: np.ndarray, G: np.ndarray, tol: float, max_sweeps: int) -> np.ndarray:
    """Solve min_{w >= 0} 0.5 w^T G w - b^T w for every row b of B, each row on its own.

    Cyclic coordinate descent from w = 0, vectorized across rows. A row is done when its
    violation (the L1 norm of the projected gradient seen during a sweep, as scikit-learn
    measures it) is at most ``tol`` times its value at w = 0; it is written out then.

    Every operation is elementwise across rows (see :func:`_fold_rows`): a row's result and
    its number of sweeps depend on that row alone, bit for bit, whatever the other rows of
    the batch, their number and the thread that runs them. A BLAS product would be faster
    but rounds a row differently depending on where it sits in the matrix.
    """
    n, k = B.shape
    W = np.zeros((n, k), dtype=B.dtype)
    Bt = np.ascontiguousarray(B.T)
    # At w = 0 the projected gradient is min(0, -b): its L1 norm is the sum of b's positives.
    pg0 = _fold_rows(np.maximum(Bt, 0)).copy()
    rows = np.flatnonzero(pg0 > 0)  # rows with no positive b_j are solved by w = 0 exactly
    if rows.size == 0:
        return W
    Bt = np.ascontiguousarray(Bt[:, rows])
    Wt = np.zeros_like(Bt)
    limit = tol * pg0[rows]
    live = np.ones(rows.size, dtype=bool)
    diag = np.diagonal(G)
    for sweep in range(1, max_sweeps + 1):
        violation = _sweep(Wt, Bt, G, diag)
        done = (violation <= limit) | (sweep == max_sweeps)
        done &= live
        if not done.any():
            continue
        W[rows[done]] = Wt[:, done].T
        live &= ~done
        n_live = int(live.sum())
        if n_live == 0:
            break
        if n_live < 0.75 * live.size:
            # Compacting copies the working arrays, so wait until it saves real work (rows
            # already written out meanwhile go on being updated, uselessly but harmlessly).
            # A column selection comes out in Fortran order: make the rows contiguous again.
            rows, limit = rows[live], limit[live]
            Wt, Bt = np.ascontiguousarray(Wt[:, live]), np.ascontiguousarray(Bt[:, live])
            live = np.ones(n_live, dtype=bool)
    return W


def _sweep(Wt: np.ndarray, Bt: np.ndarray, G: np.ndarray, diag: np.ndarray) -> np.ndarray:
    """One cyclic pass over the k coordinates of every column of Wt, in place.

    Returns each column's violation: the sum over coordinates of |projected gradient|, each
    taken just before its update.
    """
    violation = np.zeros(Wt.shape[1], dtype=Wt.dtype)
    tmp = np.empty_like(Wt)
    for t in range(Wt.shape[0]):
        if diag[t] <= 0:
            continue  # an empty topic: its weight stays 0 (b_t <= 0 too)
        np.multiply(Wt, G[:, t : t + 1], out=tmp)
        grad = _fold_rows(tmp)
        grad -= Bt[t]
        # projected gradient: at the bound only an inward (negative) component counts
        violation += np.abs(np.where(Wt[t] > 0, grad, np.minimum(grad, 0)))
        grad /= diag[t]
        np.subtract(Wt[t], grad, out=grad)
        np.maximum(grad, 0, out=Wt[t])
    return violation


def _fold_rows(X: np.ndarray) -> np.ndarray:
    """X.sum(axis=0) for a k x n array, in place (X is overwritten; the result is X[0]).

    The rows are added by halving, with elementwise adds, so each column's sum is taken in
    an order that depends on k alone. numpy's own reduction switches to pairwise summation
    when n is 1, so a row alone would round differently from the same row in a batch.
    """
    m = X.shape[0]
    while m > 1:
        h = m // 2
        np.add(X[:h], X[m - h : m], out=X[:h])
        m -= h
    return X[0]


def kl_rows(ops: SparseOps, H: np.ndarray, l1_W: float, l2_W: float) -> np.ndarray:
    """W for fixed H under the KL loss: multiplicative updates, each row stopping on its own.

    The start is a per-row constant chosen so that the row of WH has the row's total mass;
    it depends on the row alone, unlike scikit-learn's start from the batch mean.
    """
    X = ops.X
    n, _ = X.shape
    k = H.shape[0]
    dtype = ops.dtype
    Ht = np.ascontiguousarray(H.T)
    h_sum = H.sum(axis=1)
    denom_base = h_sum + l1_W
    total_h = float(h_sum.sum())
    row_mass = np.asarray(X.sum(axis=1)).ravel()
    W = np.zeros((n, k), dtype=dtype)
    active = np.flatnonzero(row_mass > 0)
    if active.size == 0 or total_h == 0:
        return W
    Xa = X[active]
    Wa = np.empty((active.size, k), dtype=dtype)
    Wa[:] = (row_mass[active] / total_h).astype(dtype)[:, None]
    tol = _KL_TRANSFORM_TOL[np.dtype(dtype)]
    for _ in range(_KL_TRANSFORM_MAX_ITER):
        rows = np.repeat(np.arange(Xa.shape[0], dtype=np.int32), np.diff(Xa.indptr))
        wh = sampled_dot(rows, Xa.indices, Wa, Ht, None)
        np.maximum(wh, EPS, out=wh)
        ratio = sp.csr_matrix((Xa.data / wh, Xa.indices, Xa.indptr), shape=Xa.shape)
        numer = ratio @ Ht
        denom = np.broadcast_to(denom_base, Wa.shape) + (l2_W * Wa if l2_W else 0)
        denom = np.where(denom == 0, EPS, denom)
        new = Wa * (numer / denom)
        change = np.abs(new - Wa).max(axis=1)
        scale = new.max(axis=1)
        done = change <= tol * np.maximum(scale, np.finfo(dtype).tiny)
        Wa = new
        if done.any():
            W[active[done]] = Wa[done]
            keep = ~done
            if not keep.any():
                return W
            active = active[keep]
            Wa = Wa[keep]
            Xa = Xa[keep]
    W[active] = Wa
    return W
