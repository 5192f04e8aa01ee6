"""Topics in context: over time, by group, and against known labels.

The functions return pandas DataFrames (or dicts of them) so that a command, a notebook or
a report can draw them: :func:`trends_frame` (each topic's share of each time bin, with a
bootstrap interval), :func:`bin_top_terms` (a topic's top terms from one bin's documents),
:func:`groups_frame` (log-odds of each topic in each group against the rest) and
:func:`label_agreement` (NMI, ARI, purity and the topic x label table). Metadata comes from
``load_corpus(metadata_columns=...)`` through :func:`collect`; :func:`parse_times` and
:func:`clean_groups` say which documents they leave out (:class:`ValueReport`).
:func:`dynamic_topics` fits window topics and dynamic topics over them (Greene & Cross).
"""

from topicnmf.context.dynamic import DynamicTopics, dynamic_topics, window_topics_frame
from topicnmf.context.frames import (
    GROUPS_COLUMNS,
    TRENDS_COLUMNS,
    bin_top_terms,
    groups_frame,
    label_agreement,
    trends_frame,
)
from topicnmf.context.metadata import (
    CALENDAR_BINS,
    ValueReport,
    assign_bins,
    check_some,
    clean_groups,
    collect,
    parse_bins,
    parse_times,
)

__all__ = [
    "CALENDAR_BINS",
    "DynamicTopics",
    "GROUPS_COLUMNS",
    "TRENDS_COLUMNS",
    "ValueReport",
    "assign_bins",
    "bin_top_terms",
    "check_some",
    "clean_groups",
    "collect",
    "dynamic_topics",
    "groups_frame",
    "label_agreement",
    "parse_bins",
    "parse_times",
    "trends_frame",
    "window_topics_frame",
]
