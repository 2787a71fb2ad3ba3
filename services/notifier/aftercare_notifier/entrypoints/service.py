"""The notifier as one running service: consumer + cadence, sender, HTTP API."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aftercare.clock import Clock, SystemClock
from aftercare.cloudevents import CloudEvent
from aftercare.consumer import ConsumerTuning, IdempotentConsumer
from aftercare.customer_links import StatusLinks, SurveyLinks
from aftercare.http import door_limits
from aftercare.mail import smtp_of
from aftercare.runner import RunningService, TaskGroup
from aftercare_notifier.adapters.channels import CustomerChannels
from aftercare_notifier.adapters.sql_store import SqlNotifierStore
from aftercare_notifier.adapters.templates import Templates
from aftercare_notifier.adapters.ticket_api import TicketApi
from aftercare_notifier.adapters.ticket_contract import check_ticket_contract
from aftercare_notifier.domain.cadence import Cadence
from aftercare_notifier.entrypoints.app import create_notifier_app
from aftercare_notifier.service_layer.notifier import Notifier
from aftercare_notifier.service_layer.tuning import NotifierTuning
from aftercare_notifier.settings import NotifierSettings
from aftercare_ticket.contract import PROGRESS_UPDATE_LEAD

GROUP_ID = "aftercare-notifier"


class NotifierKeyProblem(ValueError):
    pass


def notifier_api_key(settings: NotifierSettings) -> str:
    """The notifier's own key on the ticket API: least privilege, so never an admin key
    unless the operator says so (AFTERCARE_NOTIFIER_ALLOW_ADMIN_KEY)."""
    keys = settings.api_key_list
    if settings.notifier_api_key:
        secret = settings.notifier_api_key
        roles = {key.role for key in keys if key.secret == secret}
    else:
        own = [key for key in keys if key.role == "notifier"]
        if not own:
            raise NotifierKeyProblem(
                "no key has the notifier role: set AFTERCARE_NOTIFIER_API_KEY, or add "
                "name:key=notifier to AFTERCARE_API_KEYS"
            )
        secret, roles = own[0].secret, {"notifier"}
    if "admin" in roles and not settings.notifier_allow_admin_key:
        raise NotifierKeyProblem(
            "AFTERCARE_NOTIFIER_API_KEY is an admin key; give the notifier a key with the "
            "notifier role (or set AFTERCARE_NOTIFIER_ALLOW_ADMIN_KEY=true)"
        )
    return secret


def check_notifier_settings(settings: NotifierSettings) -> tuple[Cadence, Templates]:
    """Refuse to start on a cadence outside 30–60 minutes or a broken template."""
    cadence = Cadence.of_minutes(settings.notifier_cadence_minutes, PROGRESS_UPDATE_LEAD)
    directories = [settings.notifier_templates] if settings.notifier_templates else []
    templates = Templates(ZoneInfo(settings.sla_timezone), directories)
    templates.check()
    check_ticket_contract()
    notifier_api_key(settings)
    return cadence, templates


class NotifierService(RunningService):
    def __init__(
        self,
        settings: NotifierSettings,
        engine: AsyncEngine,
        bootstrap_servers: str,
        *,
        clock: Clock | None = None,
        tuning: ConsumerTuning | None = None,
        notifier_tuning: NotifierTuning | None = None,
        serve_http: bool = True,
        sender_idle_wait: float = 0.5,
        group_id: str = GROUP_ID,
    ) -> None:
        self.settings = settings
        self.engine = engine
        kafka = settings.kafka_connection(bootstrap_servers)
        self.clock = clock or SystemClock()
        cadence, templates = check_notifier_settings(settings)
        self.http = httpx.AsyncClient(timeout=10)
        self.api = TicketApi(
            settings.internal_ticket_api_url, notifier_api_key(settings), self.http
        )
        self.notifier = Notifier(
            SqlNotifierStore(engine),
            self.clock,
            cadence,
            templates,
            self.api,
            CustomerChannels(smtp_of(settings), settings.notifier_customer_webhooks, self.http),
            surveys=SurveyLinks(settings.survey_secret, settings.survey_url, self.clock),
            status_links=StatusLinks(
                settings.status_secret,
                settings.base_url,
                self.clock,
                timedelta(days=settings.status_link_days),
            ),
            tuning=notifier_tuning
            or NotifierTuning(
                coalesce=timedelta(seconds=settings.notifier_coalesce_seconds),
                max_event_age=timedelta(hours=settings.notifier_max_event_age_hours),
                lease=timedelta(seconds=settings.notifier_lease_seconds),
            ),
        )
        self.topic = settings.ticket_events_topic
        self.consumer = IdempotentConsumer(
            engine,
            kafka,
            [self.topic],
            group_id,
            self._handle,
            name="notifier",
            tuning=tuning,
            clock=self.clock,
            between_polls=self._tick,
        )
        self.serve_http = serve_http
        self.sender_idle_wait = sender_idle_wait
        self.tasks = TaskGroup()

    async def _handle(
        self, connection: AsyncConnection, event: CloudEvent, record: ConsumerRecord
    ) -> None:
        await self.notifier.on_ticket_event(
            SqlNotifierStore.unit_on(connection), event, record.partition
        )

    async def _tick(self) -> float | None:
        """Queue the routine updates due on partitions owned and read to the end."""
        await self.notifier.schedule_progress(self.consumer.settled_partitions())
        return await self.notifier.seconds_until_due(self.consumer.owned_partitions())

    async def start(self) -> None:
        self.tasks.run("notifier-consumer", self.consumer.run())
        self.tasks.run("notifier-sender", self.notifier.run_sender(self.sender_idle_wait))
        if self.serve_http:
            self.tasks.serve(
                create_notifier_app(
                    self.engine, self.settings.key_ring, door_limits(self.settings)
                ),
                self.settings.listen_host(self.settings.notifier_host),
                self.settings.notifier_port,
                self.settings.log_level,
            )

    async def stop(self) -> None:
        await self.tasks.stop()
        await self.http.aclose()
