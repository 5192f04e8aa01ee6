"""Compiled kernels of the KL coordinate descent (numba, compiled on first use).

Hsieh & Dhillon (2011), "Fast coordinate descent methods with variable selection for
non-negative matrix factorization", section 4: each weight of a row is minimized in turn by a
few projected Newton steps on the convex one-variable KL problem, keeping WH up to date at the
row's non-zeros. This needs a loop over a row's non-zeros per weight, which numpy cannot
express without materializing nnz x k arrays; numba compiles it (about 5x faster per pass
than the numpy multiplicative updates, and far fewer passes). The kernels are plain Python
here and are compiled, with an on-disk cache, only when a KL fit or transform runs, so the
Frobenius path never imports numba (an optional dependency). Each row is computed by one
thread from its own values, so the results do not depend on the number of threads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from topicnmf.errors import ParameterError

_prange = range  # numba.prange once the kernels are compiled (see numba_kernels)
_kl_row: Any = None  # the compiled _kl_row_update, a global so the compiled kernels can call it
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


def numba_kernels() -> dict[str, Any]:
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


def have_numba() -> bool:
    try:
        numba_kernels()
    except ParameterError:
        return False
    return True


def chunk_bounds(indptr: np.ndarray, n_chunks: int) -> np.ndarray:
    """Row bounds of ``n_chunks`` pieces with about equal non-zeros (for numba's threads)."""
    n = indptr.shape[0] - 1
    cuts = np.searchsorted(indptr, np.linspace(0, indptr[-1], n_chunks + 1)[1:-1])
    return np.unique(np.concatenate([[0], cuts, [n]])).astype(np.int64)


def set_numba_threads(n_threads: int) -> None:
    numba = numba_kernels()["numba"]
    numba.set_num_threads(max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS)))
