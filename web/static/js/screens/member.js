// The member's (خادمیار) screens: home from GET /me, readiness and offers, invitations, service reports,
// shrine shifts, and suggestions and integrity reports.
import { all, del, get, post, put } from '../core/api.js';
import {
  action, alertBox, badge, card, clear, code, date, dateTime, empty, form, h, listView, nationalId, notify, phone, section,
  setOptions, span,
} from '../core/dom.js';
import { digits, L, num, word } from '../core/i18n.js';
import { bindProvinceCounty, countyName, fieldOptions, fields, provinceName } from '../core/lookup.js';
import * as session from '../core/session.js';

const MEMBER = ['member'];
const TONES = { approved: 'good', accepted: 'good', booked: 'good', eligible: 'good', active: 'good',
  rejected: 'bad', declined: 'bad', cancelled: 'bad', pending_review: 'wait', submitted: 'wait', invited: 'wait',
  under_review: 'wait', suspended: 'wait', deactivated: 'bad' };
const status = (group, value) => badge(word(group, value), TONES[value] || '');
const shiftTime = (x) => span(x.starts_at, x.ends_at);
export const readBadge = (read) => badge(word('lesson', read ? 'read' : 'unread'), read ? 'good' : 'wait');
/** A ground for review as the membership guide numbers and words it: "۳- عدم رعایت مقررات …". */
export const reasonTitle = (r) => `${num(r.number)}- ${L(r.title, r.title_en)}`;
/** Evidence sentences carry dates and counts in Latin digits: shown in the reader's. */
export const evidence = (r) => digits(L(r.evidence, r.evidence_en));

export function missedWeeks({ missed_weeks: missed, tolerance }) {
  return L(`${num(missed)} هفته مطلب آموزشی را مطالعه نکرده‌اید؛ با ${num(tolerance)} هفته، ادامه خدمت شما بازنگری می‌شود.`,
    `You have not read the lesson in ${num(missed)} week(s); at ${num(tolerance)} weeks your service is reviewed.`);
}

/** Where the member stands (GET /me's standing): an open review and its reasons, suspension, missed meetings. */
function standingNotices(p, standing) {
  const out = [];
  if (p.status === 'suspended') {
    out.push(alertBox(L('عضویت شما به تصمیم نمایندگی استان تعلیق شده است؛ تا رفع تعلیق، انتخاب خدمت جدید و رزرو کشیک حرم ممکن نیست.',
      'Your membership is suspended by the provincial office; until it is lifted you cannot offer services or book shrine shifts.'), 'warn'));
  }
  const review = standing?.review;
  if (review) {
    out.push(section(L('بازنگری ادامه خدمت', 'Your service is under review'), h('div', { class: 'notice warn review', role: 'status' },
      h('p', {}, L('در پی موارد زیر، ادامه خدمت شما مورد بازنگری قرار گرفته است و نمایندگی استان درباره آن تصمیم می‌گیرد.',
        'Because of the following, your service is under review; the provincial office will decide on it.')),
      h('ul', { class: 'reasons' }, review.reasons.map((r) => h('li', {}, h('strong', {}, reasonTitle(r)), h('span', {}, evidence(r))))),
      h('p', {}, L('تاریخ گشایش پرونده: ', 'Case opened on: '), date(review.opened_at)))));
  }
  if (standing?.meetings?.overdue) {
    out.push(alertBox(L('بیش از شش ماه است که در جلسات حضوری خادمیاران شرکت نکرده‌اید؛ مکان و زمان جلسه را از نمایندگی استان خود جویا شوید.',
      'You have not attended an in-person meeting for six months; ask your provincial office where and when the next one is.'), 'warn'));
  }
  return out;
}

