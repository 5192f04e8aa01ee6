"""Tokenizers: texts in, tokens out, as NumPy arrays rather than one Python string each.

A tokenizer turns a list of texts into one or more :class:`Tokens` batches. A token of 1 to
16 NUL-free ASCII characters is *packed* into two ``uint64`` words (:func:`pack`), so the
counting stage can look it up in a NumPy hash table without ever building its string; any
other token is kept as a ``str``. Two tokenizers exist:

* :class:`RunTokenizer`, for the patterns whose matches are exactly the maximal runs of at
  least N word characters (:data:`RUN_PATTERNS`, scikit-learn's default among them): it
  classifies every character with NumPy and cuts the runs out, packing them directly.
* :class:`RegexTokenizer`, for any other pattern: ``re.findall`` text by text, as
  scikit-learn does; every token is a string.

The tool's own word rule, the CJK tokenizers and the dropping of number-only and short
tokens are in :mod:`~topicnmf.vectorize.words`; :func:`make_tokenizer` picks the tokenizer
of a configuration. A tokenizer that drops tokens marks, in :attr:`Tokens.breaks`, the kept
tokens that came right after a dropped one (so that n-grams and phrases do not span the
gap), and counts what it dropped.

A text longer than :data:`PIECE_CHARS` characters is tokenized piece by piece so that the
temporary arrays stay a few megabytes whatever the text's size: :class:`RunTokenizer` cuts
it after whitespace (never inside a token, nor where lowercasing looks at the neighbors;
a text without whitespace after a non-word character), :class:`RegexTokenizer` takes its
matches a batch at a time. The batches of such
a text come one after the other, each marked as the continuation of the previous one
(:attr:`Tokens.continues`), and the counting stage adds them up into one row.

New tokenizers (other scripts, other token rules) implement the same small protocol:
``tokenize(texts)`` yielding ``Tokens``, and ``packs`` saying whether their tokens may come
packed (the stop words and the vocabulary are then packed the same way).
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from topicnmf.config import VectorizerConfig

from .addresses import address_spans, overlapping

# Token patterns whose matches are exactly "maximal runs of word characters of at least
# N characters", mapped to N.  (``\b\w\w+\b`` and ``\w\w+`` match the same strings: the
# greedy ``\w+`` always runs to the end of the run, and a match can only start where a
# run starts.)
RUN_PATTERNS: dict[str, int] = {
    r"(?u)\b\w\w+\b": 2,
    r"\b\w\w+\b": 2,
    r"(?u)\w\w+": 2,
    r"\w\w+": 2,
    r"(?u)\b\w+\b": 1,
    r"\b\w+\b": 1,
    r"(?u)\w+": 1,
    r"\w+": 1,
}

# A text longer than this is tokenized in pieces of about this many characters: the
# NumPy tokenizer needs a few bytes of temporary arrays per character.
PIECE_CHARS = 1 << 20


@dataclass
class Tokens:
    """Tokens of a batch of texts.

    A packable token (:func:`packable`) is in ``key1``/``key2`` (see :func:`pack`); any
    other token has ``key1 == 0`` and is kept as a string in ``strs`` (in token order).
    Tokens of row ``j`` are ``indptr[j]:indptr[j + 1]``.  When ``continues`` is true,
    row 0 is the rest of the last text of the previous batch, not a new text.
    """

    indptr: np.ndarray
    key1: np.ndarray
    key2: np.ndarray
    strs: list[str]
    continues: bool = False
    # per token: a dropped token stood between it and the previous kept token (None: none
    # dropped, or a tokenizer that drops nothing)
    breaks: np.ndarray | None = None
    n_numbers: int = 0  # number-only tokens dropped
    n_short: int = 0  # one-character tokens dropped
    n_addresses: int = 0  # tokens inside e-mail and web addresses dropped
    ends_removed: bool = False  # the batch's last token was dropped


class Tokenizer(Protocol):
    """What the counting stage needs from a tokenizer."""

    packs: bool  # whether tokens may come packed

    def tokenize(self, texts: list[str]) -> Iterator[Tokens]:
        """Tokens of ``texts`` in order, in one or more batches."""
        ...


def make_tokenizer(config: VectorizerConfig) -> Tokenizer:
    """The tokenizer for a configuration: the word rule's, a CJK one, or for a pattern the
    NumPy one when the pattern allows it (and numbers and addresses are kept), else ``re``."""
    if config.token_pattern is None:
        from .words import make_word_tokenizer

        return make_word_tokenizer(config)
    min_len = RUN_PATTERNS.get(config.token_pattern)
    if min_len is not None and config.keep_numbers and config.keep_addresses:
        return RunTokenizer(config.lowercase, min_len)
    return RegexTokenizer(
        config.token_pattern, config.lowercase, config.keep_numbers, config.keep_addresses
    )


# ------------------------------------------------------------------------ packed keys


def packable(token: str) -> bool:
    """Whether a token can be packed into two words (rather than kept as a string)."""
    return 0 < len(token) <= 16 and token.isascii() and "\x00" not in token


def pack(token: str) -> tuple[int, int]:
    """The two words of a packable token."""
    # Bytes in memory order (little-endian words) with zero padding: injective on
    # NUL-free ASCII strings of 1..16 bytes, and the first word is never 0, which the
    # hash tables use for "empty".
    raw = token.encode("ascii").ljust(16, b"\x00")
    return int.from_bytes(raw[:8], "little"), int.from_bytes(raw[8:], "little")


def unpack(key1: np.ndarray, key2: np.ndarray) -> list[str]:
    """The tokens of packed keys."""
    words = np.empty((len(key1), 2), dtype="<u8")
    words[:, 0] = key1
    words[:, 1] = key2
    # The 'S16' view drops the zero padding when converted to Python bytes.
    return [b.decode("ascii") for b in words.view("S16").ravel().tolist()]


def _by_length(
    texts: list[str],
    batch: Callable[[list[str]], Tokens],
    long: Callable[[str], Iterator[Tokens]],
) -> Iterator[Tokens]:
    """``batch`` over each run of ordinary texts, ``long`` for each text longer than
    :data:`PIECE_CHARS`, in order."""
    start = 0
    for i, text in enumerate(texts):
        if len(text) > PIECE_CHARS:
            if start < i:
                yield batch(texts[start:i])
            yield from long(text)
            start = i + 1
    if start < len(texts):
        yield batch(texts[start:])


# ------------------------------------------------------------------ the NumPy tokenizer

# 256-byte tables for ``bytes.translate``: word characters ([0-9A-Za-z_], which is what
# ``\w`` matches among ASCII characters) map to themselves (or their lowercase),
# everything else to a space.  One C pass then does both lowercasing and classification.
_ASCII_WORD = np.zeros(128, dtype=bool)
for _c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz":
    _ASCII_WORD[_c] = True
_TABLE_KEEP = bytes(c if c < 128 and _ASCII_WORD[c] else 32 for c in range(256))
_TABLE_LOWER = bytes(
    (c + 32 if 65 <= c <= 90 else c) if c < 128 and _ASCII_WORD[c] else 32 for c in range(256)
)
# For Latin-1 text (already lowercased with str.lower when asked): word characters,
# ASCII or not, map to themselves, everything else to a space.
_LATIN1_KEEP = bytes(c if chr(c).isalnum() or c == 95 else 32 for c in range(256))
del _c

# _KEEP1[n] keeps the first min(n, 8) bytes of a little-endian word, _KEEP2[n] the
# first n - 8 (for 8 < n <= 16).
_KEEP1 = np.array([(1 << (8 * min(n, 8))) - 1 for n in range(17)], dtype=np.uint64)
_KEEP2 = np.array([(1 << (8 * max(n - 8, 0))) - 1 for n in range(17)], dtype=np.uint64)

# Where a long text may be cut: whitespace, else (a text without any) a non-word character.
_LAST_SPACE = re.compile(r"(?s).*\s")
_LAST_NONWORD = re.compile(r"(?s).*\W")
_NONWORD = re.compile(r"\W")


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


def _classify(text: str, lowercase: bool) -> tuple[str, np.ndarray, np.ndarray, np.ndarray | None]:
    """The text's characters as bytes, which of them are word characters, and where the
    non-ASCII ones are (None: pure ASCII).

    ASCII and Latin-1 text take one byte per character; other text is classified by code
    point, and its non-ASCII characters become arbitrary bytes (tokens holding one are
    never packed).  For ASCII text the returned string is the lowercased one.
    """
    if text.isascii():
        raw = text.encode("ascii").translate(_TABLE_LOWER if lowercase else _TABLE_KEEP)
        chars = np.frombuffer(raw, dtype=np.uint8)
        return raw.decode("ascii"), chars, chars != 32, None
    try:  # one byte per character when the text fits in Latin-1 (often the case)
        raw = text.encode("latin-1").translate(_LATIN1_KEEP)
    except UnicodeEncodeError:
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        return text, codes.astype(np.uint8), _is_word(codes), np.flatnonzero(codes >= 128)
    chars = np.frombuffer(raw, dtype=np.uint8)
    return text, chars, chars != 32, np.flatnonzero(chars >= 128)


def tokenize_runs(texts: list[str], lowercase: bool, min_len: int) -> Tokens:
    """Tokenize as ``re.findall`` with a "runs of >= min_len word characters" pattern.

    The texts are joined with spaces (never part of a token) and handled as one NumPy
    array of characters.
    """
    if lowercase and not all(map(str.isascii, texts)):
        # str.lower may change the length of non-ASCII text, so lowercase text by text
        # (as scikit-learn does) before joining and computing offsets.
        texts = [t.lower() for t in texts]
    # A leading space so every token has a non-word character before it, and 17 after
    # it so the 16-byte reads below never run past the end.
    text, chars, word, nonascii = _classify(" " + " ".join(texts) + " " * 17, lowercase)
    # Runs of word characters start and end where `word` flips; the padding makes the
    # flips alternate start, end, start, end...
    flips = np.flatnonzero(word[1:] != word[:-1]) + 1
    del word
    starts = flips[0::2]
    lengths = flips[1::2] - starts
    if min_len > 1:
        long_enough = lengths >= min_len
        starts, lengths = starts[long_enough], lengths[long_enough]

    return Tokens(*spans_to_tokens(texts, text, chars, starts, lengths, nonascii))


def spans_to_tokens(
    texts: list[str],
    text: str,
    chars: np.ndarray,
    starts: np.ndarray,
    lengths: np.ndarray,
    nonascii: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """``(indptr, key1, key2, strings)`` of the token spans of ``text`` (``texts`` joined by
    one separator each): ASCII tokens of at most 16 characters packed into two integer keys,
    the others kept as strings. Shared by the scikit-learn pattern and the word rule."""
    text_starts = np.ones(len(texts), dtype=np.int64)
    np.cumsum([len(t) + 1 for t in texts[:-1]], out=text_starts[1:])
    text_starts[1:] += 1
    indptr = np.append(np.searchsorted(starts, text_starts), len(starts)).astype(np.int64)
    fits = lengths <= 16
    if nonascii is not None and len(nonascii):
        # The token around each non-ASCII character (if any) is kept as a string.
        token = np.searchsorted(starts, nonascii, side="right") - 1
        inside = token >= 0
        token, position = token[inside], nonascii[inside]
        fits[token[position < starts[token] + lengths[token]]] = False
    key1, key2 = _pack_runs(chars, starts, lengths, fits)
    rest = np.flatnonzero(~fits)
    begin = starts[rest]
    strs = [
        text[s:e] for s, e in zip(begin.tolist(), (begin + lengths[rest]).tolist(), strict=True)
    ]
    return indptr, key1, key2, strs


def _pack_runs(
    chars: np.ndarray, starts: np.ndarray, lengths: np.ndarray, fits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The packed keys of the runs where ``fits`` (zeros elsewhere)."""
    every = bool(fits.all())
    at = starts if every else starts[fits]
    size = lengths if every else lengths[fits]
    # Every byte offset as the start of a uint64 (an unaligned view): one gather per
    # word instead of eight byte gathers.
    words = np.ndarray((len(chars) - 7,), dtype="<u8", buffer=chars, strides=(1,))
    if every:
        key1 = words[at] & _KEEP1[size]
    else:
        key1 = np.zeros(len(starts), dtype=np.uint64)
        key1[fits] = words[at] & _KEEP1[size]
    key2 = np.zeros(len(starts), dtype=np.uint64)
    two = np.flatnonzero(size > 8)
    if len(two):
        key2[two if every else np.flatnonzero(fits)[two]] = words[at[two] + 8] & _KEEP2[size[two]]
    return key1, key2


