"""Topics in context: trends over time, groups, agreement with known labels.

The corpus is planted: two topics (space, cooking) over twelve months, cooking growing from
10% to 90% of the documents and space fading; most cooking documents come from the source
"kitchen" and most space documents from "agency"; late cooking documents add a new word.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import ok, requires_newsgroups, run

SPACE = "rocket orbit planet launch astronaut satellite telescope galaxy moon mission".split()
FOOD = "recipe oven flour butter garlic simmer bake dough pepper onion".split()


def planted_rows(per_month: int = 40, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for month in range(12):
        p_food = 0.1 + 0.8 * month / 11
        for j in range(per_month):
            food = rng.random() < p_food
            words = [rng.choice(FOOD if food else SPACE) for _ in range(12)]
            if food and month >= 9:
                words += ["sourdough"] * 3
            source = ("kitchen" if food else "agency") if rng.random() < 0.85 else "mixed"
            rows.append({
                "id": f"d{len(rows) + 1}",
                "date": f"2021-{month + 1:02d}-{j % 28 + 1:02d}",
                "stamp": f"{j % 28 + 1:02d}/{month + 1:02d}/2021",
                "year": str(2010 + month),
                "source": source,
                "kind": "food" if food else "space",
                "text": " ".join(words),
            })  # fmt: skip
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> tuple[Path, Path]:
    """(the dated CSV, a 2-topic model of it)."""
    from topicnmf import NMFConfig, VectorizerConfig, fit, load_corpus

    tmp = tmp_path_factory.mktemp("planted")
    data = write_csv(tmp / "dated.csv", planted_rows())
    model = tmp / "m.npz"
    fit(load_corpus([data]), VectorizerConfig(), NMFConfig(n_components=2)).model.save(model)
    return data, model


def food_topic(records: list[dict]) -> int:
    """The topic whose label has a cooking word."""
    labels = {r["topic"]: r["label"] for r in records}
    (topic,) = [t for t, label in labels.items() if any(w in label for w in FOOD)]
    return topic


def trends(model: Path, data: Path, *extra) -> list[dict]:
    out = ok(["trends", "-m", model, data, "--time-column", "date", "--format", "json", "-q",
              *extra])  # fmt: skip
    return json.loads(out.stdout)


# -- trends ---------------------------------------------------------------------------------


def test_trends_shows_the_planted_growth_with_intervals_that_exclude_no_change(planted):
    data, model = planted
    records = trends(model, data)
    assert len(records) == 2 * 12
    food = food_topic(records)
    rows = {t: [r for r in records if r["topic"] == t] for t in (0, 1)}
    grow, fade = rows[food], rows[1 - food]
    assert [r["bin_start"] for r in grow] == [f"2021-{m:02d}-01" for m in range(1, 13)]
    assert grow[-1]["bin_end"] == "2022-01-01"
    assert all(r["n_docs"] == 40 for r in grow)
    # growth: the last month's interval lies wholly above the first month's
    assert grow[0]["share_hi"] < grow[-1]["share_lo"]
    assert fade[0]["share_lo"] > fade[-1]["share_hi"]
    for r in grow:
        assert r["share_lo"] <= r["share"] <= r["share_hi"]
    # shares of a bin sum to 1; dominant counts add up to the bin's documents
    for g, f in zip(grow, fade, strict=True):
        assert g["share"] + f["share"] == pytest.approx(1.0)
        assert g["n_dominant"] + f["n_dominant"] == 40
    assert grow[-1]["n_dominant"] > 30 and grow[0]["n_dominant"] < 10


def test_trends_is_deterministic_and_the_seed_moves_the_intervals(planted):
    data, model = planted
    a, b = trends(model, data), trends(model, data)
    c = trends(model, data, "--seed", 5)
    assert a == b
    assert [r["share"] for r in a] == [r["share"] for r in c]
    assert [r["share_lo"] for r in a] != [r["share_lo"] for r in c]
    none = trends(model, data, "--bootstrap", 0)
    assert all(r["share_lo"] is None and r["share_hi"] is None for r in none)


def test_trends_keeps_empty_bins(tmp_path, planted):
    _, model = planted
    rows = [r for r in planted_rows() if r["date"][5:7] not in ("05", "06")]
    data = write_csv(tmp_path / "gap.csv", rows)
    records = trends(model, data)
    may = [r for r in records if r["bin_start"] == "2021-05-01"]
    assert len(records) == 24 and len(may) == 2
    assert all(r["n_docs"] == 0 and r["share"] is None and r["n_dominant"] == 0 for r in may)


def test_trends_bins(planted):
    data, model = planted
    quarters = trends(model, data, "--bins", "quarter")
    assert len(quarters) == 8 and {r["n_docs"] for r in quarters} == {120}
    assert [r["bin_start"] for r in quarters[:4]] == ["2021-01-01", "2021-04-01", "2021-07-01",
                                                      "2021-10-01"]  # fmt: skip
    three = trends(model, data, "--bins", "3")
    assert len(three) == 6 and sum(r["n_docs"] for r in three[:3]) == 480
    year = trends(model, data, "--bins", "year")
    assert len(year) == 2 and year[0]["n_docs"] == 480


def test_trends_terms_come_from_each_bin_only(planted):
    data, model = planted
    records = trends(model, data, "--terms")
    food = food_topic(records)
    grow = [r for r in records if r["topic"] == food]
    # "sourdough" is used from October on: never in an earlier bin's terms
    assert all("sourdough" not in r["top_terms"] for r in grow[:9])
    assert all("sourdough" in r["top_terms"] for r in grow[9:])
    plain = trends(model, data)
    assert "top_terms" not in plain[0]


def test_trends_table_has_a_sparkline_per_topic(planted):
    data, model = planted
    out = ok(["trends", "-m", model, data, "--time-column", "date", "--format", "table", "-q"],
             env={"COLUMNS": "200"}).stdout  # fmt: skip
    lines = [line for line in out.splitlines() if any(c in line for c in "▁▂▃▄▅▆▇█")]
    assert len(lines) == 2
    assert "12 bins from 2021-01-01 to 2022-01-01" in out


def test_trends_csv_columns(planted):
    data, model = planted
    out = ok(["trends", "-m", model, data, "--time-column", "date", "--format", "csv", "-q",
              "--terms"]).stdout  # fmt: skip
    assert out.splitlines()[0] == (
        "topic,label,bin_start,bin_end,n_docs,share,share_lo,share_hi,n_dominant,top_terms"
    )


def test_trends_reads_jsonl_years_and_time_formats(tmp_path, planted):
    _, model = planted
    rows = planted_rows()
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text(
        "".join(json.dumps({**r, "year": int(r["year"])}) + "\n" for r in rows), encoding="utf-8"
    )
    by_year = json.loads(ok(["trends", "-m", model, jsonl, "--time-column", "year", "--bins",
                             "year", "--format", "json", "-q"]).stdout)  # fmt: skip
    assert len(by_year) == 24 and by_year[0]["bin_start"] == "2010-01-01"
    data = write_csv(tmp_path / "d.csv", rows)
    base = ["trends", "-m", model, data, "--time-column", "stamp", "--format", "json"]
    without = run(base)
    assert without.exit_code == 1 and "no document has a usable date" in without.stderr
    assert "--time-format" in without.stderr
    with_format = json.loads(ok([*base, "--time-format", "%d/%m/%Y", "-q"]).stdout)
    assert with_format == trends(model, data)


# -- bad metadata -----------------------------------------------------------------------------


def test_bad_dates_are_counted_and_placed_never_dropped_silently(tmp_path, planted):
    _, model = planted
    rows = planted_rows()
    rows[3]["date"] = "not a date"
    rows[7]["date"] = ""
    data = write_csv(tmp_path / "bad.csv", rows)
    result = ok(["trends", "-m", model, data, "--time-column", "date", "--format", "json"])
    assert "2 of 480 documents have no usable date in column 'date'" in result.stderr
    assert "bad.csv line 5 ('not a date')" in result.stderr
    assert "bad.csv line 9 (empty)" in result.stderr
    records = json.loads(result.stdout)
    assert sum(r["n_docs"] for r in records if r["topic"] == 0) == 478


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--time-column", "when"], 1, "has no column 'when'; its columns are"),
        (["--time-column", "source"], 1, "no document has a usable date in column 'source'"),
        (["--time-column", "date", "--bins", "fortnight"], 2, "unknown time bins 'fortnight'"),
        (["--time-column", "date", "--bins", "0"], 2, "unknown time bins '0'"),
    ],
)
def test_bad_time_settings(planted, args, code, says):
    data, model = planted
    result = run(["trends", "-m", model, data, *args])
    assert result.exit_code == code, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    if code == 1:
        assert "--time-column" in result.stderr


def test_metadata_needs_columns(tmp_path, planted):
    _, model = planted
    lines = tmp_path / "plain.txt"
    lines.write_text("rocket orbit\nbake flour\n")
    result = run(["groups", "-m", model, lines, "--group-column", "source"])
    assert result.exit_code == 1
    assert "read as lines, which has no columns" in result.stderr
    assert "--input-format" in result.stderr


def test_missing_groups_are_reported(tmp_path, planted):
    _, model = planted
    rows = planted_rows()
    rows[0]["source"] = ""
    data = write_csv(tmp_path / "g.csv", rows)
    result = ok(["groups", "-m", model, data, "--group-column", "source", "--format", "csv"])
    assert "1 of 480 documents has no usable group in column 'source'" in result.stderr
    assert "g.csv line 2 (empty)" in result.stderr


# -- groups ---------------------------------------------------------------------------------


def groups(model: Path, data: Path, *extra) -> list[dict]:
    out = ok(["groups", "-m", model, data, "--group-column", "source", "--format", "json", "-q",
              *extra])  # fmt: skip
    return json.loads(out.stdout)


def test_groups_find_the_planted_association(planted):
    data, model = planted
    records = groups(model, data)
    food = food_topic(records)
    top2 = {(r["group"], r["topic"]) for r in records[:2]}
    assert top2 == {("kitchen", food), ("agency", 1 - food)}
    assert all(r["z"] > 5 and r["log_odds"] > 1 for r in records[:2])
    assert [r["z"] for r in records] == sorted((r["z"] for r in records), reverse=True)
    mixed = [r for r in records if r["group"] == "mixed"]
    assert all(abs(r["z"]) < abs(records[0]["z"]) for r in mixed)
    assert all(r["p_value"] is None for r in records)


def test_groups_permutations_and_min_docs(planted):
    data, model = planted
    perm = groups(model, data, "--permutations", 99)
    assert perm[0]["p_value"] == pytest.approx(0.01)
    assert perm == groups(model, data, "--permutations", 99)
    n_mixed = next(r["n_docs"] for r in perm if r["group"] == "mixed")
    hidden = groups(model, data, "--min-docs", n_mixed + 1)
    assert {r["group"] for r in hidden} == {"agency", "kitchen"}
    kept = {(r["group"], r["topic"]): r["z"] for r in groups(model, data)}
    # hiding a group does not change the others' figures (it still counts in their rest)
    assert all(kept[(r["group"], r["topic"])] == r["z"] for r in hidden)


# -- evaluate --label-column ------------------------------------------------------------------


def test_evaluate_label_agreement(tmp_path, planted):
    data, model = planted
    out = tmp_path / "contingency.csv"
    result = ok(["evaluate", model, data, "--label-column", "kind", "--format", "json",
                 "--contingency-out", out, "-q"])  # fmt: skip
    labels = json.loads(result.stdout)["labels"]
    assert labels["nmi"] > 0.9 and labels["ari"] > 0.9 and labels["purity"] > 0.97
    assert labels["n_scored"] + labels["n_undominated"] == labels["n_documents"] == 480
    assert "dominant topic only" in labels["counted"]
    lines = out.read_text().splitlines()
    assert lines[0] == "topic,food,space" and lines[-1].startswith("none,")
    cells = [list(map(int, line.split(",")[1:])) for line in lines[1:]]
    assert sum(map(sum, cells)) == 480
    plain = json.loads(ok(["evaluate", model, data, "--format", "json", "-q"]).stdout)
    assert "labels" not in plain
    csv_out = ok(["evaluate", model, data, "--label-column", "kind", "--format", "csv", "-q"])
    assert csv_out.stdout.splitlines()[0].endswith("nmi,ari,purity,n_scored,label_column")


def test_evaluate_counts_documents_without_a_dominant_topic_apart(tmp_path, planted):
    _, model = planted
    rows = planted_rows()[:40]
    rows[0]["text"] = "zzz unknown words only"
    data = write_csv(tmp_path / "few.csv", rows)
    labels = json.loads(ok(["evaluate", model, data, "--label-column", "kind", "--format",
                            "json", "-q"]).stdout)["labels"]  # fmt: skip
    assert labels["n_undominated"] == 1 and labels["n_scored"] == 39
    assert sum(labels["contingency"]["none"].values()) == 1


@pytest.mark.parametrize(
    "args",
    [["--label-column", "kind"], ["--contingency-out", "c.csv"]],
)
def test_evaluate_label_options_need_a_corpus(planted, args):
    _, model = planted
    result = run(["evaluate", model, *args])
    assert result.exit_code == 2 and "need" in result.stderr


def test_library_frames_are_dataframes():
    import pandas as pd

    from topicnmf.context import (
        TRENDS_COLUMNS,
        assign_bins,
        groups_frame,
        label_agreement,
        parse_times,
        trends_frame,
    )

    times, report = parse_times(pd.Series(["2020-01-02", "2020-03-04", None, "x"], dtype=object))
    assert report.n_missing == 1 and report.n_invalid == 1 and len(report.examples) == 2
    idx, edges = assign_bins(times.dropna().reset_index(drop=True), "month")
    assert list(idx) == [0, 2] and len(edges) == 3
    W = np.array([[1.0, 0.0], [0.0, 2.0]])
    frame = trends_frame(W, idx, edges, n_bootstrap=10)
    assert tuple(frame.columns) == TRENDS_COLUMNS and len(frame) == 6
    g = groups_frame(np.array([[1.0, 0], [1, 0], [0, 1], [0, 1]]), ["a", "a", "b", "b"])
    assert isinstance(g, pd.DataFrame) and g.iloc[0]["z"] > 0
    agreement = label_agreement(W, ["x", "y"])
    assert agreement["nmi"] == pytest.approx(1.0)


@requires_newsgroups
def test_20newsgroups_nmi_matches_the_readme(tmp_path, news_archive):
    """README: NMI 0.360 over the 10,991 train documents with a dominant topic (sklearn rules)."""
    from topicnmf import NMFConfig, VectorizerConfig, fit, load_corpus

    home = news_archive.parent
    model = tmp_path / "ng.npz"
    corpus = load_corpus(["20newsgroups:train"], data_home=home)
    fit(corpus, VectorizerConfig.sklearn_compatible(), NMFConfig(n_components=20)).model.save(model)
    out = ok(["evaluate", model, "20newsgroups:train", "--data-home", home, "--label-column",
              "newsgroup", "--format", "json", "-q"]).stdout  # fmt: skip
    labels = json.loads(out)["labels"]
    assert labels["n_scored"] == 10_991 and labels["n_undominated"] == 323
    assert round(labels["nmi"], 3) == 0.360


# -- option reach: each new option changes what the command does -------------------------------


def _two_models(tmp: Path) -> tuple[Path, Path, Path]:
    from topicnmf import NMFConfig, VectorizerConfig, fit, load_corpus

    data = tmp / "reach.csv"
    if not data.exists():
        write_csv(data, planted_rows(per_month=12))
        for k in (2, 3):
            out = fit(load_corpus([data]), VectorizerConfig(), NMFConfig(n_components=k))
            out.model.save(tmp / f"k{k}.npz")
    return data, tmp / "k2.npz", tmp / "k3.npz"


def _base(command: str, tmp: Path) -> list:
    data, model, _ = _two_models(tmp)
    column = {"trends": ["--time-column", "date"], "groups": ["--group-column", "source"],
              "evaluate": ["--label-column", "kind"]}[command]  # fmt: skip
    return [command, "-m", model, data, *column]


def _differs(command: str, tmp: Path, *extra) -> None:
    base = _base(command, tmp)
    a = ok([*base, "--format", "json", "-q"]).stdout
    b = ok([*base, "--format", "json", "-q", *extra]).stdout
    assert a != b, (command, extra)


def _corpus_option(command: str, name: str, tmp: Path, monkeypatch) -> None:
    """Each corpus option reaches load_corpus with the value the library expects."""
    import topicnmf.corpus as corpus_mod
    from topicnmf.errors import CorpusError

    seen: list[dict] = []

    def spy(sources, **kwargs):
        seen.append(kwargs)
        raise CorpusError("stop here")

    monkeypatch.setattr(corpus_mod, "load_corpus", spy)
    flag, value, key, expected = {
        "input_format": ("--input-format", "tsv", "format", "tsv"),
        "glob": ("--glob", "*.md", "glob", ("*.md",)),
        "exclude": ("--exclude", "old", "exclude", ("old",)),
        "text_column": ("--text-column", "body", "text_column", "body"),
        "id_column": ("--id-column", "id", "id_column", "id"),
        "encoding": ("--encoding", "latin-1", "encoding", "latin-1"),
        "encoding_errors": ("--encoding-errors", "strict", "encoding_errors", "strict"),
        "csv_lenient": ("--csv-lenient", None, "csv_lenient", True),
        "data_home": ("--data-home", str(tmp), "data_home", str(tmp)),
        "download": ("--download", None, "download", True),
        "categories": ("--categories", "sci.space", "categories", ["sci.space"]),
        "remove": ("--remove", "none", "remove", ()),
    }[name]
    args = [flag] if value is None else [flag, value]
    base = _base(command, tmp)
    run(base)
    run([*base, *args])
    assert len(seen) == 2 and seen[0][key] != expected and seen[1][key] == expected, seen


def _jobs(command: str, tmp: Path, monkeypatch) -> None:
    from topicnmf.model import TopicModel

    real = TopicModel.transform_matrix
    seen: list = []

    def spy(self, V, n_threads=None):
        seen.append(n_threads)
        return real(self, V, n_threads=n_threads)

    monkeypatch.setattr(TopicModel, "transform_matrix", spy)
    ok([*_base(command, tmp), "--jobs", 1, "-q", "--format", "csv"])
    assert seen and all(v == 1 for v in seen), seen


def _output(command: str, tmp: Path) -> None:
    base = _base(command, tmp)
    ok([*base, "-o", tmp / "out.json", "-q"])
    json.loads((tmp / "out.json").read_text())
    ok([*base, "-o", tmp / "out.bin", "--format", "json", "-q"])
    assert (tmp / "out.bin").read_text() == (tmp / "out.json").read_text()
    assert ok([*base, "--format", "csv", "-q"]).stdout != ok([*base, "--format", "tsv"]).stdout


def _model(command: str, tmp: Path) -> None:
    data, a, b = _two_models(tmp)
    base = _base(command, tmp)[4:]
    via_a = ok([command, "-m", a, data, *base, "--format", "json", "-q"]).stdout
    via_b = ok([command, "-m", b, data, *base, "--format", "json", "-q"]).stdout
    assert via_a != via_b


def _quiet(command: str, tmp: Path) -> None:
    base = _base(command, tmp)
    assert ok([*base, "--format", "csv"]).stderr
    assert not ok([*base, "--format", "csv", "-q"]).stderr


def _time_column(tmp: Path) -> None:
    data, model, _ = _two_models(tmp)
    by_date = ok(["trends", "-m", model, data, "--time-column", "date", "--bins", "year",
                  "--format", "json", "-q"]).stdout  # fmt: skip
    by_year = ok(["trends", "-m", model, data, "--time-column", "year", "--bins", "year",
                  "--format", "json", "-q"]).stdout  # fmt: skip
    assert len(json.loads(by_date)) == 2 and len(json.loads(by_year)) == 24


def _time_format(tmp: Path) -> None:
    data, model, _ = _two_models(tmp)
    base = ["trends", "-m", model, data, "--time-column", "stamp", "-q", "--format", "csv"]
    assert run(base).exit_code == 1
    ok([*base, "--time-format", "%d/%m/%Y"])


def _group_column(tmp: Path) -> None:
    data, model, _ = _two_models(tmp)
    base = ["groups", "-m", model, data, "--format", "json", "-q"]
    a = json.loads(ok([*base, "--group-column", "source"]).stdout)
    b = json.loads(ok([*base, "--group-column", "kind"]).stdout)
    assert {r["group"] for r in a} == {"agency", "kitchen", "mixed"}
    assert {r["group"] for r in b} == {"food", "space"}


def _limit(tmp: Path) -> None:
    base = _base("groups", tmp)
    two = ok([*base, "--format", "table", "--limit", 2, "-q"], env={"COLUMNS": "200"}).stdout
    every = ok([*base, "--format", "table", "--limit", 0, "-q"], env={"COLUMNS": "200"}).stdout
    assert "... and 4 more rows" in two and "more rows" not in every


def _label_column(tmp: Path) -> None:
    data, model, _ = _two_models(tmp)
    base = ["evaluate", "-m", model, data, "--format", "json", "-q"]
    kind = json.loads(ok([*base, "--label-column", "kind"]).stdout)["labels"]
    source = json.loads(ok([*base, "--label-column", "source"]).stdout)["labels"]
    assert set(kind["contingency"]["topic 0"]) == {"food", "space"}
    assert set(source["contingency"]["topic 0"]) == {"agency", "kitchen", "mixed"}


def _contingency_out(tmp: Path) -> None:
    base = _base("evaluate", tmp)
    ok([*base, "--contingency-out", tmp / "c.tsv", "-q", "--format", "json"])
    assert (tmp / "c.tsv").read_text().splitlines()[0] == "topic\tfood\tspace"


def _fit_dynamic(tmp: Path, windows: str, column: str = "date") -> None:
    from topicnmf.model import TopicModel

    data, _, _ = _two_models(tmp)
    args = ["fit", data, "-k", 2, "-m", tmp / "d.npz", "-q", "--format", "csv", "--time-column",
            column, "--windows", windows]  # fmt: skip
    if column == "stamp":
        assert run(args).exit_code == 1
        args += ["--time-format", "%d/%m/%Y"]
    ok(args)
    stored = TopicModel.load(tmp / "d.npz").windows
    assert stored is not None
    assert len(stored.starts) == {"year": 1, "quarter": 4}[windows]


def context_checks() -> dict[tuple[str, str], Callable[..., None]]:
    """Option-reach checks of trends, groups and the label options of evaluate."""
    checks: dict[tuple[str, str], Callable[..., None]] = {}
    corpus_options = ("input_format", "glob", "exclude", "text_column", "id_column", "encoding",
                      "encoding_errors", "csv_lenient", "data_home", "download", "categories",
                      "remove")  # fmt: skip
    for command in ("trends", "groups"):
        for name in corpus_options:
            checks[(command, name)] = lambda tmp, fit, monkeypatch=None, c=command, n=name: (
                _corpus_option(c, n, tmp, monkeypatch)
            )
        checks[(command, "jobs")] = lambda tmp, fit, monkeypatch=None, c=command: _jobs(
            c, tmp, monkeypatch
        )
        for name in ("output", "fmt"):
            checks[(command, name)] = lambda tmp, fit, c=command: _output(c, tmp)
        checks[(command, "model")] = lambda tmp, fit, c=command: _model(c, tmp)
        checks[(command, "quiet")] = lambda tmp, fit, c=command: _quiet(c, tmp)
        checks[(command, "seed")] = lambda tmp, fit, c=command: _differs(
            c, tmp, *(["--seed", 7] if c == "trends" else ["--permutations", 9, "--seed", 7])
        )
    checks[("trends", "time_column")] = lambda tmp, fit: _time_column(tmp)
    checks[("trends", "time_format")] = lambda tmp, fit: _time_format(tmp)
    checks[("trends", "bins")] = lambda tmp, fit: _differs("trends", tmp, "--bins", "quarter")
    checks[("trends", "bootstrap")] = lambda tmp, fit: _differs("trends", tmp, "--bootstrap", 9)
    checks[("trends", "terms")] = lambda tmp, fit: _differs("trends", tmp, "--terms")
    checks[("groups", "group_column")] = lambda tmp, fit: _group_column(tmp)
    checks[("groups", "min_docs")] = lambda tmp, fit: _differs("groups", tmp, "--min-docs", 50)
    checks[("groups", "permutations")] = lambda tmp, fit: _differs(
        "groups", tmp, "--permutations", 9
    )
    checks[("groups", "limit")] = lambda tmp, fit: _limit(tmp)
    checks[("fit", "time_column")] = lambda tmp, fit: _fit_dynamic(tmp, "year")
    checks[("fit", "windows")] = lambda tmp, fit: _fit_dynamic(tmp, "quarter")
    checks[("fit", "time_format")] = lambda tmp, fit: _fit_dynamic(tmp, "year", "stamp")
    checks[("evaluate", "label_column")] = lambda tmp, fit: _label_column(tmp)
    checks[("evaluate", "contingency_out")] = lambda tmp, fit: _contingency_out(tmp)
    return checks


def test_dynamic_topics_link_window_topics_across_quarters(tmp_path):
    import pandas as pd

    from topicnmf import NMFConfig, VectorizerConfig
    from topicnmf.context import assign_bins, dynamic_topics, parse_times
    from topicnmf.vectorize import Vectorizer

    rows = planted_rows()
    vectorizer = Vectorizer(VectorizerConfig())
    V = vectorizer.fit_transform([r["text"] for r in rows])
    times, _ = parse_times(pd.Series([r["date"] for r in rows], dtype=object))
    window, edges = assign_bins(times, "quarter")
    result = dynamic_topics(V, window, NMFConfig(n_components=2), k_window=2)
    assert result.window_H.shape == (8, V.shape[1])
    assert list(result.window) == [0, 0, 1, 1, 2, 2, 3, 3]
    frame = result.frame(vectorizer.vocabulary, top=5)
    for _, row in frame.iterrows():
        theme = FOOD if set(row["top_terms"]) & set(FOOD) else SPACE
        assert set(row["top_terms"]) <= set(theme) | {"sourdough"}
    # each window has one topic of each theme, and the same theme maps to one dynamic topic
    themes = {}
    for _, row in frame.iterrows():
        theme = "food" if set(row["top_terms"]) & set(FOOD) else "space"
        themes.setdefault(theme, set()).add(row["dynamic_topic"])
    assert all(len(v) == 1 for v in themes.values()) and themes["food"] != themes["space"]
    assert (result.weight > 0.9).all()
    np.testing.assert_allclose(result.H.sum(axis=1), 1.0, rtol=1e-5)


# -- dynamic models (fit --time-column) --------------------------------------------------------


def test_fit_dynamic_stores_window_topics_and_trends_shows_them(tmp_path, planted):
    from topicnmf.model import TopicModel

    data, _ = planted
    model = tmp_path / "dyn.npz"
    ok(["fit", data, "-k", 2, "-m", model, "--time-column", "date", "--windows", "quarter",
        "-q", "--format", "csv"])  # fmt: skip
    m = TopicModel.load(model)
    assert m.windows is not None and m.windows.H.shape[0] == 8
    assert m.windows.starts == ["2021-01-01", "2021-04-01", "2021-07-01", "2021-10-01"]
    assert sorted(m.windows.dynamic.tolist()) == [0, 0, 0, 0, 1, 1, 1, 1]
    records = trends(model, data, "--bins", "quarter")
    food = food_topic(records)
    late = [r for r in records if r["topic"] == food][-1]
    assert "sourdough" in late["window_terms"].split()
    early = [r for r in records if r["topic"] == food][0]
    assert "sourdough" not in early["window_terms"].split()
    # the same command gives the same bytes (no clock, deterministic fits)
    again = tmp_path / "again.npz"
    ok(["fit", data, "-k", 2, "-m", again, "--time-column", "date", "--windows", "quarter",
        "-q", "--format", "csv"])  # fmt: skip
    assert again.read_bytes() == model.read_bytes()
    plain = tmp_path / "plain.npz"
    ok(["fit", data, "-k", 2, "-m", plain, "-q", "--format", "csv"])
    assert TopicModel.load(plain).windows is None
    assert "window_terms" not in trends(plain, data)[0]


def test_a_damaged_window_member_is_refused(tmp_path, planted):
    import zipfile

    from topicnmf.errors import ModelFileError
    from topicnmf.model import TopicModel
    from topicnmf.modelfile import model_arrays, write_npz

    data, _ = planted
    model = tmp_path / "dyn.npz"
    ok(["fit", data, "-k", 2, "-m", model, "--time-column", "date", "-q", "--format", "csv"])
    arrays = model_arrays(TopicModel.load(model))
    arrays["window_dynamic"] = arrays["window_dynamic"] + 5
    bad = tmp_path / "bad.npz"
    with bad.open("wb") as fh:
        write_npz(fh, arrays)
    with pytest.raises(ModelFileError, match="window_dynamic"):
        TopicModel.load(bad)
    with zipfile.ZipFile(model) as zf:
        assert "window_H.npy" in zf.namelist()


def test_fit_dynamic_settings(tmp_path, planted):
    data, _ = planted
    base = ["fit", data, "-k", 2, "-m", tmp_path / "x.npz", "-q", "--format", "csv"]
    alone = run([*base, "--windows", "month"])
    assert alone.exit_code == 2 and "need --time-column" in alone.stderr
    bad = run([*base, "--time-column", "date", "--windows", "fortnight"])
    assert bad.exit_code == 2 and "--windows" in bad.stderr
    missing = run([*base, "--time-column", "when"])
    assert missing.exit_code == 1 and "--time-column" in missing.stderr
    too_many = run([*base[:3], 30, *base[4:], "--time-column", "date", "--windows", "year"])
    assert too_many.exit_code != 0 and "Traceback" not in too_many.stderr


@pytest.mark.parametrize("seed", range(6))
def test_nmi_and_ari_equal_scikit_learn(seed):
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from topicnmf.context import label_agreement

    rng = np.random.default_rng(seed)
    n, k = [(1, 1), (5, 1), (30, 3), (200, 7), (50, 2), (12, 12)][seed]
    W = rng.random((n, k)) * (rng.random((n, k)) < 0.6)
    labels = [f"g{x}" for x in rng.integers(0, max(1, k - 1 + seed % 3), n)]
    got = label_agreement(W, labels)
    has = W.max(axis=1) > 0
    dom = W.argmax(axis=1)[has]
    lab = np.asarray(labels)[has]
    if has.any():
        assert got["nmi"] == pytest.approx(normalized_mutual_info_score(lab, dom), abs=1e-12)
        assert got["ari"] == pytest.approx(adjusted_rand_score(lab, dom), abs=1e-12)


@pytest.mark.parametrize("name", ["id", "where"])
def test_a_metadata_column_may_be_called_id_or_where(tmp_path, name):
    """The frame of documents keeps its own bookkeeping apart from the user's columns."""
    rows = [{"doc": r["id"], **r} for r in planted_rows(per_month=6)]
    data = tmp_path / "d.csv"
    write_csv(data, [{**r, name: r["source"]} for r in rows])
    model = tmp_path / "m.npz"
    ids = ["--id-column", "doc"]
    ok(["fit", data, "-k", 2, "-m", model, "-q", *ids])
    out = ok(["groups", "-m", model, data, "--group-column", name, "--format", "csv", "-q", *ids])
    assert {row["group"] for row in csv.DictReader(io.StringIO(out.stdout))} == {
        r["source"] for r in rows
    }


def test_dates_outside_the_representable_range_are_unusable_not_moved():
    """9999-12-31 and 0001-01-01 parse, but cannot be held in nanoseconds: they are counted
    as unusable instead of wrapping round to the 1800s."""
    import pandas as pd

    from topicnmf.context.metadata import parse_times

    values = pd.Series(["9999-12-31", "0001-01-01", "2021-01-02", "1200", "2021-03-04"])
    times, report = parse_times(values, None, column="date")
    assert times.isna().tolist() == [True, True, False, True, False]
    assert times[2] == pd.Timestamp("2021-01-02") and report.n_invalid == 3
    years, report = parse_times(pd.Series(["1200", "2021"]), None, column="date")
    assert years.isna().tolist() == [True, False] and report.n_invalid == 1
