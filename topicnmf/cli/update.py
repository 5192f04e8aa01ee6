"""``topicnmf update`` and ``fit --stream``: models from corpora read as streams."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import click

from topicnmf._text import count
from topicnmf.cli.core import log, set_quiet
from topicnmf.cli.options import (
    corpus_options,
    load_corpus,
    model_option,
    pop_corpus_options,
    quiet_option,
    usage_errors,
)
from topicnmf.cli.output import OutputPlan, Reporter

_UNITS = {"": 1 << 20, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


class MemorySize(click.ParamType):
    """A size in bytes written like 512M, 2G or 1.5G (a bare number is in MiB)."""

    name = "SIZE"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*", str(value), re.I)
        if not match or float(match.group(1)) <= 0:
            self.fail(f"{value!r} is not a size such as 512M or 2G", param, ctx)
        return max(1, int(float(match.group(1)) * _UNITS[match.group(2).upper()]))


def stream_options(passes: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--batch-size, --passes and --max-vocab-memory (``passes``: the default)."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(
            [
                click.option(
                    "--batch-size",
                    type=click.IntRange(min=1, max=10_000_000),
                    default=4096,
                    show_default=True,
                    help="Documents per online NMF step (with --stream).",
                ),
                click.option(
                    "--passes",
                    type=click.IntRange(min=1, max=1000),
                    default=passes,
                    show_default=True,
                    help="Passes of online NMF over the corpus (with --stream), after the "
                    "pass that counts terms.",
                ),
                click.option(
                    "--max-vocab-memory",
                    type=MemorySize(),
                    default="1G",
                    show_default=True,
                    help="Memory for counting terms while streaming; past it the rarest "
                    "terms are dropped (counts stay exact for common terms).",
                ),
            ]
        ):
            f = option(f)
        return f

    return decorate


def progress_hook(update: Callable[..., None], k: int) -> Callable[[int, int, int, float], None]:
    """Progress of a streamed fit: the pass, the documents read in it and their rate."""

    def hook(p: int, total: int, n: int, rate: float) -> None:
        what = "counting terms" if p == 1 and total > 1 else f"{k} topics"
        speed = f", {rate:,.0f} documents/s" if rate else ""
        update(description=f"Pass {p}/{total} ({what}): {n:,} documents{speed}")

    return hook


def fit_streamed(
    documents: Any,
    vec_config: Any,
    config: Any,
    report: Reporter,
    *,
    batch_size: int,
    passes: int,
    max_vocab_memory: int,
) -> Any:
    """``fit --stream``: the model of a streamed fit, with progress and a summary."""
    import time

    from topicnmf.stream import fit_stream

    t0 = time.perf_counter()
    with documents, report.progress("Streaming documents") as update, usage_errors():
        out = fit_stream(
            documents,
            vec_config,
            config,
            batch_size=batch_size,
            passes=passes,
            max_vocab_bytes=max_vocab_memory,
            on_progress=progress_hook(update, config.n_components) if report.interactive else None,
        )
    seconds = time.perf_counter() - t0
    stats = out.model.stats
    if out.pruned_floor:
        log.warning(
            f"counting terms reached --max-vocab-memory: terms seen in at most "
            f"{out.pruned_floor:,} documents at that point were dropped, so rare terms' "
            "counts may be that much low; give more memory for exact counts"
        )
    report.info(
        f"Streamed {count(out.n_documents, 'document')} in {1 + passes} passes "
        f"({(1 + passes) * out.n_documents / max(seconds, 1e-9):,.0f} documents/s); vocabulary "
        f"{count(stats.n_terms, 'term')}"
    )
    report.info(
        f"Online NMF k={config.n_components} (batch {batch_size:,}): relative error "
        f"{stats.relative_error:.4f} on the last pass ({seconds:.2f} s)"
    )
    return out.model


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@model_option
@click.option("-o", "--output", required=True, type=click.Path(), help="The updated model (.npz).")
@corpus_options
@click.option(
    "--vocabulary",
    type=click.Choice(["fixed", "grow"]),
    default="fixed",
    show_default=True,
    help="fixed: keep the model's vocabulary and idf; grow: add new terms that pass the "
    "model's --min-df and recompute idf.",
)
@stream_options(passes=1)
@quiet_option
def update(
    corpus: tuple[str, ...],
    model: str | None,
    output: str,
    vocabulary: str,
    batch_size: int,
    passes: int,
    max_vocab_memory: int,
    quiet: bool,
    **kw: Any,
) -> None:
    """Fold new documents into a fitted model, without starting over.

    The topics start from the model's and move as much as the new documents' share of all
    documents; the new model records its parent and the documents added, and
    `topicnmf compare OLD NEW` shows how far the topics moved.

    \b
    Examples:
      topicnmf update -m news.npz january/ -o news-jan.npz
      topicnmf update -m news.npz more.csv --vocabulary grow -o news2.npz
      topicnmf compare news.npz news2.npz
    """
    import time

    from topicnmf.cli.topics import load_model, model_input
    from topicnmf.stream import update as update_model

    set_quiet(quiet)
    report = Reporter(quiet)
    corpus_kw = pop_corpus_options(kw)
    plan = OutputPlan()
    out_file = plan.file("-o", output)
    path = model_input(model, plan)
    documents = load_corpus(corpus, corpus_kw)
    report.reading_stdin(corpus)
    plan.corpus(documents, corpus)
    parent = load_model(path)
    t0 = time.perf_counter()
    with documents, report.progress("Updating") as progress, usage_errors():
        hook = progress_hook(progress, parent.n_topics) if report.interactive else None
        out = update_model(
            parent,
            documents,
            vocabulary=vocabulary,
            batch_size=batch_size,
            passes=passes,
            max_vocab_bytes=max_vocab_memory,
            on_progress=hook,
        )
    out.model.save(out_file.target)
    added = f", {count(out.terms_added, 'new term')}" if vocabulary == "grow" else ""
    report.info(
        f"Added {count(out.n_documents, 'document')} to {path}{added} "
        f"({time.perf_counter() - t0:.2f} s); wrote {output}"
    )
