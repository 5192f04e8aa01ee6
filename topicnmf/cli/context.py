"""``topicnmf trends`` and ``groups``, and the label agreement of ``evaluate``: topics in
context (time, groups, known labels). The computations are in :mod:`topicnmf.context`."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import click

from topicnmf.cli.core import log, set_quiet
from topicnmf.cli.options import (
    corpus_options,
    jobs_option,
    limit_option,
    load_corpus,
    model_option,
    output_options,
    pop_corpus_options,
    quiet_option,
    seed_option,
    usage_errors,
)
from topicnmf.cli.output import OutputPlan, Reporter, open_text, print_table
from topicnmf.errors import TopicNMFError

SPARK = "▁▂▃▄▅▆▇█"


def load_model(path: str) -> Any:
    # imported here: cli.topics imports cli.fit, which imports this module
    from topicnmf.cli.topics import load_model as load

    return load(path)


@contextlib.contextmanager
def column_errors(columns: dict[str, str]) -> Iterator[None]:
    """Turn a library error about a metadata column into one about the setting that named it.

    ``columns`` maps a column name to its parameter (``{"date": "time_column"}``), so that
    the error line advises the right option.
    """
    try:
        yield
    except TopicNMFError as exc:
        if exc.param == "metadata_columns" and exc.value in columns:
            exc.param = columns[exc.value]
        raise


def read_with_metadata(
    corpus: tuple[str, ...], corpus_kw: dict[str, Any], columns: dict[str, str], plan: OutputPlan
) -> tuple[list[str], Any]:
    """Open and read the corpus once: texts and the metadata frame."""
    from topicnmf.context import collect

    with column_errors(columns):
        documents = load_corpus(corpus, corpus_kw, tuple(columns))
        plan.corpus(documents, corpus)
        with documents:
            return collect(documents, columns)


def weights(m: Any, texts: list[str], jobs: int | None) -> tuple[Any, Any]:
    """(V, raw W) of texts under the model."""
    V = m.vectorizer.transform(texts)
    return V, m.transform_matrix(V, n_threads=jobs)


def _model_input(model: str | None, plan: OutputPlan) -> str:
    # imported here, as load_model above
    from topicnmf.cli.topics import model_input

    return model_input(model, plan)


def _iso(value: Any) -> str:
    if value.hour == value.minute == value.second == value.microsecond == 0:
        return value.strftime("%Y-%m-%d")
    return value.isoformat()


def _cell(value: Any) -> Any:
    """A frame value for the writers: NaN is missing, numpy scalars are Python ones."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, str)):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def write_frame(out: Any, records: list[dict[str, Any]], header: list[str]) -> None:
    """CSV/TSV rows (lists joined by spaces, missing empty), JSON list, JSON Lines."""
    from topicnmf.export import write_rows

    def csv_cell(v: Any) -> Any:
        if v is None:
            return ""
        if isinstance(v, list):
            return " ".join(v)
        if isinstance(v, float):
            return repr(v)
        return v

    rows = [[csv_cell(rec[name]) for name in header] for rec in records]
    with open_text(out) as fh:
        write_rows(header, rows, out.format, fh, records)


def sparkline(values: list[float | None]) -> str:
    """One character per value, scaled to the largest; a space for a missing value."""
    finite = [v for v in values if v is not None]
    top = max(finite, default=0.0) or 1.0
    return "".join(
        " " if v is None else SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))]
        for v in values
    )


def _warn(report: Any, what: str) -> None:
    if report.n_left_out:
        log.warning(report.message(what))


