"""Every option of every command reaches the library: a test per option that fails if the
command line silently ignored it.

Each check runs the command with the option and without it (or with another value) and
asserts an observable difference: the value recorded in the model (``info --format json``)
and an effect on the output, or, for options that by design do not change the output
(``--jobs``, ``--batch-size``), the value the library was called with. A meta-test makes
sure no option is left without a check, so a new option needs one.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.helpers import ok, run
from tests.test_context import context_checks
from tests.test_report_context import report_context_checks
from topicnmf.cli import cli

HOBBIES = SAMPLES / "hobbies"
NEWS = SAMPLES / "news.csv"


class Fit:
    """Fits of the hobbies corpus (k=3) with extra options; returns info JSON and topics CSV."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.n = 0

    def __call__(self, *extra, corpus=HOBBIES, k=3) -> tuple[dict, str]:
        self.n += 1
        model = self.tmp / f"m{self.n}.npz"
        ok(["fit", corpus, "-k", k, "-m", model, "-q", "--format", "csv", *extra])
        info = json.loads(ok(["info", model, "--format", "json"]).stdout)
        topics = ok(["topics", model, "--format", "csv", "--top", "10"]).stdout
        info["_path"] = model
        return info, topics


@pytest.fixture
def fit(tmp_path) -> Fit:
    return Fit(tmp_path)


def newsgroups_home(tmp_path: Path) -> Path:
    """A tiny archive in the 20 Newsgroups layout: two groups, headers, quotes, footers."""
    home = tmp_path / "ng"
    home.mkdir(exist_ok=True)
    posts = {
        "sci.space": "rockets orbit launch satellite moon orbit rockets",
        "rec.autos": "engine wheels brakes engine driving wheels car",
        "sci.med": "doctor patient medicine doctor clinic patient",
    }
    with tarfile.open(home / "20news-bydate.tar.gz", "w:gz") as tar:
        for split in ("train", "test"):
            for g, (group, text) in enumerate(posts.items()):
                for i in range(6):
                    body = (
                        f"From: someone{i}@example.org\nSubject: headerword{i}\n\n"
                        f"> quotedword said this\n{text} {group.split('.')[1]}{i % 2}\n"
                        f"\n--\nfooterword signature\n"
                    ).encode()
                    info = tarfile.TarInfo(f"20news-bydate-{split}/{group}/{1000 + 10 * g + i}")
                    info.size = len(body)
                    tar.addfile(info, io.BytesIO(body))
    return home


# -- the checks ----------------------------------------------------------------------------
# Each takes (tmp_path, fit) and asserts the option made a difference.


def vocabulary_of(info: dict) -> int:
    return info["terms"]


CHECKS: dict[tuple[str, str], Callable[[Path, Fit], None]] = {}


def check(command: str, *names: str):
    def register(fn):
        for name in names:
            CHECKS[(command, name)] = fn
        return fn

    return register


@check("fit", "k")
def _(tmp, fit):
    assert fit(k=2)[0]["topics"] == 2 and fit(k=4)[0]["topics"] == 4


@check("fit", "model")
def _(tmp, fit):
    info, _ = fit()
    assert info["_path"].exists() and info["file"] == str(info["_path"])


@check("fit", "output", "fmt")
def _(tmp, fit):
    ok(["fit", HOBBIES, "-k", 2, "-m", tmp / "m.npz", "-o", tmp / "t.out", "--format", "json"])
    assert [t["topic"] for t in json.loads((tmp / "t.out").read_text())] == [0, 1]
    tsv = ok(["fit", HOBBIES, "-k", 2, "-m", tmp / "m.npz", "--format", "tsv", "-q"]).stdout
    assert tsv.startswith("topic\tlabel\tshare")


@check("fit", "top")
def _(tmp, fit):
    out = ok(["fit", HOBBIES, "-k", 2, "-m", tmp / "m.npz", "--format", "csv", "-n", 3]).stdout
    assert len(out.splitlines()) == 1 + 2 * 3


@check("fit", "topics_out")
def _(tmp, fit):
    fit("--topics-out", tmp / "t.csv", "-n", 3)
    assert len((tmp / "t.csv").read_text().splitlines()) == 1 + 3 * 10


@check("fit", "doc_topics_out")
def _(tmp, fit):
    fit("--doc-topics-out", tmp / "w.csv")
    assert len((tmp / "w.csv").read_text().splitlines()) == 1 + 72


@check("fit", "save_doc_topics")
def _(tmp, fit):
    assert fit()[0]["stored_doc_topics"] is None
    assert fit("--save-doc-topics")[0]["stored_doc_topics"] == 72


@check("fit", "quiet")
def _(tmp, fit):
    loud = ok(["fit", HOBBIES, "-k", 2, "-m", tmp / "m.npz", "--format", "csv"])
    quiet = ok(["fit", HOBBIES, "-k", 2, "-m", tmp / "m.npz", "--format", "csv", "-q"])
    assert loud.stderr and not quiet.stderr


# -- vectorizer settings: recorded in the model and changing the vocabulary -------------------

_VECTORIZER = {
    "min_df": (["--min-df", "1"], "min_df", 1),
    "max_df": (["--max-df", "0.2"], "max_df", 0.2),
    "max_features": (["--max-features", "50"], "max_features", 50),
    "ngram_range": (["--ngram-range", "1,2"], "ngram_range", [1, 2]),
    "token_pattern": (["--token-pattern", r"\b\w\w\w\w+\b"], "token_pattern", r"\b\w\w\w\w+\b"),
}


@check("fit", *_VECTORIZER)
def _vectorizer_setting(tmp, fit, name=None):
    args, key, value = _VECTORIZER[name]
    base, base_topics = fit()
    info, topics = fit(*args)
    assert info["vectorizer"][key] == value
    assert vocabulary_of(info) != vocabulary_of(base) or topics != base_topics


@check("fit", "stop_words")
def _(tmp, fit):
    words = tmp / "stop.txt"
    words.write_text("garden\nsoil\n")
    base, base_topics = fit()
    info, topics = fit("--stop-words", "none")
    assert info["vectorizer"]["stop_words"] == [] and vocabulary_of(info) > vocabulary_of(base)
    assert "garden" not in fit("--stop-words", words)[1]


@check("fit", "lowercase")
def _(tmp, fit):
    base, _ = fit()
    info, _ = fit("--no-lowercase")
    assert info["vectorizer"]["lowercase"] is False and vocabulary_of(info) != vocabulary_of(base)


@check("fit", "sublinear_tf", "norm", "no_idf")
def _weighting(tmp, fit, name=None):
    args, key, value = {
        "sublinear_tf": (["--sublinear-tf"], "sublinear_tf", True),
        "norm": (["--norm", "l1"], "norm", "l1"),
        "no_idf": (["--no-idf"], "use_idf", False),
    }[name]
    base, _ = fit()
    info, _ = fit(*args)
    assert info["vectorizer"][key] == value
    assert info["fit"]["loss"] != base["fit"]["loss"]


# -- NMF settings: recorded in the model and changing the fit ----------------------------------

_NMF = {
    "loss": (["--loss", "kl", "--solver", "mu"], "loss", "kl"),
    "solver": (["--solver", "mu"], "solver", "mu"),
    "init": (["--init", "random"], "init", "random"),
    "svd": (["--svd", "randomized", "--init", "nndsvd"], "svd", "randomized"),
    "max_iter": (["--max-iter", "3"], "max_iter", 3),
    "tol": (["--tol", "0.01"], "tol", 0.01),
    "alpha_w": (["--alpha-w", "0.0005"], "alpha_W", 0.0005),
    "alpha_h": (["--alpha-h", "0.0005"], "alpha_H", 0.0005),
    "l1_ratio": (["--alpha-w", "0.0001", "--l1-ratio", "1"], "l1_ratio", 1.0),
    "float64": (["--float64"], "dtype", "float64"),
}


