"""PostgreSQL over TLS, as a managed database or a cluster operator demands it: the
driver's own settings pass through (``?ssl=verify-full`` on ``DATABASE_URL``, the CA in
libpq's ``PGSSLROOTCERT``), against a private server that accepts TLS connections only."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from sqlalchemy import text

from aftercare.db import create_engine
from tests.support.private_postgres import tls_only_postgres

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[int, Path]]:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(tmp_path / "ca.crt")
    async with tls_only_postgres(ca) as port:
        yield port, tmp_path / "ca.crt"


async def migrate(url: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        AFTERCARE,
        "migrate",
        env={**os.environ, "DATABASE_URL": url, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.mark.postgres
async def test_the_parts_reach_a_tls_only_database_verifying_its_certificate(
    tls_server: tuple[int, Path],
) -> None:
    port, ca_file = tls_server
    url = f"postgresql+asyncpg://postgres@localhost:{port}/postgres?ssl=verify-full"
    status, output = await migrate(url, {"PGSSLROOTCERT": str(ca_file)})
    assert status == 0, output
    os.environ["PGSSLROOTCERT"] = str(ca_file)
    try:
        engine = create_engine(url)
        async with engine.connect() as connection:
            encrypted = await connection.scalar(
                text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            )
            tables = await connection.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_name = 'events'")
            )
        await engine.dispose()
    finally:
        del os.environ["PGSSLROOTCERT"]
    assert encrypted is True
    assert tables == 1, "the migrations ran over the TLS connection"


@pytest.mark.postgres
async def test_a_database_with_an_unknown_certificate_is_refused(
    tls_server: tuple[int, Path], tmp_path: Path
) -> None:
    port, _ = tls_server
    trustme.CA().cert_pem.write_to_path(tmp_path / "other-ca.crt")
    url = f"postgresql+asyncpg://postgres@localhost:{port}/postgres?ssl=verify-full"
    status, output = await migrate(url, {"PGSSLROOTCERT": str(tmp_path / "other-ca.crt")})
    assert status != 0
    assert "certificate verify failed" in output


@pytest.mark.postgres
async def test_without_tls_the_server_turns_the_parts_away(
    tls_server: tuple[int, Path],
) -> None:
    port, _ = tls_server
    status, output = await migrate(
        f"postgresql+asyncpg://postgres@localhost:{port}/postgres?ssl=disable", {}
    )
    assert status != 0
    assert "no pg_hba.conf entry" in output
