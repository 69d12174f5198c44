// scim-conformance report: links from the compliance matrix open the check row they name, and the matrix
// can hide what needs no attention. pytest-html rebuilds its results table on every toggle, so the row is
// looked up afresh each time instead of being held on to.
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

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.scim-check-link");
    if (!link) {
      return;
    }
    var nodeid = link.getAttribute("data-check");
    if (openCheck(nodeid)) {
      event.preventDefault();
      history.replaceState(null, "", "#" + encodeURIComponent(nodeid));
    }
  });

  // --- transcripts of passing checks, kept once (gzipped JSON, base64) and drawn when a row is shown -------
  var store = null;  // a promise of {nodeid: [exchange, ...]}

  function unpack(text) {
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error("this browser cannot unpack them (no DecompressionStream)"));
    }
    var raw = atob(text.trim());
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      bytes[i] = raw.charCodeAt(i);
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(JSON.parse);
  }

  function transcripts() {
    if (store === null) {
      var island = document.getElementById("scim-transcripts");
      store = island ? unpack(island.textContent) : Promise.resolve({});
    }
    return store;
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
    return "j" in body ? JSON.stringify(body.j, null, 2) : body.t;
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
    transcripts().then(function (all) {
      var exchanges = all[slot.getAttribute("data-check")] || [];
      for (var n = 0; n < exchanges.length; n++) {
        slot.appendChild(drawExchange(exchanges[n], n + 1));
      }
    }, function (error) {
      slot.appendChild(el("p", "scim-hint", "The transcript could not be shown here (" + error.message +
                                            "); it is in the JSON result file."));
    });
  }

  function drawPending(root) {
    var pending = root.querySelectorAll ? root.querySelectorAll(".scim-lazy:not(.scim-drawn)") : [];
    for (var i = 0; i < pending.length; i++) {
      var slot = pending[i];
      var row = slot.closest(".extras-row");
      if (row && row.classList.contains("hidden")) {
        continue;  // folded: drawn when opened (pytest-html rebuilds the row then)
      }
      slot.classList.add("scim-drawn");  // claimed now; filled once the store is unpacked
      fill(slot);
    }
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
    transcripts().catch(function () {});  // unpack ahead of the first click; a failure is shown per row
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
