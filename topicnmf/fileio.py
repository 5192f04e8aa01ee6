"""Safe file writing and bounded reading.

Writing
-------
Every output goes through :func:`resolve_output`, which decides what a path means:

* a regular file, or a name that does not exist yet: written to a temporary sibling and
  renamed into place only when complete (:func:`atomic_write`), so a failed, interrupted or
  killed run never leaves a truncated file and an existing file stays as it was. A
  replaced file keeps its permission bits (and, when this process may set it, its owner).
* a symbolic link: its target is what gets replaced, atomically, in the target's folder;
  the link itself stays. A dangling link creates its target.
* a character device or a FIFO (``/dev/null``, ``/dev/stdout``, ``<(...)``): written into,
  as a shell's ``>`` would, never replaced. A FIFO that no process reads is refused
  rather than waited on.
* this process's own standard output (``/dev/stdout``, ``/proc/self/fd/1``, or a file
  that is stdout): written through standard output.
* a directory, a block device or a socket: refused.

Temporary files are named ``.topicnmf-tmp-<host>-<pid>-<random>.tmp``. One that a killed
run left behind (its process gone) is removed by the next write into that folder.

A caller that must refuse to commit (a stop was requested) or wants to know what was
committed installs :class:`WriteHooks` for the duration of its work with
:func:`write_hooks`; the library itself keeps no state between calls.

Reading
-------
:func:`read_small_file` reads an auxiliary file (a stop-word list, a seed-topics file) only
if it is a regular file under a size bound, so ``/dev/zero`` or a FIFO fails at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import hashlib
import os
import secrets
import socket
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from topicnmf.errors import OutputError, TopicNMFError

TEMP_PREFIX = ".topicnmf-tmp-"
_STALE_AFTER_SECONDS = 5.0  # a temp file younger than this may belong to a starting run

# auxiliary input files (stop words, seed topics, ...) larger than this are refused
MAX_AUX_FILE_BYTES = 10 * 1024 * 1024


# --------------------------------------------------------------------------- hooks


class WriteHooks(Protocol):
    """What a caller may watch or veto around each commit of :func:`atomic_write`."""

    def before_commit(self, path: str) -> None:
        """Called just before the rename; raise to prevent the commit."""

    def after_commit(self, path: str) -> None:
        """Called once ``path`` is in place."""


_hooks: contextvars.ContextVar[WriteHooks | None] = contextvars.ContextVar(
    "topicnmf_write_hooks", default=None
)


@contextlib.contextmanager
def write_hooks(hooks: WriteHooks) -> Iterator[WriteHooks]:
    """Install ``hooks`` for the writes made inside the ``with`` block."""
    token = _hooks.set(hooks)
    try:
        yield hooks
    finally:
        _hooks.reset(token)


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class OutputTarget:
    """What writing to a path means (see the module docstring).

    Attributes
    ----------
    given : str
        The path as given (for messages).
    kind : {"file", "stream", "stdout"}
        Replace a regular file atomically, write into a device or FIFO, or use stdout.
    path : str
        For "file": the path that is replaced (a link's target); for "stream": the path
        opened for writing.
    identity : tuple
        (device, inode) of what exists there now, or ("path", realpath) for a new file:
        two targets with the same identity are the same output.
    """

    given: str
    kind: str
    path: str
    identity: tuple[Any, ...]


def _show(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    return repr(text)


def _stdout_identity() -> tuple[int, int] | None:
    with contextlib.suppress(OSError, ValueError, AttributeError):
        st = os.fstat(1)
        return (st.st_dev, st.st_ino)
    return None


def _resolve_link_target(path: str) -> str:
    """The path a chain of symbolic links ends at (it may not exist), made absolute."""
    return os.path.realpath(path)


def resolve_output(path: str | os.PathLike[str]) -> OutputTarget:
    """Decide how ``path`` will be written, and check that it can be, before any work.

    Raises
    ------
    OutputError
        The path is a directory, a block device or a socket, its folder is missing or not
        writable, a FIFO there has no reader, or the file is read-only.
    """
    given = os.fspath(path)
    if given == "-":
        return OutputTarget(given, "stdout", given, ("stdout",))
    if given == "":
        raise OutputError("an output path is empty; give a file name", path=given)
    try:
        st = os.stat(given)  # follows links
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise OutputError(
            f"cannot write {_show(given)}: a part of the path is a file, not a folder",
            path=given,
        ) from None
    except OSError as exc:
        raise OutputError(
            f"cannot write {_show(given)}: {os_error_reason(exc)}", path=given
        ) from None
    if st is not None:
        if (st.st_dev, st.st_ino) == _stdout_identity() and (
            not stat.S_ISREG(st.st_mode) or given.startswith(("/dev/", "/proc/"))
        ):
            return OutputTarget(given, "stdout", given, (st.st_dev, st.st_ino))
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            raise OutputError(
                f"cannot write {_show(given)}: it is a directory; give a file name", path=given
            )
        if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
            return OutputTarget(given, "stream", given, (st.st_dev, st.st_ino))
        if not stat.S_ISREG(mode):
            what = "a block device" if stat.S_ISBLK(mode) else "a socket or special file"
            raise OutputError(
                f"cannot write {_show(given)}: it is {what}, not a file; give a file name",
                path=given,
            )
        final = _resolve_link_target(given)
        if not os.access(final, os.W_OK):
            raise OutputError(f"cannot write {_show(given)}: the file is read-only", path=given)
        _check_folder(given, os.path.dirname(final))
        return OutputTarget(given, "file", final, (st.st_dev, st.st_ino))
    final = _resolve_link_target(given)
    _check_folder(given, os.path.dirname(final))
    return OutputTarget(given, "file", final, ("path", final))


def _check_folder(given: str, folder: str) -> None:
    folder = folder or "."
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OutputError(
            f"cannot write {_show(given)}: {_show(folder)} is a file, not a folder; "
            "give a path in an existing folder",
            path=given,
        )
    if not os.path.isdir(folder):
        raise OutputError(
            f"cannot write {_show(given)}: folder {_show(folder)} does not exist; create it first",
            path=given,
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {_show(given)}: no permission to write in folder {_show(folder)}",
            path=given,
        )


def check_writable(path: str | os.PathLike[str]) -> OutputTarget:
    """Fail early, before hours of work, if ``path`` cannot be written (see
    :func:`resolve_output`)."""
    return resolve_output(path)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two existing paths are the same file (device and inode, not names)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def file_identity(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(device, inode) of an existing path (links followed), else None."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


# --------------------------------------------------------------------------- errors


def os_error_reason(exc: OSError) -> str:
    """A short, plain reason for an OSError ("the disk is full", "permission denied", ...)."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EFBIG: "the file is too large for the file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.EIO: "input/output error (a failing disk or network file system?)",
        errno.ENXIO: "no process is reading from it",
        errno.EPIPE: "the reader has gone",
    }
    return reasons.get(exc.errno or 0) or exc.strerror or str(exc)


