"""``topicnmf fit``: learn topics from a corpus, write the model, show the topic table."""

from __future__ import annotations

import dataclasses
import os
from typing import IO, Any

import click

from topicnmf._text import count
from topicnmf.cli.context import (
    column_errors,
    dynamic_options,
    pop_dynamic_options,
    windows_for_fit,
)
from topicnmf.cli.core import log, set_quiet
from topicnmf.cli.options import (
    FiniteFloat,
    backend_options,
    corpus_options,
    jobs_option,
    load_corpus,
    model_path,
    nmf_config,
    nmf_options,
    pop_backend,
    pop_corpus_options,
    quiet_option,
    usage_errors,
    vectorizer_config,
    vectorizer_options,
)
from topicnmf.cli.output import (
    EXTENSIONS,
    OutputPlan,
    Reporter,
    open_text,
    print_table,
    split_extension,
)
from topicnmf.cli.update import fit_streamed, stream_options


def render_topics(records: list[dict[str, Any]], fmt: str, fh: IO[str] | None) -> None:
    """The topic table: readable on a terminal, else in a machine format."""
    from topicnmf.export import write_topics

    if fmt == "table":
        rows = [
            [str(r["topic"]), f"{100 * r['share']:.1f}%", ", ".join(t["term"] for t in r["terms"])]
            for r in records
        ]
        print_table([("topic", "right"), ("share", "right"), ("top terms", "left")], rows)
    else:
        assert fh is not None
        write_topics(records, fh, fmt)


def check_model_path(option: str, path: str) -> None:
    """A model path that names a table format is a mistake for -o (usage error with a hint)."""
    ext, _ = split_extension(path)
    if ext in EXTENSIONS:
        raise click.UsageError(
            f"{option} {path!r} names the model file, which is an .npz; the topic table "
            f"goes to -o {path}"
        )


