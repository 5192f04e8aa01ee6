"""The Dask backend: vectorizing and NMF on document partitions held by Dask workers.

The client reads the documents once, records their ids and fingerprint, and cuts them into
contiguous partitions (``partitions`` of them, by default one per worker) that it scatters to
the workers. From then on the data stays where it is:

1. Vocabulary. Each partition counts its terms (document frequency and total count per term);
   the client adds the counts up by term, so min_df, max_df and max_features act on the whole
   corpus (not per partition), and fixes the vocabulary and idf exactly as
   :class:`~topicnmf.vectorize.Vectorizer` does. Each worker then builds the TF-IDF block of
   its partition.
2. Start. NNDSVD needs V's k leading singular triplets: the top eigenpairs of V^T V (terms
   side), from a Gram matrix reduced over the partitions when the vocabulary is small, else by
   Lanczos iterations (ARPACK) whose products V^T (V x) are sums of the partitions' products.
   The document side U = V v / s comes back to the client (n x k, the size of W), which builds
   W and H with the single-process code (:func:`topicnmf.nmf._init.nndsvd_factors`).
3. HALS on row blocks, the single-process solver step for step (same extrapolation, same
   acceptance rule, same stopping rule): each worker updates its rows of W against the
   broadcast H and returns its parts of W^T W and W^T V; the client adds them up, updates H,
   computes the objective and broadcasts H and the decision. W never leaves the workers until
   the final weights are computed (row by row, as ``transform`` does).

The result equals the single-process fit up to floating-point rounding (sums over partitions
are taken in another order); for a fixed number of partitions it is deterministic.
"""

from __future__ import annotations

import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from topicnmf.backends import BackendConfig
from topicnmf.errors import ConvergenceWarning, ParameterError, TopicNMFError, VectorizerError
from topicnmf.nmf import NMFConfig

# ARPACK tolerance and the vocabulary size up to which the Gram matrix is formed, as in the
# single-process exact SVD
from topicnmf.nmf._init import DENSE_GRAM, SVD_TOL  # noqa: E402  (private, same package)
from topicnmf.vectorize import Vectorizer, VectorizerConfig

MISSING = "the dask backend needs the packages dask and distributed: pip install 'topicnmf[dask]'"


def require() -> Any:
    """Import and return ``distributed``, or raise TopicNMFError(param="backend")."""
    try:
        import distributed
    except ImportError:
        raise TopicNMFError(MISSING, param="backend", value="dask") from None
    return distributed


