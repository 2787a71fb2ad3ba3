"""Each part of the system as a process of its own: the API (and its workers), the relay,
the SLA watcher, the notifier, with the checks that refuse to start them misconfigured."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import structlog

from aftercare import heap
from aftercare.children import die_with_parent
from aftercare.settings import Settings
from aftercare_notifier.settings import NotifierSettings
from aftercare_reporting.settings import ReportingSettings
from aftercare_sla.settings import SlaSettings
from aftercare_system.maintenance import prepare_system_topics, refill_new_topics
from aftercare_ticket.settings import TicketSettings

log = structlog.get_logger("aftercare")


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


async def serve_api(
    settings: TicketSettings, reuse_port: bool = False, standalone: bool = False
) -> None:
    """The ticket API; ``standalone`` when it is the whole process (see StandaloneServer)."""
    import uvicorn

    from aftercare.runner import HTTP_PARSER, StandaloneServer
    from aftercare_ticket.entrypoints.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.listen_host(settings.http_host),
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
        http=HTTP_PARSER,
        # SIGTERM: stop accepting, finish the requests in hand within the grace period.
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    sock = _listening_socket(
        settings.listen_host(settings.http_host), settings.http_port, reuse_port
    )
    server = StandaloneServer(config) if standalone else uvicorn.Server(config)
    await server.serve(sockets=[sock])


def serve_api_workers(settings: TicketSettings) -> None:
    """``http_workers`` API processes sharing the port (SO_REUSEPORT: the kernel spreads
    the connections); each is a whole ``aftercare api``. Stops them all on SIGTERM."""
    env = {**os.environ, "AFTERCARE_HTTP_WORKERS": "1", "AFTERCARE_HTTP_REUSE_PORT": "true"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "aftercare_system.cli", "api"],
            env=env,
            preexec_fn=die_with_parent(),
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
        settings.kafka_connection(bootstrap_servers),
        settings.ticket_events_topic,
        ticket_cloudevent,
        event_types=EVENT_TYPES,
    )
    heap.settle()
    try:
        await relay.run()
    finally:
        await engine.dispose()


async def run_sla_watcher(settings: SlaSettings, bootstrap_servers: str) -> None:
    from aftercare.db import create_engine
    from aftercare_sla.entrypoints.service import SlaService

    engine = create_engine(settings.database_url)
    try:
        await SlaService(settings, engine, bootstrap_servers).run_forever()
    finally:
        await engine.dispose()


async def run_notifier(settings: NotifierSettings, bootstrap_servers: str) -> None:
    from aftercare.db import create_engine
    from aftercare_notifier.entrypoints.service import NotifierService

    engine = create_engine(settings.database_url)
    try:
        await NotifierService(settings, engine, bootstrap_servers).run_forever()
    finally:
        await engine.dispose()


async def run_reporting(settings: ReportingSettings, bootstrap_servers: str) -> None:
    from aftercare.db import create_engine
    from aftercare_reporting.entrypoints.service import ReportingService

    engine = create_engine(settings.database_url)
    try:
        await ReportingService(settings, engine, bootstrap_servers).run_forever()
    finally:
        await engine.dispose()


def check_notifier(settings: NotifierSettings) -> None:
    """Refuse to start on a cadence outside 30–60 minutes or a broken template."""
    from aftercare_notifier.adapters.templates import TemplateProblem
    from aftercare_notifier.adapters.ticket_contract import ContractMismatch
    from aftercare_notifier.domain.cadence import CadenceError
    from aftercare_notifier.entrypoints.service import NotifierKeyProblem, check_notifier_settings

    try:
        check_notifier_settings(settings)
    except (CadenceError, TemplateProblem, NotifierKeyProblem, ContractMismatch) as error:
        raise SystemExit(f"invalid notifier settings: {error}") from error


def check_sla_policy(settings: SlaSettings) -> None:
    """Refuse to start on an invalid policy, naming each entry and why (before any I/O)."""
    from aftercare_sla.adapters.policy_file import load_policy
    from aftercare_sla.adapters.ticket_contract import ContractMismatch, check_ticket_contract
    from aftercare_sla.domain.policy import PolicyError

    try:
        check_ticket_contract()
    except ContractMismatch as error:
        raise SystemExit(f"the SLA watcher does not match the ticket contract: {error}") from error
    try:
        policy = load_policy(settings.sla_policy)
    except PolicyError as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        raise SystemExit(f"invalid SLA policy {error.source}:\n{lines}") from error
    log.debug("sla policy loaded", version=policy.version, targets=len(policy.targets))
    from aftercare.china_calendar import CalendarFileError, load_schedules

    try:
        load_schedules(settings.sla_calendar_files)
    except CalendarFileError as error:
        raise SystemExit(f"invalid holiday schedule: {error}") from error


def check_indicators(settings: ReportingSettings) -> None:
    """Refuse to start on an invalid indicators file, naming every problem."""
    from zoneinfo import ZoneInfo

    from aftercare_reporting.adapters.indicators_file import IndicatorFileError, load_indicators

    try:
        load_indicators(settings.indicators_file, ZoneInfo(settings.sla_timezone))
    except IndicatorFileError as error:
        lines = "\n".join(f"  - {problem}" for problem in error.problems)
        raise SystemExit(f"invalid indicators file {error.source}:\n{lines}") from error


async def relay_only(settings: Settings, metrics_port: int | None) -> None:
    if not settings.kafka_bootstrap_servers:
        raise SystemExit("aftercare relay needs KAFKA_BOOTSTRAP_SERVERS")
    if metrics_port is not None:
        from prometheus_client import start_http_server

        import aftercare.metrics  # noqa: F401 - registers the metrics before serving them

        start_http_server(metrics_port, addr=settings.listen_host(settings.http_host))
    created = await prepare_system_topics(settings, settings.kafka_bootstrap_servers)
    await refill_new_topics(settings, created)
    await run_relay(settings, settings.kafka_bootstrap_servers)
