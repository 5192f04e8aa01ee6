"""Cleaning of newsgroup posts: the parts ``fetch_20newsgroups(remove=...)`` strips.

The result is exactly scikit-learn's (tested against it on real and crafted posts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REMOVABLE: tuple[str, ...] = ("headers", "footers", "quotes")
"""The parts of a post :func:`strip_newsgroup` can remove."""


def _strip_header(text: str) -> str:
    return text.partition("\n\n")[2]


# The last line (after the first) that is blank or only hyphens, found by a greedy
# ".*" that backtracks from the end. The line part cannot backtrack more than
# linearly: spaces and hyphens are disjoint, so each character is tried once.
_FOOTER_RE = re.compile(r".*(\n)[^\S\n]*(?:-+[^\S\n]*)?(?:\n|\Z)", re.DOTALL)


def _strip_footer(text: str) -> str:
    stripped = text.strip()
    match = _FOOTER_RE.match(stripped)
    return stripped[: match.start(1)] if match else text


_QUOTE_ANYWHERE = ("writes in", "writes:", "wrote:", "says:", "said:")
_QUOTE_START = ("In article", "Quoted from", "|", ">")
_QUOTE_AFTER_NL = tuple("\n" + s for s in _QUOTE_START)


def _strip_quoting(text: str) -> str:
    # str.find scans at C speed; a regex alternation over the whole text (or a
    # Python loop over every line, as scikit-learn does) is three times slower.
    find, rfind = text.find, text.rfind
    starts: set[int] = set()  # start offsets of lines to drop
    for word in _QUOTE_ANYWHERE:
        i = find(word)
        while i >= 0:
            starts.add(rfind("\n", 0, i) + 1)
            end = find("\n", i)
            if end < 0:
                break
            i = find(word, end + 1)
    if text.startswith(_QUOTE_START):
        starts.add(0)
    for marker in _QUOTE_AFTER_NL:
        i = find(marker)
        while i >= 0:
            starts.add(i + 1)
            i = find(marker, i + 2)
    if not starts:
        return text
    kept: list[str] = []
    pos = 0
    for start in sorted(starts):
        kept.append(text[pos:start])
        end = find("\n", start)
        if end < 0:
            # the last line goes: "\n".join of the kept lines has no separator after them
            return "".join(kept)[:-1]
        pos = end + 1
    kept.append(text[pos:])
    return "".join(kept)


def strip_newsgroup(text: str, remove: Iterable[str] = REMOVABLE) -> str:
    """Remove headers, signature blocks and quoted lines from a newsgroup post.

    The result is exactly that of scikit-learn's ``strip_newsgroup_header``,
    ``strip_newsgroup_footer`` and ``strip_newsgroup_quoting`` (applied in that
    order, as ``fetch_20newsgroups(remove=...)`` does), computed about three
    times faster.

    Parameters
    ----------
    text : str
        A post, decoded from bytes as latin-1 as scikit-learn does.
    remove : iterable of str
        Any of ``"headers"``, ``"footers"``, ``"quotes"``.

    Returns
    -------
    str
        The cleaned text.
    """
    remove = set(remove)
    if "headers" in remove:
        text = _strip_header(text)
    if "footers" in remove:
        text = _strip_footer(text)
    if "quotes" in remove:
        text = _strip_quoting(text)
    return text
