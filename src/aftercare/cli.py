"""The ``aftercare`` command: run the system, migrate the database, rebuild read models.

Services are imported when their subcommand runs, so the shared library does not
depend on them at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import structlog

from aftercare.broker import BrokerFailedToStart, EmbeddedBroker, TopicSpec, ensure_topics
from aftercare.children import die_with_parent
from aftercare.clock import SystemClock
from aftercare.settings import DEV_ADMIN_KEY, Settings

SERVICE_PACKAGES = ("aftercare_ticket", "aftercare_sla", "aftercare_notifier")
log = structlog.get_logger("aftercare")


def _configure_logging(level: str) -> None:
    threshold = logging.getLevelName(level.upper())
    logging.basicConfig(level=threshold, format="%(message)s", stream=sys.stderr)
    # aiokafka narrates every group join, alembic every migration step, the development
    # mail sink every SMTP connection, all at INFO: the start-up banner drowned in them.
    for chatty in ("aiokafka", "alembic", "mail.log"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, threshold))
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(threshold))


async def migrate(settings: Settings) -> None:
    from aftercare.db import create_engine
    from aftercare.migrations import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine, SERVICE_PACKAGES)
    finally:
        await engine.dispose()


async def rebuild_views(settings: Settings) -> int:
    from aftercare.db import create_engine
    from aftercare_ticket.adapters.repository import rebuild_views as rebuild

    engine = create_engine(settings.database_url)
    try:
        return await rebuild(engine)
    finally:
        await engine.dispose()


def _listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    """A TCP socket made with ``IPPROTO_TCP``, so asyncio turns Nagle off on the
    connections it accepts (a socket made with protocol 0 keeps Nagle on, and a response
    written in two parts then waits ~40 ms for the client's delayed ACK)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


async def serve_api(settings: Settings, reuse_port: bool = False) -> None:
    import uvicorn

    from aftercare_ticket.entrypoints.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    sock = _listening_socket(settings.http_host, settings.http_port, reuse_port)
    await uvicorn.Server(config).serve(sockets=[sock])


def serve_api_workers(settings: Settings) -> None:
    """``http_workers`` API processes sharing the port (SO_REUSEPORT: the kernel spreads
    the connections); each is a whole ``aftercare api``. Stops them all on SIGTERM."""
    env = {**os.environ, "AFTERCARE_HTTP_WORKERS": "1", "AFTERCARE_HTTP_REUSE_PORT": "true"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "aftercare.cli", "api"], env=env, preexec_fn=die_with_parent()
        )
        for _ in range(settings.http_workers)
    ]

    def stop(*_: object) -> None:
        for worker in workers:
            worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for worker in workers:
        worker.wait()


async def run_relay(settings: Settings, bootstrap_servers: str) -> None:
    from aftercare.db import create_engine
    from aftercare.relay import OutboxRelay
    from aftercare_ticket.adapters.publishing import ticket_cloudevent
    from aftercare_ticket.domain.events import EVENT_TYPES

    engine = create_engine(settings.database_url)
    relay = OutboxRelay(
        engine,
        bootstrap_servers,
        settings.ticket_events_topic,
        ticket_cloudevent,
        event_types=EVENT_TYPES,
        enable_idempotence=settings.kafka_enable_idempotence,
    )
    try:
        await relay.run()
    finally:
        await engine.dispose()


def _relay_routes(settings: Settings) -> dict[str, tuple[str, Any]]:
    """Each relay's topic and event mapping, by relay name (what a replay needs)."""
    from aftercare_sla.adapters.publishing import sla_cloudevent
    from aftercare_ticket.adapters.publishing import ticket_cloudevent

    return {
        "ticket-events": (settings.ticket_events_topic, ticket_cloudevent),
        "sla-events": (settings.sla_topic, sla_cloudevent),
    }


