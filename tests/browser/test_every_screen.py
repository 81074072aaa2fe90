"""Every screen of every role draws on a phone: no script error, no refusal from the API, labels, no overflow; and
the screens reached by links (a review case, a member's standing) as well."""
import pytest

from kit import geo
from tests.browser.support import needs_browser

pytestmark = [needs_browser, pytest.mark.timeout(180)]

COUNTY = sorted(geo.counties_of("9"))[0]


def tokens(flows, office):
    field, _ = flows.shared_field()
    return {
        "member": flows.member(office["9"])["token"],
        "admin": flows.admin(),
        "province_office": office["9"],
        "thematic_center": flows.cached_staff("thematic_center", "9", county=COUNTY, field=field),
        "neighborhood_center": flows.cached_staff("neighborhood_center", "9", county=COUNTY, center="کانون محله طلاب"),
        "supervisor": flows.cached_staff("supervisor", "9", county=COUNTY, center="کانون محله طلاب"),
        "shrine_office": flows.cached_staff("shrine_office", "9"),
        "desk_officer": flows.cached_staff("desk_officer", "9"),
        "unit_officer": flows.cached_staff("unit_officer", "9", unit="واحد زیارت"),
    }


def test_every_screen_of_every_role_draws(web, flows, office):
    seen = {}
    for role, token in tokens(flows, office).items():
        web.logout()
        web.use_token(token)
        web.open("/")
        paths = web.page.eval_on_selector_all("#nav-list a", "links => links.map((a) => a.getAttribute('href').slice(1))")
        assert paths, role
        for path in paths:
            web.open(path).check_screen()
            refusals = web.page.locator("main [role=alert]").all_inner_texts()
            assert refusals == [], (role, path, refusals)
            assert web.page.locator("h1").inner_text() not in ("پیدا نشد", "")
        seen[role] = paths
    # each role has its own screens, and only them
    assert "/applications" in seen["province_office"] and "/applications" not in seen["member"]
    assert "/fields" in seen["admin"] and "/fields" not in seen["province_office"]
    assert seen["thematic_center"][:2] == ["/", "/review-offers"]
    assert "/shifts" in seen["shrine_office"] and "/shrine" in seen["member"]
    assert "/desk-new" in seen["desk_officer"] and "/desk-new" not in seen["unit_officer"]
    # staying active: the member reads lessons; the office publishes (admin) or lists them, meetings and reviews
    assert "/training" in seen["member"] and "/training" in seen["admin"] and "/training" in seen["province_office"]
    for path in ("/meetings", "/reviews"):
        assert path in seen["admin"] and path in seen["province_office"] and path not in seen["member"], path
    assert all("/training" not in seen[role] for role in ("thematic_center", "desk_officer", "shrine_office"))
    # the official holidays: in the menus of the office and the desk; anyone may open them
    assert "/holidays" in seen["admin"] and "/holidays" in seen["desk_officer"] and "/holidays" not in seen["member"]


def test_the_screens_behind_links_draw(web, api, flows, office):
    """Screens reached from a list, not the menu: a review case and a member's standing; the holidays for a member."""
    member = flows.member(office["9"])
    case = api.post(f"/members/{member['id']}/breaches", {"note": "تأخیر مکرر در حضور"}, token=office["9"])
    assert case.status == 201, case
    web.use_token(office["9"])
    for path in (f"/reviews/{case.json['review_id']}", f"/members/{member['id']}"):
        web.open(path).check_screen()
        assert web.page.locator("main [role=alert]").all_inner_texts() == [], path
        assert web.page.locator("h1").inner_text() not in ("پیدا نشد", "")
    web.logout()
    web.use_token(member["token"])
    for path in ("/", "/training", "/holidays"):
        web.open(path).check_screen()
        assert web.page.locator("main [role=alert]").all_inner_texts() == [], path
    web.open(f"/reviews/{case.json['review_id']}")  # an office's screen: not for a member
    assert web.page.locator("h1").inner_text() == "پیدا نشد"
