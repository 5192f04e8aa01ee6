"""Labels, representative documents and the HTML report (library and command line)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLES
from tests.helpers import ok, run
from topicnmf import NMFConfig, VectorizerConfig, fit, load_corpus
from topicnmf.errors import ParameterError
from topicnmf.explore import documents as docs_module
from topicnmf.explore.documents import representative_documents, snippet
from topicnmf.explore.labels import (
    auto_labels,
    fragment_topics,
    is_fragment,
    parse_assignments,
    relevance,
    relevant_terms,
)
from topicnmf.explore.report import classical_mds, js_distances
from topicnmf.model import TopicModel, normalize_rows

HOBBIES = SAMPLES / "hobbies"


@pytest.fixture(scope="module")
def stored_model(tmp_path_factory) -> Path:
    """Hobbies, k=4, with the training documents' weights stored."""
    out = fit(
        load_corpus([HOBBIES]),
        VectorizerConfig(),
        NMFConfig(n_components=4),
        save_doc_topics=True,
    )
    path = tmp_path_factory.mktemp("explore") / "stored.npz"
    out.model.save(path)
    return path


# -- labels -----------------------------------------------------------------------------------


def test_relevance_lambda_one_is_the_weight_order_and_lower_favors_specific_terms():
    H = np.array([[0.5, 0.3, 0.2, 0.0], [0.5, 0.0, 0.1, 0.4]])
    share = np.array([0.5, 0.5])
    assert relevant_terms(H, share, 3, lam=1.0)[0] == [0, 1, 2]
    # term 0 is as heavy in both topics: with lam=0 the exclusive term 1 comes first
    assert relevant_terms(H, share, 3, lam=0.0)[0][0] == 1
    assert relevant_terms(H, share, 4, lam=0.6)[0] == [0, 1, 2]  # zero weight never listed
    assert np.isneginf(relevance(H, share)[0, 3])
    with pytest.raises(ParameterError):
        relevance(H, share, lam=1.5)


def test_auto_labels_use_relevance_and_user_labels_win(stored_model):
    m = TopicModel.load(stored_model)
    auto = auto_labels(m.H, m.topic_share, m.vocabulary)
    assert m.topic_labels() == auto
    lifted = [relevant_terms(m.H, m.topic_share, 3)[t] for t in range(m.n_topics)]
    assert auto == ["_".join(m.vocabulary[j] for j in cols) for cols in lifted]
    m.labels = ["", "Sport", "", ""]
    assert m.topic_labels()[1] == "Sport" and m.topic_labels()[0] == auto[0]


def test_fragment_topics_flag_numbers_and_fragments():
    assert is_fragment("1993") and is_fragment("b8f") and is_fragment("ax")
    assert is_fragment("mmm") and not is_fragment("garden")
    vocab = ["ax", "b8f", "1993", "garden", "soil", "plants"]
    H = np.array([[0.4, 0.3, 0.3, 0, 0, 0], [0, 0, 0, 0.4, 0.3, 0.3]], dtype=float)
    assert fragment_topics(H, np.array([0.5, 0.5]), vocab, n_terms=3) == [True, False]


def test_parse_assignments():
    assert parse_assignments(["1= Space ", "0=Garden"], 3) == ["Garden", "Space", ""]
    assert parse_assignments(["1="], 2, ["a", "b"]) == ["a", ""]
    for bad in (["x"], ["5=x"], ["1=a", "1=b"], ["0=two\nlines"], ["=x"]):
        with pytest.raises(ParameterError) as info:
            parse_assignments(bad, 3)
        assert info.value.param == "labels"


