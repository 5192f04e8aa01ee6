"""The report's context sections: topics over time, topics by group, a dynamic model's windows.

The corpus is the planted dated CSV of tests/test_context.py: cooking grows and space fades
over twelve months; "kitchen" writes mostly about cooking and "agency" about space.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import ok, run
from tests.test_context import FOOD, planted_rows, write_csv


@pytest.fixture(scope="module")
def dated(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(the dated CSV, a 2-topic model of it, a dynamic model with quarterly windows)."""
    tmp = tmp_path_factory.mktemp("rctx")
    data = write_csv(tmp / "dated.csv", planted_rows())
    ok(["fit", data, "-k", 2, "-m", tmp / "m.npz", "-q", "--format", "csv"])
    ok(["fit", data, "-k", 2, "-m", tmp / "d.npz", "-q", "--format", "csv", "--time-column",
        "date", "--windows", "quarter"])  # fmt: skip
    return data, tmp / "m.npz", tmp / "d.npz"


def report(model: Path, out: Path, *extra) -> str:
    ok(["report", "-m", model, "-o", out, "-q", *extra])
    return out.read_text(encoding="utf-8")


def section_ids(page: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', page)


def food_topic(page: str) -> int:
    """The topic whose label (in the topic table) has a cooking word."""
    labels = dict(re.findall(r'<tr data-topic="(\d+)"><th scope=row><button[^>]*>\d+</button>'
                             r"</th><td class=label>([^<]*)</td>", page))  # fmt: skip
    (topic,) = [int(t) for t, label in labels.items() if any(w in label for w in FOOD)]
    return topic


def heatmap_cells(page: str) -> dict[tuple[str, int], float]:
    cells = re.findall(r'<rect class="(?:over|under)" data-topic="(\d+)" data-group="([^"]+)" '
                       r'data-log-odds="([^"]+)"', page)  # fmt: skip
    return {(g, int(t)): float(v) for t, g, v in cells}


def test_context_sections_appear_only_with_their_data(tmp_path, dated):
    data, model, _ = dated
    plain = section_ids(report(model, tmp_path / "a.html", data))
    assert not {"trends", "groups", "evolution"} & set(plain)
    timed = section_ids(report(model, tmp_path / "b.html", data, "--time-column", "date"))
    assert "trends" in timed and "groups" not in timed and "evolution" not in timed
    grouped = section_ids(report(model, tmp_path / "c.html", data, "--group-column", "source"))
    assert "groups" in grouped and "trends" not in grouped
    both = section_ids(report(model, tmp_path / "d.html", data, "--time-column", "date",
                              "--group-column", "source"))  # fmt: skip
    assert both[-2:] == ["trends", "groups"]


def test_planted_trends_and_groups(tmp_path, dated):
    data, model, _ = dated
    page = report(model, tmp_path / "r.html", data, "--time-column", "date", "--group-column",
                  "source")  # fmt: skip
    food = food_topic(page)
    # one small multiple per topic, each with its interval band and its curve
    panels = re.findall(r'<figure class=trend data-topic="(\d+)">(.*?)</figure>', page)
    assert [int(t) for t, _ in panels] == [0, 1]
    assert all("<polygon class=band" in p and "<polyline class=curve" in p for _, p in panels)
    # the food panel's label says it grows: first month's share below last month's
    aria = re.search(rf'<figure class=trend data-topic="{food}">.*?aria-label="([^"]+)"', page)
    first, last = map(float, re.findall(r"from ([\d.]+)% .* to ([\d.]+)%", aria.group(1))[0])
    assert first < 30 < 70 < last
    # the table alternative has a row per topic and a column per month
    table = page[page.index('id="trend-table"') :]
    assert table.count("<th scope=col>2021-") == 12
    # the heatmap: the largest cell is a planted association, and both go the planted way
    cells = heatmap_cells(page)
    assert len(cells) == 2 * 3
    largest = max(cells, key=cells.__getitem__)
    assert largest in {("kitchen", food), ("agency", 1 - food)}
    assert cells[("kitchen", food)] > 1 and cells[("kitchen", 1 - food)] < -1
    assert cells[("agency", 1 - food)] > 1 and cells[("agency", food)] < -1


def test_the_page_is_byte_reproducible(tmp_path, dated):
    data, model, dynamic = dated
    args = (data, "--time-column", "date", "--bins", "quarter", "--group-column", "source")
    a = (tmp_path / "a.html", tmp_path / "b.html")
    report(model, a[0], *args), report(model, a[1], *args)
    assert a[0].read_bytes() == a[1].read_bytes()
    b = (tmp_path / "c.html", tmp_path / "d.html")
    report(dynamic, b[0]), report(dynamic, b[1])
    assert b[0].read_bytes() == b[1].read_bytes()


def test_dynamic_model_shows_its_evolution_without_a_corpus(tmp_path, dated):
    _, _, dynamic = dated
    page = report(dynamic, tmp_path / "d.html")
    assert section_ids(page)[-1] == "evolution" and "trends" not in section_ids(page)
    food = food_topic(page)
    table = page[page.index('id="evolution-table"') :]
    assert table[: table.index("</thead>")].count("<th scope=col>2021-") == 4
    row = re.search(rf'<tr data-topic="{food}">(.*?)</tr>', table).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert len(cells) == 4
    assert "sourdough" not in cells[0] and "sourdough" in cells[-1]


def test_library_builders_read_extra_and_leave_gaps(dated):
    import pandas as pd

    from topicnmf.context import assign_bins, groups_frame, parse_times, trends_frame
    from topicnmf.explore.context_sections import topic_evolution, topic_groups, topic_trends
    from topicnmf.explore.report import ReportContext
    from topicnmf.model import TopicModel

    _, model, _ = dated
    m = TopicModel.load(model)
    rows = [r for r in planted_rows() if r["date"][5:7] != "06"]  # June has no document
    W = m.transform([r["text"] for r in rows])
    times, _ = parse_times(pd.Series([r["date"] for r in rows], dtype=object))
    index, edges = assign_bins(times, "month")
    topics = [{"topic": t, "label": f"t{t}"} for t in range(2)]
    ctx = ReportContext(model=m, title="x", card=[], topics=topics)
    assert topic_trends(ctx) is None and topic_groups(ctx) is None
    assert topic_evolution(ctx) is None
    ctx.extra["trends"] = trends_frame(W, index, edges, n_bootstrap=20)
    ctx.extra["groups"] = groups_frame(W, [r["source"] for r in rows])
    trends = topic_trends(ctx)
    # the empty month splits each curve and band in two
    assert trends.html.count("<polyline class=curve") == 2 * 2
    assert trends.html.count("<polygon class=band") == 2 * 2
    assert trends.html.count("<td class=num") == 2 * 12 and ">–</td>" in trends.html
    groups = topic_groups(ctx)
    assert groups.html.count('<rect class="') == 2 * 3 and groups.data == "groups"


def test_many_groups_are_capped(dated):
    from topicnmf.context import groups_frame
    from topicnmf.explore.context_sections import MAX_GROUPS, topic_groups
    from topicnmf.explore.report import ReportContext

    rng = np.random.default_rng(0)
    W = rng.random((600, 2))
    groups = [f"author {i % 60}" for i in range(600)]
    ctx = ReportContext(model=None, title="x", card=[], topics=[{"topic": 0, "label": "a"},
                        {"topic": 1, "label": "b"}])  # fmt: skip
    ctx.extra["groups"] = groups_frame(W, groups)
    html = topic_groups(ctx).html
    assert html.count('<rect class="') == MAX_GROUPS * 2
    assert f"{60 - MAX_GROUPS} smaller groups are not drawn" in html


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--bins", "year"], 2, "--time-format and --bins need --time-column"),
        (["--time-format", "%Y"], 2, "--time-format and --bins need --time-column"),
        (["--time-column", "when"], 1, "has no column 'when'; its columns are"),
        (["--time-column", "source"], 1, "no document has a usable date in column 'source'"),
        (["--time-column", "date", "--bins", "fortnight"], 2, "unknown time bins 'fortnight'"),
        (["--group-column", "nope"], 1, "has no column 'nope'"),
    ],
)
def test_bad_context_settings(tmp_path, dated, args, code, says):
    data, model, _ = dated
    result = run(["report", "-m", model, data, "-o", tmp_path / "x.html", *args])
    assert result.exit_code == code, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr
    if code == 1:
        assert args[0] in result.stderr  # the advice names the option
    assert not (tmp_path / "x.html").exists()


