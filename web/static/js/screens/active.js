// Staying active (issue 6): the weekly lesson (آموزش هفتگی) for members, published by the admin; the in-person
// meetings (جلسات حضوری) the office schedules and records; the review (بازنگری): open cases with their reasons
// and evidence, the office's decision, and one member's standing with the grounds the office records itself.
import { all, get, post } from '../core/api.js';
import {
  action, alertBox, badge, card, clear, date, dateTime, empty, form, h, listView, nationalId, notify, pagedView, section,
  setOptions,
} from '../core/dom.js';
import { digits, L, latinDigits, num, options, word } from '../core/i18n.js';
import { jalaliDate } from '../core/jalali.js';
import { bindProvinceCounty, countyName, provinceName } from '../core/lookup.js';
import * as session from '../core/session.js';
import { evidence, missedWeeks, readBadge, reasonForm, reasonTitle } from './member.js';

const MEMBER = ['member'];
const OFFICE = ['admin', 'province_office'];
const MEMBER_TONES = { active: 'good', suspended: 'wait', deactivated: 'bad' };

const memberBadge = (status) => badge(word('member', status), MEMBER_TONES[status] || '');
const caseBadge = (x) => badge(word('review', x.status), x.status === 'open' ? 'wait' : '');

// -- the weekly lesson (آموزش هفتگی)
/** This week's lesson, or null when it is not published yet. */
async function currentLesson() {
  try {
    return await get('/training/lessons/current');
  } catch (problem) {
    if (problem.status === 404) return null;
    throw problem;
  }
}

const byWeekDesc = (a, b) => (a.week < b.week ? 1 : a.week > b.week ? -1 : 0);

/** "۱۴۰۵/۰۸/۳۰ تا ۱۴۰۵/۰۹/۰۶": the Jalali week (Saturday to Friday) a lesson belongs to. */
function weekSpan(lesson) {
  const [y, m, d] = lesson.week.split('-').map(Number);
  const friday = new Date(Date.UTC(y, m - 1, d + 6)).toISOString().slice(0, 10);
  return digits(`${jalaliDate(lesson.week)} ${L('تا', 'to')} ${jalaliDate(friday)}`);
}

function lessonBody(lesson) {
  const paragraphs = String(lesson.body || '').split('\n').map((p) => p.trim()).filter(Boolean);
  const link = /^https?:\/\//i.test(lesson.link || '') ? lesson.link : null;
  return h('div', { class: 'lesson-body' }, paragraphs.map((p) => h('p', {}, p)),
    link ? h('p', {}, h('a', { href: link, rel: 'noopener noreferrer', target: '_blank' }, L('مطالعه بیشتر', 'Read more'))) : null);
}

/** A lesson as a member reads it: the text, whether it is read, and the button that records reading it. */
function memberLesson(lesson, redraw, open) {
  const actions = [];
  if (!lesson.read) {
    actions.push(action(L('مطالعه کردم', 'I have read it'), async () => {
      const answer = await post(`/training/lessons/${lesson.id}/read`);
      notify(answer.on_time ? L('مطالعه این مطلب آموزشی ثبت شد.', 'Recorded: you have read this lesson.')
        : L('مطالعه ثبت شد؛ هفته این مطلب گذشته بود و برای آن هفته به حساب نمی‌آید.',
          "Recorded; the lesson's week was over, so it does not count for that week."));
      await redraw();
    }, { tone: 'primary' }));
  }
  const facts = [
    [L('هفته', 'Week'), weekSpan(lesson)],
    [L('وضعیت', 'Status'), readBadge(lesson.read)],
    [L('زمان مطالعه', 'Read on'), lesson.read_at ? dateTime(lesson.read_at) : null],
  ];
  if (open) return card(lesson.title, facts, actions, lessonBody(lesson));
  return h('details', { class: 'card lesson' }, h('summary', {}, h('strong', {}, lesson.title), ' ', readBadge(lesson.read)),
    card(null, facts, actions, lessonBody(lesson)));
}

