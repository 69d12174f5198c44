"""A load run's page: the verdict and matrix of its requirements (the run report's own fragments, html.py), the
measurements as tables and inline SVG plots (no script or library needed), then each check.

The plots: answers per second stacked by status class, latency over time (p50 and p95 of the requests answered
in each second), and the latency distribution per request kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scim_conformance.load.measurements import HISTOGRAM_BOUNDS
from scim_conformance.load.result import CAPABILITY, GALLERY_RATE
from scim_conformance.report import html

# --- the page -----------------------------------------------------------------------------------------------------
STATUS_COLOURS = {"2xx": "#2e7d32", "3xx": "#5c6bc0", "4xx": "#ef6c00", "429": "#8e24aa", "5xx": "#c62828",
                  "error": "#212121"}


def page(document: Mapping[str, Any]) -> str:
    """A standalone page: the verdict and matrix of the load requirements, the measurements, then each check."""
    judged = [r for r in document["requirements"] if r["capability"] == CAPABILITY]
    # The functional requirements are not judged by a load run: the page counts and lists only its own.
    counts = {s: {o: 0 for o in html.OUTCOMES} for s in html.SEVERITIES}
    for requirement in judged:
        counts[requirement["severity"]][requirement["outcome"]] += 1
    view = {**document, "requirements": judged, "verdict": {**document["verdict"], "counts": counts}}
    registry_entries = {r["id"]: r for r in document["requirements"]}
    load = document.get("load", {})
    measured = '<p class="scim-hint">Judged on every request of the run: see "Under load" above.</p>'
    checks = "".join(
        f'<div class="scim-load-check" id="{html.attribute(c["nodeid"])}">'
        + html.check_detail(c, registry_entries.get).replace(
            '<p class="scim-hint">No requests were sent.</p>', measured) + "</div>"
        for c in document.get("checks", []))
    title = f"SCIM load: {document['run'].get('profile', '')}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.text(title)}</title><style>{LOAD_CSS}</style></head><body>"
        f"<h1>{html.text(title)}</h1>"
        + html.summary(view)
        + measurements_section(load)
        + f'<section id="scim-load-checks"><h2>Checks</h2>{checks}</section></body></html>'
    )


def measurements_section(load: Mapping[str, Any]) -> str:
    summary = load.get("summary") or {}
    settings = load.get("settings") or {}
    facts = [f"{summary.get('requests', 0)} requests",
             f"{summary.get('served_per_second', 0)} answered requests/s over the cycle "
             f"({summary.get('cycle_seconds', 0)} s)",
             f"{summary.get('server_errors', 0)} x 5xx", f"{summary.get('timeouts', 0)} timeouts"]
    throttling = summary.get("throttling") or {}
    facts.append(f"429: {throttling.get('with_retry_after', 0)} with Retry-After, "
                 f"{throttling.get('without_retry_after', 0)} without; after waiting as told "
                 f"{throttling.get('waits_sufficed', 0)} got through, "
                 f"{throttling.get('waits_refused', 0)} refused again")
    shown = ", ".join(f"{k} {v if v or k != 'rate' else 'unpaced'}" for k, v in settings.items()
                      if v not in (None, "") and not (k == "locust_workers" and not v))
    if load.get("stopped_by"):
        facts.append(f"stopped by {load['stopped_by']}")
    notes = "".join(f'<p class="scim-note">{html.text(n)}</p>' for n in load.get("job_errors") or [])
    return (
        '<section id="scim-load"><h2>Under load</h2>'
        f'<p class="scim-facts">{" · ".join(html.text(f) for f in facts)}</p>'
        f'<p class="scim-hint">Settings: {html.text(shown)}; '
        f'phases: {html.text(", ".join(load.get("phases") or []))}</p>'
        f"{notes}<h3>Requests per second</h3>{throughput_plot(summary.get('timeline') or [])}"
        f"<h3>Latency over time</h3>{latency_timeline_plot(summary.get('latency_timeline') or [])}"
        f"<h3>Latency by request kind</h3>{latency_plot(summary.get('kinds') or {})}"
        f"{kinds_table(summary.get('kinds') or {})}</section>"
    )


# The time plots share one frame: seconds along, a value up, a grid at round values.
LEFT, RIGHT, BOTTOM, TOP = 44, 10, 26, 10
LATENCY_COLOURS = {"p50_ms": "#1565c0", "p95_ms": "#ef6c00"}


def _time_frame(plot_id: str, label: str, peak: float, seconds: int, width: int,
                height: int) -> tuple[list[str], float, float]:
    """The opening of a plot over the run's seconds, its grid and its time axis; (parts, y scale, x step)."""
    scale = (height - BOTTOM - TOP) / peak
    step = (width - LEFT - RIGHT) / seconds
    parts = [f'<svg class="scim-plot" id="{plot_id}" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="{html.attribute(label)}">']
    for tick in _ticks(peak):
        y = height - BOTTOM - tick * scale
        parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    every = max(1, seconds // 10)
    for second in range(0, seconds, every):
        parts.append(f'<text x="{LEFT + (second + 0.5) * step:.1f}" y="{height - 8}" text-anchor="middle">'
                     f"{second}s</text>")
    return parts, scale, step


def throughput_plot(timeline: list[Mapping[str, int]], width: int = 760, height: int = 220) -> str:
    """Answers per second, stacked by status class, with the gallery's 25 requests/s as a dashed line."""
    if not timeline:
        return '<p class="scim-hint">No requests were answered.</p>'
    peak = max(max((sum(s.values()) for s in timeline), default=0), GALLERY_RATE * 1.2)
    parts, scale, step = _time_frame("scim-throughput", "requests per second over time", peak, len(timeline),
                                     width, height)
    for second, counts in enumerate(timeline):
        y = float(height - BOTTOM)
        for label, colour in STATUS_COLOURS.items():
            n = counts.get(label, 0)
            if not n:
                continue
            h = n * scale
            y -= h
            parts.append(f'<rect x="{LEFT + second * step + 0.5:.1f}" y="{y:.1f}" width="{max(step - 1, 0.5):.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>second {second}: {n} x {label}</title></rect>')
    line = height - BOTTOM - GALLERY_RATE * scale
    parts.append(f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{line:.1f}" y2="{line:.1f}" class="goal"/>'
                 f'<text x="{width - 12}" y="{line - 4:.1f}" text-anchor="end" class="goal-label">'
                 f"{GALLERY_RATE:.0f} req/s (gallery)</text>")
    legend = " ".join(f'<span class="key" style="background:{c}"></span>{label}' for label, c in STATUS_COLOURS.items()
                      if any(s.get(label) for s in timeline))
    return "".join(parts) + f'</svg><p class="scim-legend">{legend}</p>'


def latency_timeline_plot(timeline: list[Mapping[str, float]], width: int = 760, height: int = 220) -> str:
    """The median and 95th percentile latency of the requests answered in each second: where the server slowed
    down under the load, beside the requests per second it answered then."""
    if not any(s.get("answered") for s in timeline):
        return '<p class="scim-hint">No requests were answered.</p>'
    peak = max(max(s.get("p95_ms", 0) for s in timeline) * 1.1, 1.0)
    parts, scale, step = _time_frame("scim-latency-timeline", "median and 95th percentile latency over time", peak,
                                     len(timeline), width, height)
    for key, colour in LATENCY_COLOURS.items():
        points = [(LEFT + (second + 0.5) * step, height - BOTTOM - s[key] * scale, second, s[key])
                  for second, s in enumerate(timeline) if s.get("answered")]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _second, _ms in points)
        parts.append(f'<polyline class="scim-line" points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"><title>second {second}: '
                     f"{key.removesuffix('_ms')} {value:g} ms</title></circle>" for x, y, second, value in points)
    legend = " ".join(f'<span class="key" style="background:{c}"></span>{key.removesuffix("_ms")} (ms)'
                      for key, c in LATENCY_COLOURS.items())
    return "".join(parts) + f'</svg><p class="scim-legend">{legend}</p>'


