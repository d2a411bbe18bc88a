"""The provider's signing key, its JWKS, and the settings that make the services trust it.

On first use it makes an RSA key and an internal-token secret under `.local/auth/` (kept, so
tokens survive restarts). `environment()` also records the issuer the services were told to
trust, so a token printed later by another process (`python -m services.dev_identity ...`)
carries the same `iss`.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "http://127.0.0.1/dev-identity"  # the issuer when the provider is not served (tokens printed only)
AUDIENCE = "servicedesk"
KEY_ID = "dev-1"


def provider_url(port: int) -> str:
    """The provider's base URL, which is also its issuer: it listens on 127.0.0.1 only."""
    return f"http://127.0.0.1:{port}"


def folder_of(data_dir: Path) -> Path:
    folder = data_dir.parent / "auth"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def private_key(data_dir: Path) -> rsa.RSAPrivateKey:
    path = folder_of(data_dir) / "dev-key.pem"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())  # fmt: skip
        path.write_bytes(pem)
        path.chmod(0o600)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise TypeError(f"{path} holds no RSA private key")
    return loaded


def jwks(data_dir: Path) -> dict[str, Any]:
    """The public key set, as the provider serves it at /jwks."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key(data_dir).public_key()))
    return {"keys": [public | {"kid": KEY_ID, "use": "sig", "alg": "RS256"}]}


def environment(data_dir: Path, issuer: str = ISSUER) -> dict[str, str]:
    """The settings that make every service trust the dev provider whose issuer is `issuer` (its URL when
    it is served, see `provider_url`)."""
    folder = folder_of(data_dir)
    keys = folder / "jwks.json"
    keys.write_text(json.dumps(jwks(data_dir)))
    (folder / "issuer").write_text(issuer)
    secret = folder / "internal-secret"
    if not secret.exists():
        secret.write_text(secrets.token_urlsafe(48))
        secret.chmod(0o600)
    return {
        "SERVICEDESK_AUTH_ISSUER": issuer, "SERVICEDESK_AUTH_AUDIENCE": AUDIENCE, "SERVICEDESK_AUTH_JWKS": str(keys),
        "SERVICEDESK_INTERNAL_TOKEN_SECRET": secret.read_text().strip(),
    }  # fmt: skip


def trusted_issuer(data_dir: Path) -> str:
    """The issuer `environment()` last told the services to trust; ISSUER before it ever ran."""
    recorded = folder_of(data_dir) / "issuer"
    return recorded.read_text().strip() if recorded.exists() else ISSUER
