"""Shrine rules, pure: eligibility, booking phases, cut-offs, the review threshold, and the fairness of the draw."""
import datetime as dt
import itertools
import random
from collections import Counter

import pytest

from services.shrine import domain

UTC = dt.timezone.utc
NOW = dt.datetime(2025, 11, 21, 8, 0, tzinfo=UTC)


def member(**over):
    base = {"status": "active", "education": "bachelor", "approved_reports": 1, "gender": "female",
            "eligible_since": NOW, "first_report_at": NOW}
    base.update(over)
    return base


@pytest.mark.parametrize("facts,code,eligible", [
    (None, "no_approved_report", False),
    (member(approved_reports=0), "no_approved_report", False),
    (member(), "eligible", True),
    (member(education=None), "eligible", True),  # MemberActivated not seen yet: nothing says below_diploma
    (member(education="below_diploma"), "below_diploma", False),
    (member(education="below_diploma", approved_reports=0), "below_diploma", False),
    (member(status="suspended"), "suspended", False),
    (member(status="deactivated"), "deactivated", False),
])
def test_eligibility(facts, code, eligible):
    verdict = domain.eligibility(facts)
    assert (verdict.code, verdict.eligible) == (code, eligible)
    assert any("\u0600" <= ch <= "\u06ff" for ch in verdict.fa) and verdict.en.isascii()


def test_eligible_reason_names_the_jalali_date():
    assert "۱۴۰۴/۰۸/۳۰" in domain.eligibility(member()).fa


def test_gender():
    assert domain.gender_allows(None, None) and domain.gender_allows("female", "female")
    assert not domain.gender_allows("female", "male") and not domain.gender_allows("male", None)


def test_overlap_is_half_open():
    h = dt.timedelta(hours=1)
    assert domain.overlaps(NOW, NOW + 2 * h, NOW + h, NOW + 3 * h)
    assert not domain.overlaps(NOW, NOW + h, NOW + h, NOW + 2 * h)  # back to back
    assert domain.overlaps(NOW, NOW + 3 * h, NOW + h, NOW + 2 * h)


def shift(**over):
    base = {"starts_at": NOW + dt.timedelta(days=2), "opens_at": None, "fair_until": None, "drawn_at": None}
    base.update(over)
    return base


def test_phases():
    opens = NOW + dt.timedelta(hours=1)
    until = domain.fair_until(opens, 10)
    s = shift(opens_at=opens, fair_until=until)
    assert domain.phase(s, NOW) == domain.NOT_OPEN
    assert domain.phase(s, opens) == domain.FAIR
    assert domain.phase(s, opens + dt.timedelta(seconds=9.9)) == domain.FAIR
    assert domain.phase(s, until) == domain.DRAW_DUE
    assert domain.phase(dict(s, drawn_at=until), until) == domain.OPEN
    assert domain.phase(s, s["starts_at"]) == domain.STARTED
    assert domain.phase(shift(), NOW) == domain.OPEN  # no opening moment: first come, first served
    assert domain.fair_until(None, 10) is None and domain.fair_until(opens, 0) is None


def test_deadlines():
    starts = NOW + dt.timedelta(days=1)
    assert domain.cancel_deadline(starts, 24) == NOW
    assert domain.offer_deadline(NOW, starts, 120) == NOW + dt.timedelta(hours=2)
    assert domain.offer_deadline(NOW, NOW + dt.timedelta(minutes=30), 120) == NOW + dt.timedelta(minutes=30)
    assert domain.reminder_due(starts, NOW, 24) and not domain.reminder_due(starts, NOW, 23)


def test_the_fifth_absence_flags_review():
    assert [n for n in range(1, 12) if domain.flags_review(n)] == [5, 10]
    code, fa, en = domain.review_reason(5)
    assert code == "repeated_absence" and "۵" in fa and "5" in en


def test_rate_setting():
    assert domain.parse_rate(None) == (10, 10)
    assert domain.parse_rate("3/2") == (3, 2.0)


def test_jalali_moment_is_tehran_time():
    assert domain.jalali_moment(dt.datetime(2025, 11, 21, 10, 30, tzinfo=UTC)) == "1404/08/30 14:00"
    assert domain.jalali_moment_fa(dt.datetime(2025, 11, 21, 10, 30, tzinfo=UTC)) == "۱۴۰۴/۰۸/۳۰ ۱۴:۰۰"


# -- the draw
def test_draw_is_a_reproducible_permutation():
    ids = [f"a{i}" for i in range(50)]
    seed = domain.new_seed()
    order = domain.draw_order(seed, ids)
    assert sorted(order) == sorted(ids) and order != ids
    assert domain.draw_order(seed, reversed(ids)) == order  # arrival order does not matter
    assert domain.verify_draw(seed, ids, order)
    assert not domain.verify_draw(domain.new_seed(), ids, order)
    assert len(seed) == 64 and domain.new_seed() != seed


def test_every_attempt_has_the_same_chance():
    """Over many draws with fresh seeds each of 6 entrants lands in each place about 1/6 of the time.

    20 000 draws: an expected count of 3 333 per (entrant, place) with a standard deviation near 53; the
    tolerance of ±10% (±333, six deviations) is generous, so the test does not flake, yet a bias towards
    arrival order (the first entrant winning more often) would show at once.
    """
    entrants = [f"attempt-{i}" for i in range(6)]  # in arrival order
    draws = 20_000
    places = Counter()
    for _ in range(draws):
        for place, attempt in enumerate(domain.draw_order(domain.new_seed(), entrants)):
            places[(attempt, place)] += 1
    expected = draws / len(entrants)
    for attempt, place in itertools.product(entrants, range(len(entrants))):
        assert abs(places[(attempt, place)] - expected) < 0.1 * expected, (attempt, place, places[(attempt, place)])
    # chi-square of the winner (place 0) over the entrants: 5 degrees of freedom, 99.9th percentile 20.5
    chi2 = sum((places[(a, 0)] - expected) ** 2 / expected for a in entrants)
    assert chi2 < 20.5


def test_with_capacity_three_of_ten_each_wins_three_times_in_ten():
    entrants = [f"x{i}" for i in range(10)]
    wins = Counter()
    rng = random.Random(7)  # only to pick ids; the seeds are the draw's own
    draws = 10_000
    for _ in range(draws):
        ids = rng.sample(entrants, len(entrants))
        wins.update(domain.draw_order(domain.new_seed(), ids)[:3])
    for attempt in entrants:
        assert abs(wins[attempt] / draws - 0.3) < 0.03, (attempt, wins[attempt])
