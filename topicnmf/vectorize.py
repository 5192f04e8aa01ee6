"""TF-IDF stage: learn a vocabulary and idf weights, turn texts into a sparse matrix.

The matrix is the one scikit-learn's ``TfidfVectorizer`` gives for the same settings
(same vocabulary, idf and values up to float32 rounding), but it is computed
differently so that it is several times faster and works on a stream of texts:

* Texts are read in chunks of about a million characters, so a corpus never has to be
  held in memory as a list (only the sparse matrix it produces is).
* For the usual token patterns (``\\b\\w\\w+\\b`` and ``\\b\\w+\\b``) a chunk is joined
  into one string and tokenized with NumPy instead of the regex engine: a token is a
  maximal run of word characters, which is exactly what those patterns match.  Any
  other pattern goes through ``re.findall`` text by text, like scikit-learn.
* A token of 1 to 16 ASCII characters is packed into two ``uint64`` words and looked up
  in an open-addressing hash table held in NumPy arrays; longer or non-ASCII tokens go
  through a Python dict.  This avoids creating a Python string per token occurrence,
  which is what makes the pure-Python approach slow.
* Stop words are registered first, so "is a stop word" is just ``token_id < n_stop``.
* n-grams are built on token ids (within a document, after stop-word removal, as in
  scikit-learn) and interned in a second hash table; their strings are only built for
  the terms that survive ``min_df``/``max_df``.
* ``transform`` of single-token vocabularies looks tokens up in a table built once from
  the vocabulary and counts them straight into its columns.
* With more than one core, the next chunk is tokenized in a helper thread while the
  current one is counted (NumPy releases the GIL for most of both).

The vocabulary is sorted like scikit-learn's, so the output does not depend on the order
in which terms were first met, on the chunk size or on ``n_jobs``.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from topicnmf.config import (
    DEFAULT_TOKEN_PATTERN,
    ENGLISH_STOP_WORDS,
    VectorizerConfig,
    _is_int,
    available_cores,
    resolve_stop_words,
)
from topicnmf.errors import ModelFileError, ParameterError, VectorizerError
from topicnmf.packing import pack_strings, unpack_strings

__all__ = [
    "DEFAULT_TOKEN_PATTERN",
    "ENGLISH_STOP_WORDS",
    "Vectorizer",
    "VectorizerConfig",
    "resolve_stop_words",
]

logger = logging.getLogger("topicnmf")


# Token patterns whose matches are exactly "maximal runs of word characters of at least
# N characters", mapped to N.  For these the NumPy tokenizer is used.  (``\b\w\w+\b``
# and ``\w\w+`` match the same strings: the greedy ``\w+`` always runs to the end of
# the run, and a match can only start where a run starts.)
_RUN_PATTERNS: dict[str, int] = {
    r"(?u)\b\w\w+\b": 2,
    r"\b\w\w+\b": 2,
    r"(?u)\w\w+": 2,
    r"\w\w+": 2,
    r"(?u)\b\w+\b": 1,
    r"\b\w+\b": 1,
    r"(?u)\w+": 1,
    r"\w+": 1,
}

# Texts are processed in chunks of about this many characters: large enough that the
# per-chunk NumPy overhead vanishes, small enough that the temporary arrays (a few
# bytes per character) stay small.
_CHUNK_CHARS = 1 << 20
_CHUNK_DOCS = 8192

_FORMAT_VERSION = 1


# ------------------------------------------------------------------------ tokenizing

# 256-byte tables for ``bytes.translate`` on ASCII text: word characters ([0-9A-Za-z_],
# which is what ``\w`` matches among ASCII characters) map to themselves (or their
# lowercase), everything else to a space.  One C pass then does both lowercasing and
# classification.
_ASCII_WORD = np.zeros(128, dtype=bool)
for _c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz":
    _ASCII_WORD[_c] = True
_TABLE_KEEP = bytes(c if c < 128 and _ASCII_WORD[c] else 32 for c in range(256))
# For Latin-1 text (already lowercased with str.lower when asked): word characters,
# ASCII or not, map to themselves, everything else to a space.
_LATIN1_KEEP = bytes(c if chr(c).isalnum() or c == 95 else 32 for c in range(256))
_TABLE_LOWER = bytes(
    (c + 32 if 65 <= c <= 90 else c) if c < 128 and _ASCII_WORD[c] else 32 for c in range(256)
)
del _c


@dataclass
class _Tokens:
    """Tokens of a chunk of texts.

    A token of 1 to 16 NUL-free ASCII characters is packed into two ``uint64`` words
    (``key1``, ``key2``; see ``_pack``); any other token has ``key1 == 0`` and is kept
    as a string in ``strs`` (in token order).  Tokens of text ``j`` are
    ``indptr[j]:indptr[j + 1]``.
    """

    indptr: np.ndarray
    key1: np.ndarray
    key2: np.ndarray
    strs: list[str]


@dataclass
class _Chunk:
    """A tokenized chunk: one or two parts; ``order[i]`` is the chunk position of the
    i-th text of the parts put together (None: already in order)."""

    n_docs: int
    parts: list[_Tokens]
    order: list[int] | None = None


def _packable(token: str) -> bool:
    """Whether the NumPy tokenizer would pack ``token`` (rather than keep a string)."""
    return 0 < len(token) <= 16 and token.isascii() and "\x00" not in token


def _pack(token: str) -> tuple[int, int]:
    # Bytes in memory order (little-endian words) with zero padding: injective on
    # NUL-free ASCII strings of 1..16 bytes, and the first word is never 0, which the
    # hash table uses for "empty".
    raw = token.encode("ascii").ljust(16, b"\x00")
    return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")


def _unpack(key1: np.ndarray, key2: np.ndarray) -> list[str]:
    words = np.empty((len(key1), 2), dtype="<u8")
    words[:, 0] = key1
    words[:, 1] = key2
    # The 'S16' view drops the zero padding when converted to Python bytes.
    return [b.decode("ascii") for b in words.view("S16").ravel().tolist()]


# _KEEP1[n] keeps the first min(n, 8) bytes of a little-endian word, _KEEP2[n] the
# first n - 8 (for 8 < n <= 16).
_KEEP1 = np.array([(1 << (8 * min(n, 8))) - 1 for n in range(17)], dtype=np.uint64)
_KEEP2 = np.array([(1 << (8 * max(n - 8, 0))) - 1 for n in range(17)], dtype=np.uint64)


@functools.cache
def _word_table(size: int) -> np.ndarray:
    """Whether each of the first ``size`` code points is a regex word character.

    Python's ``re`` treats a character as ``\\w`` when ``str.isalnum()`` is true or it
    is ``_``.
    """
    return np.array([chr(c).isalnum() or c == 95 for c in range(size)], dtype=bool)


def _is_word(codes: np.ndarray) -> np.ndarray:
    """``\\w`` classification of an array of code points."""
    # A table for the Basic Multilingual Plane; the rare code points above it are
    # classified one distinct value at a time.
    table = _word_table(0x10000)
    word = table[np.minimum(codes, 0xFFFF)]
    above = np.flatnonzero(codes > 0xFFFF)
    if len(above):
        uniq, inverse = np.unique(codes[above], return_inverse=True)
        word[above] = np.array([chr(c).isalnum() for c in uniq.tolist()], dtype=bool)[inverse]
    return word


def _tokenize_runs(docs: list[str], lowercase: bool, min_len: int) -> _Tokens:
    """Tokenize as ``re.findall`` with a "runs of >= min_len word characters" pattern.

    The texts are joined with spaces (never part of a token) and handled as one NumPy
    array of characters: one byte each for ASCII or Latin-1 text, else a code point.
    """
    if lowercase and not all(map(str.isascii, docs)):
        # str.lower may change the length of non-ASCII text, so lowercase text by text
        # (as scikit-learn does) before joining and computing offsets.
        docs = [d.lower() for d in docs]
    # A leading space so every token has a non-word character before it, and 17 after
    # it so the 16-byte reads below never run past the end.
    text = " " + " ".join(docs) + " " * 17
    if text.isascii():
        raw = text.encode("ascii").translate(_TABLE_LOWER if lowercase else _TABLE_KEEP)
        chars = np.frombuffer(raw, dtype=np.uint8)
        word = chars != 32
        nonascii = None
        text = raw.decode("ascii")  # lowercased; unpackable tokens are sliced from it
    else:
        try:  # one byte per character when the text fits in Latin-1 (often the case)
            raw = text.encode("latin-1").translate(_LATIN1_KEEP)
            chars = np.frombuffer(raw, dtype=np.uint8)
            word = chars != 32
            nonascii = np.flatnonzero(chars >= 128)
        except UnicodeEncodeError:
            codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            word = _is_word(codes)
            # Non-ASCII characters end up as arbitrary bytes here, but tokens holding
            # one are never packed (see below).
            chars = codes.astype(np.uint8)
            nonascii = np.flatnonzero(codes >= 128)
    # Runs of word characters start and end where `word` flips; the padding makes the
    # flips alternate start, end, start, end...
    flips = np.flatnonzero(word[1:] != word[:-1]) + 1
    starts = flips[0::2]
    lengths = flips[1::2] - starts
    if min_len > 1:
        long_enough = lengths >= min_len
        starts, lengths = starts[long_enough], lengths[long_enough]

    doc_starts = np.ones(len(docs), dtype=np.int64)
    np.cumsum([len(d) + 1 for d in docs[:-1]], out=doc_starts[1:])
    doc_starts[1:] += 1
    indptr = np.append(np.searchsorted(starts, doc_starts), len(starts)).astype(np.int64)

    packable = lengths <= 16
    if nonascii is not None and len(nonascii):
        # The token around each non-ASCII character (if any) is kept as a string.
        token = np.searchsorted(starts, nonascii, side="right") - 1
        inside = token >= 0
        token, position = token[inside], nonascii[inside]
        packable[token[position < starts[token] + lengths[token]]] = False
    every = bool(packable.all())
    at = starts if every else starts[packable]
    size = lengths if every else lengths[packable]
    # Every byte offset as the start of a uint64 (an unaligned view): one gather per
    # word instead of eight byte gathers.
    words = np.ndarray((len(chars) - 7,), dtype="<u8", buffer=chars, strides=(1,))
    if every:
        key1 = words[at] & _KEEP1[size]
    else:
        key1 = np.zeros(len(starts), dtype=np.uint64)
        key1[packable] = words[at] & _KEEP1[size]
    key2 = np.zeros(len(starts), dtype=np.uint64)
    two = np.flatnonzero(size > 8)
    if len(two):
        key2[two if every else np.flatnonzero(packable)[two]] = (
            words[at[two] + 8] & _KEEP2[size[two]]
        )
    rest = np.flatnonzero(~packable)
    begin = starts[rest]
    strs = [
        text[s:e] for s, e in zip(begin.tolist(), (begin + lengths[rest]).tolist(), strict=True)
    ]
    return _Tokens(indptr, key1, key2, strs)


def _tokenize_regex(docs: list[str], findall: Any, lowercase: bool) -> _Tokens:
    """Tokenize with ``re.findall`` text by text (any token pattern)."""
    if lowercase:
        token_lists = [findall(d.lower()) for d in docs]
    else:
        token_lists = [findall(d) for d in docs]
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in token_lists], out=indptr[1:])
    strs = list(itertools.chain.from_iterable(token_lists))
    zeros = np.zeros(len(strs), dtype=np.uint64)
    return _Tokens(indptr, zeros, zeros, strs)


# ------------------------------------------------------------------------ interning

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xC2B2AE3D27D4EB4F)


class _KeyTable:
    """Open-addressing hash table from non-zero keys to ids 0, 1, 2, ...

    A key is one ``uint64`` (``wide=False``) or a pair (``wide=True``; the first word
    non-zero).  Lookups and insertions are vectorised: all keys of a batch probe their
    home slot together and only the misses (new keys, collisions) go round again with
    linear probing.  The load stays below one half.
    """

    def __init__(self, wide: bool) -> None:
        self._wide = wide
        self._bits = 12
        self._alloc()
        self.size = 0

    def _alloc(self) -> None:
        n = 1 << self._bits
        self._key1 = np.zeros(n, dtype=np.uint64)
        self._key2 = np.zeros(n if self._wide else 0, dtype=np.uint64)
        self._ids = np.full(n, -1, dtype=np.int64)
        self._claim = np.zeros(n, dtype=np.intp)

    def _home(self, key1: np.ndarray, key2: np.ndarray | None) -> np.ndarray:
        # Fibonacci hashing: the top bits of key * 2^64/phi are well spread even for
        # keys that differ only in their low bits (packed short tokens do).
        mixed = key1 if key2 is None else key1 ^ (key2 * _MIX)
        return ((mixed * _GOLDEN) >> np.uint64(64 - self._bits)).astype(np.intp)

    def _locate(self, key1: np.ndarray, key2: np.ndarray | None) -> np.ndarray:
        """Slot of each key, claiming an empty slot for a key not yet in the table."""
        t1, t2, claim = self._key1, self._key2, self._claim
        mask = len(t1) - 1
        slots = self._home(key1, key2)
        # Most keys of a batch are already in the table, at their home slot.
        hit = t1[slots] == key1
        if key2 is not None:
            hit[hit] = t2[slots[hit]] == key2[hit]
        miss = np.flatnonzero(~hit)
        probe = slots[miss]
        while len(miss):
            want1 = key1[miss]
            current = t1[probe]
            empty = np.flatnonzero(current == 0)
            if len(empty):
                # Several keys may claim one empty slot: the claim array keeps one
                # claimant per slot, whose key is written; duplicates of it then match
                # and the others see a foreign key and probe on.
                where = probe[empty]
                claim[where] = empty
                won = empty[claim[where] == empty]
                t1[probe[won]] = want1[won]
                if key2 is not None:
                    t2[probe[won]] = key2[miss[won]]
                current[empty] = t1[where]
            ok = current == want1
            if key2 is not None:
                ok[ok] = t2[probe[ok]] == key2[miss[ok]]
            slots[miss[ok]] = probe[ok]
            again = ~ok
            miss = miss[again]
            probe = (probe[again] + 1) & mask
        return slots

    def lookup(self, key1: np.ndarray, key2: np.ndarray | None) -> np.ndarray:
        """Ids of the keys, -1 for keys not in the table (nothing is inserted)."""
        t1, t2 = self._key1, self._key2
        mask = len(t1) - 1
        slots = self._home(key1, key2)
        current = t1[slots]
        hit = current == key1
        if key2 is not None:
            hit[hit] = t2[slots[hit]] == key2[hit]
        out = np.where(hit, self._ids[slots], -1)
        # A key not at its home slot is further along the run of occupied slots;
        # an empty slot ends the search.
        miss = np.flatnonzero(~hit & (current != 0))
        probe = (slots[miss] + 1) & mask
        while len(miss):
            current = t1[probe]
            hit = current == key1[miss]
            if key2 is not None:
                hit[hit] = t2[probe[hit]] == key2[miss[hit]]
            out[miss[hit]] = self._ids[probe[hit]]
            again = ~hit & (current != 0)
            miss = miss[again]
            probe = (probe[again] + 1) & mask
        return out

    def _grow(self) -> None:
        used = self._key1 != 0
        old1, old_ids = self._key1[used], self._ids[used]
        old2 = self._key2[used] if self._wide else None
        self._bits += 1
        self._alloc()
        self._ids[self._locate(old1, old2)] = old_ids

    def intern(
        self, key1: np.ndarray, key2: np.ndarray | None, next_id: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ids of the keys; unseen keys get ``next_id, next_id + 1, ...``.

        Returns the ids and the two words of the new keys, in the order of their ids
        (the second word is all zeros for a narrow table).
        """
        ids = np.empty(len(key1), dtype=np.int64)
        new1, new2 = [], []
        start = 0
        while start < len(key1):
            # A batch can add at most its own length in keys: keep it within the room
            # left at load one half, growing the table when the room gets small.
            room = len(self._key1) // 2 - self.size
            if room < min(len(key1) - start, len(self._key1) // 8):
                self._grow()
                continue
            stop = min(len(key1), start + room)
            slots = self._locate(key1[start:stop], None if key2 is None else key2[start:stop])
            found = self._ids[slots]
            new = np.flatnonzero(found < 0)
            if len(new):
                where = slots[new]
                self._claim[where] = new
                fresh = where[self._claim[where] == new]  # each new slot once
                self._ids[fresh] = np.arange(next_id, next_id + len(fresh))
                next_id += len(fresh)
                self.size += len(fresh)
                new1.append(self._key1[fresh])
                new2.append(self._key2[fresh] if self._wide else np.zeros(len(fresh), np.uint64))
                found[new] = self._ids[where]
            ids[start:stop] = found
            start = stop
        if not new1:
            return ids, np.zeros(0, np.uint64), np.zeros(0, np.uint64)
        return ids, np.concatenate(new1), np.concatenate(new2)


# A first word no token can have: it starts with a NUL byte ("\x00\x01").
_PLACEHOLDER = np.uint64(0x100)


class _TokenRegistry:
    """Token ids for packed keys and string tokens.

    Id 0 is a placeholder and stop words get ids ``1..n_stop-1``, so "is a stop word"
    is ``id < n_stop``.
    """

    def __init__(self, stop_words: tuple[str, ...], pack: bool) -> None:
        # Tokens of up to 8 characters (second word 0) and of 9 to 16 in separate
        # tables, so that the common short ones compare a single word.
        self._short = _KeyTable(wide=False)
        self._long = _KeyTable(wide=True)
        self._str_ids: dict[str, int] = {}
        # The key of each id (first word 0 for string tokens), in pieces.
        self._key1: list[np.ndarray] = []
        self._key2: list[np.ndarray] = []
        self._str_of_id: dict[int, str] = {}
        self.size = 0
        self.has_space = False  # a token with a space can make two n-grams one string
        # The placeholder of _short_keys gets id 0, among the stop words: if it ever
        # stood for a token, that token would be dropped, never counted.
        self._intern(self._short, np.array([_PLACEHOLDER], dtype=np.uint64), None)
        packed = [_pack(w) for w in stop_words if pack and _packable(w)]
        strs = [w for w in stop_words if not (pack and _packable(w))]
        self.ids(
            np.array([k[0] for k in packed] + [0] * len(strs), dtype=np.uint64),
            np.array([k[1] for k in packed] + [0] * len(strs), dtype=np.uint64),
            strs,
        )
        self.n_stop = self.size

    def _intern(self, table: _KeyTable, key1: np.ndarray, key2: np.ndarray | None) -> np.ndarray:
        ids, new1, new2 = table.intern(key1, key2, self.size)
        self.size += len(new1)
        self._key1.append(new1)
        self._key2.append(new2)
        return ids

    def _short_keys(
        self, key1: np.ndarray, key2: np.ndarray, strs: list[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """First words for the short table, and the positions of long and string tokens.

        Long and string tokens are few: rather than select the short ones (a pass over
        every token), put the placeholder key in their place and overwrite their ids.
        """
        long = np.flatnonzero(key2)
        other = np.flatnonzero(key1 == 0) if strs else long[:0]
        if len(long) or len(other):
            key1 = key1.copy()
            key1[long] = _PLACEHOLDER
            key1[other] = _PLACEHOLDER
        return key1, long, other

    def ids(self, key1: np.ndarray, key2: np.ndarray, strs: list[str]) -> np.ndarray:
        """Ids of the tokens (registering new ones), in token order."""
        short, long, other = self._short_keys(key1, key2, strs)
        out = self._intern(self._short, short, None)
        if len(long):
            out[long] = self._intern(self._long, key1[long], key2[long])
        if strs:
            get = self._str_ids.get
            found = list(map(get, strs))
            if None in found:
                first_new = self.size
                for i, value in enumerate(found):
                    if value is None:
                        token = strs[i]
                        value = get(token)
                        if value is None:
                            value = self._str_ids[token] = self.size
                            self._str_of_id[value] = token
                            self.size += 1
                        found[i] = value
                n_new = self.size - first_new
                self._key1.append(np.zeros(n_new, dtype=np.uint64))
                self._key2.append(np.zeros(n_new, dtype=np.uint64))
                if not self.has_space:
                    self.has_space = any(
                        " " in self._str_of_id[i] for i in range(first_new, self.size)
                    )
            out[other] = found
        return out

    def lookup(self, key1: np.ndarray, key2: np.ndarray, strs: list[str]) -> np.ndarray:
        """Ids of the tokens, -1 for tokens never registered (nothing is registered)."""
        short, long, other = self._short_keys(key1, key2, strs)
        out = self._short.lookup(short, None)
        if len(long):
            out[long] = self._long.lookup(key1[long], key2[long])
        if strs:
            get = self._str_ids.get
            out[other] = [get(token, -1) for token in strs]
        return out

    def strings(self, ids: np.ndarray) -> list[str]:
        """The token of each id."""
        if len(self._key1) != 1:
            self._key1 = [np.concatenate(self._key1) if self._key1 else np.zeros(0, np.uint64)]
            self._key2 = [np.concatenate(self._key2) if self._key2 else np.zeros(0, np.uint64)]
        key1, key2 = self._key1[0][ids], self._key2[0][ids]
        out: list[str] = [""] * len(ids)
        packed = np.flatnonzero(key1 != 0)
        for i, token in zip(packed.tolist(), _unpack(key1[packed], key2[packed]), strict=True):
            out[i] = token
        str_of_id = self._str_of_id
        for i in np.flatnonzero(key1 == 0).tolist():
            out[i] = str_of_id[int(ids[i])]
        return out


class _TermCounter:
    """Count terms (tokens or n-grams of token ids) per text, chunk by chunk.

    Term ids are provisional (order of first appearance); the caller maps them to
    vocabulary columns at the end.
    """

    def __init__(
        self, config: VectorizerConfig, fixed: tuple[_TokenRegistry, np.ndarray] | None = None
    ) -> None:
        self._lowercase = config.lowercase
        self._min_n, self._max_n = config.ngram_range
        self._min_len = _RUN_PATTERNS.get(config.token_pattern)
        self._findall = re.compile(config.token_pattern).findall
        # With a fixed vocabulary of single tokens (transform), tokens are only looked
        # up in a registry built from it, and counted straight into its columns;
        # column_of[-1] is -1 so that unknown tokens (id -1) map to no column.
        self._column_of: np.ndarray | None = None
        if fixed is not None:
            self.tokens, self._column_of = fixed
            self._n_fixed = int(self._column_of.max(initial=-1)) + 1
            assert self._max_n == 1
        else:
            self.tokens = _TokenRegistry(config.stop_words, pack=self._min_len is not None)
        # n-grams: a term's key is (prefix term id + 1) << 32 | (last token id + 1),
        # unigrams have prefix -1, so keys are non-zero and unique.
        self._terms = _KeyTable(wide=False) if self._max_n > 1 else None
        self._term_keys: list[np.ndarray] = []
        self._n_terms = 0
        self._indptr: list[np.ndarray] = []
        self._indices: list[np.ndarray] = []
        self._data: list[np.ndarray] = []
        self.n_documents = 0
        self.n_tokens = 0  # before stop-word removal
        self.n_kept_tokens = 0  # after

    @property
    def n_terms(self) -> int:
        if self._column_of is not None:
            return self._n_fixed
        return self.tokens.size if self._terms is None else self._n_terms

    def tokenize(self, docs: list[str]) -> _Chunk:
        """Tokenize one chunk of texts.

        Touches no state of the counter, so it can run in another thread while the
        previous chunk is being counted.
        """
        if self._min_len is None:
            return _Chunk(len(docs), [_tokenize_regex(docs, self._findall, self._lowercase)])
        ascii_flags = list(map(str.isascii, docs))
        if all(ascii_flags) or not any(ascii_flags):
            return _Chunk(len(docs), [_tokenize_runs(docs, self._lowercase, self._min_len)])
        # The NumPy tokenizer is much faster on pure ASCII (one byte per character, no
        # code point classification), so a few non-ASCII texts should not push a whole
        # chunk onto the slower path: tokenize the two kinds apart, reorder rows later.
        order = [i for i, f in enumerate(ascii_flags) if f]
        n_ascii = len(order)
        order += [i for i, f in enumerate(ascii_flags) if not f]
        parts = [
            _tokenize_runs([docs[i] for i in order[:n_ascii]], self._lowercase, self._min_len),
            _tokenize_runs([docs[i] for i in order[n_ascii:]], self._lowercase, self._min_len),
        ]
        return _Chunk(len(docs), parts, order)

    def add_tokens(self, chunk: _Chunk) -> None:
        """Count the terms of a tokenized chunk."""
        parts = [self._count(toks) for toks in chunk.parts]
        if chunk.order is None:
            counts = parts[0]
        else:
            for part in parts:  # the second part may have met new terms
                part.resize((part.shape[0], self.n_terms))
            counts = sp.vstack(parts, format="csr")[np.argsort(chunk.order)]
            counts.sort_indices()
        self._indptr.append(np.diff(counts.indptr))
        self._indices.append(counts.indices.astype(np.int32, copy=False))
        self._data.append(counts.data)
        self.n_documents += chunk.n_docs

    def add(self, docs: list[str]) -> None:
        """Count the terms of ``docs`` (one chunk)."""
        self.add_tokens(self.tokenize(docs))

    def _count(self, toks: _Tokens) -> sp.csr_matrix:
        n_docs = len(toks.indptr) - 1
        if self._column_of is not None:
            ids = self._column_of[self.tokens.lookup(toks.key1, toks.key2, toks.strs)]
            keep = ids >= 0
        else:
            ids = self.tokens.ids(toks.key1, toks.key2, toks.strs)
            keep = ids >= self.tokens.n_stop
        self.n_tokens += len(ids)
        # Token offsets of each text after stop-word removal.
        kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        indptr = kept_before[toks.indptr]
        ids = ids[keep]
        self.n_kept_tokens += len(ids)
        if self.tokens.size >= 2**31:
            raise VectorizerError("too many distinct tokens (more than 2**31)")
        if self._terms is None:
            counts = sp.csr_matrix(
                (np.ones(len(ids), dtype=np.int32), ids.astype(np.int32), indptr),
                shape=(n_docs, self.n_terms),
            )
        else:
            counts = self._count_ngrams(ids, indptr, n_docs)
        counts.sum_duplicates()
        return counts

    def _intern_terms(self, keys: np.ndarray) -> np.ndarray:
        assert self._terms is not None
        tids, new_keys, _ = self._terms.intern(keys, None, self._n_terms)
        self._n_terms += len(new_keys)
        self._term_keys.append(new_keys)
        return tids

    def _count_ngrams(self, ids: np.ndarray, indptr: np.ndarray, n_docs: int) -> sp.csr_matrix:
        n_tok = len(ids)
        lengths = np.diff(indptr)
        doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        doc_end = np.repeat(indptr[1:], lengths)
        last = (ids + 1).astype(np.uint64)
        prefix = self._intern_terms(last)  # unigram term of each position
        rows, cols = [], []
        if self._min_n == 1:
            rows.append(doc_of)
            cols.append(prefix)
        positions = np.arange(n_tok, dtype=np.int64)
        for n in range(2, self._max_n + 1):
            # n-grams starting at each position that ends inside the same text
            starts = positions[: max(n_tok - n + 1, 0)]
            starts = starts[starts + n <= doc_end[: len(starts)]]
            if not len(starts):
                break
            keys = ((prefix[starts] + 1).astype(np.uint64) << np.uint64(32)) | last[starts + n - 1]
            tids = self._intern_terms(keys)
            if n >= self._min_n:
                rows.append(doc_of[starts])
                cols.append(tids)
            prefix = np.full(n_tok, -1, dtype=np.int64)
            prefix[starts] = tids
        if self._n_terms >= 2**31 or self.tokens.size >= 2**32 - 1:
            raise VectorizerError("too many distinct terms (more than 2**31); raise --min-df")
        row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        col = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        return sp.coo_matrix(
            (np.ones(len(row), dtype=np.int32), (row, col)), shape=(n_docs, self.n_terms)
        ).tocsr()

    def counts(self) -> sp.csr_matrix:
        """Counts of all texts added so far (texts x provisional term ids), int32."""
        indptr = np.zeros(self.n_documents + 1, dtype=np.int64)
        if self._indptr:
            np.cumsum(np.concatenate(self._indptr), out=indptr[1:])
        indices = np.concatenate(self._indices) if self._indices else np.zeros(0, np.int32)
        data = np.concatenate(self._data) if self._data else np.zeros(0, np.int32)
        if indptr[-1] < 2**31:
            indptr = indptr.astype(np.int32)
        return sp.csr_matrix(
            (data, indices, indptr), shape=(self.n_documents, self.n_terms), copy=False
        )

    def strings(self, term_ids: np.ndarray) -> list[str]:
        """The term (token or space-joined n-gram) of each provisional term id."""
        term_ids = np.asarray(term_ids, dtype=np.int64)
        if self._terms is None:
            return self.tokens.strings(term_ids)
        keys = np.concatenate(self._term_keys) if self._term_keys else np.zeros(0, np.uint64)
        self._term_keys = [keys]
        memo: dict[int, str] = {}
        # Resolve level by level: the prefix of an n-gram is an (n-1)-gram.
        needed = [term_ids]
        frontier = term_ids
        for _ in range(self._max_n - 1):
            prefix = (keys[frontier] >> np.uint64(32)).astype(np.int64) - 1
            frontier = np.unique(prefix[prefix >= 0])
            if not len(frontier):
                break
            needed.append(frontier)
        for level in reversed(needed):
            level = np.unique(level)
            k = keys[level]
            prefix = ((k >> np.uint64(32)).astype(np.int64) - 1).tolist()
            last = self.tokens.strings((k & np.uint64(0xFFFFFFFF)).astype(np.int64) - 1)
            for tid, pre, tok in zip(level.tolist(), prefix, last, strict=True):
                memo[tid] = tok if pre < 0 else memo[pre] + " " + tok
        return [memo[t] for t in term_ids.tolist()]

    def may_collide(self) -> bool:
        """Whether two term ids can have the same string (tokens containing spaces)."""
        return self._terms is not None and self.tokens.has_space


def _chunks(texts: Iterable[str]) -> Iterator[list[str]]:
    if isinstance(texts, (str, bytes)):
        raise TypeError("expected an iterable of texts, got a single string")
    chunk: list[str] = []
    size = 0
    for text in texts:
        if type(text) is not str:
            if not isinstance(text, str):
                raise TypeError(f"expected str texts, got {type(text).__name__}")
        chunk.append(text)
        size += len(text) + 1
        if size >= _CHUNK_CHARS or len(chunk) >= _CHUNK_DOCS:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _count(counter: _TermCounter, texts: Iterable[str], threads: int) -> _TermCounter:
    """Feed ``texts`` to ``counter`` chunk by chunk.

    With ``threads > 1`` the next chunk is tokenized in a helper thread while the
    current one is counted: most of both steps runs in NumPy, which releases the GIL.
    The texts themselves are read in the calling thread, in order; the result does not
    depend on ``threads``.
    """
    if threads <= 1:
        for chunk in _chunks(texts):
            counter.add(chunk)
        return counter
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="topicnmf-tokenize") as pool:
        ahead: Future[_Chunk] | None = None
        for chunk in _chunks(texts):
            submitted = pool.submit(counter.tokenize, chunk)
            if ahead is not None:
                counter.add_tokens(ahead.result())
            ahead = submitted
        if ahead is not None:
            counter.add_tokens(ahead.result())
    return counter


def _merge_equal_terms(
    counts: sp.csr_matrix, counter: _TermCounter
) -> tuple[sp.csr_matrix, list[str] | None]:
    """Merge columns whose terms are the same string.

    Only possible with a custom token pattern that matches spaces and n-grams
    ("a b"+"c" and "a"+"b c"); scikit-learn counts these as one term.
    """
    if not counter.may_collide():
        return counts, None
    seen = np.flatnonzero(np.diff(counts.tocsc().indptr))
    terms = counter.strings(seen)
    canonical: dict[str, int] = {}
    new_col = np.full(counts.shape[1], -1, dtype=np.int64)
    for tid, term in zip(seen.tolist(), terms, strict=True):
        new_col[tid] = canonical.setdefault(term, len(canonical))
    merged = sp.csr_matrix(
        (counts.data, new_col[counts.indices], counts.indptr),
        shape=(counts.shape[0], len(canonical)),
    )
    merged.sum_duplicates()
    return merged, list(canonical)


# ------------------------------------------------------------------------ vectorizer


def _describe_df(name: str, value: float | int, n_documents: int) -> str:
    """``min_df``/``max_df`` as a number of documents, for messages."""
    if isinstance(value, int):
        return f"{value} documents ({name}={value})"
    return f"{value * 100:.4g}% of the {n_documents} documents ({name}={value!r})"


def _show_df(name: str, value: float | int, documents: float) -> str:
    if isinstance(value, int):
        return f"{name}={value}"
    return f"{name}={value!r} (= {documents:g} documents)"


class Vectorizer:
    """TF-IDF vectorizer equal to scikit-learn's ``TfidfVectorizer``, faster, streaming.

    Parameters
    ----------
    config : VectorizerConfig
        The settings.
    n_jobs : int or None
        Cores to use: None (all, as everywhere in topicnmf), a positive count, or a
        negative one counting back from all (-1 = all).  With two or more, the next
        chunk of texts is tokenized in one helper thread while the current one is
        counted; more threads would not help (counting is sequential).  The output
        never depends on it.

    Attributes
    ----------
    vocabulary : list of str
        Terms in column order (sorted).
    idf : ndarray of float64
        Idf weight of each term (all ones when ``use_idf`` is false).
    document_frequency : ndarray of int64
        Number of training texts containing each term.
    n_documents : int
        Number of training texts.
    """

    def __init__(self, config: VectorizerConfig | None = None, n_jobs: int | None = None) -> None:
        if config is None:
            config = VectorizerConfig()
        if not isinstance(config, VectorizerConfig):
            raise ParameterError(f"config must be a VectorizerConfig, got {config!r}")
        config.validate()
        if n_jobs is not None and (not _is_int(n_jobs) or n_jobs == 0):
            raise ParameterError(f"n_jobs must be a non-zero integer or None, got {n_jobs!r}")
        self.config = config
        self.n_jobs = n_jobs
        cores = available_cores()
        jobs = cores if n_jobs is None else (n_jobs if n_jobs > 0 else cores + 1 + n_jobs)
        self._threads = max(1, min(jobs, 2))
        self.vocabulary: list[str] = []
        self.idf = np.zeros(0, dtype=np.float64)
        self.document_frequency = np.zeros(0, dtype=np.int64)
        self.n_documents = 0
        self._fitted = False
        self._columns: dict[str, int] | None = None
        self._index: tuple[_TokenRegistry, np.ndarray] | None = None

    def __repr__(self) -> str:
        state = f"{len(self.vocabulary)} terms" if self._fitted else "not fitted"
        return f"Vectorizer({state}, config={self.config!r})"

    # ---------------------------------------------------------------- fitting

    def fit_transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Learn the vocabulary and idf from ``texts`` and return their TF-IDF matrix.

        Parameters
        ----------
        texts : iterable of str
            Read once, chunk by chunk.

        Returns
        -------
        scipy.sparse.csr_matrix of float32, shape (n_texts, n_terms)

        Raises
        ------
        VectorizerError
            When no term is left, naming the setting that removed them, or when
            ``max_df`` and ``min_df`` contradict each other for this many texts.
        """
        cfg = self.config
        if cfg.lowercase:
            upper = [w for w in cfg.stop_words if w != w.lower()]
            if upper:
                logger.warning(
                    "%d stop word(s) contain capitals (e.g. %r) and can never match "
                    "lowercased text",
                    len(upper),
                    upper[0],
                )
        counter = _count(_TermCounter(cfg), texts, self._threads)
        counts = counter.counts()
        counts, merged_terms = _merge_equal_terms(counts, counter)
        n_docs = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        seen = df > 0
        self._check_tokens(counter, n_docs, int(seen.sum()))

        high = cfg.max_df if isinstance(cfg.max_df, int) else cfg.max_df * n_docs
        low = cfg.min_df if isinstance(cfg.min_df, int) else cfg.min_df * n_docs
        if high < low:
            raise VectorizerError(
                f"no term can be kept: for {n_docs} documents, "
                f"{_show_df('max_df', cfg.max_df, high)} is below "
                f"{_show_df('min_df', cfg.min_df, low)}; lower --min-df, raise --max-df "
                "or use more documents"
            )
        not_rare = seen & (df >= low)
        not_common = seen & (df <= high)
        keep = not_rare & not_common
        if not keep.any():
            self._explain_empty(int(seen.sum()), not_rare, not_common, n_docs)

        candidates = np.flatnonzero(keep)
        if merged_terms is None:
            terms = counter.strings(candidates)
        else:
            terms = [merged_terms[i] for i in candidates.tolist()]
        order = sorted(range(len(terms)), key=terms.__getitem__)
        candidates = candidates[order]
        terms = [terms[i] for i in order]
        if cfg.max_features is not None and len(candidates) > cfg.max_features:
            # scikit-learn sorts the candidates by name, then takes the first
            # max_features of an (unstable, default-kind) argsort of the negated float64
            # totals: doing exactly that reproduces its choice among tied terms.
            totals = np.bincount(
                counts.indices, weights=counts.data.astype(np.float64), minlength=counts.shape[1]
            )
            picked = np.sort((-totals[candidates]).argsort()[: cfg.max_features])
            candidates = candidates[picked]
            terms = [terms[i] for i in picked.tolist()]

        column = np.full(counts.shape[1], -1, dtype=np.int64)
        column[candidates] = np.arange(len(candidates))
        counts = _select_columns(counts, column, len(candidates))

        self.vocabulary = terms
        self.document_frequency = df[candidates].astype(np.int64)
        self.n_documents = int(n_docs)
        self.idf = self._idf(self.document_frequency, self.n_documents)
        self._columns = None
        self._index = None
        self._fitted = True
        return self._weight(counts)

    def _idf(self, df: np.ndarray, n_documents: int) -> np.ndarray:
        if not self.config.use_idf:
            return np.ones(len(df), dtype=np.float64)
        # Same operations in the same order as scikit-learn, so the same bits.
        smooth = self.config.smooth_idf
        denominator = df.astype(np.float64) + float(smooth)
        idf = np.full_like(denominator, fill_value=n_documents + int(smooth))
        with np.errstate(divide="ignore"):
            idf /= denominator
            np.log(idf, out=idf)
        idf += 1.0
        return idf

    def _check_tokens(self, counter: _TermCounter, n_docs: int, n_seen: int) -> None:
        cfg = self.config
        if n_docs == 0:
            raise VectorizerError("no documents to vectorize: the corpus is empty")
        if counter.n_tokens == 0:
            raise VectorizerError(
                f"no tokens found in {n_docs} documents: the documents are empty or "
                f"token_pattern {cfg.token_pattern!r} matches nothing"
            )
        if counter.n_kept_tokens == 0:
            raise VectorizerError(
                f"no terms left: every token is a stop word ({n_docs} documents, "
                f"{len(cfg.stop_words)} stop words); use fewer stop words"
            )
        if n_seen == 0:
            raise VectorizerError(
                f"no terms left: no document has {cfg.ngram_range[0]} consecutive tokens "
                f"for ngram_range={cfg.ngram_range!r}; lower the smallest n"
            )

    def _explain_empty(
        self, n_seen: int, not_rare: np.ndarray, not_common: np.ndarray, n_docs: int
    ) -> None:
        cfg = self.config
        min_text = _describe_df("min_df", cfg.min_df, n_docs)
        max_text = _describe_df("max_df", cfg.max_df, n_docs)
        if not not_rare.any():
            raise VectorizerError(
                f"no terms left: all {n_seen} terms occur in fewer than {min_text}; lower --min-df"
            )
        if not not_common.any():
            raise VectorizerError(
                f"no terms left: all {n_seen} terms occur in more than {max_text}; raise --max-df"
            )
        n_rare = n_seen - int(not_rare.sum())
        raise VectorizerError(
            f"no terms left: of {n_seen} terms, {n_rare} occur in fewer than {min_text} "
            f"and {n_seen - n_rare} in more than {max_text}; lower --min-df or raise --max-df"
        )

    # -------------------------------------------------------------- transform

    def _require_fitted(self) -> None:
        if not self._fitted:
            raise VectorizerError("the vectorizer is not fitted: call fit_transform first")

    def count_transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Raw term counts of ``texts`` under the fitted vocabulary.

        Parameters
        ----------
        texts : iterable of str

        Returns
        -------
        scipy.sparse.csr_matrix of int32, shape (n_texts, n_terms)
            Unknown terms are ignored; sorted indices, no explicit zeros.
        """
        self._require_fitted()
        if self.config.ngram_range[1] == 1:
            counter = _TermCounter(self.config, fixed=self._token_index())
            return _count(counter, texts, self._threads).counts()
        # n-grams: count into provisional terms as fit does, then find their columns
        # by name.
        counter = _count(_TermCounter(self.config), texts, self._threads)
        counts = counter.counts()
        seen = np.flatnonzero(np.bincount(counts.indices, minlength=counts.shape[1]))
        if self._columns is None:
            self._columns = {term: i for i, term in enumerate(self.vocabulary)}
        get = self._columns.get
        column = np.full(counts.shape[1], -1, dtype=np.int64)
        column[seen] = [get(t, -1) for t in counter.strings(seen)]
        # Several provisional terms can only share a column when tokens contain spaces;
        # _select_columns sums such duplicates.
        return _select_columns(counts, column, len(self.vocabulary), merge=counter.may_collide())

    def _token_index(self) -> tuple[_TokenRegistry, np.ndarray]:
        """A token registry holding the stop words and the vocabulary, and the column of
        each token id (-1 for stop words and, at index -1, for unknown tokens)."""
        if self._index is None:
            cfg = self.config
            pack = cfg.token_pattern in _RUN_PATTERNS
            registry = _TokenRegistry(cfg.stop_words, pack=pack)
            packable = [pack and _packable(t) for t in self.vocabulary]
            columns = [i for i, p in enumerate(packable) if p]
            columns += [i for i, p in enumerate(packable) if not p]
            words = np.array(
                [t for t, p in zip(self.vocabulary, packable, strict=True) if p], dtype="S16"
            )
            words = words.view("<u8").reshape(-1, 2) if len(words) else np.zeros((0, 2), "<u8")
            strs = [t for t, p in zip(self.vocabulary, packable, strict=True) if not p]
            zeros = np.zeros(len(strs), dtype=np.uint64)
            ids = registry.ids(
                np.concatenate((words[:, 0].astype(np.uint64), zeros)),
                np.concatenate((words[:, 1].astype(np.uint64), zeros)),
                strs,
            )
            column_of = np.full(registry.size + 1, -1, dtype=np.int64)
            column_of[ids] = columns
            column_of[: registry.n_stop] = -1
            self._index = (registry, column_of)
        return self._index

    def transform(self, texts: Iterable[str]) -> sp.csr_matrix:
        """TF-IDF matrix of ``texts`` under the fitted vocabulary and idf.

        Parameters
        ----------
        texts : iterable of str
            Read once, chunk by chunk.

        Returns
        -------
        scipy.sparse.csr_matrix of float32, shape (n_texts, n_terms)
            Unknown terms are ignored: a text without a known term is an all-zero row.
        """
        return self._weight(self.count_transform(texts))

    def binary_doc_term(self, texts: Iterable[str]) -> sp.csr_matrix:
        """Which vocabulary terms occur in which texts (for co-occurrence statistics).

        Returns
        -------
        scipy.sparse.csr_matrix of bool, shape (n_texts, n_terms)
        """
        counts = self.count_transform(texts)
        return sp.csr_matrix(
            (np.ones(len(counts.data), dtype=bool), counts.indices, counts.indptr),
            shape=counts.shape,
        )

    def _weight(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        cfg = self.config
        data = counts.data.astype(np.float64)
        if cfg.sublinear_tf:
            np.log(data, out=data)
            data += 1.0
        if cfg.use_idf:
            data *= self.idf[counts.indices]
        if cfg.norm is not None and len(data):
            rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
            # Summed in index order, as scikit-learn's normalize() does.
            if cfg.norm == "l2":
                norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
            else:
                norms = np.bincount(rows, weights=np.abs(data), minlength=counts.shape[0])
            norms[norms == 0.0] = 1.0
            data /= norms[rows]
        return sp.csr_matrix(
            (data.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape
        )

    # ---------------------------------------------------------- serialisation

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The fitted state and the configuration as plain arrays.

        Names: ``format_version``, ``vocabulary`` (unicode, column order), ``idf``
        (float64), ``document_frequency`` (int64), ``n_documents``, and one array per
        config field: ``lowercase``, ``token_pattern``, ``stop_words``, ``ngram_range``,
        ``min_df``/``max_df`` (int64 = documents, float64 = proportion),
        ``max_features`` (-1 = None), ``sublinear_tf``, ``norm`` ("none" = None),
        ``use_idf``, ``smooth_idf``.  A caller storing them beside other arrays
        adds its own prefix (``model.py`` uses ``vec_``).

        Only numeric and fixed-width unicode arrays, so that ``np.savez`` followed by
        ``np.load(allow_pickle=False)`` restores them exactly.
        """
        self._require_fitted()
        cfg = self.config
        strings = [*cfg.stop_words, cfg.token_pattern]
        if any(s.endswith("\x00") for s in strings):
            # NumPy's unicode arrays drop trailing NULs, so such a string would not
            # round-trip.
            raise VectorizerError("cannot save a stop word or pattern ending in NUL")
        # The vocabulary is packed (UTF-8 bytes + offsets): a unicode array would pad every
        # term to the longest one, and one long junk token would blow the model up.
        vocab_utf8, vocab_offsets = pack_strings(self.vocabulary)
        return {
            "format_version": np.array(_FORMAT_VERSION, dtype=np.int64),
            "vocabulary_utf8": vocab_utf8,
            "vocabulary_offsets": vocab_offsets,
            "idf": np.asarray(self.idf, dtype=np.float64),
            "document_frequency": np.asarray(self.document_frequency, dtype=np.int64),
            "n_documents": np.array(self.n_documents, dtype=np.int64),
            "lowercase": np.array(cfg.lowercase, dtype=np.bool_),
            "token_pattern": np.array(
                cfg.token_pattern, dtype=f"<U{max(1, len(cfg.token_pattern))}"
            ),
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

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Vectorizer:
        """Rebuild a fitted vectorizer from ``to_arrays()`` output (or a loaded .npz).

        Keys it does not know are ignored.

        Raises
        ------
        ModelFileError
            When an array is missing, has the wrong type or shape, or the arrays
            contradict each other.
        """
        reader = _ArrayReader(arrays)
        version = reader.scalar("format_version", "i")
        if version != _FORMAT_VERSION:
            raise ModelFileError(
                f"vectorizer format version {version} is not supported (this topicnmf "
                f"reads version {_FORMAT_VERSION}); refit the model or upgrade topicnmf"
            )
        ngram = reader.vector("ngram_range", "i")
        if ngram.shape != (2,):
            raise ModelFileError(
                f"vectorizer array 'ngram_range' must hold 2 integers, has shape {ngram.shape}"
            )
        max_features = reader.scalar("max_features", "i")
        norm = reader.scalar("norm", "U")
        try:
            config = VectorizerConfig(
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
        vectorizer = cls(config)
        expected = vectorizer._idf(df, n_documents)
        if not np.allclose(idf, expected, rtol=1e-12, atol=0.0):
            raise ModelFileError(
                "the model's idf values do not match its document frequencies; the file is corrupt"
            )
        vectorizer.vocabulary = vocabulary
        vectorizer.idf = idf
        vectorizer.document_frequency = df
        vectorizer.n_documents = n_documents
        vectorizer._fitted = True
        return vectorizer


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


def _select_columns(
    counts: sp.csr_matrix, column: np.ndarray, n_columns: int, merge: bool = False
) -> sp.csr_matrix:
    """Renumber columns by ``column`` (old id -> new id, -1 = drop)."""
    new = column[counts.indices]
    keep = new >= 0
    kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    indptr = kept_before[counts.indptr]
    index_dtype = np.int32 if indptr[-1] < 2**31 else np.int64
    out = sp.csr_matrix(
        (counts.data[keep], new[keep].astype(index_dtype), indptr.astype(index_dtype)),
        shape=(counts.shape[0], n_columns),
    )
    if merge:
        out.sum_duplicates()
    else:
        out.has_sorted_indices = False
        out.sort_indices()
    return out
