"""An installed wheel works outside the checkout: its checks, profiles and schemas ride inside the package,
and a run ends without warnings (pytest must not complain that the package was imported too early)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels, site = tmp_path_factory.mktemp("wheels"), tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(ROOT)], check=True, timeout=300,
                   capture_output=True)
    (wheel,) = wheels.glob("scim_conformance-*.whl")
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=300,
                   capture_output=True)
    return site


def test_a_run_from_the_wheel_is_clean(installed: Path, tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(installed)
    where = subprocess.run([sys.executable, "-c", "import scim_conformance.paths as p; print(p.checks_dir())"],
                           env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert where.startswith(str(installed)), f"the run would not use the wheel: {where}"
    done = subprocess.run([sys.executable, "-m", "scim_conformance.cli", "run", "--requirement",
                           "ENTRA-CONN-PROBE-EMPTY", "--report-dir", str(tmp_path / "reports")],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    last = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in last and "warning" not in last, done.stdout[-2000:]
