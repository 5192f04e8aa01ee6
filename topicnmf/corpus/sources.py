"""Sources of documents: a file, a directory, standard input (or a pipe given by path)."""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import io
import logging
import os
import stat
import tempfile
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

from topicnmf._text import count as counted
from topicnmf.corpus.base import CorpusStats, Item, Meta, Options, same_file, show
from topicnmf.corpus.decoding import (
    GZIP_MAGIC,
    SNIFF_BYTES,
    STREAM_ERRORS,
    DecodeError,
    first_decode_error,
    looks_binary,
    open_maybe_gzip,
    read_document,
    resolve_decoding,
    sniff,
    stream_error,
)
from topicnmf.corpus.readers import check_columns, detect_format, parse
from topicnmf.errors import CorpusError

logger = logging.getLogger("topicnmf")

DIRECTORY_GLOBS = {"csv": "*.csv", "tsv": "*.tsv", "jsonl": "*.jsonl", "json": "*.json"}
STDIN_MEMORY_LIMIT = 8 << 20  # standard input beyond this is kept in a temporary file
_MAX_PENDING_WARNINGS = 10


def _check_text_head(head: bytes, where: str, opts: Options) -> None:
    if not head:
        raise CorpusError(f"{where} is empty; it has no documents", path=where)
    if looks_binary(head, opts.decoding):
        raise CorpusError(
            f"{where} looks like a binary file (it contains NUL bytes), not text; give "
            "text, CSV or JSON Lines files, or the encoding of wide text such as UTF-16",
            param="encoding",
            path=where,
        )


def _stream_items(
    stream: BinaryIO, fmt: str, opts: Options, where: str, stats: CorpusStats
) -> Iterator[Item]:
    """The documents of one opened file or of stdin; an error if it holds none."""
    stats.files_read += 1
    _check_text_head(sniff(stream), where, opts)
    count = 0
    for sub_id, text, meta in parse(stream, fmt, opts, where):
        count += 1
        yield (None if fmt == "document" else sub_id), text, None, meta
    if count == 0:
        what = "rows" if fmt in ("csv", "tsv") else "documents"
        holds = "an empty array" if fmt == "json" else "only blank lines or a header"
        raise CorpusError(f"{where} has no {what}; it holds {holds}", path=where)


class FileSource:
    """A file named as a source: one document per line, row or JSON line (or all of it)."""

    def __init__(self, path: Path, label: str, opts: Options) -> None:
        self.path = path
        self.label = label
        self.opts = opts
        self.where = show(path)
        self.format = opts.format or detect_format(path)

    @contextlib.contextmanager
    def _open(self) -> Iterator[BinaryIO]:
        try:
            with open(self.path, "rb") as raw, open_maybe_gzip(raw) as stream:
                yield stream
        except STREAM_ERRORS as exc:
            raise stream_error(self.where, exc) from None

    def check(self) -> None:
        with self._open() as stream:
            _check_text_head(sniff(stream), self.where, self.opts)
            if self.format in ("csv", "tsv"):
                check_columns(stream, self.format, self.opts, self.where)

    def close(self) -> None:
        pass

    def items(self, stats: CorpusStats) -> Iterator[Item]:
        with self._open() as stream:
            yield from _stream_items(stream, self.format, self.opts, self.where, stats)

    def reads_path(self, path: str) -> bool:
        return same_file(self.path, path)

    def describe(self) -> dict[str, object]:
        return {"source": self.label, "kind": "file", **self.opts.reading(self.format)}