def _in_order(parts: list[Tokens], order: list[int]) -> Tokens:
    """Put together batches whose rows, one after the other, are texts ``order``."""
    lengths = np.concatenate([np.diff(p.indptr) for p in parts])
    seg_start = np.concatenate(
        [p.indptr[:-1] + offset for p, offset in zip(parts, _offsets(parts), strict=True)]
    )
    where = np.argsort(np.asarray(order, dtype=np.int64), kind="stable")  # text -> row
    indptr = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(lengths[where], out=indptr[1:])
    # token i of the result comes from position take[i] of the parts put together
    take = np.repeat(seg_start[where] - indptr[:-1], lengths[where]) + np.arange(indptr[-1])
    key1 = np.concatenate([p.key1 for p in parts])[take]
    key2 = np.concatenate([p.key2 for p in parts])[take]
    strs = list(itertools.chain.from_iterable(p.strs for p in parts))
    if strs:
        # strings in the order of their new positions
        old_positions = np.flatnonzero(np.concatenate([p.key1 for p in parts]) == 0)
        new_position = np.empty(int(indptr[-1]), dtype=np.int64)
        new_position[take] = np.arange(len(take))
        strs = [strs[i] for i in np.argsort(new_position[old_positions]).tolist()]
    breaks = None
    if any(p.breaks is not None for p in parts):
        breaks = np.concatenate(
            [np.zeros(len(p.key1), bool) if p.breaks is None else p.breaks for p in parts]
        )[take]
    return Tokens(
        indptr,
        key1,
        key2,
        strs,
        breaks=breaks,
        n_numbers=sum(p.n_numbers for p in parts),
        n_short=sum(p.n_short for p in parts),
        n_addresses=sum(p.n_addresses for p in parts),
    )


