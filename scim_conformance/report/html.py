"""The HTML view of a run, as fragments pytest-html places into its page.

Everything here is a pure function of plain data (the result document, one check record, the registry
entries), so the rendering can be tested without running pytest-html. The page opens on the verdict and
the compliance matrix (from the result document); each check row carries its requirement, expected vs
actual, what the identity provider does about it, and the full transcript (from the check record).

What a reader sees only on demand travels once, packed (see `store`): the folded rows' details and
transcripts, and the matrix rows of requirements the profile does not use. Text that would repeat on every
row (an outcome's help, a check link's node id) is looked up by the page's script instead.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from html import escape
from importlib import resources
from typing import Any

from scim_conformance.outcomes import ORDER, Outcome, rank
from scim_conformance.results import BaselineMark

# Matrix and count columns, worst first, in the one order outcomes.py defines.
OUTCOMES = tuple(o.value for o in ORDER)
SEVERITIES = ("MUST", "SHOULD", "MAY")
# A body longer than this is cut in the page (the JSON result file keeps all of it): an HTML error page
# of a proxy must not make the report heavy.
MAX_BODY_CHARS = 12_000
MAX_CHECK_LINKS = 8
STORE_ID = "scim-store"
HELP_ID = "scim-help"
# Matrix rows of this outcome are packed into the store and drawn when the reader asks for them.
PACKED_OUTCOME = "not-applicable"

RequirementLookup = Callable[[str], Mapping[str, Any] | None]


def text(value: object) -> str:
    """Escape for element content (quotes need no escaping there, and leaving them keeps the page small)."""
    return escape(str(value), quote=False)


def attribute(value: object) -> str:
    """Escape for an attribute value."""
    return escape(str(value), quote=True)


_t, _a = text, attribute  # the short spellings this module's markup uses


def asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def label(outcome: str) -> str:
    return Outcome(outcome).label if outcome in OUTCOMES else outcome


def badge(outcome: str, *, explained: bool = False) -> str:
    """An outcome's word; its help shows on hover, from the page's one table of them (`help_table`), or
    from the badge's own title where it is `explained` (the counts table, where a reader meets the words)."""
    title = f' title="{_a(Outcome(outcome).help)}"' if explained and outcome in OUTCOMES else ""
    return f'<span class="scim-badge o-{_a(outcome)}"{title}>{_t(label(outcome))}</span>'


def baseline_mark(requirement: Mapping[str, Any]) -> str:
    """`run --baseline`: known failure, new failure or fixed since the baseline, beside the outcome."""
    mark = requirement.get("baseline")
    if not mark:
        return ""
    return f' <span class="scim-mark m-{_a(mark)}">{_t(BaselineMark(mark).label)}</span>'


def help_table() -> str:
    """Every outcome's help once, for report.js to show over any badge (a title on each badge repeated it)."""
    helps = json.dumps({o.value: o.help for o in ORDER}, ensure_ascii=False, separators=(",", ":"))
    return f'<script type="application/json" id="{HELP_ID}">{_script_safe(helps)}</script>'


def _script_safe(text: str) -> str:
    """JSON for a script element, which ends at the first "</": JSON may spell "<" as \\u003c instead."""
    return text.replace("<", "\\u003c")


def source_link(source: Mapping[str, Any]) -> str:
    """`RFC 7644 §3.4.2` for the RFCs; the section name (document title on hover) for everything else."""
    title = str(source.get("title", ""))
    section = str(source.get("section", ""))
    label = section or title
    if title.startswith("RFC "):
        label = title.split(" (")[0] + (f" §{section}" if section else "")
    url = source.get("url")
    if not url:
        return f'<span title="{_a(title)}">{_t(label)}</span>'
    return f'<a href="{_a(url)}" title="{_a(title)}" target="_blank" rel="noopener">{_t(label)}</a>'


def row_anchor(nodeid: str) -> str:
    """pytest-html gives each result row's <tbody> the check's node id as its HTML id."""
    return "#" + nodeid


def short_name(nodeid: str) -> str:
    return nodeid.split("::")[-1]


