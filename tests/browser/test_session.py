"""Signing in and out: roles decide the screens, and an expired token sends the person to log in again without
losing what they typed."""
import re
import time

import jwt

from tests.browser.support import TOKEN_KEY, expect, needs_browser
from tests.fixtures import next_mobile, next_national_id

pytestmark = needs_browser


def expired(system, token):
    """The same person's token, as it will be once its time is up (signed with the gateway's real secret)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200, exp=int(time.time()) - 60)
    return jwt.encode(claims, system.config["JWT_SECRET"], algorithm="HS256")


def test_an_expired_token_sends_to_login_and_keeps_what_was_typed(web, system, flows, office):
    member = flows.member(office["9"])
    web.login(member["national_id"], member["password"])
    web.at("/")
    web.open("/suggestions")
    web.fill({"عنوان": "ایستگاه صلواتی در محله",
              "شرح پیشنهاد": "برپایی ایستگاه صلواتی با همراهی خادمیاران محله در دهه کرامت"})
    # the token runs out while the member is still typing
    web.page.evaluate("([k, t]) => sessionStorage.setItem(k, t)", [TOKEN_KEY, expired(system, member["token"])])
    web.button("ثبت پیشنهاد").click()
    web.at("/login")
    expect(web.page.locator("main .notice.warn")).to_contain_text("دوباره وارد شوید")
    web.check_screen().shot("session-expired")
    web.fill({"کد ملی (نام کاربری)": member["national_id"], "رمز عبور": member["password"]})
    web.button("ورود").click()
    web.at("/suggestions")  # back where they were, with what they had typed
    expect(web.field("عنوان")).to_have_value("ایستگاه صلواتی در محله")
    expect(web.field("شرح پیشنهاد")).to_have_value(re.compile("دهه کرامت$"))
    web.button("ثبت پیشنهاد").click()
    expect(web.notice()).to_contain_text("کد رهگیری")
    expect(web.page.locator(".card", has_text="ایستگاه صلواتی در محله")).to_contain_text("پیشنهاد و ابتکار")
    # a sent form leaves no draft behind
    assert web.page.evaluate("() => Object.keys(sessionStorage).filter((k) => k.includes('suggestion'))") == []


def test_screens_follow_the_role_in_the_token(web, flows, office):
    web.use_token(office["9"])
    web.open("/")
    menu = web.page.locator("#nav-list")
    expect(menu).to_contain_text("درخواست‌های عضویت")
    expect(menu).to_contain_text("کارنامه میز خدمت")
    expect(menu).not_to_contain_text("کشیک حرم مطهر")
    web.check_screen().shot("office-home")
    web.open("/shrine")  # a member's screen: not for an office
    expect(web.page.locator("h1")).to_have_text("پیدا نشد")
    web.logout()
    web.open("/readiness")  # a visitor asking for a member's screen is asked to log in first
    web.at("/login")


def test_the_first_password_must_change_before_anything_else(web, flows):
    nid = next_national_id()
    created = flows.api.post("/staff", {"national_id": nid, "first_name": "رضا", "last_name": "کاظمی",
                                        "mobile": next_mobile(), "role": "desk_officer", "province": "9"},
                             token=flows.admin())
    assert created.status == 201, created
    web.login(nid, created.json["initial_password"])
    web.at("/password")
    expect(web.page.locator("main .notice.warn")).to_contain_text("رمز عبور اولیه را تغییر دهید")
    web.open("/desk-tickets")  # nothing else opens until it is changed
    web.at("/password")
    web.fill({"رمز عبور فعلی": created.json["initial_password"], "رمز عبور جدید": "کوتاه",
              "تکرار رمز عبور جدید": "کوتاه"})
    web.button("تغییر رمز عبور").click()  # too short: the API's words, next to the field
    expect(web.page.locator("#form-password")).to_contain_text("دست‌کم ۸ نویسه")
    web.fill({"رمز عبور جدید": "desk-officer-2026", "تکرار رمز عبور جدید": "desk-officer-2025"})
    web.button("تغییر رمز عبور").click()  # the two differ: said before asking the API
    expect(web.page.locator("#form-password .field-error", has_text="یکی نیست")).to_be_visible()
    web.fill({"رمز عبور جدید": "desk-officer-2026", "تکرار رمز عبور جدید": "desk-officer-2026"})
    web.button("تغییر رمز عبور").click()
    web.at("/")
    expect(web.page.locator("#nav-list")).to_contain_text("ثبت درخواست مراجعه‌کننده")
    assert flows.login(nid, "desk-officer-2026")
