"""The word rule, and the tokenizers for Chinese, Japanese and Korean.

The word rule (``VectorizerConfig.token_pattern=None``, the tool's default) reads a text in
Unicode form NFC, lowercased, with ``’`` as ``'``, and takes as tokens the runs of letters,
marks and digits of any script (Unicode categories L, M and N; ``_`` is not a word
character, so phrases joined with ``_`` can never be confused with a token). An apostrophe
between two such characters belongs to the word: ``don't`` is one token, which the stop
list then matches whole. When the part of a word before its first apostrophe (French
``l'``, ``qu'``) or from its last one (English ``'s``, ``'ve``) is a stop word, that part is
removed: ``l'homme`` -> ``homme``, ``government's`` -> ``government``, ``we've`` -> ``we``.
Tokens of one character are then dropped, and so are the tokens made only of digits unless
``keep_numbers``. Every dropped token is counted, and the next kept token is marked as
coming after a gap (:attr:`~topicnmf.vectorize.tokenizer.Tokens.breaks`).

Like scikit-learn's default pattern, the rule is computed with NumPy over whole batches:
every character is classified through a table (``bytes.translate`` for ASCII and Latin-1
text, a table of the Basic Multilingual Plane otherwise), runs are cut where the class
flips, and the words with an apostrophe (a few in a hundred) are looked at one by one.

``char-bigram`` follows the same rule, except that runs of Han, kana and Hangul characters
are not words but are cut into overlapping pairs of characters (a run of one character is
one token), as Lucene's CJK analyzer does: Chinese and Japanese need no dictionary then.
``jieba`` asks the jieba segmenter (an optional package) for the words of each run of CJK
characters and reads the rest of the text by the word rule.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator

import numpy as np

from topicnmf.config import VectorizerConfig
from topicnmf.errors import VectorizerError

from .addresses import address_spans, outside
from .tokenizer import PIECE_CHARS, Tokens, _by_length, _cut, _in_order, spans_to_tokens

# Character classes of the word rule.
OTHER, LETTER, DIGIT, APOSTROPHE, CJK, UNDERSCORE = 0, 1, 2, 3, 4, 5

# Code point ranges read as CJK by the char-bigram and jieba tokenizers: Hangul Jamo, the
# CJK radicals, kana, bopomofo, Hangul compatibility jamo, the ideograph blocks, Hangul
# syllables, compatibility ideographs, halfwidth kana, and the ideograph extensions.
CJK_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029),
    (0x3040, 0x30FF), (0x3100, 0x312F), (0x3130, 0x318F), (0x31A0, 0x31FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7AF),
    (0xD7B0, 0xD7FF), (0xF900, 0xFAFF), (0xFF66, 0xFF9F), (0x20000, 0x3FFFF),
)  # fmt: skip
_CJK_RUN = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in CJK_RANGES) + "]+")

# The least length of a kept token, in code points (CJK pairs and single CJK characters of
# char-bigram are exempt).
MIN_CHARS = 2


def _class_of(c: int) -> int:
    if c == 0x27:
        return APOSTROPHE
    if c == 0x5F:
        return UNDERSCORE
    category = unicodedata.category(chr(c))
    if category[0] in "LM":
        return LETTER
    if category[0] == "N":
        return DIGIT
    return OTHER


@functools.cache
def _bmp_classes(cjk: bool) -> np.ndarray:
    """The class of each code point of the Basic Multilingual Plane."""
    table = np.array([_class_of(c) for c in range(0x10000)], dtype=np.uint8)
    if cjk:
        for low, high in CJK_RANGES:
            if low < 0x10000:
                table[low : min(high, 0xFFFF) + 1] = CJK
    return table


@functools.cache
def _byte_table(latin1: bool, cjk: bool) -> bytes:
    """``bytes.translate`` table from ASCII (or Latin-1) bytes to their classes."""
    classes = _bmp_classes(cjk)
    return bytes(int(classes[c]) if latin1 or c < 128 else OTHER for c in range(256))


_ASCII_LOWER = bytes(c + 32 if 65 <= c <= 90 else c for c in range(256))


def _classes(codes: np.ndarray, cjk: bool) -> np.ndarray:
    out = _bmp_classes(cjk)[np.minimum(codes, 0xFFFF)]
    above = np.flatnonzero(codes > 0xFFFF)
    if len(above):
        uniq, inverse = np.unique(codes[above], return_inverse=True)
        values = [
            CJK if cjk and any(a <= c <= b for a, b in CJK_RANGES) else _class_of(c)
            for c in uniq.tolist()
        ]
        out[above] = np.array(values, dtype=np.uint8)[inverse]
    return out


def normalize(text: str, lowercase: bool) -> str:
    """A text (or a stop word) in the form the word rule reads it: NFC, lowercased when
    asked, typographic apostrophes as ``'``."""
    if text.isascii():
        return text.lower() if lowercase else text
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if lowercase:
        text = text.lower()
    return text.replace("\u2019", "'")