@check("fit", *_NMF)
def _nmf_setting(tmp, fit, name=None):
    args, key, value = _NMF[name]
    base_args = {"svd": ["--init", "nndsvd"], "l1_ratio": ["--alpha-w", "0.0001"]}.get(name, [])
    base, _ = fit(*base_args)
    info, _ = fit(*args)
    assert info["nmf"][key] == value
    changed = (info["fit"]["loss"], info["fit"]["n_iter"]) != (
        base["fit"]["loss"],
        base["fit"]["n_iter"],
    )
    assert changed, name


@check("fit", "seed")
def _(tmp, fit):
    a, ta = fit("--init", "random", "--seed", "1")
    b, tb = fit("--init", "random", "--seed", "2")
    assert (a["nmf"]["seed"], b["nmf"]["seed"]) == (1, 2)
    assert a["fit"]["loss"] != b["fit"]["loss"]


# -- corpus options, for every command that reads a corpus ----------------------------------

CORPUS_COMMANDS = ("fit", "assign", "evaluate", "select-k", "update")


WORDS = (
    "apples pears plums rockets moons orbits caf\u00e9 cr\u00e8me finance music health "
    "programming markets doctor engine wheels orbit launch satellite moon brakes driving car "
    "patient medicine clinic space autos med headerword0 headerword1 quotedword said footerword "
    "signature someone0 example org subject"
)


def _reference_model(tmp: Path) -> Path:
    """A model whose vocabulary holds every word the corpus checks read."""
    model = tmp / "ref.npz"
    if not model.exists():
        words = WORDS.split()
        lines = [" ".join(words[i:] + words[:i]) for i in range(len(words))]
        (tmp / "words.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        ok(["fit", HOBBIES, tmp / "words.txt", "-k", 3, "-m", model, "-q", "--min-df", 1,
            "--max-df", 1.0])  # fmt: skip
    return model


def _invoke(command: str, tmp: Path, corpus, *extra):
    """Run a corpus-reading command on ``corpus``; its output shows what it read."""
    if command == "fit":
        args = ["fit", corpus, "-k", 2, "-m", tmp / "f.npz", "--min-df", 1, "--max-df", 1.0,
                "--doc-topics-out", tmp / "w.csv", "-q", "--format", "csv"]  # fmt: skip
    elif command == "assign":
        args = ["assign", "-m", _reference_model(tmp), corpus, "--format", "csv", "-q"]
    elif command == "evaluate":
        args = ["evaluate", "-m", _reference_model(tmp), corpus, "--format", "json", "-q"]
    elif command == "tree":
        args = ["tree", corpus, "-k", 2, "--min-df", 1, "--max-df", 1.0, "--format", "json",
                "--docs", "-q"]  # fmt: skip
    elif command == "update":
        args = ["update", "-m", _reference_model(tmp), corpus, "-o", tmp / "u.npz", "-q"]
    else:
        args = ["select-k", corpus, "--k", "2", "--runs", 0, "--min-df", 1, "--format", "csv",
                "--top", 2]  # fmt: skip
    return run([*args, *extra])


def _read(command: str, tmp: Path, corpus, *extra) -> str:
    result = _invoke(command, tmp, corpus, *extra)
    assert result.exit_code == 0, (command, extra, result.stderr, result.exception)
    if command == "fit":
        return (tmp / "w.csv").read_text() + result.stdout
    if command == "update":  # the topics moved by what was read
        return ok(["topics", tmp / "u.npz", "--format", "csv", "--top", 50]).stdout
    # select-k tells what it read on stderr; the others in their data
    return result.stdout + (result.stderr if command == "select-k" else "")


def _check_recorded(command: str, tmp: Path, key: str, value: object) -> None:
    """The model of the latest fit records the reading setting, and info shows it."""
    if command != "fit":
        return
    model = tmp / "f.npz"
    source = json.loads(ok(["info", model, "--format", "json"]).stdout)["sources"][0]
    assert source[key] == value, (key, source)
    table = ok(["info", model, "--format", "table"], env={"COLUMNS": "400"}).stdout
    shown = ", ".join(value) if isinstance(value, list) else str(value)
    assert f"{key} {shown}" in table or (value == [] and f"{key} " not in table), table


def _corpus_check(option: str, command: str, tmp: Path) -> None:
    if option == "input_format":
        data = tmp / "rows.data"
        data.write_text("text\napples and pears\nrockets and moons\napples and moons\n")
        a, b = _read(command, tmp, data), _read(command, tmp, data, "--input-format", "csv")
        _check_recorded(command, tmp, "format", "csv")
    elif option == "glob":
        d = tmp / "dir"
        d.mkdir()
        for name, text in [
            ("a.txt", "apples pears plums"),
            ("b.md", "rockets moons orbits"),
            ("c.md", "apples moons orbits"),
            ("d.txt", "rockets pears plums"),
            ("e.md", "plums moons rockets"),
        ]:
            (d / name).write_text(text + "\n")
        a, b = _read(command, tmp, d), _read(command, tmp, d, "--glob", "*.md")
        # every --glob counts, not only the first or the last
        first, last = b, _read(command, tmp, d, "--glob", "?.txt")
        both = _read(command, tmp, d, "--glob", "*.md", "--glob", "?.txt")
        assert both not in (first, last), command
        _check_recorded(command, tmp, "glob", ["*.md", "?.txt"])
    elif option == "exclude":
        d = tmp / "dir"
        for name, text in [
            ("a.txt", "apples pears plums"),
            ("b.txt", "rockets moons orbits"),
            ("c.txt", "apples moons orbits"),
            ("sub/d.txt", "rockets pears plums"),
            ("sub/e.txt", "plums moons rockets"),
        ]:
            (d / name).parent.mkdir(parents=True, exist_ok=True)
            (d / name).write_text(text + "\n")
        a = _read(command, tmp, d)
        one = _read(command, tmp, d, "--exclude", "c.txt")
        b = _read(command, tmp, d, "--exclude", "c.txt", "--exclude", "sub")
        assert len({a, one, b}) == 3, command  # each pattern counts; a folder is skipped whole
        _check_recorded(command, tmp, "exclude", ["c.txt", "sub"])
    elif option == "text_column":
        a, b = _read(command, tmp, NEWS), _read(command, tmp, NEWS, "--text-column", "category")
        _check_recorded(command, tmp, "text_column", "category")
    elif option == "id_column":
        if command in ("evaluate", "select-k", "update"):
            # ids are not part of their output: a missing id column must be noticed
            bad = _invoke(command, tmp, NEWS, "--id-column", "nope")
            assert bad.exit_code == 1 and "nope" in bad.stderr
            return
        a, b = _read(command, tmp, NEWS), _read(command, tmp, NEWS, "--id-column", "id")
        assert "n001" in b and "n001" not in a
        _check_recorded(command, tmp, "id_column", "id")
    elif option == "encoding":
        f = tmp / "latin.txt"
        f.write_bytes("caf\xe9 cr\xe8me\nrockets moons orbits\ncaf\xe9 moons\n".encode("latin-1"))
        bad = _invoke(command, tmp, f)
        assert bad.exit_code == 1, bad.stderr
        _read(command, tmp, f, "--encoding", "latin-1")
        _check_recorded(command, tmp, "encoding", "latin-1")
        return
    elif option in ("data_home", "categories", "remove"):
        home = newsgroups_home(tmp)
        source = "20newsgroups:train"
        if option == "data_home":
            missing = _invoke(command, tmp, source, "--data-home", tmp / "nowhere")
            assert missing.exit_code == 1 and "nowhere" in missing.stderr, missing.stderr
            _read(command, tmp, source, "--data-home", home)
            return
        extra = {
            "categories": ["--categories", "sci.space,sci.med"],
            "remove": ["--remove", "none"],
        }
        a = _read(command, tmp, source, "--data-home", home)
        b = _read(command, tmp, source, "--data-home", home, *extra[option])
        recorded = {"categories": ["sci.med", "sci.space"], "remove": []}[option]
        _check_recorded(command, tmp, option, recorded)
    elif option == "encoding_errors":
        d = tmp / "mixed"
        d.mkdir()
        (d / "a.txt").write_text("apples pears plums orbits\n")
        (d / "b.txt").write_bytes("caf\xe9 moons rockets orbits\n".encode("latin-1"))
        (d / "c.txt").write_text("rockets moons apples pears\n")
        strict = _invoke(command, tmp, d, "--encoding-errors", "strict")
        assert strict.exit_code == 1 and "b.txt" in strict.stderr, strict.stderr
        a, b = _read(command, tmp, d), _read(command, tmp, d, "--encoding-errors", "replace")
        _check_recorded(command, tmp, "encoding_errors", "replace")
    elif option == "csv_lenient":
        f = tmp / "stray.csv"
        f.write_text("id,text\n1,apples, pears\n2,rockets moons\n3,apples moons\n")
        strict = _invoke(command, tmp, f)
        assert strict.exit_code == 1 and "--csv-lenient" in strict.stderr, strict.stderr
        _read(command, tmp, f, "--csv-lenient")
        _check_recorded(command, tmp, "csv_lenient", True)
        return
    elif option == "download":
        empty = tmp / "empty"
        empty.mkdir()
        plain = _invoke(command, tmp, "20newsgroups", "--data-home", empty)
        assert plain.exit_code == 1 and "--download" in plain.stderr, plain.stderr
        asked = _invoke(command, tmp, "20newsgroups", "--data-home", empty, "--download")
        assert asked.exit_code == 1 and "downloads are off" in asked.stderr, asked.stderr
        return
    else:
        raise AssertionError(option)
    assert a != b, (command, option)


