"""What one provider process holds: its issuer (its own URL), its key's folder, the clients it knows
and the codes it granted."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Request

from services.dev_identity.clients import Client
from services.dev_identity.codes import CodeBook


@dataclass
class Provider:
    issuer: str
    data_dir: Path
    clients: dict[str, Client]
    codes: CodeBook = field(default_factory=CodeBook)

    def url(self, path: str) -> str:
        return f"{self.issuer}{path}"


def provider_of(request: Request) -> Provider:
    provider: Provider = request.app.state.provider
    return provider
