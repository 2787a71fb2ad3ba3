"""A PostgreSQL server of the test's own (``initdb`` + ``postgres`` from the machine's
installation), for what the shared server cannot show: here, a server that accepts
only TLS connections, with a certificate the test issued."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trustme

from aftercare.broker import free_port


def _as_postgres(command: list[str]) -> list[str]:
    """The server refuses to run as root: as root, run it as the ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _write_server_files(data: Path, ca: trustme.CA) -> None:
    certificate = ca.issue_cert("localhost", "127.0.0.1")
    certificate.cert_chain_pems[0].write_to_path(data / "server.crt")
    certificate.private_key_pem.write_to_path(data / "server.key")
    (data / "server.key").chmod(0o600)
    (data / "pg_hba.conf").write_text(
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\n", encoding="utf-8"
    )
    for name in ("server.crt", "server.key", "pg_hba.conf"):
        _own(data / name)


def _initialised(ca: trustme.CA) -> Path:
    """A fresh data folder (``initdb``) with the server's certificate; its parent."""
    if shutil.which("initdb") is None or shutil.which("postgres") is None:
        raise RuntimeError("initdb and postgres are needed (PostgreSQL's server package)")
    folder = Path(tempfile.mkdtemp(prefix="aftercare-pg-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    _own(data)
    initdb = ["initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]
    subprocess.run(_as_postgres(initdb), check=True, capture_output=True)
    _write_server_files(data, ca)
    return folder


@asynccontextmanager
async def tls_only_postgres(ca: trustme.CA) -> AsyncIterator[int]:
    """A server on 127.0.0.1 accepting TLS connections only; yields its port."""
    folder = await asyncio.to_thread(_initialised, ca)
    data = folder / "data"
    port = free_port()
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(data),
        "ssl": "on",
        "fsync": "off",
    }
    options = [part for key, value in settings.items() for part in ("-c", f"{key}={value}")]
    server = await asyncio.create_subprocess_exec(
        *_as_postgres(["postgres", "-D", str(data), *options]),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _until_accepting(port, server)
        yield port
    finally:
        if server.returncode is None:
            server.terminate()
            await server.wait()
        shutil.rmtree(folder, ignore_errors=True)


async def _until_accepting(port: int, server: asyncio.subprocess.Process) -> None:
    for _ in range(300):
        if server.returncode is not None:
            raise RuntimeError(f"the private PostgreSQL exited with {server.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise RuntimeError("the private PostgreSQL did not start within 15 s")
