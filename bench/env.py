"""What every section needs: a fresh PostgreSQL database, the broker, child processes,
and honest readings of CPU and memory."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

from aftercare.broker import EmbeddedBroker
from aftercare.db import create_engine
from aftercare.migrations import upgrade
from aftercare.topics import TopicSpec, ensure_topics
from aftercare_system import SERVICE_PACKAGES

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))
API_KEY = "bench-key"


def percentile(samples: Sequence[float], quantile: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(int(quantile * len(ordered)), len(ordered) - 1)]


@dataclass
class Options:
    seconds: float = float(os.environ.get("BENCH_SECONDS", "30"))
    scale: float = float(os.environ.get("BENCH_SCALE", "1"))
    clients: int = int(os.environ.get("BENCH_CLIENTS", "32"))
    workers: int = int(os.environ.get("BENCH_WORKERS", "2"))
    reporting_members: int = int(os.environ.get("BENCH_REPORTING_MEMBERS", "2"))
    admin_dsn: str = os.environ.get(
        "BENCH_PG_DSN",
        os.environ.get("AFTERCARE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test"),
    )

    def scaled(self, full: int, least: int = 10) -> int:
        return max(least, int(full * self.scale))


@dataclass
class Environment:
    options: Options
    database: str = field(default_factory=lambda: f"aftercare_bench_{uuid.uuid4().hex[:10]}")
    broker: EmbeddedBroker = field(default_factory=EmbeddedBroker)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def asyncpg_dsn(self) -> str:
        return self.options.admin_dsn.rsplit("/", 1)[0] + "/" + self.database

    @property
    def database_url(self) -> str:
        return self.asyncpg_dsn.replace("postgresql://", "postgresql+asyncpg://")

    async def start(self) -> None:
        admin = await asyncpg.connect(self.options.admin_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            await admin.close()
        engine = create_engine(self.database_url)
        await upgrade(engine, SERVICE_PACKAGES)
        await engine.dispose()
        await self.broker.start()

    async def topic(self, name: str, partitions: int = 4) -> str:
        await ensure_topics(self.broker.bootstrap_servers, [TopicSpec(name, partitions)])
        return name

    def environ(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            **self.broker.client_environment(),
            "AFTERCARE_API_KEYS": f"{API_KEY}=admin",
            "AFTERCARE_LOG_LEVEL": "WARNING",
            **extra,
        }

    def spawn(self, *args: str, **extra: str) -> subprocess.Popen[bytes]:
        """``aftercare args`` on the run's database and broker, stopped with the rest."""
        return self._started([AFTERCARE, *args], self.environ(**extra))

    def spawn_module(self, module: str, *args: str) -> subprocess.Popen[bytes]:
        """``python -m module args`` (a peer), stopped with the rest."""
        return self._started([sys.executable, "-m", module, *args], None)

    def _started(self, command: list[str], env: dict[str, str] | None) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    async def wait_http(
        self, url: str, process: subprocess.Popen[bytes], within: float = 30
    ) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient() as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"{url} process exited: {error[-2000:]}")
                try:
                    if (await client.get(url, timeout=1)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{url} did not answer within {within} s")

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    async def close(self) -> None:
        for process in self.processes:
            self.stop(process)
        await self.broker.stop()
        admin = await asyncpg.connect(self.options.admin_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        finally:
            await admin.close()


EVENT_COLUMNS = [
    "stream_id",
    "version",
    "event_id",
    "type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
]


async def copy_events(environment: Environment, records: Sequence[tuple[Any, ...]]) -> None:
    """Events straight into the log with COPY (rows in ``EVENT_COLUMNS`` order)."""
    connection = await asyncpg.connect(environment.asyncpg_dsn)
    try:
        await connection.copy_records_to_table("events", records=records, columns=EVENT_COLUMNS)
    finally:
        await connection.close()


class CpuMeter:
    """CPU seconds used by a set of processes (and their children) over a span of time."""

    def __init__(self, pids: Sequence[int], children: bool = True) -> None:
        self.pids = list(pids)
        self.children = children
        self.start_cpu = self._cpu()
        self.start_wall = time.monotonic()

    def _processes(self) -> list[psutil.Process]:
        found = []
        for pid in self.pids:
            try:
                parent = psutil.Process(pid)
                found += [parent, *(parent.children(recursive=True) if self.children else [])]
            except psutil.NoSuchProcess:
                continue
        return found

    def _cpu(self) -> float:
        total = 0.0
        for process in self._processes():
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total

    def seconds(self) -> float:
        """CPU seconds used since the meter started."""
        return self._cpu() - self.start_cpu

    def percent(self) -> float:
        """Average over the span, 100 = one core busy."""
        wall = time.monotonic() - self.start_wall
        return 100 * (self._cpu() - self.start_cpu) / wall if wall else 0.0


def postgres_pids() -> list[int]:
    return [
        p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postgresql")
    ]


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process, in MB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return psutil.Process(pid).memory_info().rss / 2**20