# --- the summary: verdict, counts, what fails, the matrix ----------------------------------------------------
def summary(document: Mapping[str, Any] | None, *, stopped: str = "",
            redact: Callable[[str], str] | None = None,
            folded: Iterable[Mapping[str, Any]] | None = None) -> str:
    """The top of the page: the verdict sentence first, then the counts, what fails, and the matrix.

    `folded`: the records of checks whose result rows leave their detail to the page's script (pytest-html's
    page, see `folds`); None where the caller draws every check itself. `redact` is applied to what the page
    cannot search afterwards (the packed store); the caller redacts the rest as it does every fragment."""
    style = f"<style>{asset('report.css')}</style>"
    script = help_table() + f"<script>{asset('report.js')}</script>"
    packed = store(document, folded, redact)
    if document is None:
        text = stopped or "the run stopped before any requirement was judged"
        return (f'{style}<section id="scim-verdict" class="scim-verdict v-none">'
                f'<p class="scim-verdict-line">No verdict: {_t(text)}</p></section>{packed}{script}')
    return (style + verdict_block(document) + matrix(document) + mappings(document) + declared(document) + packed
            + script)


def mappings(document: Mapping[str, Any]) -> str:
    """The profile's user mappings (target <- expression -> value sent), beside the checks they drove."""
    rows = document.get("run", {}).get("mappings") or []
    if not rows:
        return ""
    driven = [r for r in document.get("requirements", [])
              if r.get("capability") == "mappings" and r.get("outcome") != "not-applicable"]
    verdicts = " ".join(f"{badge(r['outcome'])} {_t(r['id'])}" for r in driven)
    body = "".join(_mapping_row(r) for r in rows)
    scope = "".join(f'<p class="scim-note">Scoping filter for {_t(kind)} (Entra provisions only who matches; '
                    f"the suite's generated people are not filtered): <code>{_t(json.dumps(value))}</code></p>"
                    for kind, value in (document.get("run", {}).get("scope") or {}).items())
    return (f'<details id="scim-mappings" class="scim-mappings"><summary>Attribute mappings: {len(rows)} '
            f"(target ← expression → value sent for an example person){' · ' + verdicts if verdicts else ''}"
            f"</summary>{scope}<table><thead><tr><th>target</th><th>expression</th><th>flow</th>"
            f"<th>value sent</th></tr></thead><tbody>{body}</tbody></table></details>")


def declared(document: Mapping[str, Any]) -> str:
    """What the server declares in /Schemas and /ResourceTypes, the attributes the run's premises were shaped by."""
    found = document.get("run", {}).get("declared")
    if not found:
        return ""
    if not found.get("known"):
        return (f'<p id="scim-declared" class="scim-note">What the server declares: nothing usable '
                f"({_t(found.get('reason') or 'no /Schemas')}); every attribute was counted as declared and the "
                "run's requests were shaped as without discovery.</p>")
    kinds = found.get("resource_types") or []
    counts = ", ".join(f"{_t(k['endpoint'])} {sum('.' not in a['path'].rsplit(':', 1)[-1] for a in k['attributes'])}"
                       for k in kinds)
    note = f'<p class="scim-note">{_t(found["reason"])}</p>' if found.get("reason") else ""
    tables = "".join(
        f"<p><b>{_t(k['name'])}</b> ({_t(k['endpoint'])}): <code>{_t(k['schema'])}</code>"
        + "".join(f" + <code>{_t(e['schema'])}</code>{' (required)' if e['required'] else ''}" for e in k["extensions"])
        + "</p><table><thead><tr><th>attribute</th><th>declared as</th><th>sub-attributes</th></tr></thead><tbody>"
        + "".join(_declared_row(k["attributes"], row) for row in k["attributes"]
                  if "." not in row["path"].rsplit(":", 1)[-1])
        + "</tbody></table>" for k in kinds)
    return (f'<details id="scim-declared" class="scim-mappings"><summary>What the server declares (/Schemas, '
            f"/ResourceTypes), top-level attributes: {counts or 'no resource types'}</summary>{note}{tables}</details>")


def _declared_row(rows: list[Mapping[str, Any]], row: Mapping[str, Any]) -> str:
    """One attribute and its sub-attributes; only what differs from RFC 7643's defaults is written out."""
    subs = [r for r in rows if r["path"].startswith(row["path"] + ".")]
    listed = ", ".join(_t(r["path"].rsplit(".", 1)[-1]) + (f" ({_declared_flags(r)})" if _declared_flags(r) else "")
                       for r in subs)
    return (f"<tr><td><code>{_t(row['path'])}</code></td><td>{_declared_flags(row) or _t(row.get('type', ''))}</td>"
            f"<td>{listed}</td></tr>")


