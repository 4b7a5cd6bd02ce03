"""Browser tests: Playwright (sync API) drives Debian's chromium against pytest-django's live server.

Every page a test opens is watched: a console error, an uncaught exception, a failed request
or an HTTP status ≥ 400 fails the test, unless the test declared that status expected
(`watch.expect_status(404)`). Sign-in is a real form post in test_auth.py; other tests start
signed in through a session cookie, which is faster and tests the same pages.
"""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "pass-word-123"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        message = "chromium is missing: apt-get install -y chromium fonts-wqy-zenhei"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """Collects what went wrong on a page; the fixture fails the test if anything did."""

    def __init__(self):
        self.problems: list[str] = []
        self.expected_statuses: set[int] = set()

    def expect_status(self, status: int) -> None:
        self.expected_statuses.add(status)

    def attach(self, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_request_failed(self, request) -> None:
        # htmx cancels a superseded live-search request (hx-sync replace): that abort is by design.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.method} {request.url} {request.failure}")

    def _on_console(self, message) -> None:
        # Chromium also logs every HTTP error as "Failed to load resource"; _on_response judges those.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console: {message.text}")

    def _on_response(self, response) -> None:
        if response.status >= 400 and response.status not in self.expected_statuses:
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")


@pytest.fixture(autouse=True)
def default_pipeline(transactional_db):
    """Live-server tests flush the database after each test, data migrations included: restore what they
    seed — the pipeline stages, the insights defaults (spend tiers, service policies, warning rules) and
    the collection policy — so a test sees the same data whichever test ran before it."""
    from importlib import import_module

    from django.apps import apps

    import_module("guanxi.sales.migrations.0002_default_stages").create_stages(apps, None)
    import_module("guanxi.insights.migrations.0002_defaults").seed(apps, None)
    import_module("guanxi.sales.migrations.0006_credit_approval_and_collection").seed_policy(apps, None)


@pytest.fixture
def watch():
    return PageWatch()


@pytest.fixture
def open_page(browser, live_server, watch, transactional_db):
    """`open_page(user=None, viewport=DESKTOP, locale="en-GB")` → a watched page in a fresh context.

    With a user, the context carries that user's session cookie (signed in already).
    """
    from django.conf import settings
    from django.test import Client

    contexts = []

    def _open(user=None, *, viewport=DESKTOP, locale="en-GB"):
        context = browser.new_context(viewport=viewport, locale=locale, base_url=live_server.url)
        context.set_default_timeout(10_000)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        watch.attach(page)
        return page

    yield _open
    for context in contexts:
        context.close()
    assert not watch.problems, "\n".join(watch.problems)


@pytest.fixture
def screenshot():
    """`screenshot(page, "customer-list", "en", "desktop")` → docs/screenshots/customer-list-en-desktop.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def _shot(page, name: str, language: str, device: str) -> Path:
        path = SCREENSHOTS / f"{name}-{language}-{device}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return _shot
