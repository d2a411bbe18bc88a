"""The desk's secrets: which settings are development secrets, when a desk refuses them, and that
every deployment (compose, the dev cluster) is given a secret of its own for each."""

from __future__ import annotations

import re

import pytest

from services.chassis.settings import DevelopmentSecretError, Settings
from tests.infra import ROOT

DEVELOPMENT = {"personal_data_secret": "development-only-personal-data-secret"}


def test_every_secret_setting_with_a_default_is_a_development_secret() -> None:
    names = Settings.development_secret_names()
    assert {"SERVICEDESK_PERSONAL_DATA_SECRET", "SERVICEDESK_KEYWORD_SECRET"} <= set(names)
    assert "SERVICEDESK_INTERNAL_TOKEN_SECRET" not in names, "no default: nothing to refuse"


def test_a_desk_on_a_development_secret_is_refused_with_one_line_naming_it() -> None:
    settings = Settings(
        keyword_secret="a keyword secret of this desk's own, long enough",
        audit_secret="an audit secret of this desk's own, long enough",
    )
    with pytest.raises(DevelopmentSecretError) as refused:
        settings.refuse_development_secrets()
    message = str(refused.value)
    assert "SERVICEDESK_PERSONAL_DATA_SECRET is the development value" in message
    assert "KEYWORD" not in message
    assert "\n" not in message


def test_only_a_desk_that_runs_as_make_run_does_may_keep_the_development_secrets() -> None:
    Settings(allow_development_secrets=True).refuse_development_secrets()
    own = {name.removeprefix("SERVICEDESK_").lower(): f"{name} of this desk's own" for name in
           Settings.development_secret_names()}  # fmt: skip
    Settings.model_validate(own).refuse_development_secrets()


def test_compose_demands_every_secret_and_the_dev_cluster_generates_each() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    generated = (ROOT / "deploy" / "k8s" / "overlays" / "dev" / "secrets.sh").read_text()
    for name in [*Settings.development_secret_names(), "SERVICEDESK_INTERNAL_TOKEN_SECRET"]:
        assert re.search(rf"{name}: \$\{{{name}:\?", compose), f"docker-compose.yml does not demand {name}"
        assert re.search(rf"SECRETS=\(.*\b{name}\b", generated), f"the dev overlay does not generate {name}"