CORPUS_OPTIONS = (
    "input_format",
    "glob",
    "exclude",
    "text_column",
    "id_column",
    "encoding",
    "data_home",
    "categories",
    "remove",
    "encoding_errors",
    "csv_lenient",
    "download",
)
for _command in CORPUS_COMMANDS:
    for _option in CORPUS_OPTIONS:
        CHECKS[(_command, _option)] = lambda tmp, fit, c=_command, o=_option: _corpus_check(
            o, c, tmp
        )


# -- commands that read a model ----------------------------------------------------------


def _models(tmp: Path) -> tuple[Path, Path]:
    a, b = tmp / "a.npz", tmp / "b.npz"
    if not a.exists():
        ok(["fit", HOBBIES, "-k", 4, "-m", a, "-q"])
        ok(["fit", NEWS, "-k", 3, "-m", b, "-q"])
    return a, b


@check("topics", "model")
@check("info", "model")
@check("assign", "model")
@check("evaluate", "model")
def _model_option(tmp, fit, name=None):
    a, b = _models(tmp)
    # the option is the same as the default path, so the same command in a folder with
    # another model.npz must follow -m, not the default
    for command in ("topics", "info", "assign", "evaluate"):
        extra = [HOBBIES] if command == "assign" else []
        via_a = ok([command, "-m", a, *extra, "--format", "json", "-q"]).stdout
        via_b = ok([command, "-m", b, *extra, "--format", "json", "-q"]).stdout
        assert via_a != via_b, command


@check("topics", "top")
def _(tmp, fit):
    a, _ = _models(tmp)
    out = ok(["topics", a, "--format", "csv", "--top", 2]).stdout
    assert len(out.splitlines()) == 1 + 4 * 2


@check("evaluate", "top")
def _(tmp, fit):
    a, _ = _models(tmp)
    three = json.loads(ok(["evaluate", a, "--format", "json", "--top", 3]).stdout)
    ten = json.loads(ok(["evaluate", a, "--format", "json"]).stdout)
    assert len(three["topics"][0]["top_terms"]) == 3 and three != ten


def _output_and_format(command: str, tmp: Path) -> None:
    a, b = _models(tmp)
    args = {
        "topics": ["topics", a],
        "info": ["info", a],
        "assign": ["assign", "-m", a, HOBBIES],
        "evaluate": ["evaluate", a],
        "select-k": ["select-k", HOBBIES, "--k", "2", "--runs", 0],
        "compare": ["compare", a, b],
    }[command]
    ok([*args, "-o", tmp / "out.json", "-q"])
    json.loads((tmp / "out.json").read_text())  # the extension chose JSON
    ok([*args, "-o", tmp / "out.bin", "--format", "json", "-q"])
    assert (tmp / "out.bin").read_text() == (tmp / "out.json").read_text()
    if command != "info":
        csv_text = ok([*args, "--format", "csv", "-q"]).stdout
        jsonl_text = ok([*args, "--format", "jsonl", "-q"]).stdout
        assert csv_text != jsonl_text and json.loads(jsonl_text.splitlines()[0])


for _command in ("topics", "info", "assign", "evaluate", "select-k", "compare"):
    for _option in ("output", "fmt"):
        CHECKS[(_command, _option)] = lambda tmp, fit, c=_command: _output_and_format(c, tmp)


def _quiet(command: str, tmp: Path) -> None:
    a, b = _models(tmp)
    args = {
        "topics": ["topics", a, "--format", "csv", "--top", 1000],
        "info": ["info", a, "--format", "json"],
        "assign": ["assign", "-m", a, HOBBIES, "--format", "csv"],
        "evaluate": ["evaluate", a, "--format", "csv"],
        "select-k": ["select-k", HOBBIES, "--k", "2", "--runs", 0, "--format", "csv"],
        "compare": ["compare", a, b, "--format", "csv"],
    }[command]
    if command in ("topics", "info"):
        # nothing to say on stderr: -q must still be accepted and change nothing else
        assert ok([*args, "-q"]).stdout == ok(args).stdout
        return
    assert ok(args).stderr and not ok([*args, "-q"]).stderr


for _command in ("topics", "info", "assign", "evaluate", "select-k", "compare"):
    CHECKS[(_command, "quiet")] = lambda tmp, fit, c=_command: _quiet(c, tmp)


@check("assign", "raw")
def _(tmp, fit):
    a, _ = _models(tmp)
    norm = ok(["assign", "-m", a, HOBBIES, "--format", "json"]).stdout
    raw = ok(["assign", "-m", a, HOBBIES, "--format", "json", "--raw"]).stdout
    sums = [sum(r["weights"]) for r in json.loads(raw)]
    assert norm != raw and any(abs(x - 1) > 0.01 for x in sums)


@check("assign", "top_topics")
def _(tmp, fit):
    a, _ = _models(tmp)
    out = ok(["assign", "-m", a, HOBBIES, "--format", "csv", "--top-topics", 2]).stdout
    assert out.splitlines()[0].split(",")[1:] == [
        "rank1_topic", "rank1_label", "rank1_weight", "rank2_topic", "rank2_label", "rank2_weight"
    ]  # fmt: skip


@check("assign", "limit")
def _(tmp, fit):
    a, _ = _models(tmp)
    five = ok(["assign", "-m", a, HOBBIES, "--format", "table", "--limit", 5, "-q"]).stdout
    assert "... and 67 more documents" in five and "doc_006.txt" not in five
    every = ok(["assign", "-m", a, HOBBIES, "--format", "table", "--limit", 0, "-q"]).stdout
    assert "more document" not in every and "doc_072.txt" in every
    default = ok(["assign", "-m", a, HOBBIES, "--format", "table", "-q"]).stdout
    assert "... and 22 more documents" in default
    csv_out = ok(["assign", "-m", a, HOBBIES, "--format", "csv", "--limit", 5, "-q"]).stdout
    assert len(csv_out.splitlines()) == 73


