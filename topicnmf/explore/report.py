"""The HTML report: one self-contained page built from a list of sections.

A section is a function that takes the :class:`ReportContext` and returns a
:class:`Section` (or None to leave itself out): its HTML, drawn here so the page shows
everything before any script runs, the data its script needs (put into the page as JSON),
and the script itself (a file in ``assets/``). Scripts talk through a tiny shared object,
``TN``: ``TN.select(t)`` selects a topic, ``TN.on("select", fn)`` listens, ``TN.topics``
holds what every section knows of the topics. The page has no external reference at all
(no CDN, no font, no image file), and the same inputs give the same bytes: numbers are
rounded, nothing records the time.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from topicnmf.explore.labels import RELEVANCE_LAMBDA, term_marginal

__all__ = [
    "DEFAULT_SECTIONS",
    "ReportContext",
    "Section",
    "build_report",
    "classical_mds",
    "js_distances",
]

#: terms shipped per topic for each value of lambda on the slider's grid
CANDIDATE_TERMS = 30
#: term bars shown for the selected topic
BAR_TERMS = 20


@dataclass
class ReportContext:
    """Everything sections draw from.

    Attributes
    ----------
    model : TopicModel
    title : str
        The page title (e.g. the model file's name).
    card : list of (str, str)
        The model card's rows (field, value), as ``info`` shows them.
    topics : list of dict
        One record per topic in ``topics`` order: ``topic, label, auto_label, share,
        terms`` (top terms) and ``fragments``.
    npmi : list of float, optional
        Each topic's NPMI coherence on the training corpus.
    documents : list of list of dict, optional
        Per topic, its representative documents (``id, weight, snippet``).
    select_k : dict, optional
        The JSON of a k selection (``rows``, ``recommended_k``, ``reason``).
    extra : dict
        Anything further sections want (other branches add data here).
    """

    model: Any
    title: str
    card: list[tuple[str, str]]
    topics: list[dict[str, Any]]
    npmi: list[float] | None = None
    documents: list[list[dict[str, Any]]] | None = None
    select_k: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Section:
    """One part of the report: HTML, the data its script reads, and the script."""

    id: str
    title: str
    html: str
    data: Any = None
    script: str = ""


SectionBuilder = Callable[[ReportContext], "Section | None"]


def asset(name: str) -> str:
    """The text of a file in ``topicnmf/explore/assets``."""
    return resources.files("topicnmf.explore").joinpath("assets", name).read_text("utf-8")


def r4(x: float) -> float:
    """Four significant digits: small, stable JSON."""
    return float(f"{x:.4g}") if math.isfinite(x) else 0.0


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


# ----------------------------------------------------------------------- geometry


def js_distances(H: np.ndarray) -> np.ndarray:
    """Jensen–Shannon distances (square root of the divergence, base 2) between rows of H.

    Rows are normalized to sum to 1 first; an empty row is at distance 1 from every other.
    The divergence is ``entropy(M) - (entropy(P) + entropy(Q)) / 2``, one topic against
    all the others at a time.
    """
    P = np.asarray(H, dtype=np.float64)
    sums = P.sum(axis=1)
    P = P / np.where(sums > 0, sums, 1.0)[:, None]
    entropy = _entropy(P)
    k = len(P)
    D = np.ones((k, k))
    for i in range(k):
        js = _entropy(0.5 * (P[i] + P)) - 0.5 * (entropy[i] + entropy)
        D[i] = np.sqrt(np.clip(js, 0.0, 1.0))
    empty = sums <= 0
    D[empty, :] = 1.0
    D[:, empty] = 1.0
    D = np.maximum(D, D.T)  # exactly symmetric whatever the rounding
    np.fill_diagonal(D, 0.0)
    return D


def _entropy(P: np.ndarray) -> np.ndarray:
    """Base-2 entropy of each row (0 log 0 = 0)."""
    logs = np.zeros_like(P)
    np.log2(P, out=logs, where=P > 0)
    return -(P * logs).sum(axis=1)


def classical_mds(D: np.ndarray, dims: int = 2) -> np.ndarray:
    """Classical (Torgerson) MDS of a distance matrix, deterministic.

    Each axis's sign is fixed so that its largest coordinate in absolute value is positive
    (eigenvectors have no sign of their own); missing dimensions (k < 3) are zeros.
    """
    k = len(D)
    out = np.zeros((k, dims))
    if k < 2:
        return out
    J = np.eye(k) - 1.0 / k
    B = -0.5 * J @ (D**2) @ J
    values, vectors = np.linalg.eigh(B)
    order = np.argsort(-values, kind="stable")[:dims]
    for a, i in enumerate(order):
        if values[i] <= 1e-12:
            continue
        v = vectors[:, i] * math.sqrt(values[i])
        if v[np.argmax(np.abs(v))] < 0:
            v = -v
        out[:, a] = v
    return out


def cosine_similarity(H: np.ndarray) -> np.ndarray:
    X = np.asarray(H, dtype=np.float64)
    norms = np.linalg.norm(X, axis=1)
    X = X / np.where(norms > 0, norms, 1.0)[:, None]
    return X @ X.T


# ----------------------------------------------------------------------- sections


def model_card(ctx: ReportContext) -> Section:
    """What ``info`` shows, as a definition list."""
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in ctx.card)
    return Section("card", "Model", f'<dl class="card">{rows}</dl>')


def topic_table(ctx: ReportContext) -> Section:
    """The topics as a plain table: same ids, labels and order as ``topics``."""
    head = (
        "<tr><th scope=col>Topic</th><th scope=col>Label</th><th scope=col>Automatic label"
        "</th><th scope=col>Share</th><th scope=col>NPMI</th><th scope=col>Top terms</th></tr>"
    )
    body = []
    for rec in ctx.topics:
        t = rec["topic"]
        npmi = "–" if ctx.npmi is None else f"{ctx.npmi[t]:.3f}"
        note = (
            ' <span class="flag" title="top terms are only numbers or fragments">'
            "numbers/fragments</span>"
            if rec["fragments"]
            else ""
        )
        body.append(
            f'<tr data-topic="{t}"><th scope=row><button type=button class=pick '
            f'data-topic="{t}" aria-label="Show topic {t}: {esc(rec["label"])}">{t}</button>'
            f"</th><td class=label>{esc(rec['label'])}</td><td>{esc(rec['auto_label'])}{note}"
            f"</td><td class=num>{100 * rec['share']:.1f}%</td><td class=num>{npmi}</td>"
            f"<td>{esc(', '.join(rec['terms']))}</td></tr>"
        )
    table = (
        '<table id="topic-table"><caption>Topics, largest first (select one to see its terms '
        f"and documents)</caption><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    )
    return Section("topics", "Topics", table, script=asset("table.js"))


def topic_map(ctx: ReportContext) -> Section:
    """Intertopic distance map: classical MDS of Jensen–Shannon distances; area ∝ share."""
    m = ctx.model
    xy = classical_mds(js_distances(m.H))
    size, pad = 460.0, 50.0
    span = float(np.abs(xy).max()) or 1.0
    share = np.asarray(m.topic_share, dtype=np.float64)
    top = float(share.max()) or 1.0
    circles = []
    for t in range(m.n_topics):
        cx = size / 2 + xy[t, 0] / span * (size / 2 - pad)
        cy = size / 2 - xy[t, 1] / span * (size / 2 - pad)
        r = 6 + 34 * math.sqrt(max(share[t], 0.0) / top)
        label = ctx.topics[t]["label"]
        circles.append(
            f'<g class="mark" data-topic="{t}" tabindex="0" role="button" '
            f'aria-label="Topic {t}: {esc(label)}, {100 * share[t]:.1f}% of the corpus">'
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}"/>'
            f'<text x="{cx:.1f}" y="{cy + 4:.1f}">{t}</text></g>'
        )
    axes = (
        f'<line class=axis x1="{size / 2}" y1="0" x2="{size / 2}" y2="{size}"/>'
        f'<line class=axis x1="0" y1="{size / 2}" x2="{size}" y2="{size / 2}"/>'
    )
    svg = (
        f'<svg id="topic-map" viewBox="0 0 {size:.0f} {size:.0f}" role="group" '
        f'aria-label="Intertopic distance map">{axes}{"".join(circles)}</svg>'
        '<div id="tooltip" role="status" hidden></div>'
        "<p class=note>Topics placed by classical multidimensional scaling of the "
        "Jensen–Shannon distances between their term distributions; circle area is the "
        "topic's share. Hover for its terms, click to select.</p>"
    )
    return Section("map", "Intertopic distance map", svg, script=asset("map.js"))


def topic_detail(ctx: ReportContext) -> Section:
    """The selected topic: term bars with the relevance slider, its documents, NPMI, share."""
    m = ctx.model
    share = np.asarray(m.topic_share, dtype=np.float64)
    p = term_marginal(m.H, share)
    columns: dict[int, int] = {}
    topics = []
    for t in range(m.n_topics):
        chosen: list[int] = []
        for lam in np.linspace(0.0, 1.0, 11):
            for j in _relevant_for(m.H, share, p, t, float(lam)):
                if j not in chosen:
                    chosen.append(j)
        terms = []
        for j in chosen:
            columns.setdefault(j, len(columns))
            terms.append([columns[j], r4(float(m.H[t, j]))])
        topics.append(
            {
                "terms": terms,
                "docs": ctx.documents[t] if ctx.documents is not None else None,
            }
        )
    vocab = m.vocabulary
    order = sorted(columns, key=columns.__getitem__)
    data = {
        "lambda": RELEVANCE_LAMBDA,
        "bars": BAR_TERMS,
        "vocab": [vocab[j] for j in order],
        "p": [r4(float(p[j])) for j in order],
        "topics": topics,
    }
    body = f"""<div class=detail>
<h3 id="detail-title" aria-live="polite">Topic</h3>
<p id="detail-stats"></p>
<div class=slider><label for="lambda">Relevance λ =
<output id="lambda-value">{RELEVANCE_LAMBDA}</output></label>
<input id="lambda" type="range" min="0" max="1" step="0.01" value="{RELEVANCE_LAMBDA}"
 aria-describedby="lambda-help">
<p id="lambda-help" class=note>λ = 1 ranks terms by their weight in the topic; lower values
favor terms specific to it (Sievert &amp; Shirley 2014).</p></div>
<svg id="term-bars" role="img" aria-label="Top terms of the selected topic"></svg>
<p class="legend"><span class="key overall"></span> overall weight
<span class="key intopic"></span> weight in this topic</p>
<h4>Representative documents</h4>
<ol id="doc-list"></ol>
</div>"""
    return Section("detail", "Selected topic", body, data, asset("detail.js"))


def _relevant_for(H: np.ndarray, share: np.ndarray, p: np.ndarray, t: int, lam: float) -> list[int]:
    row = np.asarray(H[t], dtype=np.float64)
    pos = np.flatnonzero(row > 0)
    if len(pos) == 0:
        return []
    phi = row[pos]
    rel = lam * np.log(phi) + (1 - lam) * (np.log(phi) - np.log(p[pos]))
    order = np.argsort(-rel, kind="stable")[:CANDIDATE_TERMS]
    return [int(pos[i]) for i in order]


def similarity(ctx: ReportContext) -> Section:
    """Cosine similarity of the topics' term weights, as a heatmap."""
    S = cosine_similarity(ctx.model.H)
    k = len(S)
    cell = max(8.0, min(28.0, 560.0 / max(k, 1)))
    off = 30.0
    rects = []
    for i in range(k):
        for j in range(k):
            v = float(S[i, j])
            rects.append(
                f'<rect data-topic="{i}" x="{off + j * cell:.1f}" y="{off + i * cell:.1f}" '
                f'width="{cell:.1f}" height="{cell:.1f}" fill-opacity="{max(v, 0.0):.3f}">'
                f"<title>topic {i} × topic {j}: {v:.3f}</title></rect>"
            )
    labels = "".join(
        f'<text class=tick x="{off - 4:.1f}" y="{off + (i + 0.7) * cell:.1f}" '
        f'text-anchor="end">{i}</text>'
        f'<text class=tick x="{off + (i + 0.5) * cell:.1f}" y="{off - 6:.1f}" '
        f'text-anchor="middle">{i}</text>'
        for i in range(k)
    )
    size = off + k * cell + 4
    svg = (
        f'<svg id="heatmap" viewBox="0 0 {size:.0f} {size:.0f}" style="max-width:{size:.0f}px" '
        f'role="img" aria-label="Topic similarity heatmap (cosine of term weights)">'
        f"{labels}{''.join(rects)}</svg><p class=note>Cosine similarity of the topics' term "
        "weights; the stronger the color, the more alike. Click a row to select its topic.</p>"
    )
    return Section("similarity", "Topic similarity", svg, script=asset("heatmap.js"))


def coherence(ctx: ReportContext) -> Section | None:
    """Per-topic NPMI coherence as bars (left out when the model holds none)."""
    if ctx.npmi is None:
        return None
    values = [float(v) for v in ctx.npmi]
    lo, hi = min(0.0, *values), max(0.0, *values)
    span = (hi - lo) or 1.0
    width, left, bar_h = 420.0, 40.0, 16.0
    zero = left + (0 - lo) / span * width
    parts = [f'<line class=axis x1="{zero:.1f}" y1="0" x2="{zero:.1f}" '
             f'y2="{len(values) * (bar_h + 4):.0f}"/>']  # fmt: skip
    for t, v in enumerate(values):
        x = left + (min(v, 0.0) - lo) / span * width
        w = abs(v) / span * width
        y = t * (bar_h + 4)
        parts.append(
            f'<g data-topic="{t}"><text class=tick x="{left - 6:.1f}" y="{y + 12:.1f}" '
            f'text-anchor="end">{t}</text><rect class=bar x="{x:.1f}" y="{y:.1f}" '
            f'width="{max(w, 0.5):.1f}" height="{bar_h:.0f}"><title>topic {t} '
            f"({esc(ctx.topics[t]['label'])}): NPMI {v:.3f}</title></rect></g>"
        )
    h = len(values) * (bar_h + 4)
    svg = (
        f'<svg id="npmi-bars" viewBox="0 0 {left + width + 10:.0f} {h:.0f}" role="img" '
        f'aria-label="NPMI coherence per topic">{"".join(parts)}</svg>'
        "<p class=note>Normalized pointwise mutual information of each topic's top terms on "
        "the training corpus (−1 to 1; higher: the terms occur together more often).</p>"
    )
    return Section("coherence", "Coherence (NPMI)", svg)


def select_k_curves(ctx: ReportContext) -> Section | None:
    """The curves of a k selection, with the recommended k marked."""
    result = ctx.select_k
    if not result:
        return None
    rows = result.get("rows") or []
    best = result.get("recommended_k")
    charts = []
    for key, name in (("npmi", "NPMI"), ("stability", "Stability"),
                      ("relative_error", "Relative error")):  # fmt: skip
        points = [(r["k"], r.get(key)) for r in rows if r.get(key) is not None]
        if points:
            charts.append(_line_chart(name, points, best))
    reason = esc(result.get("reason", ""))
    body = (
        f"<div class=charts>{''.join(charts)}</div><p class=note>Recommended k = "
        f"{esc(best)}: {reason}</p>"
    )
    return Section("select-k", "Choosing k", body)


def _line_chart(name: str, points: Sequence[tuple[int, float]], best: Any) -> str:
    w, h, pad = 260.0, 160.0, 30.0
    ks = [k for k, _ in points]
    vs = [float(v) for _, v in points]
    k0, k1 = min(ks), max(ks)
    v0, v1 = min(vs), max(vs)

    def x(k: float) -> float:
        return pad + (k - k0) / ((k1 - k0) or 1) * (w - 2 * pad)

    def y(v: float) -> float:
        return h - pad - (v - v0) / ((v1 - v0) or 1) * (h - 2 * pad)

    path = " ".join(f"{x(k):.1f},{y(v):.1f}" for k, v in zip(ks, vs, strict=True))
    dots = "".join(
        f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="3"><title>k={k}: {v:.4g}</title></circle>'
        for k, v in zip(ks, vs, strict=True)
    )
    mark = ""
    if isinstance(best, int) and k0 <= best <= k1:
        mark = (
            f'<line class=best x1="{x(best):.1f}" y1="{pad - 10:.0f}" x2="{x(best):.1f}" '
            f'y2="{h - pad:.0f}"/><text class=tick x="{x(best) + 3:.1f}" y="{pad - 12:.0f}">'
            f"k = {best}</text>"
        )
    ticks = (
        f'<text class=tick x="{pad:.0f}" y="{h - 8:.0f}">{k0}</text>'
        f'<text class=tick x="{w - pad:.0f}" y="{h - 8:.0f}" text-anchor="end">{k1}</text>'
        f'<text class=tick x="4" y="{pad:.0f}">{v1:.3g}</text>'
        f'<text class=tick x="4" y="{h - pad:.0f}">{v0:.3g}</text>'
    )
    return (
        f'<figure><svg viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="{esc(name)} '
        f'against k">{ticks}<polyline class=curve points="{path}"/>{dots}{mark}</svg>'
        f"<figcaption>{esc(name)}</figcaption></figure>"
    )


#: The report's sections, in page order. Other views append their builder here (or pass
#: their own list to :func:`build_report`).
DEFAULT_SECTIONS: list[SectionBuilder] = [
    model_card,
    topic_table,
    topic_map,
    topic_detail,
    similarity,
    coherence,
    select_k_curves,
]


# ----------------------------------------------------------------------- page


# the page may load nothing: no request can leave it, even from a crafted document text
_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _json_for_script(data: Any) -> str:
    from topicnmf.export import json_text

    # "<" escaped so that no text (a document holding "</script>") can end the element
    return json_text(data).replace("<", "\\u003c")


def build_report(ctx: ReportContext, sections: Sequence[SectionBuilder] | None = None) -> str:
    """The whole page as text (UTF-8 HTML), from ``sections`` (default
    :data:`DEFAULT_SECTIONS`) in order."""
    built = [s for s in (b(ctx) for b in (sections or DEFAULT_SECTIONS)) if s is not None]
    data = {
        "topics": [
            {
                "topic": r["topic"],
                "label": r["label"],
                "share": r4(float(r["share"])),
                "npmi": None if ctx.npmi is None else r4(float(ctx.npmi[r["topic"]])),
                "terms": list(r["terms"]),
            }
            for r in ctx.topics
        ],
        "sections": {s.id: s.data for s in built if s.data is not None},
    }
    nav = "".join(f'<li><a href="#{esc(s.id)}">{esc(s.title)}</a></li>' for s in built)
    body = "\n".join(
        f'<section id="{esc(s.id)}" aria-labelledby="{esc(s.id)}-h">'
        f'<h2 id="{esc(s.id)}-h">{esc(s.title)}</h2>\n{s.html}</section>'
        for s in built
    )
    scripts = "\n".join(
        f"(function (TN, data) {{\n{s.script}\n}})(TN, TN.data.sections[{_json_for_script(s.id)}]);"
        for s in built
        if s.script
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>{esc(ctx.title)} · topicnmf report</title>
<style>
{asset("report.css")}
</style>
</head>
<body>
<header><h1>{esc(ctx.title)}</h1><p>{len(ctx.topics)} topics · topicnmf report</p>
<nav aria-label="Sections"><ul>{nav}</ul></nav></header>
<main>
{body}
</main>
<script type="application/json" id="tn-data">{_json_for_script(data)}</script>
<script>
{asset("core.js")}
{scripts}
TN.start();
</script>
</body>
</html>
"""
