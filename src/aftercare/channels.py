"""One way out for every message the system sends to people or their systems: on-call
alerts and customer updates alike become a ``Message``, and a ``Channel`` sends it.

E-mail and signed webhooks live here; chat robots (DingTalk, Feishu, WeCom, Slack) are
the SLA watcher's, in the same shape. A message's id travels with it everywhere (the
e-mail's Message-ID, the webhook's event id header), so one sent again after a crash is
recognisably the same message."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from aftercare.mail import SmtpSettings, send_email
from aftercare.redact import mask_email
from aftercare.webhooks import post_signed


@dataclass(frozen=True)
class Message:
    id: str
    subject: str
    text: str
    """Plain text for people; one line per fact."""
    document: Mapping[str, Any]
    """The same message for machines (the webhook body)."""
    language: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra e-mail headers (``X-Aftercare-*``)."""
    mentions: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """People a chat robot @-mentions, by platform (``dingtalk``, ``feishu``, ``wecom``,
    ``slack``): their ids there."""


class Channel(Protocol):
    kind: str
    recipient: str
    """Where it goes, masked (P-PII): what lists and logs may show."""

    async def send(self, message: Message) -> None:
        """Deliver or raise; the caller decides whether and when to try again."""
        ...


class EmailChannel:
    kind = "email"

    def __init__(self, smtp: SmtpSettings, addresses: Sequence[str]) -> None:
        self.smtp = smtp
        self.addresses = list(addresses)
        self.recipient = ", ".join(mask_email(address) for address in self.addresses)

    async def send(self, message: Message) -> None:
        headers = {"Message-ID": f"<{message.id}@aftercare>", **message.headers}
        if message.language:
            headers["Content-Language"] = message.language
        await send_email(self.smtp, self.addresses, message.subject, message.text, headers)


class WebhookChannel:
    """A signed JSON POST (see ``aftercare.webhooks`` for how receivers verify it)."""

    kind = "webhook"

    def __init__(self, client: httpx.AsyncClient, url: str, secret: str = "") -> None:
        self.client = client
        self.url = url
        self.secret = secret
        self.recipient = httpx.URL(url).host or "webhook"

    async def send(self, message: Message) -> None:
        await post_signed(self.client, self.url, dict(message.document), self.secret, message.id)
