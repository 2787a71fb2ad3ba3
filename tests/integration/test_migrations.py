"""The migrations build exactly the tables the code declares (no drift either way)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.deadletters import metadata as dead_letter_tables
from aftercare.eventstore.sql import metadata as event_tables
from aftercare.follower import metadata as relay_tables
from aftercare.processed import metadata as consumer_tables
from aftercare_notifier.adapters.tables import metadata as notifier_tables
from aftercare_reporting.adapters.tables import metadata as reporting_tables
from aftercare_sla.adapters.tables import metadata as sla_tables
from aftercare_ticket.adapters.tables import metadata as ticket_tables


def declared() -> MetaData:
    combined = MetaData()
    for metadata in (
        event_tables,
        relay_tables,
        dead_letter_tables,
        consumer_tables,
        ticket_tables,
        sla_tables,
        notifier_tables,
        reporting_tables,
    ):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    return combined


async def test_migrated_schema_matches_the_declared_tables(engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": False, "compare_server_default": False}
        )
        found: list[Any] = compare_metadata(context, declared())
        return [diff for diff in found if not _ignorable(diff)]

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


def _ignorable(diff: Any) -> bool:
    """Tables outside the code's declarations (alembic's own, test scratch tables)."""
    if isinstance(diff, tuple) and diff[0] == "remove_table":
        return diff[1].name in {"alembic_version", "test_consumer_effects"}
    return False
