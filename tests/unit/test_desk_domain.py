"""Unit tests of the desk's pure rules: tracking codes, working days and promises, documents, steps, the scorecard."""
import datetime as dt

import pytest
from freezegun import freeze_time

from kit.persian import TEHRAN
from services.desk import domain

UTC = dt.timezone.utc
WEDNESDAY = dt.date(2024, 12, 18)  # 1403/09/28
THURSDAY, FRIDAY, SATURDAY, SUNDAY = (WEDNESDAY + dt.timedelta(days=n) for n in (1, 2, 3, 4))


# -- tracking codes ------------------------------------------------------------------------------------------
def test_a_tracking_code_is_ten_random_characters_and_a_check_character():
    code = domain.new_tracking_code()
    assert len(code) == 11 and set(code) <= set(domain.TRACKING_ALPHABET)
    assert domain.tracking_check_char(code[:10]) == code[10]
    assert domain.normalize_tracking_code(code) == code


def test_the_alphabet_has_no_characters_read_alike():
    assert not set("01ILO") & set(domain.TRACKING_ALPHABET)
    assert len(set(domain.TRACKING_ALPHABET)) == len(domain.TRACKING_ALPHABET) == 31


def test_codes_are_not_sequential_or_repeated():
    codes = {domain.new_tracking_code() for _ in range(2000)}
    assert len(codes) == 2000


def test_codes_come_from_secrets(monkeypatch):
    drawn = []
    monkeypatch.setattr(domain.secrets, "choice", lambda seq: drawn.append(seq) or seq[0])
    assert domain.new_tracking_code()[:10] == "2" * 10 and len(drawn) == 10


@pytest.mark.parametrize("seed", range(20))
def test_every_single_character_typo_is_detected(seed):
    code = domain.new_tracking_code()
    for position in range(len(code)):
        for wrong in domain.TRACKING_ALPHABET:
            if wrong == code[position]:
                continue
            typo = code[:position] + wrong + code[position + 1:]
            assert not domain.is_valid_tracking_code(typo), (code, typo)


def test_swapping_two_neighbours_is_detected():
    for _ in range(50):
        code = domain.new_tracking_code()
        for i in range(len(code) - 1):
            if code[i] != code[i + 1]:
                swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
                assert not domain.is_valid_tracking_code(swapped)


def test_codes_as_typed_or_read_over_the_phone_are_accepted():
    code = domain.new_tracking_code()
    shown = domain.format_tracking_code(code)
    assert shown.count("-") == 2 and shown.replace("-", "") == code
    assert domain.normalize_tracking_code(shown.lower()) == code
    assert domain.normalize_tracking_code(" " + code[:4] + " " + code[4:] + " ") == code
    persian = code.translate(str.maketrans("23456789", "۲۳۴۵۶۷۸۹"))
    assert domain.normalize_tracking_code(persian) == code


@pytest.mark.parametrize("raw", ["", "ABC", "2" * 12, "O" * 11, None, 12345678901])
def test_malformed_codes_are_refused(raw):
    assert not domain.is_valid_tracking_code(raw)


# -- working days and promises -------------------------------------------------------------------------------
def test_wednesday_plus_two_working_days_skips_friday():
    assert WEDNESDAY.weekday() == 2
    assert domain.promised_date(WEDNESDAY, 2) == SATURDAY  # Thursday, (Friday), Saturday


def test_a_holiday_moves_the_promise_one_more_day():
    assert domain.promised_date(WEDNESDAY, 2, {SATURDAY}) == SUNDAY


def test_zero_days_on_a_friday_is_the_next_working_day():
    assert domain.promised_date(FRIDAY, 0) == SATURDAY
    assert domain.promised_date(WEDNESDAY, 0) == WEDNESDAY


def test_working_days_between_counts_the_waiting():
    assert domain.working_days_between(WEDNESDAY, WEDNESDAY) == 0
    assert domain.working_days_between(WEDNESDAY, SATURDAY) == 2  # Thursday and Saturday
    assert domain.working_days_between(WEDNESDAY, SATURDAY, {THURSDAY}) == 1
    assert domain.working_days_between(THURSDAY, FRIDAY) == 0


