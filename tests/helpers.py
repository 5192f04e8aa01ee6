"""Helpers shared by the test modules: paths, the 20 Newsgroups archive, the command-line
runner, and crafted (damaged or hostile) model files. Test modules import from here, never
from each other."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_corpora"
SHARED_DATA = ROOT.parent / "shared" / "data"
NEWS_ARCHIVE = SHARED_DATA / "20news-bydate.tar.gz"
NEWS_SKIP_REASON = (
    f"the 20 Newsgroups archive is not at {NEWS_ARCHIVE} (it is in the development and CI "
    "workspace, not in a fresh clone)"
)
#: mark a test that reads the real 20 Newsgroups archive
requires_newsgroups = pytest.mark.skipif(not NEWS_ARCHIVE.exists(), reason=NEWS_SKIP_REASON)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
GiB = 1024**3


# -- the command line -------------------------------------------------------------------------


def run(args: list[Any], input: str | bytes | None = None, env: dict | None = None) -> Result:
    """Run ``topicnmf ARGS`` in-process (paths may be Path objects)."""
    from topicnmf.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)


def ok(args: list[Any], **kw: Any) -> Result:
    """Run and assert success (exit 0)."""
    result = run(args, **kw)
    assert result.exit_code == 0, (args, result.exit_code, result.stderr, result.exception)
    return result


def fails(args: list[Any], code: int, fragment: str, **kw: Any) -> Result:
    """Run and assert the exit code, the fragment on stderr, and no traceback."""
    result = run(args, **kw)
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    return result


# -- crafting model files ---------------------------------------------------------------------


def model_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def write_arrays(path: Path, arrays: dict[str, Any], compressed: bool = False) -> Path:
    with path.open("wb") as fh:
        (np.savez_compressed if compressed else np.savez)(fh, **arrays)
    return path


def npy_bytes(shape: tuple[int, ...], descr: str = "<f4", data: bytes = b"") -> bytes:
    """An .npy member with the header we choose, followed by ``data`` (maybe too short)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue() + data


@dataclass
class Member:
    """One zip member as it is stored, with the directory entry free to lie about it."""

    name: str
    data: bytes  # the bytes stored in the archive (already compressed when method=8)
    method: int = 0  # 0 stored, 8 deflated, anything else is unusual
    flags: int = 0  # bit 0: encrypted
    size: int | None = None  # declared uncompressed size (default: true size)
    csize: int | None = None  # declared compressed size (default: len(data))
    crc: int | None = None


def deflated(name: str, payload: bytes, **kw: Any) -> Member:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = comp.compress(payload) + comp.flush()
    return Member(name, data, method=8, size=kw.pop("size", len(payload)),
                  crc=zlib.crc32(payload), **kw)  # fmt: skip


def raw_zip(members: list[Member]) -> bytes:
    """A zip archive written by hand, so the central directory can declare any sizes.

    Sizes of 4 GiB and more are declared through the ZIP64 extra field, as a real
    ZIP64 archive does.
    """
    out = io.BytesIO()
    central = io.BytesIO()
    for m in members:
        name = m.name.encode()
        crc = zlib.crc32(m.data) if m.crc is None else m.crc
        size = len(m.data) if m.size is None else m.size
        csize = len(m.data) if m.csize is None else m.csize
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, m.flags, m.method, 0, 0x21,
                              crc, len(m.data), len(m.data), len(name), 0))  # fmt: skip
        out.write(name + m.data)
        extra = b""
        if size >= 0xFFFFFFFF or csize >= 0xFFFFFFFF:
            extra = struct.pack("<HHQQ", 1, 16, size, csize)
            size = csize = 0xFFFFFFFF
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 45, 45, m.flags, m.method, 0,
                                  0x21, crc, csize, size, len(name), len(extra), 0, 0, 0, 0,
                                  offset))  # fmt: skip
        central.write(name + extra)
    cd = central.getvalue()
    start = out.tell()
    out.write(cd)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                          len(cd), start, 0))  # fmt: skip
    return out.getvalue()


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def pickled_model(arrays: dict[str, np.ndarray], path: Path, marker: Path) -> Path:
    """A model file whose labels are object arrays that, if unpickled, create ``marker``."""

    class Evil:
        def __reduce__(self) -> tuple:
            return (Path.touch, (marker,))

    arrays = dict(arrays)
    arrays["labels"] = np.array([Evil()] * len(arrays["labels"]), dtype=object)
    return write_arrays(path, arrays)
