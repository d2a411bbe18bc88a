"""An outside consumer reads our topic: kcat (librdkafka, no code of ours) sees CloudEvents records.

kcat comes from `deploy/local/kcat.sh` (run by `make test`); without it this test fails, never skips.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import httpx
import pytest

from tests.client import eventually, open_ticket
from tests.harness import Desk

Json = dict[str, Any]


def kcat() -> str:
    path = shutil.which("kcat")
    if path is None:
        pytest.fail("kcat is not installed: run deploy/local/kcat.sh (make test does)")
    return path


def read_topic(bootstrap: str, topic: str) -> list[Json]:
    """Every record on `topic` from the beginning, as kcat's JSON envelopes (-J), one per line."""
    command = [kcat(), "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-J", "-q", "-m", "10"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"kcat exited {result.returncode}: {result.stderr.strip()}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def headers_of(record: Json) -> dict[str, str]:
    """kcat -J prints headers as one flat list: name, value, name, value, ..."""
    flat: list[str] = record.get("headers") or []
    return dict(zip(flat[::2], flat[1::2], strict=True))


def test_kcat_reads_an_opened_ticket_from_our_topic_as_a_cloudevent(desk: Desk) -> None:
    kcat()  # before anything starts: a missing kcat is the failure to report
    intake = desk.service("intake").start()
    with httpx.Client(base_url=intake.url, timeout=10.0) as client:
        ticket_id = open_ticket(client, "acme")
    topic = desk.settings.kafka_name("intake.tickets")

    records = eventually(
        lambda: [r for r in read_topic(desk.settings.kafka_bootstrap_servers, topic) if r.get("key") == ticket_id],
        until=lambda found: len(found) > 0,
        timeout=60.0,
        every=0.5,
    )

    assert len(records) == 1, records
    record = records[0]
    assert record["topic"] == topic
    headers = headers_of(record)
    assert headers["ce_type"] == "ticket.opened"
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_tenant"] == "acme"
    assert headers["ce_subject"] == ticket_id
    assert headers["content-type"] == "application/json"
    payload = json.loads(record["payload"])
    assert payload["ticket_id"] == ticket_id
    assert payload["priority"] == "P2"
