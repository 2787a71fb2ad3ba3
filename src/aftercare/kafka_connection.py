"""How every Kafka client of the system connects: servers, TLS, SASL, producer guarantees.

A production cluster (Strimzi, a managed Kafka) asks for TLS and usually SASL; the
embedded broker speaks plain TCP. Every producer, consumer and admin client is built
from one ``KafkaConnection`` so that a setting made once reaches all of them, and a
plain ``"host:port"`` string still means what it always did (plaintext, defaults).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
Acks = Literal["all", "1"]


EMBEDDED_FETCH_MAX_WAIT_MS = 50
"""The fetch wait for the embedded broker, which holds a fetch for the whole wait."""


class KafkaConnectionError(ValueError):
    """The connection settings contradict each other (named in the message)."""


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_ca_file: Path | None = None
    ssl_cert_file: Path | None = None
    ssl_key_file: Path | None = None
    acks: Acks = "all"
    enable_idempotence: bool = False
    fetch_max_wait_ms: int = 500
    """How long the broker may hold a consumer's fetch when it has nothing new. Kafka
    answers as soon as a record arrives, so its default costs no latency; the embedded
    broker holds every fetch for the whole wait (measured: a record sent during it was
    read 135 ms later at the median, up to 250 ms), so it is given a short one."""

    def __post_init__(self) -> None:
        sasl = self.security_protocol.startswith("SASL_")
        if sasl and not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
            raise KafkaConnectionError(
                f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs "
                "AFTERCARE_KAFKA_SASL_MECHANISM, AFTERCARE_KAFKA_SASL_USERNAME and "
                "AFTERCARE_KAFKA_SASL_PASSWORD"
            )
        if (self.ssl_cert_file is None) != (self.ssl_key_file is None):
            raise KafkaConnectionError(
                "a client certificate needs both AFTERCARE_KAFKA_SSL_CERT_FILE and "
                "AFTERCARE_KAFKA_SSL_KEY_FILE"
            )
        if self.enable_idempotence and self.acks != "all":
            raise KafkaConnectionError(
                "an idempotent producer needs AFTERCARE_KAFKA_ACKS=all (Kafka refuses "
                "idempotence with fewer acknowledgements)"
            )

    @classmethod
    def of(cls, target: KafkaTarget) -> KafkaConnection:
        """A string is a plaintext connection to those servers."""
        return target if isinstance(target, KafkaConnection) else cls(target)

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """Verifies the brokers against the given CA (else the system's), and presents a
        client certificate when one is set (mutual TLS, e.g. Strimzi's ``tls`` users)."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(
            cafile=str(self.ssl_ca_file) if self.ssl_ca_file else None
        )
        if self.ssl_cert_file is not None and self.ssl_key_file is not None:
            context.load_cert_chain(str(self.ssl_cert_file), str(self.ssl_key_file))
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client: servers and security."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        if self.sasl_mechanism is not None and self.security_protocol.startswith("SASL_"):
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        return options

    def consumer_options(self) -> dict[str, Any]:
        """A consumer's options: the client's, and how long a fetch may wait."""
        return {**self.client_options(), "fetch_max_wait_ms": self.fetch_max_wait_ms}

    def producer_options(self) -> dict[str, Any]:
        """A producer's options: the client's, and the delivery guarantee."""
        return {
            **self.client_options(),
            "acks": self.acks if self.acks == "all" else int(self.acks),
            "enable_idempotence": self.enable_idempotence,
        }


KafkaTarget = str | KafkaConnection
"""What a client is given: a connection, or bootstrap servers for a plaintext one."""
