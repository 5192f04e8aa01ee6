"""Addresses: e-mail addresses and web addresses (URLs), found so that their pieces are not
read as words.

Split into words, an address gives topics their worst terms: ``edu``, ``com``, ``cs``,
``www``, ``http``, user names and host names, which co-occur with nothing but other
addresses. The tokenizers drop the tokens inside an address (``VectorizerConfig.
keep_addresses`` keeps them) and count them.

An address is found from an anchor that ordinary text rarely holds, then grown to its ends
(a regular expression run over every character cost as much as the rest of tokenizing):

* ``@`` with an e-mail local part before it (letters, digits, ``. _ % + -``) and a domain
  of at least two dot-separated labels after it: ``jones@cs.example.edu``;
* ``://`` with a scheme of 2 to 16 characters before it, starting with a letter:
  ``http://``, ``ftp://``, ``file://``;
* ``www.`` (any case) at the start of a word.

A web address ends at whitespace, a quote, ``<``, ``>`` or a backtick; the punctuation it
takes along gives no tokens anyway.
"""

from __future__ import annotations

import re

import numpy as np

# What an anchor looks like; "www." in the case forms text usually has.
_ANCHORS = ("@", "://", "www.", "WWW.", "Www.")
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")
_URL_REST = re.compile(r"[^\s<>\"'`]+")
_LOCAL_CHARS = frozenset("._%+-")
_SCHEME_CHARS = frozenset("+.-")
# How far back from an anchor an address may start.
_MAX_LEFT = 256


def _local_start(text: str, at: int) -> int:
    """Where the e-mail local part ending at ``at`` starts (``at`` when there is none)."""
    start = at
    low = max(0, at - _MAX_LEFT)
    while start > low:
        c = text[start - 1]
        if c.isalnum() or c == "_" or c in _LOCAL_CHARS:
            start -= 1
        else:
            break
    return start


def _scheme_start(text: str, at: int) -> int:
    """Where the URL scheme ending at ``at`` starts, or -1 when there is none."""
    start = at
    low = max(0, at - 16)
    while start > low:
        c = text[start - 1]
        if c.isascii() and (c.isalnum() or c in _SCHEME_CHARS):
            start -= 1
        else:
            break
    while start < at and not (text[start].isascii() and text[start].isalpha()):
        start += 1  # a scheme starts with a letter
    return start if at - start >= 2 else -1


def _anchors(text: str) -> list[tuple[int, int]]:
    """Positions and lengths of the anchors in ``text``, in order (``str.find`` scans
    faster than a regular expression)."""
    found = []
    for anchor in _ANCHORS:
        at = text.find(anchor)
        while at >= 0:
            found.append((at, len(anchor)))
            at = text.find(anchor, at + 1)
    found.sort()
    return found


def address_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The addresses of ``text``: sorted, non-overlapping ``[start, end)`` character spans.

    Returns
    -------
    starts, ends : numpy.ndarray of int64
    """
    starts: list[int] = []
    ends: list[int] = []
    last_end = 0
    for at, length in _anchors(text):
        if at < last_end:
            continue  # inside the address found last
        kind = text[at]
        if kind == "@":
            start = _local_start(text, at)
            domain = _DOMAIN.match(text, at + 1)
            if start == at or domain is None:
                continue
            end = domain.end()
        else:
            if kind == ":":
                start = _scheme_start(text, at)
                if start < 0:
                    continue
            else:  # www.
                start = at
                if at > 0:
                    before = text[at - 1]
                    if before.isalnum() or before in "_.-/":
                        continue
            rest = _URL_REST.match(text, at + length)
            if rest is None:
                continue
            end = rest.end()
        start = max(start, last_end)
        starts.append(start)
        ends.append(end)
        last_end = end
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


def inside(positions: np.ndarray, spans: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Which of ``positions`` (character offsets) lie inside one of ``spans``."""
    starts, ends = spans
    if not len(starts):
        return np.zeros(len(positions), dtype=bool)
    which = np.searchsorted(starts, positions, side="right") - 1
    return (which >= 0) & (positions < ends[np.maximum(which, 0)])


def blank_addresses(text: str) -> tuple[str, list[str]]:
    """``text`` with each address replaced by one space, and the addresses removed."""
    starts, ends = address_spans(text)
    if not len(starts):
        return text, []
    parts: list[str] = []
    removed: list[str] = []
    last = 0
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        parts.append(text[last:a])
        removed.append(text[a:b])
        last = b
    parts.append(text[last:])
    return " ".join(parts), removed
