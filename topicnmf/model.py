"""The fitted topic model: H, the vectorizer that produced V, and what is known about the fit.

A model is saved as a NumPy ``.npz`` that holds only numeric and fixed-width string arrays and
is read with ``allow_pickle=False``: opening a model from someone else can never run code.
Every array is checked (presence, dtype, shape, finiteness) before the model is used, and a
file that is not a valid topicnmf model fails with one :class:`ModelFileError` line.

Layout of the file (format version 1):

=================  ==========================================================================
key                content
=================  ==========================================================================
``magic``          the string ``"topicnmf-model"``
``format_version`` int64 scalar, currently 1
``H``              float32 (k, n_terms), topic-term weights, topics in the model's order
``topic_share``    float64 (k,), each topic's share of the training reconstruction
``labels``         str (k,), optional user labels ("" when unset)
``meta``           str scalar, JSON: NMF settings, fit statistics, versions, fingerprint
``vec_*``          the vectorizer: vocabulary, idf and full configuration (see vectorize.py)
``doc_ids``, ``W`` optional (``--save-doc-topics``): training document ids and their weights
=================  ==========================================================================
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from topicnmf import __version__
from topicnmf.errors import ModelFileError, ParameterError
from topicnmf.fileio import atomic_write
from topicnmf.nmf import NMFConfig, fit_nmf, transform
from topicnmf.vectorize import Vectorizer, VectorizerConfig

MAGIC = "topicnmf-model"
FORMAT_VERSION = 1

# A model's declared (uncompressed) size is checked against these before anything is
# allocated, so a crafted zip cannot make the loader reserve terabytes.
MAX_MEMBER_BYTES = 8 * 1024**3
MAX_TOTAL_BYTES = 16 * 1024**3
MAX_COMPRESSION_RATIO = 1000


@dataclass
class FitStats:
    """What happened during a fit (stored in the model, shown by ``info``)."""

    n_documents: int
    n_terms: int
    n_nonzero: int
    n_iter: int
    loss: float
    relative_error: float
    converged: bool
    seconds_read_vectorize: float
    seconds_nmf: float
    seconds_total: float


@dataclass
class TopicModel:
    """A fitted topic model.

    Attributes
    ----------
    H : ndarray of shape (n_topics, n_terms)
        Topic-term weights, topics ordered by ``topic_share``, largest first.
    vectorizer : Vectorizer
        The fitted TF-IDF stage (vocabulary, idf and settings exactly as fitted).
    nmf_config : NMFConfig
        The NMF settings used for the fit (and for ``transform`` of new documents).
    topic_share : ndarray of shape (n_topics,)
        Each topic's share of the total reconstruction ``sum(W @ H)`` on the training data.
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

    # -- description ---------------------------------------------------------------------
    @property
    def n_topics(self) -> int:
        return int(self.H.shape[0])

    @property
    def vocabulary(self) -> list[str]:
        return self.vectorizer.vocabulary

    def top_terms(self, n: int = 10) -> list[list[tuple[str, float]]]:
        """The ``n`` highest-weighted terms of each topic, as (term, weight) pairs.

        Ties are broken by column (alphabetical) order so the result is deterministic.
        """
        if n < 1:
            raise ParameterError(f"the number of top terms must be at least 1, not {n!r}")
        vocab = self.vocabulary
        n = min(n, len(vocab))
        result = []
        for row in self.H:
            # stable sort on -weight keeps alphabetical order among equal weights
            order = np.argsort(-row, kind="stable")[:n]
            result.append([(vocab[j], float(row[j])) for j in order])
        return result

    def topic_labels(self, n_terms: int = 3) -> list[str]:
        """A short label per topic: the user's label if set, else its top terms joined by '_'."""
        tops = self.top_terms(n_terms)
        out = []
        for t in range(self.n_topics):
            user = self.labels[t] if self.labels else ""
            out.append(user or "_".join(term for term, _ in tops[t]))
        return out

    # -- use -----------------------------------------------------------------------------
    def transform_matrix(self, V: sp.spmatrix, n_threads: int | None = None) -> np.ndarray:
        """Topic weights W (raw, not normalised) of rows of a TF-IDF matrix."""
        return transform(V, self.H, self.nmf_config, n_threads=n_threads)

    def transform(self, texts: Iterable[str], n_threads: int | None = None) -> np.ndarray:
        """Topic weights W (raw) of new texts under the stored vectorizer."""
        return self.transform_matrix(self.vectorizer.transform(texts), n_threads=n_threads)

    # -- persistence ---------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        meta = {
            "nmf_config": dataclasses.asdict(self.nmf_config),
            "stats": dataclasses.asdict(self.stats) if self.stats else None,
            "fingerprint": self.fingerprint,
            "versions": self.versions,
            "created": self.created,
        }
        arrays: dict[str, np.ndarray] = {
            "magic": np.array(MAGIC),
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "H": np.ascontiguousarray(self.H, dtype=np.float32),
            "topic_share": np.asarray(self.topic_share, dtype=np.float64),
            "labels": np.array(self.labels if self.labels else [""] * self.n_topics, dtype=str),
            "meta": np.array(json.dumps(meta, sort_keys=True)),
        }
        for key, value in self.vectorizer.to_arrays().items():
            arrays["vec_" + key] = value
        if self.doc_ids is not None and self.W is not None:
            arrays["doc_ids"] = np.array(self.doc_ids, dtype=str)
            arrays["W"] = np.ascontiguousarray(self.W, dtype=np.float32)
        return arrays

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` (an .npz), atomically."""
        arrays = self.to_arrays()
        with atomic_write(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TopicModel:
        """Read and validate a model file. Raises :class:`ModelFileError` for any problem."""
        return _load(Path(path))


# ---------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------


def _bad(path: Path, what: str) -> ModelFileError:
    return ModelFileError(f"{str(path)!r} is not a valid topicnmf model: {what}")


def _check_zip_directory(path: Path) -> None:
    """Refuse crafted archives before any array is read (sizes come from the zip directory)."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as exc:
        raise _bad(path, "it is not an .npz (zip) file or it is truncated") from exc
    total = 0
    for info in infos:
        if not info.filename.endswith(".npy") or "/" in info.filename or ".." in info.filename:
            raise _bad(path, f"unexpected member {info.filename!r} in the archive")
        if info.file_size > MAX_MEMBER_BYTES:
            raise _bad(path, f"member {info.filename!r} declares {info.file_size:,} bytes")
        if info.compress_size and info.file_size / info.compress_size > MAX_COMPRESSION_RATIO:
            raise _bad(path, f"member {info.filename!r} has an implausible compression ratio")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise _bad(path, f"its arrays declare {total:,} bytes in all")


def _load(path: Path) -> TopicModel:
    if not path.exists():
        raise ModelFileError(
            f"model file {str(path)!r} not found; fit one with 'topicnmf fit CORPUS -o "
            f"{path.name}' or name another with -m/--model (or TOPICNMF_MODEL)"
        )
    if path.is_dir():
        raise ModelFileError(f"model path {str(path)!r} is a directory, not a model file")
    _check_zip_directory(path)
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                arrays[key] = npz[key]
    except ValueError as exc:
        # numpy refuses object arrays when allow_pickle=False with a ValueError
        if "pickle" in str(exc).lower() or "object" in str(exc).lower():
            raise _bad(path, "it holds object arrays (pickled data), which are refused") from exc
        raise _bad(path, f"an array could not be read ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise _bad(path, f"it is truncated or corrupt ({type(exc).__name__})") from exc
    return _from_arrays(path, arrays)


def _require(path: Path, arrays: dict[str, np.ndarray], key: str, kind: str) -> np.ndarray:
    if key not in arrays:
        raise _bad(path, f"array {key!r} is missing")
    a = arrays[key]
    if a.dtype.kind not in kind:
        raise _bad(path, f"array {key!r} has dtype {a.dtype}, expected kind {kind!r}")
    return a


def _from_arrays(path: Path, arrays: dict[str, np.ndarray]) -> TopicModel:
    if "magic" not in arrays or arrays["magic"].dtype.kind != "U" or str(arrays["magic"]) != MAGIC:
        raise _bad(path, "it is an .npz of something else (no topicnmf marker)")
    version_arr = _require(path, arrays, "format_version", "iu")
    if version_arr.shape != ():
        raise _bad(path, "format_version is not a scalar")
    version = int(version_arr)
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} was written in model format {version}, newer than this topicnmf "
            f"{__version__} reads (format {FORMAT_VERSION}); upgrade topicnmf"
        )
    if version < 1:
        raise _bad(path, f"unknown format version {version}")

    H = _require(path, arrays, "H", "f")
    if H.ndim != 2 or H.shape[0] < 1 or H.shape[1] < 1:
        raise _bad(path, f"H has shape {H.shape}, expected (topics, terms)")
    if not np.all(np.isfinite(H)):
        raise _bad(path, "H contains NaN or infinite values")
    if np.any(H < 0):
        raise _bad(path, "H contains negative values")
    k, n_terms = H.shape

    vec_arrays = {key[4:]: value for key, value in arrays.items() if key.startswith("vec_")}
    try:
        vectorizer = Vectorizer.from_arrays(vec_arrays)
    except ModelFileError as exc:
        raise _bad(path, str(exc)) from exc
    if len(vectorizer.vocabulary) != n_terms:
        raise _bad(
            path,
            f"H has {n_terms} term columns but the vocabulary has {len(vectorizer.vocabulary)}",
        )

    share = _require(path, arrays, "topic_share", "f")
    if share.shape != (k,) or not np.all(np.isfinite(share)):
        raise _bad(path, f"topic_share has shape {share.shape}, expected ({k},)")
    labels_arr = _require(path, arrays, "labels", "U")
    if labels_arr.shape != (k,):
        raise _bad(path, f"labels has shape {labels_arr.shape}, expected ({k},)")
    labels = [str(x) for x in labels_arr]

    meta_arr = _require(path, arrays, "meta", "U")
    try:
        meta = json.loads(str(meta_arr))
        if not isinstance(meta, dict):
            raise TypeError("meta is not an object")
        cfg = meta["nmf_config"]
        nmf_fields = {f.name for f in dataclasses.fields(NMFConfig)}
        nmf_config = NMFConfig(**{key: v for key, v in cfg.items() if key in nmf_fields})
        stats_d = meta.get("stats")
        stats = FitStats(**stats_d) if stats_d else None
        fingerprint = str(meta.get("fingerprint", ""))
        versions = {str(a): str(b) for a, b in dict(meta.get("versions", {})).items()}
        created = str(meta.get("created", ""))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise _bad(path, f"its settings record is unreadable ({exc})") from exc
    if nmf_config.n_components != k:
        raise _bad(path, f"settings say {nmf_config.n_components} topics but H has {k}")

    doc_ids = W = None
    if "doc_ids" in arrays or "W" in arrays:
        ids_arr = _require(path, arrays, "doc_ids", "U")
        W = _require(path, arrays, "W", "f")
        if ids_arr.ndim != 1 or W.shape != (ids_arr.shape[0], k):
            raise _bad(path, f"W has shape {W.shape} for {ids_arr.shape[0]} document ids")
        if not np.all(np.isfinite(W)) or np.any(W < 0):
            raise _bad(path, "W contains NaN, infinite or negative values")
        doc_ids = [str(x) for x in ids_arr]

    return TopicModel(
        H=H,
        vectorizer=vectorizer,
        nmf_config=nmf_config,
        topic_share=share,
        stats=stats,
        fingerprint=fingerprint,
        versions=versions,
        created=created,
        labels=labels if any(labels) else None,
        doc_ids=doc_ids,
        W=W,
    )


# ---------------------------------------------------------------------------------------
# Fitting
# ---------------------------------------------------------------------------------------


def library_versions() -> dict[str, str]:
    import scipy
    import sklearn

    return {
        "topicnmf": __version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "python": platform.python_version(),
    }


def order_topics(W: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort topics by their share of the reconstruction, largest first.

    The share of topic t is ``sum(W[:, t]) * sum(H[t, :])`` divided by the sum over topics:
    the part of ``sum(W @ H)`` it explains. It does not depend on how the scale is split
    between W and H. Ties keep the solver's order, so the result is deterministic.
    """
    share = _topic_share(W, H)
    order = np.argsort(-share, kind="stable")
    return W[:, order], H[order], share[order]


def _topic_share(W: np.ndarray, H: np.ndarray) -> np.ndarray:
    mass = W.sum(axis=0, dtype=np.float64) * H.sum(axis=1, dtype=np.float64)
    total = mass.sum()
    return mass / total if total > 0 else np.full(len(mass), 1.0 / len(mass))


@dataclass
class FitOutput:
    """What :func:`fit` returns: the model and the training documents' topic weights."""

    model: TopicModel
    W: np.ndarray
    doc_ids: list[str]
    labels: list[str | None]


class _Recorder:
    """Passes texts through to the vectorizer while noting ids, labels and a fingerprint."""

    def __init__(self, documents: Iterable[Any], on_document: Callable[[int], None] | None):
        self.documents = documents
        self.ids: list[str] = []
        self.labels: list[str | None] = []
        self.digest = hashlib.sha256()
        self.on_document = on_document

    def __iter__(self) -> Iterator[str]:
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
) -> FitOutput:
    """Fit a topic model to a stream of documents.

    Parameters
    ----------
    documents : iterable of Document
        Anything with ``id`` and ``text`` attributes (and optionally ``label``), read once.
    vectorizer_config, nmf_config
        Settings of the two stages.
    n_jobs : int, optional
        Cores to use (tokenizing and the solver's products). None uses all.
    save_doc_topics : bool
        Keep the training ids and W in the model.
    on_document, on_iteration, on_vectorized : callables, optional
        Progress hooks: documents read so far; (iteration, loss); (docs, terms, nonzeros).

    Returns
    -------
    FitOutput
    """
    t0 = time.perf_counter()
    vectorizer_config.validate()
    nmf_config.validate()
    recorder = _Recorder(documents, on_document)
    vectorizer = Vectorizer(vectorizer_config, n_jobs=n_jobs)
    V = vectorizer.fit_transform(recorder)
    n_docs, n_terms = V.shape
    if on_vectorized is not None:
        on_vectorized(n_docs, n_terms, int(V.nnz))
    k = nmf_config.n_components
    if k > n_docs:
        raise ParameterError(
            f"k={k} topics is more than the {n_docs} documents in the corpus; choose k <= {n_docs}"
        )
    if k > n_terms:
        raise ParameterError(
            f"k={k} topics is more than the {n_terms} terms in the vocabulary; choose k <= "
            f"{n_terms} or keep more terms (lower --min-df, raise --max-df)"
        )
    t1 = time.perf_counter()
    result = fit_nmf(V, nmf_config, n_threads=n_jobs, callback=on_iteration)
    t2 = time.perf_counter()
    _, H, _ = order_topics(result.W, result.H)
    # The weights reported for the training documents are computed exactly as `assign`
    # computes them (same function, same topic order), so the two always agree.
    W = transform(V, H, nmf_config, n_threads=n_jobs)
    share = _topic_share(W, H)
    v_norm = float(sp.linalg.norm(V)) if V.nnz else 0.0
    rel = _relative_error(V, W, H, v_norm)
    stats = FitStats(
        n_documents=int(n_docs),
        n_terms=int(n_terms),
        n_nonzero=int(V.nnz),
        n_iter=int(result.n_iter),
        loss=float(result.loss),
        relative_error=rel,
        converged=bool(result.converged),
        seconds_read_vectorize=round(t1 - t0, 3),
        seconds_nmf=round(t2 - t1, 3),
        seconds_total=round(time.perf_counter() - t0, 3),
    )
    model = TopicModel(
        H=H.astype(np.float32, copy=False),
        vectorizer=vectorizer,
        nmf_config=nmf_config,
        topic_share=share,
        stats=stats,
        fingerprint="sha256:" + recorder.digest.hexdigest(),
        versions=library_versions(),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        doc_ids=list(recorder.ids) if save_doc_topics else None,
        W=W if save_doc_topics else None,
    )
    return FitOutput(model=model, W=W, doc_ids=recorder.ids, labels=recorder.labels)


def _relative_error(V: sp.spmatrix, W: np.ndarray, H: np.ndarray, v_norm: float) -> float:
    """‖V − WH‖_F / ‖V‖_F without forming WH densely."""
    if v_norm == 0:
        return 0.0
    V = sp.csr_matrix(V, dtype=np.float64)
    W64 = W.astype(np.float64)
    H64 = H.astype(np.float64)
    cross = float(np.sum((V @ H64.T) * W64))
    wh = float(np.sum((W64.T @ W64) * (H64 @ H64.T)))
    sq = max(v_norm**2 - 2 * cross + wh, 0.0)
    return float(np.sqrt(sq) / v_norm)


def normalise_rows(W: np.ndarray) -> np.ndarray:
    """Each row divided by its sum; rows that sum to zero stay zero."""
    sums = W.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(sums > 0, W / np.where(sums > 0, sums, 1), 0.0)
    return out


def dominant(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dominant topic index per row (-1 where the row is all zero) and its weight."""
    idx = np.argmax(W, axis=1)
    weight = W[np.arange(W.shape[0]), idx] if W.shape[0] else np.zeros(0)
    empty = ~(W > 0).any(axis=1)
    idx = np.where(empty, -1, idx)
    return idx, np.where(empty, 0.0, weight)