@check("assign", "batch_size")
def _(tmp, fit, monkeypatch=None):
    from topicnmf.corpus import Corpus

    a, _ = _models(tmp)
    sizes: list[int] = []
    real = Corpus.iter_batches

    def spy(self, size):
        sizes.append(size)
        return real(self, size)

    monkeypatch.setattr(Corpus, "iter_batches", spy)
    one = ok(["assign", "-m", a, HOBBIES, "--format", "csv", "--batch-size", 7]).stdout
    assert sizes == [7]
    # the same result: nmf.transform solves each row alone, equal "up to floating-point
    # rounding" (BLAS blocks a batch by its size), so a 6-digit weight may differ in its
    # last digit
    other = ok(["assign", "-m", a, HOBBIES, "--format", "csv"]).stdout
    rows_a = [r.split(",") for r in one.splitlines()]
    rows_b = [r.split(",") for r in other.splitlines()]
    assert [len(r) for r in rows_a] == [len(r) for r in rows_b]
    for ra, rb in zip(rows_a, rows_b, strict=True):
        for x, y in zip(ra, rb, strict=True):
            try:
                assert abs(float(x) - float(y)) <= 2e-6, (ra, rb)
            except ValueError:
                assert x == y, (ra, rb)


def _jobs(command: str, tmp: Path, monkeypatch) -> None:
    """--jobs does not change results (by design); it must reach the library's thread count."""
    a, _ = _models(tmp)
    if command == "fit":
        seen = _spy(monkeypatch, "topicnmf.model", "fit", "n_jobs")
        ok(["fit", HOBBIES, "-k", 2, "-m", tmp / "j.npz", "-q", "--jobs", 1])
    elif command == "assign":
        from topicnmf.model import TopicModel

        seen = _spy_method(monkeypatch, TopicModel, "transform_matrix", "n_threads")
        ok(["assign", "-m", a, HOBBIES, "-q", "--jobs", 1])
    elif command == "evaluate":
        from topicnmf.model import TopicModel

        seen = _spy_method(monkeypatch, TopicModel, "evaluate", "n_threads")
        ok(["evaluate", a, HOBBIES, "-q", "--jobs", 1])
    else:
        seen = _spy(monkeypatch, "topicnmf.quality", "select_k", "jobs")
        ok(["select-k", HOBBIES, "--k", "2", "--runs", 0, "-q", "--jobs", 1])
    assert seen and all(v == 1 for v in seen), seen


def _spy(monkeypatch, module: str, name: str, key: str) -> list:
    import importlib

    mod = importlib.import_module(module)
    real = getattr(mod, name)
    seen: list = []

    def spy(*args, **kwargs):
        seen.append(kwargs.get(key))
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, name, spy)
    return seen


def _spy_vectorizers(monkeypatch, module: str) -> list:
    """The configs of the Vectorizers that ``module`` builds, in order."""
    import importlib

    vec_mod = importlib.import_module(module)
    configs: list = []
    real_vec = vec_mod.Vectorizer

    class SpyVectorizer(real_vec):  # type: ignore[misc, valid-type]
        def __init__(self, config, *args, **kwargs):
            configs.append(config)
            super().__init__(config, *args, **kwargs)

    monkeypatch.setattr(vec_mod, "Vectorizer", SpyVectorizer)
    return configs


def _spy_method(monkeypatch, cls, name: str, key: str) -> list:
    real = getattr(cls, name)
    seen: list = []

    def spy(self, *args, **kwargs):
        seen.append(kwargs.get(key))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, spy)
    return seen


for _command in ("fit", "assign", "evaluate", "select-k"):
    CHECKS[(_command, "jobs")] = lambda tmp, fit, monkeypatch=None, c=_command: _jobs(
        c, tmp, monkeypatch
    )


@check("compare", "threshold")
def _(tmp, fit):
    a, b = _models(tmp)
    loose = json.loads(ok(["compare", a, b, "--format", "json", "--threshold", 0]).stdout)
    strict = json.loads(ok(["compare", a, b, "--format", "json", "--threshold", 1]).stdout)
    assert loose != strict


# -- select-k: its own options, and every fit setting reaches the fits it runs -----------------


def _select_k(tmp: Path, *extra) -> dict:
    result = ok(["select-k", HOBBIES, "--k", "2,3", "--runs", 2, "--format", "json", "-q",
                 *extra])  # fmt: skip
    return json.loads(result.stdout)


@check("select-k", "ks")
def _(tmp, fit):
    assert [r["k"] for r in _select_k(tmp)["rows"]] == [2, 3]
    out = ok(["select-k", HOBBIES, "--k", "2:6:2", "--runs", 0, "--format", "json", "-q"])
    assert [r["k"] for r in json.loads(out.stdout)["rows"]] == [2, 4, 6]


@check("select-k", "runs", "sample_fraction", "top", "tolerance")
def _select_k_own(tmp, fit, name=None):
    extra = {
        "runs": ["--runs", "0"],
        "sample_fraction": ["--sample", "0.5"],
        "top": ["--top", "4"],
        "tolerance": ["--tolerance", "1"],
    }[name]
    base, other = _select_k(tmp), _select_k(tmp, *extra)
    if name == "tolerance":  # a wide tolerance makes every k equally stable: NPMI decides
        best = max(base["rows"], key=lambda r: (r["npmi"], -r["k"]))["k"]
        assert other["recommended_k"] == best
        return
    assert base != other, name


def _select_k_setting(tmp: Path, monkeypatch, name: str) -> None:
    seen = _spy(monkeypatch, "topicnmf.quality", "select_k", "nmf_config")
    vectorizers = _spy_vectorizers(monkeypatch, "topicnmf.vectorize")
    flag = "--" + name.replace("_", "-")
    value = {
        "min_df": "1", "max_df": "0.5", "max_features": "40", "ngram_range": "1,2",
        "token_pattern": r"\b\w\w\w+\b", "norm": "l1", "loss": "kl", "solver": "mu",
        "init": "random", "svd": "randomized", "max_iter": "7", "tol": "0.001", "seed": "3",
        "alpha_w": "0.001", "alpha_h": "0.002", "l1_ratio": "0.5",
    }.get(name)  # fmt: skip
    if name == "stop_words":
        args = [flag, "none"]
    elif name == "lowercase":
        args = ["--no-lowercase"]
    elif value is None:  # a flag
        args = [flag]
    else:
        args = [flag, value]
    if name == "loss":
        args += ["--solver", "mu"]
    ok(["select-k", HOBBIES, "--k", "2", "--runs", 0, "-q", "--format", "csv", *args])
    config = seen[-1] if name not in _VECTORIZER_FIELDS else vectorizers[-1]
    field, expected = _FIELD[name]
    assert getattr(config, field) == expected, (name, getattr(config, field))


_VECTORIZER_FIELDS = {
    "min_df", "max_df", "max_features", "stop_words", "ngram_range", "lowercase",
    "token_pattern", "sublinear_tf", "norm", "no_idf",
}  # fmt: skip
_FIELD = {
    "min_df": ("min_df", 1), "max_df": ("max_df", 0.5), "max_features": ("max_features", 40),
    "stop_words": ("stop_words", ()), "ngram_range": ("ngram_range", (1, 2)),
    "lowercase": ("lowercase", False), "token_pattern": ("token_pattern", r"\b\w\w\w+\b"),
    "sublinear_tf": ("sublinear_tf", True), "norm": ("norm", "l1"), "no_idf": ("use_idf", False),
    "loss": ("loss", "kl"), "solver": ("solver", "mu"), "init": ("init", "random"),
    "svd": ("svd", "randomized"), "max_iter": ("max_iter", 7), "tol": ("tol", 0.001),
    "seed": ("seed", 3), "alpha_w": ("alpha_W", 0.001), "alpha_h": ("alpha_H", 0.002),
    "l1_ratio": ("l1_ratio", 0.5), "float64": ("dtype", "float64"),
}  # fmt: skip
for _name in _FIELD:
    CHECKS[("select-k", _name)] = lambda tmp, fit, monkeypatch=None, n=_name: _select_k_setting(
        tmp, monkeypatch, n
    )


