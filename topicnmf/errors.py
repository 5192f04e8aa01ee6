"""Exceptions raised by the topicnmf library.

Every error a user can cause (a bad file, a bad setting) is a ``TopicNMFError``.
The command line turns these into one line on stderr and exit code 1; anything
else is a bug and keeps its traceback under ``TOPICNMF_DEBUG=1``.
"""

from __future__ import annotations


class TopicNMFError(Exception):
    """Base class: an expected failure caused by the input, a file or a setting."""

    exit_code = 1


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
