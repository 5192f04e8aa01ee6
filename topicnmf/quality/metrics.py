"""Figures of one model: NPMI coherence, diversity, relative error, dominant topics.

NPMI coherence
    For a reference corpus of ``D`` documents, tokenized with the model's own vectorizer, let
    ``D(w)`` be the number of documents containing term ``w`` and ``D(wi, wj)`` the number
    containing both. With ``P(w) = D(w) / D`` and ``P(wi, wj) = D(wi, wj) / D``::

        NPMI(wi, wj) = log(P(wi, wj) / (P(wi) P(wj))) / -log P(wi, wj)

    A pair that never co-occurs (``D(wi, wj) = 0``, which includes a term absent from the
    reference corpus) scores -1; a pair that co-occurs in every document (``P(wi, wj) = 1``,
    where the formula is 0/0) scores 1, the limit for terms that always appear together.
    ``D`` counts every document of the reference corpus, also those left with no term of the
    vocabulary. A topic's score is the mean over the ``N (N - 1) / 2`` pairs of its top ``N``
    terms; the model's score is the mean over topics. Natural logarithms (the base cancels).

Topic diversity
    The number of distinct terms among all topics' top ``N`` terms divided by ``k * N``
    (1 when no term is shared between topics).

Relative reconstruction error
    ``||V - W H||_F / ||V||_F`` with ``W`` the document-topic weights of ``V`` (for a new
    corpus, the non-negative least squares solution with ``H`` fixed).

Dominant topic
    The topic with the largest weight in a document's row of ``W``; a row of zeros (a document
    with no term of the vocabulary, or a collapsed model) has none. The documents each topic
    dominates plus those without a dominant topic add up to the number of documents.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from topicnmf.errors import ParameterError
from topicnmf.quality._common import as_2d_finite, check_top_n, plain, top_array

if TYPE_CHECKING:  # pragma: no cover - imported lazily at run time (see evaluate_topics)
    from topicnmf.config import NMFConfig

__all__ = [
    "NPMI_DEFINITION",
    "Evaluation",
    "TopicQuality",
    "dominance_counts",
    "dominant_topics",
    "evaluate_topics",
    "npmi_pair_matrix",
    "relative_error",
    "top_indices",
    "top_term_indices",
    "topic_diversity",
    "topic_npmi",
]

NPMI_DEFINITION = (
    "NPMI of a pair of top terms, over the D documents of the reference corpus: "
    "log(P(wi,wj) / (P(wi) P(wj))) / -log P(wi,wj), where P(w) = D(w)/D and "
    "P(wi,wj) = D(wi,wj)/D are the shares of documents containing w, and both terms. "
    "A pair that never co-occurs scores -1 (also when a term is absent from the corpus); "
    "a pair present in every document scores 1. A topic's coherence is the mean over the "
    "N(N-1)/2 pairs of its top N terms; the overall score is the mean over topics."
)

# Below this many matrix entries relative_error forms V - WH densely (exact); above,
# it uses the expansion ||V||^2 - 2<V, WH> + ||WH||^2, which never forms WH.
_DENSE_RECONSTRUCTION_LIMIT = 1 << 22


@dataclass(frozen=True)
class TopicQuality:
    """Quality figures for one topic.

    Attributes
    ----------
    topic : int
        Topic index (row of ``H``).
    top_indices : tuple of int
        Columns of the top ``N`` terms, highest weight first.
    top_terms : tuple of str or None
        The same terms as strings, when a vocabulary was given.
    npmi : float or None
        Mean NPMI of the top terms' pairs; None without a reference corpus.
    n_dominant : int or None
        Documents whose dominant topic this is; None without document weights.
    """

    topic: int
    top_indices: tuple[int, ...]
    top_terms: tuple[str, ...] | None
    npmi: float | None
    n_dominant: int | None


@dataclass(frozen=True)
class Evaluation:
    """Per-topic and overall quality of one model (result of :func:`evaluate_topics`).

    Attributes
    ----------
    top_n : int
        Number of top terms per topic used for NPMI and diversity.
    topics : list of TopicQuality
        One entry per topic, in the model's topic order.
    npmi : float or None
        Mean of the topics' NPMI; None without a reference corpus.
    diversity : float
        Share of distinct terms among all topics' top terms.
    relative_error : float or None
        ``||V - WH||_F / ||V||_F``; None unless both ``V`` and ``W`` are known (and ``V`` is
        not all zero).
    n_documents : int or None
        Documents in the reference corpus (rows of ``V`` or ``W``).
    n_undominated : int or None
        Documents with an all-zero weight row (no dominant topic). With the topics'
        ``n_dominant`` it adds up to ``n_documents``.
    """

    top_n: int
    topics: list[TopicQuality]
    npmi: float | None
    diversity: float
    relative_error: float | None
    n_documents: int | None
    n_undominated: int | None

    def to_dict(self) -> dict[str, Any]:
        """Return plain Python types (lists, floats, None) ready for ``json.dumps``."""
        return plain(dataclasses.asdict(self))


def top_term_indices(H: Any, top_n: int = 10) -> np.ndarray:
    """Return the columns of each topic's ``top_n`` heaviest terms, heaviest first.

    Parameters
    ----------
    H : array-like of shape (k, n_terms)
        Topic-term weights.
    top_n : int, default 10
        Terms per topic (at least 2, at most ``n_terms``).

    Returns
    -------
    numpy.ndarray of shape (k, top_n), int64
        Equal weights are ordered by column (a stable sort), so the result is deterministic.
    """
    H = as_2d_finite("H", H)
    top_n = check_top_n(top_n, H.shape[1])
    return np.array([top_indices(row, top_n) for row in H], dtype=np.int64).reshape(-1, top_n)


def top_indices(row: np.ndarray, n: int) -> np.ndarray:
    """``np.argsort(-row, kind="stable")[:n]`` without sorting the whole row.

    The n-th largest value is found by partitioning; every entry at least that large
    (ties included) is then sorted stably, so equal weights keep column order exactly
    as in the full sort.
    """
    n = min(n, len(row))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if 4 * n >= len(row) or np.isnan(row).any():
        return np.argsort(-row, kind="stable")[:n]
    kth = np.partition(row, len(row) - n)[len(row) - n]
    candidates = np.flatnonzero(row >= kth)
    return candidates[np.argsort(-row[candidates], kind="stable")[:n]]


def _presence_counts(X: Any, columns: np.ndarray) -> tuple[int, np.ndarray]:
    """Document count and the co-occurrence count matrix of ``columns`` of ``X``.

    Returns ``(D, C)`` with ``C[a, b]`` the number of rows where both ``columns[a]`` and
    ``columns[b]`` are non-zero (``C[a, a]`` the document frequency of ``columns[a]``).
    """
    if sp.issparse(X):
        Xs = sp.csr_matrix(X)[:, columns]
    else:
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise ParameterError(f"the reference matrix must be 2-d, got shape {arr.shape}")
        Xs = sp.csr_matrix(arr[:, columns])
    Xs.eliminate_zeros()
    B = Xs.astype(bool).astype(np.int64)
    C = (B.T @ B).toarray()
    return int(X.shape[0]), np.asarray(C, dtype=np.int64)


def npmi_from_counts(D: int, C: np.ndarray) -> np.ndarray:
    """NPMI for every pair of a co-occurrence count matrix (diagonal = document frequency)."""
    df = np.diag(C).astype(np.float64)
    joint = C.astype(np.float64)
    out = np.full(C.shape, -1.0)
    # Pairs seen together in some, but not all, documents: the plain formula.
    regular = (joint > 0) & (joint < D)
    if np.any(regular):
        rows, cols = np.nonzero(regular)
        j = joint[rows, cols]
        pmi = np.log(j) + math.log(D) - np.log(df[rows]) - np.log(df[cols])
        out[rows, cols] = pmi / (math.log(D) - np.log(j))
    # Together in every document: 0/0 in the formula; the limit of perfect co-occurrence.
    out[joint >= D] = 1.0
    return np.clip(out, -1.0, 1.0)


def npmi_pair_matrix(X: Any, columns: Sequence[int] | np.ndarray) -> np.ndarray:
    """NPMI of every pair of the given columns of a reference document-term matrix.

    Parameters
    ----------
    X : sparse matrix or array of shape (n_documents, n_terms)
        Any document-term matrix of the reference corpus in the model's vocabulary (counts,
        TF-IDF, binary): only whether an entry is non-zero matters.
    columns : sequence of int
        The terms to pair.

    Returns
    -------
    numpy.ndarray of shape (len(columns), len(columns))
        NPMI as defined in :data:`NPMI_DEFINITION`; the diagonal is a term paired with itself.
    """
    cols = np.asarray(columns, dtype=np.int64)
    D, C = _presence_counts(X, cols)
    if D == 0:
        raise ParameterError("the reference corpus has no documents; NPMI needs at least one")
    return npmi_from_counts(D, C)


def topic_npmi(top_indices: Any, X: Any) -> np.ndarray:
    """Mean NPMI of each topic's top terms on a reference corpus.

    Parameters
    ----------
    top_indices : array-like of shape (k, N), int
        Columns of each topic's top terms (see :func:`top_term_indices`).
    X : sparse matrix or array of shape (n_documents, n_terms)
        The reference corpus in the model's vocabulary; non-zero means "the document contains
        the term". Only the columns named in ``top_indices`` are read.

    Returns
    -------
    numpy.ndarray of shape (k,)
        Each topic's mean NPMI over its ``N (N - 1) / 2`` pairs (see :data:`NPMI_DEFINITION`).
    """
    top = top_array(top_indices)
    n_top = top.shape[1]
    if n_top < 2:
        raise ParameterError("NPMI needs at least 2 top terms per topic")
    if top.min() < 0 or top.max() >= X.shape[1]:
        raise ParameterError(
            f"top term indices must lie in [0, {X.shape[1]}) (the reference matrix's columns)"
        )
    # Count co-occurrences once, for the union of all topics' top terms: B_S^T B_S.
    union, position = np.unique(top, return_inverse=True)
    position = position.reshape(top.shape)
    npmi = npmi_pair_matrix(X, union)
    iu, ju = np.triu_indices(n_top, k=1)
    pairs = npmi[position[:, iu], position[:, ju]]  # (k, n_pairs)
    return pairs.mean(axis=1)


def topic_diversity(top_indices: Any) -> float:
    """Share of distinct terms among all topics' top terms.

    Parameters
    ----------
    top_indices : array-like of shape (k, N), int
        Columns of each topic's top terms.

    Returns
    -------
    float
        ``len(unique terms) / (k * N)``: 1.0 when no two topics share a top term.
    """
    top = top_array(top_indices)
    return float(np.unique(top).size / top.size)


def relative_error(V: Any, W: Any, H: Any) -> float:
    """Relative reconstruction error ``||V - W H||_F / ||V||_F``.

    Parameters
    ----------
    V : sparse matrix or array of shape (n_documents, n_terms)
    W : array-like of shape (n_documents, k)
    H : array-like of shape (k, n_terms)

    Returns
    -------
    float
        0 for an exact factorization; 1 for ``W H = 0``.

    Notes
    -----
    For large matrices the product ``W H`` is never formed: the squared error comes from
    :func:`topicnmf.nmf.frobenius_loss`, which expands it in float64.
    """
    W = as_2d_finite("W", W)
    H = as_2d_finite("H", H)
    n, m = V.shape
    if W.shape[0] != n or H.shape[1] != m or W.shape[1] != H.shape[0]:
        raise ParameterError(
            f"shapes do not fit: V {V.shape}, W {W.shape}, H {H.shape} (need V ~ W @ H)"
        )
    if sp.issparse(V):
        Vs = sp.csr_matrix(V, dtype=np.float64)
        norm_v2 = float(np.dot(Vs.data, Vs.data))
    else:
        Vd = np.asarray(V, dtype=np.float64)
        norm_v2 = float(np.sum(Vd * Vd))
    if norm_v2 == 0.0:
        raise ParameterError(
            "the document-term matrix is all zero (no document has a term of the vocabulary); "
            "the relative reconstruction error is undefined"
        )
    if n * m <= _DENSE_RECONSTRUCTION_LIMIT:
        dense = Vs.toarray() if sp.issparse(V) else Vd
        err2 = float(np.sum((dense - W @ H) ** 2))
    else:
        # the engine's loss already expands the square without forming W H
        from topicnmf.nmf import frobenius_loss

        err2 = 2.0 * frobenius_loss(Vs if sp.issparse(V) else Vd, W, H)
    return math.sqrt(err2 / norm_v2)


def dominant_topics(W: Any) -> np.ndarray:
    """Each document's dominant topic: the argmax of its row of ``W``, or -1 for a zero row.

    Parameters
    ----------
    W : array-like of shape (n_documents, k)

    Returns
    -------
    numpy.ndarray of shape (n_documents,), int64
        Ties go to the lower topic index.
    """
    W = as_2d_finite("W", W)
    if W.shape[1] == 0:
        return np.full(W.shape[0], -1, dtype=np.int64)
    best = np.argmax(W, axis=1).astype(np.int64)
    best[~(W.max(axis=1) > 0)] = -1
    return best


def dominance_counts(W: Any) -> tuple[np.ndarray, int]:
    """How many documents each topic dominates.

    Parameters
    ----------
    W : array-like of shape (n_documents, k)

    Returns
    -------
    counts : numpy.ndarray of shape (k,), int64
        Documents whose dominant topic is each topic.
    n_none : int
        Documents with an all-zero row, dominated by no topic.
    """
    W = np.asarray(W)
    dom = dominant_topics(W)
    counts = np.bincount(dom[dom >= 0], minlength=W.shape[1]).astype(np.int64)
    return counts, int(np.sum(dom < 0))


def evaluate_topics(
    H: Any,
    V: Any | None = None,
    W: Any | None = None,
    *,
    vocabulary: Sequence[str] | None = None,
    top_n: int = 10,
    nmf_config: NMFConfig | None = None,
    n_threads: int | None = None,
) -> Evaluation:
    """Per-topic and overall quality of a model, optionally on a reference corpus.

    Parameters
    ----------
    H : array-like of shape (k, n_terms)
        The model's topics.
    V : sparse matrix of shape (n_documents, n_terms), optional
        The reference corpus vectorized with the model's own vectorizer (its ``transform``),
        e.g. the training corpus or a held-out split. Gives NPMI and, with ``W``, the
        reconstruction error.
    W : array-like of shape (n_documents, k), optional
        Document-topic weights of ``V`` (or of the training documents when ``V`` is not
        given). If ``V`` is given and ``W`` is not, it is computed with
        ``topicnmf.nmf.transform(V, H, nmf_config)``.
    vocabulary : sequence of str, optional
        Term strings in column order, to report top terms as words.
    top_n : int, default 10
        Top terms per topic for NPMI and diversity.
    nmf_config : NMFConfig, optional
        The model's NMF settings, used only to compute ``W`` (default: the engine's defaults).
    n_threads : int, optional
        Threads for that transform.

    Returns
    -------
    Evaluation
    """
    H = as_2d_finite("H", H)
    k, m = H.shape
    if vocabulary is not None and len(vocabulary) != m:
        raise ParameterError(f"vocabulary has {len(vocabulary)} terms but H has {m} columns")
    top = top_term_indices(H, top_n)
    npmi_topics: np.ndarray | None = None
    if V is not None:
        if V.shape[1] != m:
            raise ParameterError(
                f"the corpus matrix has {V.shape[1]} columns but the model has {m} terms; "
                "vectorize the corpus with the model's own vectorizer"
            )
        npmi_topics = topic_npmi(top, V)
        if W is None:
            from topicnmf.nmf import NMFConfig, transform

            config = nmf_config if nmf_config is not None else NMFConfig(n_components=k)
            W = transform(V, H, config, n_threads=n_threads)
    counts: np.ndarray | None = None
    n_none: int | None = None
    n_docs = None if V is None else int(V.shape[0])
    if W is not None:
        W = as_2d_finite("W", W)
        if W.shape[1] != k:
            raise ParameterError(f"W has {W.shape[1]} columns but the model has {k} topics")
        if V is not None and W.shape[0] != V.shape[0]:
            raise ParameterError(f"W has {W.shape[0]} rows but the corpus has {V.shape[0]}")
        counts, n_none = dominance_counts(W)
        n_docs = int(W.shape[0])
    error = None
    # the relative error of a corpus with no term of the vocabulary is undefined (0 / 0)
    if V is not None and W is not None and (V.nnz if sp.issparse(V) else np.any(V)):
        error = relative_error(V, W, H)
    topics = [
        TopicQuality(
            topic=t,
            top_indices=tuple(int(i) for i in top[t]),
            top_terms=None if vocabulary is None else tuple(str(vocabulary[i]) for i in top[t]),
            npmi=None if npmi_topics is None else float(npmi_topics[t]),
            n_dominant=None if counts is None else int(counts[t]),
        )
        for t in range(k)
    ]
    return Evaluation(
        top_n=int(top.shape[1]),
        topics=topics,
        npmi=None if npmi_topics is None else float(np.mean(npmi_topics)),
        diversity=topic_diversity(top),
        relative_error=error,
        n_documents=n_docs,
        n_undominated=n_none,
    )