def _declared_flags(row: Mapping[str, Any]) -> str:
    flags = ["multi-valued" if row.get("multiValued") else "", "required" if row.get("required") else "",
             "caseExact" if row.get("caseExact") else "",
             row.get("mutability", "") if row.get("mutability") not in (None, "readWrite") else "",
             f"returned {row['returned']}" if row.get("returned") not in (None, "default") else ""]
    return ", ".join(_t(f) for f in flags if f)


def _mapping_row(row: Mapping[str, Any]) -> str:
    default = f" (default {_t(json.dumps(row['default']))})" if "default" in row else ""
    flow = _t(row["flow"]) + (f", matching {row['matching']}" if row.get("matching") else "")
    sent = _t(row["note"]) if row.get("note") else f"<code>{_t(json.dumps(row.get('sent')))}</code>"
    return (f"<tr><td><code>{_t(row['target'])}</code></td><td><code>{_t(row.get('source') or '')}</code>{default}"
            f"</td><td>{flow}</td><td>{sent}</td></tr>")


def verdict_block(document: Mapping[str, Any]) -> str:
    verdict = document["verdict"]
    ready = verdict.get("ready")
    tone = "v-yes" if ready is True else "v-no" if ready is False else "v-none"
    run = document.get("run", {})
    checks = document.get("checks", [])
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run["started"])) if run.get("started") else ""
    facts = [
        f"profile <b>{_t(run.get('profile', '?'))}</b>" + (f" ({_t(run['idp'])})" if run.get("idp") else ""),
        f"target <code>{_t(run.get('target', '?'))}</code>",
        f"{len(checks)} checks, {run.get('requests', 0)} requests, {run.get('elapsed_s', 0):.1f} s",
    ]
    if when:
        facts.append(when)
    if run.get("strict"):
        facts.append("strict: SHOULD requirements count as failures")
    if run.get("read_only"):
        facts.append("read-only: checks that create data were not run")
    if run.get("baseline"):
        base = run["baseline"]
        facts.append(f"baseline <code>{_t(base['file'])}</code> of "
                     f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(base['started']))}: its failures are known "
                     "failures, not counted")
    notes = []
    if run.get("embedded_server"):
        defects = run.get("reference_defects") or []
        notes.append("Target is the bundled reference server"
                     + (f" with defects switched on on purpose: {_t(', '.join(defects))}." if defects else "."))
    for finding in run.get("transport_findings") or []:
        notes.append(f"Transport: {_t(finding)}")
    if run.get("cleanup_failures"):
        notes.append(f"{len(run['cleanup_failures'])} resource(s) created by this run could not be removed; "
                     f"see the journal {_t(run.get('journal', ''))}.")
    if run.get("preflight"):
        notes.append(f"Stopped at preflight: {_t(run['preflight'])}")
    parts = [
        f'<section id="scim-verdict" class="scim-verdict {tone}">',
        f'<p class="scim-verdict-line">{_t(verdict["summary"])}</p>',
        *([f'<p class="scim-scope">{_t(verdict["scope"])}</p>'] if verdict.get("scope") else []),
        f'<p class="scim-facts">{" · ".join(facts)}</p>',
        *(f'<p class="scim-note">{note}</p>' for note in notes),
        counts_table(verdict.get("counts", {})),
        problems(document),
        "</section>",
    ]
    return "".join(parts)


def counts_table(counts: Mapping[str, Mapping[str, int]]) -> str:
    """Requirements by severity (rows) and outcome (columns); empty columns and rows are left out."""
    columns = [o for o in OUTCOMES if any(counts.get(s, {}).get(o, 0) for s in SEVERITIES)]
    rows = [s for s in SEVERITIES if any(counts.get(s, {}).values())]
    if not rows:
        return ""
    head = "".join(f"<th>{badge(o, explained=True)}</th>" for o in columns)
    body = []
    for severity in rows:
        cells = "".join(
            f'<td class="{"zero" if not counts[severity].get(o, 0) else ""}">{counts[severity].get(o, 0)}</td>'
            for o in columns)
        body.append(f"<tr><th>{severity}</th>{cells}<td>{sum(counts[severity].values())}</td></tr>")
    return (f'<table class="scim-counts"><caption>Requirements by severity and outcome</caption>'
            f"<thead><tr><th></th>{head}<th>total</th></tr></thead><tbody>{''.join(body)}</tbody></table>")


