"""The vectorizer's fitted state and settings as plain NumPy arrays, and back.

Only numeric and fixed-width unicode arrays, so that a model file holding them loads with
``allow_pickle=False``; every array is checked when read (:class:`ModelFileError` on
anything missing, mistyped or contradictory).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from topicnmf.config import VectorizerConfig
from topicnmf.errors import ModelFileError, ParameterError, VectorizerError
from topicnmf.packing import pack_strings, unpack_strings

if TYPE_CHECKING:
    from .vectorizer import Vectorizer

FORMAT_VERSION = 1


def to_arrays(vectorizer: Vectorizer) -> dict[str, np.ndarray]:
    """See :meth:`Vectorizer.to_arrays`."""
    cfg = vectorizer.config
    strings = [*cfg.stop_words, cfg.token_pattern]
    if any(s.endswith("\x00") for s in strings):
        # NumPy's unicode arrays drop trailing NULs, so such a string would not
        # round-trip.
        raise VectorizerError("cannot save a stop word or pattern ending in NUL")
    # The vocabulary is packed (UTF-8 bytes + offsets): a unicode array would pad every
    # term to the longest one, and one long junk token would blow the model up.
    vocab_utf8, vocab_offsets = pack_strings(vectorizer.vocabulary)
    return {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "vocabulary_utf8": vocab_utf8,
        "vocabulary_offsets": vocab_offsets,
        "idf": np.asarray(vectorizer.idf, dtype=np.float64),
        "document_frequency": np.asarray(vectorizer.document_frequency, dtype=np.int64),
        "n_documents": np.array(vectorizer.n_documents, dtype=np.int64),
        "lowercase": np.array(cfg.lowercase, dtype=np.bool_),
        "token_pattern": np.array(cfg.token_pattern, dtype=f"<U{max(1, len(cfg.token_pattern))}"),
        "stop_words": _unicode_array(list(cfg.stop_words)),
        "ngram_range": np.array(cfg.ngram_range, dtype=np.int64),
        # The dtype says which kind the value is: int64 = documents, float64 = share.
        "min_df": np.array(
            cfg.min_df, dtype=np.int64 if isinstance(cfg.min_df, int) else np.float64
        ),
        "max_df": np.array(
            cfg.max_df, dtype=np.int64 if isinstance(cfg.max_df, int) else np.float64
        ),
        # None is stored as -1 (a real max_features is >= 1).
        "max_features": np.array(
            -1 if cfg.max_features is None else cfg.max_features, dtype=np.int64
        ),
        "sublinear_tf": np.array(cfg.sublinear_tf, dtype=np.bool_),
        # None is stored as "none".
        "norm": np.array("none" if cfg.norm is None else cfg.norm, dtype="<U4"),
        "use_idf": np.array(cfg.use_idf, dtype=np.bool_),
        "smooth_idf": np.array(cfg.smooth_idf, dtype=np.bool_),
    }


def from_arrays(stored: Mapping[str, np.ndarray]) -> tuple[VectorizerConfig, dict[str, Any]]:
    """The configuration and the fitted state (``vocabulary``, ``df``, ``n_documents``,
    ``idf``) stored by :func:`to_arrays`, checked."""
    reader = _ArrayReader(stored)
    version = reader.scalar("format_version", "i")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"vectorizer format version {version} is not supported (this topicnmf "
            f"reads version {FORMAT_VERSION}); refit the model or upgrade topicnmf"
        )
    config = _read_config(reader)
    try:
        vocabulary = unpack_strings(
            reader.vector("vocabulary_utf8", "u"), reader.vector("vocabulary_offsets", "i")
        )
    except ValueError as exc:
        raise ModelFileError(f"the stored vocabulary is unreadable ({exc})") from None
    idf = reader.vector("idf", "f").astype(np.float64)
    df = reader.vector("document_frequency", "i").astype(np.int64)
    n_documents = reader.scalar("n_documents", "i")
    n = len(vocabulary)
    if idf.shape != (n,) or df.shape != (n,):
        raise ModelFileError(
            f"vectorizer arrays disagree: {n} terms but {idf.shape[0]} idf values and "
            f"{df.shape[0]} document frequencies"
        )
    if n == 0:
        raise ModelFileError("the model's vocabulary is empty")
    if any(a >= b for a, b in itertools.pairwise(vocabulary)):
        raise ModelFileError("the model's vocabulary is not sorted or has duplicates")
    if n_documents < 1 or df.min() < 1 or df.max() > n_documents:
        raise ModelFileError(
            f"document frequencies must be between 1 and n_documents={n_documents}"
        )
    return config, {"vocabulary": vocabulary, "df": df, "n_documents": n_documents, "idf": idf}


def _read_config(reader: _ArrayReader) -> VectorizerConfig:
    ngram = reader.vector("ngram_range", "i")
    if ngram.shape != (2,):
        raise ModelFileError(
            f"vectorizer array 'ngram_range' must hold 2 integers, has shape {ngram.shape}"
        )
    max_features = reader.scalar("max_features", "i")
    norm = reader.scalar("norm", "U")
    try:
        return VectorizerConfig(
            lowercase=reader.scalar("lowercase", "b"),
            token_pattern=reader.scalar("token_pattern", "U"),
            stop_words=tuple(reader.vector("stop_words", "U").tolist()),
            ngram_range=(int(ngram[0]), int(ngram[1])),
            min_df=reader.scalar("min_df", "if"),
            max_df=reader.scalar("max_df", "if"),
            max_features=None if max_features == -1 else max_features,
            sublinear_tf=reader.scalar("sublinear_tf", "b"),
            norm=None if norm == "none" else norm,
            use_idf=reader.scalar("use_idf", "b"),
            smooth_idf=reader.scalar("smooth_idf", "b"),
        )
    except ParameterError as exc:
        raise ModelFileError(f"invalid vectorizer settings in model: {exc}") from None


def _unicode_array(strings: list[str]) -> np.ndarray:
    width = max((len(s) for s in strings), default=1)
    return np.array(strings, dtype=f"<U{max(width, 1)}").reshape(len(strings))


class _ArrayReader:
    """Typed access to the vectorizer arrays, raising ``ModelFileError`` on anything odd."""

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        self._arrays = arrays

    def _get(self, name: str, kinds: str) -> np.ndarray:
        key = name
        if key not in self._arrays:
            raise ModelFileError(
                f"vectorizer array {key!r} is missing: not a topicnmf model, or damaged"
            )
        value = np.asarray(self._arrays[key])
        allowed = kinds + "u" if "i" in kinds else kinds
        if value.dtype.kind not in allowed:
            names = {"i": "integer", "u": "bytes", "f": "float", "b": "bool", "U": "text"}
            wanted = " or ".join(names[k] for k in kinds)
            raise ModelFileError(
                f"vectorizer array {key!r} has type {value.dtype}, expected {wanted}"
            )
        return value

    def scalar(self, name: str, kinds: str) -> Any:
        value = self._get(name, kinds)
        if value.shape != ():
            raise ModelFileError(
                f"vectorizer array {name!r} must be a single value, has shape {value.shape}"
            )
        return value.item()

    def vector(self, name: str, kinds: str) -> np.ndarray:
        value = self._get(name, kinds)
        if value.ndim != 1:
            raise ModelFileError(
                f"vectorizer array {name!r} must be one-dimensional, has shape {value.shape}"
            )
        return value
