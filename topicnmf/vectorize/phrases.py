"""Phrases: collocations detected in a first pass and joined into one token.

:class:`PairCounter` counts, over a corpus, every kept token (after stop words, numbers and
short tokens are dropped) and every pair of adjacent kept tokens (no dropped token or stop
word between them, same text), in NumPy hash tables. A pair (a, b) is a phrase when it
occurs at least ``min_count`` times and its normalized pointwise mutual information,
``log(P(a b) / (P(a) P(b))) / -log P(a b)`` with every probability a count divided by the
number of kept tokens, is at least ``threshold`` (gensim's ``Phrases`` with
``scoring="npmi"`` scores pairs the same way).

:class:`Phrases` holds the phrases and joins them in a stream of token ids: left to right,
a pair that is a phrase becomes the phrase's token (``a_b``) unless its first token was
already taken by the pair before it. A phrase that would span two pieces of a text longer
than :data:`~topicnmf.vectorize.tokenizer.PIECE_CHARS` is not joined.
"""

from __future__ import annotations

import numpy as np

from .tables import KeyTable, TokenRegistry
from .tokenizer import Tokens

JOINER = "_"


def _pair_keys(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Keys of pairs of token ids (both >= 0): never 0."""
    return ((first + 1).astype(np.uint64) << np.uint64(32)) | (second + 1).astype(np.uint64)


def _adjacent(indptr: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Positions i such that kept tokens i and i + 1 stand next to each other in one text."""
    n = len(starts)
    ok = ~starts[1:].copy() if n else np.zeros(0, dtype=bool)
    first = indptr[:-1][np.diff(indptr) > 0]
    first = first[first > 0]
    ok[first - 1] = False
    return np.flatnonzero(ok)


class Phrases:
    """A list of phrases, each a pair of tokens, and the joining of them.

    Parameters
    ----------
    first, second : list of str
        The two tokens of each phrase, sorted by (first, second).
    """

    def __init__(self, first: list[str], second: list[str]) -> None:
        if len(first) != len(second):
            raise ValueError("phrases need as many first tokens as second tokens")
        self.first = list(first)
        self.second = list(second)

    def __len__(self) -> int:
        return len(self.first)

    @property
    def tokens(self) -> list[str]:
        """The joined token of each phrase."""
        return [a + JOINER + b for a, b in zip(self.first, self.second, strict=True)]

    @property
    def parts(self) -> list[str]:
        """Every token that is part of a phrase, and every phrase token."""
        return sorted(set(self.first) | set(self.second) | set(self.tokens))

    def table(self, registry: TokenRegistry) -> _PhraseTable:
        """The phrases in the ids of a registry (registering their tokens if it can)."""
        a = registry.ids_of(self.first)
        b = registry.ids_of(self.second)
        joined = registry.ids_of(self.tokens)
        return _PhraseTable(a, b, joined)


class _PhraseTable:
    def __init__(self, a: np.ndarray, b: np.ndarray, joined: np.ndarray) -> None:
        self._table = KeyTable(wide=False)
        valid = (a >= 0) & (b >= 0)
        ids, _, _ = self._table.intern(_pair_keys(a[valid], b[valid]), None, 0)
        self._joined = np.full(self._table.size, -1, dtype=np.int64)
        self._joined[ids] = joined[valid]

    def join(
        self, ids: np.ndarray, indptr: np.ndarray, starts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Join the phrases of a batch of token ids (texts by ``indptr``, runs of adjacent
        tokens by ``starts``); return the new ids, offsets and run starts."""
        at = _adjacent(indptr, starts)
        if not len(at):
            return ids, indptr, starts
        at = at[(ids[at] >= 0) & (ids[at + 1] >= 0)]
        found = self._table.lookup(_pair_keys(ids[at], ids[at + 1]), None)
        hit = at[found >= 0]
        if not len(hit):
            return ids, indptr, starts
        phrase = self._joined[found[found >= 0]]
        # overlapping pairs (a b c with both a b and b c phrases): left to right, every
        # other pair of a chain of consecutive hits
        chain_start = np.ones(len(hit), dtype=bool)
        chain_start[1:] = hit[1:] != hit[:-1] + 1
        chain_id = np.cumsum(chain_start) - 1
        offset = np.arange(len(hit)) - np.flatnonzero(chain_start)[chain_id]
        take = offset % 2 == 0
        hit, phrase = hit[take], phrase[take]
        ids = ids.copy()
        ids[hit] = phrase
        keep = np.ones(len(ids), dtype=bool)
        keep[hit + 1] = False
        kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        return ids[keep], kept_before[indptr], starts[keep]


class PairCounter:
    """Counts of kept tokens and of adjacent pairs of them, batch by batch (pass 1 of
    phrase detection)."""

    def __init__(self, registry: TokenRegistry) -> None:
        self.tokens = registry
        self._unigrams = np.zeros(1024, dtype=np.int64)
        self._pairs = KeyTable(wide=False)
        self._pair_counts = np.zeros(1024, dtype=np.int64)
        self._pair_keys: list[np.ndarray] = []
        self.n_tokens = 0

    def add(self, toks: Tokens) -> None:
        ids = self.tokens.ids(toks.key1, toks.key2, toks.strs)
        stop = ids < self.tokens.n_stop
        keep = ~stop
        gap = np.zeros(len(ids), dtype=bool) if toks.breaks is None else toks.breaks.copy()
        gap[1:] |= stop[:-1]
        kept_before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
        indptr = kept_before[toks.indptr]
        ids, starts = ids[keep], gap[keep]
        self.n_tokens += len(ids)
        self._unigrams = _add_counts(self._unigrams, ids, self.tokens.size)
        at = _adjacent(indptr, starts)
        if len(at):
            pair_ids, new_keys, _ = self._pairs.intern(
                _pair_keys(ids[at], ids[at + 1]), None, self._pairs.size
            )
            self._pair_keys.append(new_keys)
            self._pair_counts = _add_counts(self._pair_counts, pair_ids, self._pairs.size)

    def phrases(self, min_count: int, threshold: float) -> Phrases:
        """The pairs that are phrases, sorted."""
        counts = self._pair_counts[: self._pairs.size]
        which = np.flatnonzero(counts >= min_count)
        if not len(which) or self.n_tokens == 0:
            return Phrases([], [])
        keys = np.concatenate(self._pair_keys)[which]
        a = (keys >> np.uint64(32)).astype(np.int64) - 1
        b = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64) - 1
        total = float(self.n_tokens)
        p_ab = counts[which] / total
        p_a = self._unigrams[a] / total
        p_b = self._unigrams[b] / total
        with np.errstate(divide="ignore", invalid="ignore"):
            # a pair in every position has P(a b) = 1 and -log P(a b) = 0: score it 1
            npmi = np.where(p_ab < 1.0, np.log(p_ab / (p_a * p_b)) / -np.log(p_ab), 1.0)
        chosen = npmi >= threshold
        first = self.tokens.strings(a[chosen])
        second = self.tokens.strings(b[chosen])
        pairs = sorted(zip(first, second, strict=True))
        return Phrases([p[0] for p in pairs], [p[1] for p in pairs])


def _add_counts(counts: np.ndarray, ids: np.ndarray, size: int) -> np.ndarray:
    if size > len(counts):
        grown = np.zeros(max(size, 2 * len(counts)), dtype=np.int64)
        grown[: len(counts)] = counts
        counts = grown
    counts += np.bincount(ids, minlength=len(counts))
    return counts