# -- docs, label, report ----------------------------------------------------------------------


def _docs(tmp: Path, *extra) -> str:
    a, _ = _models(tmp)
    return ok(["docs", "-m", a, HOBBIES, "--format", "csv", "-q", *extra]).stdout


def _docs_rows(text: str) -> list[dict]:
    import csv

    return list(csv.DictReader(io.StringIO(text)))


def _report(tmp: Path, *extra, corpus=(HOBBIES,)) -> str:
    a, _ = _models(tmp)
    out = tmp / "r.html"
    ok(["report", "-m", a, *corpus, "-o", out, "-q", *extra])
    return out.read_text(encoding="utf-8")


def _report_data(page: str) -> dict:
    start = page.index('id="tn-data">') + len('id="tn-data">')
    return json.loads(page[start : page.index("</script>", start)])


def _invoke_explore(command: str, tmp: Path, corpus, *extra):
    model = _reference_model(tmp)
    if command == "docs":
        return run(["docs", "-m", model, corpus, "--format", "csv", "-q", "--top", 1000, *extra])
    out = tmp / "corpus-report.html"
    result = run(["report", "-m", model, corpus, "-o", out, "-q", "--docs", 1000, *extra])
    if result.exit_code == 0:
        result.stdout_bytes = out.read_bytes()  # what the page holds is what it read
    return result


_plain_invoke = _invoke


def _invoke(command, tmp, corpus, *extra):  # noqa: F811 - extends the runner above
    if command in ("docs", "report"):
        return _invoke_explore(command, tmp, corpus, *extra)
    return _plain_invoke(command, tmp, corpus, *extra)


for _command in ("docs", "report"):
    for _option in CORPUS_OPTIONS:
        CHECKS[(_command, _option)] = lambda tmp, fit, c=_command, o=_option: _corpus_check(
            o, c, tmp
        )


@check("docs", "model")
@check("report", "model")
def _(tmp, fit):
    a, b = _models(tmp)
    assert (
        ok(["docs", "-m", a, HOBBIES, "--format", "csv"]).stdout
        != ok(["docs", "-m", b, HOBBIES, "--format", "csv"]).stdout
    )
    ok(["report", "-m", a, "-o", tmp / "a.html", "-q"])
    ok(["report", "-m", b, "-o", tmp / "b.html", "-q"])
    assert len(_report_data((tmp / "a.html").read_text())["topics"]) == 4
    assert len(_report_data((tmp / "b.html").read_text())["topics"]) == 3


@check("docs", "top")
def _(tmp, fit):
    assert len(_docs_rows(_docs(tmp, "--top", 2))) == 4 * 2
    assert len(_docs_rows(_docs(tmp))) == 4 * 5


@check("docs", "topic_ids")
def _(tmp, fit):
    rows = _docs_rows(_docs(tmp, "--topic", 3, "--topic", 1))
    assert [r["topic"] for r in rows] == ["3"] * 5 + ["1"] * 5


@check("docs", "min_weight")
def _(tmp, fit):
    every = _docs_rows(_docs(tmp, "--top", 72))
    high = _docs_rows(_docs(tmp, "--top", 72, "--min-weight", 0.9))
    assert all(float(r["weight"]) >= 0.9 for r in high) and len(high) < len(every)


@check("docs", "exclusive")
def _(tmp, fit):
    every = _docs_rows(_docs(tmp, "--top", 72))
    only = _docs_rows(_docs(tmp, "--top", 72, "--exclusive"))
    assert len(only) < len(every)
    assert len({r["id"] for r in only}) == len(only)  # each document under one topic


@check("docs", "snippet_chars")
def _(tmp, fit):
    assert all(len(r["snippet"]) <= 20 for r in _docs_rows(_docs(tmp, "--snippet-chars", 20)))
    assert all(r["snippet"] == "" for r in _docs_rows(_docs(tmp, "--snippet-chars", 0)))
    assert any(len(r["snippet"]) > 100 for r in _docs_rows(_docs(tmp)))


@check("docs", "full_text")
def _(tmp, fit):
    rows = _docs_rows(_docs(tmp, "--full-text"))
    text = (HOBBIES / f"{rows[0]['id']}").read_text()
    assert rows[0]["text"] == text and "text" not in _docs_rows(_docs(tmp))[0]


@check("docs", "output", "fmt")
def _(tmp, fit):
    a, _ = _models(tmp)
    ok(["docs", "-m", a, HOBBIES, "-o", tmp / "d.json", "-q"])
    data = json.loads((tmp / "d.json").read_text())
    assert data[0]["rank"] == 1 and "snippet" in data[0]
    lines = ok(["docs", "-m", a, HOBBIES, "--format", "jsonl", "-q"]).stdout.splitlines()
    assert [json.loads(x) for x in lines] == data


@check("docs", "batch_size")
@check("report", "batch_size")
def _(tmp, fit, monkeypatch=None):
    from topicnmf.corpus import Corpus

    sizes: list[int] = []
    real = Corpus.iter_batches

    def spy(self, size):
        sizes.append(size)
        return real(self, size)

    monkeypatch.setattr(Corpus, "iter_batches", spy)
    small, big = _docs(tmp, "--batch-size", 7), _docs(tmp)
    _report(tmp, "--batch-size", 5)
    assert sizes == [7, 4096, 5] and small == big


@check("docs", "jobs")
@check("report", "jobs")
def _(tmp, fit, monkeypatch=None):
    from topicnmf.model import TopicModel

    seen: list = []
    real = TopicModel.transform

    def spy(self, texts, n_threads=None):
        seen.append(n_threads)
        return real(self, texts, n_threads=n_threads)

    monkeypatch.setattr(TopicModel, "transform", spy)
    _docs(tmp, "--jobs", 1)
    _report(tmp, "--jobs", 2)
    assert set(seen) == {1, 2}


@check("docs", "quiet")
@check("report", "quiet")
@check("label", "quiet")
def _(tmp, fit):
    a, _ = _models(tmp)
    assert ok(["docs", "-m", a, HOBBIES, "--format", "csv"]).stderr
    assert not ok(["docs", "-m", a, HOBBIES, "--format", "csv", "-q"]).stderr
    assert ok(["report", "-m", a, "-o", tmp / "q.html"]).stderr
    assert not ok(["report", "-m", a, "-o", tmp / "q.html", "-q"]).stderr
    assert ok(["label", "-m", a, "0=x", "-o", tmp / "l.npz"]).stderr
    assert not ok(["label", "-m", a, "0=x", "-o", tmp / "l.npz", "-q"]).stderr


@check("label", "model", "output")
def _(tmp, fit):
    a, _ = _models(tmp)
    before = a.read_bytes()
    ok(["label", "-m", a, "1=Sport", "-o", tmp / "new.npz", "-q"])
    assert a.read_bytes() == before  # -o leaves the model as it was
    labels = json.loads(ok(["info", tmp / "new.npz", "--format", "json"]).stdout)["labels"]
    assert labels[1] == "Sport"


@check("label", "clear")
def _(tmp, fit):
    a, _ = _models(tmp)
    new = tmp / "c.npz"
    ok(["label", "-m", a, "0=Garden", "2=Food", "-o", new, "-q"])
    ok(["label", "-m", new, "--clear", "1=Sport", "-q"])
    labels = json.loads(ok(["info", new, "--format", "json"]).stdout)["labels"]
    assert labels[1] == "Sport" and "Garden" not in labels and "Food" not in labels


@check("label", "fmt")
def _(tmp, fit):
    a, _ = _models(tmp)
    data = json.loads(ok(["label", "-m", a, "--format", "json"]).stdout)
    assert [r["topic"] for r in data] == [0, 1, 2, 3]
    assert ok(["label", "-m", a, "--format", "csv"]).stdout.startswith("topic,label,auto_label")


