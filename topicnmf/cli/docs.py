"""``topicnmf docs``: the documents that best represent each topic."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import click

from topicnmf._text import count
from topicnmf.cli.backend import weigher
from topicnmf.cli.core import set_quiet
from topicnmf.cli.options import (
    FiniteFloat,
    backend_options,
    batch_size_option,
    corpus_options,
    jobs_option,
    load_corpus,
    model_option,
    output_options,
    pop_backend,
    pop_corpus_options,
    quiet_option,
    usage_errors,
)
from topicnmf.cli.output import OutputPlan, Reporter, counted_batches, open_text, print_table
from topicnmf.cli.topics import load_model, model_input

DOCS_COLUMNS = ["topic", "label", "rank", "id", "weight", "snippet"]


def docs_records(result: Any, labels: list[str], full_text: bool) -> list[dict[str, Any]]:
    """Plain records (one per topic and rank) of a representative-documents result."""
    from topicnmf.export import num

    records = []
    for r in result.rows:
        rec: dict[str, Any] = {
            "topic": r.topic,
            "label": labels[r.topic],
            "rank": r.rank,
            "id": r.id,
            "weight": num(r.weight),
            "snippet": r.snippet,
        }
        if full_text:
            rec["text"] = r.text
        records.append(rec)
    return records


@click.command()
@click.argument("corpus", nargs=-1, type=click.Path(allow_dash=True))
@model_option
@corpus_options
@click.option(
    "-n",
    "--top",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Documents per topic.",
)
@click.option(
    "--topic",
    "topic_ids",
    type=click.IntRange(min=0),
    multiple=True,
    metavar="T",
    help="Only this topic; repeat for several (--topic 0 --topic 3) [default: all].",
)
@click.option(
    "--min-weight",
    type=FiniteFloat(0, 1),
    default=0.0,
    show_default=True,
    help="Leave out documents whose weight for the topic (weights sum to 1) is below this.",
)
@click.option("--exclusive", is_flag=True, help="Only documents whose dominant topic it is.")
@click.option(
    "--snippet-chars",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Characters of each document shown, whitespace collapsed (0: none).",
)
@click.option("--full-text", is_flag=True, help="Add each document's whole text (a text column).")
@output_options
@batch_size_option
@jobs_option
@backend_options
@quiet_option
def docs(
    corpus: tuple[str, ...],
    model: str | None,
    top: int,
    topic_ids: tuple[int, ...],
    min_weight: float,
    exclusive: bool,
    snippet_chars: int,
    full_text: bool,
    fmt: str | None,
    output: str | None,
    batch_size: int,
    jobs: int | None,
    quiet: bool,
    **kw: Any,
) -> None:
    """Show the documents that best represent each topic.

    Documents are ranked by their weight for the topic (weights sum to 1 per document),
    ties by id. The corpus is read in batches and only the best documents are kept, so any
    size of corpus fits in memory. Without CORPUS, a model fitted with --save-doc-topics
    ranks its training documents (ids only); with the training corpus, it uses the stored
    weights instead of computing them again.

    \b
    Examples:
      topicnmf docs docs/ --top 3
      topicnmf docs -m news.npz news.csv --id-column id --topic 2 --topic 5
      topicnmf docs 20newsgroups:train --exclusive --min-weight 0.5 -o best.csv
      topicnmf docs articles.jsonl --full-text --format json
    """
    from topicnmf.explore.documents import representative_documents

    set_quiet(quiet)
    report = Reporter(quiet)
    corpus_kw = pop_corpus_options(kw)
    backend = pop_backend(kw)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt)
    path = model_input(model, plan)
    documents = load_corpus(corpus, corpus_kw) if corpus else None
    if documents is not None:
        report.reading_stdin(corpus)
        plan.corpus(documents, corpus)
    m = load_model(path)
    if documents is None and m.W is None:
        raise click.UsageError(
            "give a CORPUS: this model holds no training document weights (fit it with "
            "--save-doc-topics to rank its training documents without one)"
        )
    t0 = time.perf_counter()
    with (
        documents if documents is not None else contextlib.nullcontext(),
        weigher(m, backend, jobs) as weigh,
        report.progress("Reading documents") as update,
    ):
        with usage_errors():
            result = representative_documents(
                m,
                counted_batches(documents, batch_size, update) if documents is not None else None,
                top=top,
                topics=list(topic_ids) or None,
                min_weight=min_weight,
                exclusive=exclusive,
                snippet_chars=snippet_chars,
                full_text=full_text,
                n_threads=jobs,
                weigh=None if backend.kind == "local" else (lambda texts: weigh(texts)[0]),
            )
    records = docs_records(result, m.topic_labels(), full_text)
    _write(records, out, full_text)
    how = {
        "stored": "the weights stored in the model",
        "stored-without-text": "the weights stored in the model (no corpus: ids only)",
        "computed": "computed weights",
    }[result.source]
    report.info(
        f"Ranked {count(result.n_documents, 'document')} for "
        f"{count(len(topic_ids) or m.n_topics, 'topic')} with {how} "
        f"in {time.perf_counter() - t0:.2f} s"
    )


def _write(records: list[dict[str, Any]], out: Any, full_text: bool) -> None:
    from topicnmf.export import write_rows

    header = DOCS_COLUMNS + (["text"] if full_text else [])
    if out.format == "table":
        print_table(
            [("topic", "right"), ("label", "left"), ("rank", "right"), ("id", "left"),
             ("weight", "right"), ("snippet", "left")],
            [[r["topic"], r["label"], r["rank"], r["id"], f"{r['weight']:.3f}", r["snippet"]]
             for r in records],
            no_wrap=("weight",),
        )  # fmt: skip
        return
    rows = [[r[c] if c != "weight" else f"{r[c]:.6g}" for c in header] for r in records]
    with open_text(out) as fh:
        write_rows(header, rows, out.format, fh, records)
