"""The requirement registry: every requirement the suite can verify, as data (`conformance/requirements.yaml`).

A requirement has a stable id, a severity, a capability (the group it is shown under), a structured
source (a document key from the registry's own table plus a section) and one sentence of what a
conforming server does. The report is keyed by these ids. The file is checked against
`requirements.schema.json` on every load, as profiles are, and a broken one is refused in one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from scim_conformance.paths import YAML_LOADER, checks_dir

SEVERITIES = ("MUST", "SHOULD", "MAY")
# The word a requirement's source uses, and the severity it gives (the header of requirements.yaml says what
# each means): a severity is the source's word, never a judgement of how much it matters.
WORDS: dict[str, str] = {
    "MUST": "MUST", "SHALL": "MUST", "REQUIRED": "MUST", "must": "MUST", "defined": "MUST", "documented": "MUST",
    "SHOULD": "SHOULD", "should": "SHOULD", "observed": "SHOULD", "tested": "SHOULD",
    "MAY": "MAY", "advisory": "MAY",
}


class RegistryError(Exception):
    """A broken requirements.yaml; the message is the one line the user sees."""


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
    messages: tuple[str, ...] = ()  # cross-cutting: the message kinds whose schema it judges on every response
    media_type: str | None = None  # cross-cutting: the media type every response with a body carries

    def as_dict(self, severity: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": severity or self.severity,
            "capability": self.capability,
            "text": self.text,
            "source": {"doc": self.source.doc, "title": self.source.title, "section": self.source.section,
                       "url": self.source.url, "evidence": self.source.evidence},
            "in_practice": self.in_practice,
            "cross_cutting": bool(self.messages or self.media_type),
        }


@dataclass(frozen=True)
class Registry:
    requirements: dict[str, Requirement]
    capabilities: dict[str, str]  # key -> title, in report order

    def __getitem__(self, requirement_id: str) -> Requirement:
        return self.requirements[requirement_id]

    def __contains__(self, requirement_id: object) -> bool:
        return requirement_id in self.requirements

    def __iter__(self) -> Iterator[Requirement]:
        return iter(self.requirements.values())

    def message_requirement(self, message_kind: str) -> str | None:
        """The requirement that judges every response of this message kind against its schema."""
        for requirement in self:
            if message_kind in requirement.messages:
                return requirement.id
        return None

    @property
    def media_type_requirements(self) -> list[Requirement]:
        return [r for r in self if r.media_type]


def registry_file() -> Path:
    return checks_dir() / "requirements.yaml"


def _checked(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise RegistryError(f"{path}: {exc}") from None
    schema = json.loads((path.parent / "requirements.schema.json").read_text(encoding="utf-8"))
    if jsonschema_rs.Draft202012Validator(schema, offline=True).is_valid(data):
        return dict(data)  # jsonschema (imported and walked only for a broken file) says where it breaks
    import jsonschema

    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        raise RegistryError(f"{path}: at {where}: {error.message}")
    return dict(data)


@cache
def load_registry(path: Path | None = None) -> Registry:
    path = path or registry_file()
    data = _checked(path)
    sources: dict[str, dict[str, str]] = data["sources"]
    capabilities: dict[str, str] = data["capabilities"]
    requirements: dict[str, Requirement] = {}
    for row in data["requirements"]:
        rid = row["id"]
        if rid in requirements:
            raise RegistryError(f"{path}: requirement {rid} is defined twice")
        if row["source"]["doc"] not in sources or row["capability"] not in capabilities:
            raise RegistryError(f"{path}: {rid}: unknown source doc {row['source']['doc']!r} or capability "
                                f"{row['capability']!r}")
        doc = sources[row["source"]["doc"]]
        word = str(row["source"]["word"])  # requirements.schema.json admits only the keys of WORDS
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
            messages=tuple(row.get("judges", {}).get("messages", ())),
            media_type=row.get("judges", {}).get("media_type"),
        )
    return Registry(requirements, capabilities)