@check("report", "output")
def _(tmp, fit):
    a, _ = _models(tmp)
    ok(["report", "-m", a, "-o", tmp / "x.html", "-q"])
    assert (tmp / "x.html").read_text().startswith("<!DOCTYPE html>")
    assert ok(["report", "-m", a, "-o", "-", "-q"]).stdout == (tmp / "x.html").read_text()


@check("report", "n_docs")
def _(tmp, fit):
    three = _report_data(_report(tmp, "--docs", 3))["sections"]["detail"]["topics"]
    none = _report_data(_report(tmp, "--docs", 0))["sections"]["detail"]["topics"]
    assert all(len(t["docs"]) == 3 for t in three) and all(t["docs"] is None for t in none)


@check("report", "no_text")
def _(tmp, fit):
    page, bare = _report(tmp), _report(tmp, "--no-text")
    text = (HOBBIES / "doc_011.txt").read_text()[:40]
    assert text in page and text not in bare
    docs = _report_data(bare)["sections"]["detail"]["topics"][0]["docs"]
    assert docs and all(d["snippet"] == "" and d["id"] for d in docs)


@check("report", "select_k_path")
def _(tmp, fit):
    ok(["select-k", HOBBIES, "--k", "2,3,4", "--runs", 0, "-o", tmp / "k.json", "-q"])
    page = _report(tmp, "--select-k", tmp / "k.json")
    best = json.loads((tmp / "k.json").read_text())["recommended_k"]
    assert 'id="select-k"' in page and f"k = {best}" in page
    assert 'id="select-k"' not in _report(tmp)


# -- token rules: recorded in the model and changing the vocabulary ---------------------------


def _rules_fit(tmp: Path, fit: Fit, *extra) -> tuple[dict, str]:
    from tests.test_rules import rules_corpus

    return fit(*extra, corpus=rules_corpus(tmp), k=2)


@check("fit", "keep_numbers")
def _(tmp, fit):
    base, _ = _rules_fit(tmp, fit)
    info, _ = _rules_fit(tmp, fit, "--keep-numbers")
    assert (base["vectorizer"]["keep_numbers"], info["vectorizer"]["keep_numbers"]) == (False, True)
    assert info["vectorizer_fit"]["removed_tokens"]["numbers"] == 0
    assert info["terms"] > base["terms"]  # 1981, 1999, 2010


@check("fit", "keep_addresses")
def _(tmp, fit):
    base, _ = _rules_fit(tmp, fit)
    info, topics = _rules_fit(tmp, fit, "--keep-addresses")
    assert (base["vectorizer"]["keep_addresses"], info["vectorizer"]["keep_addresses"]) == (
        False, True
    )  # fmt: skip
    assert base["vectorizer_fit"]["removed_tokens"]["addresses"] > 0
    assert info["vectorizer_fit"]["removed_tokens"]["addresses"] == 0
    assert info["terms"] > base["terms"]  # chef, kitchen, example


@check("fit", "max_line_df", "keep_boilerplate")
def _boilerplate(tmp, fit, name=None):
    base, _ = _rules_fit(tmp, fit)
    args, value = {"max_line_df": (["--max-line-df", "20"], 20),
                   "keep_boilerplate": (["--keep-boilerplate"], None)}[name]  # fmt: skip
    info, topics = _rules_fit(tmp, fit, *args)
    assert len(base["vectorizer_fit"]["boilerplate_lines"]) == 2
    assert info["vectorizer"]["max_line_df"] == value
    assert info["vectorizer_fit"]["boilerplate_lines"] == []
    assert info["terms"] > base["terms"]  # the signature's words


@check("fit", "phrases", "phrase_min_count", "phrase_threshold")
def _phrases(tmp, fit, name=None):
    plain, _ = _rules_fit(tmp, fit)
    base, topics = _rules_fit(tmp, fit, "--phrases")
    assert plain["vectorizer"]["phrases"] is False and plain["vectorizer_fit"]["phrases"] == []
    assert base["vectorizer"]["phrases"] is True and "space_shuttle" in topics
    if name == "phrases":
        return
    args, key, value = {
        "phrase_min_count": (["--phrase-min-count", "1000"], "phrase_min_count", 1000),
        "phrase_threshold": (["--phrase-threshold", "0.99"], "phrase_threshold", 0.99),
    }[name]
    info, _ = _rules_fit(tmp, fit, "--phrases", *args)
    assert info["vectorizer"][key] == value
    assert set(info["vectorizer_fit"]["phrases"]) < set(base["vectorizer_fit"]["phrases"])


@check("fit", "language", "tokenizer")
def _language(tmp, fit, name=None):
    from tests.test_rules import CHINESE
    from topicnmf.config import stop_words_for

    chinese = tmp / "zh"
    chinese.mkdir()
    for i, text in enumerate(CHINESE * 2):
        (chinese / f"{i}.txt").write_text(text + "\n", encoding="utf-8")
    # read as words, no sentence is in two documents: nothing is left
    assert run(["fit", chinese, "-k", 2, "-m", tmp / "x.npz", "-q", "--max-df", 1.0,
                "--min-df", 3]).exit_code == 1  # fmt: skip
    args = ["--tokenizer", "char-bigram"] if name == "tokenizer" else ["--language", "chinese"]
    info, topics = fit(*args, "--max-df", 1.0, "--min-df", 3, corpus=chinese, k=2)
    assert info["vectorizer"]["tokenizer"] == "char-bigram" and "学习" in topics
    if name == "language":
        base, _ = _rules_fit(tmp, fit)
        french, _ = _rules_fit(tmp, fit, "--language", "french")
        assert french["vectorizer"]["stop_words"] == list(stop_words_for("french"))
        assert french["terms"] > base["terms"]  # English stop words are words in French


@check("fit", "sklearn_compatible")
def _(tmp, fit):
    from topicnmf.config import DEFAULT_TOKEN_PATTERN

    base, _ = _rules_fit(tmp, fit)
    info, topics = _rules_fit(tmp, fit, "--sklearn-compatible")
    rules = info["vectorizer"]
    assert (rules["token_pattern"], rules["keep_numbers"], rules["max_line_df"]) == (
        DEFAULT_TOKEN_PATTERN, True, None
    )  # fmt: skip
    assert base["vectorizer"]["token_pattern"] is None and info["terms"] != base["terms"]


_RULE_FIELDS = {
    "language": (["--language", "french"], "stop_words", None),
    "tokenizer": (["--tokenizer", "char-bigram"], "tokenizer", "char-bigram"),
    "keep_numbers": (["--keep-numbers"], "keep_numbers", True),
    "keep_addresses": (["--keep-addresses"], "keep_addresses", True),
    "max_line_df": (["--max-line-df", "3"], "max_line_df", 3),
    "keep_boilerplate": (["--keep-boilerplate"], "max_line_df", None),
    "phrases": (["--phrases"], "phrases", True),
    "phrase_min_count": (["--phrases", "--phrase-min-count", "2"], "phrase_min_count", 2),
    "phrase_threshold": (["--phrases", "--phrase-threshold", "0.25"], "phrase_threshold", 0.25),
    "sklearn_compatible": (["--sklearn-compatible"], "adjacent_ngrams", False),
}


def _rule_reaches(monkeypatch, module: str, name: str, command: list) -> None:
    """Run ``command`` with and without the option of rule ``name``, spying on the
    Vectorizer that ``module`` builds: the first must get the rule, the second not."""
    from topicnmf.config import stop_words_for

    configs = _spy_vectorizers(monkeypatch, module)
    args, field, expected = _RULE_FIELDS[name]
    if name == "language":
        expected = stop_words_for("french")
    ok([*command, *args])
    ok(command)
    assert getattr(configs[0], field) == expected, (name, getattr(configs[0], field))
    assert getattr(configs[1], field) != expected, name


