"""Stopping on SIGTERM the way an orchestrator expects: finish what is in hand, then go.

Kubernetes sends SIGTERM, waits ``terminationGracePeriodSeconds`` and then kills. Python's
default for SIGTERM ends the process on the spot: a consumer would leave a batch applied
but its offsets uncommitted (repeated by the next owner), stay in its group until the
session times out (its partitions idle meanwhile), and a sender could be cut between
delivering a message and marking it sent (the customer would get it twice). So a part
runs under ``until_terminated``: SIGTERM cancels its main task; the units of work that
must not be cut in two run under ``finish_in_hand``, which lets them end before the
cancellation goes on; every ``finally`` then commits, leaves the group, releases the
locks; and if that takes longer than the grace period, the process exits anyway.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import structlog

log = structlog.get_logger(__name__)

T = TypeVar("T")

OVERDUE_EXIT_STATUS = 70
"""The exit status of a part that did not stop within its grace period."""


async def finish_in_hand(work: Awaitable[T]) -> T:
    """Await ``work``; if the caller is cancelled meanwhile, let ``work`` run to its end
    first, then pass the cancellation on (a second cancellation abandons it)."""
    inner = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(inner)
    except asyncio.CancelledError:
        if not inner.done():
            await asyncio.wait([inner])
        if not inner.cancelled():
            inner.exception()  # retrieved: its failure is not the reason we stop
        raise


def _what_is_waiting() -> str:
    """Each unfinished task and where it waits: what held the stop up, for its log."""
    described = io.StringIO()
    for task in asyncio.all_tasks():
        if not task.done():
            task.print_stack(limit=6, file=described)
    return described.getvalue()


async def until_terminated(main: Coroutine[Any, Any, None], grace_seconds: float) -> None:
    """Run ``main`` until it ends or SIGTERM/SIGINT arrives; then cancel it and give it
    ``grace_seconds`` to unwind before the process exits regardless."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(main)
    terminating = asyncio.Event()

    def overdue() -> None:
        log.error(
            "did not stop within the grace period; exiting",
            grace_s=grace_seconds,
            waiting_on=_what_is_waiting(),
        )
        os._exit(OVERDUE_EXIT_STATUS)

    def terminate(name: str) -> None:
        if terminating.is_set():
            return
        terminating.set()
        log.info("stopping: finishing the work in hand", signal=name, grace_s=grace_seconds)
        task.cancel()
        loop.call_later(grace_seconds, overdue)

    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, terminate, number.name)
    try:
        await task
    except asyncio.CancelledError:
        if not terminating.is_set():
            raise
    finally:
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(number)
