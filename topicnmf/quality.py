"""Topic quality: coherence, diversity, fit, stability, and topic matching between models.

The functions here take plain arrays (``H`` topics x terms, ``W`` documents x topics, ``V`` a
documents x terms matrix in the model's vocabulary) and return numbers or small frozen
dataclasses that the command line renders as a table, CSV or JSON. Nothing here reads files
or prints.

Definitions (the command line's ``--help`` quotes :data:`NPMI_DEFINITION`):

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
    with no term of the vocabulary) has none.

Stability (Greene, O'Callaghan & Cunningham 2014)
    For each ``k``, a reference model is fitted on all documents and ``runs`` models on random
    subsamples (``sample_fraction`` of the documents, without replacement). Each subsample
    model's topics are matched one-to-one to the reference topics by the Hungarian algorithm
    maximising the Average Jaccard similarity of their ranked top ``N`` term lists (the mean,
    over depths ``d = 1..N``, of the Jaccard index of the two top-``d`` sets); the agreement
    is the mean similarity of the matched pairs and the stability the mean agreement over
    runs (1 = every subsample finds the same ranked top terms).
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from topicnmf.config import available_cores
from topicnmf.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover - imported lazily at run time (see _nmf)
    from topicnmf.nmf import NMFConfig

__all__ = [
    "NPMI_DEFINITION",
    "STABILITY_DEFINITION",
    "RECOMMENDATION_RULE",
    "TopicQuality",
    "Evaluation",
    "TopicMatch",
    "Comparison",
    "SelectKProgress",
    "SelectKRow",
    "SelectKResult",
    "top_indices",
    "top_term_indices",
    "npmi_pair_matrix",
    "topic_npmi",
    "topic_diversity",
    "relative_error",
    "dominant_topics",
    "dominance_counts",
    "evaluate_topics",
    "parse_k_spec",
    "match_topics",
    "average_jaccard_matrix",
    "ranking_agreement",
    "compare_topics",
    "recommend_k",
    "select_k",
]

NPMI_DEFINITION = (
    "NPMI of a pair of top terms, over the D documents of the reference corpus: "
    "log(P(wi,wj) / (P(wi) P(wj))) / -log P(wi,wj), where P(w) = D(w)/D and "
    "P(wi,wj) = D(wi,wj)/D are the shares of documents containing w, and both terms. "
    "A pair that never co-occurs scores -1 (also when a term is absent from the corpus); "
    "a pair present in every document scores 1. A topic's coherence is the mean over the "
    "N(N-1)/2 pairs of its top N terms; the overall score is the mean over topics."
)

STABILITY_DEFINITION = (
    "Stability: models fitted on random subsamples of the documents are compared with the "
    "model fitted on all of them; topics are matched by the Hungarian algorithm on the "
    "Average Jaccard similarity of their ranked top N terms, and the score is the mean "
    "similarity of matched topics over all subsamples (1 = identical top terms)."
)

RECOMMENDATION_RULE = (
    "Recommended k: among the k whose stability is within the tolerance of the highest "
    "stability, the one with the highest mean NPMI (ties: the smaller k). Without stability "
    "runs, the k with the highest mean NPMI."
)

# Below this many matrix entries relative_error forms V - WH densely (exact); above,
# it uses the expansion ||V||^2 - 2<V, WH> + ||WH||^2, which never forms WH.
_DENSE_RECONSTRUCTION_LIMIT = 1 << 22


# ---------------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------------


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
        ``||V - WH||_F / ||V||_F``; None unless both ``V`` and ``W`` are known.
    n_documents : int or None
        Documents in the reference corpus (rows of ``V`` or ``W``).
    n_undominated : int or None
        Documents with an all-zero weight row (no dominant topic).
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
        return _plain(dataclasses.asdict(self))


@dataclass(frozen=True)
class TopicMatch:
    """A pair of topics matched between model A and model B.

    Attributes
    ----------
    topic_a, topic_b : int
        Topic indices in model A and model B.
    similarity : float
        Cosine similarity of the two topics' term weights over the shared vocabulary.
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
        Size of the vocabulary the two models share (the columns compared).
    """

    pairs: list[TopicMatch]
    only_a: list[int]
    only_b: list[int]
    threshold: float
    similarity: np.ndarray = field(repr=False)
    n_shared_terms: int

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
            "similarity": _plain(self.similarity),
        }


@dataclass(frozen=True)
class SelectKProgress:
    """Progress report passed to :func:`select_k`'s callback after each fitted model.

    Attributes
    ----------
    done, total : int
        Models fitted so far and in all (``len(ks) * (runs + 1)``).
    k : int
        Number of topics of the model just fitted.
    run : int
        0 for the reference model on all documents, 1..runs for subsample models.
    seconds : float
        Wall-clock time of that fit.
    """

    done: int
    total: int
    k: int
    run: int
    seconds: float


@dataclass(frozen=True)
class SelectKRow:
    """Figures for one candidate k (one row of the select-k table).

    Attributes
    ----------
    k : int
        Number of topics.
    npmi : float
        Mean NPMI of the reference model's top terms on the corpus itself.
    diversity : float
        Topic diversity of the reference model.
    relative_error : float
        Relative reconstruction error of the reference model.
    stability : float or None
        Mean agreement of the subsample models with the reference model; None if runs = 0.
    stability_std : float or None
        Standard deviation of that agreement over runs; None if runs = 0.
    n_iter : int
        Iterations of the reference fit.
    converged : bool
        Whether every fit for this k (reference and subsamples) converged.
    seconds : float
        Total fitting time for this k, summed over its fits.
    top_terms : list of list of str, or None
        The reference model's top terms per topic (as indices' strings when a vocabulary was
        given, else None).
    """

    k: int
    npmi: float
    diversity: float
    relative_error: float
    stability: float | None
    stability_std: float | None
    n_iter: int
    converged: bool
    seconds: float
    top_terms: list[list[str]] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SelectKResult:
    """Result of :func:`select_k`.

    Attributes
    ----------
    rows : list of SelectKRow
        One per candidate k, in increasing k.
    recommended_k : int
        The k chosen by :data:`RECOMMENDATION_RULE`.
    reason : str
        One sentence saying why that k was chosen.
    top_n, runs, sample_fraction, seed, tolerance
        The settings used.
    """

    rows: list[SelectKRow]
    recommended_k: int
    reason: str
    top_n: int
    runs: int
    sample_fraction: float
    seed: int
    tolerance: float

    def to_dict(self, *, timings: bool = False) -> dict[str, Any]:
        """Return plain Python types ready for ``json.dumps``.

        Parameters
        ----------
        timings : bool, default False
            Keep each row's ``seconds``. Left out by default so that the same command on the
            same input gives the same output, byte for byte.
        """
        out = _plain(dataclasses.asdict(self))
        if not timings:
            for row in out["rows"]:
                row.pop("seconds", None)
        return out


def _plain(obj: Any) -> Any:
    """Turn numpy scalars and arrays inside ``obj`` into Python floats, ints and lists."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------


