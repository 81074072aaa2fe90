"""The offices' and centres' screens in the browser: reserving and answering, reporting and approving, shrine
shifts and attendance, the desk's tickets and the scorecard with its chart."""
import datetime as dt
import time
import uuid

import jdatetime
import pytest

from services.shrine.models import bookings, shifts
from tests.browser.support import expect, find_card, jalali, needs_browser, persian_digits
from tests.fixtures import next_mobile, next_national_id

pytestmark = [needs_browser, pytest.mark.timeout(180)]


def typed(moment):
    """A Tehran moment as a person types it, in Jalali with Persian digits: "۱۴۰۵/۰۹/۰۴ ۱۰:۰۰"."""
    local = moment.astimezone(dt.timezone(dt.timedelta(hours=3, minutes=30)))
    day = jdatetime.date.fromgregorian(date=local.date())
    return persian_digits(f"{day.year}/{day.month:02d}/{day.day:02d} {local:%H:%M}")


def start_shift_now(system, shift_id):
    """Move the clock, as far as one shift is concerned: it began five minutes ago (attendance opens)."""
    from sqlalchemy import update
    starts = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    window = {"starts_at": starts, "ends_at": starts + dt.timedelta(hours=3)}
    with system.database("shrine").engine.begin() as conn:
        conn.execute(update(shifts).where(shifts.c.id == shift_id).values(**window))
        conn.execute(update(bookings).where(bookings.c.shift_id == shift_id).values(**window))


def submit_until(web, button, done, attempts=40):
    """Submit until ``done`` shows: events that feed the next service may not have arrived yet."""
    for _ in range(attempts):
        button.click()
        web.idle()
        if done.count():
            return
        web.page.wait_for_timeout(250)
    raise AssertionError("the form never succeeded")


def test_a_centre_reserves_an_offer_and_the_member_accepts(web, api, flows, office):
    v = flows.approved_offer(office["9"], field=flows.field())
    service = api.get(f"/offers/{v['offer']}", token=v["token"]).json["service_name"]
    centre = flows.cached_staff("neighborhood_center", "9", county=v["county"], center="کانون محله امام رضا")
    web.use_token(centre)
    web.open("/beneficiaries")
    person = f"فاطمه کریمی {uuid.uuid4().hex[:4]}"
    web.fill({"نام و نام خانوادگی": person, "نیازها": "همراهی تا درمانگاه", "نشانی": "مشهد، خیابان طبرسی",
              "تلفن": "۰۵۱۳۸۰۰۱۲۳۴"})
    web.button("ثبت نیازمند").click()
    expect(find_card(web, person)).to_contain_text("همراهی تا درمانگاه")
    web.check_screen().shot("centre-beneficiaries")

    web.open("/reserve")
    card = find_card(web, service)
    card.locator("summary").click()
    starts = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) + dt.timedelta(days=2)
    web.fill({"نیازمند": {"label": person}, "از": typed(starts), "تا": typed(starts + dt.timedelta(hours=2)),
              "مکان": "درمانگاه محله"}, card)
    submit_until(web, web.button("رزرو و دعوت از خادمیار", card),
                 web.page.locator("#flash .notice", has_text="از خادمیار دعوت شد"))
    web.check_screen().shot("centre-reserve")

    web.logout()
    web.use_token(v["token"])
    web.open("/invitations")
    invitation = find_card(web, service)
    expect(invitation).to_contain_text("دعوت شده")
    expect(invitation).to_contain_text(typed(starts))
    web.check_screen().shot("member-invitation")
    web.button("می‌پذیرم", invitation).click()
    expect(find_card(web, service)).to_contain_text("پذیرفته شده")
    [reservation] = [r for r in api.get("/me/reservations", token=v["token"]).json["items"] if r["place"] == "درمانگاه محله"]
    assert reservation["status"] == "accepted"


def test_a_member_reports_and_the_supervisor_approves(web, api, flows, office):
    v = flows.accepted_reservation(office["9"], field=flows.field(), center="کانون محله نوغان")
    service = api.get(f"/reservations/{v['reservation']}", token=v["token"]).json["service_name"]
    while dt.datetime.now(dt.timezone.utc) <= v["starts_at"]:  # a report is filed once the service has begun
        time.sleep(0.2)
    web.use_token(v["token"])
    web.open("/reports")
    today = jalali(dt.datetime.now(dt.timezone(dt.timedelta(hours=3, minutes=30))).date().isoformat())
    web.fill({"خدمت انجام شده": v["reservation"], "تاریخ انجام": today, "مدت (ساعت)": "۲٫۵",
              "شرح آنچه انجام شد": "همراهی نیازمند تا درمانگاه و بازگشت به منزل"})
    web.check_screen().shot("member-report")
    submit_until(web, web.button("ثبت گزارش خدمت"), web.page.locator("#flash .notice", has_text="گزارش خدمت ثبت شد"))
    expect(find_card(web, service)).to_contain_text("در انتظار بررسی ناظر")
    expect(find_card(web, service)).to_contain_text(persian_digits("2.5").replace(".", "٫"))

    supervisor = flows.cached_staff("supervisor", "9", county=v["county"], center="کانون محله نوغان")
    web.logout()
    web.use_token(supervisor)
    web.open("/review-reports")
    report = find_card(web, service)
    expect(report).to_contain_text("همراهی نیازمند تا درمانگاه")
    web.check_screen().shot("supervisor-review")
    web.button("تأیید گزارش", report).click()
    expect(web.notice()).to_contain_text("گزارش تأیید شد")
    [mine] = api.get("/me/reports", token=v["token"]).json["items"]
    assert mine["status"] == "approved" and mine["hours"] == 2.5


