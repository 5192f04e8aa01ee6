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
``doc_ids_*``, ``W`` optional (``--save-doc-topics``): training ids (UTF-8 bytes + offsets)
                   and their weights
=================  ==========================================================================
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
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
from topicnmf.packing import pack_strings, unpack_strings
from topicnmf.quality import (
    Evaluation,
    dominance_counts,
    evaluate_topics,
    relative_error,
    top_indices,
    topic_npmi,
)
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
    """What happened during a fit (stored in the model, shown by ``info``).

    ``loss`` is the solver's objective (for Frobenius, 0.5 * ||V - WH||^2 plus penalties);
    ``frobenius_error`` is ||V - WH||_F of the saved model (scikit-learn's
    ``reconstruction_err_``) and ``relative_error`` that divided by ||V||_F.
    """

    n_documents: int
    n_terms: int
    n_nonzero: int
    n_iter: int
    loss: float
    frobenius_error: float
    relative_error: float
    converged: bool
    seconds_read_vectorize: float
    seconds_nmf: float
    seconds_total: float


@dataclass
class TrainingIncidence:
    """Which training documents contain each topic's top terms (for coherence without the corpus).

    Kept for the union of every topic's top :data:`REFERENCE_TOP` terms, column by column
    (CSC): the documents containing ``columns[j]`` are ``docs[indptr[j]:indptr[j + 1]]``.
    This is all NPMI needs, so ``topicnmf evaluate MODEL`` can score coherence on the
    training corpus without reading it again.
    """

    n_documents: int
    columns: np.ndarray
    indptr: np.ndarray
    docs: np.ndarray

    @classmethod
    def from_matrix(cls, V: sp.spmatrix, columns: np.ndarray) -> TrainingIncidence:
        sub = sp.csc_matrix(V[:, columns])
        sub.eliminate_zeros()
        sub.sort_indices()
        return cls(
            n_documents=int(V.shape[0]),
            columns=columns.astype(np.int64),
            indptr=sub.indptr.astype(np.int64),
            docs=sub.indices.astype(np.int32),
        )

    def matrix(self, n_terms: int) -> sp.csr_matrix:
        """Boolean documents x terms incidence, zero outside the stored columns."""
        lengths = np.diff(self.indptr)
        cols = np.repeat(self.columns, lengths)
        data = np.ones(len(self.docs), dtype=bool)
        return sp.csr_matrix((data, (self.docs, cols)), shape=(self.n_documents, n_terms))


