"""Data sets read by name: 20 Newsgroups (``20newsgroups[:train|test|all]``).

:mod:`~topicnmf.datasets.newsgroups` finds and reads the collection,
:mod:`~topicnmf.datasets.archive` reads its archive with tarfile within bounds,
:mod:`~topicnmf.datasets.cache` keeps it extracted, and
:mod:`~topicnmf.datasets.clean` strips posts exactly as scikit-learn does.
"""

from topicnmf.datasets.clean import REMOVABLE, strip_newsgroup
from topicnmf.datasets.newsgroups import NEWSGROUPS

__all__ = ["NEWSGROUPS", "REMOVABLE", "strip_newsgroup"]