def _select_k_rule(tmp: Path, monkeypatch, name: str) -> None:
    command = ["select-k", HOBBIES, "--k", "2", "--runs", 0, "-q", "--format", "csv"]
    _rule_reaches(monkeypatch, "topicnmf.vectorize", name, command)


for _name in _RULE_FIELDS:
    CHECKS[("select-k", _name)] = lambda tmp, fit, monkeypatch=None, n=_name: _select_k_rule(
        tmp, monkeypatch, n
    )
# -- trends, groups, evaluate --label-column (their checks live with their tests) -----------

CHECKS.update(context_checks())
CHECKS.update(report_context_checks())


# -- tree: its own options, and the corpus and vectorizer settings of fit -------------------


def _tree(tmp: Path, *extra, corpus=HOBBIES, k=3) -> tuple[dict, str]:
    """A tree of the hobbies corpus written as a model: (info JSON, tree JSON)."""
    model = tmp / f"tree{len(list(tmp.glob('tree*.npz')))}.npz"
    out = ok(["tree", corpus, "-k", k, "-m", model, "-q", "--format", "json", *extra]).stdout
    info = json.loads(ok(["info", model, "--format", "json"]).stdout)
    return info, out


for _option in CORPUS_OPTIONS:
    CHECKS[("tree", _option)] = lambda tmp, fit, o=_option: _corpus_check(o, "tree", tmp)


@check("tree", "k", "model")
def _(tmp, fit):
    info, out = _tree(tmp, k=4)
    assert info["topics"] == 4 and len(json.loads(out)["children"]) == 2
    assert _tree(tmp, k=2)[0]["topics"] == 2


@check("tree", "output", "fmt")
def _(tmp, fit):
    ok(["tree", HOBBIES, "-k", 2, "-o", tmp / "t.json", "-q"])
    assert json.loads((tmp / "t.json").read_text())["node"] == 0
    tsv = ok(["tree", HOBBIES, "-k", 2, "--format", "tsv", "-q"]).stdout
    assert tsv.startswith("node\tparent\tdepth")


@check("tree", "top")
def _(tmp, fit):
    out = json.loads(ok(["tree", HOBBIES, "-k", 2, "--format", "json", "-n", 3, "-q"]).stdout)
    assert len(out["terms"]) == 3 and len(out["children"][0]["terms"]) == 3


@check("tree", "max_depth")
def _(tmp, fit):
    rows = ok(["tree", HOBBIES, "-k", 4, "--format", "csv", "-q"]).stdout.splitlines()[1:]
    cut = ok(["tree", HOBBIES, "-k", 4, "--format", "csv", "-q", "--depth", 1]).stdout
    assert len(rows) == 7 and len(cut.splitlines()) == 1 + 3
    root = json.loads(ok(["tree", HOBBIES, "-k", 4, "--format", "json", "--depth", 0]).stdout)
    assert root["children"] == []


@check("tree", "with_docs")
def _(tmp, fit):
    plain = json.loads(ok(["tree", HOBBIES, "-k", 2, "--format", "json", "-q"]).stdout)
    docs = json.loads(ok(["tree", HOBBIES, "-k", 2, "--format", "json", "--docs", "-q"]).stdout)
    assert "documents" not in plain and len(docs["documents"]) == 72


@check("tree", "seed")
def _(tmp, fit, monkeypatch=None):
    seen = _spy(monkeypatch, "topicnmf.tree", "rank2_nmf", "seed")
    a = _tree(tmp, "--seed", "5")
    assert seen and set(seen) == {5}
    assert a[0]["nmf"]["seed"] == 5
    # on a corpus with loose structure the random start changes the splits
    outs = {_tree(tmp, "--seed", s, corpus=NEWS, k=3)[1] for s in ("0", "1", "2", "3")}
    assert len(outs) > 1


@check("tree", "quiet")
def _(tmp, fit):
    loud = ok(["tree", HOBBIES, "-k", 2, "--format", "csv"])
    quiet = ok(["tree", HOBBIES, "-k", 2, "--format", "csv", "-q"])
    assert loud.stderr and not quiet.stderr and loud.stdout == quiet.stdout


def _tree_vectorizer(tmp: Path, name: str) -> None:
    args, key, value = {
        **_VECTORIZER,
        "lowercase": (["--no-lowercase"], "lowercase", False),
        "stop_words": (["--stop-words", "none"], "stop_words", []),
        "sublinear_tf": (["--sublinear-tf"], "sublinear_tf", True),
        "norm": (["--norm", "l1"], "norm", "l1"),
        "no_idf": (["--no-idf"], "use_idf", False),
    }[name]
    base, base_out = _tree(tmp)
    info, out = _tree(tmp, *args)
    assert info["vectorizer"][key] == value, (name, info["vectorizer"][key])
    assert out != base_out, name


for _option in (*_VECTORIZER, "lowercase", "stop_words", "sublinear_tf", "norm", "no_idf"):
    CHECKS[("tree", _option)] = lambda tmp, fit, o=_option: _tree_vectorizer(tmp, o)


# -- --backend and its Dask settings (fit, assign, select-k, evaluate) --------------------------


class _FakeClient:
    def scatter(self, data, **kw):
        return data


def _backend_check(command: str, name: str, tmp: Path, monkeypatch) -> None:
    """The settings must reach the Dask backend; a fake backend runs the local code."""
    import contextlib

    from topicnmf import model as M
    from topicnmf.backends import dask_backend

    configs: list = []
    partitions: list = []

    @contextlib.contextmanager
    def connect(config):
        configs.append(config)
        yield _FakeClient()

    def fit(documents, vec, nmf, client, *, partitions=None, **kw):
        partitions_seen(partitions)
        return M.fit(documents, vec, nmf, **kw)

    def weigh_texts(client, model, texts, *, partitions=None):
        import numpy as np

        partitions_seen(partitions)
        V = model.vectorizer.transform(texts)
        return model.transform_matrix(V), np.diff(V.indptr) == 0

    def vectorize(client, texts, config=None, *, vectorizer=None, partitions=None):
        from topicnmf.vectorize import Vectorizer

        partitions_seen(partitions)
        if vectorizer is None:
            vectorizer = Vectorizer(config)
            return vectorizer, vectorizer.fit_transform(texts)
        return vectorizer, vectorizer.transform(texts)

    def run_tasks(client, fn, shared, tasks):
        partitions_seen("tasks")
        return (fn(shared, *task) for task in tasks)

    partitions_seen = partitions.append
    monkeypatch.setattr(dask_backend, "vectorize", vectorize)
    monkeypatch.setattr(dask_backend, "run_tasks", run_tasks)
    monkeypatch.setattr(dask_backend, "require", lambda: None)
    monkeypatch.setattr(dask_backend, "connect", connect)
    monkeypatch.setattr(dask_backend, "fit", fit)
    monkeypatch.setattr(dask_backend, "weigh_texts", weigh_texts)
    if command == "fit":
        base = ["fit", HOBBIES, "-k", 2, "-m", tmp / "d.npz", "-q", "--format", "csv"]
    elif command == "select-k":
        base = ["select-k", HOBBIES, "--k", "2", "--runs", 1, "-q", "--format", "csv"]
    else:
        base = [command, "-m", _models(tmp)[0], HOBBIES, "-q", "--format", "csv"]
    if name == "backend":
        local = ok(base).stdout
        assert not configs
        assert ok([*base, "--backend", "dask"]).stdout == local
        assert [c.kind for c in configs] == ["dask"]
        # select-k also fits on the cluster
        assert partitions == ([None, "tasks"] if command == "select-k" else [None])
        return
    value = {"workers": 3, "scheduler": "tcp://example.invalid:8786", "partitions": 2}[name]
    ok([*base, "--backend", "dask", f"--{name}", value])
    assert getattr(configs[-1], name) == value
    if name == "partitions":
        assert 2 in partitions
    # without --backend dask the setting is a usage error, not silently ignored
    assert run([*base, f"--{name}", value]).exit_code == 2


