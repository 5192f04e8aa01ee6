"""The model file: what it holds, how it is written, and how it is checked when read.

A model is a NumPy ``.npz`` (a zip of ``.npy`` members) holding only numeric and
fixed-width string arrays, read without pickle: opening a model from someone else can never
run code. The same arrays give the same bytes (members in name order, a fixed date), and a
fit stores no wall-clock time or timing, so the same fit gives the same file.

Layout (format version 1); every member is listed in :data:`MEMBERS` with its type and
shape, and a member that is not listed is never read:

=====================  =================================================================
member                 content
=====================  =================================================================
``magic``              the string ``"topicnmf-model"``
``format_version``     integer scalar, currently 1
``meta``               JSON text: NMF settings, fit statistics, versions, corpus
                       fingerprint, creation time ("" unless ``SOURCE_DATE_EPOCH`` was set),
                       the training sources and how they were read (optional), the
                       guided topics' labels, seed words and strength (optional)
``H``                  float32 (k, n), topic-term weights; each row sums to 1 (or is 0)
``topic_share``        float64 (k,), each topic's share of the training reconstruction
``labels``             str (k,), user labels ("" when unset)
``vec_*``              the vectorizer: vocabulary (UTF-8 bytes + offsets), idf, document
                       frequencies, document count and every setting; from its format
                       2 on, every token rule, the boilerplate lines and phrases it
                       found, and the tokens each rule removed (vectorize/arrays.py; a
                       file without them reads with scikit-learn's rules); from its
                       format 3 on, ``vec_keep_addresses`` (a file without it kept
                       addresses)
``ref_*``              the training documents that contain each topic's top terms
                       (:class:`TrainingIncidence`), so coherence needs no corpus
``dominant_count``     int (k,), training documents each topic dominates
``doc_ids_*``, ``W``   optional: the training documents' ids and topic weights
``window_*``           optional, dynamic models: window topics (float32 (wt, n), rows
                       summing to 1), their window and topic (int (wt,)), and each
                       window's start and end (str (w,)); :class:`WindowTopics`
``tree_*``             optional: the topic tree whose leaves are the topics
                       (:mod:`topicnmf.tree`): per node its parent (-1 for the root), topic
                       (-1 for an inner node), documents, share, split score and top terms
``topic_gram``         optional float64 (k, k): W^T W of the training weights per document
=====================  =================================================================

Reading checks what a file declares against what it holds and what a model needs, in an
order that never allocates more than the checks so far have justified:

1. The zip directory: member names, no encryption, a known compression method, and
   compressed data that lies inside the file at a ratio deflate can produce.
2. The small members (``magic``, ``format_version``), then every member's ``.npy`` header:
   a known type, and a shape that agrees with the others (k topics, n terms, d stored
   documents, ...) with k <= n. A member's size is then exactly what its shape needs.
3. ``meta`` (at most :data:`SMALL_MEMBER_BYTES`): types of every field, and the numbers it
   states (k, n, the training document count) against the shapes.
4. The budget: the whole model, unpacked (arrays plus the Python strings of its lists),
   may take at most :data:`MAX_UNPACKED_RATIO` times the file's size, or
   :data:`UNPACKED_FLOOR`: shapes that their data does not back (a huge k or vocabulary
   stored as zeros that deflate to nothing) are refused before anything large is read.
5. The arrays themselves: finite, non-negative, rows of H summing to 1, shares summing
   to 1, offsets and ids consistent, the vectorizer's own checks.

Any failure is one :class:`~topicnmf.errors.ModelFileError`:
"'PATH' is not a valid topicnmf model: WHAT".
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import stat
import struct
import tokenize
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from topicnmf import __version__
from topicnmf.config import NMFConfig, _is_int, _is_real
from topicnmf.errors import ModelFileError
from topicnmf.fileio import atomic_write
from topicnmf.packing import pack_strings, unpack_strings
from topicnmf.vectorize import Vectorizer
from topicnmf.vectorize.arrays import RULE_ARRAYS

if TYPE_CHECKING:
    from topicnmf.model import TopicModel
    from topicnmf.tree import TopicTree

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "MEMBERS",
    "REFERENCE_TOP",
    "FitStats",
    "TrainingIncidence",
    "TrainingSources",
    "model_arrays",
    "read",
    "write",
    "write_npz",
]

MAGIC = "topicnmf-model"
FORMAT_VERSION = 1

# Coherence on the training corpus is available for up to this many top terms per topic.
REFERENCE_TOP = 20

# Deflate cannot expand data more than 1032 times, so a member declaring more than
# this many times its compressed size is lying about one or the other.
MAX_COMPRESSION_RATIO = 1100
# Scalar members (magic, format_version, meta, settings) are small by nature.
SMALL_MEMBER_BYTES = 1 << 20
# A model, unpacked, may take this many times its file size, or UNPACKED_FLOOR, whichever
# is larger. Real models unpack to 2-7 times their size (20 Newsgroups, k=20 to 100, with
# and without L1 penalties and stored weights); only shapes filled with nothing but zeros
# come near the limit.
MAX_UNPACKED_RATIO = 50
UNPACKED_FLOOR = 64 << 20
# What each string of a list (a term, a document id, a label, a stop word) costs once it is
# a Python object, counted in the budget.
STRING_BYTES = 64
# Rows of H are scaled to sum to 1 at fit time; stored as float32, they stay within this.
ROW_SUM_TOLERANCE = 1e-3
SHARE_SUM_TOLERANCE = 1e-6
# The training sources are recorded up to this many characters of JSON (the first ones, and
# how many there were): a fit of 100,000 files named one by one keeps ``meta`` small.
SOURCES_RECORD_CHARS = 1 << 16

# -------------------------------------------------------------------------------------------
# Records the file holds
# -------------------------------------------------------------------------------------------


@dataclass
class FitStats:
    """What happened during a fit (stored in the model, shown by ``info``).

    ``loss`` is the solver's objective (for Frobenius, 0.5 * ||V - WH||^2 plus penalties);
    ``frobenius_error`` is ||V - WH||_F of the saved model (scikit-learn's
    ``reconstruction_err_``) and ``relative_error`` that divided by ||V||_F. The timings
    are known right after a fit but are not stored (they would make two fits' files
    differ); a loaded model has them only if an older topicnmf stored them.
    """

    n_documents: int
    n_terms: int
    n_nonzero: int
    n_iter: int
    loss: float
    frobenius_error: float
    relative_error: float
    converged: bool
    seconds_read_vectorize: float | None = None
    seconds_nmf: float | None = None
    seconds_total: float | None = None

    def stored(self) -> dict[str, Any]:
        """The fields written to a file: everything but the timings."""
        return {
            name: value
            for name, value in dataclasses.asdict(self).items()
            if not name.startswith("seconds_")
        }


@dataclass
class TrainingIncidence:
    """Which training documents contain each topic's top terms (coherence without the corpus).

    Kept for the union of every topic's top :data:`REFERENCE_TOP` terms, column by column
    (CSC): the documents containing term ``columns[j]`` are ``docs[indptr[j]:indptr[j + 1]]``,
    in increasing order. ``n_documents`` is the size of the training corpus.
    """

    n_documents: int
    columns: np.ndarray
    indptr: np.ndarray
    docs: np.ndarray

    @classmethod
    def from_matrix(cls, V: sp.spmatrix, columns: np.ndarray) -> TrainingIncidence:
        """The incidence of ``columns`` (sorted, distinct) in a document-term matrix."""
        sub = sp.csc_matrix(V[:, columns])
        sub.eliminate_zeros()
        sub.sort_indices()
        return cls(
            n_documents=int(V.shape[0]),
            columns=columns.astype(np.int64),
            indptr=sub.indptr.astype(np.int64),
            docs=sub.indices.astype(np.int32),
        )


@dataclass
class WindowTopics:
    """The window topics of a dynamic model (one NMF per time window, Greene & Cross).

    Attributes
    ----------
    H : numpy.ndarray of shape (m, n), float32
        Every window's topics over the model's vocabulary, rows summing to 1.
    window : numpy.ndarray of shape (wt,)
        The window of each window topic (0 to w - 1, in order).
    dynamic : numpy.ndarray of shape (m,)
        The model topic (dynamic topic) each window topic belongs to most.
    starts, ends : list of str
        Each window's first instant and the instant after it (ISO 8601).
    """

    H: np.ndarray
    window: np.ndarray
    dynamic: np.ndarray
    starts: list[str]
    ends: list[str]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The model-file members."""
        return {
            "window_H": np.ascontiguousarray(self.H, dtype=np.float32),
            "window_of": np.asarray(self.window, dtype=np.int64),
            "window_dynamic": np.asarray(self.dynamic, dtype=np.int64),
            "window_starts": np.array(self.starts, dtype=str),
            "window_ends": np.array(self.ends, dtype=str),
        }


