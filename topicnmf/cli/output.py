"""Where data goes and in what form: formats, output files checked before work, tables.

Data goes to stdout or ``-o FILE``; progress, summaries and warnings to stderr. A file's
format comes from ``--format`` or else its extension (``.csv``, ``.tsv``, ``.json``,
``.jsonl``; a further ``.gz`` compresses it); a device, FIFO or stdout without ``--format``
gets CSV, a terminal a table. Every output of a command is resolved before any work starts
(:class:`OutputPlan`): a path that cannot be written, two outputs at one path, or an output
that is also one of the command's inputs stops the command at once.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

import click

from topicnmf.cli.text import cell, terminal_safe
from topicnmf.errors import OutputError

MACHINE_FORMATS = ("csv", "tsv", "json", "jsonl")
FORMATS = ("table", *MACHINE_FORMATS)
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
KNOWN_EXTENSIONS = ".csv, .tsv, .json, .jsonl (each optionally .gz)"


def stdout_is_terminal() -> bool:
    stream = sys.stdout
    return stream is not None and bool(getattr(stream, "isatty", lambda: False)())


def stderr_is_terminal() -> bool:
    stream = sys.stderr
    return stream is not None and bool(getattr(stream, "isatty", lambda: False)())


def split_extension(path: str) -> tuple[str, bool]:
    """(the extension that names the format, whether the name ends in .gz)."""
    name = os.path.basename(path).lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    return os.path.splitext(name)[1], gz


# --------------------------------------------------------------------------- planning


@dataclass
class Output:
    """One output of a command: the option that named it, where it goes, in what format."""

    option: str
    given: str | None  # None or "-": standard output
    format: str
    gzip: bool = False
    target: Any = None  # fileio.OutputTarget for a path

    @property
    def to_stdout(self) -> bool:
        return self.given in (None, "-") or (
            self.target is not None and self.target.kind == "stdout"
        )


class OutputPlan:
    """The outputs of one command, all checked before the work starts."""

    def __init__(self) -> None:
        self.outputs: list[Output] = []
        self.inputs: list[tuple[str, str]] = []

    def data(
        self,
        option: str,
        path: str | None,
        fmt: str | None,
        *,
        table_ok: bool = True,
        formats: Sequence[str] = MACHINE_FORMATS,
    ) -> Output:
        """A table output: ``path`` (None: stdout) in ``fmt`` or the format its name implies."""
        gz = False
        if path in (None, "-"):
            if fmt is None:
                fmt = "table" if table_ok and stdout_is_terminal() else formats[0]
            elif fmt == "table" and not table_ok:
                raise click.UsageError(f"--format table is not available for {option}")
            out = Output(option, path, fmt)
            self._add(out)
            return out
        target = _resolve(path)
        ext, gz = split_extension(path)
        if fmt == "table":
            raise click.UsageError(
                f"--format table is for the terminal; with {option} use " + ", ".join(formats)
            )
        if fmt is None:
            fmt = EXTENSIONS.get(ext)
            if fmt is None and target.kind == "file":
                raise click.UsageError(
                    f"{option} {terminal_safe(repr(path))}: cannot tell the format from "
                    f"the extension {ext or '(none)'!s}; use {KNOWN_EXTENSIONS}, or give "
                    "--format"
                )
            fmt = fmt or formats[0]
        if fmt not in formats:
            raise click.UsageError(
                f"{option} {terminal_safe(repr(path))}: {fmt} is not available here; use "
                + ", ".join(formats)
            )
        out = Output(option, path, fmt, gz and target.kind == "file", target)
        self._add(out)
        return out

    def file(self, option: str, path: str) -> Output:
        """A non-table output (a model file), written atomically."""
        out = Output(option, path, "binary", False, _resolve(path))
        self._add(out)
        return out

    def _add(self, out: Output) -> None:
        for other in self.outputs:
            if _same_output(out, other):
                where = "standard output" if out.to_stdout else terminal_safe(repr(out.given))
                raise click.UsageError(
                    f"{other.option} and {out.option} both write to {where}; "
                    "give each output its own file"
                )
        self.outputs.append(out)
        self._check_against_inputs(out)

    def input(self, option: str, path: str | os.PathLike[str] | None) -> None:
        """Record an input file; an output at the same file is refused."""
        if path is None or os.fspath(path) == "-":
            return
        self.inputs.append((option, os.fspath(path)))
        for out in self.outputs:
            self._check_against_inputs(out)

    def corpus(self, corpus: Any, sources: Iterable[str]) -> None:
        """Record a corpus: its files, and the files its directories would read."""
        for out in self.outputs:
            if out.target is None or out.target.kind != "file":
                continue
            reads = getattr(corpus, "reads_path", None)
            if reads is not None and reads(out.target.path):
                raise click.UsageError(
                    f"{out.option} {terminal_safe(repr(out.given))} is also an input (read as "
                    "part of the corpus); write the output elsewhere"
                )
        for source in sources:
            if os.path.isfile(source):
                self.input("CORPUS", source)

    def _check_against_inputs(self, out: Output) -> None:
        if out.target is None or out.target.kind == "stdout":
            return
        from topicnmf.fileio import file_identity

        identity = out.target.identity
        for option, path in self.inputs:
            if file_identity(path) == identity:
                raise click.UsageError(
                    f"{out.option} {terminal_safe(repr(out.given))} is also an input "
                    f"({option} {terminal_safe(repr(path))}); write the output elsewhere"
                )


def _resolve(path: str) -> Any:
    from topicnmf.fileio import resolve_output

    return resolve_output(path)


def _same_output(a: Output, b: Output) -> bool:
    if a.to_stdout and b.to_stdout:
        return True
    if a.target is None or b.target is None:
        return False
    return a.target.identity == b.target.identity


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def open_text(out: Output) -> Iterator[IO[str]]:
    """A text handle for a table output: stdout, or a file written atomically (gzip too).

    Text is UTF-8; characters that cannot be encoded (lone surrogates from file names) are
    written back as the bytes they stand for, so an id comes out as it went in.
    """
    if out.to_stdout:
        stream = sys.stdout
        if stream is None:
            raise OutputError("standard output is closed; give an output file with -o")
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text-only stream (an embedding application)
            yield stream
            stream.flush()
            return
        stream.flush()
        wrapper = io.TextIOWrapper(
            buffer, encoding="utf-8", errors="surrogateescape", newline="", write_through=True
        )
        try:
            yield wrapper
            wrapper.flush()
        finally:
            with contextlib.suppress(ValueError):
                wrapper.detach()
        return
    from topicnmf.fileio import atomic_write

    with atomic_write(out.target, "wb") as raw:
        if out.gzip:
            # no name and no time in the header: the same data gives the same bytes
            packed: Any = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
        else:
            packed = raw
        text = io.TextIOWrapper(packed, encoding="utf-8", errors="surrogateescape", newline="")
        try:
            yield text
            text.flush()
            if out.gzip:
                packed.close()
        finally:
            with contextlib.suppress(ValueError):
                text.detach()


# --------------------------------------------------------------------------- terminal


def console(stderr: bool = True) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if stream is None:
        raise OutputError("standard output is closed; give an output file with -o")
    return Console(file=stream, highlight=False, soft_wrap=False)


def print_table(
    columns: Sequence[tuple[str, str]],
    rows: Iterable[Sequence[object]],
    *,
    no_wrap: Sequence[str] = (),
) -> None:
    """A readable table on stdout; every cell is shown literally and terminal-safe."""
    from rich.table import Table

    table = Table(show_lines=False, header_style="bold")
    for name, justify in columns:
        table.add_column(
            name,
            justify=justify,  # type: ignore[arg-type]
            overflow="fold",
            no_wrap=name in no_wrap,
        )
    for row in rows:
        table.add_row(*(cell(value) for value in row))
    console(stderr=False).print(table)


class Reporter:
    """Progress and summary lines on stderr, silenced by -q. Progress bars only on a terminal."""

    def __init__(self, quiet: bool, *, interactive: bool | None = None):
        self.quiet = quiet
        self.interactive = (
            (not quiet and stderr_is_terminal())
            if interactive is None
            else (interactive and not quiet)
        )

    def reading_stdin(self, sources: Iterable[str]) -> None:
        """When documents are typed on a terminal: say so, and draw no progress over them."""
        if "-" not in sources:
            return
        stdin = sys.stdin
        if stdin is None or not getattr(stdin, "isatty", lambda: False)():
            return
        self.interactive = False
        if not self.quiet:
            click.echo(
                "Reading documents from the terminal, one per line; press Ctrl-D on an empty "
                "line to end.",
                err=True,
            )

    def info(self, message: str) -> None:
        if not self.quiet:
            # data written so far goes out first, so a terminal shows the two in order
            with contextlib.suppress(Exception):
                if sys.stdout is not None:
                    sys.stdout.flush()
            click.echo(terminal_safe(message), err=True)

    @contextlib.contextmanager
    def progress(
        self, description: str, total: float | None = None
    ) -> Iterator[Callable[..., None]]:
        """Yields ``update(completed=None, description=None)``; a no-op off a terminal."""
        if not self.interactive:
            yield lambda *a, **k: None
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}", markup=False)]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=console(), transient=True) as prog:
            task = prog.add_task(terminal_safe(description), total=total)
            last = [0.0]

            def update(
                completed: float | None = None,
                description: str | None = None,
                force: bool = False,
            ) -> None:
                now = time.monotonic()
                if now - last[0] < 0.1 and not force:  # keep the hot loops cheap
                    return
                last[0] = now
                kwargs: dict[str, Any] = {}
                if completed is not None:
                    kwargs["completed"] = completed
                if description is not None:
                    kwargs["description"] = terminal_safe(description)
                prog.update(task, **kwargs)

            yield update


def counted_batches(documents: Any, batch_size: int, update: Any) -> Any:
    """A callable giving ``documents`` in batches of ``batch_size``, each one counted on the
    progress line ``update`` (of :meth:`Reporter.progress`) as it is read."""

    def batches() -> Iterator[list[Any]]:
        n = 0
        for batch in documents.iter_batches(batch_size):
            n += len(batch)
            update(description=f"Reading documents ({n:,})")
            yield batch

    return batches