for _command in ("fit", "assign", "select-k", "evaluate", "docs"):
    for _name in ("backend", "workers", "scheduler", "partitions"):
        CHECKS[(_command, _name)] = lambda tmp, fit, monkeypatch=None, c=_command, n=_name: (
            _backend_check(c, n, tmp, monkeypatch)
        )

# -- the meta-test and the runner ----------------------------------------------------------


# -- guided topics -------------------------------------------------------------------------


def _seed_file(tmp: Path) -> Path:
    path = tmp / "seeds.txt"
    path.write_text("# hobbies\nGarden: soil, compost\nSky: telescope, galaxy\n")
    return path


@check("fit", "seed_topics")
def _(tmp, fit):
    _, base = fit()
    _, seeded = fit("--seed-topics", _seed_file(tmp))
    labels = [line.split(",")[1] for line in seeded.splitlines()[1:]]
    assert labels[0] == "Garden" and "Sky" in labels
    assert "Garden" not in base


@check("fit", "seed_strength")
def _(tmp, fit):
    seeds = _seed_file(tmp)
    a, _ = fit("--seed-topics", seeds, "--seed-strength", "0")
    b, _ = fit("--seed-topics", seeds, "--seed-strength", "1")
    assert a["fit"]["loss"] != b["fit"]["loss"]


def _tree_rule(tmp: Path, monkeypatch, name: str) -> None:
    # fit_tree vectorizes through model.py's import
    command = ["tree", HOBBIES, "-k", 2, "-q", "--format", "csv"]
    _rule_reaches(monkeypatch, "topicnmf.model", name, command)


for _name in _RULE_FIELDS:
    CHECKS[("tree", _name)] = lambda tmp, fit, monkeypatch=None, n=_name: _tree_rule(
        tmp, monkeypatch, n
    )
# -- streaming: fit --stream and update --------------------------------------------------------


def _planted_lines(path: Path, n: int = 240, seed: int = 0) -> Path:
    """Documents of three planted themes, one a line."""
    import random

    rng = random.Random(seed)
    themes = [
        "apples pears plums cherries melons grapes".split(),
        "rockets moons orbits comets planets stars".split(),
        "engines wheels brakes tires gears clutch".split(),
    ]
    lines = [" ".join(rng.choices(themes[i % 3], k=12)) for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


@check("fit", "stream")
def _(tmp, fit, monkeypatch=None):
    seen = _spy(monkeypatch, "topicnmf.stream", "fit_stream", "passes")
    corpus = _planted_lines(tmp / "p.txt")
    in_memory = fit("--min-df", 1, corpus=corpus)[0]
    streamed = fit("--min-df", 1, "--stream", corpus=corpus)[0]
    assert seen == [3]
    assert in_memory["fit"] != streamed["fit"]


@check("fit", "passes")
@check("fit", "batch_size")
@check("fit", "max_vocab_memory")
def _stream_setting(tmp, fit, monkeypatch=None, name=None):
    key = {"max_vocab_memory": "max_vocab_bytes"}.get(name, name)
    seen = _spy(monkeypatch, "topicnmf.stream", "fit_stream", key)
    corpus = _planted_lines(tmp / "p.txt")
    value = {"passes": "2", "batch_size": "50", "max_vocab_memory": "2M"}[name]
    option = "--" + name.replace("_", "-")
    fit("--min-df", 1, "--stream", corpus=corpus)
    fit("--min-df", 1, "--stream", option, value, corpus=corpus)
    expected = {"passes": 2, "batch_size": 50, "max_vocab_memory": 2 << 20}[name]
    assert seen[1] == expected and seen[0] != expected, seen


def _update(tmp: Path, *extra) -> tuple[Path, Path]:
    corpus = _planted_lines(tmp / "p.txt")
    parent = tmp / "parent.npz"
    if not parent.exists():
        ok(["fit", corpus, "-k", 3, "-m", parent, "--min-df", 1, "-q"])
    new = _planted_lines(tmp / "new.txt", 90, seed=1)
    out = tmp / f"u{len(list(tmp.glob('u*.npz')))}.npz"
    ok(["update", "-m", parent, new, "-o", out, "-q", *extra])
    return parent, out


@check("update", "model")
@check("update", "output")
def _(tmp, fit, name=None):
    parent, out = _update(tmp)
    assert out.exists()
    from topicnmf.model import TopicModel

    assert TopicModel.load(out).lineage["parent"] == TopicModel.load(parent).fingerprint


@check("update", "vocabulary")
def _(tmp, fit):
    import re

    corpus = _planted_lines(tmp / "p.txt")
    parent = tmp / "parent.npz"
    ok(["fit", corpus, "-k", 3, "-m", parent, "--min-df", 1, "-q"])
    new = tmp / "new.txt"
    # new words beside a topic's words: a theme of new words alone could not enter any
    # of the 3 topics (its documents' weights start at 0 and stay there)
    new.write_text("violins cellos violas apples pears plums\n" * 5 + corpus.read_text())
    for mode, terms in (("fixed", 18), ("grow", 21)):
        ok(["update", "-m", parent, new, "-o", tmp / f"{mode}.npz", "--vocabulary", mode, "-q"])
        info = json.loads(ok(["info", tmp / f"{mode}.npz", "--format", "json"]).stdout)
        assert info["terms"] == terms, (mode, info["terms"])
    assert re.search("violins", ok(["topics", tmp / "grow.npz", "--top", 50,
                                     "--format", "csv"]).stdout)  # fmt: skip


@check("update", "passes")
@check("update", "batch_size")
@check("update", "max_vocab_memory")
def _update_setting(tmp, fit, monkeypatch=None, name=None):
    key = {"max_vocab_memory": "max_vocab_bytes"}.get(name, name)
    seen = _spy(monkeypatch, "topicnmf.stream", "update", key)
    value = {"passes": "2", "batch_size": "50", "max_vocab_memory": "2M"}[name]
    _update(tmp)
    _update(tmp, "--" + name.replace("_", "-"), value)
    expected = {"passes": 2, "batch_size": 50, "max_vocab_memory": 2 << 20}[name]
    assert seen[1] == expected and seen[0] != expected, seen


@check("update", "quiet")
def _(tmp, fit):
    corpus = _planted_lines(tmp / "p.txt")
    parent = tmp / "parent.npz"
    ok(["fit", corpus, "-k", 3, "-m", parent, "--min-df", 1, "-q"])
    args = ["update", "-m", parent, corpus, "-o", tmp / "u.npz"]
    assert ok(args).stderr and not ok([*args, "-q"]).stderr


# -- the checks run: after every module-level registration above, which the parametrize
# -- below reads when it is defined


def _options(command) -> list[str]:
    return [
        p.name for p in command.params if p.param_type_name == "option" and p.name not in ("help",)
    ]


def test_every_option_of_every_command_has_a_reach_check():
    missing = [
        f"{name} {option}"
        for name, command in sorted(cli.commands.items())
        for option in _options(command)
        if (name, option) not in CHECKS
    ]
    assert not missing, "options without a test that they reach the library: " + ", ".join(missing)


@pytest.mark.parametrize("key", sorted(CHECKS), ids=lambda k: f"{k[0]}--{k[1]}")
def test_option_reaches_the_library(key, tmp_path, monkeypatch):
    fn = CHECKS[key]
    params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    kwargs: dict = {}
    if "name" in params:
        kwargs["name"] = key[1]
    if "monkeypatch" in params:
        kwargs["monkeypatch"] = monkeypatch
    fn(tmp_path, Fit(tmp_path), **kwargs)