@dataclass
class TrainingSources:
    """Where the training documents came from, as recorded in the model.

    ``records`` describe the sources in the order given (see
    :meth:`topicnmf.corpus.Corpus.describe_sources`): ``source`` as given, ``kind``, then the
    settings they were read with. A long list keeps its first sources, as many as fit in
    :data:`SOURCES_RECORD_CHARS` of JSON; ``total`` counts them all.
    """

    records: list[dict[str, Any]]
    total: int

    @classmethod
    def of(cls, records: list[dict[str, Any]]) -> TrainingSources:
        """The record of a corpus's sources, cut to its bound."""
        kept: list[dict[str, Any]] = []
        size = 0
        for record in records:
            size += len(json.dumps(record, sort_keys=True)) + 2
            if size > SOURCES_RECORD_CHARS:
                break
            kept.append(record)
        return cls(kept, len(records))


# -------------------------------------------------------------------------------------------
# Members: their types and shapes
# -------------------------------------------------------------------------------------------

# member -> (accepted dtypes, shape). A dtype string is a kind ("i" any signed integer, "b",
# "U") or an exact dtype ("f4", "f8", "u1"), several separated by spaces. A shape entry is
# a number or a dimension name, "+1" for offsets; every use of a name must agree.
MEMBERS: dict[str, tuple[str, tuple[int | str, ...]]] = {
    "magic": ("U", ()),
    "format_version": ("i", ()),
    "meta": ("U", ()),
    "H": ("f4 f8", ("k", "n")),
    "topic_share": ("f4 f8", ("k",)),
    "labels": ("U", ("k",)),
    "dominant_count": ("i", ("k",)),
    "W": ("f4 f8", ("d", "k")),
    "doc_ids_utf8": ("u1", ("id_bytes",)),
    "doc_ids_offsets": ("i", ("d+1",)),
    "ref_n_documents": ("i", ()),
    "ref_columns": ("i", ("c",)),
    "ref_indptr": ("i", ("c+1",)),
    "ref_docs": ("i", ("r",)),
    "vec_format_version": ("i", ()),
    "vec_vocabulary_utf8": ("u1", ("term_bytes",)),
    "vec_vocabulary_offsets": ("i", ("n+1",)),
    "vec_idf": ("f4 f8", ("n",)),
    "vec_document_frequency": ("i", ("n",)),
    "vec_n_documents": ("i", ()),
    "vec_lowercase": ("b", ()),
    "vec_token_pattern": ("U", ()),
    "vec_stop_words": ("U", ("s",)),
    "vec_ngram_range": ("i", (2,)),
    "vec_min_df": ("i f4 f8", ()),
    "vec_max_df": ("i f4 f8", ()),
    "vec_max_features": ("i", ()),
    "vec_sublinear_tf": ("b", ()),
    "vec_norm": ("U", ()),
    "vec_use_idf": ("b", ()),
    "vec_smooth_idf": ("b", ()),
    # the token rules (vectorizer format 2; a format 1 file has none of them)
    "vec_keep_numbers": ("b", ()),
    "vec_keep_addresses": ("b", ()),
    "vec_adjacent_ngrams": ("b", ()),
    "vec_max_line_df": ("i f4 f8", ()),
    "vec_phrases": ("b", ()),
    "vec_phrase_min_count": ("i", ()),
    "vec_phrase_threshold": ("f4 f8", ()),
    "vec_tokenizer": ("U", ()),
    "vec_boilerplate_utf8": ("u1", ("line_bytes",)),
    "vec_boilerplate_offsets": ("i", ("b+1",)),
    "vec_boilerplate_documents": ("i", ()),
    "vec_phrase_first_utf8": ("u1", ("first_bytes",)),
    "vec_phrase_first_offsets": ("i", ("p+1",)),
    "vec_phrase_second_utf8": ("u1", ("second_bytes",)),
    "vec_phrase_second_offsets": ("i", ("p+1",)),
    "vec_removed_rules": ("U", ("m",)),
    "vec_removed_tokens": ("i", ("m",)),
    "window_H": ("f4", ("wt", "n")),
    "window_of": ("i", ("wt",)),
    "window_dynamic": ("i", ("wt",)),
    "window_starts": ("U", ("w",)),
    "window_ends": ("U", ("w",)),
    "tree_parent": ("i", ("t",)),
    "tree_topic": ("i", ("t",)),
    "tree_n_docs": ("i", ("t",)),
    "tree_share": ("f8", ("t",)),
    "tree_score": ("f8", ("t",)),
    "tree_terms": ("i", ("t", "u")),
    "tree_weights": ("f8", ("t", "u")),
    "topic_gram": ("f8", ("k", "k")),
}
OPTIONAL_GROUPS = (
    ("W", "doc_ids_utf8", "doc_ids_offsets"),
    ("ref_n_documents", "ref_columns", "ref_indptr", "ref_docs"),
    ("dominant_count",),
    tuple(name for name in MEMBERS if name.startswith("vec_") and name[4:] in RULE_ARRAYS),
    ("vec_keep_addresses",),
    ("window_H", "window_of", "window_dynamic", "window_starts", "window_ends"),
    ("tree_parent", "tree_topic", "tree_n_docs", "tree_share", "tree_score", "tree_terms",
     "tree_weights"),
    ("topic_gram",),
)  # fmt: skip
# what each dimension is, for messages
_DIMENSIONS = {
    "k": "topics",
    "n": "terms",
    "d": "stored documents",
    "c": "reference columns",
    "r": "reference entries",
    "s": "stop words",
    "id_bytes": "bytes of document ids",
    "term_bytes": "bytes of vocabulary",
    "b": "boilerplate lines",
    "line_bytes": "bytes of boilerplate lines",
    "p": "phrases",
    "first_bytes": "bytes of phrases' first tokens",
    "second_bytes": "bytes of phrases' second tokens",
    "m": "removal rules",
    "wt": "window topics",
    "w": "time windows",
    "t": "tree nodes",
    "u": "top terms per tree node",
}
_KIND_NAMES = {"i": "integer", "b": "bool", "U": "text", "f4": "float32", "f8": "float64",
               "u1": "uint8"}  # fmt: skip


