"""Every bad input the command line can meet, in one table.

Each case runs through click's CliRunner in a fresh folder and must end the same way:
the expected exit code (1 for a bad input or file, 2 for a usage error), the expected
fragment on stderr, no traceback, nothing on stdout, and no file created or changed.
Exit-1 cases print exactly one line, starting with "Error: ".

The helpers that craft model files (``model_arrays``, ``write_arrays``, ``raw_zip``,
``npy_bytes``) are shared with tests/test_faults.py.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import re
import shutil
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
from click.testing import CliRunner

from tests.helpers import (
    IS_ROOT,
    GiB,
    Member,
    deflated,
    model_arrays,
    npy_bytes,
    pickled_model,
    raw_zip,
    write_arrays,
    zip_of,
)
from topicnmf.cli import cli
from topicnmf.model import FORMAT_VERSION

# -- the context a case builds its files in ----------------------------------------------------


@dataclass
class Ctx:
    tmp: Path
    corpus: Path  # 18 small text files on three themes
    model: Path  # a valid model file
    marker: Path = field(init=False)  # a pickle in a hostile model would create this

    def __post_init__(self) -> None:
        self.marker = self.tmp / "PWNED"

    def file(self, name: str, content: str | bytes) -> Path:
        p = self.tmp / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content, encoding="utf-8")
        return p

    def dir(self, name: str, files: dict[str, str] | None = None) -> Path:
        d = self.tmp / name
        d.mkdir()
        for fname, text in (files or {}).items():
            (d / fname).write_text(text, encoding="utf-8")
        return d

    def arrays(self) -> dict[str, np.ndarray]:
        return model_arrays(self.model)

    def npz(self, name: str = "bad.npz", **changes: Any) -> Path:
        """The valid model with arrays replaced (a value) or removed (None)."""
        arrays = self.arrays()
        for key, value in changes.items():
            if value is None:
                arrays.pop(key)
            else:
                arrays[key] = value(arrays) if callable(value) else value
        return write_arrays(self.tmp / name, arrays)

    def meta(self, edit: Callable[[dict], Any]) -> Path:
        meta = json.loads(str(self.arrays()["meta"]))
        edit(meta)
        return self.npz(meta=np.array(json.dumps(meta)))

    def member(self, key: str, raw: bytes) -> Path:
        """The valid model with one member's bytes replaced by ``raw`` (an .npy we made)."""
        members = {}
        for k, a in self.arrays().items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, a, allow_pickle=False)
            members[k + ".npy"] = buf.getvalue()
        members[key + ".npy"] = raw
        return zip_of(self.tmp / "bad.npz", members)

    def raw_member(self, key: str, member: Member) -> Path:
        """The valid model (stored members) with one member replaced by a crafted one."""
        members = []
        for k, a in self.arrays().items():
            if k != key:
                buf = io.BytesIO()
                np.lib.format.write_array(buf, a, allow_pickle=False)
                members.append(Member(k + ".npy", buf.getvalue()))
        return self.file("bad.npz", raw_zip([*members, member]))

    def pickled(self) -> Path:
        return pickled_model(self.arrays(), self.tmp / "evil.npz", self.marker)

    def patched_zip(self, patch: Callable[[bytearray], None]) -> Path:
        data = bytearray(self.model.read_bytes())
        patch(data)
        return self.file("bad.npz", bytes(data))


def _set_h_value(value: float) -> Callable[[dict], np.ndarray]:
    def make(a: dict) -> np.ndarray:
        H = a["H"].copy()
        H[0, 0] = value
        return H

    return make


def _lie_about_method(data: bytearray) -> None:
    # every local header and central-directory entry says "compression method 99"
    for sig, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        i = data.find(sig)
        while i >= 0:
            data[i + at : i + at + 2] = (99).to_bytes(2, "little")
            i = data.find(sig, i + 4)


def _flip_encrypted(data: bytearray) -> None:
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        while i >= 0:
            data[i + at] |= 1
            i = data.find(sig, i + 4)


def _corrupt_h_data(c: Ctx) -> Path:
    # stored (uncompressed) archive: change a byte of H's data so its CRC no longer matches
    p = write_arrays(c.tmp / "bad.npz", c.arrays())
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo("H.npy")
    data = bytearray(p.read_bytes())
    at = info.header_offset
    name_len, extra_len = struct.unpack("<2H", data[at + 26 : at + 30])
    start = at + 30 + name_len + extra_len  # the member's first byte
    data[start + info.file_size - 2] ^= 0xFF  # in the array data, past the .npy header
    p.write_bytes(bytes(data))
    return p


# -- the table -------------------------------------------------------------------------------


class Case(NamedTuple):
    id: str
    make: Callable[[Ctx], list[Any]]  # builds what the case needs; returns the arguments
    code: int
    fragment: str
    stdin: str | bytes | None = None
    env: dict[str, str] | None = None
    needs_non_root: bool = False  # root ignores file permissions
    hide_numba: bool = False  # run as if numba were not installed


H_WITHOUT_LAST_COLUMN = {"H": lambda a: np.ascontiguousarray(a["H"][:, :-1])}


