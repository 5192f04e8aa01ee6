"""The Frobenius solver ``anls``: alternating non-negative least squares, solved exactly.

Each outer iteration solves min_{W >= 0} ||V - WH||^2 with H fixed, then the same over H
with W fixed, each to its exact optimum (up to rounding) rather than by one sweep of
coordinate descent. The sub-problems are many small non-negative least-squares problems
sharing one Gram matrix G (k x k): min_{x >= 0} 0.5 x^T G x - b^T x for every column b of B.
They are solved by block principal pivoting (Kim & Park 2011, "Fast nonnegative matrix
factorization: an active-set-like method and comparisons"): guess which variables are
positive (the passive set), solve the unconstrained system on them, and exchange every
variable that breaks a KKT condition at once (the systems of all columns with the same
number of passive variables are solved in one batched LAPACK call). When the number of
infeasible variables stops falling, the exchanges are limited (three tries of full
exchange, then Murty's one-at-a-time rule), which guarantees termination in exact
arithmetic; a column that still has not settled after
``MAX_PIVOTS`` rounds (rounding on a nearly singular G can make the rule cycle) is finished
by the classical active-set method of Lawson and Hanson on its own.

The passive sets of one outer iteration start the next, so later sub-problems take one or
two rounds. Penalties enter as in HALS: L2 on the diagonal of G, L1 subtracted from B.
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

# Pivoting rounds before a column goes to the active-set method.
MAX_PIVOTS = 50
# Full exchanges allowed without a fall in the number of infeasible variables (Kim & Park).
FULL_EXCHANGE_TRIES = 3
# Columns per batched solve (a stack of p x p systems: 4096 * 20 * 20 doubles is 13 MB).
_BATCH = 4096


def _solve_groups(G: np.ndarray, B: np.ndarray, P: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """X[:, cols] solving G[P, P] x_P = b_P with x = 0 off P, for each column's own P.

    The systems are batched by passive-set size p: a stack of the p x p systems of all
    columns with p passive variables is solved by one LAPACK call (on 20 Newsgroups, k = 20,
    half the columns have a passive set of their own, and p is 6 to 9, so grouping by set
    would save little and solving k x k systems would cost 10 to 30 times the flops). A
    singular stack (a passive set on dependent columns) is solved pattern by pattern in
    the least-squares sense instead.
    """
    k = G.shape[0]
    X = np.zeros((k, cols.size))
    mask = P[:, cols]
    sizes = mask.sum(axis=0)
    for p in np.unique(sizes):
        if p == 0:
            continue
        members_all = np.flatnonzero(sizes == p)
        for lo in range(0, members_all.size, _BATCH):
            members = members_all[lo : lo + _BATCH]
            # each member's passive variables, in increasing order (row-major nonzero)
            idx = np.nonzero(mask[:, members].T)[1].reshape(members.size, p)
            stack = G[idx[:, :, None], idx[:, None, :]]
            rhs = B[idx, cols[members][:, None]]
            try:
                sol = np.linalg.solve(stack, rhs[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                sol = _lstsq_patterns(G, rhs, idx)
            X[idx, members[:, None]] = sol
    return X


def _lstsq_patterns(G: np.ndarray, rhs: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Least-squares solutions of the systems G[i, i] x = rhs for each row i of idx."""
    sol = np.zeros_like(rhs)
    patterns, group = np.unique(idx, axis=0, return_inverse=True)
    group = group.ravel()
    for g, passive in enumerate(patterns):
        members = np.flatnonzero(group == g)
        Gp = G[np.ix_(passive, passive)]
        sol[members] = np.linalg.lstsq(Gp, rhs[members].T, rcond=None)[0].T
    return sol


def active_set_column(G: np.ndarray, b: np.ndarray, x0: np.ndarray) -> np.ndarray:
    """min_{x >= 0} 0.5 x^T G x - b^T x by the Lawson-Hanson active-set method."""
    k = b.size
    scale = max(float(np.abs(b).max()), float(np.abs(G).max()), 1e-300)
    tol = 1e-12 * scale * k
    x = np.zeros(k)
    passive = np.zeros(k, dtype=bool)
    for _ in range(3 * k + 10):
        w = b - G @ x
        free = ~passive & (w > tol)
        if not free.any():
            break
        passive[int(np.argmax(np.where(free, w, -np.inf)))] = True
        for _ in range(3 * k + 10):
            idx = np.flatnonzero(passive)
            z = np.zeros(k)
            z[idx] = np.linalg.lstsq(G[np.ix_(idx, idx)], b[idx], rcond=None)[0]
            if (z[idx] > 0).all():
                x = z
                break
            bad = passive & (z <= 0)
            step = np.min(x[bad] / np.maximum(x[bad] - z[bad], 1e-300))
            x = x + step * (z - x)
            passive &= x > tol
            x[~passive] = 0.0
    return x