def test_a_resumed_ticket_keeps_the_promise_in_working_days():
    due = domain.promised_date(WEDNESDAY, 2)  # Saturday
    waited = domain.working_days_between(WEDNESDAY, SATURDAY)  # two working days stood still
    assert domain.promised_date(due, waited) == dt.date(2024, 12, 23)  # Sunday, Monday


def test_promised_dates_given_by_the_desk_are_checked():
    earliest = domain.promised_date(WEDNESDAY, 2, {SATURDAY})
    assert domain.promise_problem(earliest, earliest, {SATURDAY}) is None
    assert domain.promise_problem(THURSDAY, earliest)[0] == "promised_date_too_early"
    assert "1403/10/02" in domain.promise_problem(THURSDAY, earliest)[1]  # the earliest, in Jalali
    assert domain.promise_problem(dt.date(2024, 12, 27), earliest)[0] == "promised_date_not_working_day"  # Friday
    later_holiday = dt.date(2024, 12, 25)
    assert domain.promise_problem(later_holiday, earliest, {later_holiday})[0] == "promised_date_not_working_day"
    assert domain.promise_problem(dt.date(2024, 12, 24), earliest) is None


def test_tehran_day_of_a_moment():
    late_evening_utc = dt.datetime(2025, 10, 22, 21, 0, tzinfo=UTC)  # 00:30 on the 23rd in Tehran
    assert domain.tehran_date(late_evening_utc) == dt.date(2025, 10, 23)
    start, end = domain.tehran_day_bounds(dt.date(2025, 10, 23), dt.date(2025, 10, 23))
    assert start == dt.datetime(2025, 10, 22, 20, 30, tzinfo=UTC) and end - start == dt.timedelta(days=1)


@freeze_time("2026-03-01 08:00:00")
def test_a_procedure_is_stale_after_a_year_without_review():
    today = domain.tehran_date(dt.datetime.now(UTC))
    assert today == dt.date(2026, 3, 1)
    assert not domain.is_stale(dt.date(2025, 3, 1), today)
    assert domain.is_stale(dt.date(2025, 2, 28), today)
    assert domain.one_year_before(dt.date(2024, 2, 29)) == dt.date(2023, 2, 28)


# -- documents and steps -------------------------------------------------------------------------------------
def test_missing_and_unknown_documents_keep_the_procedures_order():
    required = ["کارت ملی", "شناسنامه", "فیش واریزی"]
    assert domain.missing_documents(required, ["فیش واریزی"]) == ["کارت ملی", "شناسنامه"]
    assert domain.missing_documents(required, required) == []
    assert domain.unknown_documents(required, ["گذرنامه", "کارت ملی"]) == ["گذرنامه"]


def test_steps_follow_the_flow():
    assert domain.step_refusal("refer", domain.OPEN) is None
    assert domain.step_refusal("resolve", domain.OPEN) is None
    assert domain.step_refusal("result", domain.REFERRED) is None
    assert domain.step_refusal("deliver", domain.RESULT_READY) is None
    assert domain.step_refusal("await_visitor", domain.REFERRED) is None
    assert domain.step_refusal("resume", domain.AWAITING) is None
    assert domain.step_refusal("result", domain.OPEN)[0] == "wrong_step"
    assert domain.step_refusal("deliver", domain.REFERRED)[0] == "wrong_step"
    assert domain.step_refusal("refer", domain.DELIVERED)[0] == "ticket_closed"
    assert domain.step_refusal("refer", domain.AWAITING)[0] == "awaiting_visitor"


def test_missing_documents_refuse_resolving_and_referring_and_are_named():
    code, fa, en = domain.step_refusal("refer", domain.AWAITING, ["شناسنامه"])
    assert code == "documents_missing" and "شناسنامه" in fa and "شناسنامه" in en
    assert domain.step_refusal("resolve", domain.AWAITING, ["شناسنامه"])[0] == "documents_missing"
    assert domain.step_refusal("resume", domain.AWAITING, ["شناسنامه"]) is None


