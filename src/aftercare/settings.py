"""Configuration read once from the environment, with embedded defaults when unset."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftercare.auth import ApiKey, KeyRing, parse_api_keys
from aftercare.kafka_connection import (
    EMBEDDED_FETCH_MAX_WAIT_MS,
    KafkaConnection,
    SaslMechanism,
    SecurityProtocol,
)

DEV_ADMIN_KEY = "dev-admin-key"
DEV_NOTIFIER_KEY = "dev-notifier-key"


class Settings(BaseSettings):
    """The knobs every part shares (database, broker and topics, HTTP, keys, limits, mail);
    each service adds its own in a subclass (``TicketSettings``, ``SlaSettings``,
    ``NotifierSettings``). Environment variable names are the documented ones."""

    model_config = SettingsConfigDict(env_prefix="AFTERCARE_", extra="ignore")

    data_dir: Path = Path("var")
    # TLS towards PostgreSQL passes through: ``?ssl=verify-full`` on the URL, and the
    # CA (and client certificate) in libpq's PGSSLROOTCERT, PGSSLCERT and PGSSLKEY.
    database_url_override: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "AFTERCARE_DATABASE_URL")
    )
    http_host: str = "127.0.0.1"
    # In a container every part listens on all interfaces (``0.0.0.0``) while the
    # ``*_HOST`` settings stay the names the others reach it by (a Compose service, a
    # Kubernetes Service); unset, each part listens on its own ``*_HOST``.
    bind_host: str | None = None
    # How the notifier reaches the ticket API, when that is not the public address
    # customers' links use (inside a cluster: http://api:8000).
    ticket_api_url: str | None = None
    http_port: int = 8000
    # API processes for ``aftercare api`` (``aftercare run`` serves one).
    http_workers: int = Field(default=1, ge=1)
    http_reuse_port: bool = False
    public_url: str | None = None
    # "name:key=role,key=role"; unset means the development keys (see ``api_key_list``).
    api_keys: str | None = None
    # Limits at the door (every HTTP API): bytes of a request body, characters of the
    # headers that are recorded (X-Actor, X-Correlation-ID, X-Request-ID).
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_header_chars: int = Field(default=200, ge=16, le=4096)
    # The largest event the write side accepts (its JSON); below the producer's 1 MiB
    # request limit, so whatever is recorded can be published.
    max_event_bytes: int = Field(default=512 * 1024, ge=16 * 1024, le=900 * 1024)
    # The producers' largest request (aiokafka's max_request_size; Kafka's default 1 MiB).
    max_request_bytes: int = Field(default=1024 * 1024, ge=64 * 1024)
    log_level: str = "INFO"
    # Kafka: unset bootstrap servers means the embedded broker on ``broker_port``.
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "AFTERCARE_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    # Off for the embedded broker (it has no idempotent producer), on otherwise.
    kafka_enable_idempotence_override: bool | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "KAFKA_ENABLE_IDEMPOTENCE", "AFTERCARE_KAFKA_ENABLE_IDEMPOTENCE"
        ),
    )
    # How many replicas acknowledge each write: all in-sync ones, or the leader alone.
    kafka_acks: Literal["all", "1"] = "all"
    # Topics are the platform's in production: verified at start-up, created only for the
    # embedded broker unless this says so (a developer's own Kafka).
    kafka_create_topics_override: bool | None = Field(
        default=None, validation_alias=AliasChoices("AFTERCARE_KAFKA_CREATE_TOPICS")
    )
    # How long a consumer's fetch may wait on the broker (see KafkaConnection): Kafka's
    # default for a real cluster, 50 ms for the embedded broker, unless this says.
    kafka_fetch_max_wait_ms_override: int | None = Field(
        default=None,
        ge=1,
        le=30_000,
        validation_alias=AliasChoices("AFTERCARE_KAFKA_FETCH_MAX_WAIT_MS"),
    )
    # The replicas each topic must have (checked at start-up); the embedded broker is one.
    kafka_replication_factor: int = Field(default=3, ge=1, le=7)
    # TLS and SASL towards the brokers (Strimzi's tls listener, a managed Kafka).
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT",
        validation_alias=AliasChoices(
            "KAFKA_SECURITY_PROTOCOL", "AFTERCARE_KAFKA_SECURITY_PROTOCOL"
        ),
    )
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_file: Path | None = None
    kafka_ssl_cert_file: Path | None = None
    kafka_ssl_key_file: Path | None = None
    # Seconds a part has, after SIGTERM, to finish what it is doing (below the pod's
    # terminationGracePeriodSeconds, 30 by default); then it exits regardless.
    shutdown_grace_seconds: float = Field(default=25.0, gt=0, le=600)
    broker_host: str = "127.0.0.1"
    broker_port: int = 9092
    ticket_events_topic: str = "ticket.events.v1"
    sla_topic: str = "ticket.sla.v1"
    quality_topic: str = "quality.alerts.v1"
    topic_partitions: int = Field(default=4, ge=1)
    # SLA watcher.
    sla_host: str = "127.0.0.1"
    sla_port: int = 8001
    # The desk's time zone: working days of SLA clocks, local times in customer updates.
    sla_timezone: str = "Asia/Shanghai"
    # The business calendar (SLA clocks, the reports' schedule). JSON lists of ISO
    # dates: the company's own days off, and extra days worked; JSON list of YAML files,
    # each a year's published holiday schedule (调休) for a year the calendar library
    # does not know yet (see docs and deploy/calendar/).
    sla_company_holidays: list[date] = Field(default_factory=list)
    sla_company_working_days: list[date] = Field(default_factory=list)
    sla_calendar_files: list[Path] = Field(default_factory=list, max_length=20)
    # Notifier.
    notifier_host: str = "127.0.0.1"
    notifier_port: int = 8002
    # Signs the survey links the notifier sends and the reporting service receives; the
    # development default is public: set your own in production.
    survey_secret: str = Field(default="dev-survey-secret", min_length=16)
    # The customer's status page links: issued by the notifier in every update, checked
    # by the ticket service (set your own secret, ≥ 16 characters, on both).
    status_secret: str = Field(default="dev-status-link-secret", min_length=16)
    status_link_days: int = Field(default=30, ge=1, le=365)
    survey_public_url: str | None = None
    # The reporting service (indicators, and the customers' survey pages).
    reporting_host: str = "127.0.0.1"
    reporting_port: int = 8003
    # The development mail sink of ``make run`` (only when no SMTP host is set).
    mail_sink_port: int = 1025
    # Email (alerts and customer updates).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "aftercare@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False

    @model_validator(mode="after")
    def _kafka_settings_agree(self) -> Settings:
        """A contradiction (SASL without credentials, idempotence with ``acks=1``) stops
        the part at start-up rather than at its first connection."""
        self.kafka_connection(self.kafka_bootstrap_servers or self.embedded_bootstrap_servers)
        return self

    @property
    def kafka_enable_idempotence(self) -> bool:
        """On for a real Kafka; the embedded broker has no idempotent producer."""
        if self.kafka_enable_idempotence_override is not None:
            return self.kafka_enable_idempotence_override
        return self.kafka_bootstrap_servers is not None

    @property
    def kafka_create_topics(self) -> bool:
        """True for the embedded broker, or when ``AFTERCARE_KAFKA_CREATE_TOPICS`` says so."""
        if self.kafka_create_topics_override is not None:
            return self.kafka_create_topics_override
        return self.kafka_bootstrap_servers is None

    @property
    def kafka_fetch_max_wait_ms(self) -> int:
        if self.kafka_fetch_max_wait_ms_override is not None:
            return self.kafka_fetch_max_wait_ms_override
        return 500 if self.kafka_bootstrap_servers is not None else EMBEDDED_FETCH_MAX_WAIT_MS

    @property
    def kafka_topic_replication(self) -> int:
        """The embedded broker is a single node: its topics have one replica."""
        return 1 if self.kafka_bootstrap_servers is None else self.kafka_replication_factor

    def kafka_connection(self, bootstrap_servers: str) -> KafkaConnection:
        """Every client's connection to the brokers at ``bootstrap_servers``."""
        password = self.kafka_sasl_password
        return KafkaConnection(
            bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=password.get_secret_value() if password else None,
            ssl_ca_file=self.kafka_ssl_ca_file,
            ssl_cert_file=self.kafka_ssl_cert_file,
            ssl_key_file=self.kafka_ssl_key_file,
            acks=self.kafka_acks,
            enable_idempotence=self.kafka_enable_idempotence,
            fetch_max_wait_ms=self.kafka_fetch_max_wait_ms,
        )

    @property
    def embedded_bootstrap_servers(self) -> str:
        """Where ``make run`` starts the embedded broker."""
        return f"{self.broker_host}:{self.broker_port}"

    @property
    def database_url(self) -> str:
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite+aiosqlite:///{self.data_dir / 'aftercare.db'}"

    @property
    def notifier_url(self) -> str:
        return f"http://{self.notifier_host}:{self.notifier_port}"

    @property
    def sla_url(self) -> str:
        return f"http://{self.sla_host}:{self.sla_port}"

    @property
    def reporting_url(self) -> str:
        return f"http://{self.reporting_host}:{self.reporting_port}"

    @property
    def survey_url(self) -> str:
        """Where customers reach the survey pages (the reporting service unless set)."""
        return (self.survey_public_url or self.reporting_url).rstrip("/")

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.http_host}:{self.http_port}"

    def listen_host(self, host: str) -> str:
        """The address a part listening as ``host`` binds to."""
        return self.bind_host or host

    @property
    def internal_ticket_api_url(self) -> str:
        return (self.ticket_api_url or self.base_url).rstrip("/")

    @property
    def console_url(self) -> str:
        """Where people open a ticket: the links in alerts and e-mails lead here, to
        ``<console_url>/tickets/<id>``."""
        return f"{self.base_url.rstrip('/')}/console"

    @cached_property
    def api_key_list(self) -> list[ApiKey]:
        """Parsed ``AFTERCARE_API_KEYS``; the development keys when none is set."""
        if not self.api_keys:
            return [
                ApiKey("dev-admin", DEV_ADMIN_KEY, "admin"),
                ApiKey("dev-notifier", DEV_NOTIFIER_KEY, "notifier"),
            ]
        return parse_api_keys(self.api_keys)

    @property
    def key_ring(self) -> KeyRing:
        return KeyRing(self.api_key_list)