class DirSource:
    """The files of a directory that match a glob, found by a sorted, depth-first walk.

    Hidden entries are skipped, and so are files and folders that an exclusion pattern
    matches (a pattern ending in ``/`` matches only folders). Patterns ignore case; one
    without ``/`` is matched against the name, one with ``/`` against the path relative
    to the directory. Linked folders are followed, but a folder reached a second time (a
    loop, or a second link to one folder) is skipped with a warning, so the walk ends and
    reads each folder once. The walk is a loop, not a recursion, so any depth works.
    """

    def __init__(self, path: Path, label: str, opts: Options) -> None:
        self.path = path
        self.label = label
        self.opts = opts
        self.where = show(path)
        self.format = opts.format or "document"
        self.globs = opts.globs or (DIRECTORY_GLOBS.get(self.format, "*.txt"),)
        self._globs = [(g.lower(), "/" in g) for g in self.globs]
        self._exclude = [_exclusion(pattern) for pattern in opts.exclude]
        self._folders: dict[tuple[int, int], str] | None = None

    def _entries(self, folder: str) -> list[tuple[str, bool, bool]]:
        try:
            with os.scandir(folder) as it:
                # small tuples, not DirEntry objects: a folder may hold 100,000 files
                return sorted((e.name, *_kind(e)) for e in it)
        except OSError as exc:
            raise stream_error(show(folder), exc) from None

    def walk(
        self,
        stats: CorpusStats | None,
        folders: dict[tuple[int, int], str] | None = None,
        *,
        warn: bool = True,
    ) -> Iterator[tuple[str, str]]:
        """(path relative to the directory, path) of each regular file, in sorted order.

        ``folders`` receives each folder read: (device, inode) -> its relative path + "/".
        Excluded folders are not entered; excluded files are given (``selects`` tells).
        """
        root = os.fspath(self.path)
        seen = {} if folders is None else folders
        seen[_identity(root)] = ""
        stack = [(root, "", iter(self._entries(root)))]
        while stack:
            folder, rel, entries = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
                continue
            name, is_dir, is_file = entry
            if name.startswith("."):
                if stats is not None:
                    stats.skipped_hidden += 1
                continue
            path = os.path.join(folder, name)
            if is_dir:
                if self._excluded(f"{rel}{name}", folder=True):
                    if stats is not None:
                        stats.skipped_excluded += 1
                    continue
                key = _identity(path)
                if key in seen:
                    if stats is not None and warn:
                        stats.skipped_links += 1
                        first = os.path.join(self.where, seen[key]).rstrip("/")
                        logger.warning(
                            "skipping %s: it is a folder already read (as %s)",
                            show(path),
                            show(first),
                        )
                    continue
                seen[key] = f"{rel}{name}/"
                stack.append((path, seen[key], iter(self._entries(path))))
            elif is_file:
                yield f"{rel}{name}", path

    def matches(self, rel: str) -> bool:
        """Whether a glob selects the file at ``rel`` (exclusions aside)."""
        name = rel.rpartition("/")[2].lower()
        lowered = rel.lower()
        return any(
            fnmatch.fnmatchcase(lowered if by_path else name, g) for g, by_path in self._globs
        )

    def _excluded(self, rel: str, *, folder: bool) -> bool:
        name = rel.rpartition("/")[2].lower()
        lowered = rel.lower()
        return any(
            fnmatch.fnmatchcase(lowered if by_path else name, pattern)
            for pattern, by_path, folders_only in self._exclude
            if folder or not folders_only
        )

    def selects(self, rel: str) -> bool:
        """Whether the walk reads the file at ``rel``: a glob matches, no exclusion does."""
        return self.matches(rel) and not self._excluded(rel, folder=False)

    def globs_text(self) -> str:
        return " or ".join(repr(g) for g in self.globs)

    def check(self) -> None:
        stats = CorpusStats()
        others = 0
        example = None
        for rel, _path in self.walk(stats, warn=False):
            if self.matches(rel):
                if not self._excluded(rel, folder=False):
                    return
                stats.skipped_excluded += 1
            else:
                others += 1
                example = example or rel
        excluded = stats.skipped_excluded
        if others == 0 and excluded == 0:
            raise CorpusError(
                f"{self.where} is an empty directory; it has no files to read", path=self.where
            )
        parts = []
        if others:
            parts.append(f"{counted(others, 'other file')}, e.g. {show(example)}")
        if excluded:
            patterns = ", ".join(repr(p) for p in self.opts.exclude)
            parts.append(
                f"{counted(excluded, 'file or folder', 'files or folders')} excluded by {patterns}"
            )
        raise CorpusError(
            f"no file in {self.where} matches {self.globs_text()} ({'; '.join(parts)})",
            param="exclude" if excluded else "glob",
            path=self.where,
            value=list(self.opts.exclude) if excluded else list(self.globs),
        )

    def close(self) -> None:
        pass

    def reads_path(self, path: str) -> bool:
        """Whether the walk would read a file at ``path`` (which need not exist yet)."""
        parent, name = os.path.split(os.path.abspath(path))
        if name.startswith("."):
            return False
        try:
            target = _identity(parent)
        except OSError:
            return False
        if self._folders is None:  # one walk answers for every output of a command
            folders: dict[tuple[int, int], str] = {}
            for _ in self.walk(None, folders):
                pass
            self._folders = folders
        rel = self._folders.get(target)
        return rel is not None and self.selects(rel + name)

    def items(self, stats: CorpusStats) -> Iterator[Item]:
        skipped = _Skipped(self.where)
        count = matched = 0
        for rel, path in self.walk(stats):
            if not self.matches(rel):
                continue
            if self._excluded(rel, folder=False):
                stats.skipped_excluded += 1
                continue
            matched += 1
            where = show(path)
            try:
                with open(path, "rb") as raw, open_maybe_gzip(raw) as stream:
                    stats.files_read += 1
                    for sub_id, text, meta in self._file_items(stream, where, stats, skipped):
                        skipped.release()
                        count += 1
                        doc_id = rel if self.format == "document" else f"{rel}:{sub_id}"
                        yield doc_id, text, None, meta
            except STREAM_ERRORS as exc:
                raise stream_error(where, exc) from None
        if count == 0:
            if skipped.total:
                detail = skipped.summary()
            else:
                detail = (
                    f"{counted(matched, 'file')} matching {self.globs_text()} but holding no "
                    "documents"
                )
            raise CorpusError(f"{self.where} gave no documents ({detail})", path=self.where)

    def describe(self) -> dict[str, object]:
        reading = self.opts.reading(self.format)
        return {
            "source": self.label,
            "kind": "directory",
            "format": reading.pop("format"),
            "glob": list(self.globs),
            "exclude": list(self.opts.exclude),
            **reading,
        }

    def _file_items(
        self, stream: BinaryIO, where: str, stats: CorpusStats, skipped: _Skipped
    ) -> Iterator[tuple[str, str, Meta | None]]:
        dec = self.opts.decoding
        if looks_binary(sniff(stream), dec):
            stats.skipped_binary += 1
            skipped.add("binary", where, "it looks binary (contains NUL bytes)")
            return
        if self.opts.skip_undecodable:
            if self.format == "document":
                try:
                    text = read_document(stream, dec, where)
                except DecodeError as exc:
                    stats.skipped_undecodable += 1
                    skipped.add("undecodable", where, exc.detail)
                    return
                yield "", text, None
                return
            # a file that fails part-way would leave some of its documents read
            error = first_decode_error(stream, dec, where)
            if error is not None:
                stats.skipped_undecodable += 1
                skipped.add("undecodable", where, error.detail)
                return
        yield from parse(stream, self.format, self.opts, where)