def _check_top_n(top_n: int, n_terms: int) -> int:
    if isinstance(top_n, bool) or not isinstance(top_n, (int, np.integer)):
        raise ParameterError(f"top_n must be an integer, got {top_n!r}")
    if top_n < 2:
        raise ParameterError(f"top_n must be at least 2 (NPMI needs pairs of terms), got {top_n}")
    if top_n > n_terms:
        raise ParameterError(
            f"top_n={top_n} is larger than the vocabulary ({n_terms} terms); use a smaller --top"
        )
    return int(top_n)


def _as_2d_finite(name: str, a: Any) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2:
        raise ParameterError(f"{name} must be a 2-d array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name} contains NaN or infinite values")
    return arr


def _top_array(top_indices: Any) -> np.ndarray:
    top = np.asarray(top_indices)
    if top.ndim != 2 or top.shape[0] == 0:
        raise ParameterError(
            f"top_indices must be a 2-d array (topics x terms), got shape {top.shape}"
        )
    if top.size and not np.issubdtype(top.dtype, np.integer):
        raise ParameterError("top_indices must hold integer column indices")
    return top.astype(np.int64, copy=False)


# ---------------------------------------------------------------------------------------------
# Per-model metrics
# ---------------------------------------------------------------------------------------------


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
    H = _as_2d_finite("H", H)
    top_n = _check_top_n(top_n, H.shape[1])
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


def _npmi_from_counts(D: int, C: np.ndarray) -> np.ndarray:
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
    return _npmi_from_counts(D, C)


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
    top = _top_array(top_indices)
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
    top = _top_array(top_indices)
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
    W = _as_2d_finite("W", W)
    H = _as_2d_finite("H", H)
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
        err2 = 2.0 * _nmf().frobenius_loss(Vs if sp.issparse(V) else Vd, W, H)
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
    W = _as_2d_finite("W", W)
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


