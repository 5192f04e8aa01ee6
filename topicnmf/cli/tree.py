"""``topicnmf tree``: a topic hierarchy by recursive rank-2 NMF; its leaves as a model."""

from __future__ import annotations

from typing import IO, Any

import click

from topicnmf._text import count
from topicnmf.cli.core import log, set_quiet
from topicnmf.cli.fit import check_model_path, check_table_path, removal_summary, stop_word_files
from topicnmf.cli.options import (
    corpus_options,
    load_corpus,
    pop_corpus_options,
    quiet_option,
    seed_option,
    usage_errors,
    vectorizer_config,
    vectorizer_options,
)
from topicnmf.cli.output import OutputPlan, Reporter, open_text, print_table

TREE_FORMATS = ("csv", "tsv", "json")


def tree_records(
    tree: Any, top: int, doc_ids: list[str] | None, max_depth: int | None = None
) -> dict[str, Any]:
    """The tree as nested records (JSON), the root first; ``doc_ids`` adds each node's
    documents; nodes below ``max_depth`` are left out."""
    from topicnmf.export import num

    def record(node: Any, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "node": node.id,
            "parent": node.parent,
            "depth": depth,
            "label": tree.label(node),
            "share": num(node.share),
            "n_docs": node.n_docs,
            "topic": node.topic,
            "score": None if node.score is None else num(node.score),
            "terms": [{"term": t, "weight": num(w)} for t, w in tree.terms(node, top)],
        }
        if doc_ids is not None and node.documents is not None:
            out["documents"] = [doc_ids[i] for i in node.documents.tolist()]
        below = max_depth is None or depth < max_depth
        out["children"] = [record(tree.nodes[c], depth + 1) for c in node.children if below]
        return out

    return record(tree.root, 0)


def write_tree(
    tree: Any,
    top: int,
    fmt: str,
    fh: IO[str],
    doc_ids: list[str] | None,
    max_depth: int | None = None,
) -> None:
    """CSV/TSV (``node,parent,depth,label,share,n_docs,top_terms``, depth first) or JSON."""
    from topicnmf.export import DELIMITERS, _fmt, csv_line, json_text

    if fmt == "json":
        fh.write(json_text(tree_records(tree, top, doc_ids, max_depth), indent=2) + "\n")
        return
    sep = DELIMITERS[fmt]
    fh.write(csv_line(["node", "parent", "depth", "label", "share", "n_docs", "top_terms"], sep))
    for node, depth in tree.walk():
        if max_depth is not None and depth > max_depth:
            continue
        terms = ", ".join(t for t, _ in tree.terms(node, top))
        parent = "" if node.parent is None else node.parent
        row = [node.id, parent, depth, tree.label(node), _fmt(node.share), node.n_docs, terms]
        fh.write(csv_line(row, sep))


def show_tree(tree: Any, top: int, max_depth: int | None = None) -> None:
    """The tree as an indented table on the terminal."""
    rows = []
    for node, depth in tree.walk():
        if max_depth is not None and depth > max_depth:
            continue
        mark = "  " * max(depth - 1, 0) + ("└ " if depth else "") + str(node.id)
        topic = "" if node.topic is None else str(node.topic)
        terms = ", ".join(t for t, _ in tree.terms(node, top))
        rows.append([mark, topic, f"{node.n_docs:,}", f"{100 * node.share:.1f}%", terms])
    print_table(
        [("node", "left"), ("topic", "right"), ("docs", "right"), ("share", "right"),
         ("top terms", "left")],
        rows,
        no_wrap=("node",),
    )  # fmt: skip


