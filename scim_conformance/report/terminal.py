"""The terminal view: the lines a run ends on, built from the result document like the HTML and JUnit views,
and the listing a dry run prints instead of running anything."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scim_conformance.outcomes import Outcome

if TYPE_CHECKING:
    import pytest

    from scim_conformance.run import Plan


def summary(terminalreporter: Any, document: Mapping[str, Any], path: Path | None) -> None:
    verdict, run = document["verdict"], document["run"]
    terminalreporter.section("scim-conformance")
    if run.get("preflight"):
        terminalreporter.write_line(f"preflight: {run['preflight']}", red=True, bold=True)
        return
    for requirement in document["requirements"]:
        if requirement["outcome"] == Outcome.FAIL:
            terminalreporter.write_line(f"{Outcome.FAIL.label}  {requirement['id']} ({requirement['severity']}) "
                                        f"{requirement['text']}")
    for severity in ("MUST", "SHOULD"):
        shown = ", ".join(f"{n} {Outcome(o).label}" for o, n in verdict["counts"][severity].items() if n)
        terminalreporter.write_line(f"{severity:<6} {shown}")
    terminalreporter.write_line(f"report: {path or 'none written'} ({run.get('requests', 0)} requests, "
                                f"target {run.get('target')})")
    terminalreporter.write_line(verdict["summary"], bold=True, green=verdict["ready"] is True,
                                red=verdict["ready"] is False, yellow=verdict["ready"] is None)
    if verdict.get("scope"):
        terminalreporter.write_line(verdict["scope"])


def dry_run(config: pytest.Config, plan: Plan, items: list[pytest.Item],
            requirement_ids: Callable[[pytest.Item], list[str]]) -> None:
    """Say what the run would do, check by check; the caller then runs nothing."""
    write = config.get_terminal_writer().line
    write(f"dry run: profile {plan.profile.name}, target {plan.options.scim_url or 'the bundled reference server'}; "
          "no request is sent")
    for item in items:
        ids = requirement_ids(item)
        fixtures = set(getattr(item, "fixturenames", ()))
        creates = [kind for kind in ("users", "groups") if kind in fixtures]
        function = getattr(item, "obj", None)
        doc = ((function.__doc__ if function is not None else None) or "").strip().splitlines()
        state = ("creates " + " and ".join(creates) if creates else "reads only") if plan.applicable & set(ids) \
            else "not applicable"
        write(f"{item.nodeid}  [{', '.join(ids)}]  ({state})")
        if doc:
            write(f"    {doc[0]}")
