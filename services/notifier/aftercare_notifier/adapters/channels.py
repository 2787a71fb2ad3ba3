"""How an update reaches the customer: email to the contact address (the reply address
of an emailed request), and a signed webhook to the customer's own system."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from aftercare.mail import SmtpSettings, send_email
from aftercare.redact import mask_email, redact
from aftercare.webhooks import post_signed


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


class CustomerChannel(Protocol):
    name: str
    recipient: str
    """Masked: what the notifications list shows."""

    async def deliver(self, update: Update) -> None: ...


class EmailDelivery:
    name = "email"

    def __init__(self, smtp: SmtpSettings, address: str) -> None:
        self.smtp = smtp
        self.address = address
        self.recipient = mask_email(address)

    async def deliver(self, update: Update) -> None:
        await send_email(
            self.smtp,
            [self.address],
            update.subject,
            update.body,
            headers={
                "Content-Language": update.language,
                "X-Aftercare-Ticket": update.ticket_id,
                "X-Aftercare-Notification": update.notification_id,
                # One id per update: a message sent again after a crash is the same
                # message, which mail systems recognise and show once.
                "Message-ID": f"<{update.notification_id}@aftercare>",
            },
        )


class WebhookDelivery:
    name = "webhook"

    def __init__(self, client: httpx.AsyncClient, url: str, secret: str = "") -> None:
        self.client = client
        self.url = url
        self.secret = secret
        self.recipient = httpx.URL(url).host or "webhook"

    async def deliver(self, update: Update) -> None:
        document: dict[str, Any] = {
            "type": "ticket.progress",
            "notification_id": update.notification_id,
            "ticket_id": update.ticket_id,
            "customer_ref": update.customer_ref,
            "state": update.ticket_state,
            "template": update.template,
            "language": update.language,
            "subject": update.subject,
            "text": update.body,
        }
        await post_signed(self.client, self.url, document, self.secret, update.notification_id)


class ChannelDirectory(Protocol):
    def for_customer(
        self, contact: Mapping[str, Any], customer_ref: str | None
    ) -> list[CustomerChannel]:
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

    def for_customer(
        self, contact: Mapping[str, Any], customer_ref: str | None
    ) -> list[CustomerChannel]:
        channels: list[CustomerChannel] = []
        hook = self.webhooks.get(customer_ref or "")
        if hook and hook.get("url"):
            channels.append(WebhookDelivery(self.client, hook["url"], hook.get("secret", "")))
        if contact.get("email") and self.smtp is not None:
            channels.append(EmailDelivery(self.smtp, contact["email"]))
        return channels


async def deliver_all(
    channels: list[CustomerChannel], update_: Update, contact: dict[str, Any]
) -> tuple[list[CustomerChannel], list[str]]:
    """Every channel tried; the ones that took the update, and why the others did not
    (personal data masked: P-PII)."""
    delivered, errors = [], []
    known = (contact.get("name"), contact.get("phone"), contact.get("email"))
    for channel in channels:
        try:
            await channel.deliver(update_)
        except Exception as error:
            errors.append(redact(f"{channel.name}: {error!r}", *known))
        else:
            delivered.append(channel)
    return delivered, errors