def _nmf() -> Any:
    # nmf.py is imported only when a fit or transform is needed, so that the metric
    # functions above work on plain arrays without the engine.
    from topicnmf import nmf

    return nmf


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
    H = _as_2d_finite("H", H)
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
            nmf = _nmf()
            config = nmf_config if nmf_config is not None else nmf.NMFConfig(n_components=k)
            W = nmf.transform(V, H, config, n_threads=n_threads)
    counts: np.ndarray | None = None
    n_none: int | None = None
    n_docs: int | None = None
    if W is not None:
        W = _as_2d_finite("W", W)
        if W.shape[1] != k:
            raise ParameterError(f"W has {W.shape[1]} columns but the model has {k} topics")
        if V is not None and W.shape[0] != V.shape[0]:
            raise ParameterError(f"W has {W.shape[0]} rows but the corpus has {V.shape[0]}")
        counts, n_none = dominance_counts(W)
        n_docs = int(W.shape[0])
    elif V is not None:
        n_docs = int(V.shape[0])
    error = relative_error(V, W, H) if (V is not None and W is not None) else None
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


# ---------------------------------------------------------------------------------------------
# k specifications
# ---------------------------------------------------------------------------------------------

_K_SPEC_HELP = "use START:STOP:STEP (e.g. 5:50:5, STOP included), START:STOP, or a list (10,20,30)"


