"""Hash tables in NumPy arrays: token keys to ids, and the ids of a vocabulary.

:class:`KeyTable` maps ``uint64`` keys (or pairs of them) to ids 0, 1, 2, ... with
open addressing, a whole batch of keys at a time. :class:`TokenRegistry` gives every token
an id, packed tokens (see :mod:`topicnmf.vectorize.tokenizer`) through two key tables and
string tokens through a dict, with the stop words first so that "is a stop word" is
``id < n_stop``. :func:`vocabulary_index` builds a registry from a fitted vocabulary for
``transform``.
"""

from __future__ import annotations

import numpy as np

from .tokenizer import pack, packable, unpack

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xC2B2AE3D27D4EB4F)


class KeyTable:
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


class TokenRegistry:
    """Token ids for packed keys and string tokens.

    Id 0 is a placeholder and stop words get ids ``1..n_stop-1``, so "is a stop word"
    is ``id < n_stop``.
    """

    def __init__(self, stop_words: tuple[str, ...], packs: bool) -> None:
        # Tokens of up to 8 characters (second word 0) and of 9 to 16 in separate
        # tables, so that the common short ones compare a single word.
        self._short = KeyTable(wide=False)
        self._long = KeyTable(wide=True)
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
        self.packs = packs
        self.ids(*self.keys(stop_words))
        self.n_stop = self.size

    def keys(self, tokens: list[str] | tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The tokens as a tokenizer of this registry gives them: packed keys first (in
        the order given), then the others as strings."""
        packed = [pack(t) for t in tokens if self.packs and packable(t)]
        strs = [t for t in tokens if not (self.packs and packable(t))]
        key1 = np.array([k[0] for k in packed] + [0] * len(strs), dtype=np.uint64)
        key2 = np.array([k[1] for k in packed] + [0] * len(strs), dtype=np.uint64)
        return key1, key2, strs

    def _intern(self, table: KeyTable, key1: np.ndarray, key2: np.ndarray | None) -> np.ndarray:
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

    def _order(self, tokens: list[str] | tuple[str, ...]) -> np.ndarray:
        """Where each token lands in the order :meth:`keys` puts them in."""
        fits = [self.packs and packable(t) for t in tokens]
        order = [i for i, f in enumerate(fits) if f] + [i for i, f in enumerate(fits) if not f]
        return np.asarray(order, dtype=np.int64)

    def ids_of(self, tokens: list[str] | tuple[str, ...]) -> np.ndarray:
        """Ids of tokens given as strings (registering new ones), in the order given."""
        out = np.empty(len(tokens), dtype=np.int64)
        out[self._order(tokens)] = self.ids(*self.keys(tokens))
        return out

    def lookup_of(self, tokens: list[str] | tuple[str, ...]) -> np.ndarray:
        """Ids of tokens given as strings, -1 for unknown ones, in the order given."""
        out = np.empty(len(tokens), dtype=np.int64)
        out[self._order(tokens)] = self.lookup(*self.keys(tokens))
        return out

    def strings(self, ids: np.ndarray) -> list[str]:
        """The token of each id."""
        if len(self._key1) != 1:
            self._key1 = [np.concatenate(self._key1) if self._key1 else np.zeros(0, np.uint64)]
            self._key2 = [np.concatenate(self._key2) if self._key2 else np.zeros(0, np.uint64)]
        key1, key2 = self._key1[0][ids], self._key2[0][ids]
        out: list[str] = [""] * len(ids)
        packed = np.flatnonzero(key1 != 0)
        for i, token in zip(packed.tolist(), unpack(key1[packed], key2[packed]), strict=True):
            out[i] = token
        str_of_id = self._str_of_id
        for i in np.flatnonzero(key1 == 0).tolist():
            out[i] = str_of_id[int(ids[i])]
        return out


def vocabulary_index(
    stop_words: tuple[str, ...],
    vocabulary: list[str],
    packs: bool,
    extra: list[str] | tuple[str, ...] = (),
) -> tuple[TokenRegistry, np.ndarray]:
    """A registry holding the stop words, a vocabulary of single tokens and ``extra``
    tokens (which have no column: the parts of phrases), and the column of each token id
    (-1 for the stop words and the extra tokens, and at index -1 for unknown tokens, whose
    id is -1)."""
    registry = TokenRegistry(stop_words, packs=packs)
    ids = registry.ids_of(vocabulary)
    registry.ids_of(extra)
    column_of = np.full(registry.size + 1, -1, dtype=np.int64)
    column_of[ids] = np.arange(len(vocabulary))
    column_of[: registry.n_stop] = -1
    return registry, column_of
