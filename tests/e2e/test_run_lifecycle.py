"""``aftercare run`` (what ``make run`` starts) leaves nothing behind however it is stopped,
says plainly when its broker port is taken, and refills a fresh embedded broker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from aftercare.broker import free_port, port_in_use
from tests.support.kafka import eventually, read_topic
from tests.support.processes import AFTERCARE, wait_until_up
from tests.support.ticket_api import complaint

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")


@dataclass
class Run:
    process: asyncio.subprocess.Process
    url: str
    broker_port: int
    sink_port: int

    async def output(self) -> str:
        assert self.process.stdout is not None
        return (await self.process.stdout.read()).decode()


def run_env(data_dir: Path, broker_port: int, sink_port: int, http_port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "AFTERCARE_DATA_DIR": str(data_dir),
        "AFTERCARE_HTTP_PORT": str(http_port),
        "AFTERCARE_BROKER_PORT": str(broker_port),
        "AFTERCARE_SLA_PORT": str(free_port()),
        "AFTERCARE_NOTIFIER_PORT": str(free_port()),
        "AFTERCARE_MAIL_SINK_PORT": str(sink_port),
    }
    for name in ("AFTERCARE_SMTP_HOST", "DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)
    env.pop("AFTERCARE_API_KEYS", None)
    return env


@asynccontextmanager
async def started(data_dir: Path, broker_port: int | None = None) -> AsyncIterator[Run]:
    broker_port = broker_port or free_port()
    sink_port, http_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        AFTERCARE,
        "run",
        env=run_env(data_dir, broker_port, sink_port, http_port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # its own process group, as a terminal gives make run
    )
    run = Run(process, f"http://127.0.0.1:{http_port}", broker_port, sink_port)
    try:
        await wait_until_up(f"{run.url}/readyz", process, within=60)
        yield run
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


async def nothing_listens(*ports: int) -> None:
    await eventually(
        lambda: not any(port_in_use("127.0.0.1", port) for port in ports), 10, f"{ports} freed"
    )


@pytest.mark.parametrize("how", ["SIGKILL of the process", "SIGTERM to the group"])
async def test_stopping_a_run_leaves_no_broker_behind(tmp_path: Path, how: str) -> None:
    async with started(tmp_path) as run:
        assert port_in_use("127.0.0.1", run.broker_port)
        if how.startswith("SIGKILL"):
            run.process.kill()  # the parent only: its children must not outlive it
        else:
            os.killpg(run.process.pid, signal.SIGTERM)
        await asyncio.wait_for(run.process.wait(), 30)
        await nothing_listens(run.broker_port, run.sink_port)
        if how.startswith("SIGTERM"):
            assert "Traceback" not in await run.output()


async def test_a_taken_broker_port_is_reported_in_one_plain_sentence(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        process = await asyncio.create_subprocess_exec(
            AFTERCARE,
            "run",
            env=run_env(tmp_path, port, free_port(), free_port()),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output = (await asyncio.wait_for(process.communicate(), 60))[0].decode()
    assert process.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "Traceback" not in output
    assert "panicked" not in output


async def test_a_fresh_embedded_broker_is_filled_again_from_the_log(tmp_path: Path) -> None:
    headers = {"Authorization": "Bearer dev-admin-key"}
    async with started(tmp_path) as first:
        async with httpx.AsyncClient(base_url=first.url, headers=headers) as api:
            for _ in range(3):
                assert (await api.post("/tickets", json=complaint())).status_code == 201
        os.killpg(first.process.pid, signal.SIGTERM)
        await asyncio.wait_for(first.process.wait(), 30)
        await first.output()
    async with started(tmp_path) as second:
        bootstrap = f"127.0.0.1:{second.broker_port}"
        found = await read_topic(bootstrap, "ticket.events.v1", 3)
        assert len({event.subject for _, event in found}) == 3
        os.killpg(second.process.pid, signal.SIGTERM)
        await asyncio.wait_for(second.process.wait(), 30)
        assert "ticket.events.v1 is new: republishing 3 events from the log" in (
            await second.output()
        )