@contextmanager
def connect(config: BackendConfig) -> Iterator[Any]:
    """Yield a ``distributed.Client``: to ``config.scheduler``, or to a new local cluster.

    The local cluster has ``config.workers`` worker processes (default: the CPUs) of one
    thread each, listening on the loopback interface only, without a dashboard.
    """
    distributed = require()
    cluster = None
    if config.scheduler:
        try:
            client = distributed.Client(config.scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise TopicNMFError(
                f"cannot reach the Dask scheduler at {config.scheduler!r} ({exc})",
                param="scheduler",
                value=config.scheduler,
            ) from None
    else:
        cluster = distributed.LocalCluster(
            n_workers=config.workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # no dashboard; the scheduler's small HTTP server (health checks) on a free
            # loopback port, so that a busy 8787 neither warns nor matters
            dashboard_address="127.0.0.1:0",
            scheduler_kwargs={"dashboard": False},
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def n_partitions(client: Any, partitions: int | None, n_items: int) -> int:
    """The number of partitions: as asked, else one per worker; never more than the items."""
    if partitions is None:
        partitions = max(1, len(client.scheduler_info()["workers"]))
    return max(1, min(partitions, n_items))


def split(items: Sequence[Any], parts: int) -> list[Sequence[Any]]:
    """``items`` cut into ``parts`` contiguous pieces of sizes differing by at most one."""
    cuts = [round(i * len(items) / parts) for i in range(parts + 1)]
    return [items[cuts[i] : cuts[i + 1]] for i in range(parts)]


def map_partitions(
    client: Any,
    fn: Callable[..., Any],
    items: Sequence[Any],
    *args: Any,
    partitions: int | None = None,
) -> list[Any]:
    """``[fn(piece, *args) for piece in split(items)]``, each call on a worker, in order.

    Parameters
    ----------
    client : distributed.Client
    fn : callable
        A module-level function (workers import it by name).
    items : sequence
        E.g. texts; cut into contiguous pieces (see :func:`n_partitions`).
    *args
        Passed to every call; sent to the workers once.
    partitions : int, optional

    Returns
    -------
    list
        One result per piece, in the order of ``items``.
    """
    pieces = split(items, n_partitions(client, partitions, len(items)))
    futures = client.scatter(list(pieces), hash=False)
    shared = [client.scatter(a, broadcast=True, hash=False) for a in args]
    results = client.gather([client.submit(fn, f, *shared, pure=False) for f in futures])
    return list(results)


def transform_texts(
    model: Any, texts: Sequence[str], client: Any, *, partitions: int | None = None
) -> np.ndarray:
    """Topic weights of ``texts`` (``model.transform``), computed on the workers, in order.

    Equal to ``model.transform(texts)`` bit for bit: each row is solved on its own.
    """
    if not texts:
        return np.zeros((0, model.n_topics), dtype=np.float32)
    parts = map_partitions(client, _transform_part, texts, model, partitions=partitions)
    return np.vstack(parts)


def _transform_part(texts: Sequence[str], model: Any) -> np.ndarray:
    return model.transform(list(texts), n_threads=1)


def weigh_texts(
    client: Any, model: Any, texts: Sequence[str], *, partitions: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Topic weights of ``texts`` and which of them have no term of the vocabulary, in order.

    ``model`` is a TopicModel or a future of one (scattered once for many calls). The weights
    equal ``model.transform_matrix(model.vectorizer.transform(texts))`` bit for bit.
    """
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=bool)
    pieces = split(texts, n_partitions(client, partitions, len(texts)))
    futures = [client.submit(_weigh_part, list(p), model, pure=False) for p in pieces]
    parts = client.gather(futures)
    return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _weigh_part(texts: list[str], model: Any) -> tuple[np.ndarray, np.ndarray]:
    V = model.vectorizer.transform(texts)
    return model.transform_matrix(V, n_threads=1), np.diff(V.indptr) == 0


# ------------------------------------------------------------------- the vocabulary


def _count_part(
    texts: Sequence[str], config: VectorizerConfig, rules: tuple[Any, Any] = (None, None)
) -> dict[str, Any]:
    """A partition's term counts (kept on its worker) and its terms' df and totals.

    ``rules`` = (boilerplate lines or None, phrases or None), from :func:`first_passes`.
    """
    from topicnmf.vectorize.counting import (
        TokenTally,
        count_texts,
        term_frequencies,
        term_strings,
    )
    from topicnmf.vectorize.lines import LineFilter

    boilerplate, phrases = rules
    lines = LineFilter(lines=boilerplate) if boilerplate else None
    counter = count_texts(config, texts, lines=lines, phrases=phrases)
    counts, merged, df, totals = term_frequencies(counter)
    seen = np.flatnonzero(df)
    terms = term_strings(counter, merged, seen)
    found = (sorted(lines.found), lines.n_documents) if lines is not None else ([], 0)
    summary = (terms, df[seen], totals[seen], counter.n_documents, counter.n_tokens)
    summary += (found, TokenTally.of(counter))
    return {"counts": counts, "seen": seen, "summary": summary}


def _summary(part: dict[str, Any]) -> tuple[Any, ...]:
    return part["summary"]


def _weigh_counts(part: dict[str, Any], vectorizer: Vectorizer, dtype: str) -> sp.csr_matrix:
    """The partition's TF-IDF from its kept counts: ``vectorizer.transform`` without
    tokenizing again (same columns, same weighting, so the same matrix)."""
    from topicnmf.vectorize.counting import select_columns

    columns = {term: i for i, term in enumerate(vectorizer.vocabulary)}
    column = np.full(part["counts"].shape[1], -1, dtype=np.int64)
    column[part["seen"]] = [columns.get(t, -1) for t in part["summary"][0]]
    counts = select_columns(part["counts"], column, len(vectorizer.vocabulary))
    return sp.csr_matrix(vectorizer._weight(counts), dtype=np.dtype(dtype))


def first_passes(texts: Sequence[str], config: VectorizerConfig) -> tuple[Any, Any]:
    """The token rules' passes over the whole corpus, on the client: (boilerplate lines,
    phrases), each None when its rule is off. Exactly ``Vectorizer.fit_transform``'s
    passes, so the counts on the workers match."""
    from topicnmf.vectorize.counting import chunks
    from topicnmf.vectorize.lines import LineFilter

    probe = Vectorizer(config)
    hashes = probe._boilerplate_hashes(texts)
    phrases = None
    if config.phrases:
        phrases = probe._detect_phrases(texts, LineFilter(hashes) if hashes else None)
    if not hashes:
        return None, phrases
    # the workers get the lines themselves: str hashes differ between processes
    finder = LineFilter(hashes)
    for chunk in chunks(texts):
        finder.clean(chunk)
    return sorted(finder.found), phrases


def global_vectorizer(
    parts: list[tuple[Any, ...]], config: VectorizerConfig, rules: tuple[Any, Any] = (None, None)
) -> Vectorizer:
    """A fitted Vectorizer from the partitions' counts, as if it had seen all documents.

    Same df limits, tie-breaking of max_features and idf as ``Vectorizer.fit_transform``.
    """
    from topicnmf.vectorize.counting import TokenTally
    from topicnmf.vectorize.vectorizer import (
        most_frequent,
        removal_counts,
        within_df_limits,
    )

    n_docs = sum(p[3] for p in parts)
    if n_docs == 0:
        raise VectorizerError("no documents to vectorize: the corpus is empty")
    tally = TokenTally()
    for p in parts:
        tally.add(p[6])
    # terms numbered in order of first sight, then sorted (a dict: np.unique on an object
    # array of strings took 1 s on 20 Newsgroups)
    ids: dict[str, int] = {}
    inverse = np.array([ids.setdefault(t, len(ids)) for p in parts for t in p[0]], dtype=np.int64)
    order = sorted(range(len(ids)), key=list(ids).__getitem__)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    inverse = rank[inverse]
    terms = np.array(sorted(ids), dtype=object)
    df = np.bincount(inverse, weights=np.concatenate([p[1] for p in parts]).astype(np.float64))
    df = df.astype(np.int64)
    totals = np.bincount(inverse, weights=np.concatenate([p[2] for p in parts]))
    candidates = within_df_limits(config, tally, df)  # in term order, as in memory
    after_df = int(totals[candidates].sum())
    if config.max_features is not None and len(candidates) > config.max_features:
        candidates = candidates[most_frequent(config, candidates, totals)]
    vectorizer = Vectorizer(config)
    kept_df = df[candidates]
    removed = removal_counts(config, tally, df, totals, after_df, int(totals[candidates].sum()))
    vectorizer._set_state(
        [str(t) for t in terms[candidates]],
        kept_df,
        n_docs,
        vectorizer._idf(kept_df, n_docs),
        boilerplate=sorted({line for p in parts for line in p[5][0]}),
        phrases=rules[1],
        removed=removed,
        boilerplate_documents=sum(p[5][1] for p in parts),
    )
    return vectorizer


def _vectorize_part(texts: Sequence[str], vectorizer: Vectorizer, dtype: str) -> sp.csr_matrix:
    V = vectorizer.transform(list(texts))
    return sp.csr_matrix(V, dtype=np.dtype(dtype))


def _block_info(V: sp.csr_matrix) -> tuple[int, float, float, int, int]:
    data = V.data.astype(np.float64)
    empty = int(np.count_nonzero(np.diff(V.indptr) == 0))
    return V.shape[0], float(np.dot(data, data)), float(data.sum()), int(V.nnz), empty


# ------------------------------------------------------------------------- the start


def _as64(V: sp.csr_matrix) -> sp.csr_matrix:
    return sp.csr_matrix(V, dtype=np.float64)


def _term_gram(A: sp.csr_matrix) -> np.ndarray:
    return (A.T @ A).toarray()


def _gram_product(A: sp.csr_matrix, X: np.ndarray) -> np.ndarray:
    return A.T @ (A @ X)


def _left_vectors(A: sp.csr_matrix, vecs: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return (A @ vecs) * scale


def _reduce(client: Any, futures: list[Any]) -> Any:
    """The sum of the futures' results, added on the client in partition order."""
    parts = client.gather(futures)
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


def distributed_svd(
    client: Any, blocks: list[Any], k: int, n_terms: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """V's k leading singular triplets (U on the client), V held as float64 row blocks.

    Top eigenpairs of V^T V: a dense eigensolver on the reduced Gram matrix up to
    ``DENSE_GRAM`` terms, else ARPACK with products reduced over the blocks. Signs as in the
    single-process ``exact_svd`` (each left vector's largest entry positive).
    """
    import scipy.linalg
    import scipy.sparse.linalg as sla

    if n_terms <= DENSE_GRAM or k >= n_terms - 1:
        G = _reduce(client, [client.submit(_term_gram, b, pure=False) for b in blocks])
        vals, vecs = scipy.linalg.eigh(
            G, subset_by_index=[n_terms - k, n_terms - 1], check_finite=False
        )
    else:

        def matvec(x: np.ndarray) -> np.ndarray:
            # the vector goes with the tasks: one round trip per product
            x = np.asarray(x, dtype=np.float64)
            return _reduce(client, [client.submit(_gram_product, b, x, pure=False) for b in blocks])

        op = sla.LinearOperator((n_terms, n_terms), matvec=matvec, dtype=np.float64)
        v0 = np.random.RandomState(seed).uniform(-1.0, 1.0, size=n_terms)
        try:
            vals, vecs = sla.eigsh(op, k=k, which="LA", v0=v0, tol=SVD_TOL)
        except sla.ArpackError as exc:
            raise TopicNMFError(
                f"the truncated SVD of the NNDSVD start did not converge ({exc}); try init "
                "'random'",
                param="init",
            ) from None
    order = np.argsort(-vals, kind="stable")
    vals, vecs = vals[order], vecs[:, order]
    s = np.sqrt(np.clip(vals, 0.0, None))
    nonzero = s > s[0] * 1e-7 if s[0] > 0 else np.zeros(k, dtype=bool)
    scale = np.where(nonzero, 1.0 / np.where(nonzero, s, 1.0), 0.0)
    shared = client.scatter(vecs, broadcast=True, hash=False)
    U = np.vstack(
        client.gather([client.submit(_left_vectors, b, shared, scale, pure=False) for b in blocks])
    )
    flip = np.sign(U[np.abs(U).argmax(axis=0), np.arange(k)])
    flip[flip == 0] = 1.0
    return U * flip, s, (vecs * flip).T


def initialize(
    client: Any, blocks: list[Any], shape: tuple[int, int], mean: float, config: NMFConfig
) -> tuple[np.ndarray, np.ndarray]:
    """W and H of the single-process start (``topicnmf.nmf.initialize``), W on the client."""
    from topicnmf.nmf._init import nndsvd_factors, random_factors

    n, m = shape
    k = config.n_components
    dtype = np.dtype(config.dtype)
    if config.init == "random":
        return random_factors(n, m, config, mean, dtype)
    blocks64 = [client.submit(_as64, b, pure=False) for b in blocks]
    U, S, Vt = distributed_svd(client, blocks64, k, m, config.seed)
    del blocks64
    return nndsvd_factors(U, S, Vt, config, mean, dtype)


# -------------------------------------------------------------------------- HALS


def _hals_start(W: np.ndarray) -> dict[str, np.ndarray]:
    Wt = np.ascontiguousarray(W.T)
    y = Wt.copy()
    return {"prev": Wt, "y": y, "best": y, "new": None}


def _hals_step(
    V: sp.csr_matrix,
    state: dict[str, Any],
    decision: str,
    beta: float,
    Hy: np.ndarray,
    G: np.ndarray,
    l1_W: float,
) -> dict[str, Any]:
    """Apply the client's decision on the last iteration, then one W sweep and extrapolation.

    The single-process ``fit_hals`` step for this block's columns of W (topic-major).
    """
    from topicnmf.nmf._hals import _extrapolate, hals_sweep

    state = dict(state)  # a task must not change its input (it may be run again)
    if decision == "accept":
        state["prev"], state["best"] = state["new"], state["y"]
    elif decision == "reject":
        state["y"], state["prev"] = state["best"].copy(), state["best"]
    Pt = np.ascontiguousarray((V @ Hy.T).T, dtype=Hy.dtype)
    if l1_W:
        Pt -= l1_W
    W_new = state["y"].copy()
    with threadpool_limits(limits=1, user_api="blas"):
        hals_sweep(W_new, G, Pt, np.empty(W_new.shape[1], dtype=W_new.dtype))
    state["new"] = W_new
    state["y"] = _extrapolate(W_new, state["prev"], beta)
    return state


def _hals_stats(V: sp.csr_matrix, state: dict[str, Any], key: str) -> tuple[Any, ...]:
    """This block's parts of W V (k x m), W W^T, sum(W) and sum(W^2), for W = state[key]."""
    Wt = state[key]
    Qt = np.ascontiguousarray((V.T @ Wt.T).T, dtype=Wt.dtype)
    flat = Wt.ravel().astype(np.float64)
    return Qt, Wt @ Wt.T, float(flat.sum()), float(np.dot(flat, flat))


def _gather_stats(client: Any, blocks: list[Any], states: list[Any], key: str) -> tuple[Any, ...]:
    futures = [
        client.submit(_hals_stats, b, s, key, pure=False)
        for b, s in zip(blocks, states, strict=True)
    ]
    parts = client.gather(futures)
    Qt = parts[0][0].astype(np.float64)
    G = parts[0][1].astype(np.float64)
    for part in parts[1:]:
        Qt += part[0]
        G += part[1]
    return Qt, G, sum(p[2] for p in parts), sum(p[3] for p in parts)


def fit_hals(
    client: Any,
    blocks: list[Any],
    W: np.ndarray,
    H: np.ndarray,
    shape: tuple[int, int],
    sq_norm: float,
    config: NMFConfig,
    callback: Callable[[int, float], None] | None = None,
) -> tuple[np.ndarray, int, list[float], bool]:
    """HALS with extrapolation on row blocks: ``topicnmf.nmf._hals.fit_hals`` distributed.

    W's rows go to the blocks' workers and stay there; returns (H, n_iter, objective
    history, converged).
    """
    from topicnmf.nmf._hals import (
        BETA0,
        BETA_CAP_GROW,
        BETA_CUT,
        BETA_GROW,
        _add_diag,
        _extrapolate,
        hals_sweep,
    )
    from topicnmf.nmf._loss import Progress, dot64, frobenius_from_parts

    l1_W, l2_W, l1_H, l2_H = config.penalties(*shape)
    dtype = np.dtype(config.dtype)
    cuts = np.cumsum([0] + [int(b) for b in client.gather([_rows(client, b) for b in blocks])])
    states = [
        client.submit(_hals_start, W[cuts[i] : cuts[i + 1]], pure=False) for i in range(len(blocks))
    ]
    del W

    def penalty(w_sum: float, w_sq: float, Hm: np.ndarray) -> float:
        value = l1_W * w_sum + 0.5 * l2_W * w_sq
        if l1_H:
            value += l1_H * float(Hm.sum(dtype=np.float64))
        if l2_H:
            value += 0.5 * l2_H * dot64(Hm, Hm)
        return value

    H_prev = np.ascontiguousarray(H, dtype=dtype)
    H_y = H_prev.copy()
    G_Hy = H_y @ H_y.T
    Qt, G_W, w_sum, w_sq = _gather_stats(client, blocks, states, "prev")
    loss0 = frobenius_from_parts(sq_norm, Qt.astype(dtype), H_prev, G_W, G_Hy)
    progress = Progress(loss0 + penalty(w_sum, w_sq, H_prev), config.tol)
    beta, beta_cap = BETA0, 1.0
    best_H, best_G = H_y, G_Hy
    decision = "none"
    converged = False
    n_iter = 0
    for n_iter in range(1, config.max_iter + 1):
        # H goes with the tasks (no separate broadcast): one round trip per iteration
        G = _add_diag(G_Hy, l2_W)
        states = [
            client.submit(_hals_step, b, s, decision, beta, H_y, G, l1_W, pure=False)
            for b, s in zip(blocks, states, strict=True)
        ]
        Qt, G_W, w_sum, w_sq = _gather_stats(client, blocks, states, "y")
        Qt = Qt.astype(dtype)
        G_W = G_W.astype(dtype)
        # H_y is this iteration's own array: sweep it in place, as the single-process solver
        H_new = H_y
        hals_sweep(
            H_new,
            _add_diag(G_W, l2_H),
            Qt - l1_H if l1_H else Qt,
            np.empty(H_new.shape[1], dtype=dtype),
        )
        G_Hnew = H_new @ H_new.T
        loss = frobenius_from_parts(sq_norm, Qt, H_new, G_W, G_Hnew)
        loss += penalty(w_sum, w_sq, H_new)
        stop = progress.add(loss)
        if progress.improved:
            best_H, best_G = H_new, G_Hnew
            beta = min(beta_cap, beta * BETA_GROW)
            beta_cap = min(1.0, beta_cap * BETA_CAP_GROW)
            H_y = _extrapolate(H_new, H_prev, beta)
            G_Hy = H_y @ H_y.T
            H_prev = H_new
            decision = "accept"
        else:
            beta_cap = beta
            beta = beta / BETA_CUT
            H_y, G_Hy = best_H.copy(), best_G
            H_prev = best_H
            decision = "reject"
        if callback is not None:
            callback(n_iter, loss)
        if stop:
            converged = True
            break
    return best_H, n_iter, progress.history, converged


def _nrows(V: sp.csr_matrix) -> int:
    return int(V.shape[0])


def _rows(client: Any, block: Any) -> Any:
    return client.submit(_nrows, block, pure=False)


# ---------------------------------------------------------------------- the fit


def _final_part(
    V: sp.csr_matrix, H: np.ndarray, config: NMFConfig, columns: np.ndarray | None
) -> tuple[Any, ...]:
    """This block's W for H (``transform``), its loss, and its incidence of ``columns``."""
    from topicnmf.nmf import frobenius_loss, transform

    W = transform(V, H, config, n_threads=1)
    sub = None
    if columns is not None:
        part = sp.csr_matrix(V[:, columns])
        sub = sp.csr_matrix((part.data, columns[part.indices], part.indptr), shape=V.shape)
    return W, frobenius_loss(V, W, H), sub


def _read(documents: Iterable[Any], on_document: Callable[[int], None] | None) -> Any:
    from topicnmf.model import _Recorder

    recorder = _Recorder(documents, on_document)
    texts = list(recorder)
    return recorder, texts


def fit(
    documents: Iterable[Any],
    vectorizer_config: VectorizerConfig,
    nmf_config: NMFConfig,
    client: Any,
    *,
    partitions: int | None = None,
    save_doc_topics: bool = False,
    on_document: Callable[[int], None] | None = None,
    on_iteration: Callable[[int, float], None] | None = None,
    on_vectorized: Callable[[int, int, int], None] | None = None,
) -> Any:
    """:func:`topicnmf.model.fit` on a Dask cluster; returns a ``FitOutput`` like it.

    Parameters
    ----------
    documents, vectorizer_config, nmf_config, save_doc_topics, on_document, on_iteration,
    on_vectorized
        As for :func:`topicnmf.model.fit`.
    client : distributed.Client
        E.g. from :func:`connect`.
    partitions : int, optional
        Contiguous document partitions (default: one per worker). The result is
        deterministic for a given number.

    Raises
    ------
    ParameterError
        A solver other than HALS (loss "frobenius", solver "cd"), or svd "randomized".
    """
    from topicnmf import model as M

    check_settings(nmf_config)
    created = M.creation_time()
    t0 = time.perf_counter()
    recorder, texts = _read(documents, on_document)
    if not texts:
        raise VectorizerError("no documents to vectorize: the corpus is empty")
    rules = first_passes(texts, vectorizer_config)
    pieces = split(texts, n_partitions(client, partitions, len(texts)))
    del texts
    text_f = client.scatter(list(pieces), hash=False)
    del pieces
    kept = [client.submit(_count_part, f, vectorizer_config, rules, pure=False) for f in text_f]
    del text_f
    counts = client.gather([client.submit(_summary, c, pure=False) for c in kept])
    vectorizer = global_vectorizer(counts, vectorizer_config, rules)
    del counts
    vec_f = client.scatter(vectorizer, broadcast=True, hash=False)
    blocks = [client.submit(_weigh_counts, c, vec_f, nmf_config.dtype, pure=False) for c in kept]
    del kept
    info = client.gather([client.submit(_block_info, b, pure=False) for b in blocks])
    n = sum(i[0] for i in info)
    m = len(vectorizer.vocabulary)
    sq_norm = sum(i[1] for i in info)
    nnz = sum(i[3] for i in info)
    if on_vectorized is not None:
        on_vectorized(n, m, nnz)
    M._check_k(nmf_config.n_components, n, m)
    nmf_config.validate((n, m))
    if nnz == 0:
        raise ParameterError("V has no non-zero value; there is nothing to factorize.")
    t1 = time.perf_counter()
    # the client's H updates are small BLAS calls, which more BLAS threads only slow down
    # (they spin against the workers for the same cores): one thread, as in one process
    with threadpool_limits(limits=1, user_api="blas"):
        W0, H0 = initialize(client, blocks, (n, m), sum(i[2] for i in info) / (n * m), nmf_config)
        H, n_iter, history, converged = fit_hals(
            client, blocks, W0, H0, (n, m), sq_norm, nmf_config, on_iteration
        )
    del W0
    if not converged:
        warnings.warn(
            f"NMF stopped at the iteration limit (max_iter={nmf_config.max_iter}) before its "
            f"stopping rule was met (tol={nmf_config.tol:g}); the result is usable, and more "
            "iterations would settle it",
            ConvergenceWarning,
            stacklevel=2,
        )
    # the solver's W: the exact best response to H, as in the single-process fit
    parts = client.gather(
        [client.submit(_final_part, b, H, nmf_config, None, pure=False) for b in blocks]
    )
    W_best = np.vstack([p[0] for p in parts])
    loss = sum(p[1] for p in parts) + _penalties(nmf_config, (n, m), W_best, H)
    t2 = time.perf_counter()
    _, H, _ = M.order_topics(W_best, H)
    del W_best, parts
    H = M.scale_topics(H).astype(np.float32, copy=False)
    top_columns = M.reference_columns(H)
    parts = client.gather(
        [client.submit(_final_part, b, H, nmf_config, top_columns, pure=False) for b in blocks]
    )
    W = np.vstack([p[0] for p in parts])
    incidence = sp.vstack([p[2] for p in parts], format="csr")
    frob = sum(p[1] for p in parts)
    del parts, blocks
    rel = math.sqrt(2.0 * frob / sq_norm) if sq_norm > 0 else 0.0
    stats = M.FitStats(
        n_documents=n,
        n_terms=m,
        n_nonzero=nnz,
        n_iter=int(n_iter),
        loss=float(loss),
        frobenius_error=rel * math.sqrt(sq_norm),
        relative_error=rel,
        converged=bool(converged),
    )
    stats.seconds_read_vectorize = round(t1 - t0, 3)
    stats.seconds_nmf = round(t2 - t1, 3)
    stats.seconds_total = round(time.perf_counter() - t0, 3)
    del history
    model = M.trained_model(
        H, W, incidence, vectorizer=vectorizer, nmf_config=nmf_config, stats=stats,
        recorder=recorder, documents=documents, created=created, save_doc_topics=save_doc_topics,
    )  # fmt: skip
    return M.FitOutput(
        model=model,
        W=W,
        doc_ids=recorder.ids,
        labels=recorder.labels,
        empty_documents=sum(i[4] for i in info),
    )


def check_settings(nmf_config: NMFConfig) -> None:
    """Raise ParameterError for settings the Dask fit does not offer (before any work)."""
    nmf_config.validate()
    if (nmf_config.loss, nmf_config.solver) != ("frobenius", "cd"):
        raise ParameterError(
            "the dask backend fits with HALS only (loss 'frobenius', solver 'cd'); got loss "
            f"{nmf_config.loss!r}, solver {nmf_config.solver!r}",
            param="solver",
            value=nmf_config.solver,
        )
    if nmf_config.init != "random" and nmf_config.svd != "exact":
        raise ParameterError(
            "the dask backend computes the exact SVD for the NNDSVD start; svd "
            f"{nmf_config.svd!r} is not available with it",
            param="svd",
            value=nmf_config.svd,
        )


def _penalties(config: NMFConfig, shape: tuple[int, int], W: np.ndarray, H: np.ndarray) -> float:
    from topicnmf.nmf._loss import penalty_value

    return penalty_value(config.penalties(*shape), W, H)


# ------------------------------------------------------------- select-k and evaluate


def run_tasks(
    client: Any, fn: Callable[..., Any], shared: Any, tasks: list[tuple]
) -> Iterator[Any]:
    """``fn(shared, *task)`` for every task on the workers; results as they finish.

    ``shared`` (e.g. the document-term matrix) is sent to every worker once. This is the
    ``runner`` of :func:`topicnmf.quality.select_k`.
    """
    distributed = require()
    data = client.scatter(shared, broadcast=True, hash=False)
    futures = [client.submit(fn, data, *task, pure=False) for task in tasks]
    for future in distributed.as_completed(futures):
        yield future.result()


def vectorize(
    client: Any,
    texts: Sequence[str],
    config: VectorizerConfig | None = None,
    *,
    vectorizer: Vectorizer | None = None,
    partitions: int | None = None,
) -> tuple[Vectorizer, sp.csr_matrix]:
    """TF-IDF of ``texts`` computed on the workers, gathered in order.

    With ``vectorizer`` (fitted) its ``transform``; else a vectorizer fitted to ``texts`` with
    ``config``, its document frequencies reduced over the partitions (see the module).
    """
    if not texts:
        raise VectorizerError("no documents to vectorize: the corpus is empty")
    pieces = split(texts, n_partitions(client, partitions, len(texts)))
    text_f = client.scatter(list(pieces), hash=False)
    if vectorizer is None:
        assert config is not None
        rules = first_passes(texts, config)
        kept = [client.submit(_count_part, f, config, rules, pure=False) for f in text_f]
        counts = client.gather([client.submit(_summary, c, pure=False) for c in kept])
        vectorizer = global_vectorizer(counts, config, rules)
        vec_f = client.scatter(vectorizer, broadcast=True, hash=False)
        futures = [client.submit(_weigh_counts, c, vec_f, "float32", pure=False) for c in kept]
    else:
        vec_f = client.scatter(vectorizer, broadcast=True, hash=False)
        futures = [client.submit(_vectorize_part, f, vec_f, "float32", pure=False) for f in text_f]
    return vectorizer, sp.vstack(client.gather(futures), format="csr")
