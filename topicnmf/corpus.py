"""Read corpora: turn sources into a re-iterable stream of :class:`Document`.

Sources
-------
``load_corpus`` takes a list of sources; each one is

* a **directory**: every file under it (recursively) whose name matches ``glob``
  is read. The default glob is ``*.txt`` (``*.csv``, ``*.tsv`` or ``*.jsonl``
  when ``format`` names one of those); other text files such as ``*.md`` are
  read only when the glob says so. Matching ignores case; a glob without ``/``
  is matched against the file name, one with ``/`` against the path relative
  to the directory. Hidden files and folders (name starting with ``.``) are
  skipped, symbolic links to folders are not followed. By default each file is
  one document; with ``format`` each file is parsed in that format.
* a **file**: ``.txt`` (one document per line; blank lines are skipped),
  ``.csv`` / ``.tsv`` (one document per row; ``text_column`` holds the text),
  ``.jsonl`` (one JSON object per line). Any of these may be gzip-compressed
  (``.txt.gz``, ...; compression is recognised by content, not by name). A file
  with another extension is read as lines; ``.json`` is refused.
* ``-``: standard input, one document per line unless ``format`` says
  otherwise. It is read once and kept (in memory up to 8 MiB, beyond that in a
  temporary file) so that the corpus can be iterated again.
* ``20newsgroups``, ``20newsgroups:train``, ``20newsgroups:test``,
  ``20newsgroups:all`` (plain ``20newsgroups`` is the train split): the
  20 Newsgroups "bydate" collection, cleaned exactly like scikit-learn's
  ``fetch_20newsgroups(remove=...)``. The name wins over a local path of the
  same name (write ``./20newsgroups`` for the path). The archive is read as a
  stream, never extracted: only regular files are read, and links, devices,
  absolute or ``..`` paths are skipped with a warning.

``format`` (``lines``, ``document``, ``csv``, ``tsv``, ``jsonl``) overrides the
detection for files, directories and standard input; ``document`` makes a
whole file one document.

Document ids
------------
* directory, one document per file: the path relative to the directory, with
  ``/`` separators (``sub/a.txt``); with a ``format``, ``<path>:<id in file>``;
* lines: the line number in the file, from 1 (blank lines are skipped but keep
  their number, so an id is always the line an editor shows);
* CSV/TSV/JSONL: the value of ``id_column`` (which must be unique) or else the
  record number from 1 (header and blank lines not counted);
* ``document`` format: the source as given;
* 20 Newsgroups: ``<split>/<newsgroup>/<message number>``, e.g.
  ``train/rec.autos/103007``; the label is the newsgroup.

With more than one source every id is prefixed by its source as given (trailing
``/`` removed) and ``:``, e.g. ``notes.txt:12`` or ``docs:sub/a.txt``, so ids
from different sources cannot clash. Giving the same source twice is an error,
and so is a source named like another plus ``:`` (``a`` and ``a:b``), the one
case where prefixed ids could coincide.

Order
-----
Deterministic: sources in the order given; directory entries sorted by name,
depth first; files in file order; 20 Newsgroups split by split (train before
test), then newsgroup name sorted, then message number numerically.

Memory
------
Texts are streamed: a file is read line by line (a line is held once as bytes
and once decoded, so a 100 MB line peaks at about 200 MB), directory files one
at a time, CSV with the ``csv`` module and a raised field size limit (that
module builds a field 4 bytes per character: a 100 MB CSV field peaks near
600 MB). Two exceptions: ``id_column`` values are remembered to check that they
are unique, and the messages selected from the 20 Newsgroups archive (at most
about 36 MB) are held as bytes while the archive is read, because its order
differs from the documented one.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import csv
import dataclasses
import fnmatch
import gzip
import hashlib
import io
import json
import logging
import os
import pickle
import queue
import re
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from topicnmf.errors import CorpusError, ParameterError

__all__ = [
    "FORMATS",
    "NEWSGROUPS",
    "Corpus",
    "CorpusStats",
    "Document",
    "load_corpus",
    "strip_newsgroup",
]

logger = logging.getLogger("topicnmf")

FORMATS: tuple[str, ...] = ("lines", "document", "csv", "tsv", "jsonl")
"""Values accepted by ``load_corpus(format=...)``."""

NEWSGROUPS: tuple[str, ...] = (
    "alt.atheism",
    "comp.graphics",
    "comp.os.ms-windows.misc",
    "comp.sys.ibm.pc.hardware",
    "comp.sys.mac.hardware",
    "comp.windows.x",
    "misc.forsale",
    "rec.autos",
    "rec.motorcycles",
    "rec.sport.baseball",
    "rec.sport.hockey",
    "sci.crypt",
    "sci.electronics",
    "sci.med",
    "sci.space",
    "soc.religion.christian",
    "talk.politics.guns",
    "talk.politics.mideast",
    "talk.politics.misc",
    "talk.religion.misc",
)
"""The 20 newsgroup names, sorted (the valid ``categories``)."""

_REMOVABLE = ("headers", "footers", "quotes")
_NG_NAME = "20newsgroups"
_NG_SPLITS = {"train": ("train",), "test": ("test",), "all": ("train", "test")}
_NG_ARCHIVE = "20news-bydate.tar.gz"
_NG_FOLDERS = {"train": "20news-bydate-train", "test": "20news-bydate-test"}
_TRUE = ("1", "true", "yes", "on")
_NG_PKZ = "20news-bydate_py3.pkz"  # scikit-learn's own cache of the collection

_EXT_FORMATS = {
    ".txt": "lines",
    ".text": "lines",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_DIR_GLOBS = {"csv": "*.csv", "tsv": "*.tsv", "jsonl": "*.jsonl"}

_SNIFF_BYTES = 8192  # a NUL byte this early means binary, as git and grep decide
_GZIP_MAGIC = b"\x1f\x8b"
_STDIN_MEMORY_LIMIT = 8 << 20
_LINE_PIECE = 1 << 20  # lines longer than this are assembled piece by piece
_MAX_PENDING_WARNINGS = 10
_MAX_ARCHIVE_MEMBER = 64 << 20  # a 20NG message is < 100 kB; a bigger member is hostile
_CSV_FIELD_LIMIT = 2**31 - 1  # the largest value the C csv module accepts everywhere


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True, slots=True)
class Document:
    """One document of a corpus.

    Parameters
    ----------
    id : str
        Unique within its corpus (see the module docstring for the rules).
    text : str
        The text, as read (not stripped).
    label : str or None
        A known class, e.g. the newsgroup for 20 Newsgroups; None otherwise.
    """

    id: str
    text: str
    label: str | None = None


@dataclass
class CorpusStats:
    """Counts from one pass over a corpus (complete once ``complete`` is True).

    Attributes
    ----------
    documents : int
        Documents yielded.
    empty_documents : int
        Of those, documents whose text is empty or only whitespace (they are
        kept so that ids stay aligned; blank lines of a lines file are not
        documents and are not counted).
    files_read : int
        Files opened (files of a directory, single files, standard input,
        archive members read).
    skipped_binary : int
        Files in a directory skipped because they contain NUL bytes.
    skipped_hidden : int
        Hidden files and folders skipped in directories (a folder counts once).
    skipped_unsafe : int
        Archive members skipped: links, devices, FIFOs, absolute or ``..``
        paths, oversized members.
    complete : bool
        True when the pass reached the end of every source.
    """

    documents: int = 0
    empty_documents: int = 0
    files_read: int = 0
    skipped_binary: int = 0
    skipped_hidden: int = 0
    skipped_unsafe: int = 0
    complete: bool = False


@dataclass(frozen=True)
class _Decoding:
    name: str  # as the user wrote it, for messages
    codec: str  # Python's canonical name
    utf8: bool  # UTF-8: a leading BOM is dropped at the byte level
    ascii_lines: bool  # b"\n" ends a line and b"\0" means binary


@dataclass(frozen=True)
class _Options:
    format: str | None
    glob: str | None
    text_column: str
    id_column: str | None
    decoding: _Decoding


# --------------------------------------------------------------------------- helpers


def _show(value: object) -> str:
    """A path or name for a one-line message (control characters escaped)."""
    text = str(value)
    return text if text.isprintable() else repr(text)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _list_names(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(_show(n) if n else "''" for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return shown or "(none)"


def _resolve_decoding(encoding: str) -> _Decoding:
    try:
        codec = codecs.lookup(encoding).name
        # non-text codecs (base64, zlib) refuse str.encode with LookupError
        sample = 'a\n\r,"'.encode(codec)
    except (LookupError, TypeError):
        raise CorpusError(
            f"unknown text encoding {encoding!r}; give a name Python knows, "
            "such as utf-8, latin-1 or cp1252"
        ) from None
    utf8 = codec in ("utf-8", "utf-8-sig")
    return _Decoding(
        name=encoding,
        codec="utf-8" if utf8 else codec,
        utf8=utf8,
        ascii_lines=sample == b'a\n\r,"',
    )


def _decode_error(where: str, dec: _Decoding, exc: UnicodeError, line: str) -> CorpusError:
    # UnicodeDecodeError carries the bad bytes; a bare UnicodeError (UTF-16 without
    # a byte order mark) does not
    bad = b""
    if isinstance(exc, UnicodeDecodeError):
        bad = exc.object[exc.start : exc.start + 1]
    detail = f" (byte 0x{bad[0]:02x})" if bad else f" ({_one_line(exc)})"
    return CorpusError(
        f"{where}{line} is not valid {dec.name} text{detail}; "
        "give its encoding with --encoding, e.g. --encoding latin-1"
    )


def _maybe_gunzip(stream: BinaryIO) -> BinaryIO:
    """Return a decompressing reader when the content is gzip (by its magic bytes)."""
    magic = stream.read(2)
    stream.seek(0)
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


def _sniff(stream: BinaryIO) -> bytes:
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    return head


def _strip_bom(raw: bytes, dec: _Decoding) -> int:
    return 3 if dec.utf8 and raw.startswith(codecs.BOM_UTF8) else 0


def _iter_lines(
    stream: BinaryIO, dec: _Decoding, where: str, *, keepends: bool
) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for each line; only ``\\n`` ends a line.

    Lines are split as bytes and decoded one by one, so that a decoding error
    names its line and a huge line exists once as bytes and once as text.
    """
    if not dec.ascii_lines:
        yield from _iter_lines_wide(stream, dec, where, keepends=keepends)
        return
    decoder = codecs.getincrementaldecoder(dec.codec)(errors="strict")
    decode: Any = decoder.decode
    if dec.utf8:
        # b"\n" never falls inside a UTF-8 sequence, so each line decodes on its own;
        # the incremental UTF-8 decoder would copy its input first (3x a long line)
        decode = _decode_utf8_line
    lineno = 0
    for raw in _read_raw_lines(stream):
        lineno += 1
        start = _strip_bom(raw, dec) if lineno == 1 else 0
        end = len(raw)
        if not keepends and raw.endswith(b"\n"):
            end -= 2 if raw.endswith(b"\r\n") else 1
        try:
            if start == 0 and end == len(raw):
                text = decode(raw)
            else:
                # a memoryview slice avoids copying a line that may be 100 MB
                text = decode(memoryview(raw)[start:end])
        except UnicodeError as exc:
            raise _decode_error(where, dec, exc, f" line {lineno}") from None
        del raw
        yield lineno, text
    try:
        decoder.decode(b"", final=True)
    except UnicodeError as exc:
        raise _decode_error(where, dec, exc, f" line {lineno}") from None