def test_context_columns_need_a_corpus(tmp_path, dated):
    _, model, _ = dated
    for option in ("--time-column", "--group-column"):
        result = run(["report", "-m", model, "-o", tmp_path / "x.html", option, "date"])
        assert result.exit_code == 2 and "need CORPUS" in result.stderr


def test_bad_dates_are_counted(tmp_path, dated):
    _, model, _ = dated
    rows = planted_rows()
    rows[3]["date"] = "not a date"
    data = write_csv(tmp_path / "bad.csv", rows)
    result = ok(["report", "-m", model, data, "-o", tmp_path / "x.html", "--time-column", "date"])
    assert "1 of 480 documents has no usable date in column 'date'" in result.stderr


# -- option reach -------------------------------------------------------------------------------


def _reach_data(tmp: Path) -> tuple[Path, Path]:
    data = tmp / "reach.csv"
    if not data.exists():
        write_csv(data, planted_rows(per_month=12))
        ok(["fit", data, "-k", 2, "-m", tmp / "reach.npz", "-q", "--format", "csv"])
    return data, tmp / "reach.npz"


def _bins_shown(page: str) -> int:
    table = page[page.index('id="trend-table"') :]
    return table[: table.index("</thead>")].count("<th scope=col>") - 1


def _time_column(tmp: Path) -> None:
    data, model = _reach_data(tmp)
    by_date = report(model, tmp / "a.html", data, "--time-column", "date", "--bins", "year")
    by_year = report(model, tmp / "b.html", data, "--time-column", "year", "--bins", "year")
    assert _bins_shown(by_date) == 1 and _bins_shown(by_year) == 12


