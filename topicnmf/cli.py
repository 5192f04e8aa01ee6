"""The ``topicnmf`` command line: parse options, call the library, format, map errors.

This is the only module that imports click or rich. Data goes to stdout (or ``-o FILE``);
progress, summaries and warnings go to stderr. Exit codes: 0 success, 1 bad input or file,
2 usage error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import IO, Any

import click

from topicnmf import __version__
from topicnmf.errors import ParameterError, TopicNMFError
from topicnmf.fileio import request_stop

DEFAULT_MODEL = "model.npz"
log = logging.getLogger("topicnmf")


# ---------------------------------------------------------------------------------------
# Error handling, signals, logging
# ---------------------------------------------------------------------------------------


class Terminated(BaseException):
    """Raised from the SIGTERM handler so that cleanup code (finally blocks) runs."""


def _on_signal(signum: int, frame: Any) -> None:
    """SIGTERM raises Terminated and SIGINT KeyboardInterrupt; both are also recorded, so
    that no output is committed even if the exception is dropped on its way up."""
    exc: BaseException = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
    request_stop(exc)
    raise exc


class _StderrHandler(logging.Handler):
    """Log records as 'warning: ...' lines on the current stderr (CliRunner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            prefix = "warning: " if record.levelno >= logging.WARNING else ""
            click.echo(prefix + record.getMessage(), err=True)
        except Exception:  # pragma: no cover - logging must never crash the tool
            self.handleError(record)


def _debug() -> bool:
    return os.environ.get("TOPICNMF_DEBUG", "") not in ("", "0")


def _error(message: str) -> None:
    click.echo(f"Error: {message}", err=True)


def _stopped(how: str) -> str:
    """The message for an interrupted run: which outputs (if any) it finished writing."""
    from topicnmf.fileio import committed_files

    done = committed_files()
    if not done:
        return f"{how}; no output file was written or changed"
    names = ", ".join(repr(p) for p in done)
    return f"{how} after writing {names}; no other output file was written or changed"


class TopicNMFGroup(click.Group):
    """A click group that turns library errors and signals into messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        handler = _StderrHandler(logging.INFO)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        from topicnmf.fileio import reset_committed_files

        reset_committed_files()
        try:
            rv = super().invoke(ctx)
            # Flush here rather than at interpreter exit, so that a closed pipe or a full
            # disk on stdout is handled below like any other error.
            sys.stdout.flush()
            # a stop whose exception was dropped on its way up still ends the run as a stop
            from topicnmf.fileio import stop_requested

            stop = stop_requested()
            if stop is not None:
                raise stop
            return rv
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except TopicNMFError as exc:
            if _debug():
                raise
            _error(str(exc))
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader (e.g. `head`) has gone: stop quietly. Point stdout at /dev/null so the
            # interpreter's final flush does not complain.
            with contextlib.suppress(Exception):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except KeyboardInterrupt:
            if _debug():
                raise
            _error(_stopped("interrupted"))
            ctx.exit(130)
        except Terminated:
            _error(_stopped("terminated"))
            ctx.exit(143)
        except OSError as exc:
            # I/O failures the library did not attribute to a file: stdout on a full disk,
            # a failing device. One line, exit 1, as for any bad file.
            if _debug():
                raise
            import errno

            from topicnmf.fileio import os_error_reason

            reason = os_error_reason(exc)
            if exc.filename:
                _error(f"{str(exc.filename)!r}: {reason}")
            elif exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
                _error(f"could not write the output: {reason}")
            else:
                _error(f"input/output error: {reason}")
            ctx.exit(1)
        except MemoryError:
            if _debug():
                raise
            _error("out of memory; try a smaller corpus, --max-features, or a smaller -k")
            ctx.exit(1)
        except Exception as exc:
            if _debug():
                raise
            _error(
                f"unexpected {type(exc).__name__}: {exc} (this is a bug in topicnmf; "
                "run again with TOPICNMF_DEBUG=1 for the traceback and report it)"
            )
            ctx.exit(1)
        finally:
            log.removeHandler(handler)


# ---------------------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------------------


def _stdout() -> IO[str]:
    return sys.stdout


def _stderr_is_tty() -> bool:
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def resolve_format(fmt: str | None, output: str | None) -> str:
    """Pick the output format: --format wins, then -o's extension, then the terminal test."""
    from topicnmf.export import format_from_path

    if fmt:
        if fmt == "table" and output:
            raise click.UsageError(
                "--format table is for the terminal; with -o use csv, json or jsonl"
            )
        return fmt
    if output:
        return format_from_path(output) or "csv"
    return "table" if getattr(_stdout(), "isatty", lambda: False)() else "csv"


def prepare_output(fmt: str | None, output: str | None) -> str:
    """The output format, after checking that ``-o`` can be written (before any work)."""
    out_fmt = resolve_format(fmt, output)
    if output and output != "-":
        from topicnmf.fileio import check_writable

        check_writable(output)
    return out_fmt


@contextlib.contextmanager
def open_output(output: str | None) -> Iterator[IO[str]]:
    """stdout, or an atomically written file."""
    if output is None or output == "-":
        yield _stdout()
        return
    from topicnmf.fileio import atomic_write

    with atomic_write(output, "w") as fh:
        yield fh


def _console(stderr: bool = True) -> Any:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=stream, highlight=False, soft_wrap=False)


