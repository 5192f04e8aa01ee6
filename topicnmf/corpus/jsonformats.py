"""JSON corpora: JSON Lines (one object per line) and a JSON array of documents.

**JSON Lines**: each non-blank line is one JSON object; its ``text_column`` field holds
the text (``null`` is an empty document, a number is read as its text) and its
``id_column`` field, when named, the id; otherwise records are numbered from 1.

**A JSON array** (``.json``): one array whose elements are strings (each one document)
or objects (fields as for JSON Lines); ``null`` is an empty document. Ids are the
element's position from 1 unless ``id_column`` names them.

The array is never held whole. Text is decoded a chunk at a time; each element is parsed
by the standard library's ``json`` (its C scanner) straight from the buffer, and the
buffer is cut after the elements it held. An element that runs past the end of the buffer
is completed by a small scanner (strings, escapes and bracket depth only) that finds where
it ends before it is parsed once, the buffer doubling as it grows, so that a large element
costs linear time. Memory is the buffer (:data:`CHUNK_BYTES` of input) and the element
being read, which may not exceed :data:`~topicnmf.corpus.base.MAX_DOCUMENT_BYTES`;
reading one large element holds it about twice (the buffer it grows in, then its value).
A syntax error is reported at its line and column in the file.

Measured on a 219 MB array of 200,000 objects of about 1 kB: 1.1 s to read every document
(imports included) in 3 MB above the interpreter's own. ijson's C backend takes 0.66 s
for the same, but gives a syntax error no position and reads only UTF-8; the difference
is a small part of any fit of such a corpus (its vectorizing alone takes 6 s).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from topicnmf.corpus.base import (
    MAX_DOCUMENT_BYTES,
    Meta,
    Options,
    check_unique,
    is_blank,
    list_names,
    one_line,
)
from topicnmf.corpus.decoding import decode_error, iter_lines
from topicnmf.errors import CorpusError

CHUNK_BYTES = 1 << 20
"""Input read at a time (a larger element makes the buffer grow, up to its bound)."""

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_STRUCTURE = re.compile(r'["\[\]{}]')
_STRING_STOP = re.compile(r'["\\]')
_SCALAR_END = re.compile(r"[ \t\n\r,\]}]")

Parsed = Iterator[tuple[str, str, Meta | None]]


# --------------------------------------------------------------------------- JSON Lines


def _json_kind(value: object) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean"}.get(type(value), "a value")


def _json_field(obj: dict, field: str, at: str, param: str, where: str) -> object:
    if field not in obj:
        raise CorpusError(
            f"{at} has no field {field!r}; its fields are: {list_names(list(obj))}",
            param=param,
            path=where,
            value=field,
            choices=[str(k) for k in obj],
        )
    return obj[field]


def _json_text(value: object, at: str, field: str, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise CorpusError(f"{at}: field {field!r} is {_json_kind(value)}, not {what}")


def parse_jsonl(stream: BinaryIO, opts: Options, where: str) -> Parsed:
    """(id, text) of each JSON object line of ``stream``."""
    seen: set[str] | None = None if opts.id_column is None else set()
    record = 0
    for lineno, line in iter_lines(stream, opts.decoding, where, keepends=False):
        if is_blank(line):
            continue
        at = f"{where} line {lineno}"
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            if isinstance(exc, json.JSONDecodeError):
                # "Unterminated string starting at" needs its place to be read
                msg = f"{exc.msg}: column {exc.colno}"
            else:
                msg = "nested too deeply"
            raise CorpusError(
                f"{at} is not valid JSON ({msg}); each line must be one JSON object", path=where
            ) from None
        del line
        if not isinstance(obj, dict):
            kind = _json_kind(obj) if isinstance(obj, (list, bool)) else "not an object"
            raise CorpusError(
                f"{at} is {kind}; each line must be one JSON object such as "
                f'{{"{opts.text_column}": "..."}}',
                path=where,
            )
        record += 1
        value = _json_field(obj, opts.text_column, at, "text_column", where)
        text = "" if value is None else _json_text(value, at, opts.text_column, "text")
        if opts.id_column is None:
            doc_id = str(record)
        else:
            raw_id = _json_field(obj, opts.id_column, at, "id_column", where)
            doc_id = _json_text(raw_id, at, opts.id_column, "an id")
            check_unique(seen, doc_id, at, opts.id_column)
        yield doc_id, text, _metadata(obj, opts, at)


def _metadata(obj: object, opts: Options, at: str) -> Meta | None:
    """The metadata fields of a record as text (an absent field or ``null``: None)."""
    if not opts.metadata_columns:
        return None
    values: dict[str, str | None] = {}
    for column in opts.metadata_columns:
        value = obj.get(column) if isinstance(obj, dict) else None
        if value is None or isinstance(value, str):
            values[column] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            values[column] = str(value)
        else:
            values[column] = json.dumps(value, ensure_ascii=False)
    return values, at


# --------------------------------------------------------------------------- JSON array


class _Text:
    """The decoded text of a stream, a buffer at a time, with the position of any index."""

    def __init__(self, stream: BinaryIO, opts: Options, where: str) -> None:
        dec = opts.decoding
        self.stream = stream
        self.dec = dec
        self.where = where
        codec = "utf-8-sig" if dec.utf8 else dec.codec  # a byte order mark is not text
        self.decoder = codecs.getincrementaldecoder(codec)(errors=dec.errors)
        self.buf = ""
        self.eof = False
        self.line = 1  # line and column of buf[0]
        self.column = 1
        self.raw_lines = 0  # line ends read as bytes, to place a decoding error

    def read(self, at_least: int = CHUNK_BYTES) -> bool:
        """Append more text to the buffer; False at the end of the stream."""
        if self.eof:
            return False
        data = self.stream.read(max(at_least, CHUNK_BYTES))
        final = not data
        try:
            piece = self.decoder.decode(data, final=final)
        except UnicodeError as exc:
            line = ""
            if self.dec.ascii_lines:
                start = exc.start if isinstance(exc, UnicodeDecodeError) else len(data)
                lineno = self.raw_lines + data.count(b"\n", 0, max(start, 0)) + 1
                line = f" line {lineno}"
            raise decode_error(self.where, self.dec, exc, line) from None
        self.raw_lines += data.count(b"\n")
        del data
        self.eof = final
        if piece:
            # a local name that holds the only reference lets CPython grow the text in
            # place (a large element would otherwise exist twice while it is appended to)
            buf, self.buf = self.buf, ""
            buf += piece
            self.buf = buf
        return bool(piece) or not final

    def drop(self, index: int) -> None:
        """Forget the buffer before ``index``, keeping count of lines and columns."""
        if index == 0:
            return
        newlines = self.buf.count("\n", 0, index)
        if newlines:
            self.line += newlines
            self.column = index - self.buf.rfind("\n", 0, index)
        else:
            self.column += index
        self.buf = self.buf[index:]

    def position(self, index: int) -> str:
        """Where a buffer index is in the file, as "line L column C"."""
        newlines = self.buf.count("\n", 0, index)
        if newlines:
            column = index - self.buf.rfind("\n", 0, index)
        else:
            column = self.column + index
        return f"line {self.line + newlines} column {column}"

    def skip_space(self, index: int) -> int:
        """The index of the next character that is not white space (len(buf) at the end)."""
        while True:
            index = _SPACE.match(self.buf, index).end()  # type: ignore[union-attr]
            if index < len(self.buf):
                return index
            self.drop(index)
            index = 0
            if not self.read():
                return index


class _Scanner:
    """Finds where a JSON value ends, fed its text in pieces, without parsing it."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_string = False
        self.escaped = False  # the previous piece ended inside a string after a backslash
        self.scalar = False
        self.started = False

    def feed(self, text: str, pos: int) -> int | None:
        """The index just past the value's end in ``text``, or None if it goes on."""
        if not self.started:
            self.started = True
            first = text[pos]
            if first == '"':
                self.in_string = True
                pos += 1
            elif first in "[{":
                self.depth = 1
                pos += 1
            else:
                self.scalar = True
        if self.scalar:
            end = _SCALAR_END.search(text, pos)
            return None if end is None else end.start()
        while True:
            if self.in_string:
                if self.escaped:
                    if pos >= len(text):
                        return None
                    pos += 1
                    self.escaped = False
                stop = _STRING_STOP.search(text, pos)
                if stop is None:
                    return None
                pos = stop.end()
                if stop.group() == "\\":
                    self.escaped = True
                    continue
                self.in_string = False
                if self.depth == 0:
                    return pos
                continue
            found = _STRUCTURE.search(text, pos)
            if found is None:
                return None
            pos = found.end()
            char = found.group()
            if char == '"':
                self.in_string = True
            elif char in "[{":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth == 0:
                    return pos


