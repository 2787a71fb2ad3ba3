"""Email over SMTP, shared by the watcher's alerts and the notifier's customer updates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from aftercare.settings import Settings


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_tls: bool = False
    timeout: float = 10.0


def smtp_of(settings: Settings) -> SmtpSettings | None:
    """The SMTP server from ``AFTERCARE_SMTP_*``; None when no host is set."""
    if not settings.smtp_host:
        return None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


async def send_email(
    smtp: SmtpSettings,
    to: Sequence[str],
    subject: str,
    text: str,
    headers: dict[str, str] | None = None,
) -> None:
    """One plain-text (UTF-8) email."""
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    await aiosmtplib.send(
        message,
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username,
        password=smtp.password,
        start_tls=smtp.starttls,
        use_tls=smtp.use_tls,
        timeout=smtp.timeout,
    )
