"""Matching topics: between two models (compare), and between runs (stability).

Two models' topics are compared by the cosine similarity of their term weights over the
union of both vocabularies: a term that one model does not know weighs zero there, so two
models of unrelated corpora, which share only common words, are not similar. Topics are
paired one-to-one by the Hungarian algorithm maximizing the total similarity.

Runs of one model (select-k's stability) are compared by their ranked top terms: the Average
Jaccard similarity of two ranked lists is the mean, over depths ``d = 1..N``, of the Jaccard
index of their top-``d`` sets (Greene, O'Callaghan & Cunningham 2014).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from topicnmf.errors import ParameterError
from topicnmf.quality._common import as_2d_finite, plain, top_array

__all__ = [
    "Comparison",
    "TopicMatch",
    "average_jaccard_matrix",
    "compare_topics",
    "match_topics",
    "ranking_agreement",
]


@dataclass(frozen=True)
class TopicMatch:
    """A pair of topics matched between model A and model B.

    Attributes
    ----------
    topic_a, topic_b : int
        Topic indices in model A and model B.
    similarity : float
        Cosine similarity of the two topics' term weights over the union of the two
        vocabularies.
    """

    topic_a: int
    topic_b: int
    similarity: float


@dataclass(frozen=True)
class Comparison:
    """Topic matching between two models (result of :func:`compare_topics`).

    Attributes
    ----------
    pairs : list of TopicMatch
        Every pair chosen by the Hungarian assignment, ordered by ``topic_a``, including those
        below the threshold (see :attr:`matches`).
    only_a, only_b : list of int
        Topics of A (of B) without a match at or above the threshold: left out of the
        assignment (the models have different k) or matched below the threshold.
    threshold : float
        Minimum similarity for a pair to count as the same topic.
    similarity : numpy.ndarray
        The full ``k_a x k_b`` cosine similarity matrix.
    n_shared_terms : int
        Terms both vocabularies hold (the only ones that add to a similarity).
    n_union_terms : int
        Terms in either vocabulary (the space the topics are compared in).
    """

    pairs: list[TopicMatch]
    only_a: list[int]
    only_b: list[int]
    threshold: float
    similarity: np.ndarray = field(repr=False)
    n_shared_terms: int
    n_union_terms: int

    @property
    def matches(self) -> list[TopicMatch]:
        """Pairs at or above the threshold: topics found in both models."""
        return [p for p in self.pairs if p.similarity >= self.threshold]

    def to_dict(self) -> dict[str, Any]:
        """Return plain Python types ready for ``json.dumps`` (matrix as nested lists)."""
        return {
            "matches": [dataclasses.asdict(p) for p in self.matches],
            "pairs": [dataclasses.asdict(p) for p in self.pairs],
            "only_a": list(self.only_a),
            "only_b": list(self.only_b),
            "threshold": float(self.threshold),
            "n_shared_terms": int(self.n_shared_terms),
            "n_union_terms": int(self.n_union_terms),
            "similarity": plain(self.similarity),
        }


def match_topics(similarity: Any) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of topics that maximizes the total similarity (Hungarian algorithm).

    Parameters
    ----------
    similarity : array-like of shape (k_a, k_b)
        ``similarity[i, j]`` between topic ``i`` of A and topic ``j`` of B.

    Returns
    -------
    rows, cols : numpy.ndarray of int64
        Matched pairs ``(rows[p], cols[p])``, ``min(k_a, k_b)`` of them, ordered by row.
    """
    S = np.asarray(similarity, dtype=np.float64)
    if S.ndim != 2:
        raise ParameterError(f"similarity must be a 2-d matrix, got shape {S.shape}")
    if not np.all(np.isfinite(S)):
        raise ParameterError("similarity contains NaN or infinite values")
    # imported here: scipy.optimize costs ~0.15 s to import, and only matching needs it
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(S, maximize=True)
    return rows.astype(np.int64), cols.astype(np.int64)


def average_jaccard_matrix(top_a: Any, top_b: Any) -> np.ndarray:
    """Average Jaccard similarity between every ranked top-term list of A and of B.

    Parameters
    ----------
    top_a : array-like of shape (k_a, N), int
    top_b : array-like of shape (k_b, N), int
        Ranked term lists (highest weight first) without repeated terms within a list.

    Returns
    -------
    numpy.ndarray of shape (k_a, k_b)
        ``mean over d = 1..N of |A_d & B_d| / |A_d | B_d|`` where ``A_d`` is the set of the
        first ``d`` terms. 1 for identical rankings, 0 for disjoint lists.
    """
    a = top_array(top_a)
    b = top_array(top_b)
    if a.shape[1] != b.shape[1]:
        raise ParameterError(
            f"ranked lists must have the same length, got {a.shape[1]} and {b.shape[1]}"
        )
    n = a.shape[1]
    # same[i, j, p, q]: term at rank p of A's topic i is the term at rank q of B's topic j.
    same = a[:, None, :, None] == b[None, :, None, :]
    # Intersection of the depth-d prefixes = number of matches in the leading d x d block.
    cum = same.cumsum(axis=2).cumsum(axis=3)
    depth = np.arange(n)
    inter = cum[:, :, depth, depth].astype(np.float64)  # (k_a, k_b, N)
    d = (depth + 1).astype(np.float64)
    return np.mean(inter / (2.0 * d - inter), axis=2)