def _drop_first_offset(a: dict[str, np.ndarray]) -> np.ndarray:
    return a["vec_vocabulary_offsets"][1:]


def _reversed_vocabulary(c: Ctx) -> dict[str, np.ndarray]:
    from topicnmf.packing import pack_strings, unpack_strings

    a = c.arrays()
    terms = unpack_strings(a["vec_vocabulary_utf8"], a["vec_vocabulary_offsets"])
    data, offsets = pack_strings(terms[::-1])
    return {"vec_vocabulary_utf8": data, "vec_vocabulary_offsets": offsets}


def _doc_topics(c: Ctx, n: int | None = None, **changes: Any) -> Path:
    """The valid model with training weights and ids of ``n`` documents (default: all)."""
    a = c.arrays()
    n = int(a["vec_n_documents"]) if n is None else n
    k = a["H"].shape[0]
    data = "".join(f"d{i}" for i in range(n)).encode()
    offsets = np.cumsum([0] + [len(f"d{i}") for i in range(n)])
    stored = {"W": np.ones((n, k), np.float32), "doc_ids_utf8": np.frombuffer(data, np.uint8),
              "doc_ids_offsets": offsets}  # fmt: skip
    for key, change in changes.items():
        stored[key] = change(stored) if callable(change) else change
    return c.npz(**stored)


def _three_documents(c: Ctx) -> Path:
    # a model of 4 topics that says it was fitted on 3 documents, consistently everywhere
    meta = json.loads(str(c.arrays()["meta"]))
    meta["stats"]["n_documents"] = 3
    return c.npz(
        meta=np.array(json.dumps(meta)),
        vec_n_documents=np.array(3),
        ref_n_documents=np.array(3),
        ref_docs=lambda a: np.minimum(a["ref_docs"], 2),
        vec_document_frequency=lambda a: np.minimum(a["vec_document_frequency"], 3),
    )


def _more_topics_than_terms(c: Ctx) -> Path:
    # 3 terms, 4 topics: every array agrees with the others, but no fit makes such a model
    from topicnmf.packing import pack_strings, unpack_strings

    a = c.arrays()
    terms = unpack_strings(a["vec_vocabulary_utf8"], a["vec_vocabulary_offsets"])[:3]
    data, offsets = pack_strings(terms)
    return c.npz(H=np.full((4, 3), 1 / 3, np.float32), vec_vocabulary_utf8=data,
                 vec_vocabulary_offsets=offsets, vec_idf=a["vec_idf"][:3],
                 vec_document_frequency=a["vec_document_frequency"][:3],
                 ref_columns=np.arange(3), ref_indptr=np.zeros(4, np.int64),
                 ref_docs=np.zeros(0, np.int32))  # fmt: skip


def _patch_deflated(c: Ctx, key: str, where: float) -> Path:
    """The valid model, deflated, with a byte of ``key``'s compressed data inverted at
    ``where`` (0 = its first byte, 0.5 = its middle)."""
    p = write_arrays(c.tmp / "bad.npz", c.arrays(), compressed=True)
    with zipfile.ZipFile(p) as zf:
        info = zf.getinfo(key + ".npy")
    data = bytearray(p.read_bytes())
    at = info.header_offset
    name_len, extra_len = struct.unpack("<2H", data[at + 26 : at + 30])
    start = at + 30 + name_len + extra_len
    data[start + int(where * (info.compress_size - 1))] ^= 0xFF
    p.write_bytes(bytes(data))
    return p


def _zeros_member(name: str, shape: tuple[int, ...], descr: str = "<f4") -> Member:
    return deflated(name, npy_bytes(shape, descr, b"\x00" * (4 * math.prod(shape))))


