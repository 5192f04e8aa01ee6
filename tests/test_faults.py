"""Faults from outside: signals, a full disk, a closed pipe, two runs at once, odd model files.

The promise under test: an interrupted or failed run leaves no temporary file and never
changes an existing output; the only trace is one line on stderr and the exit code.
Signals and pipes are tested on real ``python -m topicnmf`` processes.
"""

from __future__ import annotations

import errno
import io
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.helpers import Member, deflated, model_arrays, raw_zip, write_arrays
from topicnmf import ModelFileError, NMFConfig, TopicModel, VectorizerConfig, fit, load_corpus
from topicnmf.cli import cli
from topicnmf.fileio import TEMP_PREFIX

GiB = 1024**3
HAVE_PROC = Path("/proc/self/stat").exists()


# -- helpers -----------------------------------------------------------------------------------


def synthetic_lines(n_docs: int, words_per_doc: int = 40, seed: int = 0) -> list[str]:
    """Documents on six themes over a vocabulary of about 2,600 made-up words."""
    rng = random.Random(seed)
    syllables = "ka lo mi ne ru ta vo zi pe su da fe go hu ji".split()
    vocab = sorted({"".join(rng.choice(syllables) for _ in range(3)) for _ in range(5000)})
    themes = [vocab[i::6] for i in range(6)]
    docs = []
    for d in range(n_docs):
        theme = themes[d % 6]
        words = [rng.choice(theme) if rng.random() < 0.8 else rng.choice(vocab)
                 for _ in range(words_per_doc)]  # fmt: skip
        docs.append(" ".join(words))
    return docs


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(TEMP_PREFIX))


def _default_sigint() -> None:
    # A shell starts background jobs (`cmd &`) with SIGINT ignored, and children inherit
    # that; topicnmf rightly keeps an ignored SIGINT ignored. Give the child the default
    # disposition so these tests mean the same however pytest itself was started.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def topicnmf_process(args: list, cwd: Path, **kw) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("TOPICNMF_DEBUG", "TOPICNMF_MODEL")}
    return subprocess.Popen(
        [sys.executable, "-m", "topicnmf", *map(str, args)],
        preexec_fn=_default_sigint,
        cwd=cwd,
        env=env,
        stdout=kw.pop("stdout", subprocess.DEVNULL),
        stderr=subprocess.PIPE,
        **kw,
    )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until(proc: subprocess.Popen, ready, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the process ended (code {proc.returncode}) before {what}: "
                        f"{proc.stderr.read().decode()}")  # fmt: skip
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.02)


def finish(proc: subprocess.Popen, timeout: float = 30) -> str:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("the process did not stop after the signal")
    return err.decode()


