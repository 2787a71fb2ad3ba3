"""Section 9: the peers beside Aftercare, same run, same PostgreSQL, same walk, same
number of clients: the ``eventsourcing`` application (threads in one process) and the
CRUD service (over HTTP, driven by the load generator that drives Aftercare)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any

from aftercare.broker import free_port
from bench.commands import drive
from bench.env import CpuMeter, Environment, percentile


def figures(
    commands: int, elapsed: float, latencies: list[float], cpu_s: float, issued: int
) -> dict[str, Any]:
    return {
        "commands": commands,
        "commands_per_s": round(commands / elapsed, 1) if elapsed else None,
        "p50_ms": round(percentile(latencies, 0.50), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "cpu_ms_per_command": round(cpu_s * 1000 / max(1, issued), 2),
    }


async def crud_peer(environment: Environment) -> dict[str, Any]:
    options = environment.options
    port = free_port()
    server = environment.spawn_module(
        "bench.peers.crud", environment.database_url, str(port), str(options.workers)
    )
    await environment.wait_http(f"http://127.0.0.1:{port}/openapi.json", server)
    cpu = CpuMeter([server.pid])
    result, elapsed = await drive(port, {"Content-Type": "application/json"}, options)
    used = cpu.seconds()
    environment.stop(server)
    return {
        **figures(result.commands, elapsed, result.latencies_ms, used, result.issued),
        "errors": result.errors,
        "error_samples": result.error_samples,
    }


async def eventsourcing_peer(environment: Environment) -> dict[str, Any]:
    options = environment.options
    command = [
        sys.executable,
        "-m",
        "bench.peers.eventsourcing_peer",
        environment.asyncpg_dsn,
        str(options.seconds),
        str(options.clients),
    ]
    run = await asyncio.to_thread(
        subprocess.run,
        command,
        capture_output=True,
        text=True,
        timeout=options.seconds + 120,
        check=False,
        env=os.environ,
    )
    if run.returncode != 0:
        return {"commands_per_s": None, "error": run.stderr[-1000:]}
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    latencies = measured["latencies_ms"]
    return figures(
        measured["commands"],
        measured["elapsed_s"],
        latencies,
        measured["cpu_s"],
        measured["commands"],
    )


async def peers(environment: Environment) -> dict[str, Any]:
    return {
        "eventsourcing": await eventsourcing_peer(environment),
        "crud": await crud_peer(environment),
    }
