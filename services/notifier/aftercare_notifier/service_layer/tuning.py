"""How the notifier paces itself: coalescing, the age beyond which history is not told,
retries and their backoff, the sender's lease and batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class NotifierTuning:
    coalesce: timedelta = timedelta(seconds=10)
    max_event_age: timedelta = timedelta(hours=24)
    max_attempts: int = 6
    retry_backoff: timedelta = timedelta(seconds=30)
    max_backoff: timedelta = timedelta(minutes=15)
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50
