"""One report for a run of several profiles (`run --profile entra-id --profile okta`): a verdict per IdP.

Each profile runs as its own conformance run and writes its own result document and views; this file ties
them together: a JSON document listing each IdP's verdict and where its full report is, a short HTML page
with the same, and the lines the terminal prints.
"""

from __future__ import annotations

import json
import time
from html import escape
from pathlib import Path
from typing import Any

COMBINED_SCHEMA_VERSION = 1


def entry(profile: str, document_path: Path | None, exit_code: int) -> dict[str, Any]:
    """One profile's line of the combined report, read from its result document (if it wrote one)."""
    if document_path is None:
        return {"profile": profile, "idp": None, "verdict": None, "exit_code": exit_code, "report": None}
    document = json.loads(document_path.read_text(encoding="utf-8"))
    html_path = document_path.with_suffix(".html")
    return {
        "profile": document["run"]["profile"],
        "idp": document["run"].get("idp"),
        "verdict": {k: document["verdict"].get(k) for k in ("ready", "label", "summary", "failing")},
        "exit_code": exit_code,
        "report": document_path.name,
        "html": html_path.name if html_path.exists() else None,
    }


def write(report_dir: Path, entries: list[dict[str, Any]]) -> tuple[Path, Path]:
    """Write `combined-<time>.json` and `.html` beside the profiles' own reports."""
    stem = f"combined-{time.strftime('%Y%m%d-%H%M%S')}"
    document = {"schema_version": COMBINED_SCHEMA_VERSION, "combined": True, "runs": entries}
    json_path = report_dir / f"{stem}.json"
    json_path.write_text(json.dumps(document), encoding="utf-8")
    html_path = report_dir / f"{stem}.html"
    html_path.write_text(_html(entries), encoding="utf-8")
    return json_path, html_path


def lines(entries: list[dict[str, Any]]) -> list[str]:
    """One line per identity provider, for the terminal."""
    out = []
    for run in entries:
        verdict = run["verdict"]
        summary = verdict["summary"] if verdict else f"no result document (exit code {run['exit_code']})"
        out.append(f"{run['idp'] or run['profile']} ({run['profile']}): {summary}")
    return out


def _html(entries: list[dict[str, Any]]) -> str:
    rows = []
    for run in entries:
        verdict = run["verdict"] or {}
        ready = verdict.get("ready")
        state = "yes" if ready is True else "no" if ready is False else "no verdict"
        link = f'<a href="{escape(run["html"])}">full report</a>' if run.get("html") else ""
        failing = ", ".join(verdict.get("failing") or []) or "none"
        rows.append(f"<tr><td>{escape(run['idp'] or '')}</td><td>{escape(run['profile'])}</td>"
                    f"<td class=\"{state.replace(' ', '-')}\">{escape(verdict.get('summary') or state)}</td>"
                    f"<td>{escape(failing)}</td><td>{link}</td></tr>")
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>scim-conformance: one verdict per IdP</title>"
            "<style>body{font-family:sans-serif}td,th{padding:4px 8px;border-bottom:1px solid #ccc;text-align:left}"
            ".yes{color:#060}.no{color:#a00}</style></head><body><h1>One verdict per identity provider</h1>"
            "<table><tr><th>Identity provider</th><th>Profile</th><th>Verdict</th><th>Failing</th><th></th></tr>"
            + "".join(rows) + "</table></body></html>\n")