def problems(document: Mapping[str, Any]) -> str:
    """The requirements a reader must act on, worst first, each linked to its matrix row."""
    wanted = ("fail", "error", "deviation", "blocked")
    rows = [r for r in document.get("requirements", []) if r["outcome"] in wanted]
    if not rows:
        return fixed_since_baseline(document)
    rows.sort(key=lambda r: (wanted.index(r["outcome"]), SEVERITIES.index(r["severity"])
                             if r["severity"] in SEVERITIES else 9))
    items = []
    for requirement in rows:
        practice = requirement.get("in_practice") or ""
        items.append(
            f'<li>{badge(requirement["outcome"])}{baseline_mark(requirement)} '
            f'<a href="#req-{_a(requirement["id"])}">{_t(requirement["id"])}</a>'
            f' <span class="scim-sev">{_t(requirement["severity"])}</span> {_t(requirement["text"])}'
            + (f'<br><span class="scim-practice">In practice: {_t(practice)}</span>' if practice
               and requirement["outcome"] in ("fail", "deviation") else "")
            + "</li>")
    return f'<h3>Needs attention</h3><ul class="scim-problems">{"".join(items)}</ul>' + fixed_since_baseline(document)


def fixed_since_baseline(document: Mapping[str, Any]) -> str:
    fixed = [r for r in document.get("requirements", []) if r.get("baseline") == BaselineMark.FIXED]
    if not fixed:
        return ""
    links = ", ".join(f'<a href="#req-{_a(r["id"])}">{_t(r["id"])}</a>' for r in fixed)
    return f'<p class="scim-note">{_t(BaselineMark.FIXED.label.capitalize())}: {links}</p>'


