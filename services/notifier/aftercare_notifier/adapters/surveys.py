"""The satisfaction survey link in the closing message (Q §七): signed with the secret the
reporting service checks, valid for 30 days, answered once."""

from __future__ import annotations

from datetime import timedelta

from aftercare.clock import Clock
from aftercare.tokens import sign

VALID_FOR = timedelta(days=30)


class SurveyLinks:
    def __init__(self, secret: str, base_url: str, clock: Clock) -> None:
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    def for_ticket(self, ticket_id: str, language: str) -> str:
        claims = {"ticket": ticket_id, "lang": language}
        token = sign(self.secret, claims, self.clock.now() + VALID_FOR)
        return f"{self.base_url}/surveys/{token}"
