"""Tests of topicnmf.corpus: every source kind, ids, errors, encodings, 20 Newsgroups."""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import logging
import os
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import NEWS_ARCHIVE, NEWS_SKIP_REASON
from topicnmf.corpus import (
    NEWSGROUPS,
    Corpus,
    CorpusStats,
    Document,
    load_corpus,
    strip_newsgroup,
)
from topicnmf.corpus import sources as sources_mod
from topicnmf.datasets import newsgroups as news_mod
from topicnmf.errors import CorpusError, ParameterError

REAL_FETCH = news_mod._fetch_with_sklearn

# --------------------------------------------------------------------------- helpers


def ids(corpus: Corpus) -> list[str]:
    return [d.id for d in corpus]


def texts(corpus: Corpus) -> list[str]:
    return [d.text for d in corpus]


def write(path: Path, content: str | bytes, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode(encoding) if isinstance(content, str) else content
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def warnings_log() -> Iterator[list[str]]:
    """Warnings sent to the "topicnmf" logger (the CLI may stop its propagation)."""
    log = logging.getLogger("topicnmf")
    handler = _ListHandler()
    old_level = log.level
    log.addHandler(handler)
    log.setLevel(logging.WARNING)
    try:
        yield handler.messages
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)


@pytest.fixture
def no_news_homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every 20 Newsgroups search folder at empty places; forbid downloads."""
    empty = tmp_path / "sk_home"
    empty.mkdir()
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(empty))
    monkeypatch.delenv("TOPICNMF_DATA_HOME", raising=False)
    # conftest turns downloads off for the whole suite; here the download function itself
    # is replaced, so the code path that would download can be tested
    monkeypatch.delenv("TOPICNMF_OFFLINE", raising=False)

    def no_download(data_home: Path, subset: str, download: bool) -> None:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(news_mod, "_fetch_with_sklearn", no_download)
    return empty


# --------------------------------------------------------------------------- Document


def test_document_is_frozen_with_slots() -> None:
    doc = Document("a", "text")
    assert doc.label is None
    assert doc == Document("a", "text", None)
    with pytest.raises(AttributeError):
        doc.text = "other"  # type: ignore[misc]
    assert not hasattr(doc, "__dict__")


# --------------------------------------------------------------------------- directories


def test_directory_recursive_sorted_ids_hidden_skipped(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "b.txt", "bee")
    write(d / "a.txt", "ay\nsecond line")
    write(d / "sub" / "c.txt", "sea")
    write(d / "sub" / "deeper" / "d.TXT", "dee")
    write(d / "a0.txt", "a zero")
    write(d / "notes.md", "not matched by the default glob")
    write(d / ".hidden.txt", "hidden")
    write(d / ".git" / "x.txt", "hidden folder")
    corpus = load_corpus([d])
    docs = list(corpus)
    assert [x.id for x in docs] == ["a.txt", "a0.txt", "b.txt", "sub/c.txt", "sub/deeper/d.TXT"]
    assert docs[0].text == "ay\nsecond line"  # one document per file, kept whole
    assert corpus.stats.skipped_hidden == 2
    assert corpus.stats.files_read == 5
    assert corpus.stats.complete


def test_directory_glob_by_name_and_by_path(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.md", "markdown a")
    write(d / "sub" / "b.md", "markdown b")
    write(d / "c.txt", "text c")
    assert ids(load_corpus([d], glob="*.md")) == ["a.md", "sub/b.md"]
    assert ids(load_corpus([d], glob="sub/*.md")) == ["sub/b.md"]
    assert ids(load_corpus([d], glob="*.MD")) == ["a.md", "sub/b.md"]


def test_directory_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match="empty directory"):
        load_corpus([empty])
    d = tmp_path / "docs"
    write(d / "a.md", "markdown")
    with pytest.raises(CorpusError, match=r"matches '\*\.txt'.*a\.md") as info:
        load_corpus([d])
    assert info.value.param == "glob" and "--" not in str(info.value)


def test_directory_binary_file_is_skipped_and_counted(
    tmp_path: Path, warnings_log: list[str]
) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "text")
    write(d / "b.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    corpus = load_corpus([d])
    assert ids(corpus) == ["a.txt"]
    assert corpus.stats.skipped_binary == 1
    assert any("b.txt" in m and "binary" in m for m in warnings_log)


def test_directory_of_only_binary_files_is_an_error(
    tmp_path: Path, warnings_log: list[str]
) -> None:
    d = tmp_path / "docs"
    write(d / "b.txt", b"\x00\x01\x02")
    with pytest.raises(CorpusError, match="no documents.*1 binary file.*b.txt"):
        list(load_corpus([d]))
    assert warnings_log == []  # the error says it all: no warning line before it


def test_binary_warnings_before_the_first_document_are_summarised(
    tmp_path: Path, warnings_log: list[str]
) -> None:
    d = tmp_path / "docs"
    for i in range(12):
        write(d / f"a{i:02d}.txt", b"\x00binary")
    write(d / "b.txt", "text")
    write(d / "c.txt", b"\x00binary")
    corpus = load_corpus([d])
    assert ids(corpus) == ["b.txt"]
    assert corpus.stats.skipped_binary == 13
    assert len(warnings_log) == 12  # 10 names, one "2 more", then c.txt
    assert "skipped 2 more binary files" in warnings_log[10]
    assert "c.txt" in warnings_log[11]


def test_directory_empty_file_is_an_empty_document(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "")
    write(d / "b.txt", "words")
    corpus = load_corpus([d])
    assert texts(corpus) == ["", "words"]
    assert corpus.stats.empty_documents == 1


def test_directory_several_globs(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.md", "markdown a")
    write(d / "b.txt", "text b")
    write(d / "sub" / "c.rst", "rest c")
    write(d / "sub" / "d.md", "markdown d")
    assert ids(load_corpus([d], glob=["*.txt", "*.md"])) == ["a.md", "b.txt", "sub/d.md"]
    assert ids(load_corpus([d], glob=("sub/*", "*.TXT"))) == ["b.txt", "sub/c.rst", "sub/d.md"]
    # a file two patterns match is read once
    assert ids(load_corpus([d], glob=["*.md", "a.*"])) == ["a.md", "sub/d.md"]
    # no pattern keeps the default
    assert ids(load_corpus([d], glob=[])) == ids(load_corpus([d])) == ["b.txt"]
    with pytest.raises(
        CorpusError, match=r"matches '\*\.doc' or '\*\.pdf' \(4 other files"
    ) as info:
        load_corpus([d], glob=["*.doc", "*.pdf"])
    assert info.value.param == "glob" and info.value.value == ["*.doc", "*.pdf"]


@pytest.mark.parametrize("bad", ["", "/", ["*.txt", ""], [3]])
def test_an_empty_or_odd_pattern_is_a_parameter_error(tmp_path: Path, bad: object) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "text")
    for param in ("glob", "exclude"):
        with pytest.raises(ParameterError, match="is not a file pattern") as info:
            load_corpus([d], **{param: bad})  # type: ignore[arg-type]
        assert info.value.param == param


def exclusion_tree(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    write(d / "a.txt", "alpha")
    write(d / "a.bak.txt", "old alpha")
    write(d / "notes.md", "not matched by the glob")
    write(d / "drafts" / "b.txt", "draft b")
    write(d / "drafts" / "deep" / "c.txt", "draft c")
    write(d / "keep" / "drafts.txt", "a file named like the folder")
    write(d / "keep" / "drafts" / "d.txt", "a nested folder of the same name")
    write(d / "keep" / "e.txt", "kept e")
    return d


@pytest.mark.parametrize(
    ("exclude", "expected", "skipped"),
    [
        ((), ["a.bak.txt", "a.txt", "drafts/b.txt", "drafts/deep/c.txt", "keep/drafts/d.txt",
              "keep/drafts.txt", "keep/e.txt"], 0),
        ("*.bak.txt", ["a.txt", "drafts/b.txt", "drafts/deep/c.txt", "keep/drafts/d.txt",
                       "keep/drafts.txt", "keep/e.txt"], 1),
        # a name: every folder and file of that name, at any depth (a folder counts once)
        (["DRAFTS", "drafts.txt"], ["a.bak.txt", "a.txt", "keep/e.txt"], 3),
        # a trailing '/' matches folders only
        ("drafts/", ["a.bak.txt", "a.txt", "keep/drafts.txt", "keep/e.txt"], 2),
        # with '/', the path relative to the directory ('*' crosses '/', as in --glob)
        ("keep/drafts", ["a.bak.txt", "a.txt", "drafts/b.txt", "drafts/deep/c.txt",
                         "keep/drafts.txt", "keep/e.txt"], 1),
        (["drafts/*", "./keep/e.txt"], ["a.bak.txt", "a.txt", "keep/drafts/d.txt",
                                        "keep/drafts.txt"], 3),
    ],
)  # fmt: skip
def test_directory_exclude(
    tmp_path: Path, exclude: str | list[str], expected: list[str], skipped: int
) -> None:
    d = exclusion_tree(tmp_path)
    corpus = load_corpus([d], exclude=exclude)
    assert ids(corpus) == expected
    assert corpus.stats.skipped_excluded == skipped
    assert corpus.stats.files_read == len(expected)
    for name in ("a.txt", "drafts/b.txt", "keep/drafts/d.txt", "keep/e.txt"):
        assert corpus.reads_path(d / name) == (name in expected), name


def test_directory_exclude_counts_only_what_the_glob_would_read(tmp_path: Path) -> None:
    d = exclusion_tree(tmp_path)
    corpus = load_corpus([d], exclude=["*.md", "*.bak.txt"])
    list(corpus)
    assert corpus.stats.skipped_excluded == 1  # notes.md was not going to be read anyway


def test_directory_whose_every_file_is_excluded(tmp_path: Path) -> None:
    d = exclusion_tree(tmp_path)
    with pytest.raises(CorpusError) as info:
        load_corpus([d], exclude=["*.txt", "drafts"])
    message = str(info.value)
    assert message.startswith(f"no file in {d} matches '*.txt' (1 other file, e.g. notes.md; ")
    assert message.endswith("6 files or folders excluded by '*.txt', 'drafts')")
    assert info.value.param == "exclude" and info.value.value == ["*.txt", "drafts"]
    assert "--" not in message
    # a directory whose only content is excluded is not called empty
    only = tmp_path / "only"
    write(only / "drafts" / "x.txt", "draft")
    with pytest.raises(CorpusError, match=r"\(1 file or folder excluded by 'drafts'\)"):
        load_corpus([only], exclude="drafts")


def test_directory_with_a_format_parses_each_file(tmp_path: Path) -> None:
    d = tmp_path / "shards"
    write(d / "one.jsonl", '{"text": "a"}\n{"text": "b"}\n')
    write(d / "two.jsonl.gz", '{"text": "c"}\n')
    write(d / "skip.txt", "not jsonl")
    assert ids(load_corpus([d], format="jsonl")) == ["one.jsonl:1", "one.jsonl:2"]
    corpus = load_corpus([d], format="jsonl", glob="*.jsonl*")
    assert ids(corpus) == ["one.jsonl:1", "one.jsonl:2", "two.jsonl.gz:1"]


def test_directory_gz_files_are_decompressed(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt.gz", "compressed text")
    assert texts(load_corpus([d], glob="*.txt.gz")) == ["compressed text"]


def test_directory_follows_linked_folders_and_skips_loops(
    tmp_path: Path, warnings_log: list[str]
) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "alpha")
    write(d / "sub" / "b.txt", "beta")
    write(tmp_path / "elsewhere" / "c.txt", "gamma")
    (d / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (d / "sub" / "loop").symlink_to(d, target_is_directory=True)  # back to the top
    (d / "sub" / "self").symlink_to(d / "sub", target_is_directory=True)
    corpus = load_corpus([d])
    assert ids(corpus) == ["a.txt", "linked/c.txt", "sub/b.txt"]
    assert corpus.stats.skipped_links == 2
    assert len(warnings_log) == 2 and all("already read" in m for m in warnings_log)
    assert "loop" in warnings_log[0] and "self" in warnings_log[1]


def test_directory_reads_a_folder_reached_twice_once(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "real" / "a.txt", "alpha")
    (d / "another").symlink_to(d / "real", target_is_directory=True)
    corpus = load_corpus([d])
    assert ids(corpus) == ["another/a.txt"]  # the first name in sorted order
    assert corpus.stats.skipped_links == 1


def test_directory_nested_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    d = tmp_path / "deep"
    d.mkdir()
    folder = str(d)
    for _ in range(1200):  # makedirs recurses: one level at a time
        folder = os.path.join(folder, "d")
        os.mkdir(folder)
    with open(os.path.join(folder, "bottom.txt"), "w") as fh:
        fh.write("deep down")
    write(d / "top.txt", "on top")
    try:
        assert ids(load_corpus([d])) == ["/".join(["d"] * 1200) + "/bottom.txt", "top.txt"]
    finally:  # shutil.rmtree recurses too: take it down one level at a time
        os.unlink(os.path.join(folder, "bottom.txt"))
        while folder != str(d):
            os.rmdir(folder)
            folder = os.path.dirname(folder)


def test_reads_path_of_files_and_directories(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "alpha")
    write(d / "notes.md", "not read")
    write(tmp_path / "elsewhere" / "b.txt", "beta")
    (d / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    single = write(tmp_path / "single.txt", "one\ntwo\n")
    os.link(single, tmp_path / "hard-link.txt")
    corpus = load_corpus([d, single])
    assert corpus.reads_path(d / "a.txt")
    assert corpus.reads_path(d / "new.TXT")  # not there yet, but the walk would read it
    assert corpus.reads_path(d / "sub" / "x.txt") is False  # no such folder: nothing to read
    assert corpus.reads_path(tmp_path / "elsewhere" / "new.txt")  # through the linked folder
    assert not corpus.reads_path(d / "notes.md")  # no glob match
    assert not corpus.reads_path(d / ".hidden.txt")
    assert not corpus.reads_path(tmp_path / "out.txt")
    assert corpus.reads_path(single) and corpus.reads_path(tmp_path / "hard-link.txt")
    assert load_corpus([d], glob="*.md").reads_path(d / "notes.md")
    write(d / ".git" / "x.txt", "hidden folder")
    assert not corpus.reads_path(d / ".git" / "x.txt")


def test_reads_path_of_standard_input_redirected_from_a_file(tmp_path: Path) -> None:
    p = write(tmp_path / "in.txt", "one\n")
    with open(p, "rb") as stdin:
        corpus = load_corpus(["-"], stdin=stdin)
        assert corpus.reads_path(p)
        assert not corpus.reads_path(tmp_path / "other.txt")
    assert not load_corpus(["-"], stdin=io.BytesIO(b"x\n")).reads_path(p)


# --------------------------------------------------------------------------- lines files


def test_txt_one_document_per_line_ids_keep_line_numbers(tmp_path: Path) -> None:
    p = write(tmp_path / "notes.txt", "first\n\n  \nfourth\r\nfifth")
    corpus = load_corpus([p])
    assert [(d.id, d.text) for d in corpus] == [("1", "first"), ("4", "fourth"), ("5", "fifth")]


def test_unknown_extension_is_read_as_lines(tmp_path: Path) -> None:
    p = write(tmp_path / "README", "one\ntwo\n")
    assert texts(load_corpus([p])) == ["one", "two"]


def test_format_override_for_a_file(tmp_path: Path) -> None:
    p = write(tmp_path / "data.dat", "id,text\nx,hello\n")
    assert [(d.id, d.text) for d in load_corpus([p], format="csv", id_column="id")] == [
        ("x", "hello")
    ]
    whole = list(load_corpus([p], format="document"))
    assert whole == [Document(str(p), "id,text\nx,hello\n")]
    assert texts(load_corpus([p], format="LINES")) == ["id,text", "x,hello"]


def test_unknown_format_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path / "a.txt", "x")
    with pytest.raises(ParameterError, match="unknown input format 'xml'.*lines, document") as info:
        load_corpus([p], format="xml")
    assert info.value.param == "format" and info.value.choices[0] == "lines"


# --------------------------------------------------------------------------- CSV / TSV


def test_csv_text_column_row_numbers_quotes_and_newlines(tmp_path: Path) -> None:
    p = write(
        tmp_path / "d.csv",
        'title,text\r\nA,"hello, ""world"""\r\n\r\nB,"two\nlines"\r\nC,\r\n',
    )
    corpus = load_corpus([p])
    assert [(d.id, d.text) for d in corpus] == [
        ("1", 'hello, "world"'),
        ("2", "two\nlines"),
        ("3", ""),
    ]
    assert corpus.stats.empty_documents == 1


