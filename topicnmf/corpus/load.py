"""``load_corpus``: check the options, build the sources; ``Corpus``: iterate over them."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from topicnmf.corpus.base import (
    ENCODING_ERRORS,
    CorpusStats,
    Document,
    Options,
    Source,
    is_blank,
    show,
)
from topicnmf.corpus.decoding import resolve_decoding, stream_error
from topicnmf.corpus.readers import FORMATS, detect_format
from topicnmf.corpus.sources import DirSource, FileSource, SpooledSource
from topicnmf.datasets import newsgroups
from topicnmf.datasets.clean import REMOVABLE
from topicnmf.errors import CorpusError, ParameterError


class Corpus:
    """A re-iterable stream of :class:`Document` from one or more sources.

    Each ``iter(corpus)`` reads the sources again (standard input is read once
    and kept), so the texts are never all held in memory. Problems found while
    reading raise :class:`~topicnmf.errors.CorpusError` during iteration.
    Create one with :func:`load_corpus`.
    """

    def __init__(self, sources: Sequence[Source]) -> None:
        self._sources = tuple(sources)
        self._stats = CorpusStats()

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources, as given (trailing ``/`` removed); they prefix ids when several."""
        return tuple(s.label for s in self._sources)

    def describe_sources(self) -> list[dict[str, object]]:
        """Each source as given and the settings it is read with, as JSON-ready records.

        Every record has ``source`` (as given, trailing ``/`` removed) and ``kind``
        (``directory``, ``file``, ``standard input``, ``pipe`` or ``20newsgroups``), then
        what reading it depends on: ``format`` (as detected or given), ``glob`` and
        ``exclude`` (directories), ``text_column``, ``id_column`` (CSV, TSV, JSON),
        ``csv_lenient`` (CSV, TSV), ``encoding`` and ``encoding_errors``; for 20 Newsgroups
        ``subset``, ``categories`` (None: all) and ``remove``. A fit stores them in the
        model.
        """
        return [source.describe() for source in self._sources]

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
            for sub_id, text, label, meta in source.items(stats):
                if sub_id is None:
                    doc_id = source.label
                elif prefix:
                    doc_id = f"{source.label}:{sub_id}"
                else:
                    doc_id = sub_id
                stats.documents += 1
                if is_blank(text):
                    stats.empty_documents += 1
                if meta is None:
                    yield Document(doc_id, text, label)
                else:
                    yield Document(doc_id, text, label, meta[0], meta[1])
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
            raise ParameterError(
                f"batch size must be a positive integer, got {size!r}",
                param="batch_size",
                value=size,
            )
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

    def reads_path(self, path: str | os.PathLike[str]) -> bool:
        """Whether a file at ``path`` would be read by this corpus.

        True when ``path`` is a file source (the same file: device and inode, not the
        name), standard input redirected from that file, or a path inside a directory
        source that its walk would read (glob matched, not hidden; the file need not
        exist yet). A caller uses it to refuse writing an output over an input.
        """
        target = os.fspath(path)
        return any(source.reads_path(target) for source in self._sources)

    def close(self) -> None:
        """Remove the temporary copy of standard input, if any."""
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


def _patterns(value: str | Sequence[str] | None, param: str) -> tuple[str, ...]:
    """File patterns as a tuple: one given alone, or several; each non-empty text."""
    if value is None:
        return ()
    patterns = (value,) if isinstance(value, str) else tuple(value)
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern.strip("/"):
            raise ParameterError(
                f"{pattern!r} is not a file pattern; give one such as '*.txt'",
                param=param,
                value=pattern,
            )
    return patterns


