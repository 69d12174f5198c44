"""The server as a process: ``python -m scim_conformance.server`` prints its URL first and stops on SIGTERM."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from scim_conformance.server import DEFECTS, QUIRKS
from scim_conformance.server import cli as server_cli

ROOT = Path(__file__).resolve().parents[1]


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "scim_conformance.server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )


def test_serve_prints_url_first_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "scim.db"
    process = start("--token", "cli-token", "--db", str(db), "--defect", "filter-miss-404")
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("http://127.0.0.1:") and first.endswith("/scim/v2")
        headers = {"Authorization": "Bearer cli-token"}
        created = requests.post(f"{first}/Users", json={"userName": "cli@example.test"}, headers=headers, timeout=5)
        assert created.status_code == 201
        missing = requests.get(f"{first}/Users", params={"filter": 'userName eq "nobody"'}, headers=headers, timeout=5)
        assert missing.status_code == 404  # the defect switch reached the server
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = process.stderr.read() if process.stderr else ""
    assert "cli-token" not in stderr  # a given token is never echoed
    assert "Traceback" not in stderr
    # The file database kept the user for the next start.
    again = start("--token", "cli-token", "--db", str(db))
    try:
        url = again.stdout.readline().strip() if again.stdout else ""
        listed = requests.get(f"{url}/Users", headers={"Authorization": "Bearer cli-token"}, timeout=5).json()
        assert [u["userName"] for u in listed["Resources"]] == ["cli@example.test"]
    finally:
        again.send_signal(signal.SIGINT)
        assert again.wait(timeout=30) == 0


def test_token_from_environment_and_generated_token() -> None:
    process = start(env={"SCIM_TOKEN": "env-token"})
    try:
        url = process.stdout.readline().strip() if process.stdout else ""
        assert requests.get(f"{url}/Users", headers={"Authorization": "Bearer env-token"}, timeout=5).ok
    finally:
        process.terminate()
        process.wait(timeout=30)
    environment = {k: v for k, v in os.environ.items() if k != "SCIM_TOKEN"}
    process = subprocess.Popen(
        [sys.executable, "-m", "scim_conformance.server", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**environment, "PYTHONPATH": str(ROOT)},
    )
    try:
        url = process.stdout.readline().strip() if process.stdout else ""
        line = process.stderr.readline().strip() if process.stderr else ""
        assert line.startswith("bearer token: ")
        token = line.removeprefix("bearer token: ")
        assert requests.get(f"{url}/Users", headers={"Authorization": f"Bearer {token}"}, timeout=5).ok
        assert requests.get(f"{url}/Users", timeout=5).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_list_defects_and_unknown_defect(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    server_cli.add_arguments(parser)
    assert server_cli.run(parser.parse_args(["--list-defects"])) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == list(DEFECTS)
    assert server_cli.run(parser.parse_args(["--defect", "nope", "--port", "0"])) == 2
    assert "nope" in capsys.readouterr().err


def test_list_quirks_and_unknown_quirk(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    server_cli.add_arguments(parser)
    assert server_cli.run(parser.parse_args(["--list-quirks"])) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == list(QUIRKS)
    assert server_cli.run(parser.parse_args(["--quirk", "nope", "--port", "0"])) == 2
    assert "unknown quirk(s): nope" in capsys.readouterr().err
    args = parser.parse_args(["--quirk", "patch-204", "integer-ids", "--quirk", "no-user-groups"])
    assert args.quirks == ["patch-204", "integer-ids", "no-user-groups"]


def test_defect_option_takes_several_names() -> None:
    parser = argparse.ArgumentParser()
    server_cli.add_arguments(parser)
    args = parser.parse_args(["--defect", "no-auth", "auth-403", "--defect", "drop-active"])
    assert args.defects == ["no-auth", "auth-403", "drop-active"]
    assert (args.host, args.port, args.db, args.token) == ("127.0.0.1", 8000, ":memory:", None)
