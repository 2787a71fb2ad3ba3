"""Aftercare's own commands as child processes, for tests that need real processes: several
API workers, a service killed with SIGKILL, a run stopped from outside."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

AFTERCARE = str(Path(sys.executable).with_name("aftercare"))


async def wait_until_up(
    url: str, process: asyncio.subprocess.Process, within: float = 30.0
) -> None:
    """Return once ``url`` answers; fail at once if ``process`` exits meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while loop.time() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"{url}: the process exited with {process.returncode}")
            try:
                await client.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {within} s")


async def stop(process: asyncio.subprocess.Process, sig: int = signal.SIGTERM) -> None:
    if process.returncode is None:
        process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def aftercare(
    *args: str, env: Mapping[str, str], ready_url: str | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``aftercare <args>`` with ``env`` added to this environment, stopped on exit."""
    process = await asyncio.create_subprocess_exec(
        AFTERCARE, *args, env={**os.environ, **env}, stdin=asyncio.subprocess.DEVNULL
    )
    try:
        if ready_url:
            await wait_until_up(ready_url, process)
        yield process
    finally:
        await stop(process)
