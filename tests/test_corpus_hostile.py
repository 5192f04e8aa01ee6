"""Hostile input for the corpus loaders: every case ends in documents or a CorpusError.

Property tests (hypothesis) feed random bytes, invalid UTF-8, NUL bytes, ragged and
badly quoted CSV, broken JSON Lines and JSON arrays, empty documents and documents of
only stop words or numbers to every loader. Any exception other than CorpusError is a bug. Where the
input is well formed, the documents must also come back exactly.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topicnmf.corpus import FORMATS, Document, load_corpus, strip_newsgroup
from topicnmf.errors import CorpusError

# hypothesis reuses function-scoped fixtures across examples, so each example makes
# its own folder instead of using tmp_path
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ["a.txt", "a.csv", "a.tsv", "a.jsonl", "a.json", "a.txt.gz", "a.csv.gz", "a.jsonl.gz",
         "a.json.gz", "a.dat"]  # fmt: skip
ENCODINGS = ["utf-8", "latin-1", "utf-16", "cp1252", "shift_jis"]

# bytes that matter to the parsers, mixed with arbitrary ones
TOKENS = [
    b"\n",
    b"\r\n",
    b"\r",
    b",",
    b"\t",
    b'"',
    b'""',
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe9",
    b"\xef\xbb\xbf",
    b"{",
    b"}",
    b"[",
    b"]",
    b"\\",
    b'"text"',
    b":",
    b"null",
    b"text",
    b"id",
    b"the and of",
    b"12 3.5",
    b" ",
]
hostile_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=4)), max_size=60).map(b"".join),
)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="topicnmf-hostile-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_all(sources: list, **options: object) -> list[Document] | None:
    """Documents, or None after a CorpusError; anything else propagates and fails."""
    try:
        docs = list(load_corpus(sources, **options))
    except CorpusError as exc:
        message = str(exc)
        assert message and "\n" not in message  # one clear line
        return None
    doc_ids = [d.id for d in docs]
    assert len(set(doc_ids)) == len(doc_ids)
    assert all(isinstance(d.text, str) and isinstance(d.id, str) for d in docs)
    return docs


def write(path: Path, data: bytes, compress: bool) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@SETTINGS
@given(
    data=hostile_bytes,
    name=st.sampled_from(NAMES),
    fmt=st.sampled_from([None, *FORMATS]),
    encoding=st.sampled_from(ENCODINGS),
    gz_damage=st.booleans(),
)
def test_random_bytes_in_a_file(
    data: bytes, name: str, fmt: str | None, encoding: str, gz_damage: bool
) -> None:
    with scratch() as folder:
        path = folder / name
        payload = gzip.compress(data) if name.endswith(".gz") else data
        if gz_damage and name.endswith(".gz"):
            payload = payload[: len(payload) // 2]
        path.write_bytes(payload)
        read_all([path], format=fmt, encoding=encoding)
        read_all([path], format=fmt, encoding=encoding, text_column="id", id_column="text")


@SETTINGS
@given(
    files=st.lists(hostile_bytes, min_size=1, max_size=4),
    fmt=st.sampled_from([None, *FORMATS]),
    encoding=st.sampled_from(ENCODINGS),
)
def test_random_bytes_in_a_directory(files: list[bytes], fmt: str | None, encoding: str) -> None:
    with scratch() as folder:
        for i, data in enumerate(files):
            (folder / f"f{i}.txt").write_bytes(data)
        read_all([folder], format=fmt, glob="*.txt", encoding=encoding)


@SETTINGS
@given(
    data=hostile_bytes,
    fmt=st.sampled_from([None, *FORMATS]),
    as_text=st.booleans(),
    encoding=st.sampled_from(ENCODINGS),
)
def test_random_bytes_on_stdin(data: bytes, fmt: str | None, as_text: bool, encoding: str) -> None:
    stream = (
        io.StringIO(data.decode("utf-8", errors="surrogateescape")) if as_text else io.BytesIO(data)
    )
    read_all(["-"], format=fmt, stdin=stream, encoding=encoding)


@SETTINGS
@given(data=hostile_bytes, compress=st.booleans())
def test_random_bytes_as_the_news_archive(data: bytes, compress: bool) -> None:
    with scratch() as folder:
        write(folder / "20news-bydate.tar.gz", data, compress)
        read_all(["20newsgroups:all"], data_home=folder)


cells = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", '"', '""', "a,b", "line\nbreak", "cr\rhere", "\x00", "the", "42"]),
)


@SETTINGS
@given(
    rows=st.lists(st.lists(cells, max_size=4), max_size=8),
    delimiter=st.sampled_from([",", "\t"]),
)
def test_csv_ragged_rows_quotes_and_newlines(rows: list[list[str]], delimiter: str) -> None:
    with scratch() as folder:
        out = io.StringIO()
        csv.writer(out, delimiter=delimiter).writerows([["id", "text"], *rows])
        path = folder / ("a.csv" if delimiter == "," else "a.tsv")
        path.write_bytes(out.getvalue().encode("utf-8", errors="surrogateescape"))
        docs = read_all([path])
        lenient = read_all([path], csv_lenient=True)
        # rows with both fields are read back exactly; csv writes [] as a blank line
        # (a NUL byte makes the file binary, which is refused). Strictly, every row has
        # the header's two fields; leniently, extra fields are ignored
        data_rows = [r for r in rows if r]
        nul = any("\x00" in cell for r in rows for cell in r)
        if data_rows and not nul and all(len(r) == 2 for r in data_rows):
            assert docs is not None
            assert [d.text for d in docs] == [r[1] for r in data_rows]
        if data_rows and not nul and all(len(r) >= 2 for r in data_rows):
            assert lenient is not None
            assert [d.text for d in lenient] == [r[1] for r in data_rows]
        if any(len(r) not in (0, 2) for r in rows) and not nul:
            assert docs is None  # a row with another number of fields is refused
        # the same text broken by a stray quote or cut short must not crash
        raw = out.getvalue().encode("utf-8", errors="surrogateescape")
        path.write_bytes(raw[: len(raw) // 2] + b'"' + raw[len(raw) // 2 :])
        read_all([path])
        read_all([path], csv_lenient=True)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)
json_line = st.one_of(
    st.builds(lambda t, i: json.dumps({"text": t, "id": i}), st.text(max_size=30), st.integers()),
    json_values.map(json.dumps),
    st.sampled_from(["", "   ", "{", '{"text": }', "[[[[", "nul", '{"text": "a"} trailing']),
    st.text(max_size=20),
)


@SETTINGS
@given(lines=st.lists(json_line, max_size=8), id_column=st.sampled_from([None, "id"]))
def test_jsonl_with_bad_lines(lines: list[str], id_column: str | None) -> None:
    with scratch() as folder:
        path = folder / "a.jsonl"
        path.write_bytes("\n".join(lines).encode("utf-8", errors="surrogateescape"))
        docs = read_all([path], id_column=id_column)
        try:
            good = [json.loads(x) for x in lines if x.strip()]
        except ValueError:
            return
        if good and all(isinstance(o, dict) and isinstance(o.get("text"), str) for o in good):
            if id_column is None and "\x00" not in "".join(lines):
                assert docs is not None
                assert [d.text for d in docs] == [o["text"] for o in good]


def _as_text(value: object) -> str | None:
    """A field as a document's text or id, as the JSON readers take it (None: refused)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _expected_from_array(data: bytes, id_column: str | None) -> list[tuple[str, str]] | None:
    """What a JSON array file must give, by the json module; None if it must be refused."""
    try:
        array = json.loads(data.decode("utf-8-sig"))
    except ValueError:  # also UnicodeDecodeError and JSONDecodeError
        return None
    if not isinstance(array, list) or not array:
        return None
    out = []
    for n, value in enumerate(array, start=1):
        if isinstance(value, dict):
            raw = value.get("text", [])
            text = "" if raw is None else _as_text(raw)
            if text is None:
                return None
            doc_id = str(n) if id_column is None else _as_text(value.get(id_column))
            if not doc_id:
                return None
            out.append((doc_id, text))
        elif (isinstance(value, str) or value is None) and id_column is None:
            out.append((str(n), value or ""))
        else:
            return None
    if len({i for i, _ in out}) != len(out):
        return None
    return out


