"""Customers at the portal in the browser: the knowledge base read without signing in (on a phone, in
Russian and English), a request the knowledge base answers before it is sent, requests followed
and rated; and what a customer never sees there (an internal note or article, another organisation's
request)."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import FilePayload, Page, expect

from tests.browser.conftest import TENANT, Workspace, screenshot, serious_violations
from tests.browser.test_workspace import a_routed_ticket, ok
from tests.client import eventually

KIM = "Sign in as Kim (customer, northwind)"
PHONE_WIDTH = 375


def article(workspace: Workspace, title: str, body: str, **extra: Any) -> str:
    """A published article, written by the admin."""
    with workspace.api("admin-1", ("admin",)) as admin:
        drafted = ok(admin.post("/v1/kb/articles", json={"language": "en", "title": title, "body": body,
                                                        "visibility": "public"} | extra))  # fmt: skip
        ok(admin.post(f"/v1/kb/articles/{drafted['id']}/publish"))
    return str(drafted["id"])


def a_knowledge_base(workspace: Workspace) -> dict[str, str]:
    """Printing, with a public article in English and its Russian translation, and an internal one."""
    with workspace.api("admin-1", ("admin",)) as admin:
        names = {"en": "Printing", "ru": "Печать"}
        ok(admin.put("/v1/kb/categories/printing", json={"names": names, "parent": None, "position": 1}))
    english = article(
        workspace, "Printer does not print", "Turn the **printer** off and on, then print again.", category="printing"
    )
    russian = article(
        workspace, "Принтер не печатает", "Выключите **принтер** и включите снова.",
        language="ru", category="printing", translation_of=english,
    )  # fmt: skip
    internal = article(
        workspace, "Printer toner contracts", "Toner supplier: call the printer vendor.",
        category="printing", visibility="internal",
    )  # fmt: skip
    ours = article(
        workspace, "Printer rooms of Northwind", "The printer of Northwind is on floor 3.",
        category="printing", visibility="organisations", organisations=["northwind"],
    )  # fmt: skip
    with workspace.api("admin-1", ("admin",)) as admin:  # the search index follows the store
        eventually(lambda: ok(admin.get("/v1/kb/search", params={"q": "printer"}))["hits"],
                   lambda hits: len(hits) >= 3, timeout=30)  # fmt: skip
    return {"en": english, "ru": russian, "internal": internal, "northwind": ours}


def fits_the_phone(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_visitor_finds_the_answer_on_a_phone_without_signing_in_and_says_it_helped(workspace: Workspace) -> None:
    articles = a_knowledge_base(workspace)
    page = workspace.page(width=PHONE_WIDTH)
    page.goto(f"{workspace.url}/t/{TENANT}/")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    assert fits_the_phone(page)
    assert serious_violations(page) == []
    screenshot(page, "portal-phone-en")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    page.get_by_role("link", name="Printing").click()
    expect(page.get_by_role("heading", name="Printing")).to_be_visible()
    expect(page.get_by_role("link", name="Printer toner contracts")).to_have_count(0)
    page.get_by_role("link", name="Printer does not print").click()
    expect(page.get_by_role("heading", name="Printer does not print")).to_be_visible()
    expect(page.locator(".kb-body strong")).to_have_text("printer")
    assert fits_the_phone(page)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Yes, it helped").click()
    expect(page.get_by_role("status")).to_have_text("Thank you for telling us.")
    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Принтер не печатает")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "ru"
    expect(page).to_have_url(re.compile(f"/articles/{articles['ru']}"))
    page.get_by_role("link", name="English").click()
    search = page.get_by_label("Search the knowledge base")
    search.fill("printer")
    search.press("Enter")
    expect(page.locator(".snippet mark").first).to_be_visible()
    expect(page.get_by_role("link", name="Printer does not print")).to_be_visible()
    assert "toner" not in page.content().lower(), "an internal article is never found at the portal"
    assert "Northwind" not in page.content(), "an organisation's article is not public"
    assert fits_the_phone(page)
    assert serious_violations(page) == []


def test_an_internal_article_is_not_found_at_the_portal_even_by_its_address(workspace: Workspace) -> None:
    articles = a_knowledge_base(workspace)
    page = workspace.page()
    page.goto(f"{workspace.url}/t/{TENANT}/articles/{articles['internal']}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "Toner supplier" not in page.content()
    workspace.sign_in(page, KIM)
    page.goto(f"{workspace.url}/t/{TENANT}/articles/{articles['internal']}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.goto(f"{workspace.url}/t/{TENANT}/articles/{articles['northwind']}")
    expect(page.get_by_role("heading", name="Printer rooms of Northwind")).to_be_visible()


def test_a_customer_whose_question_an_article_answers_opens_no_ticket(workspace: Workspace) -> None:
    a_knowledge_base(workspace)
    page = workspace.page()
    workspace.sign_in(page, KIM)
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    page.get_by_role("link", name="New request").first.click()
    page.get_by_label("Subject").press_sequentially("my printer does not print", delay=20)
    suggested = page.locator("#suggested")
    expect(suggested.get_by_role("link", name=re.compile("Printer does not print"))).to_be_visible()
    assert serious_violations(page) == []
    suggested.get_by_role("listitem").filter(has_text="Printer does not print").get_by_role(
        "button", name="This solved it"
    ).click()
    expect(page.get_by_role("heading", name="Glad it helped")).to_be_visible()
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        assert ok(kim.get("/v1/tickets", params={"requester_id": kims_person(workspace)}))["tickets"] == []


def kims_person(workspace: Workspace) -> str:
    """The person of the directory Kim's sign-in is: the one holding her chat address, her token's subject."""
    with workspace.api("admin-1", ("admin",)) as admin:
        found = eventually(lambda: ok(admin.get("/v1/people", params={"q": "customer-kim"}))["people"],
                           lambda people: len(people) == 1)  # fmt: skip
    assert found[0]["addresses"] == [{"channel": "chat", "address": "customer-kim"}]
    return str(found[0]["id"])


def test_a_customer_sends_a_request_from_the_portal_with_a_custom_field_and_a_file(workspace: Workspace) -> None:
    a_knowledge_base(workspace)
    with workspace.api("admin-1", ("admin",)) as admin:
        ok(admin.put("/v1/fields/seats", json={"label": "Seats", "kind": "number"}))
    page = workspace.page(width=PHONE_WIDTH)
    workspace.sign_in(page, KIM)
    page.goto(f"{workspace.url}/t/{TENANT}/tickets/new")
    page.get_by_label("Subject").press_sequentially("The printer on floor 2 does not print", delay=20)
    expect(page.locator("#suggested").get_by_role("button", name="This solved it").first).to_be_visible()
    page.get_by_label("Describe what happened").fill("It blinks orange.")
    page.get_by_label("Seats").fill("3")
    page.get_by_label("Files").set_input_files(
        FilePayload(name="blink.txt", mimeType="text/plain", buffer=b"orange light, twice a second")
    )
    assert fits_the_phone(page)
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_role("heading", name="The printer on floor 2 does not print")).to_be_visible()
    expect(page.get_by_role("link", name="blink.txt")).to_be_visible()
    assert serious_violations(page) == []
    ticket_id = page.url.rstrip("/").split("/")[-1]
    with workspace.api("admin-1", ("admin",)) as admin:
        ticket = ok(admin.get(f"/v1/tickets/{ticket_id}"))
    assert (ticket["channel"], ticket["requester_id"], ticket["custom_fields"]) == ("portal", kims_person(workspace),
                                                                                     {"seats": 3})  # fmt: skip


def test_a_customer_follows_their_request_rates_it_in_one_click_and_reopens_it_never_seeing_an_internal_note(
    workspace: Workspace,
) -> None:
    ticket_id = a_routed_ticket(workspace, "Scanner saves blank pages")
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        ok(ann.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Clean the glass, please.", "public": True}))
        ok(ann.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Scanner lamp is dying", "public": False}))
        ok(ann.post(f"/v1/tickets/{ticket_id}/resolve", json={"resolution": "glass cleaned", "reason": "fixed"}))
    page = workspace.page()
    workspace.sign_in(page, KIM)
    page.goto(f"{workspace.url}/t/{TENANT}/tickets/{ticket_id}/rating")  # the survey e-mail's link
    expect(page.get_by_text("Clean the glass, please.")).to_be_visible()
    assert "Scanner lamp" not in page.content()
    assert serious_violations(page) == []
    page.get_by_role("button", name="4 of 5").click()
    expect(page.get_by_role("status")).to_have_text("You rated it 4 of 5. Thank you!")
    with workspace.api("admin-1", ("admin",)) as admin:
        assert ok(admin.get(f"/v1/tickets/{ticket_id}"))["rating"]["score"] == 4
    page.get_by_label("Message").fill("It saves blank pages again today.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("It saves blank pages again today.")).to_be_visible()
    page.get_by_label("What is still wrong").fill("blank pages are back")
    page.get_by_role("button", name="Reopen").click()
    expect(page.locator(".facts .status")).to_have_text("open")
    assert "Scanner lamp" not in page.content()


def test_a_customer_sees_their_organisations_requests_but_never_another_organisations(workspace: Workspace) -> None:
    with workspace.api("customer-lev", ("customer",), organisation="northwind") as lev:
        levs = ok(lev.post("/v1/tickets", json={"title": "Lev's badge does not open", "requester_id": "x"}))
    with workspace.api("customer-zoe", ("customer",), organisation="contoso") as zoe:
        zoes = ok(zoe.post("/v1/tickets", json={"title": "Contoso VPN certificate", "requester_id": "x"}))
    page = workspace.page()
    workspace.sign_in(page, KIM)
    page.get_by_role("link", name="My organisation's").click()
    expect(page.get_by_role("link", name="Lev's badge does not open")).to_be_visible()
    assert "Contoso VPN" not in page.content()
    assert serious_violations(page) == []
    page.goto(f"{workspace.url}/t/{TENANT}/tickets/{zoes['id']}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    assert "Contoso VPN" not in page.content()
    page.goto(f"{workspace.url}/t/{TENANT}/tickets/{levs['id']}")
    expect(page.get_by_role("heading", name="Lev's badge does not open")).to_be_visible()


def test_the_portal_speaks_russian_to_a_russian_browser(workspace: Workspace) -> None:
    a_knowledge_base(workspace)
    page = workspace.page(locale="ru-RU", width=PHONE_WIDTH)
    page.goto(f"{workspace.url}/t/{TENANT}/")
    expect(page.get_by_role("heading", name="Чем мы можем помочь?")).to_be_visible()
    expect(page.get_by_role("link", name="Печать")).to_be_visible()
    expect(page.get_by_role("link", name="Принтер не печатает")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "ru"
    assert fits_the_phone(page)
    assert serious_violations(page) == []
    screenshot(page, "portal-phone-ru")
