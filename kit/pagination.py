"""Keyset (cursor) pagination: lists answer ``{items, next}``; ``next`` is opaque to clients."""
import base64
import datetime as dt
import json

from sqlalchemy import and_, or_

from kit.errors import Invalid


def encode(*values):
    raw = json.dumps([v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor):
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except Exception:
        raise Invalid("invalid_cursor", "نشانگر صفحه نادرست است.", "The page cursor is invalid.",
                      fields={"cursor": {"fa": "نشانگر صفحه نادرست است.", "en": "Invalid cursor."}}) from None


def page(session, query, when_col, id_col, cursor, limit, newest_first=False):
    """Run ``query`` ordered by (``when_col``, ``id_col``) after ``cursor``; return (rows, next_cursor).

    Oldest first, or with ``newest_first`` latest first (a schedule is read from its latest sessions).
    """
    if cursor:
        values = decode(cursor)
        try:
            when, last_id = dt.datetime.fromisoformat(values[0]), str(values[1])
        except (TypeError, ValueError, IndexError, KeyError):
            decode("!")  # the same error as an undecodable cursor
        if newest_first:  # (when, id) < (cursor's when, id)
            query = query.where(or_(when_col < when, and_(when_col == when, id_col < last_id)))
        else:  # (when, id) > (cursor's when, id)
            query = query.where(or_(when_col > when, and_(when_col == when, id_col > last_id)))
    order = (when_col.desc(), id_col.desc()) if newest_first else (when_col, id_col)
    rows = session.execute(query.order_by(*order).limit(limit + 1)).mappings().all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode(rows[-1][when_col.key], rows[-1][id_col.key]) if more else None
    return rows, next_cursor