def _check_options(
    format: str | None,
    encoding: str,
    encoding_errors: str,
    glob: str | Sequence[str] | None,
    exclude: str | Sequence[str],
    text_column: str,
    id_column: str | None,
    csv_lenient: bool,
) -> Options:
    fmt = None
    if format is not None:
        fmt = str(format).lower()
        if fmt not in FORMATS:
            raise ParameterError(
                f"unknown input format {format!r}; use one of: {', '.join(FORMATS)}",
                param="format",
                value=format,
                choices=FORMATS,
            )
    if encoding_errors not in ENCODING_ERRORS:
        raise ParameterError(
            f"unknown way to handle text that does not decode {encoding_errors!r}; use one "
            f"of: {', '.join(ENCODING_ERRORS)}",
            param="encoding_errors",
            value=encoding_errors,
            choices=ENCODING_ERRORS,
        )
    errors = "replace" if encoding_errors == "replace" else "strict"
    decoding = resolve_decoding(encoding, errors)
    return Options(
        format=fmt,
        globs=_patterns(glob, "glob"),
        exclude=_patterns(exclude, "exclude"),
        text_column=text_column,
        id_column=id_column,
        decoding=decoding,
        encoding_errors=encoding_errors,
        csv_lenient=bool(csv_lenient),
    )


def _stdin_source(stdin: IO[Any] | None, opts: Options) -> SpooledSource:
    stream = stdin
    if stream is None:
        if sys.stdin is None:
            raise CorpusError("'-' asks for standard input, but there is none")
        stream = getattr(sys.stdin, "buffer", sys.stdin)
    return SpooledSource(
        "-", "standard input", lambda: stream, opts.format or "lines", opts, close=False
    )


def _path_source(raw_source: str | os.PathLike[str], label: str, opts: Options) -> Source:
    path = Path(raw_source)
    try:
        if path.is_dir():
            return DirSource(path, label, opts)
        if path.is_file():
            return FileSource(path, label, opts)
        if path.exists():
            # a pipe such as <(zcat x) or /dev/stdin: it can be read only once
            fmt = opts.format or detect_format(path)
            return SpooledSource(
                label, show(path), lambda: open(path, "rb"), fmt, opts, close=True, path=path
            )
    except OSError as exc:
        raise stream_error(show(raw_source), exc) from None
    raise CorpusError(
        f"no such file or directory: {show(raw_source)}; give a directory, "
        "a .txt/.csv/.tsv/.jsonl/.json file, '-' or 20newsgroups",
        path=raw_source,
    )


def _metadata_columns(columns: Sequence[str]) -> tuple[str, ...]:
    names = (columns,) if isinstance(columns, str) else tuple(columns)
    for name in names:
        if not isinstance(name, str) or not name:
            raise ParameterError(
                f"{name!r} is not a column name", param="metadata_columns", value=name
            )
    return tuple(dict.fromkeys(names))  # once each, in order


def _check_labels(labels: list[str]) -> None:
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise CorpusError(f"the source {show(label)} is given twice; give each source once")
        seen.add(label)
    for label in labels:
        # "a" + ":" + "b:1" == "a:b" + ":" + "1": prefixed ids can coincide only
        # when a label is another label followed by ':'
        for i, char in enumerate(label):
            if char == ":" and label[:i] in seen:
                raise CorpusError(
                    f"the sources {show(label[:i])} and {show(label)} could give the same "
                    "ids; give one of them in another form (e.g. ./path)"
                )


