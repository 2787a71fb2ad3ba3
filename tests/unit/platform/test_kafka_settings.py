"""What the Kafka settings become: one connection for every client, production defaults
for a real cluster, the embedded broker's exceptions, contradictions refused at once."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme
from pydantic import ValidationError

from aftercare import broker
from aftercare.kafka_connection import KafkaConnection, KafkaConnectionError
from aftercare.settings import Settings


def test_a_real_cluster_gets_the_production_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0:9092,kafka-1:9092")
    production = Settings()
    assert production.kafka_create_topics is False  # the platform owns the topics
    assert production.kafka_topic_replication == 3
    producer = production.kafka_connection("kafka-0:9092").producer_options()
    assert producer["acks"] == "all"
    assert producer["enable_idempotence"] is True
    assert producer["security_protocol"] == "PLAINTEXT"


def test_the_embedded_broker_creates_single_replica_topics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    embedded = Settings()
    assert embedded.kafka_create_topics is True
    assert embedded.kafka_topic_replication == 1
    assert embedded.kafka_connection("127.0.0.1:9092").enable_idempotence is False


def test_a_development_kafka_may_ask_for_topics_to_be_created(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")
    monkeypatch.setenv("AFTERCARE_KAFKA_CREATE_TOPICS", "true")
    monkeypatch.setenv("AFTERCARE_KAFKA_REPLICATION_FACTOR", "1")
    development = Settings()
    assert development.kafka_create_topics is True
    assert development.kafka_topic_replication == 1


def test_sasl_over_tls_reaches_the_client_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(tmp_path / "ca.crt")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9093")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("AFTERCARE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("AFTERCARE_KAFKA_SASL_USERNAME", "aftercare")
    monkeypatch.setenv("AFTERCARE_KAFKA_SASL_PASSWORD", "s3cret-from-the-secret")
    monkeypatch.setenv("AFTERCARE_KAFKA_SSL_CA_FILE", str(tmp_path / "ca.crt"))
    connection = Settings().kafka_connection("kafka:9093")
    options = connection.client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "aftercare"
    assert options["sasl_plain_password"] == "s3cret-from-the-secret"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert "s3cret" not in repr(connection), "the password must not reach a log line"


def test_a_client_certificate_is_presented_for_mutual_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    client = ca.issue_cert("aftercare")
    ca.cert_pem.write_to_path(tmp_path / "ca.crt")
    client.cert_chain_pems[0].write_to_path(tmp_path / "user.crt")
    client.private_key_pem.write_to_path(tmp_path / "user.key")
    connection = KafkaConnection(
        "kafka:9093",
        security_protocol="SSL",
        ssl_ca_file=tmp_path / "ca.crt",
        ssl_cert_file=tmp_path / "user.crt",
        ssl_key_file=tmp_path / "user.key",
    )
    assert isinstance(connection.client_options()["ssl_context"], ssl.SSLContext)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"security_protocol": "SASL_SSL"}, "AFTERCARE_KAFKA_SASL_MECHANISM"),
        ({"ssl_cert_file": Path("user.crt")}, "AFTERCARE_KAFKA_SSL_KEY_FILE"),
        ({"acks": "1", "enable_idempotence": True}, "AFTERCARE_KAFKA_ACKS=all"),
    ],
)
def test_contradicting_settings_are_refused_naming_the_setting(
    fields: dict[str, object], named: str
) -> None:
    with pytest.raises(KafkaConnectionError, match=named):
        KafkaConnection("kafka:9092", **fields)  # type: ignore[arg-type]


def test_an_unknown_security_protocol_is_refused_by_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "TLS")
    with pytest.raises(ValidationError, match="KAFKA_SECURITY_PROTOCOL"):
        Settings()


def test_a_plain_string_is_a_plaintext_connection() -> None:
    connection = KafkaConnection.of("127.0.0.1:9092")
    assert connection.client_options() == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert KafkaConnection.of(connection) is connection


def test_sasl_without_credentials_stops_the_part_at_start_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9093")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(ValidationError, match="AFTERCARE_KAFKA_SASL_USERNAME"):
        Settings()


def test_a_consumer_fetch_waits_kafkas_default_on_a_cluster_and_briefly_on_the_embedded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kafka answers a waiting fetch as soon as a record arrives; the embedded broker holds
    it for the whole wait, which would sit between every event and its consumer."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0:9092")
    cluster = Settings().kafka_connection("kafka-0:9092")
    assert cluster.consumer_options()["fetch_max_wait_ms"] == 500
    assert "fetch_max_wait_ms" not in cluster.producer_options()
    assert "fetch_max_wait_ms" not in cluster.client_options()  # admin clients refuse it

    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    assert Settings().kafka_connection("127.0.0.1:9092").fetch_max_wait_ms == 50

    for name, value in broker.client_environment("127.0.0.1:9092").items():
        monkeypatch.setenv(name, value)
    started_by_a_test = Settings()
    assert started_by_a_test.kafka_fetch_max_wait_ms == 50

    monkeypatch.setenv("AFTERCARE_KAFKA_FETCH_MAX_WAIT_MS", "200")
    assert Settings().kafka_fetch_max_wait_ms == 200
    monkeypatch.setenv("AFTERCARE_KAFKA_FETCH_MAX_WAIT_MS", "0")
    with pytest.raises(ValidationError):
        Settings()
