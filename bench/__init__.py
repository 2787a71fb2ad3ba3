"""``make bench``: the whole system measured on PostgreSQL and the embedded broker."""
