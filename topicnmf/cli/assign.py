"""``topicnmf assign``: the topic weights of documents under a fitted model."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import click

from topicnmf._text import count
from topicnmf.cli.core import log, set_quiet
from topicnmf.cli.options import (
    backend_options,
    batch_size_option,
    corpus_options,
    jobs_option,
    limit_option,
    load_corpus,
    model_option,
    output_options,
    pop_backend,
    pop_corpus_options,
    quiet_option,
)
from topicnmf.cli.output import OutputPlan, Reporter, open_text, print_table
from topicnmf.cli.topics import load_model, model_input


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@model_option
@corpus_options
@output_options
@click.option(
    "--raw", is_flag=True, help="Write W itself instead of weights normalized to sum to 1."
)
@click.option(
    "--top-topics", type=click.IntRange(min=1), help="Only the N strongest topics per document."
)
@batch_size_option
@limit_option(50)
@jobs_option
@quiet_option
@backend_options
def assign(
    corpus: tuple[str, ...],
    model: str | None,
    fmt: str | None,
    output: str | None,
    raw: bool,
    top_topics: int | None,
    batch_size: int,
    limit: int,
    jobs: int | None,
    quiet: bool,
    **kw: Any,
) -> None:
    """Give the topic weights of each document under a fitted model.

    Documents are vectorized with the model's own vocabulary, idf and settings; unknown
    words are ignored. Each row has the document id, one weight per topic (summing to 1
    unless --raw), and the dominant topic. A document with no known word gets zero weights
    and no dominant topic (counted on stderr; not an error).

    \b
    Examples:
      topicnmf assign newdocs/ > weights.csv
      topicnmf assign -m news.npz more.csv --id-column id --format json
      topicnmf assign 20newsgroups:test --data-home ~/data -o test.csv
      cat notes.txt | topicnmf assign - --top-topics 3
    """
    from topicnmf.export import DocTopicWriter

    set_quiet(quiet)
    report = Reporter(quiet)
    corpus_kw = pop_corpus_options(kw)
    backend = pop_backend(kw)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt)
    path = model_input(model, plan)
    documents = load_corpus(corpus, corpus_kw)
    report.reading_stdin(corpus)
    plan.corpus(documents, corpus)
    m = load_model(path)
    from topicnmf.cli.backend import weigher
    from topicnmf.model import normalize_rows

    labels = m.topic_labels()
    t0 = time.perf_counter()
    n_docs = n_no_word = n_zero = 0
    table_rows: list[list[str]] = []
    table = out.format == "table"
    with (
        documents,
        report.progress("Assigning documents") as update,
        open_text(out) if not table else contextlib.nullcontext() as fh,
        weigher(m, backend, jobs) as weigh,
    ):
        writer = None if table else DocTopicWriter(fh, out.format, labels, top_topics)
        for batch in documents.iter_batches(batch_size):
            ids = [d.id for d in batch]
            W, no_word = weigh([d.text for d in batch])
            zero = ~(W > 0).any(axis=1)
            n_no_word += int(no_word.sum())
            n_zero += int((zero & ~no_word).sum())
            weights = W if raw else normalize_rows(W)
            n_docs += len(ids)
            if writer is not None:
                writer.write(ids, weights)
            elif not limit or len(table_rows) < limit:
                rows = _table_rows(ids, weights, labels, top_topics or 3)
                table_rows.extend(rows[: limit - len(table_rows)] if limit else rows)
            update(description=f"Assigning documents ({n_docs:,})")
        if writer is not None:
            writer.close()
    if table:
        print_table(
            [("id", "left"), ("dominant topic", "left"), ("weight", "right"),
             ("top topics", "left")],
            table_rows,
            no_wrap=("weight", "top topics"),
        )  # fmt: skip
        if len(table_rows) < n_docs:
            more = n_docs - len(table_rows)
            click.echo(
                f"... and {count(more, 'more document')}; use -o FILE or --format csv for all "
                "of them, or --limit 0"
            )
    _warn_zero_rows(n_docs, n_no_word, n_zero)
    report.info(
        f"Assigned {count(n_docs, 'document')} to {count(m.n_topics, 'topic')} "
        f"in {time.perf_counter() - t0:.2f} s"
    )


def _warn_zero_rows(n_docs: int, n_no_word: int, n_zero: int) -> None:
    """Say why documents got no topic: no known word, or a model that gives them none."""
    if n_no_word:
        verb = "has" if n_no_word == 1 else "have"
        log.warning(
            f"{n_no_word:,} of {count(n_docs, 'document')} {verb} no word of the model's "
            "vocabulary; their weights are zero and they have no dominant topic"
        )
    if n_zero:
        verb = "has" if n_zero == 1 else "have"
        log.warning(
            f"{n_zero:,} of {count(n_docs, 'document')} {verb} words of the model's vocabulary "
            "but a zero weight for every topic (a model whose fit collapsed, e.g. under a strong "
            "--alpha-w, gives every document zero weights); they have no dominant topic"
        )


def _table_rows(ids: list[str], W: Any, labels: list[str], top: int) -> list[list[str]]:
    import numpy as np

    rows = []
    for doc_id, row in zip(ids, W, strict=True):
        if not (row > 0).any():
            rows.append([doc_id, "-", "0", ""])
            continue
        order = [int(t) for t in np.argsort(-row, kind="stable")[:top] if row[t] > 0]
        t = order[0]
        rows.append(
            [
                doc_id,
                f"{t} {labels[t]}",
                f"{row[t]:.3f}",
                ", ".join(f"{u} ({row[u]:.2f})" for u in order),
            ]
        )
    return rows