async function memberTraining(view) {
  const [lesson, record, lessons] = await Promise.all([currentLesson(), get('/me/training'), all('/training/lessons')]);
  const redraw = async () => { clear(view); await memberTraining(view); };
  view.append(h('p', { class: 'lead' }, L('هر یک از خادمیاران رضوی هر هفته یک مطلب آموزشی را مطالعه می‌کند.',
    'Every Razavi volunteer reads one lesson each week.')));
  if (record.missed_weeks) view.append(alertBox(missedWeeks(record), 'warn'));
  const past = lessons.filter((x) => x.id !== lesson?.id).sort(byWeekDesc);
  view.append(
    section(L('مطلب آموزشی این هفته', "This week's lesson"), lesson ? memberLesson(lesson, redraw, true)
      : empty(L('مطلب آموزشی این هفته هنوز منتشر نشده است.', "This week's lesson is not published yet."))),
    section(L('مطالب آموزشی پیشین', 'Earlier lessons'), past.length ? past.map((x) => memberLesson(x, redraw, false))
      : empty(L('مطلب پیشینی نیست.', 'No earlier lessons.'))));
}

/** Admin: publish a week's lesson; the admin and the provincial offices: the lessons published. */
function staffTraining(view) {
  let currentId = null;
  const list = listView(async () => {
    const [current, items] = await Promise.all([currentLesson(), all('/training/lessons')]);
    currentId = current?.id;
    return items.sort(byWeekDesc);
  }, (x) => h('details', { class: 'card lesson' },
    h('summary', {}, h('strong', {}, x.title), ' ', x.id === currentId ? badge(L('این هفته', 'This week'), 'good') : null),
    card(null, [[L('هفته', 'Week'), weekSpan(x)], [L('تاریخ انتشار', 'Published'), dateTime(x.created_at)]], [], lessonBody(x))),
  L('هنوز مطلب آموزشی منتشر نشده است.', 'No lessons are published yet.'));
  if (session.role() === 'admin') {
    const f = form({
      id: 'lesson',
      intro: L('هر هفته یک مطلب آموزشی منتشر می‌شود و هر خادمیار باید آن را در همان هفته مطالعه کند.',
        'One lesson is published each week; every member must read it within that week.'),
      fields: [
        { name: 'title', label: L('عنوان مطلب', 'Title'), required: true },
        { name: 'body', label: L('متن مطلب آموزشی', 'Text of the lesson'), type: 'textarea', rows: 8, required: true },
        { name: 'link', label: L('پیوند برای مطالعه بیشتر (اختیاری)', 'Link to read more (optional)'), ltr: true, inputmode: 'url',
          hint: L('نشانی کامل، مانند https://razavi.aqr.ir', 'A full address, e.g. https://razavi.aqr.ir') },
        { name: 'week', label: L('هفته (اختیاری)', 'Week (optional)'), type: 'date',
          hint: L('یکی از روزهای آن هفته به تاریخ شمسی، مانند ۱۴۰۴/۰۸/۳۰؛ اگر خالی بماند، همین هفته.',
            'Any day of that week as a Jalali date, e.g. 1404/08/30; empty: this week.') },
      ],
      submit: L('انتشار مطلب آموزشی', 'Publish the lesson'),
      async onSubmit(values) {
        const answer = await post('/training/lessons', values);
        notify(L(`مطلب آموزشی هفته ${weekSpan(answer)} منتشر شد.`, `The lesson of the week ${weekSpan(answer)} is published.`));
        list.reload();
      },
    });
    view.append(section(L('مطلب آموزشی جدید', 'New lesson'), f.el));
  }
  view.append(section(L('مطالب آموزشی منتشرشده', 'Published lessons'), list));
}