async def dead_letters_command(settings: Settings, replay: bool, ids: list[int]) -> int:
    """List the events the relays set aside; with ``replay``, publish them again."""
    from aiokafka import AIOKafkaProducer

    from aftercare.cloudevents import to_kafka
    from aftercare.db import create_engine
    from aftercare.deadletters import DeadLetter, dead_letters, replay_dead_letters
    from aftercare.eventstore import RecordedEvent

    engine = create_engine(settings.database_url)
    try:
        if not replay:
            letters = await dead_letters(engine)
            for letter in letters:
                if not ids or letter.id in ids:
                    print(
                        f"{letter.id}\t{letter.relay}\t{letter.stream_id} v{letter.version}"
                        f"\t{letter.type}\t{letter.dead_at.isoformat()}\t{letter.error}"
                    )
            print(f"{len(letters)} event(s) set aside by the relays", file=sys.stderr)
            return 0
        routes = _relay_routes(settings)
        bootstrap = settings.kafka_bootstrap_servers or settings.embedded_bootstrap_servers
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, acks="all", max_request_size=settings.max_request_bytes
        )
        await producer.start()

        async def republish(letter: DeadLetter, event: RecordedEvent) -> None:
            topic, to_cloudevent = routes[letter.relay]
            cloud_event = to_cloudevent(event)
            if cloud_event is None:
                raise ValueError("this event is not published on the topic")
            headers, value = to_kafka(cloud_event)
            await producer.send_and_wait(
                topic, value=value, key=event.stream_id.encode(), headers=headers
            )

        try:
            outcomes = await replay_dead_letters(
                engine, republish, SystemClock().now(), ids or None
            )
        finally:
            await producer.stop()
        for letter, problem in outcomes:
            print(f"{letter.id}\t{letter.stream_id} v{letter.version}\t{problem or 'published'}")
        return 1 if any(problem for _, problem in outcomes) else 0
    finally:
        await engine.dispose()


def generated_contracts(directory: Path) -> dict[Path, str]:
    """Every file under ``schemas/``, as the code defines it today."""
    from aftercare import __version__
    from aftercare.auth import KeyRing
    from aftercare.db import create_engine
    from aftercare.schemas import asyncapi_document, render_json, render_yaml
    from aftercare_notifier.entrypoints.app import create_notifier_app
    from aftercare_sla.adapters.publishing import sla_channel, sla_event_schemas
    from aftercare_sla.entrypoints.app import create_sla_app
    from aftercare_ticket.adapters.contracts import ticket_channel, ticket_event_schemas
    from aftercare_ticket.entrypoints.app import create_app

    defaults = Settings.model_fields
    schemas = {**ticket_event_schemas(), **sla_event_schemas()}
    files = {directory / "events" / name: render_json(schema) for name, schema in schemas.items()}
    asyncapi = asyncapi_document(
        title="Aftercare events",
        version=__version__,
        description=(
            "What Aftercare publishes on Kafka. Every message is a CloudEvent in binary "
            "mode: attributes in ce_* headers, the JSON data as the value."
        ),
        channels=[
            ticket_channel(str(defaults["ticket_events_topic"].default)),
            sla_channel(str(defaults["sla_topic"].default)),
        ],
        servers={"development": "localhost:9092", "production": "kafka:9092"},
    )
    files[directory / "asyncapi.yaml"] = render_yaml(asyncapi)
    files[directory / "openapi.json"] = render_json(create_app(Settings()).openapi())
    sla_app = create_sla_app(create_engine("sqlite+aiosqlite://"), SystemClock(), KeyRing([]))
    files[directory / "sla-openapi.json"] = render_json(sla_app.openapi())
    notifier_app = create_notifier_app(create_engine("sqlite+aiosqlite://"), KeyRing([]))
    files[directory / "notifier-openapi.json"] = render_json(notifier_app.openapi())
    return files


def schemas_command(directory: Path, check: bool) -> int:
    from aftercare.schemas import stale_files, write_files

    expected = generated_contracts(directory)
    if check:
        stale = stale_files(expected)
        for path in stale:
            print(f"out of date: {path}")
        return 1 if stale else 0
    for path in write_files(expected):
        print(f"wrote {path}")
    return 0


async def run_sla_watcher(settings: Settings, bootstrap_servers: str) -> None:
    from aftercare.db import create_engine
    from aftercare_sla.entrypoints.service import SlaService

    engine = create_engine(settings.database_url)
    try:
        await SlaService(settings, engine, bootstrap_servers).run_forever()
    finally:
        await engine.dispose()