@click.command()
@click.argument("corpus", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option(
    "-k",
    "--topics",
    "k",
    type=click.IntRange(min=1, max=100_000),
    default=10,
    show_default=True,
    help="Number of leaves (topics).",
)
@click.option(
    "-m",
    "--model",
    type=click.Path(),
    help="Also write the leaves as a model here (usable by topics, assign, docs, report, "
    "info); it holds the tree, which report draws [default: no model].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(allow_dash=True),
    help="Write the tree here instead of stdout (.csv, .tsv, .json, optionally .gz).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", *TREE_FORMATS]),
    help="table: the tree indented; csv/tsv: one row per node, depth first; json: nested "
    "[default: table on a terminal, else from -o's extension, else csv].",
)
@corpus_options
@vectorizer_options
@seed_option("Seed of the random start of each split (the same seed gives the same tree).")
@click.option(
    "-n",
    "--top",
    type=click.IntRange(min=1, max=20),
    default=8,
    show_default=True,
    help="Top terms shown per node (at most 20).",
)
@click.option(
    "--depth",
    "max_depth",
    type=click.IntRange(min=0),
    help="Show the nodes down to this depth (the root is depth 0) [default: all]; the "
    "model keeps the whole tree.",
)
@click.option(
    "--docs",
    "with_docs",
    is_flag=True,
    help="JSON: list each node's document ids.",
)
@quiet_option
def tree(
    corpus: tuple[str, ...],
    k: int,
    model: str | None,
    output: str | None,
    fmt: str | None,
    seed: int,
    top: int,
    max_depth: int | None,
    with_docs: bool,
    quiet: bool,
    **kw: Any,
) -> None:
    """Build a topic hierarchy: split the corpus in two, again and again, to K leaves.

    Each split is a rank-2 NMF of a node's TF-IDF rows (Kuang & Park 2013); the leaf
    whose split lowers the reconstruction error most is split next. The leaves are
    topics: with -m they are written as a model that topics, assign, docs, report and
    info read (report and info show the tree too). CORPUS is read as by 'topicnmf fit',
    with the same options.

    \b
    Examples:
      topicnmf tree docs/ -k 8
      topicnmf tree 20newsgroups:train -k 20 -m ng-tree.npz --depth 3
      topicnmf tree articles.csv -k 6 --format json --docs -o tree.json
    """
    set_quiet(quiet)
    report = Reporter(quiet)
    if with_docs and fmt not in (None, "json"):
        raise click.UsageError("--docs lists documents in JSON output; use --format json")
    if model:
        check_model_path("-m", model)
    check_table_path("-o", output)
    corpus_kw = pop_corpus_options(kw)
    vec_config = vectorizer_config(kw)
    plan = OutputPlan()
    model_out = plan.file("-m", model) if model else None
    out = plan.data("-o", output, fmt, formats=TREE_FORMATS)
    if with_docs and out.format != "json":
        raise click.UsageError("--docs lists documents in JSON output; use --format json")
    for stop_file in stop_word_files(kw.get("stop_words")):
        plan.input("--stop-words", stop_file)
    documents = load_corpus(corpus, corpus_kw)
    report.reading_stdin(corpus)
    plan.corpus(documents, corpus)

    from topicnmf.tree import fit_tree

    with documents, report.progress("Reading documents") as update:

        def on_document(n: int) -> None:
            update(description=f"Reading documents ({n:,})")

        def on_split(leaves: int, wanted: int) -> None:
            update(description=f"Splitting: {leaves} of {wanted} leaves", force=True)

        with usage_errors():
            result = fit_tree(
                documents,
                vec_config,
                k,
                seed=seed,
                on_document=on_document if report.interactive else None,
                on_split=on_split if report.interactive else None,
            )
    stats = result.model.stats
    assert stats is not None
    if result.empty_documents:
        n = result.empty_documents
        log.warning(
            f"{n:,} of {count(stats.n_documents, 'training document')} "
            f"{'has' if n == 1 else 'have'} no word of the vocabulary (after the token rules, "
            f"--min-df and --max-df); {'it is' if n == 1 else 'they are'} in no node"
        )
    if model_out is not None:
        result.model.save(model_out.target)
    leaves = len(result.tree.leaves)
    report.info(
        f"Read {count(stats.n_documents, 'document')}; vocabulary "
        f"{count(stats.n_terms, 'term')} ({stats.seconds_read_vectorize:.2f} s)"
    )
    removals = removal_summary(result.model.vectorizer)
    if removals:
        report.info(removals)
    report.info(
        f"Tree of {count(leaves, 'leaf', 'leaves')} ({count(leaves - 1, 'rank-2 split')}, "
        f"{stats.n_iter} iterations, {stats.seconds_nmf:.2f} s); relative error of the "
        f"leaves as a model {stats.relative_error:.4f}" + (f"; wrote {model}" if model else "")
    )
    doc_ids = result.doc_ids if with_docs else None
    if out.format == "table":
        show_tree(result.tree, top, max_depth)
        return
    with open_text(out) as fh:
        write_tree(result.tree, top, out.format, fh, doc_ids, max_depth)