function trainingPart(training) {
  if (!training) return null;
  const lesson = training.lesson;
  return section(L('آموزش هفتگی', 'Weekly lesson'),
    lesson ? card(lesson.title, [[L('مطلب آموزشی این هفته', "This week's lesson"), readBadge(training.read)]])
      : empty(L('مطلب آموزشی این هفته هنوز منتشر نشده است.', "This week's lesson is not published yet.")),
    training.missed_weeks ? alertBox(missedWeeks(training), 'warn') : null,
    h('a', { href: '#/training', class: 'button secondary' },
      lesson && !training.read ? L('مطالعه مطلب این هفته', "Read this week's lesson") : L('آموزش هفتگی', 'Weekly lessons')));
}

async function home(view) {
  const me = await get('/me');
  const p = me.profile;
  view.append(h('p', { class: 'lead' }, L(`${p.first_name} ${p.last_name} عزیز، خوش آمدید.`, `Welcome, ${p.first_name} ${p.last_name}.`)));
  if (me.unavailable?.length) {
    view.append(alertBox(L('بخشی از اطلاعات شما اکنون در دسترس نیست؛ کمی بعد دوباره سر بزنید.',
      'Part of your information is unavailable right now; look again shortly.'), 'warn'));
  }
  const standing = me.standing;
  view.append(...standingNotices(p, standing));
  const place = [await provinceName(p.province), await countyName(p.province, p.county)].filter(Boolean).join('، ');
  view.append(card(L('وضعیت من', 'My status'), [
    [L('وضعیت عضویت', 'Membership'), h('span', {}, status('member', p.status), standing?.review ? status('member', 'under_review') : null)],
    [L('کد ملی', 'National ID'), nationalId(p.national_id)],
    [L('استان و شهرستان', 'Province and county'), place],
    [L('آخرین جلسه حضوری', 'Last in-person meeting'), p.last_meeting_jalali ? digits(p.last_meeting_jalali) : L('هنوز ثبت نشده', 'None yet')],
    [L('شرکت در جلسه حضوری بعدی تا', 'Next in-person meeting due by'), digits(p.next_meeting_due_jalali)],
  ]));
  view.append(trainingPart(standing?.training));

  const shrine = me.shrine;
  if (shrine) {
    const e = shrine.eligibility;
    view.append(section(L('کشیک حرم مطهر', 'Shrine shifts'),
      h('p', { class: `notice ${e.eligible ? 'ok' : 'info'}` }, L(e.reason, e.reason_en)),
      shrine.next_shifts.length
        ? shrine.next_shifts.map((b) => card(b.post, [[L('زمان', 'When'), dateTime(b.starts_at)], [L('وضعیت', 'Status'), status('booking', b.status)]]))
        : empty(L('کشیک پیش رویی ندارید.', 'No upcoming shifts.')),
      h('a', { href: '#/shrine', class: 'button secondary' }, L('کشیک‌های حرم', 'Shrine shifts'))));
  }

  const r = me.readiness;
  view.append(section(L('اعلام آمادگی خدمت', 'Readiness'),
    r ? card(r.field_name, [
      [L('نوع عرصه', 'Kind'), word('kind', r.field_kind)],
      [L('قفل تا', 'Locked until'), date(r.locked_until)],
      [L('خدمات فعال', 'Active services'), `${num(r.active_offers)} ${L('از', 'of')} ${num(2)}`],
    ]) : empty(L('هنوز اعلام آمادگی نکرده‌اید.', 'You have not declared readiness yet.')),
    h('a', { href: '#/readiness', class: 'button secondary' }, r ? L('خدمات من', 'My services') : L('اعلام آمادگی خدمت', 'Declare readiness'))));

  const offers = me.offers || [];
  if (offers.length) {
    view.append(section(L('خدمات اعلام شده', 'My offers'), offers.map((o) => card(o.service_name, [
      [L('وضعیت', 'Status'), status('offer', o.status)], [L('دلیل', 'Reason'), o.reason]]))));
  }
  const reservations = me.reservations || [];
  const invited = reservations.filter((x) => x.status === 'invited');
  view.append(section(L('دعوت‌ها و رزروها', 'Invitations and reservations'),
    invited.length ? h('p', { class: 'notice info' }, L(`${num(invited.length)} دعوت در انتظار پاسخ شماست.`, `${num(invited.length)} invitation(s) await your answer.`)) : null,
    reservations.length ? reservations.slice(0, 5).map((x) => card(x.service_name, [
      [L('زمان', 'When'), dateTime(x.starts_at)], [L('مکان', 'Place'), x.place], [L('وضعیت', 'Status'), status('reservation', x.status)]]))
      : empty(L('هنوز دعوتی ندارید.', 'No invitations yet.')),
    h('a', { href: '#/invitations', class: 'button secondary' }, L('دعوت‌ها', 'Invitations'))));
  const reports = me.reports || [];
  view.append(section(L('گزارش‌های خدمت', 'Service reports'),
    reports.length ? reports.slice(0, 5).map((x) => card(x.service_name, [
      [L('تاریخ انجام', 'Done on'), date(x.performed_on)], [L('وضعیت', 'Status'), status('report', x.status)], [L('دلیل', 'Reason'), x.reason]]))
      : empty(L('هنوز گزارشی ثبت نکرده‌اید.', 'No reports yet.')),
    h('a', { href: '#/reports', class: 'button secondary' }, L('ثبت گزارش خدمت', 'File a report'))));
}

