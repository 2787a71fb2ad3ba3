"""What a team would pick instead of Aftercare, measured on the same machine in the same
run: the same five-command walk as a small ``eventsourcing`` application, and as a plain
CRUD service over one table with a history table."""