async def run_notifier(settings: Settings, bootstrap_servers: str) -> None:
    from aftercare.db import create_engine
    from aftercare_notifier.entrypoints.service import NotifierService

    engine = create_engine(settings.database_url)
    try:
        await NotifierService(settings, engine, bootstrap_servers).run_forever()
    finally:
        await engine.dispose()


def check_notifier(settings: Settings) -> None:
    """Refuse to start on a cadence outside 30–60 minutes or a broken template."""
    from aftercare_notifier.adapters.templates import TemplateProblem
    from aftercare_notifier.domain.cadence import CadenceError
    from aftercare_notifier.entrypoints.service import NotifierKeyProblem, check_notifier_settings

    try:
        check_notifier_settings(settings)
    except (CadenceError, TemplateProblem, NotifierKeyProblem) as error:
        raise SystemExit(f"invalid notifier settings: {error}") from error


def check_sla_policy(settings: Settings) -> None:
    """Refuse to start on an invalid policy, naming each entry and why (before any I/O)."""
    from aftercare_sla.adapters.policy_file import load_policy
    from aftercare_sla.domain.policy import PolicyError

    try:
        policy = load_policy(settings.sla_policy)
    except PolicyError as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        raise SystemExit(f"invalid SLA policy {error.source}:\n{lines}") from error
    log.debug("sla policy loaded", version=policy.version, targets=len(policy.targets))


def _topics(settings: Settings) -> list[TopicSpec]:
    return [
        TopicSpec(settings.ticket_events_topic, settings.topic_partitions),
        TopicSpec(settings.sla_topic, settings.topic_partitions),
    ]


def _banner(settings: Settings, bootstrap_servers: str, embedded: bool) -> str:
    lines = [
        "Aftercare is starting",
        f"  ticket API   {settings.base_url}",
        f"  API docs     {settings.base_url}/docs",
        f"  database     {settings.database_url}",
        f"  Kafka        {bootstrap_servers}" + ("  (embedded broker)" if embedded else ""),
        f"  topics       {settings.ticket_events_topic}, {settings.sla_topic}",
        f"  SLA watcher  {settings.sla_url}/sla/breaches  (policy {settings.sla_policy})",
        f"  notifier     {settings.notifier_url}/notifications",
    ]
    if not settings.api_keys:
        lines.append(f"  API key      {DEV_ADMIN_KEY}  (admin; set AFTERCARE_API_KEYS to change)")
    return "\n".join(lines)


async def run(settings: Settings) -> None:
    """The whole system in one process tree: broker (unless Kafka is given), API, relay,
    SLA watcher."""
    check_sla_policy(settings)
    check_notifier(settings)
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
        created = await ensure_topics(bootstrap, _topics(settings))
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


async def refill_new_topics(settings: Settings, created: Sequence[str]) -> None:
    """A topic that did not exist (a fresh embedded broker keeps nothing) gets the whole log
    again: its relay starts over from the beginning, and consumers de-duplicate by event id."""
    from aftercare.db import create_engine
    from aftercare.relay import restart_relay
    from aftercare_sla.domain.events import SLA_EVENT_TYPES
    from aftercare_ticket.domain.events import EVENT_TYPES

    relays: dict[str, tuple[str, Collection[str]]] = {
        settings.ticket_events_topic: ("ticket-events", list(EVENT_TYPES)),
        settings.sla_topic: ("sla-events", list(SLA_EVENT_TYPES)),
    }
    engine = create_engine(settings.database_url)
    try:
        for topic in created:
            if topic in relays:
                count = await restart_relay(engine, *relays[topic])
                if count:
                    print(f"  {topic} is new: republishing {count} events from the log", flush=True)
    finally:
        await engine.dispose()


async def relay_only(settings: Settings, metrics_port: int | None) -> None:
    if not settings.kafka_bootstrap_servers:
        raise SystemExit("aftercare relay needs KAFKA_BOOTSTRAP_SERVERS")
    if metrics_port is not None:
        from prometheus_client import start_http_server

        import aftercare.metrics  # noqa: F401 - registers the metrics before serving them

        start_http_server(metrics_port, addr=settings.http_host)
    created = await ensure_topics(settings.kafka_bootstrap_servers, _topics(settings))
    await refill_new_topics(settings, created)
    await run_relay(settings, settings.kafka_bootstrap_servers)


