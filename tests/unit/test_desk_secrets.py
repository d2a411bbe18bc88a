"""The desk's secrets: which settings are development secrets, when a desk refuses them, and that
every deployment (compose, the dev cluster) is given a secret of its own for each."""

from __future__ import annotations

import re
import secrets

import pytest

from services.chassis.runtime.desk_secrets import DevelopmentSecretError
from services.chassis.runtime.settings import Settings
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
        web_client_secret="the workspace's client secret of this desk's own",
        web_session_secret="the workspace's session secret of this desk's own",
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


def own_secrets(**changed: str) -> Settings:
    """A desk whose every secret is its own (long, random, each different), but for `changed`."""
    own = {name: secrets.token_urlsafe(32) for name in [*Settings.model_fields] if name.endswith("_secret")}
    return Settings.model_validate(own | changed)


def refusal(settings: Settings) -> str:
    with pytest.raises(DevelopmentSecretError) as refused:
        settings.refuse_development_secrets()
    assert "\n" not in str(refused.value)
    return str(refused.value)


def test_a_desk_whose_every_secret_is_its_own_starts() -> None:
    own_secrets().refuse_development_secrets()


@pytest.mark.parametrize("value", ["x", "a short one, of this desk alone", " " * 40])
def test_a_desk_secret_shorter_than_32_bytes_is_refused(value: str) -> None:
    assert "SERVICEDESK_AUDIT_SECRET is shorter than 32 bytes" in refusal(own_secrets(audit_secret=value))


def test_an_internal_token_secret_shorter_than_32_bytes_is_refused() -> None:
    message = refusal(own_secrets(internal_token_secret="internal"))
    assert "SERVICEDESK_INTERNAL_TOKEN_SECRET is shorter than 32 bytes" in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("audit_secret", Settings.model_fields["keyword_secret"].default),  # another secret's default
        ("keyword_secret", Settings.model_fields["keyword_secret"].default + "\n"),  # with a newline
        ("personal_data_secret", "  development-only-audit-secret\t"),
        ("internal_token_secret", "dev-only-internal-token-secret-change-me-please"),  # the old dev overlay's
        ("internal_token_secret", Settings.model_fields["personal_data_secret"].default),
    ],
)
def test_any_development_value_of_any_secret_is_refused_give_or_take_blanks(name: str, value: str) -> None:
    message = refusal(own_secrets(**{name: value}))
    assert f"SERVICEDESK_{name.upper()} is the development value printed in the source" in message


def test_two_desk_secrets_that_are_the_same_are_refused() -> None:
    shared = secrets.token_urlsafe(32)
    message = refusal(own_secrets(keyword_secret=shared, audit_secret=shared + "\n"))
    assert "SERVICEDESK_KEYWORD_SECRET and SERVICEDESK_AUDIT_SECRET are the same secret" in message
    assert "PERSONAL_DATA" not in message


def test_a_desk_without_an_internal_token_secret_is_left_to_the_services_that_need_it() -> None:
    desk = own_secrets()
    desk.internal_token_secret = None
    desk.refuse_development_secrets()


def test_make_run_alone_may_run_on_short_or_shared_secrets() -> None:
    own_secrets(audit_secret="x", keyword_secret="x", allow_development_secrets="true").refuse_development_secrets()


def test_compose_and_the_dev_cluster_set_the_database_password_of_their_own() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD: servicedesk" not in compose
    assert len(re.findall(r"POSTGRES_PASSWORD: \$\{POSTGRES_PASSWORD:\?", compose)) == 2, (
        "the services' and the database's"
    )
    dev = ROOT / "deploy" / "k8s" / "overlays" / "dev"
    assert "POSTGRES_PASSWORD=servicedesk" not in (dev / "kustomization.yaml").read_text()
    assert re.search(r"\bPOSTGRES_PASSWORD=\$\(", (dev / "secrets.sh").read_text()), "generated, not printed"


def test_compose_demands_every_secret_and_the_dev_cluster_generates_each() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    generated = (ROOT / "deploy" / "k8s" / "overlays" / "dev" / "secrets.sh").read_text()
    for name in [*Settings.development_secret_names(), "SERVICEDESK_INTERNAL_TOKEN_SECRET"]:
        assert re.search(rf"{name}: \$\{{{name}:\?", compose), f"docker-compose.yml does not demand {name}"
        assert re.search(rf"SECRETS=\(.*\b{name}\b", generated), f"the dev overlay does not generate {name}"
