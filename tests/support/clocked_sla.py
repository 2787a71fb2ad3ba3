"""The SLA watcher as its own process on a clock the test moves: ``python -m
tests.support.clocked_sla <clock file>``, configured like ``aftercare sla-watcher`` (the
same settings from the environment, the same policy check). The file holds one ISO
instant; the test rewrites it to move time for every replica at once, and can still
kill a replica with SIGKILL as a crash would."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from aftercare.db import create_engine
from aftercare_sla.entrypoints.service import SlaService
from aftercare_system.services import check_sla_policy
from aftercare_system.settings import SystemSettings


class FileClock:
    """Now is what the file says (re-read each time: the test writes it atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        instant = datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        if instant.tzinfo is None:
            raise ValueError(f"{self.path}: the instant needs a time zone")
        return instant


def move_clock(path: Path, instant: datetime) -> None:
    """Set every replica's clock (write then rename: a reader never sees half a line)."""
    draft = path.with_suffix(".draft")
    draft.write_text(instant.isoformat(), encoding="utf-8")
    draft.replace(path)


async def watch(clock_file: Path) -> None:
    settings = SystemSettings()
    check_sla_policy(settings)
    if not settings.kafka_bootstrap_servers:
        raise SystemExit("the clocked watcher needs KAFKA_BOOTSTRAP_SERVERS")
    engine = create_engine(settings.database_url)
    try:
        service = SlaService(
            settings,
            engine,
            settings.kafka_bootstrap_servers,
            clock=FileClock(clock_file),
            alert_backoff=0.05,
        )
        await service.run_forever()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(watch(Path(sys.argv[1])))
