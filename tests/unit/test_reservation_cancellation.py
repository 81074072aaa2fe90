"""Which reservations a cancellation ends, and how a cancellation reads (pure rules of services/reservation)."""
import datetime as dt

import pytest

from services.reservation import domain

NOW = dt.datetime(2030, 1, 1, 10, 0, tzinfo=dt.timezone.utc)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize("status,starts_at,open_", [
    ("invited", NOW + H, True),
    ("invited", NOW - H, True),      # an invitation never answered: nobody can accept it any more
    ("accepted", NOW + H, True),     # still to come
    ("accepted", NOW, False),        # started: left to be reported
    ("accepted", NOW - H, False),
    ("declined", NOW + H, False),
    ("cancelled", NOW + H, False),
])
def test_a_cancellation_ends_invitations_and_accepted_reservations_still_to_come(status, starts_at, open_):
    assert domain.still_open(status, starts_at, NOW) is open_


def test_every_cancellation_reason_reads_in_persian():
    assert set(domain.CANCEL_REASONS) == {"suspended", "deactivated", "offer_withdrawn", "offer_completed"}
    for code in domain.CANCEL_REASONS:
        note = domain.cancel_note(code)
        assert note.startswith("لغو شد") and any("\u0600" <= ch <= "\u06ff" for ch in note)
    assert domain.cancel_note(None) is None
    assert "cancelled" in domain.STATUSES and "cancelled" not in domain.HOLDING
