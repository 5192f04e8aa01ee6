"""``topicnmf topics`` and ``topicnmf info``: what a model holds."""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from topicnmf._text import count
from topicnmf.cli.core import set_quiet
from topicnmf.cli.fit import render_topics
from topicnmf.cli.options import model_option, model_path, output_options, quiet_option
from topicnmf.cli.output import OutputPlan, open_text, print_table


def load_model(path: str) -> Any:
    from topicnmf.model import TopicModel

    return TopicModel.load(path)


def model_input(model: str | None, plan: Any) -> str:
    """The model's path (-m, or the default), recorded as an input of ``plan`` and checked
    (missing, a folder, a pipe...) before any corpus is read."""
    import os

    path = model_path(model)
    plan.input("-m", path)
    if not os.path.isfile(path):
        load_model(path)  # says what is wrong and stops
    return path


def pick_model(positional: str | None, option: str | None) -> str:
    """The model named positionally or with -m (not both), else the default."""
    if positional and option:
        raise click.UsageError("name the model once: as the first argument or with -m")
    return model_path(positional or option)


@click.command()
@click.argument("model_arg", metavar="[MODEL]", required=False, type=click.Path())
@model_option
@click.option(
    "-n",
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Terms per topic.",
)
@output_options
@quiet_option
def topics(
    model_arg: str | None,
    model: str | None,
    top: int,
    fmt: str | None,
    output: str | None,
    quiet: bool,
) -> None:
    """Show the top terms of each topic.

    Topics are numbered from 0 and ordered by their share of the corpus, largest first.
    Each has a label (its top three terms, joined by '_') and its share.

    \b
    Examples:
      topicnmf topics                        # model.npz, table on a terminal
      topicnmf topics news.npz --top 5 --format json
      topicnmf topics -m news.npz -o topics.csv
    """
    from topicnmf.export import topic_records

    set_quiet(quiet)
    path = pick_model(model_arg, model)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt)
    plan.input("MODEL", path)
    records = topic_records(load_model(path), top)
    if out.format == "table":
        render_topics(records, "table", None)
        return
    with open_text(out) as fh:
        render_topics(records, out.format, fh)


def model_info(m: Any, path: str) -> dict[str, Any]:
    """Everything worth knowing about a model, as plain data (for table and JSON).

    The stop words are listed in full, and so are the boilerplate lines and phrases the
    token rules found (``vectorizer_fit``, with the tokens each rule removed); ``sources``
    are the training sources as given, with the settings each was read with, and
    ``sources_total`` how many there were (a long list is recorded only in part); both are
    None for a model that does not record them.
    """
    vec = m.vectorizer
    cfg = dataclasses.asdict(vec.config)
    cfg["stop_words"] = list(cfg.pop("stop_words", ()))  # last, as the longest
    sources = m.sources
    return {
        "file": path,
        "format_version": m.format_version,
        "topics": m.n_topics,
        "terms": len(m.vocabulary),
        "labels": m.topic_labels(),
        "user_labels": {str(t): x for t, x in enumerate(m.labels or []) if x},
        "topic_share": [round(float(s), 6) for s in m.topic_share],
        "vectorizer": cfg,
        # what the token rules removed and found at fit time (empty for older models)
        "vectorizer_fit": {
            "removed_tokens": dict(vec.removed),
            "boilerplate_documents": vec.boilerplate_documents,
            "boilerplate_lines": list(vec.boilerplate),
            "phrases": vec.phrases.tokens,
        },
        "nmf": dataclasses.asdict(m.nmf_config),
        "fit": _fit_stats(m.stats),
        "versions": m.versions,
        "corpus_fingerprint": m.fingerprint,
        "sources": None if sources is None else [_in_order(r) for r in sources.records],
        "sources_total": None if sources is None else sources.total,
        "created": m.created,
        "stored_doc_topics": None if m.doc_ids is None else len(m.doc_ids),
        "tree": _tree_info(m.tree),
        # a model made by `update`: its parent and what was added (None otherwise)
        "lineage": m.lineage,
    }