async function readiness(view) {
  let current = null;
  try {
    current = await get('/me/readiness');
  } catch (problem) {
    if (problem.status !== 404) throw problem;
  }
  const claims = session.claims();
  const f = form({
    id: 'readiness',
    intro: L('نام استان، شهرستان و سپس یکی از عرصه‌های تخصصی یا عمومی را با توجه به نوع علاقه و تخصص خود انتخاب کنید.',
      'Choose the province, the county and one field, general or specialized, by your interest and skills.'),
    fields: [
      { name: 'province', label: L('استان', 'Province'), type: 'select', required: true },
      { name: 'county', label: L('شهرستان', 'County'), type: 'select', required: true },
      { name: 'field', label: L('عرصه خدمت', 'Field of service'), type: 'select', required: true,
        hint: L('در صورت انتخاب هر عرصه تا شش ماه امکان تغییر آن وجود ندارد. چنانچه تخصص ندارید، عرصه عمومی را انتخاب کنید؛ عرصه ستادی فقط با هماهنگی نمایندگی استان.',
          'A field is locked for six months. Without a speciality choose a general field; the staff field only with the office’s agreement.') },
    ],
    submit: L('ذخیره', 'Save'),
    resetOnSuccess: false,
    async onSubmit(values) {
      const answer = await put('/me/readiness', values);
      notify(L(`اعلام آمادگی ذخیره شد؛ عرصه تا ${date(answer.locked_until)} قفل است.`, `Saved; the field is locked until ${date(answer.locked_until)}.`));
      clear(view);
      await readiness(view);
    },
  });
  if (current) {
    view.append(card(L('اعلام آمادگی فعلی', 'Current readiness'), [
      [L('عرصه', 'Field'), current.field_name],
      [L('قفل تا', 'Locked until'), date(current.locked_until)],
      [L('خدمات فعال', 'Active services'), `${num(current.active_offers)} ${L('از', 'of')} ${num(2)}`]]));
  }
  view.append(section(current ? L('تغییر عرصه', 'Change the field') : L('اعلام آمادگی خدمت', 'Declare readiness'), f.el));
  await bindProvinceCounty(f, { initial: current || { province: claims?.prov, county: claims?.cty } });
  setOptions(f.inputs.field, await fieldOptions());
  f.restore('field');
  if (!f.inputs.field.value && current) f.inputs.field.value = current.field;
  if (!current) return;

  const field = (await fields()).find((x) => x.id === current.field);
  const services = field?.services || [];
  const offerForm = form({
    id: 'offer',
    intro: L('حداکثر دو خدمت را به صورت همزمان انتخاب کنید و جزئیات، به ویژه تلفن تماس خود را دقیق بنویسید تا کانون‌های محله‌ای بتوانند با شما تماس بگیرند.',
      'Pick at most two services at a time, and give the details and your phone precisely so neighbourhood centres can call you.'),
    fields: [
      { name: 'service', label: L('خدمت', 'Service'), type: 'select', required: true, options: services.map((s) => [s.id, s.name]) },
      { name: 'details', label: L('نحوه انجام خدمت', 'How you will do it'), type: 'textarea', required: true },
      { name: 'availability', label: L('زمان‌های در دسترس', 'When you are available') },
      { name: 'phone', label: L('تلفن تماس', 'Contact phone'), type: 'tel', required: true, ltr: true, autocomplete: 'tel' },
    ],
    submit: L('ثبت خدمت', 'Offer this service'),
    async onSubmit(values) {
      await post('/me/offers', values);
      notify(L('خدمت شما ثبت شد و پس از بررسی کانون موضوعی شهرستان در دسترس کانون‌های محله‌ای قرار می‌گیرد.',
        'Your offer was filed; once the thematic centre approves it, neighbourhood centres can reserve it.'));
      offerForm.reset();
      clear(view);
      await readiness(view); // the count of active services changed
    },
  });
  const about = services.map((s) => h('li', {}, h('strong', {}, s.name), ': ', s.description,
    s.requires_documents ? h('span', { class: 'hint' }, L(' (نیازمند مدارک تخصصی)', ' (needs documents)')) : null));
  const mine = listView(async () => (await get('/me/offers')).items, offerCard,
    L('هنوز خدمتی انتخاب نکرده‌اید.', 'You have not offered a service yet.'));
  const full = current.active_offers >= 2;
  view.append(section(L('خدمات عرصه', 'Services of the field'),
    about.length ? h('ul', {}, about) : empty(L('این عرصه خدمتی ندارد.', 'This field has no services.')),
    full ? alertBox(L('دو خدمت فعال دارید؛ تا پایان یافتن یکی از آنها خدمت جدیدی انتخاب نکنید.',
      'You have two active services; end one before choosing another.'), 'info') : offerForm.el),
  section(L('خدمات من', 'My services'), mine));
}

