"""``aftercare relay`` on its own: publishes, and serves its metrics when asked."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx

from aftercare.broker import EmbeddedBroker, free_port

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))


async def test_standalone_relay_serves_prometheus_metrics(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'relay.db'}",
        **broker.client_environment(),
    }
    migrate = await asyncio.create_subprocess_exec(AFTERCARE, "migrate", env=env)
    assert await migrate.wait() == 0
    relay = await asyncio.create_subprocess_exec(
        AFTERCARE, "relay", "--metrics-port", str(port), env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        body = await scrape_when_up(f"http://127.0.0.1:{port}/metrics", relay)
        assert "# TYPE aftercare_relay_publish_lag_seconds histogram" in body
        assert "# TYPE aftercare_relay_failures_total counter" in body
    finally:
        relay.terminate()
        await relay.wait()


async def scrape_when_up(url: str, process: asyncio.subprocess.Process) -> str:
    """The metrics page, once the process serves it (it must not die meanwhile)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    async with httpx.AsyncClient() as client:
        while loop.time() < deadline:
            assert process.returncode is None, "the relay exited"
            try:
                return (await client.get(url)).text
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not answer within 20 s")
