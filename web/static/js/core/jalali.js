// Jalali (هجری شمسی) dates: conversion both ways and formatting in Tehran time.
// The arithmetic is the 33-year-break method of Borkowski, as in the widely used jalaali-js; it agrees with
// the server's jdatetime (tests/browser/test_web_units.py compares them day by day).

const BREAKS = [-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324,
  2394, 2456, 3178];

const div = (a, b) => Math.trunc(a / b);
const mod = (a, b) => a - Math.trunc(a / b) * b;

function jalCal(jy) {
  const gy = jy + 621;
  let leapJ = -14;
  let jp = BREAKS[0];
  let jump = 0;
  if (jy < jp || jy >= BREAKS[BREAKS.length - 1]) throw new RangeError(`Jalali year out of range: ${jy}`);
  for (let i = 1; i < BREAKS.length; i += 1) {
    const jm = BREAKS[i];
    jump = jm - jp;
    if (jy < jm) break;
    leapJ += div(jump, 33) * 8 + div(mod(jump, 33), 4);
    jp = jm;
  }
  let n = jy - jp;
  leapJ += div(n, 33) * 8 + div(mod(n, 33) + 3, 4);
  if (mod(jump, 33) === 4 && jump - n === 4) leapJ += 1;
  const leapG = div(gy, 4) - div((div(gy, 100) + 1) * 3, 4) - 150;
  const march = 20 + leapJ - leapG;
  if (jump - n < 6) n = n - jump + div(jump + 4, 33) * 33;
  let leap = mod(mod(n + 1, 33) - 1, 4);
  if (leap === -1) leap = 4;
  return { leap, gy, march };
}

function g2d(gy, gm, gd) {
  const d = div((gy + div(gm - 8, 6) + 100100) * 1461, 4) + div(153 * mod(gm + 9, 12) + 2, 5) + gd - 34840408;
  return d - div(div(gy + 100100 + div(gm - 8, 6), 100) * 3, 4) + 752;
}

function d2g(jdn) {
  let j = 4 * jdn + 139361631;
  j += div(div(4 * jdn + 183187720, 146097) * 3, 4) * 4 - 3908;
  const i = div(mod(j, 1461), 4) * 5 + 308;
  const gd = div(mod(i, 153), 5) + 1;
  const gm = mod(div(i, 153), 12) + 1;
  const gy = div(j, 1461) - 100100 + div(8 - gm, 6);
  return [gy, gm, gd];
}

/** Gregorian [y, m, d] to Jalali [y, m, d]. */
export function toJalali(gy, gm, gd) {
  const jdn = g2d(gy, gm, gd);
  let jy = d2g(jdn)[0] - 621;
  const r = jalCal(jy);
  let k = jdn - g2d(r.gy, 3, r.march);
  if (k >= 0) {
    if (k <= 185) return [jy, 1 + div(k, 31), mod(k, 31) + 1];
    k -= 186;
  } else {
    jy -= 1;
    k += 179;
    if (r.leap === 1) k += 1;
  }
  return [jy, 7 + div(k, 30), mod(k, 30) + 1];
}

/** Jalali [y, m, d] to Gregorian [y, m, d]. */
export function toGregorian(jy, jm, jd) {
  const r = jalCal(jy);
  return d2g(g2d(r.gy, 3, r.march) + (jm - 1) * 31 - div(jm, 7) * (jm - 7) + jd - 1);
}

export function isLeapJalali(jy) {
  return jalCal(jy).leap === 0;
}

export function monthLength(jy, jm) {
  if (jm <= 6) return 31;
  if (jm <= 11) return 30;
  return isLeapJalali(jy) ? 30 : 29;
}

export const MONTHS_FA = ['فروردین', 'اردیبهشت', 'خرداد', 'تیر', 'مرداد', 'شهریور', 'مهر', 'آبان', 'آذر', 'دی',
  'بهمن', 'اسفند'];
export const MONTHS_EN = ['Farvardin', 'Ordibehesht', 'Khordad', 'Tir', 'Mordad', 'Shahrivar', 'Mehr', 'Aban',
  'Azar', 'Dey', 'Bahman', 'Esfand'];

// by JavaScript's getUTCDay(): Sunday first
export const WEEKDAYS_FA = ['یکشنبه', 'دوشنبه', 'سه‌شنبه', 'چهارشنبه', 'پنجشنبه', 'جمعه', 'شنبه'];
export const WEEKDAYS_EN = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A calendar day ("2026-03-21") as {y, m, d} in Jalali and its weekday (0 = Sunday). */
export function jalaliParts(isoDate) {
  const [gy, gm, gd] = isoDate.slice(0, 10).split('-').map(Number);
  const [y, m, d] = toJalali(gy, gm, gd);
  return { y, m, d, weekday: new Date(Date.UTC(gy, gm - 1, gd)).getUTCDay() };
}

const TEHRAN = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Asia/Tehran', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric',
  hourCycle: 'h23',
});

/** The wall-clock parts of an instant in Tehran: [y, m, d, hh, mm] (Gregorian). */
export function tehranParts(date) {
  const parts = Object.fromEntries(TEHRAN.formatToParts(date).map((p) => [p.type, p.value]));
  return [+parts.year, +parts.month, +parts.day, +parts.hour % 24, +parts.minute];
}

const pad = (n) => String(n).padStart(2, '0');
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** "1404/08/30" (Latin digits) for an ISO date or datetime; a bare date is a calendar day, not an instant. */
export function jalaliDate(iso) {
  if (!iso) return '';
  const m = DATE_ONLY.exec(iso);
  const [gy, gm, gd] = m ? [+m[1], +m[2], +m[3]] : tehranParts(new Date(iso));
  const [jy, jm, jd] = toJalali(gy, gm, gd);
  return `${jy}/${pad(jm)}/${pad(jd)}`;
}

/** "1404/08/30 14:30" (Latin digits, Tehran time) for an ISO datetime. */
export function jalaliDateTime(iso) {
  if (!iso) return '';
  if (DATE_ONLY.test(iso)) return jalaliDate(iso);
  const [gy, gm, gd, hh, mi] = tehranParts(new Date(iso));
  const [jy, jm, jd] = toJalali(gy, gm, gd);
  return `${jy}/${pad(jm)}/${pad(jd)} ${pad(hh)}:${pad(mi)}`;
}

/** Today in Tehran as "1404/08/30". */
export function jalaliToday(now = new Date()) {
  const [gy, gm, gd] = tehranParts(now);
  const [jy, jm, jd] = toJalali(gy, gm, gd);
  return `${jy}/${pad(jm)}/${pad(jd)}`;
}

/** Parse what a person typed ("۱۴۰۴/۸/۳۰", "1404-08-30 14:30"): {y, m, d, hh, mm} or null if not a real date. */
export function parseJalali(text) {
  const latin = String(text).replace(/[۰-۹]/g, (c) => '۰۱۲۳۴۵۶۷۸۹'.indexOf(c))
    .replace(/[٠-٩]/g, (c) => '٠١٢٣٤٥٦٧٨٩'.indexOf(c)).trim();
  const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2}))?$/.exec(latin);
  if (!m) return null;
  const [y, mo, d] = [+m[1], +m[2], +m[3]];
  if (y < 1300 || y > 1500 || mo < 1 || mo > 12 || d < 1 || d > monthLength(y, mo)) return null;
  const hh = m[4] === undefined ? null : +m[4];
  const mm = m[5] === undefined ? null : +m[5];
  if (hh !== null && (hh > 23 || mm > 59)) return null;
  return { y, m: mo, d, hh, mm };
}
