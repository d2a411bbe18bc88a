"""`make run` next to another desk: SERVICEDESK_KAFKA_PORT moves the Kafka every service dials,
and a service that finds nothing there says so in one plain line, as does the supervisor.

No second Kafka is started: the supervisor is told the local one runs (its `kafka.sh status`
answers yes), and the port given is one where nothing listens."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from services.chassis.http.auth import TokenVerifier
from services.dev_identity import AUDIENCE
from tests.harness import free_port
from tests.infra import ROOT

SUPERVISOR = (
    "import sys; from pathlib import Path; from services import supervisor;"
    " supervisor.KAFKA = Path('/bin/true'); sys.exit(supervisor.main())"  # `kafka.sh status`: running
)


PROVIDER_ONLY = SUPERVISOR.replace("supervisor.KAFKA = ", "supervisor.SERVICES = []; supervisor.KAFKA = ")


def test_make_run_on_another_kafka_port_dials_it_and_says_plainly_that_nothing_answers(tmp_path: Path) -> None:
    closed = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICEDESK_", "POSTGRES_", "KAFKA_"))}
    env |= {
        "SERVICEDESK_KAFKA_PORT": str(closed), "KAFKA_BOOTSTRAP_SERVERS": "", "SERVICEDESK_KAFKA_PATIENCE_SECONDS": "3",
        "SERVICEDESK_KAFKA_NAMESPACE": f"t{uuid.uuid4().hex[:10]}.", "SERVICEDESK_DATA_DIR": str(tmp_path / "data"),
        "SERVICEDESK_SMTP_LISTEN_PORT": str(free_port()), "PYTHONUNBUFFERED": "1",
    }  # fmt: skip
    processes = ("intake", "routing", "rules", "sla", "analytics", "knowledge", "dev_identity", "web")
    env |= {f"SERVICEDESK_{process.upper()}_PORT": str(free_port()) for process in processes}
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        output, _ = supervisor.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        supervisor.send_signal(signal.SIGTERM)  # it stops the services it started
        output, _ = supervisor.communicate(timeout=30)
        raise AssertionError(f"make run kept running: it did not dial 127.0.0.1:{closed}\n{output[-3000:]}") from None

    lines = output.splitlines()
    plain = f"cannot start: Kafka does not answer at 127.0.0.1:{closed} (KAFKA_BOOTSTRAP_SERVERS; unset, the local"
    said = [line for line in lines if line.startswith(f"analytics {plain}")]
    assert len(said) == 1, output[-3000:]
    assert supervisor.returncode == 1
    assert any(line.startswith("make run: analytics did not start") for line in lines), output[-3000:]
    assert not any("refuses to start" in line for line in lines), "make run's services take its development secrets"


def test_make_run_starts_its_identity_provider_and_prints_where_to_sign_in_and_a_token_it_trusts(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICEDESK_", "POSTGRES_", "KAFKA_"))}
    env |= {"SERVICEDESK_DEV_IDENTITY_PORT": str(port), "SERVICEDESK_DATA_DIR": str(tmp_path / "data"),
            "SERVICEDESK_WEB_PORT": str(free_port()), "SERVICEDESK_INTAKE_PORT": str(free_port()),
            "PYTHONUNBUFFERED": "1"}  # fmt: skip
    printed = tmp_path / "make-run.txt"
    with printed.open("w") as out:
        supervisor = subprocess.Popen([sys.executable, "-c", PROVIDER_ONLY], cwd=ROOT, env=env, stdout=out,
                                      stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C stops everything." not in printed.read_text() and supervisor.poll() is None:
            assert time.monotonic() < deadline, printed.read_text()[-3000:]
            time.sleep(0.2)
        output = printed.read_text()
        provider = f"http://127.0.0.1:{port}"
        assert re.search(rf"^  sign in +{re.escape(provider)}/ ", output, re.MULTILINE), output[-3000:]
        assert httpx.get(f"{provider}/.well-known/openid-configuration").json()["issuer"] == provider
        token = re.search(r"export TOKEN=(\S+)", output)
        assert token is not None, output[-3000:]
        principal = TokenVerifier(provider, AUDIENCE, f"{provider}/jwks", None).verify(token.group(1))
        assert (principal.tenant, principal.subject) == ("acme", "admin-1")
        gateway = f"http://127.0.0.1:{env['SERVICEDESK_INTAKE_PORT']}"
        assert re.search(rf"^  workspace +{re.escape(gateway)}/ ", output, re.MULTILINE), output[-3000:]
        assert re.search(r"^  Sign in as Ann \(agent, first-line\) +agent-ann$", output, re.MULTILINE), output[-3000:]
        web = httpx.get(f"http://127.0.0.1:{env['SERVICEDESK_WEB_PORT']}/signin")
        assert web.status_code == 302, "the workspace sends a browser to the provider to sign in"
        assert web.headers["location"].startswith(f"{provider}/authorize?")
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=30)
    assert supervisor.returncode == 0