// -- in-person meetings (جلسات حضوری)
async function meetings(view) {
  const c = session.claims();
  const list = pagedView((cursor) => get('/meetings', { cursor, limit: 20 }), meetingCard,
    L('هنوز جلسه حضوری تعریف نشده است.', 'No meeting has been scheduled yet.'));
  const f = form({
    id: 'meeting',
    intro: L('تمامی خادمیاران رضوی می‌بایست حداقل هر شش ماه یک بار در جلسات حضوری خادمیاران شرکت نمایند؛ جلسه را تعریف کنید و پس از برگزاری، حضور خادمیاران را ثبت کنید.',
      'Every member must attend an in-person meeting at least once every six months: schedule it, then record who came.'),
    fields: [
      { name: 'title', label: L('عنوان جلسه', 'Title'), hint: L('اگر خالی بماند: «جلسه حضوری خادمیاران»', 'Empty: “In-person meeting of members”') },
      { name: 'starts_at', label: L('زمان جلسه', 'When'), type: 'datetime', required: true },
      { name: 'place', label: L('مکان', 'Place'), required: true },
      { name: 'province', label: L('استان', 'Province'), type: 'select', required: true },
      { name: 'county', label: L('شهرستان (اختیاری)', 'County (optional)'), type: 'select' },
    ],
    submit: L('تعریف جلسه حضوری', 'Schedule the meeting'),
    resetOnSuccess: false, // a reset would empty the office's own (fixed) province
    async onSubmit(values) {
      const body = { ...values, province: f.inputs.province.value };
      if (c.role !== 'admin') delete body.province; // an office's meetings are its own province's
      await post('/meetings', body);
      ['title', 'starts_at', 'place'].forEach((name) => { f.inputs[name].value = ''; });
      notify(L('جلسه حضوری تعریف شد؛ پس از برگزاری، حضور خادمیاران را ثبت کنید.', 'The meeting is scheduled; after it, record who attended.'));
      list.reload();
    },
  });
  view.append(section(L('جلسه حضوری جدید', 'New meeting'), f.el),
    section(L('جلسات تعریف‌شده', 'Scheduled meetings'), list));
  await bindProvinceCounty(f, { fixed: c.role === 'admin' ? null : c.prov });
}

/** A meeting of the list (latest first), with its attendance and the disclosure that records it. */
function meetingCard(m, reload) {
  const inside = h('div');
  const disclosure = h('details', { class: 'attendance' }, h('summary', {}, L('ثبت حضور خادمیاران', 'Record attendance')), inside);
  disclosure.addEventListener('toggle', () => {
    if (!disclosure.open || inside.dataset.loaded) return;
    inside.dataset.loaded = '1';
    attendance(m, inside, reload);
  });
  const where = h('span', {}, m.place);
  if (m.county) countyName(m.province, m.county).then((name) => where.append(` — ${name}`)).catch(() => {});
  const rows = [[L('زمان', 'When'), h('span', {}, dateTime(m.starts_at), ' ', m.past ? null : badge(L('پیش رو', 'Upcoming'), 'wait'))],
    [L('مکان', 'Place'), where],
    [L('حاضران ثبت‌شده', 'Recorded present'), num(m.attended)]];
  if (session.claims()?.role === 'admin') {
    const province = h('span', {}, m.province);
    provinceName(m.province).then((name) => { province.textContent = name; }).catch(() => {});
    rows.splice(1, 0, [L('استان', 'Province'), province]);
  }
  return card(m.title, rows, [], disclosure);
}

/**
 * Tick the members present: the province's members (activated applications), found by the API (`q`: a national ID
 * or its first digits, or part of a name), page by page. Those ticked stay ticked while the search changes.
 */
function attendance(m, holder, recorded) {
  const ticked = new Map(); // member_id -> label
  let found = [];
  let cursor;
  let asked = 0; // answers to an older search are dropped
  const searchId = `search-${m.id}`;
  const search = h('input', { id: searchId, type: 'text', autocomplete: 'off', 'aria-describedby': `${searchId}-hint` });
  const more = h('button', { type: 'button', class: 'secondary small', hidden: true }, L('نمایش بیشتر', 'Show more'));
  const f = form({
    fields: [{ name: 'member_ids', label: L('خادمیاران حاضر در جلسه', 'Members present'), type: 'checks', options: [] }],
    submit: L('ثبت حضور', 'Record attendance'),
    resetOnSuccess: false,
    async onSubmit(values) {
      const answer = await post(`/meetings/${m.id}/attendance`, values);
      notify(L(`حضور ${num(answer.attended)} خادمیار در جلسه ثبت شد.`, `Attendance of ${num(answer.attended)} member(s) recorded.`));
      recorded();
    },
  });
  function draw() {
    const shown = [...ticked].concat(found.filter(([id]) => !ticked.has(id)));
    f.setChecks('member_ids', shown);
    (f.inputs.member_ids || []).forEach((b) => { b.checked = ticked.has(b.value); });
  }
  f.el.addEventListener('change', (event) => {
    const box = event.target;
    if (box.name !== 'member_ids') return;
    if (box.checked) ticked.set(box.value, box.labels[0].textContent);
    else ticked.delete(box.value);
  });
  async function page(first) {
    const mine = first ? (asked += 1) : asked;
    const answer = await get('/applications', {
      status: 'activated', q: latinDigits(search.value.trim()), province: m.province, cursor: first ? undefined : cursor, limit: 50,
    });
    if (mine !== asked) return;
    const people = answer.items.filter((a) => a.member_id)
      .map((a) => [a.member_id, `${a.first_name} ${a.last_name} — ${digits(a.national_id)}`]);
    found = first ? people : found.concat(people);
    cursor = answer.next;
    more.hidden = !cursor;
    draw();
  }
  const failed = (problem) => { if (!problem.expired) holder.append(alertBox(problem.detail || String(problem))); };
  let pause;
  search.addEventListener('input', () => {
    clearTimeout(pause);
    pause = setTimeout(() => page(true).catch(failed), 300);
  });
  more.addEventListener('click', () => page(false).catch(failed));
  f.el.insertBefore(more, f.el.querySelector(':scope > .actions'));
  holder.append(h('div', { class: 'field' }, h('label', { for: searchId }, L('جستجو در نام یا کد ملی', 'Search by name or national ID')),
    h('p', { class: 'hint', id: `${searchId}-hint` }, L('کد ملی یا چند رقم نخست آن، یا بخشی از نام و نام خانوادگی', 'A national ID or its first digits, or part of the name')),
    search), f.el);
  page(true).catch(failed);
}

