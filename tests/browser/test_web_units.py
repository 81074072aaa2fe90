"""The client's own small pieces, run in the browser: Jalali dates agree with the server's jdatetime day by day,
typed dates are read in Persian or Latin digits, numbers are shown in Persian."""
import datetime as dt

import jdatetime

from kit.persian import TEHRAN
from tests.browser.support import needs_browser

pytestmark = needs_browser

IMPORT = ("async (args) => { const m = await import('/static/js/core/jalali.js');"
          " const i = await import('/static/js/core/i18n.js');")


def test_jalali_conversion_matches_jdatetime_every_day(web):
    web.open("/")
    start = dt.date(1990, 1, 1)
    days = 365 * 45  # 1368 to 1413
    got = web.page.evaluate(IMPORT + """
        const out = [];
        const [y, mo, d] = args.start;
        for (let k = 0; k < args.days; k += 1) {
          const t = new Date(Date.UTC(y, mo - 1, d + k));
          const j = m.toJalali(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
          const g = m.toGregorian(...j);
          if (g[0] !== t.getUTCFullYear() || g[1] !== t.getUTCMonth() + 1 || g[2] !== t.getUTCDate()) return ['round trip', k];
          out.push(j.join('/'));
        }
        return out; }""", {"start": [start.year, start.month, start.day], "days": days})
    assert len(got) == days, got
    for k, jalali in enumerate(got):
        day = jdatetime.date.fromgregorian(date=start + dt.timedelta(days=k))
        assert jalali == f"{day.year}/{day.month}/{day.day}", (start + dt.timedelta(days=k), jalali)


def test_instants_are_shown_in_tehran_time(web):
    web.open("/")
    moments = ["2026-03-20T20:29:00+00:00", "2026-03-20T20:30:00+00:00", "2025-09-22T23:59:00+00:00",
               "2026-11-21T21:43:15.100102+00:00", "2024-03-19T21:00:00Z"]
    got = web.page.evaluate(IMPORT + "return args.map((x) => m.jalaliDateTime(x)); }", moments)
    for iso, shown in zip(moments, got, strict=True):
        local = dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(TEHRAN)
        day = jdatetime.date.fromgregorian(date=local.date())
        assert shown == f"{day.year}/{day.month:02d}/{day.day:02d} {local:%H:%M}", (iso, shown)
    # a bare date is a calendar day, never shifted by a time zone
    assert web.page.evaluate(IMPORT + "return m.jalaliDate('2026-03-21'); }", None) == "1405/01/01"


def test_typed_dates_and_digits(web):
    web.open("/")
    got = web.page.evaluate(IMPORT + """
        return {
          persian: m.parseJalali('۱۴۰۴/۰۸/۳۰'), latin: m.parseJalali('1404-8-30 14:30'),
          arabic: m.parseJalali('١٤٠٤/٠٨/٣٠'), leapDay: m.parseJalali('1403/12/30'), notLeap: m.parseJalali('1404/12/30'),
          month13: m.parseJalali('1404/13/01'), hour25: m.parseJalali('1404/01/01 25:00'), words: m.parseJalali('فردا'),
          digits: i.digits('1404/08/30'), latinDigits: i.latinDigits('۰۹۱۲٫۵'), number: i.num(1234567),
        }; }""", None)
    assert got["persian"] == {"y": 1404, "m": 8, "d": 30, "hh": None, "mm": None}
    assert got["latin"] == {"y": 1404, "m": 8, "d": 30, "hh": 14, "mm": 30}
    assert got["arabic"]["d"] == 30
    assert got["leapDay"] is not None and got["notLeap"] is None  # 1403 is a leap year, 1404 is not
    assert jdatetime.date(1403, 12, 30) and not jdatetime.date(1404, 1, 1).isleap()
    assert got["month13"] is None and got["hour25"] is None and got["words"] is None
    assert got["digits"] == "۱۴۰۴/۰۸/۳۰" and got["latinDigits"] == "0912.5"
    assert got["number"] == "۱٬۲۳۴٬۵۶۷"