def latency_plot(kinds: Mapping[str, Mapping[str, Any]], width: int = 760) -> str:
    """Per request kind, the share of its requests in each latency bucket (log scale), with p50/p95/p99."""
    if not kinds:
        return ""
    left, right, row = 130, 250, 26
    buckets = len(HISTOGRAM_BOUNDS) + 1
    cell = (width - left - right) / buckets
    height = row * len(kinds) + 28
    parts = [f'<svg class="scim-plot" id="scim-latency" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="latency distribution per request kind">']
    for i, (kind, stats) in enumerate(kinds.items()):
        y = i * row + 4
        counts = stats.get("histogram") or [0] * buckets
        total = max(sum(counts), 1)
        parts.append(f'<text x="{left - 6}" y="{y + row / 2 + 4:.1f}" text-anchor="end">{html.text(kind)}</text>')
        for b, n in enumerate(counts):
            if not n:
                continue
            h = max(1.5, (row - 6) * n / total)
            parts.append(f'<rect x="{left + b * cell + 1:.1f}" y="{y + row - 4 - h:.1f}" width="{cell - 2:.1f}" '
                         f'height="{h:.1f}" fill="#1565c0"><title>{html.text(kind)}: {n} requests '
                         f"{_bucket_label(b)}</title></rect>")
        parts.append(f'<text x="{width - right + 8}" y="{y + row / 2 + 4:.1f}">p50 {stats.get("p50_ms", 0):g} · '
                     f'p95 {stats.get("p95_ms", 0):g} · p99 {stats.get("p99_ms", 0):g} ms</text>')
    axis = len(kinds) * row + 18
    for b in range(buckets):
        label = f"≤{_ms(HISTOGRAM_BOUNDS[b])}" if b < len(HISTOGRAM_BOUNDS) else f">{_ms(HISTOGRAM_BOUNDS[-1])}"
        parts.append(f'<text x="{left + (b + 0.5) * cell:.1f}" y="{axis}" text-anchor="middle">{label}</text>')
    return "".join(parts) + "</svg>"