def test_csv_id_column(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "doc,body\nx1,alpha\nx2,beta\n")
    corpus = load_corpus([p], text_column="body", id_column="doc")
    assert [(d.id, d.text) for d in corpus] == [("x1", "alpha"), ("x2", "beta")]


def test_csv_column_match_tolerates_case_and_spaces(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "ID, Text \n1,alpha\n")
    assert [(d.id, d.text) for d in load_corpus([p], id_column="id")] == [("1", "alpha")]


def test_csv_missing_text_column_lists_columns(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "id,title,body\n1,t,b\n")
    with pytest.raises(CorpusError) as info:
        load_corpus([p])  # checked eagerly: before any iteration
    message = str(info.value)
    assert "d.csv" in message and "'text'" in message
    assert "id, title, body" in message and "--" not in message
    assert info.value.param == "text_column" and info.value.choices == ("id", "title", "body")
    assert "\n" not in message


def test_csv_missing_id_column(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "text\nhello\n")
    with pytest.raises(CorpusError, match="no column 'key'.*text") as info:
        load_corpus([p], id_column="key")
    assert info.value.param == "id_column"


def test_csv_duplicate_and_empty_ids(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "id,text\na,x\na,y\n")
    with pytest.raises(CorpusError, match="line 3.*'a' twice"):
        list(load_corpus([p], id_column="id"))
    p = write(tmp_path / "e.csv", "id,text\n,x\n")
    with pytest.raises(CorpusError, match="empty id"):
        list(load_corpus([p], id_column="id"))


def test_csv_ragged_row_is_an_error_with_line(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "id,text\n1,fine\n2\n")
    with pytest.raises(CorpusError, match=r"d\.csv line 3 has 1 field"):
        list(load_corpus([p]))


def test_csv_header_only_and_empty(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "id,text\n")
    with pytest.raises(CorpusError, match="no rows"):
        list(load_corpus([p]))
    p = write(tmp_path / "e.csv", "")
    with pytest.raises(CorpusError, match="empty"):
        load_corpus([p])


def test_csv_long_field_beyond_default_limit(tmp_path: Path) -> None:
    big = "word " * 100_000  # 500 kB: more than the csv module's default 128 kB
    p = write(tmp_path / "d.csv", f'text\n"{big}"\n')
    assert texts(load_corpus([p])) == [big]


def test_tsv(tmp_path: Path) -> None:
    p = write(tmp_path / "d.tsv", "id\ttext\nq\tone, two\n")
    assert [(d.id, d.text) for d in load_corpus([p], id_column="id")] == [("q", "one, two")]


def test_csv_strict_refuses_an_unclosed_quote_and_lenient_reads_on(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", 'id,text\n1,fine\n2,"never closed\n3,swallowed\n4,too\n')
    with pytest.raises(CorpusError, match=r"d\.csv line 3: a quoted field .* never closed") as info:
        list(load_corpus([p]))
    assert info.value.param == "csv_lenient"
    # the csv module alone takes the rest of the file as one field
    lenient = list(load_corpus([p], csv_lenient=True))
    assert [d.text for d in lenient] == ["fine", "never closed\n3,swallowed\n4,too\n"]


def test_csv_strict_refuses_a_stray_quote_that_merges_numbered_rows(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", 'id,text\n1,"oops\n2,fine\n3,also oops"\n4,ok\n')
    with pytest.raises(CorpusError) as info:
        list(load_corpus([p]))
    message = str(info.value)
    assert "d.csv line 2: a quoted field runs on to line 4" in message and "stray quote" in message
    assert info.value.param == "csv_lenient" and "--" not in message
    lenient = list(load_corpus([p], csv_lenient=True, id_column="id"))
    assert [d.id for d in lenient] == ["1", "4"]  # what the csv module alone makes of it


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_csv_strict_keeps_real_multiline_fields(tmp_path: Path, delimiter: str) -> None:
    # prose lines inside a quoted field, even with delimiters, are not rows of their own
    rows = [
        ["1", "Dear John,\nthanks, see you\nbye, now"],
        ["2", "a, b\n\n3, c"],
        ["n3", "one line"],
    ]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([["id", "text"], *rows])
    p = write(tmp_path / ("d.csv" if delimiter == "," else "d.tsv"), out.getvalue())
    docs = list(load_corpus([p], id_column="id"))
    assert [(d.id, d.text) for d in docs] == [tuple(r) for r in rows]


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ('id,text\n1,"quoted" then more\n', r"line 2 is not valid CSV \(',' expected"),
        ("id,text\n1,hello, world\n", r"line 2 has 3 field\(s\) but the header has 2"),
        ("id,text\n1,a\n2,b,\n", r"line 3 has 3 field\(s\)"),
    ],
)
def test_csv_strict_rows_and_the_lenient_option(tmp_path: Path, content: str, pattern: str) -> None:
    p = write(tmp_path / "d.csv", content)
    with pytest.raises(CorpusError, match=pattern) as info:
        list(load_corpus([p]))
    assert info.value.param == "csv_lenient"
    assert len(list(load_corpus([p], csv_lenient=True))) >= 1


