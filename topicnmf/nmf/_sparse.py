"""Products with the sparse data matrix, split into row blocks run on a thread pool.

scipy's sparse kernels, numpy and BLAS release the GIL, so blocks of rows run side by side.
Each output row is computed by one thread, in a fixed order, from that row's values alone:
the results do not depend on the number of threads. BLAS itself is held to one thread by
the callers (its operations here are small, and BLAS threads that spin on a busy machine
cost more than they give).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp

from topicnmf.nmf._loss import dot64

# Row blocks with fewer non-zeros than this are not worth a thread hand-off.
MIN_NNZ_PER_THREAD = 20_000
# Rows gathered at a time by sampled_dot (buffers that stay in cache).
_SAMPLE_CHUNK = 8192


class Blocks:
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


class SparseOps:
    """V and V^T as CSR, split in row blocks, and products with them on a thread pool.

    ``mul(B)`` is V @ B and ``tmul(A)`` is V^T @ A, for dense B, A. Building V^T once as
    CSR makes V^T @ A a row-parallel CSR product too, faster than scipy's CSC route and
    split across threads the same way. ``data=`` swaps in other values on V's pattern.
    Use as a context manager: leaving it shuts the pool down.
    """

    def __init__(self, X: sp.csr_matrix, n_threads: int):
        self.X = X
        self.shape = X.shape
        self.dtype = X.dtype
        self._sq_norm: float | None = None
        self.parts = max(1, min(n_threads, X.nnz // MIN_NNZ_PER_THREAD))
        self.blocks = Blocks(X, self.parts)
        self._Xt: sp.csr_matrix | None = None
        self._tblocks: Blocks | None = None
        self._pool: ThreadPoolExecutor | None = None
        if self.parts > 1:
            self._pool = ThreadPoolExecutor(max_workers=self.parts, thread_name_prefix="topicnmf")

    def __enter__(self) -> SparseOps:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    @property
    def sq_norm(self) -> float:
        """||V||_F^2 in float64."""
        if self._sq_norm is None:
            self._sq_norm = dot64(self.X.data, self.X.data)
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
    def tblocks(self) -> Blocks:
        if self._tblocks is None:
            self._tblocks = Blocks(self.Xt, self.parts)
        return self._tblocks

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        """Run ``fn`` on each item, on the pool when there is one (results in order)."""
        if self._pool is None or len(items) == 1:
            return [fn(item) for item in items]
        return list(self._pool.map(fn, items))

    def _product(
        self, blocks: Blocks, data: np.ndarray, B: np.ndarray, transposed: bool = False
    ) -> np.ndarray:
        B = np.ascontiguousarray(B)
        shape = (blocks.shape[0], B.shape[1])
        out = np.empty(shape[::-1] if transposed else shape, dtype=np.result_type(data, B))

        def work(span: tuple) -> None:
            part = blocks.block(data, span) @ B
            if transposed:  # each thread transposes its own block, while it is in cache
                out[:, span[0] : span[1]] = part.T
            else:
                out[span[0] : span[1]] = part

        self.map(work, blocks.spans)
        return out

    def mul(self, B: np.ndarray, data: np.ndarray | None = None) -> np.ndarray:
        """V @ B for B of shape (n_features, j); ``data`` replaces V's values."""
        return self._product(self.blocks, self.X.data if data is None else data, B)

    def tmul(self, A: np.ndarray, data: np.ndarray | None = None) -> np.ndarray:
        """V^T @ A for A of shape (n_samples, j); ``data`` replaces V^T's values."""
        return self._product(self.tblocks, self.Xt.data if data is None else data, A)

    def mul_t(self, Bt: np.ndarray) -> np.ndarray:
        """(V @ Bt.T).T, C-contiguous, for Bt of shape (j, n_features): the topic-major
        layout of the HALS solver, without a separate transpose."""
        return self._product(self.blocks, self.X.data, Bt.T, transposed=True)

    def tmul_t(self, At: np.ndarray) -> np.ndarray:
        """(V^T @ At.T).T, C-contiguous, for At of shape (j, n_samples)."""
        return self._product(self.tblocks, self.Xt.data, At.T, transposed=True)

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
        parts = self.map(lambda s: Xt[:, s[0] : s[1]] @ Xt[:, s[0] : s[1]].T, spans)
        return sum(parts[1:], parts[0])

    def sampled(self, A: np.ndarray, B: np.ndarray, *, transpose: bool = False) -> np.ndarray:
        """(A @ B^T) at the stored places of V (or of V^T), in V's (V^T's) value order."""
        blocks = self.tblocks if transpose else self.blocks
        out = np.empty(blocks.indices.shape[0], dtype=np.result_type(A, B))
        rows = blocks.rows

        def work(span: tuple) -> None:
            _, _, s, e, _ = span
            sampled_dot(rows[s:e], blocks.indices[s:e], A, B, out[s:e])

        self.map(work, blocks.spans)
        return out


def sampled_dot(
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
