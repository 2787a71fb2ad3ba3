"""Work that must not be cut in two ends before a cancellation goes on."""

from __future__ import annotations

import asyncio

import pytest

from aftercare.shutdown import finish_in_hand


async def test_a_cancelled_caller_lets_the_work_in_hand_finish_then_stops() -> None:
    steps: list[str] = []
    started = asyncio.Event()

    async def deliver_then_mark() -> None:
        started.set()
        await asyncio.sleep(0.05)
        steps.append("delivered")
        await asyncio.sleep(0.05)
        steps.append("marked")

    async def sender() -> None:
        await finish_in_hand(deliver_then_mark())
        steps.append("next message")  # never: the sender is stopping

    task = asyncio.create_task(sender())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["delivered", "marked"]


async def test_the_work_s_own_failure_is_raised_when_nobody_stops() -> None:
    async def failing() -> None:
        raise ValueError("the broker refused the batch")

    with pytest.raises(ValueError, match="refused"):
        await finish_in_hand(failing())


async def test_a_failure_while_stopping_does_not_hide_the_stop() -> None:
    started = asyncio.Event()

    async def failing_late() -> None:
        started.set()
        await asyncio.sleep(0.02)
        raise ValueError("too late to matter")

    task = asyncio.create_task(finish_in_hand(failing_late()))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_result_is_returned() -> None:
    async def answer() -> int:
        return 42

    assert await finish_in_hand(answer()) == 42
