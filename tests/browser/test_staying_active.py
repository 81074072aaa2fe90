"""Staying active in the browser: the weekly lesson (published by the admin, read by the member), the review of a
member (بازنگری: a ground recorded by the office, the case with its reasons and evidence, the decision and the
member's standing), in-person meetings and their attendance, and the official holidays of a Jalali year."""
import datetime as dt
import uuid

import jdatetime
import pytest

from kit.persian import TEHRAN, jalali_week_start
from tests.browser.support import expect, find_card, jalali, needs_browser, persian_digits

pytestmark = [needs_browser, pytest.mark.timeout(180)]

WEEKDAYS = ["دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه"]  # by Python's weekday()
MONTHS = ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"]


def tehran_today():
    return dt.datetime.now(TEHRAN).date()


def typed_moment(day, hour):
    """A Tehran wall-clock moment typed as a person would: "۱۴۰۵/۰۸/۳۰ ۱۰:۰۰"."""
    j = jdatetime.date.fromgregorian(date=day)
    return persian_digits(f"{j.year}/{j.month:02d}/{j.day:02d} {hour:02d}:00")


def fact(card, label):
    """The value of a card's row (<dt>label</dt><dd>value</dd>)."""
    return card.locator("dl.facts > div", has=card.page.locator("dt", has_text=label)).locator("dd")


def free_week(api, admin):
    """This Jalali week when it has no lesson yet (a fresh system), else the first week ahead without one."""
    taken, cursor = set(), None
    while True:
        page = api.get("/training/lessons?limit=200" + (f"&cursor={cursor}" if cursor else ""), token=admin).json
        taken |= {x["week"] for x in page["items"]}
        cursor = page["next"]
        if not cursor:
            break
    week = jalali_week_start(tehran_today())
    while week.isoformat() in taken:
        week += dt.timedelta(weeks=1)
    return week


def test_the_admin_publishes_a_lesson_and_the_member_reads_it(web, api, flows, office):
    member = flows.member(office["9"])
    admin = flows.admin()
    week = free_week(api, admin)
    this_week = week == jalali_week_start(tehran_today())
    title = f"آداب خدمت در حرم مطهر {uuid.uuid4().hex[:4]}"

    # the admin publishes the week's lesson; the week is typed only when this week already has one
    web.use_token(admin)
    web.open("/training")
    web.fill({"عنوان مطلب": title, "متن مطلب آموزشی": "خادمیار با رویی گشاده و همتی مضاعف به زائران خدمت می‌کند.\n"
              "ضوابط آیین‌نامه‌ای خدمت را دقیقاً مطالعه نمایید.", "پیوند برای مطالعه بیشتر (اختیاری)": "https://razavi.aqr.ir/amoozesh"})
    if not this_week:
        web.fill({"هفته (اختیاری)": jalali(week.isoformat())})
    web.check_screen().shot("admin-training")
    web.button("انتشار مطلب آموزشی").click()
    expect(web.notice()).to_contain_text("منتشر شد")
    expect(web.notice()).to_contain_text(jalali(week.isoformat()))
    published = web.card(title)
    expect(published).to_be_visible()
    if this_week:
        expect(published).to_contain_text("این هفته")

    # a second lesson for the same week: the API's Persian message, under the week's field
    web.fill({"عنوان مطلب": "مطلب تکراری", "متن مطلب آموزشی": "متن دوم همان هفته", "هفته (اختیاری)": jalali(week.isoformat())})
    web.button("انتشار مطلب آموزشی").click()
    expect(web.page.locator("#form-lesson [role=alert]")).to_have_text(
        f"برای هفته {jalali(week.isoformat())} پیش‌تر مطلب آموزشی منتشر شده است.")  # in Persian digits
    expect(web.field("هفته (اختیاری)")).to_have_attribute("aria-invalid", "true")
    expect(web.page.locator("#form-lesson .field-error:visible")).to_have_text("این هفته مطلب دارد.")

    # the member sees this week's lesson on the home page, reads it and marks it read
    current = api.get("/training/lessons/current", token=member["token"]).json
    if this_week:
        assert current["title"] == title
    web.logout()
    web.use_token(member["token"])
    web.open("/")
    training = web.page.locator("section", has_text="آموزش هفتگی")
    expect(training).to_contain_text(current["title"])
    expect(training).to_contain_text("مطالعه نشده")
    training.get_by_role("link", name="مطالعه مطلب این هفته").click()
    web.at("/training")
    lesson = web.page.locator("section", has_text="مطلب آموزشی این هفته").locator(".card").first
    expect(lesson).to_contain_text(current["title"])
    if this_week:
        expect(lesson).to_contain_text("ضوابط آیین‌نامه‌ای خدمت")
        expect(lesson.get_by_role("link", name="مطالعه بیشتر")).to_have_attribute("href", "https://razavi.aqr.ir/amoozesh")
    web.check_screen().shot("member-training")
    web.button("مطالعه کردم", lesson).click()
    expect(web.notice()).to_contain_text("مطالعه این مطلب آموزشی ثبت شد")
    expect(web.page.locator("section", has_text="مطلب آموزشی این هفته")).to_contain_text("مطالعه شده")
    web.open("/")
    expect(web.page.locator("section", has_text="آموزش هفتگی")).to_contain_text("مطالعه شده")
    assert api.get("/me", token=member["token"]).json["standing"]["training"]["read"] is True

    # the provincial office lists the lessons, and cannot publish one
    web.logout()
    web.use_token(office["9"])
    web.open("/training")
    expect(web.card(title)).to_be_visible()
    assert web.page.locator("#form-lesson").count() == 0
    web.check_screen()


