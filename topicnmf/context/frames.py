"""Topics in context as DataFrames: over time, by group, against known labels.

Every function takes the document-topic weights W (raw, as ``TopicModel.transform`` gives
them) and one value per document; the topic mass of a set of documents is the sum of their
weights normalized to sum to 1 per document, so each document with any topic counts once
and a document with no topic (a zero row) counts for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from topicnmf.errors import ParameterError

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp

TRENDS_COLUMNS = ("topic", "label", "bin_start", "bin_end", "n_docs", "share", "share_lo",
                  "share_hi", "n_dominant")  # fmt: skip
GROUPS_COLUMNS = ("topic", "label", "group", "n_docs", "share", "share_rest", "n_dominant",
                  "log_odds", "z", "p_value")  # fmt: skip


def _unit_rows(W: Any) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or not np.isfinite(W).all() or (W < 0).any():
        raise ParameterError("W must be a finite, non-negative 2-d array", param="W")
    sums = W.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sums > 0, W / np.where(sums > 0, sums, 1.0), 0.0)


def _dominant(W: np.ndarray) -> np.ndarray:
    from topicnmf.quality.metrics import dominant_topics

    return dominant_topics(W)


def _labels(labels: Sequence[str] | None, k: int) -> list[str]:
    return list(labels) if labels is not None else [f"topic {t}" for t in range(k)]


def _check_seed(n_bootstrap: int, seed: int) -> None:
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise ParameterError(
            f"the number of bootstrap samples must be 0 or more, got {n_bootstrap!r}",
            param="n_bootstrap",
            value=n_bootstrap,
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed must be a non-negative integer, got {seed!r}", param="seed")


def trends_frame(
    W: Any,
    bin_index: np.ndarray,
    edges: pd.DataFrame,
    *,
    labels: Sequence[str] | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each topic's share of each time bin's topic mass, with a bootstrap interval.

    Parameters
    ----------
    W : array-like of shape (n_documents, k)
        Raw document-topic weights of the documents that have a time.
    bin_index : numpy.ndarray of shape (n_documents,)
        Each document's bin (from :func:`topicnmf.context.assign_bins`).
    edges : pandas.DataFrame
        ``bin_start`` and ``bin_end`` of every bin, in order; bins without documents are
        kept (``n_docs`` 0, share NaN).
    labels : sequence of str, optional
        Topic labels (default ``topic 0``...).
    n_bootstrap : int
        Resamples of each bin's documents (with replacement) for the interval; 0: none
        (``share_lo``/``share_hi`` NaN).
    seed : int
        Seed of the resampling; the same seed gives the same intervals.
    confidence : float
        Coverage of the percentile interval.

    Returns
    -------
    pandas.DataFrame
        One row per topic and bin (topic-major, bins in time order) with the columns of
        :data:`TRENDS_COLUMNS`: ``share`` is the topic's part of the bin's topic mass,
        ``n_dominant`` the bin's documents whose largest weight is this topic.
    """
    import pandas as pd

    _check_seed(n_bootstrap, seed)
    U = _unit_rows(W)
    n, k = U.shape
    bin_index = np.asarray(bin_index, dtype=np.int64)
    n_bins = len(edges)
    dom = _dominant(np.asarray(W))
    rng = np.random.default_rng(seed)
    alpha = (1.0 - confidence) / 2.0
    share = np.full((n_bins, k), np.nan)
    lo = np.full((n_bins, k), np.nan)
    hi = np.full((n_bins, k), np.nan)
    n_docs = np.bincount(bin_index, minlength=n_bins)[:n_bins]
    n_dom = np.zeros((n_bins, k), dtype=np.int64)
    for b in range(n_bins):
        members = np.flatnonzero(bin_index == b)
        if not len(members):
            continue
        Ub = U[members]
        d = dom[members]
        n_dom[b] = np.bincount(d[d >= 0], minlength=k)
        mass = Ub.sum(axis=0)
        if mass.sum() > 0:
            share[b] = mass / mass.sum()
        if n_bootstrap:
            # multinomial counts resample the documents without building B x n x k
            counts = rng.multinomial(len(members), np.full(len(members), 1.0 / len(members)),
                                     size=n_bootstrap)  # fmt: skip
            sampled = counts @ Ub
            totals = sampled.sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                shares = sampled / totals
            shares = shares[totals[:, 0] > 0]
            if len(shares):
                lo[b], hi[b] = np.quantile(shares, [alpha, 1.0 - alpha], axis=0)
    names = _labels(labels, k)
    return pd.DataFrame(
        {
            "topic": np.repeat(np.arange(k), n_bins),
            "label": np.repeat(np.asarray(names, dtype=object), n_bins),
            "bin_start": np.tile(edges["bin_start"].to_numpy(), k),
            "bin_end": np.tile(edges["bin_end"].to_numpy(), k),
            "n_docs": np.tile(n_docs, k),
            "share": share.T.ravel(),
            "share_lo": lo.T.ravel(),
            "share_hi": hi.T.ravel(),
            "n_dominant": n_dom.T.ravel(),
        }
    )