def test_the_shrine_office_publishes_a_shift_and_records_attendance(web, api, flows, system):
    office = flows.cached_staff("shrine_office", "9")
    web.use_token(office)
    web.open("/shifts")
    post = f"باب الجواد {uuid.uuid4().hex[:4]}"
    starts = dt.datetime.now(dt.timezone.utc).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=5)
    web.fill({"محل کشیک": post, "آغاز": typed(starts), "پایان": typed(starts + dt.timedelta(hours=3)),
              "ظرفیت": "۲", "ویژه": "female"})
    web.button("انتشار کشیک").click()
    expect(web.notice()).to_contain_text("کشیک منتشر شد")
    shift = find_card(web, post)
    expect(shift).to_contain_text(f"{persian_digits(0)} از {persian_digits(2)}")
    expect(shift).to_contain_text("زن")
    [item] = [s for s in api.get("/shrine/shifts", token=office).json["items"] if s["post"] == post]
    assert item["starts_at"][:16] == starts.isoformat()[:16] and item["gender"] == "female"

    [member] = flows.shrine_members(system.config, 1)
    assert api.post(f"/shrine/shifts/{item['id']}/bookings", token=member["token"]).status == 201
    web.open("/shifts")
    shift = find_card(web, post)
    web.button("فهرست کشیک و حضور و غیاب", shift).click()
    row = shift.locator(".roster .row")
    expect(row).to_have_count(1)
    web.button("حاضر", row).click()  # too early: the API's own words say so
    expect(shift.locator("[role=alert]")).to_contain_text("از آغاز کشیک")
    start_shift_now(system, item["id"])
    web.button("حاضر", row).click()
    expect(row.locator(".badge")).to_have_text("حاضر")
    web.check_screen().shot("shrine-office")
    [booking] = api.get(f"/shrine/shifts/{item['id']}/bookings", token=office).json["items"]
    assert booking["present"] is True


def test_the_desk_records_a_request_and_the_office_sees_the_scorecard(web, api, flows, office):
    title = f"ثبت نام کاروان زیارتی {uuid.uuid4().hex[:4]}"
    assert api.post("/desk/procedures", {"title": title, "unit": "واحد عتبات", "conditions": "کارت ملی معتبر",
                                         "required_documents": ["کارت ملی"], "steps": ["دریافت مدارک", "ثبت"],
                                         "standard_days": 5, "fee": 0}, token=office["9"]).status == 201
    desk = flows.cached_staff("desk_officer", "9")
    web.use_token(desk)
    web.open("/desk-new")
    mobile = next_mobile()
    web.fill({"فرآیند": {"label": f"{title} — واحد عتبات"}, "نام مراجعه‌کننده": "حسن رضایی",
              "کد ملی مراجعه‌کننده": persian_digits(next_national_id()), "شماره همراه مراجعه‌کننده": persian_digits(mobile),
              "شرح درخواست": "ثبت نام برای کاروان"})
    web.page.get_by_label("کارت ملی", exact=True).check()
    web.button("ثبت درخواست و صدور کد رهگیری").click()
    code = web.page.locator("output.secret")
    expect(code).to_be_visible()
    web.check_screen().shot("desk-new-ticket")
    tracking = code.inner_text().replace("-", "")
    assert api.get(f"/desk/tickets/{tracking}?mobile={mobile}").json["status"] == "open"

    web.open("/desk-tickets")
    ticket = find_card(web, tracking)
    ticket.locator("summary", has_text="ارجاع به واحد").click()
    web.button("ارجاع", ticket).click()
    expect(web.notice()).to_contain_text("ارجاع شد")
    assert api.get(f"/desk/tickets/{tracking}?mobile={mobile}").json["status"] == "referred"

    web.logout()
    web.use_token(office["9"])
    web.open("/scorecard")
    chart = web.page.locator("svg.chart")
    expect(chart).to_be_visible()
    assert chart.locator("rect.bar").count() >= 4
    assert "درخواست‌های میز خدمت" in chart.get_attribute("aria-label")
    expect(web.page.locator(".kpis")).to_contain_text("دریافت شده")
    web.check_screen().shot("office-scorecard")


def test_a_thematic_centre_rejects_an_offer_with_a_reason(web, api, flows, office):
    v = flows.volunteer(office["9"], field=flows.field())
    offer = api.post("/me/offers", {"service": v["service"], "details": "آموزش قرآن به کودکان محله",
                                    "phone": "09151234567"}, token=v["token"])
    assert offer.status == 201, offer
    web.use_token(flows.cached_staff("thematic_center", "9", county=v["county"], field=v["field"]))
    web.open("/review-offers")
    card = find_card(web, "آموزش قرآن به کودکان")
    card.locator("summary", has_text="رد").click()
    web.fill({"دلیل رد": "مدارک تخصصی آموزش قرآن ارائه نشده است."}, card)
    web.button("رد", card).click()
    expect(web.notice()).to_contain_text("خدمت رد شد")
    web.logout()
    web.use_token(v["token"])
    web.open("/readiness")
    mine = find_card(web, "آموزش قرآن به کودکان")
    expect(mine).to_contain_text("رد شده")
    expect(mine).to_contain_text("مدارک تخصصی آموزش قرآن ارائه نشده است.")