# -------------------------------------------------------------------------------------------
# Writing
# -------------------------------------------------------------------------------------------


def model_arrays(model: TopicModel) -> dict[str, np.ndarray]:
    """The arrays of a model's file, by member name (without ``.npy``)."""
    meta = {
        "nmf_config": dataclasses.asdict(model.nmf_config),
        "stats": model.stats.stored() if model.stats else None,
        "fingerprint": model.fingerprint,
        "versions": model.versions,
        "created": model.created,
    }
    if model.sources is not None:
        meta["sources"] = dataclasses.asdict(model.sources)
    if model.seed_topics:
        meta["seed_topics"] = {
            "strength": model.seed_strength,
            "topics": [{"label": t.label, "words": list(t.words)} for t in model.seed_topics],
        }
    if model.lineage is not None:
        meta["lineage"] = model.lineage
    arrays: dict[str, np.ndarray] = {
        "magic": np.array(MAGIC),
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "H": np.ascontiguousarray(model.H, dtype=np.float32),
        "topic_share": np.asarray(model.topic_share, dtype=np.float64),
        "labels": np.array(model.labels if model.labels else [""] * model.n_topics, dtype=str),
        "meta": np.array(json.dumps(meta, sort_keys=True)),
    }
    for key, value in model.vectorizer.to_arrays().items():
        arrays["vec_" + key] = value
    if model.reference is not None:
        ref = model.reference
        arrays["ref_n_documents"] = np.array(ref.n_documents, dtype=np.int64)
        arrays["ref_columns"] = ref.columns
        arrays["ref_indptr"] = ref.indptr
        arrays["ref_docs"] = ref.docs
    if model.dominant_count is not None:
        arrays["dominant_count"] = np.asarray(model.dominant_count, dtype=np.int64)
    if model.topic_gram is not None:
        arrays["topic_gram"] = np.ascontiguousarray(model.topic_gram, dtype=np.float64)
    if model.doc_ids is not None and model.W is not None:
        arrays["doc_ids_utf8"], arrays["doc_ids_offsets"] = pack_strings(model.doc_ids)
        arrays["W"] = np.ascontiguousarray(model.W, dtype=np.float32)
    if model.windows is not None:
        arrays.update(model.windows.to_arrays())
    if model.tree is not None:
        arrays.update(_tree_arrays(model.tree))
    return arrays


