"""Parsers: a binary stream in, (id within the stream, text) pairs out.

Formats: ``lines`` (one document per line, blank lines skipped), ``document`` (the
whole stream), ``csv`` and ``tsv`` (a header row, then one document per row) and
``jsonl`` (one JSON object per line) and ``json`` (an array of strings or objects), read
in :mod:`topicnmf.corpus.jsonformats`.

CSV and TSV are read strictly unless ``csv_lenient``: every row has as many fields as
the header, a quoted field is closed before the file ends and nothing follows its
closing quote but a delimiter or the line end, and a quoted field may span lines but
not lines that each read as a whole numbered row on their own (the first field, or the
id column, a token with a digit such as ``17`` or ``n017``): that is what a stray
quote does when it swallows the rows after it. Leniently, the csv module's own
rules apply and extra fields are ignored; a row too short to hold the text (or id)
column is an error either way.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from topicnmf.corpus.base import Meta, Options, check_unique, is_blank, list_names
from topicnmf.corpus.decoding import iter_lines, read_document
from topicnmf.corpus.jsonformats import parse_json_array, parse_jsonl
from topicnmf.errors import CorpusError

FORMATS: tuple[str, ...] = ("lines", "document", "csv", "tsv", "jsonl", "json")
"""Values accepted by ``load_corpus(format=...)``."""

MAX_FIELD_CHARS = 128 << 20
"""The longest CSV/TSV field read: the csv module builds a field 4 bytes a character, so
this bounds its memory (about 6 times the field at most) below that of other documents."""

EXTENSION_FORMATS = {
    ".txt": "lines",
    ".text": "lines",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}

# a value that numbers rows: no spaces or quotes, at least one digit ("17", "n017")
_ROW_NUMBER = re.compile(r"[^\s\"]*\d[^\s\"]*")

Parsed = Iterator[tuple[str, str, Meta | None]]


def detect_format(path: Path) -> str:
    """The format a file's name suggests (``.gz`` aside); unknown names are lines."""
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return EXTENSION_FORMATS.get(os.path.splitext(name)[1], "lines")


def parse(stream: BinaryIO, fmt: str, opts: Options, where: str) -> Parsed:
    if opts.metadata_columns and fmt in ("lines", "document"):
        raise CorpusError(
            f"{where} is read as {fmt}, which has no columns, so it has no metadata "
            f"{opts.metadata_columns[0]!r}; metadata needs a CSV, TSV, JSON Lines or JSON corpus",
            param="format",
            path=where,
            value=opts.metadata_columns[0],
        )
    if fmt == "lines":
        return _parse_lines(stream, opts, where)
    if fmt == "document":
        return _parse_document(stream, opts, where)
    if fmt in ("csv", "tsv"):
        return _parse_table(stream, opts, where, "," if fmt == "csv" else "\t")
    if fmt == "json":
        return parse_json_array(stream, opts, where)
    return parse_jsonl(stream, opts, where)


def _parse_lines(stream: BinaryIO, opts: Options, where: str) -> Parsed:
    for lineno, text in iter_lines(stream, opts.decoding, where, keepends=False):
        if not is_blank(text):
            yield str(lineno), text, None


def _parse_document(stream: BinaryIO, opts: Options, where: str) -> Parsed:
    yield "", read_document(stream, opts.decoding, where), None


# --------------------------------------------------------------------------- CSV / TSV


