"""``topicnmf label``: name topics; every command then shows the names."""

from __future__ import annotations

from typing import Any

import click

from topicnmf._text import count
from topicnmf.cli.core import set_quiet
from topicnmf.cli.options import model_option, model_path, quiet_option, usage_errors
from topicnmf.cli.output import OutputPlan, Reporter, open_text, print_table
from topicnmf.cli.topics import load_model


@click.command()
@click.argument("assignments", nargs=-1, metavar="[TOPIC=LABEL]...")
@model_option
@click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="Write the labeled model to this new file instead of changing the model in place.",
)
@click.option("--clear", is_flag=True, help="Remove every user label first.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    help="Format of the label list shown when nothing is assigned [default: table on a "
    "terminal, else csv].",
)
@quiet_option
def label(
    assignments: tuple[str, ...],
    model: str | None,
    output: str | None,
    clear: bool,
    fmt: str | None,
    quiet: bool,
) -> None:
    """Name topics, or list their labels.

    Each TOPIC=LABEL sets the label of a topic (TOPIC=, with nothing after '=', removes it).
    The labels are written into the model, in place (atomically) or to -o NEW. Every
    command then shows them where it showed the automatic label (its most relevant terms,
    still available as auto_label). With no assignment, the labels are listed, with a flag
    for topics whose top terms are only numbers or word fragments.

    \b
    Examples:
      topicnmf label 0=Gardening 3="Night sky"
      topicnmf label -m news.npz 2=Space -o news-labeled.npz
      topicnmf label --clear
      topicnmf label --format csv          # list: topic,label,auto_label,user_label,fragments
    """
    from topicnmf.explore.labels import label_table, parse_assignments

    set_quiet(quiet)
    report = Reporter(quiet)
    path = model_path(model)
    plan = OutputPlan()
    writes = bool(assignments) or clear
    if not writes:
        if output:
            raise click.UsageError("-o writes a labeled model: give TOPIC=LABEL or --clear")
        out = plan.data("stdout", None, fmt, formats=("csv", "json"))
        plan.input("-m", path)
        _show(label_table(load_model(path)), out)
        return
    if fmt:
        raise click.UsageError("--format is for listing labels; it has no use when writing them")
    if output:
        target = plan.file("-o", output)
        plan.input("-m", path)
    else:
        target = plan.file("-m", path)
    m = load_model(path)
    with usage_errors():
        m.labels = parse_assignments(assignments, m.n_topics, None if clear else m.labels)
    if not any(m.labels):
        m.labels = None
    m.save(target.target)
    n_set = sum(1 for x in m.labels or [] if x)
    report.info(f"Wrote {output or path}: {count(n_set, 'topic')} labeled")


def _show(records: list[dict[str, Any]], out: Any) -> None:
    from topicnmf.export import write_rows

    header = ["topic", "label", "auto_label", "user_label", "fragments"]
    if out.format == "table":
        print_table(
            [("topic", "right"), ("label", "left"), ("auto label", "left"),
             ("note", "left")],
            [[r["topic"], r["label"], r["auto_label"],
              "top terms are numbers or fragments" if r["fragments"] else ""]
             for r in records],
        )  # fmt: skip
        return
    rows = [[str(r[c]).lower() if c == "fragments" else r[c] for c in header] for r in records]
    with open_text(out) as fh:
        write_rows(header, rows, out.format, fh, records)
