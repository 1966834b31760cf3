"""A link's check history as an SVG chart, drawn on the server (no JavaScript, no CDN).

Two bands share one time axis: on top, one mark per check coloured by its outcome (healthy,
transient trouble, failing); below, the response time of each check as a line with dots.
Every piece of text is XML-escaped here, since the markup is inserted into the page as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from html import escape

from markupsafe import Markup

from web.labels import Labels
from web.schemas import CheckView

__all__ = ["history_chart", "outcome_class", "nice_ceiling"]

XScale = Callable[[datetime], float]

WIDTH, HEIGHT = 760, 270
LEFT, RIGHT = 64, 16
BAND_TOP, BAND_HEIGHT = 28, 26
PLOT_TOP, PLOT_BOTTOM = 78, 228
COLOURS = {"healthy": "#2e7d32", "transient": "#f9a825", "failing": "#c62828"}
_HEALTHY = {"ok", "redirected"}
_TRANSIENT = {"error", "blocked"}


def outcome_class(outcome: str) -> str:
    """healthy (ok, redirected), transient (error, blocked) or failing (everything else)."""
    if outcome in _HEALTHY:
        return "healthy"
    return "transient" if outcome in _TRANSIENT else "failing"


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 × 10ⁿ at or above ``value`` (an axis maximum people can read)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(int(step * power) for step in (1, 2, 5, 10) if step * power >= value)


def _x_of(checks: Sequence[CheckView]) -> XScale:
    start, end = checks[0].checked_at.timestamp(), checks[-1].checked_at.timestamp()
    span = end - start
    # Inset by half the widest mark, so the first and last marks stay inside the plot.
    inset = 6
    width = WIDTH - LEFT - RIGHT - 2 * inset

    def x(moment: datetime) -> float:
        return LEFT + inset + (width / 2 if span == 0 else (moment.timestamp() - start) / span * width)
    return x


def _band(checks: Sequence[CheckView], x: XScale, t: Labels, tz: tzinfo) -> list[str]:
    mark = max(2.0, min(12.0, (WIDTH - LEFT - RIGHT) / max(len(checks), 1) * 0.8))
    parts = [f'<text x="{LEFT - 6}" y="{BAND_TOP + 17}" text-anchor="end" class="axis">{escape(t.outcome)}</text>']
    for check in checks:
        label = f"{check.checked_at.astimezone(tz):%Y-%m-%d %H:%M} {t.outcome_label(check.outcome)}"
        parts.append(
            f'<rect x="{x(check.checked_at) - mark / 2:.1f}" y="{BAND_TOP}" width="{mark:.1f}" height="{BAND_HEIGHT}" '
            f'fill="{COLOURS[outcome_class(check.outcome)]}" class="check {outcome_class(check.outcome)}"><title>{escape(label)}</title></rect>'
        )
    return parts


def _plot(checks: Sequence[CheckView], x: XScale, t: Labels) -> list[str]:
    timed = [c for c in checks if c.elapsed_ms is not None]
    top = nice_ceiling(max((c.elapsed_ms or 0 for c in timed), default=1))

    def y(ms: int) -> float:
        return PLOT_BOTTOM - ms / top * (PLOT_BOTTOM - PLOT_TOP)
    parts = [
        f'<line x1="{LEFT}" y1="{PLOT_BOTTOM}" x2="{WIDTH - RIGHT}" y2="{PLOT_BOTTOM}" class="grid"/>',
        f'<line x1="{LEFT}" y1="{PLOT_TOP}" x2="{WIDTH - RIGHT}" y2="{PLOT_TOP}" class="grid"/>',
        f'<text x="{LEFT - 6}" y="{PLOT_TOP + 4}" text-anchor="end" class="axis">{top}</text>',
        f'<text x="{LEFT - 6}" y="{PLOT_BOTTOM + 4}" text-anchor="end" class="axis">0</text>',
        f'<text x="{LEFT}" y="{PLOT_TOP - 8}" class="axis">{escape(t.response_ms)}</text>',
    ]
    if len(timed) > 1:
        points = " ".join(f"{x(c.checked_at):.1f},{y(c.elapsed_ms or 0):.1f}" for c in timed)
        parts.append(f'<polyline points="{points}" fill="none" stroke="#1565c0" stroke-width="1.5" class="elapsed"/>')
    for check in timed:
        parts.append(f'<circle cx="{x(check.checked_at):.1f}" cy="{y(check.elapsed_ms or 0):.1f}" r="2.5" fill="{COLOURS[outcome_class(check.outcome)]}"><title>{check.elapsed_ms} ms</title></circle>')
    return parts


def _axis(checks: Sequence[CheckView], tz: tzinfo) -> list[str]:
    first, last = checks[0].checked_at.astimezone(tz), checks[-1].checked_at.astimezone(tz)
    y = PLOT_BOTTOM + 20
    parts = [f'<text x="{LEFT}" y="{y}" class="axis">{first:%Y-%m-%d %H:%M}</text>']
    if last != first:
        parts.append(f'<text x="{WIDTH - RIGHT}" y="{y}" text-anchor="end" class="axis">{last:%Y-%m-%d %H:%M}</text>')
    return parts


def _legend(t: Labels) -> list[str]:
    parts, x = [], LEFT
    for name, text in (("healthy", t.outcome_label("ok")), ("transient", t.outcome_label("error")), ("failing", t.state_label("failing"))):
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{COLOURS[name]}"/><text x="{x + 14}" y="15" class="axis">{escape(text)}</text>')
        x += 150
    return parts


def history_chart(checks: Sequence[CheckView], t: Labels, tz: tzinfo) -> Markup:
    """An inline ``<svg>`` for checks in time order; empty markup when there are none."""
    if not checks:
        return Markup("")
    x = _x_of(checks)
    body = [*_legend(t), *_band(checks, x, t, tz), *_plot(checks, x, t), *_axis(checks, tz)]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="chart-title" class="chart"><title id="chart-title">{escape(t.chart)}</title>'
        '<style>.axis{font:11px sans-serif;fill:#444}.grid{stroke:#ccc;stroke-width:1}</style>'
        + "".join(body) + "</svg>"
    )