def _decode_utf8_line(data: bytes | bytearray | memoryview) -> str:
    return codecs.utf_8_decode(data, "strict", True)[0]


def _read_raw_lines(stream: BinaryIO) -> Iterator[bytes | bytearray]:
    """Yield the lines of a binary stream, each ending with its b"\\n" (but the last)."""
    readline = stream.readline
    while True:
        raw = readline(_LINE_PIECE)
        if not raw:
            return
        if len(raw) == _LINE_PIECE and not raw.endswith(b"\n"):
            # a long line: grow one buffer in place; plain readline() would hold
            # its pieces and their joined copy at once (3x the line in memory)
            buf = bytearray(raw)
            del raw
            while True:
                piece = readline(_LINE_PIECE)
                buf += piece
                if len(piece) < _LINE_PIECE or piece.endswith(b"\n"):
                    break
            # hand the buffer over without keeping a reference in this frame, so
            # that the caller can free it while parsing the line
            held = [buf]
            del buf
            yield held.pop()
        else:
            yield raw


def _iter_lines_wide(
    stream: BinaryIO, dec: _Decoding, where: str, *, keepends: bool
) -> Iterator[tuple[int, str]]:
    # UTF-16/32 and EBCDIC: b"\n" is not a line end, so decode first
    wrapper = io.TextIOWrapper(stream, encoding=dec.codec, errors="strict", newline="\n")
    lineno = 0
    try:
        while True:
            try:
                line = wrapper.readline()
            except UnicodeError as exc:
                raise _decode_error(where, dec, exc, f" near line {lineno + 1}") from None
            if not line:
                return
            lineno += 1
            if not keepends:
                line = line.rstrip("\n")
                if line.endswith("\r"):
                    line = line[:-1]
            yield lineno, line
    finally:
        # detach so that closing the wrapper does not close the caller's stream
        with contextlib.suppress(ValueError):
            wrapper.detach()


def _is_blank(text: str) -> bool:
    return not text or text.isspace()


def _find_column(header: list[str], name: str, where: str, option: str) -> int:
    if name in header:
        return header.index(name)
    # tolerate case and surrounding spaces when that is unambiguous
    folded = [i for i, col in enumerate(header) if col.strip().casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise CorpusError(
        f"{where} has no column {name!r}; its columns are: {_list_names(header)}. "
        f"Use {option} to choose one"
    )


def _raise_csv_limit() -> None:
    # the default limit (128 kB) rejects long documents; the limit is global to
    # the csv module, so it is only ever raised, never lowered
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)


def _check_unique(seen: set[str] | None, doc_id: str, where: str, column: str) -> None:
    if seen is None:
        return
    if not doc_id:
        raise CorpusError(
            f"{where} has an empty id in column {column!r}; every row needs an id "
            "(or leave out --id-column to number the rows)"
        )
    if doc_id in seen:
        raise CorpusError(
            f"{where} has the id {_show(doc_id)!r} twice in column {column!r}; ids must be "
            "unique (or leave out --id-column to number the rows)"
        )
    seen.add(doc_id)


# --------------------------------------------------------------------------- parsers
# Each parser takes a binary stream and yields (id within the stream, text).


def _parse_lines(stream: BinaryIO, opts: _Options, where: str) -> Iterator[tuple[str, str]]:
    for lineno, text in _iter_lines(stream, opts.decoding, where, keepends=False):
        if not _is_blank(text):
            yield str(lineno), text


def _parse_document(stream: BinaryIO, opts: _Options, where: str) -> Iterator[tuple[str, str]]:
    dec = opts.decoding
    if not dec.ascii_lines:
        wrapper = io.TextIOWrapper(stream, encoding=dec.codec, errors="strict", newline="")
        try:
            yield "", wrapper.read()
        except UnicodeError as exc:
            raise _decode_error(where, dec, exc, "") from None
        finally:
            with contextlib.suppress(ValueError):
                wrapper.detach()
        return
    raw = stream.read()
    try:
        text = codecs.decode(memoryview(raw)[_strip_bom(raw, dec) :], dec.codec)
    except UnicodeError as exc:
        start = exc.start if isinstance(exc, UnicodeDecodeError) else 0
        line = raw.count(b"\n", 0, start + _strip_bom(raw, dec)) + 1
        raise _decode_error(where, dec, exc, f" line {line}") from None
    del raw
    yield "", text


def _parse_table(
    stream: BinaryIO, opts: _Options, where: str, delimiter: str
) -> Iterator[tuple[str, str]]:
    _raise_csv_limit()
    # lines keep their ends so that newlines inside quoted fields survive
    lines = (text for _, text in _iter_lines(stream, opts.decoding, where, keepends=True))
    reader = csv.reader(lines, delimiter=delimiter)

    def csv_error(exc: csv.Error) -> CorpusError:
        return CorpusError(
            f"{where} line {reader.line_num} is not valid {'CSV' if delimiter == ',' else 'TSV'} "
            f"({_one_line(exc)}); check its quotes"
        )

    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise csv_error(exc) from None
    if header is None:
        raise CorpusError(f"{where} is empty; it needs a header row and one row per document")
    text_idx = _find_column(header, opts.text_column, where, "--text-column")
    id_idx = None
    seen: set[str] | None = None
    if opts.id_column is not None:
        id_idx = _find_column(header, opts.id_column, where, "--id-column")
        seen = set()
    needed = max(text_idx, -1 if id_idx is None else id_idx)
    record = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise csv_error(exc) from None
        if not row:  # the csv module turns a blank line into []
            continue
        record += 1
        if needed >= len(row):
            raise CorpusError(
                f"{where} line {reader.line_num} has {len(row)} field(s) but the header has "
                f"{len(header)}; fix the row or its quotes"
            )
        if id_idx is None:
            doc_id = str(record)
        else:
            doc_id = row[id_idx]
            _check_unique(seen, doc_id, f"{where} line {reader.line_num}", header[id_idx])
        yield doc_id, row[text_idx]


def _json_kind(value: object) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean"}.get(type(value), "a value")


