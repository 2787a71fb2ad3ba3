"""Paging the on-call engineers: one alert, several channels, never a crash.

Channels: a generic JSON webhook signed with HMAC-SHA256, the DingTalk, Feishu/Lark and
WeCom group robots (F-10 names these groups for internal communication), Slack incoming
webhooks and email. Each send is retried with capped backoff; a channel that keeps
failing is logged and counted, and the others still get the alert.

The generic webhook is signed as ``aftercare.webhooks`` describes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import orjson
import structlog
from prometheus_client import Counter

from aftercare.mail import SmtpSettings, send_email
from aftercare.webhooks import post_signed

log = structlog.get_logger(__name__)

ALERTS_SENT = Counter("aftercare_alerts_sent", "Alerts delivered, by channel type.", ["channel"])
ALERTS_FAILED = Counter(
    "aftercare_alerts_failed", "Alerts a channel could not deliver after retries.", ["channel"]
)


@dataclass(frozen=True)
class Alert:
    """What an on-call engineer needs at a glance."""

    verdict: str  # SlaWarning | SlaBreached
    rule: str
    title: str
    ticket_id: str
    customer_ref: str | None
    priority: str | None
    deadline: str | None
    seconds: int
    """Left before the deadline (warning) or late by (breach)."""
    link: str
    event_id: str

    @property
    def breached(self) -> bool:
        return self.verdict == "SlaBreached"

    def timing(self) -> str:
        amount = _human(self.seconds)
        return f"{amount} late" if self.breached else f"{amount} left"

    def headline(self) -> str:
        tag = "SLA BREACHED" if self.breached else "SLA warning"
        return f"[{tag}] {self.rule} {self.title}: ticket {self.ticket_id}, {self.timing()}"

    def lines(self) -> list[str]:
        return [
            f"Rule: {self.rule} ({self.title})",
            f"Ticket: {self.ticket_id}",
            f"Customer: {self.customer_ref or '-'}",
            f"Priority: {self.priority or '-'}",
            f"Deadline: {self.deadline or '-'} ({self.timing()})",
            f"Open: {self.link}",
        ]

    def document(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "rule": self.rule,
            "title": self.title,
            "ticket_id": self.ticket_id,
            "customer_ref": self.customer_ref,
            "priority": self.priority,
            "deadline": self.deadline,
            "late_by_seconds" if self.breached else "remaining_seconds": self.seconds,
            "link": self.link,
            "event_id": self.event_id,
            "summary": self.headline(),
        }


def _human(seconds: int) -> str:
    minutes, _ = divmod(max(seconds, 0), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m"]
    return " ".join(part for part in parts if part) if seconds >= 60 else f"{seconds}s"


def alert_from(event_type: str, event_id: str, data: Mapping[str, Any], ticket_url: str) -> Alert:
    seconds = (
        int(data.get("late_by_seconds", 0))
        if event_type == "SlaBreached"
        else int(data.get("remaining_seconds", 0))
    )
    return Alert(
        verdict=event_type,
        rule=str(data["rule"]),
        title=str(data.get("title", data["rule"])),
        ticket_id=str(data["ticket_id"]),
        customer_ref=data.get("customer_ref"),
        priority=data.get("priority"),
        deadline=data.get("deadline"),
        seconds=seconds,
        link=f"{ticket_url.rstrip('/')}/tickets/{data['ticket_id']}",
        event_id=event_id,
    )


class AlertChannel(Protocol):
    kind: str

    async def send(self, alert: Alert) -> None: ...


class _HttpChannel:
    kind = "http"

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Any:
        response = await self.client.post(
            url, content=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response.raise_for_status()
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return None


class WebhookChannel(_HttpChannel):
    kind = "webhook"

    def __init__(self, url: str, client: httpx.AsyncClient, secret: str = "") -> None:
        super().__init__(url, client)
        self.secret = secret

    async def send(self, alert: Alert) -> None:
        await post_signed(self.client, self.url, alert.document(), self.secret, alert.event_id)


def _robot_answer(answer: Any, field: str) -> None:
    """DingTalk and Feishu answer 200 with an error code in the body."""
    if isinstance(answer, dict) and answer.get(field, 0) not in (0, None):
        raise RuntimeError(f"robot refused the message: {answer}")


class DingTalkChannel(_HttpChannel):
    kind = "dingtalk"

    def __init__(self, url: str, client: httpx.AsyncClient, secret: str = "") -> None:
        super().__init__(url, client)
        self.secret = secret

    def signed_url(self, timestamp_ms: int) -> str:
        if not self.secret:
            return self.url
        to_sign = f"{timestamp_ms}\n{self.secret}".encode()
        digest = hmac.new(self.secret.encode(), to_sign, hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}timestamp={timestamp_ms}&sign={sign}"

    async def send(self, alert: Alert) -> None:
        text = f"### {alert.headline()}\n\n" + "\n".join(f"- {line}" for line in alert.lines())
        body = orjson.dumps(
            {"msgtype": "markdown", "markdown": {"title": alert.headline(), "text": text}}
        )
        answer = await self._post(self.signed_url(int(time.time() * 1000)), body)
        _robot_answer(answer, "errcode")


class FeishuChannel(_HttpChannel):
    """Feishu / Lark custom bot; with a secret, the body carries timestamp and sign."""

    kind = "feishu"

    def __init__(self, url: str, client: httpx.AsyncClient, secret: str = "") -> None:
        super().__init__(url, client)
        self.secret = secret

    def signature(self, timestamp: int) -> str:
        key = f"{timestamp}\n{self.secret}".encode()
        return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()

    async def send(self, alert: Alert) -> None:
        document: dict[str, Any] = {
            "msg_type": "text",
            "content": {"text": alert.headline() + "\n" + "\n".join(alert.lines())},
        }
        if self.secret:
            timestamp = int(time.time())
            document |= {"timestamp": str(timestamp), "sign": self.signature(timestamp)}
        _robot_answer(await self._post(self.url, orjson.dumps(document)), "code")


class WeComChannel(_HttpChannel):
    kind = "wecom"

    async def send(self, alert: Alert) -> None:
        content = f"**{alert.headline()}**\n" + "\n".join(f"> {line}" for line in alert.lines())
        body = orjson.dumps({"msgtype": "markdown", "markdown": {"content": content}})
        _robot_answer(await self._post(self.url, body), "errcode")


class SlackChannel(_HttpChannel):
    kind = "slack"

    async def send(self, alert: Alert) -> None:
        text = f"*{alert.headline()}*\n" + "\n".join(alert.lines())
        body = orjson.dumps(
            {
                "text": alert.headline(),
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            }
        )
        await self._post(self.url, body)


class EmailChannel:
    kind = "email"

    def __init__(self, to: Sequence[str], smtp: SmtpSettings) -> None:
        self.to = list(to)
        self.smtp = smtp

    async def send(self, alert: Alert) -> None:
        await send_email(self.smtp, self.to, alert.headline(), "\n".join(alert.lines()) + "\n")


def build_channels(
    groups: Mapping[str, Sequence[Mapping[str, Any]]],
    client: httpx.AsyncClient,
    smtp: SmtpSettings | None,
) -> dict[str, list[AlertChannel]]:
    """Paging groups from the policy; entries without a URL (or address) are skipped."""
    built: dict[str, list[AlertChannel]] = {}
    http: dict[str, Callable[..., AlertChannel]] = {
        "webhook": WebhookChannel,
        "dingtalk": DingTalkChannel,
        "feishu": FeishuChannel,
    }
    for group, entries in groups.items():
        channels: list[AlertChannel] = []
        for entry in entries:
            kind = entry.get("type")
            if kind in http and entry.get("url"):
                channels.append(http[kind](entry["url"], client, entry.get("secret") or ""))
            elif kind == "wecom" and entry.get("url"):
                channels.append(WeComChannel(entry["url"], client))
            elif kind == "slack" and entry.get("url"):
                channels.append(SlackChannel(entry["url"], client))
            elif kind == "email" and entry.get("to"):
                if smtp is None:
                    log.warning("email alerts need AFTERCARE_SMTP_HOST", group=group)
                    continue
                to = entry["to"]
                addresses = [a.strip() for a in (to.split(",") if isinstance(to, str) else to)]
                channels.append(EmailChannel([a for a in addresses if a], smtp))
            elif kind not in {*http, "wecom", "slack", "email"}:
                raise ValueError(f"paging.{group}: unknown channel type {kind!r}")
        if not channels:
            log.warning("paging group has no channel: its alerts are only logged", group=group)
        built[group] = channels
    return built


class Pager:
    """Sends an alert to every channel of the groups a rule pages, with retries."""

    def __init__(
        self,
        channels: Mapping[str, Sequence[AlertChannel]],
        *,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self.channels = channels
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff

    async def page(self, alert: Alert, groups: Sequence[str]) -> int:
        """Returns how many channels took it."""
        targets: list[AlertChannel] = []
        for group in groups:
            for channel in self.channels.get(group, ()):
                if channel not in targets:
                    targets.append(channel)
        log.warning("sla alert", summary=alert.headline(), groups=list(groups))
        results = await asyncio.gather(*(self._deliver(channel, alert) for channel in targets))
        return sum(results)

    async def _deliver(self, channel: AlertChannel, alert: Alert) -> bool:
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                await channel.send(alert)
            except Exception as error:  # a channel must never take the watcher down
                if attempt == self.attempts:
                    ALERTS_FAILED.labels(channel.kind).inc()
                    log.error(
                        "alert not delivered",
                        channel=channel.kind,
                        rule=alert.rule,
                        ticket_id=alert.ticket_id,
                        error=repr(error),
                    )
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
            else:
                ALERTS_SENT.labels(channel.kind).inc()
                return True
        return False