def test_csv_short_rows_are_errors_even_when_lenient(tmp_path: Path) -> None:
    p = write(tmp_path / "d.csv", "id,text\n1,fine\n2\n3,x\n")
    for lenient in (False, True):
        with pytest.raises(CorpusError, match=r"d\.csv line 3 has 1 field") as info:
            list(load_corpus([p], csv_lenient=lenient))
        assert info.value.param is None


def test_csv_field_limit_is_not_left_raised(tmp_path: Path) -> None:
    before = csv.field_size_limit()
    p = write(tmp_path / "d.csv", "text\n" + "x" * 200_000 + "\n")
    assert len(texts(load_corpus([p]))[0]) == 200_000
    assert csv.field_size_limit() == before


# --------------------------------------------------------------------------- JSONL


def test_jsonl_fields_ids_and_values(tmp_path: Path) -> None:
    p = write(
        tmp_path / "d.jsonl",
        '{"id": "a", "text": "alpha"}\n\n{"id": 7, "text": 3.5}\n{"id": "c", "text": null}\n',
    )
    corpus = load_corpus([p], id_column="id")
    assert [(d.id, d.text) for d in corpus] == [("a", "alpha"), ("7", "3.5"), ("c", "")]
    assert ids(load_corpus([p])) == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ('{"text": "ok"}\n{"text": oops}\n', r"d\.jsonl line 2 is not valid JSON"),
        ('{"text": "ok"}\n["a list"]\n', r"line 2 is an array"),
        ('{"text": "ok"}\n"a string"\n', r"line 2 is not an object"),
        ('{"body": "ok"}\n', r"line 1 has no field 'text'; its fields are: body$"),
        ('{"text": ["a"]}\n', r"line 1: field 'text' is an array"),
        ('{"text": "ok"}\n' + "[" * 100_000 + "\n", r"line 2 is not valid JSON"),
    ],
)
def test_jsonl_bad_lines(tmp_path: Path, content: str, pattern: str) -> None:
    p = write(tmp_path / "d.jsonl", content)
    with pytest.raises(CorpusError, match=pattern):
        list(load_corpus([p]))


def test_jsonl_missing_or_duplicate_id(tmp_path: Path) -> None:
    p = write(tmp_path / "d.jsonl", '{"text": "a", "k": 1}\n{"text": "b"}\n')
    with pytest.raises(CorpusError, match="line 2 has no field 'k'") as info:
        list(load_corpus([p], id_column="k"))
    assert info.value.param == "id_column"
    p = write(tmp_path / "e.jsonl", '{"text": "a", "k": 1}\n{"text": "b", "k": 1}\n')
    with pytest.raises(CorpusError, match="'1' twice"):
        list(load_corpus([p], id_column="k"))


# --------------------------------------------------------------------------- JSON arrays


def test_json_array_of_strings_objects_and_nulls(tmp_path: Path) -> None:
    p = write(
        tmp_path / "d.json",
        '[\n  "first",\n  {"text": "second", "id": "b"},\n  null,\n  {"text": 4.5, "id": 7}\n]\n',
    )
    corpus = load_corpus([p])
    assert [(d.id, d.text) for d in corpus] == [("1", "first"), ("2", "second"), ("3", ""),
                                                 ("4", "4.5")]  # fmt: skip
    assert corpus.stats.empty_documents == 1
    objects = write(tmp_path / "o.json", '[{"body": "x", "k": "a"}, {"body": "y", "k": 2}]')
    corpus = load_corpus([objects], text_column="body", id_column="k")
    assert [(d.id, d.text) for d in corpus] == [("a", "x"), ("2", "y")]


def test_json_array_by_extension_gzip_format_stdin_and_directory(tmp_path: Path) -> None:
    data = '["\\u00e9t\\u00e9", "caf\u00e9 \\"au\\" lait\\n"]'
    expected = ["\u00e9t\u00e9", 'caf\u00e9 "au" lait\n']
    assert texts(load_corpus([write(tmp_path / "a.json.gz", data)])) == expected
    assert texts(load_corpus([write(tmp_path / "a.JSON", data)])) == expected
    assert texts(load_corpus([write(tmp_path / "a.dat", data)], format="json")) == expected
    stdin = io.BytesIO(data.encode())
    assert texts(load_corpus(["-"], format="json", stdin=stdin)) == expected
    latin = write(tmp_path / "l.json", '["caf\u00e9"]', encoding="latin-1")
    assert texts(load_corpus([latin], encoding="latin-1")) == ["caf\u00e9"]
    d = tmp_path / "shards"
    write(d / "one.json", '["a", "b"]')
    write(d / "two.json", '[{"text": "c"}]')
    write(d / "skip.txt", "not json")
    assert ids(load_corpus([d], format="json")) == ["one.json:1", "one.json:2", "two.json:1"]


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ('["a", "b"', r"d\.json is not valid JSON at line 1 column 10: the array is never closed"),
        ('["a",\n "b",\n]', r"at line 3 column 1: a ',' before ']'"),
        ('["a"\n "b"]', r"at line 2 column 2: expected ',' or ']' after element 1$"),
        ('[\n "a",\n {"text": x}\n]', r"at line 3 column 11: Expecting value$"),
        ('["a", {"text": "b" "c"}]', r"at line 1 column 20: Expecting ',' delimiter$"),
        ('["a"] ["b"]', r"at line 1 column 7: more text after the array"),
        ('"a"', r"at line 1 column 1: a JSON corpus is an array: it must start with '\['"),
        ('["a", "b\\x"]', r"at line 1 column 9: Invalid \\escape"),
        ('["a", "b"x]', r"at line 1 column 10: expected ',' or ']' after element 2"),
        ("[" * 100_000, r"at line 1 column 2: element 1 is nested too deeply"),
        ("  \n ", r"d\.json holds only white space; it has no documents$"),
        ("[ ]", r"d\.json has no documents; it holds an empty array$"),
        ('["a", 3]', r"d\.json element 2 is a number; each element must be a string or an object"),
        ('[["a"]]', r"element 1 is an array; each element"),
        ('["a", true]', r"element 2 is a boolean"),
        ('[{"body": "a"}]', r"d\.json element 1 has no field 'text'; its fields are: body$"),
        ('[{"text": {"a": 1}}]', r"element 1: field 'text' is an object, not text$"),
    ],
)
def test_json_array_errors_name_their_place(tmp_path: Path, content: str, pattern: str) -> None:
    p = write(tmp_path / "d.json", content)
    with pytest.raises(CorpusError, match=pattern) as info:
        list(load_corpus([p]))
    assert "\n" not in str(info.value) and "--" not in str(info.value)


def test_json_object_instead_of_an_array_suggests_json_lines(tmp_path: Path) -> None:
    p = write(tmp_path / "d.json", '{"text": "one"}\n{"text": "two"}\n')
    with pytest.raises(CorpusError, match="holds a JSON object, not an array.*JSON Lines") as info:
        list(load_corpus([p]))
    assert info.value.param == "format"
    assert texts(load_corpus([p], format="jsonl")) == ["one", "two"]


def test_json_array_ids(tmp_path: Path) -> None:
    p = write(tmp_path / "d.json", '[{"text": "a", "k": "x"}, {"text": "b", "k": "x"}]')
    with pytest.raises(CorpusError, match=r"element 2 has the id 'x' twice") as info:
        list(load_corpus([p], id_column="k"))
    assert info.value.param == "id_column"
    p = write(tmp_path / "e.json", '[{"text": "a", "k": "x"}, "b"]')
    with pytest.raises(CorpusError, match=r"element 2 is a string, which has no field 'k'") as info:
        list(load_corpus([p], id_column="k"))
    assert info.value.param == "id_column"
    p = write(tmp_path / "f.json", '[{"text": "a", "k": ""}]')
    with pytest.raises(CorpusError, match="element 1 has an empty id"):
        list(load_corpus([p], id_column="k"))


def test_json_array_does_not_decode(tmp_path: Path) -> None:
    p = write(tmp_path / "d.json", b'[\n"ok",\n"caf\xe9"\n]')
    with pytest.raises(CorpusError, match=r"d\.json line 3 is not valid utf-8 text \(byte 0xe9\)"):
        list(load_corpus([p]))
    assert texts(load_corpus([p], encoding_errors="replace")) == ["ok", "caf\ufffd"]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64])
def test_json_array_read_in_small_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Elements cut anywhere by the buffer's end: the same documents, the same errors."""
    from topicnmf.corpus import jsonformats

    monkeypatch.setattr(jsonformats, "CHUNK_BYTES", chunk)
    docs = ["", 'a "quoted" \\ back\\slash', "\u00e9\u20ac\U0001f600", "[{]}", "x" * 200]
    values = [*docs, {"text": "obj", "n": [1, 2.5e3, {"deep": [None, True]}]}, None, 12345]
    p = write(tmp_path / "d.json", json.dumps(values[:-1], indent=1, ensure_ascii=chunk % 2 == 0))
    assert texts(load_corpus([p])) == [*docs, "obj", ""]
    bad = write(tmp_path / "bad.json", json.dumps(values, indent=1))
    with pytest.raises(CorpusError, match=r"bad\.json element 8 is a number"):
        list(load_corpus([bad]))
    cut = write(tmp_path / "cut.json", '["abc", {"text": "de\\"f", "k": [1, 2')
    with pytest.raises(CorpusError, match=r"at line 1 column 37: Expecting ',' delimiter"):
        list(load_corpus([cut]))