def _parse_jsonl(stream: BinaryIO, opts: _Options, where: str) -> Iterator[tuple[str, str]]:
    seen: set[str] | None = None if opts.id_column is None else set()
    record = 0
    for lineno, line in _iter_lines(stream, opts.decoding, where, keepends=False):
        if _is_blank(line):
            continue
        at = f"{where} line {lineno}"
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else _one_line(exc)
            raise CorpusError(
                f"{at} is not valid JSON ({msg}); each line must be one JSON object"
            ) from None
        del line
        if not isinstance(obj, dict):
            raise CorpusError(
                f"{at} is {_json_kind(obj) if isinstance(obj, (list, bool)) else 'not an object'}"
                "; each line must be one JSON object such as "
                f'{{"{opts.text_column}": "..."}}'
            )
        record += 1
        if opts.text_column not in obj:
            raise CorpusError(
                f"{at} has no field {opts.text_column!r}; its fields are: "
                f"{_list_names(list(obj))}. Use --text-column to choose one"
            )
        text = obj[opts.text_column]
        if text is None:
            text = ""
        elif not isinstance(text, str):
            if isinstance(text, (int, float)) and not isinstance(text, bool):
                text = str(text)
            else:
                raise CorpusError(
                    f"{at}: field {opts.text_column!r} is {_json_kind(text)}, not text"
                )
        if opts.id_column is None:
            doc_id = str(record)
        else:
            if opts.id_column not in obj:
                raise CorpusError(
                    f"{at} has no field {opts.id_column!r}; its fields are: "
                    f"{_list_names(list(obj))}. Use --id-column to choose one"
                )
            raw_id = obj[opts.id_column]
            if isinstance(raw_id, str):
                doc_id = raw_id
            elif isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
                doc_id = str(raw_id)
            else:
                raise CorpusError(
                    f"{at}: field {opts.id_column!r} is {_json_kind(raw_id)}, not an id"
                )
            _check_unique(seen, doc_id, at, opts.id_column)
        yield doc_id, text


def _parse(stream: BinaryIO, fmt: str, opts: _Options, where: str) -> Iterator[tuple[str, str]]:
    if fmt == "lines":
        return _parse_lines(stream, opts, where)
    if fmt == "document":
        return _parse_document(stream, opts, where)
    if fmt == "csv":
        return _parse_table(stream, opts, where, ",")
    if fmt == "tsv":
        return _parse_table(stream, opts, where, "\t")
    return _parse_jsonl(stream, opts, where)


_STREAM_ERRORS = (OSError, EOFError, zlib.error)  # unreadable file, damaged gzip


def _stream_error(where: str, exc: BaseException) -> CorpusError:
    if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
        return CorpusError(f"cannot read {where}: the gzip data is damaged or cut short ({exc})")
    reason = getattr(exc, "strerror", None) or _one_line(exc)
    return CorpusError(f"cannot read {where}: {reason}")


def _detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    ext = os.path.splitext(name)[1]
    if ext == ".json":
        raise CorpusError(
            f"{_show(path)} is a .json file; only JSON Lines (one object per line) is read: "
            "name it .jsonl or pass --format jsonl"
        )
    return _EXT_FORMATS.get(ext, "lines")


def _check_text_head(head: bytes, where: str, dec: _Decoding) -> None:
    if not head:
        raise CorpusError(f"{where} is empty; it has no documents")
    if dec.ascii_lines and b"\0" in head:
        raise CorpusError(
            f"{where} looks like a binary file (it contains NUL bytes), not text; "
            "give text, CSV or JSONL files (or --encoding for UTF-16 text)"
        )


# --------------------------------------------------------------------------- sources

_Item = tuple[str | None, str, str | None]  # (id within the source, text, label)


class _Source:
    """One source of a corpus; ``label`` prefixes ids when there are several."""

    label: str

    def check(self) -> None:
        """Fail early (in ``load_corpus``) on what can be seen cheaply."""

    def close(self) -> None:
        """Release what the source holds between passes (a spooled copy, a helper process)."""

    def items(self, stats: CorpusStats) -> Iterator[_Item]:
        raise NotImplementedError


class _FileSource(_Source):
    def __init__(self, path: Path, label: str, opts: _Options) -> None:
        self.path = path
        self.label = label
        self.opts = opts
        self.where = _show(path)
        self.format = opts.format or _detect_format(path)

    def _open(self) -> contextlib.AbstractContextManager[BinaryIO]:
        stack = contextlib.ExitStack()
        try:
            raw = stack.enter_context(open(self.path, "rb"))
            stream = stack.enter_context(_maybe_gunzip(raw))
        except _STREAM_ERRORS as exc:
            stack.close()
            raise _stream_error(self.where, exc) from None
        return _Opened(stack, stream)

    def check(self) -> None:
        try:
            with self._open() as stream:
                _check_text_head(_sniff(stream), self.where, self.opts.decoding)
                if self.format in ("csv", "tsv"):
                    # reads only the header: a missing column is reported before any work
                    next(_parse(stream, self.format, self.opts, self.where), None)
        except _STREAM_ERRORS as exc:
            raise _stream_error(self.where, exc) from None

    def items(self, stats: CorpusStats) -> Iterator[_Item]:
        try:
            with self._open() as stream:
                yield from _stream_items(stream, self.format, self.opts, self.where, stats)
        except _STREAM_ERRORS as exc:
            raise _stream_error(self.where, exc) from None


class _Opened(contextlib.AbstractContextManager):
    """An open stream together with the ExitStack that closes it."""

    def __init__(self, stack: contextlib.ExitStack, stream: BinaryIO) -> None:
        self.stack = stack
        self.stream = stream

    def __enter__(self) -> BinaryIO:
        return self.stream

    def __exit__(self, *exc_info: object) -> None:
        self.stack.close()


class _DirSource(_Source):
    def __init__(self, path: Path, label: str, opts: _Options) -> None:
        self.path = path
        self.label = label
        self.opts = opts
        self.where = _show(path)
        self.format = opts.format or "document"
        self.glob = (opts.glob or _DIR_GLOBS.get(self.format, "*.txt")).lower()

    def _walk(
        self, folder: Path, rel: str, stats: CorpusStats | None
    ) -> Iterator[tuple[str, Path]]:
        """Yield (relative path, path) of regular files, depth first, sorted by name."""
        try:
            with os.scandir(folder) as it:
                # keep small tuples, not DirEntry objects: a folder may hold 100,000 files
                entries = sorted((e.name, e.is_dir(follow_symlinks=False), e.is_file()) for e in it)
        except OSError as exc:
            raise _stream_error(_show(folder), exc) from None
        for name, is_dir, is_file in entries:
            if name.startswith("."):
                if stats is not None:
                    stats.skipped_hidden += 1
                continue
            if is_dir:  # symlinked folders are not followed: they can form loops
                yield from self._walk(folder / name, f"{rel}{name}/", stats)
            elif is_file:
                yield f"{rel}{name}", folder / name

    def _matches(self, rel: str) -> bool:
        target = rel if "/" in self.glob else rel.rpartition("/")[2]
        return fnmatch.fnmatchcase(target.lower(), self.glob)

    def check(self) -> None:
        seen = 0
        example = None
        for rel, _path in self._walk(self.path, "", None):
            if self._matches(rel):
                return
            seen += 1
            example = example or rel
        if seen == 0:
            raise CorpusError(f"{self.where} is an empty directory; it has no files to read")
        ext = os.path.splitext(example or "")[1]
        raise CorpusError(
            f"no file in {self.where} matches {self.glob!r} ({seen} other file(s), e.g. "
            f"{_show(example)}); use --glob to choose the files, e.g. --glob '*{ext or '.md'}'"
        )

    def items(self, stats: CorpusStats) -> Iterator[_Item]:
        count = matched = binary = 0
        # binary files met before the first document are reported only once a
        # document shows up: when none does, the error alone says it all
        pending: list[str] = []
        for rel, path in self._walk(self.path, "", stats):
            if not self._matches(rel):
                continue
            matched += 1
            where = _show(path)
            try:
                with open(path, "rb") as raw, _maybe_gunzip(raw) as stream:
                    stats.files_read += 1
                    head = _sniff(stream)
                    if self.opts.decoding.ascii_lines and b"\0" in head:
                        stats.skipped_binary += 1
                        binary += 1
                        if count:
                            _warn_binary(where)
                        elif len(pending) < _MAX_PENDING_WARNINGS:
                            pending.append(where)
                        continue
                    for sub_id, text in _parse(stream, self.format, self.opts, where):
                        if pending:
                            for name in pending:
                                _warn_binary(name)
                            if binary > len(pending):
                                logger.warning(
                                    "skipped %d more binary file(s) in %s",
                                    binary - len(pending),
                                    self.where,
                                )
                            pending = []
                        count += 1
                        yield (rel if self.format == "document" else f"{rel}:{sub_id}"), text, None
            except _STREAM_ERRORS as exc:
                raise _stream_error(where, exc) from None
        if count == 0:
            if binary:
                detail = f"{binary} binary file(s) skipped, e.g. {pending[0]}"
            else:
                detail = f"{matched} file(s) match {self.glob!r} but hold no documents"
            raise CorpusError(f"{self.where} gave no documents ({detail})")


