"""The fitted topic model (H, the vectorizer, what is known about the fit) and the fit pipeline.

A model is used here (top terms, labels, transform, evaluate, DataFrames) and made by
:func:`fit`; how it is stored and checked when read is :mod:`topicnmf.modelfile`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import platform
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from topicnmf import __version__, modelfile
from topicnmf._text import count
from topicnmf.errors import ParameterError, TopicNMFWarning
from topicnmf.modelfile import (
    FORMAT_VERSION,
    MAGIC,
    REFERENCE_TOP,
    FitStats,
    TrainingIncidence,
    TrainingSources,
    WindowTopics,
    write_npz,
)
from topicnmf.nmf import NMFConfig, fit_nmf, transform
from topicnmf.quality import (
    Evaluation,
    dominance_counts,
    evaluate_topics,
    npmi_from_counts,
    relative_error,
    top_indices,
)
from topicnmf.seeds import SeedTopic, seed_guidance, seed_labels, seed_recall
from topicnmf.vectorize import Vectorizer, VectorizerConfig

if TYPE_CHECKING:
    import pandas as pd

    from topicnmf.tree import TopicTree

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "REFERENCE_TOP",
    "FitOutput",
    "FitStats",
    "TopicModel",
    "TrainingIncidence",
    "TrainingSources",
    "fit",
    "normalize_rows",
    "order_topics",
    "scale_topics",
    "write_npz",
]


@dataclass
class TopicModel:
    """A fitted topic model.

    Attributes
    ----------
    H : ndarray of shape (n_topics, n_terms)
        Topic-term weights, topics ordered by ``topic_share``, largest first; each row sums
        to 1.
    vectorizer : Vectorizer
        The fitted TF-IDF stage (vocabulary, idf and settings exactly as fitted).
    nmf_config : NMFConfig
        The NMF settings used for the fit (and for ``transform`` of new documents).
    topic_share : ndarray of shape (n_topics,)
        Each topic's share of the total reconstruction ``sum(W @ H)`` on the training data.
    stats : FitStats or None
        What happened during the fit.
    fingerprint : str
        SHA-256 of the training documents' ids and texts.
    versions : dict
        Versions of topicnmf, Python and the libraries the fit ran on.
    created : str
        When the model was made (ISO 8601, UTC), from ``SOURCE_DATE_EPOCH``; "" without it.
    labels : list of str or None
        User labels of the topics ("" where unset).
    doc_ids, W : list of str and ndarray of shape (n_documents, n_topics), or None
        The training documents' ids and raw topic weights, when the fit kept them.
    reference : TrainingIncidence or None
        Which training documents contain each topic's top terms.
    dominant_count : ndarray of shape (n_topics,) or None
        Training documents each topic dominates.
    sources : TrainingSources or None
        The training corpus's sources as given and how each was read (None when the
        documents were not a :class:`~topicnmf.corpus.Corpus`, or for older models).
    windows : WindowTopics or None
        A dynamic model's window topics (``fit(windows=...)``); None otherwise.
    format_version : int
        Format of the file the model was read from.
    seed_topics : list of SeedTopic or None
        Guided topics: topics 0..s-1 were seeded with these words (those found in the
        vocabulary), under these labels.
    seed_strength : float
        The strength of the seeded topics' pull (see :mod:`topicnmf.nmf._guided`).
    tree : TopicTree or None
        The topic hierarchy whose leaves are the topics (a model made by
        :func:`topicnmf.tree.fit_tree`).
    topic_gram : ndarray of shape (n_topics, n_topics) or None
        ``W.T @ W`` of the training weights per document: what ``update`` needs to weigh
        the training documents against new ones (None for older models).
    lineage : dict or None
        For a model made by ``update``: ``parent`` (its fingerprint), ``documents_added``,
        ``vocabulary`` ("fixed" or "grow"), ``terms_added``, ``training_documents``.
    """

    H: np.ndarray
    vectorizer: Vectorizer
    nmf_config: NMFConfig
    topic_share: np.ndarray
    stats: FitStats | None = None
    fingerprint: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    created: str = ""
    labels: list[str] | None = None
    doc_ids: list[str] | None = None
    W: np.ndarray | None = None
    reference: TrainingIncidence | None = None
    dominant_count: np.ndarray | None = None
    sources: TrainingSources | None = None
    windows: WindowTopics | None = None
    format_version: int = FORMAT_VERSION
    seed_topics: list[SeedTopic] | None = None
    seed_strength: float = 0.0
    tree: TopicTree | None = None
    topic_gram: np.ndarray | None = None
    lineage: dict[str, Any] | None = None

    # -- description ---------------------------------------------------------------------
    @property
    def n_topics(self) -> int:
        return int(self.H.shape[0])

    @property
    def vocabulary(self) -> list[str]:
        return self.vectorizer.vocabulary

    def top_terms(self, n: int = 10) -> list[list[tuple[str, float]]]:
        """The ``n`` highest-weighted terms of each topic, as (term, weight) pairs.

        Ties are broken by column (alphabetical) order so the result is deterministic. Terms
        of weight 0 are not part of a topic and are never listed, so a sparse topic may have
        fewer than ``n`` (an empty topic none).
        """
        if n < 1:
            raise ParameterError(
                f"the number of top terms must be at least 1, not {n!r}", param="n", value=n
            )
        vocab = self.vocabulary
        n = min(n, len(vocab))
        result = []
        for row in self.H:
            # as a stable sort on -weight: alphabetical order among equal weights
            order = top_indices(row, n)
            result.append([(vocab[j], float(row[j])) for j in order if row[j] > 0])
        return result

    def topic_labels(self, n_terms: int = 3) -> list[str]:
        """A short label per topic: the user's label if set, else the automatic one (its
        most relevant terms joined by '_'; see :func:`topicnmf.explore.labels.auto_labels`)."""
        from topicnmf.explore.labels import auto_labels

        auto = auto_labels(self.H, self.topic_share, self.vocabulary, n_terms)
        users = self.labels or [""] * self.n_topics
        return [user or a for user, a in zip(users, auto, strict=True)]

    def topics_frame(self, top: int = 10) -> pd.DataFrame:
        """The top terms of every topic as a pandas DataFrame, one row per topic and term.

        Columns ``topic, label, share, rank, term, weight``, as in the topics CSV (rank 1 is
        the heaviest term), with full-precision numbers.

        Parameters
        ----------
        top : int
            Terms per topic.
        """
        if top < 1:
            raise ParameterError(
                f"the number of top terms must be at least 1, not {top!r}", param="top", value=top
            )
        import pandas as pd

        labels = self.topic_labels()
        rows = [
            (t, labels[t], float(self.topic_share[t]), rank, term, weight)
            for t, terms in enumerate(self.top_terms(top))
            for rank, (term, weight) in enumerate(terms, start=1)
        ]
        return pd.DataFrame(rows, columns=["topic", "label", "share", "rank", "term", "weight"])

    def doc_topics_frame(
        self,
        texts: Iterable[str] | None = None,
        ids: Sequence[str] | None = None,
        *,
        normalize: bool = True,
        n_threads: int | None = None,
    ) -> pd.DataFrame:
        """Documents' topic weights as a pandas DataFrame indexed by document id.

        Columns ``topic_0 ... topic_{k-1}, dominant_topic, dominant_label, dominant_weight``,
        as in the document-topic CSV. A document with no word of the vocabulary has zero
        weights, a missing (``<NA>``) dominant topic and label, and a dominant weight of 0.

        Parameters
        ----------
        texts : iterable of str, optional
            Documents to weigh under this model. Without them, the training documents'
            weights stored by a fit with ``save_doc_topics=True``.
        ids : sequence of str, optional
            The documents' ids (default: "0", "1", ... for given texts; the stored ids).
        normalize : bool
            Weights that sum to 1 per document (as the command line gives them); False
            gives the raw weights.
        n_threads : int, optional
            Threads for the transform of ``texts``.
        """
        if texts is None:
            if self.W is None or self.doc_ids is None:
                raise ParameterError(
                    "this model holds no training document weights: fit it with "
                    "save_doc_topics=True, or give texts",
                    param="save_doc_topics",
                )
            W = self.W
            ids = self.doc_ids if ids is None else ids
        else:
            W = self.transform(texts, n_threads=n_threads)
        ids = [str(i) for i in range(len(W))] if ids is None else list(ids)
        if len(ids) != len(W):
            raise ParameterError(
                f"{len(ids)} ids for {len(W)} documents", param="ids", value=len(ids)
            )
        return _doc_topics_frame(W if not normalize else normalize_rows(W), ids, self)

    # -- use -----------------------------------------------------------------------------
    def transform_matrix(self, V: sp.spmatrix, n_threads: int | None = None) -> np.ndarray:
        """Topic weights W (raw, not normalized) of rows of a TF-IDF matrix."""
        if V.shape[0] == 0:  # no documents, no weights (the engine wants a matrix to solve)
            return np.zeros((0, self.n_topics), dtype=self.nmf_config.dtype)
        return transform(V, self.H, self.nmf_config, n_threads=n_threads)

    def transform(self, texts: Iterable[str], n_threads: int | None = None) -> np.ndarray:
        """Topic weights W (raw) of new texts under the stored vectorizer."""
        return self.transform_matrix(self.vectorizer.transform(texts), n_threads=n_threads)

    def evaluate(
        self, V: sp.spmatrix | None = None, top_n: int = 10, n_threads: int | None = None
    ) -> Evaluation:
        """Coherence (NPMI), diversity, reconstruction error and dominance of the topics.

        Parameters
        ----------
        V : sparse matrix, optional
            A reference corpus vectorized with this model's vectorizer (``vectorizer.transform``).
            Without it the training corpus is used, through the co-occurrence data stored in
            the model at fit time (enough for up to :data:`REFERENCE_TOP` top terms).
        top_n : int
            Top terms per topic for NPMI and diversity.
        n_threads : int, optional
            Threads for the transform of ``V``.
        """
        if V is not None:
            return evaluate_topics(
                self.H,
                V,
                vocabulary=self.vocabulary,
                top_n=top_n,
                nmf_config=self.nmf_config,
                n_threads=n_threads,
            )
        if self.reference is None:
            raise ParameterError(
                "this model holds no training co-occurrence data; give a reference corpus"
            )
        if top_n > REFERENCE_TOP:
            raise ParameterError(
                f"coherence on the training corpus is stored for up to {REFERENCE_TOP} top "
                f"terms, not {top_n}; choose top_n <= {REFERENCE_TOP} or give a reference corpus",
                param="top_n",
                value=top_n,
            )
        base = evaluate_topics(self.H, vocabulary=self.vocabulary, top_n=top_n)
        top = np.array([t.top_indices for t in base.topics])
        npmi = _training_npmi(self.reference, top)
        counts = self.dominant_count
        topics = [
            dataclasses.replace(
                t,
                npmi=float(npmi[i]),
                n_dominant=None if counts is None else int(counts[i]),
            )
            for i, t in enumerate(base.topics)
        ]
        n_docs = self.reference.n_documents
        return dataclasses.replace(
            base,
            topics=topics,
            npmi=float(np.mean(npmi)),
            relative_error=self.stats.relative_error if self.stats else None,
            n_documents=n_docs,
            n_undominated=None if counts is None else int(n_docs - sum(counts.tolist())),
        )

    def seed_recall(self, top_n: int = 10) -> list[tuple[str, int, int]]:
        """For each seeded topic: its label, how many of its seed words are among its
        ``top_n`` terms, and how many seed words it has. Empty for an unguided model."""
        if not self.seed_topics:
            return []
        found = seed_recall(self.H, self.seed_topics, self.vocabulary, top_n)
        return [(t.label, f, len(t.words)) for t, f in zip(self.seed_topics, found, strict=True)]

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` (an .npz), atomically; see :mod:`topicnmf.modelfile`."""
        modelfile.write(path, self)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TopicModel:
        """Read and check a model file. Raises :class:`ModelFileError` for any problem."""
        return cls(**modelfile.read(path))