// -- the review (بازنگری)
const SOURCES = {
  office: ['ثبت نمایندگی استان', 'Recorded by the provincial office'],
  sweep: ['بررسی دوره‌ای سامانه', "The system's periodic check"],
  'reporting.ReportRejected': ['رد گزارش توسط ناظر', 'A report rejected by the supervisor'],
  'shrine.MemberFlaggedForReview': ['حضور و غیاب کشیک حرم', 'Shrine shift attendance'],
  'shrine.AbsenceRecorded': ['حضور و غیاب کشیک حرم', 'Shrine shift attendance'],
};
const sourceWord = (source) => (SOURCES[source] ? L(...SOURCES[source]) : source);

/** The grounds of a case once each ("۳- … (۲ مورد)"), for a list. */
function reasonSummary(reasons) {
  const counts = new Map();
  for (const r of reasons) counts.set(r.code, { number: r.number, count: (counts.get(r.code)?.count || 0) + 1 });
  const rows = [...counts].sort((a, b) => a[1].number - b[1].number);
  return h('ul', { class: 'reasons' }, rows.map(([code, { number, count }]) => h('li', {},
    `${num(number)}- ${word('reason', code)}`, count > 1 ? ` (${num(count)} ${L('مورد', 'items')})` : '')));
}

function reviewCard(x) {
  return card(x.member.name, [
    [L('کد ملی', 'National ID'), nationalId(x.member.national_id)],
    [L('وضعیت پرونده', 'Case'), caseBadge(x)],
    [L('تاریخ گشایش', 'Opened'), date(x.opened_at)],
    [L('دلایل', 'Reasons'), reasonSummary(x.reasons)],
    [L('تصمیم', 'Decision'), x.decision ? word('decision', x.decision) : null],
    [L('وضعیت عضویت', 'Membership'), memberBadge(x.member.status)],
  ], [h('a', { href: `#/reviews/${x.id}`, class: 'button secondary' }, L('بررسی پرونده', 'Open the case'))]);
}

function reviews(view) {
  const status = h('select', { id: 'review-status' });
  setOptions(status, options('review'), L('همه پرونده‌ها', 'All cases'));
  status.value = 'open';
  const reason = h('select', { id: 'review-reason' });
  setOptions(reason, options('reason'), L('همه دلایل', 'All reasons'));
  const list = pagedView((cursor) => get('/reviews', { status: status.value, reason: reason.value, cursor }), reviewCard,
    L('پرونده‌ای در این وضعیت نیست.', 'No cases in this state.'));
  status.addEventListener('change', () => list.reload());
  reason.addEventListener('change', () => list.reload());
  view.append(h('p', { class: 'lead' }, L('اگر هر یک از موارد راهنمای عضویت اتفاق بیفتد، ادامه خدمت خادمیار مورد بازنگری قرار می‌گیرد و نمایندگی استان تصمیم می‌گیرد: ادامه خدمت، تعلیق یا غیرفعال کردن.',
    "When any ground of the membership guide holds, the member's service is reviewed and the office decides: continue, suspend or deactivate.")),
  h('div', { class: 'field inline' }, h('label', { for: 'review-status' }, L('وضعیت', 'Status')), status),
  h('div', { class: 'field inline' }, h('label', { for: 'review-reason' }, L('دلیل', 'Reason')), reason),
  list);
}

