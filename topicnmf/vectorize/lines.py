"""Boilerplate: lines repeated verbatim in many documents (signatures, disclaimers, license
headers), found in a first pass over the corpus and removed before tokenizing.

A line is compared stripped of the whitespace around it. Only documents of two or more
distinct non-blank lines take part: a document that is one line (a line of a .txt corpus,
a short CSV field) is never boilerplate, however often it repeats. Lines longer than
:data:`MAX_LINE_CHARS` characters are never boilerplate either, so the lines a model keeps
stay small.

The first pass (:class:`LineCounter`) counts, for each distinct line, the documents that
hold it, by a 64-bit hash of the line in a NumPy hash table: about 50 bytes per distinct
line, and never a line's text. The lines found in more than the threshold's documents are
then removed by :class:`LineFilter`, which also records their text (from the later pass)
so that the fitted vectorizer can remove the same lines from new documents.

Python's string hash is salted per process; it is used only within one process (the two
passes of one fit), never stored.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .tables import KeyTable

# A line longer than this is never boilerplate.
MAX_LINE_CHARS = 1000
# A share of the documents means at least this many: in a small corpus a line that a few
# documents share (a greeting, a heading) is not boilerplate.
MIN_LINE_DOCUMENTS = 10


def _lines(text: str) -> list[str] | None:
    """The distinct non-blank stripped lines of a text, or None when fewer than two."""
    if "\n" not in text:
        return None
    lines = set(map(str.strip, text.split("\n")))
    lines.discard("")
    return list(lines) if len(lines) >= 2 else None


class LineCounter:
    """Pass 1: how many documents hold each line (by hash)."""

    def __init__(self) -> None:
        self._table = KeyTable(wide=False)
        self._counts = np.zeros(1024, dtype=np.int64)
        self._keys: list[np.ndarray] = []
        self.n_documents = 0

    def add(self, texts: Iterable[str]) -> None:
        hashes: list[int] = []
        for text in texts:
            self.n_documents += 1
            lines = _lines(text)
            if lines is not None:
                hashes.extend(hash(line) for line in lines if len(line) <= MAX_LINE_CHARS)
        if not hashes:
            return
        keys = np.array(hashes, dtype=np.int64).view(np.uint64)
        keys[keys == 0] = 1  # 0 marks an empty slot of the table
        ids, new_keys, _ = self._table.intern(keys, None, self._table.size)
        self._keys.append(new_keys)
        if self._table.size > len(self._counts):
            grown = np.zeros(max(self._table.size, 2 * len(self._counts)), dtype=np.int64)
            grown[: len(self._counts)] = self._counts
            self._counts = grown
        self._counts += np.bincount(ids, minlength=len(self._counts))

    def frequent(self, max_line_df: float | int) -> frozenset[int]:
        """Hashes of the lines in more than ``max_line_df`` documents: a count, or a share
        of all documents counted with at least :data:`MIN_LINE_DOCUMENTS` documents; and in
        at least two."""
        if isinstance(max_line_df, int):
            limit = float(max_line_df)
        else:
            limit = max(max_line_df * self.n_documents, MIN_LINE_DOCUMENTS - 1)
        counts = self._counts[: self._table.size]
        which = np.flatnonzero((counts > limit) & (counts >= 2))
        keys = np.concatenate(self._keys) if self._keys else np.zeros(0, np.uint64)
        return frozenset(keys[which].view(np.int64).tolist())

    @property
    def n_lines(self) -> int:
        """Distinct lines counted."""
        return self._table.size


class LineFilter:
    """Remove boilerplate lines from texts.

    Parameters
    ----------
    hashes : frozenset of int, optional
        At fit time: the hashes of the boilerplate lines (from :meth:`LineCounter.frequent`);
        the lines found are recorded in :attr:`found`.
    lines : iterable of str, optional
        At transform time: the boilerplate lines themselves.
    """

    def __init__(
        self, hashes: frozenset[int] | None = None, lines: Iterable[str] | None = None
    ) -> None:
        self._lines = frozenset(lines or ())
        self._hashes = hashes if hashes is not None else frozenset(map(hash, self._lines))
        self.found: set[str] = set()
        self.n_lines_removed = 0  # occurrences
        self.n_documents = 0  # documents that lost a line

    def clean(self, texts: list[str]) -> tuple[list[str], str]:
        """The texts without their boilerplate lines, and the removed lines joined (for
        counting their tokens)."""
        if not self._hashes:
            return texts, ""
        hashes = self._hashes
        exact = self._lines
        out = []
        removed: list[str] = []
        for text in texts:
            lines = _lines(text)
            if lines is None or hashes.isdisjoint(map(hash, lines)):
                out.append(text)
                continue
            kept = []
            for line in text.split("\n"):
                stripped = line.strip()
                # at transform time the text decides (no hash collision can remove a line)
                if stripped and (stripped in exact if exact else hash(stripped) in hashes):
                    removed.append(stripped)
                else:
                    kept.append(line)
            out.append("\n".join(kept))
            self.n_documents += 1
        self.n_lines_removed += len(removed)
        self.found.update(removed)
        return out, "\n".join(removed)
