"""What a visitor does without an account: track a desk ticket, read the procedures, and meet the API's errors."""
import uuid

from tests.browser.support import expect, jalali, needs_browser, persian_digits
from tests.fixtures import next_mobile, next_national_id

pytestmark = needs_browser


def desk_ticket(api, flows, office, mobile):
    title = f"صدور کارت زائر {uuid.uuid4().hex[:6]}"
    p = api.post("/desk/procedures", {"title": title, "unit": "واحد زیارت", "conditions": "داشتن کارت ملی معتبر",
                                      "required_documents": ["کارت ملی", "عکس"], "steps": ["دریافت مدارک", "بررسی", "صدور"],
                                      "standard_days": 3, "fee": 0}, token=office["9"])
    assert p.status == 201, p
    desk = flows.cached_staff("desk_officer", "9")
    t = api.post("/desk/tickets", {"procedure": p.json["id"], "documents_received": ["کارت ملی", "عکس"],
                                   "visitor": {"full_name": "علی محمدی", "national_id": next_national_id(),
                                               "mobile": mobile}, "description": "درخواست کارت زائر"}, token=desk)
    assert t.status == 201, t
    return title, t.json


def test_a_visitor_tracks_a_ticket_with_its_code_and_mobile(web, api, flows, office):
    mobile = next_mobile()
    title, ticket = desk_ticket(api, flows, office, mobile)
    web.open("/track").check_screen()
    # as the visitor would type it: the printed code in lower case, the mobile in Persian digits
    web.fill({"کد رهگیری": ticket["tracking_code_display"].lower(), "شماره همراه": persian_digits(mobile)})
    web.shot("visitor-track")
    web.button("پیگیری").click()
    result = web.page.locator(".result .card")
    expect(result).to_contain_text("در حال بررسی در میز خدمت")
    expect(result).to_contain_text(title)
    expect(result).to_contain_text(jalali(ticket["due_date"]))  # the promised date, Jalali, Persian digits
    expect(result).to_contain_text("میز خدمت درخواست شما را بررسی می‌کند.")
    web.check_screen().shot("visitor-track")

    # a wrong mobile: the API's own Persian message, shown as it comes
    wrong = "0912" + str(int(mobile[4:]) + 1).zfill(7)[-7:]
    expected = api.get(f"/desk/tickets/{ticket['tracking_code']}?mobile={wrong}").json["detail"]
    web.fill({"شماره همراه": wrong})
    web.button("پیگیری").click()
    expect(web.page.locator("#form-track [role=alert]")).to_have_text(expected)


def test_the_procedures_are_public(web, api, flows, office):
    title, _ = desk_ticket(api, flows, office, next_mobile())
    web.open("/procedures")
    item = web.page.locator("details", has_text=title)
    item.locator("summary").click()
    expect(item).to_contain_text("کارت ملی")
    expect(item).to_contain_text("روز کاری")
    expect(item).to_contain_text(persian_digits(3))
    web.check_screen().shot("visitor-procedures")


def test_problems_from_the_api_are_shown_next_to_their_fields(web, api):
    web.open("/apply")
    web.fill({"کد ملی": "۱۲۳۴۵۶۷۸۹۰", "تاریخ تولد": "۱۳۷۰/۱۳/۴۰"})
    web.button("ثبت نام").click()
    form = web.page.locator("#form-apply")
    expect(form.locator("[role=alert]")).to_have_text("برخی از فیلدها نادرست است.")
    national_id = web.field("کد ملی")
    expect(national_id).to_have_attribute("aria-invalid", "true")
    error_id = national_id.get_attribute("aria-describedby").split()[-1]
    expect(web.page.locator(f"#{error_id}")).to_contain_text("کد ملی معتبر نیست")
    expect(web.page.locator(f"#{web.field('نام').get_attribute('aria-describedby').split()[-1]}")).to_have_text(
        "این فیلد الزامی است.")
    # the per-field messages are the API's, word for word
    answer = api.post("/applications", {"national_id": "1234567890", "birth_date": "1370/13/40"})
    for message in answer.json["errors"].values():
        expect(form.locator(".field-error", has_text=message).first).to_be_visible()
    web.check_screen().shot("visitor-apply-errors")