def capability_groups(document: Mapping[str, Any]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """The requirements by capability, in the registry's order (capabilities it does not name last)."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for requirement in document.get("requirements", []):
        groups.setdefault(requirement["capability"], []).append(requirement)
    order = [c for c in document.get("capabilities", {}) if c in groups] + \
        [c for c in groups if c not in document.get("capabilities", {})]
    return [(capability, groups[capability]) for capability in order]


def matrix(document: Mapping[str, Any]) -> str:
    """Every requirement once, grouped by capability in the registry's order, each row linking to its checks.

    The rows of the profile's requirements that are moot for this server (not applicable) are one line per
    capability that names them; the rows themselves travel in the store (`packed_rows`) and are drawn when that
    line is opened. Other profiles' requirements are not in the document at all."""
    check_outcome = {c["nodeid"]: c["outcome"] for c in document.get("checks", [])}
    body = []
    for capability, rows in capability_groups(document):
        title = rows[0].get("capability_title") or document.get("capabilities", {}).get(capability, capability)
        tally: dict[str, int] = {}
        for row in rows:
            tally[row["outcome"]] = tally.get(row["outcome"], 0) + 1
        shown = " · ".join(f"{n} {label(o)}" for o, n in sorted(tally.items(), key=lambda kv: rank(kv[0])))
        worst = min(tally, key=rank)
        body.append(f'<tbody class="scim-cap"><tr class="scim-cap-row o-{_a(worst)}">'
                    f'<th colspan="6">{_t(title)} <span class="scim-tally">{_t(shown)}</span></th></tr>')
        body.extend(matrix_row(row, check_outcome) for row in rows if row["outcome"] != PACKED_OUTCOME)
        packed = [row["id"] for row in rows if row["outcome"] == PACKED_OUTCOME]
        if packed:
            body.append(f'<tr class="scim-packed" data-capability="{_a(capability)}"><td colspan="6">'
                        f'<button type="button">show {len(packed)} {_t(label(PACKED_OUTCOME))}</button> '
                        f'{_t(", ".join(packed))}</td></tr>')
        body.append("</tbody>")
    return (
        '<section id="scim-matrix"><h2>Compliance matrix</h2>'
        '<p class="scim-hint">Each requirement once, grouped by capability (those not applicable to this '
        "server listed by id: <i>show</i> draws their rows). A check name opens that check below, with its full "
        'request/response transcript. '
        '<label><input type="checkbox" id="scim-only-problems"> show only requirements that need attention'
        "</label></p>"
        '<table class="scim-matrix"><thead><tr><th>Requirement</th><th>Severity</th><th>Outcome</th>'
        "<th>What a conforming server does</th><th>Source</th><th>Checks</th></tr></thead>"
        f'{"".join(body)}</table></section>'
    )


def packed_rows(document: Mapping[str, Any]) -> dict[str, str]:
    """The matrix rows `matrix` leaves out, as HTML by capability, for the store."""
    check_outcome = {c["nodeid"]: c["outcome"] for c in document.get("checks", [])}
    packed = {capability: "".join(matrix_row(row, check_outcome) for row in rows
                                  if row["outcome"] == PACKED_OUTCOME)
              for capability, rows in capability_groups(document)}
    return {capability: rows for capability, rows in packed.items() if rows}


def matrix_row(requirement: Mapping[str, Any], check_outcome: Mapping[str, str]) -> str:
    outcome = requirement["outcome"]
    reasons: list[str] = []  # several checks often find the same thing; say it once
    for failure in requirement.get("failures", []):
        if failure.get("expected") or failure.get("actual"):
            reason = f'expected {_clip(failure.get("expected", ""), 160)}; got {_clip(failure.get("actual", ""), 200)}'
        else:
            reason = _clip(failure.get("message", ""), 300)
        if reason and reason not in reasons:
            reasons.append(reason)
    detail = "".join(f'<div class="scim-why">{_t(r)}</div>' for r in reasons[:2])
    checks = requirement.get("checks", [])
    # The node id is in the href alone: report.js reads it from there and shows it on hover.
    links = "".join(
        f'<a class="scim-check-link c-{_a(check_outcome.get(c, "pass"))}" href="{_a(row_anchor(c))}">'
        f"{_t(short_name(c))}</a>"
        for c in checks[:MAX_CHECK_LINKS])
    if len(checks) > MAX_CHECK_LINKS:
        links += f'<span class="scim-more">and {len(checks) - MAX_CHECK_LINKS} more</span>'
    if not checks:
        links = '<span class="scim-more">judged on every response</span>' \
            if requirement.get("cross_cutting") and outcome == "pass" else "—"
    return (
        f'<tr id="req-{_a(requirement["id"])}" class="o-{_a(outcome)}">'
        f'<td>{_t(requirement["id"])}</td>'
        f'<td>{_t(requirement["severity"])}</td><td>{badge(outcome)}{baseline_mark(requirement)}</td>'
        f'<td class="scim-text">{_t(requirement["text"])}{detail}</td>'
        f'<td class="scim-src">{source_link(requirement.get("source", {}))}</td>'
        f'<td class="scim-checks">{links}</td></tr>'
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- one check: what it found, then its transcript ------------------------------------------------------------
def check_detail(record: Mapping[str, Any], requirement: RequirementLookup) -> str:
    """The body of a check's row: requirement → expected → actual → in practice, then the transcript.

    A failing, erroring or blocked check shows its whole transcript (headers, indented bodies, curl), open;
    a passing one folds it into a closed <details> drawn on demand (on pytest-html's page its whole detail
    travels in the store and is drawn when its row is opened, see `folds`).
    """
    outcome = str(record.get("outcome", "pass"))  # results.py already made a SHOULD-only failure a deviation
    troubled = not folds(record)
    parts = [f'<div class="scim-check o-{_a(outcome)}">',
             f'<p class="scim-stimulus">{badge(outcome)} {_t(record.get("stimulus", ""))}</p>']
    failed = list(record.get("failed_requirements") or [])
    for rid in failed:
        parts.append(_failed_requirement(rid, record, requirement(rid), several=len(failed) > 1))
    if outcome == "error":
        parts.append('<p class="scim-error">The harness or the network broke here; this says nothing about '
                     f'the server. {_t(record.get("message", ""))}</p>')
    elif outcome in ("blocked", "not-applicable", "disabled") and record.get("message"):
        parts.append(f'<p class="scim-reason">{_t(record["message"])}</p>')
    verified = [r for r in record.get("requirements", []) if r not in failed]
    if verified:
        parts.append('<p class="scim-verified">' + ("Also verifies" if failed else "Verifies") + ": "
                     + ", ".join(_requirement_ref(r, requirement(r)) for r in verified) + "</p>")
    for problem in record.get("cleanup_failures") or []:
        parts.append(f'<p class="scim-note">Cleanup: {_t(problem)}</p>')
    parts.append(transcript(record.get("transcript") or [], full=troubled, nodeid=record.get("nodeid", "")))
    parts.append("</div>")
    return "".join(parts)


def _requirement_ref(rid: str, entry: Mapping[str, Any] | None) -> str:
    title = f' title="{_a(entry["text"])}"' if entry else ""
    return f'<a href="#req-{_a(rid)}"{title}>{_t(rid)}</a>'


def _failed_requirement(rid: str, record: Mapping[str, Any], entry: Mapping[str, Any] | None, *,
                        several: bool) -> str:
    head = f'<a href="#req-{_a(rid)}">{_t(rid)}</a>'
    if entry:
        head += f' <span class="scim-sev">{_t(entry["severity"])}</span> {source_link(entry.get("source", {}))}'
    rows = []
    if entry:
        rows.append(("Requirement", _t(entry["text"])))
    # With several failed requirements (a schema sweep) the one message names each of them.
    if record.get("expected") and not several:
        rows.append(("Expected", _t(record["expected"])))
        rows.append(("Actual", f'<code>{_t(_clip(record.get("actual", ""), 2000))}</code>'))
    elif record.get("message"):
        rows.append(("Found", f'<code>{_t(_clip(record["message"], 2000))}</code>'))
    if entry and entry.get("in_practice"):
        rows.append(("In practice", _t(entry["in_practice"])))
    cells = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<div class="scim-failure"><p class="scim-failure-head">{head}</p><dl>{cells}</dl></div>'


def transcript(exchanges: Iterable[Mapping[str, Any]], *, full: bool, nodeid: str = "") -> str:
    """The exchanges of one check: drawn here in full, or left for the page's script to draw from the store."""
    exchanges = list(exchanges)
    if not exchanges:
        return '<p class="scim-hint">No requests were sent.</p>'
    label = f"Transcript: {len(exchanges)} request{'s' if len(exchanges) != 1 else ''}"
    if not full:
        # A passing check's exchanges travel once, as compact JSON (see `store`), and are drawn when its row
        # is opened: the same data as HTML inside pytest-html's escaped data blob would be ~3x larger.
        return (f'<details class="scim-transcript"><summary>{label} (headers and curl lines are in the JSON '
                f'result file)</summary><div class="scim-lazy" data-check="{_a(nodeid)}"></div></details>')
    items = "".join(exchange(x, n) for n, x in enumerate(exchanges, 1))
    return f'<details class="scim-transcript" open><summary>{label}</summary>{items}</details>'


def exchange(x: Mapping[str, Any], n: int) -> str:
    request = x.get("request") or {}
    response = x.get("response")
    if response is not None:
        status = int(response.get("status", 0))
        result = f'<span class="scim-status s{status // 100}">{status} {_t(response.get("reason", ""))}</span>'
    else:
        result = f'<span class="scim-status s0">no answer: {_t(x.get("error") or "")}</span>'
    timing = f'<span class="scim-ms">{x.get("elapsed_ms", 0)} ms'
    timing += f", {x['retries']} retried after 429" if x.get("retries") else ""
    timing += "</span>"
    line = (f'<div class="scim-x-line"><span class="scim-n">{n}</span> <b>{_t(request.get("method", ""))}</b> '
            f'<span class="scim-url">{_t(request.get("url", ""))}</span> → {result} {timing}</div>')
    blocks = []
    sent = _message(request.get("headers"), request.get("body"))
    if sent:
        blocks.append(f'<pre class="scim-req">{sent}</pre>')
    if response is not None:
        got = _message(response.get("headers"), response.get("body"))
        if got:
            blocks.append(f'<pre class="scim-res">{got}</pre>')
    if x.get("curl"):
        blocks.append(f'<pre class="scim-curl">{_t(x["curl"])}</pre>')
    return f'<div class="scim-x">{line}{"".join(blocks)}</div>'


def folds(record: Mapping[str, Any]) -> bool:
    """A check whose row pytest-html folds or a reader passes over (passing, not applicable, disabled): its
    transcript is drawn on demand, and on pytest-html's page its whole detail is drawn from the store.

    In pytest-html's data its detail would be HTML escaped into JSON escaped into an attribute (each quote
    six bytes); packed once with the rest it costs a tenth of that."""
    return record.get("outcome", "pass") in ("pass", "not-applicable", "disabled")


def store(document: Mapping[str, Any] | None, folded: Iterable[Mapping[str, Any]] | None = None,
          redact: Callable[[str], str] | None = None) -> str:
    """What the page draws only on demand, once, for report.js: one JSON object, gzipped, base64-encoded.

    - "transcripts": the exchanges of every folded check (passing, not applicable, disabled), compact;
    - "checks": the detail of each check in `folded` (see `folds`), as check_detail renders it;
    - "requirements": the matrix rows `matrix` leaves out, by capability (`packed_rows`).
    It repeats itself (the same attributes, URLs, schema URNs and markup everywhere), so it packs about
    tenfold; the browser unpacks it with its own DecompressionStream. Since nothing in the page can be
    searched for a secret once packed, the JSON is passed through `redact` first; `unpack_store` reads it back.
    """
    checks = [c for c in (folded if folded is not None else (document or {}).get("checks", [])) if folds(c)]
    requirements = {r["id"]: r for r in (document or {}).get("requirements", [])}
    content = {
        "transcripts": {c["nodeid"]: [_compact_exchange(x) for x in c["transcript"]]
                        for c in checks if c.get("transcript")},
        "checks": {c["nodeid"]: check_detail(c, requirements.get) for c in checks} if folded is not None else {},
        "requirements": packed_rows(document) if document else {},
    }
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    if redact is not None:
        text = redact(text)
    # mtime=0: the same run gives the same bytes. Level 6 packs within 3% of level 9 in half the time.
    # Base64 has no "<", so nothing can end the element early.
    packed = base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)).decode("ascii")
    return f'<script type="application/gzip" data-encoding="base64" id="{STORE_ID}">{packed}</script>'


