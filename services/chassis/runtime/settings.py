"""Settings every service reads from its environment (pydantic-settings).

Addresses use the variables the rest of the world already uses for them
(`KAFKA_BOOTSTRAP_SERVERS`, `POSTGRES_*`); everything else is `SERVICEDESK_*`.

A setting named `*_secret` is one of the desk's secrets; one with a default is a development
secret: its default is printed in this file. Unless the desk runs as `make run` runs it, on its
own development identity provider, a service refuses to start (`refuse_development_secrets`) while
a desk secret holds any development value (its own or another's, give or take blanks), is shorter
than 32 bytes, or is the same as another desk secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.chassis.runtime.channel_settings import Mailbox, TelegramBot
from services.chassis.runtime.desk_secrets import (
    FORMER_DEVELOPMENT_SECRETS,
    DevelopmentSecretError,
    secret_problems,
)

AGGREGATE_CACHE_SIZE = 5000
"""The default of `Settings.aggregate_cache_size`, also the size an application has outside the desk's stores
(`services.chassis.storage.store.CACHED`)."""


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class DevIdentityClient(BaseModel):
    """A client registered at `make run`'s identity provider (services/dev_identity): where it may
    send people back to, and its secret (none: a public client, proven by PKCE alone)."""

    redirect_uris: list[str]
    secret: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SERVICEDESK_", extra="ignore", populate_by_name=True)

    persistence: Literal["sqlite", "postgres"] = "sqlite"
    data_dir: Path = Path(".local/data")

    kafka_port: int = Field(
        19092, description="The port of the local Kafka deploy/local starts (`make run`), and the default address's."
    )
    kafka_bootstrap_servers: str = Field(
        "",
        description="The Kafka cluster; unset or empty: the local one, 127.0.0.1:`SERVICEDESK_KAFKA_PORT`.",
        validation_alias=_alias("KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap_servers"),
    )
    kafka_patience_seconds: float = Field(
        60.0, description="How long a starting service waits for Kafka before it gives up, saying so."
    )
    topic_partitions: int = 6
    instance_id: str = Field(
        "",
        description="This process's name among the processes of its service and role, the same when it is started"
        " again (Kubernetes: the pod's name; docker-compose and `make run`: the service's). Its Kafka consumers join"
        " their groups under it as static members (KIP-345), so a process started again takes its partitions back at"
        " once, not after its predecessor's session; a static member that stops, cleanly or not, keeps them until"
        " its session ends (`SERVICEDESK_STATIC_SESSION_SECONDS`) if it does not come back. Never the same for two"
        " live processes: the later fences the earlier, which halts. Unset or empty: dynamic members.",
    )
    static_session_seconds: float = Field(
        10.0,
        description="How long Kafka keeps a silent static member's partitions for it (a dynamic one's: 6 s, the"
        " broker's minimum). A static member leaves no group when it stops, so this is how long its partitions wait"
        " when it does not come back: long enough for a process started again to be back under its name, no longer"
        " than the 10 s within which the desk is to recover from a fault.",
    )
    kafka_namespace: str = Field(
        "",
        description="Prefix of every topic and consumer group: several desks (or test runs) on one cluster.",
    )

    postgres_host: str = Field("127.0.0.1", validation_alias=_alias("POSTGRES_HOST", "postgres_host"))
    postgres_port: int = Field(15432, validation_alias=_alias("POSTGRES_PORT", "postgres_port"))
    postgres_user: str = Field("servicedesk", validation_alias=_alias("POSTGRES_USER", "postgres_user"))
    postgres_password: str = Field("servicedesk", validation_alias=_alias("POSTGRES_PASSWORD", "postgres_password"))
    postgres_dbname: str = Field("servicedesk", validation_alias=_alias("POSTGRES_DBNAME", "postgres_dbname"))
    postgres_pool_size: int = 5
    create_tables: bool = Field(
        True,
        description="Create missing tables on start; false where `python -m services.migrate` ran once per release.",
    )

    http_host: str = "127.0.0.1"
    intake_port: int = 8001
    routing_port: int = 8002
    sla_port: int = 8003
    analytics_port: int = 8004
    web_port: int = 8005
    knowledge_port: int = 8006
    rules_port: int = 8007
    dev_identity_port: int = Field(
        8009, description="`make run`'s identity provider (services/dev_identity), its issuer http://127.0.0.1:<port>."
    )
    dev_identity_clients: dict[str, DevIdentityClient] = Field(
        default_factory=dict,
        description='The clients `make run`\'s identity provider knows, as JSON: {"servicedesk-web": {"redirect_uris":'
        ' ["http://127.0.0.1:8005/auth/callback"], "secret": "..."}}; unset, the supervisor registers its own.',
    )
    intake_url: str | None = None
    routing_url: str | None = None
    sla_url: str | None = None
    analytics_url: str | None = None
    web_url: str | None = None
    knowledge_url: str | None = None
    rules_url: str | None = None

    attachment_max_bytes: int = 25 * 1024 * 1024
    relay_batch_size: int = 500
    aggregate_cache_size: int = Field(
        AGGREGATE_CACHE_SIZE,
        description="Aggregates each event-sourced application keeps in memory, the least recently used dropped first"
        " (a dropped one is read again from its snapshot and events). At ~2-5 KB an aggregate, the default bounds a"
        " service's cache near 10-25 MiB: a ticket's busy first seconds stay cached at 1,000 tickets/s.",
    )
    relay_idle_seconds: float = Field(
        1.0,
        description="A commit wakes the relays and projectors at once; with nothing new they read again after this"
        " all the same (a wake-up lost with a dropped connection, a write by another process on SQLite).",
    )
    consumer_dlq_max_ratio: float = Field(
        0.5,
        description="Halt the consumer when more than this share of recent messages is dead-lettered.",
    )

    auth_issuer: str = Field("", description="The identity provider's `iss`; tokens from any other are refused.")
    auth_audience: str = Field("servicedesk", description="The `aud` tokens must be issued for.")
    auth_jwks: str | None = Field(
        None, description="The provider's signing keys: a JWKS URL, a JWKS file, or the JWKS JSON itself."
    )
    internal_token_secret: str | None = Field(
        None, description="Shared by the services: signs the gateway's short internal tokens (32 bytes or more)."
    )
    web_oidc_issuer: str | None = Field(
        None, description="The workspace's sign-in: the OpenID provider's issuer URL (its discovery document below it)."
    )
    web_client_id: str = Field("servicedesk-web", description="The workspace's client id at the OpenID provider.")
    web_client_secret: str = Field(
        "development-only-web-client-secret", description="The workspace's client secret at the OpenID provider."
    )
    web_session_secret: str = Field(
        "development-only-web-session-secret", description="Signs the workspace's session cookie."
    )
    web_public_url: str | None = Field(
        None, description="Where people reach the workspace (its sign-in callback is below it); else its own address."
    )
    web_tenants: list[str] = Field(
        default_factory=list,
        description="The tenants whose people may sign in to this workspace (JSON list; empty: any).",
    )
    web_secure_cookies: bool = Field(False, description="Send the session cookie over HTTPS only (true behind TLS).")
    allow_development_secrets: bool = Field(
        False,
        description="Start on the development secrets below: what `make run` sets, with its own identity provider.",
    )
    personal_data_secret: str = Field(
        "development-only-personal-data-secret",
        description="Wraps every person's key and keys the blind index of addresses: set it (32 bytes or more) in"
        " production, the same on every intake replica, and never change it (the keys it wraps are lost).",
    )
    keyword_secret: str = Field(
        "development-only-keyword-secret",
        description="Keys the digests of a ticket's words in `ticket.opened` v3 (schemas/keywords.py): the same in"
        " intake and routing; changing it makes rules stop matching tickets opened before.",
    )
    audit_secret: str = Field(
        "development-only-audit-secret",
        description="Seals every event intake stores and signs its audit checkpoints (services/intake/audit/chain.py):"
        " set it (32 bytes or more) in production, the same on every intake replica, and keep it out of the"
        " database's reach; changing it makes every event sealed before fail verification.",
    )
    audit_checkpoint_seconds: float = Field(
        10.0, description="How often intake records a signed checkpoint of every stream's head (when any changed)."
    )
    rate_limit_per_minute: int = Field(600, description="Requests a minute per user and per API key, at the gateway.")
    public_rate_limit_per_minute: int = Field(
        120, description="Anonymous requests a minute per address to the public knowledge base, at the gateway."
    )
    kb_attachment_max_bytes: int = Field(10 * 1024 * 1024, description="The largest file attached to an article.")
    webhook_retry_base_seconds: float = Field(1.0, description="First retry delay; doubles each attempt.")
    webhook_max_attempts: int = 8
    webhook_disable_after: int = Field(3, description="Failed deliveries in a row that disable a subscription.")

    # -- channels: what the inbound and outbound channels share --------------------------------
    mail_domain: str = Field(
        "desk.localhost", description="The right-hand side of the Message-IDs the desk sends (threads replies)."
    )
    mailboxes: dict[str, Mailbox] = Field(
        default_factory=dict,
        description='The desk\'s e-mail addresses as JSON: {"support@acme.example": {"tenant": "acme",'
        ' "group": "first-line", "language": "en"}}; a tenant\'s first address is its From on outgoing mail.',
    )
    telegram_api_url: str = Field("https://api.telegram.org", description="The Bot API's base URL.")
    telegram_bots: dict[str, TelegramBot] = Field(
        default_factory=dict, description="Per tenant, as JSON: its bot's token, webhook secret and hashtags."
    )

    # -- inbound channels (e-mail in, web chat, messenger webhooks) ----------------------------
    staff_addresses: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Per tenant, as JSON, its staff on the channels: {"acme": ["ann@acme.example", "@acme.example",'
        ' "telegram:4711"]} (an address, every address of a domain, a Telegram user id). Their messages land on any'
        " of the tenant's tickets they name; anyone else's land only on tickets they take part in. Staff by e-mail"
        " only with SERVICEDESK_MAIL_AUTHSERV_ID.",
    )
    mail_authserv_id: str | None = Field(
        None,
        description="The authserv-id of the mail server (MTA) that receives the desk's mail and adds an"
        " Authentication-Results header (RFC 8601), deleting incoming ones that name it. Only its header is"
        " believed: a From with dmarc=pass (or dkim=pass aligned) is authenticated. Unset: no mail is, so no"
        " mail lands as staff's.",
    )
    smtp_listen_host: str = Field(
        "127.0.0.1", description="Where the SMTP listener binds (0.0.0.0 to take mail from anyone)."
    )
    smtp_listen_port: int = Field(2525, description="The SMTP listener's port (intake roles `smtp` and `all`).")
    smtp_max_bytes: int = Field(
        35 * 1024 * 1024, description="The largest message taken (SIZE, and the data itself): larger ones get 552."
    )
    mail_per_sender_per_minute: int = Field(
        20, description="Messages a minute one sender may send a desk address; more are refused with 450 4.7.1."
    )
    imap_host: str | None = Field(None, description="An existing mailbox to poll (intake role `imap`); unset: none.")
    imap_port: int = 993
    imap_ssl: bool = Field(True, description="IMAP over TLS (port 993); false for plain IMAP (tests, a local relay).")
    imap_user: str | None = None
    imap_password: str | None = None
    imap_folder: str = "INBOX"
    imap_address: str | None = Field(
        None, description="The desk address (one of `mailboxes`) whose mail the polled mailbox holds."
    )
    imap_poll_seconds: float = 30.0
    chat_poll_seconds: float = Field(0.5, description="How often a chat socket looks for the agent's new replies.")

    # -- outbound channels (notifications by e-mail and messenger) -----------------------------
    smtp_host: str | None = Field(
        None, description="The SMTP relay notifications go out through; unset: they are held, with that reason."
    )
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["auto", "starttls", "tls", "none"] = Field(
        "auto", description="STARTTLS when the relay offers it (auto), always (starttls), TLS from the start, or none."
    )
    smtp_timeout_seconds: float = 30.0
    notification_retry_base_seconds: float = Field(2.0, description="First retry delay of a message; doubles.")
    notification_max_attempts: int = Field(10, description="Attempts before a message is recorded as failed.")
    notification_route_wait_seconds: float = Field(
        30.0, description="How long a notification waits for its ticket's reply route (recorded by the channels)."
    )
    notification_claim_seconds: float = Field(
        60.0, description="An attempt unconfirmed this long (its sender died mid-send) is made again."
    )
    notification_templates: Path | None = Field(
        None, description="Tenants' own templates, `<folder>/<tenant>/<language>/<kind>.txt`, over the defaults."
    )
    portal_url: str | None = Field(
        None,
        description="The customer portal: survey mails link to `<portal_url>/tickets/<id>/rating`; `{tenant}` in it is"
        " replaced by the ticket's tenant (the web service's portal: `https://desk.example/t/{tenant}`).",
    )

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _strip_bootstrap(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _local_kafka(self) -> Settings:
        if not self.kafka_bootstrap_servers:
            self.kafka_bootstrap_servers = f"127.0.0.1:{self.kafka_port}"
        return self

    @classmethod
    def development_secret_names(cls) -> list[str]:
        """The environment variables of the secrets that have a development default."""
        return [f"SERVICEDESK_{name.upper()}" for name in cls._development_secret_fields()]

    @classmethod
    def _development_secret_fields(cls) -> list[str]:
        return [
            name
            for name, field in cls.model_fields.items()
            if name.endswith("_secret") and isinstance(field.default, str)
        ]

    def refuse_development_secrets(self) -> None:
        """Raise `DevelopmentSecretError`, naming every desk secret that is a development value (anyone
        can read those here), shorter than `MIN_SECRET_BYTES`, or the same as another, unless
        `allow_development_secrets`. An unset internal-token secret is left to the services that need it."""
        if self.allow_development_secrets:
            return
        problems = secret_problems(
            {
                f"SERVICEDESK_{name.upper()}": value
                for name in type(self).model_fields
                if name.endswith("_secret") and (value := getattr(self, name)) is not None
            },
            self.development_values(),
        )
        if problems:
            raise DevelopmentSecretError(
                f"{'; '.join(problems)}: set each to a secret of this desk's own (32 random bytes or more, e.g."
                " `openssl rand -base64 48`); only `make run`, with its own identity provider, runs on development"
                " secrets"
            )

    @classmethod
    def development_values(cls) -> frozenset[str]:
        """Every development value of any desk secret, stripped."""
        fields = cls.model_fields
        return frozenset(str(fields[name].default).strip() for name in cls._development_secret_fields()) | {
            value.strip() for value in FORMER_DEVELOPMENT_SECRETS
        }

    def mailbox_of(self, tenant: str) -> tuple[str, Mailbox] | None:
        """The tenant's first desk address: where its outgoing mail comes from."""
        return next(((address, box) for address, box in self.mailboxes.items() if box.tenant == tenant), None)

    def kafka_name(self, name: str) -> str:
        """The topic or consumer group `name` in this desk's namespace."""
        return f"{self.kafka_namespace}{name}"

    def port_of(self, service: str) -> int:
        port: int = getattr(self, f"{service}_port")
        return port

    def url_of(self, service: str) -> str:
        """Where `service` answers: `SERVICEDESK_<SERVICE>_URL`, else its local port."""
        url: str | None = getattr(self, f"{service}_url")
        return url or f"http://{self.http_host}:{self.port_of(service)}"