CASES: list[Case] = [
    # ---- corpus sources -------------------------------------------------------------------
    Case("missing path", lambda c: ["fit", c.tmp / "nope"], 1, "nope"),
    Case("missing path (assign)", lambda c: ["assign", "-m", c.model, c.tmp / "nope"], 1, "nope"),
    Case("empty directory", lambda c: ["fit", c.dir("empty")], 1, "empty directory"),
    Case("no file matches the default glob",
         lambda c: ["fit", c.dir("md", {"a.md": "hello world"})], 1, "--glob"),
    Case("no file matches --glob", lambda c: ["fit", c.corpus, "--glob", "*.rst"], 1, "*.rst"),
    Case("directory of binary files only",
         lambda c: ["fit", c.dir("bin", {"a.txt": "\x00\x01\x02" * 40})], 1, "no documents"),
    Case("empty file", lambda c: ["fit", c.file("empty.txt", "")], 1, "no documents"),
    Case("blank lines only", lambda c: ["fit", c.file("blank.txt", "\n  \n\t\n")], 1,
         "no documents"),
    Case("empty stdin", lambda c: ["fit", "-"], 1, "no documents", stdin=""),
    Case("empty stdin (assign)", lambda c: ["assign", "-m", c.model, "-"], 1, "no documents",
         stdin=""),
    Case("the same source twice", lambda c: ["fit", c.corpus, c.corpus], 1, "twice"),
    Case("csv without the text column",
         lambda c: ["fit", c.file("nocol.csv", "id,title,body\n1,a,b\n")], 1, "id, title, body"),
    Case("csv: --text-column names no column",
         lambda c: ["fit", c.file("d.csv", "id,text\n1,a b\n"), "--text-column", "body"], 1,
         "--text-column"),
    Case("csv: --id-column names no column",
         lambda c: ["fit", c.file("d.csv", "id,text\n1,a b\n"), "--id-column", "key"], 1, "key"),
    Case("csv: duplicate ids",
         lambda c: ["fit", c.file("d.csv", "id,text\n1,a b\n1,c d\n"), "--id-column", "id"], 1,
         "'1'"),
    Case("csv: header only", lambda c: ["fit", c.file("h.csv", "id,text\n")], 1, "no rows"),
    Case("file that does not decode",
         lambda c: ["fit", c.file("latin.txt", "caf\xe9 cr\xe8me\n".encode("latin-1"))], 1,
         "--encoding latin-1"),
    Case("csv that does not decode",
         lambda c: ["fit", c.file("l.csv", "id,text\n1,caf\xe9\n".encode("latin-1"))], 1,
         "--encoding latin-1"),
    Case("file that does not decode (assign)",
         lambda c: ["assign", "-m", c.model, c.file("latin.txt", b"caf\xe9\n")], 1,
         "--encoding latin-1"),
    Case("unknown --encoding", lambda c: ["fit", c.corpus, "--encoding", "klingon-8"], 2,
         "klingon-8"),
    Case("jsonl: a bad line",
         lambda c: ["fit", c.file("d.jsonl", '{"text": "a b"}\n{"text": "c d"}\n{"text": oops\n')],
         1, "line 3"),
    Case("jsonl: a line that is not an object",
         lambda c: ["fit", c.file("d.jsonl", '{"text": "a b"}\n[1, 2]\n')], 1, "line 2"),
    Case("jsonl: a line without the text field",
         lambda c: ["fit", c.file("d.jsonl", '{"text": "a b"}\n{"body": "c"}\n')], 1,
         "--text-column"),
    Case("jsonl: deeply nested line",
         lambda c: ["fit", c.file("d.jsonl", "[" * 100_000 + "\n")], 1, "line 1"),
    Case("gzip that is cut short",
         lambda c: ["fit", c.file("d.txt.gz", gzip.compress(b"alpha beta\n" * 500)[:40])], 1,
         "gzip"),
    Case("JSON Lines in a .json file",
         lambda c: ["fit", c.file("d.json", '{"text": "a"}\n{"text": "b"}\n')], 1,
         "one object per line is JSON Lines; give the format with --input-format"),
    Case("a .json file that is not valid JSON",
         lambda c: ["fit", c.file("d.json", '[{"text": "a"},\n {"text": "b"},\n]')], 1,
         "d.json is not valid JSON at line 3 column 1: a ',' before ']'"),
    Case("unknown 20newsgroups category",
         lambda c: ["fit", "20newsgroups", "--categories", "rec.nope", "--data-home", c.tmp],
         2, "rec.nope"),
    Case("unknown 20newsgroups split",
         lambda c: ["fit", "20newsgroups:later", "--data-home", c.tmp], 1, "later"),
    Case("--remove with an unknown part", lambda c: ["fit", c.corpus, "--remove", "bodies"], 2,
         "bodies"),
    Case("unknown --input-format", lambda c: ["fit", c.corpus, "--input-format", "xml"], 2,
         "xml"),
    Case("no corpus given", lambda c: ["fit"], 2, "Missing argument"),
    Case("no corpus given (assign)", lambda c: ["assign", "-m", c.model], 2, "Missing argument"),
    # ---- fit settings ---------------------------------------------------------------------
    Case("-k 0", lambda c: ["fit", c.corpus, "-k", "0"], 2, "-k"),
    Case("-k negative", lambda c: ["fit", c.corpus, "-k", "-3"], 2, "-k"),
    Case("-k not a number", lambda c: ["fit", c.corpus, "-k", "ten"], 2, "ten"),
    Case("-k larger than the documents", lambda c: ["fit", c.corpus, "-k", "50"], 1,
         "18 documents"),
    Case("-k larger than the terms",
         lambda c: ["fit", c.corpus, "-k", "17", "--max-features", "5"], 1, "5 terms"),
    Case("empty vocabulary after stop words",
         lambda c: ["fit", c.file("stops.txt", "the and of\nit is a\nthe of and\n"), "-k", "1"], 1,
         "stop words"),
    Case("empty vocabulary after --min-df", lambda c: ["fit", c.corpus, "--min-df", "100"], 1,
         "--min-df"),
    Case("empty vocabulary after --max-df",
         lambda c: ["fit", c.corpus, "--min-df", "1", "--max-df", "1"], 1, "--max-df"),
    Case("token pattern that matches nothing",
         lambda c: ["fit", c.corpus, "--token-pattern", "QQQ"], 1, "token_pattern"),
    Case("token pattern that is not a regex", lambda c: ["fit", c.corpus, "--token-pattern", "("],
         2, "token"),
    Case("n-grams longer than any document", lambda c: ["fit", c.corpus, "--ngram-range", "60,60"],
         1, "ngram"),
    Case("stop-words file missing", lambda c: ["fit", c.corpus, "--stop-words", c.tmp / "sw.txt"],
         2, "sw.txt"),
    Case("--ngram-range not a range", lambda c: ["fit", c.corpus, "--ngram-range", "a,b"], 2,
         "--ngram-range"),
    Case("--ngram-range backwards", lambda c: ["fit", c.corpus, "--ngram-range", "2,1"], 2,
         "--ngram-range"),
    Case("--ngram-range from 0", lambda c: ["fit", c.corpus, "--ngram-range", "0,2"], 2,
         "--ngram-range"),
    Case("--min-df not a number", lambda c: ["fit", c.corpus, "--min-df", "two"], 2, "--min-df"),
    Case("--min-df negative", lambda c: ["fit", c.corpus, "--min-df", "-1"], 2, "--min-df"),
    Case("--min-df fraction above 1", lambda c: ["fit", c.corpus, "--min-df", "1.5"], 2,
         "--min-df"),
    Case("--max-df fraction above 1", lambda c: ["fit", c.corpus, "--max-df", "2.5"], 2,
         "--max-df"),
    Case("--max-iter 0", lambda c: ["fit", c.corpus, "--max-iter", "0"], 2, "--max-iter"),
    Case("--tol negative", lambda c: ["fit", c.corpus, "--tol", "-1"], 2, "--tol"),
    Case("--l1-ratio above 1", lambda c: ["fit", c.corpus, "--l1-ratio", "2"], 2, "--l1-ratio"),
    Case("--alpha-h negative", lambda c: ["fit", c.corpus, "--alpha-h", "-1"], 2, "--alpha-h"),
    Case("--seed negative", lambda c: ["fit", c.corpus, "-k", "3", "--seed", "-1"], 2, "seed"),
    Case("--jobs 0", lambda c: ["fit", c.corpus, "--jobs", "0"], 2, "--jobs"),
    Case("--solver cd with --loss kl, numba missing",
         lambda c: ["fit", c.corpus, "-k", "3", "--solver", "cd", "--loss", "kl"], 1, "numba",
         hide_numba=True),
    # ---- other commands' settings -----------------------------------------------------------
    Case("--top 0", lambda c: ["topics", c.model, "--top", "0"], 2, "--top"),
    Case("--top 0 (fit)", lambda c: ["fit", c.corpus, "--top", "0"], 2, "--top"),
    Case("--batch-size 0", lambda c: ["assign", "-m", c.model, c.corpus, "--batch-size", "0"],
         2, "--batch-size"),
    Case("--top-topics 0", lambda c: ["assign", "-m", c.model, c.corpus, "--top-topics", "0"],
         2, "--top-topics"),
    Case("--format table with -o",
         lambda c: ["topics", c.model, "--format", "table", "-o", c.tmp / "t.csv"], 2, "table"),
    Case("--format table with -o (assign)",
         lambda c: ["assign", "-m", c.model, c.corpus, "--format", "table", "-o", c.tmp / "a.csv"],
         2, "table"),
    Case("unknown --format", lambda c: ["topics", c.model, "--format", "xml"], 2, "xml"),
    Case("unknown --format (info)", lambda c: ["info", c.model, "--format", "csv"], 2, "csv"),
    Case("unknown option", lambda c: ["fit", c.corpus, "--topics-count", "3"], 2,
         "--topics-count"),
    Case("unknown command", lambda c: ["fitt", c.corpus], 2, "fitt"),
    # ---- outputs ----------------------------------------------------------------------------
    Case("-m in a missing folder", lambda c: ["fit", c.corpus, "-k", "3", "-m", c.tmp / "no/m.npz"],
         1, "does not exist"),
    Case("-m under a file, not a folder",
         lambda c: ["fit", c.corpus, "-k", "3", "-m", c.file("f.txt", "x") / "m.npz"], 1,
         "not a folder"),
    Case("-m is a directory", lambda c: ["fit", c.corpus, "-k", "3", "-m", c.dir("out")], 1,
         "directory"),
    Case("-m in a read-only folder",
         lambda c: ["fit", c.corpus, "-k", "3", "-m", _read_only_dir(c) / "m.npz"], 1,
         "permission", needs_non_root=True),
    Case("-m over a read-only file",
         lambda c: ["fit", c.corpus, "-k", "3", "-m", _read_only_file(c)], 1, "read-only",
         needs_non_root=True),
    Case("--topics-out without a known extension",
         lambda c: ["fit", c.corpus, "-k", "3", "--topics-out", c.tmp / "t.xyz"], 2, ".csv"),
    Case("--doc-topics-out in a missing folder",
         lambda c: ["fit", c.corpus, "-k", "3", "-m", c.tmp / "m.npz",
                    "--doc-topics-out", c.tmp / "no" / "d.csv"], 1, "does not exist"),
    Case("assign -o in a missing folder",
         lambda c: ["assign", "-m", c.model, c.corpus, "-o", c.tmp / "no" / "a.csv"], 1,
         "does not exist"),
    Case("topics -o in a missing folder",
         lambda c: ["topics", c.model, "-o", c.tmp / "no" / "t.csv"], 1, "does not exist"),
    # ---- model files ------------------------------------------------------------------------
    Case("model missing", lambda c: ["topics", c.tmp / "none.npz"], 1, "not found"),
    Case("model missing (assign)", lambda c: ["assign", "-m", c.tmp / "none.npz", c.corpus], 1,
         "not found"),
    Case("model missing (info)", lambda c: ["info", c.tmp / "none.npz"], 1, "not found"),
    Case("default model.npz missing", lambda c: ["topics"], 1, "model.npz"),
    Case("TOPICNMF_MODEL names a missing file", lambda c: ["topics"], 1, "env.npz",
         env={"TOPICNMF_MODEL": "env.npz"}),
    Case("model is a directory", lambda c: ["topics", c.dir("m.npz")], 1, "directory"),
    Case("model is a fifo", lambda c: ["topics", _fifo(c)], 1, "not a regular file"),
    Case("model file empty", lambda c: ["topics", c.file("bad.npz", b"")], 1, "not an .npz"),
    Case("model not an npz", lambda c: ["topics", c.file("bad.npz", "hello")], 1, "not an .npz"),
    Case("model not an npz (assign)",
         lambda c: ["assign", "-m", c.file("bad.npz", b"\x00" * 100), c.corpus], 1, "not an .npz"),
    Case("model truncated to 3000 bytes",
         lambda c: ["topics", c.file("bad.npz", c.model.read_bytes()[:3000])],
         1, "not a valid topicnmf model"),
    Case("model missing its last bytes",
         lambda c: ["topics", c.file("bad.npz", c.model.read_bytes()[:-30])], 1,
         "not a valid topicnmf model"),
    Case("model data corrupted (bad CRC)", lambda c: ["topics", _corrupt_h_data(c)], 1,
         "corrupt"),
    Case("npz of something else",
         lambda c: ["topics", write_arrays(c.tmp / "bad.npz", {"x": np.arange(3)})], 1,
         "something else"),
    Case("zip of something else",
         lambda c: ["topics", zip_of(c.tmp / "bad.npz", {"readme.txt": b"hi"})], 1,
         "unexpected member"),
    Case("zip member with a path",
         lambda c: ["topics", zip_of(c.tmp / "bad.npz", {"../H.npy": b"x"})], 1,
         "unexpected member"),
    Case("magic of the wrong type", lambda c: ["topics", c.npz(magic=np.array([1, 2]))], 1,
         "something else"),
    Case("newer format version",
         lambda c: ["topics", c.npz(format_version=np.array(FORMAT_VERSION + 1))], 1,
         "upgrade topicnmf"),
    Case("newer format version (assign)",
         lambda c: ["assign", "-m", c.npz(format_version=np.array(FORMAT_VERSION + 1)), c.corpus],
         1, "upgrade topicnmf"),
    Case("format version 0", lambda c: ["topics", c.npz(format_version=np.array(0))], 1,
         "format version 0"),
    Case("format version not a scalar",
         lambda c: ["topics", c.npz(format_version=np.array([1, 1]))], 1, "not a scalar"),
    Case("format version a float", lambda c: ["topics", c.npz(format_version=np.array(1.0))], 1,
         "format_version"),
    Case("object arrays (pickle)", lambda c: ["topics", c.pickled()], 1, "object arrays"),
    Case("object arrays (pickle, assign)", lambda c: ["assign", "-m", c.pickled(), c.corpus], 1,
         "object arrays"),
    Case("object arrays (pickle, info)", lambda c: ["info", c.pickled()], 1, "object arrays"),
    Case("H columns != vocabulary size", lambda c: ["topics", c.npz(**H_WITHOUT_LAST_COLUMN)], 1,
         "but H has shape"),
    Case("H columns != vocabulary size (assign)",
         lambda c: ["assign", "-m", c.npz(**H_WITHOUT_LAST_COLUMN), c.corpus], 1,
         "but H has shape"),
    Case("idf of the wrong length",
         lambda c: ["topics", c.npz(vec_idf=lambda a: a["vec_idf"][:-1])], 1, "idf"),
    Case("idf inconsistent with document frequencies",
         lambda c: ["topics", c.npz(vec_idf=lambda a: a["vec_idf"] * 2)], 1, "idf"),
    Case("vocabulary unsorted",
         lambda c: ["topics", c.npz(**_reversed_vocabulary(c))], 1, "sorted"),
    Case("vectorizer format version newer",
         lambda c: ["topics", c.npz(vec_format_version=np.array(99))], 1, "version 99"),
    Case("NaN in H", lambda c: ["topics", c.npz(H=_set_h_value(np.nan))], 1, "NaN"),
    Case("inf in H", lambda c: ["topics", c.npz(H=_set_h_value(np.inf))], 1, "infinite"),
    Case("NaN in H (assign)", lambda c: ["assign", "-m", c.npz(H=_set_h_value(np.nan)), c.corpus],
         1, "NaN"),
    Case("negative value in H", lambda c: ["topics", c.npz(H=_set_h_value(-1.0))], 1, "negative"),
    Case("H one-dimensional", lambda c: ["topics", c.npz(H=lambda a: a["H"].ravel())], 1, "shape"),
    Case("H of integers", lambda c: ["topics", c.npz(H=lambda a: a["H"].astype(np.int32))], 1,
         "dtype"),
    Case("H of complex numbers",
         lambda c: ["topics", c.npz(H=lambda a: a["H"].astype(np.complex64))], 1, "dtype"),
    Case("H of strings", lambda c: ["topics", c.npz(H=lambda a: a["H"].astype(str))], 1, "dtype"),
    Case("missing key H", lambda c: ["topics", c.npz(H=None)], 1, "'H' is missing"),
    Case("missing key H (info)", lambda c: ["info", c.npz(H=None)], 1, "'H' is missing"),
    Case("missing key vec_vocabulary_utf8", lambda c: ["topics", c.npz(vec_vocabulary_utf8=None)],
         1, "vocabulary"),
    Case("vocabulary offsets inconsistent",
         lambda c: ["topics", c.npz(vec_vocabulary_offsets=_drop_first_offset)],
         1, "vocabulary"),
    Case("missing key meta", lambda c: ["topics", c.npz(meta=None)], 1, "'meta' is missing"),
    Case("missing key topic_share", lambda c: ["topics", c.npz(topic_share=None)], 1,
         "topic_share"),
    Case("labels of the wrong length", lambda c: ["topics", c.npz(labels=np.array(["a"]))], 1,
         "labels"),
    Case("topic_share with NaN",
         lambda c: ["topics", c.npz(topic_share=lambda a: a["topic_share"] * np.nan)], 1,
         "topic_share"),
    Case("meta not JSON", lambda c: ["topics", c.npz(meta=np.array("{not json"))], 1,
         "settings record"),
    Case("meta JSON nested too deep", lambda c: ["topics", c.npz(meta=np.array("[" * 100_000))],
         1, "settings record"),
    Case("meta not an object", lambda c: ["topics", c.npz(meta=np.array("[1, 2]"))], 1,
         "settings record"),
    Case("meta says another k",
         lambda c: ["topics", c.meta(lambda m: m["nmf_config"].update(n_components=9))], 1,
         "9 topics"),
    Case("meta with an unknown solver",
         lambda c: ["assign", "-m", c.meta(lambda m: m["nmf_config"].update(solver="evil")),
                    c.corpus], 1, "solver"),
    Case("meta with a text max_iter",
         lambda c: ["assign", "-m", c.meta(lambda m: m["nmf_config"].update(max_iter="many")),
                    c.corpus], 1, "max_iter"),
    Case("meta with stats that are not an object",
         lambda c: ["info", c.meta(lambda m: m.update(stats=[1, 2]))], 1, "settings record"),
    Case("W without doc_ids", lambda c: ["topics", c.npz(W=np.zeros((2, 4), np.float32))], 1,
         "doc_ids"),
    Case("W of the wrong shape",
         lambda c: ["topics", _doc_topics(c, W=np.zeros((72, 3), np.float32))], 1, "W has shape"),
    Case("W negative", lambda c: ["topics", _doc_topics(c, W=-np.ones((72, 4), np.float32))], 1,
         "W contains negative"),
    Case("W infinite",
         lambda c: ["topics", _doc_topics(c, W=np.full((72, 4), np.inf, np.float32))], 1,
         "W contains NaN or infinite"),
    Case("doc id offsets past the bytes",
         lambda c: ["topics", _doc_topics(c, doc_ids_offsets=lambda a: a["doc_ids_offsets"] + 9)],
         1, "document ids are unreadable"),
    Case("doc ids not UTF-8",
         lambda c: ["topics", _doc_topics(c, doc_ids_utf8=lambda a: a["doc_ids_utf8"] | 0x80)],
         1, "not valid UTF-8"),
    Case("fewer stored documents than the training corpus",
         lambda c: ["topics", _doc_topics(c, n=71)], 1, "counts 71 training documents"),
    Case("more topics than terms", lambda c: ["topics", _more_topics_than_terms(c)], 1,
         "more topics than terms"),
    Case("more topics than training documents",
         lambda c: ["topics", _three_documents(c)], 1, "4 topics from 3 training documents"),
    Case("meta states another number of terms",
         lambda c: ["topics", c.meta(lambda m: m["stats"].update(n_terms=10**9))], 1,
         "1000000000 terms"),
    Case("meta states another number of documents",
         lambda c: ["info", c.meta(lambda m: m["stats"].update(n_documents=10**12))], 1,
         "counts 1000000000000 training documents"),
    Case("ref_n_documents disagrees", lambda c: ["topics", c.npz(ref_n_documents=np.array(10**12))],
         1, "ref_n_documents counts"),
    Case("reference columns out of order",
         lambda c: ["topics", c.npz(ref_columns=lambda a: a["ref_columns"][::-1].copy())], 1,
         "co-occurrence"),
    Case("dominant counts above the documents",
         lambda c: ["topics", c.npz(dominant_count=np.full(4, 10**6))], 1, "dominant_count"),
    Case("H with a finite but absurd value",
         lambda c: ["topics", c.npz(H=_set_h_value(3e38))], 1, "does not sum to 1"),
    Case("H with a finite but absurd value (assign)",
         lambda c: ["assign", "-m", c.npz(H=_set_h_value(3e38)), c.corpus], 1,
         "does not sum to 1"),
    Case("H of float16", lambda c: ["topics", c.npz(H=lambda a: a["H"].astype(np.float16))], 1,
         "float32 or float64"),
    Case("shares that do not sum to 1",
         lambda c: ["topics", c.npz(topic_share=lambda a: a["topic_share"] * 3)], 1,
         "topic_share sums to 3"),
    Case("idf absurd", lambda c: ["topics", c.npz(vec_idf=lambda a: a["vec_idf"] * 1e300)], 1,
         "idf"),
    Case("meta: nmf_config a list",
         lambda c: ["topics", c.meta(lambda m: m.update(nmf_config=[1]))], 1, "settings record"),
    Case("meta: n_components a string",
         lambda c: ["topics", c.meta(lambda m: m["nmf_config"].update(n_components="4"))], 1,
         "settings record"),
    Case("meta: tol NaN",
         lambda c: ["assign", "-m", c.meta(lambda m: m["nmf_config"].update(tol=float("nan"))),
                    c.corpus], 1, "tol"),
    Case("meta: a huge seed",
         lambda c: ["topics", c.meta(lambda m: m["nmf_config"].update(seed=2**80))], 1, "seed"),
    Case("meta: a number of 5000 digits",
         lambda c: ["topics", c.npz(meta=lambda a: np.array(
             str(a["meta"]).replace('"seed": 0', '"seed": 1' + "0" * 5000)))], 1,
         "settings record"),
    Case("meta: stats with a text count",
         lambda c: ["info", c.meta(lambda m: m["stats"].update(n_iter="many"))], 1,
         "stats.n_iter"),
    Case("meta: stats with NaN",
         lambda c: ["info", c.meta(lambda m: m["stats"].update(loss=float("nan")))], 1,
         "stats.loss"),
    Case("meta: stats with a huge count",
         lambda c: ["info", c.meta(lambda m: m["stats"].update(n_nonzero=2**64))], 1,
         "stats.n_nonzero"),
    Case("meta: converged a number",
         lambda c: ["info", c.meta(lambda m: m["stats"].update(converged=1))], 1,
         "stats.converged"),
    Case("meta: versions a list",
         lambda c: ["info", c.meta(lambda m: m.update(versions=["numpy"]))], 1, "versions"),
    Case("meta: fingerprint a number",
         lambda c: ["info", c.meta(lambda m: m.update(fingerprint=5))], 1, "fingerprint"),
    Case("meta: created an object",
         lambda c: ["info", c.meta(lambda m: m.update(created={}))], 1, "created"),
    Case("meta of 2 MB", lambda c: ["topics", c.npz(meta=np.array(" " * (1 << 21)))], 1,
         "for one value"),
    Case("npy header declares a huge array",
         lambda c: ["topics", c.member("H", npy_bytes((10**12,), data=b"\x00" * 64))], 1,
         "not a valid topicnmf model"),
    Case("npy header declares more than the member holds",
         lambda c: ["topics", c.member("H", npy_bytes((4, 100_000), data=b"\x00" * 64))], 1,
         "not a valid topicnmf model"),
    Case("npy header of an object array",
         lambda c: ["topics", c.member("labels", npy_bytes((4,), descr="|O", data=b"\x80\x04N."))],
         1, "object arrays"),
    Case("npy header garbage",
         lambda c: ["topics", c.member("H", b"\x93NUMPY\x01\x00zz" + b"x" * 9)], 1,
         "not a valid topicnmf model"),
    Case("zip member declares 9 GiB",
         lambda c: ["topics", c.file("bad.npz", raw_zip([Member("H.npy", b"x" * 64,
                                                                size=9 * GiB, csize=9 * GiB)]))],
         1, "declares"),
    Case("zip member compressed 10000:1",
         lambda c: ["topics", c.file("bad.npz", raw_zip([deflated("H.npy", b"\x00" * 1000,
                                                                  size=2 * GiB)]))],
         1, "compression ratio"),
    Case("zip members declare 21 GiB they do not hold",
         lambda c: ["topics", c.file("bad.npz", raw_zip([Member(f"a{i}.npy", b"x", size=7 * GiB,
                                                                csize=7 * GiB)
                                                         for i in range(3)]))],
         1, "more than the file holds"),
    Case("zip member stored with two sizes",
         lambda c: ["topics", c.file("bad.npz", raw_zip([Member("H.npy", b"x" * 64, size=640)]))],
         1, "stored in fewer"),
    Case("deflate stream broken at its start (zlib error)",
         lambda c: ["topics", _patch_deflated(c, "H", 0)], 1, "'H.npy' is not a readable array"),
    Case("deflate stream broken in its middle",
         lambda c: ["topics", _patch_deflated(c, "H", 0.5)], 1, "'H.npy' is corrupt"),
    Case("deflate stream broken near its end",
         lambda c: ["topics", _patch_deflated(c, "vec_idf", 0.9)], 1, "'vec_idf.npy' is corrupt"),
    Case("32 MiB of zeros in a small file",
         lambda c: ["topics", c.file("bad.npz", raw_zip([_zeros_member("H.npy", (2048, 4096))]))],
         1, "no topicnmf marker"),
    Case("32 MiB of zeros in a small file, as H of a model",
         lambda c: ["topics", c.raw_member("H", _zeros_member("H.npy", (2048, 4096)))], 1,
         "but H has shape (2048, 4096)"),
    Case("zip member encrypted", lambda c: ["topics", c.patched_zip(_flip_encrypted)], 1,
         "encrypted"),
    Case("zip member with an unknown compression method",
         lambda c: ["topics", c.patched_zip(_lie_about_method)], 1, "compression method"),
]  # fmt: skip


