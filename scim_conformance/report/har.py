"""The HAR view (`--report har`): every exchange of the run as an HTTP Archive 1.2 file, the form a support
engineer or a partner opens in a browser's developer tools, Postman, Insomnia or Fiddler.

Built from the result document like the other views: each check's transcript, already redacted by the client,
in the order the checks ran; each entry's `comment` names its check, its requirements and its outcome. The
client records one duration per exchange (the whole round trip), so `timings.wait` carries it and `send` and
`receive` are 0: HAR asks for those three, and an invented split would mislead whoever reads the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HAR_VERSION = "1.2"
HTTP_VERSION = "HTTP/1.1"  # what requests (urllib3) speaks
UNKNOWN_SIZE = -1  # HAR's word for a size that was not measured


def document_to_har(document: Mapping[str, Any]) -> dict[str, Any]:
    """The HAR log of a result document's exchanges."""
    run = document["run"]
    entries = [_entry(check, exchange, run["started"]) for check in document["checks"]
               for exchange in check["transcript"]]
    return {"log": {
        "version": HAR_VERSION,
        "creator": {"name": document["tool"]["name"], "version": document["tool"]["version"]},
        "entries": entries,
        "comment": f"profile {run['profile']}, target {run.get('target', '?')}: {document['verdict']['summary']}",
    }}


def write(path: Path, document: Mapping[str, Any], redact: Callable[[str], str | None] = lambda text: text) -> Path:
    """Write the HAR file; `redact` is the client's, applied once more to the whole text as the other views do."""
    text = json.dumps(document_to_har(document), ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redact(text) or text, encoding="utf-8")
    return path


def _entry(check: Mapping[str, Any], exchange: Mapping[str, Any], fallback_start: float) -> dict[str, Any]:
    request, response = exchange["request"], exchange["response"]
    elapsed = float(exchange["elapsed_ms"])
    entry: dict[str, Any] = {
        "startedDateTime": _iso(exchange.get("started") or fallback_start),
        "time": elapsed,
        "request": {
            "method": request["method"],
            "url": request["url"],
            "httpVersion": HTTP_VERSION,
            "cookies": [],
            "headers": _pairs(request["headers"].items()),
            "queryString": _pairs(parse_qsl(urlsplit(request["url"]).query, keep_blank_values=True)),
            "headersSize": UNKNOWN_SIZE,
            "bodySize": _size(request["body"]),
        },
        "response": _response(response, exchange.get("error")),
        "cache": {},
        "timings": {"send": 0, "wait": elapsed, "receive": 0},
        "comment": _comment(check, exchange),
    }
    if request["body"] is not None:
        entry["request"]["postData"] = {"mimeType": _header(request["headers"], "Content-Type") or "",
                                        "text": request["body"]}
    return entry


def _response(response: Mapping[str, Any] | None, error: str | None) -> dict[str, Any]:
    if response is None:
        # No HTTP answer came (refused, timed out, cut off): HAR has no such entry, so status 0, as browsers write it.
        return {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "", "headersSize": UNKNOWN_SIZE,
                "bodySize": UNKNOWN_SIZE, "_error": error or ""}
    body = response["body"]
    content: dict[str, Any] = {"size": _size(body), "mimeType": _header(response["headers"], "Content-Type") or ""}
    if body is not None:
        content["text"] = body
    return {"status": response["status"], "statusText": response["reason"], "httpVersion": HTTP_VERSION,
            "cookies": [], "headers": _pairs(response["headers"].items()), "content": content,
            "redirectURL": (_header(response["headers"], "Location") or "") if 300 <= response["status"] < 400 else "",
            "headersSize": UNKNOWN_SIZE,
            "bodySize": _size(body)}


def _comment(check: Mapping[str, Any], exchange: Mapping[str, Any]) -> str:
    failed = check["failed_requirements"]
    text = f"check {check['nodeid']}; requirements {', '.join(check['requirements'])}; outcome {check['outcome']}"
    if failed:
        text += f" ({', '.join(failed)})"
    if exchange.get("error"):
        text += f"; no answer: {exchange['error']}"
    return text


def _pairs(items: Iterator[tuple[str, str]] | Any) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in items]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name.lower()), None)


def _size(body: str | None) -> int:
    return 0 if body is None else len(body.encode("utf-8"))


def _iso(unix_time: float) -> str:
    return datetime.fromtimestamp(unix_time, UTC).isoformat(timespec="milliseconds")