def kinds_table(kinds: Mapping[str, Mapping[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{html.text(kind)}</td><td>{s['requests']}</td><td>{s['p50_ms']:g}</td><td>{s['p95_ms']:g}</td>"
        f"<td>{s['p99_ms']:g}</td><td>{s['max_ms']:g}</td>"
        f"<td>{html.text(', '.join(f'{k}: {v}' for k, v in s['statuses'].items()))}</td></tr>"
        for kind, s in kinds.items())
    return ('<table class="scim-counts scim-kinds"><thead><tr><th>request kind</th><th>requests</th><th>p50 ms</th>'
            f"<th>p95 ms</th><th>p99 ms</th><th>max ms</th><th>statuses</th></tr></thead><tbody>{rows}</tbody></table>")


def _ticks(peak: float) -> list[float]:
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 1e9)
                if peak / s <= 6)
    return [step * i for i in range(int(peak // step) + 1)]


def _ms(value: float) -> str:
    return f"{value / 1000:g}s" if value >= 1000 else f"{value:g}ms"


def _bucket_label(index: int) -> str:
    if index >= len(HISTOGRAM_BOUNDS):
        return f"over {_ms(HISTOGRAM_BOUNDS[-1])}"
    low = HISTOGRAM_BOUNDS[index - 1] if index else 0
    return f"between {_ms(low)} and {_ms(HISTOGRAM_BOUNDS[index])}"


LOAD_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1100px;padding:0 1em;color:#1b1b1b}
.scim-plot{display:block;max-width:100%;height:auto;font:11px system-ui,sans-serif;background:#fafafa;
  border:1px solid #ddd;margin:.4em 0}
.scim-plot .grid{stroke:#e0e0e0}.scim-plot .goal{stroke:#c62828;stroke-dasharray:5 4;stroke-width:1.5}
.scim-plot .goal-label{fill:#c62828;paint-order:stroke;stroke:#fafafa;stroke-width:4px}
.scim-legend .key{display:inline-block;width:.9em;height:.9em;margin:0 .3em 0 .8em;vertical-align:-.1em}
.scim-load-check{border-top:1px solid #e0e0e0;padding:.4em 0}
.scim-kinds td,.scim-kinds th{text-align:right;padding:.15em .6em}
.scim-kinds td:first-child,.scim-kinds td:last-child{text-align:left}
"""