def test_the_office_decides_a_review_case_and_the_member_sees_where_they_stand(web, api, flows, office):
    member = flows.member(office["9"])
    nid = persian_digits(member["national_id"])

    # the office records a breach of the rules on the member's page: the member is put up for review
    web.use_token(office["9"])
    web.open(f"/members/{member['id']}")
    expect(web.page.locator("main .card").first).to_contain_text("فعال")
    web.page.locator("summary", has_text="ثبت عدم رعایت مقررات و شئون خادمی").click()
    web.fill({"شرح تخلف": "حضور با پوشش نامناسب در مراسم"})
    web.button("ثبت عدم رعایت مقررات و شئون خادمی").click()
    expect(web.notice()).to_contain_text("تخلف ثبت شد")
    expect(web.page.locator("main .notice.warn")).to_contain_text("پرونده بازنگری باز دارد")
    web.check_screen().shot("office-member-standing")
    [case] = flows.reviews_of(office["9"], member["id"], status="open")

    # the member's home shows the open review with its reason and evidence
    web.logout()
    web.use_token(member["token"])
    web.open("/")
    review = web.page.locator("section", has_text="بازنگری ادامه خدمت")
    expect(review).to_contain_text("۳- عدم رعایت مقررات و شئون خادمی حضرت رضا علیه السلام")
    expect(review).to_contain_text("حضور با پوشش نامناسب در مراسم")
    expect(web.page.locator(".card", has_text="وضعیت من")).to_contain_text("در بازنگری")
    web.check_screen().shot("member-review")

    # the office finds the case among the open ones and opens it
    web.logout()
    web.use_token(office["9"])
    web.open("/reviews")
    listed = find_card(web, nid)
    expect(listed).to_contain_text("عدم رعایت مقررات و شئون خادمی")
    web.check_screen().shot("office-reviews")
    listed.get_by_role("link", name="بررسی پرونده").click()
    web.at(f"/reviews/{case['id']}")
    reasons = web.page.locator("section", has_text="دلایل بازنگری و مستندات")
    expect(reasons).to_contain_text("۳- عدم رعایت مقررات")
    expect(reasons).to_contain_text("تخلف ثبت‌شده در نمایندگی استان: حضور با پوشش نامناسب در مراسم")
    expect(reasons).to_contain_text("ثبت نمایندگی استان")

    # a decision without its note: the API's message under the note; then the decision, which closes the case
    web.fill({"تصمیم": "suspend"})
    web.button("ثبت تصمیم").click()
    expect(web.field("توضیح تصمیم")).to_have_attribute("aria-invalid", "true")
    expect(web.page.locator(".field-error:visible")).to_have_text("این فیلد الزامی است.")
    web.check_screen().shot("office-review-case")
    web.fill({"توضیح تصمیم": "تعلیق سه‌ماهه به دلیل تکرار تخلف"})
    web.button("ثبت تصمیم").click()
    expect(web.notice()).to_contain_text("تصمیم «تعلیق» ثبت و پرونده بسته شد.")
    summary = web.page.locator("main .card").first
    expect(summary).to_contain_text("بسته شده")
    expect(summary).to_contain_text("تعلیق سه‌ماهه به دلیل تکرار تخلف")
    assert api.get(f"/reviews/{case['id']}", token=office["9"]).json["decision"] == "suspend"

    # the member's standing changed: suspended, and no open review any more
    web.logout()
    web.use_token(member["token"])
    web.open("/")
    expect(web.page.locator(".card", has_text="وضعیت من")).to_contain_text("تعلیق")
    expect(web.page.locator("main")).to_contain_text("عضویت شما به تصمیم نمایندگی استان تعلیق شده است")
    assert web.page.locator("section", has_text="بازنگری ادامه خدمت").count() == 0

    # the office lifts the suspension from the closed case
    web.logout()
    web.use_token(office["9"])
    web.open(f"/reviews/{case['id']}")
    web.page.locator("summary", has_text="بازگشت به خدمت").click()
    web.fill({"توضیح بازگشت به خدمت": "پایان دوره تعلیق"})
    web.button("بازگشت به خدمت").click()
    expect(web.notice()).to_contain_text("خادمیار به خدمت بازگشت")
    expect(web.page.locator("main .card").first).to_contain_text("فعال")
    assert api.get("/me", token=member["token"]).json["profile"]["status"] == "active"


