"""Fitting and updating models on corpora read as streams, never held in memory.

:func:`fit_stream` reads the corpus twice or more. Pass 1 counts document frequencies in a
table of bounded size (:class:`FrequencyTable`) and fixes the vocabulary and idf with the
same ``min_df``/``max_df``/``max_features`` rules as the in-memory vectorizer. The next
passes fit H by online NMF (:class:`~topicnmf.nmf._online.OnlineNMF`), one batch of
documents at a time; W is never kept (``transform`` computes it when asked). Memory: one
batch, k x n terms for H and the statistics, and the frequency table, whatever the corpus
size.

:func:`update` folds new documents into a fitted model without starting over: a warm start
from its H and the per-document Gram matrix of its weights (``topic_gram``), with the
vocabulary fixed or grown by the new terms that pass ``min_df``.

The frequency table is exact until it holds more terms than its memory budget allows; it
then drops the terms of lowest document frequency (all those at or below the median count),
and remembers the largest count it dropped (``pruned_floor``). A term dropped early and seen
again later is counted from then on, so its frequency may be low by at most
``pruned_floor`` (the bound of lossy counting, Manku & Motwani 2002). Terms that occur in
many documents, the ones a vocabulary keeps, are never dropped once they are common.
"""

from __future__ import annotations

import hashlib
import math
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from topicnmf._text import count
from topicnmf.config import NMFConfig, VectorizerConfig
from topicnmf.errors import CorpusError, ParameterError, TopicNMFWarning
from topicnmf.nmf import fit_nmf
from topicnmf.nmf._online import OnlineNMF
from topicnmf.vectorize import Vectorizer
from topicnmf.vectorize.counting import (
    TokenTally,
    chunks,
    count_texts,
    term_frequencies,
    term_strings,
)
from topicnmf.vectorize.vectorizer import (
    most_frequent,
    removal_counts,
    within_df_limits,
)

__all__ = [
    "FrequencyTable",
    "StreamFitOutput",
    "count_frequencies",
    "fit_stream",
    "update",
    "vectorizer_from_table",
]

# What one term costs in the table: the Python string, its dict entry, two array slots.
BYTES_PER_TERM = 120
DEFAULT_BATCH_SIZE = 4096
DEFAULT_PASSES = 3
DEFAULT_VOCAB_MEMORY = 1 << 30
# The start: an in-memory fit of a uniform sample of the corpus, this many texts per topic
# (or a batch, if larger).
INIT_DOCS_PER_TOPIC = 40

#: progress hook: (pass number from 1, passes in all, documents read in the pass, docs/s)
Progress = Callable[[int, int, int, float], None]


