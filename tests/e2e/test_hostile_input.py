"""What an attacker or a broken client sends: every answer a clear 4xx problem, on both
databases, and nothing written. Each case here was once a 500 or an unbounded read."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.auth import KeyRing, parse_api_keys
from aftercare.clock import FixedClock
from aftercare_sla.entrypoints.app import create_sla_app
from aftercare_system.settings import SystemSettings
from aftercare_ticket.entrypoints.app import create_app
from tests.e2e.conftest import KEYS, auth
from tests.support.ticket_api import PROBLEM, complaint, raise_ticket

FAR_PAST = "0001-01-01T00:00:00+01:00"
FAR_FUTURE = "9999-12-31T23:59:59-01:00"


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert "Traceback" not in response.text
    return body


async def ticket_count(api: httpx.AsyncClient) -> int:
    return len((await api.get("/tickets")).json()["items"])


async def test_a_huge_body_without_a_key_is_refused_before_it_is_read(
    api: httpx.AsyncClient,
) -> None:
    declared = await api.post(
        "/tickets",
        content=b"{}",
        headers={"Content-Length": str(200 * 1024 * 1024), "Authorization": ""},
    )
    assert problem_of(declared, 413)["max_body_bytes"] == 256 * 1024

    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        chunk = b"x" * 65536
        for _ in range(3200):  # 200 MB, if anyone read it all
            sent.append(len(chunk))
            yield chunk

    streamed = await api.post(
        "/tickets", content=endless(), headers={"Content-Type": "application/json"}
    )
    problem_of(streamed, 413)
    assert sum(sent) < 1024 * 1024, "the body was read past the limit"
    assert await ticket_count(api) == 0


async def test_bodies_must_be_json(api: httpx.AsyncClient) -> None:
    refused = await api.post(
        "/tickets", content=orjson.dumps(complaint()), headers={"Content-Type": "text/plain"}
    )
    assert problem_of(refused, 415)["field"] == "Content-Type"
    undeclared = await api.post("/tickets", content=orjson.dumps(complaint()))
    problem_of(undeclared, 415)


@pytest.mark.parametrize("requested_at", [FAR_PAST, FAR_FUTURE])
async def test_unrepresentable_instants_are_validation_errors(
    api: httpx.AsyncClient, requested_at: str
) -> None:
    response = await api.post("/tickets", json=complaint(requested_at=requested_at))
    assert problem_of(response, 422)["field"] == "requested_at"
    assert await ticket_count(api) == 0


@pytest.mark.parametrize("requested_at", ["1970-01-01T00:00:00Z", "2026-01-30T08:59:00Z"])
async def test_requests_older_than_the_backdating_window_are_refused(
    api: httpx.AsyncClient, requested_at: str
) -> None:
    """B-TIME-ORDER: the fixed clock is 2026-03-02 09:00 UTC; the window is 30 days."""
    response = await api.post("/tickets", json=complaint(requested_at=requested_at))
    body = problem_of(response, 422)
    assert (body["rule"], body["field"]) == ("B-TIME-ORDER", "requested_at")
    within = await api.post("/tickets", json=complaint(requested_at="2026-02-01T09:00:00Z"))
    assert within.status_code == 201


@pytest.mark.parametrize("as_of", [FAR_PAST, FAR_FUTURE, "2026-03-02T09:00:00"])
async def test_as_of_outside_the_range_is_a_validation_error(
    api: httpx.AsyncClient, as_of: str
) -> None:
    ticket = await raise_ticket(api)
    response = await api.get(f"/tickets/{ticket['id']}", params={"as_of": as_of})
    assert problem_of(response, 422)["field"] == "as_of"


@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(b'["2026-01-01T00:00:00","x"]').decode(),  # naive time
        base64.urlsafe_b64encode(b'["2026-01-01T00:00:00Z","a\\u0000b"]').decode(),
        base64.urlsafe_b64encode(b'["2026-01-01T00:00:00Z",{"id":1}]').decode(),
        "not-base64!",
    ],
)
async def test_a_forged_cursor_is_a_validation_error(api: httpx.AsyncClient, cursor: str) -> None:
    response = await api.get("/tickets", params={"cursor": cursor})
    assert problem_of(response, 422)["field"] == "cursor"


@pytest.mark.parametrize("version", [1e30, 2**64, -1])
async def test_an_impossible_expected_version_is_a_validation_error(
    api: httpx.AsyncClient, version: float
) -> None:
    ticket = await raise_ticket(api)
    response = await api.post(
        f"/tickets/{ticket['id']}/report-progress",
        json={"message": "m", "expected_version": version},
    )
    assert problem_of(response, 422)["field"] == "expected_version"
    huge_etag = await api.post(
        f"/tickets/{ticket['id']}/report-progress",
        json={"message": "m"},
        headers={"If-Match": f'"{10**30}"'},
    )
    assert problem_of(huge_etag, 422)["field"] == "If-Match"


async def test_nul_characters_are_refused_alike_on_both_databases(
    api: httpx.AsyncClient,
) -> None:
    in_body = await api.post("/tickets", json=complaint(subject="wafer\u0000scratched"))
    assert problem_of(in_body, 422)["field"] == "subject"
    in_path = await api.get("/tickets/%00")
    assert problem_of(in_path, 400)["field"] == "path"
    in_query = await api.get("/tickets", params={"customer_ref": "a\u0000"})
    assert problem_of(in_query, 400)["field"] == "query"
    assert await ticket_count(api) == 0


async def test_lists_and_strings_are_bounded(api: httpx.AsyncClient) -> None:
    attachment = {"name": "photo", "url": "https://example.com/p.jpg"}
    too_many = await api.post("/tickets", json=complaint(attachments=[attachment] * 51))
    assert problem_of(too_many, 422)["field"] == "attachments"
    too_long = await api.post("/tickets", json=complaint(subject="x" * 201))
    assert problem_of(too_long, 422)["field"] == "subject"
    assert await ticket_count(api) == 0


async def test_recorded_headers_are_bounded_and_the_key_is_always_recorded(
    api: httpx.AsyncClient,
) -> None:
    forged = await api.post("/tickets", json=complaint(), headers={"X-Actor": "x" * 8000})
    assert problem_of(forged, 422)["field"] == "x-actor"
    control = await api.post("/tickets", json=complaint(), headers={"X-Request-ID": "a\tb"})
    assert problem_of(control, 422)["field"] == "x-request-id"
    claimed = await api.post(
        "/tickets", json=complaint(), headers={**auth("intake"), "X-Actor": "agent Wang"}
    )
    assert claimed.status_code == 201
    events = (await api.get(f"/tickets/{claimed.json()['id']}/events")).json()["events"]
    metadata = events[0]["metadata"]
    assert metadata["actor"] == "agent Wang"
    assert metadata["key"].startswith("key-")  # the intake key's name: its digest
    assert KEYS["intake"] not in orjson.dumps(events).decode()


async def test_an_event_too_large_to_publish_is_never_recorded(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    settings = SystemSettings(api_keys="k=admin", max_event_bytes=16 * 1024)
    app = create_app(settings, engine=engine, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": "Bearer k"},
    ) as small:
        response = await small.post("/tickets", json=complaint(description="中" * 10_000))
        body = problem_of(response, 413)
        assert body["max_event_bytes"] == 16 * 1024
        assert await ticket_count(small) == 0


async def test_an_unexpected_error_is_a_problem_without_a_trace(
    api: httpx.AsyncClient, engine: AsyncEngine, clock: FixedClock
) -> None:
    settings = SystemSettings(api_keys="k=admin")
    app = create_app(settings, engine=engine, clock=clock)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("customer li.na@example.com broke it")

    app.state.ticket_service.get = broken
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": "Bearer k"},
    ) as client:
        response = await client.get("/tickets/any", headers={"X-Request-ID": "req-42"})
    body = problem_of(response, 500)
    assert body["request_id"] == "req-42"
    assert "li.na" not in response.text


async def test_the_sla_api_refuses_unrepresentable_instants(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    app = create_sla_app(engine, clock, KeyRing(parse_api_keys("k=reader")))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://sla",
        headers={"Authorization": "Bearer k"},
    ) as sla:
        response = await sla.get("/sla/breaches", params={"since": "0001-01-01T00:00:00+05:00"})
        assert problem_of(response, 422)["field"] == "since"
        nul = await sla.get("/sla/tickets/%00")
        problem_of(nul, 400)


@pytest.mark.parametrize("address", ["not an address", "li.na@", "li.na@example..com", "@x.cn"])
async def test_a_malformed_email_address_is_refused_at_the_door(
    api: httpx.AsyncClient, address: str
) -> None:
    """Addresses are checked when they come in (events read back trust what was checked
    once): a bad one is a 422 naming the field, and no ticket."""
    customer = {"id": "CUST-7", "name": "Wang", "email": address}
    refused = await api.post("/tickets", json=complaint(customer=customer))
    body = problem_of(refused, 422)
    assert body["field"] == "customer.email"
    assert address not in refused.text  # personal data is not echoed back
    assert await ticket_count(api) == 0
