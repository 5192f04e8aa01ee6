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

from topicnmf._text import count
from topicnmf.config import SKLEARN_RULES, VectorizerConfig
from topicnmf.errors import ModelFileError, ParameterError, VectorizerError
from topicnmf.packing import pack_strings, unpack_strings

if TYPE_CHECKING:
    from .vectorizer import Vectorizer

FORMAT_VERSION = 3
# Version 1 files were written before the token rules (word rule, numbers, n-gram adjacency,
# boilerplate, phrases, tokenizers): they read with scikit-learn's rules, which they used.
_VERSION_1_RULES: dict[str, Any] = dict(SKLEARN_RULES)
# Version 2 files were written before the address rule: they kept addresses.
# the arrays a version 2 file adds
RULE_ARRAYS = (
    "keep_numbers", "adjacent_ngrams", "max_line_df", "phrases", "phrase_min_count",
    "phrase_threshold", "tokenizer", "boilerplate_utf8", "boilerplate_offsets",
    "boilerplate_documents", "phrase_first_utf8", "phrase_first_offsets", "phrase_second_utf8",
    "phrase_second_offsets", "removed_rules", "removed_tokens",
)  # fmt: skip
# the array a version 3 file adds
ADDRESS_ARRAYS = ("keep_addresses",)


def to_arrays(vectorizer: Vectorizer) -> dict[str, np.ndarray]:
    """See :meth:`Vectorizer.to_arrays`."""
    cfg = vectorizer.config
    pattern = "" if cfg.token_pattern is None else cfg.token_pattern
    strings = [*cfg.stop_words, pattern]
    if any(s.endswith("\x00") for s in strings):
        # NumPy's unicode arrays drop trailing NULs, so such a string would not
        # round-trip.
        raise VectorizerError("cannot save a stop word or pattern ending in NUL")
    # The vocabulary is packed (UTF-8 bytes + offsets): a unicode array would pad every
    # term to the longest one, and one long junk token would blow the model up.
    vocab_utf8, vocab_offsets = pack_strings(vectorizer.vocabulary)
    lines_utf8, lines_offsets = pack_strings(vectorizer.boilerplate)
    first_utf8, first_offsets = pack_strings(vectorizer.phrases.first)
    second_utf8, second_offsets = pack_strings(vectorizer.phrases.second)
    rules = list(vectorizer.removed)
    return {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "vocabulary_utf8": vocab_utf8,
        "vocabulary_offsets": vocab_offsets,
        "idf": np.asarray(vectorizer.idf, dtype=np.float64),
        "document_frequency": np.asarray(vectorizer.document_frequency, dtype=np.int64),
        "n_documents": np.array(vectorizer.n_documents, dtype=np.int64),
        "lowercase": np.array(cfg.lowercase, dtype=np.bool_),
        # "" is the word rule (None); an empty pattern is refused by the config
        "token_pattern": np.array(pattern, dtype=f"<U{max(1, len(pattern))}"),
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
        "keep_numbers": np.array(cfg.keep_numbers, dtype=np.bool_),
        "keep_addresses": np.array(cfg.keep_addresses, dtype=np.bool_),
        "adjacent_ngrams": np.array(cfg.adjacent_ngrams, dtype=np.bool_),
        # None is stored as -1 (a real count is >= 1, a share > 0).
        "max_line_df": np.array(
            -1 if cfg.max_line_df is None else cfg.max_line_df,
            dtype=np.float64 if isinstance(cfg.max_line_df, float) else np.int64,
        ),
        "phrases": np.array(cfg.phrases, dtype=np.bool_),
        "phrase_min_count": np.array(cfg.phrase_min_count, dtype=np.int64),
        "phrase_threshold": np.array(cfg.phrase_threshold, dtype=np.float64),
        "tokenizer": np.array(cfg.tokenizer, dtype=f"<U{len(cfg.tokenizer)}"),
        "boilerplate_utf8": lines_utf8,
        "boilerplate_offsets": lines_offsets,
        "boilerplate_documents": np.array(vectorizer.boilerplate_documents, dtype=np.int64),
        "phrase_first_utf8": first_utf8,
        "phrase_first_offsets": first_offsets,
        "phrase_second_utf8": second_utf8,
        "phrase_second_offsets": second_offsets,
        "removed_rules": _unicode_array(rules),
        "removed_tokens": np.array([vectorizer.removed[r] for r in rules], dtype=np.int64),
    }


