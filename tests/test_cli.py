"""The command line end to end, through click's CliRunner."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from tests.conftest import SAMPLES, theme_texts
from topicnmf.cli import cli
from topicnmf.explore.labels import auto_labels
from topicnmf.model import TopicModel

COMMANDS = ["fit", "topics", "assign", "info"]


def run(args: list[str], input: str | bytes | None = None, env: dict | None = None) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def ok(args: list[str], **kw) -> Result:
    result = run(args, **kw)
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.exception)
    return result


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- help and version ----------------------------------------------------------------------


def test_version():
    result = ok(["--version"])
    assert "topicnmf" in result.stdout and "0." in result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command):
    result = ok([command, "--help"])
    assert "Examples:" in result.stdout
    assert "topicnmf " + command in result.stdout


def test_group_help_lists_commands():
    result = ok(["-h"])
    for command in COMMANDS:
        assert command in result.stdout


# -- fit -----------------------------------------------------------------------------------


def test_fit_directory_writes_model_and_csv_topics(theme_dir, tmp_path):
    model = tmp_path / "m.npz"
    result = ok(["fit", theme_dir, "-k", "3", "-m", model])
    assert model.exists()
    rows = read_csv(result.stdout)
    assert list(rows[0]) == ["topic", "label", "share", "rank", "term", "weight"]
    assert {r["topic"] for r in rows} == {"0", "1", "2"}
    # summary lines go to stderr, not into the data
    assert "Read 18 documents" in result.stderr
    assert "iterations" in result.stderr
    shares = [float(r["share"]) for r in rows if r["rank"] == "1"]
    assert shares == sorted(shares, reverse=True)
    assert abs(sum(shares) - 1) < 1e-4


def test_fit_finds_the_three_themes(theme_dir, tmp_path):
    result = ok(
        ["fit", theme_dir, "-k", "3", "-m", tmp_path / "m.npz", "--top", "4", "--format", "json"]
    )
    topics = json.loads(result.stdout)
    found = set()
    for topic in topics:
        terms = {t["term"] for t in topic["terms"]}
        for theme, text in [(t, x) for t, x in theme_texts(1)]:
            if len(terms & set(text.split())) >= 3:
                found.add(theme)
    assert found == {"space", "cooking", "sport"}


def _theme_sources(kind: str, tmp_path: Path, theme_dir: Path, theme_csv: Path):
    """(args, stdin) that feed the 18 theme documents to a command in a given form."""
    texts = [text for _, text in theme_texts()]
    if kind == "dir":
        return [theme_dir], None
    if kind == "csv":
        return [theme_csv, "--text-column", "body", "--id-column", "doc"], None
    if kind == "csv.gz":
        gz = tmp_path / "docs.csv.gz"
        gz.write_bytes(gzip.compress(theme_csv.read_bytes()))
        return [gz, "--text-column", "body"], None
    if kind == "txt":
        p = tmp_path / "lines.txt"
        p.write_text("\n".join(texts) + "\n", encoding="utf-8")
        return [p], None
    if kind == "jsonl":
        p = tmp_path / "docs.jsonl"
        p.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        return [p], None
    if kind == "stdin":
        return ["-"], "\n".join(texts) + "\n"
    if kind == "stdin-csv":
        return ["-", "--input-format", "csv", "--text-column", "body"], theme_csv.read_text()
    raise AssertionError(kind)


SOURCE_KINDS = ["dir", "csv", "csv.gz", "txt", "jsonl", "stdin", "stdin-csv"]


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_fit_and_assign_every_source_kind(kind, tmp_path, theme_dir, theme_csv):
    args, stdin = _theme_sources(kind, tmp_path, theme_dir, theme_csv)
    model = tmp_path / "m.npz"
    ok(["fit", *args, "-k", "3", "-m", model, "-q"], input=stdin)
    result = ok(["assign", "-m", model, *args, "--format", "csv"], input=stdin)
    rows = read_csv(result.stdout)
    assert len(rows) == 18
    assert len({r["id"] for r in rows}) == 18
    for r in rows:
        assert abs(sum(float(r[f"topic_{t}"]) for t in range(3)) - 1) < 1e-4


def test_fit_several_sources_at_once(tmp_path, theme_dir, theme_csv):
    model = tmp_path / "m.npz"
    ok(["fit", theme_dir, theme_csv, "--text-column", "body", "-k", "3", "-m", model, "-q"])
    result = ok(["info", model, "--format", "json"])
    assert json.loads(result.stdout)["fit"]["n_documents"] == 36


def test_fit_optional_outputs_and_saved_doc_topics(theme_dir, tmp_path):
    model = tmp_path / "m.npz"
    ok([
        "fit", theme_dir, "-k", "3", "-m", model, "-q", "--save-doc-topics",
        "--topics-out", tmp_path / "t.json", "--doc-topics-out", tmp_path / "d.jsonl",
    ])  # fmt: skip
    topics = json.loads((tmp_path / "t.json").read_text())
    # at least 10 terms a topic, but never terms of weight 0 (this topic has only 9)
    assert len(topics) == 3 and len(topics[0]["terms"]) == 9
    assert all(t["weight"] > 0 for topic in topics for t in topic["terms"])
    lines = (tmp_path / "d.jsonl").read_text().splitlines()
    assert len(lines) == 18
    first = json.loads(lines[0])
    assert set(first) == {"id", "weights", "dominant_topic", "dominant_label", "dominant_weight"}
    from topicnmf import TopicModel

    m = TopicModel.load(model)
    assert m.doc_ids is not None and len(m.doc_ids) == 18
    assert m.W is not None and m.W.shape == (18, 3)


def test_assign_reproduces_fit_doc_topics(theme_dir, tmp_path):
    model = tmp_path / "m.npz"
    ok(["fit", theme_dir, "-k", "3", "-m", model, "-q", "--doc-topics-out", tmp_path / "fit.csv"])
    ok(["assign", "-m", model, theme_dir, "-o", tmp_path / "assign.csv", "--batch-size", "5"])
    assert (tmp_path / "fit.csv").read_bytes() == (tmp_path / "assign.csv").read_bytes()


def test_same_command_twice_gives_identical_outputs(theme_dir, tmp_path):
    outs = []
    for i in range(2):
        model = tmp_path / f"m{i}.npz"
        r = ok(
            [
                "fit",
                theme_dir,
                "-k",
                "3",
                "-m",
                model,
                "-q",
                "--doc-topics-out",
                tmp_path / f"d{i}.csv",
            ]
        )
        a = ok(["assign", "-m", model, theme_dir, "--format", "json"])
        outs.append((r.stdout, (tmp_path / f"d{i}.csv").read_bytes(), a.stdout))
    assert outs[0] == outs[1]
    with np.load(tmp_path / "m0.npz") as a, np.load(tmp_path / "m1.npz") as b:
        for key in a.files:
            if key != "meta":  # meta holds the fit's timings and creation time
                np.testing.assert_array_equal(a[key], b[key])


FIT_OPTIONS = [
    ["--loss", "kl"],
    ["--init", "random", "--seed", "3"],
    ["--solver", "mu"],
    ["--float64"],
    ["--ngram-range", "1,2"],
    ["--sublinear-tf"],
    ["--norm", "l1"],
    ["--no-idf"],
    ["--alpha-w", "0.01", "--l1-ratio", "0.5"],
    ["--stop-words", "none"],
    ["--max-features", "20"],
    ["--min-df", "1", "--max-df", "0.9"],
]


@pytest.mark.parametrize("option", FIT_OPTIONS)
def test_fit_options_are_accepted_and_recorded(option, theme_dir, tmp_path):
    model = tmp_path / "m.npz"
    ok(["fit", theme_dir, "-k", "3", "-m", model, "-q", *option])
    info = json.loads(ok(["info", model, "--format", "json"]).stdout)
    flat = json.dumps(info)
    value = option[1] if len(option) > 1 else None
    if option[0] == "--loss":
        assert info["nmf"]["loss"] == "kl"
        # --solver auto takes coordinate descent for KL when numba is there (the test extra)
        numba = importlib.util.find_spec("numba") is not None
        assert info["nmf"]["solver"] == ("cd" if numba else "mu")
    if option[0] == "--float64":
        assert info["nmf"]["dtype"] == "float64"
    if option[0] == "--max-features":
        assert info["terms"] <= 20
    if option[0] == "--norm":
        assert info["vectorizer"]["norm"] == "l1"
    if value and option[0] in ("--init", "--solver"):
        assert value in flat


def test_stop_words_file(theme_dir, tmp_path):
    words = tmp_path / "stop.txt"
    words.write_text("# my list\nthe\nand\nrocket\n", encoding="utf-8")
    model = tmp_path / "m.npz"
    ok(["fit", theme_dir, "-k", "3", "-m", model, "-q", "--stop-words", words])
    from topicnmf import TopicModel

    vocab = TopicModel.load(model).vocabulary
    assert "rocket" not in vocab and "satellite" in vocab


def test_model_path_from_environment(theme_dir, tmp_path):
    model = tmp_path / "env.npz"
    env = {"TOPICNMF_MODEL": str(model)}
    ok(["fit", theme_dir, "-k", "3", "-q"], env=env)
    assert model.exists()
    assert ok(["topics", "--format", "csv"], env=env).stdout.startswith("topic,label")


# -- topics ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "table"])
def test_topics_formats(fmt, hobbies_model):
    result = ok(["topics", hobbies_model, "--top", "5", "--format", fmt])
    out = result.stdout
    if fmt == "csv":
        rows = read_csv(out)
        assert len(rows) == 4 * 5
    elif fmt == "json":
        data = json.loads(out)
        assert [t["topic"] for t in data] == [0, 1, 2, 3]
        assert all(len(t["terms"]) == 5 for t in data)
        # automatic labels: the three most relevant terms (lambda 0.6), not the heaviest
        m = TopicModel.load(hobbies_model)
        auto = auto_labels(m.H, m.topic_share, m.vocabulary)
        assert [t["label"] for t in data] == auto
        assert all(len(t["label"].split("_")) == 3 for t in data)
    elif fmt == "jsonl":
        assert len([json.loads(line) for line in out.splitlines()]) == 4
    else:
        assert "top terms" in out and "\x1b[" not in out


def test_topics_output_file_format_from_extension(hobbies_model, tmp_path):
    ok(["topics", hobbies_model, "-o", tmp_path / "t.json"])
    assert len(json.loads((tmp_path / "t.json").read_text())) == 4


def test_sample_corpus_topics_are_recognisable(hobbies_model):
    data = json.loads(ok(["topics", hobbies_model, "--top", "8", "--format", "json"]).stdout)
    tops = [{t["term"] for t in topic["terms"]} for topic in data]
    for marker in (
        {"garden", "soil"},
        {"team", "players"},
        {"oven", "flour"},
        {"stars", "telescope"},
    ):
        assert any(marker & terms for terms in tops), marker


# -- assign ------------------------------------------------------------------------------------


def test_assign_raw_top_topics_and_formats(hobbies_model, tmp_path):
    args = ["assign", "-m", hobbies_model, SAMPLES / "hobbies"]
    raw = read_csv(ok([*args, "--raw", "--format", "csv"]).stdout)
    assert any(abs(sum(float(r[f"topic_{t}"]) for t in range(4)) - 1) > 1e-3 for r in raw)
    top = read_csv(ok([*args, "--top-topics", "2", "--format", "csv"]).stdout)
    assert list(top[0]) == ["id", "rank1_topic", "rank1_label", "rank1_weight",
                            "rank2_topic", "rank2_label", "rank2_weight"]  # fmt: skip
    assert len(top) == 72
    data = json.loads(ok([*args, "--format", "json"]).stdout)
    assert len(data) == 72 and len(data[0]["weights"]) == 4
    table = ok([*args, "--format", "table"]).stdout
    assert "dominant topic" in table


def test_assign_document_without_known_words(hobbies_model):
    text = "telescope stars galaxy planet\nzzzz qqqq xxxx\n"
    result = ok(["assign", "-m", hobbies_model, "-", "--format", "csv"], input=text)
    rows = read_csv(result.stdout)
    assert rows[0]["dominant_topic"] != ""
    assert rows[1]["dominant_topic"] == ""
    assert all(float(rows[1][f"topic_{t}"]) == 0 for t in range(4))
    assert "1 of 2 documents has no word" in result.stderr


def test_info_reports_everything(hobbies_model):
    info = json.loads(ok(["info", hobbies_model, "--format", "json"]).stdout)
    assert info["format_version"] == 1
    assert info["topics"] == 4
    assert info["fit"]["n_documents"] == 72
    assert info["corpus_fingerprint"].startswith("sha256:")
    assert {"topicnmf", "numpy", "scikit-learn"} <= set(info["versions"])
    stop_words = info["vectorizer"]["stop_words"]  # the list itself; the table counts it
    assert "the" in stop_words and len(stop_words) > 300
    table = ok(["info", hobbies_model, "--format", "table"]).stdout
    assert "nmf.init" in table and f"{len(stop_words)} words" in table


# -- odd but valid input (the bad-input table is in tests/test_cli_errors.py) ------------------


def test_binary_file_among_text_files_is_skipped_and_counted(theme_dir, tmp_path):
    (theme_dir / "blob.txt").write_bytes(b"\x00\x01\x02binary\x00data" * 50)
    result = ok(["fit", theme_dir, "-k", "3", "-m", tmp_path / "m.npz"])
    assert "blob.txt" in result.stderr
    assert "1 binary files skipped" in result.stderr


def test_latin1_file_reads_with_encoding_option(tmp_path):
    p = tmp_path / "latin.txt"
    lines = ["café crème brûlée dessert", "crème brûlée café sucre", "dessert sucre café crème"]
    p.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    result = ok(
        ["fit", p, "-k", "1", "--encoding", "latin-1", "-m", tmp_path / "m.npz", "--format", "csv"]
    )
    assert "brûlée" in result.stdout  # (crème is in every line: max_df drops it)


def test_debug_env_shows_traceback(tmp_path):
    result = CliRunner().invoke(
        cli, ["topics", str(tmp_path / "none.npz")], env={"TOPICNMF_DEBUG": "1"}
    )
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "ModelFileError"


def test_cli_and_settings_import_without_numpy():
    # The command line parses and checks its options, and starts reading the corpus,
    # before NumPy/SciPy are loaded (about a third of a second of start-up).
    code = (
        "import sys, topicnmf.cli, topicnmf.config; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_fit_and_assign_read_an_archive(tmp_path):
    import tarfile

    home = tmp_path / "home"
    home.mkdir()
    texts = theme_texts(40)
    with tarfile.open(home / "20news-bydate.tar.gz", "w:gz") as tar:
        for i, text in enumerate(texts):
            split = "train" if i % 4 else "test"
            group = ("sci.space", "rec.autos")[i % 2]
            data = f"Subject: post {i}\n\n{text}\n".encode()
            info = tarfile.TarInfo(f"20news-bydate-{split}/{group}/{100 + i}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out = tmp_path / "out"
    out.mkdir()
    ok(["fit", "20newsgroups:train", "--data-home", home, "-k", "2", "--min-df", "1",
        "-m", out / "m.npz", "--doc-topics-out", out / "w.csv", "-q"])  # fmt: skip
    ok(["assign", "20newsgroups:test", "--data-home", home, "-m", out / "m.npz",
        "-o", out / "a.csv", "-q"])  # fmt: skip
    fitted, assigned = (out / "w.csv").read_bytes(), (out / "a.csv").read_bytes()
    n_test = len(range(0, len(texts), 4))
    assert fitted.count(b"\n") == 1 + len(texts) - n_test
    assert assigned.count(b"\n") == 1 + n_test
    assert b"train/rec.autos/" in fitted and b"test/sci.space/" in assigned


def test_assign_names_a_missing_model_before_looking_for_the_corpus(tmp_path, monkeypatch):
    # 20newsgroups may mean a download: a typo in the model path must not cost one
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    monkeypatch.delenv("TOPICNMF_DATA_HOME", raising=False)
    result = run(["assign", "20newsgroups:test", "-m", tmp_path / "typo.npz"])
    assert result.exit_code == 1
    assert "typo.npz" in result.stderr and "not found" in result.stderr
    assert "20 Newsgroups" not in result.stderr


def test_a_stop_whose_exception_was_dropped_still_ends_the_run_as_a_stop(
    hobbies_model, monkeypatch
):
    # Python drops an exception raised by a signal handler inside a __del__ or weakref
    # callback; the recorded stop must still give the interrupt's message and code.
    from topicnmf import export
    from topicnmf.cli import core

    real = export.write_topics

    def write_and_swallow_a_stop(*args, **kwargs):
        core.Invocation.current.stop = KeyboardInterrupt()  # as the handler does, dropped
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "write_topics", write_and_swallow_a_stop)
    result = run(["topics", hobbies_model, "--format", "csv"])
    assert result.exit_code == 130
    assert result.stderr.strip().startswith("Error: interrupted")


def test_settings_accept_numpy_scalars():
    from topicnmf.config import NMFConfig, VectorizerConfig

    cfg = VectorizerConfig(lowercase=np.True_, min_df=np.int64(1), max_df=np.float32(0.5))
    assert cfg.lowercase and cfg.min_df == 1 and isinstance(cfg.max_df, float)
    assert NMFConfig(np.int32(3), tol=np.float64(1e-4)).n_components == 3


def test_evaluate_table_shows_the_terms_its_npmi_scored(hobbies_model):
    """The table's term list is the top N the NPMI was computed on, not a shorter cut."""
    top = 9
    table = ok(["evaluate", "-m", hobbies_model, "--top", str(top), "--format", "table"]).stdout
    data = json.loads(
        ok(["evaluate", "-m", hobbies_model, "--top", str(top), "--format", "json"]).stdout
    )
    flat = " ".join(table.split())
    for topic in data["topics"]:
        assert len(topic["top_terms"]) == top
        assert topic["top_terms"][-1] in flat
