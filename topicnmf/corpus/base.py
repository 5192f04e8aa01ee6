"""The types every corpus reader and source shares, and the size bounds they enforce."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from topicnmf.errors import CorpusError

MAX_DOCUMENT_BYTES = 256 << 20
"""The largest single document (a line, a CSV field, a JSON line, a whole file) read.

Reading holds a document about twice (bytes, then text), so this bounds the memory a
reader needs whatever a file, compressed or not, declares or inflates to."""

ENCODING_ERRORS: tuple[str, ...] = ("skip", "strict", "replace")
"""Values of ``load_corpus(encoding_errors=...)``."""


@dataclass(frozen=True, slots=True)
class Document:
    """One document of a corpus.

    Parameters
    ----------
    id : str
        Unique within its corpus (see :mod:`topicnmf.corpus` for the rules).
    text : str
        The text, as read (not stripped).
    label : str or None
        A known class, e.g. the newsgroup for 20 Newsgroups; None otherwise.
    metadata : mapping of str to (str or None), optional
        The values of the metadata columns asked for (``load_corpus(metadata_columns=...)``),
        as text; None for a value that is missing (an absent JSON field, ``null``). None
        when no metadata column was asked for.
    where : str or None
        Where the document was read, for messages (``data.csv line 7``, ``a.json
        element 3``); set only with metadata columns.
    """

    id: str
    text: str
    label: str | None = None
    metadata: Mapping[str, str | None] | None = None
    where: str | None = None


@dataclass
class CorpusStats:
    """Counts from one pass over a corpus (final once ``complete`` is True).

    Attributes
    ----------
    documents : int
        Documents yielded.
    empty_documents : int
        Of those, documents whose text is empty or only whitespace (they are kept so
        that ids stay aligned; blank lines of a lines file are not documents).
    files_read : int
        Files opened (files of a directory, single files, standard input, messages of
        20 Newsgroups).
    skipped_binary : int
        Files of a directory skipped because they contain NUL bytes.
    skipped_undecodable : int
        Files of a directory skipped because they are not valid text in the encoding.
    skipped_hidden : int
        Hidden files and folders skipped in directories (a folder counts once).
    skipped_links : int
        Linked folders skipped because the walk had already read them (a loop, or a
        second link to one folder).
    skipped_unsafe : int
        Archive members skipped: links, devices, absolute or ``..`` paths, members
        larger than the archive's bound.
    skipped_excluded : int
        Files of a directory that the glob selected but an exclusion pattern skipped, and
        folders an exclusion pattern skipped (a folder counts once).
    complete : bool
        True when the pass reached the end of every source.
    """

    documents: int = 0
    empty_documents: int = 0
    files_read: int = 0
    skipped_binary: int = 0
    skipped_undecodable: int = 0
    skipped_hidden: int = 0
    skipped_links: int = 0
    skipped_unsafe: int = 0
    skipped_excluded: int = 0
    complete: bool = False


@dataclass(frozen=True)
class Decoding:
    """How bytes become text."""

    name: str  # as the caller wrote it, for messages
    codec: str  # Python's canonical name
    utf8: bool  # UTF-8: a leading byte order mark is dropped
    ascii_lines: bool  # b"\n" ends a line and b"\0" means binary
    errors: str  # the codec error handler: "strict" or "replace"


@dataclass(frozen=True)
class Options:
    """The reading options of one corpus, as checked by ``load_corpus``."""

    format: str | None
    globs: tuple[str, ...]  # () for the format's default
    exclude: tuple[str, ...]
    text_column: str
    id_column: str | None
    decoding: Decoding
    encoding_errors: str  # "skip", "strict" or "replace", as given
    csv_lenient: bool
    metadata_columns: tuple[str, ...] = ()

    @property
    def skip_undecodable(self) -> bool:
        """Whether files of a directory that do not decode are skipped."""
        return self.encoding_errors == "skip"

    def reading(self, fmt: str) -> dict[str, object]:
        """The settings that reading a source in ``fmt`` depends on, for a model's record."""
        record: dict[str, object] = {"format": fmt}
        if fmt in ("csv", "tsv", "jsonl", "json"):
            record["text_column"] = self.text_column
            record["id_column"] = self.id_column
        if fmt in ("csv", "tsv"):
            record["csv_lenient"] = self.csv_lenient
        record["encoding"] = self.decoding.name
        record["encoding_errors"] = self.encoding_errors
        return record


Meta = tuple[dict[str, str | None], str]
"""The metadata values of one document and where it was read (``data.csv line 7``)."""

Item = tuple[str | None, str, str | None, Meta | None]
"""(id within the source or None for the source itself, text, label, metadata)."""


class Source(Protocol):
    """One source of a corpus; ``label`` prefixes ids when there are several."""

    label: str

    def check(self) -> None:
        """Fail early (in ``load_corpus``) on what can be seen cheaply."""

    def close(self) -> None:
        """Release what the source holds between passes (a spooled copy of stdin)."""

    def items(self, stats: CorpusStats) -> Iterator[Item]:
        """The documents of one pass."""
        ...

    def reads_path(self, path: str) -> bool:
        """True when a file at ``path`` would be read by this source."""
        ...

    def describe(self) -> dict[str, object]:
        """The source as given and how it is read (JSON-ready: text, bool, None, lists)."""
        ...


def show(value: object) -> str:
    """A path or name for a one-line message (control characters escaped)."""
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    return text if text.isprintable() else repr(text)


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def list_names(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(show(n) if n else "''" for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return shown or "(none)"


def is_blank(text: str) -> bool:
    return not text or text.isspace()


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one existing file (device and inode, not names)."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def check_unique(seen: set[str] | None, doc_id: str, where: str, column: str) -> None:
    """Refuse an empty id or one already in ``seen`` (None: ids are numbers, not checked)."""
    if seen is None:
        return
    if not doc_id:
        raise CorpusError(
            f"{where} has an empty id in column {column!r}; every row needs an id",
            param="id_column",
            path=where,
        )
    if doc_id in seen:
        raise CorpusError(
            f"{where} has the id {show(doc_id)!r} twice in column {column!r}; ids must be unique",
            param="id_column",
            path=where,
            value=doc_id,
        )
    seen.add(doc_id)
