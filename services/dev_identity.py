"""`make run`'s own identity provider, so the embedded desk authenticates like a real one.

On first start it makes an RSA key, its JWKS and an internal-token secret under
`.local/auth/` (kept, so tokens survive restarts); the services trust that JWKS; the
supervisor prints an admin token for the `acme` tenant, and `python -m services.dev_identity
<tenant> <subject> <role>...` prints others. Never for production: there the desk trusts the
organisation's own provider (SERVICEDESK_AUTH_JWKS, _ISSUER, _AUDIENCE).
"""

from __future__ import annotations

import json
import secrets
import sys
import time
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
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
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
        "SERVICEDESK_AUTH_ISSUER": ISSUER, "SERVICEDESK_AUTH_AUDIENCE": AUDIENCE, "SERVICEDESK_AUTH_JWKS": str(jwks),
        "SERVICEDESK_INTERNAL_TOKEN_SECRET": secret.read_text().strip(),
    }  # fmt: skip


def token(data_dir: Path, tenant: str, subject: str, roles: list[str], hours: float = 12) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "tenant": tenant, "roles": roles, "iat": now,
              "exp": now + int(hours * 3600)}  # fmt: skip
    return jwt.encode(claims, _private_key(_folder(data_dir)), algorithm="RS256", headers={"kid": KEY_ID})


def main() -> int:
    from services.chassis.settings import Settings

    if len(sys.argv) < 4:
        print("usage: python -m services.dev_identity <tenant> <subject> <role>...", file=sys.stderr)
        return 2
    print(token(Settings().data_dir, sys.argv[1], sys.argv[2], sys.argv[3:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
