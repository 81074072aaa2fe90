"""Staying-active rules, pure: training weeks, the six-monthly meeting, the grounds for review, decisions."""
import datetime as dt

import pytest
from freezegun import freeze_time

from kit.db import utcnow
from services.membership import domain

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)  # a Sunday
DAY = dt.timedelta(days=1)


def saturday(d):
    return d - dt.timedelta(days=(d.weekday() - 5) % 7)


# -- training weeks, in Tehran time
@pytest.mark.parametrize("moment,week", [
    ("2026-03-06T20:29:00+00:00", "2026-02-28"),  # Friday 23:59 in Tehran: still last week
    ("2026-03-06T20:31:00+00:00", "2026-03-07"),  # Saturday 00:01 in Tehran: a new week
    ("2026-03-07T12:00:00+00:00", "2026-03-07"),
    ("2026-03-13T19:00:00+00:00", "2026-03-07"),  # Friday evening
])
def test_the_jalali_week_starts_on_saturday_in_tehran(moment, week):
    with freeze_time(moment):
        assert domain.lesson_week(utcnow()).isoformat() == week
        assert domain.lesson_week(utcnow()).weekday() == 5


def test_the_review_clock_is_real_time_unless_moved():
    from services.membership import review
    with freeze_time("2030-01-05T10:00:00+00:00"):
        assert review.clock() == dt.datetime(2030, 1, 5, 10, 0, tzinfo=UTC)


def test_a_lesson_counts_when_read_in_its_own_week():
    week = dt.date(2026, 3, 7)
    assert domain.read_on_time(week, dt.datetime(2026, 3, 13, 20, 0, tzinfo=UTC))  # Friday 23:30 Tehran
    assert not domain.read_on_time(week, dt.datetime(2026, 3, 13, 21, 0, tzinfo=UTC))  # Saturday 00:30 Tehran


def test_missed_weeks_count_only_weeks_over_since_the_grace_day_and_unread():
    activated = dt.datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # a Tuesday: its week is not counted
    weeks = [dt.date(2026, 2, 28) + dt.timedelta(weeks=k) for k in range(6)]  # Saturdays
    today = weeks[4] + dt.timedelta(days=2)  # weeks 0-3 are over, week 4 is running
    missed = domain.missed_weeks(weeks, [weeks[2]], activated, today)
    assert missed == [weeks[1], weeks[3]]
    # activated on a Saturday: that week counts
    assert domain.missed_weeks(weeks, [], dt.datetime(2026, 2, 28, 5, 0, tzinfo=UTC), today) == weeks[:4]
    # a week without a lesson is not missed
    assert domain.missed_weeks([weeks[1]], [], activated, today) == [weeks[1]]


def test_training_is_a_reason_from_the_tolerated_number_of_weeks():
    weeks = [dt.date(2026, 3, 7) + dt.timedelta(weeks=k) for k in range(4)]
    assert domain.training_evidence(weeks[:3], 4, T0) is None
    key, ev = domain.training_evidence(weeks, 4, T0)
    assert key == "training:2026-03-01" and ev["data"]["weeks"] == [w.isoformat() for w in weeks]
    assert "۴" in ev["fa"] or "4" in ev["fa"]
    assert domain.training_evidence(weeks, 5, T0) is None


def test_idle_members():
    assert domain.idle_evidence(T0 + 89 * DAY, T0, False, None, 90) is None
    key, ev = domain.idle_evidence(T0 + 90 * DAY, T0, False, None, 90)
    assert key == "no_offer:2026-03-01" and ev["data"]["days"] == 90
    assert domain.idle_evidence(T0 + 400 * DAY, T0, True, None, 90) is None  # a running offer
    # the idle period runs from the last offer's end, or a later decision
    assert domain.idle_evidence(T0 + 100 * DAY, T0, False, T0 + 20 * DAY, 90) is None
    key, _ = domain.idle_evidence(T0 + 111 * DAY, T0, False, T0 + 20 * DAY, 90)
    assert key == "no_offer:2026-03-21"
    later = domain.grace_from(T0, T0 + 50 * DAY, None)
    assert domain.idle_evidence(T0 + 111 * DAY, later, False, T0 + 20 * DAY, 90) is None


def test_reports_are_late_after_the_due_days():
    ended = T0
    assert not domain.report_overdue(ended, T0 + 14 * DAY, 14)
    assert domain.report_overdue(ended, T0 + 14 * DAY + dt.timedelta(seconds=1), 14)
    assert not domain.report_overdue(None, T0 + 400 * DAY, 14)
    key, ev = domain.late_report_evidence("r1", ended, 14)
    assert key == "late_report:r1" and ev["data"]["due_at"] == (T0 + 14 * DAY).isoformat()


def test_the_six_monthly_meeting():
    assert domain.meeting_due(T0, None) == T0 + domain.MEETING_INTERVAL
    assert domain.meeting_due(T0, T0 + 30 * DAY) == T0 + 30 * DAY + domain.MEETING_INTERVAL
    assert domain.meeting_due(T0 + 40 * DAY, T0 + 30 * DAY) == T0 + 40 * DAY + domain.MEETING_INTERVAL
    assert domain.meeting_evidence(T0 + 182 * DAY, T0, None) is None
    key, ev = domain.meeting_evidence(T0 + 183 * DAY, T0, None)
    assert key == "meeting:2026-03-01" and ev["data"]["last_attendance"] is None
    key, ev = domain.meeting_evidence(T0 + 300 * DAY, T0, T0 + 10 * DAY)
    assert key == "meeting:2026-03-11" and "آخرین جلسه" in ev["fa"]


@pytest.mark.parametrize("absences,threshold", [(0, None), (4, None), (5, 5), (6, 5), (9, 5), (10, 10), (14, 10)])
def test_the_fifth_absence_and_each_fifth_after_it(absences, threshold):
    assert domain.absence_threshold(absences) == threshold


@pytest.mark.parametrize("status,decision,effect", [
    ("active", "continue", (None, None)),
    ("suspended", "continue", ("active", "MemberReinstated")),
    ("active", "suspend", ("suspended", "MemberSuspended")),
    ("suspended", "suspend", (None, None)),
    ("active", "deactivate", ("deactivated", "MemberDeactivated")),
    ("suspended", "deactivate", ("deactivated", "MemberDeactivated")),
])
def test_what_a_decision_does_to_the_account(status, decision, effect):
    assert domain.decision_effect(status, decision) == effect


def test_a_deactivated_member_is_past_decisions():
    for decision in domain.DECISIONS:
        with pytest.raises(ValueError):
            domain.decision_effect("deactivated", decision)


def test_the_six_reasons_are_the_guides():
    assert [domain.REASONS[c][0] for c in domain.REASONS] == [1, 2, 3, 4, 5, 6]
    assert domain.reason_title("shrine_absences")["title"].startswith("داشتن بیش از چهار غیبت")
    assert all(t[2].isascii() for t in domain.REASONS.values())


def test_the_grace_starts_at_the_latest_of_activation_and_decisions():
    assert domain.grace_from(T0) == T0
    assert domain.grace_from(T0, None, T0 + DAY) == T0 + DAY
    assert domain.grace_from(T0 + 5 * DAY, T0 + DAY, None) == T0 + 5 * DAY


def test_saturday_helper_matches_the_domain():
    d = dt.date(2026, 3, 4)
    assert domain.lesson_week(d) == saturday(d)
