"""`make run`: the whole platform on one machine, no Docker, no PostgreSQL.

Starts a local Kafka (unless KAFKA_BOOTSTRAP_SERVERS names one), the development identity
provider (services/dev_identity, unless SERVICEDESK_AUTH_JWKS names the organisation's), then every
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
from services.chassis.runtime.settings import DevIdentityClient, Settings
from services.dev_identity.people import PEOPLE

ROOT = Path(__file__).resolve().parent.parent
KAFKA = ROOT / "deploy" / "local" / "kafka.sh"
DEV_MAILBOX = "support@acme.localhost"

# (service, role): each process serves its API, health and metrics on the service's port.
SERVICES = [
    ("analytics", "all"), ("routing", "all"), ("rules", "all"), ("sla", "all"), ("knowledge", "all"), ("intake", "all"),
]  # fmt: skip
PROVIDER = "dev_identity"


@dataclass
class Child:
    service: str
    url: str
    command: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    restarts: int = 0

    def alive(self) -> bool:
        return self.process.poll() is None


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches the supervisor only, which stops the children in order.
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def child(service: str, url: str, command: list[str], env: dict[str, str]) -> Child:
    return Child(service, url, command, env, start(command, env))


def dev_clients(settings: Settings) -> dict[str, DevIdentityClient]:
    """The clients make run's identity provider knows: each browser app make run starts registers here
    (those of SERVICEDESK_DEV_IDENTITY_CLIENTS are added, or replace one of the same id)."""
    pages = settings.web_public_url or settings.url_of("intake")  # the pages share the gateway's address
    registered: dict[str, DevIdentityClient] = {
        # the web workspace (its secret a development one, like this provider)
        settings.web_client_id: DevIdentityClient(
            redirect_uris=[f"{pages}/auth/callback", f"{settings.url_of('web')}/auth/callback"],
            secret=settings.web_client_secret,
        ),
    }
    return registered | settings.dev_identity_clients


def main() -> int:
    settings = Settings()
    env = dict(os.environ) | {"SERVICEDESK_PERSISTENCE": os.environ.get("SERVICEDESK_PERSISTENCE", "sqlite")}
    provider = None
    if not os.environ.get("SERVICEDESK_AUTH_JWKS"):  # no provider of the organisation's: the dev one
        provider = dev_identity.provider_url(settings.dev_identity_port)
        # ... and, with it only, the development secrets of settings.py (every other desk refuses them).
        env |= dev_identity.environment(settings.data_dir, provider) | {"SERVICEDESK_ALLOW_DEVELOPMENT_SECRETS": "true"}
        clients = {client_id: client.model_dump() for client_id, client in dev_clients(settings).items()}
        env["SERVICEDESK_DEV_IDENTITY_CLIENTS"] = json.dumps(clients)
        env.setdefault("SERVICEDESK_WEB_OIDC_ISSUER", provider)
        env.setdefault("SERVICEDESK_WEB_PUBLIC_URL", settings.url_of("intake"))
        env.setdefault("SERVICEDESK_WEB_TENANTS", json.dumps(["acme"]))  # the desk make run sets up
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
    children: list[Child] = []
    try:
        if provider is not None:  # first: the services fetch nothing from it, but people sign in through it
            serve = [sys.executable, "-m", "services.dev_identity", "serve", "--port", str(settings.dev_identity_port)]
            children.append(child(PROVIDER, provider, serve, env))
            if not ready(children[-1], 30):
                return 1
        pages = [("web", "all")] if env.get("SERVICEDESK_WEB_OIDC_ISSUER") else []  # nobody to sign in at: no pages
        for service, role in [*SERVICES, *pages]:
            command = [sys.executable, "-m", f"services.{service}.main", role]
            named = env | {"SERVICEDESK_INSTANCE_ID": service}  # its consumers take their partitions back on a restart
            children.append(child(service, settings.url_of(service), command, named))
        # longer than a service waits for Kafka, so that it is the service that says what failed
        if not all(ready(started, settings.kafka_patience_seconds + 30) for started in children):
            return 1
        print_urls(settings, env, provider)
        while not stopping:
            time.sleep(0.5)
            for running in children:
                if running.process.poll() is not None and not stopping:
                    running.restarts += 1
                    print(f"{running.service} exited ({running.process.returncode}); restart #{running.restarts}")
                    time.sleep(delay_after(running.restarts, initial=2.0, maximum=30.0))
                    running.process = start(running.command, running.env)
    finally:
        print("\nstopping…")
        for running in children:
            if running.process.poll() is None:
                running.process.terminate()
        for running in children:
            try:
                running.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                running.process.kill()
        if started_kafka:
            subprocess.run([KAFKA, "stop"], check=False)
    return 0


def ready(started: Child, timeout: float) -> bool:
    """Whether `started` answers ready in time; if not, says so (the supervisor then stops everything)."""
    try:
        wait_ready(started.url, started.alive, timeout)
    except NotReadyError as error:
        print(f"make run: {started.service} did not start ({error}); stopping everything", flush=True)
        return False
    return True


def print_urls(settings: Settings, env: dict[str, str], provider: str | None) -> None:
    gateway = settings.url_of("intake")
    workspace = env.get("SERVICEDESK_WEB_PUBLIC_URL") or gateway
    token = "<your token>"
    signing_in = "  sign in         with the organisation's identity provider (SERVICEDESK_AUTH_ISSUER)"
    if provider is not None:
        token = dev_identity.token(settings.data_dir, "acme", "admin-1", ["admin"], issuer=provider)
        signing_in = f"  sign in         {provider}/   (people of acme to sign in as; OpenID Connect, PKCE)"
        signing_in += "\n\nIn the workspace, sign in as any of them:\n" + "\n".join(
            f"  {someone.label:<52} {someone.subject}" for someone in PEOPLE if someone.tenant == "acme"
        )
    relay = settings.smtp_host
    listening = f"{settings.smtp_listen_host}:{settings.smtp_listen_port}"
    mail = f"by SMTP through {relay}" if relay else "held, with that reason: no SMTP relay (SERVICEDESK_SMTP_HOST)"
    print(
        f"""
The service desk is running ({env["SERVICEDESK_PERSISTENCE"]} event stores in {settings.data_dir}/).

  workspace       {workspace}/        (agents, supervisors, admins; in English and Russian)
  customer portal {workspace}/t/acme/  (the help centre without signing in; customers' requests signed in)
  gateway API     {gateway}/v1        docs: {gateway}/docs
  routing         {settings.url_of("routing")}/v1/routing/groups (also through the gateway)
  rules           {settings.url_of("rules")}/v1/triggers (also through the gateway)
  sla             {settings.url_of("sla")}/v1/sla/policies (also through the gateway)
  analytics       {settings.url_of("analytics")}/v1/reports/backlog
  knowledge base  {settings.url_of("knowledge")}/v1/kb/articles (also through the gateway)
  public articles {gateway}/v1/kb/public/acme/articles   (no sign-in)
  metrics         {gateway}/metrics   {settings.url_of("routing")}/metrics   {settings.url_of("analytics")}/metrics
  mail in (SMTP)  {listening}   for {", ".join(json.loads(env["SERVICEDESK_MAILBOXES"]))}
  web chat        {gateway.replace("http", "ws", 1)}/v1/chat?access_token=<a customer's token>
  Kafka           {settings.kafka_bootstrap_servers}
  notifications   {mail}
{signing_in}

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
