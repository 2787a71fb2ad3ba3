"""Configuration read once from the environment, with embedded defaults when unset."""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from aftercare.auth import ApiKey, KeyRing, parse_api_keys

DEV_ADMIN_KEY = "dev-admin-key"
DEV_NOTIFIER_KEY = "dev-notifier-key"


class Settings(BaseSettings):
    """Every knob of the system; environment variable names are the documented ones."""

    model_config = SettingsConfigDict(env_prefix="AFTERCARE_", extra="ignore")

    data_dir: Path = Path("var")
    database_url_override: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "AFTERCARE_DATABASE_URL")
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # API processes for ``aftercare api`` (``aftercare run`` serves one).
    http_workers: int = Field(default=1, ge=1)
    http_reuse_port: bool = False
    public_url: str | None = None
    # "name:key=role,key=role"; unset means the development keys (see ``api_key_list``).
    api_keys: str | None = None
    # B-RETURN-WINDOW: days after receipt in which a no-reason return is accepted.
    return_window_days: int = Field(default=7, ge=0)
    # B-WARRANTY-PERIOD: months of warranty from the purchase date, by product model;
    # models not listed get ``warranty_months``.
    warranty_months: int = Field(default=12, ge=0)
    warranty_months_by_model: dict[str, int] = Field(default_factory=dict)
    # B-TIME-ORDER: requests and steps may be logged after the fact up to this many days.
    max_backdate_days: int = Field(default=30, ge=0, le=3650)
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
    kafka_enable_idempotence_override: bool | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "KAFKA_ENABLE_IDEMPOTENCE", "AFTERCARE_KAFKA_ENABLE_IDEMPOTENCE"
        ),
    )
    broker_host: str = "127.0.0.1"
    broker_port: int = 9092
    ticket_events_topic: str = "ticket.events.v1"
    sla_topic: str = "ticket.sla.v1"
    topic_partitions: int = Field(default=4, ge=1)
    # SLA watcher.
    sla_host: str = "127.0.0.1"
    sla_port: int = 8001
    sla_policy: Path = Path("deploy/sla-policy.yaml")
    sla_timezone: str = "Asia/Shanghai"
    # JSON lists of ISO dates: the company's own days off, and extra days worked.
    sla_company_holidays: list[date] = Field(default_factory=list)
    sla_company_working_days: list[date] = Field(default_factory=list)
    # A deadline is declared breached this long after it passes, so that an event that
    # met it just in time, still on its way through the relay, is not overtaken.
    sla_grace_seconds: float = Field(default=0.25, ge=0)
    # Notifier.
    notifier_host: str = "127.0.0.1"
    notifier_port: int = 8002
    # Minutes between progress updates by priority (T-PROGRESS: 30 to 60).
    notifier_cadence_minutes: dict[str, int] = Field(
        default_factory=lambda: {"urgent": 30, "high": 60, "normal": 60, "low": 60}
    )
    notifier_coalesce_seconds: float = Field(default=10.0, ge=0)
    # How long a sender holds an update it claimed; a sender that died gives it up then.
    notifier_lease_seconds: float = Field(default=120.0, ge=1)
    notifier_max_event_age_hours: float = Field(default=24.0, gt=0)
    notifier_templates: Path | None = None
    # The key the notifier uses on the ticket API (role notifier); unset: the one key of
    # role notifier in AFTERCARE_API_KEYS. An admin key is refused unless allowed.
    notifier_api_key: str | None = None
    notifier_allow_admin_key: bool = False
    # JSON: {"<customer_ref>": {"url": "...", "secret": "..."}} for customers' own systems.
    notifier_customer_webhooks: dict[str, dict[str, str]] = Field(default_factory=dict)
    # The development mail sink of ``make run`` (only when no SMTP host is set).
    mail_sink_port: int = 1025
    # Email (alerts and customer updates).
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "aftercare@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False

    @property
    def kafka_enable_idempotence(self) -> bool:
        """On for a real Kafka; the embedded broker has no idempotent producer."""
        if self.kafka_enable_idempotence_override is not None:
            return self.kafka_enable_idempotence_override
        return self.kafka_bootstrap_servers is not None

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
    def base_url(self) -> str:
        return self.public_url or f"http://{self.http_host}:{self.http_port}"

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