def parse_k_spec(spec: str) -> list[int]:
    """Parse a list of candidate numbers of topics.

    Parameters
    ----------
    spec : str
        ``"START:STOP:STEP"`` (STOP included when the steps reach it: ``"5:50:5"`` gives
        5, 10, ..., 50), ``"START:STOP"`` (step 1), a comma-separated list ``"10,20,30"``,
        or one number. Spaces are ignored.

    Returns
    -------
    list of int
        The distinct values in increasing order; each at least 2.

    Raises
    ------
    ParameterError
        On anything else: empty parts, non-integers, k < 2, a step < 1, START > STOP.
    """
    if not isinstance(spec, str):
        raise ParameterError(f"invalid k specification {spec!r}: {_K_SPEC_HELP}")
    text = re.sub(r"\s+", "", spec)

    def bad(why: str) -> ParameterError:
        return ParameterError(f"invalid k specification {spec!r}: {why}; {_K_SPEC_HELP}")

    def number(part: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", part):
            raise bad(f"{part!r} is not a whole number" if part else "a number is missing")
        return int(part)

    if not text:
        raise bad("it is empty")
    if ":" in text and "," in text:
        raise bad("mixes a range and a list")
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3:
            raise bad("a range has at most three parts")
        start, stop = number(parts[0]), number(parts[1])
        step = number(parts[2]) if len(parts) == 3 else 1
        if step < 1:
            raise bad(f"the step must be at least 1, got {step}")
        if start > stop:
            raise bad(f"the start {start} is larger than the stop {stop}")
        values = list(range(start, stop + 1, step))
    else:
        values = [number(p) for p in text.split(",")]
    small = [v for v in values if v < 2]
    if small:
        raise bad(f"k must be at least 2, got {small[0]}")
    return sorted(set(values))


# ---------------------------------------------------------------------------------------------
# Matching topics: Hungarian assignment, ranked-list similarity, stability
# ---------------------------------------------------------------------------------------------


def match_topics(similarity: Any) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching of topics that maximises the total similarity (Hungarian algorithm).

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
    a = _top_array(top_a)
    b = _top_array(top_b)
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


# ---------------------------------------------------------------------------------------------
# compare: topics of two models
# ---------------------------------------------------------------------------------------------


def compare_topics(
    H_a: Any,
    vocab_a: Sequence[str],
    H_b: Any,
    vocab_b: Sequence[str],
    threshold: float = 0.3,
) -> Comparison:
    """Match the topics of two models by the cosine similarity of their term weights.

    Columns are aligned by term over the vocabulary the models share; terms known to only one
    model are left out. Topics are matched one-to-one by the Hungarian algorithm maximising
    the total similarity; a matched pair below ``threshold`` is not the same topic, and its
    two topics are reported as found in one model only, as are topics left over when the
    models have different numbers of topics.

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
    H_a = _as_2d_finite("H_a", H_a)
    H_b = _as_2d_finite("H_b", H_b)
    if len(vocab_a) != H_a.shape[1]:
        raise ParameterError(f"model A has {H_a.shape[1]} columns but {len(vocab_a)} terms")
    if len(vocab_b) != H_b.shape[1]:
        raise ParameterError(f"model B has {H_b.shape[1]} columns but {len(vocab_b)} terms")
    if not (isinstance(threshold, (int, float)) and 0.0 <= float(threshold) <= 1.0):
        raise ParameterError(f"threshold must be a number between 0 and 1, got {threshold!r}")
    index_b = {str(t): j for j, t in enumerate(vocab_b)}
    cols_a: list[int] = []
    cols_b: list[int] = []
    for i, term in enumerate(vocab_a):
        j = index_b.get(str(term))
        if j is not None:
            cols_a.append(i)
            cols_b.append(j)
    if not cols_a:
        raise ParameterError(
            "the two models share no vocabulary term, so their topics cannot be compared"
        )
    A = H_a[:, cols_a]
    B = H_b[:, cols_b]
    norm_a = np.linalg.norm(A, axis=1)
    norm_b = np.linalg.norm(B, axis=1)
    denom = np.outer(norm_a, norm_b)
    with np.errstate(invalid="ignore", divide="ignore"):
        # A topic with no weight on the shared terms is similar to nothing.
        sim = np.where(denom > 0, (A @ B.T) / np.where(denom > 0, denom, 1.0), 0.0)
    sim = np.clip(sim, 0.0, 1.0)
    rows, cols = match_topics(sim)
    pairs = [TopicMatch(int(r), int(c), float(sim[r, c])) for r, c in zip(rows, cols, strict=True)]
    good = [p for p in pairs if p.similarity >= threshold]
    only_a = sorted(set(range(H_a.shape[0])) - {p.topic_a for p in good})
    only_b = sorted(set(range(H_b.shape[0])) - {p.topic_b for p in good})
    return Comparison(
        pairs=pairs,
        only_a=only_a,
        only_b=only_b,
        threshold=float(threshold),
        similarity=sim,
        n_shared_terms=len(cols_a),
    )


# ---------------------------------------------------------------------------------------------
# select-k
# ---------------------------------------------------------------------------------------------


def recommend_k(rows: Sequence[SelectKRow], tolerance: float = 0.02) -> tuple[int, str]:
    """Choose k from select-k rows by :data:`RECOMMENDATION_RULE` and say why.

    Parameters
    ----------
    rows : sequence of SelectKRow
        One per candidate k.
    tolerance : float, default 0.02
        How far below the highest stability a k may be and still be a candidate (absolute).

    Returns
    -------
    k : int
        The recommended number of topics.
    reason : str
        One sentence with the figures that decided.
    """
    if not rows:
        raise ParameterError("no candidate k to choose from")
    if tolerance < 0:
        raise ParameterError(f"tolerance must be at least 0, got {tolerance!r}")
    by_k = sorted(rows, key=lambda r: r.k)

    def best_npmi(candidates: list[SelectKRow]) -> SelectKRow:
        # Highest NPMI; on equal NPMI the smaller k (the list is in increasing k).
        return max(candidates, key=lambda r: (r.npmi, -r.k))

    if any(r.stability is None for r in by_k):
        choice = best_npmi(by_k)
        if len(by_k) == 1:
            return choice.k, f"k={choice.k} is the only candidate (stability not computed)."
        return choice.k, (
            f"k={choice.k} has the highest mean NPMI ({choice.npmi:.3f}); "
            "stability was not computed (runs=0)."
        )
    top = max(r.stability for r in by_k)  # type: ignore[type-var]
    top_row = next(r for r in by_k if r.stability == top)
    candidates = [r for r in by_k if r.stability >= top - tolerance - 1e-12]  # type: ignore[operator]
    choice = best_npmi(candidates)
    if len(by_k) == 1:
        return choice.k, (
            f"k={choice.k} is the only candidate (stability {choice.stability:.3f}, "
            f"mean NPMI {choice.npmi:.3f})."
        )
    if len(candidates) == 1:
        others = [r for r in by_k if r is not choice]
        runner = max(others, key=lambda r: (r.stability, -r.k))
        return choice.k, (
            f"k={choice.k} has the highest stability ({choice.stability:.3f}); the next best is "
            f"k={runner.k} ({runner.stability:.3f}), more than {tolerance:g} lower."
        )
    ks = ", ".join(str(r.k) for r in candidates)
    if choice is top_row:
        return choice.k, (
            f"k={choice.k} has the highest stability ({choice.stability:.3f}) and the highest "
            f"mean NPMI ({choice.npmi:.3f}) among the k within {tolerance:g} of it ({ks})."
        )
    return choice.k, (
        f"k={choice.k} has the highest mean NPMI ({choice.npmi:.3f}) among the k whose "
        f"stability is within {tolerance:g} of the highest ({top:.3f} at k={top_row.k}): {ks}."
    )


# Matrix shared with worker processes (set once per worker by the pool's initializer).
_WORKER_V: Any = None


def _init_worker(V: Any) -> None:
    global _WORKER_V
    _WORKER_V = V


def _subsample_rows(n_docs: int, fraction: float, seed: int, k: int, run: int) -> np.ndarray:
    """Rows of subsample ``run`` for ``k``: a function of (seed, k, run) only."""
    rng = np.random.default_rng([seed, k, run])
    size = max(1, int(round(fraction * n_docs)))
    return np.sort(rng.choice(n_docs, size=size, replace=False))


def _run_seed(seed: int, k: int, run: int) -> int:
    """NMF seed of a subsample fit (matters for random init); the reference fit uses ``seed``."""
    if run == 0:
        return seed
    return int(np.random.default_rng([seed, k, run, 1]).integers(0, 2**31 - 1))


def _fit_task(
    V: Any,
    config: NMFConfig,
    k: int,
    run: int,
    seed: int,
    fraction: float,
    top_n: int,
    n_threads: int | None,
) -> dict[str, Any]:
    """Fit one model of select-k and return only what the table needs (small to pickle)."""
    nmf = _nmf()
    if V is None:
        V = _WORKER_V
    cfg = dataclasses.replace(config, n_components=k, seed=_run_seed(seed, k, run))
    X = V if run == 0 else V[_subsample_rows(V.shape[0], fraction, seed, k, run)]
    start = time.perf_counter()
    result = nmf.fit_nmf(X, cfg, n_threads=n_threads)
    seconds = time.perf_counter() - start
    top = top_term_indices(result.H, top_n)
    out: dict[str, Any] = {
        "k": k,
        "run": run,
        "top": top,
        "n_iter": int(result.n_iter),
        "converged": bool(result.converged),
        "seconds": seconds,
    }
    if run == 0:
        out["npmi"] = float(np.mean(topic_npmi(top, V)))
        out["diversity"] = topic_diversity(top)
        out["relative_error"] = relative_error(V, result.W, result.H)
    return out


def select_k(
    V: Any,
    ks: Sequence[int],
    *,
    nmf_config: NMFConfig | None = None,
    vocabulary: Sequence[str] | None = None,
    top_n: int = 10,
    runs: int = 5,
    sample_fraction: float = 0.8,
    seed: int = 0,
    tolerance: float = 0.02,
    jobs: int = 1,
    n_threads: int | None = None,
    callback: Callable[[SelectKProgress], None] | None = None,
) -> SelectKResult:
    """Fit a model for each candidate k and measure coherence, diversity, fit and stability.

    For each k: a reference model on all documents (with ``seed``, so it is the model that
    ``fit`` would give), scored by mean NPMI on ``V`` itself, topic diversity and relative
    reconstruction error; and ``runs`` models on random subsamples of ``sample_fraction`` of
    the documents, whose agreement with the reference gives the stability (see the module
    docstring). Each subsample and its NMF seed depend only on ``(seed, k, run)`` and every
    fit uses ``n_threads`` threads, so the result does not depend on ``jobs`` or on the order
    in which fits finish.

    Parameters
    ----------
    V : sparse matrix of shape (n_documents, n_terms)
        The corpus vectorized once (e.g. ``Vectorizer(config).fit_transform(texts)``).
    ks : sequence of int
        Candidate numbers of topics (see :func:`parse_k_spec`); each at least 2.
    nmf_config : NMFConfig, optional
        NMF settings; ``n_components`` and ``seed`` are replaced per fit. Default: the engine's
        defaults.
    vocabulary : sequence of str, optional
        Term strings in column order, to report each k's top terms.
    top_n : int, default 10
        Top terms per topic for NPMI, diversity and stability.
    runs : int, default 5
        Subsample models per k; 0 skips stability (the recommendation then uses NPMI alone).
    sample_fraction : float, default 0.8
        Share of documents in each subsample, in (0, 1).
    seed : int, default 0
        Seed of the reference fits, and root of the subsample seeds.
    tolerance : float, default 0.02
        See :func:`recommend_k`.
    jobs : int, default 1
        Worker processes fitting models in parallel.
    n_threads : int, optional
        Threads per fit, the same for every fit whatever ``jobs`` is. Default 1: the fits
        are many and short, so running them side by side (``jobs``) uses the cores better,
        and the engine's dense (BLAS) products round differently with different thread
        counts, which could change a top-term list and so the stability.
    callback : callable, optional
        Called in the calling process with a :class:`SelectKProgress` after every fit.

    Returns
    -------
    SelectKResult
    """
    if not sp.issparse(V):
        V = sp.csr_matrix(np.asarray(V))
    V = sp.csr_matrix(V)
    n_docs, n_terms = V.shape
    ks = list(ks)
    if not ks:
        raise ParameterError("no candidate k given; use e.g. --k 5:50:5")
    for k in ks:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
            raise ParameterError(f"every candidate k must be an integer of at least 2, got {k!r}")
    if len(set(ks)) != len(ks):
        raise ParameterError(f"candidate k values are repeated: {ks}")
    ks = sorted(int(k) for k in ks)
    for name, value in (("runs", runs), ("jobs", jobs)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ParameterError(f"{name} must be an integer, got {value!r}")
    if runs < 0:
        raise ParameterError(f"runs must be at least 0, got {runs}")
    if jobs < 1:
        raise ParameterError(f"jobs must be at least 1, got {jobs}")
    if not (0.0 < float(sample_fraction) < 1.0):
        raise ParameterError(f"sample_fraction must be between 0 and 1, got {sample_fraction!r}")
    if tolerance < 0:
        raise ParameterError(f"tolerance must be at least 0, got {tolerance!r}")
    if vocabulary is not None and len(vocabulary) != n_terms:
        raise ParameterError(f"vocabulary has {len(vocabulary)} terms but V has {n_terms} columns")
    _check_top_n(top_n, n_terms)
    n_rows_fit = n_docs if runs == 0 else max(1, int(round(sample_fraction * n_docs)))
    limit = min(n_rows_fit, n_terms)
    if ks[-1] > limit:
        raise ParameterError(
            f"k={ks[-1]} is too large: a model can have at most {limit} topics here "
            f"({n_docs} documents{', subsamples of ' + str(n_rows_fit) if runs else ''}, "
            f"{n_terms} terms); use smaller k"
        )
    if nmf_config is None:
        nmf_config = _nmf().NMFConfig(n_components=ks[0])
    # Not tied to jobs: a different thread count may change results in the last digits.
    per_fit_threads = 1 if n_threads is None else n_threads

    tasks = [(k, run) for k in ks for run in range(runs + 1)]
    total = len(tasks)
    results: dict[tuple[int, int], dict[str, Any]] = {}

    def record(out: dict[str, Any]) -> None:
        results[(out["k"], out["run"])] = out
        if callback is not None:
            callback(SelectKProgress(len(results), total, out["k"], out["run"], out["seconds"]))

    args = (seed, float(sample_fraction), int(top_n), per_fit_threads)
    if jobs == 1:
        for k, run in tasks:
            record(_fit_task(V, nmf_config, k, run, *args))
    else:
        workers = min(jobs, total, available_cores())
        workers = max(workers, 1)
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(V,)
        ) as pool:
            pending: set[Future[dict[str, Any]]] = {
                pool.submit(_fit_task, None, nmf_config, k, run, *args) for k, run in tasks
            }
            try:
                while pending:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        record(fut.result())
            except BaseException:
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    rows: list[SelectKRow] = []
    for k in ks:
        ref = results[(k, 0)]
        agreements = [
            ranking_agreement(ref["top"], results[(k, r)]["top"]) for r in range(1, runs + 1)
        ]
        fits = [results[(k, r)] for r in range(runs + 1)]
        rows.append(
            SelectKRow(
                k=k,
                npmi=ref["npmi"],
                diversity=ref["diversity"],
                relative_error=ref["relative_error"],
                stability=float(np.mean(agreements)) if agreements else None,
                stability_std=float(np.std(agreements)) if agreements else None,
                n_iter=ref["n_iter"],
                converged=all(f["converged"] for f in fits),
                seconds=float(sum(f["seconds"] for f in fits)),
                top_terms=None
                if vocabulary is None
                else [[str(vocabulary[i]) for i in topic] for topic in ref["top"]],
            )
        )
    best, reason = recommend_k(rows, tolerance)
    return SelectKResult(
        rows=rows,
        recommended_k=best,
        reason=reason,
        top_n=int(top_n),
        runs=int(runs),
        sample_fraction=float(sample_fraction),
        seed=int(seed),
        tolerance=float(tolerance),
    )
