"""Prometheus metrics of the shared machinery (relay, consumers), defined once.

The ticket API serves them at ``/metrics``; a process without an API (``aftercare
relay``) can expose them with ``--metrics-port``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
CONSUMER_RETRIES = Counter(
    "aftercare_consumer_retries", "Handler failures that were retried.", ["consumer"]
)
HTTP_REQUESTS = Histogram(
    "aftercare_http_request_duration_seconds",
    "HTTP requests by route template, method and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