class Reporter:
    """Progress and summary lines on stderr, silenced by -q. Progress bars only on a terminal."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.interactive = not quiet and _stderr_is_tty()
        self._progress: Any = None
        self._task: Any = None

    def info(self, message: str) -> None:
        if not self.quiet:
            # data written so far goes out first, so a terminal shows the two in order
            sys.stdout.flush()
            click.echo(message, err=True)

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

        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=_console(), transient=True) as prog:
            task = prog.add_task(description, total=total)
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
                    kwargs["description"] = description
                prog.update(task, **kwargs)

            yield update


def _print_rich_table(
    columns: list[tuple[str, str]], rows: list[list[str]], title: str | None = None
) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for name, justify in columns:
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*row)
    _console(stderr=False).print(table)


# ---------------------------------------------------------------------------------------
# Shared options
# ---------------------------------------------------------------------------------------


def _set_quiet(quiet: bool) -> None:
    if quiet:  # errors still get their one line; warnings and summaries are dropped
        log.setLevel(logging.ERROR)


def quiet_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-q", "--quiet", is_flag=True, help="No progress, summaries or warnings on stderr."
    )(f)


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--format and -o, shared by the commands that write a table."""
    f = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, allow_dash=True),
        help="Write to this file (atomically) instead of stdout.",
    )(f)
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["table", "csv", "json", "jsonl"]),
        help="Output format [default: table on a terminal, else from -o's extension, else csv].",
    )(f)
    return f


