"""The ticket service: commands and queries for after-sales support tickets.

``domain`` decides (pure Python), ``adapters`` store, ``service_layer`` runs a command
from load to append, ``entrypoints`` expose it over HTTP.
"""
