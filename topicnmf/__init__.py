"""topicnmf: topics in documents by non-negative matrix factorization of TF-IDF.

The command line (``topicnmf``) is a thin layer over this library::

    from topicnmf import load_corpus, fit, TopicModel, VectorizerConfig, NMFConfig

    corpus = load_corpus(["sample_corpora/hobbies"])
    out = fit(corpus, VectorizerConfig(), NMFConfig(n_components=4))
    out.model.save("model.npz")
    model = TopicModel.load("model.npz")
    print(model.top_terms(5))
    print(model.transform(["the telescope saw a comet"]))

Names are imported on first use, so ``import topicnmf`` (and the command line's help) stay quick.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "CorpusError": "topicnmf.errors",
    "ModelFileError": "topicnmf.errors",
    "OutputError": "topicnmf.errors",
    "ParameterError": "topicnmf.errors",
    "TopicNMFError": "topicnmf.errors",
    "VectorizerError": "topicnmf.errors",
    "Document": "topicnmf.corpus",
    "load_corpus": "topicnmf.corpus",
    "FitOutput": "topicnmf.model",
    "TopicModel": "topicnmf.model",
    "fit": "topicnmf.model",
    "NMFConfig": "topicnmf.config",
    "fit_nmf": "topicnmf.nmf",
    "TopicNMF": "topicnmf.estimator",
    "Vectorizer": "topicnmf.vectorize",
    "VectorizerConfig": "topicnmf.config",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'topicnmf' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
