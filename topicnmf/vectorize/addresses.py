"""Addresses: e-mail addresses and web addresses (URLs), found so that their pieces are not
read as words.

Split into words, an address gives topics their worst terms: ``edu``, ``com``, ``cs``,
``www``, ``http``, user names and host names, which co-occur with nothing but other
addresses. The tokenizers drop the tokens that overlap an address
(``VectorizerConfig.keep_addresses`` keeps them) and count them.

An address is found from an anchor that ordinary text rarely holds, then grown to its ends
(a regular expression tried at every character cost as much as the rest of tokenizing):

* ``@`` with an e-mail local part before it (ASCII letters, digits, ``. _ % + - '``; a
  ``mailto:`` before it is taken along) and after it a domain of at least two labels whose
  last one is two or more ASCII letters: ``jones@cs.example.edu``, not ``A@B.T``,
  ``lodash@4.17.21`` or ``user@localhost``;
* ``://`` with a scheme of two or more ASCII letters, digits and ``+`` before it, starting
  with a letter: ``http://``, ``ftp://``, ``git+https://`` (a word glued to ``http``,
  ``https``, ``ftp`` or ``file`` keeps its part before them);
* ``www.`` (in any case) at the start of a word.

An address is made of ASCII characters only, so one written without spaces inside Chinese
or Japanese text ends where that text begins. A web address ends at whitespace, at a
character outside ASCII, at a quote, ``<``, ``>`` or a backtick, and at a closing bracket it
did not open (``(see http://example.org)then`` keeps ``then``); full stops, commas and the
like at its end are left out.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator

import numpy as np

# What an anchor looks like; "www." in the case forms text usually has.
_ANCHORS = ("@", "://", "www.", "WWW.", "Www.")
_DOMAIN = re.compile(r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL_REST = re.compile(r"[!#-&(-;=?-\[\]-_a-~]+")  # printable ASCII but space " ' < > \ `
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-'")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+")
_CLOSING = {")": "(", "]": "[", "}": "{"}
_TRAILING = ".,;:!?*"
# Schemes recognized at the end of a longer word ("documentationhttp://" is a word glued
# to "http"); any other scheme takes the whole run of scheme characters before "://".
_KNOWN_SCHEMES = ("https", "http", "ftp", "file")


def _local_start(text: str, at: int) -> int:
    """Where the e-mail local part ending at ``at`` starts (``at`` when there is none),
    with a ``mailto:`` before it."""
    # the walk stops at the character before the run (another "@" or a space at most), so
    # the walks of all anchors together read the text once
    start = at
    while start > 0 and text[start - 1] in _LOCAL_CHARS:
        start -= 1
    if start >= 7 and text[start - 7 : start].lower() == "mailto:":
        start -= 7
    return start


def _domain_end(text: str, at: int) -> int:
    """Where the domain starting at ``at`` ends: after its last label of two or more
    letters (-1 when it has no such label after a first one)."""
    found = _DOMAIN.match(text, at)
    if found is None:
        return -1
    labels = found.group().split(".")
    while len(labels) > 1:
        last = labels[-1]
        if len(last) >= 2 and last.isalpha():
            return at + len(".".join(labels))
        labels.pop()
    return -1


def _scheme_start(text: str, at: int) -> int:
    """Where the URL scheme ending at ``at`` starts, or -1 when there is none."""
    start = at
    while start > 0 and text[start - 1] in _SCHEME_CHARS:
        start -= 1
    run = text[start:at].lower()
    for scheme in _KNOWN_SCHEMES:
        if run.endswith(scheme):
            return at - len(scheme)
    while start < at and not text[start].isalpha():
        start += 1  # a scheme starts with a letter
    return start if at - start >= 2 else -1


def _url_end(text: str, at: int) -> int:
    """Where the rest of a web address starting at ``at`` ends."""
    rest = _URL_REST.match(text, at)
    if rest is None:
        return at
    end = rest.end()
    opened: list[str] = []
    for i in range(at, end):
        c = text[i]
        if c in "([{":
            opened.append(c)
        elif c in _CLOSING:
            if not opened or opened[-1] != _CLOSING[c]:
                end = i  # a bracket opened before the address
                break
            opened.pop()
    while end > at and text[end - 1] in _TRAILING:
        end -= 1
    return end


def _anchors(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Positions and lengths of the anchors in ``text``, in order (``str.find`` scans faster
    than a regular expression; compact arrays, as a text can hold millions of ``@``)."""
    positions = []
    lengths = []
    for anchor in _ANCHORS:
        found = array("q")
        at = text.find(anchor)
        while at >= 0:
            found.append(at)
            at = text.find(anchor, at + 1)
        positions.append(np.frombuffer(found, dtype=np.int64))
        lengths.append(np.full(len(found), len(anchor), dtype=np.int64))
    where = np.concatenate(positions)
    order = np.argsort(where, kind="stable")
    return where[order], np.concatenate(lengths)[order]