def _describe_os_error(path: str, exc: OSError) -> str:
    return (
        f"could not write {_show(path)}: {os_error_reason(exc)}; "
        "the previous file (if any) was left unchanged"
    )


# --------------------------------------------------------------------------- temp files

_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _temp_name(folder: str) -> str:
    return os.path.join(folder, f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-{secrets.token_hex(4)}.tmp")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists (someone else's), or we cannot tell: keep its file
    return True


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[str]:
    """Remove temporary files of this tool in ``folder`` whose process has ended.

    Only files written on this host, by a process that no longer exists, and older than a
    few seconds are removed. Returns the names removed.
    """
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(TEMP_PREFIX) and name.endswith(".tmp")):
            continue
        parts = name[len(TEMP_PREFIX) : -4].split("-")
        if len(parts) != 3 or parts[0] != _HOST or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < _STALE_AFTER_SECONDS:
                continue
            os.unlink(entry.path)
            removed.append(name)
    return removed


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str] | OutputTarget,
    mode: str = "w",
    *,
    encoding: str = "utf-8",
    newline: str = "",
) -> Iterator[IO[Any]]:
    """Open ``path`` for writing as :func:`resolve_output` describes; commit on success.

    For a regular file (the usual case) the data goes to a temporary sibling that replaces
    ``path`` only when the ``with`` block ends without an exception; a device or FIFO is
    written into directly; standard output is written through ``sys.stdout``.

    Parameters
    ----------
    path : path-like or OutputTarget
        The destination (resolved now if not already).
    mode : {"w", "wb"}
        Text or binary.
    encoding, newline : str
        Passed to :func:`open` in text mode (``newline=""`` keeps CSV line endings exact).

    Raises
    ------
    OutputError
        When the destination cannot be written or a write fails (disk full, ...).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    target = path if isinstance(path, OutputTarget) else resolve_output(path)
    if target.kind == "stdout":
        yield from _write_stdout(mode)
        return
    if target.kind == "stream":
        yield from _write_stream(target, mode, encoding, newline)
        return
    yield from _write_file(target, mode, encoding, newline)


def _write_stdout(mode: str) -> Iterator[IO[Any]]:
    stream = sys.stdout
    if stream is None:
        raise OutputError("standard output is closed; give an output file instead")
    if mode == "wb":
        binary = getattr(stream, "buffer", None)
        if binary is None:
            raise OutputError("standard output does not take bytes; give an output file")
        stream.flush()
        yield binary
        binary.flush()
    else:
        yield stream
        stream.flush()


def _write_stream(
    target: OutputTarget, mode: str, encoding: str, newline: str
) -> Iterator[IO[Any]]:
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        # O_NONBLOCK: a FIFO with no reader fails (ENXIO) instead of waiting for one
        fd = os.open(target.path, flags | os.O_NONBLOCK)
        os.set_blocking(fd, True)
    except OSError as exc:
        raise OutputError(
            f"cannot write {_show(target.given)}: {os_error_reason(exc)}", path=target.given
        ) from None
    if mode == "wb":
        fh: IO[Any] = os.fdopen(fd, "wb")
    else:
        fh = os.fdopen(fd, "w", encoding=encoding, newline=newline)
    try:
        with fh:
            yield fh
    except OSError as exc:
        raise OutputError(
            f"could not write {_show(target.given)}: {os_error_reason(exc)}", path=target.given
        ) from exc


def _write_file(target: OutputTarget, mode: str, encoding: str, newline: str) -> Iterator[IO[Any]]:
    final = target.path
    folder = os.path.dirname(final) or "."
    remove_stale_temp_files(folder)
    try:
        existing = os.stat(final)
    except OSError:
        existing = None
    tmp = _temp_name(folder)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        # 0o666: the process's umask applies, as for any new file; an existing file's
        # permission bits are copied below
        fd = os.open(tmp, flags, 0o666)
    except OSError as exc:
        raise OutputError(_describe_os_error(target.given, exc), path=target.given) from exc
    committed = False
    try:
        if mode == "wb":
            fh: IO[Any] = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        try:
            with fh:
                yield fh
                fh.flush()
                if existing is not None:
                    _copy_ownership(fh.fileno(), existing)
                os.fsync(fh.fileno())
        except OSError as exc:
            raise OutputError(_describe_os_error(target.given, exc), path=target.given) from exc
        hooks = _hooks.get()
        if hooks is not None:
            hooks.before_commit(target.given)
        try:
            os.replace(tmp, final)
        except OSError as exc:
            raise OutputError(_describe_os_error(target.given, exc), path=target.given) from exc
        committed = True
        _sync_folder(folder)
        if hooks is not None:
            hooks.after_commit(target.given)
    finally:
        if not committed:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _copy_ownership(fd: int, existing: os.stat_result) -> None:
    """Give the new file the permission bits (and owner, where allowed) of the old one."""
    with contextlib.suppress(OSError, AttributeError):
        if (existing.st_uid, existing.st_gid) != (os.geteuid(), os.getegid()):
            os.fchown(fd, existing.st_uid, existing.st_gid)
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (best effort: not every system can sync a folder)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- reading


def read_small_file(
    path: str | os.PathLike[str],
    *,
    what: str,
    param: str | None = None,
    limit: int = MAX_AUX_FILE_BYTES,
    error: type[TopicNMFError] = TopicNMFError,
) -> bytes:
    """The bytes of an auxiliary file that must be a regular file of at most ``limit`` bytes.

    A device, FIFO or folder is refused without reading, so ``/dev/zero`` cannot fill the
    memory and a FIFO cannot block. ``what`` names the file in messages ("stop-words
    file"); ``error`` is the exception raised (with ``param`` and ``path`` set).
    """
    shown = _show(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{what} {shown} not found", param=param, path=path) from None
    except OSError as exc:
        raise error(
            f"cannot read {what} {shown}: {os_error_reason(exc)}", param=param, path=path
        ) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        # checked before fdopen, which refuses a folder with an IsADirectoryError
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise error(f"{what} {shown} is {kind}; give a text file", param=param, path=path)
    with os.fdopen(fd, "rb") as fh:
        if st.st_size > limit:
            raise error(
                f"{what} {shown} is {st.st_size:,} bytes, more than the {limit:,} allowed",
                param=param,
                path=path,
            )
        os.set_blocking(fd, True)
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise error(
                f"cannot read {what} {shown}: {os_error_reason(exc)}", param=param, path=path
            ) from None
    if len(data) > limit:
        raise error(
            f"{what} {shown} is more than the {limit:,} bytes allowed", param=param, path=path
        )
    return data


def path_is_inside(child: str | os.PathLike[str], folder: str | os.PathLike[str]) -> bool:
    """Whether ``child`` (resolved) lies inside ``folder`` (resolved)."""
    try:
        c = Path(os.path.realpath(child))
        f = Path(os.path.realpath(folder))
    except (OSError, ValueError):
        return False
    return c == f or f in c.parents