# Coherence on the training corpus is available for up to this many top terms per topic.
REFERENCE_TOP = 20


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
    reference: TrainingIncidence | None = None
    dominant_count: np.ndarray | None = None
    format_version: int = FORMAT_VERSION  # of the file it was loaded from

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
            # as a stable sort on -weight: alphabetical order among equal weights
            order = top_indices(row, n)
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
                f"terms, not {top_n}; lower --top or give the corpus"
            )
        base = evaluate_topics(self.H, vocabulary=self.vocabulary, top_n=top_n)
        top = np.array([t.top_indices for t in base.topics])
        npmi = topic_npmi(top, self.reference.matrix(len(self.vocabulary)))
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
            n_undominated=None if counts is None else int(n_docs - counts.sum()),
        )

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
        if self.reference is not None:
            arrays["ref_n_documents"] = np.array(self.reference.n_documents, dtype=np.int64)
            arrays["ref_columns"] = self.reference.columns
            arrays["ref_indptr"] = self.reference.indptr
            arrays["ref_docs"] = self.reference.docs
        if self.dominant_count is not None:
            arrays["dominant_count"] = np.asarray(self.dominant_count, dtype=np.int64)
        if self.doc_ids is not None and self.W is not None:
            arrays["doc_ids_utf8"], arrays["doc_ids_offsets"] = pack_strings(self.doc_ids)
            arrays["W"] = np.ascontiguousarray(self.W, dtype=np.float32)
        return arrays

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` (an .npz), atomically."""
        arrays = self.to_arrays()
        with atomic_write(path, "wb") as fh:
            write_npz(fh, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TopicModel:
        """Read and validate a model file. Raises :class:`ModelFileError` for any problem."""
        return _load(Path(path))


def write_npz(fh: Any, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as an .npz that ``np.load`` reads, faster and reproducibly.

    Unlike ``np.savez_compressed``: members carry a fixed date, so the same arrays give the
    same bytes, and deflate runs at level 1, which on a 20 Newsgroups model is several times
    faster than the default level for a file about 10% larger.
    """
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(key + ".npy", date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, buf.getbuffer(), compresslevel=1)


# ---------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------


def _bad(path: Path, what: str) -> ModelFileError:
    return ModelFileError(f"{str(path)!r} is not a valid topicnmf model: {what}")


def _check_zip_directory(path: Path) -> None:
    """Refuse crafted archives before any array is read.

    Two passes. The zip directory first: member names, encryption, compression method,
    declared sizes (per member and in all) and compression ratios, so that a small file
    cannot make the loader decompress or reserve gigabytes. Then each member's .npy header
    (a few hundred bytes): no object dtype, and the array it declares must fill the member
    exactly, because numpy allocates what the header declares before reading the data.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            seen: set[str] = set()
            total = 0
            for info in infos:
                name = info.filename
                if not name.endswith(".npy") or "/" in name or "\\" in name or ".." in name:
                    raise _bad(path, f"unexpected member {name!r} in the archive")
                if name in seen:
                    raise _bad(path, f"member {name!r} appears twice in the archive")
                seen.add(name)
                if info.flag_bits & 0x1:
                    raise _bad(path, f"member {name!r} is encrypted")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise _bad(
                        path, f"member {name!r} uses compression method {info.compress_type}"
                    )
                if info.file_size > MAX_MEMBER_BYTES:
                    raise _bad(path, f"member {name!r} declares {info.file_size:,} bytes")
                ratio = info.file_size / max(info.compress_size, 1)
                if ratio > MAX_COMPRESSION_RATIO:
                    raise _bad(path, f"member {name!r} has an implausible compression ratio")
                total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise _bad(path, f"its arrays declare {total:,} bytes in all")
            for info in infos:
                _check_npy_header(path, zf, info)
    except zipfile.BadZipFile as exc:
        raise _bad(path, "it is not an .npz (zip) file or it is truncated") from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ModelFileError(f"cannot read model file {str(path)!r}: {reason}") from exc


def _check_npy_header(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    fmt = np.lib.format
    try:
        with zf.open(info) as fh:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = fmt.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = fmt.read_array_header_2_0(fh)
            else:
                raise ValueError(f".npy format version {version} is not used by topicnmf")
            header_bytes = fh.tell()
    except (ValueError, SyntaxError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise _bad(path, f"member {info.filename!r} is not a readable array ({exc})") from exc
    if dtype.hasobject:
        raise _bad(path, "it holds object arrays (pickled data), which are refused")
    declared = dtype.itemsize * math.prod(shape)
    if header_bytes + declared != info.file_size:
        raise _bad(
            path,
            f"member {info.filename!r} declares a {shape} array of {declared:,} bytes "
            f"but holds {info.file_size - header_bytes:,}",
        )


def _load(path: Path) -> TopicModel:
    if not path.exists():
        raise ModelFileError(
            f"model file {str(path)!r} not found; fit one with 'topicnmf fit CORPUS -o "
            f"{path.name}' or name another with -m/--model (or TOPICNMF_MODEL)"
        )
    if path.is_dir():
        raise ModelFileError(f"model path {str(path)!r} is a directory, not a model file")
    if not path.is_file():
        # a fifo or a device would block or never end; a model is always a regular file
        raise ModelFileError(f"model path {str(path)!r} is not a regular file")
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
    if share.shape != (k,):
        raise _bad(path, f"topic_share has shape {share.shape}, expected ({k},)")
    if not np.all(np.isfinite(share)) or np.any(share < 0):
        raise _bad(path, "topic_share contains NaN, infinite or negative values")
    labels_arr = _require(path, arrays, "labels", "U")
    if labels_arr.shape != (k,):
        raise _bad(path, f"labels has shape {labels_arr.shape}, expected ({k},)")
    labels = [str(x) for x in labels_arr]

    meta_arr = _require(path, arrays, "meta", "U")
    try:
        meta = json.loads(str(meta_arr))
        if not isinstance(meta, dict):
            raise TypeError("meta is not an object")
        cfg = dict(meta["nmf_config"])
        # files written before the exact SVD existed were started from the randomised one
        cfg.setdefault("svd", "randomized")
        nmf_fields = {f.name for f in dataclasses.fields(NMFConfig)}
        nmf_config = NMFConfig(**{key: v for key, v in cfg.items() if key in nmf_fields})
        nmf_config.validate()  # a ParameterError is a ValueError: reported below
        stats_d = meta.get("stats")
        stats = None
        if stats_d:
            # Like the NMF settings: unknown fields (from a newer topicnmf) are ignored, and
            # a record lacking a field (from an older one) leaves the statistics unknown
            # rather than making the whole model unreadable.
            if not isinstance(stats_d, dict):
                raise TypeError("the fit statistics are not an object")
            known = {f.name for f in dataclasses.fields(FitStats)}
            if known <= set(stats_d):
                stats = FitStats(**{key: v for key, v in stats_d.items() if key in known})
        fingerprint = str(meta.get("fingerprint", ""))
        versions = {str(a): str(b) for a, b in dict(meta.get("versions", {})).items()}
        created = str(meta.get("created", ""))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise _bad(path, f"its settings record is unreadable ({exc})") from exc
    if nmf_config.n_components != k:
        raise _bad(path, f"settings say {nmf_config.n_components} topics but H has {k}")

    doc_ids = W = None
    if "doc_ids_utf8" in arrays or "W" in arrays:
        try:
            doc_ids = unpack_strings(
                _require(path, arrays, "doc_ids_utf8", "u"),
                _require(path, arrays, "doc_ids_offsets", "iu"),
            )
        except ValueError as exc:
            raise _bad(path, f"the stored document ids are unreadable ({exc})") from exc
        W = _require(path, arrays, "W", "f")
        if W.shape != (len(doc_ids), k):
            raise _bad(path, f"W has shape {W.shape} for {len(doc_ids)} document ids")
        if not np.all(np.isfinite(W)) or np.any(W < 0):
            raise _bad(path, "W contains NaN, infinite or negative values")

    reference = None
    if any(key.startswith("ref_") for key in arrays):
        reference = _load_reference(path, arrays, n_terms)
    dominant_count = None
    if "dominant_count" in arrays:
        dominant_count = _require(path, arrays, "dominant_count", "iu")
        if dominant_count.shape != (k,) or np.any(dominant_count < 0):
            raise _bad(path, f"dominant_count has shape {dominant_count.shape}, expected ({k},)")

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
        reference=reference,
        dominant_count=dominant_count,
        format_version=version,
    )


def _load_reference(path: Path, arrays: dict[str, np.ndarray], n_terms: int) -> TrainingIncidence:
    n_docs_arr = _require(path, arrays, "ref_n_documents", "iu")
    columns = _require(path, arrays, "ref_columns", "iu")
    indptr = _require(path, arrays, "ref_indptr", "iu")
    docs = _require(path, arrays, "ref_docs", "iu")
    n_docs = int(n_docs_arr) if n_docs_arr.shape == () else -1
    ok = (
        n_docs >= 1
        and columns.ndim == 1
        and indptr.shape == (len(columns) + 1,)
        and docs.ndim == 1
        and (len(columns) == 0 or (columns.min() >= 0 and columns.max() < n_terms))
        and indptr[0] == 0
        and indptr[-1] == len(docs)
        and bool(np.all(np.diff(indptr) >= 0))
        and (len(docs) == 0 or (docs.min() >= 0 and docs.max() < n_docs))
    )
    if not ok:
        raise _bad(path, "the stored training co-occurrence arrays are inconsistent")
    return TrainingIncidence(n_docs, columns.astype(np.int64), indptr.astype(np.int64), docs)


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


def order_topics(W: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort topics by their share of the reconstruction, largest first.

    The share of topic t is ``sum(W[:, t]) * sum(H[t, :])`` divided by the sum over topics:
    the part of ``sum(W @ H)`` it explains. It does not depend on how the scale is split
    between W and H. Ties keep the solver's order, so the result is deterministic.
    """
    share = _topic_share(W, H)
    order = np.argsort(-share, kind="stable")
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
    H = scale_topics(H)
    # The weights reported for the training documents are computed exactly as `assign`
    # computes them (same function, same topics), so the two always agree.
    W = transform(V, H, nmf_config, n_threads=n_jobs)
    share = _topic_share(W, H)
    rel = relative_error(V, W, H)
    v_norm = math.sqrt(float(np.dot(V.data.astype(np.float64), V.data))) if V.nnz else 0.0
    stats = FitStats(
        n_documents=int(n_docs),
        n_terms=int(n_terms),
        n_nonzero=int(V.nnz),
        n_iter=int(result.n_iter),
        loss=float(result.loss),
        frobenius_error=rel * v_norm,
        relative_error=rel,
        converged=bool(result.converged),
        seconds_read_vectorize=round(t1 - t0, 3),
        seconds_nmf=round(t2 - t1, 3),
        seconds_total=round(time.perf_counter() - t0, 3),
    )
    top_columns = np.unique(np.concatenate([top_indices(row, REFERENCE_TOP) for row in H]))
    counts, _ = dominance_counts(W)
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
        reference=TrainingIncidence.from_matrix(V, top_columns),
        dominant_count=counts,
    )
    return FitOutput(model=model, W=W, doc_ids=recorder.ids, labels=recorder.labels)


def normalize_rows(W: np.ndarray) -> np.ndarray:
    """Each row divided by its sum; rows that sum to zero stay zero."""
    sums = W.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(sums > 0, W / np.where(sums > 0, sums, 1), 0.0)
    return out
