"""A desk outside `make run` refuses the development secrets printed in settings.py: each service
process stops at once, with one readable line naming the setting."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.chassis.runtime.settings import Settings
from tests.harness import Desk, free_port
from tests.infra import ROOT


def start(desk: Desk, module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", module] + (
        [] if module == "services.migrate" else ["all", "--port", str(free_port())]
    )
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_a_production_desk_refuses_the_development_secret(sqlite_desk: Desk) -> None:
    env = {k: v for k, v in sqlite_desk.env.items() if k != "SERVICEDESK_PERSONAL_DATA_SECRET"}
    refused = start(sqlite_desk, "services.intake.main", env)
    assert refused.returncode != 0
    lines = (refused.stdout + refused.stderr).splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("intake refuses to start: SERVICEDESK_PERSONAL_DATA_SECRET is the development value")
    assert not sqlite_desk.settings.data_dir.exists(), "refused before it opened any store"


@pytest.mark.parametrize("service", ["routing", "sla", "analytics", "migrate"])
def test_every_service_refuses_a_secret_set_to_its_development_value(sqlite_desk: Desk, service: str) -> None:
    development = Settings.model_fields["keyword_secret"].default
    module = "services.migrate" if service == "migrate" else f"services.{service}.main"
    refused = start(sqlite_desk, module, sqlite_desk.env | {"SERVICEDESK_KEYWORD_SECRET": development})
    assert refused.returncode != 0
    assert refused.stderr.splitlines() == [
        f"{service} refuses to start: SERVICEDESK_KEYWORD_SECRET is the development value printed in the source:"
        " set each to a secret of this desk's own (32 random bytes or more, e.g. `openssl rand -base64 48`);"
        " only `make run`, with its own identity provider, runs on development secrets"
    ]
