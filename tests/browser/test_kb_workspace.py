"""The knowledge base in the agents' workspace, in the browser: writing, publishing and versions of an
article, the articles a ticket suggests (linked as its solution, put into a reply), a resolved ticket
turned into a draft, and the categories' tree."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Workspace, screenshot, serious_violations
from tests.browser.test_workspace import ANN, a_routed_ticket, ok
from tests.client import eventually

ADA = "Sign in as Ada (admin)"
FIX = "When the VPN drops every hour, quit the VPN client and start it again."


def write_article(page: Page, title: str, body: str) -> None:
    """Ann writes a public article in the editor, looks at its preview, and saves the draft."""
    page.get_by_role("navigation", name="Queues").get_by_role("link", name="Knowledge base").click()
    page.get_by_role("navigation", name="Knowledge base").get_by_role("link", name="New article").click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Text (Markdown)").fill(body)
    page.get_by_label("Tags (comma-separated)").fill("vpn, network")
    page.get_by_label("Public: everyone").check()
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("region", name="Preview").locator("strong")).to_have_text("quit the VPN client")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator(".kb-status")).to_have_text("Draft")


def test_an_agent_writes_publishes_and_links_an_article_as_a_tickets_solution(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace)
    page = workspace.page()
    workspace.sign_in(page, ANN)
    write_article(page, "VPN drops every hour", FIX.replace("quit the VPN client", "**quit the VPN client**"))
    assert serious_violations(page) == []
    page.get_by_role("link", name="Edit").click()
    assert serious_violations(page) == []
    page.get_by_label("Text (Markdown)").fill(FIX + "\n\nStill dropping? Update the client.")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".kb-status")).to_have_text("Published")
    page.get_by_role("link", name="Versions").click()
    versions = page.get_by_role("table")
    expect(versions.get_by_role("row")).to_have_count(4)  # the header; drafted, revised, published
    expect(versions).to_contain_text("agent-ann")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Version 1 as it was").click()
    expect(page.locator(".as-of")).to_contain_text("Version 1")
    expect(page.locator(".kb-body")).not_to_contain_text("Update the client")
    screenshot(page, "kb-article-as-of-en")

    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    suggested = page.get_by_role("region", name="Knowledge base")
    expect(suggested.get_by_role("link", name="VPN drops every hour")).to_be_visible(timeout=30_000)
    assert serious_violations(page) == []
    suggested.get_by_role("button", name="Link as solution: “VPN drops every hour”").click()
    expect(page.locator(".facts")).to_contain_text("Knowledge base article")
    with workspace.api("admin-1", ("admin",)) as admin:
        ticket = ok(admin.get(f"/v1/tickets/{ticket_id}"))
        article_id = ok(admin.get("/v1/kb/articles", params={"status": "published"}))["articles"][0]["id"]
    assert ticket["solution"] == article_id
    page.locator(".facts").get_by_role("link", name="Knowledge base article").click()
    expect(page.get_by_role("heading", name="VPN drops every hour")).to_be_visible()


def test_an_article_put_into_the_reply_keeps_what_the_agent_typed(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace)
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        body = {"language": "en", "title": "VPN drops every hour", "body": FIX, "visibility": "public",
                "tags": [], "organisations": []}  # fmt: skip
        article = ok(ann.post("/v1/kb/articles", json=body))
        ok(ann.post(f"/v1/kb/articles/{article['id']}/publish"))
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    page.get_by_label("Message").fill("Hello Kim,\nthanks for the details.")
    suggested = page.get_by_role("region", name="Knowledge base")
    suggested.get_by_role("button", name="Insert into reply: “VPN drops every hour”").click(timeout=30_000)
    box = page.get_by_label("Message")
    expect(box).to_have_value(
        re.compile(r"^Hello Kim,\nthanks for the details\.\n\nVPN drops every hour\n\n" + re.escape(FIX))
    )
    expect(box).to_have_value(re.compile(rf"/t/acme/articles/{article['id']}$"))
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".message.reply").filter(has_text="thanks for the details")).to_contain_text(
        "quit the VPN client"
    )


def test_a_resolved_ticket_becomes_a_draft_without_the_requesters_words(workspace: Workspace) -> None:
    ticket_id = a_routed_ticket(workspace, "Mail stuck in the outbox")
    with workspace.api("customer-kim", ("customer",), organisation="northwind") as kim:
        ok(kim.post(f"/v1/tickets/{ticket_id}/comments",
                    json={"body": "I am Kim Nakamura, call me on +7 900 123-45-67.", "public": True}))  # fmt: skip
    with workspace.api("agent-ann", ("agent",), ("first-line",)) as ann:
        reply = {"body": "Empty the outbox, then send the mail again.", "public": True}
        ok(ann.post(f"/v1/tickets/{ticket_id}/comments", json=reply))
        ok(ann.post(f"/v1/tickets/{ticket_id}/comments", json={"body": "Her laptop is old.", "public": False}))
        ok(ann.post(f"/v1/tickets/{ticket_id}/resolve", json={"resolution": "outbox emptied", "reason": "fixed"}))
    page = workspace.page()
    workspace.sign_in(page, ANN)
    page.goto(f"{workspace.url}/tickets/{ticket_id}")
    page.get_by_role("link", name="Turn into an article").click()
    expect(page.get_by_label("Title", exact=True)).to_have_value("Mail stuck in the outbox")
    text = page.get_by_label("Text (Markdown)")
    expect(text).to_have_value("Empty the outbox, then send the mail again.")
    beside = page.get_by_role("region", name="The requester's words")
    expect(beside).to_contain_text("+7 900 123-45-67")  # for reference, outside the form
    assert serious_violations(page) == []
    screenshot(page, "kb-draft-from-ticket-en")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Mail stuck in the outbox")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("From ticket")
    with workspace.api("admin-1", ("admin",)) as admin:
        drafts = eventually(lambda: ok(admin.get("/v1/kb/articles", params={"status": "draft"}))["articles"],
                            lambda found: len(found) == 1)  # fmt: skip
        article = ok(admin.get(f"/v1/kb/articles/{drafts[0]['id']}"))
    assert article["source_ticket"] == ticket_id
    for sealed in ("Kim", "+7 900", "laptop", "Since Monday"):
        assert sealed not in article["body"] + article["title"]


def test_an_admin_arranges_the_categories_and_a_circular_parent_is_named_beside_the_field(
    workspace: Workspace,
) -> None:
    page = workspace.page(width=375, height=800)
    workspace.sign_in(page, ADA)
    page.goto(f"{workspace.url}/kb/categories")
    for slug, name, parent in [("network", "Network", ""), ("vpn", "VPN", "network")]:
        page.get_by_label("Slug (its address: letters, digits, dashes)").fill(slug)
        page.get_by_label("Name in English").fill(name)
        page.get_by_label("Parent").select_option(parent)
        page.get_by_role("button", name="Save category").click()
        expect(page.get_by_role("list", name="The categories, as a tree")).to_contain_text(name)
    page.get_by_role("link", name="Change Network").click()
    page.get_by_label("Parent").select_option("vpn")
    page.get_by_role("button", name="Save category").click()
    expect(page.locator("#parent-error")).to_be_visible()
    expect(page.get_by_label("Parent")).to_have_attribute("aria-invalid", "true")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert serious_violations(page) == []
    screenshot(page, "kb-categories-phone-en")