def ranking_agreement(reference_top: Any, other_top: Any) -> float:
    """Agreement between two models' ranked top terms (Greene et al. 2014).

    Topics are matched one-to-one by the Hungarian algorithm on the Average Jaccard matrix;
    the agreement is the mean Average Jaccard of the matched pairs.

    Parameters
    ----------
    reference_top, other_top : array-like of shape (k, N), int
        Top term indices of the two models (same k and N).

    Returns
    -------
    float
        In [0, 1]; 1 when the two models have the same ranked top terms (in any topic order).
    """
    aj = average_jaccard_matrix(reference_top, other_top)
    if aj.shape[0] != aj.shape[1]:
        raise ParameterError(
            f"the models must have the same number of topics, got {aj.shape[0]} and {aj.shape[1]}"
        )
    rows, cols = match_topics(aj)
    return float(np.mean(aj[rows, cols]))


def compare_topics(
    H_a: Any,
    vocab_a: Sequence[str],
    H_b: Any,
    vocab_b: Sequence[str],
    threshold: float = 0.3,
) -> Comparison:
    """Match the topics of two models by the cosine similarity of their term weights.

    Each topic is a vector over the union of the two vocabularies, zero at the terms its
    model does not know: the dot product involves the shared terms only, while each norm
    counts all of the topic's own terms. Topics are matched one-to-one by the Hungarian
    algorithm maximizing the total similarity; a matched pair below ``threshold`` is not the
    same topic, and its two topics are reported as found in one model only, as are topics
    left over when the models have different numbers of topics.

    Parameters
    ----------
    H_a, H_b : array-like of shape (k_a, n_a) and (k_b, n_b)
        Topic-term weights of models A and B.
    vocab_a, vocab_b : sequence of str
        Their vocabularies in column order.
    threshold : float, default 0.3
        Minimum cosine similarity, in [0, 1], for a matched pair to count as the same topic.

    Returns
    -------
    Comparison
    """
    H_a = as_2d_finite("H_a", H_a)
    H_b = as_2d_finite("H_b", H_b)
    if len(vocab_a) != H_a.shape[1]:
        raise ParameterError(f"model A has {H_a.shape[1]} columns but {len(vocab_a)} terms")
    if len(vocab_b) != H_b.shape[1]:
        raise ParameterError(f"model B has {H_b.shape[1]} columns but {len(vocab_b)} terms")
    if isinstance(threshold, bool) or not (
        isinstance(threshold, (int, float)) and 0.0 <= float(threshold) <= 1.0
    ):
        raise ParameterError(
            f"threshold must be a number between 0 and 1, got {threshold!r}", param="threshold"
        )
    index_b = {str(t): j for j, t in enumerate(vocab_b)}
    pairs_ab = [(i, index_b.get(str(term))) for i, term in enumerate(vocab_a)]
    cols_a = np.array([i for i, j in pairs_ab if j is not None], dtype=np.int64)
    cols_b = np.array([j for _, j in pairs_ab if j is not None], dtype=np.int64)
    n_union = len(vocab_a) + len(vocab_b) - len(cols_a)
    # A term outside the shared vocabulary adds to its own topic's norm and to no product.
    denom = np.outer(np.linalg.norm(H_a, axis=1), np.linalg.norm(H_b, axis=1))
    dots = H_a[:, cols_a] @ H_b[:, cols_b].T
    with np.errstate(invalid="ignore", divide="ignore"):
        # an empty topic (all zero) is similar to nothing
        sim = np.where(denom > 0, dots / np.where(denom > 0, denom, 1.0), 0.0)
    sim = np.clip(sim, 0.0, 1.0)
    rows, cols = match_topics(sim)
    pairs = [TopicMatch(int(r), int(c), float(sim[r, c])) for r, c in zip(rows, cols, strict=True)]
    good = [p for p in pairs if p.similarity >= threshold]
    return Comparison(
        pairs=pairs,
        only_a=sorted(set(range(H_a.shape[0])) - {p.topic_a for p in good}),
        only_b=sorted(set(range(H_b.shape[0])) - {p.topic_b for p in good}),
        threshold=float(threshold),
        similarity=sim,
        n_shared_terms=len(cols_a),
        n_union_terms=n_union,
    )