json_element = st.one_of(
    st.text(max_size=12),
    st.none(),
    st.builds(lambda t, i: {"text": t, "id": i}, st.text(max_size=12), st.text(max_size=3)),
    json_values,
)


@SETTINGS
@given(
    elements=st.lists(json_element, max_size=6),
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
    cuts=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(TOKENS)), max_size=2),
    chunk=st.sampled_from([1, 3, 1 << 20]),
    id_column=st.sampled_from([None, "id"]),
)
def test_json_arrays_read_like_the_json_module(
    elements: list, indent: int | None, ascii_only: bool, cuts: list, chunk: int,
    id_column: str | None,
) -> None:  # fmt: skip
    """Any array, cut into pieces anywhere and perhaps damaged: the documents json.loads
    finds, or one CorpusError."""
    from topicnmf.corpus import jsonformats

    data = json.dumps(elements, indent=indent, ensure_ascii=ascii_only).encode(
        "utf-8", errors="surrogateescape"
    )
    for at, token in cuts:  # damage: a byte that matters to JSON, inserted anywhere
        at %= len(data) + 1
        data = data[:at] + token + data[at:]
    old = jsonformats.CHUNK_BYTES
    jsonformats.CHUNK_BYTES = chunk
    try:
        with scratch() as folder:
            docs = read_all([write(folder / "a.json", data, False)], id_column=id_column)
    finally:
        jsonformats.CHUNK_BYTES = old
    expected = _expected_from_array(data, id_column)
    got = None if docs is None else [(d.id, d.text) for d in docs]
    if b"\0" in data[:8192]:
        assert got is None  # a NUL byte means binary, whatever follows
    else:
        assert got == expected


