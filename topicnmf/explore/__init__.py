"""Looking at a fitted model: labels, representative documents and the HTML report.

``labels`` ranks terms by relevance and makes automatic labels; ``documents`` finds the
documents that best show each topic by streaming a corpus; ``report`` builds the
self-contained HTML page from a list of sections.
"""

from __future__ import annotations

from topicnmf.explore.documents import Representative, representative_documents
from topicnmf.explore.labels import (
    RELEVANCE_LAMBDA,
    auto_labels,
    fragment_topics,
    label_table,
    parse_assignments,
    relevance,
    relevant_terms,
)

__all__ = [
    "RELEVANCE_LAMBDA",
    "Representative",
    "auto_labels",
    "fragment_topics",
    "label_table",
    "parse_assignments",
    "relevance",
    "relevant_terms",
    "representative_documents",
]
