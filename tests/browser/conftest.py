"""The workspace in a real browser: Debian's Chromium driven by Playwright, against a desk of real
processes (PostgreSQL, Kafka, intake, routing, SLA, analytics, the knowledge base, make run's identity provider,
the web service).

Chromium comes from deploy/local/browser.sh (`make test` runs it); a test without it fails, never skips.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from services.chassis.runtime.settings import DevIdentityClient
from tests.harness import Desk, IdentityProvider, Service

CHROMIUM = Path("/usr/bin/chromium")
expect.set_options(timeout=15_000)  # a busy machine: pages and live updates may take seconds
AXE = Path(__file__).parent / "assets" / "node_modules" / "axe-core" / "axe.min.js"
# `make screenshots` sets it to docs/screenshots: the tests then leave a picture of each main page there.
SCREENSHOTS = os.environ.get("SERVICEDESK_SCREENSHOTS")
TENANT = "acme"
WEB_CLIENT = "servicedesk-web"


# Package-scoped: Playwright's sync API runs an event loop on this thread while it is open, and the
# tests after these (asyncio.run in the integration tests) must find none.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    assert CHROMIUM.exists(), "Debian's chromium is missing: deploy/local/browser.sh installs it (make test runs it)"
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    yield browser
    browser.close()


@dataclass
class Workspace:
    """A desk people sign in to: its address (the gateway's, pages and API alike) and a way to set it up."""

    url: str
    provider: IdentityProvider
    web: Service
    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)

    def api(self, subject: str, roles: tuple[str, ...], groups: tuple[str, ...] = (),
            organisation: str | None = None) -> httpx.Client:  # fmt: skip
        """The gateway API as `subject` of acme, with a token of the same provider the browser signs in at."""
        token = self.provider.token(TENANT, subject, roles, groups, organisation)
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0)

    def page(self, locale: str = "en-GB", width: int = 1280, height: int = 900) -> Page:
        context = self.browser.new_context(locale=locale, viewport={"width": width, "height": height})
        self.contexts.append(context)
        context.set_default_timeout(15_000)
        return context.new_page()

    def sign_in(self, page: Page, button: str) -> None:
        """Open the workspace and sign in at the provider as the person `button` names."""
        page.goto(f"{self.url}/")
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state()


def serious_violations(page: Page) -> list[str]:
    """What axe-core finds on the page that is serious or critical (rule, and the first element)."""
    assert AXE.exists(), "axe-core is missing: deploy/local/browser.sh installs it (make test runs it)"
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']}: {v['help']} ({v['nodes'][0]['html'][:120]})" for v in found
            if v["impact"] in ("serious", "critical")]  # fmt: skip


def screenshot(page: Page, name: str) -> None:
    """A picture of the page for docs/ (only under `make screenshots`)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def screenshots(page: Page, name: str, language: str = "en") -> None:
    """Pictures of the page as it is (`<name>-desktop-<language>`) and on a phone, 375 px wide
    (`<name>-phone-<language>`), the page left at its own size (only under `make screenshots`)."""
    screenshot(page, f"{name}-desktop-{language}")
    size = page.viewport_size
    if SCREENSHOTS and size:
        page.set_viewport_size({"width": 375, "height": 740})
        screenshot(page, f"{name}-phone-{language}")
        page.set_viewport_size(size)


@pytest.fixture
def workspace(desk: Desk, chromium: Browser) -> Iterator[Workspace]:
    intake = desk.service("intake")
    web = desk.service("web")
    callback = f"{intake.url}/auth/callback"
    secret = desk.env["SERVICEDESK_WEB_CLIENT_SECRET"]
    provider = desk.identity_provider({WEB_CLIENT: DevIdentityClient(redirect_uris=[callback], secret=secret)})
    desk.env |= {
        "SERVICEDESK_WEB_OIDC_ISSUER": provider.url, "SERVICEDESK_WEB_PUBLIC_URL": intake.url,
        "SERVICEDESK_WEB_CLIENT_ID": WEB_CLIENT, "SERVICEDESK_WEB_TENANTS": json.dumps([TENANT]),
    }  # fmt: skip
    provider.start()
    others = (desk.service(name) for name in ("routing", "analytics", "sla", "knowledge"))
    desk.start_together(*others, intake, web)
    workspace = Workspace(intake.url, provider, web, chromium)
    yield workspace
    for context in workspace.contexts:
        context.close()