function offerCard(o, reload) {
  const actions = [];
  if (['pending_review', 'approved'].includes(o.status)) {
    actions.push(action(L('انصراف', 'Withdraw'), async () => { await post(`/me/offers/${o.id}/withdraw`); reload(); },
      { confirmText: L('از این خدمت انصراف می‌دهید؟', 'Withdraw this offer?') }));
  }
  if (o.status === 'approved') {
    actions.push(action(L('پایان خدمت', 'Mark completed'), async () => { await post(`/me/offers/${o.id}/complete`); reload(); }));
  }
  let upload = null;
  if (o.requires_documents && o.status === 'pending_review') {
    upload = form({
      fields: [{ name: 'file', label: L('بارگذاری مدرک (PDF، JPEG یا PNG تا ۵ مگابایت)', 'Upload a document (PDF, JPEG or PNG, up to 5 MB)'), type: 'file',
        accept: 'application/pdf,image/jpeg,image/png', required: true }],
      submit: L('بارگذاری', 'Upload'),
      async onSubmit(values) {
        const data = new FormData();
        if (values.file) data.append('file', values.file);
        await post(`/offers/${o.id}/documents`, data);
        notify(L('مدرک بارگذاری شد.', 'The document was uploaded.'));
        reload();
      },
    }).el;
  }
  return card(o.service_name, [
    [L('وضعیت', 'Status'), status('offer', o.status)],
    [L('جزئیات', 'Details'), o.details],
    [L('زمان‌های در دسترس', 'Availability'), o.availability],
    [L('تلفن', 'Phone'), phone(o.phone)],
    [L('مدارک', 'Documents'), o.requires_documents ? num(o.documents) : null],
    [L('دلیل رد', 'Reason'), o.reason],
  ], actions, upload);
}

