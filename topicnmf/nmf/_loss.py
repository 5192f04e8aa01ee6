"""The objective: losses, penalties, and the stopping rule that watches it.

Public: :func:`frobenius_loss`, :func:`kl_divergence`, :func:`reconstruction_error` (the
absolute ||V - WH||_F, or sqrt(2 KL): scikit-learn's ``reconstruction_err_``) and
:func:`objective`. The other helpers compute the same quantities from products the solvers
have already formed, so watching the loss costs almost nothing per iteration.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from topicnmf.config import LOSSES, NMFConfig
from topicnmf.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from topicnmf.nmf._sparse import SparseOps

# scikit-learn's EPSILON: the floor for WH in the KL updates and the divide-by-zero guard.
EPS = float(np.finfo(np.float32).eps)

# Stopping rule window (iterations), see Progress.
WINDOW = 5

_DOT_CHUNK = 8192

# What a solver returns: (H, n_iter, objective history, converged).
SolverResult = tuple[np.ndarray, int, list[float], bool]


def frobenius_loss(V: Any, W: np.ndarray, H: np.ndarray) -> float:
    """Return 0.5 * ||V - W @ H||_F^2, without forming the dense product.

    Accumulates in float64. ``sqrt(2 * loss)`` is :func:`reconstruction_error`.
    """
    from topicnmf.nmf._validation import check_matrix

    X = check_matrix(V, np.dtype(np.float64))
    W64 = np.asarray(W, dtype=np.float64)
    H64 = np.asarray(H, dtype=np.float64)
    cross = float(np.vdot(np.asarray(X @ H64.T), W64))
    gram = float(np.vdot(W64.T @ W64, H64 @ H64.T))
    value = 0.5 * (float(np.dot(X.data, X.data)) - 2.0 * cross + gram)
    return max(value, 0.0)


def kl_divergence(V: Any, W: np.ndarray, H: np.ndarray) -> float:
    """Return the generalized KL divergence sum(V log(V / WH) - V + WH), in float64.

    Only the non-zeros of V enter the log term; WH is floored at scikit-learn's epsilon there
    so that a zero prediction of an observed value gives a large but finite loss.
    """
    from topicnmf.nmf._sparse import sampled_dot
    from topicnmf.nmf._validation import check_matrix

    X = check_matrix(V, np.dtype(np.float64))
    W64 = np.ascontiguousarray(W, dtype=np.float64)
    H64 = np.asarray(H, dtype=np.float64)
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    wh = sampled_dot(rows, X.indices, W64, np.ascontiguousarray(H64.T), None)
    return kl_from_values(X.data, wh, W64.sum(axis=0) @ H64.sum(axis=1))


def reconstruction_error(V: Any, W: np.ndarray, H: np.ndarray, loss: str = "frobenius") -> float:
    """Return sqrt(2 * loss(V, WH)): the absolute ||V - WH||_F for the Frobenius loss.

    This is scikit-learn's ``reconstruction_err_``; divided by ||V||_F it is
    ``topicnmf.quality.relative_error``.
    """
    if loss not in LOSSES:
        raise ParameterError(
            f"loss must be one of {', '.join(LOSSES)}; got {loss!r}.", param="loss"
        )
    value = frobenius_loss(V, W, H) if loss == "frobenius" else kl_divergence(V, W, H)
    return math.sqrt(2.0 * max(value, 0.0))


def objective(V: Any, W: np.ndarray, H: np.ndarray, config: NMFConfig) -> float:
    """Return the objective the solvers minimize: the loss plus the penalties of ``config``."""
    base = frobenius_loss(V, W, H) if config.loss == "frobenius" else kl_divergence(V, W, H)
    shape = (np.shape(W)[0], np.shape(H)[1])
    return base + penalty_value(config.penalties(*shape), np.asarray(W), np.asarray(H))


def penalty_value(pen: tuple[float, float, float, float], W: np.ndarray, H: np.ndarray) -> float:
    """The penalty terms for (l1_W, l2_W, l1_H, l2_H) = ``pen``, in float64."""
    l1_W, l2_W, l1_H, l2_H = pen
    value = 0.0
    if l1_W:
        value += l1_W * float(W.sum(dtype=np.float64))
    if l2_W:
        value += 0.5 * l2_W * dot64(np.ascontiguousarray(W), np.ascontiguousarray(W))
    if l1_H:
        value += l1_H * float(H.sum(dtype=np.float64))
    if l2_H:
        value += 0.5 * l2_H * dot64(np.ascontiguousarray(H), np.ascontiguousarray(H))
    return value


def dot64(a: np.ndarray, b: np.ndarray) -> float:
    """<a, b> summed in float64 across chunks of BLAS float32 dots.

    Within a chunk of 8192 values the float32 error is ~1e-9 relative; converting whole
    k x m arrays to float64 first would cost three to five times as much.
    """
    a = a.ravel()
    b = b.ravel()
    if a.dtype == np.float64 and b.dtype == np.float64:
        return float(np.dot(a, b))
    total = 0.0
    for start in range(0, a.size, _DOT_CHUNK):
        total += float(np.dot(a[start : start + _DOT_CHUNK], b[start : start + _DOT_CHUNK]))
    return total


def frobenius_from_parts(
    sq_norm: float, cross: np.ndarray, other: np.ndarray, gram_a: np.ndarray, gram_b: np.ndarray
) -> float:
    """0.5 * (||V||^2 - 2 <cross, other> + <gram_a, gram_b>), accumulated in float64.

    With cross = V^T W (as k x m) and other = H, gram_a = W^T W, gram_b = H H^T this is the
    Frobenius loss, from products the solver has already computed.
    """
    c = dot64(np.ascontiguousarray(cross), np.ascontiguousarray(other))
    g = float(np.vdot(gram_a.astype(np.float64), gram_b.astype(np.float64)))
    return max(0.5 * (sq_norm - 2.0 * c + g), 0.0)


def kl_from_values(v: np.ndarray, wh: np.ndarray, total_wh: float) -> float:
    """KL divergence from V's non-zeros, WH at those places and sum(WH)."""
    wh = np.maximum(wh, EPS)
    mask = v > 0
    v64 = v[mask].astype(np.float64)
    log_term = float(np.dot(v64, np.log(v64 / wh[mask])))
    return max(log_term - float(v64.sum()) + float(total_wh), 0.0)


