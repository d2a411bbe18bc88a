"""Real Kafka and PostgreSQL for the tests: from the environment, else testcontainers
where a Docker engine answers, else the local processes of deploy/local.

Missing infrastructure is an error, never a skip: a green run must have tested something.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg

from services.chassis.runtime.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / "deploy" / "local"


class Control(Protocol):
    """Crash and restart a piece of infrastructure (fault tests)."""

    def kill(self) -> None: ...
    def stop(self) -> None: ...
    def start(self) -> None: ...


@dataclass
class LocalScript:
    script: str

    def kill(self) -> None:
        _run(self.script, "kill")

    def stop(self) -> None:
        """A clean shutdown (SIGTERM for Kafka, `pg_ctl -m fast` for PostgreSQL)."""
        _run(self.script, "stop")

    def start(self) -> None:
        _run(self.script, "start")


@dataclass
class Postgres:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    control: Control | None

    def connect(self, dbname: str | None = None) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname=dbname or self.dbname, autocommit=True, connect_timeout=5,
        )  # fmt: skip

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        """A database of its own for one test, dropped afterwards."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with self.connect() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            with self.connect() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @contextmanager
    def fresh_settings(self) -> Iterator[Settings]:
        """A service's settings whose store is a fresh database of its own (`fresh_database`)."""
        with self.fresh_database() as dbname:
            yield Settings.model_validate(
                {
                    "persistence": "postgres", "postgres_host": self.host, "postgres_port": self.port,
                    "postgres_user": self.user, "postgres_password": self.password, "postgres_dbname": dbname,
                }
            )  # fmt: skip


@dataclass
class Kafka:
    bootstrap: str
    control: Control | None


def _run(script: str, command: str) -> None:
    result = subprocess.run([str(LOCAL / script), command], capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{script} {command} failed:\n{result.stdout}\n{result.stderr}")


def docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:  # noqa: BLE001 - any failure means: no Docker engine here
        return False
    return True


def kafka() -> Kafka:
    if bootstrap := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return Kafka(bootstrap, control=None)
    if docker_answers():
        from testcontainers.community.kafka import KafkaContainer

        container = KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft().start(timeout=120)
        return Kafka(container.get_bootstrap_server(), control=None)
    _run("kafka.sh", "start")
    return Kafka(f"127.0.0.1:{os.environ.get('SERVICEDESK_KAFKA_PORT', '19092')}", control=LocalScript("kafka.sh"))


def postgres() -> Postgres:
    if host := os.environ.get("POSTGRES_HOST"):
        return Postgres(
            host, int(os.environ.get("POSTGRES_PORT", "5432")), os.environ.get("POSTGRES_USER", "postgres"),
            os.environ.get("POSTGRES_PASSWORD", ""), os.environ.get("POSTGRES_DBNAME", "postgres"), control=None,
        )  # fmt: skip
    if docker_answers():
        from testcontainers.community.postgres import PostgresContainer

        pg = PostgresContainer("postgres:16", driver=None).start()
        return Postgres(
            pg.get_container_host_ip(), int(pg.get_exposed_port(5432)), pg.username, pg.password, pg.dbname,
            control=None,
        )  # fmt: skip
    _run("postgres.sh", "start")
    return Postgres(
        "127.0.0.1", int(os.environ.get("SERVICEDESK_PG_PORT", "15432")), "servicedesk", "servicedesk",
        "servicedesk", control=LocalScript("postgres.sh"),
    )  # fmt: skip