def _compact_exchange(x: Mapping[str, Any]) -> dict[str, Any]:
    request, response = x.get("request") or {}, x.get("response")
    return {
        "m": request.get("method"), "u": request.get("url"), "ms": x.get("elapsed_ms"),
        "s": response.get("status") if response else None,
        "r": response.get("reason", "") if response else x.get("error") or "",
        "q": _compact_body(request.get("body")),
        "a": _compact_body(response.get("body")) if response else None,
    }


def unpack_store(page: str) -> dict[str, dict[str, Any]]:
    """What a page keeps packed, as `store` packed it ({} if it has no store)."""
    found = re.search(rf'<script [^>]*id="{STORE_ID}">([^<]*)</script>', page)
    if not found:
        return {}
    content: dict[str, dict[str, Any]] = json.loads(gzip.decompress(base64.b64decode(found.group(1))))
    return content


def _compact_body(body: str | None) -> str | None:
    """A body as sent; the script indents it when it parses as JSON. Only a long one is parsed here, to cut
    it if it is not JSON (a proxy's HTML page): parsing every body took a third of the page's build time."""
    if not body or len(body) <= MAX_BODY_CHARS:
        return body or None
    try:
        json.loads(body)
        return body
    except ValueError:
        return body[:MAX_BODY_CHARS] + "\n… (cut; see the JSON file)"


def _message(headers: Mapping[str, str] | None, body: str | None) -> str:
    text = ""
    if headers:
        text += "\n".join(f"{k}: {v}" for k, v in headers.items())
    if body:
        text += ("\n\n" if text else "") + pretty(body)
    return _t(text)


def pretty(body: str) -> str:
    """A JSON body indented for reading; anything else as sent. Long bodies are cut."""
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body
    if len(text) > MAX_BODY_CHARS:
        text = text[:MAX_BODY_CHARS] + f"\n… {len(text) - MAX_BODY_CHARS} more characters in the JSON result file"
    return text