class Stopped(Exception):
    """SIGTERM arrived: unwind, so that every ``finally`` stops what it started."""


def stop_on_sigterm() -> None:
    """SIGTERM's default ends the process on the spot, leaving the broker and the mail sink
    behind; raising instead runs every clean-up on the way out. (The API server takes
    over SIGTERM while it serves, shuts down gracefully, then raises it again: here.)"""

    def raise_stopped(*_: object) -> None:
        raise Stopped

    signal.signal(signal.SIGTERM, raise_stopped)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aftercare", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="migrate, then start the whole system")
    commands.add_parser("api", help="start the ticket API only")
    relay = commands.add_parser("relay", help="publish committed events to Kafka (outbox relay)")
    relay.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    commands.add_parser("sla-watcher", help="run the SLA watcher on its own")
    commands.add_parser("notifier", help="run the customer notifier on its own")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("rebuild-views", help="rebuild the ticket list from the events")
    tail = commands.add_parser("tail", help="print the events on a topic as JSON lines")
    tail.add_argument("--topic", help="default: the ticket events topic")
    tail.add_argument("--from-beginning", action="store_true", help="start at the oldest event")
    tail.add_argument(
        "--type",
        dest="types",
        action="append",
        default=[],
        help="only this event type, e.g. Acknowledged (repeatable)",
    )
    tail.add_argument("--max-events", type=int, help="exit after printing this many")
    tail.add_argument("--until-idle", type=float, help="exit after this many quiet seconds")
    dead = commands.add_parser(
        "dead-letters", help="list the events the relays could not publish, or replay them"
    )
    dead.add_argument("--replay", action="store_true", help="publish them again")
    dead.add_argument("--id", dest="ids", type=int, action="append", default=[])
    schemas = commands.add_parser(
        "schemas", help="write schemas/ (event JSON Schemas, asyncapi.yaml, openapi.json)"
    )
    schemas.add_argument("--dir", type=Path, default=Path("schemas"))
    schemas.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    settings = Settings()
    _configure_logging(settings.log_level)
    if args.command == "run":
        stop_on_sigterm()
        try:
            asyncio.run(run(settings))
        except (Stopped, KeyboardInterrupt):
            print("Aftercare stopped", file=sys.stderr)
    elif args.command == "api":
        if settings.http_workers > 1:
            serve_api_workers(settings)
        else:
            asyncio.run(serve_api(settings, reuse_port=settings.http_reuse_port))
    elif args.command == "relay":
        asyncio.run(relay_only(settings, args.metrics_port))
    elif args.command == "sla-watcher":
        if not settings.kafka_bootstrap_servers:
            raise SystemExit("aftercare sla-watcher needs KAFKA_BOOTSTRAP_SERVERS")
        check_sla_policy(settings)
        asyncio.run(run_sla_watcher(settings, settings.kafka_bootstrap_servers))
    elif args.command == "notifier":
        if not settings.kafka_bootstrap_servers:
            raise SystemExit("aftercare notifier needs KAFKA_BOOTSTRAP_SERVERS")
        check_notifier(settings)
        asyncio.run(run_notifier(settings, settings.kafka_bootstrap_servers))
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        print(f"database at {settings.database_url} is up to date")
    elif args.command == "tail":
        from aftercare.tail import tail as tail_topic

        try:
            asyncio.run(
                tail_topic(
                    settings.kafka_bootstrap_servers or settings.embedded_bootstrap_servers,
                    args.topic or settings.ticket_events_topic,
                    from_beginning=args.from_beginning,
                    types=args.types,
                    max_events=args.max_events,
                    until_idle=args.until_idle,
                )
            )
        except KeyboardInterrupt:
            pass
        except BrokenPipeError:  # piped into head: the reader has what it wanted
            sys.stderr.close()
    elif args.command == "schemas":
        return schemas_command(args.dir, args.check)
    elif args.command == "dead-letters":
        return asyncio.run(dead_letters_command(settings, args.replay, args.ids))
    elif args.command == "rebuild-views":
        count = asyncio.run(rebuild_views(settings))
        print(f"rebuilt {count} tickets from their events")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