def _doc_topics_frame(W: np.ndarray, ids: list[str], model: TopicModel) -> pd.DataFrame:
    import pandas as pd

    k = model.n_topics
    frame = pd.DataFrame(
        W, index=pd.Index(ids, name="id"), columns=[f"topic_{t}" for t in range(k)]
    )
    has = (W > 0).any(axis=1)
    best = W.argmax(axis=1) if len(W) else np.zeros(0, dtype=np.int64)
    labels = np.array(model.topic_labels(), dtype=object)
    frame["dominant_topic"] = pd.array(np.where(has, best, 0), dtype="Int64")
    frame.loc[~has, "dominant_topic"] = pd.NA
    frame["dominant_label"] = pd.array(np.where(has, labels[best], None), dtype="string")
    frame["dominant_weight"] = np.where(has, W[np.arange(len(W)), best], 0.0)
    return frame


def _training_npmi(reference: TrainingIncidence, top: np.ndarray) -> np.ndarray:
    """Each topic's mean NPMI over the pairs of its ``top`` terms, on the training corpus.

    Co-occurrences are counted on the stored incidence, with the documents renumbered to
    those that contain a stored term: the work follows the stored arrays, not the corpus
    size the file states. A top term that was not stored is in no document (as when it
    was not a top term at fit time). Topics are counted a block at a time so that no matrix
    grows with the square of all topics' terms.
    """
    n_columns = len(reference.columns)
    _, rows = np.unique(reference.docs, return_inverse=True)
    # one more column, empty, for top terms that were not stored
    indptr = np.append(reference.indptr, reference.indptr[-1])
    B = sp.csc_matrix(
        (np.ones(len(rows), dtype=np.int64), rows.reshape(-1), indptr),
        shape=(int(rows.max()) + 1 if len(rows) else 0, n_columns + 1),
    )
    position = np.searchsorted(reference.columns, top)
    found = position < n_columns
    found[found] = reference.columns[position[found]] == top[found]
    position[~found] = n_columns
    k, n_top = top.shape
    iu, ju = np.triu_indices(n_top, k=1)
    out = np.empty(k)
    step = max(1, 512 // n_top)
    for start in range(0, k, step):
        block = position[start : start + step]
        sub = B[:, block.reshape(-1)]
        counts = (sub.T @ sub).toarray()
        for i in range(len(block)):
            part = slice(i * n_top, (i + 1) * n_top)
            npmi = npmi_from_counts(reference.n_documents, counts[part, part])
            out[start + i] = npmi[iu, ju].mean()
    return out


# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------


def library_versions() -> dict[str, str]:
    """Versions of what the fit ran on (read from package metadata: importing scikit-learn
    just to ask would add most of a second to every command)."""
    from importlib import metadata

    versions = {"topicnmf": __version__, "numpy": np.__version__}
    for dist in ("scipy", "scikit-learn"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "unknown"
    versions["python"] = platform.python_version()
    return versions


def creation_time() -> str:
    """The creation time a fit records: ``SOURCE_DATE_EPOCH`` (UTC, ISO 8601) or "".

    A model stores no clock time of its own, so the same fit gives the same bytes; a build
    that wants a date in it sets ``SOURCE_DATE_EPOCH`` (https://reproducible-builds.org/),
    as for any reproducible artefact. A malformed value is ignored with a warning.
    """
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return ""
    try:
        if not value.isdigit():
            raise ValueError(value)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(value)))
    except (ValueError, OverflowError, OSError):
        warnings.warn(
            f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds since 1970; the model "
            "records no creation time",
            TopicNMFWarning,
            stacklevel=2,
        )
        return ""


