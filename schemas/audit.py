"""Intake's audit checkpoints, published on `intake.checkpoints`: a copy, outside the database, of the
signed heads of every stream in intake's event store (services/intake/audit/chain.py says what they prove).

Each checkpoint covers the store positions after the one before it up to `position`; its signature
(an HMAC under the desk's audit secret) covers `position`, `previous_signature` and `heads`, so an
auditor holding the secret can check a chain of them and compare the store with the newest.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from schemas.envelope import EventData


class StreamHead(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    stream_id: str = Field(description="The aggregate (a ticket, a ticket-number series, ...) in intake's store.")
    version: int = Field(ge=1, description="The stream's newest version at the checkpoint.")
    hash: str = Field(description="SHA-256 of that event's stream, version, type and state.")
    tenant: str = Field(description='The tenant its events name; "" when they name none.')


class AuditCheckpointedV1(EventData):
    """Intake recorded a signed checkpoint of the heads of the streams that changed since the one before."""

    event_type: ClassVar[str] = "audit.checkpointed"
    event_version: ClassVar[int] = 1

    position: int = Field(ge=1, description="The store position the checkpoint covers up to.")
    previous_signature: str = Field(description="The signature of the checkpoint before (64 zeros for the first).")
    signature: str = Field(description="HMAC-SHA256 under the desk's audit secret.")
    heads: list[StreamHead]
