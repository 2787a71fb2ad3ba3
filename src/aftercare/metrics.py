"""Prometheus metrics of the shared machinery (relay, consumers), defined once.

The ticket API serves them at ``/metrics``; a process without an API (``aftercare
relay``) can expose them with ``--metrics-port``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

PUBLISH_LAG = Histogram(
    "aftercare_relay_publish_lag_seconds",
    "Time from an event's commit to the broker's acknowledgement of it.",
    ["relay"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
PUBLISHED = Counter(
    "aftercare_relay_published_events", "Events acknowledged by the broker.", ["relay"]
)
RELAY_FAILURES = Counter(
    "aftercare_relay_failures", "Publish attempts that failed and will be retried.", ["relay"]
)
RELAY_CHECKPOINT = Gauge(
    "aftercare_relay_checkpoint_position",
    "Global position of the last event the relay has published.",
    ["relay"],
)
CONSUMED = Counter(
    "aftercare_consumer_events",
    "Messages a consumer finished with, by outcome (processed, duplicate, dead_lettered).",
    ["consumer", "outcome"],
)
CONSUMER_LAG = Gauge(
    "aftercare_consumer_lag",
    "Events on a partition this member owns that it has not applied yet (high-water mark "
    "minus position), by consumer, topic and partition.",
    ["consumer", "topic", "partition"],
)
CONSUMER_RETRIES = Counter(
    "aftercare_consumer_retries", "Handler failures that were retried.", ["consumer"]
)
HTTP_REQUESTS = Histogram(
    "aftercare_http_request_duration_seconds",
    "HTTP requests by route template, method and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RecentPublishLag(Collector):
    """Exact p50/p99 of the last publish lags of each relay in this process, computed
    when scraped (the histogram's buckets are too coarse to read a p99 from)."""

    def __init__(self) -> None:
        self.sources: dict[str, Sequence[float]] = {}

    def track(self, relay: str, lags_ms: Sequence[float]) -> None:
        self.sources[relay] = lags_ms

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "aftercare_relay_publish_lag_recent_seconds",
            "Publish lag (commit to broker acknowledgement) of the last 10,000 events.",
            labels=["relay", "quantile"],
        )
        for relay, lags in list(self.sources.items()):
            ordered = sorted(lags)
            if not ordered:
                continue
            for quantile in (0.5, 0.99):
                index = min(int(quantile * len(ordered)), len(ordered) - 1)
                family.add_metric([relay, str(quantile)], ordered[index] / 1000)
        yield family


RECENT_PUBLISH_LAG = RecentPublishLag()
REGISTRY.register(RECENT_PUBLISH_LAG)
