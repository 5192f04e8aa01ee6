"""Small things a newcomer meets in the first hour (issue 16): counts and grammar, warnings
that say how many, topics without zero-weight terms, tables that fit a terminal."""

from __future__ import annotations

import json

import numpy as np

from tests.conftest import SAMPLES
from tests.helpers import ok
from topicnmf._text import count


def test_counts_are_grouped_and_in_the_right_number():
    assert count(1, "document") == "1 document"
    assert count(0, "document") == "0 documents"
    assert count(11314, "document") == "11,314 documents"
    assert count(2, "query", "queries") == "2 queries"


def test_fit_warns_how_many_training_documents_have_no_vocabulary_word(tmp_path):
    docs = tmp_path / "d.txt"
    docs.write_text("apples pears\nzzz qqq\napples pears plums\nplums pears\nxxx\n")
    result = ok(["fit", docs, "-k", 1, "-m", tmp_path / "m.npz", "--format", "csv"])
    assert "warning: 2 of 5 training documents have no word of the vocabulary" in result.stderr
    docs.write_text("apples pears\nzzz qqq\napples pears plums\nplums pears\n")
    result = ok(["fit", docs, "-k", 1, "-m", tmp_path / "m.npz", "--format", "csv"])
    assert "warning: 1 of 4 training documents has no word" in result.stderr
    assert "it has no topic weights" in result.stderr
    docs.write_text("apples pears\napples pears plums\nplums pears\n")
    result = ok(["fit", docs, "-k", 1, "-m", tmp_path / "m.npz", "--format", "csv"])
    assert "warning" not in result.stderr
    assert "Read 3 documents; vocabulary 2 terms" in result.stderr  # pears: in all, > max_df


def test_one_document_is_singular(tmp_path, hobbies_model):
    result = ok(["assign", "-m", hobbies_model, "-"], input="the telescope saw a comet\n")
    assert "Assigned 1 document to 4 topics" in result.stderr


def test_assign_on_a_collapsed_model_does_not_blame_the_vocabulary(tmp_path):
    model = tmp_path / "m.npz"
    ok(["fit", SAMPLES / "hobbies", "-k", 3, "-m", model, "-q", "--alpha-w", "0.5",
        "--l1-ratio", "1", "--format", "csv"])  # fmt: skip
    from topicnmf import TopicModel

    m = TopicModel.load(model)
    W = m.transform(["soil garden plants compost"])
    if (W > 0).any():  # the penalty did not empty W for this text: nothing to check
        return
    result = ok(["assign", "-m", model, "-", "--format", "csv"], input="soil garden plants\n")
    assert "no word of the model's vocabulary" not in result.stderr
    assert "zero weight for every topic" in result.stderr


def test_topics_never_list_terms_of_weight_zero(tmp_path):
    docs = tmp_path / "d.txt"
    # two disjoint themes: each topic has only its own three terms
    docs.write_text("apples pears plums\n" * 3 + "rockets moons orbits\n" * 3)
    model = tmp_path / "m.npz"
    ok(["fit", docs, "-k", 2, "-m", model, "-q", "--min-df", 1, "--max-df", 1.0, "--format", "csv"])
    data = json.loads(ok(["topics", model, "--top", 6, "--format", "json"]).stdout)
    for topic in data:
        assert topic["terms"] and all(t["weight"] > 0 for t in topic["terms"])
        assert len(topic["terms"]) == 3
        assert topic["label"].count("_") == 2


def test_labels_of_empty_topics_are_not_built_from_zero_weight_terms(hobbies_model, tmp_path):
    from topicnmf import TopicModel

    m = TopicModel.load(hobbies_model)
    m.H = m.H.copy()
    m.H[3] = 0
    assert m.topic_labels()[3] == "empty_topic_3"
    assert m.top_terms(5)[3] == []
    assert all(w > 0 for row in m.top_terms(5)[:3] for _, w in row)
    assert np.all(m.H[:3].sum(axis=1) > 0)
