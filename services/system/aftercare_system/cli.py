"""The ``aftercare`` command: run the system or one part of it, migrate, rebuild, inspect."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import structlog

from aftercare.runner import run_service
from aftercare.shutdown import until_terminated
from aftercare_reporting.domain.periods import PERIODS, SLICES
from aftercare_system.contracts import schemas_command
from aftercare_system.maintenance import (
    dead_letters_command,
    migrate,
    prepare_system_topics,
    rebuild_views,
)
from aftercare_system.services import (
    check_indicators,
    check_notifier,
    check_sla_policy,
    relay_only,
    run_notifier,
    run_reporting,
    run_sla_watcher,
    serve_api,
    serve_api_workers,
)
from aftercare_system.settings import SystemSettings
from aftercare_system.system import Stopped, run, stop_on_sigterm

log = structlog.get_logger("aftercare")


def _configure_logging(level: str) -> None:
    threshold = logging.getLevelName(level.upper())
    logging.basicConfig(level=threshold, format="%(message)s", stream=sys.stderr)
    # aiokafka narrates every group join, alembic every migration step, the development
    # mail sink every SMTP connection, all at INFO: the start-up banner drowned in them.
    for chatty in ("aiokafka", "alembic", "mail.log"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, threshold))
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(threshold))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aftercare", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="migrate, then start the whole system")
    commands.add_parser("api", help="start the ticket API only")
    relay = commands.add_parser("relay", help="publish committed events to Kafka (outbox relay)")
    relay.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port")
    commands.add_parser("sla-watcher", help="run the SLA watcher on its own")
    commands.add_parser("notifier", help="run the customer notifier on its own")
    commands.add_parser("reporting", help="run the reporting projection and its KPI API")
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
    report = commands.add_parser(
        "report", help="the service-quality indicators of a period, as CSV"
    )
    report.add_argument("--from", dest="start", required=True, help="a date or RFC 3339 instant")
    report.add_argument("--to", dest="end", required=True, help="(excluded)")
    report.add_argument("--period", default="all", choices=PERIODS)
    report.add_argument("--group-by", dest="group_by", choices=SLICES)
    report.add_argument(
        "--publish",
        type=Path,
        metavar="FILE",
        help="publish the period's report (recorded, listed at GET /reports) and write it "
        "to FILE: .pdf, .xlsx, .html or .csv",
    )
    report.add_argument("--language", default="zh-CN", choices=("zh-CN", "en"))
    schemas = commands.add_parser(
        "schemas", help="write schemas/ (event JSON Schemas, asyncapi.yaml, openapi.json)"
    )
    schemas.add_argument("--dir", type=Path, default=Path("schemas"))
    schemas.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    return parser


ConsumerPart = tuple[
    Callable[[SystemSettings], None], Callable[[SystemSettings, str], Awaitable[None]]
]
CONSUMER_PARTS: dict[str, ConsumerPart] = {
    "sla-watcher": (check_sla_policy, run_sla_watcher),
    "notifier": (check_notifier, run_notifier),
    "reporting": (check_indicators, run_reporting),
}
"""Each part that consumes the topics on its own: what it checks first, and how it runs."""


def _run_consumer_part(settings: SystemSettings, part: str) -> None:
    """A consuming part needs a real Kafka and the topics ready (or leave to create
    them); it stops gracefully on SIGTERM, the topics' check included."""
    bootstrap = settings.kafka_bootstrap_servers
    if not bootstrap:
        raise SystemExit(f"aftercare {part} needs KAFKA_BOOTSTRAP_SERVERS")
    check, run_part = CONSUMER_PARTS[part]
    check(settings)
    main = _once_topics_ready(settings, bootstrap, run_part)
    run_service(until_terminated(main, settings.shutdown_grace_seconds))


async def _once_topics_ready(
    settings: SystemSettings,
    bootstrap: str,
    run_part: Callable[[SystemSettings, str], Awaitable[None]],
) -> None:
    await prepare_system_topics(settings, bootstrap)
    await run_part(settings, bootstrap)


def _tail(settings: SystemSettings, args: argparse.Namespace) -> None:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = SystemSettings()
    _configure_logging(settings.log_level)
    if args.command == "run":
        stop_on_sigterm()
        try:
            run_service(run(settings))
        except (Stopped, KeyboardInterrupt):
            print("Aftercare stopped", file=sys.stderr)
    elif args.command == "api":
        if settings.http_workers > 1:
            serve_api_workers(settings)
        else:
            run_service(serve_api(settings, reuse_port=settings.http_reuse_port, standalone=True))
    elif args.command == "relay":
        run_service(
            until_terminated(
                relay_only(settings, args.metrics_port), settings.shutdown_grace_seconds
            )
        )
    elif args.command in CONSUMER_PARTS:
        _run_consumer_part(settings, args.command)
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        print(f"database at {settings.database_url} is up to date")
    elif args.command == "tail":
        _tail(settings, args)
    elif args.command == "schemas":
        return schemas_command(args.dir, args.check)
    elif args.command == "report":
        from aftercare_system.report import report_command

        if args.publish is not None:
            from aftercare_system.report import publish_command

            published, content = asyncio.run(
                publish_command(settings, args.start, args.end, args.publish, args.language)
            )
            args.publish.write_bytes(content)
            print(f"published report {published}: {args.publish}")
            return 0
        return asyncio.run(
            report_command(settings, args.start, args.end, args.period, args.group_by)
        )
    elif args.command == "dead-letters":
        return asyncio.run(dead_letters_command(settings, args.replay, args.ids))
    elif args.command == "rebuild-views":
        count = asyncio.run(rebuild_views(settings))
        print(f"rebuilt {count} tickets from their events")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