/** Lift a suspension or undo a deactivation (POST /members/{id}/reinstate), then ``done``. */
function reinstateForm(memberId, done) {
  return reasonForm(L('بازگشت به خدمت', 'Reinstate'), L('توضیح بازگشت به خدمت', 'Why the member is reinstated'), true, async (note) => {
    await post(`/members/${memberId}/reinstate`, { note });
    notify(L('خادمیار به خدمت بازگشت و عضویت او فعال شد.', 'The member is reinstated and active again.'));
    await done();
  }, { name: 'note' });
}

async function reviewCase(view, { id }) {
  const x = await get(`/reviews/${encodeURIComponent(id)}`);
  const redraw = async () => { clear(view); await reviewCase(view, { id }); };
  view.append(card(x.member.name, [
    [L('کد ملی', 'National ID'), nationalId(x.member.national_id)],
    [L('شهرستان', 'County'), await countyName(x.province, x.member.county)],
    [L('وضعیت عضویت', 'Membership'), memberBadge(x.member.status)],
    [L('وضعیت پرونده', 'Case'), caseBadge(x)],
    [L('تاریخ گشایش', 'Opened'), dateTime(x.opened_at)],
    [L('تاریخ بستن', 'Closed'), x.closed_at ? dateTime(x.closed_at) : null],
    [L('تصمیم', 'Decision'), x.decision ? h('strong', {}, word('decision', x.decision)) : null],
    [L('توضیح تصمیم', 'Note'), x.note],
  ], [h('a', { href: `#/members/${x.member.id}`, class: 'button secondary' }, L('وضعیت خادمیار', "The member's standing"))]));
  view.append(section(L('دلایل بازنگری و مستندات', 'Reasons and evidence'), x.reasons.map((r) => card(reasonTitle(r), [
    [L('شرح', 'Evidence'), evidence(r)],
    [L('تاریخ ثبت', 'Recorded'), dateTime(r.recorded_at)],
    [L('منبع', 'Source'), sourceWord(r.source)],
  ]))));
  if (x.status === 'open') {
    const f = form({
      id: `decision-${x.id}`,
      intro: L('نمایندگی استان درباره ادامه خدمت خادمیار تصمیم می‌گیرد؛ با ثبت تصمیم، پرونده بسته می‌شود.',
        "The provincial office decides on the member's service; the decision closes the case."),
      fields: [
        { name: 'decision', label: L('تصمیم', 'Decision'), type: 'select', required: true, options: options('decision'),
          hint: L('تعلیق تا رفع آن، انتخاب خدمت و کشیک حرم را می‌بندد؛ غیرفعال کردن ورود به سامانه را هم می‌بندد.',
            'Suspension stops offers and shrine shifts until it is lifted; deactivation also ends logging in.') },
        { name: 'note', label: L('توضیح تصمیم', 'Reason for the decision'), type: 'textarea', required: true },
      ],
      submit: L('ثبت تصمیم', 'Record the decision'),
      async onSubmit(values) {
        const answer = await post(`/reviews/${x.id}/decision`, values);
        notify(L(`تصمیم «${word('decision', answer.decision)}» ثبت و پرونده بسته شد.`, `Decision “${word('decision', answer.decision)}” recorded; the case is closed.`));
        await redraw();
      },
    });
    view.append(section(L('تصمیم نمایندگی', "The office's decision"), f.el));
  } else if (x.member.status !== 'active') {
    view.append(section(L('بازگشت به خدمت', 'Reinstatement'), reinstateForm(x.member.id, redraw)));
  }
  view.append(h('p', {}, h('a', { href: '#/reviews' }, L('بازگشت به پرونده‌های بازنگری', 'Back to the review cases'))));
}