def test_json_array_element_beyond_the_bound_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from topicnmf.corpus import jsonformats

    monkeypatch.setattr(jsonformats, "MAX_DOCUMENT_BYTES", 1 << 20)
    body = "a" * (3 << 20)
    for name, data in [
        ("s.json.gz", f'["short", "{body}"]'),
        ("o.json", f'["short", {{"text": "{body}"}}]'),
        ("open.json", '["short", {"text": "never closed' + body),
    ]:
        corpus = iter(load_corpus([write(tmp_path / name, data)]))
        assert next(corpus).text == "short"
        with pytest.raises(
            CorpusError, match=r"element 2 \(line 1 column 11\) is longer than 1 MiB"
        ):
            next(corpus)
    # a syntax error early in a long element is told as such, not as its length
    broken = write(tmp_path / "b.json", '["short", {"text": "x" "y", "z": "' + body + '"}]')
    with pytest.raises(CorpusError, match=r"at line 1 column 24: Expecting ',' delimiter"):
        list(load_corpus([broken]))


# --------------------------------------------------------------------------- gzip


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("a.txt.gz", "one\ntwo\n", ["one", "two"]),
        ("a.csv.gz", "text\none\n", ["one"]),
        ("a.tsv.gz", "text\tx\none\t1\n", ["one"]),
        ("a.jsonl.gz", '{"text": "one"}\n', ["one"]),
    ],
)
def test_gzip_variants(tmp_path: Path, name: str, content: str, expected: list[str]) -> None:
    assert texts(load_corpus([write(tmp_path / name, content)])) == expected


def test_damaged_gzip_is_an_error(tmp_path: Path) -> None:
    data = gzip.compress(b"one\ntwo\n" * 1000)
    p = tmp_path / "a.txt.gz"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorpusError, match="a.txt.gz.*gzip"):
        list(load_corpus([p]))


# --------------------------------------------------------------------------- stdin


def test_stdin_lines_by_default_and_reiterable() -> None:
    corpus = load_corpus(["-"], stdin=io.BytesIO(b"alpha\n\nbeta\n"))
    assert [(d.id, d.text) for d in corpus] == [("1", "alpha"), ("3", "beta")]
    assert ids(corpus) == ["1", "3"]  # read once, kept for the next pass


@pytest.mark.parametrize(
    ("fmt", "data", "expected"),
    [
        ("csv", b"text,x\nhello,1\n", ["hello"]),
        ("tsv", b"x\ttext\n1\thello\n", ["hello"]),
        ("jsonl", b'{"text": "hello"}\n', ["hello"]),
        ("lines", b"hello\n", ["hello"]),
        ("document", b"hello\nworld\n", ["hello\nworld\n"]),
    ],
)
def test_stdin_formats(fmt: str, data: bytes, expected: list[str]) -> None:
    assert texts(load_corpus(["-"], format=fmt, stdin=io.BytesIO(data))) == expected


def test_stdin_text_stream_and_gzip() -> None:
    assert texts(load_corpus(["-"], stdin=io.StringIO("é one\ntwo\n"))) == ["é one", "two"]
    gz = io.BytesIO(gzip.compress(b"zipped\n"))
    assert texts(load_corpus(["-"], stdin=gz)) == ["zipped"]


def test_stdin_default_is_sys_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = SimpleNamespace(buffer=io.BytesIO(b"from sys.stdin\n"))
    monkeypatch.setattr("sys.stdin", fake)
    assert texts(load_corpus(["-"])) == ["from sys.stdin"]


def test_stdin_empty_is_an_error() -> None:
    with pytest.raises(CorpusError, match="standard input is empty"):
        list(load_corpus(["-"], stdin=io.BytesIO(b"")))
    with pytest.raises(CorpusError, match="standard input has no documents"):
        list(load_corpus(["-"], stdin=io.BytesIO(b"\n \n")))


def test_large_stdin_is_spooled_to_a_temporary_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources_mod, "STDIN_MEMORY_LIMIT", 10)
    data = b"".join(b"line %d\n" % i for i in range(1, 101))
    corpus = load_corpus(["-"], stdin=io.BytesIO(data))
    assert len(list(corpus)) == 100
    spooled = corpus._sources[0]._file  # type: ignore[attr-defined]
    assert spooled is not None and os.path.exists(spooled)
    assert len(list(corpus)) == 100
    corpus.close()
    assert not os.path.exists(spooled)


class _Terminal(io.RawIOBase):
    """A stream that, like a terminal, gives what was typed and waits for more."""

    def __init__(self, typed: list[bytes]) -> None:
        self.typed = typed

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:
        if not self.typed:
            raise AssertionError("read again after the end of input")
        data = self.typed.pop(0)
        buffer[: len(data)] = data
        return len(data)


