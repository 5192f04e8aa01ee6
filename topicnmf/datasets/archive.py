"""Reading a ``.tar.gz`` archive safely with :mod:`tarfile`, within documented bounds.

Only regular files are read, into memory; nothing is extracted by tarfile and no link
is followed. Links, devices, FIFOs, absolute or ``..`` paths and members larger than
:data:`MAX_MEMBER_BYTES` are skipped (the caller warns). An archive that inflates to
more than :data:`MAX_INFLATED_BYTES`, or that is damaged or cut short anywhere (the
gzip checksum at its end included), is an :class:`ArchiveError`.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

MAX_MEMBER_BYTES = 1 << 20
"""The largest member read (a 20 Newsgroups message is at most 75 kB)."""

MAX_INFLATED_BYTES = 256 << 20
"""The most an archive may inflate to (the 20 Newsgroups archive: 50 MB)."""

_GZIP_MAGIC = b"\x1f\x8b"


class ArchiveError(Exception):
    """The archive is damaged, cut short, or larger than the bounds allow."""


class _Bounded:
    """A read-only stream that refuses to give more than ``limit`` bytes."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.count += len(data)
        if self.count > self.limit:
            raise ArchiveError(f"it inflates to more than {self.limit >> 20} MiB")
        return data


def unsafe_reason(member: tarfile.TarInfo) -> str | None:
    """Why a member must not be read (None for a safe regular file)."""
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
    name = member.name.replace("\\", "/")
    if name.startswith("/") or name[1:2] == ":":
        return "an absolute path"
    if ".." in name.split("/"):
        return "a path with '..'"
    if member.size > MAX_MEMBER_BYTES:
        return f"larger than {MAX_MEMBER_BYTES >> 20} MiB"
    return None


def read_members(path: Path, on_skip: Callable[[str, str], None]) -> Iterator[tuple[str, bytes]]:
    """(name, data) of each safe regular file of a (gzip-compressed) tar archive.

    ``on_skip(name, reason)`` is called for each member skipped as unsafe. The whole
    archive is read, to its end, before the iteration stops, so that damage anywhere
    is found: a caller must not act on the members until then.
    """
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw) if compressed else raw as inflated:
                stream = _Bounded(inflated, MAX_INFLATED_BYTES)  # type: ignore[arg-type]
                # "r|": one forward pass over the stream, no seeking, nothing extracted
                with tarfile.open(fileobj=stream, mode="r|") as archive:  # type: ignore[call-overload]
                    for member in archive:
                        if member.isdir():
                            continue
                        reason = unsafe_reason(member)
                        if reason is not None:
                            on_skip(member.name, reason)
                            continue
                        extracted = archive.extractfile(member)
                        assert extracted is not None  # a regular file always has data
                        yield member.name, extracted.read()
                # tarfile stops at the end-of-archive blocks; reading on to the end of the
                # gzip stream checks its length and checksum and finds anything appended
                while stream.read(1 << 20):
                    pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise ArchiveError(" ".join(str(exc).split()) or type(exc).__name__) from None
