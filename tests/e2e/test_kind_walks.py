"""Every kind of case walked over HTTP, on SQLite and PostgreSQL: each step through its
own path, ``allowed_commands`` at every step exactly the flow table's, no fake step, and
every clock of that kind met when the SLA watcher's arithmetic reads the history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from aftercare.clock import FixedClock
from aftercare_sla.domain.facts import Fact
from aftercare_ticket.domain.machine import paths
from aftercare_ticket.domain.vocabulary import Kind, State
from aftercare_ticket.examples import WALKS, raise_body, step_time, walk_command
from tests.support.walks import assert_every_clock_met

TABLE = paths()


def dashed(names: list[str]) -> list[str]:
    return [name.replace("_", "-") for name in names]


def as_fact(number: int, event: dict[str, Any]) -> Fact:
    data = event["data"]
    at = data.get("occurred_at") or data.get("requested_at")
    return Fact(number, event["type"], datetime.fromisoformat(at), data)


@pytest.mark.parametrize("walk", list(WALKS))
async def test_each_kind_walks_its_path_over_http(
    api: httpx.AsyncClient, clock: FixedClock, walk: str
) -> None:
    kind, steps = WALKS[walk]
    raised = await api.post("/tickets", json=raise_body(kind).model_dump(mode="json"))
    assert raised.status_code == 201, raised.text
    ticket = raised.json()
    for number, name in enumerate(steps):
        state = State(ticket["state"])
        assert ticket["allowed_commands"] == dashed(TABLE[Kind(kind)][state]), (walk, state)
        assert name.replace("_", "-") in ticket["allowed_commands"], (walk, name)
        clock.set(step_time(number))
        command = walk_command(walk, name, kind, clock.now())
        body = command.model_dump(mode="json", exclude_none=True)
        response = await api.post(f"/tickets/{ticket['id']}/{name.replace('_', '-')}", json=body)
        assert response.status_code == 200, (walk, name, response.text)
        ticket = response.json()
    assert ticket["state"] == "closed"
    assert ticket["allowed_commands"] == dashed(TABLE[Kind(kind)][State.CLOSED])
    history = (await api.get(f"/tickets/{ticket['id']}/events")).json()["events"]
    assert_every_clock_met(walk, [as_fact(n, e) for n, e in enumerate(history, start=1)])