stopwords_or_numbers = st.lists(
    st.sampled_from(["the", "and", "of", "a", "to", "is", "0", "42", "3.14", "1e5", "-7", ""]),
    max_size=8,
).map(" ".join)


@SETTINGS
@given(
    docs=st.lists(st.one_of(stopwords_or_numbers, st.text(max_size=30)), min_size=1, max_size=8),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_lines_round_trip_with_empty_and_stopword_documents(docs: list[str], line_end: str) -> None:
    with scratch() as folder:
        path = folder / "a.txt"
        text = line_end.join(docs)
        path.write_bytes(text.encode("utf-8", errors="surrogateescape"))
        got = read_all([path])
        expected = []
        lines = text.split("\n")
        for line in lines:
            if line.endswith("\r"):
                line = line[:-1]
            if line.strip():
                expected.append(line)
        if path.stat().st_size == 0 or not expected or b"\0" in path.read_bytes()[:8192]:
            assert got is None
            return
        if text.startswith("\ufeff"):
            expected[0] = expected[0][1:]
            if not expected[0].strip():
                expected.pop(0)
        if got is not None:  # lone surrogates from st.text() cannot be valid UTF-8
            assert [d.text for d in got] == expected


@SETTINGS
@given(
    text=st.text(max_size=200), remove=st.sets(st.sampled_from(["headers", "footers", "quotes"]))
)
def test_newsgroup_cleaning_never_fails(text: str, remove: set[str]) -> None:
    assert isinstance(strip_newsgroup(text, remove), str)


# ----------------------------------------------------------------- hostile corpora, one by one


@contextlib.contextmanager
def no_news_elsewhere() -> Iterator[None]:
    """Only the data home given is searched; nothing is downloaded."""
    old = {k: os.environ.get(k) for k in ("SCIKIT_LEARN_DATA", "TOPICNMF_DATA_HOME")}
    with scratch() as empty:
        os.environ["SCIKIT_LEARN_DATA"] = str(empty)
        os.environ.pop("TOPICNMF_DATA_HOME", None)
        try:
            yield
        finally:
            for key, value in old.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.n = n

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        k = min(len(buffer), self.n)
        buffer[:k] = bytes(k)
        self.n -= k
        return k


def test_an_archive_of_huge_members_is_refused_within_its_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a 1.4 MB archive whose members inflate to 60 MB each: skipped one by one, then the
    # whole refused at 256 MiB, without memory growth and without writing a cache
    home = tmp_path / "home"
    home.mkdir()
    with tarfile.open(home / "20news-bydate.tar.gz", "w:gz", compresslevel=1) as tar:
        for i in range(5):
            info = tarfile.TarInfo(f"20news-bydate-train/sci.space/{i}")
            info.size = 60 << 20
            tar.addfile(info, io.BufferedReader(_Zeros(info.size), 1 << 20))
    assert (home / "20news-bydate.tar.gz").stat().st_size < 2 << 20
    monkeypatch.setenv("TOPICNMF_CACHE_DIR", str(tmp_path / "cache"))
    with no_news_elsewhere():
        message = read_error(["20newsgroups"], data_home=home)
    assert "inflates to more than 256 MiB" in message and "archive looks damaged" in message
    cached = sum(p.stat().st_size for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert cached == 0


def read_error(sources: list, **options: object) -> str:
    try:
        list(load_corpus(sources, **options))
    except CorpusError as exc:
        return str(exc)
    raise AssertionError("no error")


@pytest.mark.parametrize("name", ["a.txt.gz", "a.csv.gz", "a.jsonl.gz"])
def test_a_compressed_document_beyond_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    from topicnmf.corpus import decoding, readers

    monkeypatch.setattr(decoding, "MAX_DOCUMENT_BYTES", 1 << 20)
    monkeypatch.setattr(readers, "MAX_FIELD_CHARS", 1 << 20)
    body = b"a" * (3 << 20)
    data = {
        "a.txt.gz": b"short\n" + body + b"\n",
        "a.csv.gz": b'text\nshort\n"' + body + b'"\n',
        "a.jsonl.gz": b'{"text": "short"}\n{"text": "' + body + b'"}\n',
    }[name]
    path = tmp_path / name
    path.write_bytes(gzip.compress(data, compresslevel=1))
    corpus = iter(load_corpus([path]))
    assert next(corpus).text == "short"
    with pytest.raises(CorpusError, match=r"line [23] .*longer than 1 MiB"):
        next(corpus)
    d = tmp_path / "docs"
    d.mkdir()
    (d / "big.txt.gz").write_bytes(gzip.compress(body, compresslevel=1))
    assert "big.txt.gz is longer than 1 MiB" in read_error([d], glob="*.gz")


def test_special_files_in_a_directory_are_not_read(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("plain text")
    os.mkfifo(d / "fifo.txt")  # opening it would wait for a writer forever
    (d / "zero.txt").symlink_to("/dev/zero")
    (d / "loop1.txt").symlink_to(d / "loop2.txt")
    (d / "loop2.txt").symlink_to(d / "loop1.txt")
    (d / "dangling.txt").symlink_to(d / "nowhere.txt")
    assert [doc.id for doc in load_corpus([d])] == ["a.txt"]


def test_a_device_given_as_a_source_is_refused_at_once(tmp_path: Path) -> None:
    assert "/dev/zero looks like a binary file" in read_error(["/dev/zero"])
    assert "/dev/null is empty" in read_error(["/dev/null"])


def test_a_cut_short_gzip_in_a_directory_is_an_error(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("fine")
    whole = gzip.compress(os.urandom(30_000).hex().encode())
    (d / "b.txt.gz").write_bytes(whole[: len(whole) - 100])
    assert "the gzip data is damaged or cut short" in read_error([d], glob="*.txt*")


def test_reading_a_long_line_holds_it_about_twice(tmp_path: Path) -> None:
    size = 32 << 20
    path = tmp_path / "line.txt"
    with open(path, "wb") as out:
        chunk = (b"word " * 220_000)[: 1 << 20]
        for _ in range(size >> 20):
            out.write(chunk)
        out.write(b"\n")
    chars, peak = _peak_reading(path)
    assert chars == size
    assert peak < 2.2 * size, peak / size


def _peak_reading(path: Path) -> tuple[int, float]:
    """(characters read, peak traced memory) of reading a corpus in a fresh process."""
    import subprocess
    import sys

    code = (
        "import sys, tracemalloc\n"
        "from topicnmf.corpus import load_corpus\n"
        "corpus = load_corpus([sys.argv[1]])\n"
        "tracemalloc.start()\n"
        "n = sum(len(d.text) for d in corpus)\n"
        "print(n, tracemalloc.get_traced_memory()[1])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    chars, peak = out.stdout.split()
    return int(chars), float(peak)


def test_reading_a_long_json_element_holds_it_about_twice(tmp_path: Path) -> None:
    size = 32 << 20
    path = tmp_path / "long.json"
    with open(path, "wb") as out:
        out.write(b'["short", {"id": 1, "text": "')
        chunk = (b"word " * 220_000)[: 1 << 20]
        for _ in range(size >> 20):
            out.write(chunk)
        out.write(b'"}]')
    chars, peak = _peak_reading(path)
    assert chars == size + len("short")
    assert peak < 2.2 * size, peak / size


def test_a_json_array_is_read_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    doc = json.dumps("word " * 200)
    n = (32 << 20) // (len(doc) + 2)
    path.write_text("[" + ",\n".join([doc] * n) + "]")
    chars, peak = _peak_reading(path)
    assert chars == n * 1000
    assert peak < 8 << 20, peak  # the buffer and a document, not the 32 MB array


# ------------------------------------------------------------ signals while reading (processes)


def _blocked_in(pid: int, waits: tuple[str, ...], timeout: float = 20.0) -> bool:
    """Wait until a process sleeps in one of these kernel waits (Linux); False if unknown."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/wchan") as fh:
                wchan = fh.read()
            if any(w in wchan for w in waits):
                return True
        except OSError:
            return False
        time.sleep(0.05)
    return False


def _stops_within_a_second(proc, signum: int) -> tuple[int, float, str]:  # noqa: ANN001
    import time

    start = time.monotonic()
    proc.send_signal(signum)
    try:
        _, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    return proc.returncode, time.monotonic() - start, err


@pytest.mark.skipif(not os.path.exists("/proc/self/wchan"), reason="needs Linux /proc")
@pytest.mark.parametrize(("signame", "code"), [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_signal_ends_a_run_blocked_reading_stdin(tmp_path: Path, signame: str, code: int) -> None:
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "topicnmf", "fit", "-", "-k", "2", "-m", str(tmp_path / "m.npz")],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        proc.stdin.write("one document\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        assert _blocked_in(proc.pid, ("pipe_read", "pipe_wait"))
        returncode, seconds, err = _stops_within_a_second(proc, getattr(signal, signame))
    finally:
        proc.kill()
        proc.stdin.close()  # type: ignore[union-attr]
    assert returncode == code, err
    assert seconds < 1.0 and "Traceback" not in err
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.skipif(not os.path.exists("/proc/self/wchan"), reason="needs Linux /proc")
def test_a_signal_ends_a_run_waiting_for_a_named_pipe(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    fifo = tmp_path / "docs.txt"
    os.mkfifo(fifo)  # nobody ever writes: opening it waits
    proc = subprocess.Popen(
        [sys.executable, "-m", "topicnmf", "fit", str(fifo), "-k", "2", "-m", str(tmp_path / "m")],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert _blocked_in(proc.pid, ("fifo_open", "wait_for_partner"))
    returncode, seconds, err = _stops_within_a_second(proc, signal.SIGINT)
    assert returncode == 130 and seconds < 1.0, (returncode, seconds, err)


SLOW_CACHE_BUILD = """
import sys, time
from topicnmf.datasets import cache
real_add = cache.CacheBuilder.add
def slow_add(self, key, name, data):
    time.sleep(0.02)
    return real_add(self, key, name, data)
cache.CacheBuilder.add = slow_add
from topicnmf.cli import main
sys.exit(main(["fit", "20newsgroups:all", "-k", "2", "--data-home", sys.argv[1],
               "-m", sys.argv[2], "-q"]))
"""


def test_a_signal_while_the_cache_is_written_leaves_no_cache(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    home = tmp_path / "home"
    home.mkdir()
    with tarfile.open(home / "20news-bydate.tar.gz", "w:gz") as tar:
        for i in range(300):
            data = f"Subject: {i}\n\nmessage number {i} about space".encode()
            info = tarfile.TarInfo(f"20news-bydate-train/sci.space/{i}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    cache = tmp_path / "cache"
    env = dict(os.environ, TOPICNMF_CACHE_DIR=str(cache), SCIKIT_LEARN_DATA=str(tmp_path / "sk"))
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_CACHE_BUILD, str(home), str(tmp_path / "m.npz")],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(cache.rglob("20news-bydate-train")):
        time.sleep(0.02)
    time.sleep(0.2)  # a few messages written, most not
    returncode, seconds, err = _stops_within_a_second(proc, signal.SIGTERM)
    assert returncode == 143 and seconds < 1.0, (returncode, seconds, err)
    assert list(cache.iterdir()) == []  # neither the cache nor its temporary folder


def test_checking_a_csv_file_reads_only_its_header(tmp_path: Path) -> None:
    import tracemalloc

    path = tmp_path / "big.csv"
    path.write_text("id,text\n1," + "word " * 1_000_000 + "\n")  # a 5 MB first field
    tracemalloc.start()
    try:
        corpus = load_corpus([path])  # checks the columns now
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # neither parsed nor kept: the csv module builds a field 4 bytes a character
    assert peak < 2 << 20 and held < 1 << 20, (held, peak)
    assert len(next(iter(corpus)).text) == 5_000_000


def test_a_csv_field_beyond_its_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from topicnmf.corpus import readers

    monkeypatch.setattr(readers, "MAX_FIELD_CHARS", 1000)
    path = tmp_path / "d.csv"
    path.write_text('id,text\n1,short\n2,"' + "long line\n" * 150 + '"\n')
    message = read_error([path])
    assert "d.csv line 3 holds a field longer than 1,000 characters" in message
