"""The ticket API as a CRM or call-centre system uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aftercare.clock import FixedClock
from tests.e2e.conftest import auth
from tests.support.ticket_api import PROBLEM, complaint, expected_time, raise_ticket, send


def complaint_walk(clock: FixedClock) -> list[tuple[str, dict[str, Any], str]]:
    """Each command of a complaint from acknowledgement to a satisfied revisit, and the
    state it leaves the ticket in."""
    return [
        (
            "acknowledge",
            {
                "plan": "Call back, collect photos, replace boxes",
                "expected_resolution_at": expected_time(clock),
                "complaint_grade": "general",
            },
            "acknowledged",
        ),
        ("assign", {"assignee": "zhang.wei", "team": "quality"}, "acknowledged"),
        ("diagnose", {"findings": "Packaging failed in transit", "method": "remote"}, "diagnosed"),
        ("provide-workaround", {"description": "Use the three intact boxes first"}, "diagnosed"),
        (
            "resolve",
            {
                "solution": "Shipped two replacement boxes",
                "verification": {
                    "method": "Customer inspected",
                    "result": "no scratches",
                    "passed": True,
                },
            },
            "resolved",
        ),
        ("revisit", {"satisfaction": 5, "comments": "Quick and polite"}, "closed"),
    ]


async def test_complaint_walks_from_raise_to_close(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    created = await api.post("/tickets", json=complaint())
    assert created.status_code == 201
    ticket = created.json()
    assert created.headers["Location"] == f"/tickets/{ticket['id']}"
    assert created.headers["ETag"] == '"1"'
    assert (ticket["state"], ticket["kind"], ticket["customer_ref"]) == (
        "raised",
        "complaint",
        "CUST-0042",
    )
    assert "acknowledge" in ticket["allowed_commands"]
    assert "李娜" not in created.text  # P-PII: no contact details in the ticket

    for command, body, state in complaint_walk(clock):
        clock.advance(timedelta(minutes=10))
        response = await send(
            api, ticket, command, body, headers={"If-Match": f'"{ticket["version"]}"'}
        )
        assert response.status_code == 200, response.text
        ticket = response.json()
        assert ticket["state"] == state
        assert response.headers["ETag"] == f'"{ticket["version"]}"'

    assert ticket["satisfaction"] == 5
    # F-13: a closed case takes follow-up revisits and a dispute, or is reopened.
    assert ticket["allowed_commands"] == ["revisit", "reopen", "escalate", "report-progress"]
    history = (await api.get(f"/tickets/{ticket['id']}/events")).json()["events"]
    assert [event["type"] for event in history] == [
        "RequestRaised",
        "Acknowledged",
        "Assigned",
        "Diagnosed",
        "WorkaroundProvided",
        "Resolved",
        "Revisited",
        "Closed",
    ]
    assert [event["version"] for event in history] == list(range(1, 9))
    assert all(event["metadata"]["role"] == "admin" for event in history)  # F-9


async def test_unsatisfied_revisit_reopens(api: httpx.AsyncClient, clock: FixedClock) -> None:
    ticket = await raise_ticket(api, kind="support")
    steps: list[tuple[str, dict[str, Any]]] = [
        ("acknowledge", {"plan": "p", "expected_resolution_at": expected_time(clock)}),
        ("diagnose", {"findings": "f", "method": "on_site"}),
        (
            "resolve",
            {"solution": "s", "verification": {"method": "m", "result": "r", "passed": True}},
        ),
    ]
    for command, body in steps:
        assert (await send(api, ticket, command, body)).status_code == 200
    reopened = (await send(api, ticket, "revisit", {"satisfaction": 2})).json()
    assert (reopened["state"], reopened["reopen_count"]) == ("acknowledged", 1)  # F-7


async def test_problems_name_what_is_wrong(api: httpx.AsyncClient, clock: FixedClock) -> None:
    missing = await api.get("/tickets/no-such-ticket")
    assert (missing.status_code, missing.headers["content-type"]) == (404, PROBLEM)
    assert missing.json()["type"].endswith("/ticket-not-found")

    ticket = await raise_ticket(api)
    wrong_state = await send(
        api,
        ticket,
        "resolve",
        {"solution": "s", "verification": {"method": "m", "result": "r", "passed": True}},
    )
    problem = wrong_state.json()
    assert (wrong_state.status_code, problem["state"], problem["command"]) == (
        422,
        "raised",
        "resolve",
    )
    assert "acknowledge" in problem["allowed_commands"]

    ungraded = await send(
        api, ticket, "acknowledge", {"plan": "p", "expected_resolution_at": expected_time(clock)}
    )
    assert (ungraded.status_code, ungraded.json()["rule"]) == (422, "B-COMPLAINT-GRADE")

    malformed = await api.post("/tickets", json=complaint(kind="gift", subject=""))
    body = malformed.json()
    assert malformed.status_code == 422
    assert {e["field"] for e in body["errors"]} == {"kind", "subject"}
    assert next(e for e in body["errors"] if e["field"] == "subject")["rule"] == "B-TIME-ORDER"

    bad_score = await send(api, ticket, "revisit", {"satisfaction": 7})
    assert (bad_score.status_code, bad_score.json()["rule"]) == (422, "B-SATISFACTION")

    unknown_command = await send(api, ticket, "teleport", {})
    assert (unknown_command.status_code, unknown_command.headers["content-type"]) == (404, PROBLEM)

    after = (await api.get(f"/tickets/{ticket['id']}")).json()
    assert after["version"] == 1  # nothing half-written by any refusal


async def test_as_of_shows_the_past(api: httpx.AsyncClient, clock: FixedClock) -> None:
    ticket = await raise_ticket(api, kind="support")
    raised_at = clock.now()
    clock.advance(timedelta(hours=1))
    await send(
        api, ticket, "acknowledge", {"plan": "p", "expected_resolution_at": expected_time(clock)}
    )
    url = f"/tickets/{ticket['id']}"
    then = await api.get(url, params={"as_of": (raised_at + timedelta(minutes=30)).isoformat()})
    assert (then.json()["state"], then.json()["version"]) == ("raised", 1)
    assert then.headers["ETag"] == '"1"'
    now = await api.get(url, params={"as_of": clock.now().isoformat()})
    assert now.json()["state"] == "acknowledged"
    before = await api.get(url, params={"as_of": (raised_at - timedelta(1)).isoformat()})
    assert before.status_code == 404


async def test_personal_data_only_for_admin_and_notifier(api: httpx.AsyncClient) -> None:
    ticket = await raise_ticket(api)
    url = f"/tickets/{ticket['id']}"
    for role in ("admin", "notifier"):
        contact = await api.get(f"{url}/contact", headers=auth(role))
        assert contact.status_code == 200
        assert contact.json()["email"] == "li.na@example.com"
    for role in ("reader", "engineer", "intake"):
        denied = await api.get(f"{url}/contact", headers=auth(role))
        assert (denied.status_code, denied.json()["rule"]) == (403, "P-PII")
    as_reader = await api.get(f"{url}/events", headers=auth("reader"))
    assert "li.na@example.com" not in as_reader.text
    assert as_reader.json()["events"][0]["data"]["customer_ref"] == "CUST-0042"
    as_admin = await api.get(f"{url}/events")
    assert as_admin.json()["events"][0]["data"]["contact"]["name"] == "李娜"


async def test_roles_and_keys(api: httpx.AsyncClient, clock: FixedClock) -> None:
    no_key = await api.get("/tickets", headers={"Authorization": ""})
    assert (no_key.status_code, no_key.headers["www-authenticate"]) == (401, "Bearer")
    bad_key = await api.get("/tickets", headers={"Authorization": "Bearer nope"})
    assert bad_key.status_code == 401

    created = await api.post("/tickets", json=complaint(), headers=auth("intake"))
    assert created.status_code == 201
    ticket = created.json()
    ack = {
        "plan": "p",
        "expected_resolution_at": expected_time(clock),
        "complaint_grade": "general",
    }
    forbidden = await send(api, ticket, "acknowledge", ack, headers=auth("intake"))
    assert (forbidden.status_code, forbidden.json()["command"]) == (403, "acknowledge")
    assert (
        await send(api, ticket, "acknowledge", ack, headers=auth("engineer"))
    ).status_code == 200
    reader_write = await api.post("/tickets", json=complaint(), headers=auth("reader"))
    assert reader_write.status_code == 403
    assert (await api.get("/tickets", headers=auth("reader"))).status_code == 200
    progress = await send(
        api, ticket, "report-progress", {"message": "m"}, headers=auth("notifier")
    )
    assert progress.status_code == 200
    actor = await send(
        api,
        ticket,
        "assign",
        {"assignee": "x"},
        headers={**auth("engineer"), "X-Actor": "wang.fang", "X-Correlation-ID": "crm-9"},
    )
    history = (await api.get(f"/tickets/{ticket['id']}/events")).json()["events"]
    assert actor.status_code == 200
    assert history[-1]["metadata"]["actor"] == "wang.fang"
    assert history[-1]["metadata"]["correlation_id"] == "crm-9"
    assert history[-1]["metadata"]["request_id"] == actor.headers["X-Request-ID"]


async def test_list_filters_and_pages(api: httpx.AsyncClient, clock: FixedClock) -> None:
    for n in range(5):
        clock.advance(timedelta(minutes=1))
        await raise_ticket(
            api, kind="support" if n % 2 else "repair", customer={"id": f"C-{n % 2}", "name": "N"}
        )
    support = (await api.get("/tickets", params={"kind": "support"})).json()["items"]
    assert [t["customer_ref"] for t in support] == ["C-1", "C-1"]

    seen: list[str] = []
    url: str | None = "/tickets?limit=2"
    while url:
        page = (await api.get(url)).json()
        seen += [t["id"] for t in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5
    created = [(await api.get(f"/tickets/{i}")).json()["created_at"] for i in seen]
    assert created == sorted(created, reverse=True)
    bad = await api.get("/tickets", params={"cursor": "!!"})
    assert (bad.status_code, bad.json()["field"]) == (422, "cursor")


async def test_waiting_and_parts_return_where_they_left(
    api: httpx.AsyncClient, clock: FixedClock
) -> None:
    ticket = await raise_ticket(api, kind="support")
    await send(
        api, ticket, "acknowledge", {"plan": "p", "expected_resolution_at": expected_time(clock)}
    )
    waiting = (await send(api, ticket, "request-info", {"requested": "logs"})).json()
    assert waiting["state"] == "waiting_on_customer"
    back = await send(
        api, ticket, "provide-info", {"information": "attached"}, headers=auth("intake")
    )
    assert back.json()["state"] == "acknowledged"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
async def test_service_endpoints(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 200


async def test_metrics_are_exposed_for_prometheus(api: httpx.AsyncClient) -> None:
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE aftercare_relay_publish_lag_seconds histogram" in response.text

    async def healthz_count() -> float:
        text = (await api.get("/metrics")).text
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "aftercare_http_request_duration_seconds_count"
            and sample.labels["route"] == "/healthz"
        )

    before = await healthz_count()
    await api.get("/healthz")
    await api.get("/healthz")
    assert await healthz_count() == before + 2
