"""The requirement registry keeps its promises: unique ids, known sources, every id verified by a check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from scim_conformance.paths import checks_dir
from scim_conformance.requirements import ID_PATTERN, SEVERITIES, WORDS, load_registry, registry_file


def _marker_ids() -> dict[str, set[str]]:
    """requirement id -> check functions naming it, read from the check modules' source."""
    used: dict[str, set[str]] = {}
    for module in sorted(Path(checks_dir()).glob("test_*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "requirement":
                    for arg in decorator.args:
                        used.setdefault(arg.value, set()).add(f"{module.name}::{node.name}")
    return used


def test_ids_unique_and_well_formed():
    rows = yaml.safe_load(registry_file().read_text(encoding="utf-8"))["requirements"]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert [i for i in ids if not ID_PATTERN.match(i)] == []


def test_every_requirement_is_complete():
    registry = load_registry()
    for requirement in registry:
        assert requirement.severity in SEVERITIES, requirement.id
        assert requirement.capability in registry.capabilities, requirement.id
        assert requirement.source.url.startswith("https://"), requirement.id
        assert requirement.in_practice, f"{requirement.id} says nothing of what the IdP does about it"
        # One factual sentence: what a conforming server does, not an instruction to a tester.
        assert requirement.text.endswith("."), requirement.id
        assert len(requirement.text) <= 220, requirement.id
        assert "test that" not in requirement.text.lower(), requirement.id


def test_every_check_names_known_ids_and_every_id_has_a_check():
    registry = load_registry()
    used = _marker_ids()
    assert sorted(set(used) - set(registry.requirements)) == [], "checks name unknown requirement ids"
    cross_cutting = {"ENTRA-RESPONSE-CONTENT-TYPE", "RFC-USER-SCHEMA", "RFC-GROUP-SCHEMA",
                     "RFC-LIST-RESPONSE-SCHEMA", "RFC-ERROR-SCHEMA"}  # judged on every response by the plugin
    assert sorted(set(registry.requirements) - set(used) - cross_cutting) == [], "requirements no check verifies"


def test_every_severity_is_its_sources_word():
    """A severity is the word of its source (WORDS), so that no finding is louder or softer than its source."""
    registry = load_registry()
    inconsistent = [(r.id, r.severity, r.source.word) for r in registry if WORDS[r.source.word] != r.severity]
    assert inconsistent == []
    # Third-party observation is never more than SHOULD, whatever the word says.
    assert [r.id for r in registry if r.source.evidence == "3P" and r.severity == "MUST"] == []


def test_a_missing_or_unknown_source_word_is_refused(tmp_path):
    rows = yaml.safe_load(registry_file().read_text(encoding="utf-8"))
    rows["requirements"][0]["source"]["word"] = "ought"
    broken = tmp_path / "requirements.yaml"
    broken.write_text(yaml.safe_dump(rows), encoding="utf-8")
    with pytest.raises(ValueError, match=r"source\.word 'ought'"):
        load_registry(broken)
