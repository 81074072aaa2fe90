"""What the browser tests share: whether a browser is here, how it is launched, and a tab on the web client."""
import os
import re

import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 740}
SCREENSHOTS = os.environ.get("WEB_SCREENSHOTS")
TIMEOUT_MS = 15_000
TOKEN_KEY = "khademyar.token"  # where web/static/js/core/session.js keeps the bearer token


def missing_browser():
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the python package playwright is not installed (run: python scripts/ensure_browser.py)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (run: python scripts/ensure_browser.py, which installs Debian's chromium)"
    return None


REASON = missing_browser()
needs_browser = pytest.mark.skipif(REASON is not None, reason=REASON or "")

# Every form control has a label, the page says its language and direction, nothing is wider than the phone.
SCREEN_CHECK = """() => {
  const unlabelled = [...document.querySelectorAll('input, select, textarea')]
    .filter((e) => e.type !== 'hidden' && !e.labels.length && !e.getAttribute('aria-label'))
    .map((e) => e.name || e.id || e.outerHTML.slice(0, 60));
  return { unlabelled, width: document.documentElement.scrollWidth, lang: document.documentElement.lang,
           dir: document.documentElement.dir, h1: document.querySelectorAll('h1').length };
}"""


class Web:
    """One browser tab on the web client, at phone width, with the steps the tests share."""

    def __init__(self, page, base):
        self.page = page
        self.base = base
        self.errors = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # a 4xx answer is logged by Chromium as "Failed to load resource": that is the API speaking, not a bug
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" and not
                re.search(r"status of 4\d\d", msg.text) else None)

    # -- moving around
    def open(self, path="/"):
        """Go to #path and wait until its screen has drawn."""
        if self.page.url.startswith(self.base):
            before = self.page.evaluate("document.getElementById('main').dataset.ready || ''")
            self.page.evaluate("p => { if (location.hash === '#' + p) window.dispatchEvent(new HashChangeEvent('hashchange'));"
                               " else location.hash = '#' + p; }", path)
        else:
            before = ""
            self.page.goto(f"{self.base}/#{path}")
        self.page.wait_for_function("b => { const r = document.getElementById('main').dataset.ready;"
                                    " return r && r !== b; }", arg=before)
        return self.idle()

    def idle(self):
        """Wait until no API answer is awaited (the client marks <main aria-busy> meanwhile), twice in a row.

        Not Playwright's "networkidle": under eventlet's monkey-patching that wait never returns."""
        for _ in range(2):
            self.page.wait_for_function("() => !document.getElementById('main').hasAttribute('aria-busy')")
            self.page.wait_for_timeout(60)
        return self

    def at(self, path):
        """Wait until a navigation the page made itself (after a login, a redirect) has drawn ``path``."""
        self.page.wait_for_function("p => location.hash === '#' + p && document.getElementById('main').dataset.ready",
                                    arg=path)
        return self.idle()

    def use_token(self, token):
        """Be signed in as the token's person (as the login screen would leave it)."""
        if not self.page.url.startswith(self.base):
            self.page.goto(f"{self.base}/#/")
        # as a fresh tab would: the token, and no message left over from the previous person
        self.page.evaluate("([k, t]) => { sessionStorage.setItem(k, t); document.getElementById('flash').replaceChildren(); }",
                           [TOKEN_KEY, token])
        return self

    def login(self, national_id, password):
        self.open("/login")
        self.fill({"کد ملی (نام کاربری)": national_id, "رمز عبور": password})
        self.button("ورود").click()

    def logout(self):
        """Forget the token and the drafts, as closing the tab would."""
        if self.page.url.startswith(self.base):
            self.page.evaluate("() => sessionStorage.clear()")

    # -- finding and filling
    def field(self, label, scope=None):
        return (scope or self.page).get_by_label(label, exact=True)

    def fill(self, values, scope=None):
        for label, value in values.items():
            target = self.field(label, scope)
            if target.evaluate("e => e.tagName") == "SELECT":
                target.select_option(**value) if isinstance(value, dict) else target.select_option(value)
            else:
                target.fill(value)

    def button(self, name, scope=None):
        return (scope or self.page).get_by_role("button", name=name, exact=True)

    def card(self, text):
        """The card (or disclosure) holding ``text``."""
        return self.page.locator(".card", has_text=text).first

    def notice(self):
        return self.page.locator("#flash .notice")

    # -- checks every screen should pass
    def check_screen(self, lang="fa"):
        state = self.page.evaluate(SCREEN_CHECK)
        assert state["unlabelled"] == [], f"form controls without a label: {state['unlabelled']}"
        assert state["width"] <= PHONE["width"], f"the page is {state['width']}px wide on a {PHONE['width']}px phone"
        assert (state["lang"], state["dir"]) == ((lang, "rtl") if lang == "fa" else (lang, "ltr"))
        assert state["h1"] == 1
        return self

    def shot(self, name):
        """Save a screenshot for docs/screenshots when WEB_SCREENSHOTS names the folder."""
        if SCREENSHOTS:
            os.makedirs(SCREENSHOTS, exist_ok=True)
            self.idle()
            self.page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)
        return self


def expect(target):
    """Playwright's auto-waiting assertions (imported only when a browser test runs), patient as the rest: an
    answer that crosses the broker twice on a busy machine may take longer than Playwright's default 5 s."""
    from playwright.sync_api import expect as playwright_expect
    playwright_expect.set_options(timeout=TIMEOUT_MS)
    return playwright_expect(target)


def persian_digits(text):
    return str(text).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def jalali(iso_date, persian=True):
    """The Jalali date of an ISO date ("2026-11-22" -> "۱۴۰۵/۰۹/۰۱"), as the client shows it."""
    import datetime as dt

    import jdatetime
    day = jdatetime.date.fromgregorian(date=dt.date.fromisoformat(iso_date[:10]))
    text = f"{day.year}/{day.month:02d}/{day.day:02d}"
    return persian_digits(text) if persian else text


def find_card(web, text, scope=None, max_pages=30):
    """The card holding ``text`` in a paged list, clicking "show more" until it appears."""
    scope = scope or web.page
    card = scope.locator(".card", has_text=text).first
    more = scope.get_by_role("button", name="نمایش بیشتر")
    for _ in range(max_pages):
        web.idle()
        if card.count():
            return card
        if not more.is_visible():
            break
        more.click()
    raise AssertionError(f"no card with {text!r}")
