"""Aftercare: event-sourced after-sales technical support.

This package holds what every service shares: settings, the event store, database
plumbing and the HTTP error format. Each service lives in its own package under
``services/``.
"""

__version__ = "0.1.0"
