"""``aftercare run``: the whole system in one process tree on embedded defaults, and how it
stops (leaving nothing behind)."""

from __future__ import annotations

import asyncio
import signal

import structlog

from aftercare.broker import BrokerFailedToStart, EmbeddedBroker
from aftercare.settings import DEV_ADMIN_KEY
from aftercare_system.maintenance import migrate, prepare_system_topics, refill_new_topics
from aftercare_system.services import (
    check_indicators,
    check_notifier,
    check_sla_policy,
    run_notifier,
    run_relay,
    run_reporting,
    run_sla_watcher,
    serve_api,
)
from aftercare_system.settings import SystemSettings

log = structlog.get_logger("aftercare")


def _banner(settings: SystemSettings, bootstrap_servers: str, embedded: bool) -> str:
    lines = [
        "Aftercare is starting",
        f"  ticket API   {settings.base_url}",
        f"  API docs     {settings.base_url}/docs",
        f"  console      {settings.console_url}  (sign in with an API key)",
        f"  database     {settings.database_url}",
        f"  Kafka        {bootstrap_servers}" + ("  (embedded broker)" if embedded else ""),
        f"  topics       {settings.ticket_events_topic}, {settings.sla_topic}",
        f"  SLA watcher  {settings.sla_url}/sla/breaches  (policy {settings.sla_policy})",
        f"  notifier     {settings.notifier_url}/notifications",
        f"  reporting    {settings.reporting_url}/kpis?from=…&to=…  (role supervisor)",
    ]
    if not settings.api_keys:
        lines.append(f"  API key      {DEV_ADMIN_KEY}  (admin; set AFTERCARE_API_KEYS to change)")
    return "\n".join(lines)


async def run(settings: SystemSettings) -> None:
    """The whole system in one process tree: broker (unless Kafka is given), API, relay,
    SLA watcher."""
    check_sla_policy(settings)
    check_notifier(settings)
    check_indicators(settings)
    await migrate(settings)
    sink = None
    if not settings.smtp_host:
        from aftercare.mailsink import MailSink

        sink = MailSink(settings.data_dir / "mail", port=settings.mail_sink_port)
        sink.start()
        settings = settings.model_copy(
            update={"smtp_host": sink.host, "smtp_port": sink.port, "smtp_starttls": False}
        )
    broker: EmbeddedBroker | None = None
    bootstrap = settings.kafka_bootstrap_servers
    if bootstrap is None:
        broker = EmbeddedBroker(settings.broker_host, settings.broker_port)
        try:
            await broker.start()
        except BrokerFailedToStart as error:
            if sink is not None:
                sink.stop()
            raise SystemExit(f"aftercare: the embedded broker cannot start: {error}") from None
        bootstrap = broker.bootstrap_servers
    try:
        created = await prepare_system_topics(settings, bootstrap)
        print(_banner(settings, bootstrap, broker is not None), flush=True)
        await refill_new_topics(settings, created)
        if sink is not None:
            print(
                f"  mail         smtp://{sink.host}:{sink.port} (development sink): "
                f"every email is saved in {sink.folder}/",
                flush=True,
            )
        background = [
            asyncio.create_task(run_relay(settings, bootstrap)),
            asyncio.create_task(run_sla_watcher(settings, bootstrap)),
            asyncio.create_task(run_notifier(settings, bootstrap)),
            asyncio.create_task(run_reporting(settings, bootstrap)),
        ]
        try:
            await serve_api(settings)
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
    finally:
        if broker is not None:
            await broker.stop()
        if sink is not None:
            sink.stop()


class Stopped(Exception):
    """SIGTERM arrived: unwind, so that every ``finally`` stops what it started."""


def stop_on_sigterm() -> None:
    """SIGTERM's default ends the process on the spot, leaving the broker and the mail sink
    behind; raising instead runs every clean-up on the way out. (The API server takes
    over SIGTERM while it serves, shuts down gracefully, then raises it again: here.)"""

    def raise_stopped(*_: object) -> None:
        raise Stopped

    signal.signal(signal.SIGTERM, raise_stopped)
