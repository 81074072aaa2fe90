"""Browser tests of the web client: Playwright (sync API) driving Debian's Chromium against the live `system`.

They need the python package ``playwright`` and ``/usr/bin/chromium`` (``scripts/ensure_browser.py`` installs
both); without them they are skipped, with the reason. They run on one backend, SQLite: the client does not care
which database is behind the gateway. ``WEB_SCREENSHOTS=docs/screenshots`` saves the phone-width screenshots.
"""
import pytest

from tests.browser.support import CHROMIUM, CHROMIUM_ARGS, PHONE, TIMEOUT_MS, Web, missing_browser


@pytest.fixture(autouse=True)
def _sqlite_only(request):
    """One backend is enough: the client does not see the database. Only tests that start the system are asked."""
    if "system" in request.fixturenames and request.getfixturevalue("system").backend != "sqlite":
        pytest.skip("browser tests run on one backend (sqlite)")


@pytest.fixture(scope="session")
def browser():
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    # Not playwright.stop(): under eventlet's monkey-patching it waits forever for the driver's exit status (asyncio's
    # child watcher never hears of it). The driver ends by itself when this process exits and its pipe closes.
    del playwright


@pytest.fixture
def web(browser, system):
    context = browser.new_context(viewport=PHONE, locale="fa-IR", timezone_id="Asia/Tehran",
                                  device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    tab = Web(context.new_page(), system.url)
    yield tab
    context.close()
    assert not tab.errors, f"errors in the page: {tab.errors}"
