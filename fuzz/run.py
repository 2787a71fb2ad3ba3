"""Fuzz the ticket API and the APIs of the SLA watcher, the notifier and the reporting
service with schemathesis.

Each API runs as its own ``aftercare`` process on a fresh database, the watcher and the
notifier against the embedded broker, so what the fuzzer reaches is what a client would.
It checks that no answer is a server error and that every answer matches the OpenAPI
document (status, content type, headers, body). The suite runs a short seeded pass;
``make fuzz`` a long one (``FUZZ_EXAMPLES`` per operation, ``FUZZ_SEED``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aftercare.broker import EmbeddedBroker, client_environment, free_port
from aftercare.db import create_engine
from aftercare.migrations import upgrade
from aftercare_system import SERVICE_PACKAGES

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
KEYS = "fuzz:fuzz-key=admin,notifier:fuzz-notifier-key=notifier"


@dataclass(frozen=True)
class FuzzResult:
    api: str
    database: str
    cases: int
    failures: int
    errors: int
    seconds: float


async def _serve(command: str, env: dict[str, str], url: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        AFTERCARE, command, env=env, stdout=asyncio.subprocess.DEVNULL
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    async with httpx.AsyncClient(timeout=2) as client:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"aftercare {command} exited with {process.returncode}")
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return process
            except httpx.TransportError:
                await asyncio.sleep(0.2)
    raise RuntimeError(f"aftercare {command} did not answer at {url}")


async def _schemathesis(
    api: str, url: str, examples: int, seed: int, reports: Path
) -> tuple[int, int, int, float]:
    report = reports / f"{api}.json"
    process = await asyncio.create_subprocess_exec(
        SCHEMATHESIS,
        "run",
        f"{url}/openapi.json",
        "--header",
        "Authorization: Bearer fuzz-key",
        "--checks",
        CHECKS,
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--generation-allow-x00",
        "true",
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output = (await process.communicate())[0].decode(errors="replace")
    if not report.exists():
        raise RuntimeError(f"schemathesis wrote no report:\n{output[-3000:]}")
    summary = json.loads(report.read_text())
    if summary["failures"] or summary["errors"]:
        print(output[-6000:], file=sys.stderr)
    return (
        int(summary["test_cases"]["generated"]),
        _count(summary["failures"]),
        _count(summary["errors"]),
        float(summary["running_time"]),
    )


def _count(found: Any) -> int:
    """The report gives a number, or the list of what it found."""
    return len(found) if isinstance(found, list) else int(found or 0)


async def fuzz(
    database_url: str,
    bootstrap_servers: str,
    *,
    examples: int,
    seed: int,
    apis: tuple[str, ...] = ("tickets", "sla", "notifier", "reporting"),
) -> list[FuzzResult]:
    """Run each API of ``apis`` on ``database_url`` (migrated here) and fuzz it."""
    engine = create_engine(database_url)
    try:
        await upgrade(engine, SERVICE_PACKAGES)
    finally:
        await engine.dispose()
    ports = {api: free_port() for api in ("tickets", "sla", "notifier", "reporting")}
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        **client_environment(bootstrap_servers),
        "AFTERCARE_API_KEYS": KEYS,
        "AFTERCARE_LOG_LEVEL": "ERROR",
        "AFTERCARE_HTTP_PORT": str(ports["tickets"]),
        "AFTERCARE_SLA_PORT": str(ports["sla"]),
        "AFTERCARE_NOTIFIER_PORT": str(ports["notifier"]),
        "AFTERCARE_REPORTING_PORT": str(ports["reporting"]),
        "AFTERCARE_PUBLIC_URL": f"http://127.0.0.1:{ports['tickets']}",
    }
    commands = {
        "tickets": "api",
        "sla": "sla-watcher",
        "notifier": "notifier",
        "reporting": "reporting",
    }
    dialect = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    results: list[FuzzResult] = []
    with tempfile.TemporaryDirectory() as reports:
        for api in apis:
            url = f"http://127.0.0.1:{ports[api]}"
            process = await _serve(commands[api], env, url)
            try:
                cases, failures, errors, seconds = await _schemathesis(
                    api, url, examples, seed, Path(reports)
                )
            finally:
                process.terminate()
                await process.wait()
            results.append(FuzzResult(api, dialect, cases, failures, errors, seconds))
    return results


def table(results: list[FuzzResult]) -> str:
    lines = [f"{'API':<10}{'database':<12}{'cases':>8}{'failures':>10}{'errors':>8}{'s':>8}"]
    for r in results:
        lines.append(
            f"{r.api:<10}{r.database:<12}{r.cases:>8}{r.failures:>10}{r.errors:>8}{r.seconds:>8.1f}"
        )
    total = sum(r.cases for r in results)
    bad = sum(r.failures + r.errors for r in results)
    lines.append(f"{'total':<22}{total:>8}{bad:>10}")
    return "\n".join(lines)


async def main() -> int:
    examples = int(os.environ.get("FUZZ_EXAMPLES", "200"))
    seed = int(os.environ.get("FUZZ_SEED", "20261202"))
    admin_dsn = os.environ.get("AFTERCARE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
    from fuzz.databases import fresh_postgres

    broker = EmbeddedBroker()
    await broker.start()
    results: list[FuzzResult] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            sqlite = f"sqlite+aiosqlite:///{folder}/fuzz.db"
            results += await fuzz(sqlite, broker.bootstrap_servers, examples=examples, seed=seed)
        async with fresh_postgres(admin_dsn) as postgres:
            results += await fuzz(postgres, broker.bootstrap_servers, examples=examples, seed=seed)
    finally:
        await broker.stop()
    print(table(results))
    return 1 if any(r.failures or r.errors for r in results) else 0
