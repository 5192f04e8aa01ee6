"""``topicnmf report``: one self-contained HTML page to look at a model."""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any

import click

from topicnmf.cli.context import _warn as warn_left_out
from topicnmf.cli.context import column_errors, weights
from topicnmf.cli.core import set_quiet
from topicnmf.cli.options import (
    batch_size_option,
    corpus_options,
    jobs_option,
    load_corpus,
    model_option,
    pop_corpus_options,
    quiet_option,
    usage_errors,
)
from topicnmf.cli.output import OutputPlan, Reporter, counted_batches
from topicnmf.cli.topics import info_rows, load_model, model_info, model_input
from topicnmf.errors import TopicNMFError


@click.command()
@click.argument("corpus", nargs=-1, type=click.Path(allow_dash=True))
@model_option
@corpus_options
@click.option(
    "-o",
    "--output",
    type=click.Path(allow_dash=True),
    default="report.html",
    show_default=True,
    help="Where to write the page (atomically); '-' for stdout.",
)
@click.option(
    "--docs",
    "n_docs",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Representative documents per topic (0: none).",
)
@click.option(
    "--no-text",
    is_flag=True,
    help="Keep document text out of the page (ids and weights only).",
)
@click.option(
    "--select-k",
    "select_k_path",
    type=click.Path(dir_okay=False),
    metavar="RESULTS.json",
    help="Draw the curves of 'topicnmf select-k --format json' output, recommended k marked.",
)
@click.option(
    "--time-column",
    help="With CORPUS: CSV/JSON field holding each document's date; adds topics over time.",
)
@click.option(
    "--time-format",
    help="strftime format of the dates (e.g. %d/%m/%Y) [default: ISO 8601, or whole years].",
)
@click.option(
    "--bins",
    metavar="year|quarter|month|week|day|N",
    help="Time bins of the chart: a calendar unit, or N equal spans [default: month].",
)
@click.option(
    "--group-column",
    help="With CORPUS: CSV/JSON field holding each document's group; adds a topic x group heatmap.",
)
@batch_size_option
@jobs_option
@quiet_option
def report(
    corpus: tuple[str, ...],
    model: str | None,
    output: str,
    n_docs: int,
    no_text: bool,
    select_k_path: str | None,
    time_column: str | None,
    time_format: str | None,
    bins: str | None,
    group_column: str | None,
    batch_size: int,
    jobs: int | None,
    quiet: bool,
    **kw: Any,
) -> None:
    """Write an HTML report of a model: one file that opens anywhere, offline.

    The page holds the model card, the topic table, an intertopic distance map, the
    selected topic's terms (with a relevance slider) and representative documents, a
    topic-similarity heatmap and coherence bars; with --select-k, the curves of a k
    selection. Documents come from CORPUS, or without it from a model fitted with
    --save-doc-topics (ids only). With --time-column, small multiples of each topic's share
    over time (as 'trends' computes it, with its 95% interval); with --group-column, a
    heatmap of each topic's log-odds in each group (as 'groups'); a dynamic model (fit with
    --time-column) adds its topics' evolution window by window. The same inputs give the
    same bytes.

    \b
    Examples:
      topicnmf report -o report.html
      topicnmf report -m news.npz news.csv --id-column id -o news.html
      topicnmf report -m ng.npz 20newsgroups:train --no-text --select-k choice.json
      topicnmf report -m news.npz news.csv --time-column date --group-column source
    """
    set_quiet(quiet)
    reporter = Reporter(quiet)
    corpus_kw = pop_corpus_options(kw)
    columns, bin_spec = _context_settings(corpus, time_column, time_format, bins, group_column)
    plan = OutputPlan()
    out = plan.file("-o", output)
    path = model_input(model, plan)
    if select_k_path:
        plan.input("--select-k", select_k_path)
    with column_errors(columns):
        documents = load_corpus(corpus, corpus_kw, tuple(columns)) if corpus else None
    if documents is not None:
        reporter.reading_stdin(corpus)
        plan.corpus(documents, corpus)
    select_k = _read_select_k(select_k_path) if select_k_path else None
    t0 = time.perf_counter()
    m = load_model(path)
    with (
        documents if documents is not None else contextlib.nullcontext(),
        reporter.progress("Reading documents") as update,
    ):
        if columns:
            with column_errors(columns):
                documents = _Kept(list(documents))  # read once: the page and the charts
        docs = _documents(m, documents, n_docs, no_text, batch_size, jobs, update)
    extra = {}
    if columns:
        settings = (time_column, time_format, bin_spec, group_column)
        extra = _context_frames(m, documents.documents, columns, settings, jobs)
    page = _page(m, path, docs, select_k, extra)
    _write(out, page.encode("utf-8"))
    size = len(page.encode("utf-8"))
    reporter.info(f"Wrote {output} ({size / 1e6:.2f} MB) in {time.perf_counter() - t0:.2f} s")


