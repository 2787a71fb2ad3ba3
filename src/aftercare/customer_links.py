"""The links a customer receives, signed so that no account is needed: the status page
of their request (issued by the notifier in every update, checked by the ticket service)
and the satisfaction survey (issued by the notifier and by the status page of a closed
request, checked by the reporting service, answered once; Q §七). Each kind has its own
secret, shared only by the services that issue and check it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aftercare.clock import Clock
from aftercare.tokens import TokenRefused, sign, verify

SURVEY_VALID_FOR = timedelta(days=30)


class SurveyLinks:
    def __init__(self, secret: str, base_url: str, clock: Clock) -> None:
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    def for_ticket(self, ticket_id: str, language: str) -> str:
        claims = {"ticket": ticket_id, "lang": language}
        token = sign(self.secret, claims, self.clock.now() + SURVEY_VALID_FOR)
        return f"{self.base_url}/surveys/{token}"


@dataclass(frozen=True, slots=True)
class StatusClaims:
    ticket_id: str
    language: str
    issued_at: datetime


class StatusLinks:
    """``<base>/status/<token>``: the token names the ticket, the customer's language
    and when it was issued (so links issued before a revocation stop working)."""

    def __init__(
        self, secret: str, base_url: str, clock: Clock, valid_for: timedelta = timedelta(days=30)
    ) -> None:
        self.secret = secret
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.valid_for = valid_for

    def for_ticket(self, ticket_id: str, language: str) -> str:
        now = self.clock.now()
        claims = {"s": ticket_id, "l": language, "i": int(now.timestamp())}
        return f"{self.base_url}/status/{sign(self.secret, claims, now + self.valid_for)}"

    def claims(self, token: str) -> StatusClaims:
        """What a link of ours says, or ``TokenRefused``."""
        found = verify(self.secret, token, self.clock.now())
        ticket_id, language, issued = found.get("s"), found.get("l"), found.get("i")
        if not isinstance(ticket_id, str) or not isinstance(issued, int):
            raise TokenRefused("not a status link")
        zone = self.clock.now().tzinfo
        return StatusClaims(
            ticket_id, str(language or "zh-CN"), datetime.fromtimestamp(issued, zone)
        )