def _exclusion(pattern: str) -> tuple[str, bool, bool]:
    """(pattern to match, against the relative path?, folders only?) of an exclusion."""
    folders_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    return pattern.lower(), "/" in pattern, folders_only


def _kind(entry: os.DirEntry[str]) -> tuple[bool, bool]:
    """(is a folder, is a regular file), links followed; neither for a broken link or loop."""
    try:
        return entry.is_dir(), entry.is_file()
    except OSError:
        return False, False


def _identity(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


class _Skipped:
    """Files of a directory skipped as binary or undecodable, and their warnings.

    Warnings met before the first document are held back (the first few of them) and
    given once a document shows up: when none does, the error alone says it all.
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self.pending: list[str] = []
        self.more: dict[str, int] = {}
        self.first: str | None = None
        self.total = 0
        self.by_kind: dict[str, int] = {}
        self.released = False

    def add(self, kind: str, where: str, reason: str) -> None:
        self.total += 1
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
        self.first = self.first or where
        message = f"skipping {where}: {reason}"
        if self.released:
            logger.warning("%s", message)
        elif len(self.pending) < _MAX_PENDING_WARNINGS:
            self.pending.append(message)
        else:
            self.more[kind] = self.more.get(kind, 0) + 1

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        for message in self.pending:
            logger.warning("%s", message)
        for kind, n in self.more.items():
            logger.warning("skipped %s in %s", counted(n, f"more {kind} file"), self.where)
        self.pending, self.more = [], {}

    def summary(self) -> str:
        parts = [counted(n, f"{kind} file") for kind, n in self.by_kind.items()]
        return f"{' and '.join(parts)} skipped, e.g. {self.first}"


class SpooledSource:
    """Standard input, or a pipe given by path: read once, then kept for re-reading.

    It is read with ``read1`` where the stream has it: one read of what is there, so
    that on a terminal a single end-of-file (Ctrl-D at the start of a line) ends it.
    """

    def __init__(
        self,
        label: str,
        where: str,
        opener: Callable[[], IO[Any]],
        fmt: str,
        opts: Options,
        *,
        close: bool,
        path: Path | None = None,
    ) -> None:
        self.label = label
        self.where = where
        self.opener = opener  # returns the stream to read, once
        self.close_stream = close
        self.path = path
        self.format = fmt
        self.opts = opts
        self._stream: IO[Any] | None = None
        self._data: bytes | None = None
        self._file: str | None = None
        self._finalizer: weakref.finalize | None = None

    def check(self) -> None:
        pass

    def _spool(self) -> None:
        """Read the stream once; keep it in memory or, when large, in a temp file."""
        chunks: list[bytes] = []
        size = 0
        out: BinaryIO | None = None
        try:
            stream = self._stream = self.opener()
            read = getattr(stream, "read1", None) or stream.read
            try:
                while chunk := read(1 << 20):
                    if isinstance(chunk, str):
                        # a text stream is already decoded: pass its text on as UTF-8
                        # (surrogateescape restores bytes a POSIX-locale stdin could not decode)
                        chunk = chunk.encode("utf-8", errors="surrogateescape")
                        decoding = resolve_decoding("utf-8", self.opts.decoding.errors)
                        self.opts = dataclasses.replace(self.opts, decoding=decoding)
                    if size < SNIFF_BYTES <= size + len(chunk):
                        self._check_head(b"".join(chunks) + chunk)
                    if out is None and size + len(chunk) > STDIN_MEMORY_LIMIT:
                        fd, self._file = tempfile.mkstemp(prefix="topicnmf-stdin-")
                        self._finalizer = weakref.finalize(self, _unlink, self._file)
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
            raise stream_error(self.where, exc) from None
        finally:
            if out is not None:
                out.close()
        if self._file is None:
            self._data = b"".join(chunks)

    def _check_head(self, head: bytes) -> None:
        # binary found early, not after spooling all of it: /dev/zero never ends
        if not head.startswith(GZIP_MAGIC):
            _check_text_head(head[:SNIFF_BYTES], self.where, self.opts)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()

    def items(self, stats: CorpusStats) -> Iterator[Item]:
        if self._data is None and self._file is None:
            self._spool()
        try:
            raw: BinaryIO = (
                io.BytesIO(self._data) if self._data is not None else open(self._file, "rb")  # type: ignore[arg-type]
            )
            with raw, open_maybe_gzip(raw) as stream:
                yield from _stream_items(stream, self.format, self.opts, self.where, stats)
        except STREAM_ERRORS as exc:
            raise stream_error(self.where, exc) from None

    def describe(self) -> dict[str, object]:
        kind = "standard input" if self.path is None else "pipe"
        return {"source": self.label, "kind": kind, **self.opts.reading(self.format)}

    def reads_path(self, path: str) -> bool:
        if self.path is not None:
            return same_file(self.path, path)
        # standard input redirected from a file: `topicnmf fit - < docs.txt`
        stream = self._stream or self.opener()
        try:
            st = os.fstat(stream.fileno())
            target = os.stat(path)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return False
        return stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == (
            target.st_dev,
            target.st_ino,
        )


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
