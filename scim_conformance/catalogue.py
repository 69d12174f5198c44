"""The catalogue a newcomer reads: every requirement with its source, the checks that verify it and the
defect switches that prove those checks can fail, generated from the registry, the check modules and the
defect matrix (`python -m scim_conformance.catalogue -o docs/requirements.md`; a test keeps it current).

The checks are found by reading the check modules' source (their `@requirement(...)` markers), so the
catalogue needs no pytest run and no server.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from scim_conformance.paths import checks_dir
from scim_conformance.requirements import Registry, Requirement, load_registry


@dataclass(frozen=True)
class Check:
    """One check function as its module's source declares it."""

    module: str
    name: str
    requirements: tuple[str, ...]  # its marker's ids
    mentioned: frozenset[str]  # every requirement-id-shaped string in its body (what it passes to expect, …)

    @property
    def nodeid(self) -> str:
        return f"conformance/{self.module}::{self.name}"


def _marker_ids(node: ast.FunctionDef) -> tuple[str, ...]:
    """The ids of every requirement marker on a check, in order, as pytest reads them: the modules' alias
    (`requirement = pytest.mark.requirement`, then `@requirement(...)`) and the full `@pytest.mark.requirement(...)`
    (or `@mark.requirement(...)`) that CONTRIBUTING.md teaches."""
    ids: list[str] = []
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and _is_requirement_marker(decorator.func):
            ids.extend(str(a.value) for a in decorator.args if isinstance(a, ast.Constant))
    return tuple(ids)


def _is_requirement_marker(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id == "requirement"
    return isinstance(func, ast.Attribute) and func.attr == "requirement" and ast.unparse(func.value) in (
        "pytest.mark", "mark")


def checks(directory: Path | None = None, registry: Registry | None = None) -> Iterator[Check]:
    registry = registry or load_registry()
    known = set(registry.requirements)
    for module in sorted((directory or checks_dir()).glob("test_*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            ids = _marker_ids(node)
            if not ids:
                continue
            body = ast.Module(body=node.body, type_ignores=[])
            mentioned = {c.value for c in ast.walk(body) if isinstance(c, ast.Constant) and c.value in known}
            yield Check(module.name, node.name, ids, frozenset(mentioned))


def checks_by_requirement(registry: Registry | None = None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for check in checks(registry=registry):
        for rid in check.requirements:
            found.setdefault(rid, []).append(check.nodeid)
    return found


def defects_by_requirement(matrix: Mapping[str, object]) -> dict[str, list[str]]:
    """requirement id -> the defect switches that make it fail under at least one profile of the matrix."""
    found: dict[str, set[str]] = {}
    defects = matrix.get("defects", {})
    assert isinstance(defects, dict)
    for defect, entry in defects.items():
        for ids in (entry or {}).values():
            for rid in ids or []:
                found.setdefault(rid, set()).add(defect)
    load = matrix.get("load") or {}  # what a load run must find with the defect on (tests/test_load.py)
    assert isinstance(load, dict)
    for defect, entry in load.items():
        for rid in entry.get("fails") or []:
            found.setdefault(rid, set()).add(defect)
    return {rid: sorted(names) for rid, names in found.items()}


def _unchecked(requirement: Requirement) -> str:
    """Why a requirement has no check of its own."""
    return "none: judged by `scim-conformance load`" if requirement.capability == "load" else "none (cross-cutting)"


def by_profile(registry: Registry) -> list[str]:
    """One table: each requirement's severity in each shipped profile; "advisory" where the profile only reports
    it (never in its verdict), blank where it is not that profile's requirement."""
    from scim_conformance.profile import available_profiles, load_profile
    from scim_conformance.run import applicable

    profiles = [load_profile(path.stem) for path in available_profiles() if path.stem != "profile.schema"]
    cells: dict[str, list[str]] = {r.id: [] for r in registry}
    for profile in profiles:
        own = applicable(profile, registry)
        for requirement in registry:
            if requirement.id not in own:
                word = ""
            elif requirement.capability in profile.advisory and requirement.capability not in profile.capabilities:
                word = "advisory"
            else:
                word = profile.severity.get(requirement.id, requirement.severity)
            cells[requirement.id].append(word)
    lines = ["## Requirements by profile", "",
             "A report lists only its profile's requirements, with the severity its profile gives them.", "",
             "| requirement | " + " | ".join(f"`{p.name}`" for p in profiles) + " |",
             "|---|" + "---|" * len(profiles)]
    lines += [f"| [{rid}](#{rid.lower()}) | " + " | ".join(words) + " |" for rid, words in cells.items()]
    return [*lines, ""]


def render(registry: Registry, verified_by: Mapping[str, list[str]], proven_by: Mapping[str, list[str]]) -> str:
    lines = [
        "# Requirements catalogue",
        "",
        "Generated from `conformance/requirements.yaml`, the check modules and `tests/defects.yaml` by",
        "`python -m scim_conformance.catalogue -o docs/requirements.md`; do not edit by hand.",
        "",
        f"{len(registry.requirements)} requirements. Each: severity, source, the checks that verify it and the "
        "defect switches of the reference server that prove those checks can fail "
        "(`scim-conformance serve --defect NAME`).",
        "",
        *by_profile(registry),
    ]
    for capability, title in registry.capabilities.items():
        members = [r for r in registry if r.capability == capability]
        if not members:
            continue
        lines += [f"## {title}", ""]
        for requirement in members:
            source = requirement.source
            cross = " Judged on every response a check receives." if requirement.messages or requirement.media_type \
                else ""
            lines += [
                f"### {requirement.id}",
                "",
                f"**{requirement.severity}** · [{source.title}, {source.section}]({source.url}) · evidence "
                f"{source.evidence}",
                "",
                requirement.text + cross,
                "",
                f"- In practice: {requirement.in_practice}",
                f"- Checks: {_codes(verified_by.get(requirement.id, [])) or _unchecked(requirement)}",
                f"- Defects that prove it: {_codes(proven_by.get(requirement.id, [])) or 'none'}",
                "",
            ]
    return "\n".join(lines)


def _codes(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def generate(matrix_file: Path) -> str:
    registry = load_registry()
    matrix = yaml.safe_load(matrix_file.read_text(encoding="utf-8")) if matrix_file.is_file() else {}
    return render(registry, checks_by_requirement(registry), defects_by_requirement(matrix or {}))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scim_conformance.catalogue", description=__doc__)
    parser.add_argument("--defects", type=Path, default=checks_dir().parent / "tests" / "defects.yaml",
                        help="the defect matrix (default: tests/defects.yaml of the checkout)")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of standard output")
    args = parser.parse_args(argv)
    text = generate(args.defects)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
