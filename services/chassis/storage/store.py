"""Event-store wiring: the eventsourcing environment for a service, on SQLite or PostgreSQL."""

from __future__ import annotations

from eventsourcing.persistence import InfrastructureFactory, TrackingRecorder
from eventsourcing.utils import Environment

from services.chassis.runtime.settings import AGGREGATE_CACHE_SIZE, Settings
from services.chassis.storage.batch_tracking import TOPICS
from services.chassis.storage.transcoding import QUICK_TRANSCODER

# An application's aggregate cache where no desk settings choose it (a what-if's sandbox, a test's store):
# every application class names it as its `env`, and `store_env` sets the desk's `aggregate_cache_size`.
CACHED = {"AGGREGATE_CACHE_MAXSIZE": str(AGGREGATE_CACHE_SIZE)}


def store_env(settings: Settings, name: str) -> dict[str, str]:
    """The eventsourcing environment of the store called `name` (one store per service).

    Tracking is multi-row (one row per upstream position): duplicates are recognised
    exactly, in any order, whatever the partition they arrive on.

    Pooled connections are checked before use: without it a read model's transaction kept
    getting the pool's dead connections after a PostgreSQL restart (tests/integration/test_faults.py
    crashes PostgreSQL). The check pings only a connection whose socket has something to read
    (services/chassis/storage/postgres.py): a dead one does, a live idle one costs no round trip.

    On SQLite the datastore is the chassis's (services/chassis/storage/sqlite.py): a writing transaction
    takes the file's write lock first, waiting up to SQLITE_LOCK_TIMEOUT seconds (then retrying),
    so the many writers of one service's file wait for each other instead of failing.

    Process recorders record a consumer's batch (many tracking rows) in one transaction
    (batch_tracking.py).

    The event and tracking tables are created when missing unless `settings.create_tables` is
    false: in a cluster `python -m services.migrate` creates them once per release.

    The aggregate cache holds `settings.aggregate_cache_size` aggregates, least recently used dropped first:
    cached ones are fast-forwarded from the store on every read, so it only saves replays. Unbounded by the
    count of tickets, it grew each consumer by ~5 KB a ticket until it was full (issue 22's soak).
    """
    env = {
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
        "SINGLE_ROW_TRACKING": "f",
        "CREATE_TABLE": "y" if settings.create_tables else "n",
        "PROCESS_RECORDER_TOPIC": TOPICS["sqlite" if settings.persistence == "sqlite" else "postgres"],
        "TRANSCODER_TOPIC": QUICK_TRANSCODER,  # eventsourcing's JSON, byte for byte, encoded at less cost
    }
    if settings.persistence == "sqlite":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        env |= {
            "PERSISTENCE_MODULE": "services.chassis.storage.sqlite:DeskSQLiteFactory",  # writes wait for the lock
            "SQLITE_DBNAME": str(settings.data_dir / f"{name}.db"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    else:
        env |= {
            "PERSISTENCE_MODULE": "services.chassis.storage.postgres:DeskPostgresFactory",  # pings only when in doubt
            "POSTGRES_HOST": settings.postgres_host,
            "POSTGRES_PORT": str(settings.postgres_port),
            "POSTGRES_USER": settings.postgres_user,
            "POSTGRES_PASSWORD": settings.postgres_password,
            "POSTGRES_DBNAME": settings.postgres_dbname,
            "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_CONNECT_TIMEOUT": "5",
        }
    return env


def tracking_recorder(settings: Settings, name: str, recorder_class: type | None = None) -> TrackingRecorder:
    """A tracking recorder on the store called `name`, optionally of a view subclass."""
    factory = InfrastructureFactory.construct(Environment(name, store_env(settings, name)))
    recorder: TrackingRecorder = factory.tracking_recorder(recorder_class)
    return recorder