# ------------------------------------------------------------------------------ trends


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@model_option
@corpus_options
@output_options
@click.option("--time-column", required=True, help="CSV/JSON field holding each document's date.")
@click.option(
    "--time-format",
    help="strftime format of the dates (e.g. %d/%m/%Y) [default: ISO 8601, or whole years].",
)
@click.option(
    "--bins",
    default="month",
    show_default=True,
    metavar="year|quarter|month|week|day|N",
    help="Time bins: a calendar unit, or N equal spans from the first date to the last.",
)
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0, max=100_000),
    default=200,
    show_default=True,
    help="Resamples of each bin's documents for the 95% interval of a share (0: none).",
)
@seed_option("Seed of the resampling (the same seed gives the same intervals).")
@click.option(
    "--terms",
    is_flag=True,
    help="Add each topic's top terms in each bin, from that bin's documents only.",
)
@jobs_option
@quiet_option
def trends(
    corpus: tuple[str, ...],
    model: str | None,
    fmt: str | None,
    output: str | None,
    time_column: str,
    time_format: str | None,
    bins: str,
    bootstrap: int,
    seed: int,
    terms: bool,
    jobs: int | None,
    quiet: bool,
    **kw: Any,
) -> None:
    """Show how each topic's share of the documents changes over time.

    For each topic and time bin: the topic's share of the bin's topic mass (each document's
    weights normalized to sum to 1, so each document counts once), a bootstrap 95% interval
    of that share (share_lo, share_hi), the bin's documents (n_docs) and those the topic
    dominates (n_dominant). Bins without documents are kept (n_docs 0, empty share).
    Documents whose date is missing or does not parse are left out and counted on stderr
    with the first few lines they are on. With --terms, top_terms are the topic's terms
    in that bin's documents only (no later document is used). On a terminal: one line per
    topic with a sparkline of its share. On a dynamic model (fit with --time-column), the
    window_terms column has the top terms of the topic's window topics whose window starts
    in the bin (window topics ' | ' apart); the terminal lists every window topic.

    \b
    Examples:
      topicnmf trends news.csv --time-column date --bins month
      topicnmf trends -m news.npz news.jsonl --time-column published --bins quarter \
          --terms -o trends.csv
      topicnmf trends posts.csv --time-column day --time-format %d/%m/%Y --bins 10
    """
    from topicnmf.context import assign_bins, bin_top_terms, check_some, parse_bins, parse_times
    from topicnmf.context import trends_frame as make_frame
    from topicnmf.context.metadata import WHERE_COLUMN

    set_quiet(quiet)
    report = Reporter(quiet)
    corpus_kw = pop_corpus_options(kw)
    with usage_errors():
        bin_spec = parse_bins(bins)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt)
    path = _model_input(model, plan)
    columns = {time_column: "time_column"}
    texts, meta = read_with_metadata(corpus, corpus_kw, columns, plan)
    report.reading_stdin(corpus)
    m = load_model(path)
    with usage_errors(), column_errors(columns):
        times, bad = parse_times(
            meta[time_column], meta[WHERE_COLUMN], column=time_column, time_format=time_format
        )
        check_some(bad, "date")
    _warn(bad, "date")
    keep = times.notna().to_numpy()
    kept_texts = [t for t, k in zip(texts, keep, strict=True) if k]
    V, W = weights(m, kept_texts, jobs)
    index, edges = assign_bins(times[keep].reset_index(drop=True), bin_spec)
    labels = m.topic_labels()
    frame = make_frame(W, index, edges, labels=labels, n_bootstrap=bootstrap, seed=seed)
    header = list(frame.columns)
    records = [{k: _cell(v) for k, v in rec.items()} for rec in frame.to_dict("records")]
    for rec in records:
        rec["bin_start"] = _iso(rec["bin_start"])
        rec["bin_end"] = _iso(rec["bin_end"])
    if terms:
        per_topic = bin_top_terms(V, W, m.H, index, len(edges), m.vocabulary, top=5)
        header.append("top_terms")
        for i, rec in enumerate(records):  # topic-major: the bin is the position in a topic
            rec["top_terms"] = per_topic[rec["topic"]][i % len(edges)]
    windows = None
    if m.windows is not None:
        from topicnmf.context import window_topics_frame

        windows = window_topics_frame(m.windows, m.vocabulary)
        header.append("window_terms")
        for rec in records:
            rec["window_terms"] = _window_terms(windows, rec)
    if out.format == "table":
        _trends_table(records, len(edges), terms)
        if windows is not None:
            print_table(
                [("topic", "right"), ("window", "left"), ("window topic's top terms", "left")],
                [[str(r.topic), f"{r.window_start} to {r.window_end}", ", ".join(r.top_terms)]
                 for r in windows.itertuples()],
            )  # fmt: skip
    else:
        write_frame(out, records, header)
    report.info(
        f"{len(kept_texts):,} documents in {len(edges):,} bins from {records[0]['bin_start']} "
        f"to {records[len(edges) - 1]['bin_end']}"
    )


def _window_terms(windows: Any, rec: dict[str, Any]) -> str:
    """A dynamic topic's window topics that start in a bin: their top terms, ' | ' apart."""
    rows = windows[
        (windows["topic"] == rec["topic"])
        & (windows["window_start"] >= rec["bin_start"])
        & (windows["window_start"] < rec["bin_end"])
    ]
    return " | ".join(" ".join(terms) for terms in rows["top_terms"])


