"""What an output path means: files, links, devices, FIFOs, stdout, formats, conflicts.

Outputs never harm what is there: a device or FIFO is written into (never replaced), a
symlink's target is replaced and the link kept, a replaced file keeps its permission bits,
an output that is also an input is refused before any work, and the format comes from the
extension (an unknown one is a usage error).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.helpers import ok, run
from topicnmf import fileio
from topicnmf.errors import OutputError

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def fails(args, code, fragment, **kw):
    result = run(args, **kw)
    assert result.exit_code == code, (result.exit_code, result.stderr, result.exception)
    assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr
    return result


def subprocess_run(args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "topicnmf", *map(str, args)],
        capture_output=True,
        timeout=120,
        **kw,
    )


# -- devices, FIFOs, links, folders ------------------------------------------------------------


def test_dev_null_is_written_into_not_replaced(hobbies_model):
    before = os.stat("/dev/null")
    ok(["topics", hobbies_model, "-o", "/dev/null", "--format", "csv"])
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_rdev) == (before.st_ino, before.st_rdev)


def test_fit_model_and_tables_to_dev_null_leave_it_a_device(tmp_path):
    ok(["fit", SAMPLES / "hobbies", "-k", "3", "-m", tmp_path / "m.npz", "-o", "/dev/null", "-q"])
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_fifo_is_written_into(tmp_path, hobbies_model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.2)  # let the reader open the FIFO first
    result = subprocess_run(["topics", hobbies_model, "-o", fifo, "--format", "csv"])
    t.join(10)
    assert result.returncode == 0, result.stderr
    assert got and got[0].startswith(b"topic,label,share,rank,term,weight\n")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_fifo_nobody_reads_is_refused_at_once(tmp_path, hobbies_model):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    result = subprocess_run(["topics", hobbies_model, "-o", fifo, "--format", "csv"])
    assert time.monotonic() - t0 < 30
    assert result.returncode == 1
    assert b"no process is reading" in result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_symlink_keeps_being_a_link_and_its_target_is_replaced(tmp_path, hobbies_model):
    target = tmp_path / "real.csv"
    target.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    ok(["topics", hobbies_model, "-o", link])
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("topic,label")


def test_a_dangling_symlink_creates_its_target(tmp_path, hobbies_model):
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "new.csv")
    ok(["topics", hobbies_model, "-o", link])
    assert link.is_symlink() and (tmp_path / "new.csv").read_text().startswith("topic,label")


def test_a_directory_is_refused_with_exit_1(tmp_path, hobbies_model):
    (tmp_path / "out.csv").mkdir()
    fails(["topics", hobbies_model, "-o", tmp_path / "out.csv"], 1, "is a directory")
    fails(["fit", SAMPLES / "hobbies", "-k", "2", "-m", tmp_path], 1, "is a directory")


def test_a_replaced_file_keeps_its_permission_bits(tmp_path, hobbies_model):
    out = tmp_path / "t.csv"
    out.write_text("old\n")
    os.chmod(out, 0o600)
    ok(["topics", hobbies_model, "-o", out])
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    os.chmod(out, 0o640)
    model = tmp_path / "m.npz"
    ok(["fit", SAMPLES / "hobbies", "-k", "2", "-m", model, "-q"])
    os.chmod(model, 0o604)
    ok(["fit", SAMPLES / "hobbies", "-k", "3", "-m", model, "-q"])
    assert stat.S_IMODE(os.stat(model).st_mode) == 0o604


@pytest.mark.skipif(not IS_ROOT, reason="changing a file's owner needs root")
def test_as_root_a_replaced_file_keeps_its_owner(tmp_path, hobbies_model):
    out = tmp_path / "t.csv"
    out.write_text("old\n")
    os.chown(out, 65534, 65534)
    ok(["topics", hobbies_model, "-o", out])
    st = os.stat(out)
    assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_a_new_file_gets_the_umask_mode(tmp_path, hobbies_model):
    old = os.umask(0o027)
    try:
        ok(["topics", hobbies_model, "-o", tmp_path / "t.csv"])
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "t.csv").st_mode) == 0o640


def test_no_umask_toggling():
    source = Path(fileio.__file__).read_text()
    assert "umask(" not in source


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path, hobbies_model):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = fileio._HOST
    stale = tmp_path / f"{fileio.TEMP_PREFIX}{host}-{dead.pid}-abcd1234.tmp"
    stale.write_bytes(b"half a model")
    alive = tmp_path / f"{fileio.TEMP_PREFIX}{host}-{os.getpid()}-abcd1234.tmp"
    alive.write_bytes(b"being written")
    other_host = tmp_path / f"{fileio.TEMP_PREFIX}00000000-{dead.pid}-abcd1234.tmp"
    other_host.write_bytes(b"another machine's")
    old = time.time() - 3600
    for p in (stale, alive, other_host):
        os.utime(p, (old, old))
    ok(["topics", hobbies_model, "-o", tmp_path / "t.csv"])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert stale.name not in names
    assert alive.name in names and other_host.name in names


def test_a_killed_run_leaves_a_recognisable_temp_file(tmp_path):
    # SIGKILL cannot be caught: what is left must say whose it is (and the next write in that
    # folder removes it, see above)
    corpus = tmp_path / "docs.txt"
    corpus.write_text("".join(f"word{i % 50} other{i % 7} thing{i % 13}\n" for i in range(3000)))
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, topicnmf.fileio as f\n"
         "with f.atomic_write(sys.argv[1]) as fh:\n"
         "    fh.write('x'); fh.flush(); print('ready', flush=True); sys.stdin.read()\n",
         str(tmp_path / "out.csv")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout.readline() == b"ready\n"
    proc.kill()
    proc.wait()
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(fileio.TEMP_PREFIX)]
    assert len(left) == 1 and f"-{proc.pid}-" in left[0] and left[0].endswith(".tmp")
    assert not (tmp_path / "out.csv").exists()


# -- stdout ------------------------------------------------------------------------------------


def test_closed_stdout_is_one_line_and_exit_1(hobbies_model):
    result = subprocess.run(
        [sys.executable, "-m", "topicnmf", "topics", str(hobbies_model), "--format", "csv"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
        preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: standard output is closed"), lines


def test_dev_stdout_is_standard_output(hobbies_model, tmp_path):
    with open(tmp_path / "captured", "wb") as out:
        result = subprocess.run(
            [sys.executable, "-m", "topicnmf", "topics", str(hobbies_model), "-o", "/dev/stdout",
             "--format", "csv"],
            stdout=out, stderr=subprocess.PIPE, timeout=60,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "captured").read_bytes().startswith(b"topic,label,share")


# -- outputs that are inputs, outputs that collide ----------------------------------------------


def test_an_output_that_is_the_corpus_is_refused_before_any_work(tmp_path):
    docs = tmp_path / "docs.txt"
    text = "".join(f"apples pears plums {i}\nrockets orbits moons {i}\n" for i in range(10))
    docs.write_text(text)
    fails(["fit", docs, "-k", "2", "-o", docs, "--format", "csv", "-m", tmp_path / "m.npz"],
          2, "is also an input")  # fmt: skip
    assert docs.read_text() == text and not (tmp_path / "m.npz").exists()
    link = tmp_path / "alias.txt"
    link.symlink_to(docs)  # the same file under another name
    fails(["fit", docs, "-k", "2", "-m", link], 2, "is also an input")
    assert docs.read_text() == text


def test_assign_output_over_its_model_is_refused(tmp_path, hobbies_model):
    model = tmp_path / "m.npz"
    model.write_bytes(hobbies_model.read_bytes())
    before = model.read_bytes()
    fails(["assign", "-m", model, SAMPLES / "hobbies", "-o", model, "--format", "csv"], 2,
          "is also an input")  # fmt: skip
    assert model.read_bytes() == before


def test_two_outputs_at_one_path_are_refused(tmp_path):
    out = tmp_path / "x.csv"
    fails(["fit", SAMPLES / "hobbies", "-k", "2", "-m", tmp_path / "m.npz", "-o", out,
           "--topics-out", out], 2, "both write to")  # fmt: skip
    fails(["fit", SAMPLES / "hobbies", "-k", "2", "-m", tmp_path / "m.npz",
           "--doc-topics-out", "-", "-o", "-"], 2, "both write to standard output")  # fmt: skip
    assert not out.exists() and not (tmp_path / "m.npz").exists()


def test_the_stop_words_file_is_an_input(tmp_path):
    words = tmp_path / "stop.csv"
    words.write_text("the\n")
    fails(["fit", SAMPLES / "hobbies", "-k", "2", "-m", tmp_path / "m.npz", "--stop-words",
           words, "-o", words], 2, "is also an input")  # fmt: skip
    assert words.read_text() == "the\n"


# -- -o and -m mean the same in every command -------------------------------------------------


def test_fit_o_npz_is_a_usage_error_with_a_hint(tmp_path):
    result = fails(["fit", SAMPLES / "hobbies", "-k", "2", "-o", tmp_path / "m.npz"], 2, "-m")
    assert "table" in result.stderr


@pytest.mark.parametrize("name", ["m.csv", "m.json", "m.jsonl", "m.tsv", "m.csv.gz"])
def test_a_model_path_with_a_table_extension_is_a_usage_error(tmp_path, name):
    fails(["fit", SAMPLES / "hobbies", "-k", "2", "-m", tmp_path / name], 2, "-o")
    assert not (tmp_path / name).exists()


def test_fit_o_writes_the_topic_table(tmp_path):
    ok(["fit", SAMPLES / "hobbies", "-k", "2", "-m", tmp_path / "m.npz", "-o",
        tmp_path / "t.json", "-q"])  # fmt: skip
    data = json.loads((tmp_path / "t.json").read_text())
    assert [t["topic"] for t in data] == [0, 1]
    assert (tmp_path / "m.npz").exists()


# -- formats from extensions ------------------------------------------------------------------


def test_tsv_extension_writes_tsv(tmp_path, hobbies_model):
    ok(["topics", hobbies_model, "-o", tmp_path / "t.tsv"])
    rows = list(csv.reader(io.StringIO((tmp_path / "t.tsv").read_text()), delimiter="\t"))
    assert rows[0] == ["topic", "label", "share", "rank", "term", "weight"]
    assert len(rows) == 1 + 4 * 10


def test_gz_extension_writes_gzip_and_the_same_bytes_each_time(tmp_path, hobbies_model):
    ok(["topics", hobbies_model, "-o", tmp_path / "a.csv.gz"])
    ok(["topics", hobbies_model, "-o", tmp_path / "b.csv.gz"])
    a, b = (tmp_path / "a.csv.gz").read_bytes(), (tmp_path / "b.csv.gz").read_bytes()
    assert a == b and a[:2] == b"\x1f\x8b"
    plain = run(["topics", hobbies_model, "--format", "csv"]).stdout
    assert gzip.decompress(a).decode() == plain


def test_assign_doc_topics_gz_and_jsonl_gz(tmp_path, hobbies_model):
    ok(["assign", "-m", hobbies_model, SAMPLES / "hobbies", "-o", tmp_path / "w.jsonl.gz", "-q"])
    lines = gzip.decompress((tmp_path / "w.jsonl.gz").read_bytes()).decode().splitlines()
    assert len(lines) == 72 and all("weights" in json.loads(x) for x in lines)


def test_unknown_extension_is_a_usage_error_naming_the_known_ones(tmp_path, hobbies_model):
    result = fails(["topics", hobbies_model, "-o", tmp_path / "t.xyz"], 2, ".tsv")
    assert ".csv" in result.stderr and ".jsonl" in result.stderr
    fails(["fit", SAMPLES / "hobbies", "-k", "2", "-m", tmp_path / "m.npz", "--doc-topics-out",
           tmp_path / "w.txt"], 2, "cannot tell the format")  # fmt: skip
    assert not (tmp_path / "m.npz").exists()


def test_format_wins_over_an_unknown_extension(tmp_path, hobbies_model):
    ok(["topics", hobbies_model, "-o", tmp_path / "t.out", "--format", "json"])
    assert json.loads((tmp_path / "t.out").read_text())[0]["topic"] == 0


# -- library level ---------------------------------------------------------------------------


def test_resolve_output_kinds(tmp_path):
    assert fileio.resolve_output("-").kind == "stdout"
    assert fileio.resolve_output("/dev/null").kind == "stream"
    assert fileio.resolve_output(tmp_path / "new.csv").kind == "file"
    with pytest.raises(OutputError, match="directory"):
        fileio.resolve_output(tmp_path)
    with pytest.raises(OutputError, match="does not exist"):
        fileio.resolve_output(tmp_path / "no" / "x.csv")


def test_read_small_file_refuses_devices_fifos_and_big_files(tmp_path):
    from topicnmf.errors import ParameterError

    with pytest.raises(ParameterError, match="not a regular file"):
        fileio.read_small_file("/dev/zero", what="list", error=ParameterError)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ParameterError, match="not a regular file"):
        fileio.read_small_file(fifo, what="list", error=ParameterError)
    big = tmp_path / "big"
    big.write_bytes(b"x" * 2048)
    with pytest.raises(ParameterError, match="more than"):
        fileio.read_small_file(big, what="list", limit=1024, error=ParameterError)
    assert fileio.read_small_file(big, what="list", limit=4096) == b"x" * 2048


# -- text from files on a terminal -----------------------------------------------------------


@pytest.fixture
def hostile_model(tmp_path):
    lines = ["[/b] [bold]x \x1b[31mred bell\x07 \u202egnp"] * 3 + ["plain words here"] * 3
    docs = tmp_path / "hostile.txt"
    docs.write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = tmp_path / "hostile.npz"
    ok(["fit", docs, "-k", "2", "-m", model, "--token-pattern", r"\S+", "--stop-words", "none",
        "--min-df", "1", "--max-df", "1.0", "-q", "--format", "csv"])  # fmt: skip
    return model


def test_markup_and_control_characters_are_escaped_in_tables(hostile_model):
    result = ok(["topics", hostile_model, "--format", "table"])
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[31mred" in out and "bell\\x07" in out and "\\u202egnp" in out
    assert "[/b]" in out and "[bold]x" in out  # shown literally, not interpreted


def test_machine_formats_keep_the_exact_text(hostile_model):
    out = ok(["topics", hostile_model, "--format", "csv"]).stdout
    assert "\x1b[31mred" in out and "bell\x07" in out and "[/b]" in out
    data = json.loads(ok(["topics", hostile_model, "--format", "json"]).stdout)
    terms = {t["term"] for topic in data for t in topic["terms"]}
    assert {"\x1b[31mred", "bell\x07", "[/b]", "\u202egnp"} <= terms


def test_undecodable_file_names_survive_as_bytes_and_are_escaped_on_a_terminal(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    raw_name = os.fsencode(corpus) + b"/caf\xe9.txt"
    with open(raw_name, "wb") as fh:
        fh.write(b"apples pears plums apples\n")
    (corpus / "b.txt").write_text("rockets orbits moons rockets\n")
    (corpus / "c.txt").write_text("apples orbits pears moons\n")
    model = tmp_path / "m.npz"
    ok(["fit", corpus, "-k", "2", "-m", model, "--min-df", "1", "-q", "--format", "csv"])
    table = ok(["assign", "-m", model, corpus, "--format", "table", "-q"]).stdout
    assert "caf\\udce9.txt" in table
    out = tmp_path / "w.csv"
    ok(["assign", "-m", model, corpus, "-o", out, "-q"])
    assert b"caf\xe9.txt" in out.read_bytes()
    lines = run(["assign", "-m", model, corpus, "--format", "jsonl", "-q"]).stdout_bytes
    ids = [json.loads(x)["id"] for x in lines.decode().splitlines()]
    assert "caf\udce9.txt" in ids  # written as the escape \udce9, read back exactly


def test_error_messages_escape_control_characters(tmp_path):
    bad = tmp_path / "evil\x1b[2Jname.npz"
    result = fails(["topics", bad], 1, "not found")
    assert "\x1b" not in result.stderr and "\\x1b[2J" in result.stderr


# -- shell completion ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [["fit"], ["assign", "-m", "x.npz"], ["topics"], ["evaluate"], ["info"], ["compare"]],
)
def test_shell_completion_completes_paths(words, tmp_path):
    env = {
        **os.environ,
        "_TOPICNMF_COMPLETE": "bash_complete",
        "COMP_WORDS": " ".join(["topicnmf", *words, ""]),
        "COMP_CWORD": str(len(words) + 1),
    }
    result = subprocess.run(
        [sys.executable, "-m", "topicnmf"], env=env, capture_output=True, text=True, timeout=60,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[0].startswith("file"), result.stdout
