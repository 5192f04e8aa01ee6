"""The ``topicnmf`` command line: parse options, call the library, format, map errors.

This package is the only part of topicnmf that imports click or rich. ``core`` holds the
command group, a run's state and the mapping of errors and signals to exit codes;
``options`` the options shared by several commands and the settings built from them;
``output`` formats, output files and tables; ``text`` makes text from files safe for a
terminal. Each command lives in a module of its own.
"""

from __future__ import annotations

from topicnmf.cli.assign import assign
from topicnmf.cli.context import groups, trends
from topicnmf.cli.core import cli, main
from topicnmf.cli.docs import docs
from topicnmf.cli.fit import fit
from topicnmf.cli.label import label
from topicnmf.cli.quality import compare, evaluate, select_k
from topicnmf.cli.report import report
from topicnmf.cli.topics import info, topics
from topicnmf.cli.tree import tree

for _command in (
    fit,
    topics,
    assign,
    info,
    evaluate,
    select_k,
    compare,
    docs,
    label,
    report,
    trends,
    groups,
    tree,
):
    cli.add_command(_command)

__all__ = ["cli", "main"]