function invitations(view) {
  view.append(h('p', { class: 'lead' }, L('کانون‌های محله‌ای شهرستان بر اساس فهرست نیازمندان، خدمت شما را رزرو و شما را دعوت می‌کنند.',
    'Neighbourhood centres reserve your service for people in need and invite you.')));
  const list = listView(() => all('/me/reservations'), (x, reload) => {
    const actions = [];
    if (x.status === 'invited') {
      actions.push(action(L('می‌پذیرم', 'Accept'), async () => {
        await post(`/reservations/${x.id}/accept`);
        notify(L('دعوت را پذیرفتید؛ پس از انجام خدمت، گزارش آن را ثبت کنید.', 'Accepted; file a report once the service is done.'));
        reload();
      }, { tone: 'primary' }));
      actions.push(reasonForm(L('نمی‌توانم', 'Decline'), L('دلیل (اختیاری)', 'Reason (optional)'), false, async (reason) => {
        await post(`/reservations/${x.id}/decline`, reason ? { reason } : {});
        reload();
      }));
    }
    return card(x.service_name, [
      [L('کانون', 'Centre'), x.center],
      [L('زمان', 'When'), span(x.starts_at, x.ends_at)],
      [L('مکان', 'Place'), x.place],
      [L('وضعیت', 'Status'), status('reservation', x.status)],
      [L('دلیل', 'Reason'), x.decline_reason || x.cancel_note],
    ], actions);
  }, L('دعوتی ندارید.', 'No invitations.'));
  view.append(list);
}

/**
 * A disclosure with a reason box and a button: for rejecting, declining, closing with a note. ``name`` is the
 * field as the API spells it (so its problem shows under the box); ``id`` keeps what is typed as a draft.
 */
export function reasonForm(label, fieldLabel, required, run, { name = 'reason', id = null } = {}) {
  const f = form({
    id,
    fields: [{ name, label: fieldLabel, type: 'textarea', required }],
    submit: label,
    async onSubmit(values) {
      await run(values[name]);
    },
  });
  return h('details', { class: 'reason' }, h('summary', {}, label), f.el);
}

async function reports(view) {
  const accepted = (await all('/me/reservations', { status: 'accepted' }));
  const f = form({
    id: 'report',
    intro: L('پس از اتمام انجام خدمت، نتیجه عملکرد خود را وارد کنید؛ ناظر (مسئول کانون) آن را بررسی می‌کند.',
      'After the service, describe what you did; the supervisor (head of the centre) reviews it.'),
    fields: [
      { name: 'reservation', label: L('خدمت انجام شده', 'The service done'), type: 'select', required: true,
        options: accepted.map((x) => [x.id, `${x.service_name} — ${dateTime(x.starts_at)} — ${x.place}`]) },
      { name: 'performed_on', label: L('تاریخ انجام', 'Date done'), type: 'date', required: true },
      { name: 'hours', label: L('مدت (ساعت)', 'Hours'), type: 'number', decimal: true, required: true },
      { name: 'summary', label: L('شرح آنچه انجام شد', 'What was done'), type: 'textarea', required: true },
    ],
    submit: L('ثبت گزارش خدمت', 'File the report'),
    async onSubmit(values) {
      await post('/reports', values);
      notify(L('گزارش خدمت ثبت شد و برای ناظر فرستاده شد.', 'Your report was filed and sent to the supervisor.'));
      mine.reload();
    },
  });
  const mine = listView(async () => (await get('/me/reports')).items, (x) => card(x.service_name, [
    [L('تاریخ انجام', 'Done on'), date(x.performed_on)],
    [L('مدت', 'Hours'), num(x.hours)],
    [L('وضعیت', 'Status'), status('report', x.status)],
    [L('دلیل رد', 'Reason'), x.reason],
  ]), L('هنوز گزارشی ثبت نکرده‌اید.', 'No reports yet.'));
  view.append(accepted.length ? f.el : empty(L('خدمت پذیرفته‌شده‌ای برای گزارش ندارید.', 'You have no accepted service to report on.')),
    section(L('گزارش‌های من', 'My reports'), mine));
}

