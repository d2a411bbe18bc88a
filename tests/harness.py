"""Services as real processes: started, awaited, killed with SIGKILL, restarted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import IO, Self

import httpx
from aiokafka.admin import AIOKafkaAdminClient

from services import dev_identity
from services.chassis.runtime.health import NotReadyError, wait_ready
from services.chassis.runtime.settings import DevIdentityClient, Settings
from tests.infra import ROOT, Kafka, Postgres
from tests.tokens import auth_env

_HANDED_OUT: set[int] = set()


# Ports handed to tests' servers: below the kernel's ephemeral range (32768 and up), which it draws from
# for bind(0) and for every outgoing connection, so a port handed out is never given to anyone else meanwhile.
TEST_PORTS = range(20000, 32768)


def free_port() -> int:
    """A port free now and never handed out before in this run, drawn from this worker's share of
    TEST_PORTS. A port is only taken when its service starts: two services of one desk given the same
    port would have the gateway forward one's requests to the other, and under parallel workers two
    workers would share it."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    share = TEST_PORTS[worker::workers]
    while True:
        port = random.choice(share)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # another program holds it
        _HANDED_OUT.add(port)
        return port


@dataclass
class Service:
    """One process of a service (`python -m services.<name>.main <role>`)."""

    name: str
    role: str
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    instance: str = ""  # SERVICEDESK_INSTANCE_ID: the same at each start, no other process's of the desk
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}-{self.role}.log"

    def start(self, wait: bool = True) -> Self:
        self.starts += 1
        self._log = self.log_path.open("ab")
        self._log.write(f"--- start #{self.starts}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=self.env | self.named(), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        if wait:
            self.wait_ready()
        return self

    def command(self) -> list[str]:
        return [sys.executable, "-m", f"services.{self.name}.main", self.role, "--port", str(self.port)]

    @property
    def ended(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def named(self) -> dict[str, str]:
        return {"SERVICEDESK_INSTANCE_ID": self.instance} if self.instance else {}

    def wait_ready(self, timeout: float = 60.0) -> None:
        try:
            wait_ready(self.url, lambda: self.process is not None and self.process.poll() is None, timeout)
        except NotReadyError as error:
            raise RuntimeError(f"{self.name} {self.role}: {error}\n{self.log_tail()}") from None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing, as a crash or an OOM kill."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._close_log()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@dataclass
class IdentityProvider(Service):
    """`make run`'s identity provider (services/dev_identity) as a process: a browser signs in through
    it (OpenID Connect, code flow with PKCE) as one of its seeded people, for the clients registered."""

    @classmethod
    def of(cls, env: Mapping[str, str], log_dir: Path, clients: Mapping[str, DevIdentityClient]) -> IdentityProvider:
        registered = {client_id: client.model_dump() for client_id, client in clients.items()}
        return cls("dev_identity", "serve", dict(env) | {"SERVICEDESK_DEV_IDENTITY_CLIENTS": json.dumps(registered)},
                   log_dir)  # fmt: skip

    @property
    def data_dir(self) -> Path:
        return Path(self.env["SERVICEDESK_DATA_DIR"])

    def command(self) -> list[str]:
        return [sys.executable, "-m", "services.dev_identity", "serve", "--port", str(self.port)]

    def trust(self) -> dict[str, str]:
        """The settings that make a service trust this provider (its URL is its issuer)."""
        trusted = dev_identity.environment(self.data_dir, self.url)
        return {name: trusted[name] for name in ("SERVICEDESK_AUTH_ISSUER", "SERVICEDESK_AUTH_AUDIENCE",
                                                 "SERVICEDESK_AUTH_JWKS")}  # fmt: skip

    def token(self, tenant: str, subject: str, roles: Sequence[str], groups: Sequence[str] = (),
              organisation: str | None = None) -> str:  # fmt: skip
        """A token of this provider without a browser (to set a desk up before someone signs in)."""
        return dev_identity.token(self.data_dir, tenant, subject, list(roles), 1, groups, organisation, self.url)


@dataclass
class Desk:
    """One desk for one test: its own database (or SQLite folder) and Kafka namespace."""

    settings: Settings
    env: dict[str, str]
    log_dir: Path
    services: list[Service] = field(default_factory=list)
    reserved: dict[str, int] = field(default_factory=dict)  # the port a service's first API process takes

    def service(self, name: str, role: str = "all") -> Service:
        """A service process; the first one that serves the API is where the gateway finds it. Each is named
        (`SERVICEDESK_INSTANCE_ID`) for its service and role and the first rank no process of both holds but an
        ended one, as a StatefulSet's pods are: its consumers are static members of their groups, under the same
        name at each start (and a process started in place of an ended one takes its partitions at once)."""
        port = self.reserved.pop(name, None) if role in ("api", "all") else None
        taken = {s.instance for s in self.services if (s.name, s.role) == (name, role) and not s.ended}
        instance = next(f"{name}-{role}-{n}" for n in count() if f"{name}-{role}-{n}" not in taken)
        service = (
            Service(name, role, self.env, self.log_dir, instance=instance)
            if port is None
            else Service(name, role, self.env, self.log_dir, port=port, instance=instance)
        )
        if role in ("api", "all"):
            self.env.setdefault(f"SERVICEDESK_{name.upper()}_URL", service.url)
        self.services.append(service)
        return service

    def identity_provider(self, clients: Mapping[str, DevIdentityClient]) -> IdentityProvider:
        """`make run`'s identity provider for this desk, which its services then trust instead of
        tests/tokens.py's stand-in: call it before starting them."""
        provider = IdentityProvider.of(self.env, self.log_dir, clients)
        self.env.update(provider.trust())
        self.services.insert(0, provider)  # stopped last
        return provider

    @contextmanager
    def gateway(self, *behind: str) -> Iterator[httpx.Client]:
        """A client of intake's gateway, started after the services `behind` it."""
        for name in behind:
            self.service(name).start()
        intake = self.service("intake").start()
        with httpx.Client(base_url=intake.url, timeout=10.0) as client:
            yield client

    def start_together(self, *services: Service) -> tuple[Service, ...]:
        """`services` spawned at once, then each waited for until ready: the desk is up in about its slowest
        start, not in the sum of them (seven processes took a browser test's desk 16-18 s one after another).
        Their set-ups race on the desk's one database, and the store's set-up does again what lost
        (services/chassis/storage/setting_up.py)."""
        for service in services:
            service.start(wait=False)
        for service in services:
            service.wait_ready()
        return services

    def stop_all(self) -> None:
        """Stop every service, then delete the desk's topics: a broker holding every topic of every
        test so far (thousands of partitions) takes minutes to start again after a fault test's kill."""
        for service in reversed(self.services):
            service.stop()
        forget_topics(self.env["KAFKA_BOOTSTRAP_SERVERS"], self.env["SERVICEDESK_KAFKA_NAMESPACE"])


def forget_topics(bootstrap: str, namespace: str, seconds: float = 10.0) -> None:
    """Delete the topics named `namespace`*, best effort: a broker that is down, or slow, keeps them."""

    async def delete() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(seconds * 1000))
        await admin.start()
        try:
            if names := [topic for topic in await admin.list_topics() if topic.startswith(namespace)]:
                await admin.delete_topics(names, timeout_ms=int(seconds * 1000))
        finally:
            await admin.close()

    def run() -> None:
        with contextlib.suppress(Exception):
            asyncio.run(asyncio.wait_for(delete(), seconds))

    worker = threading.Thread(target=run, name="forget-topics", daemon=True)  # a test's own loop may be running
    worker.start()
    worker.join(seconds + 2)


def desk_settings(tmp: Path, persistence: str, kafka: Kafka, pg: Postgres | None, dbname: str | None) -> Desk:
    namespace = f"t{uuid.uuid4().hex[:10]}."
    values: dict[str, str] = (
        {
            "SERVICEDESK_PERSISTENCE": persistence,
            "SERVICEDESK_DATA_DIR": str(tmp / "data"),
            "SERVICEDESK_KAFKA_NAMESPACE": namespace,
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
            "SERVICEDESK_TOPIC_PARTITIONS": "3",
            "SERVICEDESK_RATE_LIMIT_PER_MINUTE": "1000000",  # load tests are one busy user; the limit has its own test
            "SERVICEDESK_SMTP_LISTEN_PORT": str(free_port()),  # not 2525: other desks may run beside this one
        }
        | auth_env(tmp / "auth")
        | desk_secrets()
    )
    if pg is not None and dbname is not None:
        values |= {
            "POSTGRES_HOST": pg.host, "POSTGRES_PORT": str(pg.port), "POSTGRES_USER": pg.user,
            "POSTGRES_PASSWORD": pg.password, "POSTGRES_DBNAME": dbname,
        }  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICEDESK_", "POSTGRES_", "KAFKA_"))}
    env |= values | {"PYTHONUNBUFFERED": "1"}
    # The knowledge base's and the rules service's addresses are this desk's from the start: a gateway of a
    # test that starts neither answers 503 under /v1/kb and /v1/triggers, never another desk's (or `make run`'s).
    # So is the gateway's: the rules service, started before it, reads the tenant's custom fields there.
    reserved = {"knowledge": free_port(), "rules": free_port(), "intake": free_port()}
    env |= {f"SERVICEDESK_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in reserved.items()}
    settings = Settings.model_validate(_settings_fields(values))
    log_dir = tmp / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    return Desk(settings, env, log_dir, reserved=reserved)


def desk_secrets() -> dict[str, str]:
    """Secrets of the desk's own for every secret setting that has a development default: a test desk
    starts as a production one does (the services refuse those defaults; only `make run` takes them)."""
    return {name: secrets.token_urlsafe(32) for name in Settings.development_secret_names()}


def _settings_fields(values: dict[str, str]) -> dict[str, str]:
    fields = {}
    for key, value in values.items():
        name = key.removeprefix("SERVICEDESK_").lower()
        fields[name] = value
    return fields
