"""Guided topics: seed words that name and steer some of the topics.

A seed-topics file holds one topic a line, a label, a colon, and comma-separated seed words;
a word with a space or a comma is written in double quotes::

    # topics we want to see
    Space: nasa, orbit, launch, "space shuttle"
    Hockey: nhl, puck, goalie

Blank lines and lines starting with ``#`` are skipped. Anything else that does not have this
form is an error naming the line. Seeded topics become topics 0..s-1 of the model, in the
file's order, under their labels; see :mod:`topicnmf.nmf._guided` for how the seed words
steer the fit.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from topicnmf.errors import ParameterError, TopicNMFError, TopicNMFWarning
from topicnmf.fileio import read_small_file

if TYPE_CHECKING:  # pragma: no cover
    from topicnmf.nmf import Guidance
    from topicnmf.vectorize import Vectorizer

__all__ = [
    "SeedTopic",
    "parse_seed_topics",
    "read_seed_topics",
    "seed_guidance",
    "seed_labels",
    "seed_recall",
]

_WORD = re.compile(r'\s*(?:"([^"]*)"|([^",]*))\s*(,|$)')


@dataclass(frozen=True)
class SeedTopic:
    """One guided topic: its label and its seed words (terms of the vocabulary)."""

    label: str
    words: tuple[str, ...]


def read_seed_topics(path: str | os.PathLike[str]) -> list[SeedTopic]:
    """Read a seed-topics file (UTF-8); see the module's docstring for the format.

    Raises
    ------
    TopicNMFError
        The file is missing, unreadable or not UTF-8, or a line is malformed (the message
        names the line), with ``param="seed_topics"`` and ``path``.
    """
    data = read_small_file(path, what="seed-topics file", param="seed_topics")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TopicNMFError(
            f"seed-topics file {os.fspath(path)!r} is not UTF-8 text (byte {exc.start})",
            param="seed_topics",
            path=path,
        ) from None
    return parse_seed_topics(text.splitlines(), source=os.fspath(path))


def parse_seed_topics(lines: Sequence[str], source: str = "<seed topics>") -> list[SeedTopic]:
    """Parse the lines of a seed-topics file.

    Raises
    ------
    TopicNMFError
        On the first malformed line: "SOURCE line N: what is wrong; the form is ...".
    """
    topics: list[SeedTopic] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, words, problem = _parse_line(line)
        if problem is None and label.casefold() in seen:
            problem = f"label {label!r} was already given on line {seen[label.casefold()]}"
        if problem is not None:
            raise TopicNMFError(
                f"{source} line {number}: {problem}; the form is "
                "'Label: word, word, \"two words\"'",
                param="seed_topics",
                path=source,
                value=raw,
            )
        seen[label.casefold()] = number
        topics.append(SeedTopic(label, words))
    return topics


def _parse_line(line: str) -> tuple[str, tuple[str, ...], str | None]:
    """(label, words, None), or ("", (), what is wrong)."""
    label, colon, rest = line.partition(":")
    label = label.strip()
    if not colon:
        return "", (), "no ':' after the label"
    if not label:
        return "", (), "the label before ':' is empty"
    if '"' in label:
        return "", (), "the label has a double quote"
    words: list[str] = []
    pos = 0
    rest = rest.strip()
    if not rest:
        return "", (), f"topic {label!r} has no seed words"
    while pos < len(rest):
        match = _WORD.match(rest, pos)
        if match is None or match.end() == pos:
            return "", (), f"cannot read the words after {label!r}: check the double quotes"
        word = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
        if not word:
            return "", (), f"an empty seed word in topic {label!r}"
        if word not in words:
            words.append(word)
        pos = match.end()
        if match.group(3) == "," and pos == len(rest):
            return "", (), f"an empty seed word in topic {label!r} (a ',' at the end)"
    return label, tuple(words), None


def seed_guidance(
    topics: Sequence[SeedTopic], vectorizer: Vectorizer, strength: float
) -> tuple[Guidance, list[SeedTopic]]:
    """The NMF guidance of seed topics under a fitted vectorizer's vocabulary.

    Seed words are lowercased when the vectorizer lowercases. Words missing from the
    vocabulary are dropped with one warning that names them.

    Returns
    -------
    guidance : Guidance
        The seed terms' column indices per topic, and ``strength``.
    kept : list of SeedTopic
        The topics with only the words that were found (as the model stores them).

    Raises
    ------
    ParameterError
        A seeded topic has none of its words in the vocabulary (``param="seed_topics"``).
    """
    from topicnmf.nmf import Guidance

    index = {term: i for i, term in enumerate(vectorizer.vocabulary)}
    lower = bool(vectorizer.config.lowercase)
    missing: list[str] = []
    columns: list[tuple[int, ...]] = []
    kept: list[SeedTopic] = []
    for topic in topics:
        words = [w.lower() if lower else w for w in topic.words]
        found = [w for w in words if w in index]
        missing += [f"{w!r} ({topic.label})" for w in words if w not in index]
        if not found:
            raise ParameterError(
                f"seed topic {topic.label!r} has none of its words in the vocabulary "
                f"({', '.join(repr(w) for w in words)}); check their spelling, or keep more "
                "terms (a lower min_df, a higher max_df)",
                param="seed_topics",
                value=topic.label,
            )
        columns.append(tuple(index[w] for w in found))
        kept.append(SeedTopic(topic.label, tuple(found)))
    if missing:
        warnings.warn(
            f"{len(missing)} seed word{'s are' if len(missing) > 1 else ' is'} not in the "
            f"vocabulary and {'were' if len(missing) > 1 else 'was'} ignored: "
            + ", ".join(missing),
            TopicNMFWarning,
            stacklevel=2,
        )
    return Guidance(tuple(columns), strength), kept


def seed_labels(topics: Sequence[SeedTopic], n_topics: int) -> list[str]:
    """The model's labels: the seeded topics' labels, then "" for the free topics."""
    return [t.label for t in topics] + [""] * (n_topics - len(topics))


def seed_recall(
    H: np.ndarray, topics: Sequence[SeedTopic], vocabulary: Sequence[str], top_n: int
) -> list[int]:
    """For each seeded topic t (row t of H), how many of its seed words are in its top_n."""
    from topicnmf.quality import top_term_indices

    top = top_term_indices(H[: len(topics)], top_n)
    out = []
    for t, topic in enumerate(topics):
        terms = {vocabulary[i] for i in top[t]}
        out.append(sum(w in terms for w in topic.words))
    return out