async function shrine(view) {
  const e = await get('/shrine/eligibility');
  view.append(h('p', { class: `notice ${e.eligible ? 'ok' : 'info'}`, id: 'eligibility' }, L(e.reason, e.reason_en)));
  const mine = listView(async () => (await get('/shrine/bookings')).items.filter((b) => ['booked', 'offered', 'waiting', 'pending'].includes(b.status)),
    (b, reload) => {
      const actions = [];
      if (b.status === 'booked' || b.status === 'offered') {
        actions.push(action(b.status === 'booked' ? L('لغو کشیک', 'Cancel') : L('نمی‌خواهم', 'Decline'), async () => {
          await del(`/shrine/bookings/${b.id}`);
          notify(L('کشیک لغو شد.', 'The booking was cancelled.'));
          reload();
          shifts.reload();
        }, { confirmText: L('این کشیک لغو شود؟', 'Cancel this shift?') }));
      }
      if (b.status === 'offered') {
        actions.unshift(action(L('می‌پذیرم', 'Take it'), async () => { await post(`/shrine/bookings/${b.id}/confirm`); reload(); shifts.reload(); }, { tone: 'primary' }));
      }
      return card(b.post, [
        [L('زمان', 'When'), shiftTime(b)],
        [L('وضعیت', 'Status'), status('booking', b.status)],
        [L('مهلت لغو', 'Cancel until'), b.cancel_deadline ? dateTime(b.cancel_deadline) : null],
        [L('مهلت پذیرش', 'Take it by'), b.confirm_by ? dateTime(b.confirm_by) : null],
      ], actions);
    }, L('کشیکی رزرو نکرده‌اید.', 'You have no shifts booked.'));
  const shifts = listView(async () => (await get('/shrine/shifts')).items, (s) => {
    const actions = [];
    if (e.eligible && s.phase !== 'started' && s.phase !== 'not_open') {
      if (s.remaining > 0) {
        actions.push(action(L('رزرو این کشیک', 'Book this shift'), async () => {
          const answer = await post(`/shrine/shifts/${s.id}/bookings`, undefined, { headers: { 'Idempotency-Key': `${s.id}-${Date.now()}` } });
          if (answer.status === 'pending') {
            notify(L(`درخواست شما در قرعه‌کشی منصفانه شرکت داده شد؛ نتیجه ${digits(answer.draw_at_jalali || '')} اعلام می‌شود.`,
              `You are in the fair-opening draw; the result comes at ${answer.draw_at_jalali || ''}.`));
          } else {
            notify(L('کشیک برای شما رزرو شد.', 'The shift is booked for you.'));
          }
          shifts.reload();
          mine.reload();
        }, { tone: 'primary' }));
      } else {
        actions.push(action(L('ثبت در فهرست انتظار', 'Join the waiting list'), async () => {
          await post(`/shrine/shifts/${s.id}/waitlist`);
          notify(L('در فهرست انتظار ثبت شدید؛ اگر جایی آزاد شود به شما پیشنهاد می‌شود.', 'You are on the waiting list.'));
          mine.reload();
        }));
      }
    }
    return card(s.post, [
      [L('زمان', 'When'), shiftTime(s)],
      [L('ظرفیت باقی‌مانده', 'Places left'), h('strong', { class: 'remaining' }, `${num(s.remaining)} ${L('از', 'of')} ${num(s.capacity)}`)],
      [L('ویژه', 'For'), s.gender ? word('gender', s.gender) : null],
      [L('نوبت‌دهی', 'Booking'), word('phase', s.phase)],
      [L('گشایش', 'Opens'), s.opens_at ? dateTime(s.opens_at) : null],
    ], actions);
  }, L('در دو هفته آینده کشیکی منتشر نشده است.', 'No shifts are published for the next two weeks.'));
  view.append(section(L('کشیک‌های من', 'My shifts'), mine), section(L('کشیک‌های پیش رو', 'Upcoming shifts'), shifts));
}

