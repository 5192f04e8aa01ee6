"""Counts in messages: "1 document", "2 documents", "11,314 documents" (always grouped)."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with thousands separators and ``noun`` in the right number."""
    word = noun if n == 1 else (plural or noun + "s")
    return f"{n:,} {word}"
