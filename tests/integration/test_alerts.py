"""Alert channels against a real HTTP server and a real SMTP server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import httpx
from prometheus_client import REGISTRY

from aftercare.broker import free_port
from aftercare.mail import SmtpSettings
from aftercare.webhooks import sign_webhook
from aftercare_sla.adapters.alert_channels import build_channels
from aftercare_sla.adapters.alerts import Alert
from aftercare_sla.adapters.pager import Pager
from tests.support.receivers import smtp_sink, webhook_receiver

ALERT = Alert(
    verdict="SlaBreached",
    rule="T-PHONE",
    title="Phone request answered",
    ticket_id="T-42",
    customer_ref="CUST-7",
    priority="urgent",
    deadline="2026-03-02T01:03:00Z",
    seconds=125,
    link="http://api/tickets/T-42",
    event_id="e-1",
)


async def test_every_channel_format_is_delivered_and_signed() -> None:
    async with webhook_receiver() as hook, smtp_sink() as smtp, httpx.AsyncClient() as client:
        groups = {
            "oncall": [
                {"type": "webhook", "url": f"{hook.url}/generic", "secret": "s3cret"},
                {"type": "dingtalk", "url": f"{hook.url}/ding?access_token=t", "secret": "SECx"},
                {"type": "feishu", "url": f"{hook.url}/feishu", "secret": "fs"},
                {"type": "wecom", "url": f"{hook.url}/wecom?key=k"},
                {"type": "slack", "url": f"{hook.url}/slack"},
                {"type": "email", "to": "oncall@example.com, lead@example.com"},
                {"type": "slack", "url": ""},  # not configured: skipped
            ]
        }
        settings = SmtpSettings(host="127.0.0.1", port=smtp.port, sender="sla@aftercare.test")
        pager = Pager(build_channels(groups, client, settings), backoff=0.01)
        assert await pager.page(ALERT, ["oncall"]) == 6

    by_path = {received.path: received for received in hook.received}
    generic = by_path["/generic"]
    signature = sign_webhook("s3cret", generic.headers["x-aftercare-timestamp"], generic.body)
    assert generic.headers["x-aftercare-signature"] == signature
    assert abs(int(generic.headers["x-aftercare-timestamp"]) - time.time()) < 60
    document = generic.json()
    assert document["rule"] == "T-PHONE"
    assert document["ticket_id"] == "T-42"
    assert document["late_by_seconds"] == 125
    assert document["summary"].startswith("[SLA BREACHED] T-PHONE")
    assert "2m late" in document["summary"]

    ding = by_path["/ding"]
    timestamp = ding.query["timestamp"]
    expected = base64.b64encode(
        hmac.new(b"SECx", f"{timestamp}\nSECx".encode(), hashlib.sha256).digest()
    ).decode()
    assert ding.query["sign"] == expected  # the query string is decoded by the server
    assert ding.query["access_token"] == "t"
    assert ding.json()["msgtype"] == "markdown"
    assert "T-42" in ding.json()["markdown"]["text"]

    feishu = by_path["/feishu"].json()
    key = f"{feishu['timestamp']}\nfs".encode()
    assert feishu["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert "CUST-7" in feishu["content"]["text"]

    assert "T-PHONE" in by_path["/wecom"].json()["markdown"]["content"]
    assert by_path["/slack"].json()["text"].startswith("[SLA BREACHED]")

    [(recipients, message)] = smtp.messages
    assert recipients == ["oncall@example.com", "lead@example.com"]
    assert "T-PHONE" in str(message["Subject"])
    assert "http://api/tickets/T-42" in message.get_payload()


async def test_a_failing_channel_is_retried_and_a_dead_one_does_not_block_the_others() -> None:
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    failed = {"channel": "webhook"}
    failures_before = REGISTRY.get_sample_value("aftercare_alerts_failed_total", failed) or 0
    async with webhook_receiver() as hook, httpx.AsyncClient() as client:
        hook.failures_left = 2
        groups = {
            "oncall": [
                {"type": "webhook", "url": f"{hook.url}/flaky"},
                {"type": "webhook", "url": dead},
            ]
        }
        pager = Pager(build_channels(groups, client, None), attempts=3, backoff=0.01)
        assert await pager.page(ALERT, ["oncall"]) == 1
    assert [r.path for r in hook.received] == ["/flaky"]
    assert REGISTRY.get_sample_value("aftercare_alerts_failed_total", failed) == failures_before + 1
