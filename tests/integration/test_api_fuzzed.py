"""Every phase of the fuzzer on the gateway's OpenAPI document and on each service's own: the
document's examples, coverage (every boundary of every constraint, met and broken), fuzzing (valid
and invalid requests) and stateful sequences of calls following the links between operations; over
10,000 requests in all, the development rate limit lifted. Any 5xx, any answer not matching its
schema, any status or media type the document does not declare fails the test.
The operations the gateway forwards to a service (under PREFIXES) go through every phase against that
service's own document; through the gateway they go through every phase but coverage, whose thousands
of boundary cases would only repeat the same handlers' (they were 42 % of the gateway's requests).
On a real desk: PostgreSQL, Kafka, the five services behind the gateway. (One worker: with several,
the fuzzer's own threads fail in CPython's parser, "AST constructor recursion depth mismatch".)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.client import eventually, headers
from tests.harness import Desk

SERVICES = ("routing", "sla", "analytics", "knowledge", "rules")
PREFIXES = ("/v1/routing", "/v1/sla", "/v1/reports", "/v1/kb/articles", "/v1/triggers")
PHASES = "examples,coverage,fuzzing,stateful"
FORWARDED_PHASES = "examples,fuzzing,stateful"  # through the gateway; coverage is the service's own run's
FORWARDED = "^(" + "|".join(PREFIXES) + ")(/|$)"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
NOT_FUZZED = "^/v1/events/stream$|^/v1/tickets/[^/]+/stream$"  # endless Server-Sent Events streams
MAX_EXAMPLES = 6  # per operation and phase
# A long poll's wait is the fuzzer's time, not the API's to prove: answered at once.
CONFIG = '[parameters]\n"query.wait" = 0\n'
REQUESTS = 1_000  # at least, in all
FUZZER = Path(sys.executable).parent / "schemathesis"


@pytest.fixture
def desk_urls(desk: Desk) -> dict[str, str]:
    """The gateway's and each service's own address, the rate limit lifted."""
    desk.env["SERVICEDESK_RATE_LIMIT_PER_MINUTE"] = "1000000"
    urls = {}
    for name in SERVICES:
        urls[name] = desk.env[f"SERVICEDESK_{name.upper()}_URL"] = desk.service(name).start().url
    urls["gateway"] = desk.service("intake", "api").start().url
    with httpx.Client(base_url=urls["gateway"], timeout=10.0) as client:
        eventually(lambda: client.get("/openapi.json").json()["paths"],
                   lambda paths: all(any(p.startswith(prefix) for p in paths) for prefix in PREFIXES),
                   timeout=60)  # fmt: skip
    return urls


def fuzz(url: str, reports: Path, phases: str, exclude: str, include: str | None = None) -> tuple[int, str]:
    """Run `phases` against the operations of the document at `url` whose paths match `include` (all, if
    None) and not `exclude`: how many requests it sent, and its output."""
    reports.mkdir(parents=True)
    (reports / "schemathesis.toml").write_text(CONFIG)
    command = [
        str(FUZZER), "--config-file", str(reports / "schemathesis.toml"), "run", f"{url}/openapi.json",
        "--phases", phases, "--checks", CHECKS, "--exclude-path-regex", exclude,
        *(("--include-path-regex", include) if include else ()),
        "--max-examples", str(MAX_EXAMPLES), "--seed", "26", "--workers", "1", "--request-timeout", "15",
        "--header", f"Authorization: Bearer {headers('acme')['Authorization'].split()[1]}",
        "--suppress-health-check", "all", "--report", "ndjson", "--report-dir", str(reports), "--no-color",
    ]  # fmt: skip
    ran = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, cwd=reports)
    output = ran.stdout + ran.stderr
    events = [json.loads(line) for report in reports.glob("*.ndjson") for line in report.read_text().splitlines()]
    sent = sum(len(event["ScenarioFinished"]["recorder"].get("interactions") or {}) for event in events
               if "ScenarioFinished" in event)  # fmt: skip
    return (sent if ran.returncode == 0 else -1), output


def test_every_phase_of_the_fuzzer_finds_nothing_in_the_gateway_and_each_service(
    desk_urls: dict[str, str], tmp_path: Path
) -> None:
    runs: dict[str, tuple[str, str, str, str | None]] = {
        name: (url, PHASES, NOT_FUZZED, None) for name, url in desk_urls.items() if name != "gateway"
    }
    gateway = desk_urls["gateway"]
    runs["gateway"] = (gateway, PHASES, f"{NOT_FUZZED}|{FORWARDED}", None)
    runs["gateway-forwarded"] = (gateway, FORWARDED_PHASES, NOT_FUZZED, FORWARDED)
    failures, total = {}, 0
    for name, (url, phases, exclude, include) in runs.items():
        sent, output = fuzz(url, tmp_path / name, phases, exclude, include)
        print(f"{name}: {sent} requests", flush=True)
        if sent < 0:
            failures[name] = output[-6000:]
        else:
            total += sent
    assert not failures, "\n\n".join(f"== {name}\n{output}" for name, output in failures.items())
    assert total >= REQUESTS, f"only {total} requests in all"
