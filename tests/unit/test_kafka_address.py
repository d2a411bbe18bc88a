"""Which Kafka a service dials: one setting, SERVICEDESK_KAFKA_PORT, moves the local one that
deploy/local starts (`make run`) for the scripts and the services alike."""

from __future__ import annotations

import subprocess

import pytest

from services.chassis.settings import Settings
from tests.infra import LOCAL


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "SERVICEDESK_KAFKA_PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_kafka_port_moves_the_address_the_services_dial(environment: pytest.MonkeyPatch) -> None:
    assert Settings().kafka_bootstrap_servers == "127.0.0.1:19092"
    environment.setenv("SERVICEDESK_KAFKA_PORT", "29092")
    assert Settings().kafka_bootstrap_servers == "127.0.0.1:29092"


def test_an_empty_kafka_bootstrap_setting_means_the_local_kafka(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("SERVICEDESK_KAFKA_PORT", "29092")
    environment.setenv("KAFKA_BOOTSTRAP_SERVERS", "")
    assert Settings().kafka_bootstrap_servers == "127.0.0.1:29092", "not ':9092'"
    environment.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-0.example:9092")
    assert Settings().kafka_bootstrap_servers == "kafka-0.example:9092"


def test_the_kafka_port_moves_the_local_brokers_ports_too() -> None:
    """The controller's port follows the broker's, so a second desk's Kafka needs no second setting."""
    ports = subprocess.run(
        ["bash", "-c", f'source "{LOCAL}/common.sh"; echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT"'],
        env={"SERVICEDESK_KAFKA_PORT": "29092", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert ports.stdout.split() == ["29092", "29093"]