def nnls_bpp(
    G: np.ndarray, B: np.ndarray, passive: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Solve min_{x >= 0} 0.5 x^T G x - b^T x for every column b of B, exactly.

    Parameters
    ----------
    G : ndarray of shape (k, k)
        Symmetric positive semi-definite.
    B : ndarray of shape (k, r)
    passive : bool ndarray of shape (k, r), optional
        First guess of which variables are positive (the previous solution's support).

    Returns
    -------
    X : ndarray of shape (k, r), float64, >= 0
    rounds : int
        Pivoting rounds run (1 when the guess was right).
    """
    G = np.asarray(G, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    k, r = B.shape
    # A variable with G_jj = 0 has a linear objective -b_j x_j; b_j <= 0 there for the data's
    # own Gram matrix, so it is 0 at the optimum: leaving it out keeps every G_PP definite.
    live = np.diagonal(G) > 0
    P = np.zeros((k, r), dtype=bool) if passive is None else passive & live[:, None]
    cols = np.arange(r)
    X = _solve_groups(G, B, P, cols)
    Y = G @ X - B
    alpha = np.full(r, FULL_EXCHANGE_TRIES)
    beta = np.full(r, k + 1)
    # a gradient this close to 0 is 0 up to rounding: flipping on it could cycle
    tol = 1e-12 * max(float(np.abs(B).max(initial=0.0)), float(np.abs(G).max(initial=0.0)))
    rounds = 1
    while True:
        infeasible = ((X < 0) & P) | ((Y < -tol) & ~P & live[:, None])
        count = infeasible.sum(axis=0)
        todo = np.flatnonzero(count > 0)
        if todo.size == 0 or rounds > MAX_PIVOTS:
            break
        rounds += 1
        c = count[todo]
        better = c < beta[todo]
        beta[todo[better]] = c[better]
        alpha[todo[better]] = FULL_EXCHANGE_TRIES
        worse = ~better & (alpha[todo] >= 1)
        alpha[todo[worse]] -= 1
        full = better | worse
        flip = np.zeros((k, todo.size), dtype=bool)
        flip[:, full] = infeasible[:, todo[full]]
        # Murty's backup rule: exchange only the infeasible variable with the largest index.
        single = np.flatnonzero(~full)
        if single.size:
            last = k - 1 - np.argmax(infeasible[::-1, todo[single]], axis=0)
            flip[last, single] = True
        P[:, todo] ^= flip
        X[:, todo] = _solve_groups(G, B, P, todo)
        Y[:, todo] = G @ X[:, todo] - B[:, todo]
    if rounds > MAX_PIVOTS and todo.size:
        for j in todo:  # cycling on rounding: settle these columns one by one
            X[:, j] = active_set_column(G, B[:, j], X[:, j])
    np.maximum(X, 0, out=X)
    return X, rounds


def _solve_side(
    ops: SparseOps, G: np.ndarray, B: np.ndarray, passive: np.ndarray | None
) -> np.ndarray:
    """nnls_bpp on column blocks, one per thread (columns are independent)."""
    out = np.empty(B.shape, dtype=np.float64)

    def work(span: tuple[int, int]) -> None:
        lo, hi = span
        guess = None if passive is None else passive[:, lo:hi]
        out[:, lo:hi] = nnls_bpp(G, B[:, lo:hi], guess)[0]

    ops.map(work, ops.spans(B.shape[1], min_size=2048))
    return out


def fit_anls(
    ops: SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
    guide: Guide | None = None,
) -> SolverResult:
    """ANLS by block principal pivoting. Returns (H, n_iter, objective history, converged).

    ``guide`` adds the seeded topics' pull to the H sub-problems and to the objective.
    """
    l1_W, l2_W, l1_H, l2_H = pen = config.penalties(*ops.shape)
    dtype = ops.dtype
    Wt = np.ascontiguousarray(W.T)
    Ht = np.ascontiguousarray(H)
    Qt = ops.tmul_t(Wt)
    loss0 = frobenius_from_parts(ops.sq_norm, Qt, Ht, ops.gram(Wt), ops.gram(Ht))
    extra = guide.penalty if guide is not None else (lambda H: 0.0)
    progress = Progress(loss0 + penalty_value(pen, Wt, Ht) + extra(Ht), config.tol)
    best_H = Ht
    W_pass: np.ndarray | None = Wt > 0
    H_pass: np.ndarray | None = Ht > 0
    converged = False
    n_iter = 0
    for n_iter in range(1, config.max_iter + 1):
        G = ops.gram(Ht).astype(np.float64)
        G.flat[:: G.shape[0] + 1] += l2_W
        Pt = ops.mul_t(Ht).astype(np.float64)
        Wt = _solve_side(ops, G, Pt - l1_W if l1_W else Pt, W_pass).astype(dtype)
        W_pass = Wt > 0
        G_W = ops.gram(Wt)
        G = G_W.astype(np.float64)
        G.flat[:: G.shape[0] + 1] += l2_H
        Qt = ops.tmul_t(Wt)
        Q64 = Qt.astype(np.float64)
        B = Q64 - l1_H if l1_H else Q64
        if guide is not None:
            G, B = guide.h_system(G, B)
        Ht = _solve_side(ops, G, B, H_pass).astype(dtype)
        H_pass = Ht > 0
        loss = frobenius_from_parts(ops.sq_norm, Qt, Ht, G_W, ops.gram(Ht))
        loss += penalty_value(pen, Wt, Ht) + extra(Ht)
        stop = progress.add(loss)
        if progress.improved:
            best_H = Ht
        if callback is not None:
            callback(n_iter, loss)
        if stop:
            converged = True
            break
    return best_H, n_iter, progress.history, converged