def corpus_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options that say how to read CORPUS arguments (fit, assign, evaluate, select-k)."""
    opts = [
        click.option(
            "--input-format",
            type=click.Choice(["auto", "lines", "document", "csv", "tsv", "jsonl"]),
            default="auto",
            show_default=True,
            help=(
                "How to read files and stdin: lines (a document each), document (the whole "
                "file is one), csv, tsv, jsonl; auto: by extension (stdin: lines)."
            ),
        ),
        click.option("--glob", help="File pattern for directories [default: *.txt]."),
        click.option(
            "--text-column",
            default="text",
            show_default=True,
            help="CSV/JSONL field holding the text.",
        ),
        click.option(
            "--id-column", help="CSV/JSONL field holding the document id [default: row number]."
        ),
        click.option(
            "--encoding",
            default="utf-8",
            show_default=True,
            help="Text encoding of the input files.",
        ),
        click.option(
            "--data-home",
            envvar="TOPICNMF_DATA_HOME",
            type=click.Path(file_okay=False),
            help="Folder holding 20news-bydate.tar.gz (env TOPICNMF_DATA_HOME).",
        ),
        click.option("--categories", help="20 Newsgroups: comma-separated newsgroups to keep."),
        click.option(
            "--remove",
            default="headers,footers,quotes",
            show_default=True,
            help="20 Newsgroups: parts to strip (headers,footers,quotes or none).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def jobs_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--jobs",
        type=click.IntRange(min=1),
        help="CPU cores to use [default: all].",
    )(f)


def _prefetch_wanted(jobs: int | None) -> bool:
    """Whether a 20 Newsgroups archive may be read in a helper process (a second core)."""
    from topicnmf.config import available_cores

    return available_cores() >= 2 and (jobs is None or jobs >= 2)


def _load_corpus(sources: tuple[str, ...], opts: dict[str, Any], prefetch: bool = False) -> Any:
    from topicnmf.corpus import load_corpus

    remove_spec = (opts.get("remove") or "").strip()
    if remove_spec.lower() in ("", "none"):
        remove: tuple[str, ...] = ()
    else:
        remove = tuple(p.strip() for p in remove_spec.split(",") if p.strip())
        bad = [p for p in remove if p not in ("headers", "footers", "quotes")]
        if bad:
            raise click.BadParameter(
                f"{bad[0]!r} is not one of headers, footers, quotes", param_hint="--remove"
            )
    categories = None
    if opts.get("categories"):
        categories = [c.strip() for c in opts["categories"].split(",") if c.strip()]
    fmt = opts.get("input_format")
    return load_corpus(
        list(sources),
        format=None if fmt in (None, "auto") else fmt,
        glob=opts.get("glob"),
        text_column=opts.get("text_column") or "text",
        id_column=opts.get("id_column"),
        encoding=opts.get("encoding") or "utf-8",
        data_home=opts.get("data_home"),
        categories=categories,
        remove=remove,
        prefetch=prefetch,
    )


def _corpus_opts(kwargs: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "input_format",
        "glob",
        "text_column",
        "id_column",
        "encoding",
        "data_home",
        "categories",
        "remove",
    )
    return {k: kwargs.pop(k) for k in keys if k in kwargs}


def _model_path(model: str | None) -> str:
    return model or os.environ.get("TOPICNMF_MODEL") or DEFAULT_MODEL


# ---------------------------------------------------------------------------------------
# The group
# ---------------------------------------------------------------------------------------


@click.group(cls=TopicNMFGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="topicnmf")
def cli() -> None:
    """Find topics in documents with non-negative matrix factorization (NMF) of TF-IDF.

    \b
    Examples:
      topicnmf fit corpus/ -k 10            # learn 10 topics, write model.npz
      topicnmf topics model.npz --top 10    # top words per topic
      topicnmf assign newdocs/              # topic weights of new documents

    Run 'topicnmf COMMAND --help' for a command's options. Exit codes: 0 ok, 1 bad input
    or file, 2 usage error, 130 interrupted, 143 terminated.
    """


def main() -> None:
    """Console-script entry point."""
    with contextlib.suppress(ValueError, AttributeError):  # not in the main thread / no SIGTERM
        signal.signal(signal.SIGTERM, _on_signal)
    with contextlib.suppress(ValueError):
        # an ignored SIGINT (a background job of a shell) stays ignored
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _on_signal)
    try:
        cli(prog_name="topicnmf")
    except SystemExit as exc:
        _exit(exc.code)


def _exit(code: Any) -> None:
    """End the process now, skipping the interpreter's teardown of NumPy and SciPy.

    Every output is already committed (atomic_write) and stdout was flushed by the command;
    what remains is flushing the standard streams and running the atexit handlers. Tearing
    down the loaded modules would cost another ~0.1 s for nothing.
    """
    # the work is done: a late Ctrl-C or SIGTERM must not turn into a traceback now
    for signum in (signal.SIGINT, getattr(signal, "SIGTERM", None)):
        if signum is not None:
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signum, signal.SIG_IGN)
    if code is None:
        code = 0
    elif not isinstance(code, int):
        with contextlib.suppress(Exception):
            sys.stderr.write(f"{code}\n")
        code = 1
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except BrokenPipeError:
            pass  # the reader went away: as inside a command, not an error
        except Exception:  # noqa: BLE001 - e.g. a full disk: the output is incomplete
            if code == 0 and stream is sys.stdout:
                code = 1
    atexit._run_exitfuncs()
    os._exit(code)


# ---------------------------------------------------------------------------------------
# Option types
# ---------------------------------------------------------------------------------------


class CountOrFraction(click.ParamType):
    """An integer document count (``2``) or a proportion of documents (``0.95``)."""

    name = "COUNT|FRACTION"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | float:
        if isinstance(value, (int, float)):
            return value
        text = str(value).strip()
        try:
            if text.isdigit():
                return int(text)
            number = float(text)
        except ValueError:
            self.fail(
                f"{value!r} is neither a count (e.g. 2) nor a fraction (e.g. 0.95)", param, ctx
            )
        if not 0.0 <= number <= 1.0:
            self.fail(
                f"{value!r}: a fraction must be between 0 and 1 (or give a whole count)", param, ctx
            )
        return number


class NgramRange(click.ParamType):
    name = "MIN,MAX"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        parts = str(value).replace("-", ",").replace(":", ",").split(",")
        try:
            lo, hi = (int(p) for p in parts) if len(parts) == 2 else (int(parts[0]),) * 2
        except ValueError:
            self.fail(f"{value!r} is not a range like 1,2", param, ctx)
        if lo < 1 or hi < lo:
            self.fail(f"{value!r}: need 1 <= MIN <= MAX, e.g. 1,2", param, ctx)
        return (lo, hi)


class AlphaH(click.ParamType):
    name = "FLOAT|same"

    def convert(self, value: Any, param: Any, ctx: Any) -> float | str:
        if value == "same" or isinstance(value, float):
            return value
        try:
            number = float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'same'", param, ctx)
        if number < 0:
            self.fail(f"{value!r}: must be >= 0", param, ctx)
        return number


# ---------------------------------------------------------------------------------------
# fit
# ---------------------------------------------------------------------------------------


def vectorizer_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from topicnmf.config import VectorizerConfig

    d = VectorizerConfig()
    opts = [
        click.option(
            "--min-df",
            type=CountOrFraction(),
            default=d.min_df,
            show_default=True,
            help="Drop terms in fewer documents than this (count, or fraction of documents).",
        ),
        click.option(
            "--max-df",
            type=CountOrFraction(),
            default=d.max_df,
            show_default=True,
            help="Drop terms in more documents than this (count, or fraction of documents).",
        ),
        click.option(
            "--max-features",
            type=click.IntRange(min=1),
            help="Keep only the most frequent terms [default: all].",
        ),
        click.option(
            "--stop-words",
            default="english",
            show_default=True,
            metavar="english|none|FILE",
            help="Stop words: scikit-learn's English list, none, or a file with one word a line.",
        ),
        click.option(
            "--ngram-range",
            type=NgramRange(),
            default=f"{d.ngram_range[0]},{d.ngram_range[1]}",
            show_default=True,
            help="Word n-gram lengths, e.g. 1,2 for words and word pairs.",
        ),
        click.option(
            "--lowercase/--no-lowercase",
            default=d.lowercase,
            show_default=True,
            help="Lower-case text before tokenizing.",
        ),
        click.option(
            "--token-pattern",
            default=d.token_pattern,
            show_default=True,
            help="Regular expression that matches a token.",
        ),
        click.option(
            "--sublinear-tf/--no-sublinear-tf",
            default=d.sublinear_tf,
            show_default=True,
            help="Use 1 + log(tf) instead of raw term counts.",
        ),
        click.option(
            "--norm",
            type=click.Choice(["l2", "l1", "none"]),
            default=d.norm or "none",
            show_default=True,
            help="Normalise each document's TF-IDF row.",
        ),
        click.option(
            "--no-idf", is_flag=True, help="Term frequencies only, no inverse document frequency."
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def nmf_options(f: Callable[..., Any]) -> Callable[..., Any]:
    from topicnmf.config import NMFConfig

    d = NMFConfig(n_components=10)
    opts = [
        click.option(
            "--loss",
            type=click.Choice(["frobenius", "kl"]),
            default=d.loss,
            show_default=True,
            help="Squared Frobenius norm, or generalised Kullback-Leibler divergence.",
        ),
        click.option(
            "--solver",
            type=click.Choice(["auto", "cd", "mu"]),
            default="auto",
            show_default=True,
            help="cd: coordinate descent (KL needs numba); mu: multiplicative; auto: cd if it can.",
        ),
        click.option(
            "--init",
            type=click.Choice(["nndsvd", "nndsvda", "nndsvdar", "random"]),
            default=d.init,
            show_default=True,
            help="Initialisation (NNDSVD variants are deterministic).",
        ),
        click.option(
            "--svd",
            type=click.Choice(["exact", "randomized"]),
            default=d.svd,
            show_default=True,
            help="SVD of the NNDSVD inits: exact (topics do not depend on document order) or "
            "randomized (scikit-learn's start).",
        ),
        click.option(
            "--max-iter",
            type=click.IntRange(min=1),
            default=d.max_iter,
            show_default=True,
            help="Iteration limit (reaching it is a warning, not an error).",
        ),
        click.option(
            "--tol",
            type=click.FloatRange(min=0),
            default=d.tol,
            show_default=True,
            help="Stop when the loss decreases by less than this fraction.",
        ),
        click.option(
            "--seed",
            type=int,
            default=d.seed,
            show_default=True,
            help="Random seed (random init; the same seed gives the same result).",
        ),
        click.option(
            "--alpha-w",
            type=click.FloatRange(min=0),
            default=d.alpha_W,
            show_default=True,
            help="Regularisation strength on W (document-topic weights).",
        ),
        click.option(
            "--alpha-h",
            type=AlphaH(),
            default=str(d.alpha_H),
            show_default=True,
            help="Regularisation strength on H (topic-term weights); 'same' as --alpha-w.",
        ),
        click.option(
            "--l1-ratio",
            type=click.FloatRange(0, 1),
            default=d.l1_ratio,
            show_default=True,
            help="Mix of L1 (1.0, sparse) and L2 (0.0) in the regularisation.",
        ),
        click.option(
            "--float64", is_flag=True, help="Compute in double precision (default float32)."
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _vectorizer_config(kw: dict[str, Any]) -> Any:
    from topicnmf.config import VectorizerConfig, resolve_stop_words

    return VectorizerConfig(
        lowercase=kw["lowercase"],
        token_pattern=kw["token_pattern"],
        stop_words=resolve_stop_words(kw["stop_words"]),
        ngram_range=kw["ngram_range"],
        min_df=kw["min_df"],
        max_df=kw["max_df"],
        max_features=kw["max_features"],
        sublinear_tf=kw["sublinear_tf"],
        norm=None if kw["norm"] == "none" else kw["norm"],
        use_idf=not kw["no_idf"],
    )


def _nmf_config(k: int, kw: dict[str, Any]) -> Any:
    from topicnmf.config import NMFConfig

    solver = kw["solver"]
    if solver == "auto":
        # coordinate descent is the fast solver for both losses; for KL it is compiled with
        # numba, and without numba the multiplicative updates are what there is
        import importlib.util

        has_numba = importlib.util.find_spec("numba") is not None
        solver = "cd" if kw["loss"] == "frobenius" or has_numba else "mu"
    return NMFConfig(
        n_components=k,
        loss=kw["loss"],
        solver=solver,
        init=kw["init"],
        svd=kw["svd"],
        max_iter=kw["max_iter"],
        tol=kw["tol"],
        seed=kw["seed"],
        alpha_W=kw["alpha_w"],
        alpha_H=kw["alpha_h"],
        l1_ratio=kw["l1_ratio"],
        dtype="float64" if kw["float64"] else "float32",
    )


def _render_topics(records: list[dict[str, Any]], fmt: str, fh: IO[str]) -> None:
    from topicnmf.export import write_topics

    if fmt == "table":
        rows = [
            [str(r["topic"]), f"{100 * r['share']:.1f}%", ", ".join(t["term"] for t in r["terms"])]
            for r in records
        ]
        _print_rich_table([("topic", "right"), ("share", "right"), ("top terms", "left")], rows)
    else:
        write_topics(records, fh, fmt)


@cli.command()
@click.argument("corpus", nargs=-1, required=True)
@click.option(
    "-k",
    "--topics",
    "k",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Number of topics.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help=f"Model file to write [default: $TOPICNMF_MODEL or {DEFAULT_MODEL}].",
)
@corpus_options
@vectorizer_options
@nmf_options
@click.option(
    "--topics-out",
    type=click.Path(dir_okay=False),
    help="Also write the topic table here (.csv, .json or .jsonl).",
)
@click.option(
    "--doc-topics-out",
    type=click.Path(dir_okay=False),
    help="Also write the training documents' topic weights here (.csv, .json or .jsonl).",
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
    help="Terms per topic in the printed table.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "jsonl"]),
    help="Format of the topic table on stdout [default: table on a terminal, else csv].",
)
@jobs_option
@quiet_option
def fit(
    corpus: tuple[str, ...],
    k: int,
    output: str | None,
    topics_out: str | None,
    doc_topics_out: str | None,
    save_doc_topics: bool,
    top: int,
    fmt: str | None,
    jobs: int | None,
    quiet: bool,
    **kw: Any,
) -> None:
    """Learn topics from a corpus and write the model.

    CORPUS is a directory of text files, a .txt (one document per line), .csv/.tsv or
    .jsonl file (optionally .gz), '-' for standard input, or 20newsgroups[:train|test|all].
    The model goes to model.npz unless -o says otherwise; a summary goes to stderr and the
    topic table to stdout.

    \b
    Examples:
      topicnmf fit sample_corpora/hobbies -k 4
      topicnmf fit sample_corpora/news.csv -k 4 --id-column id -o news.npz
      topicnmf fit 20newsgroups:train -k 20 --data-home ../shared/data
      topicnmf fit docs/ -k 8 --doc-topics-out weights.csv --topics-out topics.json
    """
    from topicnmf.export import DocTopicWriter, require_format_from_path, topic_records
    from topicnmf.fileio import atomic_write, check_writable

    _set_quiet(quiet)
    report = Reporter(quiet)
    model_path = _model_path(output)
    corpus_kw = _corpus_opts(kw)
    vec_config = _vectorizer_config(kw)
    nmf_config = _nmf_config(k, kw)
    out_fmt = resolve_format(fmt, None)
    # Settle every output before the work starts: a typo in a path should not cost a fit.
    topics_fmt = require_format_from_path(topics_out, "--topics-out") if topics_out else None
    doc_fmt = (
        require_format_from_path(doc_topics_out, "--doc-topics-out") if doc_topics_out else None
    )
    for path in (model_path, topics_out, doc_topics_out):
        if path:
            check_writable(path)
    documents = _load_corpus(corpus, corpus_kw, prefetch=_prefetch_wanted(jobs))
    # NumPy and SciPy load only now, while a 20 Newsgroups archive is already being read;
    # so does the eigensolver of the exact NNDSVD start, which the engine would load later
    if nmf_config.init != "random" and nmf_config.svd == "exact":
        import scipy.sparse.linalg  # noqa: F401

    from topicnmf.model import fit as fit_model
    from topicnmf.model import normalise_rows

    # one progress line: reading, then fitting (a bar per stage would show both at once)
    with report.progress("Reading documents") as update:

        def on_document(n: int) -> None:
            update(description=f"Reading documents ({n:,})")

        def on_vectorized(n_docs: int, n_terms: int, nnz: int) -> None:
            update(description=f"Fitting {k} topics to {n_docs:,} documents", force=True)

        def on_iteration(i: int, loss: float) -> None:
            update(description=f"Fitting {k} topics: iteration {i}, loss {loss:.6g}")

        out = fit_model(
            documents,
            vec_config,
            nmf_config,
            n_jobs=jobs,
            save_doc_topics=save_doc_topics,
            on_document=on_document if report.interactive else None,
            on_iteration=on_iteration if report.interactive else None,
            on_vectorized=on_vectorized if report.interactive else None,
        )
    model = out.model
    stats = model.stats
    assert stats is not None
    skipped = documents.stats.skipped_binary
    if not stats.converged:
        log.warning(
            f"NMF stopped at --max-iter {nmf_config.max_iter} before the loss settled "
            f"(--tol {nmf_config.tol:g}); the topics are usable, or raise --max-iter"
        )
    model.save(model_path)
    records = topic_records(model, top)
    if topics_out:
        with atomic_write(topics_out, "w") as fh:
            from topicnmf.export import write_topics

            write_topics(topic_records(model, max(top, 10)), fh, topics_fmt or "csv")
    if doc_topics_out:
        with atomic_write(doc_topics_out, "w") as fh:
            writer = DocTopicWriter(fh, doc_fmt or "csv", model.topic_labels(), None)
            writer.write(out.doc_ids, normalise_rows(out.W))
            writer.close()

    report.info(
        f"Read {stats.n_documents:,} documents"
        + (f" ({skipped:,} binary files skipped)" if skipped else "")
        + f"; vocabulary {stats.n_terms:,} terms, {stats.n_nonzero:,} non-zeros "
        f"({stats.seconds_read_vectorize:.2f} s)"
    )
    report.info(
        f"NMF k={k} ({nmf_config.loss}, {nmf_config.solver}, init {nmf_config.init}): "
        f"{stats.n_iter} iterations, loss {stats.loss:.6g}, relative error "
        f"{stats.relative_error:.4f} ({stats.seconds_nmf:.2f} s)"
    )
    written = [model_path] + [p for p in (topics_out, doc_topics_out) if p]
    report.info("Wrote " + ", ".join(written))
    _render_topics(records, out_fmt, _stdout())


# ---------------------------------------------------------------------------------------
# topics
# ---------------------------------------------------------------------------------------


def _load_model(path: str) -> Any:
    from topicnmf.model import TopicModel

    return TopicModel.load(path)


@cli.command()
@click.argument("model", required=False)
@click.option(
    "-n",
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Terms per topic.",
)
@output_options
@quiet_option
def topics(model: str | None, top: int, fmt: str | None, output: str | None, quiet: bool) -> None:
    """Show the top terms of each topic.

    Topics are numbered from 0 and ordered by their share of the corpus, largest first.
    Each has a label (its top three terms, joined by '_') and its share.

    \b
    Examples:
      topicnmf topics                        # model.npz, table on a terminal
      topicnmf topics news.npz --top 5 --format json
      topicnmf topics -o topics.csv
    """
    from topicnmf.export import topic_records

    out_fmt = resolve_format(fmt, output)
    records = topic_records(_load_model(_model_path(model)), top)
    if out_fmt == "table":
        _render_topics(records, "table", _stdout())
        return
    with open_output(output) as fh:
        _render_topics(records, out_fmt, fh)


# ---------------------------------------------------------------------------------------
# assign
# ---------------------------------------------------------------------------------------


@cli.command()
@click.argument("corpus", nargs=-1, required=True)
@click.option(
    "-m", "--model", "model_path", help=f"Model file [default: $TOPICNMF_MODEL or {DEFAULT_MODEL}]."
)
@corpus_options
@output_options
@click.option(
    "--raw", is_flag=True, help="Write W itself instead of weights normalised to sum to 1."
)
@click.option(
    "--top-topics", type=click.IntRange(min=1), help="Only the N strongest topics per document."
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=4096,
    show_default=True,
    help="Documents transformed at a time (bounds memory).",
)
@jobs_option
@quiet_option
def assign(
    corpus: tuple[str, ...],
    model_path: str | None,
    fmt: str | None,
    output: str | None,
    raw: bool,
    top_topics: int | None,
    batch_size: int,
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
      topicnmf assign 20newsgroups:test --data-home ../shared/data -o test.csv
      cat notes.txt | topicnmf assign - --top-topics 3
    """
    from topicnmf.export import DocTopicWriter

    _set_quiet(quiet)
    report = Reporter(quiet)
    corpus_kw = _corpus_opts(kw)
    out_fmt = prepare_output(fmt, output)
    path = _model_path(model_path)
    if not os.path.isfile(path):
        _load_model(path)  # says what is wrong (missing, a folder, a pipe...) and stops
    # then the corpus: a 20 Newsgroups archive is read in a helper process while the
    # model (and NumPy with it) loads
    documents = _load_corpus(corpus, corpus_kw, prefetch=_prefetch_wanted(jobs))
    m = _load_model(path)
    from topicnmf.model import normalise_rows

    labels = m.topic_labels()
    t0 = time.perf_counter()
    n_docs = n_empty = 0
    table_rows: list[list[str]] = []

    with (
        report.progress("Assigning documents") as update,
        open_output(None if out_fmt == "table" else output) as fh,
    ):
        writer = None if out_fmt == "table" else DocTopicWriter(fh, out_fmt, labels, top_topics)
        for batch in documents.iter_batches(batch_size):
            ids = [d.id for d in batch]
            W = m.transform([d.text for d in batch], n_threads=jobs)
            empty = ~(W > 0).any(axis=1)
            n_empty += int(empty.sum())
            weights = W if raw else normalise_rows(W)
            n_docs += len(ids)
            if writer is not None:
                writer.write(ids, weights)
            else:
                table_rows.extend(_assign_table_rows(ids, weights, labels, top_topics or 3))
            update(description=f"Assigning documents ({n_docs:,})")
        if writer is not None:
            writer.close()
    if out_fmt == "table":
        _print_rich_table(
            [
                ("id", "left"),
                ("dominant topic", "left"),
                ("weight", "right"),
                ("top topics", "left"),
            ],
            table_rows,
        )
    if n_empty:
        log.warning(
            f"{n_empty:,} of {n_docs:,} documents have no word of the model's vocabulary; "
            "their weights are zero and they have no dominant topic"
        )
    report.info(
        f"Assigned {n_docs:,} documents to {m.n_topics} topics in {time.perf_counter() - t0:.2f} s"
    )


