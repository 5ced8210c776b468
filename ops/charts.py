"""Small server-rendered SVG charts (no JavaScript, no CDN): a trend line and horizontal bars.

Every label goes through ``escape``; the result is marked safe only after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


def _num(value) -> float | None:
    if value is None:
        return None
    return float(value) if isinstance(value, Decimal | int | float) else None


def line_chart(
    points: Sequence[tuple[str, object]], *, title: str, unit: str = "", width: int = 640, height: int = 200
) -> SafeString:
    """A trend line over ``points`` = ``[(x label, y value or None)]``; gaps where y is None."""
    pad_l, pad_r, pad_t, pad_b = 48, 12, 24, 28
    w, h = width - pad_l - pad_r, height - pad_t - pad_b
    ys = [v for _x, v in ((x, _num(y)) for x, y in points) if v is not None]
    top = max(ys) if ys else 1.0
    top = top if top > 0 else 1.0
    n = max(len(points) - 1, 1)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{pad_l}" y1="{pad_t + h}" x2="{pad_l + w}" y2="{pad_t + h}" stroke="#888"/>',
        f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{pad_t + h}" stroke="#888"/>',
        f'<text x="{pad_l - 6}" y="{pad_t + 4}" text-anchor="end" font-size="11">'
        f"{escape(_fmt(top))}{escape(unit)}</text>",
        f'<text x="{pad_l - 6}" y="{pad_t + h}" text-anchor="end" font-size="11">0</text>',
    ]
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (_x, y) in enumerate(points):
        v = _num(y)
        if v is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        px = pad_l + w * i / n
        py = pad_t + h - (h * v / top)
        segment.append(f"{px:.1f},{py:.1f}")
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) == 1:
            x, y = seg[0].split(",")
            parts.append(f'<circle cx="{x}" cy="{y}" r="3" fill="#c7000b"/>')
        else:
            parts.append(f'<polyline fill="none" stroke="#c7000b" stroke-width="2" points="{" ".join(seg)}"/>')
    if points:
        parts.append(f'<text x="{pad_l}" y="{height - 8}" font-size="11">{escape(points[0][0])}</text>')
        parts.append(
            f'<text x="{pad_l + w}" y="{height - 8}" text-anchor="end" font-size="11">{escape(points[-1][0])}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def bar_chart(
    bars: Sequence[tuple[str, object]],
    *,
    title: str,
    unit: str = "%",
    max_value: float | None = 100.0,
    width: int = 640,
) -> SafeString:
    """Horizontal bars ``[(label, value)]``, e.g. coverage by province (0-100 %)."""
    row_h, pad_l, pad_r = 20, 140, 60
    height = max(row_h * len(bars) + 10, 30)
    w = width - pad_l - pad_r
    values = [_num(v) or 0.0 for _l, v in bars]
    top = max_value if max_value is not None else (max(values) if values else 1.0) or 1.0
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, ((label, value), v) in enumerate(zip(bars, values, strict=True)):
        y = 5 + i * row_h
        bw = max(0.0, min(w, w * v / top))
        parts.append(f'<text x="{pad_l - 6}" y="{y + 14}" text-anchor="end" font-size="12">{escape(label)}</text>')
        parts.append(f'<rect x="{pad_l}" y="{y + 2}" width="{bw:.1f}" height="{row_h - 6}" fill="#1f6feb"/>')
        text = "—" if value is None else f"{_fmt(v)}{unit}"
        parts.append(f'<text x="{pad_l + bw + 4:.1f}" y="{y + 14}" font-size="12">{escape(text)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))