@functools.cache
def _clitics(stop_words: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """Stop words that end in an apostrophe (prefixes) and that start with one (suffixes)."""
    prefixes = frozenset(w for w in stop_words if len(w) > 1 and w.find("'") == len(w) - 1)
    suffixes = frozenset(w for w in stop_words if len(w) > 1 and w.rfind("'") == 0)
    return prefixes, suffixes


class WordRule:
    """Tokenize by the word rule; see the module docstring.

    Parameters
    ----------
    lowercase, keep_numbers, keep_addresses : bool
        As in :class:`~topicnmf.config.VectorizerConfig`.
    stop_words : tuple of str
        Normalized (:func:`normalize`); its entries with an apostrophe at one end are the
        clitics removed from words.
    bigrams : bool
        Cut runs of CJK characters into pairs (char-bigram).
    """

    packs = True

    def __init__(
        self,
        lowercase: bool,
        keep_numbers: bool,
        stop_words: tuple[str, ...],
        bigrams: bool,
        keep_addresses: bool = True,
    ) -> None:
        self.lowercase = lowercase
        self.keep_numbers = keep_numbers
        self.keep_addresses = keep_addresses
        self.prefixes, self.suffixes = _clitics(stop_words)
        self.bigrams = bigrams

    def tokenize(self, texts: list[str]) -> Iterator[Tokens]:
        """Tokens of ``texts``; a text longer than :data:`PIECE_CHARS` in pieces."""
        return _by_length(texts, self._batch, self._long)

    def _prepare(self, text: str) -> str:
        return normalize(text, self.lowercase)

    def _batch(self, texts: list[str]) -> Tokens:
        texts = [self._prepare(t) for t in texts]
        ascii_flags = list(map(str.isascii, texts))
        if all(ascii_flags) or not any(ascii_flags):
            return self.tokens(texts)
        # as for scikit-learn's pattern: ASCII texts take the fast path together
        order = [i for i, f in enumerate(ascii_flags) if f]
        n_ascii = len(order)
        order += [i for i, f in enumerate(ascii_flags) if not f]
        parts = [
            self.tokens([texts[i] for i in order[:n_ascii]]),
            self.tokens([texts[i] for i in order[n_ascii:]]),
        ]
        return _in_order(parts, order)

    def _long(self, text: str) -> Iterator[Tokens]:
        # each piece is normalized alone (pieces end after whitespace, which neither NFC
        # nor lowercasing looks across), so no copy of the whole text is made
        start = 0
        ended_removed = False
        while start < len(text):
            end = _cut(text, start, PIECE_CHARS)
            tokens = self.tokens([self._prepare(text[start:end])])
            if ended_removed and tokens.breaks is not None and len(tokens.breaks):
                tokens.breaks[0] = True
            tokens.continues = start > 0
            ended_removed = tokens.ends_removed or (ended_removed and not len(tokens.key1))
            yield tokens
            start = end

    def tokens(self, texts: list[str]) -> Tokens:
        """Tokenize normalized texts (one NumPy pass over them all)."""
        # A leading space so every run has a non-word character before it, 17 after it so
        # that the 16-byte reads of packing never run past the end.
        text = " " + " ".join(texts) + " " * 17
        chars, cls, nonascii = self._classify(text)
        word = (cls == LETTER) | (cls == DIGIT)
        between = word[:-2] & word[2:]
        apostrophe = (cls[1:-1] == APOSTROPHE) & between
        word[1:-1] |= apostrophe | ((cls[1:-1] == UNDERSCORE) & between)
        flips = np.flatnonzero(word[1:] != word[:-1]) + 1
        starts, ends = flips[0::2], flips[1::2]
        if apostrophe.any():
            starts, ends = self._clitics(text, apostrophe, starts, ends)
        if self.keep_addresses:
            address = np.zeros(len(starts), dtype=bool)
        else:
            cut_starts, cut_ends, address = outside(starts, ends, address_spans(text))
            # a cut word loses the apostrophes and underscores at its new ends ("o'" of
            # "o'brien@..." cannot be left, "l'" of "l'http://...")
            for r in np.flatnonzero(((cut_starts != starts) | (cut_ends != ends)) & ~address):
                s, e = int(cut_starts[r]), int(cut_ends[r])
                while s < e and text[s] in "'_":
                    s += 1
                while e > s and text[e - 1] in "'_":
                    e -= 1
                cut_starts[r], cut_ends[r] = s, e
            address |= cut_ends <= cut_starts
            starts, ends = cut_starts, cut_ends
        # number-only: digits, and the underscores that group them (1_000)
        digits = np.zeros(len(cls) + 1, dtype=np.int32)
        np.cumsum((cls == DIGIT) | (cls == UNDERSCORE), out=digits[1:])
        lengths = ends - starts
        number = (digits[ends] - digits[starts]) == lengths
        dropped_number = number & ~np.bool_(self.keep_numbers) & ~address
        dropped_short = (lengths < MIN_CHARS) & ~dropped_number & ~address
        dropped = dropped_number | dropped_short | address
        if self.bigrams:
            # (an address is ASCII: no CJK character is ever inside one)
            starts, lengths, dropped = _with_cjk_pairs(cls == CJK, starts, lengths, dropped)
        return _assemble(
            texts, text, chars, nonascii, starts, lengths, dropped,
            int(dropped_number.sum()), int(dropped_short.sum()), int(address.sum()),
        )  # fmt: skip

    def _classify(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The text's characters as bytes (arbitrary for non-ASCII ones), their classes, and
        where the non-ASCII ones are (None: pure ASCII)."""
        if text.isascii():
            raw = text.encode("ascii")
            if self.lowercase:
                raw = raw.translate(_ASCII_LOWER)
            cls = raw.translate(_byte_table(False, self.bigrams))
            return np.frombuffer(raw, np.uint8), np.frombuffer(cls, np.uint8).copy(), None
        try:  # one byte per character when the text fits in Latin-1 (often the case)
            raw = text.encode("latin-1")
        except UnicodeEncodeError:
            codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            cls = _classes(codes, self.bigrams)
            return codes.astype(np.uint8), cls, np.flatnonzero(codes >= 128)
        chars = np.frombuffer(raw, np.uint8)
        cls = np.frombuffer(raw.translate(_byte_table(True, self.bigrams)), np.uint8).copy()
        return chars, cls, np.flatnonzero(chars >= 128)

    def _clitics(
        self, text: str, inner: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Remove the stop-word clitics of the words that hold an apostrophe."""
        if not (self.prefixes or self.suffixes):
            return starts, ends
        count = np.zeros(len(inner) + 2, dtype=np.int32)
        np.cumsum(inner, out=count[2:])  # count[i]: inner apostrophes before position i
        which = np.flatnonzero(count[ends] > count[starts])
        starts, ends = starts.copy(), ends.copy()
        prefixes, suffixes = self.prefixes, self.suffixes
        for r in which.tolist():
            s, e = int(starts[r]), int(ends[r])
            word = text[s:e]
            first = word.find("'")
            if word[: first + 1] in prefixes:
                s += first + 1
                word = word[first + 1 :]
            last = word.rfind("'")
            if last > 0 and word[last:] in suffixes:
                e = s + last
            starts[r], ends[r] = s, e
        return starts, ends


def _with_cjk_pairs(
    cjk: np.ndarray, starts: np.ndarray, lengths: np.ndarray, dropped: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add the tokens of the CJK runs (overlapping pairs; a lone character alone) to the
    word tokens, in text order."""
    pair = np.flatnonzero(cjk[:-1] & cjk[1:])
    flips = np.flatnonzero(cjk[1:] != cjk[:-1]) + 1
    run_starts, run_ends = flips[0::2], flips[1::2]
    single = run_starts[run_ends - run_starts == 1]
    if not len(pair) and not len(single):
        return starts, lengths, dropped
    all_starts = np.concatenate((starts, pair, single))
    all_lengths = np.concatenate(
        (lengths, np.full(len(pair), 2, np.int64), np.ones(len(single), np.int64))
    )
    all_dropped = np.concatenate((dropped, np.zeros(len(pair) + len(single), bool)))
    order = np.argsort(all_starts, kind="stable")
    return all_starts[order], all_lengths[order], all_dropped[order]


def _assemble(
    texts: list[str],
    text: str,
    chars: np.ndarray,
    nonascii: np.ndarray | None,
    starts: np.ndarray,
    lengths: np.ndarray,
    dropped: np.ndarray,
    n_numbers: int,
    n_short: int,
    n_addresses: int = 0,
) -> Tokens:
    """Tokens (packed where they fit) of the kept runs, with the gaps the dropped ones leave."""
    ends_removed = bool(len(dropped)) and bool(dropped[-1])
    # a kept token comes after a gap when a dropped one lies between it and the kept one
    # before it: the count of dropped tokens so far grew
    dropped_before = np.cumsum(dropped)
    keep = ~dropped
    starts, lengths = starts[keep], lengths[keep]
    seen = dropped_before[keep]
    breaks = np.empty(len(seen), dtype=bool)
    if len(seen):
        breaks[0] = seen[0] > 0
        breaks[1:] = seen[1:] > seen[:-1]
    indptr, key1, key2, strs = spans_to_tokens(texts, text, chars, starts, lengths, nonascii)
    return Tokens(
        indptr, key1, key2, strs, breaks=breaks, n_numbers=n_numbers, n_short=n_short,
        n_addresses=n_addresses, ends_removed=ends_removed,
    )  # fmt: skip


class JiebaRule(WordRule):
    """The word rule, with the runs of CJK characters cut into words by jieba."""

    packs = True

    def __init__(
        self,
        lowercase: bool,
        keep_numbers: bool,
        stop_words: tuple[str, ...],
        keep_addresses: bool = True,
    ) -> None:
        super().__init__(lowercase, keep_numbers, stop_words, False, keep_addresses)
        self._cut = jieba_cut()

    def _prepare(self, text: str) -> str:
        # spaces around the words of each run: the word rule then cuts them apart
        text = normalize(text, self.lowercase)
        return _CJK_RUN.sub(lambda m: " " + " ".join(self._cut(m.group())) + " ", text)


def jieba_cut() -> object:
    """jieba's ``lcut``, loaded quietly; a :class:`VectorizerError` when it is missing."""
    try:
        import jieba
    except ImportError:
        raise VectorizerError(
            "the 'jieba' tokenizer needs the jieba package, which is not installed "
            "(pip install 'topicnmf[zh]'), or use the 'char-bigram' tokenizer",
            param="tokenizer",
        ) from None
    import logging

    jieba.setLogLevel(logging.WARNING)
    return jieba.lcut


def check_tokenizer(config: VectorizerConfig) -> None:
    """Raise :class:`VectorizerError` when the tokenizer of ``config`` cannot run here."""
    if config.tokenizer == "jieba":
        import importlib.util

        if importlib.util.find_spec("jieba") is None:
            jieba_cut()


def stop_words_as_read(config: VectorizerConfig) -> tuple[str, ...]:
    """The stop words in the form the tokenizer gives tokens (the word rule normalizes)."""
    if config.token_pattern is not None:
        return config.stop_words
    return tuple(sorted({normalize(w, config.lowercase) for w in config.stop_words}))


def make_word_tokenizer(config: VectorizerConfig) -> WordRule:
    stop_words = stop_words_as_read(config)
    if config.tokenizer == "jieba":
        return JiebaRule(config.lowercase, config.keep_numbers, stop_words, config.keep_addresses)
    return WordRule(
        config.lowercase, config.keep_numbers, stop_words,
        config.tokenizer == "char-bigram", config.keep_addresses,
    )  # fmt: skip


def token_strings(tokens: Tokens) -> Iterable[str]:
    """The tokens of a batch as strings, in order (for tests and small inputs)."""
    from .tokenizer import unpack

    strings = iter(tokens.strs)
    packed = unpack(tokens.key1, tokens.key2)
    return [p if k else next(strings) for k, p in zip(tokens.key1.tolist(), packed, strict=True)]
