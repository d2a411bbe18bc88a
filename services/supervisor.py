"""`make run`: the whole platform on one machine, no Docker, no PostgreSQL.

Starts a local Kafka (unless KAFKA_BOOTSTRAP_SERVERS names one), then every
service as its own process on SQLite event stores in .local/data (intake with its
SMTP listener, taking mail for support@acme.localhost unless SERVICEDESK_MAILBOXES says
otherwise), prints where each answers, restarts a service that dies, and on Ctrl-C stops everything it
started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from services import dev_identity
from services.chassis.runtime.health import NotReadyError, wait_ready
from services.chassis.runtime.retries import delay_after
from services.chassis.runtime.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
KAFKA = ROOT / "deploy" / "local" / "kafka.sh"
DEV_MAILBOX = "support@acme.localhost"

# (service, role): each process serves its API, health and metrics on the service's port.
SERVICES = [("analytics", "all"), ("routing", "all"), ("sla", "all"), ("intake", "all")]


@dataclass
class Child:
    service: str
    role: str
    process: subprocess.Popen[bytes]
    restarts: int = 0

    def alive(self) -> bool:
        return self.process.poll() is None


def start(service: str, role: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches the supervisor only, which stops the children in order.
    command = [sys.executable, "-m", f"services.{service}.main", role]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def main() -> int:
    settings = Settings()
    env = dict(os.environ) | {"SERVICEDESK_PERSISTENCE": os.environ.get("SERVICEDESK_PERSISTENCE", "sqlite")}
    if not os.environ.get("SERVICEDESK_AUTH_JWKS"):  # no provider of the organisation's: the dev one
        # ... and, with it only, the development secrets of settings.py (every other desk refuses them).
        env |= dev_identity.environment(settings.data_dir) | {"SERVICEDESK_ALLOW_DEVELOPMENT_SECRETS": "true"}
    if not os.environ.get("SERVICEDESK_MAILBOXES"):  # no desk addresses of the organisation's: one for acme
        env["SERVICEDESK_MAILBOXES"] = json.dumps({DEV_MAILBOX: {"tenant": "acme"}})
    started_kafka = False
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and subprocess.run([KAFKA, "status"], check=False).returncode:
        subprocess.run([KAFKA, "start"], check=True)
        started_kafka = True
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    children = [Child(service, role, start(service, role, env)) for service, role in SERVICES]
    try:
        try:  # longer than a service waits for Kafka, so that it is the service that says what failed
            for child in children:
                wait_ready(settings.url_of(child.service), child.alive, settings.kafka_patience_seconds + 30)
        except NotReadyError as error:
            print(f"make run: {child.service} did not start ({error}); stopping everything", flush=True)
            return 1
        print_urls(settings, env)
        while not stopping:
            time.sleep(0.5)
            for child in children:
                if child.process.poll() is not None and not stopping:
                    child.restarts += 1
                    print(f"{child.service} exited ({child.process.returncode}); restart #{child.restarts}")
                    time.sleep(delay_after(child.restarts, initial=2.0, maximum=30.0))
                    child.process = start(child.service, child.role, env)
    finally:
        print("\nstopping…")
        for child in children:
            if child.process.poll() is None:
                child.process.terminate()
        for child in children:
            try:
                child.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.process.kill()
        if started_kafka:
            subprocess.run([KAFKA, "stop"], check=False)
    return 0


def print_urls(settings: Settings, env: dict[str, str]) -> None:
    gateway = settings.url_of("intake")
    dev = env.get("SERVICEDESK_AUTH_ISSUER") == dev_identity.ISSUER
    token = dev_identity.token(settings.data_dir, "acme", "admin-1", ["admin"]) if dev else "<your token>"
    relay = settings.smtp_host
    listening = f"{settings.smtp_listen_host}:{settings.smtp_listen_port}"
    mail = f"by SMTP through {relay}" if relay else "held, with that reason: no SMTP relay (SERVICEDESK_SMTP_HOST)"
    print(
        f"""
The service desk is running ({env["SERVICEDESK_PERSISTENCE"]} event stores in {settings.data_dir}/).

  gateway API     {gateway}/v1        docs: {gateway}/docs
  routing         {settings.url_of("routing")}/v1/routing/groups (also through the gateway)
  sla             {settings.url_of("sla")}/v1/sla/policies (also through the gateway)
  analytics       {settings.url_of("analytics")}/v1/reports/backlog
  metrics         {gateway}/metrics   {settings.url_of("routing")}/metrics   {settings.url_of("analytics")}/metrics
  mail in (SMTP)  {listening}   for {", ".join(json.loads(env["SERVICEDESK_MAILBOXES"]))}
  web chat        {gateway.replace("http", "ws", 1)}/v1/chat?access_token=<a customer's token>
  Kafka           {settings.kafka_bootstrap_servers}
  notifications   {mail}

Every request needs a bearer token. An admin of tenant `acme`, valid 12 hours, from the
development identity provider (others: python -m services.dev_identity <tenant> <subject> <role>...
[--groups <group>...] [--organisation <organisation>]):

  export TOKEN={token}

Try:
  curl -s -XPUT {gateway}/v1/routing/groups/first-line -H "Authorization: Bearer $TOKEN" \
       -H 'content-type: application/json' -d '{{"tier": 1}}'
  curl -s -XPUT {gateway}/v1/routing/agents/ann -H "Authorization: Bearer $TOKEN" \
       -H 'content-type: application/json' -d '{{"groups": ["first-line"], "capacity": 5}}'
  curl -s -XPUT {gateway}/v1/routing/agents/ann/presence -H "Authorization: Bearer $TOKEN" \
       -H 'content-type: application/json' -d '{{"presence": "online"}}'
  curl -s -XPOST {gateway}/v1/tickets -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
       -d '{{"title": "VPN drops", "requester_id": "customer-1", "priority": "P2"}}'
  curl -s {gateway}/v1/reports/backlog -H "Authorization: Bearer $TOKEN"

Ctrl-C stops everything.""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
