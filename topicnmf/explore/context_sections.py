"""Report sections for topics in context: over time, by group, and a dynamic model's windows.

The builders read what the caller put into ``ReportContext.extra``: ``"trends"``, a frame of
:func:`topicnmf.context.trends_frame`, and ``"groups"``, a frame of
:func:`topicnmf.context.groups_frame`; the evolution of a dynamic model comes from the
model itself (``model.windows``). Each builder returns None when its data is absent. The
charts are SVG drawn here, with every number rounded, so the same inputs give the same
bytes; each chart has a table beside it (in a ``<details>`` element) for screen readers
and for reading exact values.

This module imports nothing from :mod:`topicnmf.explore.report` at import time, so the
report can list these builders among its own.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np

__all__ = ["MAX_GROUPS", "topic_evolution", "topic_groups", "topic_trends"]

#: groups drawn in the heatmap (those with the most documents); the rest are counted in a note
MAX_GROUPS = 40
_NAME_CHARS = 24


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _day(value: Any) -> str:
    """A bin edge as text: the date alone when it is midnight."""
    if hasattr(value, "hour") and value.hour == value.minute == value.second == 0:
        return value.strftime("%Y-%m-%d")
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{100 * x:.1f}%"


def _section(*args: Any, **kw: Any) -> Any:
    from topicnmf.explore.report import Section, asset

    section = Section(*args, **kw)
    # one script serves the three sections; its data is the section's id
    section.data, section.script = section.id, asset("context.js")
    return section


# ----------------------------------------------------------------------- over time


def topic_trends(ctx: Any) -> Any:
    """Small multiples of each topic's share over time, with the bootstrap interval band.

    All panels share one vertical scale (0 to the largest upper bound), so their heights
    compare; a bin without documents leaves a gap.
    """
    frame = ctx.extra.get("trends")
    if frame is None or not len(frame):
        return None
    k = int(frame["topic"].max()) + 1
    n_bins = len(frame) // k
    share = frame["share"].to_numpy(dtype=np.float64).reshape(k, n_bins)
    lo = frame["share_lo"].to_numpy(dtype=np.float64).reshape(k, n_bins)
    hi = frame["share_hi"].to_numpy(dtype=np.float64).reshape(k, n_bins)
    starts = [_day(v) for v in frame["bin_start"].iloc[:n_bins]]
    ends = [_day(v) for v in frame["bin_end"].iloc[:n_bins]]
    tops = np.concatenate([hi[np.isfinite(hi)], share[np.isfinite(share)]])
    top = float(tops.max()) if len(tops) and tops.max() > 0 else 1.0
    figures = [
        _panel(t, ctx.topics[t]["label"], share[t], lo[t], hi[t], top, starts, ends)
        for t in range(k)
    ]
    table = _trends_table(ctx, share, lo, hi, starts)
    body = (
        f'<div class="multiples" id="trend-charts">{"".join(figures)}</div>'
        f"<p class=note>Each topic's share of the topic mass of the documents in each bin "
        f"({n_bins} bins from {_esc(starts[0])} to {_esc(ends[-1])}); the band is the "
        "bootstrap 95% interval. Panels share one scale. Click a panel to select its topic."
        f"</p><details><summary>As a table</summary>{table}</details>"
    )
    return _section("trends", "Topics over time", body)


def _panel(t: int, label: str, share: np.ndarray, lo: np.ndarray, hi: np.ndarray,
           top: float, starts: list[str], ends: list[str]) -> str:  # fmt: skip
    w, h, pad_x, pad_y = 220.0, 110.0, 8.0, 14.0
    n = len(share)

    def x(b: int) -> float:
        return pad_x + (b / (n - 1) if n > 1 else 0.5) * (w - 2 * pad_x)

    def y(v: float) -> float:
        return h - pad_y - v / top * (h - 2 * pad_y)

    parts = [f'<line class=axis x1="{pad_x:.0f}" y1="{y(0):.1f}" x2="{w - pad_x:.0f}" '
             f'y2="{y(0):.1f}"/>']  # fmt: skip
    for run in _runs(np.isfinite(lo) & np.isfinite(hi)):
        if len(run) == 1:  # a lone bin: its interval as a short bar, a polygon would be flat
            b = run[0]
            parts.append(f'<rect class=band x="{x(b) - 3:.1f}" y="{y(hi[b]):.1f}" width="6" '
                         f'height="{max(y(lo[b]) - y(hi[b]), 0.5):.1f}"/>')  # fmt: skip
            continue
        upper = " ".join(f"{x(b):.1f},{y(hi[b]):.1f}" for b in run)
        lower = " ".join(f"{x(b):.1f},{y(lo[b]):.1f}" for b in reversed(run))
        parts.append(f'<polygon class=band points="{upper} {lower}"/>')
    for run in _runs(np.isfinite(share)):
        points = " ".join(f"{x(b):.1f},{y(share[b]):.1f}" for b in run)
        if len(run) == 1:
            parts.append(f'<circle class=dot cx="{x(run[0]):.1f}" cy="{y(share[run[0]]):.1f}" '
                         'r="2"/>')  # fmt: skip
        else:
            parts.append(f'<polyline class=curve points="{points}"/>')
    known = [b for b in range(n) if math.isfinite(share[b])]
    first = _pct(share[known[0]]) if known else "–"
    last = _pct(share[known[-1]]) if known else "–"
    aria = (f"Topic {t}: {label}, share of the documents from {first} ({starts[0]}) to {last} "
            f"({starts[-1]})")  # fmt: skip
    return (
        f'<figure class=trend data-topic="{t}"><figcaption><button type=button class=pick '
        f'data-topic="{t}">{t}</button> {_esc(label)}</figcaption>'
        f'<svg viewBox="0 0 {w:.0f} {h:.0f}" role="img" aria-label="{_esc(aria)}">'
        f'{"".join(parts)}<text class=tick x="{pad_x:.0f}" y="{h - 2:.0f}">'
        f'{_esc(starts[0])}</text><text class=tick x="{w - pad_x:.0f}" y="{h - 2:.0f}" '
        f'text-anchor="end">{_esc(ends[-1])}</text><text class=tick x="{pad_x:.0f}" '
        f'y="{pad_y - 3:.0f}">{_pct(top)}</text></svg></figure>'
    )


def _runs(mask: np.ndarray) -> list[list[int]]:
    """Consecutive positions where mask holds."""
    runs: list[list[int]] = []
    for b, m in enumerate(mask.tolist()):
        if not m:
            continue
        if runs and runs[-1][-1] == b - 1:
            runs[-1].append(b)
        else:
            runs.append([b])
    return runs


def _trends_table(ctx: Any, share: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                  starts: list[str]) -> str:  # fmt: skip
    head = "".join(f"<th scope=col>{_esc(s)}</th>" for s in starts)
    rows = []
    for t in range(len(share)):
        cells = "".join(
            f'<td class=num title="95% interval {_pct(lo[t, b])} to {_pct(hi[t, b])}">'
            f"{_pct(share[t, b])}</td>"
            for b in range(len(starts))
        )
        rows.append(f'<tr data-topic="{t}"><th scope=row>{t} {_esc(ctx.topics[t]["label"])}'
                    f"</th>{cells}</tr>")  # fmt: skip
    return (
        '<div class=scroll><table id="trend-table"><caption>Share of each bin, by bin start'
        f"</caption><thead><tr><th scope=col>Topic</th>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


# ----------------------------------------------------------------------- by group


def topic_groups(ctx: Any) -> Any:
    """A topic x group heatmap of log-odds (the topic in the group against the rest).

    Over-representation is drawn in the accent color, under-representation in a second
    color, the strength by opacity (full at the largest absolute log-odds). At most
    :data:`MAX_GROUPS` groups are drawn, those with the most documents.
    """
    frame = ctx.extra.get("groups")
    if frame is None or not len(frame):
        return None
    counts = frame.drop_duplicates("group").set_index("group")["n_docs"]
    names = sorted(counts.index, key=lambda g: (-int(counts[g]), str(g)))
    hidden = max(0, len(names) - MAX_GROUPS)
    names = sorted(names[:MAX_GROUPS], key=str)
    k = len(ctx.topics)
    index = {g: i for i, g in enumerate(names)}
    lor = np.full((len(names), k), np.nan)
    share = np.full((len(names), k), np.nan)
    for g, t, v, s in zip(frame["group"], frame["topic"], frame["log_odds"], frame["share"],
                          strict=True):  # fmt: skip
        if g in index:
            lor[index[g], int(t)], share[index[g], int(t)] = v, s
    scale = float(np.nanmax(np.abs(lor))) if np.isfinite(lor).any() else 1.0
    scale = scale or 1.0
    cell = max(10.0, min(28.0, 560.0 / max(k, 1)))
    left = 8.0 + 6.5 * min(_NAME_CHARS, max(len(str(g)) for g in names))
    off = 20.0
    parts = []
    for i, g in enumerate(names):
        name = str(g) if len(str(g)) <= _NAME_CHARS else str(g)[: _NAME_CHARS - 1] + "…"
        parts.append(f'<text class=tick x="{left - 4:.1f}" y="{off + (i + 0.7) * cell:.1f}" '
                     f'text-anchor="end">{_esc(name)}</text>')  # fmt: skip
        for t in range(k):
            v = lor[i, t]
            if not math.isfinite(v):
                continue
            sign = "over" if v >= 0 else "under"
            parts.append(
                f'<rect class="{sign}" data-topic="{t}" data-group="{_esc(g)}" '
                f'data-log-odds="{v:.4g}" x="{left + t * cell:.1f}" y="{off + i * cell:.1f}" '
                f'width="{cell:.1f}" height="{cell:.1f}" fill-opacity="{abs(v) / scale:.3f}">'
                f"<title>{_esc(g)} × topic {t}: log-odds {v:+.2f}, share "
                f"{_pct(share[i, t])}</title></rect>"
            )
    ticks = "".join(f'<text class=tick x="{left + (t + 0.5) * cell:.1f}" y="{off - 6:.1f}" '
                    f'text-anchor="middle">{t}</text>' for t in range(k))  # fmt: skip
    width, height = left + k * cell + 4, off + len(names) * cell + 4
    svg = (
        f'<svg id="group-heatmap" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'style="max-width:{width:.0f}px" role="img" aria-label="Topic by group heatmap of '
        f'log-odds ratios">{ticks}{"".join(parts)}</svg>'
    )
    note = f" {hidden:,} smaller groups are not drawn." if hidden else ""
    body = (
        f"{svg}<p class=note>Log-odds of each topic (columns) in each group (rows) against "
        'the other documents: <span class="key over"></span> used more in the group, '
        f'<span class="key under"></span> used less; the stronger the color, the larger the '
        f"difference (full at |log-odds| = {scale:.2f}).{note} Click a column to select its "
        f"topic.</p><details><summary>As a table</summary>{_groups_table(names, lor)}</details>"
    )
    return _section("groups", "Topics by group", body)


def _groups_table(names: list[Any], lor: np.ndarray) -> str:
    head = "".join(f"<th scope=col>{t}</th>" for t in range(lor.shape[1]))
    rows = "".join(
        f"<tr><th scope=row>{_esc(g)}</th>"
        + "".join(
            f"<td class=num>{'–' if not math.isfinite(v) else f'{v:+.2f}'}</td>" for v in lor[i]
        )
        + "</tr>"
        for i, g in enumerate(names)
    )
    return (
        '<div class=scroll><table id="group-table"><caption>Log-odds of each topic (columns) '
        f"in each group</caption><thead><tr><th scope=col>Group</th>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


# ----------------------------------------------------------------------- dynamic model


def topic_evolution(ctx: Any) -> Any:
    """A dynamic model's topics window by window: the top terms of their window topics."""
    windows = getattr(ctx.model, "windows", None)
    if windows is None:
        return None
    from topicnmf.context import window_topics_frame

    frame = window_topics_frame(windows, ctx.model.vocabulary)
    n_windows = len(windows.starts)
    cells: dict[tuple[int, int], list[str]] = {}
    for t, w, terms in zip(frame["topic"], frame["window"], frame["top_terms"], strict=True):
        cells.setdefault((int(t), int(w)), []).append(", ".join(terms))
    head = "".join(
        f"<th scope=col>{_esc(windows.starts[w])} to {_esc(windows.ends[w])}</th>"
        for w in range(n_windows)
    )
    rows = []
    for t in range(len(ctx.topics)):
        tds = "".join(
            "<td>" + (" | ".join(_esc(x) for x in cells[(t, w)]) if (t, w) in cells else "–")
            + "</td>"
            for w in range(n_windows)
        )  # fmt: skip
        rows.append(
            f'<tr data-topic="{t}"><th scope=row><button type=button class=pick '
            f'data-topic="{t}" aria-label="Show topic {t}: {_esc(ctx.topics[t]["label"])}">'
            f"{t}</button> {_esc(ctx.topics[t]['label'])}</th>{tds}</tr>"
        )
    body = (
        '<div class=scroll><table id="evolution-table"><caption>Top terms of the window '
        "topics linked to each topic, window by window (window topics ' | ' apart; – none)"
        f"</caption><thead><tr><th scope=col>Topic</th>{head}</tr></thead><tbody>"
        f"{''.join(rows)}</tbody></table></div>"
    )
    return _section("evolution", "Topic evolution", body)