def check_table_path(option: str, path: str | None) -> None:
    if path and split_extension(path)[0] == ".npz":
        raise click.UsageError(
            f"{option} {path!r} is a table output; to choose where the model goes, use -m {path}"
        )


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option(
    "-k",
    "--topics",
    "k",
    type=click.IntRange(min=1, max=100_000),
    default=10,
    show_default=True,
    help="Number of topics.",
)
@click.option(
    "-m",
    "--model",
    type=click.Path(),
    help="Model file to write [default: $TOPICNMF_MODEL or model.npz].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(allow_dash=True),
    help="Write the topic table here instead of stdout (.csv, .tsv, .json, .jsonl, "
    "optionally .gz).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "tsv", "json", "jsonl"]),
    help="Format of the topic table [default: table on a terminal, else from -o's extension, "
    "else csv].",
)
@corpus_options
@vectorizer_options
@nmf_options
@click.option(
    "--topics-out",
    type=click.Path(allow_dash=True),
    help="Also write the topic table (at least 10 terms a topic) here.",
)
@click.option(
    "--doc-topics-out",
    type=click.Path(allow_dash=True),
    help="Also write the training documents' topic weights here.",
)
@click.option(
    "--save-doc-topics",
    is_flag=True,
    help="Store the training documents' ids and weights (W) in the model.",
)
@click.option(
    "-n",
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Terms per topic in the topic table.",
)
@click.option(
    "--seed-topics",
    type=click.Path(dir_okay=False),
    help="Guided topics: a file of lines 'Label: word, word, \"two words\"' ('#' comments). "
    "They become the first topics, with their labels; the rest are found freely. Use it when "
    "you know some topics you want to see.",
)
@click.option(
    "--seed-strength",
    type=FiniteFloat(min=0),
    help="Pull of the seeded topics towards their seed words' profile (a penalty on H, "
    "scaled by the number of documents like --alpha-h); 0 only starts them from the seeds. "
    "Raise it if seeded topics drift from their words.  [default: 0.01]",
)
@click.option(
    "--stream",
    is_flag=True,
    help="Read the corpus in passes, never all in memory (online NMF; W is not kept).",
)
@stream_options(passes=3)
@jobs_option
@quiet_option
@backend_options
@dynamic_options
def fit(
    corpus: tuple[str, ...],
    k: int,
    model: str | None,
    output: str | None,
    fmt: str | None,
    topics_out: str | None,
    doc_topics_out: str | None,
    save_doc_topics: bool,
    top: int,
    seed_topics: str | None,
    seed_strength: float | None,
    jobs: int | None,
    quiet: bool,
    stream: bool,
    batch_size: int,
    passes: int,
    max_vocab_memory: int,
    **kw: Any,
) -> None:
    """Learn topics from a corpus and write the model.

    CORPUS is a directory of text files, a .txt (one document per line), .csv/.tsv,
    .jsonl or .json file (optionally .gz), '-' for standard input, or
    20newsgroups[:train|test|all].
    The model goes to model.npz unless -m says otherwise; the topic table goes to stdout
    (or -o FILE) and a summary to stderr.

    \b
    Examples:
      topicnmf fit docs/ -k 8
      topicnmf fit articles.csv -k 4 --id-column id -m articles.npz
      topicnmf fit 20newsgroups:train -k 20 --data-home ~/data
      topicnmf fit docs/ -k 8 -o topics.json --doc-topics-out weights.csv
      topicnmf fit big.jsonl.gz -k 50 --stream --batch-size 8192
    """
    from topicnmf.export import DocTopicWriter, topic_records

    set_quiet(quiet)
    report = Reporter(quiet)
    path = model_path(model)
    check_model_path("-m" if model else "the model path", path)
    check_table_path("-o", output)
    check_table_path("--topics-out", topics_out)
    check_table_path("--doc-topics-out", doc_topics_out)
    corpus_kw = pop_corpus_options(kw)
    backend = pop_backend(kw)
    dyn = pop_dynamic_options(kw)
    if stream:
        _check_stream_options(kw, dyn, seed_topics)
        if backend.kind == "dask":
            raise click.UsageError("--stream cannot go with --backend dask: choose one")
    vec_config = vectorizer_config(kw)
    if stream and vec_config.max_line_df is not None:
        # the default boilerplate rule needs every text at once: a streamed fit keeps lines
        vec_config = dataclasses.replace(vec_config, max_line_df=None)
    config = nmf_config(k, kw)
    # every output is settled before the work starts: a typo in a path must not cost a fit
    plan = OutputPlan()
    model_out = plan.file("-m", path)
    table_out = plan.data("-o", output, fmt)
    topics_file = (
        plan.data("--topics-out", topics_out, None, table_ok=False) if topics_out else None
    )
    doc_file = (
        plan.data("--doc-topics-out", doc_topics_out, None, table_ok=False)
        if doc_topics_out
        else None
    )
    for stop_file in stop_word_files(kw.get("stop_words")):
        plan.input("--stop-words", stop_file)
    if seed_topics is not None and dyn["windows"]:
        raise click.UsageError("--seed-topics cannot go with --windows: leave one of them out")
    if seed_strength is not None and seed_topics is None:
        raise click.UsageError("--seed-strength needs --seed-topics (the topics it pulls)")
    seeds = read_seeds(seed_topics, config, plan)
    with column_errors({dyn["time_column"]: "time_column"}):
        documents = load_corpus(corpus, corpus_kw, (dyn["time_column"],) if dyn["windows"] else ())
    report.reading_stdin(corpus)
    plan.corpus(documents, corpus)

    if stream:
        if save_doc_topics or doc_topics_out:
            option = "--save-doc-topics" if save_doc_topics else "--doc-topics-out"
            raise click.UsageError(
                f"{option} needs the training weights, which --stream does not keep; "
                "run topicnmf assign on the corpus instead"
            )
        fitted = fit_streamed(
            documents, vec_config, config, report,
            batch_size=batch_size, passes=passes, max_vocab_memory=max_vocab_memory,
        )  # fmt: skip
        fitted.save(model_out.target)
        removals = removal_summary(fitted.vectorizer)
        if removals:
            report.info(removals)
        report.info(
            "Wrote " + ", ".join([path] + [p for p in (output, topics_out) if p and p != "-"])
        )
        _write_topic_tables(fitted, top, table_out, topics_file)
        return

    from topicnmf.cli.backend import run_fit
    from topicnmf.model import normalize_rows

    # one progress line: reading, then fitting (a bar per stage would show both at once)
    with documents, report.progress("Reading documents") as update:

        def on_document(n: int) -> None:
            update(description=f"Reading documents ({n:,})")

        def on_vectorized(n_docs: int, n_terms: int, nnz: int) -> None:
            update(description=f"Fitting {k} topics to {count(n_docs, 'document')}", force=True)

        def on_iteration(i: int, loss: float) -> None:
            update(description=f"Fitting {k} topics: iteration {i}, loss {loss:.6g}")

        training, windows = windows_for_fit(documents, dyn)
        out = run_fit(
            backend,
            training,
            vec_config,
            config,
            n_jobs=jobs,
            save_doc_topics=save_doc_topics,
            on_document=on_document if report.interactive else None,
            on_iteration=on_iteration if report.interactive else None,
            on_vectorized=on_vectorized if report.interactive else None,
            seed_topics=seeds,
            seed_strength=0.01 if seed_strength is None else seed_strength,
            windows=windows,
        )
    fitted = out.model
    stats = fitted.stats
    assert stats is not None
    skipped = documents.stats.skipped_binary
    if out.empty_documents:
        n = out.empty_documents
        log.warning(
            f"{n:,} of {count(stats.n_documents, 'training document')} "
            f"{'has' if n == 1 else 'have'} no word of the vocabulary (after the token rules, "
            f"--min-df and --max-df); {'it has' if n == 1 else 'they have'} no topic weights"
        )
    fitted.save(model_out.target)
    if topics_file is not None:
        with open_text(topics_file) as fh:
            render_topics(topic_records(fitted, max(top, 10)), topics_file.format, fh)
    if doc_file is not None:
        with open_text(doc_file) as fh:
            writer = DocTopicWriter(fh, doc_file.format, fitted.topic_labels(), None)
            writer.write(out.doc_ids, normalize_rows(out.W))
            writer.close()
    report.info(
        f"Read {count(stats.n_documents, 'document')}"
        + (f" ({skipped:,} binary files skipped)" if skipped else "")
        + f"; vocabulary {count(stats.n_terms, 'term')}, {count(stats.n_nonzero, 'non-zero')} "
        f"({stats.seconds_read_vectorize:.2f} s)"
    )
    removals = removal_summary(fitted.vectorizer)
    if removals:
        report.info(removals)
    report.info(
        f"NMF k={k} ({config.loss}, {config.solver}, init {config.init}): "
        f"{stats.n_iter} iterations, loss {stats.loss:.6g}, relative error "
        f"{stats.relative_error:.4f} ({stats.seconds_nmf:.2f} s)"
    )
    written = [path] + [p for p in (output, topics_out, doc_topics_out) if p and p != "-"]
    report.info("Wrote " + ", ".join(written))
    records = topic_records(fitted, top)
    if table_out.format == "table":
        render_topics(records, "table", None)
    else:
        with open_text(table_out) as fh:
            render_topics(records, table_out.format, fh)


