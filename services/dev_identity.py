"""`make run`'s own identity provider, so the embedded desk authenticates like a real one.

On first start it makes an RSA key, its JWKS and an internal-token secret under
`.local/auth/` (kept, so tokens survive restarts); the services trust that JWKS; the
supervisor prints an admin token for the `acme` tenant, and `python -m services.dev_identity
<tenant> <subject> <role>... [--groups <group>...] [--organisation <organisation>]` prints others
(an agent's groups, a customer's organisation). Never for production: there the desk trusts the
organisation's own provider (SERVICEDESK_AUTH_JWKS, _ISSUER, _AUDIENCE).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "http://127.0.0.1/dev-identity"
AUDIENCE = "servicedesk"
KEY_ID = "dev-1"


def _folder(data_dir: Path) -> Path:
    folder = data_dir.parent / "auth"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _private_key(folder: Path) -> rsa.RSAPrivateKey:
    path = folder / "dev-key.pem"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    return loaded


def environment(data_dir: Path) -> dict[str, str]:
    """The settings that make every service trust the dev provider."""
    folder = _folder(data_dir)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_private_key(folder).public_key()))
    jwks = folder / "jwks.json"
    jwks.write_text(json.dumps({"keys": [public | {"kid": KEY_ID, "use": "sig", "alg": "RS256"}]}))
    secret = folder / "internal-secret"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(48))
        secret.chmod(0o600)
    return {
        "SERVICEDESK_AUTH_ISSUER": ISSUER,
        "SERVICEDESK_AUTH_AUDIENCE": AUDIENCE,
        "SERVICEDESK_AUTH_JWKS": str(jwks),
        "SERVICEDESK_INTERNAL_TOKEN_SECRET": secret.read_text().strip(),
    }


def token(
    data_dir: Path,
    tenant: str,
    subject: str,
    roles: list[str],
    hours: float = 12,
    groups: Sequence[str] = (),
    organisation: str | None = None,
) -> str:
    """A token of the dev provider, with the claims the desk reads (services/chassis/http/auth.py)."""
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "tenant": tenant, "roles": roles, "iat": now,
              "exp": now + int(hours * 3600), "groups": list(groups), "organisation": organisation}  # fmt: skip
    return jwt.encode(claims, _private_key(_folder(data_dir)), algorithm="RS256", headers={"kid": KEY_ID})


def main(argv: Sequence[str] | None = None) -> int:
    from services.chassis.runtime.settings import Settings

    parser = argparse.ArgumentParser(
        prog="python -m services.dev_identity", description="Print a token of make run's development identity provider."
    )
    parser.add_argument("tenant")
    parser.add_argument("subject")
    parser.add_argument("roles", nargs="+", metavar="role", help="customer, agent, supervisor, admin")
    parser.add_argument("--groups", nargs="+", default=[], metavar="group", help="an agent's or supervisor's groups")
    parser.add_argument("--organisation", default=None, help="a customer's organisation")
    parser.add_argument("--hours", type=float, default=12, help="how long the token is valid (12)")
    args = parser.parse_args(argv)
    print(token(Settings().data_dir, args.tenant, args.subject, args.roles, args.hours, args.groups, args.organisation))
    return 0


if __name__ == "__main__":
    sys.exit(main())
