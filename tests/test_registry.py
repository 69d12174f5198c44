"""The requirement registry keeps its promises: a valid file, known sources, every id verified by a check,
checks that fail only their own requirements, and a catalogue that says what the registry says."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from scim_conformance import catalogue
from scim_conformance.requirements import SEVERITIES, WORDS, RegistryError, load_registry, registry_file

ROOT = Path(__file__).resolve().parent.parent


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


def _broken_copy(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(registry_file().read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "requirements.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp_path / "requirements.schema.json").write_text(
        (registry_file().parent / "requirements.schema.json").read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "words"), [
    (lambda d: d["requirements"][0].update(severity="MUSt"), "requirements/0/severity"),
    (lambda d: d["requirements"][1].update(colour="red"), "requirements/1"),
    (lambda d: d["requirements"][2].update(id="entra-lower"), "requirements/2/id"),
    (lambda d: d["requirements"].append(dict(d["requirements"][0])), "defined twice"),
    (lambda d: d["requirements"][0]["source"].update(doc="nowhere"), "unknown source doc 'nowhere'"),
])
def test_a_broken_registry_is_refused_in_one_line(tmp_path, change, words):
    with pytest.raises(RegistryError) as caught:
        load_registry(_broken_copy(tmp_path, change))
    message = str(caught.value)
    assert words in message and "\n" not in message, message


def test_every_check_names_known_ids_and_every_id_has_a_check():
    registry = load_registry()
    used = catalogue.checks_by_requirement(registry)
    assert sorted(set(used) - set(registry.requirements)) == [], "checks name unknown requirement ids"
    cross_cutting = {r.id for r in registry if r.messages or r.media_type}  # judged on every response
    assert cross_cutting, "the registry lost its cross-cutting requirements"
    under_load = {r.id for r in registry if r.capability == "load"}  # judged by `scim-conformance load`
    assert sorted(set(registry.requirements) - set(used) - cross_cutting - under_load) == [], \
        "requirements no check verifies"


def test_every_severity_is_its_sources_word():
    """A severity is the word of its source (WORDS), so that no finding is louder or softer than its source."""
    assert set(WORDS.values()) == set(SEVERITIES)
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
    schema_file = registry_file().parent / "requirements.schema.json"
    (tmp_path / schema_file.name).write_bytes(schema_file.read_bytes())
    with pytest.raises(RegistryError, match="ought"):
        load_registry(broken)
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    words = schema["$defs"]["requirement"]["properties"]["source"]["properties"]["word"]["enum"]
    assert words == list(WORDS)


def test_a_check_fails_only_requirements_its_marker_names():
    """A check's expectations may name only its own ids: the report files a failure under the marker's ids."""
    registry = load_registry()
    strays = {check.nodeid: sorted(check.mentioned - set(check.requirements)) for check in catalogue.checks()}
    assert {k: v for k, v in strays.items() if v} == {}
    assert registry.message_requirement("User") and registry.media_type_requirements


def test_the_committed_catalogue_is_current():
    committed = ROOT / "docs" / "requirements.md"
    fresh = catalogue.generate(ROOT / "tests" / "defects.yaml")
    assert committed.is_file() and committed.read_text(encoding="utf-8") == fresh, (
        "docs/requirements.md is stale: run `python -m scim_conformance.catalogue -o docs/requirements.md`")


def test_the_catalogue_reads_both_spellings_of_the_marker(tmp_path: Path):
    """CONTRIBUTING.md teaches `@pytest.mark.requirement(...)`, the modules use the alias `@requirement(...)`:
    pytest reads both, and so does the catalogue (a check written either way is listed, with every id)."""
    (tmp_path / "test_spellings.py").write_text(textwrap.dedent('''
        import pytest
        from pytest import mark

        requirement = pytest.mark.requirement


        @pytest.mark.requirement("ENTRA-USER-CREATE")
        def test_full(scim):
            """Full spelling."""


        @requirement("ENTRA-USER-QUERY-EMPTY", "OKTA-USER-CREATE")
        @mark.requirement("ENTRA-DEACTIVATE")
        def test_alias_and_mark(scim):
            """The alias, and pytest's mark imported."""


        @pytest.mark.parametrize("x", [1])
        def test_other_marker(x):
            """Not a check."""
    '''), encoding="utf-8")
    found = {check.name: check.requirements for check in catalogue.checks(tmp_path)}
    assert found == {"test_full": ("ENTRA-USER-CREATE",),
                     "test_alias_and_mark": ("ENTRA-USER-QUERY-EMPTY", "OKTA-USER-CREATE", "ENTRA-DEACTIVATE")}
