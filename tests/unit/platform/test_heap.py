"""A long-running part freezes what start-up made and makes full collections rarer;
any other process (this test's) keeps CPython's collector as it is."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap

from aftercare import heap

PART = textwrap.dedent(
    """
    import gc, json
    from aftercare import heap
    from aftercare.runner import run_service

    async def part():
        at_start = gc.get_freeze_count()
        app = [["route", n] for n in range(5000)]  # what start-up builds in the loop
        heap.settle()
        return {
            "at_start": at_start,
            "started": gc.get_freeze_count(),
            "threshold": gc.get_threshold(),
            "app": len(app),
        }

    print(json.dumps(run_service(part())))
    """
)


def test_a_long_running_part_freezes_what_it_has_loaded_once_started() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", PART], capture_output=True, text=True, timeout=60, check=True
    )
    seen = json.loads(finished.stdout)
    assert seen["at_start"] > 10_000  # the modules imported before the loop ran
    assert seen["started"] >= seen["at_start"] + 5000  # and what start-up built
    assert seen["threshold"][2] == heap.FULL_COLLECTION_AFTER
    assert seen["threshold"][:2] == list(gc.get_threshold()[:2])  # the young ones as they were


def test_a_process_that_is_not_long_lived_frees_what_it_drops() -> None:
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
    heap.settle()
    assert gc.get_freeze_count() == frozen == 0
    assert gc.get_threshold() == threshold
