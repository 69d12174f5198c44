"""The HTML report as a browser renders it: headless Chromium (Debian's package) loads a real report.

Chromium is driven by its own command line (`--dump-dom` after `--virtual-time-budget`), with no driver
library. Two small scripts are put into a copy of the page before it is loaded:
  - at the very top, a collector that records every uncaught error, rejected promise and console.error
    into an attribute of <html>. We chose this over grepping Chromium's stderr for CONSOLE lines because it
    catches exactly the page's own errors, does not depend on Chromium's log format, and proves it ran (the
    attribute is there even when empty);
  - at the very end, a probe that, once the page has loaded, measures what is visible, hovers a badge for
    its help, clicks a matrix link to a passing check (whose detail and transcript the page draws on demand),
    follows a link to a requirement that is moot for the run (whose matrix row is packed), shows every
    packed row, and records what it found.
"""

from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from scim_conformance.outcomes import Outcome
from tests.suite_runner import SuiteRun, run_suite

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
DEFECTS = ("filter-miss-404", "drop-active", "delete-missing-204")
# Without the background-networking switches Chromium waits on this machine's closed network.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")

COLLECTOR = """<script>
(function () {
  var errors = [];
  function note(text) {
    errors.push(String(text));
    document.documentElement.setAttribute("data-page-errors", JSON.stringify(errors));
  }
  document.documentElement.setAttribute("data-page-errors", "[]");
  window.addEventListener("error", function (e) { note(e.message + " @" + e.filename + ":" + e.lineno); });
  window.addEventListener("unhandledrejection", function (e) { note("unhandled rejection: " + e.reason); });
  var original = console.error;
  console.error = function () { note([].slice.call(arguments).join(" ")); original.apply(console, arguments); };
})();
</script>"""

# Headless Chromium's virtual clock (--virtual-time-budget) runs its timers without waiting for the page's
# asynchronous unpacking, so on a busy machine a probe that only set timers could give up before the rows were
# drawn. Between two looks a probe keeps the page's thread busy for a moment of real time: the browser's other
# threads get on meanwhile, and the virtual clock stands still.
SETTLE = """function settle() { for (var k = 0, x = 0; k < 400000; k++) { x += k; } return x; }"""

PROBE = """<script>
""" + SETTLE + """
window.addEventListener("load", function () {
  function visible(el) { return !!el && el.getClientRects().length > 0; }
  function rowOf(nodeid) { return document.getElementById(nodeid); }
  function matrixRows() {
    return [].filter.call(document.querySelectorAll(".scim-matrix tr[id^='req-']"), visible).length;
  }
  // What the page unpacks (gzip) is drawn asynchronously: look until it is there, or give up.
  function waitFor(test, then) {
    var tries = 0;
    (function again() {
      if (test() || ++tries >= 200) { then(); } else { settle(); setTimeout(again, 50); }
    })();
  }
  function done() { document.documentElement.setAttribute("data-probe", JSON.stringify(found)); }
  var found = {};
  found.verdict = visible(document.querySelector("#scim-verdict .scim-verdict-line"));
  found.verdictText = (document.querySelector("#scim-verdict .scim-verdict-line") || {}).textContent;
  found.title = document.title;
  found.matrixRows = matrixRows();
  found.packedLines = [].filter.call(document.querySelectorAll("tr.scim-packed"), visible).length;
  var failing = document.querySelector("tbody.failed .scim-transcript[open] .scim-x");
  found.failingTranscript = visible(failing);
  found.failingCurl = visible(document.querySelector("tbody.failed .scim-curl"));
  var passedRows = document.querySelectorAll("tbody.passed");
  found.passedRows = passedRows.length;
  found.passedUnfolded = [].filter.call(passedRows, function (r) {
    return visible(r.querySelector(".extras-row .scim-check"));
  }).length;
  var onlyProblems = document.getElementById("scim-only-problems");
  onlyProblems.click();
  found.problemRows = matrixRows();
  found.problemPackedLines = [].filter.call(document.querySelectorAll("tr.scim-packed"), visible).length;
  onlyProblems.click();
  var badge = document.querySelector(".scim-matrix tr.o-pass .scim-badge");
  found.badgeTitleBefore = badge.getAttribute("title");
  badge.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
  found.badgeHelp = badge.getAttribute("title");
  var link = document.querySelector("a.scim-check-link.c-pass");
  found.clicked = link ? decodeURIComponent(link.hash.slice(1)) : null;
  if (link) {
    link.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
    found.linkTitle = link.getAttribute("title");
    link.click();
  }
  var row = null;
  waitFor(function () {
    row = found.clicked && rowOf(found.clicked);
    return row && row.querySelectorAll(".scim-lazy.scim-drawn .scim-x").length > 0;
  }, function () {
    found.openedRow = visible(row && row.querySelector(".extras-row .scim-check"));
    found.drawnExchanges = row ? row.querySelectorAll(".scim-lazy.scim-drawn .scim-x").length : 0;
    var body = row && row.querySelector(".scim-lazy.scim-drawn .scim-res");
    found.drawnBody = body ? body.textContent : null;
    // Not-applicable checks are not folded: their rows show the detail drawn from the store.
    var skipped = document.querySelectorAll("tbody.skipped");
    found.skippedRows = skipped.length;
    found.skippedDrawn = [].filter.call(skipped, function (r) {
      return visible(r.querySelector(".extraHTML.scim-drawn .scim-check .scim-reason"));
    }).length;
    // Such a check verifies a requirement whose matrix row is packed: its link draws the row.
    var ref = document.querySelector("tbody.skipped .o-not-applicable .scim-verified a[href^='#req-']");
    found.followed = ref ? ref.getAttribute("href").slice(1) : null;
    found.followedAbsent = !!ref && !document.getElementById(found.followed);
    if (ref) { ref.click(); }
    waitFor(function () { return found.followed && document.getElementById(found.followed); }, function () {
      found.followedShown = visible(document.getElementById(found.followed));
      [].forEach.call(document.querySelectorAll("tr.scim-packed button"), function (b) { b.click(); });
      waitFor(function () { return !document.querySelector("tr.scim-packed"); }, function () {
        found.allMatrixRows = matrixRows();
        done();
      });
    });
  });
});
</script>"""


