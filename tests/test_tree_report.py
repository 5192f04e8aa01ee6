"""The leaves of a topic tree as a model: its tree in the report and in ``info``, and the
commands that read a model (``docs``, ``report``) working on it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_tree import planted
from topicnmf.cli import cli
from topicnmf.explore.labels import label_table
from topicnmf.explore.report import DEFAULT_SECTIONS, ReportContext, build_report
from topicnmf.explore.tree_section import MAX_CHARS, topic_tree
from topicnmf.model import TopicModel


def ok(args, **kw):
    result = CliRunner().invoke(cli, [str(a) for a in args], **kw)
    assert result.exit_code == 0, (args, result.stderr, result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("tree-report") / "planted"
    for doc in planted():
        path = d / (doc.id + ".txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc.text + "\n")
    return d


@pytest.fixture(scope="module")
def leaves(corpus) -> Path:
    model = corpus.parent / "leaves.npz"
    ok(["tree", corpus, "-k", 4, "-m", model, "-q", "--format", "csv"])
    return model


@pytest.fixture(scope="module")
def flat(corpus) -> Path:
    model = corpus.parent / "flat.npz"
    ok(["fit", corpus, "-k", 4, "-m", model, "-q", "--format", "csv"])
    return model


def context(path: Path) -> ReportContext:
    m = TopicModel.load(path)
    tops = m.top_terms(10)
    topics = [
        {**rec, "share": float(m.topic_share[t]), "terms": [w for w, _ in tops[t]]}
        for t, rec in enumerate(label_table(m))
    ]
    return ReportContext(m, path.name, [("topics", str(m.n_topics))], topics)


def test_the_tree_section_has_a_mark_per_leaf_linked_to_its_topic(leaves):
    ctx = context(leaves)
    tree = ctx.model.tree
    section = topic_tree(ctx)
    assert section is not None and section.id == "tree" and section.script and section.css
    marks = re.findall(r'<g class=leaf data-topic="(\d+)" data-node="(\d+)"', section.html)
    assert len(marks) == ctx.model.n_topics == 4
    # each leaf is drawn once, as the topic it is
    assert sorted(int(t) for t, _ in marks) == [0, 1, 2, 3]
    for t, node in marks:
        assert tree.nodes[int(node)].topic == int(t)
    assert section.html.count("<g class=inner") == 3
    assert section.data["node"] == [leaf.id for leaf in tree.leaves]
    assert section.data["parent"] == [-1 if n.parent is None else n.parent for n in tree.nodes]
    # the list alternative: every node, each leaf with a button selecting its topic
    listed = section.html[section.html.index("<details") :]
    assert listed.count("<li") == 7 and listed.count("<ul>") == listed.count("</ul>") == 4
    assert sorted(re.findall(r'button type=button class=pick data-topic="(\d)"', listed)) == [
        "0", "1", "2", "3"
    ]  # fmt: skip
    # shares and top terms of every node are drawn
    for node in tree.nodes:
        assert f"{100 * node.share:.1f}%" in section.html
        assert tree.terms(node, 1)[0][0] in section.html


def test_the_tree_section_is_byte_reproducible_and_only_for_a_tree(leaves, flat, corpus, tmp_path):
    assert topic_tree(context(flat)) is None
    assert '<section id="tree"' not in build_report(context(flat))
    page = build_report(context(leaves))
    assert '<section id="tree"' in page and build_report(context(leaves)) == page
    assert topic_tree in DEFAULT_SECTIONS
    # a second tree from the same corpus draws the same bytes
    again = tmp_path / "again.npz"
    ok(["tree", corpus, "-k", 4, "-m", again, "-q", "--format", "csv"])
    a, b = topic_tree(context(leaves)), topic_tree(context(again))
    assert a.html == b.html and a.data == b.data


def test_the_tree_section_escapes_labels_and_clips_long_ones(leaves, tmp_path):
    labeled = tmp_path / "labeled.npz"
    ok(["label", "-m", leaves, "-o", labeled, "1=<b>" + "x" * 80])
    html_text = topic_tree(context(labeled)).html
    assert "<b>" not in html_text and "&lt;b&gt;" in html_text
    assert "&lt;b&gt;" + "x" * (MAX_CHARS - 4) + "…<" in html_text  # clipped in the drawing
    assert "x" * 80 in html_text  # whole in the tooltip and the list


def test_docs_and_report_work_on_a_leaves_model(leaves, corpus, tmp_path):
    rows = json.loads(ok(["docs", "-m", leaves, corpus, "--format", "json", "-q", "-n", 3]))
    assert sorted({r["topic"] for r in rows}) == [0, 1, 2, 3] and len(rows) == 12
    # each leaf's best documents come from one planted topic, a different one per leaf
    planted_topic = {t: {r["id"].split("/")[1] for r in rows if r["topic"] == t} for t in range(4)}
    assert all(len(v) == 1 for v in planted_topic.values())
    assert len(set.union(*planted_topic.values())) == 4
    page = tmp_path / "r.html"
    ok(["report", "-m", leaves, corpus, "-o", page, "-q"])
    text = page.read_text()
    assert '<section id="tree"' in text and text.count("<g class=leaf") == 4
    assert "tree.nodes" in text  # the model card is info's rows
    assert not re.search(r"\b(src|href)=\"(?!#)", text)


def test_info_describes_the_tree(leaves, flat):
    data = json.loads(ok(["info", leaves, "--format", "json"]))
    assert data["tree"] == {"nodes": 7, "leaves": 4, "depth": 2}
    table = ok(["info", leaves, "--format", "table"], env={"COLUMNS": "200"})
    assert re.search(r"tree\.nodes\s+│ 7", table) and re.search(r"tree\.depth\s+│ 2", table)
    plain = json.loads(ok(["info", flat, "--format", "json"]))
    assert plain["tree"] is None
    assert "tree." not in ok(["info", flat, "--format", "table"], env={"COLUMNS": "200"})


def test_a_leaf_draws_the_terms_its_automatic_label_does_not_name(leaves, tmp_path):
    ctx = context(leaves)
    section = topic_tree(ctx).html
    for leaf in ctx.model.tree.leaves:
        rec = ctx.topics[leaf.topic]
        drawn = re.search(
            rf'data-topic="{leaf.topic}".*?<tspan class=terms> ([^<]*)</tspan>', section
        ).group(1)
        named = set(rec["auto_label"].split("_"))
        expected = [w for w, _ in ctx.model.tree.terms(leaf, 7) if w not in named][:4]
        assert drawn.split(", ") == expected
    # a label of the user's names no term: the top four are drawn
    labeled = tmp_path / "labeled.npz"
    ok(["label", "-m", leaves, "-o", labeled, "0=First"])
    ctx = context(labeled)
    leaf = next(n for n in ctx.model.tree.leaves if n.topic == 0)
    top4 = ", ".join(w for w, _ in ctx.model.tree.terms(leaf, 4))
    assert f"First</tspan><tspan class=terms> {top4}</tspan>" in topic_tree(ctx).html