def parse_json_array(stream: BinaryIO, opts: Options, where: str) -> Parsed:
    """(id, text) of each element of the JSON array in ``stream``."""
    text = _Text(stream, opts, where)
    text.read()
    i = text.skip_space(0)
    _check_opening(text, i)
    i += 1
    seen: set[str] | None = None if opts.id_column is None else set()
    n = 0
    while True:
        i = text.skip_space(i)
        if i >= len(text.buf):
            raise _syntax(text, i, "the array is never closed (the file ends)")
        if text.buf[i] == "]":
            if n:  # after a comma: JSON allows no trailing comma
                raise _syntax(text, i, "a ',' before ']' (JSON allows no trailing comma)")
            break
        n += 1
        value, i = _value(text, i, n)
        doc_id, doc_text = _document(value, n, opts, where)
        if seen is not None:
            check_unique(seen, doc_id, f"{where} element {n}", str(opts.id_column))
        yield doc_id, doc_text, _metadata(value, opts, f"{where} element {n}")
        del value, doc_text
        i = text.skip_space(i)
        if i >= len(text.buf):
            raise _syntax(text, i, "the array is never closed (the file ends)")
        if text.buf[i] == "]":
            break
        if text.buf[i] != ",":
            raise _syntax(text, i, f"expected ',' or ']' after element {n}")
        i += 1
    i = text.skip_space(i + 1)
    if i < len(text.buf):
        raise _syntax(text, i, "more text after the array; a file holds one array")