def _warn_binary(where: str) -> None:
    logger.warning("skipping %s: it looks binary (contains NUL bytes)", where)


class _SpooledSource(_Source):
    """Standard input, or a pipe given by path: read once, then kept for re-reading."""

    def __init__(
        self, label: str, where: str, opener: Any, fmt: str, opts: _Options, close: bool
    ) -> None:
        self.label = label
        self.where = where
        self.opener = opener  # returns the stream to read, once
        self.close_stream = close
        self.format = fmt
        self.opts = opts
        self._data: bytes | None = None
        self._path: str | None = None
        self._finalizer: weakref.finalize | None = None

    def _spool(self) -> None:
        """Read the stream once; keep it in memory or, when large, in a temp file."""
        chunks: list[bytes] = []
        size = 0
        out: BinaryIO | None = None
        try:
            stream = self.opener()
            try:
                while True:
                    chunk = stream.read(1 << 20)
                    if not chunk:
                        break
                    if isinstance(chunk, str):
                        # a text stream is already decoded: pass its text on as UTF-8
                        # (surrogateescape restores bytes a POSIX-locale stdin could not decode)
                        chunk = chunk.encode("utf-8", errors="surrogateescape")
                        self.opts = dataclasses.replace(
                            self.opts, decoding=_resolve_decoding("utf-8")
                        )
                    if out is None and size + len(chunk) > _STDIN_MEMORY_LIMIT:
                        fd, self._path = tempfile.mkstemp(prefix="topicnmf-stdin-")
                        self._finalizer = weakref.finalize(self, _unlink, self._path)
                        out = os.fdopen(fd, "wb")
                        out.writelines(chunks)
                        chunks = []
                    if out is None:
                        chunks.append(chunk)
                    else:
                        out.write(chunk)
                    size += len(chunk)
            finally:
                if self.close_stream:
                    stream.close()
        except UnicodeEncodeError:
            raise CorpusError(
                f"{self.where} holds text that cannot be encoded (lone surrogates); "
                "pipe the bytes instead"
            ) from None
        except OSError as exc:
            raise _stream_error(self.where, exc) from None
        finally:
            if out is not None:
                out.close()
        if self._path is None:
            self._data = b"".join(chunks)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()

    def items(self, stats: CorpusStats) -> Iterator[_Item]:
        if self._data is None and self._path is None:
            self._spool()
        try:
            raw: BinaryIO = (
                io.BytesIO(self._data) if self._data is not None else open(self._path, "rb")  # type: ignore[arg-type]
            )
            with raw, _maybe_gunzip(raw) as stream:
                yield from _stream_items(stream, self.format, self.opts, self.where, stats)
        except _STREAM_ERRORS as exc:
            raise _stream_error(self.where, exc) from None


def _stream_items(
    stream: BinaryIO, fmt: str, opts: _Options, where: str, stats: CorpusStats
) -> Iterator[_Item]:
    """The documents of one opened file or of stdin; an error if it holds none."""
    stats.files_read += 1
    _check_text_head(_sniff(stream), where, opts.decoding)
    count = 0
    for sub_id, text in _parse(stream, fmt, opts, where):
        count += 1
        yield (None if fmt == "document" else sub_id), text, None
    if count == 0:
        what = "rows" if fmt in ("csv", "tsv") else "documents"
        raise CorpusError(f"{where} has no {what}; it holds only blank lines or a header")


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


# --------------------------------------------------------------------------- 20 Newsgroups


def _strip_header(text: str) -> str:
    return text.partition("\n\n")[2]


# The last line (after the first) that is blank or only hyphens, found by a greedy
# ".*" that backtracks from the end. The line part cannot backtrack more than
# linearly: spaces and hyphens are disjoint, so each character is tried once.
_FOOTER_RE = re.compile(r".*(\n)[^\S\n]*(?:-+[^\S\n]*)?(?:\n|\Z)", re.DOTALL)


def _strip_footer(text: str) -> str:
    stripped = text.strip()
    match = _FOOTER_RE.match(stripped)
    return stripped[: match.start(1)] if match else text


_QUOTE_ANYWHERE = ("writes in", "writes:", "wrote:", "says:", "said:")
_QUOTE_START = ("In article", "Quoted from", "|", ">")
_QUOTE_AFTER_NL = tuple("\n" + s for s in _QUOTE_START)


def _strip_quoting(text: str) -> str:
    # str.find scans at C speed; a regex alternation over the whole text (or a
    # Python loop over every line, as scikit-learn does) is three times slower.
    find, rfind = text.find, text.rfind
    starts: set[int] = set()  # start offsets of lines to drop
    for word in _QUOTE_ANYWHERE:
        i = find(word)
        while i >= 0:
            starts.add(rfind("\n", 0, i) + 1)
            end = find("\n", i)
            if end < 0:
                break
            i = find(word, end + 1)
    if text.startswith(_QUOTE_START):
        starts.add(0)
    for marker in _QUOTE_AFTER_NL:
        i = find(marker)
        while i >= 0:
            starts.add(i + 1)
            i = find(marker, i + 2)
    if not starts:
        return text
    kept: list[str] = []
    pos = 0
    for start in sorted(starts):
        kept.append(text[pos:start])
        end = find("\n", start)
        if end < 0:
            # the last line goes: "\n".join of the kept lines has no separator after them
            return "".join(kept)[:-1]
        pos = end + 1
    kept.append(text[pos:])
    return "".join(kept)


def strip_newsgroup(text: str, remove: Iterable[str] = _REMOVABLE) -> str:
    """Remove headers, signature blocks and quoted lines from a newsgroup post.

    The result is exactly that of scikit-learn's ``strip_newsgroup_header``,
    ``strip_newsgroup_footer`` and ``strip_newsgroup_quoting`` (applied in that
    order, as ``fetch_20newsgroups(remove=...)`` does), computed about three
    times faster.

    Parameters
    ----------
    text : str
        A post, decoded from bytes as latin-1 as scikit-learn does.
    remove : iterable of str
        Any of ``"headers"``, ``"footers"``, ``"quotes"``.

    Returns
    -------
    str
        The cleaned text.
    """
    remove = set(remove)
    if "headers" in remove:
        text = _strip_header(text)
    if "footers" in remove:
        text = _strip_footer(text)
    if "quotes" in remove:
        text = _strip_quoting(text)
    return text


def _number_key(name: str) -> tuple[int, int, str]:
    # message files are numbers: 9 sorts before 10
    if name.isascii() and name.isdigit():
        return (0, int(name), name)
    return (1, 0, name)


class _QuickTarInfo(tarfile.TarInfo):
    """TarInfo that parses plain ustar headers of files and folders with fewer steps.

    tarfile spends most of its time decoding header fields we never use (owner,
    mode, times); this halves the time to read the 20 Newsgroups archive. Any
    other header (links, devices, GNU or pax extensions, base-256 numbers, a bad
    checksum) goes to tarfile's own parser, so the members are the same.
    """

    __slots__ = ()

    @classmethod
    def frombuf(cls, buf: bytes, encoding: str, errors: str) -> tarfile.TarInfo:
        header = _parse_plain_header(buf, encoding, errors)
        if header is None:
            return super().frombuf(buf, encoding, errors)
        obj = cls()
        obj.type, obj.name, obj.size, obj.chksum = header
        return obj


