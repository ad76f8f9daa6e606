"""How report figures read on pages, in the digest and in print: a missing value is "—", never 0 %."""
from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from .board_format import duration_text

register = template.Library()

NO_VALUE = "—"


@register.filter
def percent(value) -> str:
    if value is None:
        return NO_VALUE
    return f"{value * 100:.1f} %"


@register.filter
def duration(value) -> str:
    """Seconds as "1 h 02 min 05 s", rounded to the second (figures agree with response_stats to the second)."""
    if value is None:
        return NO_VALUE
    total = round(value)
    sign = "−" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours:02d} h {minutes:02d} min"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min {seconds:02d} s"
    if minutes:
        return f"{sign}{minutes} min {seconds:02d} s"
    return f"{sign}{seconds} s"


@register.filter
def km_median(figures) -> str:
    """METRICS.md §4 median time to reply, silence included: its duration, or "not reached (over …)" when fewer
    than half of the mentions were answered; "—" only for an empty set."""
    value = getattr(figures, "km_median_s", None)
    if value is not None:
        return duration(value)
    over = getattr(figures, "km_not_reached_over_s", None)
    if over is not None:
        return _("not reached (over %(time)s)") % {"time": duration(over)}
    return NO_VALUE


@register.filter
def signed_points(value) -> str:
    """A change of a rate, in percentage points."""
    if value is None:
        return NO_VALUE
    return f"{value * 100:+.1f} pt"


@register.filter
def signed_duration(value) -> str:
    if value is None:
        return NO_VALUE
    return ("+" if value >= 0 else "") + duration(value)


@register.filter
def signed_number(value) -> str:
    if value is None:
        return NO_VALUE
    return f"{value:+d}" if isinstance(value, int) else f"{value:+.2f}"


@register.filter
def net(value) -> str:
    if value is None:
        return NO_VALUE
    return f"{value:+.2f}"


@register.filter
def change(row, name: str) -> str:
    """A WeekRow's change of one figure, in that figure's unit."""
    delta = row.change(name)
    if name in ("reply_rate", "answered_within_target", "business_answered_within_target"):
        return signed_points(delta)
    if name.endswith("_s"):
        return signed_duration(delta)
    if name == "net_sentiment":
        return NO_VALUE if delta is None else f"{delta:+.2f}"
    return signed_number(delta)


@register.filter
def target(seconds) -> str:
    """A first-response target as pages name it: "1 h", "45 min" (METRICS.md §8)."""
    return duration_text(seconds)


@register.simple_tag
def sparkline(weeks, figure: str = "answered_within_target", width: int = 96, height: int = 24):
    """An inline SVG trend of one rate over the given weeks (0–100 %); weeks without a value leave a gap.

    Drawn server-side with presentation attributes only: the CSP forbids inline scripts and style attributes.
    """
    values = [getattr(w, figure) for w in weeks]
    if not values:
        return ""
    step = width / max(len(values) - 1, 1)
    segments: list[list[str]] = [[]]
    dots = []
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        x, y = i * step, height - 2 - v * (height - 4)
        segments[-1].append(f"{x:.1f},{y:.1f}")
        dots.append((x, y))
    lines = "".join(
        f'<polyline points="{" ".join(s)}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        for s in segments if len(s) > 1
    )
    last = ""
    if values[-1] is not None:
        x, y = dots[-1]
        last = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="currentColor"/>'
    label = ", ".join(percent(v) for v in values)
    return mark_safe(
        f'<svg class="sparkline" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{label}</title>{lines}{last}</svg>"
    )


@register.simple_tag
def week_chart(weeks, width: int = 720, height: int = 220):
    """The brand page's chart: reply rate and answered within target per week (0–100 %), as inline SVG."""
    if not weeks:
        return ""
    left, bottom, top = 40, 30, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    step = plot_w / max(len(weeks) - 1, 1)
    parts = [f'<svg class="week-chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             "<title>" + escape(_("Reply rate and answered within target per week")) + "</title>"]
    for pct in (0, 50, 100):
        y = top + plot_h - pct / 100 * plot_h
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de"/>'
                     f'<text x="2" y="{y + 4:.1f}" font-size="11" fill="#57606a">{pct} %</text>')
    for figure, colour, dash in (("reply_rate", "#0b5cad", ""), ("answered_within_target", "#1a7f37", "4 3")):
        segment: list[str] = []
        for i, w in enumerate(weeks + [None]):
            v = getattr(w, figure) if w is not None else None
            if v is None:
                if len(segment) > 1:
                    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
                    parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="{colour}" '
                                 f'stroke-width="2"{dash_attr}/>')
                for point in segment:
                    x, y = point.split(",")
                    parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
                segment = []
                continue
            segment.append(f"{left + i * step:.1f},{top + plot_h - v * plot_h:.1f}")
    every = max(1, len(weeks) // 8)
    for i, w in enumerate(weeks):
        if i % every == 0 or i == len(weeks) - 1:
            parts.append(f'<text x="{left + i * step:.1f}" y="{height - 8}" font-size="11" fill="#57606a" '
                         f'text-anchor="middle">{w.week[5:]}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))