def order_topics(
    W: np.ndarray, H: np.ndarray, fixed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort topics by their share of the reconstruction, largest first.

    The share of topic t is ``sum(W[:, t]) * sum(H[t, :])`` divided by the sum over topics:
    the part of ``sum(W @ H)`` it explains. It does not depend on how the scale is split
    between W and H. Ties keep the solver's order, so the result is deterministic. The
    first ``fixed`` topics (seeded topics) keep their places; only the others are sorted.
    """
    share = _topic_share(W, H)
    order = np.concatenate(
        [np.arange(fixed), fixed + np.argsort(-share[fixed:], kind="stable")]
    ).astype(np.intp)
    return W[:, order], H[order], share[order]


def scale_topics(H: np.ndarray) -> np.ndarray:
    """Scale each topic's row of H to sum to 1 (W takes the inverse scale).

    NMF leaves the split of scale between W and H free. With rows of H summing to 1, W[d, t]
    is the TF-IDF mass of document d that topic t reconstructs, so weights are comparable
    across topics: the dominant topic of a document is the one that explains most of it, not
    the one whose H happens to be small. (On 20 Newsgroups this raises the agreement between
    dominant topics and newsgroups, NMI 0.341 -> 0.351.) Empty topics are left as they are.
    """
    sums = H.sum(axis=1, dtype=np.float64)
    scale = np.where(sums > 0, sums, 1.0)
    return (H / scale[:, None]).astype(H.dtype, copy=False)


def _topic_share(W: np.ndarray, H: np.ndarray) -> np.ndarray:
    mass = W.sum(axis=0, dtype=np.float64) * H.sum(axis=1, dtype=np.float64)
    total = mass.sum()
    return mass / total if total > 0 else np.full(len(mass), 1.0 / len(mass))


def training_gram(W: np.ndarray) -> np.ndarray:
    """``W.T @ W`` per training document (float64): what ``update`` weighs new documents
    against, stored by every fit that has the training weights."""
    return (W.T.astype(np.float64) @ W) / max(1, W.shape[0])


def reference_columns(H: np.ndarray) -> np.ndarray:
    """The columns whose training incidence a model stores: every topic's top
    :data:`REFERENCE_TOP` terms."""
    return np.unique(np.concatenate([top_indices(row, REFERENCE_TOP) for row in H]))


def trained_model(
    H: np.ndarray,
    W: np.ndarray,
    incidence: sp.csr_matrix,
    *,
    vectorizer: Vectorizer,
    nmf_config: NMFConfig,
    stats: FitStats,
    recorder: Any,
    documents: Any,
    created: str,
    save_doc_topics: bool,
    **extra: Any,
) -> TopicModel:
    """The model of a fit from its topics and training weights, with what every way of
    fitting (in memory, tree, Dask) records alike: shares, fingerprint, versions, stored
    weights, the training incidence of :func:`reference_columns` (``incidence`` holds at
    least those columns), dominance, sources and ``topic_gram``. ``extra``: the rest of
    :class:`TopicModel`'s fields (labels, seeds, windows, tree)."""
    return TopicModel(
        H=H,
        vectorizer=vectorizer,
        nmf_config=nmf_config,
        topic_share=_topic_share(W, H),
        stats=stats,
        fingerprint="sha256:" + recorder.digest.hexdigest(),
        versions=library_versions(),
        created=created,
        doc_ids=list(recorder.ids) if save_doc_topics else None,
        W=W if save_doc_topics else None,
        reference=TrainingIncidence.from_matrix(incidence, reference_columns(H)),
        dominant_count=dominance_counts(W)[0],
        sources=_training_sources(documents),
        topic_gram=training_gram(W),
        **extra,
    )


def normalize_rows(W: np.ndarray) -> np.ndarray:
    """Each row divided by its sum; rows that sum to zero stay zero.

    Sums are taken in float64, so that no finite weight can overflow them; the result has
    W's dtype.
    """
    sums = W.sum(axis=1, keepdims=True, dtype=np.float64)
    safe = np.where(sums > 0, sums, 1.0)
    return np.where(sums > 0, W / safe, 0.0).astype(W.dtype, copy=False)


@dataclass
class FitOutput:
    """What :func:`fit` returns: the model and the training documents' topic weights."""

    model: TopicModel
    W: np.ndarray
    doc_ids: list[str]
    labels: list[str | None]
    #: training documents left without any term of the vocabulary (their W rows are zero)
    empty_documents: int = 0


class _Recorder:
    """Passes texts through to the vectorizer while noting ids, labels and a fingerprint."""

    def __init__(self, documents: Iterable[Any], on_document: Callable[[int], None] | None):
        self.documents = documents
        self.ids: list[str] = []
        self.labels: list[str | None] = []
        self.digest = hashlib.sha256()
        self.on_document = on_document

    def __iter__(self) -> Iterator[str]:
        # the vectorizer may read the documents more than once (a first pass for
        # boilerplate lines or phrases): what is recorded is the last pass
        self.ids, self.labels, self.digest = [], [], hashlib.sha256()
        for doc in self.documents:
            self.ids.append(doc.id)
            self.labels.append(getattr(doc, "label", None))
            # id and text, each length-prefixed, so that no two corpora share a fingerprint
            # by moving text across a document boundary
            for part in (doc.id, doc.text):
                data = part.encode("utf-8", "surrogatepass")
                self.digest.update(len(data).to_bytes(8, "little"))
                self.digest.update(data)
            if self.on_document is not None:
                self.on_document(len(self.ids))
            yield doc.text


def fit(
    documents: Iterable[Any],
    vectorizer_config: VectorizerConfig,
    nmf_config: NMFConfig,
    *,
    n_jobs: int | None = None,
    save_doc_topics: bool = False,
    on_document: Callable[[int], None] | None = None,
    on_iteration: Callable[[int, float], None] | None = None,
    on_vectorized: Callable[[int, int, int], None] | None = None,
    seed_topics: Sequence[SeedTopic] | None = None,
    seed_strength: float = 0.01,
    windows: tuple[Sequence[int], Sequence[str], Sequence[str]] | None = None,
) -> FitOutput:
    """Fit a topic model to a stream of documents.

    The model records no clock time (see :func:`creation_time`): the same documents and
    settings give a model file with the same bytes.

    Parameters
    ----------
    documents : iterable of Document
        Anything with ``id`` and ``text`` attributes (and optionally ``label``), read once,
        or again for each first pass of the token rules (boilerplate lines, phrases): a
        one-shot iterator is then read into a list.
        A :class:`~topicnmf.corpus.Corpus` also tells its sources, which the model records.
    vectorizer_config, nmf_config
        Settings of the two stages.
    n_jobs : int, optional
        Cores the solver's products use. None uses all.
    save_doc_topics : bool
        Keep the training ids and W in the model.
    on_document, on_iteration, on_vectorized : callables, optional
        Progress hooks: documents read so far; (iteration, loss); (docs, terms, nonzeros).
    seed_topics : sequence of SeedTopic, optional
        Guided topics (:func:`topicnmf.seeds.read_seed_topics`): they become topics 0..s-1,
        in this order, with their labels. Seed words missing from the vocabulary are
        dropped with a warning.
    seed_strength : float
        How strongly the seeded topics are pulled towards their seed words (see
        :mod:`topicnmf.nmf._guided`); 0 only starts them from their seeds.
    windows : (index, starts, ends), optional
        Fit dynamic topics (Greene & Cross 2017): each document's time window (0 to w - 1)
        and each window's start and end (ISO 8601 text). One NMF per window, then the
        model's topics from an NMF of the stacked window topics
        (:func:`topicnmf.context.dynamic_topics`); the window topics are kept in the model.

    Returns
    -------
    FitOutput
    """
    nmf_config.validate()
    if seed_topics and windows is not None:
        raise ParameterError(
            "guided topics (seed_topics) do not combine with dynamic topics (windows); "
            "fit one or the other",
            param="seed_topics",
        )
    created = creation_time()
    t0 = time.perf_counter()
    documents, recorder, vectorizer, V = vectorize_training(
        documents, vectorizer_config, on_document
    )
    if on_vectorized is not None:
        on_vectorized(V.shape[0], V.shape[1], int(V.nnz))
    _check_k(nmf_config.n_components, *V.shape)
    guidance, seeds = None, None
    if seed_topics:
        guidance, seeds = seed_guidance(seed_topics, vectorizer, seed_strength)
    t1 = time.perf_counter()
    window_topics = None
    if windows is not None:
        result, H, W, window_topics = _fit_dynamic(V, nmf_config, windows, n_jobs)
    else:
        result = fit_nmf(V, nmf_config, n_threads=n_jobs, callback=on_iteration, guidance=guidance)
        _, H, _ = order_topics(result.W, result.H, fixed=len(seeds or ()))
        H = scale_topics(H).astype(np.float32, copy=False)  # as stored
        # The weights reported for the training documents are computed exactly as `assign`
        # computes them (same function, same topics), so the two always agree.
        W = transform(V, H, nmf_config, n_threads=n_jobs)
    t2 = time.perf_counter()
    stats = _fit_stats(V, W, H, result)
    stats.seconds_read_vectorize = round(t1 - t0, 3)
    stats.seconds_nmf = round(t2 - t1, 3)
    stats.seconds_total = round(time.perf_counter() - t0, 3)
    model = trained_model(
        H, W, V, vectorizer=vectorizer, nmf_config=nmf_config, stats=stats, recorder=recorder,
        documents=documents, created=created, save_doc_topics=save_doc_topics,
        labels=seed_labels(seeds, nmf_config.n_components) if seeds else None,
        seed_topics=seeds,
        seed_strength=float(seed_strength) if seeds else 0.0,
        windows=window_topics,
    )  # fmt: skip
    return FitOutput(
        model=model,
        W=W,
        doc_ids=recorder.ids,
        labels=recorder.labels,
        empty_documents=int(np.count_nonzero(np.diff(V.indptr) == 0)),
    )


def _fit_dynamic(
    V: sp.csr_matrix,
    config: NMFConfig,
    windows: tuple[Sequence[int], Sequence[str], Sequence[str]],
    n_jobs: int | None,
) -> tuple[Any, np.ndarray, np.ndarray, WindowTopics]:
    """Dynamic topics: (the second fit, H as stored, training W, the window topics)."""
    from topicnmf.context.dynamic import dynamic_topics

    index, starts, ends = windows
    index = np.asarray(index, dtype=np.int64)
    if (
        index.shape != (V.shape[0],)
        or len(starts) != len(ends)
        or (len(index) and (index.min() < 0 or index.max() >= len(starts)))
    ):
        raise ParameterError("windows needs one window (0 to w - 1) per document", param="windows")
    dyn = dynamic_topics(V, index, config, n_threads=n_jobs)
    if dyn.H.shape[0] != config.n_components:
        raise ParameterError(
            f"the windows hold {len(dyn.window)} window topics, too few for "
            f"{config.n_components} dynamic topics; ask for fewer topics or more windows",
            param="n_components",
            value=config.n_components,
        )
    H = dyn.H.astype(np.float32)
    W = transform(V, H, config, n_threads=n_jobs)
    # as in a plain fit: topics ordered by their share of the training reconstruction
    order = np.argsort(-_topic_share(W, H), kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    window_topics = WindowTopics(
        dyn.window_H.astype(np.float32), dyn.window, rank[dyn.dynamic], list(starts), list(ends)
    )
    return dyn.result, H[order], W[:, order], window_topics


def _training_sources(documents: Iterable[Any]) -> TrainingSources | None:
    # duck-typed, so that fitting imports no corpus reader
    describe = getattr(documents, "describe_sources", None)
    return TrainingSources.of(describe()) if callable(describe) else None


def vectorize_training(
    documents: Iterable[Any],
    vectorizer_config: VectorizerConfig,
    on_document: Callable[[int], None] | None = None,
) -> tuple[Iterable[Any], _Recorder, Vectorizer, sp.csr_matrix]:
    """Fit a vectorizer to training documents, noting their ids, labels and fingerprint.

    Token rules with a first pass (boilerplate lines, phrases) read the documents twice, so
    a one-shot iterator is read into a list first; the documents are returned as read.
    """
    first_pass = vectorizer_config.max_line_df is not None or vectorizer_config.phrases
    if first_pass and iter(documents) is documents:
        documents = list(documents)
    recorder = _Recorder(documents, on_document)
    vectorizer = Vectorizer(vectorizer_config)
    return documents, recorder, vectorizer, vectorizer.fit_transform(recorder)


def _check_k(k: int, n_docs: int, n_terms: int) -> None:
    if k > n_docs:
        raise ParameterError(
            f"k={k} topics is more than the {count(n_docs, 'document')} in the corpus",
            param="n_components",
            value=k,
        )
    if k > n_terms:
        raise ParameterError(
            f"k={k} topics is more than the {count(n_terms, 'term')} in the vocabulary (a "
            "lower min_df, a higher max_df or max_features keeps more terms)",
            param="n_components",
            value=k,
        )


def _fit_stats(V: sp.csr_matrix, W: np.ndarray, H: np.ndarray, result: Any) -> FitStats:
    rel = relative_error(V, W, H)
    v_norm = math.sqrt(float(np.dot(V.data.astype(np.float64), V.data))) if V.nnz else 0.0
    return FitStats(
        n_documents=int(V.shape[0]),
        n_terms=int(V.shape[1]),
        n_nonzero=int(V.nnz),
        n_iter=int(result.n_iter),
        loss=float(result.loss),
        frobenius_error=rel * v_norm,
        relative_error=rel,
        converged=bool(result.converged),
    )
