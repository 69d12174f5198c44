"""bench/load.py's locustfile for the user class `load` ran before FastHttpUser: the same scenario, its requests
sent by the run's client over requests (one per Locust user), to measure the two side by side."""

from __future__ import annotations

from locust import User, constant, task

from scim_conformance.load.generator import Sender
from scim_conformance.load.locustfile import *  # noqa: F403  # the scenario, its options and the master's hooks
from scim_conformance.load.locustfile import _Provisioning, _share


class RequestsProvisioning(_Provisioning, User):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.share = _share(self.environment)
        self.sender = Sender(self.share.client(), self.share.traffic)

    @task
    def job(self) -> None:
        self.next_job()
