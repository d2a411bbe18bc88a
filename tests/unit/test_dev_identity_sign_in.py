"""Signing in at make run's identity provider: the authorization code flow with PKCE, from the
sign-in page to tokens the desk's verifier accepts, and the requests it refuses."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from services.chassis.http.auth import TokenVerifier
from services.dev_identity import AUDIENCE
from services.dev_identity.app import create_app
from services.dev_identity.clients import Client
from services.dev_identity.codes import CodeBook
from tests.html_forms import form_of
from tests.sign_in import SignIn

ISSUER = "http://testserver"
WEB = "servicedesk-web"
SECRET = "web-client-secret-for-the-tests"
CALLBACK = "http://127.0.0.1:8005/auth/callback"
PORTAL = "servicedesk-portal"  # a public client: PKCE only


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def idp(tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    clients = {WEB: Client(WEB, (CALLBACK,), SECRET), PORTAL: Client(PORTAL, (CALLBACK,))}
    with TestClient(create_app(ISSUER, tmp_path / "data", clients, CodeBook(clock))) as client:
        yield client


@pytest.fixture
def sign_in(idp: TestClient) -> SignIn:
    return SignIn(idp, WEB, SECRET, CALLBACK)


def verifier_of(idp: httpx.Client) -> TokenVerifier:
    """How the desk's services check the tokens, trusting the provider's published keys."""
    return TokenVerifier(ISSUER, AUDIENCE, json.dumps(idp.get("/jwks").json()), None)


def claims_of(id_token: str, idp: httpx.Client) -> dict[str, Any]:
    key = jwt.PyJWKSet.from_dict(idp.get("/jwks").json()).keys[0].key
    claims: dict[str, Any] = jwt.decode(id_token, key, algorithms=["RS256"], audience=WEB, issuer=ISSUER)
    return claims


def test_discovery_names_the_provider_s_own_url_as_issuer_and_pkce_s256_only(idp: TestClient) -> None:
    found = idp.get("/.well-known/openid-configuration").json()
    assert found["issuer"] == ISSUER
    assert found["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert found["token_endpoint"] == f"{ISSUER}/token"
    assert found["jwks_uri"] == f"{ISSUER}/jwks"
    assert found["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert found["response_types_supported"] == ["code"]
    assert found["id_token_signing_alg_values_supported"] == ["RS256"]


def test_the_sign_in_page_offers_every_seeded_person_as_a_button(sign_in: SignIn) -> None:
    form = form_of(sign_in.page().text)
    assert {
        "Sign in as Ada (admin)", "Sign in as Sofia (supervisor, first-line, second-line)",
        "Sign in as Ann (agent, first-line)", "Sign in as Boris (agent, first-line)",
        "Sign in as Vera (agent, second-line)", "Sign in as Kim (customer, northwind)",
        "Sign in as Lev (customer, northwind)", "Sign in as Gus (agent, support)", "Cancel sign-in",
    } == set(form.buttons)  # fmt: skip
    assert form.buttons["Sign in as Ann (agent, first-line)"] == ("person", "acme/agent-ann")
    assert form.hidden["state"] == sign_in.state
    assert form.hidden["nonce"] == sign_in.nonce


def test_ann_signs_in_and_her_access_token_proves_her_tenant_role_and_group_to_the_desk(sign_in: SignIn) -> None:
    answer = sign_in.exchange(sign_in.code_of("Sign in as Ann (agent, first-line)"))
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert (tokens["token_type"], tokens["expires_in"]) == ("Bearer", 8 * 3600)
    assert answer.headers["cache-control"] == "no-store"

    principal = verifier_of(sign_in.idp).verify(tokens["access_token"])
    assert (principal.tenant, principal.subject) == ("acme", "agent-ann")
    assert {str(role) for role in principal.roles} == {"agent"}
    assert principal.groups == {"first-line"}

    said = claims_of(tokens["id_token"], sign_in.idp)
    assert (said["sub"], said["nonce"], said["name"], said["locale"]) == ("agent-ann", sign_in.nonce, "Ann Archer",
                                                                           "en")  # fmt: skip
    assert (said["tenant"], said["roles"], said["groups"]) == ("acme", ["agent"], ["first-line"])


def test_userinfo_tells_a_customer_s_organisation_to_the_holder_of_her_access_token(sign_in: SignIn) -> None:
    tokens = sign_in.tokens_of("Sign in as Kim (customer, northwind)")
    info = sign_in.idp.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()
    assert info == {"sub": "customer-kim", "tenant": "acme", "roles": ["customer"], "groups": [],
                    "organisation": "northwind", "name": "Kim Nakamura", "given_name": "Kim",
                    "locale": "en"}  # fmt: skip
    refused = sign_in.idp.get("/userinfo", headers={"Authorization": "Bearer not-a-token"})
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_token")
    assert refused.headers["www-authenticate"].startswith("Bearer ")


def test_a_person_of_another_tenant_signs_in_with_that_tenant(sign_in: SignIn) -> None:
    tokens = sign_in.tokens_of("Sign in as Gus (agent, support)")
    assert verifier_of(sign_in.idp).verify(tokens["access_token"]).tenant == "globex"


def test_a_wrong_code_verifier_is_refused_and_the_code_is_spent(sign_in: SignIn) -> None:
    code = sign_in.code_of("Sign in as Ann (agent, first-line)")
    wrong = sign_in.exchange(code, verifier=secrets.token_urlsafe(48))
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert sign_in.exchange(code).json()["error"] == "invalid_grant"


def test_a_code_is_exchanged_once(sign_in: SignIn) -> None:
    code = sign_in.code_of("Sign in as Vera (agent, second-line)")
    assert sign_in.exchange(code).status_code == 200
    again = sign_in.exchange(code)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_a_code_older_than_a_minute_is_refused(sign_in: SignIn, clock: Clock) -> None:
    code = sign_in.code_of("Sign in as Ann (agent, first-line)")
    clock.now += 61
    assert sign_in.exchange(code).json()["error"] == "invalid_grant"


def test_a_code_is_exchanged_only_at_the_redirect_uri_it_was_sent_to(sign_in: SignIn) -> None:
    code = sign_in.code_of("Sign in as Ann (agent, first-line)")
    elsewhere = sign_in.exchange(code, redirect_uri="http://127.0.0.1:8005/elsewhere")
    assert elsewhere.json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused_as_invalid_client(sign_in: SignIn) -> None:
    code = sign_in.code_of("Sign in as Ann (agent, first-line)")
    form = sign_in.token_form(code)
    wrong = sign_in.idp.post("/token", data=form, auth=(WEB, "not-the-secret"))
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_client")
    posted = sign_in.idp.post("/token", data=form | {"client_id": WEB, "client_secret": SECRET})
    assert posted.status_code == 200, "a client that is not proven does not spend the code"


def test_a_secret_in_the_form_proves_the_client_too(sign_in: SignIn) -> None:
    code = sign_in.code_of("Sign in as Boris (agent, first-line)")
    form = sign_in.token_form(code) | {"client_id": WEB, "client_secret": SECRET}
    assert sign_in.idp.post("/token", data=form).status_code == 200


def test_a_public_client_proves_its_sign_in_by_pkce_alone(sign_in: SignIn) -> None:
    code = sign_in.code_of("Sign in as Lev (customer, northwind)", client_id=PORTAL)
    form = sign_in.token_form(code) | {"client_id": PORTAL}
    answer = sign_in.idp.post("/token", data=form)
    assert answer.status_code == 200, answer.text
    assert jwt.decode(answer.json()["id_token"], options={"verify_signature": False})["aud"] == PORTAL


def test_an_unregistered_redirect_uri_gets_a_page_saying_so_not_a_redirect(sign_in: SignIn) -> None:
    page = sign_in.page(redirect_uri="https://evil.example/callback")
    assert page.status_code == 400
    assert "redirect_uri is not one registered for servicedesk-web" in page.text
    assert sign_in.page(client_id="nobody").status_code == 400


def test_a_sign_in_without_a_pkce_challenge_goes_back_with_invalid_request(sign_in: SignIn) -> None:
    for missing in ({"code_challenge": None}, {"code_challenge_method": "plain"}, {"code_challenge_method": None}):
        answer = sign_in.page(**missing)
        assert answer.status_code == 302
        back = parse_qs(urlsplit(answer.headers["location"]).query)
        assert (back["error"], back["state"]) == (["invalid_request"], [sign_in.state]), missing


def test_only_the_code_flow_of_openid_connect_is_offered(sign_in: SignIn) -> None:
    for asked, error in (({"response_type": "token"}, "unsupported_response_type"), ({"scope": "profile"},
                                                                                     "invalid_scope")):  # fmt: skip
        back = parse_qs(urlsplit(sign_in.page(**asked).headers["location"]).query)
        assert back["error"] == [error]


def test_a_form_posted_without_a_challenge_grants_no_code(sign_in: SignIn) -> None:
    posted = sign_in.asked(code_challenge=None) | {"person": "acme/agent-ann"}
    answer = sign_in.idp.post("/authorize", data=posted, follow_redirects=False)
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert "code" not in back
    assert back["error"] == ["invalid_request"]


def test_cancelling_tells_the_client_access_was_denied(sign_in: SignIn) -> None:
    assert sign_in.choose("Cancel sign-in") == {"error": ["access_denied"], "state": [sign_in.state]}


def test_only_a_seeded_person_can_be_signed_in_as(sign_in: SignIn) -> None:
    posted = sign_in.asked() | {"person": "acme/mallory"}
    assert sign_in.idp.post("/authorize", data=posted, follow_redirects=False).status_code == 400
