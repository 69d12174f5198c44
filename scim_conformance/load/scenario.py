"""What a load run sends: Entra's initial cycle, its incremental cycle, the removal, and three race probes.

The cycle, in the profile's dialect and with bodies from the profile's mappings:
  users      per user: the lookup that misses (`userName eq`), then the create
  groups     per user with a manager: the manager PATCH; per group: the lookup (`displayName eq`, members
             excluded), the create, then its members added in batches
  changes    the incremental cycle: an attribute PATCH per user, and every fifth user deactivated
  removal    every group and user the run created is deleted (journalled, whatever the bounds)

Every create is journalled before it is sent, so `scim-conformance cleanup --journal` removes what a killed
run left. A share (`index`, `count`) splits the people between Locust workers: each worker provisions only
its own users, groups and memberships.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scim_conformance import steps
from scim_conformance.attributes import ENTERPRISE_USER, parse_path, read
from scim_conformance.client import Exchange
from scim_conformance.identities import IdentityFactory
from scim_conformance.journal import Journal
from scim_conformance.load.generator import Job, Phase, Sender, concurrently
from scim_conformance.outcomes import Outcome
from scim_conformance.profile import Profile

# Entra adds group members in batches; the batch size is undocumented, and the gallery checklist's example of
# "several members in one PATCH" carries 50.
MEMBER_BATCH = 50
MANAGER_EVERY = 10  # user 0 manages users 1-9, user 10 manages 11-19, ...
DEACTIVATE_EVERY = 5
# How many requests race in each probe: enough for a check-then-write gap to let more than one through.
RACE_WIDTH = 8
# Attributes the concurrent-PATCH probe changes at once, one per request.
RACE_ATTRIBUTES = ("title", "displayName", f"{ENTERPRISE_USER}:department", f"{ENTERPRISE_USER}:employeeNumber")


def _ok(exchange: Exchange | None) -> bool:
    return exchange is not None and exchange.status is not None and 200 <= exchange.status < 300


def _id(exchange: Exchange | None) -> str | None:
    data = exchange.json if exchange is not None else None
    value = data.get("id") if isinstance(data, dict) else None
    return value if _ok(exchange) and isinstance(value, str) and value else None


@dataclass
class Created:
    """What the run made, by endpoint (ids in creation order); removal deletes exactly these."""

    users: dict[int, str] = field(default_factory=dict)  # user number -> id
    groups: dict[int, str] = field(default_factory=dict)
    extra: list[tuple[str, str]] = field(default_factory=list)  # (endpoint, id) made by probes, not yet removed


class EntraCycle:
    def __init__(self, profile: Profile, identities: IdentityFactory, journal: Journal, *, users: int, groups: int,
                 share: tuple[int, int] = (0, 1)) -> None:
        self.profile = profile
        self.dialect = profile.dialect
        self.identities = identities
        self.journal = journal
        index, count = share
        self.user_numbers = [n for n in range(users) if n % count == index]
        self.group_numbers = [g for g in range(groups if profile.groups else 0) if g % count == index]
        self.group_count = groups
        self.created = Created()
        self._lock = threading.Lock()  # faker is not thread-safe, and bodies are made as the jobs run

    # --- the plan ---------------------------------------------------------------------------------------------
    def phases(self) -> list[Phase]:
        return [
            Phase("users", lambda: [self._user_job(n) for n in self.user_numbers]),
            Phase("groups", lambda: [self._manager_job(p) for p in range(len(self.user_numbers)) if p % MANAGER_EVERY]
                  + [self._group_job(g) for g in self.group_numbers]),
            Phase("changes", lambda: [self._change_job(n) for n in sorted(self.created.users)]),
            Phase("removal", self._removal_jobs, essential=True),
        ]

    def planned_requests(self) -> int:
        users, groups = len(self.user_numbers), len(self.group_numbers)
        members = -(-users // max(self.group_count, 1) // MEMBER_BATCH) or 1
        return users * 5 + users - users // MANAGER_EVERY + groups * (3 + members)

    # --- jobs ------------------------------------------------------------------------------------------------
    def _create(self, sender: Sender, kind: str, endpoint: str, body: dict[str, Any], name: str) -> str | None:
        self.journal.intend(endpoint, name)
        resource_id = _id(sender.send(kind, "POST", endpoint, json_body=body))
        if resource_id:
            self.journal.created(endpoint, resource_id, name)
        return resource_id

    def _user_job(self, number: int) -> Job:
        def job(sender: Sender) -> None:
            with self._lock:
                body = self.identities.user_body()
            name = body["userName"]
            if steps.lookup(sender.kind("lookup-user"), "/Users", "userName", name) is None:  # type: ignore[arg-type]
                return
            resource_id = self._create(sender, "create-user", "/Users", body, name)
            if resource_id:
                self.created.users[number] = resource_id

        return job

    def _manager_job(self, position: int) -> Job:
        """The manager PATCH of this share's user at `position`; the first of every ten manages the rest."""
        def job(sender: Sender) -> None:
            user = self.created.users.get(self.user_numbers[position])
            boss = self.created.users.get(self.user_numbers[position - position % MANAGER_EVERY])
            if user and boss:
                operation = self.dialect.operation("add", f"{ENTERPRISE_USER}:manager",
                                                   self.dialect.manager_value(boss))
                sender.send("patch-manager", "PATCH", f"/Users/{user}", json_body=self.dialect.patch(operation))

        return job

    def _group_job(self, number: int) -> Job:
        def job(sender: Sender) -> None:
            with self._lock:
                body = self.identities.group_body()
            name = body["displayName"]
            if steps.lookup(sender.kind("lookup-group"), "/Groups", "displayName", name,  # type: ignore[arg-type]
                            excludedAttributes="members") is None:
                return
            group = self._create(sender, "create-group", "/Groups", body, name)
            if not group:
                return
            self.created.groups[number] = group
            members = [i for n, i in sorted(self.created.users.items()) if n % self.group_count == number]
            for start in range(0, len(members), MEMBER_BATCH):
                batch = members[start:start + MEMBER_BATCH]
                patch = self.dialect.patch(self.dialect.add_members(batch))
                if sender.send("add-members", "PATCH", f"/Groups/{group}", json_body=patch) is None:
                    return

        return job

    def _change_job(self, number: int) -> Job:
        def job(sender: Sender) -> None:
            user = self.created.users.get(number)
            if not user:
                return
            changes = self.dialect.replace_attributes({"title": f"Load {number}",
                                                       f"{ENTERPRISE_USER}:department": "Load testing"})
            sender.send("patch-user", "PATCH", f"/Users/{user}", json_body=self.dialect.patch(*changes))
            if number % DEACTIVATE_EVERY == 0:
                operation = self.dialect.operation("replace", "active", self.dialect.boolean(False))
                sender.send("deactivate-user", "PATCH", f"/Users/{user}", json_body=self.dialect.patch(operation))

        return job

    def _removal_jobs(self) -> list[Job]:
        targets = [("/Groups", i) for i in self.created.groups.values()] + \
            [("/Users", i) for i in self.created.users.values()] + list(self.created.extra)
        return [self._delete_job(endpoint, resource_id) for endpoint, resource_id in targets]

    def _delete_job(self, endpoint: str, resource_id: str) -> Job:
        def job(sender: Sender) -> None:
            kind = "delete-group" if endpoint == "/Groups" else "delete-user"
            exchange = sender.send(kind, "DELETE", f"{endpoint}/{resource_id}", essential=True)
            if exchange is not None and exchange.status in (200, 204, 404):
                self.journal.removed(endpoint, resource_id)

        return job

    # --- race probes -----------------------------------------------------------------------------------------
    def probes(self, senders: list[Sender]) -> list[ProbeResult]:
        """The three races, each on its own fresh resources, which it removes again."""
        # Every racer opens its connection first, so that the racing requests leave together.
        warm_up = [lambda s: s.send("race-setup", "GET", "/ServiceProviderConfig")] * RACE_WIDTH
        concurrently(senders[:RACE_WIDTH], warm_up)
        return [self.duplicate_create(senders), self.concurrent_member_adds(senders),
                self.concurrent_attribute_patches(senders)]

    def _premise_user(self, sender: Sender) -> str | None:
        with self._lock:
            body = self.identities.user_body()
        return self._own(self._create(sender, "race-setup", "/Users", body, body["userName"]), "/Users")

    def _own(self, resource_id: str | None, endpoint: str) -> str | None:
        if resource_id:
            self.created.extra.append((endpoint, resource_id))
        return resource_id

    def _remove_extra(self, sender: Sender) -> None:
        while self.created.extra:
            endpoint, resource_id = self.created.extra.pop()
            self._delete_job(endpoint, resource_id)(sender)

    def duplicate_create(self, senders: list[Sender]) -> ProbeResult:
        """RACE_WIDTH creates of one userName at the same moment: one 201, the rest 409, one user afterwards."""
        result = ProbeResult("ENTRA-LOAD-CREATE-RACE", "race-create",
                             f"{RACE_WIDTH} concurrent POST /Users with the same userName")
        with self._lock:
            body = self.identities.user_body()
        name = body["userName"]
        calls: list[Callable[[Sender], Any]] = [
            lambda s: self._journalled_post(s, body, name) for _ in range(RACE_WIDTH)]
        answers = [a for a in concurrently(senders[:RACE_WIDTH], calls) if a is not None]
        result.exchanges += answers
        created = [a for a in answers if _ok(a)]
        lookup = steps.lookup(senders[0].kind("race-check"), "/Users", "userName", name)  # type: ignore[arg-type]
        found = (lookup.json or {}).get("totalResults") if lookup is not None and isinstance(lookup.json, dict) \
            else None
        if lookup is not None:
            result.exchanges.append(lookup)
        statuses = sorted(a.status for a in answers if a.status is not None)
        result.expected = f"one 201 and {RACE_WIDTH - 1} x 409 (uniqueness); one user named {name} afterwards"
        result.actual = f"statuses {statuses}; a lookup of the name finds {found} user(s)"
        if not created:
            result.block(f"none of the {RACE_WIDTH} creates succeeded: {statuses}")
        elif len(created) > 1 or (isinstance(found, int) and found > 1) or \
                any(a.status != 409 for a in answers if not _ok(a)):
            result.fail()
        self._remove_extra(senders[0])
        return result

    def _journalled_post(self, sender: Sender, body: dict[str, Any], name: str) -> Exchange | None:
        self.journal.intend("/Users", name)
        exchange = sender.send("race-create", "POST", "/Users", json_body=body)
        resource_id = _id(exchange)
        if resource_id:
            self.journal.created("/Users", resource_id, name)
            with self._lock:
                self._own(resource_id, "/Users")
        return exchange

    def concurrent_member_adds(self, senders: list[Sender]) -> ProbeResult:
        """RACE_WIDTH member adds to one group at the same moment, one member each: every one is kept."""
        result = ProbeResult("ENTRA-LOAD-MEMBER-RACE", "race-add-members",
                             f"{RACE_WIDTH} concurrent PATCH add members, one new member each, to one group")
        if not self.profile.groups:
            result.not_applicable(f"profile {self.profile.name} does not provision groups")
            return result
        users = [self._premise_user(senders[0]) for _ in range(RACE_WIDTH)]
        with self._lock:
            body = self.identities.group_body()
        group = self._own(self._create(senders[0], "race-setup", "/Groups", body, body["displayName"]), "/Groups")
        if not group or not all(users):
            result.block("could not create the group and users the probe needs")
            self._remove_extra(senders[0])
            return result
        def add(member: str) -> Callable[[Sender], Any]:
            return lambda s: s.send("race-add-members", "PATCH", f"/Groups/{group}",
                                    json_body=self.dialect.patch(self.dialect.add_members([member])))

        calls = [add(member) for member in users if member]  # all are, as checked above
        answers = [a for a in concurrently(senders[:RACE_WIDTH], calls) if a is not None]
        added = [m for m, a in zip(users, answers, strict=False) if _ok(a)]
        reread = senders[0].send("race-check", "GET", f"/Groups/{group}")
        result.exchanges += [*answers, *([reread] if reread is not None else [])]
        data = reread.json if reread is not None and isinstance(reread.json, dict) else {}
        present = {m.get("value") for m in data.get("members") or [] if isinstance(m, dict)}
        lost = [m for m in added if m not in present]
        result.expected = f"all {len(added)} members whose add was answered 2xx are in the group"
        result.actual = f"{len(added) - len(lost)} of them are; lost: {lost}" if lost else \
            f"all {len(added)} are"
        if not added or reread is None or reread.status != 200:
            result.block(f"no add succeeded, or the group could not be read back ({len(added)} adds answered 2xx)")
        elif lost:
            result.fail()
        self._remove_extra(senders[0])
        return result

    def concurrent_attribute_patches(self, senders: list[Sender]) -> ProbeResult:
        """PATCHes of different attributes of one user at the same moment: every change is kept."""
        width = len(RACE_ATTRIBUTES)
        result = ProbeResult("ENTRA-LOAD-PATCH-RACE", "race-patch",
                             f"{width} concurrent PATCH replace of one user, each of a different attribute")
        user = self._premise_user(senders[0])
        if not user:
            result.block("could not create the user the probe needs")
            return result
        values = {path: f"race {n} {user[:8]}" for n, path in enumerate(RACE_ATTRIBUTES)}
        def replace(path: str, value: str) -> Callable[[Sender], Any]:
            return lambda s: s.send("race-patch", "PATCH", f"/Users/{user}",
                                    json_body=self.dialect.patch(self.dialect.operation("replace", path, value)))

        calls = [replace(path, value) for path, value in values.items()]
        answers = [a for a in concurrently(senders[:width], calls) if a is not None]
        applied = [p for p, a in zip(values, answers, strict=False) if _ok(a)]
        reread = senders[0].send("race-check", "GET", f"/Users/{user}")
        result.exchanges += [*answers, *([reread] if reread is not None else [])]
        data = reread.json if reread is not None and isinstance(reread.json, dict) else {}
        lost = [p for p in applied if read(data, parse_path(p)) != values[p]]
        result.expected = f"all {len(applied)} attributes whose PATCH was answered 2xx carry the new value"
        result.actual = f"lost: {', '.join(lost)}" if lost else f"all {len(applied)} do"
        if not applied or reread is None or reread.status != 200:
            result.block(f"no PATCH succeeded, or the user could not be read back ({len(applied)} answered 2xx)")
        elif lost:
            result.fail()
        self._remove_extra(senders[0])
        return result


@dataclass
class ProbeResult:
    """What a race probe established about its requirement."""

    requirement: str
    kind: str
    stimulus: str
    outcome: str = Outcome.PASS.value  # or fail, blocked, not-applicable
    expected: str = ""
    actual: str = ""
    message: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    # A probe rebuilt on the Locust master from a worker's data has its transcript as recorded there.
    recorded: list[dict[str, Any]] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        """Plain data (the exchanges as recorded), to travel from a Locust worker to the master."""
        data = {k: v for k, v in self.__dict__.items() if k not in ("exchanges", "recorded")}
        return {**data, "transcript": self.transcript()}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ProbeResult:
        return cls(**{k: v for k, v in data.items() if k != "transcript"}, recorded=list(data.get("transcript") or []))

    def transcript(self) -> list[dict[str, Any]]:
        return self.recorded or [e.as_dict() for e in self.exchanges]

    def fail(self) -> None:
        self.outcome = Outcome.FAIL.value

    def block(self, why: str) -> None:
        self.outcome, self.message = Outcome.BLOCKED.value, f"blocked: {why}"

    def not_applicable(self, why: str) -> None:
        self.outcome, self.message = Outcome.NOT_APPLICABLE.value, f"not applicable: {why}"
