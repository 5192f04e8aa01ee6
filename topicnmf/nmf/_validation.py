"""Checks of what the public functions receive: the data matrix, H, a thread count."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from topicnmf.config import _is_int, available_cores
from topicnmf.errors import ParameterError


def check_threads(n_threads: int | None) -> int:
    """The number of threads to use: ``n_threads``, or the cores this process may use."""
    if n_threads is None:
        return available_cores()
    if not _is_int(n_threads) or n_threads < 1:
        raise ParameterError(
            f"n_threads must be an integer >= 1, got {n_threads!r}.", param="n_jobs"
        )
    return int(n_threads)


def check_matrix(V: Any, dtype: np.dtype, name: str = "V") -> sp.csr_matrix:
    """Return V as a canonical CSR matrix of ``dtype`` without explicit zeros.

    Raises
    ------
    ParameterError
        V is not 2-D, not real, empty, not finite or negative.
    """
    X = _as_csr(V, dtype, name)
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
        if (data == 0).any():
            X = X.copy()
            X.eliminate_zeros()
    if X.indices.dtype != np.int32 and X.nnz < 2**31 and max(X.shape) < 2**31:
        # int32 indices halve the index traffic of the sparse kernels.
        X = sp.csr_matrix(
            (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape
        )
    return X


def _as_csr(V: Any, dtype: np.dtype, name: str) -> sp.csr_matrix:
    if sp.issparse(V):
        if V.ndim != 2:
            raise ParameterError(f"{name} must be 2-D, got {V.ndim} dimension(s).")
        if not np.issubdtype(V.dtype, np.number) or np.issubdtype(V.dtype, np.complexfloating):
            raise ParameterError(f"{name} must hold real numbers, got dtype {V.dtype}.")
        return sp.csr_matrix(V, dtype=dtype, copy=False)
    try:
        arr = np.asarray(V)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} is not a numeric matrix: {exc}") from None
    if arr.ndim != 2:
        raise ParameterError(f"{name} must be 2-D, got {arr.ndim} dimension(s).")
    numeric = np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    if not numeric or np.issubdtype(arr.dtype, np.complexfloating):
        raise ParameterError(f"{name} must hold real numbers, got dtype {arr.dtype}.")
    return sp.csr_matrix(arr.astype(dtype, copy=False))


def check_components(H: Any, n_features: int, k: int, dtype: np.dtype) -> np.ndarray:
    """Return H as a C-contiguous array of ``dtype``, or raise ParameterError."""
    Hc = np.asarray(H)
    if Hc.ndim != 2 or Hc.shape[1] != n_features:
        raise ParameterError(
            f"H must have shape (n_components, {n_features}) to match V's columns, got {Hc.shape}."
        )
    if Hc.shape[0] != k:
        raise ParameterError(
            f"H has {Hc.shape[0]} rows but config.n_components is {k}; they must agree.",
            param="n_components",
        )
    if not np.issubdtype(Hc.dtype, np.number) or np.issubdtype(Hc.dtype, np.complexfloating):
        raise ParameterError(f"H must hold real numbers, got dtype {Hc.dtype}.")
    Hc = np.ascontiguousarray(Hc, dtype=dtype)
    if not np.isfinite(Hc).all():
        raise ParameterError("H contains a non-finite value.")
    if Hc.size and Hc.min() < 0:
        raise ParameterError(f"H contains a negative value ({Hc.min()!r}).")
    return Hc
