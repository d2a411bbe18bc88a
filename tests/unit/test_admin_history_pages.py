"""The screens of the routing rules, the SLA calendars and the SLA policies show under their list who
changed it, when and how, as the API records it (a change recorded before admins were: by nobody)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.unit.test_admin_settings_pages import signed_in
from tests.unit.test_web_pages import desk

CHANGES = {
    "/v1/routing/rules/history": [
        {"at": "2026-12-04T09:30:00+00:00", "by": "admin-ada", "change": "rule_added", "id": "vpn"},
        {"at": "2026-12-03T09:30:00+00:00", "by": "", "change": "rules_reordered", "id": None},
    ],
    "/v1/sla/calendars/history": [
        {"at": "2026-12-04T09:30:00+00:00", "by": "admin-ada", "change": "calendar_defined", "id": "berlin"},
        {"at": "2026-12-03T09:30:00+00:00", "by": "", "change": "calendar_defined", "id": "office"},
    ],
    "/v1/sla/policies/history": [
        {"at": "2026-12-04T09:30:00+00:00", "by": "admin-ada", "change": "policy_retired", "id": "p1"},
        {"at": "2026-12-03T09:30:00+00:00", "by": "", "change": "policies_reordered", "id": None},
    ],
}
LISTS = {
    "/v1/routing/rules": {"rules": []},
    "/v1/sla/calendars": {"calendars": {}},
    "/v1/sla/policies": {"policies": []},
}


def api(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path in CHANGES:
        return httpx.Response(200, json={"changes": CHANGES[path]})
    return httpx.Response(200, json=LISTS[path]) if path in LISTS else httpx.Response(404, json={"title": "no"})


@pytest.mark.parametrize(
    ("screen", "done"),
    [("/admin/rules", "Added to the list"), ("/admin/calendars", "Defined or changed"),
     ("/admin/policies", "Deleted from the list")],
)  # fmt: skip
def test_an_admin_sees_who_changed_each_ordered_list(tmp_path: Path, screen: str, done: str) -> None:
    asked: list[httpx.Request] = []
    client, sign_in = desk(tmp_path, asked, api)
    signed_in(sign_in, "admin-ada", "admin")
    page = client.get(screen)
    assert page.status_code == 200
    history = page.text.split('id="history-title"', 1)[1]
    assert history.index("admin-ada") < history.index("nobody recorded")  # newest first
    assert done in history
    assert any(
        r.url.path.endswith("/history") and r.headers["authorization"] == "Bearer admin-ada-token" for r in asked
    )


def test_a_list_nobody_has_set_up_yet_shows_no_changes(tmp_path: Path) -> None:
    client, sign_in = desk(tmp_path, [], lambda request: httpx.Response(404, json={"title": "Not found"}))
    signed_in(sign_in, "admin-ada", "admin")
    page = client.get("/admin/rules", headers={"Accept-Language": "ru"})
    assert "Изменений пока нет." in page.text
