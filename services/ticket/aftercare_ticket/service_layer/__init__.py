"""Use cases: load a ticket, decide, append with the read model in one transaction."""