def _in_blocks(positions: np.ndarray, lengths: np.ndarray) -> Iterator[tuple[int, int]]:
    """The anchors as Python ints, a block at a time (not one list of millions)."""
    for i in range(0, len(positions), 65536):
        yield from zip(
            positions[i : i + 65536].tolist(), lengths[i : i + 65536].tolist(), strict=True
        )


def address_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The addresses of ``text``: sorted, non-overlapping ``[start, end)`` character spans.

    Returns
    -------
    starts, ends : numpy.ndarray of int64
    """
    starts = array("q")
    ends = array("q")
    last_end = 0
    positions, lengths = _anchors(text)
    for at, length in _in_blocks(positions, lengths):
        if at < last_end:
            continue  # inside the address found last
        kind = text[at]
        if kind == "@":
            start = _local_start(text, at)
            if start == at:
                continue
            end = _domain_end(text, at + 1)
            if end < 0:
                continue
        else:
            if kind == ":":
                start = _scheme_start(text, at)
                if start < 0:
                    continue
            else:  # www.
                start = at
                if at > 0:
                    before = text[at - 1]
                    if before.isalnum() or before in "_.-/@":
                        continue
            end = _url_end(text, at + length)  # may be the anchor's end: "http://例子.cn"
        starts.append(max(start, last_end))
        ends.append(end)
        last_end = end
    return np.frombuffer(starts, dtype=np.int64), np.frombuffer(ends, dtype=np.int64)


def overlapping(
    starts: np.ndarray, ends: np.ndarray, spans: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Which of the tokens ``[starts, ends)`` (character offsets) overlap one of ``spans``."""
    span_starts, span_ends = spans
    if not len(span_starts):
        return np.zeros(len(starts), dtype=bool)
    # the last span that starts before the token ends
    which = np.searchsorted(span_starts, ends, side="left") - 1
    return (which >= 0) & (starts < span_ends[np.maximum(which, 0)])


def outside(
    starts: np.ndarray, ends: np.ndarray, spans: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The word tokens ``[starts, ends)`` cut to their parts outside the addresses, and
    which of them lie wholly inside one (``请访问http://x.org/page了解`` keeps ``请访问`` and
    ``了解``). An address holds a character that ends a word (``@``, ``:``, ``.``), so a word
    overlaps at most the end of one address and the start of another."""
    span_starts, span_ends = spans
    starts, ends = starts.copy(), ends.copy()
    if not len(span_starts):
        return starts, ends, np.zeros(len(starts), dtype=bool)
    # the address that holds a token's start: the token starts after it
    first = np.searchsorted(span_starts, starts, side="right") - 1
    head = (first >= 0) & (starts < span_ends[np.maximum(first, 0)])
    starts[head] = np.minimum(span_ends[first[head]], ends[head])
    # the last address that starts within the token: the token ends before it
    last = np.searchsorted(span_starts, ends, side="left") - 1
    begins = span_starts[np.maximum(last, 0)]
    tail = (last >= 0) & (begins >= starts) & (begins < ends)
    ends[tail] = begins[tail]
    return starts, ends, ends <= starts
