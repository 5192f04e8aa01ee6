"""The TF-IDF stage: :class:`Vectorizer` and its settings.

The package keeps the vectorizer (:mod:`~topicnmf.vectorize.vectorizer`: vocabulary, idf,
weighting; :mod:`~topicnmf.vectorize.arrays`: its state as arrays for the model file) apart
from the engine it runs on: :mod:`~topicnmf.vectorize.tokenizer` (texts to tokens),
:mod:`~topicnmf.vectorize.tables` (NumPy hash tables from tokens to ids) and
:mod:`~topicnmf.vectorize.counting` (stop words, n-grams, counts per text).
"""

from topicnmf.config import (
    DEFAULT_TOKEN_PATTERN,
    ENGLISH_STOP_WORDS,
    VectorizerConfig,
    resolve_stop_words,
)

from .vectorizer import Vectorizer

__all__ = [
    "DEFAULT_TOKEN_PATTERN",
    "ENGLISH_STOP_WORDS",
    "Vectorizer",
    "VectorizerConfig",
    "resolve_stop_words",
]
