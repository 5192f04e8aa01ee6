"""The NMF engine: initialisation, solvers, stopping rule and ``transform``.

V (n_samples x n_features, sparse, non-negative) is approximated by W @ H with W, H >= 0.
Two losses, with scikit-learn's definitions so that results compare one for one:

* ``"frobenius"``: 0.5 * ||V - WH||_F^2
* ``"kl"``: the generalised Kullback-Leibler divergence sum(V log(V / WH) - V + WH)

plus the penalties alpha_W * l1_ratio * n_features * ||W||_1
+ 0.5 * alpha_W * (1 - l1_ratio) * n_features * ||W||_F^2, and the same for H with alpha_H and
n_samples (scikit-learn >= 1.2). The initialisations are scikit-learn's too: the same seed
gives the same start.

Solvers
-------
``"cd"`` with the Frobenius loss is HALS, the cyclic coordinate descent of scikit-learn's
``cd`` solver: each outer iteration updates every column of W once, then every row of H. It
is written with whole-column numpy operations on factors stored topic-major (k x n), so one
coordinate update is one BLAS gemv and a few contiguous vector operations. On top of it the
iterates are extrapolated (Ang & Gillis 2019, "Accelerating nonnegative matrix factorization
algorithms using extrapolation"): an update starts from max(0, X_new + beta (X_new - X_old));
beta grows while the loss falls, and when it rises the solver goes back to the best pair and
cuts beta. On 20 Newsgroups this reaches the objective of 200 plain iterations in 20 to 50.

``"cd"`` with the KL loss is the coordinate descent of Hsieh & Dhillon (2011): each weight of a
row gets a few projected Newton steps on its one-variable convex problem while WH is kept up
to date at the row's non-zeros. That loop is compiled with numba (an optional dependency
imported only here); it reaches scikit-learn's converged ``mu`` objective in a sixth of the
iterations.

``"mu"`` is Lee & Seung's multiplicative updates for both losses, with scikit-learn's
safeguards (the same epsilon clipping), so its iterates follow scikit-learn's ``mu`` solver;
it needs nothing beyond numpy and scipy.

Stopping rule
-------------
L_t is the objective after iteration t (L_0 at the initialisation), L*_t the best value up to
t. A fit stops after iteration t >= 5 when the average decrease of L* over the last 5
iterations is at most ``tol`` times the decrease achieved so far:

    (L*_{t-5} - L*_t) / 5 <= tol * (L_0 - L*_t)

Measuring progress against what has been gained rather than against L itself makes ``tol``
mean the same whatever the irreducible residual, which for TF-IDF is most of ||V||^2; the
window lets an iteration that an extrapolation spoiled pass without ending the run. The loss
costs nothing extra: it comes from products each iteration computes anyway. Reaching
``max_iter`` first returns ``converged=False``.

Transform
---------
``transform`` minimises the loss (and W's penalty) over W >= 0 with H fixed, row by row: for
the Frobenius loss by coordinate descent on the k x k Gram matrix HH^T, for KL by the Newton
coordinate descent above (numpy multiplicative updates when numba is missing). Each row stops
on its own test, so its result does not depend on the other rows of its batch (beyond
floating-point rounding), and ``fit_nmf`` returns ``W = transform(V, H)``: ``assign`` on the
training documents gives back fit's document-topic weights.

Threads
-------
The products with V (V @ X, V^T @ Y and WH at V's non-zeros), the HALS sweeps and the row-wise
solves of ``transform`` are split into contiguous blocks, one per thread (scipy's sparse kernels,
numpy and BLAS release the GIL); each output row is computed by one thread in a fixed order.
BLAS itself is held to one thread: its operations here are small, and BLAS threads that spin on
a busy machine cost more than they give.
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from topicnmf.config import INITS, LOSSES, SOLVERS, NMFConfig, _is_int, available_cores
from topicnmf.errors import ParameterError

__all__ = [
    "INITS",
    "LOSSES",
    "SOLVERS",
    "NMFConfig",
    "NMFResult",
    "fit_nmf",
    "frobenius_loss",
    "initialize",
    "kl_divergence",
    "objective",
    "reconstruction_error",
    "transform",
]

# scikit-learn's EPSILON: the floor for WH in the KL updates and the divide-by-zero guard.
_EPS = float(np.finfo(np.float32).eps)
# Values of H below this are set to 0 after a KL multiplicative update (as scikit-learn does).
_EPS64 = float(np.finfo(np.float64).eps)

# Stopping rule window (iterations), see the module docstring.
_WINDOW = 5

# Extrapolation schedule (Ang & Gillis 2019): start, growth on success, growth of the cap,
# and the cut on failure. The start changes which local minimum the fit settles in. It was
# chosen with the randomised SVD start: on 20 Newsgroups (k=20, default settings) 0.3
# reached scikit-learn's own cd objective on both the sorted and a shuffled row order, where
# 0.4 stopped 1e-4 higher on the sorted order. From the exact SVD start (the default now) it
# ends below scikit-learn's 200-iteration objective at k = 20, 50 and 100.
_BETA0 = 0.3
_BETA_GROW = 1.05
_BETA_CAP_GROW = 1.01
_BETA_CUT = 1.5

# transform: a row has converged when the L1 norm of its projected gradient is at most this
# fraction of its value at W = 0 (scikit-learn's "violation" ratio, taken per row).
_NNLS_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-9}
_NNLS_MAX_SWEEPS = 1000
_NNLS_CHECK_EVERY = 2
# KL transform: a row has converged when no weight moved by more than this, relatively.
_KL_TRANSFORM_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-8}
_KL_TRANSFORM_MAX_ITER = 2000

# Exact SVD of the NNDSVD inits: a dense eigensolver when the smaller side of V has at most
# this many entries, else ARPACK, to this relative accuracy of the eigenvalues.
_DENSE_GRAM = 1000
_SVD_TOL = 1e-10

# Row blocks smaller than this are not worth a thread hand-off.
_MIN_NNZ_PER_THREAD = 20_000


# --------------------------------------------------------------------------------------------
# Configuration and result
# --------------------------------------------------------------------------------------------


@dataclass
class NMFResult:
    """What ``fit_nmf`` returns.

    Attributes
    ----------
    W : ndarray of shape (n_samples, n_components)
        Document-topic weights, ``transform(V, H, config)``.
    H : ndarray of shape (n_components, n_features)
        Topic-term weights.
    n_iter : int
        Outer iterations run.
    loss : float
        Objective (loss + penalties) of the returned W and H.
    converged : bool
        False when the run stopped at ``max_iter`` before the stopping rule was met.
    seconds : float
        Wall time of the fit, initialisation and final ``transform`` included.
    loss_history : list of float
        Objective at the initialisation, then after each iteration (n_iter + 1 values).
    """

    W: np.ndarray
    H: np.ndarray
    n_iter: int
    loss: float
    converged: bool
    seconds: float
    loss_history: list[float] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------


def fit_nmf(
    V: Any,
    config: NMFConfig,
    *,
    n_threads: int | None = None,
    callback: Callable[[int, float], None] | None = None,
) -> NMFResult:
    """Factorise V ~ W @ H with W, H >= 0.

    Parameters
    ----------
    V : sparse matrix or array-like of shape (n_samples, n_features)
        Non-negative, finite data (a TF-IDF matrix). Converted to CSR in ``config.dtype``.
    config : NMFConfig
        The settings, validated here.
    n_threads : int, optional
        Threads for the sparse products and BLAS; default: the CPUs this process may use.
    callback : callable, optional
        ``callback(iteration, loss)`` after each iteration, e.g. for a progress bar.

    Returns
    -------
    NMFResult
        ``converged`` is False if ``max_iter`` was reached first (no warning is issued).

    Raises
    ------
    ParameterError
        A bad setting, or V negative, not finite, empty or not 2-D.
    """
    start = time.perf_counter()
    config.validate()
    dtype = np.dtype(config.dtype)
    X = _check_matrix(V, dtype, "V")
    config.validate(X.shape)
    if X.nnz == 0:
        raise ParameterError("V has no non-zero value; there is nothing to factorise.")
    if config.solver == "cd" and config.loss == "kl" and importlib.util.find_spec("numba") is None:
        raise ParameterError(
            "solver 'cd' with loss 'kl' needs the numba package, which is not installed "
            "(pip install numba); solver 'mu' works without it."
        )
    threads = _check_threads(n_threads)
    with threadpool_limits(limits=1, user_api="blas"), _SparseOps(X, threads) as ops:
        W, H = _initialize(ops, config)
        if config.solver == "cd" and config.loss == "kl":
            H, n_iter, history, converged = _fit_cd_kl(ops, W, H, config, callback)
        elif config.solver == "cd":
            H, n_iter, history, converged = _fit_hals(ops, W, H, config, callback)
        elif config.loss == "frobenius":
            H, n_iter, history, converged = _fit_mu_frobenius(ops, W, H, config, callback)
        else:
            H, n_iter, history, converged = _fit_mu_kl(ops, W, H, config, callback)
        # The returned W is the exact best response to H, computed by the same code path
        # that `transform` uses, so transforming the training matrix gives W back.
        W = _transform(ops, H, config)
        loss = _objective(ops, W, H, config)
    return NMFResult(
        W=W,
        H=H,
        n_iter=n_iter,
        loss=loss,
        converged=converged,
        seconds=time.perf_counter() - start,
        loss_history=history,
    )


def transform(
    V: Any, H: np.ndarray, config: NMFConfig, *, n_threads: int | None = None
) -> np.ndarray:
    """Return the W >= 0 that minimises the loss (and W's penalty) for V with H fixed.

    Each row is solved on its own, with its own stopping test, so splitting V into batches
    gives the same rows as one call (up to floating-point rounding, usually bit for bit).

    Parameters
    ----------
    V : sparse matrix or array-like of shape (n_samples, n_features)
        Non-negative, finite data with H's columns (the same vocabulary).
    H : ndarray of shape (n_components, n_features)
        Fitted topic-term matrix.
    config : NMFConfig
        The fit's settings: loss, alpha_W, l1_ratio and dtype are used.
    n_threads : int, optional
        Threads for the sparse product and BLAS; default: the CPUs this process may use.

    Returns
    -------
    ndarray of shape (n_samples, n_components), dtype ``config.dtype``
    """
    config.validate()
    dtype = np.dtype(config.dtype)
    X = _check_matrix(V, dtype, "V")
    Hc = _check_components(H, X.shape[1], config.n_components, dtype)
    threads = _check_threads(n_threads)
    with threadpool_limits(limits=1, user_api="blas"), _SparseOps(X, threads) as ops:
        return _transform(ops, Hc, config)


def initialize(V: Any, config: NMFConfig) -> tuple[np.ndarray, np.ndarray]:
    """Return the initial (W, H) of a fit, as scikit-learn's ``_initialize_nmf`` defines it.

    Useful to compare solvers from the same start.
    """
    config.validate()
    X = _check_matrix(V, np.dtype(config.dtype), "V")
    config.validate(X.shape)
    with _SparseOps(X, 1) as ops:
        W, H = _initialize(ops, config)
    return np.ascontiguousarray(W), H


def frobenius_loss(V: Any, W: np.ndarray, H: np.ndarray) -> float:
    """Return 0.5 * ||V - W @ H||_F^2, without forming the dense product.

    ``sqrt(2 * loss)`` is scikit-learn's ``reconstruction_err_``. Accumulates in float64.
    """
    X = _check_matrix(V, np.dtype(np.float64), "V")
    W64 = np.asarray(W, dtype=np.float64)
    H64 = np.asarray(H, dtype=np.float64)
    cross = float(np.vdot(np.asarray(X @ H64.T), W64))
    gram = float(np.vdot(W64.T @ W64, H64 @ H64.T))
    value = 0.5 * (float(np.dot(X.data, X.data)) - 2.0 * cross + gram)
    return max(value, 0.0)


def kl_divergence(V: Any, W: np.ndarray, H: np.ndarray) -> float:
    """Return the generalised KL divergence sum(V log(V / WH) - V + WH), in float64.

    Only the non-zeros of V enter the log term; WH is floored at scikit-learn's epsilon there
    so that a zero prediction of an observed value gives a large but finite loss.
    """
    X = _check_matrix(V, np.dtype(np.float64), "V")
    W64 = np.ascontiguousarray(W, dtype=np.float64)
    H64 = np.asarray(H, dtype=np.float64)
    rows = np.repeat(np.arange(X.shape[0], dtype=np.int64), np.diff(X.indptr))
    wh = _sampled_dot(rows, X.indices, W64, np.ascontiguousarray(H64.T), None)
    return _kl_from_values(X.data, wh, W64.sum(axis=0) @ H64.sum(axis=1))


def reconstruction_error(V: Any, W: np.ndarray, H: np.ndarray, loss: str = "frobenius") -> float:
    """Return scikit-learn's ``reconstruction_err_``: sqrt(2 * loss(V, WH))."""
    if loss not in LOSSES:
        raise ParameterError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}.")
    value = frobenius_loss(V, W, H) if loss == "frobenius" else kl_divergence(V, W, H)
    return math.sqrt(2.0 * max(value, 0.0))