def _check_opening(text: _Text, i: int) -> None:
    if i >= len(text.buf):
        raise CorpusError(f"{text.where} holds only white space; it has no documents")
    first = text.buf[i]
    if first == "[":
        return
    if first == "{":
        raise CorpusError(
            f"{text.where} holds a JSON object, not an array of documents; a JSON corpus is "
            'an array of strings or of objects such as [{"text": "..."}], and a file with '
            "one object per line is JSON Lines",
            param="format",
            path=text.where,
        )
    raise _syntax(text, i, "a JSON corpus is an array: it must start with '['")


def _value(text: _Text, i: int, n: int) -> tuple[Any, int]:
    """The element starting at buffer index ``i``, and the index just past it."""
    try:
        value, end = _DECODER.raw_decode(text.buf, i)
        # a value that reaches the buffer's end may go on (a number cut in two)
        if end < len(text.buf) or text.eof:
            return value, end
    except ValueError:  # JSONDecodeError, or a value that is cut short
        pass
    except RecursionError:
        raise _syntax(text, i, f"element {n} is nested too deeply") from None
    # the element runs past the buffer (or is malformed): find its end first, so that
    # it is parsed once, however many reads it takes
    text.drop(i)
    scanner = _Scanner()
    end = scanner.feed(text.buf, 0)
    while end is None:
        scanned = len(text.buf)
        if scanned > MAX_DOCUMENT_BYTES:
            raise _too_long(text, n)
        # double the buffer (linear time in all), not beyond the bound
        if not text.read(at_least=min(scanned, MAX_DOCUMENT_BYTES + 1 - scanned)):
            end = len(text.buf)
            break
        end = scanner.feed(text.buf, scanned)
    try:
        # the value ends where the scanner says, or the text is malformed before that
        value, stop = _DECODER.raw_decode(text.buf)
    except json.JSONDecodeError as exc:
        raise _syntax(text, exc.pos, exc.msg) from None
    except RecursionError:
        raise _syntax(text, 0, f"element {n} is nested too deeply") from None
    if stop != end:
        raise _syntax(text, stop, f"expected ',' or ']' after element {n}")
    return value, end


def _too_long(text: _Text, n: int) -> CorpusError:
    # a syntax error well before the end explains it better than the size
    try:
        _DECODER.raw_decode(text.buf)
    except json.JSONDecodeError as exc:
        if exc.pos < len(text.buf) - 1 and not exc.msg.startswith("Unterminated string"):
            return _syntax(text, exc.pos, exc.msg)
    except (ValueError, RecursionError):
        pass
    return CorpusError(
        f"{text.where} element {n} ({text.position(0)}) is longer than "
        f"{MAX_DOCUMENT_BYTES >> 20} MiB, the largest document topicnmf reads, or is never "
        "closed",
        path=text.where,
    )


def _syntax(text: _Text, index: int, what: str) -> CorpusError:
    return CorpusError(
        f"{text.where} is not valid JSON at {text.position(index)}: {one_line(what)}",
        path=text.where,
    )


def _document(value: Any, n: int, opts: Options, where: str) -> tuple[str, str]:
    at = f"{where} element {n}"
    if isinstance(value, dict):
        field = _json_field(value, opts.text_column, at, "text_column", where)
        doc_text = "" if field is None else _json_text(field, at, opts.text_column, "text")
        if opts.id_column is None:
            return str(n), doc_text
        raw_id = _json_field(value, opts.id_column, at, "id_column", where)
        return _json_text(raw_id, at, opts.id_column, "an id"), doc_text
    if isinstance(value, str) or value is None:
        if opts.id_column is not None:
            raise CorpusError(
                f"{at} is a {'string' if value is not None else 'null'}, which has no field "
                f"{opts.id_column!r} for its id; give objects, or number the elements",
                param="id_column",
                path=where,
            )
        return str(n), value or ""
    kind = _json_kind(value) if isinstance(value, (list, bool)) else "a number"
    raise CorpusError(
        f"{at} is {kind}; each element must be a string or an object such as "
        f'{{"{opts.text_column}": "..."}}',
        path=where,
    )
