"""The Kubernetes manifests, checked without a cluster: every built-in resource against
the Kubernetes API schemas (kubernetes-validate), the Strimzi and Prometheus Operator
resources against the fields Aftercare relies on, and everything against the code (a
command per part, probes on the endpoints that mean it, topics for every topic the code
uses, replicas the issue's sizing asks for)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from aftercare_system.maintenance import topics_of
from aftercare_system.settings import SystemSettings
from tests.contract.test_deploy import settings_variables, subcommands

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
CUSTOM = {"kafka.strimzi.io/v1", "monitoring.coreos.com/v1"}
VERSION = "1.33.0"


def resources() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    found: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        found += [d for d in yaml.safe_load_all((KUBERNETES / name).read_text()) if d]
    return found


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources() if r["kind"] == kind}


@pytest.mark.parametrize(
    "resource",
    [r for r in resources() if r["apiVersion"] not in CUSTOM],
    ids=lambda r: f"{r['kind']}/{r['metadata']['name']}",
)
def test_each_resource_follows_the_kubernetes_api(resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, VERSION, strict=True)


def test_kafka_runs_in_kraft_with_three_dual_role_nodes() -> None:
    [pool] = of_kind("KafkaNodePool").values()
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "aftercare"
    kafka = of_kind("Kafka")["aftercare"]
    config = kafka["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False


def test_a_topic_for_every_topic_the_code_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The parts verify the topics at start-up: with the ConfigMap's settings, each topic
    they will check exists here as they will want it (else the pods would not start)."""
    for name, value in of_kind("ConfigMap")["aftercare-settings"]["data"].items():
        monkeypatch.setenv(name, str(value))
    settings = SystemSettings()
    assert settings.kafka_create_topics is False
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind("KafkaTopic").values()}
    for wanted in topics_of(settings):
        spec = topics[wanted.name]
        assert spec["replicas"] >= wanted.replication == 3, wanted.name
        if wanted.setting is not None:
            assert spec["partitions"] == wanted.partitions, wanted.name
    for spec in topics.values():
        assert spec["config"]["min.insync.replicas"] == 2
        assert "retention.ms" in spec["config"]
    # Keyed alike and of one size: a ticket's events and verdicts share a partition.
    assert (
        topics[settings.sla_topic]["partitions"]
        == topics[settings.ticket_events_topic]["partitions"]
    )


def test_every_part_runs_its_command_with_probes_and_a_budget() -> None:
    deployments, budgets = of_kind("Deployment"), of_kind("PodDisruptionBudget")
    replicas = {"relay": 2, "sla-watcher": 3, "notifier": 2}
    known, variables = subcommands(), settings_variables()
    settings = yaml.safe_load((KUBERNETES / "aftercare.yaml").read_text().split("---")[0])
    for variable in settings["data"]:
        assert variable in variables | {"KAFKA_BOOTSTRAP_SERVERS"}, variable
    for name, deployment in deployments.items():
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        assert container["args"][0] in known
        assert container["readinessProbe"]["httpGet"]["path"] in {"/readyz", "/metrics"}
        assert container["livenessProbe"]["httpGet"]["path"] in {"/healthz", "/metrics"}
        assert "startupProbe" in container
        assert container["resources"]["requests"]["memory"]
        assert container["resources"]["limits"]["memory"]
        assert container["securityContext"]["runAsNonRoot"] is True
        assert name in budgets
        assert deployment["spec"]["replicas"] == replicas.get(name, deployment["spec"]["replicas"])
    assert of_kind("HorizontalPodAutoscaler")["api"]["spec"]["minReplicas"] >= 2
    assert of_kind("Job")["migrate"]["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "migrate"
    ]
    assert "aftercare" in of_kind("ServiceMonitor")


def test_the_parts_reach_kafka_over_tls_verified_by_the_cluster_ca() -> None:
    """Strimzi's tls listener, and its cluster CA (the Secret ``<cluster>-cluster-ca-cert``)
    mounted where the settings say, in every part that talks to Kafka."""
    data = of_kind("ConfigMap")["aftercare-settings"]["data"]
    assert data["KAFKA_SECURITY_PROTOCOL"] == "SSL"
    port = int(data["KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    listeners = of_kind("Kafka")["aftercare"]["spec"]["kafka"]["listeners"]
    assert any(listener["port"] == port and listener["tls"] for listener in listeners)
    ca_file = Path(data["AFTERCARE_KAFKA_SSL_CA_FILE"])
    for name in ("relay", "sla-watcher", "notifier", "reporting"):
        pod = of_kind("Deployment")[name]["spec"]["template"]["spec"]
        [container] = pod["containers"]
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        [volume] = [n for n, path in mounts.items() if Path(path) == ca_file.parent]
        assert volumes[volume]["secret"]["secretName"] == "aftercare-cluster-ca-cert", name
