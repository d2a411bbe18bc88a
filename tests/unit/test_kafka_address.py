"""Which Kafka a service dials: one setting, SERVICEDESK_KAFKA_PORT, moves the local one that
deploy/local starts (`make run`) for the scripts and the services alike."""

from __future__ import annotations

import subprocess

import pytest

from services.chassis.runtime.settings import Settings
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


def local_kafka_ports(kafka_port: str) -> list[str]:
    """The broker's and the controller's port deploy/local gives a desk's Kafka."""
    ports = subprocess.run(
        ["bash", "-c", f'source "{LOCAL}/common.sh"; echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT"'],
        env={"SERVICEDESK_KAFKA_PORT": kafka_port, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return ports.stdout.split()


def test_the_kafka_port_moves_the_local_brokers_ports_too() -> None:
    """The controller's port follows the broker's, so a second desk's Kafka needs no second setting."""
    assert local_kafka_ports("29092") == ["29092", "30092"]


def test_a_desk_on_the_next_kafka_port_does_not_collide_with_its_neighbour() -> None:
    """The natural choice for a second desk is the next port (19093): its broker and controller must
    not take a port of the default desk's Kafka, nor of the desk on the port after it."""
    desks = ["19092", "19093", "19094", "29092"]
    taken = [port for desk in desks for port in local_kafka_ports(desk)]
    assert len(taken) == len(set(taken)), taken
