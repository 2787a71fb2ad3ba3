"""Where alerts go: a signed JSON webhook and e-mail (the library's channels), and the
chat robots of DingTalk (加签), Feishu/Lark, WeCom and Slack, each formatting a
``Message`` its own way. ``build_channels`` reads the policy's paging groups."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
import orjson
import structlog

from aftercare.channels import Channel, EmailChannel, Message, WebhookChannel
from aftercare.mail import SmtpSettings

log = structlog.get_logger(__name__)


class _HttpChannel:
    kind = "http"

    def __init__(self, url: str, client: httpx.AsyncClient) -> None:
        self.url = url
        self.client = client
        self.recipient = httpx.URL(url).host or self.kind

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Any:
        response = await self.client.post(
            url, content=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
        response.raise_for_status()
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return None


def _lines(message: Message) -> list[str]:
    return message.text.splitlines()


def _mentioned(message: Message, kind: str) -> list[str]:
    return [person for person in message.mentions.get(kind, ()) if person]


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

    async def send(self, message: Message) -> None:
        text = f"### {message.subject}\n\n" + "\n".join(f"- {line}" for line in _lines(message))
        people = _mentioned(message, self.kind)
        if people:  # DingTalk notifies those named in ``at`` and shown as @id in the text
            text += "\n\n" + " ".join(f"@{person}" for person in people)
        body = orjson.dumps(
            {
                "msgtype": "markdown",
                "markdown": {"title": message.subject, "text": text},
                "at": {"atUserIds": people, "isAtAll": False},
            }
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

    async def send(self, message: Message) -> None:
        mentions = "".join(
            f'<at user_id="{person}"></at>' for person in _mentioned(message, self.kind)
        )
        text = message.subject + "\n" + "\n".join(_lines(message))
        document: dict[str, Any] = {
            "msg_type": "text",
            "content": {"text": f"{mentions} {text}" if mentions else text},
        }
        if self.secret:
            timestamp = int(time.time())
            document |= {"timestamp": str(timestamp), "sign": self.signature(timestamp)}
        _robot_answer(await self._post(self.url, orjson.dumps(document)), "code")


class WeComChannel(_HttpChannel):
    kind = "wecom"

    async def send(self, message: Message) -> None:
        content = f"**{message.subject}**\n" + "\n".join(f"> {line}" for line in _lines(message))
        content += "".join(f"\n<@{person}>" for person in _mentioned(message, self.kind))
        body = orjson.dumps({"msgtype": "markdown", "markdown": {"content": content}})
        _robot_answer(await self._post(self.url, body), "errcode")


class SlackChannel(_HttpChannel):
    kind = "slack"

    async def send(self, message: Message) -> None:
        text = f"*{message.subject}*\n" + "\n".join(_lines(message))
        text += "".join(f" <@{person}>" for person in _mentioned(message, self.kind))
        body = orjson.dumps(
            {
                "text": message.subject,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            }
        )
        await self._post(self.url, body)


def build_channels(
    groups: Mapping[str, Sequence[Mapping[str, Any]]],
    client: httpx.AsyncClient,
    smtp: SmtpSettings | None,
) -> dict[str, list[Channel]]:
    """Paging groups from the policy; entries without a URL (or address) are skipped."""
    built: dict[str, list[Channel]] = {}
    http: dict[str, Callable[..., Channel]] = {
        "webhook": lambda url, client, secret: WebhookChannel(client, url, secret),
        "dingtalk": DingTalkChannel,
        "feishu": FeishuChannel,
    }
    for group, entries in groups.items():
        channels: list[Channel] = []
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
                channels.append(EmailChannel(smtp, [a for a in addresses if a]))
            elif kind not in {*http, "wecom", "slack", "email"}:
                raise ValueError(f"paging.{group}: unknown channel type {kind!r}")
        if not channels:
            log.warning("paging group has no channel: its alerts are only logged", group=group)
        built[group] = channels
    return built