class FrequencyTable:
    """Document frequency and total count of each term, within a memory budget.

    Parameters
    ----------
    max_bytes : int
        Budget for the table (:data:`BYTES_PER_TERM` a term).
    """

    def __init__(self, max_bytes: int = DEFAULT_VOCAB_MEMORY) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ParameterError(
                f"the vocabulary memory budget must be a positive number of bytes, not "
                f"{max_bytes!r}",
                param="max_vocab_bytes",
                value=max_bytes,
            )
        self.max_terms = max(1000, max_bytes // BYTES_PER_TERM)
        self.index: dict[str, int] = {}
        self.df = np.zeros(1024, dtype=np.int64)
        self.total = np.zeros(1024, dtype=np.float64)
        self.n_documents = 0
        self.n_tokens = 0
        self.tally = TokenTally()  # what tokenizing found and dropped, for error messages
        self.boilerplate_documents = 0  # documents that lost a boilerplate line
        self.pruned_floor = 0  # largest document frequency ever dropped
        self.n_pruned = 0  # times the budget was hit

    def __len__(self) -> int:
        return len(self.index)

    def add(self, terms: list[str], df: np.ndarray, total: np.ndarray, n_docs: int) -> None:
        """Add the counts of one chunk of documents."""
        index = self.index
        slots = np.fromiter(
            (index.setdefault(t, len(index)) for t in terms), dtype=np.int64, count=len(terms)
        )
        if len(index) > len(self.df):
            # slots past the table's terms are always zero, so growing pads with zeros
            size = max(len(index), 2 * len(self.df))
            self.df = np.concatenate([self.df, np.zeros(size - len(self.df), np.int64)])
            self.total = np.concatenate([self.total, np.zeros(size - len(self.total))])
        self.df[slots] += df
        self.total[slots] += total
        self.n_documents += n_docs
        if len(index) > self.max_terms:
            self._prune()

    def _prune(self) -> None:
        n = len(self.index)
        df = self.df[:n]
        floor = int(np.partition(df, n // 2)[n // 2])
        keep = df > floor
        self.pruned_floor = max(self.pruned_floor, floor)
        self.n_pruned += 1
        terms = [t for t, k in zip(self.index, keep.tolist(), strict=True) if k]
        self.df = np.concatenate([df[keep], np.zeros(len(terms), dtype=np.int64)])
        self.total = np.concatenate([self.total[:n][keep], np.zeros(len(terms))])
        self.index = {t: i for i, t in enumerate(terms)}

    def arrays(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Terms, document frequencies and totals, in table order."""
        n = len(self.index)
        return list(self.index), self.df[:n].copy(), self.total[:n].copy()


def count_frequencies(
    config: VectorizerConfig,
    texts: Iterable[str],
    max_bytes: int = DEFAULT_VOCAB_MEMORY,
    on_documents: Callable[[int], None] | None = None,
    fitted: Vectorizer | None = None,
) -> FrequencyTable:
    """Count every term's document frequency in ``texts``, chunk by chunk.

    Each chunk is tokenized and counted on its own (the vectorizer's engine), then its
    counts are added to the table by term: memory is one chunk plus the table. With
    ``fitted``, its boilerplate lines are left out and its phrases joined, as it would.
    """
    from topicnmf.vectorize.lines import LineFilter

    lines = phrases = None
    if fitted is not None:
        lines = LineFilter(lines=fitted.boilerplate) if fitted.boilerplate else None
        phrases = fitted.phrases
    table = FrequencyTable(max_bytes)
    for chunk in chunks(texts):
        counter = count_texts(config, chunk, lines=lines, phrases=phrases)
        _, merged, df, total = term_frequencies(counter)
        seen = np.flatnonzero(df)
        table.add(term_strings(counter, merged, seen), df[seen], total[seen], len(chunk))
        table.n_tokens += counter.n_kept_tokens
        table.tally.add(counter)
        if on_documents is not None:
            on_documents(table.n_documents)
    if lines is not None:
        table.boilerplate_documents = lines.n_documents
    return table


def vectorizer_from_table(config: VectorizerConfig, table: FrequencyTable) -> Vectorizer:
    """The fitted vectorizer the counts give: the in-memory rules for min_df, max_df and
    max_features (ties among max_features broken as the vectorizer does)."""
    n_docs = table.n_documents
    terms, df, total = table.arrays()
    keep = within_df_limits(config, table.tally, df)  # or says why no term is left
    keep = np.array(sorted(keep.tolist(), key=terms.__getitem__), dtype=np.int64)
    after_df = int(total[keep].sum())
    if config.max_features is not None and len(keep) > config.max_features:
        keep = keep[most_frequent(config, keep, total)]
    # the terms a full vocabulary budget pruned are not counted
    removed = removal_counts(config, table.tally, df, total, after_df, int(total[keep].sum()))
    vectorizer = Vectorizer(config)
    kept_df = df[keep].astype(np.int64)
    vectorizer._set_state(
        [terms[i] for i in keep.tolist()], kept_df, n_docs, vectorizer._idf(kept_df, n_docs),
        removed=removed,
    )  # fmt: skip
    return vectorizer


# ---------------------------------------------------------------------------------------
# Passes over a corpus
# ---------------------------------------------------------------------------------------


#: batches read ahead and shuffled together by the online passes (memory: this many batches)
SHUFFLE_BATCHES = 8


class _Pass:
    """One pass over the documents in batches, timing it and hashing ids and texts."""

    def __init__(self, documents: Iterable[Any], batch_size: int) -> None:
        self.documents = documents
        self.batch_size = batch_size
        self.digest = hashlib.sha256()
        self.n_documents = 0
        self.start = time.perf_counter()

    def batches(self, shuffle_seed: int | None = None) -> Iterator[tuple[list[str], list[Any]]]:
        """Batches in reading order; with ``shuffle_seed``, the documents of each window of
        :data:`SHUFFLE_BATCHES` batches are shuffled first (seeded), so that a corpus sorted
        by source or date does not feed the online fit one source at a time."""
        it = iter(self.documents)
        window = self.batch_size * (SHUFFLE_BATCHES if shuffle_seed is not None else 1)
        rng = np.random.default_rng(shuffle_seed) if shuffle_seed is not None else None
        while chunk := list(islice(it, window)):
            for doc in chunk:
                for part in (doc.id, doc.text):
                    data = part.encode("utf-8", "surrogatepass")
                    self.digest.update(len(data).to_bytes(8, "little"))
                    self.digest.update(data)
            if rng is not None:
                chunk = [chunk[i] for i in rng.permutation(len(chunk))]
            for start in range(0, len(chunk), self.batch_size):
                batch = chunk[start : start + self.batch_size]
                self.n_documents += len(batch)
                yield [doc.text for doc in batch], batch

    def rate(self) -> float:
        return self.n_documents / max(time.perf_counter() - self.start, 1e-9)


def _check_reiterable(documents: Iterable[Any]) -> None:
    if iter(documents) is documents:
        raise ParameterError(
            "a streamed fit reads the documents more than once; give a re-iterable corpus "
            "(a Corpus, a list), not an iterator",
            param="documents",
        )


def _check_settings(batch_size: int, passes: int) -> None:
    for name, value in (("batch_size", batch_size), ("passes", passes)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(
                f"{name} must be a positive integer, not {value!r}", param=name, value=value
            )


def _check_whole_corpus_rules(config: VectorizerConfig) -> None:
    """Boilerplate lines and phrases are found from every text at once; a streamed fit
    never holds them, so those rules must be off rather than silently skipped."""
    if config.max_line_df is not None:
        raise ParameterError(
            "a streamed fit cannot find boilerplate lines (that needs every text at once); "
            "set max_line_df=None",
            param="max_line_df",
            value=config.max_line_df,
        )
    if config.phrases:
        raise ParameterError(
            "a streamed fit cannot find phrases (that needs every text at once); set phrases=False",
            param="phrases",
            value=True,
        )


@dataclass
class StreamFitOutput:
    """What :func:`fit_stream` and :func:`update` return."""

    model: Any  # TopicModel
    n_documents: int
    #: largest document frequency the bounded table dropped (0: the counts are exact)
    pruned_floor: int = 0
    terms_added: int = 0


class _Reservoir:
    """A uniform sample of ``size`` texts from a stream (Algorithm R), seeded: the start of
    the online fit must see every part of a corpus, which is often sorted (by source, by
    date, by group), not only its head."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rng = np.random.default_rng(seed)
        self.texts: list[str] = []
        self.seen = 0

    def add(self, texts: list[str]) -> None:
        for text in texts:
            self.seen += 1
            if len(self.texts) < self.size:
                self.texts.append(text)
            else:
                j = int(self.rng.integers(self.seen))
                if j < self.size:
                    self.texts[j] = text


def _initial_H(texts: list[str], vectorizer: Vectorizer, config: NMFConfig) -> np.ndarray:
    """The start of the online fit: an in-memory fit of a sample of the documents."""
    V = vectorizer.transform(texts)
    k = config.n_components
    # the corpus, not a setting, decides these (exit 1 from the command line, as in memory)
    if V.nnz == 0:
        raise CorpusError(
            f"none of the {count(len(texts), 'sampled document')} has a word of the vocabulary"
        )
    from topicnmf.model import _check_k

    try:
        _check_k(k, V.shape[0], V.shape[1])
    except ParameterError as exc:  # the message of an in-memory fit, with its exit code
        raise CorpusError(str(exc), param="n_components", value=k) from None
    with warnings.catch_warnings():
        # a start need not converge; the online passes go on from it
        warnings.simplefilter("ignore")
        return fit_nmf(V, config, n_threads=1).H.astype(np.float64)


def _run_passes(
    documents: Iterable[Any],
    vectorizer: Vectorizer,
    online: OnlineNMF,
    batch_size: int,
    passes: int,
    first_pass: int,
    total_passes: int,
    on_progress: Progress | None,
) -> tuple[_Pass, np.ndarray, np.ndarray, int, int]:
    """The online passes; returns the last pass, its W column sums, dominance counts,
    non-zeros and empty documents."""
    k = online.state.H.shape[0]
    last: _Pass | None = None
    for p in range(passes):
        online.start_pass()
        run = _Pass(documents, batch_size)
        colsum = np.zeros(k)
        dominant = np.zeros(k, dtype=np.int64)
        nnz = empty = 0
        for texts, _ in run.batches(shuffle_seed=online.config.seed + p):
            X = vectorizer.transform(texts)
            W = online.partial_fit(X)
            colsum += W.sum(axis=0)
            has = W.any(axis=1)
            dominant += np.bincount(W[has].argmax(axis=1), minlength=k)
            nnz += X.nnz
            empty += int(np.count_nonzero(np.diff(X.indptr) == 0))
            if on_progress is not None:
                on_progress(first_pass + p, total_passes, run.n_documents, run.rate())
        if last is not None and run.n_documents != last.n_documents:
            raise CorpusError(
                f"the corpus changed between passes: {last.n_documents:,} documents, then "
                f"{run.n_documents:,}; a streamed fit needs the same documents each pass"
            )
        last = run
    assert last is not None
    return last, colsum, dominant, nnz, empty


def fit_stream(
    documents: Iterable[Any],
    vectorizer_config: VectorizerConfig,
    nmf_config: NMFConfig,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    passes: int = DEFAULT_PASSES,
    max_vocab_bytes: int = DEFAULT_VOCAB_MEMORY,
    on_progress: Progress | None = None,
) -> StreamFitOutput:
    """Fit a topic model reading the documents in passes, never all at once.

    Parameters
    ----------
    documents : re-iterable of Document
        Read ``1 + passes`` times, in the same order each time; a
        :class:`~topicnmf.corpus.Corpus` is. The first pass keeps a uniform sample of
        ``max(batch_size, 40 k)`` texts, whose in-memory fit is the start.
    vectorizer_config, nmf_config
        Settings, as for :func:`topicnmf.model.fit`; the loss must be Frobenius.
    batch_size : int
        Documents per online step.
    passes : int
        Passes of online NMF over the corpus after the counting pass.
    max_vocab_bytes : int
        Memory budget of the document-frequency table (see the module docstring).
    on_progress : callable, optional
        ``(pass, passes, documents, documents_per_second)`` after each batch.

    Returns
    -------
    StreamFitOutput
    """
    from topicnmf.model import creation_time, library_versions

    nmf_config.validate()
    _check_settings(batch_size, passes)
    _check_whole_corpus_rules(vectorizer_config)
    _check_reiterable(documents)
    created = creation_time()
    total_passes = 1 + passes
    count_pass = _Pass(documents, batch_size)
    k = nmf_config.n_components
    sample = _Reservoir(max(batch_size, INIT_DOCS_PER_TOPIC * k), nmf_config.seed)

    def texts() -> Iterator[str]:
        for batch, _ in count_pass.batches():
            sample.add(batch)
            yield from batch
            if on_progress is not None:
                on_progress(1, total_passes, count_pass.n_documents, count_pass.rate())

    table = count_frequencies(vectorizer_config, texts(), max_vocab_bytes)
    vectorizer = vectorizer_from_table(vectorizer_config, table)
    n_docs = table.n_documents
    H0 = _initial_H(sample.texts, vectorizer, nmf_config)
    sample.texts = []  # the sample is not needed past the start
    online = OnlineNMF(nmf_config, n_docs, H0)
    run, colsum, dominant, nnz, empty = _run_passes(
        documents, vectorizer, online, batch_size, passes, 2, total_passes, on_progress
    )
    if run.n_documents != n_docs:
        raise CorpusError(
            f"the corpus changed between passes: {n_docs:,} documents, then "
            f"{run.n_documents:,}; a streamed fit needs the same documents each pass"
        )
    model = _finish_model(
        online,
        vectorizer,
        nmf_config,
        colsum,
        dominant,
        n_docs=n_docs,
        nnz=nnz,
        n_iter=passes,
        fingerprint="sha256:" + count_pass.digest.hexdigest(),
        created=created,
        versions=library_versions(),
        sources=_sources(documents),
    )
    model.stats.n_documents = n_docs
    out = StreamFitOutput(model=model, n_documents=n_docs, pruned_floor=table.pruned_floor)
    out.empty_documents = empty  # type: ignore[attr-defined]
    return out


def _sources(documents: Iterable[Any]) -> Any:
    from topicnmf.modelfile import TrainingSources

    describe = getattr(documents, "describe_sources", None)
    return TrainingSources.of(describe()) if callable(describe) else None


def _finish_model(
    online: OnlineNMF,
    vectorizer: Vectorizer,
    config: NMFConfig,
    colsum: np.ndarray,
    dominant: np.ndarray,
    *,
    n_docs: int,
    nnz: int,
    n_iter: int,
    fingerprint: str,
    created: str,
    versions: dict[str, str],
    sources: Any,
    lineage: dict[str, Any] | None = None,
    keep_order: bool = False,
) -> Any:
    """The TopicModel of an online fit: topics ordered by share (or, with ``keep_order``,
    kept where they were: an update must not renumber its parent's topics) and scaled to
    sum to 1."""
    from topicnmf.model import TopicModel
    from topicnmf.modelfile import FitStats

    st = online.state
    sums = st.H.sum(axis=1)
    mass = colsum * sums
    share = mass / mass.sum() if mass.sum() > 0 else np.full(len(mass), 1 / len(mass))
    order = np.arange(len(share)) if keep_order else np.argsort(-share, kind="stable")
    scale = np.where(sums > 0, sums, 1.0)
    H = (st.H / scale[:, None])[order].astype(np.float32)
    # the weights W' = W * scale of the scaled H: their Gram matrix per document
    gram = (st.A * np.outer(scale, scale))[np.ix_(order, order)]
    sq = max(online.sq_norm, 1e-300)
    stats = FitStats(
        n_documents=n_docs,
        n_terms=len(vectorizer.vocabulary),
        n_nonzero=int(nnz),
        n_iter=int(n_iter),
        loss=0.5 * online.residual,
        frobenius_error=math.sqrt(online.residual),
        relative_error=math.sqrt(online.residual / sq) if online.sq_norm else 0.0,
        converged=True,
    )
    return TopicModel(
        H=H,
        vectorizer=vectorizer,
        nmf_config=config,
        topic_share=share[order],
        stats=stats,
        fingerprint=fingerprint,
        versions=versions,
        created=created,
        dominant_count=dominant[order],
        sources=sources,
        topic_gram=gram,
        lineage=lineage,
    )


# ---------------------------------------------------------------------------------------
# Updating a model with new documents
# ---------------------------------------------------------------------------------------

VOCABULARY_MODES = ("fixed", "grow")


def update(
    model: Any,
    documents: Iterable[Any],
    *,
    vocabulary: str = "fixed",
    batch_size: int = DEFAULT_BATCH_SIZE,
    passes: int = 1,
    max_vocab_bytes: int = DEFAULT_VOCAB_MEMORY,
    on_progress: Progress | None = None,
) -> StreamFitOutput:
    """Fold new documents into a fitted model: a warm start from its topics.

    The model's topics stand for its training documents through the Gram matrix of their
    weights (``topic_gram``, per document; estimated from the first new batch for a model
    without it), weighted by their number, so the new documents move the topics as much as
    their share of all documents, not more.

    Parameters
    ----------
    model : TopicModel
        The parent; it is not changed.
    documents : re-iterable of Document
        The new documents (read ``passes`` times, once more to count terms with "grow").
    vocabulary : {"fixed", "grow"}
        "fixed" keeps the vocabulary and idf. "grow" adds the new terms whose document
        frequency among the new documents passes ``min_df`` (and ``max_df``) of all the
        documents, with zero weight to start, and recomputes idf from the document
        frequencies the model keeps plus the new ones; ``max_features`` is not applied again.
    batch_size, passes, max_vocab_bytes, on_progress
        As for :func:`fit_stream`.

    Returns
    -------
    StreamFitOutput
        The new model records its lineage: the parent's fingerprint and the documents and
        terms added.
    """
    from topicnmf.model import creation_time, library_versions

    if vocabulary not in VOCABULARY_MODES:
        raise ParameterError(
            f"vocabulary must be one of {', '.join(VOCABULARY_MODES)}, not {vocabulary!r}",
            param="vocabulary",
            value=vocabulary,
            choices=list(VOCABULARY_MODES),
        )
    _check_settings(batch_size, passes)
    if passes > 1:
        _check_reiterable(documents)
    config = model.nmf_config
    vec = model.vectorizer
    H = model.H.astype(np.float64)
    n_old = int(vec.n_documents)
    terms_added = 0
    total_passes = passes + (vocabulary == "grow")
    if vocabulary == "grow":
        _check_reiterable(documents)
        table = count_frequencies(
            vec.config, (doc.text for doc in documents), max_vocab_bytes,
            (lambda n: on_progress(1, total_passes, n, 0.0)) if on_progress else None,
            fitted=vec,
        )  # fmt: skip
        vec, H, terms_added = _grown(vec, H, table)
    n_new_hint = _count_hint(documents)
    gram = model.topic_gram
    if gram is None:
        gram = _estimated_gram(documents, vec, H, config, batch_size)
    online = OnlineNMF(config, n_old + n_new_hint, H, A=gram, B=gram @ H, weight=float(n_old))
    run, colsum, dominant, nnz, empty = _run_passes(
        documents,
        vec,
        online,
        batch_size,
        passes,
        1 + (vocabulary == "grow"),
        total_passes,
        on_progress,
    )
    n_added = run.n_documents
    parent = model.fingerprint
    digest = hashlib.sha256(parent.encode() + run.digest.digest()).hexdigest()
    lineage = {
        "parent": parent,
        "documents_added": n_added,
        "vocabulary": vocabulary,
        "terms_added": terms_added,
        "training_documents": (model.lineage or {}).get("training_documents", n_old) + n_added,
    }
    new = _finish_model(
        online,
        vec,
        config,
        colsum,
        dominant,
        n_docs=int(vec.n_documents),
        nnz=nnz,
        n_iter=passes,
        fingerprint="sha256:" + digest,
        created=creation_time(),
        versions=library_versions(),
        sources=_sources(documents),
        lineage=lineage,
        keep_order=True,
    )
    # the share of all documents seen, old and new, not of the new ones alone
    new.topic_share = (n_old * model.topic_share + n_added * new.topic_share) / max(
        1, n_old + n_added
    )
    new.labels = list(model.labels) if model.labels else None
    new.seed_topics, new.seed_strength = model.seed_topics, model.seed_strength
    _warn_dropped(model)
    if vocabulary == "fixed":
        # the idf (and the document count behind it) is the parent's; fit statistics of
        # the new documents alone would contradict it
        new.stats = None
    new.dominant_count = None
    return StreamFitOutput(model=new, n_documents=n_added, terms_added=terms_added)


def _warn_dropped(model: Any) -> None:
    """Say which parts of the parent describe only its own training documents and so are
    not carried into the updated model."""
    dropped = [
        what
        for what, present in (
            ("its stored training weights", model.W is not None),
            ("its training co-occurrences (evaluate then needs a corpus)", model.reference),
            ("its topic tree", getattr(model, "tree", None) is not None),
            ("its time-window topics", getattr(model, "windows", None) is not None),
        )
        if present is not None and present is not False
    ]
    if dropped:
        warnings.warn(
            "the updated model does not keep what describes only the parent's training "
            f"documents: {'; '.join(dropped)}",
            TopicNMFWarning,
            stacklevel=3,
        )


def _count_hint(documents: Iterable[Any]) -> int:
    try:
        return len(documents)  # type: ignore[arg-type]
    except TypeError:
        stats = getattr(documents, "stats", None)
        return int(getattr(stats, "documents", 0) or 0) or DEFAULT_BATCH_SIZE


def _estimated_gram(
    documents: Iterable[Any], vec: Vectorizer, H: np.ndarray, config: NMFConfig, n: int
) -> np.ndarray:
    """The Gram matrix per document of the first new documents' weights, for a model that
    does not store its own."""
    from topicnmf.nmf import transform

    texts = [doc.text for doc in islice(iter(documents), n)]
    W = transform(vec.transform(texts), H.astype(np.float32), config).astype(np.float64)
    return W.T @ W / max(1, len(texts))


def _grown(
    vec: Vectorizer, H: np.ndarray, table: FrequencyTable
) -> tuple[Vectorizer, np.ndarray, int]:
    """The vocabulary with the new terms that pass min_df/max_df, H widened with zeros."""
    cfg = vec.config
    terms, df, _ = table.arrays()
    n_docs = vec.n_documents + table.n_documents
    high = cfg.max_df if isinstance(cfg.max_df, int) else cfg.max_df * n_docs
    low = cfg.min_df if isinstance(cfg.min_df, int) else cfg.min_df * n_docs
    old = {t: i for i, t in enumerate(vec.vocabulary)}
    counts: dict[str, int] = dict(zip(vec.vocabulary, vec.document_frequency.tolist(), strict=True))
    added = 0
    for term, d in zip(terms, df.tolist(), strict=True):
        if term in old:
            counts[term] += d
        elif low <= d <= high:
            counts[term] = d
            added += 1
    vocabulary = sorted(counts)
    new_df = np.array([counts[t] for t in vocabulary], dtype=np.int64)
    grown = Vectorizer(cfg)
    grown._set_state(
        vocabulary, new_df, n_docs, grown._idf(new_df, n_docs),
        boilerplate=list(vec.boilerplate), phrases=vec.phrases,
        boilerplate_documents=vec.boilerplate_documents + table.boilerplate_documents,
    )  # fmt: skip
    H2 = np.zeros((H.shape[0], len(vocabulary)))
    position = {t: j for j, t in enumerate(vocabulary)}
    columns = np.array([position[t] for t in vec.vocabulary], dtype=np.int64)
    H2[:, columns] = H
    return grown, H2, added