def _time_format(tmp: Path) -> None:
    data, model = _reach_data(tmp)
    args = ["report", "-m", model, data, "-o", tmp / "f.html", "-q", "--time-column", "stamp"]
    assert run(args).exit_code == 1
    ok([*args, "--time-format", "%d/%m/%Y"])
    assert _bins_shown((tmp / "f.html").read_text()) == 12


def _bins(tmp: Path) -> None:
    data, model = _reach_data(tmp)
    month = report(model, tmp / "a.html", data, "--time-column", "date")
    quarter = report(model, tmp / "b.html", data, "--time-column", "date", "--bins", "quarter")
    assert _bins_shown(month) == 12 and _bins_shown(quarter) == 4


def _group_column(tmp: Path) -> None:
    data, model = _reach_data(tmp)
    source = heatmap_cells(report(model, tmp / "a.html", data, "--group-column", "source"))
    kind = heatmap_cells(report(model, tmp / "b.html", data, "--group-column", "kind"))
    assert {g for g, _ in source} == {"agency", "kitchen", "mixed"}
    assert {g for g, _ in kind} == {"food", "space"}


def report_context_checks() -> dict[tuple[str, str], Callable[..., None]]:
    """Option-reach checks of the report's context options."""
    return {
        ("report", "time_column"): lambda tmp, fit: _time_column(tmp),
        ("report", "time_format"): lambda tmp, fit: _time_format(tmp),
        ("report", "bins"): lambda tmp, fit: _bins(tmp),
        ("report", "group_column"): lambda tmp, fit: _group_column(tmp),
    }


def test_a_lone_bin_still_shows_its_interval(tmp_path, dated):
    data, model, _ = dated
    page = report(model, tmp_path / "y.html", data, "--time-column", "date", "--bins", "year")
    assert page.count("<rect class=band") == 2 and "<polygon class=band" not in page
    assert page.count("<circle class=dot") == 2
