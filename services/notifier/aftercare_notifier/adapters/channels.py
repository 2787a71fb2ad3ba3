"""How an update reaches the customer: e-mail to the contact address (the reply address
of an emailed request), and a signed webhook to the customer's own system (the
library's channels; an ``Update`` becomes their ``Message``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from aftercare.channels import Channel, EmailChannel, Message, WebhookChannel
from aftercare.mail import SmtpSettings
from aftercare.redact import redact


@dataclass(frozen=True)
class Update:
    notification_id: str
    ticket_id: str
    customer_ref: str | None
    template: str
    language: str
    subject: str
    body: str
    ticket_state: str

    def message(self) -> Message:
        return Message(
            id=self.notification_id,
            subject=self.subject,
            text=self.body,
            document={
                "type": "ticket.progress",
                "notification_id": self.notification_id,
                "ticket_id": self.ticket_id,
                "customer_ref": self.customer_ref,
                "state": self.ticket_state,
                "template": self.template,
                "language": self.language,
                "subject": self.subject,
                "text": self.body,
            },
            language=self.language,
            headers={
                "X-Aftercare-Ticket": self.ticket_id,
                "X-Aftercare-Notification": self.notification_id,
            },
        )


class ChannelDirectory(Protocol):
    def for_customer(self, contact: Mapping[str, Any], customer_ref: str | None) -> list[Channel]:
        """Every way this customer can be reached; empty when none (a phone-only contact)."""
        ...


class CustomerChannels:
    """``ChannelDirectory`` of the deployment: e-mail through its SMTP server, and the
    webhooks configured for customers' own systems."""

    def __init__(
        self,
        smtp: SmtpSettings | None,
        webhooks: Mapping[str, Mapping[str, str]] | None,
        client: httpx.AsyncClient,
    ) -> None:
        self.smtp = smtp
        self.webhooks = webhooks or {}
        self.client = client

    def for_customer(self, contact: Mapping[str, Any], customer_ref: str | None) -> list[Channel]:
        channels: list[Channel] = []
        hook = self.webhooks.get(customer_ref or "")
        if hook and hook.get("url"):
            channels.append(WebhookChannel(self.client, hook["url"], hook.get("secret", "")))
        if contact.get("email") and self.smtp is not None:
            channels.append(EmailChannel(self.smtp, [contact["email"]]))
        return channels


async def deliver_all(
    channels: list[Channel], update_: Update, contact: dict[str, Any]
) -> tuple[list[Channel], list[str]]:
    """Every channel tried; the ones that took the update, and why the others did not
    (personal data masked: P-PII)."""
    delivered, errors = [], []
    known = (contact.get("name"), contact.get("phone"), contact.get("email"))
    for channel in channels:
        try:
            await channel.send(update_.message())
        except Exception as error:
            errors.append(redact(f"{channel.kind}: {error!r}", *known))
        else:
            delivered.append(channel)
    return delivered, errors
