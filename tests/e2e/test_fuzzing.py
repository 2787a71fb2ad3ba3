"""A short seeded schemathesis pass over the three APIs on PostgreSQL (the stricter of the
two databases: it refuses characters SQLite stores): no server error, and every answer as
the OpenAPI document says. ``make fuzz`` runs the long pass on both databases."""

from __future__ import annotations

import pytest
from fuzz.databases import fresh_postgres
from fuzz.run import fuzz, table

from aftercare.broker import EmbeddedBroker
from tests.conftest import PG_ADMIN_DSN


@pytest.mark.postgres
async def test_fuzzing_finds_no_server_error_and_no_undocumented_answer(
    postgres_url: str, broker: EmbeddedBroker
) -> None:
    async with fresh_postgres(PG_ADMIN_DSN) as database_url:
        results = await fuzz(database_url, broker.bootstrap_servers, examples=3, seed=20261202)
    print(table(results))
    assert {r.api for r in results} == {"tickets", "sla", "notifier", "reporting"}
    assert all(r.cases > 50 for r in results), table(results)
    assert sum(r.failures + r.errors for r in results) == 0, table(results)