function tickets(view) {
  const mine = listView(async () => (await get('/member-tickets/mine')).items, (t) => card(t.title || word('member_ticket', t.kind), [
    [L('نوع', 'Kind'), word('member_ticket', t.kind)],
    [L('کد رهگیری', 'Tracking code'), code(t.tracking_code)],
    [L('تاریخ', 'Date'), digits(t.created_at_jalali)],
    [L('وضعیت', 'Status'), word('member_ticket', t.status)],
    [L('پاسخ نمایندگی', "The office's answer"), t.response],
  ]), L('هنوز موردی ثبت نکرده‌اید.', 'Nothing filed yet.'));
  const done = (answer) => {
    notify(L(`ثبت شد. کد رهگیری: ${answer.tracking_code}`, `Filed. Tracking code: ${answer.tracking_code}`));
    mine.reload();
  };
  const suggestion = form({
    id: 'suggestion',
    intro: L('در صورت داشتن ایده و پیشنهاد فعالیت‌های خلاقانه و الگویی، آن را با نمایندگی استان در میان بگذارید.',
      'Share your ideas for creative, exemplary activities with the provincial office.'),
    fields: [
      { name: 'title', label: L('عنوان', 'Title'), required: true },
      { name: 'body', label: L('شرح پیشنهاد', 'Your suggestion'), type: 'textarea', required: true },
    ],
    submit: L('ثبت پیشنهاد', 'Send the suggestion'),
    async onSubmit(values) { done(await post('/suggestions', values)); },
  });
  const integrity = form({
    id: 'integrity',
    intro: L('عضویت در طرح خادمیاری رضوی کاملاً رایگان است. اگر کسی از شما تقاضای وجه نقد یا هر گونه کمک مالی کرد، مراتب را اطلاع دهید.',
      'Membership is free. If anyone asks you for money or any financial help, report it here.'),
    fields: [
      { name: 'body', label: L('شرح ماجرا', 'What happened'), type: 'textarea', required: true },
      { name: 'accused', label: L('نام یا مشخصات درخواست‌کننده (اختیاری)', 'Who asked (optional)') },
    ],
    submit: L('ارسال گزارش', 'Send the report'),
    async onSubmit(values) { done(await post('/integrity-reports', values)); },
  });
  view.append(section(L('ثبت پیشنهادات و ابتکارات', 'Suggestions and innovations'), suggestion.el),
    section(L('گزارش درخواست وجه', 'Report a request for money'), integrity.el),
    section(L('موارد ثبت‌شده من', 'What I filed'), mine));
}

export default [
  { path: '/', title: () => L('خانه من', 'My home'), roles: MEMBER, render: home },
  { path: '/readiness', title: () => L('اعلام آمادگی خدمت', 'Readiness and services'), roles: MEMBER, render: readiness },
  { path: '/invitations', title: () => L('دعوت‌ها', 'Invitations'), roles: MEMBER, render: invitations },
  { path: '/reports', title: () => L('گزارش خدمت', 'Service reports'), roles: MEMBER, render: reports },
  { path: '/shrine', title: () => L('کشیک حرم مطهر', 'Shrine shifts'), roles: MEMBER, render: shrine },
  { path: '/suggestions', title: () => L('پیشنهادات و گزارش تخلف', 'Suggestions and reports'), roles: MEMBER, render: tickets },
];