def bin_top_terms(
    V: sp.csr_matrix,
    W: Any,
    H: Any,
    bin_index: np.ndarray,
    n_bins: int,
    vocabulary: Sequence[str],
    top: int = 5,
) -> list[list[list[str]]]:
    """Each topic's top terms in each bin, from that bin's documents only.

    A term's weight for topic t in bin b is the part of the bin's TF-IDF mass of that term
    that topic t reconstructs: the sum over the bin's documents d of
    V[d, j] * W[d, t] H[t, j] / (W H)[d, j]. No later (or earlier) document counts.

    Returns
    -------
    list (per topic) of list (per bin) of list of str
        Up to ``top`` terms with a positive weight; empty for a bin without documents.
    """
    import scipy.sparse as sp

    V = sp.csr_matrix(V)
    W = np.asarray(W, dtype=np.float64)
    H = np.asarray(H, dtype=np.float64)
    k, n_terms = H.shape
    result: list[list[list[str]]] = [[[] for _ in range(n_bins)] for _ in range(k)]
    bin_index = np.asarray(bin_index)
    for b in range(n_bins):
        members = np.flatnonzero(bin_index == b)
        if not len(members):
            continue
        Vb = V[members].tocoo()
        rows, cols, data = Vb.row, Vb.col, Vb.data.astype(np.float64)
        Wb = W[members]
        R = np.zeros(len(data))
        for t in range(k):
            R += Wb[rows, t] * H[t, cols]
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(R > 0, data / np.where(R > 0, R, 1.0), 0.0)
        for t in range(k):
            weight = np.bincount(cols, scale * Wb[rows, t] * H[t, cols], minlength=n_terms)
            order = np.argsort(-weight, kind="stable")[:top]
            result[t][b] = [vocabulary[j] for j in order if weight[j] > 0]
    return result