def test_the_office_schedules_a_meeting_and_records_attendance(web, api, flows, office):
    member = flows.member(office["9"])
    namesake = flows.member(office["9"])  # the same name: only the national ID tells them apart
    yesterday = tehran_today() - dt.timedelta(days=1)
    place = f"حسینیه ارشاد مشهد {uuid.uuid4().hex[:4]}"
    # a meeting scheduled elsewhere (another tab, another person of the office, the admin) is listed too
    earlier = f"مسجد گوهرشاد {uuid.uuid4().hex[:4]}"
    assert api.post("/meetings", {"starts_at": typed_moment(yesterday, 8), "place": earlier,
                                  "title": "جلسه صبح"}, token=office["9"]).status == 201
    tehran = f"مصلای تهران {uuid.uuid4().hex[:4]}"
    assert api.post("/meetings", {"starts_at": typed_moment(yesterday, 9), "place": tehran},
                    token=office["23"]).status == 201
    web.use_token(office["9"])
    web.open("/meetings")
    expect(find_card(web, earlier)).to_contain_text("جلسه صبح")
    web.fill({"زمان جلسه": typed_moment(yesterday, 10), "مکان": place})
    web.button("تعریف جلسه حضوری").click()
    expect(web.notice()).to_contain_text("جلسه حضوری تعریف شد")
    meeting = find_card(web, place)
    expect(meeting).to_contain_text("جلسه حضوری خادمیاران")
    expect(meeting).to_contain_text(typed_moment(yesterday, 10))
    expect(fact(meeting, "حاضران ثبت‌شده")).to_have_text(persian_digits(0))
    assert web.page.locator(".card", has_text=tehran).count() == 0  # another province's meeting is not listed

    # a new tab (or another device) lists it as well: the list is the API's, not the tab's memory
    web.logout()
    web.use_token(office["9"])
    web.open("/meetings")
    meeting = find_card(web, place)

    meeting.locator("summary", has_text="ثبت حضور خادمیاران").click()
    web.idle()
    web.button("ثبت حضور", meeting).click()  # nobody ticked: the API's message under the list, in Persian digits
    expect(meeting.locator(".field-error:visible")).to_have_text(f"طول باید بین {persian_digits(1)} و "
                                                                 f"{persian_digits(2000)} باشد.")
    # found by the API: the first digits of the national ID (typed in Persian), then the name with that ID
    web.fill({"جستجو در نام یا کد ملی": persian_digits(member["national_id"][:8])}, meeting)
    expect(meeting.locator(".check:visible").filter(has_not_text=persian_digits(member["national_id"][:8]))
           ).to_have_count(0)  # the answer to the search, not the first page of the province's members
    box = meeting.get_by_label(f"زهرا رضایی — {persian_digits(member['national_id'])}", exact=True)
    expect(box).to_be_visible()
    box.check()
    web.fill({"جستجو در نام یا کد ملی": persian_digits(namesake["national_id"])}, meeting)
    other = meeting.get_by_label(f"زهرا رضایی — {persian_digits(namesake['national_id'])}", exact=True)
    expect(other).to_be_visible()
    expect(box).to_be_checked()  # what was ticked stays ticked while the search changes
    expect(meeting.locator(".check:visible")).to_have_count(2)
    web.check_screen().shot("office-meetings")
    web.button("ثبت حضور", meeting).click()
    expect(web.notice()).to_have_text(f"حضور {persian_digits(1)} خادمیار در جلسه ثبت شد.")
    expect(fact(find_card(web, place), "حاضران ثبت‌شده")).to_have_text(persian_digits(1))  # the list, drawn again

    # the member's home shows the meeting as the last one attended
    web.logout()
    web.use_token(member["token"])
    web.open("/")
    status = web.page.locator(".card", has_text="وضعیت من")
    expect(status).to_contain_text(jalali(yesterday.isoformat()))
    assert api.get("/me", token=member["token"]).json["profile"]["last_meeting_jalali"] == jalali(
        yesterday.isoformat(), persian=False)
    assert api.get("/me", token=namesake["token"]).json["profile"]["last_meeting_jalali"] is None


