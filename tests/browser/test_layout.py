"""Right-to-left Persian first, English as a switch, a 360-pixel phone, the keyboard, contrast, our own font."""
import pytest

from tests.browser.support import PHONE, expect, needs_browser

pytestmark = needs_browser

VISITOR_SCREENS = ["/", "/apply", "/procedures", "/holidays", "/track", "/login"]

# WCAG contrast of an element's text against the first opaque background behind it
CONTRAST = """(selector) => {
  const el = document.querySelector(selector);
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let node = el;
  let bg = null;
  while (node && node.nodeType === 1) {
    const c = getComputedStyle(node).backgroundColor;
    const parts = rgb(c);
    if (parts.length === 3 || parts[3] === 1) { bg = parts.slice(0, 3); break; }
    node = node.parentElement;
  }
  bg = bg || [255, 255, 255];
  const fg = rgb(getComputedStyle(el).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


def test_right_to_left_layout(web):
    web.open("/")
    page = web.page
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "fa"
    for selector in ["body", "main", "h1", ".tile"]:
        assert page.evaluate("s => getComputedStyle(document.querySelector(s)).direction", selector) == "rtl", selector
    # text is aligned to the right: the heading's text ends at the right edge of its box and starts well inside it
    text, box = page.evaluate("""() => {
        const h1 = document.querySelector('h1');
        const range = document.createRange(); range.selectNodeContents(h1);
        const t = range.getBoundingClientRect(); const b = h1.getBoundingClientRect();
        return [[t.left, t.right], [b.left, b.right]]; }""")
    assert abs(text[1] - box[1]) < 2 and text[0] > box[0] + 40, (text, box)
    # the brand sits on the right of the bar, the menu button on the left
    brand = page.locator(".brand").bounding_box()
    menu = page.get_by_role("button", name="منو").bounding_box()
    assert brand["x"] > menu["x"] and brand["x"] + brand["width"] > PHONE["width"] - 30
    # numbered steps are counted in Persian
    assert page.evaluate("getComputedStyle(document.querySelector('.steps')).listStyleType") == "persian"


def test_english_is_a_switch_with_left_to_right_and_english_errors(web):
    web.open("/login")
    web.button("English").click()
    page = web.page
    expect(page.locator("h1")).to_have_text("Log in")
    assert page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["en", "ltr"]
    assert page.evaluate("getComputedStyle(document.querySelector('main')).direction") == "ltr"
    web.fill({"National ID (user name)": "0000000000", "Password": "wrong-password"})
    web.button("Log in").click()
    expect(page.locator("#form-login [role=alert]")).to_have_text("The national ID or password is wrong.")
    web.check_screen(lang="en").shot("english-login")
    page.get_by_role("button", name="فارسی").click()
    expect(page.locator("h1")).to_have_text("ورود به سامانه")
    assert page.evaluate("document.documentElement.dir") == "rtl"


@pytest.mark.parametrize("path", VISITOR_SCREENS)
def test_the_phone_width_has_no_horizontal_scroll(web, path):
    web.page.set_viewport_size(PHONE)
    web.open(path).check_screen().shot("visitor-" + (path.strip("/") or "home"))
    web.button("منو").click()  # the menu opened on a phone still fits
    expect(web.page.locator("#nav")).to_be_visible()
    web.check_screen()
    if path == "/":
        web.shot("visitor-menu")


def test_keyboard_reaches_the_menu_and_the_form(web):
    web.open("/track")
    page = web.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.locator("#brand").focus()
    page.keyboard.press("Tab")  # English
    page.keyboard.press("Tab")  # the menu button
    assert page.evaluate("document.activeElement.id") == "menu-toggle"
    page.keyboard.press("Enter")
    assert page.evaluate("document.getElementById('menu-toggle').getAttribute('aria-expanded')") == "true"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#nav') !== null")
    # every control of the form is reachable with Tab, in order
    page.get_by_label("کد رهگیری", exact=True).focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "mobile"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    # a visible focus ring
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_contrast_and_our_own_font(web):
    web.open("/apply")
    page = web.page
    for selector in ["h1", ".intro", ".hint", "label", "button.primary", ".brand", "#lang", ".foot p"]:
        ratio = page.evaluate(CONTRAST, selector)
        assert ratio >= 4.5, (selector, ratio)
    page.evaluate("() => document.fonts.ready")
    assert page.evaluate("document.fonts.check('16px Vazirmatn', 'خادمیار')")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("Vazirmatn")
    # every resource came from the gateway itself
    origins = page.evaluate("[...new Set(performance.getEntriesByType('resource').map(e => new URL(e.name).origin))]")
    assert origins == [web.base], origins