def groups_frame(
    W: Any,
    groups: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    min_docs: int = 1,
    n_permutations: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """How much more each group uses each topic than the other documents.

    For topic t and group g, with a the topic mass of t in g, b the rest of g's mass, c
    the mass of t outside g and d the rest: ``log_odds`` is
    log((a + 0.5)(d + 0.5) / ((b + 0.5)(c + 0.5))), ``z`` its value over its standard error
    sqrt(sum of 1/(x + 0.5)). With ``n_permutations`` the groups are shuffled that many
    times and ``p_value`` is the share of shuffles (plus one) whose |log_odds| reaches the
    observed one.

    Parameters
    ----------
    W : array-like of shape (n_documents, k)
        Raw document-topic weights of the documents that have a group.
    groups : sequence of str
        Each document's group.
    labels : sequence of str, optional
        Topic labels.
    min_docs : int
        Groups with fewer documents are left out of the rows (they still count in the
        rest of the other groups).
    n_permutations : int
        0: z-scores only (``p_value`` NaN).
    seed : int
        Seed of the shuffles.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GROUPS_COLUMNS`, most over-represented pairs first (``p_value``
        ascending with permutations, then ``z`` descending).
    """
    import pandas as pd

    _check_seed(n_permutations, seed)
    if isinstance(min_docs, bool) or not isinstance(min_docs, int) or min_docs < 1:
        raise ParameterError(
            f"min_docs must be at least 1, got {min_docs!r}", param="min_docs", value=min_docs
        )
    U = _unit_rows(W)
    n, k = U.shape
    codes, names = pd.factorize(pd.Series(list(groups), dtype=object), sort=True)
    n_groups = len(names)
    dom = _dominant(np.asarray(W))
    lor, z = _log_odds(U, codes, n_groups)
    pvals = np.full((n_groups, k), np.nan)
    if n_permutations:
        rng = np.random.default_rng(seed)
        hits = np.zeros((n_groups, k))
        for _ in range(n_permutations):
            perm_lor, _ = _log_odds(U, rng.permutation(codes), n_groups)
            hits += np.abs(perm_lor) >= np.abs(lor) - 1e-12
        pvals = (hits + 1.0) / (n_permutations + 1.0)
    n_docs = np.bincount(codes, minlength=n_groups)
    mass = np.zeros((n_groups, k))
    np.add.at(mass, codes, U)
    n_dom = np.zeros((n_groups, k), dtype=np.int64)
    has = dom >= 0
    np.add.at(n_dom, (codes[has], dom[has]), 1)
    total = mass.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = mass / mass.sum(axis=1, keepdims=True)
        rest = total[None, :] - mass
        share_rest = rest / rest.sum(axis=1, keepdims=True)
    topic_names = _labels(labels, k)
    frame = pd.DataFrame(
        {
            "topic": np.tile(np.arange(k), n_groups),
            "label": np.tile(np.asarray(topic_names, dtype=object), n_groups),
            "group": np.repeat(np.asarray(names, dtype=object), k),
            "n_docs": np.repeat(n_docs, k),
            "share": share.ravel(),
            "share_rest": share_rest.ravel(),
            "n_dominant": n_dom.ravel(),
            "log_odds": lor.ravel(),
            "z": z.ravel(),
            "p_value": pvals.ravel(),
        }
    )
    frame = frame[frame["n_docs"] >= min_docs]
    keys = ["p_value", "z", "group", "topic"] if n_permutations else ["z", "group", "topic"]
    ascending = [True, False, True, True] if n_permutations else [False, True, True]
    return frame.sort_values(keys, ascending=ascending, kind="stable").reset_index(drop=True)


def _log_odds(U: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    mass = np.zeros((n_groups, U.shape[1]))
    np.add.at(mass, codes, U)
    total_t = mass.sum(axis=0)[None, :]
    group_total = mass.sum(axis=1, keepdims=True)
    a = mass + 0.5
    b = group_total - mass + 0.5
    c = total_t - mass + 0.5
    d = total_t.sum() - group_total - total_t + mass + 0.5
    lor = np.log(a) + np.log(d) - np.log(b) - np.log(c)
    se = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    return lor, lor / se


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _nmi_ari(table: np.ndarray) -> tuple[float, float]:
    """NMI (arithmetic mean of the entropies) and adjusted Rand index of a contingency table.

    The same definitions as scikit-learn's ``normalized_mutual_info_score`` and
    ``adjusted_rand_score`` (tested against them), without importing scikit-learn, which
    costs about 3 s of a command's start.
    """
    n = table.sum()
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    h_rows, h_cols = _entropy(rows), _entropy(cols)
    nz = table > 0
    mi = float((table[nz] / n * np.log(table[nz] * n / np.outer(rows, cols)[nz])).sum())
    if h_rows == 0 and h_cols == 0:
        nmi = 1.0  # one class and one cluster: identical partitions
    else:
        nmi = max(mi, 0.0) / max((h_rows + h_cols) / 2, np.finfo(np.float64).eps)
    pairs = float((table * (table - 1) / 2).sum())
    pairs_rows = float((rows * (rows - 1) / 2).sum())
    pairs_cols = float((cols * (cols - 1) / 2).sum())
    total = n * (n - 1) / 2
    expected = pairs_rows * pairs_cols / total if total else 0.0
    top = (pairs_rows + pairs_cols) / 2
    ari = 1.0 if top == expected else (pairs - expected) / (top - expected)
    return float(min(nmi, 1.0)), float(ari)


def label_agreement(W: Any, labels: Sequence[str]) -> dict[str, Any]:
    """Agreement of each document's dominant topic with a known label.

    Documents without a dominant topic (a zero row of W: no known term, or a collapsed
    fit) are left out of NMI, adjusted Rand index and purity and counted apart
    (``n_undominated``); the contingency table has them in a ``none`` row.

    Parameters
    ----------
    W : array-like of shape (n_documents, k)
        Raw weights of documents that have a label.
    labels : sequence of str
        Each document's label.

    Returns
    -------
    dict
        ``nmi`` (arithmetic normalization, as scikit-learn's default), ``ari``, ``purity``,
        ``n_documents``, ``n_scored``, ``n_undominated``, ``n_labels``, ``counted`` (how
        the figures were counted), ``contingency`` (a DataFrame: rows ``topic 0``...
        and ``none``, columns the labels sorted).
    """
    import pandas as pd

    W = np.asarray(W)
    dom = _dominant(W)
    label_arr = np.asarray(list(labels), dtype=object)
    if len(label_arr) != W.shape[0]:
        raise ParameterError("one label per document is needed", param="labels")
    has = dom >= 0
    scored_dom, scored_lab = dom[has], label_arr[has]
    nmi = ari = purity = None
    if has.any():
        table = pd.crosstab(scored_dom, scored_lab).to_numpy(dtype=np.float64)
        nmi, ari = _nmi_ari(table)
        purity = float(table.max(axis=1).sum() / has.sum())
    rows = np.where(has, [f"topic {t}" for t in dom], "none")
    k = W.shape[1]
    contingency = pd.crosstab(pd.Series(rows, name="topic"), pd.Series(label_arr, name="label"))
    order = [f"topic {t}" for t in range(k)] + ["none"]
    contingency = contingency.reindex(index=order, fill_value=0)
    contingency = contingency.reindex(columns=sorted(contingency.columns), fill_value=0)
    contingency.index.name = "topic"
    return {
        "nmi": nmi,
        "ari": ari,
        "purity": purity,
        "n_documents": int(len(dom)),
        "n_scored": int(has.sum()),
        "n_undominated": int((~has).sum()),
        "n_labels": int(len(set(label_arr.tolist()))),
        "counted": "documents with a dominant topic only; documents with none are "
        "counted in n_undominated and in the contingency row 'none'",
        "contingency": contingency,
    }
