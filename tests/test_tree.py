"""The topic tree: rank-2 NMF, the splits on a planted hierarchy, the command and its files."""

from __future__ import annotations

import json
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import nnls

from tests.helpers import ok, run
from topicnmf.errors import ModelFileError, TopicNMFWarning
from topicnmf.model import TopicModel
from topicnmf.nmf._rank2 import nnls_two_columns, rank1_error, rank2_nmf
from topicnmf.tree import fit_tree
from topicnmf.vectorize import VectorizerConfig

# Two families of two topics each: a family's documents share its family words, a topic's
# add their own words. The first split must separate the families, the next two the topics.
FAMILIES = {
    "computing": (
        "computer software program code data system network",
        {
            "hardware": "disk memory chip processor board cable",
            "web": "browser html server page link website",
        },
    ),
    "nature": (
        "forest river mountain tree animal valley meadow",
        {
            "birds": "bird nest feather wing song egg",
            "fish": "fish lake scales fin trout salmon",
        },
    ),
}
PER_TOPIC = 12


@dataclass(frozen=True)
class Doc:
    id: str
    text: str
    label: str


def planted() -> list[Doc]:
    rng = np.random.default_rng(7)
    docs = []
    for family, (shared, topics) in FAMILIES.items():
        for topic, own in topics.items():
            for i in range(PER_TOPIC):
                words = list(rng.choice(shared.split(), 4, replace=False))
                words += list(rng.choice(own.split(), 4, replace=False))
                words += ["today", "people"][: i % 3]  # a little common vocabulary
                docs.append(Doc(f"{family}/{topic}/{i:02d}", " ".join(words), topic))
    return docs


def family_of(doc_id: str) -> str:
    return doc_id.split("/")[0]


def topic_of(doc_id: str) -> str:
    return doc_id.split("/")[1]


