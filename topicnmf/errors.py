"""Exceptions raised by the topicnmf library.

Every error a user can cause (a bad file, a bad setting) is a ``TopicNMFError``. Its message
is one line that says what is wrong and where, in the library's own words: it never names a
command-line option. What a caller needs in order to give advice travels in fields:

* ``param``: the library parameter whose value is wrong or that would fix the problem
  (``"text_column"``, ``"encoding"``, ``"stop_words"``, ...). The command line turns it
  into the option that sets it and says so.
* ``path``: the file or folder concerned, when there is one.
* ``value``: the offending value; ``choices``: the values that would be accepted
  (the columns a CSV file has, the known newsgroups, ...).

The command line prints one line on stderr and exits with ``exit_code`` (1), or with 2
(a usage error) for a ``ParameterError`` about one of its options; anything that is not a
``TopicNMFError`` is a bug and keeps its traceback under ``TOPICNMF_DEBUG=1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class TopicNMFError(Exception):
    """Base class: an expected failure caused by the input, a file or a setting.

    Parameters
    ----------
    message : str
        One line: what is wrong, where, and (in library terms) what to do.
    param : str, optional
        The library parameter concerned (e.g. ``"text_column"``).
    path : str, optional
        The file or folder concerned.
    value : object, optional
        The offending value.
    choices : sequence of str, optional
        Values that would be accepted.
    """

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        path: Any = None,
        value: Any = None,
        choices: Sequence[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.path = None if path is None else str(path)
        self.value = value
        self.choices = None if choices is None else tuple(choices)

    def __str__(self) -> str:
        return self.message


class CorpusError(TopicNMFError):
    """A corpus source is missing, empty, unreadable or malformed."""


class VectorizerError(TopicNMFError):
    """The vectorizer settings are invalid or leave an empty vocabulary."""


class ParameterError(TopicNMFError, ValueError):
    """A setting has a value outside its allowed range."""


class ModelFileError(TopicNMFError):
    """A model file is missing, corrupt, unsafe or from an unsupported version."""


class OutputError(TopicNMFError):
    """An output file could not be written."""


class TopicNMFWarning(UserWarning):
    """Base class of the library's warnings."""


class ConvergenceWarning(TopicNMFWarning):
    """A solver stopped at its iteration limit before its stopping rule was met.

    The result is still returned and usable; more iterations (or a looser tolerance) would
    settle it.
    """


class CollapseWarning(TopicNMFWarning):
    """A factorisation lost (nearly) all of its content, e.g. to a too strong penalty."""
