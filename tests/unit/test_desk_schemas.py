"""The desk's answers: a member's own tickets never name the reporter; the office's view adds it."""
from services.desk.schemas import MemberTicketOut, OwnMemberTicketOut

ROW = {"id": "t1", "kind": "integrity_report", "tracking_code": "ABCDEFGHJK2", "title": None, "body": "…",
       "accused": "آقای الف", "status": "open", "reporter_id": "m1", "created_at": None,
       "created_at_jalali": "1404/08/30", "closed_at": None, "response": None}


def test_the_members_view_never_carries_the_reporter():
    own = OwnMemberTicketOut().dump(ROW)
    assert "reporter_id" not in own and "reporter_id" not in OwnMemberTicketOut().fields
    office = MemberTicketOut().dump(ROW)
    assert office["reporter_id"] == "m1"
    assert {k: v for k, v in office.items() if k != "reporter_id"} == own
