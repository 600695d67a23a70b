"""Browser tests: the portal served on 127.0.0.1 from a copy of the demo database, driven
by Playwright in Debian's chromium (``playwright install`` cannot download browsers here).

Every test in this folder is marked ``browser``. Without /usr/bin/chromium they are skipped
on a developer's machine and fail in CI (CI=true), where .ci/run installs it.
"""
from __future__ import annotations

from urllib.parse import urlparse

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, _app_on_copy

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DEMO_PASSWORD = "Demo@2026!"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is not installed (apt-get install chromium fonts-noto-cjk)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live(database, demo_template):
    """The portal on a fresh copy of the demo archive, served on 127.0.0.1."""
    for app in _app_on_copy(database, demo_template):
        server = LiveServer(app)
        try:
            yield server
        finally:
            server.stop()


def open_session(browser, live, username, password=DEMO_PASSWORD, locale="zh-CN"):
    context = browser.new_context(viewport={"width": 1500, "height": 900}, locale=locale,
                                  accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page = context.new_page()
    page.set_default_timeout(10000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live.url}/login/")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("[type=submit]")
    page.wait_for_load_state()
    page.js_errors = errors
    return page


def guard_offline(page):
    """Make any request to a host but 127.0.0.1 fail (answered with an error, never sent) and
    record it in ``page.external``, with the attempts the Content-Security-Policy refused
    before they were made (neither the route nor a request listener sees those)."""
    external = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            external.append(route.request.url)
            route.abort()

    page.context.route("**/*", guard)
    page.context.on("request", lambda r: None if urlparse(r.url).hostname in ("127.0.0.1", None)
                    or r.url.startswith(("data:", "blob:")) else external.append(r.url))
    page.on("console", lambda m: external.append(f"CSP: {m.text}") if "Content Security Policy" in m.text else None)
    page.external = external
    return page



@pytest.fixture
def clerk_page(browser, live):
    page = open_session(browser, live, "clerk", PASSWORD)
    yield page
    assert not page.js_errors, page.js_errors
    page.context.close()
