"""P-PII: every role through every ticket endpoint, and the errors and logs on the way,
show a customer's name, e-mail and phone only where the role may see them."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import KEYS, auth
from tests.support.ticket_api import complaint, raise_ticket

PERSONAL = ("李娜", "li.na@example.com", "+86 138 0000 0000")
SEES_CONTACTS = {"admin", "notifier"}


async def test_every_role_sees_personal_data_only_where_allowed(
    api: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticket = await raise_ticket(api)
    url = f"/tickets/{ticket['id']}"
    await api.post(f"{url}/report-progress", json={"message": "called back"})
    for role in KEYS:
        headers = auth(role)
        answers = {
            "list": await api.get("/tickets", headers=headers),
            "ticket": await api.get(url, headers=headers),
            "as_of": await api.get(url, params={"as_of": "2026-03-02T09:00:00Z"}, headers=headers),
            "events": await api.get(f"{url}/events", headers=headers),
            "contact": await api.get(f"{url}/contact", headers=headers),
            # Refusals and validation errors quote no personal data either.
            "bad raise": await api.post(
                "/tickets",
                json=complaint(customer={"id": "C", "name": "李娜", "email": "li.na@@example.com"}),
                headers=headers,
            ),
            "bad command": await api.post(
                f"{url}/acknowledge", json={"plan": "李娜 li.na@example.com"}, headers=headers
            ),
        }
        for name, answer in answers.items():
            allowed = role in SEES_CONTACTS and name in {"events", "contact"}
            if allowed:
                continue
            for value in PERSONAL:  # nor is a caller's own text echoed in an error
                assert value not in answer.text, (role, name, value)
        if role in SEES_CONTACTS:
            assert answers["contact"].json()["email"] == "li.na@example.com"
        else:
            assert answers["contact"].status_code == 403
    logged = capsys.readouterr()
    for value in PERSONAL:
        assert value not in logged.out + logged.err + caplog.text
