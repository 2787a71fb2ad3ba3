"""The ticket domain: vocabulary, events, state machine, rules; no I/O."""
