"""What the cyclic garbage collector may cost a long-running part.

A full collection walks every tracked object CPython holds. An API process holds about
170,000 from start-up alone (modules, functions, FastAPI's routes, pydantic's
validators), and then the tickets it keeps. Under the benchmark's walk a full collection
took 150-190 ms, every 1.6 s: no request moved meanwhile, so p99 latency was four times
p50, and the collector used a tenth of the process's CPU. None of the start-up objects
will ever be garbage (they live as long as the process), so they need not be walked:

- what exists once a part has started is frozen (``gc.freeze``): moved to a generation
  the collector never visits (a full collection then took about 16 ms);
- full collections come after a hundred collections of the middle generation instead
  of ten: cyclic garbage that old is rare here, and a full walk over the kept tickets
  still costs tens of milliseconds.

Only a process that runs a part for its lifetime does this (``aftercare run``, ``api``,
``relay``, a consumer): a test process builds and drops many apps, and frozen objects
are never freed."""

from __future__ import annotations

import gc

FULL_COLLECTION_AFTER = 100
"""Collections of the middle generation before a full one (CPython's default is 10)."""


class _Process:
    long_lived = False


def keep_long_lived() -> None:
    """This process runs one part until it stops: full collections made rarer, and what
    has been loaded so far frozen (``settle`` freezes what start-up adds later)."""
    _Process.long_lived = True
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
    settle()


def settle() -> None:
    """A part has started (its app built, its routes prepared, its clients made): freeze
    what exists now. Nothing happens in a process that is not long-lived."""
    if not _Process.long_lived:
        return
    gc.collect()
    gc.freeze()
