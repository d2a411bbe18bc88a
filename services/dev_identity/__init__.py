"""`make run`'s own identity provider, so the embedded desk authenticates like a real one.

A real OpenID Connect provider a browser signs in through (`python -m services.dev_identity serve
--port N`, on 127.0.0.1 only; the supervisor starts it first, on SERVICEDESK_DEV_IDENTITY_PORT):
discovery at `/.well-known/openid-configuration`, the authorization code flow with PKCE (S256 only)
at `/authorize` and `/token`, `/userinfo` and `/jwks`. Its issuer is its own URL, which the services
trust (`environment()`); its sign-in page lists the seeded people of people.py, one button each.

Clients are registered by SERVICEDESK_DEV_IDENTITY_CLIENTS (JSON: client id -> `redirect_uris` and
an optional `secret`, see clients.py): a confidential client authenticates at /token with
client_secret_basic or client_secret_post, a public one (no secret) with its client_id alone; PKCE
proves every code either way. make run registers its clients in supervisor.py (`dev_clients`).

On first start it makes an RSA key, its JWKS and an internal-token secret under `.local/auth/` (kept,
so tokens survive restarts); the supervisor prints an admin token for the `acme` tenant, and
`python -m services.dev_identity <tenant> <subject> <role>... [--groups <group>...] [--organisation
<organisation>]` prints others (an agent's groups, a customer's organisation). Never for production:
there the desk trusts the organisation's own provider (SERVICEDESK_AUTH_JWKS, _ISSUER, _AUDIENCE).
"""

from services.dev_identity.keys import AUDIENCE, ISSUER, KEY_ID, environment, provider_url
from services.dev_identity.tokens import token

__all__ = ["AUDIENCE", "ISSUER", "KEY_ID", "environment", "provider_url", "token"]
