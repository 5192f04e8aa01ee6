"""Term relevance (Sievert & Shirley 2014), automatic labels, and user label assignments.

The relevance of term w to topic t is ``lam * log(phi[t, w]) + (1 - lam) * log(phi[t, w] /
p[w])`` where ``phi`` is the topic's term distribution (a row of H, which sums to 1) and
``p`` the term's overall weight, ``sum_t share[t] * phi[t, w]``. With ``lam = 1`` it is the
plain weight order; lower values push down terms that are heavy in every topic. LDAvis's
user study found ``lam = 0.6`` the best single choice, which is what automatic labels use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from topicnmf.errors import ParameterError

__all__ = [
    "RELEVANCE_LAMBDA",
    "auto_labels",
    "fragment_topics",
    "is_fragment",
    "label_table",
    "parse_assignments",
    "relevance",
    "relevant_terms",
]

RELEVANCE_LAMBDA = 0.6
LABEL_TERMS = 3

# a term that is a number, holds a digit, or is too short or vowel-less to be a word
# ("ax", "b8f", "1993", "mmm"): topics made only of these are usually encoding debris
_VOWEL = re.compile(r"[aeiouy]", re.IGNORECASE)


def term_marginal(H: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Each term's overall weight ``p[w] = sum_t share[t] * H[t, w]`` (float64)."""
    return np.asarray(share, dtype=np.float64) @ np.asarray(H, dtype=np.float64)


def relevance(H: np.ndarray, share: np.ndarray, lam: float = RELEVANCE_LAMBDA) -> np.ndarray:
    """The relevance of every term to every topic, shape (k, n_terms); -inf where H is 0.

    Parameters
    ----------
    H : ndarray of shape (k, n_terms)
        Topic-term weights, rows summing to 1.
    share : ndarray of shape (k,)
        Each topic's share of the corpus.
    lam : float
        Weight of the term's own probability against its lift, in [0, 1].
    """
    if not 0.0 <= lam <= 1.0:
        raise ParameterError(
            f"relevance lambda must be between 0 and 1, not {lam!r}", param="lam", value=lam
        )
    phi = np.asarray(H, dtype=np.float64)
    p = term_marginal(phi, share)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_phi = np.log(phi)
        lift = log_phi - np.log(np.where(p > 0, p, 1.0))
        out = lam * log_phi + (1.0 - lam) * lift
    out[phi <= 0] = -np.inf
    return out


def relevant_terms(
    H: np.ndarray, share: np.ndarray, n: int, lam: float = RELEVANCE_LAMBDA
) -> list[list[int]]:
    """The columns of each topic's ``n`` most relevant terms (ties by column, zeros left out)."""
    if n < 1:
        raise ParameterError(f"the number of terms must be at least 1, not {n!r}", param="n")
    rel = relevance(H, share, lam)
    out = []
    for row in rel:
        n_pos = int(np.isfinite(row).sum())
        m = min(n, n_pos)
        if m == 0:
            out.append([])
            continue
        # stable sort on -relevance: column order among equal values
        cand = np.argpartition(-row, m - 1)[:m] if m < len(row) else np.arange(len(row))
        threshold = row[cand].min()
        cand = np.flatnonzero(row >= threshold)
        order = cand[np.argsort(-row[cand], kind="stable")][:m]
        out.append([int(j) for j in order])
    return out


def auto_labels(
    H: np.ndarray,
    share: np.ndarray,
    vocabulary: Sequence[str],
    n_terms: int = LABEL_TERMS,
    lam: float = RELEVANCE_LAMBDA,
) -> list[str]:
    """Automatic labels: each topic's most relevant terms joined by '_'.

    An empty topic (no term of positive weight) is ``empty_topic_<t>``.
    """
    return [
        "_".join(vocabulary[j] for j in cols) or f"empty_topic_{t}"
        for t, cols in enumerate(relevant_terms(H, share, n_terms, lam))
    ]


def is_fragment(term: str) -> bool:
    """Whether a term looks like a number or a fragment rather than a word."""
    words = term.split()
    return all(any(c.isdigit() for c in w) or len(w) <= 2 or not _VOWEL.search(w) for w in words)


def fragment_topics(
    H: np.ndarray,
    share: np.ndarray,
    vocabulary: Sequence[str],
    n_terms: int = 5,
    lam: float = RELEVANCE_LAMBDA,
) -> list[bool]:
    """For each topic, whether its ``n_terms`` most relevant terms are all numbers or
    fragments (see :func:`is_fragment`); an empty topic is not flagged."""
    return [
        bool(cols) and all(is_fragment(vocabulary[j]) for j in cols)
        for cols in relevant_terms(H, share, n_terms, lam)
    ]


def label_table(model: Any) -> list[dict[str, Any]]:
    """One record per topic: ``topic, label, auto_label, user_label, fragments``.

    ``label`` is what every output shows (the user's label when set, else the automatic
    one); ``fragments`` flags topics whose top terms are only numbers or fragments.
    """
    auto = auto_labels(model.H, model.topic_share, model.vocabulary)
    flags = fragment_topics(model.H, model.topic_share, model.vocabulary)
    users = list(model.labels) if model.labels else [""] * model.n_topics
    return [
        {
            "topic": t,
            "label": users[t] or auto[t],
            "auto_label": auto[t],
            "user_label": users[t],
            "fragments": flags[t],
        }
        for t in range(model.n_topics)
    ]


def parse_assignments(
    assignments: Sequence[str], n_topics: int, current: Sequence[str] | None = None
) -> list[str]:
    """Apply ``TOPIC=LABEL`` assignments to a list of labels ("" for unset).

    A label that is empty (``3=``) clears that topic's label. Labels are one line: leading
    and trailing spaces are removed and line breaks or other control characters refused.

    Raises
    ------
    ParameterError
        With ``param="labels"`` for an assignment that is not ``TOPIC=LABEL``, a topic
        out of range, a topic named twice, or a label with control characters.
    """
    labels = list(current) if current else [""] * n_topics
    seen: set[int] = set()
    for item in assignments:
        topic_text, sep, label = item.partition("=")
        topic_text = topic_text.strip()
        if not sep or not topic_text.isdigit():
            raise ParameterError(
                f"{item!r} is not TOPIC=LABEL (e.g. 3=Gardening)", param="labels", value=item
            )
        topic = int(topic_text)
        if topic >= n_topics:
            raise ParameterError(
                f"topic {topic} does not exist: the model has topics 0 to {n_topics - 1}",
                param="labels",
                value=item,
            )
        if topic in seen:
            raise ParameterError(f"topic {topic} is labeled twice", param="labels", value=item)
        label = label.strip()
        if any(ord(c) < 32 or ord(c) == 127 for c in label):
            raise ParameterError(
                f"the label of topic {topic} holds a line break or control character; "
                "give a one-line label",
                param="labels",
                value=item,
            )
        seen.add(topic)
        labels[topic] = label
    return labels