def _assign_table_rows(ids: list[str], W: Any, labels: list[str], top: int) -> list[list[str]]:
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


# ---------------------------------------------------------------------------------------
# info
# ---------------------------------------------------------------------------------------


def model_info(m: Any, path: str) -> dict[str, Any]:
    """Everything worth knowing about a model, as plain data (for table and JSON)."""
    import dataclasses

    vec = m.vectorizer
    cfg = dataclasses.asdict(vec.config)
    stop = cfg.pop("stop_words", ())
    cfg["stop_words"] = f"{len(stop)} words"
    return {
        "file": path,
        "format_version": m.format_version,
        "topics": m.n_topics,
        "terms": len(m.vocabulary),
        "labels": m.topic_labels(),
        "topic_share": [round(float(s), 6) for s in m.topic_share],
        "vectorizer": cfg,
        "nmf": dataclasses.asdict(m.nmf_config),
        "fit": dataclasses.asdict(m.stats) if m.stats else None,
        "versions": m.versions,
        "corpus_fingerprint": m.fingerprint,
        "created": m.created,
        "stored_doc_topics": None if m.doc_ids is None else len(m.doc_ids),
    }


@cli.command()
@click.argument("model", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    help="Output format [default: table on a terminal, else json].",
)
def info(model: str | None, fmt: str | None) -> None:
    """Describe a model: sizes, settings, fit statistics, versions, corpus fingerprint.

    \b
    Examples:
      topicnmf info
      topicnmf info news.npz --format json
    """
    path = _model_path(model)
    data = model_info(_load_model(path), path)
    if fmt is None:
        fmt = "table" if getattr(_stdout(), "isatty", lambda: False)() else "json"
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    rows = []
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                rows.append([f"{key}.{sub}", str(v)])
        elif isinstance(value, list):
            rows.append([key, ", ".join(str(v) for v in value)])
        else:
            rows.append([key, str(value)])
    _print_rich_table([("field", "left"), ("value", "left")], rows)


