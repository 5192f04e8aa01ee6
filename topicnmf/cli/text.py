"""Text from models and corpora made safe for a terminal.

Vocabulary, labels, ids and paths come from files the user may not control. On a terminal
they are shown with control characters (ESC, BEL, other C0 and C1 codes, DEL), bidirectional
overrides and lone surrogates escaped, and never interpreted as rich markup, so a crafted
term cannot move the cursor, recolour the screen or crash the table. Machine formats (CSV,
JSON) keep the exact text; this module is only for what a person reads.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, bidi embeddings/overrides/isolates, lone surrogates
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0A:
        return "\\n"
    if code == 0x09:
        return "\\t"
    if code == 0x0D:
        return "\\r"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def terminal_safe(text: object) -> str:
    """``text`` with every character that could control a terminal written as an escape."""
    return _UNSAFE.sub(_escape, str(text))


def cell(text: object) -> object:
    """A rich table cell that shows ``text`` literally (no markup), made terminal-safe."""
    from rich.text import Text

    return Text(terminal_safe(text))