def _offsets(parts: list[Tokens]) -> list[int]:
    sizes = [int(p.indptr[-1]) for p in parts]
    return [0, *itertools.accumulate(sizes)][:-1]


def _cut(text: str, start: int, size: int) -> int:
    """Where the piece of ``text`` starting at ``start`` should end (about ``size`` on)."""
    end = start + size
    if end >= len(text):
        return len(text)
    # After whitespace: it is never part of a token, and lowercasing (the Greek final
    # sigma) never looks across it.  A text without whitespace is cut after a non-word
    # character; one long run of word characters stays whole.
    for last in (_LAST_SPACE, _LAST_NONWORD):
        found = last.match(text, start, end)
        if found is not None and found.end() > start:
            return found.end()
    found = _NONWORD.search(text, end)
    return len(text) if found is None else found.end()


class RunTokenizer:
    """The NumPy tokenizer for :data:`RUN_PATTERNS`."""

    packs = True

    def __init__(self, lowercase: bool, min_len: int) -> None:
        self.lowercase = lowercase
        self.min_len = min_len

    def tokenize(self, texts: list[str]) -> Iterator[Tokens]:
        """Tokens of ``texts``; a text longer than :data:`PIECE_CHARS` in pieces."""
        return _by_length(texts, self._batch, self._long)

    def _batch(self, texts: list[str]) -> Tokens:
        ascii_flags = list(map(str.isascii, texts))
        if all(ascii_flags) or not any(ascii_flags):
            return tokenize_runs(texts, self.lowercase, self.min_len)
        # The NumPy tokenizer is much faster on pure ASCII (one byte per character, no
        # code point classification), so a few non-ASCII texts should not push a whole
        # batch onto the slower path: tokenize the two kinds apart, then restore the order.
        order = [i for i, f in enumerate(ascii_flags) if f]
        n_ascii = len(order)
        order += [i for i, f in enumerate(ascii_flags) if not f]
        parts = [
            tokenize_runs([texts[i] for i in order[:n_ascii]], self.lowercase, self.min_len),
            tokenize_runs([texts[i] for i in order[n_ascii:]], self.lowercase, self.min_len),
        ]
        return _in_order(parts, order)

    def _long(self, text: str) -> Iterator[Tokens]:
        start = 0
        while start < len(text):
            end = _cut(text, start, PIECE_CHARS)
            tokens = tokenize_runs([text[start:end]], self.lowercase, self.min_len)
            tokens.continues = start > 0
            yield tokens
            start = end


