"""Refuse regular expressions whose matching time can grow exponentially with the text.

Python's ``re`` is a backtracking engine: a pattern such as ``(a+)+$`` tries every way of
dividing a run of ``a`` between the inner and the outer ``+`` before it gives up, so 30
characters take minutes and a long line takes forever. That happens only when a *repeated*
part of the pattern (``*``, ``+``, ``{m,n}`` with n > 1) can match one text in more than one
way. :func:`exponential_backtracking` looks for that in the tree that the standard
library's own parser builds (``re._parser``), and says why when it finds it:

1. the repeated part can match the empty text (``(a*)*``, ``(a?b?)+``);
2. it holds an alternation whose branches can begin with the same character
   (``(a|ab)+``, ``(\\w|\\d)+``; the parser has already factored out common prefixes, so
   ``(?:ab|ac)+`` is fine);
3. it holds two elastic parts (repetitions that can give back characters) that compete for
   the same characters, one after the other (``(\\w+\\w+)+``, ``(x\\s*\\w*y?\\w+)+``);
4. successive repetitions can divide the same text differently: the part can vary in
   length, and a character that can end it can be directly followed, inside it, by a
   character that can begin it (``(\\w+\\s?)+``, ``(a\\w+)+``; but not ``(-\\w+)+`` or
   ``(\\w+')+``, whose repetitions are delimited).

Possessive repetitions (``a*+``) and atomic groups (``(?>...)``) never give characters back,
so they are never elastic. The rules are a structural approximation on character sets, not
a proof: a refused pattern may in fact be safe (rewrite it so that each repetition has a
delimiter, or use a possessive quantifier), and an accepted one can still be *polynomially*
slow on very long runs (``a*a*a*b`` on a million ``a``): such work stays interruptible, as
``re`` checks for signals while it matches.

Character sets are compared on a sample of characters: every ASCII and Latin-1 character,
representatives of the other Unicode categories that ``\\w``, ``\\d`` and ``\\s`` tell apart,
and every character and range bound the pattern names (with its case variants).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

try:  # Python >= 3.11
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["exponential_backtracking"]

_MAXREPEAT = _sre.MAXREPEAT
_IGNORECASE = re.IGNORECASE.value
_ASCII = re.ASCII.value
_DOTALL = re.DOTALL.value

# Python 3.11 added possessive repeats and atomic groups; older parsers never produce them.
_POSSESSIVE_REPEAT = getattr(_sre, "POSSESSIVE_REPEAT", object())
_ATOMIC_GROUP = getattr(_sre, "ATOMIC_GROUP", object())
_RANGES = (_sre.RANGE, getattr(_sre, "RANGE_UNI_IGNORE", object()))

# Characters that stand for the classes \w, \d and \s tell apart beyond Latin-1: letters of
# several scripts (with case quirks: dotted I, final sigma, Kelvin sign, long s), digits
# that are and are not decimal, spaces, combining marks, connectors, symbols, astral ones.
_REPRESENTATIVES = (
    "\u0101\u0130\u0131\u017f\u01c5\u03a3\u03c2\u03c3\u0410\u0430\u05d0\u0627\u0663\u06f3"
    "\u0966\u0e01\u1680\u2000\u2028\u2029\u202f\u205f\u3000\u200b\u0301\u20dd\u203f\u2014"
    "\u2019\u2160\u2460\u212a\u4e00\u3042\u30bf\uac00\uff10\uff21\ufeff\U0001d7d8\U00010400"
    "\U0001f600"
)
_BASE_SAMPLE = frozenset(map(chr, range(256))) | frozenset(_REPRESENTATIVES)

Chars = frozenset[str]
_NONE: Chars = frozenset()


class _Refused(Exception):
    """Raised inside the walk with the reason a pattern is refused."""


@dataclass
class _Info:
    """What the walk knows about a piece of pattern.

    ``first``/``last``: characters a non-empty match can begin/end with; ``chars``: every
    character it can consume; ``follows``: pairs (A, B) such that a character of A can be
    directly followed by one of B inside a match; ``width``: the length of every match, or
    None when matches can differ in length; ``elastic``: backtracking can change how much
    it matches from a given start; ``ambiguous``: some text can be matched by it in more
    than one way.
    """

    nullable: bool = True
    width: int | None = 0
    first: Chars = _NONE
    last: Chars = _NONE
    chars: Chars = _NONE
    follows: list[tuple[Chars, Chars]] = field(default_factory=list)
    elastic: bool = False
    ambiguous: bool = False


def _char(chars: Chars) -> _Info:
    return _Info(nullable=False, width=1, first=chars, last=chars, chars=chars)


def _sample_char(chars: Iterable[str]) -> str:
    """A readable member of a character set, for messages."""
    ordered = sorted(chars, key=lambda c: (not c.isalpha(), not c.isalnum(), not c.isascii(), c))
    return repr(ordered[0]) if ordered else "''"


class _Walker:
    """One walk over a parsed pattern; raises ``_Refused`` at the first risky repetition."""

    def __init__(self, sample: Chars) -> None:
        self.sample = sample
        self.groups: dict[int, _Info] = {}

    # ------------------------------------------------------------ character classes

    def _matching(self, test: Callable[[str], bool]) -> Chars:
        return frozenset(c for c in self.sample if test(c))

    def _class_test(self, op: Any, av: Any, flags: int) -> Callable[[str], bool]:
        """A predicate for one character item (LITERAL, IN, ANY, ...)."""
        fold = bool(flags & _IGNORECASE)

        def variants(c: str) -> set[str]:
            return {c, c.lower(), c.upper(), c.casefold()} if fold else {c}

        if op is _sre.LITERAL:
            wanted = variants(chr(av))
            return lambda c: bool(variants(c) & wanted)
        if op is _sre.NOT_LITERAL:
            unwanted = variants(chr(av))
            return lambda c: not variants(c) & unwanted
        if op is _sre.ANY:
            return (lambda c: True) if flags & _DOTALL else (lambda c: c != "\n")
        if op is _sre.IN:
            negate = bool(av) and av[0][0] is _sre.NEGATE
            tests = [self._class_test(o, a, flags) for o, a in av if o is not _sre.NEGATE]
            return lambda c: any(t(c) for t in tests) != negate
        if op in _RANGES:
            lo, hi = av
            return lambda c: any(lo <= ord(v) <= hi for v in variants(c) if len(v) == 1)
        if op is _sre.CATEGORY:
            return _category_test(av, ascii_only=bool(flags & _ASCII))
        raise _Refused(f"it uses an unsupported construct ({op})")  # pragma: no cover

    # ------------------------------------------------------------------------ nodes

    def sequence(self, items: Iterable[tuple[Any, Any]], flags: int) -> _Info:
        parts = [self.node(op, av, flags) for op, av in items]
        widths = [p.width for p in parts]
        out = _Info(elastic=any(p.elastic for p in parts))
        out.width = None if None in widths else sum(widths)  # type: ignore[arg-type]
        out.ambiguous = any(p.ambiguous for p in parts) or _competing(parts)
        for i, part in enumerate(parts):
            out.chars |= part.chars
            out.follows += part.follows
            if all(p.nullable for p in parts[:i]):
                out.first |= part.first
            if all(p.nullable for p in parts[i + 1 :]):
                out.last |= part.last
            # a character that can end part i meets one that can begin part j when every
            # part between them can match nothing
            for later in parts[i + 1 :]:
                if part.last and later.first:
                    out.follows.append((part.last, later.first))
                if not later.nullable:
                    break
        out.nullable = all(p.nullable for p in parts)
        return out

    def node(self, op: Any, av: Any, flags: int) -> _Info:
        if op in (_sre.LITERAL, _sre.NOT_LITERAL, _sre.ANY, _sre.IN):
            return _char(self._matching(self._class_test(op, av, flags)))
        if op is _sre.AT:
            return _Info()
        if op is _sre.SUBPATTERN:
            group, add_flags, del_flags, body = av
            info = self.sequence(body, (flags | add_flags) & ~del_flags)
            if group is not None:
                self.groups[group] = info
            return info
        if op is _sre.BRANCH:
            return self.branch([self.sequence(b, flags) for b in av[1]])
        if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _POSSESSIVE_REPEAT):
            lo, hi, body = av
            return self.repeat(lo, hi, self.sequence(body, flags), op is _POSSESSIVE_REPEAT)
        if op is _ATOMIC_GROUP:
            return _rigid(self.sequence(av, flags))
        if op in (_sre.ASSERT, _sre.ASSERT_NOT):
            self.sequence(av[1], flags)  # its own repetitions are checked; it consumes nothing
            return _Info()
        if op is _sre.GROUPREF:
            # matches the text the group matched: no choice of its own
            return _rigid(self.groups.get(av) or _char(self.sample))
        if op is _sre.GROUPREF_EXISTS:
            _, yes, no = av
            # the group decides which branch runs, so the branches never compete
            options = [self.sequence(yes, flags), self.sequence(no or [], flags)]
            info = self.branch(options)
            info.ambiguous = any(o.ambiguous for o in options)
            return info
        return _Info()  # FAILURE and other zero-width items

    def branch(self, options: list[_Info]) -> _Info:
        widths = {o.width for o in options}
        out = _Info(nullable=any(o.nullable for o in options))
        out.width = widths.pop() if len(widths) == 1 else None
        # backtracking can swap one branch for another of a different length when a
        # branch can match nothing (the parser turns ``a|aa`` into ``a(?:|a)``)
        out.elastic = any(o.elastic for o in options) or (
            out.nullable and any(o.chars for o in options)
        )
        out.ambiguous = any(o.ambiguous for o in options)
        for i, a in enumerate(options):
            out.first |= a.first
            out.last |= a.last
            out.chars |= a.chars
            out.follows += a.follows
            for b in options[i + 1 :]:
                if a.first & b.first or (a.nullable and b.nullable):
                    out.ambiguous = True
                    out.elastic = True
        return out

    def repeat(self, lo: int, hi: int, body: _Info, possessive: bool) -> _Info:
        many = hi is _MAXREPEAT or hi > 1
        if many and body.chars and not possessive:
            _check_repeated(body)
        out = _Info(
            nullable=lo == 0 or body.nullable,
            width=None if body.width is None or (lo != hi and body.width) else lo * body.width,
            first=body.first,
            last=body.last,
            chars=body.chars,
            follows=body.follows + ([(body.last, body.first)] if many else []),
            elastic=not possessive and (lo != hi or body.elastic),
            ambiguous=body.ambiguous,
        )
        return _rigid(out) if possessive else out


def _rigid(info: _Info) -> _Info:
    """The same characters, but matched in exactly one way (atomic, possessive)."""
    return _Info(info.nullable, info.width, info.first, info.last, info.chars, list(info.follows))


def _competing(parts: list[_Info]) -> bool:
    """Whether an elastic part of a sequence can give characters to a later part that can
    take more or fewer, across what lies between them (``\\w+\\w+``, ``\\w+a\\w+``,
    ``\\w+\\s*\\w+``, ``a*a*+``)."""
    for i, left in enumerate(parts):
        if not left.elastic:
            continue
        between: Chars = _NONE
        for right in parts[i + 1 :]:
            if (
                right.width is None
                and right.first & left.chars
                and left.last & right.chars
                and between <= left.chars | right.chars
            ):
                return True
            if not right.nullable:
                between |= right.chars
    return False


def _check_repeated(body: _Info) -> None:
    """Raise ``_Refused`` when repeating ``body`` lets one text be matched many ways."""
    if body.nullable:
        raise _Refused("a repeated part can match empty text")
    if body.ambiguous:
        raise _Refused(
            "a repeated part can match the same text in more than one way (alternatives "
            "that begin alike, or repetitions inside it that compete for the same characters)"
        )
    if body.elastic:
        for before, after in body.follows:
            ends, begins = before & body.last, after & body.first
            if ends and begins:
                raise _Refused(
                    "successive repetitions of a part can divide the same text in more than "
                    f"one way: inside one repetition, {_sample_char(ends)} (which can end a "
                    f"repetition) can be followed by {_sample_char(begins)} (which can begin one)"
                )


_NEGATED = {
    _sre.CATEGORY_NOT_DIGIT: _sre.CATEGORY_DIGIT,
    _sre.CATEGORY_NOT_SPACE: _sre.CATEGORY_SPACE,
    _sre.CATEGORY_NOT_WORD: _sre.CATEGORY_WORD,
    _sre.CATEGORY_NOT_LINEBREAK: _sre.CATEGORY_LINEBREAK,
}


def _is_ascii_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _is_word(ch: str) -> bool:
    # what re calls a word character in a str pattern
    return ch.isalnum() or ch == "_"


def _category_test(category: Any, ascii_only: bool) -> Callable[[str], bool]:
    """Membership in ``\\d``, ``\\s``, ``\\w`` (or their negations) as ``re`` decides it."""
    if category in _NEGATED:
        positive = _category_test(_NEGATED[category], ascii_only)
        return lambda ch: not positive(ch)
    if category is _sre.CATEGORY_DIGIT:
        return (lambda ch: "0" <= ch <= "9") if ascii_only else str.isdecimal
    if category is _sre.CATEGORY_SPACE:
        return (lambda ch: ch in " \t\n\r\f\v") if ascii_only else str.isspace
    if category is _sre.CATEGORY_WORD:
        return _is_ascii_word if ascii_only else _is_word
    if category is _sre.CATEGORY_LINEBREAK:
        return lambda ch: ch == "\n"
    return lambda ch: True  # pragma: no cover - locale categories exist only for bytes


def _children(op: Any, av: Any) -> list[Any]:
    """The item lists nested in one parsed item."""
    if op is _sre.IN:
        return [av]
    if op is _sre.SUBPATTERN:
        return [av[3]]
    if op is _sre.BRANCH:
        return list(av[1])
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _POSSESSIVE_REPEAT):
        return [av[2]]
    if op is _ATOMIC_GROUP:
        return [av]
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op is _sre.GROUPREF_EXISTS:
        return [av[1]] + ([av[2]] if av[2] else [])
    return []


def _pattern_chars(items: Iterable[tuple[Any, Any]]) -> set[str]:
    """Every character a pattern names (literals and range bounds) with its case variants."""
    out: set[str] = set()
    for op, av in items:
        if op in (_sre.LITERAL, _sre.NOT_LITERAL):
            out.add(chr(av))
        elif op in _RANGES:
            lo, hi = av
            out.update(map(chr, {lo, hi, min(lo + 1, hi), max(hi - 1, lo)}))
        for child in _children(op, av):
            out |= _pattern_chars(child)
    return {v for c in out for v in (c, c.lower(), c.upper(), c.casefold()) if len(v) == 1}


@functools.lru_cache(maxsize=64)
def exponential_backtracking(pattern: str) -> str | None:
    """Why matching ``pattern`` can take exponential time, or None if it cannot.

    Parameters
    ----------
    pattern : str
        A regular expression that ``re.compile`` accepts.

    Returns
    -------
    str or None
        A short reason (one clause, no trailing period) for a refused pattern.
    """
    parsed = _sre_parse.parse(pattern)
    walker = _Walker(_BASE_SAMPLE | _pattern_chars(parsed))
    try:
        walker.sequence(parsed, parsed.state.flags)
    except _Refused as exc:
        return str(exc)
    except RecursionError:
        return "it is nested too deeply to be checked"
    return None
