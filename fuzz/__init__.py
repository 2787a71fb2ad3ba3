"""``make fuzz``: schemathesis against the three HTTP APIs as they run (real processes)."""
