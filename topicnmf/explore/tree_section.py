"""The report's topic tree: drawn when the model holds one (the leaves of ``tree``).

The tree is drawn as an indented tree in SVG, one row per node in depth-first order (the
order ``tree`` prints), each row with the node's share of the corpus and its top terms;
elbow lines join each node to its children. A leaf is its topic's mark: clicking it (or
Enter on it) selects that topic as the map does, and the selected topic's path from the
root is highlighted. The same tree follows as a nested list (in a ``<details>``) for
screen readers and text browsers. The drawing depends only on the model, so the bytes are
the same on every run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from topicnmf.explore.report import ReportContext, Section
    from topicnmf.tree import TopicTree, TreeNode

__all__ = ["topic_tree"]

#: terms drawn beside each node (the tooltip and the list give more)
SHOWN_TERMS = 4
#: terms in each node's tooltip and list entry
LISTED_TERMS = 10
#: longest line of terms drawn, in characters (an ellipsis after)
MAX_CHARS = 48

_ROW = 22.0
_INDENT = 20.0
_TREE_X = 62.0  # the shares' column is to the left of it
_PAD = 6.0
_CHAR_W = 6.4  # a generous average width of an 11px character, to size the drawing


def topic_tree(ctx: ReportContext) -> Section | None:
    """The topic tree as SVG and as a nested list; None for a model without a tree."""
    from topicnmf.explore.report import Section, asset

    tree = getattr(ctx.model, "tree", None)
    if tree is None:
        return None
    rows = list(tree.walk())
    row_of = {node.id: i for i, (node, _) in enumerate(rows)}
    edges, marks = [], []
    width = 0.0
    for i, (node, depth) in enumerate(rows):
        x, y = _TREE_X + depth * _INDENT, _PAD + (i + 0.5) * _ROW
        if node.parent is not None:
            px = _TREE_X + (depth - 1) * _INDENT
            py = _PAD + (row_of[node.parent] + 0.5) * _ROW
            edges.append(
                f'<path class=edge data-node="{node.id}" d="M{px:.1f} {py:.1f}V{y:.1f}H{x:.1f}"/>'
            )
        mark, text_chars = _mark(ctx, tree, node, x, y)
        marks.append(mark)
        width = max(width, x + 40 + text_chars * _CHAR_W)
    width = max(width + _PAD, 320.0)
    height = 2 * _PAD + len(rows) * _ROW
    leaves = sum(1 for node, _ in rows if not node.children)
    svg = (
        f'<svg id="topic-tree" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'style="max-width:{width:.0f}px" role="group" aria-label="Topic tree: '
        f'{len(rows)} nodes, {leaves} leaves (the topics)">'
        f"<g class=edges>{''.join(edges)}</g>{''.join(marks)}</svg>"
    )
    body = (
        f"{svg}<p class=note>The corpus split in two again and again (rank-2 NMF); each node "
        "shows its share of the corpus and its top terms, the leaves are the topics. Click a "
        "leaf to select its topic.</p>"
        "<details class=tree-list><summary>The tree as a list</summary>"
        f"{_nested_list(ctx, tree, rows)}</details>"
    )
    data = {
        "parent": [-1 if n.parent is None else n.parent for n in tree.nodes],
        "node": _node_of_topic(tree, len(ctx.topics)),
    }
    return Section("tree", "Topic tree", body, data, asset("tree.js"), css=asset("tree.css"))


def _mark(
    ctx: ReportContext, tree: TopicTree, node: TreeNode, x: float, y: float
) -> tuple[str, int]:
    """One node's row: share, mark and terms; and the length of its text in characters."""
    from topicnmf.explore.report import esc

    terms = _clip(", ".join(t for t, _ in tree.terms(node, SHOWN_TERMS)))
    share = (
        f'<text class=share x="{_TREE_X - 14:.0f}" y="{y + 4:.1f}">{100 * node.share:.1f}%</text>'
    )
    tip = f"<title>{esc(_describe(ctx, tree, node))}</title>"
    if node.topic is None:
        return (
            f'<g class=inner data-node="{node.id}">{tip}{share}'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"/>'
            f'<text class=terms x="{x + 9:.1f}" y="{y + 4:.1f}">{esc(terms)}</text></g>',
            len(terms),
        )
    t = node.topic
    label = _clip(str(ctx.topics[t]["label"]))
    # an automatic label is made of top terms: draw the next ones rather than repeat them
    named = set(label.split("_")) if label == ctx.topics[t].get("auto_label") else set()
    more = [w for w, _ in tree.terms(node, SHOWN_TERMS + 3) if w not in named]
    terms = _clip(", ".join(more[:SHOWN_TERMS]))
    badge = 10 + 7 * len(str(len(ctx.topics) - 1))  # as wide as the widest topic number
    mark = (
        f'<g class=leaf data-topic="{t}" data-node="{node.id}" tabindex="0" role="button" '
        f'aria-pressed="false" aria-label="Topic {t}: {esc(ctx.topics[t]["label"])}, '
        f'{100 * node.share:.1f}% of the corpus">{tip}{share}'
        f'<rect x="{x:.1f}" y="{y - 8:.1f}" width="{badge}" height="16" rx="3"/>'
        f'<text class=badge x="{x + badge / 2:.1f}" y="{y + 4:.1f}">{t}</text>'
        f'<text x="{x + badge + 6:.1f}" y="{y + 4:.1f}"><tspan class=name>{esc(label)}</tspan>'
        f"<tspan class=terms> {esc(terms)}</tspan></text></g>"
    )
    return mark, len(label) + 1 + len(terms)


def _describe(ctx: ReportContext, tree: TopicTree, node: TreeNode) -> str:
    """A node in words: what it is, its share, its documents and its terms."""
    if node.topic is None:
        what = f"Node {node.id}"
    else:
        what = f"Topic {node.topic}: {ctx.topics[node.topic]['label']}"
    terms = ", ".join(t for t, _ in tree.terms(node, LISTED_TERMS)) or "no terms"
    docs = "1 document" if node.n_docs == 1 else f"{node.n_docs:,} documents"
    return f"{what} ({100 * node.share:.1f}% of the corpus, {docs}): {terms}"


def _nested_list(ctx: ReportContext, tree: TopicTree, rows: list[tuple[TreeNode, int]]) -> str:
    """The tree as nested ``<ul>``s, built from the depth-first rows (no recursion: a tree
    grown as a chain is as deep as it has leaves)."""
    from topicnmf.explore.report import esc

    out = ["<ul>"]
    depth = 0
    for i, (node, d) in enumerate(rows):
        if i:
            if d > depth:
                out.append("<ul>")
            else:
                out.append("</li>" + "</ul></li>" * (depth - d))
        depth = d
        text = esc(_describe(ctx, tree, node))
        if node.topic is None:
            out.append(f"<li>{text}")
        else:
            out.append(
                f'<li data-topic="{node.topic}"><button type=button class=pick '
                f'data-topic="{node.topic}" aria-label="Show topic {node.topic}">'
                f"{node.topic}</button> {text}"
            )
    out.append("</li>" + "</ul></li>" * depth + "</ul>")
    return "".join(out)


def _node_of_topic(tree: TopicTree, k: int) -> list[int]:
    found = [-1] * k
    for node in tree.nodes:
        if node.topic is not None and 0 <= node.topic < k:
            found[node.topic] = node.id
    return found


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip(", ") + "…"
