"""From bytes to text: encodings, gzip, binary sniffing, and the line reader.

Only ``\\n`` ends a line. A line's end (``\\n``, and a ``\\r`` just before it or at the
very end of the stream) is not part of its text unless the caller keeps the ends
(CSV does, so that line breaks inside quoted fields survive). Lines are split as
bytes and decoded one by one, so that an error names its line and a long line
exists at most once as bytes and once as text.
"""

from __future__ import annotations

import codecs
import contextlib
import gzip
import io
import os
import stat
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from topicnmf.corpus.base import MAX_DOCUMENT_BYTES, Decoding, one_line
from topicnmf.errors import CorpusError, ParameterError

SNIFF_BYTES = 8192  # a NUL byte this early means binary, as git and grep decide
GZIP_MAGIC = b"\x1f\x8b"
LINE_PIECE = 1 << 20  # lines longer than this are assembled piece by piece
STREAM_ERRORS = (OSError, EOFError, zlib.error)  # unreadable file, damaged gzip


class DecodeError(CorpusError):
    """A file is not valid text in the chosen encoding (``param="encoding"``).

    ``detail`` is the message without the file's name ("line 3 is not valid ...").
    """

    detail = ""


def resolve_decoding(encoding: str, errors: str = "strict") -> Decoding:
    """Check an encoding name; ``errors`` is "strict" or "replace"."""
    try:
        codec = codecs.lookup(encoding).name
        # non-text codecs (base64, zlib) refuse str.encode with LookupError
        sample = 'a\n\r,"'.encode(codec)
    except (LookupError, TypeError):
        raise ParameterError(
            f"unknown text encoding {encoding!r}; give a name Python knows, "
            "such as utf-8, latin-1 or cp1252",
            param="encoding",
            value=encoding,
        ) from None
    utf8 = codec in ("utf-8", "utf-8-sig")
    return Decoding(
        name=encoding,
        codec="utf-8" if utf8 else codec,
        utf8=utf8,
        ascii_lines=sample == b'a\n\r,"',
        errors=errors,
    )


def decode_error(where: str, dec: Decoding, exc: UnicodeError, line: str) -> DecodeError:
    """The one-line error for text that does not decode (``line``: " line 3" or "")."""
    # UnicodeDecodeError carries the bad bytes; a bare UnicodeError (UTF-16 without
    # a byte order mark) does not
    bad = b""
    if isinstance(exc, UnicodeDecodeError):
        bad = exc.object[exc.start : exc.start + 1]
    detail = f" (byte 0x{bad[0]:02x})" if bad else f" ({one_line(exc)})"
    error = DecodeError(
        f"{where}{line} is not valid {dec.name} text{detail}",
        param="encoding",
        path=where,
        value=dec.name,
    )
    error.detail = f"{line} is not valid {dec.name} text{detail}".strip()
    return error


def too_long(where: str, what: str) -> CorpusError:
    return CorpusError(
        f"{where}{what} is longer than {MAX_DOCUMENT_BYTES >> 20} MiB, the largest document "
        "topicnmf reads; split it into smaller documents",
        path=where,
    )


def stream_error(where: str, exc: BaseException) -> CorpusError:
    """A read failure (a damaged gzip stream, an unreadable file) as one line."""
    if isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
        return CorpusError(
            f"cannot read {where}: the gzip data is damaged or cut short ({one_line(exc)})",
            path=where,
        )
    reason = getattr(exc, "strerror", None) or one_line(exc)
    return CorpusError(f"cannot read {where}: {reason}", path=where)


def open_maybe_gzip(stream: BinaryIO) -> BinaryIO:
    """A decompressing reader when the content is gzip (by its magic bytes), else ``stream``."""
    magic = stream.read(2)
    stream.seek(0)
    if magic == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


def sniff(stream: BinaryIO) -> bytes:
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    return head


def looks_binary(head: bytes, dec: Decoding) -> bool:
    return dec.ascii_lines and b"\0" in head


def _bom_length(raw: bytes | bytearray, dec: Decoding) -> int:
    return 3 if dec.utf8 and raw[:3] == codecs.BOM_UTF8 else 0


def _without_line_end(raw: bytes | bytearray) -> int:
    """Where the text of a raw line ends: before its "\\n", and a "\\r" before that or last."""
    end = len(raw)
    if end and raw[end - 1] == 0x0A:
        end -= 1
    if end and raw[end - 1] == 0x0D:
        end -= 1
    return end


def iter_lines(
    stream: BinaryIO, dec: Decoding, where: str, *, keepends: bool
) -> Iterator[tuple[int, str]]:
    """Yield (line number from 1, text) for each line of ``stream``."""
    if not dec.ascii_lines:
        yield from _iter_wide_lines(stream, dec, where, keepends=keepends)
        return
    decoder = codecs.getincrementaldecoder(dec.codec)(errors=dec.errors)
    decode: Any = decoder.decode
    if dec.utf8:
        # b"\n" never falls inside a UTF-8 sequence, so each line decodes on its own; the
        # incremental UTF-8 decoder would copy its input first (3x a long line)
        errors = dec.errors

        def decode(data: Any) -> str:
            return codecs.utf_8_decode(data, errors, True)[0]

    lineno = 0
    for raw in _raw_lines(stream, where):
        lineno += 1
        start = _bom_length(raw, dec) if lineno == 1 else 0
        end = len(raw) if keepends else _without_line_end(raw)
        try:
            if start == 0 and end == len(raw):
                text = decode(raw)
            else:
                # a memoryview slice does not copy a line that may be 100 MB
                text = decode(memoryview(raw)[start:end])
        except UnicodeError as exc:
            raise decode_error(where, dec, exc, f" line {lineno}") from None
        del raw
        yield lineno, text
    try:
        decoder.decode(b"", final=True)
    except UnicodeError as exc:
        raise decode_error(where, dec, exc, f" line {lineno}") from None