def _tree_info(tree: Any) -> dict[str, int] | None:
    """The size of the topic tree whose leaves are the topics (None: the model has none);
    depth counts splits from the root to the deepest leaf."""
    if tree is None:
        return None
    return {
        "nodes": len(tree.nodes),
        "leaves": len(tree.leaves),
        "depth": max(depth for _, depth in tree.walk()),
    }


# a source's settings in the order a reader thinks of them (the file stores them sorted)
_SOURCE_KEYS = ("source", "kind", "subset", "format", "glob", "exclude", "text_column",
                "id_column", "csv_lenient", "encoding", "encoding_errors", "categories",
                "remove")  # fmt: skip


def _in_order(record: dict[str, Any]) -> dict[str, Any]:
    known = {key: record[key] for key in _SOURCE_KEYS if key in record}
    return {**known, **{k: v for k, v in record.items() if k not in known}}


def info_rows(data: dict[str, Any]) -> list[list[str]]:
    """The (field, value) rows of the info table: settings flattened, stop words counted,
    one row per training source; no tree rows for a model without a tree."""
    rows = []
    for key, value in data.items():
        if key == "sources":
            rows.extend(_source_rows(value, data["sources_total"]))
        elif key == "sources_total" or (key in ("tree", "lineage") and value is None):
            continue
        elif isinstance(value, dict):
            for sub, v in value.items():
                if key == "vectorizer" and sub == "stop_words":
                    v = count(len(v), "word")
                elif key == "vectorizer_fit":
                    v = _fit_value(sub, v)
                rows.append([f"{key}.{sub}", str(v)])
        elif isinstance(value, list):
            rows.append([key, ", ".join(str(v) for v in value)])
        else:
            rows.append([key, str(value)])
    return rows


def _fit_value(name: str, value: Any) -> str:
    """A vectorizer_fit entry for the table: counts, with the first phrases shown."""
    if name == "removed_tokens":
        return ", ".join(f"{rule} {n:,}" for rule, n in value.items()) or "not recorded"
    if name == "boilerplate_lines":
        return count(len(value), "line")
    if name == "phrases":
        shown = ", ".join(value[:8]) + (", ..." if len(value) > 8 else "")
        return count(len(value), "phrase") + (f": {shown}" if value else "")
    return f"{value:,}" if isinstance(value, int) else str(value)


def _source_rows(records: list[dict[str, Any]] | None, total: int | None) -> list[list[str]]:
    if records is None or total is None:
        return [["sources", "not recorded in this model"]]
    rows = []
    for i, record in enumerate(records, start=1):
        settings = [
            f"{key} {', '.join(value) if isinstance(value, list) else value}"
            for key, value in record.items()
            if key not in ("source", "kind") and value not in (None, [])
        ]
        rows.append(
            [f"source {i}", f"{record['source']} ({'; '.join([record['kind'], *settings])})"]
        )
    if total > len(records):
        rows.append(["sources", f"... and {total - len(records):,} more ({total:,} in all)"])
    return rows


def _fit_stats(stats: Any) -> dict[str, Any] | None:
    """The fit statistics a model holds (timings only when it stored them: older models)."""
    if stats is None:
        return None
    return {k: v for k, v in dataclasses.asdict(stats).items() if v is not None}


@click.command()
@click.argument("model_arg", metavar="[MODEL]", required=False, type=click.Path())
@model_option
@click.option(
    "-o",
    "--output",
    type=click.Path(allow_dash=True),
    help="Write the description to this file (JSON) instead of stdout.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    help="Output format [default: table on a terminal, else json].",
)
@quiet_option
def info(
    model_arg: str | None, model: str | None, output: str | None, fmt: str | None, quiet: bool
) -> None:
    """Describe a model: sizes, settings, fit statistics, versions, training sources,
    and the topic tree of a model saved by 'topicnmf tree'.

    \b
    Examples:
      topicnmf info
      topicnmf info news.npz --format json
    """
    from topicnmf.export import json_text

    set_quiet(quiet)
    path = pick_model(model_arg, model)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt, formats=("json",))
    plan.input("MODEL", path)
    data = model_info(load_model(path), path)
    if out.format == "json":
        with open_text(out) as fh:
            fh.write(json_text(data, indent=2) + "\n")
        return
    print_table([("field", "left"), ("value", "left")], info_rows(data))
