"""The 20 Newsgroups archive, extracted once into the cache folder and checked on each read.

Decompressing and parsing the archive with tarfile takes about 0.6 s; reading the
extracted messages of a split takes about 0.1 s. The cache is a folder of the cache
folder (``$TOPICNMF_CACHE_DIR``, else ``$XDG_CACHE_HOME/topicnmf`` or
``~/.cache/topicnmf``; ``none`` turns it off) named after the archive's path:

    20news-bydate-<hash of the archive's path>/
        manifest.json                  the archive's path, size and time, and checksums
        20news-bydate-train/<newsgroup>/<number>
        20news-bydate-test/<newsgroup>/<number>

It is written by topicnmf itself from the members tarfile read (no link, no name that
is not a newsgroup and a number, members within the archive's size bounds) into a
temporary folder that is renamed into place once complete, so an interrupted run
leaves no partial cache; a folder left by a killed run is removed by the next build.
Each read checks the manifest against the archive, and every message it reads against
the SHA-256 checksum of its newsgroup (the names, and the checksum of each message):
a cache altered in any way is not used but rebuilt. An archive with anything unusual
(skipped members, other names) is not cached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from topicnmf.datasets.archive import MAX_MEMBER_BYTES

logger = logging.getLogger("topicnmf")

_FORMAT = 1
_MANIFEST = "manifest.json"
_MAX_MANIFEST_BYTES = 1 << 20
_NUMBER = re.compile(r"[0-9]{1,20}")
_TMP_PREFIX = ".tmp-"

Key = tuple[str, str]  # (folder of the split, newsgroup)


def cache_root() -> Path | None:
    """The cache folder, or None when ``TOPICNMF_CACHE_DIR`` turns the cache off."""
    env = os.environ.get("TOPICNMF_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "none", "off", "0") else Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "topicnmf"


def _group_digest(entries: Iterable[tuple[str, bytes]]) -> str:
    """The checksum of a newsgroup folder: its names and its messages' checksums."""
    digest = hashlib.sha256()
    for name, member_digest in entries:
        digest.update(name.encode("ascii") + b"\0" + member_digest)
    return digest.hexdigest()


def _number_order(name: str) -> int:
    """A message's place in its folder; ValueError for a name the cache never writes."""
    if not _NUMBER.fullmatch(name):
        raise ValueError(name)
    return int(name)