def load_corpus(
    sources: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    format: str | None = None,
    glob: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] = (),
    text_column: str = "text",
    id_column: str | None = None,
    encoding: str = "utf-8",
    encoding_errors: str = "skip",
    csv_lenient: bool = False,
    data_home: str | os.PathLike[str] | None = None,
    categories: Sequence[str] | None = None,
    remove: Iterable[str] = REMOVABLE,
    download: bool = False,
    stdin: IO[Any] | None = None,
    metadata_columns: Sequence[str] = (),
) -> Corpus:
    """Open one or more corpus sources as a re-iterable stream of documents.

    Settings are checked first (:class:`~topicnmf.errors.ParameterError`, with
    ``param``), then the sources (missing path, empty directory, no file matching
    the globs once exclusions are applied, binary or empty file, missing CSV column,
    20 Newsgroups not found:
    :class:`~topicnmf.errors.CorpusError`); documents are read only when the
    corpus is iterated. See :mod:`topicnmf.corpus` for the source kinds, ids,
    order and bounds.

    Parameters
    ----------
    sources : sequence of str or path
        Directories, files, ``-`` (standard input) or ``20newsgroups[:split]``.
        A single str or path is accepted too.
    format : {"lines", "document", "csv", "tsv", "jsonl", "json"}, optional
        Read files, directory files and standard input in this format instead
        of the one their name suggests (standard input: ``lines``).
    glob : str or sequence of str, optional
        Which files of a directory to read (a file is read when any pattern
        matches); default ``*.txt`` (``*.csv``, ``*.tsv``, ``*.jsonl``,
        ``*.json`` with those formats). Case is ignored; a pattern without
        ``/`` is matched against the file name, one with ``/`` against the path
        relative to the directory.
    exclude : str or sequence of str
        Files and folders of a directory to skip, matched like ``glob`` (a
        pattern that matches a folder skips all of it; one ending in ``/``
        matches only folders). Counted in ``stats.skipped_excluded``.
    text_column : str
        CSV/TSV column or JSON field holding the text.
    id_column : str, optional
        CSV/TSV column or JSON field holding unique ids; default: numbering
        from 1 (the row, line or array element).
    encoding : str
        Text encoding of files and binary standard input; a UTF-8 byte order
        mark is dropped. 20 Newsgroups is always read as latin-1.
    encoding_errors : {"skip", "strict", "replace"}
        Text that does not decode: ``"skip"`` skips a file of a directory with a
        warning (counted in ``stats.skipped_undecodable``; a file or standard
        input named as a source is an error), ``"strict"`` is always an error,
        ``"replace"`` reads it with U+FFFD in place of the bad bytes.
    csv_lenient : bool
        Read CSV/TSV with the csv module's own tolerance instead of the strict
        rules of :mod:`topicnmf.corpus.readers` (extra fields ignored, a stray
        quote may merge rows).
    data_home : str or path, optional
        First folder searched for 20 Newsgroups; it must exist (see
        :mod:`topicnmf.datasets.newsgroups` for the search).
    categories : sequence of str, optional
        Newsgroups to keep (20 Newsgroups only); default all twenty.
    remove : iterable of str
        Parts of newsgroup posts to strip: any of ``"headers"``,
        ``"footers"``, ``"quotes"``.
    download : bool
        Let scikit-learn download 20 Newsgroups when it is found nowhere
        (20 Newsgroups only; ``$TOPICNMF_OFFLINE`` forbids it).
    stdin : file object, optional
        Binary or text stream read for ``-``; default ``sys.stdin.buffer``.
    metadata_columns : sequence of str
        CSV/TSV columns or JSON fields to read beside the text into each document's
        ``metadata`` (as text; an empty CSV field, an absent JSON field or ``null`` is
        None), with ``where`` it was read. A CSV/TSV file without such a column is an
        error; so is a lines or document corpus. 20 Newsgroups has ``newsgroup`` (also
        called ``label``).

    Returns
    -------
    Corpus

    Raises
    ------
    ParameterError
        A setting is invalid (``param`` names it).
    CorpusError
        A source is missing, empty, unreadable or malformed.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    sources = list(sources)
    opts = _check_options(
        format, encoding, encoding_errors, glob, exclude, text_column, id_column, csv_lenient
    )
    opts = dataclasses.replace(opts, metadata_columns=_metadata_columns(metadata_columns))
    chosen = newsgroups.check_categories(categories)
    remove_set = newsgroups.check_remove(remove)
    if not sources:
        raise CorpusError("no corpus given; name a directory, a file, '-' or 20newsgroups")
    labels = [_source_label(s) for s in sources]
    subsets = [newsgroups.newsgroups_subset(lb) if isinstance(s, str) else None
               for s, lb in zip(sources, labels, strict=True)]  # fmt: skip
    for param, value in (("categories", chosen), ("download", download or None)):
        if value is not None and not any(subsets):
            raise ParameterError(
                f"{param} applies only to 20newsgroups sources", param=param, value=value
            )
    _check_labels(labels)
    built: list[Source] = []
    for raw_source, label, subset in zip(sources, labels, subsets, strict=True):
        if label == "-":
            built.append(_stdin_source(stdin, opts))
        elif subset is not None:
            built.append(
                newsgroups.NewsgroupsSource(
                    label,
                    subset,
                    chosen,
                    remove_set,
                    data_home,
                    bool(download),
                    opts.metadata_columns,
                )
            )
        else:
            built.append(_path_source(raw_source, label, opts))
    for source in built:
        source.check()
    return Corpus(built)
