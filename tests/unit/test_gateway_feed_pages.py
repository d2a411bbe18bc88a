"""The merged feed's pages over stand-in sources (the proof on real services is
tests/integration/test_gateway_feed.py): a page cut short leaves the rest for the next one,
each source's order is kept, the cursor resumes every source, and a bad cursor is a 422."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from schemas.envelope import Envelope
from services.chassis.http.auth import Principal, Role
from services.chassis.http.feed import EventPage
from services.chassis.http.feed_cursor import InvalidCursor
from services.chassis.http.feed_sources import SourceDown
from services.chassis.http.gateway_feed import MergedFeed, Resting
from services.chassis.http.identity import Identity

START = datetime(2026, 1, 1, tzinfo=UTC)
WHO = Identity(Principal("acme", "admin-1", frozenset({Role.ADMIN})), "corr-1")


def envelope(source: str, position: int, minute: int) -> Envelope:
    return Envelope(
        id=uuid4(), type=f"{source}.happened", version=1, source=source, subject="t-1", tenant="acme", actor="a",
        occurred_at=START + timedelta(minutes=minute), sequence=1, position=position, correlation_id="c",
        causation_id="c", data={},
    )  # fmt: skip


@dataclass
class StandIn:
    name: str
    events: list[Envelope]
    down: bool = False

    async def page(self, after: int, limit: int, who: Identity, types: set[str], wait: float) -> EventPage:
        if self.down:
            raise SourceDown(f"{self.name} is down")
        found = [e for e in self.events if e.position > after][:limit]
        return EventPage(events=found, next_after=found[-1].position if found else after)


def read_all(feed: MergedFeed, limit: int) -> list[Envelope]:
    read: list[Envelope] = []
    cursor = feed.cursor(None)
    while True:
        page = asyncio.run(feed.read(cursor, limit, WHO, set(), 0.0))
        if not page.events:
            return read
        read += [e for e, _ in page.events]
        cursor = page.after


def test_pages_cut_short_leave_nothing_out_and_keep_each_sources_order() -> None:
    intake = StandIn("intake", [envelope("intake", p, m) for p, m in ((1, 0), (4, 5), (9, 6))])
    routing = StandIn("routing", [envelope("routing", p, m) for p, m in ((2, 1), (3, 2), (7, 9))])
    read = read_all(MergedFeed([intake, routing]), limit=2)
    assert [(e.source, e.position) for e in read] == [
        ("intake", 1), ("routing", 2), ("routing", 3), ("intake", 4), ("intake", 9), ("routing", 7)]  # fmt: skip


def test_a_cursor_names_every_sources_position_and_a_bare_number_is_intakes() -> None:
    feed = MergedFeed([StandIn("intake", []), StandIn("routing", []), StandIn("sla", [])])
    assert str(feed.cursor("intake.5-sla.2")) == "intake.5-routing.0-sla.2"
    assert str(feed.cursor("12")) == "intake.12-routing.0-sla.0"
    for bad in ("kafka.3", "intake.x", "intake", "-"):
        with pytest.raises(InvalidCursor):
            feed.cursor(bad)


@pytest.mark.parametrize(
    "bad",
    ["\u00b2", "intake.\u00b2", "intake.1\u00b2", "\u0663", "intake.-1", "9" * 19, f"intake.{'9' * 30}"],
    ids=ascii,
)
def test_a_cursor_of_other_digits_or_past_the_stores_integers_is_an_invalid_cursor(bad: str) -> None:
    """Digits `str.isdigit` takes but `int` does not (superscripts), or a position no store has."""
    feed = MergedFeed([StandIn("intake", []), StandIn("routing", [])])
    with pytest.raises(InvalidCursor):
        feed.cursor(bad)
    assert str(feed.cursor("9" * 18)) == f"intake.{'9' * 18}-routing.0"


def test_a_source_that_is_down_keeps_its_position_and_none_answering_is_a_503() -> None:
    sla = StandIn("sla", [envelope("sla", 1, 0)], down=True)
    feed = MergedFeed([StandIn("intake", [envelope("intake", 3, 0)]), sla])
    page = asyncio.run(feed.read(feed.cursor(None), 10, WHO, set(), 0.0))
    assert (str(page.after), page.unavailable) == ("intake.3-sla.0", ["sla"])
    with pytest.raises(SourceDown):
        asyncio.run(MergedFeed([sla]).read(feed.cursor(None), 10, WHO, set(), 0.0))


@dataclass
class Hanging:
    """A source that does not answer: as a blackholed service, asked until its client's timeout."""

    name: str
    timeout: float = 3.0
    asked: int = 0

    async def page(self, after: int, limit: int, who: Identity, types: set[str], wait: float) -> EventPage:
        self.asked += 1
        await asyncio.sleep(wait + self.timeout)
        raise SourceDown(f"{self.name} timed out")


def test_a_source_that_hangs_holds_one_page_up_briefly_and_is_then_left_to_rest() -> None:
    sla = Hanging("sla")
    feed = MergedFeed([StandIn("intake", [envelope("intake", 3, 0)]), sla])
    for _ in range(3):
        started = time.monotonic()
        page = asyncio.run(feed.read(feed.cursor(None), 10, WHO, set(), 0.0))
        assert time.monotonic() - started < 1.5, "a short probe, then not asked at all"
        assert (str(page.after), page.unavailable) == ("intake.3-sla.0", ["sla"])
    assert sla.asked == 1


def test_a_resting_source_is_asked_again_once_its_rest_is_over() -> None:
    now = [0.0]
    sla = Hanging("sla", timeout=0.0)
    feed = MergedFeed([StandIn("intake", []), sla], resting=Resting(seconds=30.0, clock=lambda: now[0]))
    asyncio.run(feed.read(feed.cursor(None), 10, WHO, set(), 0.0))
    now[0] = 29.0
    assert asyncio.run(feed.read(feed.cursor(None), 10, WHO, set(), 0.0)).unavailable == ["sla"]
    assert sla.asked == 1
    now[0] = 31.0
    asyncio.run(feed.read(feed.cursor(None), 10, WHO, set(), 0.0))
    assert sla.asked == 2
