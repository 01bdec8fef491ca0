"""report.html: one static page a quality team can take to a committee.

No script, no stylesheet or font from elsewhere, no network: the charts are inline SVG drawn
here from summary.json. The page shows each measure's rate with its 95% interval, the rates
over time and by procedure, the measures' definitions and sources, how to read them, and the
early-stage result beside the published audits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from scanwise.audit.measures import Measure
from scanwise.domain.kb import KnowledgeBase

COLOURS = ["#1b6ca8", "#c0392b", "#7d3c98", "#117a65", "#b9770e"]


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def line_chart(
    months: list[dict[str, Any]], measures: list[Measure], *, width: int = 720, height: int = 260
) -> Markup:
    """Each measure's monthly rate as a line; months with no denominator leave a gap."""
    pad_l, pad_r, pad_t, pad_b = 48, 36, 16, 48
    known = [m for m in months if m["month"] is not None]
    if not known:
        return Markup('<p class="empty">No order dates were given, so there is no chart over time.</p>')
    top = max([(e["measures"][m.id]["rate"] or 0) for e in known for m in measures] + [0.05])
    top = min(1.0, (int(top * 10) + 1) / 10)
    n = len(known)
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(i: int) -> float:
        return pad_l + (w * i / (n - 1) if n > 1 else w / 2)

    def y(v: float) -> float:
        return pad_t + h * (1 - v / top)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="Low-value rates by month">'
    ]
    for k in range(6):
        v = top * k / 5
        parts.append(
            f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{y(v):.1f}" y2="{y(v):.1f}" class="grid"/>'
            f'<text x="{pad_l - 6}" y="{y(v) + 4:.1f}" class="axis" text-anchor="end">{_pct(v)}</text>'
        )
    step = max(1, n // 12)
    for i, e in enumerate(known):
        if i % step == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - pad_b + 18}" class="axis" '
                f'text-anchor="middle">{escape(e["month"])}</text>'
            )
    for j, m in enumerate(measures):
        colour = COLOURS[j % len(COLOURS)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, e in enumerate(known):
            rate = e["measures"][m.id]["rate"]
            if rate is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(rate):.1f}")
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(rate):.1f}" r="3" fill="{colour}" class="point">'
                f"<title>{escape(m.short)} {escape(e['month'])}: {_pct(rate)} "
                f"({e['measures'][m.id]['numerator']} of {e['measures'][m.id]['denominator']})</title>"
                f"</circle>"
            )
        if segment:
            segments.append(segment)
        for seg in segments:
            parts.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2" '
                f'class="series"/>'
            )
        parts.append(
            f'<rect x="{pad_l + 200 * j}" y="{height - 18}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{pad_l + 200 * j + 16}" y="{height - 8}" class="legend">{escape(m.short)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(procedures: list[dict[str, Any]], *, limit: int = 15, width: int = 720) -> Markup:
    """Share of each procedure's orders that are low value (the most-ordered procedures first)."""
    rows = [p for p in procedures if p["orders"]][:limit]
    if not rows:
        return Markup('<p class="empty">No rated orders.</p>')
    label_w, bar_h, gap = 300, 18, 8
    height = len(rows) * (bar_h + gap) + 24
    w = width - label_w - 90
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'aria-label="Low-value share by procedure">'
    ]
    for i, p in enumerate(rows):
        top = 8 + i * (bar_h + gap)
        rate = p["low_value_rate"] or 0.0
        name = p["procedure"] or "(no procedure)"
        parts.append(
            f'<text x="{label_w - 8}" y="{top + 13}" class="axis" text-anchor="end">'
            f"{escape(name[:48])}</text>"
            f'<rect x="{label_w}" y="{top}" width="{w}" height="{bar_h}" class="track"/>'
            f'<rect x="{label_w}" y="{top}" width="{w * rate:.1f}" height="{bar_h}" fill="{COLOURS[1]}" '
            f'class="bar"><title>{escape(name)}: {p["low_value"]} of {p["orders"]} orders low value'
            f"</title></rect>"
            f'<text x="{label_w + w + 6}" y="{top + 13}" class="axis">{_pct(rate)} '
            f"(n={p['orders']})</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def write_report(path: Path, summary: dict[str, Any], measures: list[Measure], kb: KnowledgeBase) -> None:
    env = Environment(loader=PackageLoader("scanwise.audit", "."), autoescape=select_autoescape(["j2"]))
    env.filters["pct"] = _pct
    published = [(m, p, kb.sources[p.source]) for m in measures for p in m.published]
    html = env.get_template("report.html.j2").render(
        s=summary,
        measures=measures,
        by_id={e["id"]: e for e in summary["measures"]},
        sources=kb.sources,
        published=published,
        line=line_chart(summary["by_month"], measures),
        bars=bar_chart(summary["by_procedure"]),
        variant_labels={
            (t.topic_id, v.number): v.label for t in kb.topics if t.status == "current" for v in t.variants
        },
    )
    path.write_text(html, encoding="utf-8")
