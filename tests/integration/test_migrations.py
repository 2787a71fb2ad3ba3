"""The migrations build exactly the tables the code declares (no drift either way)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.clock import FixedClock
from aftercare.deadletters import metadata as dead_letter_tables
from aftercare.eventstore.sql import metadata as event_tables
from aftercare.follower import metadata as relay_tables
from aftercare.migrations import downgrade, upgrade
from aftercare.processed import metadata as consumer_tables
from aftercare_notifier.adapters.tables import metadata as notifier_tables
from aftercare_reporting.adapters.tables import metadata as reporting_tables
from aftercare_sla.adapters.tables import metadata as sla_tables
from aftercare_system import SERVICE_PACKAGES
from aftercare_ticket.adapters.sql_store import SqlTicketStore
from aftercare_ticket.adapters.tables import metadata as ticket_tables
from aftercare_ticket.adapters.tables import ticket_views
from aftercare_ticket.domain.rules import Policy
from aftercare_ticket.examples import raise_body
from aftercare_ticket.service_layer.service import Caller, TicketService

CALLER = Caller(actor="test", role="admin", request_id="r", correlation_id="r")


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


async def test_the_region_column_is_filled_in_for_tickets_raised_before_it(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    service = TicketService(SqlTicketStore(engine), clock, Policy())
    raised = await service.raise_request(raise_body(region="华南"), CALLER)
    await downgrade(engine, SERVICE_PACKAGES, "0102_status_links")
    try:
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: [c["name"] for c in inspect(sync).get_columns("ticket_views")]
            )
        assert "region" not in columns
    finally:
        await upgrade(engine, SERVICE_PACKAGES)
    async with engine.connect() as connection:
        region = await connection.scalar(
            select(ticket_views.c.region).where(ticket_views.c.id == raised.ticket.id)
        )
    assert region == "华南"
