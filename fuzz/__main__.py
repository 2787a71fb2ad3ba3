"""``python -m fuzz`` (``make fuzz``): prints the cases run and the failures found per API."""

from __future__ import annotations

import asyncio

from fuzz.run import main

raise SystemExit(asyncio.run(main()))