def _raw_lines(stream: BinaryIO, where: str) -> Iterator[bytes | bytearray]:
    """The lines of a binary stream, each with its b"\\n" (but the last)."""
    readline = stream.readline
    lineno = 0
    while True:
        raw = readline(LINE_PIECE)
        if not raw:
            return
        lineno += 1
        if len(raw) < LINE_PIECE or raw.endswith(b"\n"):
            yield raw
            continue
        # a long line: grow one buffer in place; readline() alone would hold its pieces
        # and their joined copy at once (3x the line)
        buf = bytearray(raw)
        del raw
        while True:
            piece = readline(LINE_PIECE)
            buf += piece
            if len(buf) > MAX_DOCUMENT_BYTES:
                raise too_long(where, f" line {lineno}")
            if len(piece) < LINE_PIECE or piece.endswith(b"\n"):
                break
        # hand the buffer over without keeping a reference here, so that the caller
        # can free it while it parses the line
        held = [buf]
        del buf
        yield held.pop()


def _iter_wide_lines(
    stream: BinaryIO, dec: Decoding, where: str, *, keepends: bool
) -> Iterator[tuple[int, str]]:
    # UTF-16/32 and EBCDIC: b"\n" is not a line end, so decode first
    wrapper = io.TextIOWrapper(stream, encoding=dec.codec, errors=dec.errors, newline="\n")
    lineno = 0
    try:
        while True:
            try:
                line = _read_wide_line(wrapper, where, lineno + 1)
            except UnicodeError as exc:
                raise decode_error(where, dec, exc, f" near line {lineno + 1}") from None
            if not line:
                return
            lineno += 1
            if not keepends:
                line = line[: _without_line_end_text(line)]
            yield lineno, line
    finally:
        # detach so that closing the wrapper does not close the caller's stream
        with contextlib.suppress(ValueError):
            wrapper.detach()


def _without_line_end_text(line: str) -> int:
    end = len(line)
    if line.endswith("\n"):
        end -= 1
    if line[end - 1 : end] == "\r":
        end -= 1
    return end


def _read_wide_line(wrapper: io.TextIOWrapper, where: str, lineno: int) -> str:
    line = wrapper.readline(LINE_PIECE)
    if len(line) < LINE_PIECE or line.endswith("\n"):
        return line
    pieces = [line]
    size = len(line)
    while True:
        piece = wrapper.readline(LINE_PIECE)
        pieces.append(piece)
        size += len(piece)
        if size > MAX_DOCUMENT_BYTES:
            raise too_long(where, f" line {lineno}")
        if len(piece) < LINE_PIECE or piece.endswith("\n"):
            return "".join(pieces)


def read_bounded(stream: BinaryIO, where: str) -> bytes | bytearray:
    """All of ``stream`` (from where it is), refused beyond MAX_DOCUMENT_BYTES."""
    size = _remaining_size(stream)
    if size is not None:
        if size > MAX_DOCUMENT_BYTES:
            raise too_long(where, "")
        data: bytes | bytearray = stream.read()
    else:
        # compressed: the size is known only by inflating, so grow one buffer with a bound
        data = bytearray()
        while True:
            chunk = stream.read(LINE_PIECE)
            if not chunk:
                break
            data += chunk
            if len(data) > MAX_DOCUMENT_BYTES:
                raise too_long(where, "")
    if len(data) > MAX_DOCUMENT_BYTES:  # the file grew while being read
        raise too_long(where, "")
    return data


def _remaining_size(stream: BinaryIO) -> int | None:
    if not isinstance(stream, (io.BufferedReader, io.FileIO)):
        return None
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None
    return st.st_size - stream.tell() if stat.S_ISREG(st.st_mode) else None


def read_document(stream: BinaryIO, dec: Decoding, where: str) -> str:
    """A whole stream as one text (a leading UTF-8 byte order mark dropped)."""
    if not dec.ascii_lines:
        wrapper = io.TextIOWrapper(stream, encoding=dec.codec, errors=dec.errors, newline="")
        try:
            text = wrapper.read(MAX_DOCUMENT_BYTES + 1)
        except UnicodeError as exc:
            raise decode_error(where, dec, exc, "") from None
        finally:
            with contextlib.suppress(ValueError):
                wrapper.detach()
        if len(text) > MAX_DOCUMENT_BYTES:
            raise too_long(where, "")
        return text
    raw = read_bounded(stream, where)
    bom = _bom_length(raw, dec)
    try:
        return codecs.decode(memoryview(raw)[bom:], dec.codec, dec.errors)
    except UnicodeError as exc:
        start = exc.start if isinstance(exc, UnicodeDecodeError) else 0
        line = raw.count(b"\n", 0, start + bom) + 1
        raise decode_error(where, dec, exc, f" line {line}") from None


def first_decode_error(stream: BinaryIO, dec: Decoding, where: str) -> DecodeError | None:
    """Decode the whole stream, keeping nothing; return what is wrong, then rewind."""
    decoder = codecs.getincrementaldecoder(dec.codec)(errors="strict")
    lines = 1
    try:
        while True:
            chunk = stream.read(LINE_PIECE)
            if not chunk:
                decoder.decode(b"", final=True)
                return None
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.start counts from the start of the bytes the decoder held
                lines += chunk.count(b"\n", 0, max(0, exc.start))
                raise
            lines += chunk.count(b"\n")
    except UnicodeError as exc:
        return decode_error(where, dec, exc, f" line {lines}" if dec.ascii_lines else "")
    finally:
        stream.seek(0)