def one_error_line(stderr: str, starts: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("Error: " + starts), stderr


@pytest.fixture(scope="module")
def synthetic_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """k=5 on 300 synthetic documents: ~2,600 terms, so `topics --top 5000` is ~600 kB."""
    folder = tmp_path_factory.mktemp("synthetic")
    corpus = write_lines(folder / "train.txt", synthetic_lines(300))
    out = fit(load_corpus([corpus]), VectorizerConfig(min_df=1), NMFConfig(n_components=5))
    path = folder / "synthetic.npz"
    out.model.save(path)
    return path


# -- interrupts: real processes, real signals ----------------------------------------------------

SIGNALS = [
    pytest.param(signal.SIGINT, 130, "interrupted", id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, "terminated", id="SIGTERM"),
]


@pytest.mark.skipif(not HAVE_PROC, reason="needs /proc to see that the fit is under way")
@pytest.mark.parametrize("sig, code, word", SIGNALS)
def test_signal_during_fit_keeps_the_old_model(sig, code, word, tmp_path):
    corpus = write_lines(tmp_path / "docs.txt", synthetic_lines(300))
    old = tmp_path / "model.npz"
    old.write_bytes(b"the previous model, which must survive")
    # multiplicative updates in float64 with no tolerance run for tens of seconds of CPU
    proc = topicnmf_process(["fit", corpus, "-k", "20", "--min-df", "1", "--solver", "mu",
                             "--float64", "--tol", "0", "--max-iter", "1000000", "--jobs", "1",
                             "-m", old], cwd=tmp_path)  # fmt: skip
    # Starting Python, reading 300 lines and the NNDSVD start take well under 1.5 s of CPU:
    # past that, the solver is iterating.
    wait_until(proc, lambda: cpu_seconds(proc.pid) >= 1.5, "the solver was iterating")
    proc.send_signal(sig)
    err = finish(proc)
    assert proc.returncode == code, (proc.returncode, err)
    one_error_line(err, f"{word}; no output file was written or changed")
    assert old.read_bytes() == b"the previous model, which must survive"
    assert temp_files(tmp_path) == []


@pytest.mark.parametrize("sig, code, word", SIGNALS)
def test_signal_during_assign_keeps_the_old_output(sig, code, word, tmp_path, synthetic_model):
    corpus = write_lines(tmp_path / "new.txt", synthetic_lines(3000, seed=1))
    old = tmp_path / "weights.csv"
    old.write_text("id,weights\nold,1\n")
    # one document at a time: thousands of small batches, several seconds in all
    proc = topicnmf_process(["assign", "-m", synthetic_model, corpus, "--batch-size", "1",
                             "--jobs", "1", "-o", old], cwd=tmp_path)  # fmt: skip
    # the output's temporary file exists only while rows are being written
    wait_until(proc, lambda: temp_files(tmp_path), "assign started writing rows")
    time.sleep(0.2)
    assert temp_files(tmp_path), "assign finished too soon to be interrupted"
    proc.send_signal(sig)
    err = finish(proc)
    assert proc.returncode == code, (proc.returncode, err)
    one_error_line(err, f"{word}; no output file was written or changed")
    assert old.read_text() == "id,weights\nold,1\n"
    assert temp_files(tmp_path) == []


def test_interrupt_after_the_model_names_what_was_written(theme_dir, tmp_path, monkeypatch):
    # Ctrl-C while the second output is written: the model is new, the table is the old one,
    # and the message says exactly that.
    from topicnmf import export

    def interrupted(self, ids, W):
        raise KeyboardInterrupt

    monkeypatch.setattr(export.DocTopicWriter, "write", interrupted)
    model, table = tmp_path / "m.npz", tmp_path / "d.csv"
    table.write_text("old table\n")
    result = CliRunner().invoke(cli, ["fit", str(theme_dir), "-k", "3", "-q", "-m", str(model),
                                      "--doc-topics-out", str(table)])  # fmt: skip
    assert result.exit_code == 130, result.stderr
    one_error_line(result.stderr, f"interrupted after writing {str(model)!r}; no other output")
    TopicModel.load(model)
    assert table.read_text() == "old table\n"
    assert temp_files(tmp_path) == []


# -- a full disk -------------------------------------------------------------------------------


class _FillingFile(io.FileIO):
    """A file on a disk that has room for ``room`` more bytes."""

    room = 0

    def write(self, data) -> int:
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        type(self).room -= len(data)
        return super().write(data)


@pytest.fixture
def disk_with_room(monkeypatch):
    """Call with a number of bytes: files opened by atomic_write fail with ENOSPC after it."""
    import topicnmf.fileio as fileio

    def fdopen(fd, mode="r", *args, encoding=None, newline=None, **kw):
        raw = _FillingFile(fd, "w")
        buffered = io.BufferedWriter(raw, buffer_size=1024)
        if "b" in mode:
            return buffered
        return io.TextIOWrapper(buffered, encoding=encoding, newline=newline)

    def set_room(n: int) -> None:
        _FillingFile.room = n
        monkeypatch.setattr(fileio.os, "fdopen", fdopen)

    return set_room


def test_disk_full_during_fit_keeps_the_old_model(theme_dir, tmp_path, disk_with_room):
    old = tmp_path / "m.npz"
    old.write_bytes(b"old model bytes")
    disk_with_room(3000)  # a model is larger: the write fails part-way
    result = CliRunner().invoke(cli, ["fit", str(theme_dir), "-k", "3", "-m", str(old)])
    assert result.exit_code == 1, (result.stderr, result.exception)
    one_error_line(result.stderr, f"could not write {str(old)!r}: the disk is full")
    assert old.read_bytes() == b"old model bytes"
    assert temp_files(tmp_path) == []
    assert result.stdout == ""


def test_disk_full_during_assign_keeps_the_old_table(hobbies_model, tmp_path, disk_with_room):
    from tests.conftest import SAMPLES

    old = tmp_path / "w.csv"
    old.write_text("old table\n")
    disk_with_room(500)  # 72 documents of the sample corpus need several kB
    result = CliRunner().invoke(cli, ["assign", "-m", str(hobbies_model),
                                      str(SAMPLES / "hobbies"), "-o", str(old)])  # fmt: skip
    assert result.exit_code == 1, (result.stderr, result.exception)
    one_error_line(result.stderr, f"could not write {str(old)!r}: the disk is full")
    assert old.read_text() == "old table\n"
    assert temp_files(tmp_path) == []


def test_disk_full_when_the_data_is_synced(theme_dir, tmp_path, monkeypatch):
    # some file systems report a full disk only when the data is flushed to it
    import topicnmf.fileio as fileio

    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    old = tmp_path / "m.npz"
    old.write_bytes(b"old")
    monkeypatch.setattr(fileio.os, "fsync", fsync)
    result = CliRunner().invoke(cli, ["fit", str(theme_dir), "-k", "3", "-q", "-m", str(old)])
    assert result.exit_code == 1
    one_error_line(result.stderr, f"could not write {str(old)!r}: the disk is full")
    assert old.read_bytes() == b"old"
    assert temp_files(tmp_path) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("top", ["1", "5000"], ids=["small", "large"])
def test_stdout_on_a_full_disk(top, tmp_path, synthetic_model):
    # /dev/full fails every write with ENOSPC: a small table fails at the final flush,
    # a large one in the middle of writing
    with open("/dev/full", "w") as full:
        proc = topicnmf_process(["topics", synthetic_model, "--top", top, "--format", "csv"],
                                cwd=tmp_path, stdout=full)  # fmt: skip
        err = finish(proc)
    assert proc.returncode == 1, err
    one_error_line(err, "could not write the output: the disk is full")


# -- pipes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["topics", "assign"])
def test_reader_that_stops_early(command, tmp_path, synthetic_model):
    # like `topicnmf ... | head -1`: the reader takes one line and closes the pipe; the
    # output is far larger than the pipe's buffer, so the writer really meets a closed pipe
    if command == "topics":
        args = ["topics", synthetic_model, "--top", "5000", "--format", "csv"]  # ~600 kB
    else:
        corpus = write_lines(tmp_path / "new.txt", synthetic_lines(3000, seed=2))
        args = ["assign", "-m", synthetic_model, corpus, "--format", "csv"]  # ~200 kB
    proc = topicnmf_process(args, cwd=tmp_path, stdout=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()
    err = finish(proc)
    assert first.startswith(b"topic," if command == "topics" else b"id,")
    assert proc.returncode == 0, err
    assert err == ""


# -- two runs at once --------------------------------------------------------------------------


def test_two_fits_writing_the_same_model(tmp_path):
    corpus = write_lines(tmp_path / "docs.txt", synthetic_lines(300))
    out = tmp_path / "model.npz"
    procs = [topicnmf_process(["fit", corpus, "-k", str(k), "--min-df", "1", "-q", "-m", out],
                              cwd=tmp_path) for k in (3, 5)]  # fmt: skip
    errs = [finish(p, timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert errs == ["", ""]
    model = TopicModel.load(out)  # whole and valid: one run's model, not a mix
    assert model.n_topics in (3, 5)
    assert temp_files(tmp_path) == []


# -- model files the loader must refuse --------------------------------------------------------


def test_zip_directory_rules_each_refuse_on_their_own(tmp_path):
    # each archive breaks exactly one rule of modelfile._check_directory
    cases = {
        "member size": ([Member("H.npy", b"x" * 64, size=9 * GiB, csize=9 * GiB)], "declares"),
        "ratio": ([deflated("H.npy", b"\x00" * 4096, size=GiB)], "compression ratio"),
        "stored": ([Member("H.npy", b"x" * 64, size=640)], "stored in fewer"),
    }  # fmt: skip
    for name, (members, message) in cases.items():
        p = tmp_path / f"{name}.npz"
        p.write_bytes(raw_zip(members))
        with pytest.raises(ModelFileError, match=message):
            TopicModel.load(p)


def test_size_limits_are_the_ones_checked(tmp_path, hobbies_model, monkeypatch):
    # with the limits lowered, an ordinary model is refused by each rule in turn: the
    # rules read the real limits, not constants of their own
    import topicnmf.modelfile as modelfile

    arrays = model_arrays(hobbies_model)
    p = write_arrays(tmp_path / "m.npz", arrays, compressed=True)
    TopicModel.load(p)
    with monkeypatch.context() as m:
        m.setattr(modelfile, "SMALL_MEMBER_BYTES", 60)  # the marker fits, the record not
        with pytest.raises(ModelFileError, match="for one value"):
            TopicModel.load(p)
    with monkeypatch.context() as m:
        m.setattr(modelfile, "UNPACKED_FLOOR", 0)
        m.setattr(modelfile, "MAX_UNPACKED_RATIO", 1)
        with pytest.raises(ModelFileError, match="declares arrays of"):
            TopicModel.load(p)
    with monkeypatch.context() as m:
        m.setattr(modelfile, "MAX_COMPRESSION_RATIO", 1.01)
        with pytest.raises(ModelFileError, match="compression ratio"):
            TopicModel.load(p)


def test_huge_array_header_is_refused_before_allocating(tmp_path, hobbies_model):
    # an .npy header declaring 4 TB in a 200-byte member: numpy would try to allocate it
    import tracemalloc

    from tests.helpers import npy_bytes, zip_of

    members = {}
    for key, a in model_arrays(hobbies_model).items():
        buf = io.BytesIO()
        np.lib.format.write_array(buf, a)
        members[key + ".npy"] = buf.getvalue()
    members["H.npy"] = npy_bytes((10**12,), data=b"\x00" * 64)
    p = zip_of(tmp_path / "bomb.npz", members)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="declares a"):
            TopicModel.load(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 1024**2


def test_unreadable_model_file_is_one_clear_error(tmp_path, hobbies_model, monkeypatch):
    # what a permission problem looks like (root ignores permissions, so simulate it)
    import zipfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(hobbies_model))

    monkeypatch.setattr(zipfile, "ZipFile", refuse)
    with pytest.raises(ModelFileError, match="cannot read model file .*Permission denied"):
        TopicModel.load(hobbies_model)


def test_model_with_a_very_long_document_id_still_loads(tmp_path):
    # fixed-width strings pad every id to the longest: the archive compresses very well,
    # and the loader's size rules must not refuse what topicnmf itself wrote
    lines = synthetic_lines(200)
    corpus = tmp_path / "docs.csv"
    corpus.write_text("id,text\n" + "".join(
        f"{'x' * 5000 if i == 0 else f'd{i}'},{t}\n" for i, t in enumerate(lines)))  # fmt: skip
    out = fit(load_corpus([corpus], id_column="id"), VectorizerConfig(min_df=1),
              NMFConfig(n_components=3), save_doc_topics=True)  # fmt: skip
    p = tmp_path / "m.npz"
    out.model.save(p)
    assert TopicModel.load(p).doc_ids[0] == "x" * 5000


def test_fit_statistics_from_another_version_do_not_block_loading(tmp_path, hobbies_model):
    import json

    arrays = model_arrays(hobbies_model)
    meta = json.loads(str(arrays["meta"]))
    newer = dict(meta, stats=dict(meta["stats"], a_field_from_the_future=1.0))
    arrays["meta"] = np.array(json.dumps(newer))
    assert TopicModel.load(write_arrays(tmp_path / "newer.npz", arrays)).stats is not None
    older = dict(meta, stats={k: v for k, v in meta["stats"].items() if k != "n_iter"})
    arrays["meta"] = np.array(json.dumps(older))
    m = TopicModel.load(write_arrays(tmp_path / "older.npz", arrays))
    assert m.stats is None and m.n_topics == 4


def test_pickle_in_a_model_is_never_run(tmp_path, hobbies_model):
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    arrays = model_arrays(hobbies_model)
    arrays["H"] = np.array([Evil()], dtype=object)
    p = write_arrays(tmp_path / "evil.npz", arrays)
    for args in (["topics", str(p)], ["info", str(p)], ["assign", "-m", str(p), "-"]):
        result = CliRunner().invoke(cli, args, input="some text\n")
        assert result.exit_code == 1
        one_error_line(result.stderr, f"{str(p)!r} is not a valid topicnmf model: it holds object")
    assert not marker.exists()
