"""The ``aftercare`` command: run the system, migrate the database, rebuild read models.

Services are imported when their subcommand runs, so the shared library does not
depend on them at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import structlog

from aftercare.settings import DEV_ADMIN_KEY, Settings

SERVICE_PACKAGES = ("aftercare_ticket",)
log = structlog.get_logger("aftercare")


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(message)s", stream=sys.stderr)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
    )


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


async def serve_api(settings: Settings) -> None:
    import uvicorn

    from aftercare_ticket.entrypoints.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    await uvicorn.Server(config).serve()


def _banner(settings: Settings) -> str:
    lines = [
        "Aftercare is starting",
        f"  ticket API   {settings.base_url}",
        f"  API docs     {settings.base_url}/docs",
        f"  database     {settings.database_url}",
    ]
    if not settings.api_keys:
        lines.append(f"  API key      {DEV_ADMIN_KEY}  (admin; set AFTERCARE_API_KEYS to change)")
    return "\n".join(lines)


async def run(settings: Settings) -> None:
    await migrate(settings)
    print(_banner(settings), flush=True)
    await serve_api(settings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aftercare", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="migrate, then start the whole system")
    commands.add_parser("api", help="start the ticket API only")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("rebuild-views", help="rebuild the ticket list from the events")
    args = parser.parse_args(argv)
    settings = Settings()
    _configure_logging(settings.log_level)
    if args.command == "run":
        asyncio.run(run(settings))
    elif args.command == "api":
        asyncio.run(serve_api(settings))
    elif args.command == "migrate":
        asyncio.run(migrate(settings))
        print(f"database at {settings.database_url} is up to date")
    elif args.command == "rebuild-views":
        count = asyncio.run(rebuild_views(settings))
        print(f"rebuilt {count} tickets from their events")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