/** One member as the office sees them: standing, review cases, and the grounds the office records itself. */
async function memberPage(view, { id }) {
  const key = encodeURIComponent(id);
  const [s, cases] = await Promise.all([get(`/members/${key}/standing`), all('/reviews', { member: id })]);
  const redraw = async () => { clear(view); await memberPage(view, { id }); };
  const ref = cases.length ? cases[cases.length - 1].member : null;
  if (ref) view.append(h('p', { class: 'lead' }, ref.name, ' — ', L('کد ملی ', 'National ID '), nationalId(ref.national_id)));
  const t = s.training;
  const m = s.meetings;
  view.append(card(null, [
    [L('وضعیت عضویت', 'Membership'), memberBadge(s.status)],
    [L('مطلب آموزشی این هفته', "This week's lesson"), t.lesson ? h('span', {}, t.lesson.title, ' ', readBadge(t.read))
      : L('منتشر نشده است', 'Not published')],
    [L('هفته‌های مطالعه‌نشده', 'Weeks not read'), `${num(t.missed_weeks)} ${L('از', 'of')} ${num(t.tolerance)}`],
    [L('آخرین جلسه حضوری', 'Last in-person meeting'), m.last_jalali ? digits(m.last_jalali) : L('هنوز ثبت نشده', 'None yet')],
    [L('شرکت در جلسه حضوری بعدی تا', 'Next in-person meeting due by'),
      h('span', {}, digits(m.next_due_jalali), ' ', m.overdue ? badge(L('گذشته است', 'Overdue'), 'bad') : null)],
  ]));
  if (s.review) {
    view.append(h('div', { class: 'notice warn', role: 'status' }, h('p', {}, L('این خادمیار پرونده بازنگری باز دارد.', 'This member has an open review case.')),
      reasonSummary(s.review.reasons), h('a', { href: `#/reviews/${s.review.id}` }, L('بررسی پرونده', 'Open the case'))));
  }
  if (s.status !== 'deactivated') {
    const ground = (label, fieldLabel, path, done) => reasonForm(label, fieldLabel, true, async (note) => {
      await post(`/members/${key}/${path}`, { note });
      notify(done);
      await redraw();
    }, { name: 'note' });
    view.append(section(L('ثبت مورد برای بازنگری', 'Record a ground for review'),
      h('p', { class: 'hint' }, L('هر مورد، خادمیار را در بازنگری قرار می‌دهد (یا به پرونده باز او افزوده می‌شود).',
        'Each puts the member up for review (or joins their open case).')),
      ground(L('ثبت عدم رعایت مقررات و شئون خادمی', 'Record a breach of the rules'), L('شرح تخلف', 'What happened'), 'breaches',
        L('تخلف ثبت شد و خادمیار در بازنگری قرار گرفت.', 'The breach is recorded; the member is up for review.')),
      ground(L('ثبت عدم استمرار خدمت', 'Record discontinuity of service'), L('شرح عدم استمرار خدمت', 'How the service stopped'),
        'discontinuity', L('عدم استمرار خدمت ثبت شد و خادمیار در بازنگری قرار گرفت.', 'Discontinuity is recorded; the member is up for review.'))));
  }
  if (s.status !== 'active') view.append(section(L('بازگشت به خدمت', 'Reinstatement'), reinstateForm(id, redraw)));
  view.append(section(L('پرونده‌های بازنگری', 'Review cases'), cases.length ? cases.slice().reverse().map(reviewCard)
    : empty(L('پرونده بازنگری ندارد.', 'No review cases.'))));
}

export default [
  { path: '/training', title: () => L('آموزش هفتگی', 'Weekly lesson'), roles: MEMBER, render: memberTraining },
  { path: '/training', title: () => L('مطالب آموزشی', 'Weekly lessons'), roles: OFFICE, render: staffTraining,
    about: () => L('مطلب آموزشی هر هفته برای مطالعه خادمیاران', 'The lesson members read each week') },
  { path: '/meetings', title: () => L('جلسات حضوری', 'In-person meetings'), roles: OFFICE, render: meetings,
    about: () => L('تعریف جلسات حضوری خادمیاران و ثبت حضور', 'Schedule in-person meetings and record attendance') },
  { path: '/reviews', title: () => L('بازنگری خادمیاران', 'Member reviews'), roles: OFFICE, render: reviews,
    about: () => L('پرونده‌های بازنگری، دلایل و مستندات آنها و تصمیم نمایندگی', 'Review cases, their reasons and evidence, and the decision') },
  { path: '/reviews/:id', title: () => L('پرونده بازنگری', 'Review case'), roles: OFFICE, nav: false, render: reviewCase },
  { path: '/members/:id', title: () => L('وضعیت خادمیار', "A member's standing"), roles: OFFICE, nav: false, render: memberPage },
];
