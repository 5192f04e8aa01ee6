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
from click.testing import CliRunner

from tests.conftest import SAMPLES
from topicnmf.cli import cli

HOBBIES = SAMPLES / "hobbies"
NEWS = SAMPLES / "news.csv"


def run(args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], **kw)


def ok(args, **kw):
    result = run(args, **kw)
    assert result.exit_code == 0, (args, result.exit_code, result.stderr, result.exception)
    return result


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

CORPUS_COMMANDS = ("fit", "assign", "evaluate", "select-k")


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
    else:
        args = ["select-k", corpus, "--k", "2", "--runs", 0, "--min-df", 1, "--format", "csv",
                "--top", 2]  # fmt: skip
    return run([*args, *extra])


def _read(command: str, tmp: Path, corpus, *extra) -> str:
    result = _invoke(command, tmp, corpus, *extra)
    assert result.exit_code == 0, (command, extra, result.stderr, result.exception)
    if command == "fit":
        return (tmp / "w.csv").read_text() + result.stdout
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
        if command in ("evaluate", "select-k"):
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
    assert one == ok(["assign", "-m", a, HOBBIES, "--format", "csv"]).stdout  # same result


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
    vectorizers: list = []
    import topicnmf.vectorize as vec_mod

    real_vec = vec_mod.Vectorizer

    class SpyVectorizer(real_vec):  # type: ignore[misc, valid-type]
        def __init__(self, config, *args, **kwargs):
            vectorizers.append(config)
            super().__init__(config, *args, **kwargs)

    monkeypatch.setattr(vec_mod, "Vectorizer", SpyVectorizer)
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


for _command in ("fit", "assign", "select-k", "evaluate"):
    for _name in ("backend", "workers", "scheduler", "partitions"):
        CHECKS[(_command, _name)] = lambda tmp, fit, monkeypatch=None, c=_command, n=_name: (
            _backend_check(c, n, tmp, monkeypatch)
        )

# -- the meta-test and the runner ----------------------------------------------------------


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