# ------------------------------------------------------------------ the regex tokenizer


class RegexTokenizer:
    """``re.findall`` text by text, for any token pattern (tokens come as strings)."""

    packs = False

    # matches of a long text are taken this many at a time
    batch_tokens = 1 << 16

    def __init__(
        self, pattern: str, lowercase: bool, keep_numbers: bool = True, keep_addresses: bool = True
    ) -> None:
        self.pattern = re.compile(pattern)
        self.lowercase = lowercase
        self.keep_numbers = keep_numbers
        self.keep_addresses = keep_addresses
        self._group = 1 if self.pattern.groups == 1 else 0

    def tokenize(self, texts: list[str]) -> Iterator[Tokens]:
        """Tokens of ``texts``; the matches of a text longer than :data:`PIECE_CHARS` in
        batches."""
        return _by_length(texts, self._batch, self._long)

    def _batch(self, texts: list[str]) -> Tokens:
        findall = self.pattern.findall
        if self.lowercase:
            texts = [t.lower() for t in texts]
        if self.keep_addresses:
            return _string_tokens([findall(t) for t in texts], self.keep_numbers)
        token_lists, flag_lists = [], []
        for text in texts:
            spans = address_spans(text)
            if not len(spans[0]):
                token_lists.append(findall(text))
                flag_lists.append(None)
                continue
            tokens, flags = self._matches(self.pattern.finditer(text), spans)
            token_lists.append(tokens)
            flag_lists.append(flags)
        return _string_tokens(token_lists, self.keep_numbers, flag_lists)

    def _matches(
        self, matches: Iterable[re.Match[str]], spans: tuple[np.ndarray, np.ndarray] | None
    ) -> tuple[list[str], list[bool]]:
        """The tokens of ``matches``, and which of them overlap an address (none when
        ``spans`` is None)."""
        group = self._group
        # findall gives "" for a group that did not take part; group() gives None
        if spans is None:
            return [m.group(group) or "" for m in matches], []
        found = [(m.span(), m.group(group) or "") for m in matches]
        where = np.array([span for span, _ in found], dtype=np.int64).reshape(-1, 2)
        flags = overlapping(where[:, 0], where[:, 1], spans)
        return [token for _, token in found], flags.tolist()

    def _long(self, text: str) -> Iterator[Tokens]:
        # the pattern may look anywhere in the text (anchors, lookarounds, matches that
        # span whitespace), so the text is not cut: its matches are taken in batches
        if self.lowercase:
            text = text.lower()
        spans = None if self.keep_addresses else _spans_by_piece(text)
        matches = self.pattern.finditer(text)
        continues = False
        ended_removed = False
        while True:
            batch, flags = self._matches(itertools.islice(matches, self.batch_tokens), spans)
            if continues and not batch:
                return
            tokens = _string_tokens([batch], self.keep_numbers, None if spans is None else [flags])
            if ended_removed and tokens.breaks is not None and len(tokens.breaks):
                tokens.breaks[0] = True
            tokens.continues = continues
            ended_removed = tokens.ends_removed
            yield tokens
            continues = True


