"""What a long-running service is made of: background tasks and an HTTP API, started
and stopped together (the SLA watcher, the notifier and the reporting service are)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import uvicorn
import uvloop
from fastapi import FastAPI

from aftercare import heap

HTTP_TASK = "http"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
HTTP_PARSER = "httptools"
"""uvicorn's HTTP/1.1 parser: httptools (llhttp, C) parses a request in a fraction of
h11's time; with uvloop it took about a tenth off the API's CPU per command."""

T = TypeVar("T")


def run_service(main: Coroutine[Any, Any, T]) -> T:
    """Run a long-lived part (``aftercare run``, ``api``, ``relay``, a consumer) to its
    end on uvloop, the libuv event loop: the same asyncio API at less CPU per request
    and per record; nothing here depends on which loop runs it. Its garbage collection
    is that of a long-lived process (``aftercare.heap``)."""
    heap.keep_long_lived()
    return uvloop.run(main)


class StandaloneServer(uvicorn.Server):
    """A server that is the whole process (``aftercare api``). uvicorn, having shut down
    gracefully on SIGTERM, raises the signal again so that whoever runs it can stop too;
    alone in its process that ends it as "killed by SIGTERM" (status 143) after a clean
    stop. Here the clean stop is the end: the process exits with status 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {number: signal.signal(number, self.handle_exit) for number in STOP_SIGNALS}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


class TaskGroup:
    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[Any]] = {}
        self._server: uvicorn.Server | None = None

    def run(self, name: str, work: Coroutine[Any, Any, Any]) -> None:
        self.tasks[name] = asyncio.create_task(work, name=name)

    def serve(self, app: FastAPI, host: str, port: int, log_level: str) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level.lower(),
            access_log=False,
            http=HTTP_PARSER,
        )
        self._server = uvicorn.Server(config)
        self.run(HTTP_TASK, self._server.serve())

    async def let_finish(self, name: str, within: float) -> None:
        """Wait for a task asked to stop on its own (it finishes what it holds)."""
        task = self.tasks.get(name)
        if task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), within)

    async def stop(self) -> None:
        """The HTTP server shuts down gracefully; the other tasks are cancelled."""
        if self._server is not None:
            self._server.should_exit = True
        for name, task in self.tasks.items():
            if name != HTTP_TASK:
                task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        self.tasks = {}
        self._server = None

    async def wait(self) -> None:
        """Until every task ends or one fails (raised here). Cancelling the waiter leaves
        the tasks running: ``stop`` ends them in order (the HTTP server gracefully)."""
        done, _ = await asyncio.wait(self.tasks.values(), return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()


class RunningService:
    """A service that starts its parts, runs until one of them ends (or it is cancelled),
    and then stops them all, whichever way it ended."""

    tasks: TaskGroup

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def run_forever(self) -> None:
        await self.start()
        try:
            await self.tasks.wait()
        finally:
            await self.stop()
