"""The member's whole path in the browser: apply, be invited, attend and be activated by the office, log in and
change the first password, declare readiness, offer a service (approved by the thematic centre), become
shrine-eligible, and book a shrine shift."""
import datetime as dt
import uuid

import jdatetime
import pytest

from bench.shrine import approve_report
from kit import geo
from tests.browser.support import expect, find_card, needs_browser, persian_digits
from tests.fixtures import next_mobile, next_national_id

pytestmark = [needs_browser, pytest.mark.timeout(240)]


def jalali_in(days, hour=10):
    """A Tehran wall-clock moment ``days`` from today, typed as a person would: "۱۴۰۵/۰۹/۰۴ ۱۰:۰۰"."""
    day = jdatetime.date.fromgregorian(date=dt.date.today() + dt.timedelta(days=days))
    return persian_digits(f"{day.year}/{day.month:02d}/{day.day:02d} {hour:02d}:00")


def change_first_password(web, initial, new):
    web.at("/password")
    web.fill({"رمز عبور فعلی": initial, "رمز عبور جدید": new, "تکرار رمز عبور جدید": new})
    web.button("تغییر رمز عبور").click()
    web.at("/")


def retry_while(web, click, message, attempts=40):
    """Click again while the API answers ``message`` (an event that has not reached a service yet)."""
    for _ in range(attempts):
        click()
        web.idle()
        if not web.page.locator("[role=alert]", has_text=message).count():
            return
        web.page.wait_for_timeout(250)
    raise AssertionError(f"still {message!r}")