def objective_on(ops: SparseOps, W: np.ndarray, H: np.ndarray, config: NMFConfig) -> float:
    """The objective of (W, H) on ops.X in float64, with the pool's products."""
    pen = config.penalties(*ops.shape)
    if config.loss == "frobenius":
        Q = ops.tmul(W)  # m x k
        W64 = W.astype(np.float64)
        H64 = H.astype(np.float64)
        base = frobenius_from_parts(ops.sq_norm, Q.T, H64, W64.T @ W64, H64 @ H64.T)
    else:
        wh = ops.sampled(np.ascontiguousarray(W), np.ascontiguousarray(H.T))
        base = kl_from_values(ops.X.data, wh, float(W.sum(axis=0, dtype=np.float64) @ H.sum(1)))
    return base + penalty_value(pen, W, H)


class Progress:
    """The objective's history, its best value, and the stopping rule.

    L_t is the objective after iteration t (L_0 at the initialization), L*_t the best value
    up to t. A fit stops after iteration t >= 5 when the average decrease of L* over the last
    5 iterations is at most ``tol`` times the decrease achieved so far:

        (L*_{t-5} - L*_t) / 5 <= tol * (L_0 - L*_t)

    Measuring progress against what has been gained rather than against L itself makes
    ``tol`` mean the same whatever the irreducible residual, which for TF-IDF is most of
    ||V||^2; the window lets an iteration that an extrapolation spoiled pass without ending
    the run.
    """

    def __init__(self, loss0: float, tol: float):
        self.history = [float(loss0)]
        self.best = [float(loss0)]
        self.tol = tol

    def add(self, loss: float) -> bool:
        """Record the loss of the iteration just done; return True when the run may stop."""
        loss = float(loss)
        self.history.append(loss)
        self.best.append(min(self.best[-1], loss))
        t = len(self.history) - 1
        if t < WINDOW:
            return False
        best = self.best[-1]
        recent = self.best[-1 - WINDOW] - best
        return recent <= WINDOW * self.tol * (self.history[0] - best)

    @property
    def improved(self) -> bool:
        """Whether the last loss is the best so far (ties count)."""
        return self.history[-1] <= self.best[-2] if len(self.best) > 1 else True