class ExtractedArchive:
    """The extracted copy of one archive in the cache folder."""

    def __init__(self, archive: Path, root: Path) -> None:
        st = archive.stat()
        self.archive = archive
        self.identity = {
            "format": _FORMAT,
            "archive": str(archive),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }
        name = hashlib.sha256(str(archive).encode("utf-8", "surrogateescape")).hexdigest()
        self.root = root
        self.folder = root / f"20news-bydate-{name[:16]}"

    @classmethod
    def for_archive(cls, archive: Path) -> ExtractedArchive | None:
        root = cache_root()
        if root is None:
            return None
        try:
            return cls(archive.resolve(), root)
        except (OSError, RuntimeError):
            return None

    def _manifest(self) -> dict | None:
        try:
            with open(self.folder / _MANIFEST, "rb") as fh:
                manifest = json.loads(fh.read(_MAX_MANIFEST_BYTES))
        except (OSError, ValueError):
            return None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("groups"), dict):
            return None
        if any(manifest.get(k) != v for k, v in self.identity.items()):
            return None
        return manifest

    def read(self, wanted: Iterable[Key]) -> dict[Key, list[tuple[str, bytes]]] | None:
        """The messages of each wanted folder, checked; None when the cache cannot serve."""
        manifest = self._manifest()
        if manifest is None:
            return None
        out: dict[Key, list[tuple[str, bytes]]] = {}
        for split_folder, group in wanted:
            expected = manifest["groups"].get(f"{split_folder}/{group}")
            try:
                messages = _read_folder(self.folder / split_folder / group) if expected else []
            except (OSError, ValueError):
                return None  # a name that is not a number, a file removed while read
            if expected != _digest_of(messages):
                logger.warning(
                    "the 20 Newsgroups cache %s does not match its checksums; rebuilding it "
                    "from the archive",
                    self.folder,
                )
                return None
            out[(split_folder, group)] = messages
        return out

    def builder(self, groups: Iterable[Key]) -> CacheBuilder | None:
        """A builder for a new copy, or None when the cache folder cannot be written."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            _remove_stale(self.root)
            tmp = tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=self.root)
        except OSError:
            return None
        return CacheBuilder(self, Path(tmp), groups)


def _read_folder(folder: Path) -> list[tuple[str, bytes]]:
    """(name, data) of each file of a folder; ValueError for anything but small files."""
    messages = []
    # no link is followed and a FIFO does not block: anything but a regular file is refused
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    folder_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        for name in sorted(os.listdir(folder_fd), key=_number_order):
            fd = os.open(name, flags, dir_fd=folder_fd)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_MEMBER_BYTES:
                    raise ValueError(name)
                messages.append((name, os.read(fd, st.st_size)))
            finally:
                os.close(fd)
    finally:
        os.close(folder_fd)
    return messages


def _digest_of(messages: list[tuple[str, bytes]]) -> str | None:
    if not messages:
        return None
    return _group_digest((name, hashlib.sha256(data).digest()) for name, data in messages)


class CacheBuilder:
    """Writes the members of an archive into a temporary folder, then renames it into place.

    Use it as a context manager: leaving it without :meth:`commit` (an error, an
    interrupt) removes the temporary folder.
    """

    def __init__(self, target: ExtractedArchive, tmp: Path, groups: Iterable[Key]) -> None:
        self.target = target
        self.tmp = tmp
        self.groups: dict[Key, dict[str, bytes]] = {key: {} for key in groups}
        self.usable = True

    def __enter__(self) -> CacheBuilder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def spoil(self) -> None:
        """The archive holds something the cache cannot stand for: make no cache."""
        self.usable = False

    def add(self, key: Key, name: str, data: bytes) -> None:
        """Write one message (``key``: its split's folder and newsgroup)."""
        if not self.usable:
            return
        if key not in self.groups or not _NUMBER.fullmatch(name):
            self.spoil()  # a name the cache does not keep: read such an archive every time
            return
        folder = os.path.join(self.tmp, key[0], key[1])
        try:
            if not self.groups[key]:
                os.makedirs(folder, exist_ok=True)
            fd = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        except OSError:
            self.spoil()  # a full disk or a read-only folder: no cache this time
            return
        self.groups[key][name] = hashlib.sha256(data).digest()

    def commit(self) -> None:
        """Put the complete copy in place (replacing an old or damaged one)."""
        if not self.usable:
            return
        groups = {}
        for (split_folder, group), members in self.groups.items():
            ordered = sorted(members.items(), key=lambda item: _number_order(item[0]))
            groups[f"{split_folder}/{group}"] = _group_digest(ordered) if ordered else None
        manifest = {**self.target.identity, "groups": groups}
        folder = self.target.folder
        try:
            (self.tmp / _MANIFEST).write_text(json.dumps(manifest, indent=0), encoding="utf-8")
            if folder.exists():
                old = tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=self.target.root)
                os.replace(folder, os.path.join(old, "old"))
                shutil.rmtree(old, ignore_errors=True)
            os.rename(self.tmp, folder)
        except OSError:
            return  # another process put its copy in place first, or the folder is read-only
        self.tmp = None  # type: ignore[assignment]


def _remove_stale(root: Path) -> None:
    """Remove temporary folders whose process is gone (a killed build)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(root):
            if not entry.name.startswith(_TMP_PREFIX):
                continue
            pid = entry.name[len(_TMP_PREFIX) :].partition("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process
    return True