def test_member_from_application_to_a_booked_shift(system, api, flows, web):
    page = web.page
    county = sorted(geo.counties_of("9"))[0]
    field_id, service_id = flows.field()  # a field of its own: its thematic centre reviews only this offer
    field_name = next(f["name"] for f in api.get("/fields").json["items"] if f["id"] == field_id)
    nid, mobile = next_national_id(), next_mobile()

    # 1. a visitor applies, typing Persian digits
    web.open("/apply")
    web.fill({"کد ملی": persian_digits(nid), "نام": "مریم", "نام خانوادگی": "حسینی", "نام پدر": "محمد",
              "جنسیت": "female", "تاریخ تولد": "۱۳۷۲/۰۶/۱۵", "شماره همراه": persian_digits(mobile),
              "میزان تحصیلات": "bachelor", "استان": "9"})
    page.wait_for_function("c => [...document.querySelector('#form-apply [name=county]').options]"
                           ".some(o => o.value === c)", arg=county)
    web.fill({"شهرستان": county, "نشانی": "مشهد، بلوار سجاد، پلاک ۷"})
    web.check_screen().shot("01-apply")
    web.button("ثبت نام").click()
    expect(page.locator(".result .notice.ok")).to_contain_text("درخواست عضویت شما ثبت شد.")
    web.shot("02-applied")

    # 2. the provincial office: orientation, invitation, attendance, activation with the one-time password
    office = flows.staff_account("province_office", "9")
    web.login(office["national_id"], office["password"])
    web.at("/")
    web.open("/applications")
    page.locator("summary", has_text="تعریف جلسه").click()
    web.fill({"زمان جلسه": jalali_in(3), "مکان": "دفتر نمایندگی مشهد", "ظرفیت": "۵۰"})
    web.button("تعریف جلسه توجیهی").click()
    expect(web.notice()).to_contain_text("جلسه توجیهی تعریف شد")
    card = find_card(web, persian_digits(nid))
    web.button("دعوت به جلسه توجیهی", card).click()
    expect(web.notice()).to_contain_text("متقاضی دعوت شد")
    page.get_by_label("وضعیت", exact=True).select_option("invited")
    web.idle()
    web.button("ثبت حضور در جلسه", find_card(web, persian_digits(nid))).click()
    expect(web.notice()).to_contain_text("حضور ثبت شد")
    page.get_by_label("وضعیت", exact=True).select_option("attended")
    web.idle()
    card = find_card(web, persian_digits(nid))
    web.button("فعال‌سازی و صدور رمز اولیه", card).click()
    secret = card.locator("output.secret")
    expect(secret).to_be_visible()
    initial = secret.inner_text().strip()
    expect(card).to_contain_text("فقط یک بار نمایش داده می‌شود")
    web.check_screen().shot("03-office-activation")

    # 3. the member logs in and must change the first password
    web.button("منو").click()  # on a phone the menu (and the log-out button in it) is folded
    web.button("خروج").click()
    web.login(nid, initial)
    password = "khadem-" + uuid.uuid4().hex[:10]
    web.check_screen().shot("04-first-password")
    change_first_password(web, initial, password)
    expect(page.locator("h1")).to_have_text("خانه من")
    expect(page.locator("main")).to_contain_text("مریم حسینی عزیز")
    expect(page.locator("main")).to_contain_text("هنوز اعلام آمادگی نکرده‌اید")

    # 4. readiness (اعلام آمادگی): province and county come from the membership; the field is chosen
    web.open("/readiness")
    expect(web.field("استان")).to_have_value("9")
    expect(web.field("شهرستان")).to_have_value(county)
    web.fill({"عرصه خدمت": field_id})
    retry_while(web, web.button("ذخیره").click, "هنوز به بخش عرصه‌ها و خدمات نرسیده")
    expect(web.notice()).to_contain_text("اعلام آمادگی ذخیره شد")
    expect(page.locator(".card", has_text="اعلام آمادگی فعلی")).to_contain_text(field_name)

    # 5. an offer of service, at most two at a time
    web.fill({"خدمت": service_id, "نحوه انجام خدمت": "همراهی سالمندان برای مراجعه به درمانگاه",
              "زمان‌های در دسترس": "شنبه‌ها عصر", "تلفن تماس": "۰۹۱۵۱۲۳۴۵۶۷"})
    web.button("ثبت خدمت").click()
    expect(web.notice()).to_contain_text("خدمت شما ثبت شد")
    mine = page.locator(".card", has_text="در انتظار بررسی کانون موضوعی")
    expect(mine).to_contain_text("۰۹۱۵۱۲۳۴۵۶۷")
    web.check_screen().shot("05-readiness-and-offer")

    # 6. the office creates the county's thematic centre of that field; it approves the offer
    web.use_token(office["token"])
    web.open("/staff")
    thematic_nid = next_national_id()
    web.fill({"نقش": "thematic_center", "کد ملی": thematic_nid, "نام": "کانون", "نام خانوادگی": "موضوعی",
              "شماره همراه": next_mobile()})
    page.wait_for_function("c => [...document.querySelector('#form-staff [name=county]').options]"
                           ".some(o => o.value === c)", arg=county)
    expect(web.field("استان")).to_be_disabled()  # an office creates accounts of its own province only
    web.fill({"شهرستان": county, "عرصه (کانون موضوعی)": field_id})
    expect(web.field("نام کانون")).to_be_hidden()
    web.button("ایجاد حساب").click()
    thematic_initial = page.locator("output.secret").inner_text().strip()
    web.check_screen().shot("06-office-staff-account")
    web.logout()
    web.login(thematic_nid, thematic_initial)
    change_first_password(web, thematic_initial, "thematic-" + uuid.uuid4().hex[:8])
    web.open("/review-offers")
    offer = find_card(web, "همراهی سالمندان")
    web.check_screen().shot("07-thematic-review")
    web.button("تأیید", offer).click()
    expect(web.notice()).to_contain_text("خدمت تأیید شد")
    token = flows.login(nid, password)
    [approved] = api.get("/me/offers", token=token).json["items"]
    assert approved["status"] == "approved"

    # 7. the first approved report makes the member shrine-eligible (the event reporting publishes)
    member_id = api.get("/me", token=token).json["profile"]["id"]
    approve_report(flows.event_publisher(system.config), member_id)
    for _ in range(80):
        if api.get("/shrine/eligibility", token=token).json["eligible"]:
            break
        page.wait_for_timeout(250)
    post = f"صحن گوهرشاد {uuid.uuid4().hex[:4]}"
    starts = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=4)
    shift = api.post("/shrine/shifts", {"shifts": [{"starts_at": starts.isoformat(), "post": post, "capacity": 3,
                                                    "ends_at": (starts + dt.timedelta(hours=3)).isoformat()}]},
                     token=flows.cached_staff("shrine_office", "9"))
    assert shift.status == 201, shift

    # 8. the member books the shift and sees it, with the places left
    web.use_token(token)
    web.open("/shrine")
    expect(page.locator("#eligibility")).to_contain_text("واجد شرایط کشیک حرم مطهر")
    upcoming = page.locator("section", has_text="کشیک‌های پیش رو")
    card = find_card(web, post, upcoming)
    expect(card).to_contain_text(f"{persian_digits(3)} از {persian_digits(3)}")
    web.button("رزرو این کشیک", card).click()
    expect(web.notice()).to_have_text("کشیک برای شما رزرو شد.")
    expect(find_card(web, post, upcoming)).to_contain_text(f"{persian_digits(2)} از {persian_digits(3)}")
    booked = page.locator("section", has_text="کشیک‌های من").locator(".card", has_text=post)
    expect(booked).to_contain_text("رزرو شده")
    web.check_screen().shot("08-shrine-booked")
    web.open("/")
    expect(page.locator("section", has_text="کشیک حرم مطهر")).to_contain_text(post)
    web.check_screen().shot("09-member-home")
    [booking] = [b for b in api.get("/shrine/bookings", token=token).json["items"] if b["post"] == post]
    assert booking["status"] == "booked"
