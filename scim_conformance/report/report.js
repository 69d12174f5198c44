// scim-conformance report: links from the compliance matrix open the check row they name, and the matrix
// can hide what needs no attention. pytest-html rebuilds its results table on every toggle, so the row is
// looked up afresh each time instead of being held on to. What the page keeps packed (html.py `store`: the
// folded checks' details and transcripts, the matrix rows of requirements the profile does not use) is
// drawn when it is shown, and help texts are shown over the badges from the page's one table of them.
(function () {
  "use strict";

  function rowFor(nodeid) {
    // A check skipped at setup has only a setup row, which pytest-html names "<nodeid>::setup".
    return document.getElementById(nodeid) || document.getElementById(nodeid + "::setup");
  }

  function openCheck(nodeid) {
    var row = rowFor(nodeid);
    if (!row) {
      return false;
    }
    var extras = row.querySelector(".extras-row");
    var toggle = row.querySelector(".collapsible > td.col-result");
    if (extras && toggle && extras.classList.contains("hidden")) {
      toggle.click();  // pytest-html's own toggle, so its state stays consistent
      row = rowFor(nodeid);
    }
    if (row) {
      row.scrollIntoView({block: "start"});
    }
    return true;
  }

  function checkOf(link) {
    return link.getAttribute("href").slice(1);  // the href is "#" + the node id, as html.row_anchor writes it
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    var link = target && target.closest("a.scim-check-link");
    if (link && openCheck(checkOf(link))) {
      event.preventDefault();
      history.replaceState(null, "", "#" + encodeURIComponent(checkOf(link)));
      return;
    }
    var packed = target && target.closest("tr.scim-packed button");
    if (packed) {
      showPacked(packed.closest("tr"));
      return;
    }
    var ref = target && target.closest('a[href^="#req-"]');
    if (ref && !document.getElementById(ref.getAttribute("href").slice(1))) {
      event.preventDefault();
      revealRequirement(ref.getAttribute("href").slice(1));
    }
  });

  // --- help on hover, from one table instead of a title on every badge and link ---------------------------
  var helps = null;

  document.addEventListener("mouseover", function (event) {
    var target = event.target.closest ? event.target : null;
    var badge = target && target.closest(".scim-badge:not([title])");
    if (badge) {
      if (helps === null) {
        var table = document.getElementById("scim-help");
        helps = table ? JSON.parse(table.textContent) : {};
      }
      var outcome = /(?:^|\s)o-([\w-]+)/.exec(badge.className);
      badge.title = (outcome && helps[outcome[1]]) || "";
    }
    var link = target && target.closest("a.scim-check-link:not([title])");
    if (link) {
      link.title = checkOf(link);
    }
  });

  // --- what the page keeps packed (gzipped JSON, base64), drawn when it is shown --------------------------
  // A promise of {transcripts: {nodeid: [exchange]}, checks: {nodeid: html}, requirements: {capability: html}}.
  var store = null;

  function unpack(text) {
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot unpack them (no DecompressionStream)"));
    }
    var raw = atob(text.trim());
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    // Straight from memory: through a Blob the bytes would go to the browser process and be read back.
    var stream = new Response(bytes).body.pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function packed() {
    if (store === null) {
      var island = document.getElementById("scim-store");
      store = island ? unpack(island.textContent) : Promise.resolve({});
    }
    return store;
  }

  function unavailable(what, error) {
    return el("p", "scim-hint", what + " could not be shown here (" + error.message + "); see the JSON result file.");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;  // never innerHTML: bodies come from the server under test
    }
    return node;
  }

  function bodyText(body) {
    if (!body) {
      return "";
    }
    try {
      return JSON.stringify(JSON.parse(body), null, 2);  // as html.pretty indents the bodies it draws
    } catch (notJson) {
      return body;
    }
  }

  function drawExchange(x, n) {
    var box = el("div", "scim-x");
    var line = el("div", "scim-x-line");
    line.appendChild(el("span", "scim-n", String(n)));
    line.appendChild(document.createTextNode(" "));
    line.appendChild(el("b", null, x.m));
    line.appendChild(document.createTextNode(" "));
    line.appendChild(el("span", "scim-url", x.u));
    line.appendChild(document.createTextNode(" \u2192 "));
    var status = x.s === null ? "no answer: " + x.r : x.s + " " + x.r;
    line.appendChild(el("span", "scim-status s" + (x.s === null ? 0 : Math.floor(x.s / 100)), status));
    line.appendChild(document.createTextNode(" "));
    line.appendChild(el("span", "scim-ms", x.ms + " ms"));
    box.appendChild(line);
    var sent = bodyText(x.q);
    if (sent) {
      box.appendChild(el("pre", "scim-req", sent));
    }
    var got = bodyText(x.a);
    if (got) {
      box.appendChild(el("pre", "scim-res", got));
    }
    return box;
  }

  function fill(slot) {
    packed().then(function (all) {
      var exchanges = (all.transcripts || {})[slot.getAttribute("data-check")] || [];
      for (var n = 0; n < exchanges.length; n++) {
        slot.appendChild(drawExchange(exchanges[n], n + 1));
      }
    }, function (error) {
      slot.appendChild(unavailable("The transcript", error));
    });
  }

  // A folded check's row carries no detail of its own: it is drawn into the row's extras when shown. The
  // detail is HTML the report wrote (html.check_detail escapes all it quotes), as pytest-html's extras are.
  function fillCheck(slot, nodeid) {
    packed().then(function (all) {
      var detail = (all.checks || {})[nodeid];
      if (detail) {
        slot.insertAdjacentHTML("afterbegin", "<div>" + detail + "</div>");  // its transcript: drawPending
      }
    }, function (error) {
      slot.appendChild(unavailable("The detail of this check", error));
    });
  }

  function shown(node) {
    var row = node.closest(".extras-row");
    return !(row && row.classList.contains("hidden"));  // folded: drawn when opened (pytest-html rebuilds the row)
  }

  function drawPending(root) {
    if (!root.querySelectorAll) {
      return;
    }
    var rows = root.querySelectorAll("tbody.results-table-row");
    for (var r = 0; r < rows.length; r++) {
      var extras = rows[r].querySelector(".extras-row .extraHTML");
      if (extras && !extras.classList.contains("scim-drawn") && !extras.firstChild && shown(extras)) {
        extras.classList.add("scim-drawn");
        fillCheck(extras, rows[r].id.replace(/::(setup|teardown)$/, ""));
      }
    }
    var pending = root.querySelectorAll(".scim-lazy:not(.scim-drawn)");
    for (var i = 0; i < pending.length; i++) {
      if (shown(pending[i])) {
        pending[i].classList.add("scim-drawn");  // claimed now; filled once the store is unpacked
        fill(pending[i]);
      }
    }
  }

  // --- matrix rows of requirements the profile does not use: one line per capability until shown ----------
  function showPacked(line) {
    return packed().then(function (all) {
      var rows = (all.requirements || {})[line.getAttribute("data-capability")];
      if (rows && line.parentNode) {
        line.insertAdjacentHTML("afterend", rows);
        line.parentNode.removeChild(line);
      }
    }, function (error) {
      line.firstChild.appendChild(unavailable("These rows", error));
    });
  }

  function revealRequirement(anchor) {
    var lines = document.querySelectorAll("tr.scim-packed");
    return packed().then(function (all) {
      for (var i = 0; i < lines.length; i++) {
        var rows = (all.requirements || {})[lines[i].getAttribute("data-capability")] || "";
        if (rows.indexOf('id="' + anchor + '"') >= 0) {
          return showPacked(lines[i]).then(function () {
            var row = document.getElementById(anchor);
            if (row) {
              row.scrollIntoView({block: "center"});
              history.replaceState(null, "", "#" + anchor);
            }
          });
        }
      }
    }, function () {});
  }

  new MutationObserver(function (changes) {
    for (var i = 0; i < changes.length; i++) {
      for (var j = 0; j < changes[i].addedNodes.length; j++) {
        drawPending(changes[i].addedNodes[j]);
      }
    }
  }).observe(document.documentElement, {childList: true, subtree: true});

  // The browser tab says the verdict too, so a row of open reports can be told apart.
  document.addEventListener("DOMContentLoaded", function () {
    packed().catch(function () {});  // unpack ahead of the first click; a failure is shown where it is missed
    if (/^#req-/.test(location.hash) && !document.getElementById(location.hash.slice(1))) {
      revealRequirement(decodeURIComponent(location.hash.slice(1)));
    }
    var line = document.querySelector("#scim-verdict .scim-verdict-line");
    if (line) {
      document.title = line.textContent + " \u00b7 " + document.title;
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.id === "scim-only-problems") {
      document.getElementById("scim-matrix").classList.toggle("scim-problems-only", event.target.checked);
    }
  });
})();
