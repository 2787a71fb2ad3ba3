"""A limit on the pages anyone may open without an account (a customer's status page,
the satisfaction survey): so many requests per client address in a moving window, kept
in the process's memory (each API process limits on its own; behind a proxy, set the
proxy's own limit as well, since every request then comes from its address)."""

from __future__ import annotations

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.requests import Request

PER_ADDRESS = "60/minute"


class PerAddressLimit:
    def __init__(self, name: str, rate: str = PER_ADDRESS) -> None:
        self.name = name
        self.rate = parse(rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def allows(self, request: Request) -> bool:
        """Count this request; False once its address is over the limit."""
        address = request.client.host if request.client else "unknown"
        return await self.limiter.hit(self.rate, self.name, address)