def _tree_arrays(tree: TopicTree) -> dict[str, np.ndarray]:
    """The topic tree: one entry per node; top terms padded with column -1 (weight 0)."""
    nodes = tree.nodes
    width = max([len(node.term_ids) for node in nodes] + [1])
    terms = np.full((len(nodes), width), -1, dtype=np.int64)
    weights = np.zeros((len(nodes), width), dtype=np.float64)
    for i, node in enumerate(nodes):
        terms[i, : len(node.term_ids)] = node.term_ids
        weights[i, : len(node.weights)] = node.weights
    return {
        "tree_parent": np.array([-1 if n.parent is None else n.parent for n in nodes], np.int64),
        "tree_topic": np.array([-1 if n.topic is None else n.topic for n in nodes], np.int64),
        "tree_n_docs": np.array([n.n_docs for n in nodes], np.int64),
        "tree_share": np.array([n.share for n in nodes], np.float64),
        "tree_score": np.array([0.0 if n.score is None else n.score for n in nodes], np.float64),
        "tree_terms": terms,
        "tree_weights": weights,
    }


def write(path: str | os.PathLike[str], model: TopicModel) -> None:
    """Write ``model`` to ``path`` atomically (see :func:`topicnmf.fileio.atomic_write`)."""
    arrays = model_arrays(model)
    with atomic_write(path, "wb") as fh:
        write_npz(fh, arrays)


def write_npz(fh: IO[bytes], arrays: dict[str, np.ndarray]) -> None:
    """Write arrays as an .npz that ``np.load`` reads, faster and reproducibly.

    Unlike ``np.savez_compressed``: members are in name order and carry a fixed date, so the
    same arrays give the same bytes, and deflate runs at level 1, which on a 20 Newsgroups
    model is several times faster than the default level for a file about 10% larger.
    """
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(key + ".npy", date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, buf.getbuffer(), compresslevel=1)


# -------------------------------------------------------------------------------------------
# Reading
# -------------------------------------------------------------------------------------------


class _Invalid(Exception):
    """What is wrong with a model file; :func:`read` adds the path."""


