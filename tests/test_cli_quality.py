"""evaluate, select-k and compare through the command line."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from tests.conftest import SAMPLES
from tests.helpers import ok, run
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


EVALUATE_COLUMNS = ["topic", "label", "npmi", "n_dominant", "top_terms", "top_indices",
                    "model_npmi", "diversity", "relative_error", "n_documents", "n_undominated",
                    "top_n", "reference"]  # fmt: skip


def test_evaluate_on_another_corpus_csv(hobbies_model):
    out = ok(["-h"])  # group still works with the command added
    assert "evaluate" in out.stdout
    result = ok(["evaluate", "-m", hobbies_model, SAMPLES / "news.csv", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == EVALUATE_COLUMNS
    # one row per topic, no pseudo-topic row for the model's figures
    assert [r["topic"] for r in rows] == ["0", "1", "2", "3"]
    # the model-level figures are the same on every row
    for name in EVALUATE_COLUMNS[6:]:
        assert len({r[name] for r in rows}) == 1, name
    first = rows[0]
    assert first["n_documents"] == "72" and first["reference"].endswith("news.csv")
    # every document is dominated by one topic or counted apart: the counts add up
    assert sum(int(r["n_dominant"]) for r in rows) + int(first["n_undominated"]) == 72
    assert "mean NPMI" in result.stderr
    # news texts share little with the hobbies vocabulary: coherence there is low
    assert float(first["model_npmi"]) < 0.5
    assert 0 < float(first["relative_error"]) <= 1 and 0 < float(first["diversity"]) <= 1


def test_evaluate_jsonl_has_the_json_figures_as_numbers(hobbies_model):
    data = json.loads(ok(["evaluate", hobbies_model, "--format", "json"]).stdout)
    lines = ok(["evaluate", hobbies_model, "--format", "jsonl"]).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert [list(r) for r in records] == [EVALUATE_COLUMNS] * 4
    for rec, topic in zip(records, data["topics"], strict=True):
        assert rec["npmi"] == topic["npmi"] and isinstance(rec["npmi"], float)
        assert rec["top_terms"] == topic["top_terms"] and rec["n_dominant"] == topic["n_dominant"]
        assert rec["model_npmi"] == data["npmi"]
        for name in ("diversity", "relative_error", "n_documents", "n_undominated", "top_n"):
            assert rec[name] == data[name], name
            assert not isinstance(rec[name], str)
    assert sum(r["n_dominant"] for r in records) + data["n_undominated"] == data["n_documents"]
    csv_rows = list(csv.DictReader(io.StringIO(ok(["evaluate", hobbies_model]).stdout)))
    assert [float(r["relative_error"]) for r in csv_rows] == [data["relative_error"]] * 4


def test_evaluate_counts_documents_without_a_dominant_topic_apart(hobbies_model, tmp_path):
    corpus = tmp_path / "docs.txt"
    corpus.write_text("garden tomatoes soil compost\nzzz qqq xxx\ntelescope stars\n")
    records = [
        json.loads(line)
        for line in ok(["evaluate", hobbies_model, corpus, "--format", "jsonl"]).stdout.splitlines()
    ]
    total, undominated = records[0]["n_documents"], records[0]["n_undominated"]
    assert total == 3 and undominated == 1  # the second line holds no term of the vocabulary
    assert sum(r["n_dominant"] for r in records) == total - undominated


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


def test_select_k_csv_and_jsonl_carry_every_json_field(tmp_path):
    args = ["select-k", SAMPLES / "hobbies", "--k", "2,3", "--runs", "0", "--format"]
    data = json.loads(ok([*args, "json"]).stdout)
    records = [json.loads(line) for line in ok([*args, "jsonl"]).stdout.splitlines()]
    rows = list(csv.DictReader(io.StringIO(ok([*args, "csv"]).stdout)))
    assert [r["k"] for r in records] == [2, 3] and [r["k"] for r in rows] == ["2", "3"]
    settings = {key: value for key, value in data.items() if key != "rows"}
    for rec, row, json_row in zip(records, rows, data["rows"], strict=True):
        assert set(rec) == set(row) == {*json_row, *settings, "recommended"}
        for name, value in json_row.items():
            assert rec[name] == value, name  # numbers stay numbers, None stays null
        for name, value in settings.items():
            assert rec[name] == value, name
        assert rec["recommended"] is (rec["k"] == data["recommended_k"])
        assert rec["stability"] is None and row["stability"] == ""  # --runs 0
        assert float(row["diversity"]) == json_row["diversity"]
        assert float(row["relative_error"]) == json_row["relative_error"]
        assert row["recommended_k"] == str(data["recommended_k"])
        assert row["converged"] in ("true", "false")
    assert sum(r["recommended"] for r in records) == 1


def test_select_k_refuses_a_million_candidates_at_once():
    import time

    start = time.perf_counter()
    result = run(["select-k", SAMPLES / "hobbies", "--k", "1:1000000"])
    assert result.exit_code == 2
    assert "--k" in result.stderr and "1,000,000 values of k" in result.stderr
    assert "at most 100" in result.stderr
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("spec", ["0:5", "5:2", "a,b", "3:9:0", "", "2:200", "2,200000"])
def test_select_k_bad_spec_is_usage_error(spec):
    result = run(["select-k", SAMPLES / "hobbies", "--k", spec])
    assert result.exit_code == 2
    assert "--k" in result.stderr


def test_select_k_k_too_large(tmp_path):
    result = run(["select-k", SAMPLES / "hobbies", "--k", "70,80", "--runs", "0"])
    assert result.exit_code == 1
    assert "k=80" in result.stderr


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


def test_compare_jsonl_uses_numbers_and_null(hobbies_model, tmp_path):
    small = tmp_path / "k3.npz"
    ok(["fit", SAMPLES / "hobbies", "-k", "3", "-m", small, "-q"])
    lines = ok(["compare", hobbies_model, small, "--format", "jsonl"]).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 4
    for rec in records:
        if rec["status"] == "only_a":
            assert rec["topic_b"] is None and rec["label_b"] is None and rec["similarity"] is None
        else:
            assert isinstance(rec["similarity"], float) and isinstance(rec["topic_b"], int)
    assert "" not in [value for rec in records for value in rec.values()]


def test_compare_unrelated_models_finds_no_common_topic(hobbies_model, tmp_path):
    from topicnmf import NMFConfig, VectorizerConfig, fit, load_corpus

    news = tmp_path / "news.npz"
    fit(load_corpus([SAMPLES / "news.csv"]), VectorizerConfig(), NMFConfig(4)).model.save(news)
    data = json.loads(ok(["compare", hobbies_model, news, "--format", "json"]).stdout)
    assert data["matches"] == []
    assert max(p["similarity"] for p in data["pairs"]) < 0.3
    assert data["only_a"] == data["only_b"] == [0, 1, 2, 3]
    # Over the shared terms alone (the old measure) the same topics looked alike: common
    # words such as "time" and "year" are all the two vocabularies share.
    a, b = TopicModel.load(hobbies_model), TopicModel.load(news)
    index_b = {t: j for j, t in enumerate(b.vocabulary)}
    cols_a = [i for i, t in enumerate(a.vocabulary) if t in index_b]
    A, B = a.H[:, cols_a], b.H[:, [index_b[a.vocabulary[i]] for i in cols_a]]
    shared_only = (A @ B.T) / np.outer(np.linalg.norm(A, axis=1), np.linalg.norm(B, axis=1))
    assert shared_only.max() > 0.3
    assert data["n_shared_terms"] == len(cols_a) < data["n_union_terms"]


def test_fit_warns_once_when_it_stops_at_max_iter(tmp_path):
    result = ok(["fit", SAMPLES / "hobbies", "-k", "4", "-m", tmp_path / "m.npz",
                 "--max-iter", "2", "--tol", "0", "--format", "csv"])  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(lines) == 1 and "max_iter=2" in lines[0]


def test_fit_that_collapses_says_why(tmp_path):
    result = ok(["fit", SAMPLES / "hobbies", "-k", "4", "-m", tmp_path / "m.npz",
                 "--alpha-w", "0.001", "--l1-ratio", "1", "--format", "csv"])  # fmt: skip
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1
    assert "every document-topic weight is 0" in warning[0]
    # 500 terms by the default token rules (533 by scikit-learn's)
    assert "n_features (500)" in warning[0] and "L1 0.5 on W" in warning[0]


def test_select_k_warns_once_for_all_its_unconverged_fits():
    result = ok(["select-k", SAMPLES / "hobbies", "--k", "2,3", "--runs", "1",
                 "--max-iter", "2", "--tol", "0", "--format", "csv"])  # fmt: skip
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "4 of 4 fits (k = 2, 3)" in warnings[0] and "max_iter=2" in warnings[0]
