"""The knowledge service SIGKILLed again and again while editors write, on real Kafka and PostgreSQL:
no article event is lost or duplicated. Every write it acknowledged is in its store once (each article's
versions run 1, 2, 3 without a gap or a repeat), every public event of the store is on
`knowledge.articles` (a copy the relay sent again after a kill carries the same envelope id and the
same data, so a consumer keeps one), nothing else is, and the articles view equals its rebuild.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from services.chassis.storage.store import store_env, tracking_recorder
from services.knowledge.application import Knowledge
from services.knowledge.projections import ArticlesProjection
from services.knowledge.publication import publication
from tests.client import eventually
from tests.harness import Desk, Service
from tests.infra import ROOT
from tests.integration.knowledge_steps import person, published
from tests.integration.test_faults import Chaos, kill_and_restart

WRITERS = 4
ARTICLES = 15  # per writer at least: drafted, revised, published (and every third archived)
STRIKES = 3  # the writers go on until the service was killed this often, however fast they are
PATIENCE = 90.0  # seconds a write is retried through the service's restarts


def until_answered(client: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Send until the service answers (it is down for moments at a time); a refusal fails the test. The
    answer's JSON."""
    deadline = time.monotonic() + PATIENCE
    while True:
        try:
            reply = client.request(method, path, json=body)
        except httpx.TransportError:
            reply = None
        if reply is not None and reply.status_code < 500:
            assert reply.is_success, reply.text
            return reply.json()
        assert time.monotonic() < deadline, "the knowledge service did not come back"
        time.sleep(0.2)


def editor(url: str, writer: int, chaos: Chaos) -> dict[str, int]:
    """One editor's articles, each to the version its last acknowledged write left it at (at least):
    ARTICLES of them, and more until the chaos has struck STRIKES times."""
    acknowledged: dict[str, int] = {}
    deadline = time.monotonic() + 4 * PATIENCE
    with httpx.Client(base_url=url, timeout=10.0, headers=person(subject=f"editor-{writer}")) as client:
        for n in itertools.count():
            if n >= ARTICLES and (chaos.strikes >= STRIKES or time.monotonic() > deadline):
                break
            body = {"language": "en", "title": f"Article {writer}-{n}", "body": "Restart it.", "visibility": "public"}
            article = until_answered(client, "POST", "/v1/kb/articles", body)
            path = f"/v1/kb/articles/{article['id']}"
            until_answered(client, "PATCH", path, {"body": f"Restart it, then wait {n} s."})
            last = until_answered(client, "POST", f"{path}/publish")
            if n % 3 == 0:
                last = until_answered(client, "POST", f"{path}/archive")
            acknowledged[article["id"]] = last["version"]
    return acknowledged


def public_events(desk: Desk) -> dict[str, Any]:
    """Every public event of the knowledge store, by envelope id."""
    knowledge = Knowledge(env=store_env(desk.settings, Knowledge.name))
    publish = publication(knowledge)
    found: dict[str, Any] = {}
    position = 1
    while notifications := knowledge.recorder.select_notifications(position, 1000):
        for notification in notifications:
            if (record := publish(notification)) is not None:
                found[str(record[1].id)] = record[1]
        position = notifications[-1].id + 1
    knowledge.close()
    return found


def test_no_article_event_is_lost_or_duplicated_when_the_knowledge_service_is_killed_mid_writes(desk: Desk) -> None:
    knowledge: Service = desk.service("knowledge").start()
    with (
        Chaos(kill_and_restart(knowledge), pause=(1.5, 4.0), seed=21, most=5) as chaos,
        ThreadPoolExecutor(WRITERS) as pool,
    ):
        written = list(pool.map(lambda w: editor(knowledge.url, w, chaos), range(WRITERS)))
    knowledge.wait_ready()  # the last kill's restart
    assert chaos.strikes >= STRIKES, f"killed only {chaos.strikes} times"
    acknowledged = {article: version for each in written for article, version in each.items()}
    assert len(acknowledged) == sum(len(each) for each in written) >= WRITERS * ARTICLES

    stored = public_events(desk)
    versions: dict[str, list[int]] = defaultdict(list)
    for envelope in stored.values():
        if envelope.type.startswith("article."):
            versions[envelope.subject].append(envelope.sequence)
    for article, version in acknowledged.items():
        assert sorted(versions[article]) == list(range(1, len(versions[article]) + 1)), "no gap, no repeat"
        assert len(versions[article]) >= version, f"{article}: an acknowledged write is missing"

    on_topic = eventually(lambda: published(desk), lambda found: {str(e.id) for e in found} >= stored.keys(),
                          timeout=120, every=2.0)  # fmt: skip
    assert {str(e.id) for e in on_topic} == stored.keys(), "nothing but the store's public events"
    for envelope in on_topic:  # a copy sent again after a kill is the same event: a consumer keeps one
        assert envelope == stored[str(envelope.id)]
    print(f"{chaos.strikes} kills; {len(on_topic) - len(stored)} events sent again after a kill")

    view = ArticlesProjection(tracking_recorder(desk.settings, Knowledge.name))
    live = eventually(view.everything, lambda tables: len(tables["kb_articles"]) >= len(acknowledged), timeout=60)
    knowledge.stop()
    rebuilt = subprocess.run([sys.executable, "-m", "services.knowledge.main", "rebuild"], cwd=ROOT, env=desk.env,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert view.everything() == live