def chromium() -> Path:
    """Debian's chromium, installed by scripts/browser-setup.sh when missing (it does nothing otherwise)."""
    if not CHROMIUM.exists():
        subprocess.run(["bash", str(ROOT / "scripts" / "browser-setup.sh")], capture_output=True, timeout=900)
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent and scripts/browser-setup.sh could not install it (needs root and apt)")
    return CHROMIUM


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    extra = tuple(arg for defect in DEFECTS for arg in ("--defect", defect))
    # A tenant that provisions no groups: two of its (advisory) requirements are moot for it, so the page has
    # packed "not applicable" rows to draw on demand. Other profiles' requirements are not in it at all.
    run = run_suite("example-saas-tenant", tmp_path_factory.mktemp("browser_report"), extra=extra)
    assert run.returncode == 1, run.stdout[-2000:]
    return run


def render(page: Path, work: Path) -> tuple[str, str]:
    """The DOM after the page's scripts ran (and our probe's timer fired), and Chromium's stderr."""
    profile = work / "chromium-profile"
    if profile.exists():
        shutil.rmtree(profile)
    profile.mkdir()
    done = subprocess.run(
        [str(chromium()), *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=15000",
         "--window-size=1400,2000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, env={**os.environ, "LANG": "C.UTF-8"})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


@pytest.fixture(scope="module")
def rendered(suite: SuiteRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    chromium()
    (report,) = suite.report_dir.glob("*.html")
    work = tmp_path_factory.mktemp("browser")
    page = report.read_text(encoding="utf-8")
    assert page.count("<head>") == 1 and page.count("</body>") == 1
    instrumented = work / "report.html"
    instrumented.write_text(page.replace("<head>", "<head>" + COLLECTOR, 1).replace("</body>", PROBE + "</body>", 1),
                            encoding="utf-8")
    dom, _stderr = render(instrumented, work)
    errors = re.search(r'<html[^>]*\sdata-page-errors="([^"]*)"', dom)
    probe = re.search(r'<html[^>]*\sdata-probe="([^"]*)"', dom)
    assert errors, "the error collector did not run:\n" + dom[:1000]
    assert probe, "the probe did not finish:\n" + dom[:1000]
    found = json.loads(htmllib.unescape(probe.group(1)))
    return dom, {"errors": json.loads(htmllib.unescape(errors.group(1))), **found}


def test_page_scripts_raise_no_errors(rendered):
    _dom, found = rendered
    assert found["errors"] == []


def test_first_screen_answers_is_the_server_ready(rendered, suite: SuiteRun):
    dom, found = rendered
    assert found["verdict"]
    assert found["verdictText"] == suite.document["verdict"]["summary"]
    assert found["title"].startswith(suite.document["verdict"]["summary"])
    assert suite.document["verdict"]["summary"].startswith("Entra-ready: no")
    # Every requirement judged has a visible matrix row, the not applicable ones a line per capability naming
    # them; the filter box leaves those that need attention.
    used = [r for r in suite.document["requirements"] if r["outcome"] != "not-applicable"]
    unused = {r["capability"] for r in suite.document["requirements"] if r["outcome"] == "not-applicable"}
    assert found["matrixRows"] == len(used) < len(suite.document["requirements"])
    assert found["packedLines"] == len(unused) > 0
    needs_attention = [r for r in suite.document["requirements"]
                       if r["outcome"] in ("fail", "error", "deviation", "blocked")]
    assert found["problemRows"] == len(needs_attention) > 0 and found["problemPackedLines"] == 0
    assert dom.index('id="scim-verdict"') < dom.index('id="scim-matrix"') < dom.index('id="results-table"')


def test_packed_matrix_rows_are_drawn_on_demand(rendered, suite: SuiteRun):
    _dom, found = rendered
    # A link to a requirement whose row is packed draws that row; "show" draws the rest: then every
    # requirement has its visible row.
    assert found["followed"] and found["followedAbsent"] and found["followedShown"]
    assert found["allMatrixRows"] == len(suite.document["requirements"])


def test_help_texts_show_on_hover(rendered):
    _dom, found = rendered
    # The badges carry no help of their own; hovering one shows its outcome's, from the page's one table.
    assert found["badgeTitleBefore"] is None
    assert found["badgeHelp"] == Outcome.PASS.help
    assert found["linkTitle"] == found["clicked"]


def test_failing_check_shows_its_transcript(rendered, suite: SuiteRun):
    dom, found = rendered
    assert found["failingTranscript"] and found["failingCurl"]
    check = next(c for c in suite.document["checks"] if c["outcome"] == "fail")
    assert f'id="{check["nodeid"]}"' in dom
    assert "$SCIM_TOKEN" in dom and "[REDACTED]" in dom


def test_passing_checks_are_folded_and_open_from_the_matrix(rendered, suite: SuiteRun):
    _dom, found = rendered
    passing = [c for c in suite.document["checks"] if c["outcome"] == "pass"]
    assert found["passedRows"] == len(passing)
    assert found["passedUnfolded"] == 0
    # The probe opened one passing check by its matrix link: exactly that one is unfolded, transcript drawn.
    assert found["clicked"] in {c["nodeid"] for c in passing}
    assert found["openedRow"]
    check = next(c for c in passing if c["nodeid"] == found["clicked"])
    assert found["drawnExchanges"] == len(check["transcript"]) > 0
    # A JSON body is drawn indented, as a failing check's is.
    first = next(x["response"]["body"] for x in check["transcript"] if x["response"] and x["response"]["body"])
    assert found["drawnBody"] == json.dumps(json.loads(first), indent=2, ensure_ascii=False)


def test_not_applicable_checks_show_their_detail(rendered, suite: SuiteRun):
    _dom, found = rendered
    unjudged = [c for c in suite.document["checks"] if c["outcome"] == "not-applicable"]
    assert found["skippedRows"] >= len(unjudged) > 0
    assert found["skippedDrawn"] == len(unjudged)


def test_the_error_collector_sees_page_errors(tmp_path: Path):
    # Guards test_page_scripts_raise_no_errors: the collector must report what a broken page does.
    page = tmp_path / "broken.html"
    page.write_text(f"<!DOCTYPE html><html><head>{COLLECTOR}</head><body><script>console.error('said');"
                    "undefinedFunction();</script></body></html>", encoding="utf-8")
    dom, _stderr = render(page, tmp_path)
    errors = re.search(r'data-page-errors="([^"]*)"', dom)
    assert errors
    found = json.loads(htmllib.unescape(errors.group(1)))
    assert len(found) == 2 and "said" in found[0] and "undefinedFunction" in found[1]
