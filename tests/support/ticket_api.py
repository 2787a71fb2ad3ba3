"""Requests to the ticket API as the end-to-end tests make them: a complaint as a CRM
would raise it, and a command on a ticket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from aftercare.clock import FixedClock

PROBLEM = "application/problem+json"


def complaint(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "channel": "phone",
        "customer": {
            "id": "CUST-0042",
            "name": "李娜",
            "email": "li.na@example.com",
            "phone": "+86 138 0000 0000",
            "language": "zh-CN",
        },
        "product": {"sku": "WF-8IN-P", "model": "W200", "order_ref": "SO-2026-118"},
        "subject": "Delivered wafers were scratched",
        "description": "Two of five boxes arrived with scratched wafers",
    }
    body.update(overrides)
    return body


async def raise_ticket(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await api.post("/tickets", json=complaint(**overrides))
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def send(
    api: httpx.AsyncClient,
    ticket: dict[str, Any],
    command: str,
    body: dict[str, Any],
    **kwargs: Any,
) -> httpx.Response:
    return await api.post(f"/tickets/{ticket['id']}/{command}", json=body, **kwargs)


def expected_time(clock: FixedClock, hours: int = 24) -> str:
    return (clock.now() + timedelta(hours=hours)).isoformat()
