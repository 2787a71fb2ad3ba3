"""Storage for the ticket service: read model and idempotency records."""
