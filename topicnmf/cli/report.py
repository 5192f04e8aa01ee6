"""``topicnmf report``: one self-contained HTML page to look at a model."""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any

import click

from topicnmf.cli.core import set_quiet
from topicnmf.cli.options import (
    corpus_options,
    jobs_option,
    load_corpus,
    model_option,
    model_path,
    pop_corpus_options,
    quiet_option,
    usage_errors,
)
from topicnmf.cli.output import OutputPlan, Reporter
from topicnmf.cli.topics import info_rows, load_model, model_info
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
    "--batch-size",
    type=click.IntRange(min=1, max=10_000_000),
    default=4096,
    show_default=True,
    help="Documents read and weighed at a time (bounds memory).",
)
@jobs_option
@quiet_option
def report(
    corpus: tuple[str, ...],
    model: str | None,
    output: str,
    n_docs: int,
    no_text: bool,
    select_k_path: str | None,
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
    --save-doc-topics (ids only). The same inputs give the same bytes.

    \b
    Examples:
      topicnmf report -o report.html
      topicnmf report -m news.npz news.csv --id-column id -o news.html
      topicnmf report -m ng.npz 20newsgroups:train --no-text --select-k choice.json
    """
    set_quiet(quiet)
    reporter = Reporter(quiet)
    corpus_kw = pop_corpus_options(kw)
    plan = OutputPlan()
    out = plan.file("-o", output)
    path = model_path(model)
    plan.input("-m", path)
    if select_k_path:
        plan.input("--select-k", select_k_path)
    if not os.path.isfile(path):
        load_model(path)  # says what is wrong (missing, a folder, a pipe...) and stops
    documents = load_corpus(corpus, corpus_kw) if corpus else None
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
        docs = _documents(m, documents, n_docs, no_text, batch_size, jobs, update)
    page = _page(m, path, docs, select_k)
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

    def batches() -> Any:
        count = 0
        for batch in documents.iter_batches(batch_size):
            count += len(batch)
            update(description=f"Reading documents ({count:,})")
            yield batch

    with usage_errors():
        result = representative_documents(
            m,
            batches if documents is not None else None,
            top=n,
            snippet_chars=0 if no_text else 300,
            n_threads=jobs,
        )
    per_topic: list[list[dict[str, Any]]] = [[] for _ in range(m.n_topics)]
    for r in result.rows:
        per_topic[r.topic].append({"id": r.id, "weight": round(r.weight, 4), "snippet": r.snippet})
    return per_topic


def _page(m: Any, path: str, docs: Any, select_k: Any) -> str:
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