def test_label_in_place_is_atomic_and_clear_restores_the_bytes(stored_model, tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(stored_model.read_bytes())
    ok(["label", "-m", path, "2=Cooking", "0=Gardening"])
    topics = list(csv.DictReader(io.StringIO(ok(["topics", path, "--format", "csv"]).stdout)))
    assert {r["label"] for r in topics if r["topic"] == "2"} == {"Cooking"}
    weights = ok(["assign", "-m", path, HOBBIES, "--format", "csv", "-q"]).stdout
    assert "Cooking" in weights and "Gardening" in weights
    docs = ok(["docs", "-m", path, "--format", "csv", "-q"]).stdout
    assert ",Cooking," in docs
    info = json.loads(ok(["info", path, "--format", "json"]).stdout)
    assert info["labels"][0] == "Gardening"
    assert info["user_labels"] == {"0": "Gardening", "2": "Cooking"}
    evaluated = json.loads(ok(["evaluate", path, "--format", "json"]).stdout)
    assert evaluated["topics"][2]["label"] == "Cooking"
    compared = json.loads(ok(["compare", path, stored_model, "--format", "json"]).stdout)
    assert compared["labels_a"][2] == "Cooking" and "Cooking" not in compared["labels_b"]
    listed = json.loads(ok(["label", "-m", path, "--format", "json"]).stdout)
    assert listed[2]["user_label"] == "Cooking" and listed[2]["auto_label"] != "Cooking"
    assert not [p.name for p in tmp_path.iterdir() if p.name != "m.npz"]  # no temp left
    ok(["label", "-m", path, "--clear"])
    assert path.read_bytes() == stored_model.read_bytes()


def test_label_errors(stored_model, tmp_path):
    bad = run(["label", "-m", stored_model, "9=x"])
    assert bad.exit_code == 2 and "topics 0 to 3" in bad.stderr
    assert run(["label", "-m", stored_model, "-o", tmp_path / "x.npz"]).exit_code == 2
    missing = run(["label", "-m", tmp_path / "none.npz", "0=x"])
    assert missing.exit_code == 1 and "none.npz" in missing.stderr


# -- representative documents -----------------------------------------------------------------


def _batches(size=7):
    corpus = load_corpus([HOBBIES])
    return lambda: corpus.iter_batches(size)


def test_stored_and_computed_weights_rank_the_same(stored_model, monkeypatch):
    m = TopicModel.load(stored_model)
    stored = representative_documents(m, _batches(), top=4)
    computed = representative_documents(m, _batches(), top=4, use_stored=False)
    assert stored.source == "stored" and computed.source == "computed"
    assert [(r.topic, r.id) for r in stored.rows] == [(r.topic, r.id) for r in computed.rows]
    np.testing.assert_allclose(
        [r.weight for r in stored.rows], [r.weight for r in computed.rows], atol=1e-5
    )
    # stored weights are really used: no transform at all
    monkeypatch.setattr(TopicModel, "transform", lambda *a, **k: pytest.fail("transformed"))
    assert representative_documents(m, _batches(), top=4).source == "stored"


def test_a_changed_corpus_is_not_ranked_with_stored_weights(stored_model, tmp_path):
    m = TopicModel.load(stored_model)
    # same ids, one text changed: only the fingerprint can tell
    d = tmp_path / "hobbies"
    d.mkdir()
    for f in sorted(HOBBIES.glob("*.txt")):
        (d / f.name).write_text(f.read_text())
    (d / "doc_001.txt").write_text("telescope stars galaxy night sky planet " * 5)
    corpus = load_corpus([d])
    result = representative_documents(m, lambda: corpus.iter_batches(10), top=72)
    assert result.source == "computed"
    row = [r for r in result.rows if r.id == "doc_001.txt"]
    assert row and m.topic_labels()[row[0].topic].startswith("stars")


def test_ranking_matches_a_full_sort_and_memory_stays_bounded(stored_model, monkeypatch):
    m = TopicModel.load(stored_model)
    corpus = load_corpus([HOBBIES])
    docs = list(corpus)
    W = normalize_rows(m.transform([d.text for d in docs]))
    biggest = []
    real_add = docs_module._Best.add

    def spy(self, ids, W, payload):
        real_add(self, ids, W, payload)
        biggest.append(max(len(v) for v in self.kept.values()))

    monkeypatch.setattr(docs_module._Best, "add", spy)
    result = representative_documents(
        m, lambda: corpus.iter_batches(5), top=3, use_stored=False, exclusive=True
    )
    assert max(biggest) <= 3
    for t in range(m.n_topics):
        mine = [(-W[i, t], docs[i].id) for i in range(len(docs)) if W[i].argmax() == t]
        want = [doc_id for _, doc_id in sorted(mine)[:3]]
        assert [r.id for r in result.rows if r.topic == t] == want


def test_ties_are_broken_by_id():
    class M:
        n_topics, W, doc_ids = 1, None, None

        def transform(self, texts, n_threads=None):
            return np.ones((len(texts), 1), dtype=np.float32)

    class D:
        def __init__(self, i):
            self.id, self.text = i, "x"

    batches = [[D("c"), D("a")], [D("b")]]
    result = representative_documents(M(), lambda: iter(batches), top=2)
    assert [r.id for r in result.rows] == ["a", "b"]


def test_snippet():
    assert snippet("  a\n\tb   c ", 200) == "a b c"
    assert snippet("abcdefghij", 5) == "abcd…" and snippet("abc", 0) == ""


def test_docs_cli_errors(stored_model, hobbies_model):
    none = run(["docs", "-m", hobbies_model])
    assert none.exit_code == 2 and "--save-doc-topics" in none.stderr
    bad = run(["docs", "-m", stored_model, "--topic", 7])
    assert bad.exit_code == 2 and "topics 0 to 3" in bad.stderr


def test_docs_table_on_a_terminal(stored_model):
    out = ok(["docs", "-m", stored_model, HOBBIES, "--format", "table", "--top", 1]).stdout
    assert "snippet" in out and "doc_0" in out


# -- the report -------------------------------------------------------------------------------


def test_mds_is_deterministic_and_keeps_distances():
    rng = np.random.default_rng(0)
    H = rng.random((6, 40))
    D = js_distances(H)
    assert np.allclose(D, D.T) and np.all(np.diag(D) == 0) and D.max() <= 1
    P = H / H.sum(axis=1, keepdims=True)
    M = (P[1] + P[4]) / 2
    by_definition = 0.5 * (P[1] @ np.log2(P[1] / M)) + 0.5 * (P[4] @ np.log2(P[4] / M))
    assert np.isclose(D[1, 4], np.sqrt(by_definition))
    assert np.isclose(js_distances(np.array([[1.0, 0], [0, 1.0]]))[0, 1], 1.0)
    xy = classical_mds(D)
    assert np.array_equal(xy, classical_mds(js_distances(H)))
    # two points: the map's distance is the distance
    two = classical_mds(np.array([[0, 0.5], [0.5, 0]]))
    assert np.isclose(np.linalg.norm(two[0] - two[1]), 0.5)
    assert classical_mds(np.zeros((1, 1))).shape == (1, 2)


def _page_data(page: str) -> dict:
    start = page.index('id="tn-data">') + len('id="tn-data">')
    return json.loads(page[start : page.index("</script>", start)])


def test_report_is_self_contained_and_reproducible(stored_model, tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    ok(["report", "-m", stored_model, HOBBIES, "-o", a, "-q"])
    ok(["report", "-m", stored_model, HOBBIES, "-o", b, "-q"])
    assert a.read_bytes() == b.read_bytes()
    page = a.read_text()
    # nothing that could load from elsewhere
    assert not re.search(r"\b(src|href)=\"(?!#)", page)
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "@import" not in page and "url(" not in page
    data = _page_data(page)
    topics = json.loads(ok(["topics", stored_model, "--format", "json"]).stdout)
    assert [t["label"] for t in data["topics"]] == [t["label"] for t in topics]
    assert page.count('class="mark"') == 4
    assert page.count("<tr data-topic=") == 4


def test_report_text_cannot_break_out_of_its_script(tmp_path):
    corpus = tmp_path / "evil.txt"
    lines = ["gardening soil plants </script><script>alert(1)</script>"] * 3
    lines += ["stars telescope night sky <b>bold</b>"] * 3
    corpus.write_text("\n".join(lines) + "\n")
    model = tmp_path / "m.npz"
    ok(["fit", corpus, "-k", 2, "-m", model, "-q", "--min-df", 1, "--format", "csv"])
    ok(["label", "-m", model, '0=<img src=x onerror="alert(1)">'])
    page_path = tmp_path / "r.html"
    ok(["report", "-m", model, corpus, "-o", page_path, "-q"])
    page = page_path.read_text()
    assert "<script>alert" not in page and "<img" not in page and "<b>" not in page
    assert page.count("<script") == 2
    data = _page_data(page)
    snippets = [d["snippet"] for t in data["sections"]["detail"]["topics"] for d in t["docs"]]
    assert any("</script>" in s for s in snippets)  # kept as text, escaped in the page


def test_report_without_documents_and_bad_select_k(hobbies_model, tmp_path):
    ok(["report", "-m", hobbies_model, "-o", tmp_path / "r.html", "-q"])
    data = _page_data((tmp_path / "r.html").read_text())
    assert all(t["docs"] is None for t in data["sections"]["detail"]["topics"])
    (tmp_path / "k.json").write_text("[1, 2]")
    bad = run(["report", "-m", hobbies_model, "--select-k", tmp_path / "k.json", "-o",
               tmp_path / "s.html"])  # fmt: skip
    assert bad.exit_code == 1 and "select-k" in bad.stderr
    assert not (tmp_path / "s.html").exists()
    same = run(["report", "-m", hobbies_model, "-o", hobbies_model])
    assert same.exit_code == 2 and "also an input" in same.stderr


def test_a_new_section_plugs_in_with_its_data_and_script(stored_model):
    from topicnmf.explore.labels import label_table
    from topicnmf.explore.report import (
        DEFAULT_SECTIONS,
        ReportContext,
        Section,
        build_report,
        esc,
    )

    m = TopicModel.load(stored_model)
    tops = m.top_terms(10)
    topics = [
        {**rec, "share": float(m.topic_share[t]), "terms": [w for w, _ in tops[t]]}
        for t, rec in enumerate(label_table(m))
    ]

    def over_time(ctx):
        years = ctx.extra.get("years")
        if years is None:
            return None
        return Section("trends", "Topics over time", f"<p>{esc('<years>')}</p>", years,
                       "TN.on('select', function (t) { data.seen = t; });")  # fmt: skip

    ctx = ReportContext(m, "t", [("topics", "4")], topics, extra={"years": [2020, 2021]})
    page = build_report(ctx, [*DEFAULT_SECTIONS, over_time])
    assert '<section id="trends"' in page and "&lt;years&gt;" in page
    assert _page_data(page)["sections"]["trends"] == [2020, 2021]
    assert 'TN.data.sections["trends"]' in page
    ctx.extra.clear()
    assert '<section id="trends"' not in build_report(ctx, [*DEFAULT_SECTIONS, over_time])
