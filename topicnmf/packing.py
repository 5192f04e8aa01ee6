"""Lists of strings as two plain arrays: UTF-8 bytes and offsets.

A NumPy unicode array pads every entry to the longest one at 4 bytes a character, so one
5,000-character document id among a million short ones would take 20 GB. Packed, a list
costs its UTF-8 size plus 8 bytes an entry, and still needs no pickle to load.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pack_strings(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return (uint8 bytes, int64 offsets of length n+1) for a list of strings."""
    encoded = [s.encode("utf-8", "surrogatepass") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    if encoded:
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
    return data, offsets


def unpack_strings(data: np.ndarray, offsets: np.ndarray) -> list[str]:
    """Inverse of :func:`pack_strings`; raises ValueError if the arrays do not fit together."""
    if data.dtype != np.uint8 or data.ndim != 1:
        raise ValueError("string bytes must be a 1-d uint8 array")
    if offsets.dtype.kind not in "iu" or offsets.ndim != 1 or len(offsets) < 1:
        raise ValueError("string offsets must be a non-empty 1-d integer array")
    if offsets[0] != 0 or offsets[-1] != len(data) or np.any(np.diff(offsets) < 0):
        raise ValueError("string offsets do not match the bytes")
    raw = data.tobytes()
    bounds = offsets.tolist()
    try:
        return [
            raw[a:b].decode("utf-8", "surrogatepass")
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]
    except UnicodeDecodeError as exc:
        raise ValueError(f"a string is not valid UTF-8 ({exc.reason})") from exc