def _spans_by_piece(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The address spans of a long text, found piece by piece (pieces end after whitespace,
    which no address holds), so that the anchors of one piece at a time are in memory."""
    starts, ends = [], []
    start = 0
    while start < len(text):
        end = _cut(text, start, PIECE_CHARS)
        a, b = address_spans(text[start:end])
        starts.append(a + start)
        ends.append(b + start)
        start = end
    if not starts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(starts), np.concatenate(ends)


def is_number(token: str) -> bool:
    """Whether a token is made only of digits (Unicode category N: ``2010``, ``½``, ``Ⅻ``)."""
    if token.isascii():
        return token.isdigit()
    return bool(token) and all(unicodedata.category(c)[0] == "N" for c in token)


def _string_tokens(
    token_lists: list[list[str]],
    keep_numbers: bool = True,
    addresses: list[list[bool] | None] | None = None,
) -> Tokens:
    """Tokens of token strings, per text; ``addresses`` marks (per text, or None for none)
    the tokens that overlap an address, which are dropped."""
    n_numbers = 0
    n_addresses = 0
    breaks = None
    ends_removed = False
    if not keep_numbers or addresses is not None:
        kept_lists, break_lists = [], []
        flag_lists = addresses if addresses is not None else [None] * len(token_lists)
        for tokens, flags in zip(token_lists, flag_lists, strict=True):
            kept, gaps, gap = [], [], False
            for i, token in enumerate(tokens):
                if flags is not None and flags[i]:
                    gap = True
                    n_addresses += 1
                    continue
                if not keep_numbers and is_number(token):
                    gap = True
                    n_numbers += 1
                    continue
                kept.append(token)
                gaps.append(gap)
                gap = False
            kept_lists.append(kept)
            break_lists.append(gaps)
            ends_removed = gap
        token_lists = kept_lists
        breaks = np.fromiter(itertools.chain.from_iterable(break_lists), dtype=bool)
    indptr = np.zeros(len(token_lists) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in token_lists], out=indptr[1:])
    strs = list(itertools.chain.from_iterable(token_lists))
    zeros = np.zeros(len(strs), dtype=np.uint64)
    return Tokens(
        indptr, zeros, zeros, strs, breaks=breaks, n_numbers=n_numbers,
        n_addresses=n_addresses, ends_removed=ends_removed,
    )  # fmt: skip
