"""Every screen of every role draws on a phone: no script error, no refusal from the API, labels, no overflow."""
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
