"""The system's wiring: the ``aftercare`` command that composes the library and the three
services. The library (``aftercare``) imports no service; only this package does."""

SERVICE_PACKAGES = (
    "aftercare_ticket",
    "aftercare_sla",
    "aftercare_notifier",
    "aftercare_reporting",
)
"""The packages whose migrations make up the database schema."""
