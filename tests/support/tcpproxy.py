"""A TCP proxy the test controls, in the manner of Toxiproxy: put it between the services
and PostgreSQL, then ``cut()`` to make the database unreachable (open connections are
dropped, new ones refused) and ``restore()`` to bring it back on the same port. Given an
``ssl`` context it terminates TLS, as a TLS listener in front of a plaintext server."""

from __future__ import annotations

import asyncio
import contextlib
import ssl as tls
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aftercare.broker import free_port


class TcpProxy:
    def __init__(
        self, upstream_host: str, upstream_port: int, ssl: tls.SSLContext | None = None
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.ssl = ssl
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, ssl=self.ssl
        )

    async def cut(self) -> None:
        """The database is gone: refuse new connections, drop the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def restore(self) -> None:
        await self.start()

    async def stop(self) -> None:
        await self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer)),
            asyncio.create_task(self._pipe(up_reader, writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            self._pipes.difference_update(pipes)
            for end in (writer, up_writer):
                self._writers.discard(end)
                end.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        writer.transport.abort()


@asynccontextmanager
async def tcp_proxy(
    upstream_host: str, upstream_port: int, ssl: tls.SSLContext | None = None
) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(upstream_host, upstream_port, ssl)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()