def _trends_table(records: list[dict[str, Any]], n_bins: int, terms: bool) -> None:
    rows = []
    for start in range(0, len(records), n_bins):
        chunk = records[start : start + n_bins]
        shares = [r["share"] for r in chunk]
        first = next((s for s in shares if s is not None), None)
        last = next((s for s in reversed(shares) if s is not None), None)
        row = [str(chunk[0]["topic"]), chunk[0]["label"], sparkline(shares),
               "" if first is None else f"{first:.3f}", "" if last is None else f"{last:.3f}",
               str(sum(r["n_dominant"] for r in chunk))]  # fmt: skip
        if terms:
            latest = next((r["top_terms"] for r in reversed(chunk) if r["top_terms"]), [])
            row.append(", ".join(latest))
        rows.append(row)
    columns = [("topic", "right"), ("label", "left"), ("share over time", "left"),
               ("first", "right"), ("last", "right"), ("dominant", "right")]  # fmt: skip
    if terms:
        columns.append(("terms (last bin)", "left"))
    print_table(columns, rows, no_wrap=("label", "share over time"))
    click.echo(f"{n_bins} bins from {records[0]['bin_start']} to {records[n_bins - 1]['bin_end']}")


# ------------------------------------------------------------------------------ groups


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@model_option
@corpus_options
@output_options
@click.option("--group-column", required=True, help="CSV/JSON field holding each document's group.")
@click.option(
    "--min-docs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Hide groups with fewer documents (they still count as the rest for the others).",
)
@click.option(
    "--permutations",
    type=click.IntRange(min=0, max=100_000),
    default=0,
    show_default=True,
    help="Shuffle the groups N times for a p-value of each log-odds ratio (0: z-scores only).",
)
@seed_option("Seed of the shuffles.")
@limit_option(30)
@jobs_option
@quiet_option
def groups(
    corpus: tuple[str, ...],
    model: str | None,
    fmt: str | None,
    output: str | None,
    group_column: str,
    min_docs: int,
    permutations: int,
    seed: int,
    limit: int,
    jobs: int | None,
    quiet: bool,
    **kw: Any,
) -> None:
    """Show which groups (sources, authors, newsgroups...) use which topics most.

    For each topic and group: the group's documents (n_docs), the topic's share of the
    group's topic mass and of the other documents' (share_rest), the documents it dominates,
    and the log-odds ratio of the topic in the group against the rest, with its z-score
    (or, with --permutations, a p-value from shuffled groups). Most over-represented pairs
    first. Documents without a group are left out and counted on stderr.

    \b
    Examples:
      topicnmf groups news.csv --group-column source
      topicnmf groups -m ng.npz 20newsgroups:test --group-column newsgroup --min-docs 50
      topicnmf groups posts.jsonl --group-column author --permutations 1000 -o groups.csv
    """
    from topicnmf.context import check_some, clean_groups
    from topicnmf.context import groups_frame as make_frame
    from topicnmf.context.metadata import WHERE_COLUMN

    set_quiet(quiet)
    report = Reporter(quiet)
    corpus_kw = pop_corpus_options(kw)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt)
    path = _model_input(model, plan)
    columns = {group_column: "group_column"}
    texts, meta = read_with_metadata(corpus, corpus_kw, columns, plan)
    report.reading_stdin(corpus)
    m = load_model(path)
    values, bad = clean_groups(meta[group_column], meta[WHERE_COLUMN], group_column)
    with column_errors(columns):
        check_some(bad, "group")
    _warn(bad, "group")
    keep = values.notna().to_numpy()
    _, W = weights(m, [t for t, k in zip(texts, keep, strict=True) if k], jobs)
    frame = make_frame(W, values[keep].tolist(), labels=m.topic_labels(), min_docs=min_docs,
                       n_permutations=permutations, seed=seed)  # fmt: skip
    records = [{k: _cell(v) for k, v in rec.items()} for rec in frame.to_dict("records")]
    n_groups = int(values[keep].nunique())
    shown_groups = len({r["group"] for r in records})
    if out.format == "table":
        rows = [[r["group"], str(r["topic"]), r["label"], str(r["n_docs"]), f"{r['share']:.3f}",
                 f"{r['share_rest']:.3f}", f"{r['log_odds']:+.2f}", f"{r['z']:+.1f}",
                 "" if r["p_value"] is None else f"{r['p_value']:.3g}"]
                for r in (records[:limit] if limit else records)]  # fmt: skip
        print_table(
            [("group", "left"), ("topic", "right"), ("label", "left"), ("docs", "right"),
             ("share", "right"), ("rest", "right"), ("log-odds", "right"), ("z", "right"),
             ("p", "right")],
            rows,
            no_wrap=("group", "label"),
        )  # fmt: skip
        if limit and len(records) > limit:
            click.echo(f"... and {len(records) - limit:,} more rows; use -o FILE or --limit 0")
    else:
        write_frame(out, records, list(frame.columns))
    hidden = n_groups - shown_groups
    report.info(
        f"{int(keep.sum()):,} documents in {n_groups:,} groups"
        + (f"; {hidden:,} with fewer than {min_docs} documents hidden" if hidden else "")
    )