def _read_only_dir(c: Ctx) -> Path:
    d = c.dir("ro")
    d.chmod(0o555)
    return d


def _read_only_file(c: Ctx) -> Path:
    p = c.file("ro.npz", b"old")
    p.chmod(0o444)
    return p


def _fifo(c: Ctx) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this system")
    p = c.tmp / "fifo.npz"
    os.mkfifo(p)
    return p


# -- running the table -----------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` with a digest of its content (folders and fifos by type)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[rel] = "dir" if p.is_dir() else "other"
    return out


@pytest.fixture
def ctx(tmp_path: Path, theme_dir: Path, hobbies_model: Path) -> Ctx:
    model = tmp_path / "good.npz"
    shutil.copyfile(hobbies_model, model)
    return Ctx(tmp=tmp_path, corpus=theme_dir, model=model)


PARAMS = [pytest.param(c, id=c.id) for c in CASES]


@pytest.mark.parametrize("case", PARAMS)
def test_bad_input(case: Case, ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.needs_non_root and IS_ROOT:
        pytest.skip("root ignores file permissions")
    monkeypatch.chdir(ctx.tmp)  # a default output (model.npz) would land here
    monkeypatch.delenv("TOPICNMF_MODEL", raising=False)
    monkeypatch.delenv("TOPICNMF_DEBUG", raising=False)
    if case.hide_numba:
        import importlib.util

        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name == "numba" else real_find_spec(name, *a),
        )
    args = [str(a) for a in case.make(ctx)]
    before = snapshot(ctx.tmp)
    try:
        result = CliRunner().invoke(cli, args, input=case.stdin, env=case.env)
    finally:
        for p in ctx.tmp.rglob("*"):  # let pytest clean up what the case made read-only
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)
    err = result.stderr
    assert result.exit_code == case.code, (result.exit_code, err, result.exception)
    # the folder of a case is named after it: look for the fragment in the rest of the line
    assert case.fragment in err.replace(str(ctx.tmp), "<tmp>"), err
    assert "Traceback" not in err and "Traceback" not in result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if case.code == 1:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("Error: ") and "this is a bug" not in lines[0], err
    assert snapshot(ctx.tmp) == before, "a file was created or changed"
    assert not ctx.marker.exists()
    assert result.stdout == ""
    assert_names_only_real_options(args, err.replace(str(ctx.tmp), "<tmp>"))


