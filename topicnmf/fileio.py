"""Safe file writing: every output appears whole or not at all.

A file is written to a temporary sibling (same folder, so the final rename never crosses
file systems) and moved into place with ``os.replace`` only after it has been written and
flushed. If anything goes wrong on the way (an exception, Ctrl-C, SIGTERM turned into an
exception by the CLI, a full disk) the temporary file is removed and any existing file at
the destination is left untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from topicnmf.errors import OutputError

# Temporary files start with this prefix so that a crash that could not clean up (SIGKILL,
# power loss) leaves something a person can recognise and delete.
TEMP_PREFIX = ".topicnmf-tmp-"


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early, before hours of work, if ``path`` cannot be written.

    Checks that the parent folder exists and is writable, and that ``path`` is not a folder.
    Raises :class:`OutputError` with a message saying what to do.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise OutputError(f"cannot write {str(p)!r}: it is a directory; give a file name")
    if parent.exists() and not parent.is_dir():
        raise OutputError(
            f"cannot write {str(p)!r}: {str(parent)!r} is a file, not a folder; "
            "give a path in an existing folder"
        )
    if not parent.is_dir():
        raise OutputError(
            f"cannot write {str(p)!r}: folder {str(parent)!r} does not exist; create it first"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {str(p)!r}: no permission to write in folder {str(parent)!r}"
        )
    if p.exists() and not os.access(p, os.W_OK):
        raise OutputError(f"cannot write {str(p)!r}: the file is read-only")
    return p


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
    }
    return reasons.get(exc.errno or 0) or exc.strerror or str(exc)


def _describe_os_error(path: Path, exc: OSError) -> str:
    return (
        f"could not write {str(path)!r}: {os_error_reason(exc)}; "
        "the previous file (if any) was left unchanged"
    )


# Files this process has renamed into place, in order (the CLI names them when a run is
# interrupted after some of its outputs were written).
_committed: list[str] = []


def committed_files() -> list[str]:
    """Paths written (renamed into place) by :func:`atomic_write` since the last reset."""
    return list(_committed)


def reset_committed_files() -> None:
    _committed.clear()
    global _stop_request
    _stop_request = None


# A stop (Ctrl-C, SIGTERM) recorded by the command line's signal handler. The handler also
# raises, but Python drops an exception raised inside a weakref callback or a __del__
# method (the handler can run inside one, e.g. while a module is being imported), and some
# third-party code catches everything; so no output is committed once a stop was asked for.
_stop_request: BaseException | None = None


def stop_requested() -> BaseException | None:
    """The stop recorded by :func:`request_stop` in this command, if any."""
    return _stop_request


def request_stop(exc: BaseException) -> None:
    """Record a stop: from now on :func:`atomic_write` raises ``exc`` instead of committing."""
    global _stop_request
    _stop_request = exc


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str = "utf-8", newline: str = ""
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    Parameters
    ----------
    path : path-like
        The final destination.
    mode : {"w", "wb"}
        Text or binary.
    encoding, newline : str
        Passed to :func:`open` in text mode (``newline=""`` keeps CSV line endings exact).

    Raises
    ------
    OutputError
        When the folder is missing or not writable, or a write fails (disk full, ...).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    final = check_writable(path)
    folder = final.parent if str(final.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".tmp", dir=folder)
    except OSError as exc:
        raise OutputError(_describe_os_error(final, exc)) from exc
    tmp = Path(tmp_name)
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
                os.fsync(fh.fileno())
        except OSError as exc:
            raise OutputError(_describe_os_error(final, exc)) from exc
        try:
            # mkstemp creates files readable only by the owner; give the result the usual mode.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            if _stop_request is not None:
                raise _stop_request
            os.replace(tmp, final)
        except OSError as exc:
            raise OutputError(_describe_os_error(final, exc)) from exc
        committed = True
        _committed.append(str(path))
        _sync_folder(folder)
    finally:
        if not committed:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system can sync a folder)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