def _find_column(header: list[str], name: str, where: str, param: str) -> int:
    if name in header:
        return header.index(name)
    # tolerate case and surrounding spaces when that is unambiguous
    folded = [i for i, col in enumerate(header) if col.strip().casefold() == name.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise CorpusError(
        f"{where} has no column {name!r}; its columns are: {list_names(header)}",
        param=param,
        path=where,
        value=name,
        choices=header,
    )


def _kept(lines: Iterator[str], span: list[str]) -> Iterator[str]:
    # a function of its own, not a method: a generator holding the _Rows would make a
    # reference cycle, and an abandoned reader (with the csv module's buffer, 4 bytes a
    # character of the longest field) would live until the garbage collector runs
    for line in lines:
        span.append(line)
        yield line


class _Rows:
    """csv.reader over the lines of a stream, with the physical lines of each record."""

    def __init__(self, stream: BinaryIO, opts: Options, where: str, delimiter: str) -> None:
        self.where = where
        self.delimiter = delimiter
        self.kind = "CSV" if delimiter == "," else "TSV"
        self.strict = not opts.csv_lenient
        self.span: list[str] = []  # the lines of the record being read (strict mode)
        self.first = 1  # the line the record being read starts on
        lines = (text for _, text in iter_lines(stream, opts.decoding, where, keepends=True))
        if self.strict:
            lines = _kept(lines, self.span)
        self.reader = csv.reader(lines, delimiter=delimiter, strict=self.strict)

    def next(self) -> list[str] | None:
        """The next row ([] for a blank line), or None at the end."""
        self.span.clear()
        self.first = self.reader.line_num + 1
        # the csv module's field limit is process-wide: raise it only while parsing
        previous = csv.field_size_limit(MAX_FIELD_CHARS)
        try:
            return next(self.reader, None)
        except csv.Error as exc:
            raise self._error(exc) from None
        finally:
            csv.field_size_limit(previous)

    def _error(self, exc: csv.Error) -> CorpusError:
        message = str(exc)
        param = "csv_lenient" if self.strict else None
        if "field larger than field limit" in message:
            return CorpusError(
                f"{self.where} line {self.first} holds a field longer than "
                f"{MAX_FIELD_CHARS:,} characters, the largest CSV field topicnmf reads",
                path=self.where,
            )
        if "unexpected end of data" in message:
            return CorpusError(
                f"{self.where} line {self.first}: a quoted field that starts here is never "
                "closed (the file ends inside it); a stray quote?",
                param=param,
                path=self.where,
            )
        return CorpusError(
            f"{self.where} line {self.reader.line_num} is not valid {self.kind} "
            f"({message}); a stray quote?",
            param=param,
            path=self.where,
        )

    def check_span(self, width: int, key_index: int) -> None:
        """Refuse a record whose lines each read as a whole numbered row (strict mode)."""
        last = self.reader.line_num
        if not self.strict or last == self.first or width < 2:
            return
        if all(self._numbered_row(line, width, key_index) for line in self.span):
            raise CorpusError(
                f"{self.where} line {self.first}: a quoted field runs on to line {last}, and "
                "each of those lines reads as a whole row on its own: a stray quote "
                "merged them?",
                param="csv_lenient",
                path=self.where,
            )

    def _numbered_row(self, line: str, width: int, key_index: int) -> bool:
        if line.count(self.delimiter) < width - 1:
            return False
        previous = csv.field_size_limit(MAX_FIELD_CHARS)
        try:
            fields = next(csv.reader([line], delimiter=self.delimiter), [])
        except csv.Error:
            return False
        finally:
            csv.field_size_limit(previous)
        return len(fields) == width and _ROW_NUMBER.fullmatch(fields[key_index]) is not None


def _open_table(
    stream: BinaryIO, opts: Options, where: str, delimiter: str
) -> tuple[_Rows, list[str], int, int | None, list[int]]:
    """The rows after the header, the header, and the text and id columns."""
    rows = _Rows(stream, opts, where, delimiter)
    header = rows.next()
    if header is None:
        raise CorpusError(
            f"{where} is empty; it needs a header row and one row per document", path=where
        )
    text_idx = _find_column(header, opts.text_column, where, "text_column")
    id_idx = None
    if opts.id_column is not None:
        id_idx = _find_column(header, opts.id_column, where, "id_column")
    meta_idx = [_find_column(header, c, where, "metadata_columns") for c in opts.metadata_columns]
    return rows, header, text_idx, id_idx, meta_idx


def check_columns(stream: BinaryIO, fmt: str, opts: Options, where: str) -> None:
    """Read a CSV/TSV header only: a missing column is an error before any row is read."""
    _open_table(stream, opts, where, "," if fmt == "csv" else "\t")


def _parse_table(stream: BinaryIO, opts: Options, where: str, delimiter: str) -> Parsed:
    rows, header, text_idx, id_idx, meta_idx = _open_table(stream, opts, where, delimiter)
    width = len(header)
    seen: set[str] | None = None if id_idx is None else set()
    needed = max(text_idx, -1 if id_idx is None else id_idx, *meta_idx)
    record = 0
    while (row := rows.next()) is not None:
        if not row:  # the csv module turns a blank line into []
            continue
        record += 1
        at = f"{where} line {rows.first}"
        rows.check_span(width, 0 if id_idx is None else id_idx)
        if len(row) <= needed or (rows.strict and len(row) != width):
            # leniently, a row with extra fields is read: then the advice is that option
            lenient = len(row) > needed
            raise CorpusError(
                f"{at} has {len(row)} field(s) but the header has {width}"
                + ("" if lenient else "; fix the row or its quotes"),
                param="csv_lenient" if lenient else None,
                path=where,
            )
        if id_idx is None:
            doc_id = str(record)
        else:
            doc_id = row[id_idx]
            check_unique(seen, doc_id, at, header[id_idx])
        meta: Meta | None = None
        if meta_idx:
            # an empty field is a missing value, as pandas reads it
            values = {
                c: row[i] or None for c, i in zip(opts.metadata_columns, meta_idx, strict=True)
            }
            meta = (values, at)
        yield doc_id, row[text_idx], meta
