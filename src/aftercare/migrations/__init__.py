"""Schema migrations (alembic), applied programmatically at start-up and in tests.

The shared tables live in this package's ``versions``; each service keeps its own
revisions in a ``migrations`` folder of its package, on its own alembic branch that
depends on the shared base, and ``upgrade`` applies every head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATION_LOCK_KEY = 0x41465444


def _config(connection: Any, packages: Sequence[str]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(files("aftercare.migrations")))
    locations = [str(files("aftercare.migrations") / "versions")]
    locations += [str(files(package) / "migrations") for package in packages]
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, packages: Sequence[str] = (), to: str = "heads") -> None:
    """Bring the database to the newest schema of the shared library and ``packages``
    (or to the revision ``to``)."""
    await _migrate(engine, lambda config: command.upgrade(config, to), packages)


async def downgrade(engine: AsyncEngine, packages: Sequence[str], to: str) -> None:
    """Take the database back to the revision ``to`` (each step's ``downgrade``)."""
    await _migrate(engine, lambda config: command.downgrade(config, to), packages)


async def _migrate(
    engine: AsyncEngine, step: Callable[[Config], None], packages: Sequence[str]
) -> None:
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Services starting side by side must not both run the same migration.
            await connection.execute(
                text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
            await connection.commit()
        try:
            await connection.run_sync(lambda sync: step(_config(sync, packages)))
            await connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                await connection.commit()
