"""evaluate, select-k and compare through the command line."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from tests.conftest import SAMPLES
from tests.test_cli import ok, run
from topicnmf import TopicModel
from topicnmf.quality import top_term_indices, topic_npmi


@pytest.mark.parametrize("command", ["evaluate", "select-k", "compare"])
def test_help_has_examples(command):
    assert "Examples:" in ok([command, "--help"]).stdout


def test_evaluate_on_training_corpus_matches_npmi_on_the_texts(hobbies_model):
    data = json.loads(ok(["evaluate", hobbies_model, "--format", "json"]).stdout)
    assert data["reference"] == "training"
    assert len(data["topics"]) == 4
    assert 0.9 <= data["diversity"] <= 1.0
    assert sum(t["n_dominant"] for t in data["topics"]) == 72
    # the stored co-occurrences give the same NPMI as re-reading the corpus
    again = json.loads(
        ok(["evaluate", hobbies_model, SAMPLES / "hobbies", "--format", "json"]).stdout
    )
    assert again["npmi"] == pytest.approx(data["npmi"], abs=1e-9)
    m = TopicModel.load(hobbies_model)
    texts = [p.read_text() for p in sorted((SAMPLES / "hobbies").glob("*.txt"))]
    direct = topic_npmi(top_term_indices(m.H, 10), m.vectorizer.transform(texts)).mean()
    assert data["npmi"] == pytest.approx(direct, abs=1e-9)
    assert again["relative_error"] == pytest.approx(m.stats.relative_error, rel=1e-3)


def test_evaluate_on_another_corpus_csv(hobbies_model):
    out = ok(["-h"])  # group still works with the command added
    assert "evaluate" in out.stdout
    result = ok(["evaluate", "-m", hobbies_model, SAMPLES / "news.csv", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["topic"] for r in rows] == ["0", "1", "2", "3", "all"]
    assert rows[-1]["n_dominant"] == "72"
    assert "mean NPMI" in result.stderr
    # news texts share little with the hobbies vocabulary: coherence there is low
    assert float(rows[-1]["npmi"]) < 0.5


def test_evaluate_top_beyond_stored_needs_corpus(hobbies_model):
    result = run(["evaluate", hobbies_model, "--top", "25"])
    assert result.exit_code == 1
    assert "give a reference corpus" in result.stderr


def test_select_k_table_and_recommendation(tmp_path):
    out = tmp_path / "sel.json"
    result = ok(["select-k", SAMPLES / "hobbies", "--k", "2:5", "--runs", "2", "-o", out])
    data = json.loads(out.read_text())
    assert [r["k"] for r in data["rows"]] == [2, 3, 4, 5]
    assert data["recommended_k"] in (2, 3, 4, 5)
    assert "Recommended k" in result.stderr
    for row in data["rows"]:
        assert 0 <= row["stability"] <= 1
        assert "seconds" not in row  # keeps the output byte-identical between runs
    again = tmp_path / "sel2.json"
    ok(["select-k", SAMPLES / "hobbies", "--k", "2:5", "--runs", "2", "-o", again, "--jobs", "2"])
    assert out.read_bytes() == again.read_bytes()


@pytest.mark.parametrize("spec", ["0:5", "5:2", "a,b", "3:9:0", ""])
def test_select_k_bad_spec_is_usage_error(spec):
    result = run(["select-k", SAMPLES / "hobbies", "--k", spec])
    assert result.exit_code == 2
    assert "--k" in result.stderr


def test_select_k_k_too_large(tmp_path):
    result = run(["select-k", SAMPLES / "hobbies", "--k", "70,80", "--runs", "0"])
    assert result.exit_code == 1
    assert "k=80" in result.stderr or "k=70" in result.stderr


def test_compare_model_with_itself_and_with_fewer_topics(hobbies_model, tmp_path):
    data = json.loads(ok(["compare", hobbies_model, hobbies_model, "--format", "json"]).stdout)
    assert [(m["topic_a"], m["topic_b"]) for m in data["matches"]] == [(t, t) for t in range(4)]
    assert all(m["similarity"] == pytest.approx(1.0) for m in data["matches"])
    assert data["only_a"] == [] and data["only_b"] == []
    small = tmp_path / "k3.npz"
    ok(["fit", SAMPLES / "hobbies", "-k", "3", "-m", small, "-q"])
    rows = list(
        csv.DictReader(io.StringIO(ok(["compare", hobbies_model, small, "--format", "csv"]).stdout))
    )
    statuses = [r["status"] for r in rows]
    assert statuses.count("only_a") == 1
    assert len(rows) == 4
    table = ok(["compare", hobbies_model, small, "--format", "table"]).stdout
    assert "only in A" in table


def test_topics_sorted_by_share_and_dominance_consistent(hobbies_model):
    m = TopicModel.load(hobbies_model)
    assert m.dominant_count is not None and m.dominant_count.sum() == 72
    assert np.all(np.diff(m.topic_share) <= 0)