def test_stdin_ends_at_the_first_end_of_input() -> None:
    # one line, then Ctrl-D (an empty read): a reader that wanted 1 MiB would read again
    typed = [b"typed line\n", b"", b"a second Ctrl-D would be needed"]
    stream = io.BufferedReader(_Terminal(typed))
    assert texts(load_corpus(["-"], stdin=stream)) == ["typed line"]
    assert typed == [b"a second Ctrl-D would be needed"]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_stdin_on_a_terminal_ends_at_one_ctrl_d(tmp_path: Path) -> None:
    import subprocess
    import sys
    import termios

    leader, follower = os.openpty()
    code = "from topicnmf.corpus import load_corpus; print([d.text for d in load_corpus(['-'])])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=follower, stdout=subprocess.PIPE, text=True
    )
    os.close(follower)
    try:
        eof = termios.tcgetattr(leader)[6][termios.VEOF]
        os.write(leader, b"first document\n")
        os.write(leader, eof)
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
        os.close(leader)
    assert out.strip() == "['first document']"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_named_pipe_is_read_once_and_kept(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    corpus = load_corpus([fifo])  # must not block: a pipe is not read eagerly

    def feed() -> None:
        with open(fifo, "wb") as out:
            out.write(b"piped one\npiped two\n")

    writer = threading.Thread(target=feed)
    writer.start()
    assert texts(corpus) == ["piped one", "piped two"]
    writer.join()
    assert texts(corpus) == ["piped one", "piped two"]


# --------------------------------------------------------------------------- several sources


def test_several_sources_prefix_ids(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "from dir")
    p = write(tmp_path / "notes.txt", "line one\nline two")
    corpus = load_corpus([f"{d}/", p, "-"], stdin=io.BytesIO(b"piped\n"))
    assert corpus.sources == (str(d), str(p), "-")
    assert ids(corpus) == [f"{d}:a.txt", f"{p}:1", f"{p}:2", "-:1"]


def test_several_sources_document_format_ids_are_the_sources(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", "A")
    b = write(tmp_path / "b.txt", "B")
    assert ids(load_corpus([a, b], format="document")) == [str(a), str(b)]


def test_same_source_twice_is_an_error(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "x")
    with pytest.raises(CorpusError, match="given twice"):
        load_corpus([d, f"{d}/"])


def test_sources_whose_prefixed_ids_could_clash(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a", "x")
    write(tmp_path / "a:b", "y")
    write(tmp_path / "a!", "z")
    with pytest.raises(CorpusError, match="sources a and a:b could give the same ids"):
        load_corpus(["a", "a!", "a:b"])
    assert ids(load_corpus(["a", "./a:b"])) == ["a:1", "./a:b:1"]


def test_single_path_and_no_source() -> None:
    with pytest.raises(CorpusError, match="no corpus given"):
        load_corpus([])


# --------------------------------------------------------------------------- paths and errors


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no such file or directory: .*nope.txt"):
        load_corpus([tmp_path / "nope.txt"])


def test_empty_file_and_blank_only_file(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="empty.txt is empty"):
        load_corpus([write(tmp_path / "empty.txt", "")])
    with pytest.raises(CorpusError, match="blank.txt has no documents"):
        list(load_corpus([write(tmp_path / "blank.txt", "\n  \n\n")]))


def test_binary_file_given_directly_is_an_error(tmp_path: Path) -> None:
    p = write(tmp_path / "image.txt", b"GIF89a\x00\x01\x00")
    with pytest.raises(CorpusError, match="binary"):
        load_corpus([p])


def test_undecodable_file_names_file_line_and_encoding(tmp_path: Path) -> None:
    p = write(tmp_path / "old.txt", b"fine\nalso fine\ncaf\xe9\n")
    corpus = load_corpus([p])
    stream = iter(corpus)
    assert next(stream).text == "fine"  # streaming: earlier lines come before the error
    with pytest.raises(CorpusError) as info:
        list(stream)
    message = str(info.value)
    assert "old.txt line 3" in message and "--" not in message
    assert "0xe9" in message and info.value.param == "encoding"


def test_undecodable_file_in_a_directory_when_strict(tmp_path: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", b"line\ncaf\xe9")
    with pytest.raises(CorpusError, match=r"a\.txt line 2 is not valid utf-8") as info:
        list(load_corpus([d], encoding_errors="strict"))
    assert info.value.param == "encoding"


def test_unknown_encoding() -> None:
    with pytest.raises(ParameterError, match="unknown text encoding 'klingon'") as info:
        load_corpus(["-"], encoding="klingon")
    assert info.value.param == "encoding"
    with pytest.raises(ParameterError, match="unknown text encoding 'base64'"):
        load_corpus(["-"], encoding="base64")


# --------------------------------------------------------------------------- encodings


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    bom = "\ufeff"
    assert texts(load_corpus([write(tmp_path / "a.txt", bom + "one\ntwo")])) == ["one", "two"]
    csv_path = write(tmp_path / "a.csv", bom + "text,id\nhello,1\n")
    assert texts(load_corpus([csv_path])) == ["hello"]
    jsonl = write(tmp_path / "a.jsonl", bom + '{"text": "hi"}\n')
    assert texts(load_corpus([jsonl])) == ["hi"]
    d = tmp_path / "docs"
    write(d / "x.txt", bom + "whole")
    assert texts(load_corpus([d])) == ["whole"]


def test_encoding_option(tmp_path: Path) -> None:
    p = write(tmp_path / "latin.txt", "café\nnaïve\n", encoding="latin-1")
    assert texts(load_corpus([p], encoding="latin-1")) == ["café", "naïve"]
    p = write(tmp_path / "wide.txt", "café\n\nnaïve\r\n", encoding="utf-16")
    corpus = load_corpus([p], encoding="utf-16")
    assert [(d.id, d.text) for d in corpus] == [("1", "café"), ("3", "naïve")]
    p = write(tmp_path / "wide.csv", 'id,text\n1,"a\nb"\n', encoding="utf-16")
    assert texts(load_corpus([p], encoding="utf-16")) == ["a\nb"]
    d = tmp_path / "wide"
    write(d / "x.txt", "entier", encoding="utf-16")
    assert texts(load_corpus([d], encoding="utf-16")) == ["entier"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "latin-1"])
def test_a_last_line_loses_its_carriage_return_in_every_encoding(
    tmp_path: Path, encoding: str
) -> None:
    p = write(tmp_path / "a.txt", "one\r\ntwo\rx\r\nlast\r", encoding=encoding)
    assert texts(load_corpus([p], encoding=encoding)) == ["one", "two\rx", "last"]
    j = write(tmp_path / "a.jsonl", '{"text": "a"}\r\n{"text": "b"}\r', encoding=encoding)
    assert texts(load_corpus([j], encoding=encoding)) == ["a", "b"]


def test_undecodable_files_of_a_directory_are_skipped_and_counted(
    tmp_path: Path, warnings_log: list[str]
) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "good text")
    write(d / "b.txt", b"caf\xe9 latin-1")
    write(d / "c.txt", "more good text")
    corpus = load_corpus([d])
    assert ids(corpus) == ["a.txt", "c.txt"]
    assert corpus.stats.skipped_undecodable == 1 and corpus.stats.skipped_binary == 0
    assert len(warnings_log) == 1
    assert "b.txt" in warnings_log[0] and "not valid utf-8 text (byte 0xe9)" in warnings_log[0]
    replaced = load_corpus([d], encoding_errors="replace")
    assert texts(replaced) == ["good text", "caf\ufffd latin-1", "more good text"]
    assert replaced.stats.skipped_undecodable == 0
    with pytest.raises(CorpusError, match=r"b\.txt line 1 is not valid utf-8"):
        list(load_corpus([d], encoding_errors="strict"))


def test_a_file_that_fails_part_way_is_skipped_whole(tmp_path: Path) -> None:
    d = tmp_path / "shards"
    write(d / "a.txt", "one\ntwo\n")
    write(d / "b.txt", b"three\nfour\nfi\xffve\n")  # fails on its third line
    corpus = load_corpus([d], format="lines")
    assert ids(corpus) == ["a.txt:1", "a.txt:2"]
    assert corpus.stats.skipped_undecodable == 1
    assert ids(load_corpus([d], format="lines", encoding_errors="replace"))[-1] == "b.txt:3"


def test_a_directory_whose_every_file_is_skipped_is_an_error(
    tmp_path: Path, warnings_log: list[str]
) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", b"\x00binary")
    write(d / "b.txt", b"\xff\xfe not utf-8")
    with pytest.raises(CorpusError) as info:
        list(load_corpus([d]))
    message = str(info.value)
    assert "gave no documents (1 binary file and 1 undecodable file skipped" in message
    assert warnings_log == []


def test_a_named_file_or_stdin_that_does_not_decode_is_an_error_unless_replaced(
    tmp_path: Path,
) -> None:
    p = write(tmp_path / "a.txt", b"fine\ncaf\xe9\n")
    for errors in ("skip", "strict"):
        with pytest.raises(CorpusError, match=r"a\.txt line 2"):
            list(load_corpus([p], encoding_errors=errors))
        with pytest.raises(CorpusError, match="standard input line 2"):
            list(load_corpus(["-"], stdin=io.BytesIO(b"fine\ncaf\xe9\n"), encoding_errors=errors))
    assert texts(load_corpus([p], encoding_errors="replace")) == ["fine", "caf\ufffd"]
    replaced = load_corpus(["-"], stdin=io.BytesIO(b"caf\xe9\n"), encoding_errors="replace")
    assert texts(replaced) == ["caf\ufffd"]


def test_unknown_encoding_errors_value() -> None:
    with pytest.raises(ParameterError, match="'ignore'") as info:
        load_corpus(["-"], encoding_errors="ignore")
    assert info.value.param == "encoding_errors" and info.value.choices == (
        "skip",
        "strict",
        "replace",
    )


# --------------------------------------------------------------------------- Corpus API


def test_iter_batches_and_texts(tmp_path: Path) -> None:
    p = write(tmp_path / "a.txt", "\n".join(f"doc {i}" for i in range(7)))
    corpus = load_corpus([p])
    batches = list(corpus.iter_batches(3))
    assert [len(b) for b in batches] == [3, 3, 1]
    assert all(isinstance(d, Document) for b in batches for d in b)
    view = corpus.texts()
    assert list(view) == list(view) == [f"doc {i}" for i in range(7)]
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ParameterError):
            list(corpus.iter_batches(bad))  # type: ignore[arg-type]


def test_stats_are_per_pass(tmp_path: Path) -> None:
    corpus = load_corpus([write(tmp_path / "a.txt", "x\ny\n")])
    assert corpus.stats == CorpusStats()
    stream = iter(corpus)
    next(stream)
    assert corpus.stats.documents == 1 and not corpus.stats.complete
    list(stream)
    assert corpus.stats.documents == 2 and corpus.stats.complete
    list(corpus)
    assert corpus.stats.documents == 2
    assert "a.txt" in repr(corpus)


# --------------------------------------------------------------------------- 20 Newsgroups


def make_news_archive(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def make_news_folders(root: Path, members: dict[str, bytes]) -> Path:
    for name, data in members.items():
        write(root / name, data)
    return root


POST = b"From: a@b\nSubject: hi\n\nIn article <1@x> b wrote:\n> quoted\nbody text\n\n--\nsig\n"
MINI = {
    "20news-bydate-train/sci.space/10": POST,
    "20news-bydate-train/sci.space/9": b"Subject: x\n\nnine",
    "20news-bydate-train/alt.atheism/5": b"Subject: x\n\nfive",
    "20news-bydate-test/sci.space/20": b"Subject: x\n\ntwenty",
}


def test_newsgroups_names_and_options_are_checked(no_news_homes: Path) -> None:
    with pytest.raises(CorpusError, match="unknown 20 Newsgroups subset 'dev'"):
        load_corpus(["20newsgroups:dev"])
    with pytest.raises(ParameterError, match="unknown newsgroup.*'sci.spaec'.*sci.space") as info:
        load_corpus(["20newsgroups"], categories=["sci.spaec"])
    assert info.value.param == "categories" and info.value.choices == NEWSGROUPS
    with pytest.raises(ParameterError, match="cannot remove 'signatures'") as info:
        load_corpus(["20newsgroups"], remove=("signatures",))
    assert info.value.param == "remove"
    with pytest.raises(ParameterError, match="categories applies only to 20newsgroups") as info:
        load_corpus(["-"], categories=["sci.space"])
    assert info.value.param == "categories"
    with pytest.raises(ParameterError, match="download applies only to 20newsgroups") as info:
        load_corpus(["-"], download=True)
    assert info.value.param == "download"


def test_newsgroups_from_archive_ids_order_labels(tmp_path: Path, no_news_homes: Path) -> None:
    make_news_archive(tmp_path / "home" / "20news-bydate.tar.gz", MINI)
    corpus = load_corpus(["20newsgroups:all"], data_home=tmp_path / "home")
    docs = list(corpus)
    assert [d.id for d in docs] == [
        "train/alt.atheism/5",
        "train/sci.space/9",
        "train/sci.space/10",
        "test/sci.space/20",
    ]
    assert [d.label for d in docs] == ["alt.atheism", "sci.space", "sci.space", "sci.space"]
    assert docs[2].text == "body text\n"
    raw = list(load_corpus(["20newsgroups"], data_home=tmp_path / "home", remove=()))
    assert raw[2].text == POST.decode("latin-1")
    assert ids(load_corpus(["20newsgroups:test"], data_home=tmp_path / "home")) == [
        "test/sci.space/20"
    ]
    only = load_corpus(["20NewsGroups"], data_home=tmp_path / "home", categories=["alt.atheism"])
    assert ids(only) == ["train/alt.atheism/5"]


def test_newsgroups_from_folders_matches_archive(tmp_path: Path, no_news_homes: Path) -> None:
    make_news_archive(tmp_path / "a" / "20news-bydate.tar.gz", MINI)
    make_news_folders(tmp_path / "f", MINI)
    from_archive = list(load_corpus(["20newsgroups:all"], data_home=tmp_path / "a"))
    corpus = load_corpus(["20newsgroups:all"], data_home=tmp_path / "f")
    assert list(corpus) == from_archive
    assert corpus._sources[0].kind == "folders"  # type: ignore[attr-defined]


def test_newsgroups_search_order(
    tmp_path: Path, no_news_homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_news_archive(no_news_homes / "20news_home" / "20news-bydate.tar.gz", MINI)
    corpus = load_corpus(["20newsgroups"])  # scikit-learn's data home, 20news_home/
    assert len(list(corpus)) == 3
    env_home = tmp_path / "env"
    make_news_archive(
        env_home / "20news-bydate.tar.gz", {"20news-bydate-train/sci.med/1": b"h\n\nenv"}
    )
    monkeypatch.setenv("TOPICNMF_DATA_HOME", str(env_home))
    assert ids(load_corpus(["20newsgroups"])) == ["train/sci.med/1"]
    param_home = tmp_path / "param"
    make_news_folders(param_home, {"20news-bydate-train/sci.crypt/2": b"h\n\nparam"})
    assert ids(load_corpus(["20newsgroups"], data_home=param_home)) == ["train/sci.crypt/2"]


def test_newsgroups_not_found_says_where_it_looked_and_does_not_download(
    tmp_path: Path, no_news_homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(data_home: Path, subset: str, download: bool) -> None:
        raise AssertionError("no download unless asked")

    monkeypatch.setattr(news_mod, "_fetch_with_sklearn", must_not_run)
    home = tmp_path / "mine"
    home.mkdir()
    env_home = tmp_path / "env"
    env_home.mkdir()
    monkeypatch.setenv("TOPICNMF_DATA_HOME", str(env_home))
    with pytest.raises(CorpusError) as info:
        load_corpus(["20newsgroups"], data_home=home)
    message = str(info.value)
    assert info.value.param == "download" and "\n" not in message and "--" not in message
    assert f"put 20news-bydate.tar.gz in {home}" in message
    for folder in (home, env_home, no_news_homes):
        assert f"{folder}, {folder / '20news_home'}" in message


def test_newsgroups_download_only_when_asked(tmp_path: Path, no_news_homes: Path) -> None:
    home = tmp_path / "mine"
    home.mkdir()
    with pytest.raises(CorpusError) as info:
        load_corpus(["20newsgroups"], data_home=home, download=True)
    message = str(info.value)
    assert "the download failed" in message and "network disabled" in message
    assert f"put 20news-bydate.tar.gz in {home}" in message and "\n" not in message


@pytest.mark.parametrize("given", ["parameter", "environment"])
def test_newsgroups_missing_data_home_is_an_error_and_is_not_created(
    tmp_path: Path, no_news_homes: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    home = tmp_path / "nowhere" / "data"
    kw = {"data_home": home} if given == "parameter" else {}
    if given == "environment":
        monkeypatch.setenv("TOPICNMF_DATA_HOME", str(home))
    for download in (False, True):
        with pytest.raises(CorpusError, match=f"{home} is not a folder") as info:
            load_corpus(["20newsgroups"], download=download, **kw)
        assert info.value.param == "data_home"
    assert not (tmp_path / "nowhere").exists()


def test_newsgroups_offline_does_not_try_to_download(
    tmp_path: Path, no_news_homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_run(data_home: Path, subset: str, download: bool) -> None:
        raise AssertionError("no download when TOPICNMF_OFFLINE is set")

    monkeypatch.setattr(news_mod, "_fetch_with_sklearn", must_not_run)
    monkeypatch.setenv("TOPICNMF_OFFLINE", "1")
    with pytest.raises(CorpusError, match="downloads are off.*put 20news-bydate.tar.gz in"):
        load_corpus(["20newsgroups"], data_home=tmp_path, download=True)


def test_newsgroups_uses_scikit_learn_cache_without_download(
    no_news_homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fake_fetch(data_home: Path, subset: str, download: bool) -> SimpleNamespace:
        calls.append(download)
        name = Path(data_home) / "20news_home" / "20news-bydate-test" / "sci.med" / "7"
        return SimpleNamespace(filenames=[str(name)], data=["H\n\nseven"])

    monkeypatch.setattr(news_mod, "_fetch_with_sklearn", fake_fetch)
    monkeypatch.setenv("TOPICNMF_OFFLINE", "1")
    write(no_news_homes / "20news-bydate_py3.pkz", b"scikit-learn's cache")
    assert ids(load_corpus(["20newsgroups:test"])) == ["test/sci.med/7"]
    assert calls == [False]


def test_newsgroups_falls_back_to_scikit_learn(
    no_news_homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def fake_fetch(data_home: Path, subset: str, download: bool) -> SimpleNamespace:
        calls.append((data_home, subset))
        base = Path(data_home) / "20news_home"
        return SimpleNamespace(
            filenames=[
                str(base / "20news-bydate-train" / "sci.space" / "10"),
                str(base / "20news-bydate-train" / "sci.space" / "9"),
                str(base / "20news-bydate-test" / "alt.atheism" / "3"),
            ],
            data=[POST.decode("latin-1"), "H\n\nnine", "H\n\nthree"],
        )

    monkeypatch.setattr(news_mod, "_fetch_with_sklearn", fake_fetch)
    docs = list(load_corpus(["20newsgroups:all"], download=True))
    assert calls == [(no_news_homes, "all")]
    assert [d.id for d in docs] == ["train/sci.space/9", "train/sci.space/10", "test/alt.atheism/3"]
    assert docs[1].text == "body text\n"


def test_newsgroups_archive_safety(
    tmp_path: Path, no_news_homes: Path, warnings_log: list[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    archive = home / "20news-bydate.tar.gz"
    space = "20news-bydate-train/sci.space"
    with tarfile.open(archive, "w:gz") as tar:

        def add(name: str, data: bytes = b"", **attrs: object) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            for key, value in attrs.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if data else None)

        add(f"{space}/1", b"Subject: ok\n\nthe only good message")
        add("../evil", b"escaped")
        add("/abs/evil", b"absolute")
        add(f"{space}/../../../evil2", b"dotdot")
        add(f"{space}/2", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        add(f"{space}/3", type=tarfile.LNKTYPE, linkname=f"{space}/1")
        add(f"{space}/4", type=tarfile.FIFOTYPE)
        add(f"{space}/5", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    before = sorted(p.relative_to(tmp_path.parent) for p in tmp_path.parent.rglob("*"))
    cwd_before = sorted(os.listdir("."))
    corpus = load_corpus(["20newsgroups"], data_home=home)
    docs = list(corpus)
    assert [d.id for d in docs] == ["train/sci.space/1"]
    assert corpus.stats.skipped_unsafe == 7
    assert len(warnings_log) == 7
    after = sorted(p.relative_to(tmp_path.parent) for p in tmp_path.parent.rglob("*"))
    assert after == before and sorted(os.listdir(".")) == cwd_before
    assert not Path("/abs").exists()


def test_damaged_news_archive(tmp_path: Path, no_news_homes: Path) -> None:
    home = tmp_path / "home"
    write(home / "20news-bydate.tar.gz", b"this is not a tar archive at all")
    with pytest.raises(CorpusError, match="archive looks damaged"):
        list(load_corpus(["20newsgroups"], data_home=home))


def _damage(archive: bytes, how: str) -> bytes:
    if how == "cut short":
        return archive[: len(archive) * 2 // 3]
    if how == "bad checksum":
        return archive[:-8] + bytes(8)
    if how == "garbage after":
        return archive + b"not gzip at all"
    middle = len(archive) // 2  # "a flipped byte"
    return archive[:middle] + bytes([archive[middle] ^ 0xFF]) + archive[middle + 1 :]


@pytest.mark.parametrize("how", ["cut short", "bad checksum", "garbage after", "a flipped byte"])
def test_a_damaged_news_archive_is_an_error_never_a_partial_read(
    tmp_path: Path, no_news_homes: Path, how: str
) -> None:
    home = tmp_path / "home"
    members = {**MINI, **{f"20news-bydate-test/sci.med/{i}": os.urandom(3000) for i in range(40)}}
    archive = make_news_archive(home / "20news-bydate.tar.gz", members)
    archive.write_bytes(_damage(archive.read_bytes(), how))
    for source in ("20newsgroups:train", "20newsgroups:all"):
        with pytest.raises(CorpusError, match="archive looks damaged") as info:
            list(load_corpus([source], data_home=home))
        assert str(archive) in str(info.value) and "\n" not in str(info.value)


def test_news_archive_members_beyond_the_bound_are_skipped(
    tmp_path: Path, no_news_homes: Path, warnings_log: list[str]
) -> None:
    home = tmp_path / "home"
    big = b"Subject: x\n\n" + b"a" * (1 << 20)  # just over 1 MiB
    make_news_archive(
        home / "20news-bydate.tar.gz", {**MINI, "20news-bydate-train/sci.space/3": big}
    )
    corpus = load_corpus(["20newsgroups"], data_home=home)
    assert ids(corpus) == ["train/alt.atheism/5", "train/sci.space/9", "train/sci.space/10"]
    assert corpus.stats.skipped_unsafe == 1
    assert warnings_log == [
        f"skipping 20news-bydate-train/sci.space/3 in {home / '20news-bydate.tar.gz'}: "
        "larger than 1 MiB"
    ]


def test_a_news_archive_that_inflates_beyond_the_bound_is_refused(
    tmp_path: Path, no_news_homes: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from topicnmf.datasets import archive as archive_mod

    home = tmp_path / "home"
    make_news_archive(home / "20news-bydate.tar.gz", MINI)
    monkeypatch.setattr(archive_mod, "MAX_INFLATED_BYTES", 4096)
    with pytest.raises(CorpusError, match="inflates to more than 0 MiB; the archive looks damaged"):
        list(load_corpus(["20newsgroups"], data_home=home))


def test_scikit_learn_says_nothing_on_stdout_or_in_warnings(
    no_news_homes: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import warnings

    import sklearn.datasets

    monkeypatch.setattr(news_mod, "_fetch_with_sklearn", REAL_FETCH)  # no_news_homes replaced it

    def noisy_fetch(**kwargs: object) -> SimpleNamespace:
        print("Cache loading failed")  # what scikit-learn prints on a damaged cache
        warnings.warn("a third-party warning", UserWarning, stacklevel=1)
        warnings.warn("another", DeprecationWarning, stacklevel=1)
        name = (
            Path(str(kwargs["data_home"])) / "20news_home" / "20news-bydate-test" / "sci.med" / "7"
        )
        return SimpleNamespace(filenames=[str(name)], data=["H\n\nseven"])

    monkeypatch.setattr(sklearn.datasets, "fetch_20newsgroups", noisy_fetch)
    write(no_news_homes / "20news-bydate_py3.pkz", b"scikit-learn's cache")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ids(load_corpus(["20newsgroups:test"])) == ["test/sci.med/7"]
    assert caught == []
    assert capsys.readouterr().out == ""


# The real archive: equivalence with scikit-learn and the split sizes.


@pytest.fixture(scope="module")
def real_archive() -> Path:
    if not NEWS_ARCHIVE.is_file():
        pytest.skip(NEWS_SKIP_REASON)
    return NEWS_ARCHIVE


@pytest.fixture(scope="module")
def real_posts(real_archive: Path) -> dict[str, str]:
    """About 400 raw test-split posts from four newsgroups, by id, decoded as latin-1."""
    groups = {"comp.graphics", "rec.autos", "sci.space", "talk.politics.misc"}
    posts: dict[str, str] = {}
    with tarfile.open(real_archive, "r|gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isreg() and len(parts) == 3 and parts[0] == "20news-bydate-test":
                if parts[1] in groups and sum(k.split("/")[1] == parts[1] for k in posts) < 100:
                    data = tar.extractfile(member).read()  # type: ignore[union-attr]
                    posts[f"test/{parts[1]}/{parts[2]}"] = data.decode("latin-1")
            if len(posts) == 400:
                break
    return posts


def sklearn_clean(text: str, remove: tuple[str, ...]) -> str:
    from sklearn.datasets._twenty_newsgroups import (
        strip_newsgroup_footer,
        strip_newsgroup_header,
        strip_newsgroup_quoting,
    )

    # the order of fetch_20newsgroups(remove=...)
    if "headers" in remove:
        text = strip_newsgroup_header(text)
    if "footers" in remove:
        text = strip_newsgroup_footer(text)
    if "quotes" in remove:
        text = strip_newsgroup_quoting(text)
    return text


REMOVE_SUBSETS = [
    combo for n in range(4) for combo in itertools.combinations(("headers", "footers", "quotes"), n)
]


@pytest.mark.parametrize("remove", REMOVE_SUBSETS, ids=lambda r: "+".join(r) or "none")
def test_cleaning_equals_scikit_learn_on_real_posts(
    real_posts: dict[str, str], remove: tuple[str, ...]
) -> None:
    assert len(real_posts) == 400
    for doc_id, text in real_posts.items():
        assert strip_newsgroup(text, remove) == sklearn_clean(text, remove), doc_id


def test_real_archive_documents_equal_scikit_learn(
    real_archive: Path, real_posts: dict[str, str], no_news_homes: Path
) -> None:
    corpus = load_corpus(
        ["20newsgroups:test"], data_home=real_archive.parent, categories=["sci.space"]
    )
    docs = list(corpus)
    assert len(docs) == 394  # as fetch_20newsgroups(subset="test", categories=["sci.space"])
    numbers = [int(d.id.rsplit("/", 1)[1]) for d in docs]
    assert numbers == sorted(numbers)
    remove = ("headers", "footers", "quotes")
    checked = 0
    for doc in docs:
        if doc.id in real_posts:
            assert doc.text == sklearn_clean(real_posts[doc.id], remove), doc.id
            checked += 1
    assert checked == 100


def test_real_archive_split_sizes(real_archive: Path, no_news_homes: Path) -> None:
    corpus = load_corpus(["20newsgroups:all"], data_home=real_archive.parent, remove=())
    counts = {"train": 0, "test": 0}
    labels = set()
    for doc in corpus:
        counts[doc.id.split("/", 1)[0]] += 1
        labels.add(doc.label)
    assert counts == {"train": 11314, "test": 7532}
    assert labels == set(NEWSGROUPS)
    assert corpus.stats.files_read == 18846 and corpus.stats.skipped_unsafe == 0


# Synthetic posts built from the lines the cleaners look for, compared with scikit-learn.

TRICKY_LINES = [
    "",
    " ",
    "\t",
    "--",
    "-- ",
    " - ",
    "- -",
    "---x",
    "\r",
    "\x0c",
    "\x1c",
    "\xa0",
    "\x85",
    "> quoted",
    ">",
    " > not at start",
    "|bar",
    "In article <x> someone",
    " In article",
    "Quoted from him",
    "he writes:",
    "she writes in sci.space",
    "it wrote:",
    "they says: x",
    "said:",
    "plain words here",
    "Subject: header-like",
    "-",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(TRICKY_LINES), max_size=14),
    st.sampled_from(["", "\n", "\n\n", " \n", "\r\n"]),
    st.sampled_from(REMOVE_SUBSETS),
)
def test_cleaning_equals_scikit_learn_on_tricky_posts(
    lines: list[str], tail: str, remove: tuple[str, ...]
) -> None:
    text = "\n".join(lines) + tail
    assert strip_newsgroup(text, remove) == sklearn_clean(text, remove)


# ------------------------------------------------------------------ the extracted archive cache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TOPICNMF_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def mini_home(tmp_path: Path, no_news_homes: Path) -> Path:
    """A data home holding the MINI archive (and no other 20 Newsgroups anywhere)."""
    home = tmp_path / "home"
    make_news_archive(home / "20news-bydate.tar.gz", MINI)
    return home


def read_news(home: Path, source: str = "20newsgroups:all", **kw: object) -> tuple:
    corpus = load_corpus([source], data_home=home, **kw)
    docs = [(d.id, d.text, d.label) for d in corpus]
    return docs, corpus.stats.files_read, corpus.stats.skipped_unsafe


def no_archive_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path, on_skip: object) -> Iterator[tuple[str, bytes]]:
        raise AssertionError("the archive was read")
        yield  # pragma: no cover

    monkeypatch.setattr(news_mod, "read_members", refuse)


def cached_files(cache_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(cache_dir)): p.read_bytes() for p in cache_dir.rglob("*") if p.is_file()
    }


def test_cache_serves_the_second_read(
    mini_home: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = read_news(mini_home)
    (folder,) = cache_dir.iterdir()
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == [
        "20news-bydate-test/sci.space/20",
        "20news-bydate-train/alt.atheism/5",
        "20news-bydate-train/sci.space/10",
        "20news-bydate-train/sci.space/9",
        "manifest.json",
    ]
    no_archive_reading(monkeypatch)
    assert read_news(mini_home) == first
    # every split, category and cleaning option comes from the one cached copy
    raw = read_news(mini_home, "20newsgroups:test", remove=())
    assert raw[0] == [("test/sci.space/20", "Subject: x\n\ntwenty", "sci.space")]
    only = read_news(mini_home, "20newsgroups", categories=["alt.atheism"])
    assert [d[0] for d in only[0]] == ["train/alt.atheism/5"]


def test_cache_equals_the_archive_on_the_real_collection(
    real_archive: Path, no_news_homes: Path, cache_dir: Path
) -> None:
    uncached = read_news(real_archive.parent, remove=())
    first = read_news(real_archive.parent, remove=())  # builds the cache
    second = read_news(real_archive.parent, remove=())  # reads it
    assert uncached == first == second
    assert len(second[0]) == 18846 and second[1] == 18846


@pytest.mark.parametrize(
    "alteration",
    ["content changed", "file removed", "file added", "file replaced by a link", "manifest"],
)
def test_a_cache_altered_in_place_is_detected_and_rebuilt(
    mini_home: Path, cache_dir: Path, warnings_log: list[str], alteration: str
) -> None:
    expected = read_news(mini_home)
    good = cached_files(cache_dir)
    (folder,) = cache_dir.iterdir()
    message = folder / "20news-bydate-train" / "sci.space" / "9"
    if alteration == "content changed":  # same size, same time: only the content tells
        stat = message.stat()
        message.write_bytes(message.read_bytes().replace(b"nine", b"NINE"))
        os.utime(message, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif alteration == "file removed":
        message.unlink()
    elif alteration == "file added":
        (message.parent / "11").write_bytes(b"Subject: x\n\nintruder")
    elif alteration == "file replaced by a link":
        message.unlink()
        message.symlink_to(mini_home / "20news-bydate.tar.gz")
    else:
        (folder / "manifest.json").write_text("{not json")
    assert read_news(mini_home) == expected
    assert cached_files(cache_dir) == good  # rebuilt as it was
    if alteration in ("content changed", "file removed", "file added"):
        assert len(warnings_log) == 1 and "does not match its checksums" in warnings_log[0]


def test_cache_is_rebuilt_when_the_archive_changes(mini_home: Path, cache_dir: Path) -> None:
    archive = mini_home / "20news-bydate.tar.gz"
    read_news(mini_home)
    changed = {**MINI, "20news-bydate-train/sci.space/9": b"Subject: x\n\nnine, rewritten"}
    make_news_archive(archive, changed)
    os.utime(archive, ns=(1, 1))  # a different time even on a coarse clock
    docs = read_news(mini_home)[0]
    assert ("train/sci.space/9", "nine, rewritten", "sci.space") in docs
    assert len(list(cache_dir.iterdir())) == 1  # replaced, not added


def test_cache_in_an_unwritable_place_is_no_error(
    tmp_path: Path, mini_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TOPICNMF_CACHE_DIR", str(blocker / "cache"))
    assert len(read_news(mini_home)[0]) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "home", "sk_home"]


def test_cache_is_not_made_of_an_unusual_archive(
    tmp_path: Path, no_news_homes: Path, cache_dir: Path, warnings_log: list[str]
) -> None:
    # skipped members would not be warned about again from a cache; other names
    # would not be read back the same: such archives are read every time
    home = tmp_path / "home"
    members = {**MINI, "20news-bydate-train/sci.space/../../evil": b"escaped"}
    make_news_archive(home / "20news-bydate.tar.gz", members)
    assert read_news(home)[2] == 1
    assert not cache_dir.exists() or list(cache_dir.iterdir()) == []
    odd = tmp_path / "odd"
    make_news_archive(
        odd / "20news-bydate.tar.gz", {**MINI, "20news-bydate-train/sci.med/x1": b"x"}
    )
    assert ("train/sci.med/x1", "", "sci.med") in read_news(odd)[0]
    assert not cache_dir.exists() or list(cache_dir.iterdir()) == []


def test_cache_build_removes_what_a_killed_build_left(mini_home: Path, cache_dir: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = cache_dir / f".tmp-{dead.stdout.strip()}-abc"
    write(stale / "20news-bydate-train" / "sci.space" / "1", b"half written")
    live = cache_dir / f".tmp-{os.getpid()}-xyz"  # a build under way in a live process
    live.mkdir()
    read_news(mini_home)
    assert not stale.exists() and live.exists()
    assert len([p for p in cache_dir.iterdir() if not p.name.startswith(".")]) == 1


def test_reads_path_of_20_newsgroups(tmp_path: Path, no_news_homes: Path) -> None:
    archive = make_news_archive(tmp_path / "a" / "20news-bydate.tar.gz", MINI)
    corpus = load_corpus(["20newsgroups"], data_home=archive.parent)
    assert corpus.reads_path(archive) and not corpus.reads_path(tmp_path / "a" / "out.csv")
    folders = make_news_folders(tmp_path / "f", MINI)
    train = load_corpus(["20newsgroups"], data_home=folders)
    assert train.reads_path(folders / "20news-bydate-train" / "sci.space" / "new")
    assert not train.reads_path(folders / "20news-bydate-test" / "sci.space" / "new")
    assert not train.reads_path(folders / "out.csv")


# ------------------------------------------------------- the command line's corpus options


def run_cli(*args: object, **kwargs: object) -> object:
    from click.testing import CliRunner

    from topicnmf.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], **kwargs)


def test_cli_corpus_options_reach_the_library(tmp_path: Path, no_news_homes: Path) -> None:
    fit = ("fit", "-k", 1, "-m", tmp_path / "m.npz", "--min-df", 1, "--max-df", 1.0, "-q")
    d = tmp_path / "docs"
    write(d / "a.txt", "apples and pears")
    write(d / "b.txt", b"caf\xe9 and pears")
    write(d / "c.txt", "plums and apples")
    assert run_cli(*fit, d).exit_code == 0
    strict = run_cli(*fit, d, "--encoding-errors", "strict")
    assert strict.exit_code == 1 and "b.txt line 1" in strict.stderr
    assert "--encoding latin-1" in strict.stderr  # the advice the command line adds
    bad = run_cli(*fit, d, "--encoding-errors", "ignore")
    assert bad.exit_code == 2
    csv_file = write(tmp_path / "d.csv", "id,text\n1,apples, pears\n2,pears plums\n")
    refused = run_cli(*fit, csv_file)
    assert refused.exit_code == 1 and "line 2 has 3 field(s)" in refused.stderr
    assert "--csv-lenient" in refused.stderr
    assert run_cli(*fit, csv_file, "--csv-lenient").exit_code == 0
    home = tmp_path / "home"
    home.mkdir()
    missing = run_cli(*fit, "20newsgroups", "--data-home", home)
    assert missing.exit_code == 1 and "or add --download to fetch it" in missing.stderr
    asked = run_cli(*fit, "20newsgroups", "--data-home", home, "--download")
    assert asked.exit_code == 1 and "the download failed" in asked.stderr
    assert run_cli(*fit, d, "--download").exit_code == 2  # no 20newsgroups source
    nowhere = run_cli(*fit, "20newsgroups", "--data-home", tmp_path / "nowhere")
    assert nowhere.exit_code == 1 and "nowhere is not a folder" in nowhere.stderr
    assert not (tmp_path / "nowhere").exists()
    category = run_cli(*fit, "20newsgroups", "--data-home", home, "--categories", "sci.spaec")
    assert category.exit_code == 2 and "sci.space" in category.stderr


# ------------------------------------------- sources: described, recorded in a model, shown


def test_describe_sources_of_every_kind(tmp_path: Path, no_news_homes: Path) -> None:
    d = tmp_path / "docs"
    write(d / "a.txt", "alpha")
    write(d / "b.md", "beta")
    table = write(tmp_path / "t.csv", "id,body\n1,x\n")
    lines = write(tmp_path / "l.txt", "one\n")
    array = write(tmp_path / "a.json", '["x"]')
    corpus = load_corpus(
        [str(d) + "/", table, lines, array, "-"],
        glob=["*.txt", "*.md"],
        exclude="drafts/",
        text_column="body",
        id_column="id",
        encoding="latin-1",
        encoding_errors="strict",
        csv_lenient=True,
        stdin=io.BytesIO(b"x\n"),
    )
    reading = {"encoding": "latin-1", "encoding_errors": "strict"}
    columns = {"text_column": "body", "id_column": "id"}
    assert corpus.describe_sources() == [
        {"source": str(d), "kind": "directory", "format": "document",
         "glob": ["*.txt", "*.md"], "exclude": ["drafts/"], **reading},
        {"source": str(table), "kind": "file", "format": "csv", **columns,
         "csv_lenient": True, **reading},
        {"source": str(lines), "kind": "file", "format": "lines", **reading},
        {"source": str(array), "kind": "file", "format": "json", **columns, **reading},
        {"source": "-", "kind": "standard input", "format": "lines", **reading},
    ]  # fmt: skip
    write(d / "c.jsonl", '{"text": "gamma"}')
    plain = load_corpus([d], format="jsonl").describe_sources()
    assert plain == [{"source": str(d), "kind": "directory", "format": "jsonl",
                      "glob": ["*.jsonl"], "exclude": [], "text_column": "text",
                      "id_column": None, "encoding": "utf-8",
                      "encoding_errors": "skip"}]  # fmt: skip
    make_news_archive(tmp_path / "home" / "20news-bydate.tar.gz", MINI)
    news = load_corpus(
        ["20newsgroups:train", "20newsgroups:test"],
        data_home=tmp_path / "home",
        categories=["sci.space"],
        remove=["quotes", "headers"],
    )
    assert news.describe_sources() == [
        {"source": "20newsgroups:train", "kind": "20newsgroups", "subset": "train",
         "categories": ["sci.space"], "remove": ["headers", "quotes"]},
        {"source": "20newsgroups:test", "kind": "20newsgroups", "subset": "test",
         "categories": ["sci.space"], "remove": ["headers", "quotes"]},
    ]  # fmt: skip
    every = load_corpus(["20newsgroups"], data_home=tmp_path / "home").describe_sources()
    assert every[0]["subset"] == "train" and every[0]["categories"] is None  # all of them
    assert every[0]["remove"] == ["headers", "footers", "quotes"]


def _fit(documents: object, k: int = 2) -> object:
    from topicnmf import NMFConfig, VectorizerConfig, fit

    return fit(documents, VectorizerConfig(min_df=1, max_df=1.0), NMFConfig(n_components=k))


def _theme_files(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    for i, text in enumerate(["apples pears", "rockets moons", "apples moons", "pears rockets"]):
        write(d / f"{i}.txt", text)
    write(d / "drafts" / "x.txt", "draft")
    return d


def test_a_model_records_its_training_sources(tmp_path: Path) -> None:
    from topicnmf import TopicModel
    from topicnmf.model import TrainingSources

    d = _theme_files(tmp_path)
    corpus = load_corpus(
        [d, write(tmp_path / "more.json", '["apples", "moons"]')], exclude="drafts"
    )
    model = _fit(corpus).model
    assert model.sources == TrainingSources(corpus.describe_sources(), 2)
    assert model.sources.records[0]["exclude"] == ["drafts"]
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    model.save(a)
    assert TopicModel.load(a).sources == model.sources
    _fit(corpus).model.save(b)
    assert a.read_bytes() == b.read_bytes()  # the record keeps the file reproducible
    # documents that are not a corpus tell nothing of where they came from
    plain = _fit([Document(str(i), t.text) for i, t in enumerate(corpus)]).model
    assert plain.sources is None
    plain.save(b)
    assert TopicModel.load(b).sources is None


def test_a_long_list_of_sources_is_recorded_in_part(tmp_path: Path) -> None:
    from topicnmf import TopicModel
    from topicnmf.model import TrainingSources
    from topicnmf.modelfile import SOURCES_RECORD_CHARS

    long_name = "x" * 100
    files = [
        write(tmp_path / "many" / f"{i:05d}-{long_name}.txt", f"w{i % 7} w{i % 5}")
        for i in range(800)
    ]
    model = _fit(load_corpus(files)).model
    assert model.sources is not None and model.sources.total == 800
    kept = model.sources.records
    assert 100 < len(kept) < 800 and kept[-1]["source"] == str(files[len(kept) - 1])
    assert len(json.dumps(kept)) <= SOURCES_RECORD_CHARS
    model.save(tmp_path / "m.npz")
    assert TopicModel.load(tmp_path / "m.npz").sources == model.sources
    assert TrainingSources.of([]) == TrainingSources([], 0)


def _with_meta(path: Path, edit: object, out: Path) -> Path:
    import numpy as np

    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(str(arrays["meta"]))
    edit(meta)  # type: ignore[operator]
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(out, **arrays)
    return out


def test_a_model_without_a_sources_record_still_loads(tmp_path: Path) -> None:
    from topicnmf import TopicModel

    path = tmp_path / "m.npz"
    _fit(load_corpus([_theme_files(tmp_path)])).model.save(path)
    old = _with_meta(path, lambda meta: meta.pop("sources"), tmp_path / "old.npz")
    assert TopicModel.load(old).sources is None
    result = run_cli("info", old, "--format", "json")
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert info["sources"] is None and info["sources_total"] is None
    table = run_cli("info", old, "--format", "table")
    assert "not recorded in this model" in table.stdout


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.update(records="docs"), "sources is not an object"),
        (lambda s: s.update(total=0), "sources.total is 0"),
        (lambda s: s.update(total=-1), "sources.total"),
        (lambda s: s.update(total=True), "sources.total"),
        (lambda s: s.pop("total"), "sources.total is None"),
        (lambda s: s["records"].__setitem__(0, "docs"), "lacks its source or kind"),
        (lambda s: s["records"][0].pop("kind"), "lacks its source or kind"),
        (lambda s: s["records"][0].update(source=3), "lacks its source or kind"),
        (lambda s: s["records"][0].update(glob={"a": 1}), "setting 'glob'"),
        (lambda s: s["records"][0].update(exclude=[1]), "setting 'exclude'"),
    ],
)
def test_a_bad_sources_record_is_one_model_file_error(
    tmp_path: Path, edit: object, message: str
) -> None:
    from topicnmf import ModelFileError, TopicModel

    path = tmp_path / "m.npz"
    _fit(load_corpus([_theme_files(tmp_path)])).model.save(path)
    bad = _with_meta(path, lambda meta: edit(meta["sources"]), tmp_path / "bad.npz")  # type: ignore[operator]
    with pytest.raises(ModelFileError, match=f"settings record is unreadable.*{message}"):
        TopicModel.load(bad)
    # settings a newer topicnmf may add are kept
    newer = _with_meta(
        path, lambda meta: meta["sources"]["records"][0].update(depth="2"), tmp_path / "n.npz"
    )
    assert TopicModel.load(newer).sources.records[0]["depth"] == "2"


def test_info_shows_the_sources_and_every_stop_word(tmp_path: Path, no_news_homes: Path) -> None:
    # the default list (scikit-learn's, spaCy's additions and the contractions)
    from topicnmf.config import DEFAULT_STOP_WORDS as ENGLISH_STOP_WORDS

    d = _theme_files(tmp_path)
    make_news_archive(tmp_path / "home" / "20news-bydate.tar.gz", MINI)
    model = tmp_path / "m.npz"
    fitted = run_cli(
        "fit", f"{d}/", "20newsgroups:all", "-k", 2, "-m", model, "--min-df", 1, "-q",
        "--format", "csv", "--glob", "*.txt", "--glob", "*.md", "--exclude", "drafts",
        "--data-home", tmp_path / "home", "--categories", "sci.space", "--remove", "quotes",
    )  # fmt: skip
    assert fitted.exit_code == 0, fitted.stderr
    info = json.loads(run_cli("info", model, "--format", "json").stdout)
    assert info["sources"] == [
        {"source": str(d), "kind": "directory", "format": "document",
         "glob": ["*.txt", "*.md"], "exclude": ["drafts"], "encoding": "utf-8",
         "encoding_errors": "skip"},
        {"source": "20newsgroups:all", "kind": "20newsgroups", "subset": "all",
         "categories": ["sci.space"], "remove": ["quotes"]},
    ]  # fmt: skip
    assert list(info["sources"][0]) == ["source", "kind", "format", "glob", "exclude",
                                        "encoding", "encoding_errors"]  # fmt: skip
    assert info["sources_total"] == 2
    assert info["vectorizer"]["stop_words"] == sorted(ENGLISH_STOP_WORDS)
    table = run_cli("info", model, "--format", "table", env={"COLUMNS": "400"}).stdout
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in table.splitlines()
            if line.count("│") == 3 and line.split("│")[1].strip()}  # fmt: skip
    assert rows["source 1"].startswith(f"{d} (directory; format document; glob *.txt, *.md;")
    assert rows["source 2"].startswith("20newsgroups:all (20newsgroups; subset all;")
    assert rows["vectorizer.stop_words"] == f"{len(ENGLISH_STOP_WORDS)} words"