def _write_rows(header: list[str], rows: list[list[Any]], fmt: str, fh: IO[str], data: Any) -> None:
    """CSV from rows; JSON/JSONL from ``data`` (a dict, or a list for JSONL lines)."""
    from topicnmf.export import csv_line

    if fmt == "csv":
        fh.write(csv_line(header))
        for row in rows:
            fh.write(csv_line(row))
    elif fmt == "json":
        fh.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        items = data if isinstance(data, list) else [data]
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")


def _fmt_num(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


# ---------------------------------------------------------------------------------------
# evaluate
# ---------------------------------------------------------------------------------------


@cli.command()
@click.argument("args", nargs=-1, metavar="[MODEL] [CORPUS]...")
@click.option("-m", "--model", "model_opt", help="Model file (or give it as the first argument).")
@click.option(
    "-n",
    "--top",
    type=click.IntRange(min=2),
    default=10,
    show_default=True,
    help="Top terms per topic for coherence and diversity.",
)
@corpus_options
@output_options
@jobs_option
@quiet_option
def evaluate(
    args: tuple[str, ...],
    model_opt: str | None,
    top: int,
    fmt: str | None,
    output: str | None,
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

    \b
    Examples:
      topicnmf evaluate                                  # model.npz, training corpus
      topicnmf evaluate ng.npz 20newsgroups:test --data-home ../shared/data
      topicnmf evaluate -m news.npz held_out.csv --format json
    """
    _set_quiet(quiet)
    sources = list(args)
    if model_opt is None and sources and sources[0].lower().endswith(".npz"):
        model_opt = sources.pop(0)
    corpus_kw = _corpus_opts(kw)
    out_fmt = prepare_output(fmt, output)
    m = _load_model(_model_path(model_opt))
    if sources:
        documents = _load_corpus(tuple(sources), corpus_kw)
        V = m.vectorizer.transform(d.text for d in documents)
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
    header = ["topic", "label", "npmi", "n_dominant", "top_terms"]
    rows: list[list[Any]] = [
        [
            t.topic,
            labels[t.topic],
            _fmt_num(t.npmi),
            "" if t.n_dominant is None else t.n_dominant,
            " ".join(t.top_terms or ()),
        ]
        for t in evaluation.topics
    ]
    summary = (
        f"mean NPMI {_fmt_num(evaluation.npmi)} on {where}; diversity "
        f"{evaluation.diversity:.3f}; relative reconstruction error "
        f"{_fmt_num(evaluation.reconstruction_error)}"
    )
    if evaluation.n_undominated:
        summary += f"; {evaluation.n_undominated:,} documents with no topic"
    if out_fmt == "table":
        _print_rich_table(
            [("topic", "right"), ("NPMI", "right"), ("docs", "right"), ("top terms", "left")],
            [
                [str(r[0]), r[2], str(r[3]), ", ".join((t.top_terms or ())[:8])]
                for r, t in zip(rows, evaluation.topics, strict=True)
            ],
        )
        click.echo(summary)
        return
    overall = [
        "all",
        "",
        _fmt_num(evaluation.npmi),
        "" if evaluation.n_documents is None else evaluation.n_documents,
        "",
    ]
    with open_output(output) as fh:
        _write_rows(
            header, [*rows, overall], out_fmt, fh, data["topics"] if out_fmt == "jsonl" else data
        )
    Reporter(quiet).info(summary)


# ---------------------------------------------------------------------------------------
# select-k
# ---------------------------------------------------------------------------------------


def _parse_k(ctx: Any, param: Any, value: str) -> list[int]:
    from topicnmf.quality import parse_k_spec

    try:
        return parse_k_spec(value)
    except ParameterError as exc:
        raise click.BadParameter(str(exc)) from exc


@cli.command("select-k")
@click.argument("corpus", nargs=-1, required=True)
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
    type=click.IntRange(min=0),
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
    type=click.IntRange(min=2),
    default=10,
    show_default=True,
    help="Top terms per topic for coherence, diversity and stability.",
)
@click.option(
    "--tolerance",
    type=click.FloatRange(min=0),
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
    --jobs runs fits in parallel processes; the results do not depend on it.

    \b
    Examples:
      topicnmf select-k docs/ --k 5:30:5
      topicnmf select-k 20newsgroups:train --data-home ../shared/data --k 10:30:5 --jobs 2
      topicnmf select-k news.csv --k 3,4,5,6 --runs 10 -o choice.json
    """
    from topicnmf.quality import select_k as run_select_k
    from topicnmf.vectorize import Vectorizer

    _set_quiet(quiet)
    report = Reporter(quiet)
    corpus_kw = _corpus_opts(kw)
    vec_config = _vectorizer_config(kw)
    nmf_config = _nmf_config(ks[0], kw)
    out_fmt = prepare_output(fmt, output)
    documents = _load_corpus(corpus, corpus_kw)
    t0 = time.perf_counter()
    vectorizer = Vectorizer(vec_config, n_jobs=jobs)
    with report.progress("Reading documents"):
        V = vectorizer.fit_transform(d.text for d in documents)
    too_big = [k for k in ks if k > min(V.shape)]
    if too_big:
        raise ParameterError(
            f"k={too_big[0]} is more than the corpus allows ({V.shape[0]} documents, "
            f"{V.shape[1]} terms); choose k <= {min(V.shape)}"
        )
    report.info(f"Read {V.shape[0]:,} documents; vocabulary {V.shape[1]:,} terms")
    total = len(ks) * (runs + 1)
    with report.progress(f"Fitting {total} models", total=total) as update:

        def on_progress(p: Any) -> None:
            update(completed=p.done, description=f"Fitting models (k={p.k}, run {p.run})")

        result = run_select_k(
            V, ks, nmf_config=nmf_config, vocabulary=vectorizer.vocabulary, top_n=top, runs=runs,
            sample_fraction=sample_fraction, seed=nmf_config.seed, tolerance=tolerance,
            jobs=jobs or 1, callback=on_progress,
        )  # fmt: skip
    header = ["k", "npmi", "diversity", "reconstruction_error", "stability", "stability_std",
              "recommended"]  # fmt: skip
    rows = [
        [r.k, _fmt_num(r.npmi), _fmt_num(r.diversity), _fmt_num(r.reconstruction_error),
         _fmt_num(r.stability), _fmt_num(r.stability_std), r.k == result.recommended_k]
        for r in result.rows
    ]  # fmt: skip
    if out_fmt == "table":
        _print_rich_table(
            [("k", "right"), ("NPMI", "right"), ("diversity", "right"), ("rel. error", "right"),
             ("stability", "right"), ("", "left")],
            [[str(r[0]), r[1], r[2], r[3], f"{r[4]} ± {r[5]}" if r[4] else "-",
              "← recommended" if r[6] else ""] for r in rows],
        )  # fmt: skip
    else:
        data = result.to_dict()
        with open_output(output) as fh:
            _write_rows(header, rows, out_fmt, fh, data["rows"] if out_fmt == "jsonl" else data)
    report.info(f"Recommended k = {result.recommended_k}: {result.reason}")
    report.info(f"{total} models in {time.perf_counter() - t0:.1f} s")


# ---------------------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------------------


@cli.command()
@click.argument("model_a", metavar="A.npz")
@click.argument("model_b", metavar="B.npz")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="Cosine similarity below which matched topics count as different.",
)
@output_options
def compare(
    model_a: str, model_b: str, threshold: float, fmt: str | None, output: str | None
) -> None:
    """Match the topics of two models and show what each has that the other lacks.

    Topics are compared by the cosine similarity of their term weights over the terms both
    vocabularies share, and paired one-to-one by the Hungarian algorithm. Pairs at or above
    --threshold are the same topic; the others are listed as found only in A or only in B.

    \b
    Examples:
      topicnmf compare k10.npz k20.npz
      topicnmf compare old.npz new.npz --threshold 0.5 --format json
    """
    from topicnmf.quality import compare_topics

    out_fmt = prepare_output(fmt, output)
    a, b = _load_model(model_a), _load_model(model_b)
    result = compare_topics(a.H, a.vocabulary, b.H, b.vocabulary, threshold)
    la, lb = a.topic_labels(), b.topic_labels()
    matched = {p.topic_a for p in result.matches}
    rows: list[list[Any]] = []
    for p in result.pairs:
        status = "matched" if p.topic_a in matched else "different"
        rows.append(
            [p.topic_a, la[p.topic_a], p.topic_b, lb[p.topic_b], f"{p.similarity:.4f}", status]
        )
    paired_a = {p.topic_a for p in result.pairs}
    paired_b = {p.topic_b for p in result.pairs}
    rows += [[t, la[t], "", "", "", "only_a"] for t in range(a.n_topics) if t not in paired_a]
    rows += [["", "", t, lb[t], "", "only_b"] for t in range(b.n_topics) if t not in paired_b]
    data = result.to_dict()
    data.pop("similarity")
    data["labels_a"], data["labels_b"] = la, lb
    if out_fmt == "table":
        _print_rich_table(
            [("A", "left"), ("B", "left"), ("similarity", "right"), ("", "left")],
            [[f"{r[0]} {r[1]}", f"{r[2]} {r[3]}".strip(), r[4], r[5]] for r in rows],
        )
        click.echo(
            f"{len(result.matches)} topics in both; only in A: "
            f"{', '.join(map(str, result.only_a)) or 'none'}; only in B: "
            f"{', '.join(map(str, result.only_b)) or 'none'} "
            f"({result.n_shared_terms:,} shared terms, threshold {threshold:g})"
        )
        return
    header = ["topic_a", "label_a", "topic_b", "label_b", "similarity", "status"]
    with open_output(output) as fh:
        _write_rows(header, rows, out_fmt, fh, [dict(zip(header, r, strict=True)) for r in rows]
                    if out_fmt == "jsonl" else data)  # fmt: skip
