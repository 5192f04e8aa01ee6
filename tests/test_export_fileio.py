"""Writers (CSV/JSON/JSONL) and atomic file writing."""

from __future__ import annotations

import csv
import errno
import io
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topicnmf.errors import OutputError
from topicnmf.export import DocTopicWriter, write_topics
from topicnmf.fileio import TEMP_PREFIX, atomic_write, check_writable

RECORDS = [
    {"topic": 0, "label": "a_b_c", "share": 0.6, "terms": [{"term": "a", "weight": 1.5}]},
    {"topic": 1, "label": 'd,e "f"', "share": 0.4, "terms": [{"term": "d", "weight": 0.25}]},
]


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_write_topics_round_trip(fmt):
    buf = io.StringIO()
    write_topics(RECORDS, buf, fmt)
    text = buf.getvalue()
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[1]["label"] == 'd,e "f"'
        assert float(rows[0]["weight"]) == 1.5
    elif fmt == "json":
        assert json.loads(text) == RECORDS
    else:
        assert [json.loads(x) for x in text.splitlines()] == RECORDS


@settings(max_examples=60, deadline=None)
@given(
    ids=st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=8, unique=True),
    k=st.integers(1, 4),
    data=st.data(),
)
def test_doc_topic_writer_round_trips_any_ids(ids, k, data):
    W = np.array(
        data.draw(
            st.lists(
                st.lists(st.floats(0, 10), min_size=k, max_size=k),
                min_size=len(ids),
                max_size=len(ids),
            )
        )  # fmt: skip
    )
    labels = [f"t{t}" for t in range(k)]
    for fmt in ("csv", "json", "jsonl"):
        buf = io.StringIO()
        w = DocTopicWriter(buf, fmt, labels, None)
        w.write(ids[:1], W[:1])
        w.write(ids[1:], W[1:])
        w.close()
        text = buf.getvalue()
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            got_ids = [r["id"] for r in rows]
        elif fmt == "json":
            got = json.loads(text)
            got_ids = [r["id"] for r in got]
            np.testing.assert_allclose([r["weights"] for r in got], W, rtol=1e-5, atol=1e-12)
        else:
            got_ids = [json.loads(x)["id"] for x in text.split("\n") if x]
        assert got_ids == ids


def test_empty_json_document_is_valid():
    buf = io.StringIO()
    w = DocTopicWriter(buf, "json", ["a"], None)
    w.close()
    assert json.loads(buf.getvalue()) == []


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as fh:
            fh.write("new partial")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    with atomic_write(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_atomic_write_disk_full_keeps_old_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")

    with pytest.raises(OutputError, match="disk is full"):
        with atomic_write(target) as fh:
            fh.write("part one")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert target.read_text() == "old"
    assert not any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir())


def test_check_writable_messages(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        check_writable(tmp_path / "missing" / "x.csv")
    with pytest.raises(OutputError, match="directory"):
        check_writable(tmp_path)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(), max_size=20))
def test_packed_strings_round_trip(strings):
    from topicnmf.packing import pack_strings, unpack_strings

    data, offsets = pack_strings(strings)
    assert data.dtype == np.uint8 and offsets.dtype == np.int64
    assert unpack_strings(data, offsets) == strings


def test_packed_strings_cost_their_size_not_the_longest():
    from topicnmf.packing import pack_strings

    data, offsets = pack_strings(["x" * 5000] + ["ab"] * 1000)
    assert data.nbytes == 5000 + 2000


def test_no_output_is_committed_after_a_swallowed_stop_signal(tmp_path):
    # The handler's exception can be dropped by Python (inside a weakref callback or
    # __del__) or caught by third-party code; the recorded stop still blocks the commit.
    import signal

    from topicnmf import fileio
    from topicnmf.cli import core

    target = tmp_path / "out.csv"
    target.write_text("old\n")
    for signum, kind in ((signal.SIGTERM, core.Terminated), (signal.SIGINT, KeyboardInterrupt)):
        run = core.Invocation()
        core.Invocation.current = run
        try:
            with fileio.write_hooks(run):
                try:
                    core._on_signal(signum, None)
                except BaseException as exc:  # noqa: BLE001 - what a careless library would do
                    assert isinstance(exc, kind)
                with pytest.raises(kind), fileio.atomic_write(target) as fh:
                    fh.write("new\n")
        finally:
            core.Invocation.current = None
        assert target.read_text() == "old\n"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    with fileio.atomic_write(target) as fh:  # outside a run nothing is vetoed
        fh.write("new\n")
    assert target.read_text() == "new\n"