@pytest.fixture
def planted_dir(tmp_path: Path) -> Path:
    d = tmp_path / "planted"
    for doc in planted():
        path = d / (doc.id + ".txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc.text + "\n")
    return d


# -- rank-2 NMF ------------------------------------------------------------------------------


def test_two_column_nnls_is_exact():
    rng = np.random.default_rng(0)
    for trial in range(20):
        B = rng.random((15, 2))
        if trial % 4 == 0:
            B[:, 1] = B[:, 0] * 2  # parallel columns
        A = rng.standard_normal((15, 40))
        X = nnls_two_columns(B.T @ B, (B.T @ A).T)
        assert (X >= 0).all()
        for i in range(A.shape[1]):
            best = np.linalg.norm(B @ nnls(B, A[:, i])[0] - A[:, i])
            assert np.linalg.norm(B @ X[i] - A[:, i]) <= best + 1e-9


def test_two_column_nnls_with_a_zero_column():
    B = np.array([[1.0, 0.0], [2.0, 0.0]])
    X = nnls_two_columns(B.T @ B, np.array([[3.0, 0.0], [-1.0, 0.0]]))
    np.testing.assert_allclose(X, [[0.6, 0.0], [0.0, 0.0]])


def test_rank2_reports_its_error_and_beats_rank1():
    V = sp.random(60, 80, density=0.1, random_state=1, format="csr")
    result = rank2_nmf(V)
    dense = V.toarray()
    assert result.converged
    np.testing.assert_allclose(result.error, np.linalg.norm(dense - result.W @ result.H) ** 2)
    np.testing.assert_allclose(result.H.sum(axis=1), 1.0)
    e1, h = rank1_error(V)
    s = np.linalg.svd(dense, compute_uv=False)
    np.testing.assert_allclose(e1, (dense**2).sum() - s[0] ** 2, rtol=1e-6)
    assert result.error < e1 and h.min() >= 0


# -- the tree on a planted hierarchy ------------------------------------------------------------


def test_first_split_separates_the_families_and_the_leaves_are_the_topics():
    docs = planted()
    out = fit_tree(docs, VectorizerConfig(), 4)
    tree = out.tree
    ids = np.array([d.id for d in docs])
    first = [tree.nodes[c] for c in tree.root.children]
    assert len(tree.nodes) == 7 and len(tree.leaves) == 4
    for child in first:
        families = {family_of(i) for i in ids[child.documents]}
        assert len(families) == 1 and child.n_docs == 2 * PER_TOPIC
    for leaf in tree.leaves:
        topics = {topic_of(i) for i in ids[leaf.documents]}
        assert len(topics) == 1 and leaf.n_docs == PER_TOPIC
        assert tree.nodes[leaf.parent].parent == 0
    # the leaves are the model's topics, in its order, and each dominates its documents
    model = out.model
    assert [leaf.topic for leaf in tree.leaves] == [0, 1, 2, 3]
    dominant = out.W.argmax(axis=1)
    for leaf in tree.leaves:
        assert set(dominant[leaf.documents]) == {leaf.topic}
    # the model weighs the training documents exactly as it weighs them later (assign)
    np.testing.assert_array_equal(model.transform([d.text for d in docs]), out.W)
    np.testing.assert_allclose(model.topic_share.sum(), 1.0)
    np.testing.assert_allclose(tree.root.share, 1.0)
    # inner nodes were split by a positive error decrease, leaves were not
    assert all((n.score is None) == (not n.children) for n in tree.nodes)
    assert all(n.score > 0 for n in tree.nodes if n.score is not None)


def test_k_one_is_the_root_and_too_few_splittable_leaves_warn():
    docs = [Doc(str(i), "apple pear plum", "") for i in range(4)]
    out = fit_tree(docs[:3], VectorizerConfig(min_df=1, max_df=1.0), 1)
    assert len(out.tree.nodes) == 1 and out.model.n_topics == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fit_tree(docs, VectorizerConfig(min_df=1, max_df=1.0), 3)
    assert out.model.n_topics == len(out.tree.leaves) < 3
    assert any(issubclass(w.category, TopicNMFWarning) for w in caught)


# -- the command -------------------------------------------------------------------------------


def test_tree_csv_schema_and_order(planted_dir, tmp_path):
    out = ok(["tree", planted_dir, "-k", 4, "--format", "csv", "-q", "-n", 3]).stdout
    lines = out.splitlines()
    assert lines[0] == "node,parent,depth,label,share,n_docs,top_terms"
    import csv

    rows = list(csv.DictReader(lines))
    assert len(rows) == 7 and rows[0]["parent"] == "" and rows[0]["depth"] == "0"
    seen = set()
    for row in rows:  # depth first: a parent is listed before its children
        assert row["parent"] == "" or row["parent"] in seen
        seen.add(row["node"])
        assert len(row["top_terms"].split(", ")) == 3
        assert row["label"] == "_".join(row["top_terms"].split(", "))
    assert sum(int(r["n_docs"]) for r in rows if r["depth"] == "1") == int(rows[0]["n_docs"])


def test_tree_json_nested_with_documents(planted_dir):
    out = ok(["tree", planted_dir, "-k", 4, "--format", "json", "--docs", "-q"]).stdout
    root = json.loads(out)
    assert root["node"] == 0 and root["parent"] is None and len(root["children"]) == 2
    assert set(root) >= {"node", "label", "share", "n_docs", "terms", "children", "documents"}

    def check(node):
        assert len(node["documents"]) == node["n_docs"]
        if node["children"]:
            below = [d for c in node["children"] for d in c["documents"]]
            assert sorted(below) == sorted(node["documents"])
            assert node["topic"] is None
            for child in node["children"]:
                assert child["parent"] == node["node"] and child["depth"] == node["depth"] + 1
                check(child)
        else:
            assert len({Path(d).parent.name for d in node["documents"]}) == 1

    check(root)
    plain = json.loads(ok(["tree", planted_dir, "-k", 4, "--format", "json", "-q"]).stdout)
    assert "documents" not in plain


def test_tree_table_is_indented(planted_dir):
    out = ok(["tree", planted_dir, "-k", 4, "--format", "table", "-q"], env={"COLUMNS": "200"})
    lines = [line for line in out.stdout.splitlines() if re.match(r"│ *└ \d", line)]
    assert len(lines) == 6
    assert any(line.startswith("│   └ ") for line in lines)


def test_leaves_model_works_with_topics_assign_info(planted_dir, tmp_path):
    model = tmp_path / "tree.npz"
    tree_csv = ok(["tree", planted_dir, "-k", 4, "-m", model, "--format", "csv", "-q"]).stdout
    topics = ok(["topics", model, "--format", "json", "-n", 3]).stdout
    assert len(json.loads(topics)) == 4
    assigned = ok(["assign", "-m", model, planted_dir, "--format", "csv", "-q"]).stdout
    assert len(assigned.splitlines()) == 1 + 4 * PER_TOPIC
    info = json.loads(ok(["info", model, "--format", "json"]).stdout)
    assert info["topics"] == 4
    loaded = TopicModel.load(model)
    assert loaded.tree is not None and len(loaded.tree.nodes) == 7
    leaf_labels = {row.split(",")[3] for row in tree_csv.splitlines()[1:]}
    assert set(loaded.topic_labels()) <= leaf_labels
    for leaf in loaded.tree.leaves:
        top = loaded.top_terms(3)[leaf.topic]
        assert [t for t, _ in loaded.tree.terms(leaf, 3)] == [t for t, _ in top]


def test_same_seed_same_bytes_and_a_plain_model_has_no_tree(planted_dir, tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    out_a = ok(["tree", planted_dir, "-k", 3, "-m", a, "--format", "json", "-q"]).stdout
    out_b = ok(["tree", planted_dir, "-k", 3, "-m", b, "--format", "json", "-q"]).stdout
    assert out_a == out_b and a.read_bytes() == b.read_bytes()
    ok(["fit", planted_dir, "-k", 3, "-m", tmp_path / "flat.npz", "-q"])
    assert TopicModel.load(tmp_path / "flat.npz").tree is None


def _rewrite(src: Path, dst: Path, **arrays) -> None:
    import io

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            key = info.filename[:-4]
            if key in arrays:
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arrays[key])
                zout.writestr(info.filename, buf.getvalue())
            else:
                zout.writestr(info, zin.read(info))


def test_a_damaged_tree_is_refused(planted_dir, tmp_path):
    model = tmp_path / "tree.npz"
    ok(["tree", planted_dir, "-k", 4, "-m", model, "-q", "--format", "csv"])
    with np.load(model) as z:
        parent, topic = z["tree_parent"], z["tree_topic"]
        n_docs, terms = z["tree_n_docs"], z["tree_terms"]
    bad_parent = parent.copy()
    bad_parent[2] = 5
    bad_topic = topic.copy()
    bad_topic[topic >= 0] = 0
    bad_docs = n_docs.copy()
    bad_docs[1] += 1
    bad_terms = terms.copy()
    bad_terms[0, 0] = 10**6
    for name, value, words in [
        ("tree_parent", bad_parent, "parents"),
        ("tree_topic", bad_topic, "leaves"),
        ("tree_n_docs", bad_docs, "document counts"),
        ("tree_terms", bad_terms, "term column"),
    ]:
        broken = tmp_path / f"{name}.npz"
        _rewrite(model, broken, **{name: value})
        with pytest.raises(ModelFileError, match=words):
            TopicModel.load(broken)
    # a tree member without the others is refused too
    partial = tmp_path / "partial.npz"
    with zipfile.ZipFile(model) as zin, zipfile.ZipFile(partial, "w") as zout:
        for info in zin.infolist():
            if info.filename != "tree_score.npy":
                zout.writestr(info, zin.read(info))
    with pytest.raises(ModelFileError, match="tree_score"):
        TopicModel.load(partial)


def test_usage_errors(planted_dir, tmp_path):
    bad = run(["tree", planted_dir, "--docs", "--format", "csv"])
    assert bad.exit_code == 2 and "--docs" in bad.stderr
    bad = run(["tree", planted_dir, "-m", tmp_path / "t.csv"])
    assert bad.exit_code == 2 and "-o" in bad.stderr
    bad = run(["tree", planted_dir, "-k", 500, "--format", "csv"])
    assert bad.exit_code == 2 and "-k" in bad.stderr