def test_the_admin_loads_a_years_holidays_and_anyone_reads_them_in_jalali(web, api, flows):
    year = jdatetime.date.fromgregorian(date=tehran_today()).year + 1  # no promised date of other tests reaches it
    days = [jdatetime.date(year, 3, 14), jdatetime.date(year, 3, 15), jdatetime.date(year, 6, 30)]
    web.use_token(flows.admin())
    web.open("/holidays")
    web.fill({"سال شمسی": persian_digits(year)})
    web.button("نمایش").click()
    web.idle()
    expect(web.page.locator("#holidays-year")).to_have_text(f"تعطیلات رسمی سال {persian_digits(year)}")

    # a date of another year: the API's message under the dates
    web.fill({"تاریخ‌های تعطیل رسمی (هر تاریخ در یک سطر)": persian_digits(f"{year - 1}/12/25")})
    web.button("ثبت تعطیلات رسمی").click()
    expect(web.page.locator(".field-error:visible")).to_contain_text(
        f"خارج از سال {persian_digits(year)}: {persian_digits(f'{year - 1}/12/25')}")

    # Persian and Latin digits, one date a line
    typed = [persian_digits(f"{d.year}/{d.month:02d}/{d.day:02d}") for d in days[:2]] + [f"{year}/06/30"]
    web.fill({"تاریخ‌های تعطیل رسمی (هر تاریخ در یک سطر)": "\n".join(typed)})
    web.button("ثبت تعطیلات رسمی").click()
    expect(web.notice()).to_contain_text(f"تعطیلات رسمی سال {persian_digits(year)} ثبت شد")
    items = web.page.locator("ul.holidays li")
    expect(items).to_have_count(3)
    for item, day in zip(items.all(), days, strict=True):
        expect(item).to_have_text(f"{persian_digits(day.strftime('%Y/%m/%d'))} — {WEEKDAYS[day.togregorian().weekday()]} "
                                  f"{persian_digits(day.day)} {MONTHS[day.month - 1]}")
    web.check_screen().shot("admin-holidays")
    assert api.get(f"/desk/holidays/{year}").json["dates"] == [d.togregorian().isoformat() for d in days]

    # a visitor reads them, in Jalali
    web.logout()
    web.open("/holidays")
    assert web.page.locator("#form-lesson, textarea").count() == 0  # no loading form for a visitor
    web.fill({"سال شمسی": str(year)})
    web.button("نمایش").click()
    web.idle()
    expect(web.page.locator("ul.holidays li")).to_have_count(3)
    expect(web.page.locator("ul.holidays")).to_contain_text(f"{persian_digits(30)} شهریور")
    web.check_screen()
    # in English: the same Jalali dates, with Latin digits and the months' and weekdays' English names
    web.button("English").click()
    web.idle()
    expect(web.page.locator("h1")).to_have_text("Official holidays")
    web.fill({"Jalali year": str(year)})
    web.button("Show").click()
    web.idle()
    expect(web.page.locator("ul.holidays li").first).to_have_text(f"{year}/03/14 — Friday 14 Khordad")
    web.check_screen(lang="en")
    web.page.get_by_role("button", name="فارسی").click()
