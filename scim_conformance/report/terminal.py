"""The terminal view: the lines a run (conformance or load) ends on, built from the result document like the
HTML and JUnit views, and the listing a dry run prints instead of running anything."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scim_conformance.outcomes import Outcome
from scim_conformance.results import BaselineMark

if TYPE_CHECKING:
    import pytest

    from scim_conformance.client import Exchange
    from scim_conformance.options import RunOptions
    from scim_conformance.run import Plan


Style = dict[str, bool]  # the terminal's markup for a line (red, green, yellow, bold)


def lines(document: Mapping[str, Any], path: Path | None) -> list[tuple[str, Style]]:
    """The lines a run ends on, either kind: each requirement it fails with what was found, the deviations by id,
    a load run's measurements, the counts, where the report is, and the verdict."""
    verdict, run = document["verdict"], document["run"]
    if run.get("preflight"):
        return [(f"preflight: {run['preflight']}", {"red": True, "bold": True})]
    out: list[tuple[str, Style]] = []
    deviations, fixed = [], []
    for requirement in document["requirements"]:
        mark = _mark(requirement)
        if requirement["outcome"] == Outcome.FAIL:
            out.append((f"{Outcome.FAIL.label}  {requirement['id']} ({requirement['severity']}){mark} "
                        f"{requirement['text']}", {}))
            found = next((f["actual"] for f in requirement.get("failures", []) if f.get("actual")), "")
            if found:
                out.append((f"      {found}", {}))
        elif requirement["outcome"] == Outcome.DEVIATION:
            deviations.append(requirement["id"] + mark)
        if requirement.get("baseline") == BaselineMark.FIXED:
            fixed.append(requirement["id"])
    if deviations:
        out.append((f"{Outcome.DEVIATION.label}: {', '.join(deviations)}", {}))
    if fixed:
        out.append((f"{BaselineMark.FIXED.label}: {', '.join(fixed)}", {"green": True}))
    load = document.get("load")
    if load:
        summary = load["summary"]
        out.append((f"load: {summary['served_per_second']} requests/s answered, {summary['server_errors']} x 5xx, "
                    f"{summary['timeouts']} timeouts" + (f"; stopped by {load['stopped_by']}"
                                                        if load.get("stopped_by") else ""), {}))
    for severity in ("MUST", "SHOULD"):
        shown = ", ".join(f"{n} {Outcome(o).label}" for o, n in verdict["counts"][severity].items() if n)
        out.append((f"{severity:<6} {shown}", {}))
    out.append((f"report: {path or 'none written'} ({run.get('requests', 0)} requests, target {run.get('target')})",
                {}))
    if run.get("baseline"):
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run["baseline"]["started"]))
        out.append((f"baseline: {run['baseline']['file']} (run of {started}): its failures are not counted", {}))
    out.append((verdict["summary"], {"bold": True, "green": verdict["ready"] is True,
                                     "red": verdict["ready"] is False, "yellow": verdict["ready"] is None}))
    if verdict.get("scope"):
        out.append((verdict["scope"], {}))  # what the verdict stands in for, and what it does not
    return out


def _mark(requirement: Mapping[str, Any]) -> str:
    """` [known failure (baseline)]` or ` [new failure]` after a broken requirement of a run with a baseline."""
    mark = requirement.get("baseline")
    return f" [{BaselineMark(mark).label}]" if mark and mark != BaselineMark.FIXED else ""


def summary(terminalreporter: Any, document: Mapping[str, Any], path: Path | None) -> None:
    """The summary in pytest's terminal, under its own section."""
    terminalreporter.section("scim-conformance")
    for line, style in lines(document, path):
        terminalreporter.write_line(line, **style)


def write(stream: TextIO, document: Mapping[str, Any], path: Path | None) -> None:
    """The same summary as plain lines (a load run has no pytest terminal)."""
    stream.write("".join(f"{line}\n" for line, _style in lines(document, path)))
    stream.flush()


def dry_run(config: pytest.Config, plan: Plan[RunOptions], items: list[pytest.Item],
            requirement_ids: Callable[[pytest.Item], list[str]]) -> None:
    """Say what the run would do, check by check; the caller then runs nothing."""
    write = config.get_terminal_writer().line
    write(f"dry run: profile {plan.profile.name}, target {plan.options.scim_url or 'the bundled reference server'}; "
          "no request is sent")
    for item in items:  # the profile's own checks only: the others were deselected
        ids = [i for i in requirement_ids(item) if i in plan.applicable]
        fixtures = set(getattr(item, "fixturenames", ()))
        creates = [kind for kind in ("users", "groups") if kind in fixtures]
        function = getattr(item, "obj", None)
        doc = ((function.__doc__ if function is not None else None) or "").strip().splitlines()
        state = "creates " + " and ".join(creates) if creates else "reads only"
        write(f"{item.nodeid}  [{', '.join(ids)}]  ({state})")
        if doc:
            write(f"    {doc[0]}")


def finding(requirement: str, severity: str, text: str, expected: str, actual: str, exchange: Exchange | None) -> str:
    """A failed check as the terminal (and the page's log) shows it, in place of pytest's traceback: the
    requirement, what a conforming server does, what this one did, the request, and how to send it again."""
    lines = [f"{requirement} ({severity}): {text}", f"  expected: {expected}", f"  got:      {actual}"]
    if exchange is not None:
        answer = f"{exchange.status} {exchange.reason}".strip() if exchange.status is not None \
            else exchange.error or "no answer"
        lines.append(f"  request:  {exchange.method} {exchange.url} -> {answer}")
        lines.append(f"  replay:   {exchange.curl()}")
    lines.append("  (the whole transcript is in the report; --tb=long shows the check's traceback)")
    return "\n".join(lines)
