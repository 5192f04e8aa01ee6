"""``topicnmf evaluate``, ``select-k`` and ``compare``: how good and how stable topics are."""

from __future__ import annotations

import time
from typing import Any

import click

from topicnmf._text import count
from topicnmf.cli.core import set_quiet
from topicnmf.cli.options import (
    backend_options,
    corpus_options,
    jobs_option,
    load_corpus,
    model_option,
    nmf_config,
    nmf_options,
    output_options,
    pop_backend,
    pop_corpus_options,
    quiet_option,
    vectorizer_config,
    vectorizer_options,
)
from topicnmf.cli.output import OutputPlan, Reporter, open_text, print_table
from topicnmf.cli.text import terminal_safe
from topicnmf.cli.topics import load_model, pick_model


def _fmt_num(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _csv_cell(value: Any) -> Any:
    """A record's value as a CSV cell: empty for missing, JSON's true/false, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], (list, tuple)):
            return " | ".join(" ".join(map(str, item)) for item in value)
        return " ".join(map(str, value))
    return value


def _write_records(out: Any, header: list[str], records: list[dict[str, Any]], data: Any) -> None:
    """CSV/TSV: one row per record (cells by _csv_cell); JSONL: one record per line (JSON
    numbers, lists and null); JSON: ``data``."""
    from topicnmf.export import write_rows

    rows = [[_csv_cell(rec[name]) for name in header] for rec in records]
    with open_text(out) as fh:
        write_rows(header, rows, out.format, fh, records if out.format == "jsonl" else data)


# ---------------------------------------------------------------------------------- evaluate


@click.command()
@click.argument("args", nargs=-1, metavar="[MODEL] [CORPUS]...", type=click.Path(allow_dash=True))
@model_option
@click.option(
    "-n",
    "--top",
    type=click.IntRange(min=2, max=1000),
    default=10,
    show_default=True,
    help="Top terms per topic for coherence and diversity.",
)
@corpus_options
@output_options
@click.option(
    "--label-column",
    help="CSV/JSON field (20 Newsgroups: newsgroup) holding known labels: adds NMI, adjusted "
    "Rand index, purity and the topic x label table (needs CORPUS).",
)
@click.option(
    "--contingency-out",
    type=click.Path(allow_dash=True),
    help="Write the topic x label table to this file (.csv, .tsv, .json, .jsonl).",
)
@jobs_option
@quiet_option
@backend_options
def evaluate(
    args: tuple[str, ...],
    model: str | None,
    top: int,
    fmt: str | None,
    output: str | None,
    label_column: str | None,
    contingency_out: str | None,
    jobs: int | None,
    quiet: bool,
    **kw: Any,
) -> None:
    """Measure topic quality: coherence, diversity, fit and dominance.

    Scores each topic and the model: NPMI coherence of the top N terms (by document
    co-occurrence), topic diversity (distinct terms among all topics' top N terms, over
    k*N), the relative reconstruction error ||V-WH||/||V||, and how many documents each
    topic dominates. Without CORPUS the training corpus is used (its co-occurrences are
    stored in the model); with CORPUS (e.g. a held-out split) that corpus is, tokenized
    with the model's own vectorizer settings. The first argument is the model if it ends in
    .npz (default: model.npz or $TOPICNMF_MODEL).

    NPMI of a pair of terms, over the D documents of the reference corpus:
    log(P(a,b) / (P(a) P(b))) / -log P(a,b), with P(a) = D(a)/D the share of documents
    containing a and P(a,b) = D(a,b)/D the share containing both. A pair that never
    co-occurs scores -1; a pair in every document scores 1. A topic's score is the mean over
    its N(N-1)/2 pairs; the model's, the mean over topics. Range -1..1, higher is better.

    CSV, TSV and JSONL have one record per topic: topic, label, npmi, n_dominant (documents
    whose largest weight is this topic), top_terms, top_indices, then the model's figures,
    the same on every row: model_npmi, diversity, relative_error, n_documents,
    n_undominated (documents with no dominant topic: no known term, or all weights 0),
    top_n, reference. The n_dominant of all topics plus n_undominated make n_documents. JSON
    holds the same as one object with a list of topics. Missing values are empty in CSV,
    null in JSON. A guided model (fit --seed-topics) adds seed_words_in_top and
    n_seed_words: how many of a seeded topic's seed words are among its top --top terms.

    \b
    Examples:
      topicnmf evaluate                                  # model.npz, training corpus
      topicnmf evaluate ng.npz 20newsgroups:test --data-home ~/data
      topicnmf evaluate -m news.npz held_out.csv --format json
    """
    set_quiet(quiet)
    sources = list(args)
    positional = None
    if model is None and sources and sources[0].lower().endswith(".npz"):
        positional = sources.pop(0)
    path = pick_model(positional, model)
    corpus_kw = pop_corpus_options(kw)
    backend = pop_backend(kw)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt)
    plan.input("MODEL", path)
    if (label_column or contingency_out) and not sources:
        raise click.UsageError("--label-column and --contingency-out need CORPUS (with labels)")
    if contingency_out and not label_column:
        raise click.UsageError("--contingency-out needs --label-column")
    table_out = None
    if contingency_out:
        table_out = plan.data("--contingency-out", contingency_out, None, table_ok=False)
    m = load_model(path)
    agreement = None
    if sources and label_column:
        from topicnmf.cli.context import label_scores, read_with_metadata, write_contingency

        texts, meta = read_with_metadata(
            tuple(sources), corpus_kw, {label_column: "label_column"}, plan
        )
        V = m.vectorizer.transform(texts)
        agreement, contingency = label_scores(m, V, meta, label_column, jobs)
        evaluation = m.evaluate(V, top_n=top, n_threads=jobs)
        where = f"{V.shape[0]:,} documents of {', '.join(sources)}"
    elif sources:
        documents = load_corpus(tuple(sources), corpus_kw)
        plan.corpus(documents, sources)
        from topicnmf.cli.backend import session, vectorize

        with documents, session(backend) as client:
            texts = (d.text for d in documents)
            _, V = vectorize(client, texts, vectorizer=m.vectorizer, partitions=backend.partitions)
        evaluation = m.evaluate(V, top_n=top, n_threads=jobs)
        where = f"{V.shape[0]:,} documents of {', '.join(sources)}"
    else:
        evaluation = m.evaluate(None, top_n=top)
        where = "the training corpus"
    labels = m.topic_labels()
    data = evaluation.to_dict()
    for rec, label in zip(data["topics"], labels, strict=True):
        rec["label"] = label
    data["reference"] = "training" if not sources else sources
    summary = (
        f"mean NPMI {_fmt_num(evaluation.npmi) or 'n/a'} on {where}; diversity "
        f"{evaluation.diversity:.3f}; relative reconstruction error "
        f"{_fmt_num(evaluation.relative_error) or 'n/a'}"
    )
    if evaluation.n_undominated:
        summary += f"; {count(evaluation.n_undominated, 'document')} with no dominant topic"
    if agreement is not None:
        data["labels"] = agreement
        summary += (
            f"; against {label_column!r}: NMI {_fmt_num(agreement['nmi'], 3) or 'n/a'}, ARI "
            f"{_fmt_num(agreement['ari'], 3) or 'n/a'}, purity "
            f"{_fmt_num(agreement['purity'], 3) or 'n/a'} over the "
            f"{agreement['n_scored']:,} documents with a dominant topic"
        )
        if table_out is not None:
            write_contingency(table_out, contingency)
    recall = m.seed_recall(top)
    if recall:
        found = ", ".join(f"{label} {n}/{total}" for label, n, total in recall)
        summary += f"; seed words in the top {top}: {found}"
    if out.format == "table":
        print_table(
            [("topic", "right"), ("NPMI", "right"), ("docs", "right"), ("top terms", "left")],
            [
                [str(t.topic), _fmt_num(t.npmi), "" if t.n_dominant is None else str(t.n_dominant),
                 ", ".join(t.top_terms or ())]
                for t in evaluation.topics
            ],
        )  # fmt: skip
        click.echo(terminal_safe(summary))
        return
    header = ["topic", "label", "npmi", "n_dominant", "top_terms", "top_indices", "model_npmi",
              "diversity", "relative_error", "n_documents", "n_undominated", "top_n",
              "reference"]  # fmt: skip
    model_level = {
        "model_npmi": data["npmi"],
        **{key: data[key] for key in ("diversity", "relative_error", "n_documents",
                                      "n_undominated", "top_n", "reference")},
    }  # fmt: skip
    if agreement is not None:
        header += ["nmi", "ari", "purity", "n_scored", "label_column"]
        model_level.update({key: agreement[key] for key in header[-5:]})
    records = [{**{key: rec[key] for key in header[:6]}, **model_level} for rec in data["topics"]]
    if recall:  # guided models: each seeded topic's seed words found in its top terms
        header += ["seed_words_in_top", "n_seed_words"]
        for i, rec in enumerate(records):
            found, total = recall[i][1:] if i < len(recall) else (None, None)
            rec.update(seed_words_in_top=found, n_seed_words=total)
    _write_records(out, header, records, data)
    Reporter(quiet).info(summary)


# ---------------------------------------------------------------------------------- select-k


def _parse_k(ctx: Any, param: Any, value: str) -> list[int]:
    from topicnmf.errors import ParameterError
    from topicnmf.quality import parse_k_spec

    try:
        return parse_k_spec(value)
    except ParameterError as exc:
        raise click.BadParameter(str(exc)) from exc


_SELECT_K_ROW = ("k", "npmi", "diversity", "relative_error", "stability", "stability_std",
                 "n_iter", "converged")  # fmt: skip


@click.command("select-k")
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option(
    "--k",
    "ks",
    required=True,
    callback=_parse_k,
    metavar="START:STOP[:STEP]|K,K,...",
    help="Candidate numbers of topics: a range (5:50:5, STOP included) or a list.",
)
@click.option(
    "--runs",
    type=click.IntRange(min=0, max=1000),
    default=5,
    show_default=True,
    help="Subsample models per k for stability (0: no stability).",
)
@click.option(
    "--sample",
    "sample_fraction",
    type=click.FloatRange(0, 1, min_open=True),
    default=0.8,
    show_default=True,
    help="Share of documents in each subsample.",
)
@click.option(
    "-n",
    "--top",
    type=click.IntRange(min=2, max=1000),
    default=10,
    show_default=True,
    help="Top terms per topic for coherence, diversity and stability.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0, max=1),
    default=0.02,
    show_default=True,
    help="Stability within this of the best counts as equally stable.",
)
@corpus_options
@vectorizer_options
@nmf_options
@output_options
@jobs_option
@quiet_option
@backend_options
def select_k(
    corpus: tuple[str, ...],
    ks: list[int],
    runs: int,
    sample_fraction: float,
    top: int,
    tolerance: float,
    fmt: str | None,
    output: str | None,
    jobs: int | None,
    quiet: bool,
    **kw: Any,
) -> None:
    """Compare numbers of topics and recommend one.

    Vectorizes the corpus once, fits a model for each k, and reports mean NPMI coherence
    (on the corpus itself), topic diversity, relative reconstruction error and stability:
    the agreement of the top terms of models fitted on random subsamples with the model
    fitted on all documents, topics matched by the Hungarian algorithm (Greene,
    O'Callaghan & Cunningham, 2014). The recommended k is, among the k whose stability is
    within --tolerance of the best, the one with the highest NPMI (ties: the smaller k).
    --jobs runs fits in parallel processes; the results do not depend on it. At most 100
    candidates, each k at most 100,000.

    CSV, TSV and JSONL have one record per k: k, npmi, diversity, relative_error,
    stability, stability_std (empty/null with --runs 0), n_iter, converged, recommended
    (true for the recommended k), then the settings, the same on every row: recommended_k,
    reason, top_n, runs, sample_fraction, seed, tolerance, and top_terms (the reference
    model's top terms; in CSV topics are separated by " | "). JSON holds the same as one
    object with a list of rows.

    \b
    Examples:
      topicnmf select-k docs/ --k 5:30:5
      topicnmf select-k 20newsgroups:train --data-home ~/data --k 10:30:5 --jobs 2
      topicnmf select-k articles.csv --k 3,4,5,6 --runs 10 -o choice.json
    """
    from topicnmf.quality import select_k as run_select_k
    from topicnmf.vectorize import Vectorizer

    set_quiet(quiet)
    report = Reporter(quiet)
    corpus_kw = pop_corpus_options(kw)
    backend = pop_backend(kw)
    vec_config = vectorizer_config(kw)
    config = nmf_config(ks[0], kw)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt)
    documents = load_corpus(corpus, corpus_kw)
    plan.corpus(documents, corpus)
    t0 = time.perf_counter()
    from topicnmf.cli.backend import fit_runner, session, vectorize

    with session(backend) as client:
        with documents, report.progress("Reading documents"):
            if client is None:
                vectorizer = Vectorizer(vec_config)
                # the corpus itself (re-iterable): rules with a first pass read it again
                V = vectorizer.fit_transform(documents.texts())
            else:
                texts = [d.text for d in documents]
                vectorizer, V = vectorize(
                    client, texts, config=vec_config, partitions=backend.partitions
                )
        report.info(f"Read {V.shape[0]:,} documents; vocabulary {V.shape[1]:,} terms")
        total = len(ks) * (runs + 1)
        with report.progress(f"Fitting {total} models", total=total) as update:

            def on_progress(p: Any) -> None:
                update(completed=p.done, description=f"Fitting models (k={p.k}, run {p.run})")

            result = run_select_k(
                V, ks, nmf_config=config, vocabulary=vectorizer.vocabulary, top_n=top,
                runs=runs, sample_fraction=sample_fraction, seed=config.seed,
                tolerance=tolerance, jobs=jobs or 1, callback=on_progress,
                runner=fit_runner(client),
            )  # fmt: skip
    if out.format == "table":

        def stability(r: Any) -> str:
            if r.stability is None:
                return "-"
            return f"{_fmt_num(r.stability)} ± {_fmt_num(r.stability_std)}"

        print_table(
            [("k", "right"), ("NPMI", "right"), ("diversity", "right"), ("rel. error", "right"),
             ("stability", "right"), ("", "left")],
            [[str(r.k), _fmt_num(r.npmi), _fmt_num(r.diversity), _fmt_num(r.relative_error),
              stability(r), "← recommended" if r.k == result.recommended_k else ""]
             for r in result.rows],
        )  # fmt: skip
    else:
        data = result.to_dict()
        settings = {key: data[key] for key in ("recommended_k", "reason", "top_n", "runs",
                                               "sample_fraction", "seed", "tolerance")}  # fmt: skip
        records = [
            {**{key: row[key] for key in _SELECT_K_ROW}, "recommended": row["k"] == data[
                "recommended_k"], **settings, "top_terms": row["top_terms"]}
            for row in data["rows"]
        ]  # fmt: skip
        header = [*_SELECT_K_ROW, "recommended", *settings, "top_terms"]
        _write_records(out, header, records, data)
    report.info(f"Recommended k = {result.recommended_k}: {result.reason}")
    report.info(f"{total} models in {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------------------------- compare


@click.command()
@click.argument("model_a", metavar="A.npz", type=click.Path())
@click.argument("model_b", metavar="B.npz", type=click.Path())
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="Cosine similarity below which matched topics count as different.",
)
@output_options
@quiet_option
def compare(
    model_a: str, model_b: str, threshold: float, fmt: str | None, output: str | None, quiet: bool
) -> None:
    """Match the topics of two models and show what each has that the other lacks.

    Topics are compared by the cosine similarity of their term weights over the union of
    the two vocabularies (a term one model lacks weighs zero in its topics), and paired
    one-to-one by the Hungarian algorithm. Pairs at or above --threshold are the same topic;
    the others are listed as found only in A or only in B.

    CSV, TSV and JSONL have one record per topic pair or unpaired topic: topic_a, label_a,
    topic_b, label_b, similarity, status (matched, different, only_a, only_b); a missing
    side is empty in CSV, null in JSONL. JSON also gives the threshold and the numbers of
    shared and of all terms.

    \b
    Examples:
      topicnmf compare k10.npz k20.npz
      topicnmf compare old.npz new.npz --threshold 0.5 --format json
    """
    from topicnmf.quality import compare_topics

    set_quiet(quiet)
    plan = OutputPlan()
    out = plan.data("-o", output, fmt)
    plan.input("A.npz", model_a)
    plan.input("B.npz", model_b)
    a, b = load_model(model_a), load_model(model_b)
    result = compare_topics(a.H, a.vocabulary, b.H, b.vocabulary, threshold)
    la, lb = a.topic_labels(), b.topic_labels()
    matched = {p.topic_a for p in result.matches}
    records: list[dict[str, Any]] = [
        {"topic_a": p.topic_a, "label_a": la[p.topic_a], "topic_b": p.topic_b,
         "label_b": lb[p.topic_b], "similarity": p.similarity,
         "status": "matched" if p.topic_a in matched else "different"}
        for p in result.pairs
    ]  # fmt: skip
    paired_a = {p.topic_a for p in result.pairs}
    paired_b = {p.topic_b for p in result.pairs}
    none = {"similarity": None}
    records += [
        {"topic_a": t, "label_a": la[t], "topic_b": None, "label_b": None, **none,
         "status": "only_a"} for t in range(a.n_topics) if t not in paired_a
    ]  # fmt: skip
    records += [
        {"topic_a": None, "label_a": None, "topic_b": t, "label_b": lb[t], **none,
         "status": "only_b"} for t in range(b.n_topics) if t not in paired_b
    ]  # fmt: skip
    data = result.to_dict()
    data.pop("similarity")
    data["labels_a"], data["labels_b"] = la, lb
    summary = (
        f"{len(result.matches)} topics in both; only in A: "
        f"{', '.join(map(str, result.only_a)) or 'none'}; only in B: "
        f"{', '.join(map(str, result.only_b)) or 'none'} "
        f"({result.n_shared_terms:,} shared of {result.n_union_terms:,} terms, "
        f"threshold {threshold:g})"
    )
    if out.format == "table":

        def side(topic: int | None, label: str | None) -> str:
            return "" if topic is None else f"{topic} {label}"

        print_table(
            [("A", "left"), ("B", "left"), ("similarity", "right"), ("", "left")],
            [[side(r["topic_a"], r["label_a"]), side(r["topic_b"], r["label_b"]),
              _fmt_num(r["similarity"]), r["status"]] for r in records],
        )  # fmt: skip
        click.echo(terminal_safe(summary))
        return
    header = ["topic_a", "label_a", "topic_b", "label_b", "similarity", "status"]
    _write_records(out, header, records, data)
    Reporter(quiet).info(summary)
