"""Topic quality: coherence, diversity, fit, stability, and topic matching between models.

The functions take plain arrays (``H`` topics x terms, ``W`` documents x topics, ``V`` a
documents x terms matrix in the model's vocabulary) and return numbers or small frozen
dataclasses that the command line renders as a table, CSV or JSON. Nothing here reads files
or prints.

Modules
-------
``metrics``    one model's figures: NPMI coherence, topic diversity, relative reconstruction
               error, dominant topics (:func:`evaluate_topics` gathers them)
``compare``    matching topics: two models by cosine similarity over the union of their
               vocabularies, runs by the Average Jaccard of ranked top terms
``selection``  select-k: candidates, stability over subsamples, the recommended k

Every definition is in the module that computes it; :data:`NPMI_DEFINITION`,
:data:`STABILITY_DEFINITION` and :data:`RECOMMENDATION_RULE` state them in one paragraph.
"""

from __future__ import annotations

from topicnmf.quality.compare import (
    Comparison,
    TopicMatch,
    average_jaccard_matrix,
    compare_topics,
    match_topics,
    ranking_agreement,
)
from topicnmf.quality.metrics import (
    NPMI_DEFINITION,
    Evaluation,
    TopicQuality,
    dominance_counts,
    dominant_topics,
    evaluate_topics,
    npmi_from_counts,
    npmi_pair_matrix,
    relative_error,
    top_indices,
    top_term_indices,
    topic_diversity,
    topic_npmi,
)
from topicnmf.quality.selection import (
    MAX_K,
    MAX_K_CANDIDATES,
    RECOMMENDATION_RULE,
    STABILITY_DEFINITION,
    SelectKProgress,
    SelectKResult,
    SelectKRow,
    parse_k_spec,
    recommend_k,
    select_k,
)

__all__ = [
    "MAX_K",
    "MAX_K_CANDIDATES",
    "NPMI_DEFINITION",
    "RECOMMENDATION_RULE",
    "STABILITY_DEFINITION",
    "Comparison",
    "Evaluation",
    "SelectKProgress",
    "SelectKResult",
    "SelectKRow",
    "TopicMatch",
    "TopicQuality",
    "average_jaccard_matrix",
    "compare_topics",
    "dominance_counts",
    "dominant_topics",
    "evaluate_topics",
    "match_topics",
    "npmi_from_counts",
    "npmi_pair_matrix",
    "parse_k_spec",
    "ranking_agreement",
    "recommend_k",
    "relative_error",
    "select_k",
    "top_indices",
    "top_term_indices",
    "topic_diversity",
    "topic_npmi",
]