class _TooNew(Exception):
    """The file's format is newer than this topicnmf reads."""


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a model file; return the fields of a ``TopicModel``.

    Raises
    ------
    ModelFileError
        For any problem: missing, not a regular file, unreadable, or not a valid model
        (the message says what is wrong).
    """
    shown = repr(str(path))
    with _open_regular(path, shown) as fh:
        try:
            size = os.fstat(fh.fileno()).st_size
            with zipfile.ZipFile(fh) as zf:
                return _Reader(zf, size).read()
        except _TooNew as exc:
            raise ModelFileError(f"{shown} {exc}", path=str(path)) from None
        except _Invalid as exc:
            raise ModelFileError(
                f"{shown} is not a valid topicnmf model: {exc}", path=str(path)
            ) from None
        except (zipfile.BadZipFile, EOFError, NotImplementedError):
            # (zipfile raises NotImplementedError for a zip version it does not know)
            raise ModelFileError(
                f"{shown} is not a valid topicnmf model: it is not an .npz (zip) file or it is "
                "truncated",
                path=str(path),
            ) from None
        except OSError as exc:
            raise _cannot_read(shown, path, exc) from None


@contextlib.contextmanager
def _open_regular(path: str | os.PathLike[str], shown: str) -> Iterator[IO[bytes]]:
    """The model file, opened once: a folder, FIFO or device is refused without reading."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ModelFileError(
            f"model file {shown} not found", path=str(path), param="model"
        ) from None
    except IsADirectoryError:
        raise ModelFileError(
            f"model path {shown} is a directory, not a model file", path=str(path)
        ) from None
    except OSError as exc:
        raise _cannot_read(shown, path, exc) from None
    with open(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ModelFileError(
                f"model path {shown} is a directory, not a model file", path=str(path)
            )
        if not stat.S_ISREG(mode):
            # a FIFO or a device would block or never end; a model is always a regular file
            raise ModelFileError(f"model path {shown} is not a regular file", path=str(path))
        os.set_blocking(fd, True)
        yield fh


def _cannot_read(shown: str, path: Any, exc: OSError) -> ModelFileError:
    reason = exc.strerror or str(exc)
    return ModelFileError(f"cannot read model file {shown}: {reason}", path=str(path))


class _Reader:
    """One pass over an opened model archive, in the order the module docstring gives."""

    def __init__(self, zf: zipfile.ZipFile, file_size: int) -> None:
        self.zf = zf
        self.file_size = file_size
        self.infos = _check_directory(zf.infolist(), file_size)
        self.headers: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
        self.dims: dict[str, tuple[int, str]] = {}  # name -> (value, member that set it)

    def read(self) -> dict[str, Any]:
        version = self._identify()
        self._check_presence()
        for name in MEMBERS:
            if name in self.infos:
                self._check_header(name)
        meta = _parse_meta(self._array("meta"), self.dim("k"))
        n_documents = self._check_counts(meta)
        self._check_budget()
        parts = self._contents(n_documents)
        parts.update(meta, format_version=version)
        return parts

    def dim(self, name: str) -> int:
        return self.dims[name][0]

    # -- 2. what the file is, then every header ---------------------------------------------
    def _identify(self) -> int:
        other = _Invalid("it is an .npz of something else (no topicnmf marker)")
        if "magic" not in self.infos:
            raise other
        shape, dtype = self._header("magic")
        if dtype.kind != "U" or shape != () or dtype.itemsize > SMALL_MEMBER_BYTES:
            raise other
        if str(self._array("magic")) != MAGIC:
            raise other
        if "format_version" not in self.infos:
            raise _Invalid("array 'format_version' is missing")
        version = int(self._array("format_version"))
        if version > FORMAT_VERSION:
            raise _TooNew(
                f"was written in model format {version}, newer than this topicnmf "
                f"{__version__} reads (format {FORMAT_VERSION}); upgrade topicnmf"
            )
        if version < 1:
            raise _Invalid(f"unknown format version {version}")
        return version

    def _header(self, name: str) -> tuple[tuple[int, ...], np.dtype]:
        if name not in self.headers:
            self.headers[name] = _read_header(self.zf, self.infos[name])
        return self.headers[name]

    def _check_header(self, name: str) -> None:
        shape, dtype = self._header(name)
        wanted, dims = MEMBERS[name]
        if not any(_dtype_is(dtype, w) for w in wanted.split()):
            expected = " or ".join(_KIND_NAMES[w] for w in wanted.split())
            raise _Invalid(f"array {name!r} has dtype {dtype}, expected {expected}")
        if not dims and shape != ():
            raise _Invalid(f"{name} is not a scalar (shape {shape})")
        if dims and len(shape) != len(dims):
            raise _Invalid(f"{name} has shape {shape}, expected {len(dims)} dimension(s)")
        if not dims and dtype.itemsize > SMALL_MEMBER_BYTES:
            raise _Invalid(f"{name} declares {dtype.itemsize:,} bytes for one value")
        for size, dim in zip(shape, dims, strict=True):
            self._bind(name, shape, size, dim)

    def _bind(self, name: str, shape: tuple[int, ...], size: int, dim: int | str) -> None:
        if isinstance(dim, int):
            if size != dim:
                raise _Invalid(f"{name} has shape {shape}, expected {dim} entries")
            return
        base, plus = (dim[:-2], 1) if dim.endswith("+1") else (dim, 0)
        value = size - plus
        if value < 0:
            raise _Invalid(f"{name} has shape {shape}, expected at least one entry")
        if base not in self.dims:
            self.dims[base] = (value, name)
            if base == "k" and value < 1:
                raise _Invalid(f"{name} has shape {shape}: a model has at least one topic")
            if base == "n" and value < self.dims["k"][0]:
                # fit refuses more topics than terms; such a file was not written by a fit
                raise _Invalid(f"{name} has shape {shape}: more topics than terms")
            return
        expected, source = self.dims[base]
        if value != expected:
            what = _DIMENSIONS[base]
            raise _Invalid(
                f"{name} has shape {shape} ({value} {what}) but {source} has shape "
                f"{self.headers[source][0]} ({expected} {what})"
            )

    def _check_presence(self) -> None:
        optional = {name for group in OPTIONAL_GROUPS for name in group}
        for name in MEMBERS:
            if name not in optional and name not in self.infos:
                raise _Invalid(f"array {name!r} is missing")
        for group in OPTIONAL_GROUPS:
            present = [name for name in group if name in self.infos]
            if present and len(present) != len(group):
                missing = ", ".join(name for name in group if name not in self.infos)
                raise _Invalid(f"{present[0]} is stored without {missing}")

    # -- 3. the stated counts against the shapes ------------------------------------------
    def _check_counts(self, meta: dict[str, Any]) -> int:
        """The number of training documents, after checking every place that states it."""
        stated = {"vec_n_documents": int(self._array("vec_n_documents"))}
        if "ref_n_documents" in self.infos:
            stated["ref_n_documents"] = int(self._array("ref_n_documents"))
        if "d" in self.dims:
            stated["the stored document weights (W)"] = self.dim("d")
        stats = meta["stats"]
        if stats is not None:
            stated["the fit statistics"] = stats.n_documents
            if stats.n_terms != self.dim("n"):
                raise _Invalid(
                    f"the fit statistics count {stats.n_terms} terms but H has "
                    f"{self.dim('n')} term columns"
                )
        n_documents = stated["vec_n_documents"]
        for where, count in stated.items():
            if count != n_documents:
                raise _Invalid(
                    f"{where} counts {count} training documents but vec_n_documents says "
                    f"{n_documents}"
                )
        if not self.dim("k") <= n_documents:
            raise _Invalid(f"{self.dim('k')} topics from {n_documents} training documents")
        if "c" in self.dims and self.dim("c") > min(self.dim("n"), REFERENCE_TOP * self.dim("k")):
            raise _Invalid(f"ref_columns holds {self.dim('c')} columns, more than the top terms")
        return n_documents

    # -- 4. the budget --------------------------------------------------------------------
    def _check_budget(self) -> None:
        arrays = sum(self.infos[name].file_size for name in MEMBERS if name in self.infos)
        # a phrase makes three strings (its two tokens and the joined one)
        weights = {"n": 1, "d": 1, "s": 1, "k": 1, "b": 1, "p": 3, "m": 1, "w": 2}
        strings = sum(w * self.dims.get(dim, (0, ""))[0] for dim, w in weights.items())
        total = arrays + STRING_BYTES * strings
        limit = max(UNPACKED_FLOOR, MAX_UNPACKED_RATIO * self.file_size)
        if total > limit:
            raise _Invalid(
                f"it declares arrays of {total:,} bytes in a file of {self.file_size:,}, more "
                f"than its data can hold (at most {MAX_UNPACKED_RATIO} times the file's size "
                f"or {UNPACKED_FLOOR >> 20} MiB)"
            )

    # -- 5. the arrays --------------------------------------------------------------------
    def _array(self, name: str) -> np.ndarray:
        """A member's array, after its header was checked."""
        self._check_header(name)
        return _read_member(self.zf, self.infos[name])

    def _contents(self, n_documents: int) -> dict[str, Any]:
        H = self._array("H")
        _check_values("H", H)
        sums = H.sum(axis=1, dtype=np.float64)
        if np.any((sums != 0) & (np.abs(sums - 1) > ROW_SUM_TOLERANCE)):
            raise _Invalid("a row of H does not sum to 1 (topics are scaled to sum to 1)")
        share = self._array("topic_share").astype(np.float64)
        _check_values("topic_share", share)
        if abs(share.sum() - 1) > SHARE_SUM_TOLERANCE:
            raise _Invalid(f"topic_share sums to {share.sum():.6g}, not 1")
        labels = [str(x) for x in self._array("labels").tolist()]
        parts: dict[str, Any] = {
            "H": H,
            "topic_share": share,
            "labels": labels if any(labels) else None,
            "vectorizer": self._vectorizer(),
            "doc_ids": None,
            "W": None,
            "reference": None,
            "dominant_count": None,
            "tree": None,
        }
        if "W" in self.infos:
            parts["doc_ids"] = _strings(
                "the stored document ids",
                self._array("doc_ids_utf8"),
                self._array("doc_ids_offsets"),
            )
            parts["W"] = self._array("W")
            _check_values("W", parts["W"])
        if "ref_columns" in self.infos:
            parts["reference"] = self._reference(n_documents)
        if "dominant_count" in self.infos:
            counts = self._array("dominant_count").astype(np.int64)
            if np.any(counts < 0) or sum(counts.tolist()) > n_documents:
                raise _Invalid(f"dominant_count does not fit {n_documents} training documents")
            parts["dominant_count"] = counts
        if "window_H" in self.infos:
            parts["windows"] = self._windows()
        if "tree_parent" in self.infos:
            parts["tree"] = self._tree(parts["vectorizer"].vocabulary, n_documents)
        parts["topic_gram"] = None
        if "topic_gram" in self.infos:
            gram = self._array("topic_gram")
            if not np.all(np.isfinite(gram)) or not np.allclose(gram, gram.T):
                raise _Invalid("topic_gram is not a finite symmetric matrix")
            parts["topic_gram"] = gram
        return parts

    def _tree(self, vocabulary: list[str], n_documents: int) -> TopicTree:
        """The topic tree: a binary tree whose k leaves are the topics, each once."""
        from topicnmf.tree import TopicTree, TreeNode

        k, t = self.dim("k"), self.dim("t")
        a = {name: self._array("tree_" + name) for name in
             ("parent", "topic", "n_docs", "share", "score", "terms", "weights")}  # fmt: skip
        for name in ("share", "score", "weights"):
            _check_values("tree_" + name, a[name])
        parent = a["parent"].astype(np.int64)
        topic = a["topic"].astype(np.int64)
        n_docs = a["n_docs"].astype(np.int64)
        terms = a["terms"].astype(np.int64)
        if t != 2 * k - 1:
            raise _Invalid(
                f"the topic tree has {t} nodes; a binary tree of {k} leaves has {2 * k - 1}"
            )
        # every node after the root has an earlier parent, which has exactly two children
        if parent[0] != -1 or np.any(parent[1:] < 0) or np.any(parent[1:] >= np.arange(1, t)):
            raise _Invalid("the topic tree's parents are inconsistent")
        children = np.bincount(parent[1:], minlength=t)
        if np.any((children != 0) & (children != 2)):
            raise _Invalid("a node of the topic tree does not have two children")
        leaf = children == 0
        if np.any(topic[~leaf] != -1) or sorted(topic[leaf].tolist()) != list(range(k)):
            raise _Invalid("the topic tree's leaves are not the model's topics, each once")
        sums = np.bincount(parent[1:], weights=n_docs[1:].astype(np.float64), minlength=t)
        if np.any(n_docs < 0) or n_docs[0] > n_documents or np.any(sums[~leaf] != n_docs[~leaf]):
            raise _Invalid("the topic tree's document counts do not add up")
        if np.any(terms < -1) or np.any(terms >= self.dim("n")):
            raise _Invalid("the topic tree names a term column outside the vocabulary")
        kids: list[list[int]] = [[] for _ in range(t)]
        for i in range(1, t):
            kids[int(parent[i])].append(i)
        nodes = []
        for i in range(t):
            kept = terms[i] >= 0
            nodes.append(
                TreeNode(
                    id=i,
                    parent=None if i == 0 else int(parent[i]),
                    children=tuple(kids[i]),
                    n_docs=int(n_docs[i]),
                    share=float(a["share"][i]),
                    term_ids=terms[i][kept],
                    weights=a["weights"][i][kept].astype(np.float64),
                    topic=int(topic[i]) if leaf[i] else None,
                    score=None if leaf[i] else float(a["score"][i]),
                )
            )
        return TopicTree(nodes, vocabulary)

    def _windows(self) -> WindowTopics:
        H = self._array("window_H")
        _check_values("window_H", H)
        sums = H.sum(axis=1, dtype=np.float64)
        if np.any((sums != 0) & (np.abs(sums - 1) > ROW_SUM_TOLERANCE)):
            raise _Invalid("a row of window_H does not sum to 1")
        of = self._array("window_of").astype(np.int64)
        dynamic = self._array("window_dynamic").astype(np.int64)
        if len(of) and (of.min() < 0 or of.max() >= self.dim("w") or np.any(np.diff(of) < 0)):
            raise _Invalid("window_of does not name the stored windows in order")
        if len(dynamic) and (dynamic.min() < 0 or dynamic.max() >= self.dim("k")):
            raise _Invalid("window_dynamic does not name a topic")
        starts = [str(x) for x in self._array("window_starts").tolist()]
        ends = [str(x) for x in self._array("window_ends").tolist()]
        return WindowTopics(H, of, dynamic, starts, ends)

    def _vectorizer(self) -> Vectorizer:
        # a file from before the token rules has none of their members (one optional group)
        arrays = {
            name[4:]: self._array(name)
            for name in MEMBERS
            if name.startswith("vec_") and name in self.infos
        }
        try:
            return Vectorizer.from_arrays(arrays)
        except ModelFileError as exc:
            raise _Invalid(str(exc)) from None

    def _reference(self, n_documents: int) -> TrainingIncidence:
        columns = self._array("ref_columns").astype(np.int64)
        indptr = self._array("ref_indptr").astype(np.int64)
        docs = self._array("ref_docs")
        ok = (
            (len(columns) == 0 or (columns[0] >= 0 and columns[-1] < self.dim("n")))
            and bool(np.all(np.diff(columns) > 0))
            and indptr[0] == 0
            and indptr[-1] == len(docs)
            and bool(np.all(np.diff(indptr) >= 0))
            and (len(docs) == 0 or (docs.min() >= 0 and docs.max() < n_documents))
        )
        if ok and len(docs) > 1:
            # within a column, documents are distinct and in order
            rising = np.diff(docs.astype(np.int64)) > 0
            starts = indptr[1:-1]
            rising[starts[(starts > 0) & (starts < len(docs))] - 1] = True
            ok = bool(rising.all())
        if not ok:
            raise _Invalid("the stored training co-occurrence arrays are inconsistent")
        return TrainingIncidence(n_documents, columns, indptr, docs)


def _check_directory(infos: list[zipfile.ZipInfo], file_size: int) -> dict[str, zipfile.ZipInfo]:
    """Members by name (without ``.npy``), after the checks that need no decompression."""
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if not name.endswith(".npy") or "/" in name or "\\" in name or ".." in name:
            raise _Invalid(f"unexpected member {name!r} in the archive")
        key = name[:-4]
        if key in members:
            raise _Invalid(f"member {name!r} appears twice in the archive")
        if info.flag_bits & 0x1:
            raise _Invalid(f"member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Invalid(f"member {name!r} uses compression method {info.compress_type}")
        if info.header_offset + info.compress_size > file_size:
            raise _Invalid(
                f"member {name!r} declares {info.compress_size:,} compressed bytes, more than "
                f"the file holds"
            )
        stored = info.compress_type == zipfile.ZIP_STORED
        if stored and info.file_size != info.compress_size:
            raise _Invalid(f"member {name!r} declares {info.file_size:,} bytes, stored in fewer")
        if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise _Invalid(f"member {name!r} has an implausible compression ratio")
        members[key] = info
    return members


# what reading a damaged member can raise; its .npy header, a Python literal, more
_MEMBER_ERRORS = (
    ValueError, EOFError, struct.error, zipfile.BadZipFile, zlib.error, NotImplementedError,
)  # fmt: skip
_HEADER_ERRORS = (
    *_MEMBER_ERRORS, SyntaxError, TypeError, RecursionError, MemoryError, tokenize.TokenError,
)  # fmt: skip


def _read_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a member's .npy header (its first bytes); the data must fit."""
    fmt = np.lib.format
    name = info.filename
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
    except _HEADER_ERRORS as exc:
        raise _Invalid(f"member {name!r} is not a readable array ({exc})") from None
    if dtype.hasobject:
        raise _Invalid("it holds object arrays (pickled data), which are refused")
    if dtype.itemsize == 0 or any(n < 0 for n in shape):
        raise _Invalid(f"member {name!r} declares an impossible array {shape} of {dtype}")
    declared = dtype.itemsize * math.prod(shape)
    if header_bytes + declared != info.file_size:
        raise _Invalid(
            f"member {name!r} declares a {shape} array of {declared:,} bytes "
            f"but holds {info.file_size - header_bytes:,}"
        )
    return shape, dtype


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    try:
        with zf.open(info) as fh:
            array = np.lib.format.read_array(fh, allow_pickle=False)
            # reading to the end makes zipfile check the CRC
            if fh.read(1):
                raise ValueError("data past the array")
    except _MEMBER_ERRORS as exc:
        raise _Invalid(f"member {info.filename!r} is corrupt ({exc})") from None
    return array


def _dtype_is(dtype: np.dtype, wanted: str) -> bool:
    if len(wanted) == 1:
        return dtype.kind == wanted
    return dtype.kind == wanted[0] and dtype.itemsize == int(wanted[1:])


def _check_values(name: str, a: np.ndarray) -> None:
    if not np.all(np.isfinite(a)):
        raise _Invalid(f"{name} contains NaN or infinite values")
    if np.any(a < 0):
        raise _Invalid(f"{name} contains negative values")


def _strings(what: str, data: np.ndarray, offsets: np.ndarray) -> list[str]:
    try:
        return unpack_strings(data, offsets)
    except ValueError as exc:
        raise _Invalid(f"{what} are unreadable ({exc})") from None


# -------------------------------------------------------------------------------------------
# meta: the JSON record
# -------------------------------------------------------------------------------------------


def _parse_meta(meta: np.ndarray, k: int) -> dict[str, Any]:
    """The settings record, every field of the right type; raises _Invalid otherwise."""
    try:
        record = json.loads(str(meta))
        if not isinstance(record, dict):
            raise TypeError("it is not an object")
        nmf_config = _nmf_config(record.get("nmf_config"))
        stats = _fit_stats(record.get("stats"))
        parsed = {
            "nmf_config": nmf_config,
            "stats": stats,
            "fingerprint": _text(record, "fingerprint"),
            "created": _text(record, "created"),
            "versions": _versions(record.get("versions", {})),
            "sources": _training_sources(record.get("sources")),
            **_seed_topics(record.get("seed_topics"), k),
            "lineage": _lineage(record.get("lineage")),
        }
    except (ValueError, TypeError, RecursionError) as exc:  # ParameterError is a ValueError
        raise _Invalid(f"its settings record is unreadable ({exc})") from None
    if nmf_config.n_components != k:
        raise _Invalid(f"settings say {nmf_config.n_components} topics but H has {k}")
    return parsed


def _seed_topics(value: Any, k: int) -> dict[str, Any]:
    """The guided topics (topics 0..s-1) and their strength; none for other models."""
    if value is None:
        return {}
    from topicnmf.seeds import SeedTopic

    if not isinstance(value, dict) or not isinstance(value.get("topics"), list):
        raise TypeError("seed_topics is not an object with a list of topics")
    strength = value.get("strength")
    if not (_is_real(strength) and math.isfinite(strength) and strength >= 0):
        raise TypeError(f"seed_topics.strength is {strength!r}, not a number >= 0")
    topics = value["topics"]
    if not 0 < len(topics) <= k:
        raise TypeError(f"{len(topics)} seeded topics for {k} topics")
    seeds = []
    for topic in topics:
        words = topic.get("words") if isinstance(topic, dict) else None
        label = topic.get("label") if isinstance(topic, dict) else None
        if not isinstance(label, str) or not isinstance(words, list) or not words:
            raise TypeError("a seeded topic lacks its label or words")
        if not all(isinstance(w, str) for w in words):
            raise TypeError(f"seeded topic {label!r} has a word that is not text")
        seeds.append(SeedTopic(label, tuple(words)))
    return {"seed_topics": seeds, "seed_strength": float(strength)}


def _nmf_config(record: Any) -> NMFConfig:
    if not isinstance(record, dict):
        raise TypeError("nmf_config is not an object")
    # files written before the exact SVD existed were started from the randomized one
    record = {"svd": "randomized", **record}
    known = {f.name for f in dataclasses.fields(NMFConfig)}
    config = NMFConfig(**{key: value for key, value in record.items() if key in known})
    config.validate()  # a ParameterError is a ValueError
    return config


def _fit_stats(record: Any) -> FitStats | None:
    """Unknown fields (from a newer topicnmf) are ignored; a record lacking one (from an
    older one) leaves the statistics unknown rather than the model unreadable."""
    if record is None:
        return None
    if not isinstance(record, dict):
        raise TypeError("the fit statistics are not an object")
    values = {}
    for f in dataclasses.fields(FitStats):
        if f.name not in record:
            if f.default is dataclasses.MISSING:
                return None
            continue
        value = record[f.name]
        ok = _STAT_TYPES[str(f.type)](value)
        if not ok:
            raise TypeError(f"stats.{f.name} is {value!r}, not a {f.type}")
        values[f.name] = value
    return FitStats(**values)


_STAT_TYPES = {
    "int": lambda v: _is_int(v) and 0 <= v < 2**63,
    "float": lambda v: _is_real(v) and math.isfinite(v) and v >= 0,
    "float | None": lambda v: v is None or (_is_real(v) and math.isfinite(v) and v >= 0),
    "bool": lambda v: isinstance(v, bool),
}


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key, "")
    if not isinstance(value, str):
        raise TypeError(f"{key} is {value!r}, not text")
    return value


def _versions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise TypeError("versions is not an object of texts")
    return dict(value)


_LINEAGE_FIELDS = {
    "parent": str,
    "documents_added": int,
    "vocabulary": str,
    "terms_added": int,
    "training_documents": int,
}


def _lineage(value: Any) -> dict[str, Any] | None:
    """Where an updated model came from (see ``TopicModel.lineage``); None for a fit."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("lineage is not an object")
    out = {}
    for key, kind in _LINEAGE_FIELDS.items():
        item = value.get(key)
        ok = isinstance(item, str) if kind is str else _is_int(item) and 0 <= item < 2**63
        if not ok:
            raise TypeError(f"lineage.{key} is {item!r}, not {kind.__name__}")
        out[key] = item
    return out


_SOURCE_VALUE_TYPES = (str, bool, type(None))


def _training_sources(value: Any) -> TrainingSources | None:
    """The sources record; None when the model has none (fitted before it was kept, or
    from documents that were not a corpus). Unknown settings (from a newer topicnmf) are kept."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("records"), list):
        raise TypeError("sources is not an object with a list of records")
    records = value["records"]
    total = value.get("total")
    if not _is_int(total) or not len(records) <= total < 2**63:
        raise TypeError(f"sources.total is {total!r}, not a count of at least {len(records)}")
    for record in records:
        if not isinstance(record, dict) or not all(
            isinstance(record.get(key), str) for key in ("source", "kind")
        ):
            raise TypeError("a sources record lacks its source or kind")
        for key, item in record.items():
            ok = isinstance(item, _SOURCE_VALUE_TYPES) or (
                isinstance(item, list) and all(isinstance(x, str) for x in item)
            )
            if not ok:
                raise TypeError(f"sources setting {key!r} is {item!r}, not text, a flag or a list")
    return TrainingSources([dict(r) for r in records], int(total))