def _parse_plain_header(
    buf: bytes, encoding: str, errors: str
) -> tuple[bytes, str, int, int] | None:
    """(type, name, size, checksum) of a plain ustar file or folder header, else None.

    None means the header needs tarfile's full parser: another member type, a
    GNU or pax extension, a base-256 number, a bad checksum or a short block.
    """
    if len(buf) != tarfile.BLOCKSIZE or buf[156:157] not in (b"0", b"5"):
        return None
    if buf[257:262] != b"ustar":
        return None
    try:
        chksum = int(buf[148:156].split(b"\0", 1)[0].strip() or b"0", 8)
        size = int(buf[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError:
        return None
    # the checksum field counts as eight spaces (256)
    if chksum != _byte_sum(buf) - sum(buf[148:156]) + 256:
        return None
    name = buf[0:100].split(b"\0", 1)[0].decode(encoding, errors)
    prefix = buf[345:500].split(b"\0", 1)[0]
    if prefix:
        name = prefix.decode(encoding, errors) + "/" + name
    kind = buf[156:157]
    return kind, (name.rstrip("/") if kind == tarfile.DIRTYPE else name), size, chksum


def _byte_sum(buf: bytes) -> int:
    """sum(buf) for a 512-byte block, several times faster.

    The low 16 bits of Adler-32 are 1 + the byte sum modulo 65521; the sum of 256
    bytes is at most 65280, so each half gives its exact sum.
    """
    return (zlib.adler32(buf[:256]) & 0xFFFF) + (zlib.adler32(buf[256:512]) & 0xFFFF) - 2


class _NotPlain(Exception):
    """The fast archive reader met something only tarfile should handle."""


_INFLATE_CHUNK = 1 << 20  # compressed bytes the inflating thread reads at a time
_INFLATE_PIECE = 4 << 20  # most bytes it decompresses at a time
_INFLATE_AHEAD = 4  # decompressed pieces that may wait for the parser


class _Inflater:
    """Decompressed pieces of a gzip stream, inflated ahead in a helper thread.

    zlib releases the GIL while it inflates, so the 20 Newsgroups archive (14 MB that
    inflate to 50 MB, a quarter of a second) decompresses on another core while the
    caller parses and cleans the messages already out. At most ``_INFLATE_AHEAD``
    pieces wait in the queue. Errors of the stream (damage, truncation, a read
    error) come out of :meth:`next` as :class:`_NotPlain`, like an unusual archive:
    the caller then reads it with tarfile, which says what is wrong.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(_INFLATE_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(raw,), name="topicnmf-inflate", daemon=True
        )
        try:
            self._thread.start()
        except RuntimeError as exc:  # no thread to be had: tarfile reads it instead
            raise _NotPlain(f"cannot start a thread ({exc})") from None

    def _put(self, item: bytes | BaseException | None) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, raw: BinaryIO) -> None:
        unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while not self._stop.is_set():
                # large steps: each one is a wait for the GIL, held by the parsing thread
                if unzip.unconsumed_tail:
                    piece = unzip.decompress(unzip.unconsumed_tail, _INFLATE_PIECE)
                elif unzip.eof:
                    break
                else:
                    chunk = raw.read(_INFLATE_CHUNK)
                    if not chunk:
                        break
                    piece = unzip.decompress(chunk, _INFLATE_PIECE)
                if piece and not self._put(piece):
                    return
            self._put(None)
        except Exception as exc:  # noqa: BLE001 - handed to the reading thread
            self._put(exc)

    def next(self) -> bytes | None:
        """The next piece, or None at the end of the compressed stream."""
        item = self._queue.get()
        if isinstance(item, BaseException):
            raise _NotPlain(f"the stream is damaged ({_one_line(item)})")
        if item is None:
            self._queue.put(None)  # stay at the end
        return item

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:  # make room, so that a waiting put returns and sees the stop
                self._queue.get_nowait()
        self._thread.join()


def _iter_plain_tar_gz(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, data) of the regular files of a gzip-compressed plain ustar archive.

    A forward-only reader that skips tarfile's stream machinery, which costs far
    more than the decompression itself. It reads only what tarfile's "r|*" mode
    reads the same way: safe regular files and folders with plain ustar headers,
    up to the first zero block. Anything else (another member type, an
    extension header, a bad checksum, an unsafe name, a damaged or truncated
    stream, another compression) raises _NotPlain, possibly after some members
    were yielded; the caller then discards them and reads with tarfile.
    Memory stays bounded by the largest member plus the decompressed pieces
    waiting in the :class:`_Inflater`.
    """
    with open(path, "rb") as raw:
        if raw.read(2) != _GZIP_MAGIC:
            raise _NotPlain("not gzip-compressed")
        raw.seek(0)
        inflater = _Inflater(raw)
        try:
            yield from _plain_tar_members(inflater, tarfile.BLOCKSIZE)
        finally:
            inflater.close()


def _plain_tar_members(inflater: _Inflater, block: int) -> Iterator[tuple[str, bytes]]:
    """The member loop of :func:`_iter_plain_tar_gz` over decompressed pieces."""
    encoding, errors = tarfile.ENCODING, "surrogateescape"
    buf = b""
    pos = 0

    def fill(need: int) -> None:
        # make buf[pos:pos + need] available, dropping what was consumed
        nonlocal buf, pos
        pieces = [buf[pos:]]
        have = len(pieces[0])
        while have < need:
            piece = inflater.next()
            if not piece:
                raise _NotPlain("the archive ends early")
            pieces.append(piece)
            have += len(piece)
        buf = b"".join(pieces)
        pos = 0

    while True:
        if len(buf) - pos < block:
            fill(block)
        header = buf[pos : pos + block]
        pos += block
        if header.count(0) == block:
            return  # tarfile also stops at the first zero block
        parsed = _parse_plain_header(header, encoding, errors)
        if parsed is None:
            raise _NotPlain("an unusual header")
        kind, name, size, _ = parsed
        if kind == tarfile.DIRTYPE:
            if size:
                raise _NotPlain("a folder with data")
            continue
        if _unsafe_name_reason(name, size) is not None:
            raise _NotPlain("an unsafe member")
        padded = -(-size // block) * block
        if len(buf) - pos < padded:
            fill(padded)
        data = buf[pos : pos + size]
        pos += padded
        yield name, data


# ------------------------------------------------------------------------ archive cache

_CACHE_MAGIC = b"topicnmf archive cache 1\n"


def _cache_dir() -> Path | None:
    """Where decompressed archives are kept: $TOPICNMF_CACHE_DIR ("none": nowhere), else
    $XDG_CACHE_HOME/topicnmf or ~/.cache/topicnmf."""
    env = os.environ.get("TOPICNMF_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "none", "off", "0") else Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "topicnmf"


class _ArchiveCache:
    """The regular files of a plain archive, decompressed, in one file of the cache folder.

    Like scikit-learn's 20news-bydate_py3.pkz: the archive is decompressed and parsed once;
    later runs read the messages from here (and clean them as usual). The file holds a
    magic line, a JSON line (the archive's path, size and modification time, and each
    member's name and length) and the members' bytes. Anything that does not match
    exactly (another archive, a changed one, a damaged or foreign file) is ignored and
    rewritten; a folder that cannot be written only means no cache.
    """

    def __init__(self, archive: Path, folder: Path) -> None:
        st = archive.stat()
        self.identity = {"archive": str(archive), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        digest = hashlib.sha256(str(archive).encode("utf-8", "surrogateescape")).hexdigest()
        self.path = folder / f"archive-{digest[:20]}.bin"

    @classmethod
    def for_archive(cls, archive: Path) -> _ArchiveCache | None:
        folder = _cache_dir()
        if folder is None:
            return None
        try:
            return cls(archive.resolve(), folder)
        except (OSError, RuntimeError):
            return None

    def read(self) -> list[tuple[str, bytes]] | None:
        try:
            with open(self.path, "rb") as fh:
                if fh.readline(len(_CACHE_MAGIC) + 1) != _CACHE_MAGIC:
                    return None
                header = json.loads(fh.readline(1 << 26))
                blob = fh.read()
        except (OSError, ValueError):
            return None
        if not isinstance(header, dict) or any(
            header.get(key) != value for key, value in self.identity.items()
        ):
            return None
        names, lengths = header.get("names"), header.get("lengths")
        if (
            not isinstance(names, list)
            or not isinstance(lengths, list)
            or len(names) != len(lengths)
            or not all(type(n) is str for n in names)
            or not all(type(n) is int and n >= 0 for n in lengths)
            or sum(lengths) != len(blob)
        ):
            return None
        members = []
        pos = 0
        view = memoryview(blob)
        for name, length in zip(names, lengths, strict=True):
            members.append((name, bytes(view[pos : pos + length])))
            pos += length
        return members

    def write(self, members: list[tuple[str, bytes]]) -> None:
        header = {
            **self.identity,
            "names": [name for name, _ in members],
            "lengths": [len(data) for _, data in members],
        }
        tmp: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".archive-", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(_CACHE_MAGIC)
                fh.write(json.dumps(header).encode("utf-8", "surrogateescape") + b"\n")
                for _, data in members:
                    fh.write(data)
            os.replace(tmp, self.path)
            tmp = None
        except (OSError, ValueError):
            pass  # no cache this time; reading the archive still worked
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def _plain_members_cached(path: Path) -> Iterator[tuple[str, bytes]]:
    """:func:`_iter_plain_tar_gz`, served from the archive cache when it has this archive.

    A complete read of the archive fills the cache; a read that stops early or finds the
    archive unusual (_NotPlain) leaves it as it was.
    """
    cache = _ArchiveCache.for_archive(path)
    if cache is None:
        yield from _iter_plain_tar_gz(path)
        return
    members = cache.read()
    if members is not None:
        yield from members
        return
    collected = []
    for name, data in _iter_plain_tar_gz(path):
        collected.append((name, data))
        yield name, data
    cache.write(collected)


def _unsafe_member_reason(member: tarfile.TarInfo) -> str | None:
    """Why a member must not be read (None when it is a safe regular file)."""
    if not member.isreg():
        if member.issym():
            return "a symbolic link"
        if member.islnk():
            return "a hard link"
        if member.ischr() or member.isblk():
            return "a device file"
        if member.isfifo():
            return "a FIFO"
        return "not a regular file"
    return _unsafe_name_reason(member.name, member.size)


def _unsafe_name_reason(name: str, size: int) -> str | None:
    """Why a regular file of this name and size must not be read (None if safe)."""
    if "\\" in name:
        name = name.replace("\\", "/")
    if name.startswith("/") or name[1:2] == ":":
        return "an absolute path"
    if ".." in name and ".." in name.split("/"):
        return "a path with '..'"
    if size > _MAX_ARCHIVE_MEMBER:
        return f"larger than {_MAX_ARCHIVE_MEMBER >> 20} MB"
    return None


def _sklearn_data_home() -> Path:
    # what sklearn.datasets.get_data_home() returns, without importing scikit-learn
    # (slow) and without its side effect of creating the folder
    return Path(os.environ.get("SCIKIT_LEARN_DATA", "~/scikit_learn_data")).expanduser()


def _fetch_with_sklearn(data_home: Path, subset: str, download: bool) -> Any:
    """Call scikit-learn's fetcher (a separate function so tests can replace it)."""
    from sklearn.datasets import fetch_20newsgroups

    # the fetcher prints to stdout when its cache is damaged; stdout is for data
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        try:
            return fetch_20newsgroups(
                data_home=str(data_home),
                subset=subset,
                shuffle=False,
                remove=(),
                download_if_missing=download,
            )
        finally:
            if printed.getvalue().strip():
                logger.warning("scikit-learn: %s", _one_line(printed.getvalue()))


class _Prefetch:
    """A helper process that reads and cleans a 20 Newsgroups archive (``prefetch=True``).

    Decompressing the archive, parsing it and stripping headers, footers and quotes is
    pure Python, about 0.4 s for the train split. In a second process it runs while this
    one loads NumPy and SciPy and tokenizes the texts already received. The helper is a
    fresh interpreter (no fork of a process that may hold threads or locks) that runs
    :meth:`_NewsgroupsSource._from_archive` and sends pickled frames on its stdout:
    ``("docs", items)``, ``("warn", message)``, ``("done", files_read, skipped_unsafe)``,
    ``("error", message)`` for a :class:`CorpusError`, and ``("crash", description)``
    for anything else. Until the first document arrives, any failure of the helper
    itself (it cannot start, it dies, it crashes) makes the reading happen here instead,
    so the documents, messages and errors are always those of reading in-process.
    """

    _live: weakref.WeakSet[_Prefetch] = weakref.WeakSet()

    def __init__(self, proc: subprocess.Popen[bytes], path: Path) -> None:
        self.proc = proc
        self.path = path
        _Prefetch._live.add(self)

    @classmethod
    def start(cls, source: _NewsgroupsSource) -> _Prefetch | None:
        spec = json.dumps(
            {
                "path": str(source.location),
                "subset": source.subset,
                "categories": list(source.categories),
                "remove": sorted(source.remove),
                # the helper must run this very file (see _PREFETCH_CODE)
                "module": str(Path(__file__).resolve()),
            }
        )
        if not sys.executable or getattr(sys, "frozen", False):
            return None  # no interpreter to start (embedded or frozen application)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _PREFETCH_CODE, spec],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except (OSError, ValueError, TypeError):
            return None
        with contextlib.suppress(ImportError, OSError, AttributeError):
            # room for a few batches, so that the helper rarely waits for this process
            import fcntl

            fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)  # type: ignore[attr-defined]
        return cls(proc, source.location)

    def items(
        self, stats: CorpusStats, in_process: Callable[[], Iterator[_Item]]
    ) -> Iterator[_Item]:
        started = False
        warnings: list[str] = []
        try:
            stream = self.proc.stdout
            assert stream is not None
            while True:
                try:
                    frame = pickle.load(stream)
                except Exception:  # noqa: BLE001 - the helper died or wrote garbage
                    frame = None
                if not isinstance(frame, tuple) or len(frame) < 2:
                    frame = ("crash", "it ended without finishing")
                kind = frame[0]
                if kind == "warn":
                    # held back until the helper is known to have read the archive: if
                    # it fails first, reading here gives the same warnings again
                    warnings.append(frame[1])
                    continue
                if kind not in ("docs", "done", "error"):
                    if started:
                        raise CorpusError(
                            f"the helper process reading {_show(self.path)} stopped "
                            f"({frame[1]}); run again with --jobs 1 to read in one process"
                        )
                    self.close()
                    yield from in_process()
                    return
                for message in warnings:
                    logger.warning("%s", message)
                warnings.clear()
                if kind == "docs":
                    started = True
                    yield from frame[1]
                elif kind == "done":
                    stats.files_read += frame[1]
                    stats.skipped_unsafe += frame[2]
                    return
                else:
                    raise CorpusError(frame[1])
        finally:
            self.close()

    def close(self) -> None:
        proc = self.proc
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
        with contextlib.suppress(OSError):
            proc.wait()
        if proc.stdout is not None:
            with contextlib.suppress(OSError):
                proc.stdout.close()
        _Prefetch._live.discard(self)


@atexit.register
def _stop_prefetching() -> None:
    for prefetch in list(_Prefetch._live):
        prefetch.close()


# The helper's program. `python -c` puts the current folder first on sys.path, where a
# stray topicnmf/ or json.py would be imported instead of ours: it goes, before anything
# is imported; this package's own folder is appended last, for a topicnmf that was
# imported from sys.path rather than installed; _prefetch_main then checks that it is the
# parent's file (else the parent reads the archive itself).
_PREFETCH_CODE = (
    "import sys, os\n"  # both already loaded by the interpreter's start-up
    "if sys.path and sys.path[0] in ('', os.getcwd()):\n"
    "    del sys.path[0]\n"
    "import json\n"
    "spec = json.loads(sys.argv[1])\n"
    "sys.path.append(os.path.dirname(os.path.dirname(spec['module'])))\n"
    "from topicnmf.corpus import _prefetch_main\n"
    "_prefetch_main()\n"
)


def _prefetch_main() -> None:
    """Body of the helper process of :class:`_Prefetch` (spec as JSON in ``argv[1]``)."""
    # Ctrl-C reaches the whole process group: the helper just stops and the parent reports;
    # an ignored SIGINT (a background job) stays ignored, as in the parent
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    spec = json.loads(sys.argv[1])
    out = sys.stdout.buffer

    def send(frame: tuple[Any, ...]) -> None:
        out.write(pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL))
        out.flush()

    class _Forward(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            send(("warn", record.getMessage()))

    logger.handlers[:] = [_Forward(logging.WARNING)]
    logger.propagate = False
    logger.setLevel(logging.WARNING)
    try:
        same = os.path.samefile(__file__, spec["module"])
    except OSError:
        same = False
    if not same:
        with contextlib.suppress(BrokenPipeError):
            send(("crash", "another topicnmf was imported"))
        os._exit(0)
    source = _NewsgroupsSource(
        _NG_NAME, spec["subset"], spec["categories"], frozenset(spec["remove"]), None
    )
    source.kind, source.location = "archive", Path(spec["path"])
    stats = CorpusStats()
    try:
        try:
            batch: list[_Item] = []
            for item in source._from_archive(stats, clean_early=False):
                batch.append(item)
                if len(batch) == 256:
                    send(("docs", batch))
                    batch = []
            if batch:
                send(("docs", batch))
            send(("done", stats.files_read, stats.skipped_unsafe))
        except CorpusError as exc:
            send(("error", str(exc)))
        except Exception as exc:  # noqa: BLE001 - the parent reads in-process instead
            send(("crash", f"{type(exc).__name__}: {_one_line(exc)[:200]}"))
    except BrokenPipeError:
        pass  # the parent stopped reading: nothing more to do
    with contextlib.suppress(BrokenPipeError):
        out.flush()
    os._exit(0)


class _NewsgroupsSource(_Source):
    def __init__(
        self,
        label: str,
        subset: str,
        categories: Sequence[str] | None,
        remove: frozenset[str],
        data_home: Path | None,
    ) -> None:
        self.label = label
        self.subset = subset
        self.splits = _NG_SPLITS[subset]
        self.categories = tuple(sorted(set(categories))) if categories is not None else NEWSGROUPS
        self.remove = remove
        self.data_home = data_home
        self.kind: str | None = None  # "folders", "archive" or "sklearn"
        self.location: Path | None = None
        self._bunch: Any = None
        self._prefetch: _Prefetch | None = None

    def start_prefetch(self) -> None:
        """Start reading the archive in a helper process, for the next pass."""
        if self.kind == "archive" and self._prefetch is None:
            self._prefetch = _Prefetch.start(self)

    def close(self) -> None:
        if self._prefetch is not None:
            self._prefetch.close()
            self._prefetch = None

    def _homes(self) -> list[Path]:
        homes = []
        if self.data_home is not None:
            homes.append(self.data_home)
        env = os.environ.get("TOPICNMF_DATA_HOME")
        if env:
            homes.append(Path(env).expanduser())
        homes.append(_sklearn_data_home())
        return homes

    def _locate(self) -> None:
        homes = self._homes()
        for home in homes:
            for folder in (home, home / "20news_home"):
                if all((folder / _NG_FOLDERS[s]).is_dir() for s in self.splits):
                    self.kind, self.location = "folders", folder
                    return
                if (folder / _NG_ARCHIVE).is_file():
                    self.kind, self.location = "archive", folder / _NG_ARCHIVE
                    return
        # scikit-learn's own cache, or a download through scikit-learn
        looked = ", ".join(str(h) for h in homes)
        where_to = (
            f"put {_NG_ARCHIVE} in {homes[0]} (or set TOPICNMF_DATA_HOME to its folder) "
            "and run again"
        )
        cached = next((h for h in homes if (h / _NG_PKZ).is_file()), None)
        if cached is None and os.environ.get("TOPICNMF_OFFLINE", "").lower() in _TRUE:
            raise CorpusError(
                f"20 Newsgroups data not found (looked in {looked}) and downloads are off "
                f"(TOPICNMF_OFFLINE); {where_to}"
            )
        target = cached or homes[0]
        if cached is None:
            logger.info("downloading 20 Newsgroups (14 MB) with scikit-learn into %s", target)
        try:
            self._bunch = _fetch_with_sklearn(target, self.subset, download=cached is None)
        except Exception as exc:  # noqa: BLE001 - any failure means "not available"
            raise CorpusError(
                f"20 Newsgroups data not found (looked in {looked}) and the download failed "
                f"({type(exc).__name__}: {_one_line(exc)[:200]}); {where_to}"
            ) from None
        self.kind, self.location = "sklearn", target

    def check(self) -> None:
        if self.kind is None:
            self._locate()

    def _clean(self, data: bytes | str) -> str:
        # latin-1 maps every byte to one character, as scikit-learn decodes the files
        text = data.decode("latin-1") if isinstance(data, bytes) else data
        return strip_newsgroup(text, self.remove) if self.remove else text

    def items(self, stats: CorpusStats) -> Iterator[_Item]:
        self.check()
        prefetch, self._prefetch = self._prefetch, None
        if prefetch is not None:
            yield from prefetch.items(stats, lambda: self._from_archive(stats))
        elif self.kind == "archive":
            yield from self._from_archive(stats)
        elif self.kind == "folders":
            yield from self._from_folders(stats)
        else:
            yield from self._from_bunch(stats)

    def _from_archive(self, stats: CorpusStats, clean_early: bool = True) -> Iterator[_Item]:
        """The chosen messages of the archive, in id order (so only after reading all of it).

        With ``clean_early`` each message is cleaned as soon as it is read, while the
        :class:`_Inflater` thread decompresses what follows: the fastest way in one
        process. The helper process of :class:`_Prefetch` cleans them as it sends them
        instead, so that its first batch leaves as early as possible.
        """
        path = self.location
        assert path is not None
        folders = {_NG_FOLDERS[s]: (rank, s) for rank, s in enumerate(self.splits)}
        wanted = set(self.categories)
        selected: dict[tuple[int, str, tuple[int, int, str]], bytes | str] = {}
        clean = self._clean

        def key_of(name: str) -> tuple[int, str, tuple[int, int, str]] | None:
            parts = name.removeprefix("./").split("/")
            if len(parts) != 3 or parts[0] not in folders:
                return None
            rank, _split = folders[parts[0]]
            if parts[1] not in wanted or parts[2].startswith("."):
                return None
            return (rank, parts[1], _number_key(parts[2]))

        done = False
        try:
            # the fast reader handles a plain archive such as the published one; it
            # yields nothing unsafe, and on anything unusual (or damage) what it
            # collected is dropped and tarfile reads the whole archive instead
            files_read = 0
            for name, data in _plain_members_cached(path):
                key = key_of(name)
                if key is not None:
                    selected[key] = clean(data) if clean_early else data
                    files_read += 1
        except (_NotPlain, *_STREAM_ERRORS):
            selected.clear()
        else:
            stats.files_read += files_read
            done = True
        if not done:
            try:
                self._read_with_tarfile(path, key_of, selected, stats)
            except (tarfile.TarError, *_STREAM_ERRORS) as exc:
                raise CorpusError(
                    f"cannot read {_show(path)}: {_one_line(exc)}; the archive looks "
                    "damaged, download it again"
                ) from None
        for key in sorted(selected):
            data = selected.pop(key)  # release each message once it is handed on
            rank, group, (_, _, number) = key
            text = data if isinstance(data, str) else clean(data)
            yield f"{self.splits[rank]}/{group}/{number}", text, group

    @staticmethod
    def _read_with_tarfile(
        path: Path,
        key_of: Callable[[str], tuple[int, str, tuple[int, int, str]] | None],
        selected: dict[tuple[int, str, tuple[int, int, str]], bytes | str],
        stats: CorpusStats,
    ) -> None:
        # "r|*" reads the archive as one forward stream: nothing is extracted to
        # disk and no member is followed; only the bytes of safe regular files
        # are read, into memory
        with tarfile.open(path, mode="r|*", tarinfo=_QuickTarInfo) as archive:
            for member in archive:
                if member.isdir():
                    continue
                reason = _unsafe_member_reason(member)
                if reason is not None:
                    logger.warning("skipping %s in %s: %s", _show(member.name), _show(path), reason)
                    stats.skipped_unsafe += 1
                    continue
                key = key_of(member.name)
                if key is None:
                    continue
                extracted = archive.extractfile(member)
                assert extracted is not None  # a regular file always has data
                selected[key] = extracted.read()
                stats.files_read += 1

    def _from_folders(self, stats: CorpusStats) -> Iterator[_Item]:
        assert self.location is not None
        for split in self.splits:
            base = self.location / _NG_FOLDERS[split]
            for group in self.categories:
                folder = base / group
                try:
                    names = sorted(
                        (n for n in os.listdir(folder) if not n.startswith(".")),
                        key=_number_key,
                    )
                except FileNotFoundError:
                    logger.warning("20 Newsgroups: %s is missing", _show(folder))
                    continue
                except OSError as exc:
                    raise _stream_error(_show(folder), exc) from None
                for name in names:
                    path = folder / name
                    if not path.is_file():
                        continue
                    try:
                        data = path.read_bytes()
                    except OSError as exc:
                        raise _stream_error(_show(path), exc) from None
                    stats.files_read += 1
                    yield f"{split}/{group}/{name}", self._clean(data), group

    def _from_bunch(self, stats: CorpusStats) -> Iterator[_Item]:
        bunch = self._bunch
        wanted = set(self.categories)
        rank = {_NG_FOLDERS[s]: (r, s) for r, s in enumerate(self.splits)}
        keyed = []
        for index, filename in enumerate(bunch.filenames):
            parts = Path(str(filename)).parts[-3:]
            if len(parts) == 3 and parts[0] in rank and parts[1] in wanted:
                keyed.append((rank[parts[0]][0], parts[1], _number_key(parts[2]), index))
        keyed.sort()
        for r, group, (_, _, name), index in keyed:
            stats.files_read += 1
            yield f"{self.splits[r]}/{group}/{name}", self._clean(bunch.data[index]), group


def _newsgroups_subset(source: str) -> str | None:
    """The split named by a ``20newsgroups[:split]`` source, or None for other sources."""
    lowered = source.lower()
    if lowered == _NG_NAME:
        return "train"
    if not lowered.startswith(_NG_NAME + ":"):
        return None
    subset = lowered[len(_NG_NAME) + 1 :]
    if subset not in _NG_SPLITS:
        raise CorpusError(
            f"unknown 20 Newsgroups subset {subset!r} in {source!r}; use "
            "20newsgroups:train, 20newsgroups:test or 20newsgroups:all"
        )
    return subset


# --------------------------------------------------------------------------- corpus


class Corpus:
    """A re-iterable stream of :class:`Document` from one or more sources.

    Each ``iter(corpus)`` reads the sources again (standard input is read once
    and kept), so the texts are never all held in memory. Problems found while
    reading raise :class:`~topicnmf.errors.CorpusError` during iteration.
    Create one with :func:`load_corpus`.
    """

    def __init__(self, sources: Sequence[_Source]) -> None:
        self._sources = tuple(sources)
        self._stats = CorpusStats()

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources, as given (trailing ``/`` removed); they prefix ids when several."""
        return tuple(s.label for s in self._sources)

    @property
    def stats(self) -> CorpusStats:
        """Counts of the latest pass (final once ``stats.complete`` is True)."""
        return self._stats

    def __iter__(self) -> Iterator[Document]:
        stats = CorpusStats()
        self._stats = stats
        return self._documents(stats)

    def _documents(self, stats: CorpusStats) -> Iterator[Document]:
        prefix = len(self._sources) > 1
        for source in self._sources:
            for sub_id, text, label in source.items(stats):
                if sub_id is None:
                    doc_id = source.label
                elif prefix:
                    doc_id = f"{source.label}:{sub_id}"
                else:
                    doc_id = sub_id
                stats.documents += 1
                if _is_blank(text):
                    stats.empty_documents += 1
                yield Document(doc_id, text, label)
        if stats.documents == 0:
            raise CorpusError("the corpus has no documents")
        stats.complete = True

    def iter_batches(self, size: int) -> Iterator[list[Document]]:
        """Iterate over the documents in lists of ``size`` (the last may be shorter).

        Parameters
        ----------
        size : int
            Documents per batch, at least 1.

        Yields
        ------
        list of Document
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ParameterError(f"batch size must be a positive integer, got {size!r}")
        batch: list[Document] = []
        for doc in self:
            batch.append(doc)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def texts(self) -> Iterable[str]:
        """A re-iterable view of the texts alone (each iteration reads the sources again)."""
        return _Texts(self)

    def close(self) -> None:
        """Remove the temporary copy of standard input and stop a reading helper process."""
        for source in self._sources:
            source.close()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Corpus(sources={list(self.sources)!r})"


class _Texts:
    def __init__(self, corpus: Corpus) -> None:
        self._corpus = corpus

    def __iter__(self) -> Iterator[str]:
        return (doc.text for doc in self._corpus)


def _source_label(source: str | os.PathLike[str]) -> str:
    text = os.fspath(source)
    if text not in ("-", "/"):
        stripped = text.rstrip("/" + os.sep)
        text = stripped or text
    return text


def load_corpus(
    sources: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    format: str | None = None,
    glob: str | None = None,
    text_column: str = "text",
    id_column: str | None = None,
    encoding: str = "utf-8",
    data_home: str | os.PathLike[str] | None = None,
    categories: Sequence[str] | None = None,
    remove: Iterable[str] = _REMOVABLE,
    stdin: IO[Any] | None = None,
    prefetch: bool = False,
) -> Corpus:
    """Open one or more corpus sources as a re-iterable stream of documents.

    Paths are checked now (missing path, empty directory, no file matching
    the glob, unknown format, binary or empty file, missing CSV column);
    documents are read only when the corpus is iterated. See the module
    docstring for the source kinds, id rules and order.

    Parameters
    ----------
    sources : sequence of str or path
        Directories, files, ``-`` (standard input) or ``20newsgroups[:split]``.
        A single str or path is accepted too.
    format : {"lines", "document", "csv", "tsv", "jsonl"}, optional
        Read files, directory files and standard input in this format instead
        of the one their name suggests (standard input: ``lines``).
    glob : str, optional
        Which files of a directory to read; default ``*.txt`` (``*.csv``,
        ``*.tsv``, ``*.jsonl`` with those formats). Case is ignored.
    text_column : str
        CSV/TSV column or JSONL field holding the text.
    id_column : str, optional
        CSV/TSV column or JSONL field holding unique ids; default: numbering
        from 1.
    encoding : str
        Text encoding of files and binary standard input; a UTF-8 byte order
        mark is dropped. 20 Newsgroups is always read as latin-1.
    data_home : str or path, optional
        First folder searched for 20 Newsgroups (``20news-bydate.tar.gz`` or
        the ``20news-bydate-train``/``-test`` folders), before
        ``$TOPICNMF_DATA_HOME`` and scikit-learn's data home (and their
        ``20news_home`` subfolders). If absent everywhere, scikit-learn's own
        cache is used, or scikit-learn downloads the data into the first
        folder searched (not when ``$TOPICNMF_OFFLINE`` is 1).
    categories : sequence of str, optional
        Newsgroups to keep (20 Newsgroups only); default all twenty.
    remove : iterable of str
        Parts of newsgroup posts to strip: any of ``"headers"``,
        ``"footers"``, ``"quotes"``.
    stdin : file object, optional
        Binary or text stream read for ``-``; default ``sys.stdin.buffer``.
    prefetch : bool
        Start reading a 20 Newsgroups archive now, in a helper process, so that the
        first pass over the corpus overlaps with whatever the caller does meanwhile
        (the command line loads NumPy and tokenizes). The documents are the same;
        it uses a second core. Later passes read in this process.

    Returns
    -------
    Corpus

    Raises
    ------
    CorpusError
        A source is missing, empty, unreadable or malformed, or an option is
        invalid.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    sources = list(sources)
    if not sources:
        raise CorpusError("no corpus given; name a directory, a file, '-' or 20newsgroups")

    fmt = None
    if format is not None:
        fmt = str(format).lower()
        if fmt not in FORMATS:
            raise CorpusError(f"unknown input format {format!r}; use one of: {', '.join(FORMATS)}")
    opts = _Options(fmt, glob, text_column, id_column, _resolve_decoding(encoding))

    if isinstance(remove, str):
        remove = (remove,)
    remove_set = frozenset(remove)
    unknown = sorted(remove_set - set(_REMOVABLE))
    if unknown:
        raise CorpusError(
            f"cannot remove {', '.join(map(repr, unknown))} from 20 Newsgroups posts; "
            f"choose from {', '.join(_REMOVABLE)}"
        )
    if isinstance(categories, str):
        categories = [categories]
    if categories is not None:
        bad = [c for c in categories if c not in NEWSGROUPS]
        if bad:
            raise CorpusError(
                f"unknown newsgroup(s) {', '.join(map(repr, bad))}; valid names: "
                f"{', '.join(NEWSGROUPS)}"
            )
        if not categories:
            raise CorpusError(f"no newsgroup chosen; valid names: {', '.join(NEWSGROUPS)}")

    built: list[_Source] = []
    labels: set[str] = set()
    for raw_source in sources:
        label = _source_label(raw_source)
        if label in labels:
            raise CorpusError(f"the source {_show(label)} is given twice; give each source once")
        labels.add(label)
        if label == "-":
            stream = stdin
            if stream is None:
                if sys.stdin is None:
                    raise CorpusError("'-' asks for standard input, but there is none")
                stream = getattr(sys.stdin, "buffer", sys.stdin)
            built.append(
                _SpooledSource(
                    "-", "standard input", lambda s=stream: s, opts.format or "lines", opts, False
                )
            )
            continue
        subset = _newsgroups_subset(label) if isinstance(raw_source, str) else None
        if subset is not None:
            ng_home = Path(data_home).expanduser() if data_home is not None else None
            built.append(_NewsgroupsSource(label, subset, categories, remove_set, ng_home))
            continue
        path = Path(raw_source)
        try:
            if path.is_dir():
                built.append(_DirSource(path, label, opts))
            elif path.is_file():
                built.append(_FileSource(path, label, opts))
            elif path.exists():
                # a pipe such as <(zcat x) or /dev/stdin: it can be read only once
                fmt = opts.format or _detect_format(path)
                opener = lambda p=path: open(p, "rb")  # noqa: E731
                built.append(_SpooledSource(label, _show(path), opener, fmt, opts, True))
            else:
                raise CorpusError(
                    f"no such file or directory: {_show(raw_source)}; give a directory, "
                    "a .txt/.csv/.tsv/.jsonl file, '-' or 20newsgroups"
                )
        except OSError as exc:
            raise _stream_error(_show(raw_source), exc) from None

    for label in labels:
        # "a" + ":" + "b:1" == "a:b" + ":" + "1": prefixed ids can coincide only
        # when a label is another label followed by ':'
        for i, char in enumerate(label):
            if char == ":" and label[:i] in labels:
                raise CorpusError(
                    f"the sources {_show(label[:i])} and {_show(label)} could give the same "
                    "ids; give one of them in another form (e.g. ./path)"
                )
    if categories is not None and not any(isinstance(s, _NewsgroupsSource) for s in built):
        raise CorpusError("--categories applies only to 20newsgroups sources; leave it out")
    for source in built:
        source.check()
    if prefetch:
        for source in built:
            if isinstance(source, _NewsgroupsSource):
                source.start_prefetch()
    return Corpus(built)
