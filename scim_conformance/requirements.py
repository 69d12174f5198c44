"""The requirement registry: every requirement the suite can verify, as data (`conformance/requirements.yaml`).

A requirement has a stable id, a severity, a capability (the group it is shown under), a structured
source (a document key from the registry's own table plus a section) and one sentence of what a
conforming server does. The report is keyed by these ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from scim_conformance.paths import checks_dir

SEVERITIES = ("MUST", "SHOULD", "MAY")
# The word a requirement's source uses, and the severity it gives (the header of requirements.yaml says what
# each means): a severity is the source's word, never a judgement of how much it matters.
WORDS: dict[str, str] = {
    "MUST": "MUST", "SHALL": "MUST", "REQUIRED": "MUST", "must": "MUST", "defined": "MUST", "documented": "MUST",
    "SHOULD": "SHOULD", "should": "SHOULD", "observed": "SHOULD", "tested": "SHOULD",
    "MAY": "MAY",
}
ID_PATTERN = re.compile(r"^(ENTRA|RFC|TENANT)-[A-Z0-9]+(-[A-Z0-9]+)*$")


@dataclass(frozen=True)
class Source:
    doc: str
    title: str
    section: str
    url: str
    evidence: str
    word: str = ""  # what the source says: a key of WORDS


@dataclass(frozen=True)
class Requirement:
    id: str
    severity: str
    capability: str
    text: str
    source: Source
    in_practice: str
    needs: tuple[str, ...] = ()  # profile features it applies to only (groups, email-matching, ...)

    def as_dict(self, severity: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": severity or self.severity,
            "capability": self.capability,
            "text": self.text,
            "source": {"doc": self.source.doc, "title": self.source.title, "section": self.source.section,
                       "url": self.source.url, "evidence": self.source.evidence},
            "in_practice": self.in_practice,
        }


@dataclass(frozen=True)
class Registry:
    requirements: dict[str, Requirement]
    capabilities: dict[str, str]  # key -> title, in report order

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.requirements.values())


def registry_file() -> Path:
    return checks_dir() / "requirements.yaml"


@cache
def load_registry(path: Path | None = None) -> Registry:
    data = yaml.safe_load((path or registry_file()).read_text(encoding="utf-8"))
    sources: dict[str, dict[str, str]] = data["sources"]
    capabilities: dict[str, str] = data["capabilities"]
    requirements: dict[str, Requirement] = {}
    for row in data["requirements"]:
        rid = row["id"]
        if rid in requirements:
            raise ValueError(f"requirement {rid} is defined twice")
        doc = sources[row["source"]["doc"]]
        word = str(row["source"].get("word", ""))
        if word not in WORDS:
            raise ValueError(f"requirement {rid}: source.word {word!r} is not one of {', '.join(WORDS)}")
        section = str(row["source"].get("section", ""))
        url = doc["url"].format(section=section.replace("§", "").strip()) if "{section}" in doc["url"] \
            else doc["url"]
        requirements[rid] = Requirement(
            id=rid,
            severity=row["severity"],
            capability=row["capability"],
            text=row["text"].strip(),
            source=Source(row["source"]["doc"], doc["title"], section, url, row["source"].get("evidence", ""), word),
            in_practice=row.get("in_practice", "").strip(),
            needs=tuple(row.get("needs", ())),
        )
    return Registry(requirements, capabilities)
