"""The JUnit XML view, of either kind of run, written from the result document: one test case per check, the
requirement ids as its properties.

The check's own word (results.py) decides the element, so that the document, the page and a CI system reading
this file agree: only a check that breaks a requirement the run fails on is a <failure>; a harness or network
fault is an <error> (the server was not judged); a deviation (a SHOULD missed) is <skipped type="deviation">,
as it does not fail the run; blocked, not-applicable and disabled checks are <skipped> with their outcome as
the type. With a baseline (`run --baseline`), a check that fails only what the baseline already failed is
<skipped type="known-failure">, a new one's <failure> message starts "new failure", and each marked check
carries a `baseline` property.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from scim_conformance.outcomes import Outcome
from scim_conformance.results import BaselineMark, check_mark

OUTCOME_PROPERTY = "scim_outcome"
BASELINE_PROPERTY = "baseline"  # run --baseline: known-failure, new-failure or fixed
MAX_MESSAGE = 500
# The element each check outcome becomes (a pass has none).
ELEMENT = {Outcome.FAIL: "failure", Outcome.ERROR: "error", Outcome.DEVIATION: "skipped", Outcome.BLOCKED: "skipped",
           Outcome.NOT_APPLICABLE: "skipped", Outcome.DISABLED: "skipped"}


def write(document: Mapping[str, Any], path: Path, redact: Callable[[str], str] = lambda text: text) -> None:
    """`redact` is applied to the whole file: no secret that reached a message survives into it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(xml(document)), encoding="utf-8")


def xml(document: Mapping[str, Any]) -> str:
    checks = document["checks"]
    marks = {r["id"]: r["baseline"] for r in document.get("requirements", ()) if "baseline" in r}
    counted = [_element(c, marks)[0] for c in checks]
    run = document["run"]
    suite = ET.Element("testsuite", name=f"scim-conformance {run['profile']}" + (" load" if "load" in document else ""),
                       tests=str(len(checks)), failures=str(counted.count("failure")),
                       errors=str(counted.count("error")), skipped=str(counted.count("skipped")),
                       time=f"{run['elapsed_s']:.3f}")
    for check in checks:
        suite.append(_case(check, marks))
    root = ET.Element("testsuites")
    root.append(suite)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _element(check: Mapping[str, Any], marks: Mapping[str, str]) -> tuple[str | None, BaselineMark | None]:
    """The element a check becomes, and its mark against a baseline (`run --baseline`): a check that fails only
    requirements the baseline already failed is <skipped type="known-failure">, as it does not fail the run."""
    mark = check_mark(check, marks)
    tag = ELEMENT.get(Outcome(check["outcome"]))
    return ("skipped" if tag == "failure" and mark == BaselineMark.KNOWN else tag), mark


def _case(check: Mapping[str, Any], marks: Mapping[str, str]) -> ET.Element:
    path, _, rest = check["nodeid"].partition("::")
    classes = rest.split("::")[:-1]  # a check in a class: its class names follow the module's
    classname = ".".join([path.removesuffix(".py").replace("/", "."), *classes])
    case = ET.Element("testcase", classname=classname, name=check["name"], time=f"{check.get('duration_s', 0):.3f}")
    properties = ET.SubElement(case, "properties")
    ET.SubElement(properties, "property", name="requirements", value=" ".join(check["requirements"]))
    if check["failed_requirements"]:
        ET.SubElement(properties, "property", name="failed_requirements", value=" ".join(check["failed_requirements"]))
    ET.SubElement(properties, "property", name=OUTCOME_PROPERTY, value=check["outcome"])
    outcome = Outcome(check["outcome"])
    tag, mark = _element(check, marks)
    if mark is not None:
        ET.SubElement(properties, "property", name=BASELINE_PROPERTY, value=mark.value)
    if tag is None:
        return case
    message = check.get("message") or check.get("actual") or outcome.label
    if mark in (BaselineMark.KNOWN, BaselineMark.NEW):
        message = f"{mark.label}: {message}"
    element = ET.SubElement(case, tag, message=message[:MAX_MESSAGE])
    if tag == "skipped":
        element.set("type", mark.value if mark == BaselineMark.KNOWN and outcome == Outcome.FAIL else outcome.value)
    else:
        lines = [f"{check['stimulus']}", message]
        if check.get("expected") or check.get("actual"):
            lines += [f"expected: {check.get('expected', '')}", f"actual:   {check.get('actual', '')}"]
        element.text = "\n".join(lines)
    return case