def objective(V: Any, W: np.ndarray, H: np.ndarray, config: NMFConfig) -> float:
    """Return the objective the solvers minimise: the loss plus the penalties of ``config``."""
    base = frobenius_loss(V, W, H) if config.loss == "frobenius" else kl_divergence(V, W, H)
    shape = (np.shape(W)[0], np.shape(H)[1])
    return base + _penalty_value(config.penalties(*shape), np.asarray(W), np.asarray(H))


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def _check_threads(n_threads: int | None) -> int:
    if n_threads is None:
        return available_cores()
    if not _is_int(n_threads) or n_threads < 1:
        raise ParameterError(f"n_threads must be an integer >= 1, got {n_threads!r}.")
    return int(n_threads)


def _check_matrix(V: Any, dtype: np.dtype, name: str) -> sp.csr_matrix:
    """Return V as a canonical CSR matrix of ``dtype``, or raise ParameterError."""
    if sp.issparse(V):
        if V.ndim != 2:
            raise ParameterError(f"{name} must be 2-D, got {V.ndim} dimension(s).")
        X = sp.csr_matrix(V, dtype=dtype, copy=False)
        if not np.issubdtype(V.dtype, np.number) or np.issubdtype(V.dtype, np.complexfloating):
            raise ParameterError(f"{name} must hold real numbers, got dtype {V.dtype}.")
    else:
        try:
            arr = np.asarray(V)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"{name} is not a numeric matrix: {exc}") from None
        if arr.ndim != 2:
            raise ParameterError(f"{name} must be 2-D, got {arr.ndim} dimension(s).")
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool) or np.issubdtype(
            arr.dtype, np.complexfloating
        ):
            raise ParameterError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
        X = sp.csr_matrix(arr.astype(dtype, copy=False))
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ParameterError(f"{name} is empty (shape {X.shape}); it needs rows and columns.")
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    data = X.data
    if data.size:
        if not np.isfinite(data).all():
            bad = data[~np.isfinite(data)][0]
            raise ParameterError(f"{name} contains a non-finite value ({bad!r}).")
        low = data.min()
        if low < 0:
            raise ParameterError(f"{name} contains a negative value ({low!r}); NMF needs V >= 0.")
    if data.size and (data == 0).any():
        X = X.copy()
        X.eliminate_zeros()
    if X.indices.dtype != np.int32 and X.nnz < 2**31 and max(X.shape) < 2**31:
        # int32 indices halve the index traffic of the sparse kernels.
        X = sp.csr_matrix(
            (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape
        )
    return X


def _check_components(H: Any, n_features: int, k: int, dtype: np.dtype) -> np.ndarray:
    Hc = np.asarray(H)
    if Hc.ndim != 2 or Hc.shape[1] != n_features:
        raise ParameterError(
            f"H must have shape (n_components, {n_features}) to match V's columns, got {Hc.shape}."
        )
    if Hc.shape[0] != k:
        raise ParameterError(
            f"H has {Hc.shape[0]} rows but config.n_components is {k}; they must agree."
        )
    Hc = np.ascontiguousarray(Hc, dtype=dtype)
    if not np.isfinite(Hc).all():
        raise ParameterError("H contains a non-finite value.")
    if Hc.size and Hc.min() < 0:
        raise ParameterError(f"H contains a negative value ({Hc.min()!r}).")
    return Hc


# --------------------------------------------------------------------------------------------
# Sparse products on several threads
# --------------------------------------------------------------------------------------------


class _Blocks:
    """A CSR pattern cut into row blocks of about equal non-zeros, one per thread.

    Products can use any values laid out on the pattern (V's own, or V / WH in the KL
    solver), so the split and its index arrays are made once.
    """

    def __init__(self, M: sp.csr_matrix, parts: int):
        self.shape = M.shape
        self.indices = M.indices
        self.indptr = M.indptr
        if parts <= 1:
            bounds = [0, M.shape[0]]
        else:
            cuts = np.searchsorted(M.indptr, np.linspace(0, M.nnz, parts + 1)[1:-1])
            bounds = sorted({0, M.shape[0], *(int(c) for c in cuts)})
        # (first row, end row, first value, end value, block-local indptr)
        self.spans = [
            (lo, hi, int(M.indptr[lo]), int(M.indptr[hi]), M.indptr[lo : hi + 1] - M.indptr[lo])
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
            if hi > lo
        ]
        self._rows: np.ndarray | None = None

    def block(self, data: np.ndarray, span: tuple) -> sp.csr_matrix:
        lo, hi, s, e, indptr = span
        return sp.csr_matrix(
            (data[s:e], self.indices[s:e], indptr), shape=(hi - lo, self.shape[1]), copy=False
        )

    @property
    def rows(self) -> np.ndarray:
        """The row of each stored value (for sampled products)."""
        if self._rows is None:
            self._rows = np.repeat(np.arange(self.shape[0], dtype=np.int32), np.diff(self.indptr))
        return self._rows


class _SparseOps:
    """V and V^T as CSR, split in row blocks, and products with them on a thread pool.

    ``mul(B)`` is V @ B and ``tmul(A)`` is V^T @ A, for dense B, A. Building V^T once as
    CSR makes V^T @ A a row-parallel CSR product too, faster than scipy's CSC route and
    split across threads the same way. ``data=`` swaps in other values on V's pattern.
    """

    def __init__(self, X: sp.csr_matrix, n_threads: int):
        self.X = X
        self.shape = X.shape
        self.dtype = X.dtype
        self._sq_norm: float | None = None
        self.parts = max(1, min(n_threads, X.nnz // _MIN_NNZ_PER_THREAD))
        self.blocks = _Blocks(X, self.parts)
        self._Xt: sp.csr_matrix | None = None
        self._tblocks: _Blocks | None = None
        self._pool: ThreadPoolExecutor | None = None
        if self.parts > 1:
            self._pool = ThreadPoolExecutor(max_workers=self.parts, thread_name_prefix="topicnmf")

    def __enter__(self) -> _SparseOps:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    @property
    def sq_norm(self) -> float:
        """||V||_F^2 in float64."""
        if self._sq_norm is None:
            self._sq_norm = _dot64(self.X.data, self.X.data)
        return self._sq_norm

    @property
    def Xt(self) -> sp.csr_matrix:
        """V^T as CSR (built on first use)."""
        if self._Xt is None:
            Xt = sp.csr_matrix(self.X.T)  # the CSC of V read as the CSR of V^T
            Xt.sort_indices()
            self._Xt = Xt
        return self._Xt

    @property
    def tblocks(self) -> _Blocks:
        if self._tblocks is None:
            self._tblocks = _Blocks(self.Xt, self.parts)
        return self._tblocks

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """Run ``fn`` on each item, on the pool when there is one (results in order)."""
        if self._pool is None or len(items) == 1:
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))

    def _product(self, blocks: _Blocks, data: np.ndarray, B: np.ndarray) -> np.ndarray:
        B = np.ascontiguousarray(B)
        out = np.empty((blocks.shape[0], B.shape[1]), dtype=np.result_type(data, B))

        def work(span: tuple) -> None:
            out[span[0] : span[1]] = blocks.block(data, span) @ B

        self.map(work, blocks.spans)
        return out

    def mul(self, B: np.ndarray, data: np.ndarray | None = None) -> np.ndarray:
        """V @ B for B of shape (n_features, j); ``data`` replaces V's values."""
        return self._product(self.blocks, self.X.data if data is None else data, B)

    def tmul(self, A: np.ndarray, data: np.ndarray | None = None) -> np.ndarray:
        """V^T @ A for A of shape (n_samples, j); ``data`` replaces V^T's values."""
        return self._product(self.tblocks, self.Xt.data if data is None else data, A)

    def spans(self, n: int, min_size: int = 4096) -> list[tuple[int, int]]:
        """Split range(n) into one contiguous piece per thread (one piece if n is small)."""
        parts = max(1, min(self.parts, n // min_size))
        cuts = [round(i * n / parts) for i in range(parts + 1)]
        return [(lo, hi) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True) if hi > lo]

    def gram(self, Xt: np.ndarray) -> np.ndarray:
        """Xt @ Xt.T, the column blocks' parts summed (one thread each)."""
        spans = self.spans(Xt.shape[1])
        if len(spans) == 1:
            return Xt @ Xt.T
        parts = self.map(lambda sp_: Xt[:, sp_[0] : sp_[1]] @ Xt[:, sp_[0] : sp_[1]].T, spans)
        return sum(parts[1:], parts[0])

    def sweep(self, Xt: np.ndarray, G: np.ndarray, Pt: np.ndarray) -> None:
        """One HALS sweep over Xt in place; columns are independent, so blocks go to threads."""

        def work(span: tuple[int, int]) -> None:
            lo, hi = span
            _hals_sweep(Xt[:, lo:hi], G, Pt[:, lo:hi], np.empty(hi - lo, dtype=Xt.dtype))

        self.map(work, self.spans(Xt.shape[1]))

    def sampled(self, A: np.ndarray, B: np.ndarray, *, transpose: bool = False) -> np.ndarray:
        """(A @ B^T) at the stored places of V (or of V^T), in V's (V^T's) value order."""
        blocks = self.tblocks if transpose else self.blocks
        out = np.empty(blocks.indices.shape[0], dtype=np.result_type(A, B))
        rows = blocks.rows

        def work(span: tuple) -> None:
            _, _, s, e, _ = span
            _sampled_dot(rows[s:e], blocks.indices[s:e], A, B, out[s:e])

        self.map(work, blocks.spans)
        return out


# --------------------------------------------------------------------------------------------
# Initialisation (scikit-learn's definitions)
# --------------------------------------------------------------------------------------------


def _initialize(ops: _SparseOps, config: NMFConfig) -> tuple[np.ndarray, np.ndarray]:
    """Return W (n x k) and H (k x m) as scikit-learn's ``_initialize_nmf`` defines them."""
    X = ops.X
    k = config.n_components
    n, m = X.shape
    dtype = ops.dtype
    mean = float(X.data.sum(dtype=np.float64)) / (n * m)
    if config.init == "random":
        # Same draws, in the same order, as scikit-learn: H first, then W.
        rng = np.random.RandomState(config.seed)
        avg = math.sqrt(mean / k)
        H = np.abs(avg * rng.standard_normal(size=(k, m))).astype(dtype)
        W = np.abs(avg * rng.standard_normal(size=(n, k))).astype(dtype)
        return W, H

    if config.svd == "exact":
        U, S, Vt = _exact_svd(ops, k, config.seed)
    else:
        U, S, Vt = _randomized_svd(ops, k, config.seed)
    W = np.zeros_like(U)
    H = np.zeros_like(Vt)
    # The leading singular pair of a non-negative matrix is non-negative (Perron-Frobenius).
    W[:, 0] = math.sqrt(S[0]) * np.abs(U[:, 0])
    H[0, :] = math.sqrt(S[0]) * np.abs(Vt[0, :])
    for j in range(1, k):
        x, y = U[:, j], Vt[j, :]
        xp, yp = np.maximum(x, 0), np.maximum(y, 0)
        xn, yn = np.abs(np.minimum(x, 0)), np.abs(np.minimum(y, 0))
        xp_norm, yp_norm = _norm(xp), _norm(yp)
        xn_norm, yn_norm = _norm(xn), _norm(yn)
        m_p, m_n = xp_norm * yp_norm, xn_norm * yn_norm
        # Keep the sign pattern (positive or negative parts) that carries more of the pair.
        if m_p > m_n:
            u, v, sigma = xp / xp_norm, yp / yp_norm, m_p
        elif m_n > 0:
            u, v, sigma = xn / xn_norm, yn / yn_norm, m_n
        else:
            continue  # a null singular pair (V has lower rank than k): leave zeros
        lbd = math.sqrt(S[j] * sigma)
        W[:, j] = lbd * u
        H[j, :] = lbd * v
    W[W < 1e-6] = 0
    H[H < 1e-6] = 0
    if config.init == "nndsvda":
        W[W == 0] = mean
        H[H == 0] = mean
    elif config.init == "nndsvdar":
        rng = np.random.RandomState(config.seed)
        W[W == 0] = np.abs(mean * rng.standard_normal(size=int((W == 0).sum())) / 100)
        H[H == 0] = np.abs(mean * rng.standard_normal(size=int((H == 0).sum())) / 100)
    return W.astype(dtype, copy=False), H.astype(dtype, copy=False)


def _norm(x: np.ndarray) -> float:
    return math.sqrt(float(np.dot(x, x)))


def _exact_svd(ops: _SparseOps, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k leading singular triplets of V, converged (not sketched), in float64.

    They are the top eigenpairs of the Gram matrix of the smaller side (V V^T when V has
    fewer rows than columns): a dense symmetric eigensolver when that side has at most
    ``_DENSE_GRAM`` entries or k is close to it, else ARPACK's Lanczos iteration (eigsh)
    with a seeded start vector (products in float64, on one thread). The other side's
    vectors are V^T u / s. Unlike the randomised SVD, the result does not depend on the
    row order or the seed (beyond rounding). Signs: each left vector's
    largest entry is positive (NNDSVD does not care). If ARPACK does not converge, the
    randomised SVD is used instead. Working on the Gram matrix squares the condition
    number: singular values below about 1e-8 of the largest are lost (treated as null),
    which NNDSVD does not mind. Returns U (n x k), S (k, descending), Vt (k x m).
    """
    import scipy.linalg
    import scipy.sparse.linalg as sla

    n, m = ops.shape
    # float64 copies of the values on V's and V^T's index arrays; single-threaded scipy
    # products (a thread hand-off per matrix-vector product costs more than it saves)
    A = sp.csr_matrix((ops.X.data.astype(np.float64), ops.X.indices, ops.X.indptr), shape=(n, m))
    Xt = ops.Xt
    At = sp.csr_matrix((Xt.data.astype(np.float64), Xt.indices, Xt.indptr), shape=(m, n))
    wide = n < m
    d = min(n, m)

    if d <= _DENSE_GRAM or k >= d - 1:
        G = (A @ At if wide else At @ A).toarray()
        vals, vecs = scipy.linalg.eigh(G, subset_by_index=[d - k, d - 1], check_finite=False)
    else:
        if wide:
            op = sla.LinearOperator((d, d), matvec=lambda x: A @ (At @ x), dtype=np.float64)
        else:
            op = sla.LinearOperator((d, d), matvec=lambda x: At @ (A @ x), dtype=np.float64)
        v0 = np.random.RandomState(seed).uniform(-1.0, 1.0, size=d)
        try:
            vals, vecs = sla.eigsh(op, k=k, which="LA", v0=v0, tol=_SVD_TOL)
        except sla.ArpackError:  # no convergence, or another ARPACK failure
            U, S, Vt = _randomized_svd(ops, k, seed)
            return U.astype(np.float64), S.astype(np.float64), Vt.astype(np.float64)
    order = np.argsort(-vals, kind="stable")
    vals, vecs = vals[order], vecs[:, order]
    s = np.sqrt(np.clip(vals, 0.0, None))
    other = At @ vecs if wide else A @ vecs
    # a (numerically) null singular value has no direction on the other side
    nonzero = s > s[0] * 1e-7 if s[0] > 0 else np.zeros(k, dtype=bool)
    other = np.where(nonzero, other / np.where(nonzero, s, 1.0), 0.0)
    U, V = (vecs, other) if wide else (other, vecs)
    flip = np.sign(U[np.abs(U).argmax(axis=0), np.arange(k)])
    flip[flip == 0] = 1.0
    return U * flip, s, (V * flip).T


def _randomized_svd(
    ops: _SparseOps, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truncated randomised SVD, scikit-learn's ``randomized_svd`` with its defaults.

    Halko et al. (2009) with 10 oversamples, 7 power iterations (4 when k >= 10% of the
    smaller side), LU normalisation between them, the range sampled on the smaller side and
    the same random draws for a given seed, so the NNDSVD start equals scikit-learn's up to
    rounding. Returns U (n x k), S (k), Vt (k x m).
    """
    n, m = ops.shape
    n_random = k + 10
    n_iter = 7 if k < 0.1 * min(n, m) else 4
    transpose = n < m
    # Work with A = V^T when V is wide, so the random sketch has the smaller dimension.
    a_mul, a_tmul = (ops.tmul, ops.mul) if transpose else (ops.mul, ops.tmul)
    a_cols = n if transpose else m
    rng = np.random.RandomState(seed)
    Q = rng.normal(size=(a_cols, n_random))
    if ops.dtype == np.float32:
        Q = Q.astype(np.float32)

    import scipy.linalg  # only here and in _exact_svd: `assign` never loads it (0.1 s)

    def lu(A: np.ndarray) -> np.ndarray:
        return scipy.linalg.lu(A, permute_l=True, check_finite=False)[0]

    for _ in range(n_iter):
        Q = lu(a_mul(Q))
        Q = lu(a_tmul(Q))
    Q, _ = scipy.linalg.qr(a_mul(Q), mode="economic", check_finite=False)
    B = a_tmul(Q).T  # Q^T A, (k + p) x a_cols
    Uhat, s, Vt = scipy.linalg.svd(B, full_matrices=False, check_finite=False)
    U = Q @ Uhat
    U, Vt = U[:, :k], Vt[:k]
    s = s[:k]
    if transpose:
        return Vt.T, s, U.T
    return U, s, Vt


# --------------------------------------------------------------------------------------------
# Objective pieces
# --------------------------------------------------------------------------------------------


def _penalty_value(pen: tuple[float, float, float, float], W: np.ndarray, H: np.ndarray) -> float:
    l1_W, l2_W, l1_H, l2_H = pen
    value = 0.0
    if l1_W:
        value += l1_W * float(W.sum(dtype=np.float64))
    if l2_W:
        value += 0.5 * l2_W * _dot64(np.ascontiguousarray(W), np.ascontiguousarray(W))
    if l1_H:
        value += l1_H * float(H.sum(dtype=np.float64))
    if l2_H:
        value += 0.5 * l2_H * _dot64(np.ascontiguousarray(H), np.ascontiguousarray(H))
    return value


_DOT_CHUNK = 8192


def _dot64(a: np.ndarray, b: np.ndarray) -> float:
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


def _frobenius_from_parts(
    sq_norm: float, cross: np.ndarray, other: np.ndarray, gram_a: np.ndarray, gram_b: np.ndarray
) -> float:
    """0.5 * (||V||^2 - 2 <cross, other> + <gram_a, gram_b>), accumulated in float64.

    With cross = V^T W (as k x m) and other = H, gram_a = W^T W, gram_b = H H^T this is the
    Frobenius loss, from products the solver has already computed.
    """
    c = _dot64(np.ascontiguousarray(cross), np.ascontiguousarray(other))
    g = float(np.vdot(gram_a.astype(np.float64), gram_b.astype(np.float64)))
    return max(0.5 * (sq_norm - 2.0 * c + g), 0.0)


def _kl_from_values(v: np.ndarray, wh: np.ndarray, total_wh: float) -> float:
    """KL divergence from V's non-zeros, WH at those places and sum(WH)."""
    wh = np.maximum(wh, _EPS)
    mask = v > 0
    v64 = v[mask].astype(np.float64)
    log_term = float(np.dot(v64, np.log(v64 / wh[mask])))
    return max(log_term - float(v64.sum()) + float(total_wh), 0.0)


def _objective(ops: _SparseOps, W: np.ndarray, H: np.ndarray, config: NMFConfig) -> float:
    """The objective of (W, H) on ops.X, in float64 (used once at the end of a fit)."""
    pen = config.penalties(*ops.shape)
    if config.loss == "frobenius":
        Q = ops.tmul(W)  # m x k
        W64 = W.astype(np.float64)
        H64 = H.astype(np.float64)
        base = _frobenius_from_parts(ops.sq_norm, Q.T, H64, W64.T @ W64, H64 @ H64.T)
    else:
        wh = ops.sampled(np.ascontiguousarray(W), np.ascontiguousarray(H.T))
        base = _kl_from_values(ops.X.data, wh, float(W.sum(axis=0, dtype=np.float64) @ H.sum(1)))
    return base + _penalty_value(pen, W, H)


# --------------------------------------------------------------------------------------------
# Stopping rule
# --------------------------------------------------------------------------------------------


class _Progress:
    """Loss history, best value and the stopping test of the module docstring."""

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
        if t < _WINDOW:
            return False
        best = self.best[-1]
        recent = self.best[-1 - _WINDOW] - best
        return recent <= _WINDOW * self.tol * (self.history[0] - best)

    @property
    def improved(self) -> bool:
        """Whether the last loss is the best so far (ties count)."""
        return self.history[-1] <= self.best[-2] if len(self.best) > 1 else True


# --------------------------------------------------------------------------------------------
# Frobenius: HALS / coordinate descent with extrapolation
# --------------------------------------------------------------------------------------------


def _hals_sweep(Xt: np.ndarray, G: np.ndarray, Pt: np.ndarray, scratch: np.ndarray) -> None:
    """One pass of exact coordinate minimisation over the k rows of Xt, in place.

    Minimises 0.5 * tr(Xt^T G Xt) - <Pt, Xt> over Xt >= 0 one row t at a time: the update
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


def _add_diag(G: np.ndarray, value: float) -> np.ndarray:
    """G + value * I (a copy when value is non-zero)."""
    if not value:
        return G
    G = G.copy()
    G.flat[:: G.shape[0] + 1] += value
    return G


def _fit_hals(
    ops: _SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
) -> tuple[np.ndarray, int, list[float], bool]:
    """HALS (scikit-learn's cd solver) with extrapolation.

    Returns (H, n_iter, loss history, converged).
    """
    l1_W, l2_W, l1_H, l2_H = pen = config.penalties(*ops.shape)
    # Topic-major storage: each coordinate update touches one contiguous row.
    W_prev = np.ascontiguousarray(W.T)  # last plain (not extrapolated) iterates
    H_prev = np.ascontiguousarray(H)
    W_y, H_y = W_prev.copy(), H_prev.copy()  # the points the next updates start from
    G_Hy = ops.gram(H_y)

    Qt = np.ascontiguousarray(ops.tmul(W_prev.T).T)
    loss0 = _frobenius_from_parts(ops.sq_norm, Qt, H_prev, ops.gram(W_prev), G_Hy)
    progress = _Progress(loss0 + _penalty_value(pen, W_prev, H_prev), config.tol)

    beta, beta_cap = _BETA0, 1.0
    best_W, best_H, best_G = W_y, H_y, G_Hy
    converged = False
    n_iter = 0
    for n_iter in range(1, config.max_iter + 1):
        # W: one sweep against H_y, then extrapolate.
        Pt = np.ascontiguousarray(ops.mul(H_y.T).T)
        if l1_W:
            Pt -= l1_W
        W_new = W_y.copy()
        ops.sweep(W_new, _add_diag(G_Hy, l2_W), Pt)
        W_y = _extrapolate(W_new, W_prev, beta)

        # H: one sweep against the extrapolated W.
        Qt = np.ascontiguousarray(ops.tmul(W_y.T).T)
        G_W = ops.gram(W_y)
        H_new = H_y.copy()
        ops.sweep(H_new, _add_diag(G_W, l2_H), Qt - l1_H if l1_H else Qt)

        # The loss of (W_y, H_new) comes almost free from Qt and the Gram matrices.
        G_Hnew = ops.gram(H_new)
        loss = _frobenius_from_parts(ops.sq_norm, Qt, H_new, G_W, G_Hnew)
        loss += _penalty_value(pen, W_y, H_new)
        stop = progress.add(loss)
        if progress.improved:
            best_W, best_H, best_G = W_y, H_new, G_Hnew
            beta = min(beta_cap, beta * _BETA_GROW)
            beta_cap = min(1.0, beta_cap * _BETA_CAP_GROW)
            H_y = _extrapolate(H_new, H_prev, beta)
            G_Hy = ops.gram(H_y)
            W_prev, H_prev = W_new, H_new
        else:
            # The extrapolation overshot: go back to the best pair and extrapolate less.
            # Going back (rather than on from the worse point) keeps the accepted iterates
            # monotone, so the stopping rule sees steady progress.
            beta_cap = beta
            beta = beta / _BETA_CUT
            W_y, H_y, G_Hy = best_W.copy(), best_H.copy(), best_G
            W_prev, H_prev = best_W, best_H
        if callback is not None:
            callback(n_iter, loss)
        if stop:
            converged = True
            break
    return best_H, n_iter, progress.history, converged


def _extrapolate(new: np.ndarray, old: np.ndarray, beta: float) -> np.ndarray:
    """max(0, new + beta * (new - old)), a fresh array."""
    out = np.subtract(new, old)
    out *= beta
    out += new
    np.maximum(out, 0, out=out)
    return out


# --------------------------------------------------------------------------------------------
# Multiplicative updates
# --------------------------------------------------------------------------------------------


def _fit_mu_frobenius(
    ops: _SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
) -> tuple[np.ndarray, int, list[float], bool]:
    """Lee & Seung's updates for 0.5||V - WH||^2 (+ penalties), as scikit-learn's mu solver."""
    l1_W, l2_W, l1_H, l2_H = pen = config.penalties(*ops.shape)
    W = np.ascontiguousarray(W)
    Ht = np.ascontiguousarray(H.T)
    Q = ops.tmul(W)
    loss0 = _frobenius_from_parts(ops.sq_norm, Q, Ht, W.T @ W, Ht.T @ Ht)
    progress = _Progress(loss0 + _penalty_value(pen, W, Ht), config.tol)
    converged = False
    n_iter = 0
    for n_iter in range(1, config.max_iter + 1):
        numer = ops.mul(Ht)
        denom = W @ (Ht.T @ Ht)
        _mu_step(W, numer, denom, l1_W, l2_W)
        Q = ops.tmul(W)
        G_W = W.T @ W
        denom = Ht @ G_W
        _mu_step(Ht, Q.copy(), denom, l1_H, l2_H)
        loss = _frobenius_from_parts(ops.sq_norm, Q, Ht, G_W, Ht.T @ Ht)
        loss += _penalty_value(pen, W, Ht)
        stop = progress.add(loss)
        if callback is not None:
            callback(n_iter, loss)
        if stop:
            converged = True
            break
    return np.ascontiguousarray(Ht.T), n_iter, progress.history, converged


def _mu_step(X: np.ndarray, numer: np.ndarray, denom: np.ndarray, l1: float, l2: float) -> None:
    """X *= numer / (denom + l1 + l2 X), with scikit-learn's guard against 0 / 0."""
    if l1:
        denom += l1
    if l2:
        denom += l2 * X
    denom[denom == 0] = _EPS
    numer /= denom
    X *= numer


def _fit_mu_kl(
    ops: _SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
) -> tuple[np.ndarray, int, list[float], bool]:
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
    progress: _Progress | None = None
    converged = False
    n_iter = 0
    while True:
        wh = ops.sampled(W, Ht)
        total = float(W.sum(axis=0, dtype=np.float64) @ Ht.sum(axis=0, dtype=np.float64))
        loss = _kl_from_values(v, wh, total) + _penalty_value(pen, W, Ht)
        if progress is None:
            progress = _Progress(loss, config.tol)
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

        np.maximum(wh, _EPS, out=wh)
        np.divide(v, wh, out=wh)
        numer = ops.mul(Ht, data=wh)
        denom = np.broadcast_to(Ht.sum(axis=0), W.shape).copy()
        _mu_step(W, numer, denom, l1_W, l2_W)

        wh_t = ops.sampled(Ht, W, transpose=True)
        np.maximum(wh_t, _EPS, out=wh_t)
        np.divide(v_t, wh_t, out=wh_t)
        numer = ops.tmul(W, data=wh_t)
        w_sum = W.sum(axis=0)
        w_sum[w_sum == 0] = 1.0
        denom = np.broadcast_to(w_sum, Ht.shape).copy()
        _mu_step(Ht, numer, denom, l1_H, l2_H)
        # As scikit-learn does for beta <= 1: tiny values would only slow later updates.
        Ht[Ht < _EPS64] = 0.0
    return np.ascontiguousarray(Ht.T), n_iter, progress.history, converged


# --------------------------------------------------------------------------------------------
# Sampled products: (A @ B^T) at the non-zeros of V
# --------------------------------------------------------------------------------------------

_SAMPLE_CHUNK = 8192


def _sampled_dot(
    rows: np.ndarray, cols: np.ndarray, A: np.ndarray, B: np.ndarray, out: np.ndarray | None
) -> np.ndarray:
    """out[p] = A[rows[p]] . B[cols[p]] for every p.

    Gathers a chunk of rows of A and of B into buffers that stay in cache and reduces them with
    einsum; ``np.take`` into a preallocated buffer and einsum's row-wise dot are each about
    twice as fast as fancy indexing followed by ``(a * b).sum(axis=1)``.
    """
    n = rows.shape[0]
    dtype = np.result_type(A.dtype, B.dtype)
    if out is None:
        out = np.empty(n, dtype=dtype)
    size = min(_SAMPLE_CHUNK, n)
    a = np.empty((size, A.shape[1]), dtype=A.dtype)
    b = np.empty((size, B.shape[1]), dtype=B.dtype)
    for start in range(0, n, _SAMPLE_CHUNK):
        stop = min(start + _SAMPLE_CHUNK, n)
        m = stop - start
        np.take(A, rows[start:stop], axis=0, out=a[:m])
        np.take(B, cols[start:stop], axis=0, out=b[:m])
        np.einsum("ij,ij->i", a[:m], b[:m], out=out[start:stop])
    return out


# --------------------------------------------------------------------------------------------
# Transform: W for fixed H, row by row
# --------------------------------------------------------------------------------------------


def _transform(ops: _SparseOps, H: np.ndarray, config: NMFConfig) -> np.ndarray:
    dtype = ops.dtype
    H = np.ascontiguousarray(H, dtype=dtype)
    l1_W, l2_W, _, _ = config.penalties(*ops.shape)
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
            W[lo:hi] = _nnls_rows(B[lo:hi], G, _NNLS_TOL[dtype], _NNLS_MAX_SWEEPS)

        ops.map(work, ops.spans(B.shape[0], min_size=512))
        return W
    if _have_numba():
        return _kl_solve(ops, H, l1_W, l2_W)
    return _kl_rows(ops, H, l1_W, l2_W)


def _nnls_rows(B: np.ndarray, G: np.ndarray, tol: float, max_sweeps: int) -> np.ndarray:
    """Solve min_{w >= 0} 0.5 w^T G w - b^T w for every row b of B, each row on its own.

    Cyclic coordinate descent from w = 0, vectorised across rows (a sweep is k BLAS gemv
    calls). Every ``_NNLS_CHECK_EVERY`` sweeps each row's projected gradient (L1 norm) is
    compared with its value at w = 0; a row that passes is written out then and there. Rows
    already written out may keep being updated until the working set is compacted, but that
    no longer changes the output. Nothing a row computes involves another row, so its result
    and its number of sweeps do not depend on the batch it came in.
    """
    n, k = B.shape
    W = np.zeros((n, k), dtype=B.dtype)
    # At w = 0 the projected gradient is min(0, -b): its L1 norm is the sum of b's positives.
    pg0 = np.maximum(B, 0).sum(axis=1)
    rows = np.flatnonzero(pg0 > 0)  # rows with no positive b_j are solved by w = 0 exactly
    if rows.size == 0:
        return W
    Wt = np.zeros((k, rows.size), dtype=B.dtype)
    Bt = np.ascontiguousarray(B[rows].T)
    limit = tol * pg0[rows]
    live = np.ones(rows.size, dtype=bool)
    scratch = np.empty(rows.size, dtype=B.dtype)
    for sweep in range(1, max_sweeps + 1):
        _hals_sweep(Wt, G, Bt, scratch)
        if sweep % _NNLS_CHECK_EVERY and sweep != max_sweeps:
            continue
        grad = G @ Wt
        grad -= Bt
        # Projected gradient: at the bound only an inward (negative) component counts.
        np.minimum(grad, 0, out=grad, where=Wt == 0)
        np.abs(grad, out=grad)
        done = grad.sum(axis=0) <= limit
        if sweep == max_sweeps:
            done[:] = True
        done &= live
        if not done.any():
            continue
        W[rows[done]] = Wt[:, done].T
        live &= ~done
        n_live = int(live.sum())
        if n_live == 0:
            break
        if n_live < 0.75 * live.size:
            # Compacting copies the working arrays, so wait until it saves real work.
            rows, Wt, Bt = rows[live], np.ascontiguousarray(Wt[:, live]), Bt[:, live]
            Bt = np.ascontiguousarray(Bt)
            limit = limit[live]
            live = np.ones(n_live, dtype=bool)
            scratch = np.empty(n_live, dtype=B.dtype)
    return W


def _kl_rows(ops: _SparseOps, H: np.ndarray, l1_W: float, l2_W: float) -> np.ndarray:
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
        wh = _sampled_dot(rows, Xa.indices, Wa, Ht, None)
        np.maximum(wh, _EPS, out=wh)
        ratio = sp.csr_matrix((Xa.data / wh, Xa.indices, Xa.indptr), shape=Xa.shape)
        numer = ratio @ Ht
        denom = np.broadcast_to(denom_base, Wa.shape) + (l2_W * Wa if l2_W else 0)
        denom = np.where(denom == 0, _EPS, denom)
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


# --------------------------------------------------------------------------------------------
# KL coordinate descent (compiled with numba on first use)
# --------------------------------------------------------------------------------------------
#
# Hsieh & Dhillon (2011), "Fast coordinate descent methods with variable selection for
# non-negative matrix factorization", section 4: each weight of a row is minimised in turn by a
# few projected Newton steps on the convex one-variable KL problem, keeping WH up to date at
# the row's non-zeros. This needs a loop over a row's non-zeros per weight, which numpy cannot
# express without materialising nnz x k arrays; numba compiles it (about 5x faster per pass
# than the numpy multiplicative updates, and far fewer passes). The kernels are plain Python
# below and are compiled, with an on-disk cache, only when a KL fit or transform runs, so the
# Frobenius path never imports numba.

_prange = range  # numba.prange once the kernels are compiled (see _numba_kernels)
_kl_row: Any = None  # the compiled _kl_row_update, a global so the compiled kernels can call it
_NEWTON_STEPS = 4  # Newton steps per weight and sweep; the sweeps refine further
_KL_CD_TOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-9}
_KL_CD_MAX_SWEEPS = 1000
_KERNELS: dict[str, Any] = {}


def _kl_row_update(x, ysum, l1, l2, data, cols, Y, yr, wh, inv, max_newton):  # pragma: no cover
    """Newton coordinate sweep over the k weights ``x`` of one row (compiled by numba).

    The row's values ``data`` sit at columns ``cols``. ``yr`` (k x capacity), ``wh`` and
    ``inv`` (capacity) are scratch: Y's rows at ``cols`` transposed, WH at the row's values and
    its reciprocal, kept in step so that a Newton step needs no division. Returns (largest
    weight change, sum of v * log(v / wh) after the sweep).
    """
    k = x.shape[0]
    nnz = cols.shape[0]
    eps = 1.1920928955078125e-07
    for p in range(nnz):
        j = cols[p]
        acc = 0.0
        for t in range(k):
            y = Y[j, t]
            yr[t, p] = y
            acc += x[t] * y
        wh[p] = acc
        inv[p] = 1.0 / max(acc, eps)
    change = 0.0
    for t in range(k):
        a = ysum[t] + l1
        w0 = x[t]
        w = w0
        for _ in range(max_newton):
            g = a + l2 * w
            h = l2
            for p in range(nnz):
                r = data[p] * yr[t, p] * inv[p]
                g -= r
                h += r * yr[t, p] * inv[p]
            if h <= 0.0:
                # No observed value involves this weight: the loss is linear in it.
                new = 0.0 if g > 0.0 else w
            else:
                new = w - g / h
                if new <= 0.0:
                    # Newton overshoots to the left here (the gradient is concave); the bound
                    # is the answer only if the slope there is still non-negative.
                    g0 = a
                    for p in range(nnz):
                        y = yr[t, p]
                        if y != 0.0:
                            g0 -= data[p] * y / max(wh[p] - w * y, eps)
                    new = 0.0 if g0 >= 0.0 else 0.5 * w
            step = new - w
            if step != 0.0:
                for p in range(nnz):
                    q = wh[p] + step * yr[t, p]
                    wh[p] = q
                    inv[p] = 1.0 / max(q, eps)
                w = new
            if abs(step) <= 1e-7 * w:
                break
        x[t] = w
        d = abs(w - w0)
        if d > change:
            change = d
    logsum = 0.0
    for p in range(nnz):
        v = data[p]
        if v > 0.0:
            logsum += v * np.log(v * inv[p])
    return change, logsum


def _kl_sweep_kernel(
    indptr, indices, data, X, Y, ysum, l1, l2, bounds, max_newton, logsum
):  # pragma: no cover
    """One Newton-CD sweep over every row of X for KL(V || X Y^T), Y fixed (compiled)."""
    k = X.shape[1]
    for c in _prange(bounds.shape[0] - 1):
        lo = bounds[c]
        hi = bounds[c + 1]
        longest = 0
        for i in range(lo, hi):
            longest = max(longest, indptr[i + 1] - indptr[i])
        yr = np.empty((k, max(longest, 1)), dtype=np.float64)
        wh = np.empty(max(longest, 1), dtype=np.float64)
        inv = np.empty(max(longest, 1), dtype=np.float64)
        for i in range(lo, hi):
            s = indptr[i]
            e = indptr[i + 1]
            if e == s:
                # Nothing observed: (ysum + l1) . x + l2 |x|^2 / 2 is smallest at x = 0.
                X[i, :] = 0.0
                logsum[i] = 0.0
                continue
            _, ls = _kl_row(X[i], ysum, l1, l2, data[s:e], indices[s:e], Y, yr, wh, inv, max_newton)
            logsum[i] = ls


def _kl_solve_kernel(
    indptr, indices, data, X, Y, ysum, l1, l2, bounds, max_newton, tol, max_sweeps
):  # pragma: no cover
    """Minimise KL(V || X Y^T) over each row of X >= 0, rows independently (compiled).

    Each row starts from the constant that gives its WH the row's mass and runs sweeps until
    no weight moves by more than ``tol`` times the row's largest weight.
    """
    k = X.shape[1]
    total = 0.0
    for t in range(k):
        total += ysum[t]
    for c in _prange(bounds.shape[0] - 1):
        lo = bounds[c]
        hi = bounds[c + 1]
        longest = 0
        for i in range(lo, hi):
            longest = max(longest, indptr[i + 1] - indptr[i])
        yr = np.empty((k, max(longest, 1)), dtype=np.float64)
        wh = np.empty(max(longest, 1), dtype=np.float64)
        inv = np.empty(max(longest, 1), dtype=np.float64)
        for i in range(lo, hi):
            s = indptr[i]
            e = indptr[i + 1]
            mass = 0.0
            for p in range(s, e):
                mass += data[p]
            if e == s or mass <= 0.0 or total <= 0.0:
                X[i, :] = 0.0
                continue
            X[i, :] = mass / total
            for _ in range(max_sweeps):
                change, _ = _kl_row(
                    X[i], ysum, l1, l2, data[s:e], indices[s:e], Y, yr, wh, inv, max_newton
                )
                top = 0.0
                for t in range(k):
                    top = max(top, X[i, t])
                if change <= tol * top:
                    break


def _numba_kernels() -> dict[str, Any]:
    """Compile (or load from numba's cache) the KL kernels; raise ParameterError without numba."""
    if not _KERNELS:
        try:
            import numba
        except ImportError:  # pragma: no cover - depends on the environment
            raise ParameterError(
                "solver 'cd' with loss 'kl' needs the numba package (pip install numba); "
                "solver 'mu' works without it."
            ) from None
        global _prange, _kl_row
        _prange = numba.prange
        # Reassociation lets the sums over a row's values vectorise; results stay the same from
        # run to run on one machine.
        opts = {"cache": True, "nogil": True, "fastmath": {"reassoc", "contract"}}
        _kl_row = numba.njit(**opts)(_kl_row_update)
        _KERNELS["sweep"] = numba.njit(parallel=True, **opts)(_kl_sweep_kernel)
        _KERNELS["solve"] = numba.njit(parallel=True, **opts)(_kl_solve_kernel)
        _KERNELS["numba"] = numba
    return _KERNELS


def _have_numba() -> bool:
    try:
        _numba_kernels()
    except ParameterError:
        return False
    return True


def _chunk_bounds(indptr: np.ndarray, n_chunks: int) -> np.ndarray:
    """Row bounds of ``n_chunks`` pieces with about equal non-zeros (for numba's threads)."""
    n = indptr.shape[0] - 1
    cuts = np.searchsorted(indptr, np.linspace(0, indptr[-1], n_chunks + 1)[1:-1])
    return np.unique(np.concatenate([[0], cuts, [n]])).astype(np.int64)


def _numba_threads(n_threads: int) -> None:
    numba = _numba_kernels()["numba"]
    numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))


def _fit_cd_kl(
    ops: _SparseOps,
    W: np.ndarray,
    H: np.ndarray,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None,
) -> tuple[np.ndarray, int, list[float], bool]:
    """Coordinate descent for the KL loss: one Newton-CD sweep over W, then over H.

    The sweep over H runs on V^T's rows and leaves WH exact at every non-zero, so the loss of
    the new (W, H) falls out of it.
    """
    kernels = _numba_kernels()
    _numba_threads(ops.parts)
    l1_W, l2_W, l1_H, l2_H = pen = config.penalties(*ops.shape)
    X, Xt = ops.X, ops.Xt
    W = np.ascontiguousarray(W)
    Ht = np.ascontiguousarray(H.T)
    chunks = 8 * ops.parts
    bounds_w = _chunk_bounds(X.indptr, chunks)
    bounds_h = _chunk_bounds(Xt.indptr, chunks)
    log_w = np.zeros(X.shape[0])
    log_h = np.zeros(Xt.shape[0])
    sum_v = float(X.data.sum(dtype=np.float64))

    def total_wh() -> float:
        return float(W.sum(axis=0, dtype=np.float64) @ Ht.sum(axis=0, dtype=np.float64))

    loss0 = _kl_from_values(X.data, ops.sampled(W, Ht), total_wh())
    progress = _Progress(loss0 + _penalty_value(pen, W, Ht), config.tol)
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
            _NEWTON_STEPS,
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
            _NEWTON_STEPS,
            log_h,
        )
        loss = float(log_h.sum()) - sum_v + total_wh() + _penalty_value(pen, W, Ht)
        stop = progress.add(loss)
        if callback is not None:
            callback(n_iter, loss)
        if stop:
            converged = True
            break
    return np.ascontiguousarray(Ht.T), n_iter, progress.history, converged


def _kl_solve(ops: _SparseOps, H: np.ndarray, l1_W: float, l2_W: float) -> np.ndarray:
    """W for fixed H under the KL loss, row by row, with the compiled Newton-CD kernel."""
    kernels = _numba_kernels()
    _numba_threads(ops.parts)
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
        _chunk_bounds(X.indptr, 8 * ops.parts),
        _NEWTON_STEPS,
        _KL_CD_TOL[np.dtype(ops.dtype)],
        _KL_CD_MAX_SWEEPS,
    )
    return W
