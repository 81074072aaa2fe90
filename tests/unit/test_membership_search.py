"""How the office's search for a person (GET /applications?q=) is read: national ID digits or words of a name."""
import pytest

from services.membership.domain import person_search


@pytest.mark.parametrize("q,expected", [
    ("0012345678", ("national_id", ("0012345678", "0012345678"))),
    ("0012", ("national_id", ("0012000000", "0012999999"))),
    ("001 234-5", ("national_id", ("0012345000", "0012345999"))),
    ("00123456789", ("national_id", ("00123456789", "00123456789"))),  # longer than any ID: nothing
    ("مریم", ("name", ["مریم"])),
    ("مریم  کریمی", ("name", ["مریم", "کریمی"])),
    ("کریمی 12", ("name", ["کریمی", "12"])),
    ("الف ب پ ت ث", ("name", ["الف", "ب", "پ", "ت"])),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_person_search(q, expected):
    assert person_search(q) == expected