def _documents(
    m: Any, documents: Any, n: int, no_text: bool, batch_size: int, jobs: Any, update: Any
) -> list[list[dict[str, Any]]] | None:
    """Per topic, its representative documents as the page shows them (None: none)."""
    from topicnmf.explore.documents import representative_documents

    if n == 0 or (documents is None and m.W is None):
        return None

    with usage_errors():
        result = representative_documents(
            m,
            counted_batches(documents, batch_size, update) if documents is not None else None,
            top=n,
            snippet_chars=0 if no_text else 300,
            n_threads=jobs,
        )
    per_topic: list[list[dict[str, Any]]] = [[] for _ in range(m.n_topics)]
    for r in result.rows:
        per_topic[r.topic].append({"id": r.id, "weight": round(r.weight, 4), "snippet": r.snippet})
    return per_topic


def _context_settings(
    corpus: tuple[str, ...],
    time_column: str | None,
    time_format: str | None,
    bins: str | None,
    group_column: str | None,
) -> tuple[dict[str, str], Any]:
    """The metadata columns to read ({column: parameter}) and the parsed time bins."""
    from topicnmf.context import parse_bins

    if (time_format or bins) and not time_column:
        raise click.UsageError("--time-format and --bins need --time-column")
    columns = {}
    if time_column:
        columns[time_column] = "time_column"
    if group_column:
        columns[group_column] = "group_column"
    if columns and not corpus:
        raise click.UsageError(
            "--time-column and --group-column need CORPUS, the documents holding those fields"
        )
    with usage_errors():
        bin_spec = parse_bins(bins or "month") if time_column else None
    return columns, bin_spec


class _Kept:
    """Documents read once and kept, for the representative documents and the charts."""

    def __init__(self, documents: list[Any]) -> None:
        self.documents = documents

    def iter_batches(self, size: int) -> Any:
        for start in range(0, len(self.documents), size):
            yield self.documents[start : start + size]

    def __enter__(self) -> _Kept:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _context_frames(
    m: Any, documents: list[Any], columns: dict[str, str], settings: tuple, jobs: int | None
) -> dict[str, Any]:
    """The trends and groups frames the report's context sections draw, as the ``trends``
    and ``groups`` commands compute them (default bootstrap and seed)."""
    from topicnmf.context import (
        assign_bins,
        check_some,
        clean_groups,
        collect,
        groups_frame,
        parse_times,
        trends_frame,
    )
    from topicnmf.context.metadata import WHERE_COLUMN

    time_column, time_format, bin_spec, group_column = settings
    texts, meta = collect(documents, columns)
    _, W = weights(m, texts, jobs)
    labels = m.topic_labels()
    extra: dict[str, Any] = {}
    if time_column:
        with usage_errors(), column_errors(columns):
            times, bad = parse_times(
                meta[time_column], meta[WHERE_COLUMN], column=time_column, time_format=time_format
            )
            check_some(bad, "date")
        warn_left_out(bad, "date")
        keep = times.notna().to_numpy()
        index, edges = assign_bins(times[keep].reset_index(drop=True), bin_spec)
        extra["trends"] = trends_frame(W[keep], index, edges, labels=labels)
    if group_column:
        values, bad = clean_groups(meta[group_column], meta[WHERE_COLUMN], group_column)
        with column_errors(columns):
            check_some(bad, "group")
        warn_left_out(bad, "group")
        keep = values.notna().to_numpy()
        extra["groups"] = groups_frame(W[keep], values[keep].tolist(), labels=labels)
    return extra


def _page(m: Any, path: str, docs: Any, select_k: Any, extra: dict[str, Any]) -> str:
    from topicnmf.explore.labels import label_table
    from topicnmf.explore.report import ReportContext, build_report

    labels = label_table(m)
    tops = m.top_terms(10)
    topics = [
        {**rec, "share": float(m.topic_share[t]), "terms": [term for term, _ in tops[t]]}
        for t, rec in enumerate(labels)
    ]
    npmi = None
    if m.reference is not None:
        npmi = [t.npmi for t in m.evaluate().topics]
    card = [(k, v) for k, v in info_rows(model_info(m, path))]
    ctx = ReportContext(
        model=m,
        title=os.path.basename(path),
        card=card,
        topics=topics,
        npmi=npmi,
        documents=docs,
        select_k=select_k,
        extra=extra,
    )
    return build_report(ctx)


def _read_select_k(path: str) -> dict[str, Any]:
    from topicnmf.fileio import read_small_file

    raw = read_small_file(path, what="k selection file")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TopicNMFError(
            f"{path!r} is not JSON ({exc}); give the output of 'topicnmf select-k --format json'",
            path=path,
        ) from None
    if not (isinstance(data, dict) and isinstance(data.get("rows"), list)):
        raise TopicNMFError(
            f"{path!r} is not a k selection; give the output of 'topicnmf select-k --format json'",
            path=path,
        )
    return data


def _write(out: Any, data: bytes) -> None:
    from topicnmf.fileio import atomic_write

    with atomic_write(out.target, "wb") as fh:
        fh.write(data)
