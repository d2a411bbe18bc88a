"""`python -m services.dev_identity`: tokens of make run's identity provider, with the claims an
agent's groups and a customer's organisation need, that the desk's verifier accepts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services import dev_identity
from services.chassis.http.auth import TokenVerifier
from tests.infra import ROOT


def test_a_dev_token_carries_groups_and_an_organisation(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEDESK_")}
    env["SERVICEDESK_DATA_DIR"] = str(tmp_path / "data")
    command = ["acme", "ann", "agent", "customer", "--groups", "first-line", "billing", "--organisation", "globex"]
    printed = subprocess.run([sys.executable, "-m", "services.dev_identity", *command], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True)  # fmt: skip
    trust = dev_identity.environment(tmp_path / "data")
    verifier = TokenVerifier(dev_identity.ISSUER, dev_identity.AUDIENCE, trust["SERVICEDESK_AUTH_JWKS"], None)
    principal = verifier.verify(printed.stdout.strip())
    assert (principal.tenant, principal.subject) == ("acme", "ann")
    assert {str(role) for role in principal.roles} == {"agent", "customer"}
    assert principal.groups == {"first-line", "billing"}
    assert principal.organisation == "globex"


def test_a_printed_token_carries_the_issuer_make_run_told_the_services_to_trust(tmp_path: Path) -> None:
    provider = dev_identity.provider_url(18009)
    trust = dev_identity.environment(tmp_path / "data", provider)
    assert trust["SERVICEDESK_AUTH_ISSUER"] == provider
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEDESK_")}
    env["SERVICEDESK_DATA_DIR"] = str(tmp_path / "data")
    printed = subprocess.run([sys.executable, "-m", "services.dev_identity", "acme", "admin-1", "admin"], cwd=ROOT,
                             env=env, capture_output=True, text=True, check=True)  # fmt: skip
    verifier = TokenVerifier(provider, dev_identity.AUDIENCE, trust["SERVICEDESK_AUTH_JWKS"], None)
    assert verifier.verify(printed.stdout.strip()).subject == "admin-1"