def test_only_closed_tickets_may_be_rated():
    assert [s for s in domain.STATUSES if domain.may_rate(s)] == [domain.RESOLVED, domain.DELIVERED]


# -- the scorecard -------------------------------------------------------------------------------------------
def test_percentiles_are_nearest_rank():
    values = list(range(1, 11))
    assert domain.percentile(values, 90) == 9
    assert domain.percentile(values, 50) == 5
    assert domain.percentile([7], 90) == 7
    assert domain.percentile([], 90) is None
    assert domain.median([1, 2, 3, 10]) == 2.5 and domain.median([]) is None


def _ticket(created, status, done_after_days=None, due=None, referred=False, rating=None, unit="امور زائرین",
            procedure="p1"):
    done = created + dt.timedelta(days=done_after_days) if done_after_days is not None else None
    return {"created_at": created, "status": status, "done_at": done, "due_date": due,
            "referred_at": created if referred else None, "rating": rating, "unit": unit, "procedure_id": procedure,
            "procedure_title": "صدور کارت"}


def test_the_scorecard_of_a_group():
    t0 = dt.datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    tickets = [
        _ticket(t0, domain.RESOLVED, 0.5, dt.date(2025, 10, 1), rating=5),
        _ticket(t0, domain.DELIVERED, 2, dt.date(2025, 10, 4), referred=True, rating=3),  # on time
        _ticket(t0, domain.DELIVERED, 6, dt.date(2025, 10, 4), referred=True),  # late
        _ticket(t0, domain.RESULT_READY, 4, dt.date(2025, 10, 6), referred=True),  # done, not yet delivered
        _ticket(t0, domain.REFERRED, None, dt.date(2025, 10, 6), referred=True),
    ]
    card = domain.scorecard(tickets)
    assert card == {"received": 5, "resolved_at_desk": 1, "referred": 4, "delivered": 3, "delivered_on_time": 2,
                    "delivered_late": 1, "median_days_to_resolve": 3.0, "p90_days_to_resolve": 6.0, "rated": 2,
                    "satisfaction": 4.0}


def test_an_empty_scorecard():
    assert domain.scorecard([]) == {"received": 0, "resolved_at_desk": 0, "referred": 0, "delivered": 0,
                                    "delivered_on_time": 0, "delivered_late": 0, "median_days_to_resolve": None,
                                    "p90_days_to_resolve": None, "rated": 0, "satisfaction": None}


def test_the_month_of_a_ticket_is_its_jalali_month_in_tehran():
    # 1404/07/30 23:30 and 1404/08/01 00:30 in Tehran: the same UTC day, two Jalali months
    before = dt.datetime(2025, 10, 22, 23, 30, tzinfo=TEHRAN).astimezone(UTC)
    after = dt.datetime(2025, 10, 23, 0, 30, tzinfo=TEHRAN).astimezone(UTC)
    assert before.date() == after.date()
    rows = domain.scorecard_by_month([_ticket(after, domain.OPEN, due=dt.date(2025, 10, 27)),
                                      _ticket(before, domain.RESOLVED, 1, dt.date(2025, 10, 25)),
                                      _ticket(before, domain.OPEN, due=dt.date(2025, 10, 27), unit="امور مالی")])
    assert [(r["month"], r["unit"], r["received"]) for r in rows] == [
        ("1404-07", "امور زائرین", 1), ("1404-07", "امور مالی", 1), ("1404-08", "امور زائرین", 1)]
    assert rows[0]["resolved_at_desk"] == 1 and rows[0]["delivered_on_time"] == 1


def test_the_public_summary_of_a_procedure():
    t0 = dt.datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    summary = domain.public_summary([_ticket(t0, domain.DELIVERED, 2, dt.date(2025, 10, 4)),
                                     _ticket(t0, domain.DELIVERED, 9, dt.date(2025, 10, 4)),
                                     _ticket(t0, domain.RESOLVED, 1, dt.date(2025, 10, 4), rating=4)])
    assert summary == {"tickets": 3, "on_time_share": 0.67, "median_days": 2.0, "p90_days": 9.0,
                       "satisfaction": 4.0}
    assert domain.public_summary([])["on_time_share"] is None
