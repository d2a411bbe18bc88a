"""The admin screens' own rules, fast: what they send the API, what they refuse before asking it, and
where the API's refusal is shown. (tests/browser/test_admin_rules.py drives them on the real desk.)"""

from __future__ import annotations

from pathlib import Path

import httpx

from services.web.admin import calendars, durations, policies, rules
from services.web.admin.area import moved
from services.web.forms import beside
from services.web.gateway_client import GatewayError
from tests.unit.test_web_pages import ann, desk


def test_business_time_is_typed_in_days_hours_and_minutes_and_read_back_alike() -> None:
    assert durations.seconds_of("1d 4h 30m") == 102600
    assert durations.seconds_of("90m") == 5400
    assert [durations.seconds_of(typed) for typed in ("", "4 hours", "0h", "h")] == [None, None, None, None]
    assert durations.typed_of(102600) == "1d 4h 30m"
    assert durations.typed_of(61) == "2m"


def test_an_entry_moves_one_place_and_stays_at_either_end() -> None:
    assert moved(["a", "b", "c"], "c", -1) == ["a", "c", "b"]
    assert moved(["a", "b", "c"], "a", 1) == ["b", "a", "c"]
    assert moved(["a", "b", "c"], "a", -1) == ["a", "b", "c"]
    assert moved(["a", "b", "c"], "c", 5) == ["a", "b", "c"]
    assert moved(["a", "b"], "gone", 1) == ["a", "b"]
    assert moved(["a", "b"], "a", 0) == ["a", "b"]


def test_the_apis_refusal_of_a_list_item_or_a_nested_field_is_shown_beside_that_field() -> None:
    problem = {
        "detail": "invalid field(s): words.1, targets.resolution",
        "errors": [
            {"field": "words.1", "message": "String should match pattern"},
            {"field": "targets.resolution", "message": "Input should be less than or equal to 365 days"},
        ],
    }
    placed = beside(GatewayError(422, problem), ("words", "resolution", "rule_id"), "rule_id")
    assert placed == {
        "words": "String should match pattern",
        "resolution": "Input should be less than or equal to 365 days",
    }
    refused = GatewayError(422, {"detail": "weekly.wed: '25:00' is not a time of day", "field": "weekly.wed"})
    assert beside(refused, calendars.FIELDS, "calendar_id") == {"wed": "weekly.wed: '25:00' is not a time of day"}
    assert beside(GatewayError(409, {"detail": "conflict"}), ("x",), "rule_id") == {"rule_id": "conflict"}


def test_a_rule_form_becomes_routing_s_rule_with_its_words_listed() -> None:
    form = rules.RuleForm(rule_id="vip", group_id=" billing ", words="vpn, invoice", priorities=["P1"], skills="ru")
    assert form.body() == {
        "group_id": "billing", "categories": [], "tags": [], "organisations": [], "words": ["vpn", "invoice"],
        "skills": ["ru"], "types": [], "priorities": ["P1"], "channels": [],
    }  # fmt: skip


def test_a_calendars_hours_are_read_per_weekday_and_a_day_of_another_shape_is_named() -> None:
    form = calendars.CalendarForm(calendar_id="office", time_zone="Europe/Berlin", mon="09:00-13:00, 14:00-18:00")
    spec, errors = calendars.spec_of(form.model_copy(update={"holidays": "2026-12-24", "country": "de"}))
    assert errors == {}
    assert spec == {
        "time_zone": "Europe/Berlin", "weekly": {"mon": [["09:00", "13:00"], ["14:00", "18:00"]]},
        "holidays": ["2026-12-24"], "country": "de",
    }  # fmt: skip
    _spec, errors = calendars.spec_of(form.model_copy(update={"tue": "nine to five", "time_zone": ""}))
    assert set(errors) == {"tue", "time_zone"}


def test_a_policy_form_sends_targets_in_seconds_and_names_what_it_cannot_read() -> None:
    form = policies.PolicyForm(
        policy_id="p1", priorities=["P1"], first_response="1h", resolution="1d", warn_at="50, 80"
    )
    body, errors = policies.body_of(form)
    assert errors == {}
    assert body["targets"] == {"first_response": 3600, "resolution": 86400}
    assert body["warn_at"] == [50, 80]
    assert "reminders" not in body
    _body, errors = policies.body_of(form.model_copy(update={"resolution": "soon", "warn_at": "half", "count": "2"}))
    assert set(errors) == {"resolution", "warn_at", "every"}


def test_an_agent_is_refused_every_admin_screen_and_form(tmp_path: Path) -> None:
    asked: list[httpx.Request] = []
    client, sign_in = desk(tmp_path, asked)
    sign_in.person = ann(sign_in.sessions)
    for screen in ("/admin", "/admin/routing", "/admin/rules", "/admin/calendars", "/admin/policies"):
        answer = client.get(screen)
        assert answer.status_code == 403
        assert "Admins only" in answer.text
    token = sign_in.person.csrf_token
    assert client.post("/admin/rules/vip/move", data={"step": "-1", "csrf_token": token}).status_code == 403
    assert not [request for request in asked if "/v1/routing" in request.url.path or "/v1/sla" in request.url.path]
