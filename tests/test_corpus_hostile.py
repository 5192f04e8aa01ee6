"""Hostile input for the corpus loaders: every case ends in documents or a CorpusError.

Property tests (hypothesis) feed random bytes, invalid UTF-8, NUL bytes, ragged and
badly quoted CSV, broken JSON Lines, empty documents and documents of only stop words
or numbers to every loader. Any exception other than CorpusError is a bug. Where the
input is well formed, the documents must also come back exactly.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topicnmf.corpus import FORMATS, Document, load_corpus, strip_newsgroup
from topicnmf.errors import CorpusError

# hypothesis reuses function-scoped fixtures across examples, so each example makes
# its own folder instead of using tmp_path
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ["a.txt", "a.csv", "a.tsv", "a.jsonl", "a.txt.gz", "a.csv.gz", "a.jsonl.gz", "a.dat"]
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
