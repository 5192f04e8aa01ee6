"""Checks and conversions shared by the quality modules."""

from __future__ import annotations

from typing import Any

import numpy as np

from topicnmf.config import _is_int
from topicnmf.errors import ParameterError


def plain(obj: Any) -> Any:
    """Turn numpy scalars and arrays inside ``obj`` into Python floats, ints and lists."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def check_top_n(top_n: Any, n_terms: int) -> int:
    if not _is_int(top_n):
        raise ParameterError(f"top_n must be an integer, got {top_n!r}", param="top_n")
    if top_n < 2:
        raise ParameterError(
            f"top_n must be at least 2 (NPMI needs pairs of terms), got {top_n}", param="top_n"
        )
    if top_n > n_terms:
        raise ParameterError(
            f"top_n={top_n} is larger than the vocabulary ({n_terms} terms)", param="top_n"
        )
    return int(top_n)


def as_2d_finite(name: str, a: Any) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} is not a numeric matrix: {exc}") from None
    if arr.ndim != 2:
        raise ParameterError(f"{name} must be a 2-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    return arr


def top_array(top_indices: Any) -> np.ndarray:
    top = np.asarray(top_indices)
    if top.ndim != 2 or top.shape[0] == 0:
        raise ParameterError(
            f"top_indices must be a 2-d array (topics x terms), got shape {top.shape}"
        )
    if top.size and not np.issubdtype(top.dtype, np.integer):
        raise ParameterError("top_indices must hold integer column indices")
    return top.astype(np.int64, copy=False)