# ------------------------------------------------------------------------------ evaluate


def label_scores(
    m: Any, V: Any, meta: Any, label_column: str, jobs: int | None
) -> tuple[dict[str, Any], Any]:
    """NMI, ARI, purity and the contingency table of the documents that have a label.

    Returns the JSON-ready figures (the contingency as {topic: {label: count}}) and the
    contingency DataFrame.
    """
    from topicnmf.context import check_some, clean_groups, label_agreement
    from topicnmf.context.metadata import WHERE_COLUMN

    values, bad = clean_groups(meta[label_column], meta[WHERE_COLUMN], label_column)
    with column_errors({label_column: "label_column"}):
        check_some(bad, "label")
    _warn(bad, "label")
    keep = values.notna().to_numpy()
    W = m.transform_matrix(V[keep], n_threads=jobs)
    result = label_agreement(W, values[keep].tolist())
    table = result.pop("contingency")
    result["label_column"] = label_column
    result["n_without_label"] = bad.n_left_out
    result["contingency"] = {
        str(topic): {str(lab): int(n) for lab, n in row.items()} for topic, row in table.iterrows()
    }
    return result, table


def write_contingency(out: Any, table: Any) -> None:
    """The topic x label table: one row per topic (and ``none``), one column per label."""
    header = ["topic", *map(str, table.columns)]
    records = [{"topic": str(t), **{str(c): int(v) for c, v in row.items()}}
               for t, row in table.iterrows()]  # fmt: skip
    write_frame(out, records, header)


# ------------------------------------------------------------------------------ fit (dynamic)


def dynamic_options(f: Any) -> Any:
    """``fit``'s options for dynamic topics: --time-column, --time-format, --windows."""
    f = click.option(
        "--windows",
        metavar="year|quarter|month|week|day|N",
        help="With --time-column: the time windows of a dynamic model, a calendar unit or N "
        "equal spans [default: year].",
    )(f)
    f = click.option(
        "--time-format",
        help="strftime format of the dates (e.g. %d/%m/%Y) [default: ISO 8601, or years].",
    )(f)
    return click.option(
        "--time-column",
        help="Fit dynamic topics (Greene & Cross 2017): one NMF per time window of this "
        "CSV/JSON field, then the model's topics from an NMF of all window topics.",
    )(f)


def pop_dynamic_options(kw: dict[str, Any]) -> dict[str, Any]:
    """Take the dynamic options out of a command's keyword arguments, checked."""
    from topicnmf.context import parse_bins

    dyn = {key: kw.pop(key, None) for key in ("time_column", "time_format", "windows")}
    if not dyn["time_column"]:
        if dyn["windows"] or dyn["time_format"]:
            raise click.UsageError("--windows and --time-format need --time-column")
        return dyn
    with usage_errors():
        try:
            dyn["windows"] = parse_bins(dyn["windows"] or "year")
        except TopicNMFError as exc:
            exc.param = "windows"
            raise
    return dyn


class _Kept:
    """Documents read once and kept, with their corpus's description of its sources."""

    def __init__(self, documents: list[Any], corpus: Any) -> None:
        self.documents = documents
        self.corpus = corpus

    def __iter__(self) -> Iterator[Any]:
        return iter(self.documents)

    def describe_sources(self) -> list[dict[str, object]]:
        return self.corpus.describe_sources()


def windows_for_fit(documents: Any, dyn: dict[str, Any]) -> tuple[Any, Any]:
    """(the documents to fit, the ``windows`` argument of ``model.fit`` or None).

    With a time column, the corpus is read once; documents without a usable date are left
    out (counted on stderr) and each kept one gets its window.
    """
    from topicnmf.context.metadata import ID_COLUMN, WHERE_COLUMN

    if not dyn["time_column"]:
        return documents, None
    from topicnmf.context import assign_bins, check_some, collect, parse_times
    from topicnmf.corpus import Document

    column = dyn["time_column"]
    columns = {column: "time_column"}
    with column_errors(columns):
        texts, meta = collect(documents, columns)
    with usage_errors(), column_errors(columns):
        times, bad = parse_times(
            meta[column], meta[WHERE_COLUMN], column=column, time_format=dyn["time_format"]
        )
        check_some(bad, "date")
    _warn(bad, "date")
    keep = times.notna().to_numpy()
    kept = [Document(doc_id, text) for doc_id, text, k in
            zip(meta[ID_COLUMN].tolist(), texts, keep, strict=True) if k]  # fmt: skip
    index, edges = assign_bins(times[keep].reset_index(drop=True), dyn["windows"])
    starts = [_iso(t) for t in edges["bin_start"]]
    ends = [_iso(t) for t in edges["bin_end"]]
    return _Kept(kept, documents), (index, starts, ends)