def from_arrays(stored: Mapping[str, np.ndarray]) -> tuple[VectorizerConfig, dict[str, Any]]:
    """The configuration and the fitted state (``vocabulary``, ``df``, ``n_documents``,
    ``idf``) stored by :func:`to_arrays`, checked."""
    reader = _ArrayReader(stored)
    version = reader.scalar("format_version", "i")
    if version not in range(1, FORMAT_VERSION + 1):
        raise ModelFileError(
            f"vectorizer format version {version} is not supported (this topicnmf "
            f"reads versions 1 to {FORMAT_VERSION}); refit the model or upgrade topicnmf"
        )
    config = _read_config(reader, version)
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
            f"vectorizer arrays disagree: {count(n, 'term')} but "
            f"{count(idf.shape[0], 'idf value')} and "
            f"{count(df.shape[0], 'document frequency', 'document frequencies')}"
        )
    if n == 0:
        raise ModelFileError("the model's vocabulary is empty")
    if any(a >= b for a, b in itertools.pairwise(vocabulary)):
        raise ModelFileError("the model's vocabulary is not sorted or has duplicates")
    if n_documents < 1 or df.min() < 1 or df.max() > n_documents:
        raise ModelFileError(
            f"document frequencies must be between 1 and n_documents={n_documents}"
        )
    state: dict[str, Any] = {
        "vocabulary": vocabulary, "df": df, "n_documents": n_documents, "idf": idf
    }  # fmt: skip
    if version >= 2:
        state.update(_read_rule_state(reader, n_documents))
    return config, state


def _read_rule_state(reader: _ArrayReader, n_documents: int) -> dict[str, Any]:
    """What the token rules found at fit time: boilerplate lines, phrases, removals."""
    from .phrases import Phrases

    def strings(name: str) -> list[str]:
        try:
            return unpack_strings(
                reader.vector(f"{name}_utf8", "u"), reader.vector(f"{name}_offsets", "i")
            )
        except ValueError as exc:
            what = name.replace("_", " ")
            raise ModelFileError(f"the stored {what}s are unreadable ({exc})") from None

    lines = strings("boilerplate")
    first, second = strings("phrase_first"), strings("phrase_second")
    if len(first) != len(second):
        raise ModelFileError(
            f"the stored phrases disagree: {len(first)} first tokens, {len(second)} second"
        )
    rules = [str(r) for r in reader.vector("removed_rules", "U").tolist()]
    counts = reader.vector("removed_tokens", "i").astype(np.int64)
    if len(rules) != len(counts) or len(set(rules)) != len(rules) or np.any(counts < 0):
        raise ModelFileError("the stored counts of removed tokens are inconsistent")
    documents = reader.scalar("boilerplate_documents", "i")
    if not 0 <= documents <= n_documents or (documents == 0) != (len(lines) == 0):
        raise ModelFileError(
            f"the model says {count(documents, 'document')} of {n_documents:,} lost "
            f"boilerplate lines, and it holds {count(len(lines), 'such line')}"
        )
    return {
        "boilerplate": lines,
        "phrases": Phrases(first, second),
        "removed": dict(zip(rules, counts.tolist(), strict=True)),
        "boilerplate_documents": documents,
    }


def _read_config(reader: _ArrayReader, version: int) -> VectorizerConfig:
    ngram = reader.vector("ngram_range", "i")
    if ngram.shape != (2,):
        raise ModelFileError(
            f"vectorizer array 'ngram_range' must hold 2 integers, has shape {ngram.shape}"
        )
    max_features = reader.scalar("max_features", "i")
    norm = reader.scalar("norm", "U")
    pattern = reader.scalar("token_pattern", "U")
    if version == 1:
        rules = dict(_VERSION_1_RULES)
    else:
        max_line_df = reader.scalar("max_line_df", "if")
        rules = {
            "keep_numbers": reader.scalar("keep_numbers", "b"),
            "adjacent_ngrams": reader.scalar("adjacent_ngrams", "b"),
            "max_line_df": None if max_line_df == -1 else max_line_df,
            "phrases": reader.scalar("phrases", "b"),
            "phrase_min_count": reader.scalar("phrase_min_count", "i"),
            "phrase_threshold": reader.scalar("phrase_threshold", "f"),
            "tokenizer": reader.scalar("tokenizer", "U"),
            "keep_addresses": reader.scalar("keep_addresses", "b") if version >= 3 else True,
        }
        if pattern == "":
            pattern = None
    try:
        return VectorizerConfig(
            **rules,
            lowercase=reader.scalar("lowercase", "b"),
            token_pattern=pattern,
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