def stop_word_files(spec: str | None) -> list[str]:
    """The files a --stop-words value reads (it may also name lists, or be 'none')."""
    from topicnmf.config import STOP_WORD_LISTS

    if not spec:
        return []
    if os.path.exists(spec) and spec.strip().lower() not in STOP_WORD_LISTS:
        return [spec]
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    return [p for p in parts if p.lower() not in (*STOP_WORD_LISTS, "none") and os.path.exists(p)]


def removal_summary(vectorizer: Any) -> str:
    """One line: what each token rule removed at fit time (only the rules that did).

    Tokens for the rules that read tokens (stop words, numbers, one-character tokens,
    addresses, boilerplate lines); occurrences of the terms the document-frequency limits removed.
    """
    removed = vectorizer.removed
    parts = []
    for rule, noun in (
        ("stop_words", "stop word"),
        ("numbers", "number"),
        ("short", "one-character token"),
    ):
        if removed.get(rule):
            parts.append(count(removed[rule], noun))
    if removed.get("addresses"):
        parts.append(f"{count(removed['addresses'], 'token')} of e-mail and web addresses")
    if removed.get("boilerplate"):
        parts.append(
            f"{count(removed['boilerplate'], 'token')} of "
            f"{count(len(vectorizer.boilerplate), 'boilerplate line')} (in "
            f"{count(vectorizer.boilerplate_documents, 'document')})"
        )
    for rule, what in (
        ("min_df", "rare terms (--min-df)"),
        ("max_df", "common terms (--max-df)"),
        ("max_features", "terms beyond --max-features"),
    ):
        if removed.get(rule):
            parts.append(f"{count(removed[rule], 'occurrence')} of {what}")
    text = "Removed " + ", ".join(parts) if parts else ""
    if len(vectorizer.phrases):
        text += ("; " if text else "") + f"joined {count(len(vectorizer.phrases), 'phrase')}"
    return text


def read_seeds(path: str | None, config: Any, plan: OutputPlan) -> Any:
    """The seed topics of --seed-topics, read and checked before any work (None without)."""
    if path is None:
        return None
    from topicnmf.nmf import check_guided_config
    from topicnmf.seeds import read_seed_topics

    with usage_errors():
        check_guided_config(config)
    plan.input("--seed-topics", path)
    seeds = read_seed_topics(path)
    if len(seeds) > config.n_components:
        raise click.UsageError(
            f"--seed-topics {path!r} names {len(seeds)} topics, more than -k {config.n_components}"
        )
    return seeds


def _write_topic_tables(fitted: Any, top: int, table_out: Any, topics_file: Any) -> None:
    from topicnmf.export import topic_records

    if topics_file is not None:
        with open_text(topics_file) as fh:
            render_topics(topic_records(fitted, max(top, 10)), topics_file.format, fh)
    records = topic_records(fitted, top)
    if table_out.format == "table":
        render_topics(records, "table", None)
    else:
        with open_text(table_out) as fh:
            render_topics(records, table_out.format, fh)


def _check_stream_options(kw: dict[str, Any], dyn: dict[str, Any], seed_topics: Any) -> None:
    """Settings that need every text at once cannot go with --stream (exit 2)."""
    for option, given in (
        ("--max-line-df", kw.get("max_line_df") is not None),
        ("--phrases", bool(kw.get("phrases"))),
        ("--seed-topics", seed_topics is not None),
        ("--time-column", bool(dyn.get("time_column"))),
    ):
        if given:
            raise click.UsageError(
                f"{option} cannot go with --stream: it needs every text at once; "
                "fit in memory, or leave it out"
            )