def assert_names_only_real_options(args: list[str], message: str) -> None:
    """Every --option an error message names is an option of the command that printed it."""
    command = cli.commands.get(args[0]) if args else None
    if command is None:  # an unknown command: click names what was typed
        return
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)} | {"--help"}
    typed = {a.split("=")[0] for a in args if a.startswith("--")}
    for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", message):
        assert flag in known or flag in typed, f"{flag} is not an option of {args[0]}: {message}"


def test_case_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)


def test_too_many_topics_for_the_corpus_is_one_line_and_exit_1_in_memory_and_streamed(
    tmp_path: Path,
) -> None:
    from tests.test_rules import _cli, rules_corpus

    corpus = rules_corpus(tmp_path)  # 24 documents
    for extra in ([], ["--stream"]):
        result = _cli("fit", corpus, "-k", 30, "-m", tmp_path / "m.npz", *extra)
        assert result.exit_code == 1, (extra, result.stderr)
        assert result.stderr.strip() == (
            "Error: k=30 topics is more than the 24 documents in the corpus; choose a smaller -k"
        )
        assert not (tmp_path / "m.npz").exists()


def test_a_broken_json_line_says_where(tmp_path: Path) -> None:
    from tests.test_rules import _cli

    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a b c"}\n{"text": "unterminated\n')
    result = _cli("fit", path, "-k", 1, "-m", tmp_path / "m.npz")
    assert result.exit_code == 1
    assert "line 2 is not valid JSON (Unterminated string starting at: column 10)" in result.stderr
