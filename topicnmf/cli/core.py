"""The command group: one invocation's state, signals, and errors turned into exit codes.

Exit codes: 0 success, 1 bad input or file, 2 usage error, 130 interrupted (Ctrl-C),
143 terminated (SIGTERM). Everything a run needs to remember (a stop that was asked for,
the outputs it committed, its log handler) lives in an :class:`Invocation` that exists only
while the command runs, so ``main()`` can be called again in the same process.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import click

from topicnmf import __version__
from topicnmf.cli.text import terminal_safe
from topicnmf.errors import CollapseWarning, ConvergenceWarning, TopicNMFError, TopicNMFWarning

log = logging.getLogger("topicnmf")


class Terminated(BaseException):
    """Raised from the SIGTERM handler so that cleanup code (finally blocks) runs."""


def debug() -> bool:
    return os.environ.get("TOPICNMF_DEBUG", "") not in ("", "0")


def error_line(message: str) -> None:
    """The one ``Error:`` line on stderr (text from inputs made safe for a terminal)."""
    with contextlib.suppress(Exception):
        click.echo(f"Error: {terminal_safe(message)}", err=True)


class _StderrHandler(logging.Handler):
    """Log records as 'warning: ...' lines on the current stderr (CliRunner swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            prefix = "warning: " if record.levelno >= logging.WARNING else ""
            click.echo(prefix + terminal_safe(record.getMessage()), err=True)
        except Exception:  # pragma: no cover - logging must never crash the tool
            self.handleError(record)


class Invocation:
    """The state of one run of a command; installed as the library's write hooks."""

    current: Invocation | None = None  # the run in progress, for the signal handler

    def __init__(self) -> None:
        self.stop: BaseException | None = None
        self.committed: list[str] = []
        self.quiet = False

    # fileio.WriteHooks
    def before_commit(self, path: str) -> None:
        # Python drops an exception raised inside a weakref callback or __del__ (a signal
        # handler can run inside one), so a recorded stop is checked again here
        if self.stop is not None:
            raise self.stop

    def after_commit(self, path: str) -> None:
        self.committed.append(path)

    def stopped_message(self, how: str) -> str:
        """The message for an interrupted run: which outputs (if any) it finished writing."""
        if not self.committed:
            return f"{how}; no output file was written or changed"
        names = ", ".join(repr(p) for p in self.committed)
        return f"{how} after writing {names}; no other output file was written or changed"


def set_quiet(quiet: bool) -> None:
    """-q: errors still get their one line; warnings and summaries are dropped."""
    if Invocation.current is not None:
        Invocation.current.quiet = quiet
    if quiet:
        log.setLevel(logging.ERROR)


def _show_warning(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    """Library warnings become 'warning:' lines; other libraries' stay out of the way."""
    if issubclass(category, TopicNMFWarning):
        advice = ""
        if issubclass(category, ConvergenceWarning):
            advice = "; raise --max-iter or loosen --tol"
        elif issubclass(category, CollapseWarning):
            advice = " (e.g. --alpha-w 1e-5, or a lower --l1-ratio)"
        log.warning("%s%s", message, advice)
    elif debug():
        log.warning("%s: %s", category.__name__, message)


def _os_error_line(exc: OSError) -> str:
    from topicnmf.fileio import os_error_reason

    reason = os_error_reason(exc)
    if exc.filename:
        return f"{str(exc.filename)!r}: {reason}"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return f"could not write the output: {reason}"
    return f"input/output error: {reason}"


class TopicNMFGroup(click.Group):
    """A click group that turns library errors and signals into messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        from topicnmf.fileio import write_hooks

        run = Invocation()
        previous = Invocation.current
        Invocation.current = run
        handler = _StderrHandler(logging.INFO)
        saved_log = (log.level, log.propagate)
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        try:
            with warnings.catch_warnings(), write_hooks(run):
                warnings.simplefilter("always", TopicNMFWarning)
                warnings.showwarning = _show_warning
                return self._invoke(ctx, run)
        finally:
            log.removeHandler(handler)
            log.setLevel(saved_log[0])
            log.propagate = saved_log[1]
            Invocation.current = previous

    def _invoke(self, ctx: click.Context, run: Invocation) -> Any:
        try:
            rv = super().invoke(ctx)
            # Flush here rather than at interpreter exit, so that a closed pipe or a full
            # disk on stdout is handled below like any other error.
            if sys.stdout is not None:
                sys.stdout.flush()
            if run.stop is not None:  # a stop whose exception was dropped on its way up
                raise run.stop
            return rv
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except TopicNMFError as exc:
            if debug():
                raise
            from topicnmf.cli.options import command_options, with_advice

            command = self.get_command(ctx, ctx.invoked_subcommand or "")
            error_line(with_advice(exc, command_options(command)))
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader (e.g. `head`) has gone: stop quietly. Point stdout at /dev/null so
            # the interpreter's final flush does not complain.
            with contextlib.suppress(Exception):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            ctx.exit(0)
        except KeyboardInterrupt:
            if debug():
                raise
            error_line(run.stopped_message("interrupted"))
            ctx.exit(130)
        except Terminated:
            error_line(run.stopped_message("terminated"))
            ctx.exit(143)
        except OSError as exc:
            # I/O failures the library did not attribute to a file: stdout on a full disk,
            # a failing device. One line, exit 1, as for any bad file.
            if debug():
                raise
            error_line(_os_error_line(exc))
            ctx.exit(1)
        except MemoryError:
            if debug():
                raise
            error_line("out of memory; try a smaller corpus, --max-features, or a smaller -k")
            ctx.exit(1)
        except Exception as exc:
            if debug():
                raise
            error_line(
                f"unexpected {type(exc).__name__}: {exc} (this is a bug in topicnmf; "
                "run again with TOPICNMF_DEBUG=1 for the traceback and report it)"
            )
            ctx.exit(1)


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


def _on_signal(signum: int, frame: Any) -> None:
    """SIGTERM raises Terminated and SIGINT KeyboardInterrupt; both are also recorded, so
    that no output is committed even if the exception is dropped on its way up."""
    exc: BaseException = Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()
    if Invocation.current is not None:
        Invocation.current.stop = exc
    raise exc


def main(args: Sequence[str] | None = None) -> int:
    """Run the command line (``args`` default to ``sys.argv[1:]``); return the exit code.

    Installs the SIGINT/SIGTERM handlers for the run and restores the previous ones, so it
    can be called more than once in a process. An ignored SIGINT (a background job of a
    shell) stays ignored.
    """
    saved: dict[int, Any] = {}
    with contextlib.suppress(ValueError):  # not in the main thread: no handlers
        saved[signal.SIGTERM] = signal.signal(signal.SIGTERM, _on_signal)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            saved[signal.SIGINT] = signal.signal(signal.SIGINT, _on_signal)
    try:
        cli.main(args=None if args is None else list(args), prog_name="topicnmf")
    except SystemExit as exc:
        code = exc.code
    else:  # pragma: no cover - click's standalone mode always raises SystemExit
        code = 0
    finally:
        for signum, handler in saved.items():
            with contextlib.suppress(ValueError, TypeError):
                signal.signal(signum, handler)
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    error_line(str(code))
    return 1
