// The service desk's (میز خدمت) screens: recording a visitor's request, the tickets' steps (resolve, refer,
// result, deliver, wait for the visitor), publishing procedures, and the office's scorecard with its chart.
import { all, get, post } from '../core/api.js';
import {
  action, alertBox, badge, card, clear, code, date, dateTime, empty, form, h, notify, pagedView, phone, section, setOptions,
} from '../core/dom.js';
import { barChart, legend } from '../core/chart.js';
import { digits, L, num, word } from '../core/i18n.js';
import { jalaliToday, MONTHS_EN, MONTHS_FA } from '../core/jalali.js';
import * as session from '../core/session.js';
import { reasonForm } from './member.js';

const DESK = ['admin', 'desk_officer'];
const UNIT = ['admin', 'unit_officer'];
const OFFICE = ['admin', 'province_office'];
const STAFF = ['admin', 'province_office', 'desk_officer', 'unit_officer'];
const EDITORS = ['admin', 'province_office', 'unit_officer'];
/** "1405-09" as "آذر ۱۴۰۵" (or just "آذر" when ``short``). */
function monthName(key, short = false) {
  const [year, month] = key.split('-').map(Number);
  const name = L(MONTHS_FA, MONTHS_EN)[month - 1];
  return short ? name : `${name} ${digits(year)}`;
}
const TONES = { resolved: 'good', delivered: 'good', result_ready: 'good', open: 'wait', referred: 'wait', awaiting_visitor: 'bad' };

async function newTicket(view) {
  const procedures = await all('/desk/procedures', session.claims()?.prov ? { province: session.claims().prov } : {});
  const result = h('div', { 'aria-live': 'polite' });
  result.tabIndex = -1;
  const f = form({
    id: 'ticket',
    fields: [
      { name: 'procedure', label: L('فرآیند', 'Procedure'), type: 'select', required: true, options: procedures.map((p) => [p.id, `${p.title} — ${p.unit || ''}`]) },
      { name: 'visitor.full_name', label: L('نام مراجعه‌کننده', "Visitor's name"), required: true },
      { name: 'visitor.national_id', label: L('کد ملی مراجعه‌کننده', "Visitor's national ID"), required: true, inputmode: 'numeric', ltr: true },
      { name: 'visitor.mobile', label: L('شماره همراه مراجعه‌کننده', "Visitor's mobile"), type: 'tel', required: true, ltr: true },
      { name: 'documents_received', label: L('مدارک دریافت‌شده', 'Documents received'), type: 'checks', options: [] },
      { name: 'description', label: L('شرح درخواست', 'The request'), type: 'textarea' },
    ],
    submit: L('ثبت درخواست و صدور کد رهگیری', 'Record and issue the tracking code'),
    async onSubmit(values) {
      const t = await post('/desk/tickets', { documents_received: [], ...values });
      clear(result).append(h('div', { class: 'notice ok one-time', role: 'status' },
        h('p', {}, h('strong', {}, L('کد رهگیری مراجعه‌کننده', "The visitor's tracking code"))),
        h('output', { class: 'secret', dir: 'ltr' }, t.tracking_code_display || t.tracking_code),
        h('p', {}, L('تاریخ وعده: ', 'Promised date: '), date(t.due_date)),
        t.missing_documents?.length ? h('p', {}, L('مدارک کسری: ', 'Missing documents: '), t.missing_documents.join('، ')) : null));
      result.focus();
    },
  });
  const docs = () => {
    const p = procedures.find((x) => x.id === f.inputs.procedure.value);
    f.setChecks('documents_received', (p?.required_documents || []).map((d) => [d, d]));
  };
  f.inputs.procedure.addEventListener('change', docs);
  f.el.addEventListener('reset', () => setTimeout(docs)); // after a request is recorded, the boxes go too
  docs();
  view.append(procedures.length ? f.el : empty(L('هنوز فرآیندی منتشر نشده است.', 'No procedures are published yet.')), result);
}

function ticketActions(t, reload) {
  const role = session.role();
  const steps = [];
  const forms = [];
  const done = (text) => { notify(text); reload(); };
  const at = (path, body) => post(`/desk/tickets/${t.tracking_code}/${path}`, body);
  if (DESK.includes(role) && t.status === 'open') {
    steps.push(action(L('انجام در میز خدمت', 'Resolve at the desk'), async () => { await at('resolve', {}); done(L('درخواست انجام شد.', 'Resolved.')); }, { tone: 'primary' }));
    const refer = form({
      fields: [
        { name: 'unit', label: L('واحد', 'Unit'), value: t.unit || '' },
        { name: 'promised_date', label: L('تاریخ وعده (اختیاری)', 'Promised date (optional)'), type: 'date',
          hint: L('اگر خالی بماند، از مدت استاندارد فرآیند به روز کاری حساب می‌شود.', 'Empty: computed from the standard duration in working days.') },
      ],
      submit: L('ارجاع', 'Refer'),
      async onSubmit(values) { const s = await at('refer', values); done(L(`ارجاع شد؛ تاریخ وعده ${date(s.due_date)}`, `Referred; promised for ${date(s.due_date)}`)); },
    });
    forms.push(h('details', { class: 'reason' }, h('summary', {}, L('ارجاع به واحد', 'Refer to a unit')), refer.el));
  }
  if (UNIT.includes(role) && t.status === 'referred') {
    forms.push(reasonForm(L('ثبت نتیجه', 'Record the result'), L('نتیجه', 'Outcome'), true, async (outcome) => {
      await at('result', { outcome });
      done(L('نتیجه ثبت شد.', 'Result recorded.'));
    }, { name: 'outcome' }));
  }
  if (DESK.includes(role) && t.status === 'result_ready') {
    steps.push(action(L('تحویل به مراجعه‌کننده', 'Deliver to the visitor'), async () => { await at('deliver', {}); done(L('تحویل شد.', 'Delivered.')); }, { tone: 'primary' }));
  }
  if ((DESK.includes(role) || role === 'unit_officer') && ['open', 'referred'].includes(t.status)) {
    forms.push(reasonForm(L('در انتظار مراجعه', 'Wait for the visitor'), L('دلیل (مانند مدرک کسری)', 'Reason (e.g. a missing document)'), true,
      async (reason) => { await at('await-visitor', { reason }); done(L('در انتظار مراجعه.', 'Waiting for the visitor.')); }));
  }
  if ((DESK.includes(role) || role === 'unit_officer') && t.status === 'awaiting_visitor') {
    steps.push(action(L('مراجعه‌کننده بازگشت', 'The visitor is back'), async () => { await at('resume', {}); done(L('ادامه یافت.', 'Resumed.')); }));
  }
  return { steps, forms };
}

function tickets(view) {
  const role = session.role();
  const select = h('select', { id: 'ticket-status' });
  const statuses = ['open', 'awaiting_visitor', 'referred', 'result_ready', 'resolved', 'delivered'].map((s) => [s, word('ticket', s)]);
  if (OFFICE.includes(role)) statuses.push(['late', L('دیرکرد (گذشته از تاریخ وعده)', 'Late (past the promised date)')]);
  setOptions(select, statuses, L('همه', 'All'));
  select.value = role === 'unit_officer' ? 'referred' : 'open';
  const list = pagedView((cursor) => (select.value === 'late' ? get('/desk/tickets/late', { cursor }) : get('/desk/tickets', { status: select.value, cursor })),
    (t, reload) => {
      const { steps, forms } = ticketActions(t, reload);
      return card(`${t.procedure_title}`, [
        [L('کد رهگیری', 'Tracking code'), code(t.tracking_code)],
        [L('وضعیت', 'Status'), h('span', {}, badge(word('ticket', t.status), TONES[t.status] || ''), t.late ? badge(L(`${num(t.days_late)} روز دیرکرد`, `${num(t.days_late)} day(s) late`), 'bad') : null)],
        [L('مراجعه‌کننده', 'Visitor'), t.visitor ? `${t.visitor.full_name}` : null],
        [L('همراه', 'Mobile'), t.visitor ? phone(t.visitor.mobile) : null],
        [L('واحد', 'Unit'), t.unit],
        [L('تاریخ ثبت', 'Filed'), dateTime(t.created_at)],
        [L('تاریخ وعده', 'Promised'), date(t.due_date)],
        [L('شرح', 'Request'), t.description],
        [L('مدارک کسری', 'Missing'), t.missing_documents?.length ? t.missing_documents.join('، ') : null],
        [L('نتیجه', 'Outcome'), t.outcome || t.resolution],
      ], steps, forms.length ? h('div', {}, forms) : null);
    }, L('درخواستی در این وضعیت نیست.', 'No tickets in this state.'));
  select.addEventListener('change', () => list.reload());
  view.append(h('div', { class: 'field inline' }, h('label', { for: 'ticket-status' }, L('وضعیت', 'Status')), select), list);
}

function procedures(view) {
  const c = session.claims();
  const lines = (text) => String(text || '').split('\n').map((x) => x.trim()).filter(Boolean);
  const f = form({
    id: 'procedure',
    intro: L('ضوابط، مقررات، گردش کار و زمان انجام هر یک از وظایف مرتبط با ارباب رجوع، برای همه منتشر می‌شود.',
      'Rules, steps and durations of each client-facing task are published for everyone.'),
    fields: [
      { name: 'title', label: L('عنوان فرآیند', 'Title'), required: true },
      { name: 'unit', label: L('واحد مسئول', 'Responsible unit'), value: c.unt || '', required: true },
      { name: 'conditions', label: L('شرایط', 'Conditions'), type: 'textarea', required: true },
      { name: 'required_documents', label: L('مدارک لازم (هر مورد در یک سطر)', 'Required documents (one per line)'), type: 'textarea' },
      { name: 'steps', label: L('گردش کار (هر گام در یک سطر)', 'Steps (one per line)'), type: 'textarea', required: true },
      { name: 'standard_days', label: L('مدت استاندارد (روز کاری)', 'Standard duration (working days)'), type: 'number', required: true },
      { name: 'fee', label: L('هزینه (ریال)', 'Fee (rials)'), type: 'number', value: '0' },
    ],
    submit: L('انتشار فرآیند', 'Publish'),
    async onSubmit(values) {
      await post('/desk/procedures', { ...values, required_documents: lines(values.required_documents), steps: lines(values.steps) });
      notify(L('فرآیند منتشر شد.', 'The procedure was published.'));
      stale.reload();
    },
  });
  if (c.role === 'unit_officer') f.inputs.unit.readOnly = true;
  const stale = pagedView((cursor) => get('/desk/procedures/stale', { cursor }), (p) => card(p.title, [
    [L('واحد', 'Unit'), p.unit], [L('آخرین بازبینی', 'Last reviewed'), date(p.reviewed_on)],
    [L('روزهای گذشته از بازبینی', 'Days since review'), num(p.days_since_review)]]),
  L('همه فرآیندها در یک سال گذشته بازبینی شده‌اند.', 'Every procedure was reviewed within the year.'));
  view.append(section(L('فرآیند جدید', 'New procedure'), f.el), section(L('نیازمند بازبینی سالانه', 'Due for the yearly review'), stale));
}

async function scorecard(view) {
  const year = jalaliToday().slice(0, 4);
  const result = h('div', { 'aria-live': 'polite' });
  const f = form({
    id: 'scorecard',
    fields: [
      { name: 'from', label: L('از تاریخ', 'From'), type: 'date', value: digits(`${year}/01/01`) },
      { name: 'to', label: L('تا تاریخ', 'To'), type: 'date', value: digits(jalaliToday()) },
    ],
    submit: L('نمایش', 'Show'),
    resetOnSuccess: false,
    async onSubmit(values) {
      draw(await get('/desk/stats', values));
    },
  });
  function draw(stats) {
    clear(result);
    const t = stats.total;
    result.append(h('div', { class: 'kpis' }, [
      [L('دریافت شده', 'Received'), t.received], [L('انجام در میز', 'Resolved at the desk'), t.resolved_at_desk],
      [L('ارجاع شده', 'Referred'), t.referred], [L('تحویل به موقع', 'Delivered on time'), t.delivered_on_time],
      [L('تحویل با تأخیر', 'Delivered late'), t.delivered_late], [L('میانه روزهای انجام', 'Median days'), t.median_days_to_resolve],
      [L('رضایت (از ۵)', 'Satisfaction (of 5)'), t.satisfaction],
    ].map(([label, value]) => h('div', { class: 'kpi' }, h('span', {}, label), h('strong', {}, value === null ? '—' : num(value, { maximumFractionDigits: 1 }))))));
    const months = [...new Set(stats.items.map((x) => x.month))].sort();
    if (!months.length) {
      result.append(empty(L('در این بازه درخواستی ثبت نشده است.', 'No tickets in this period.')));
      return;
    }
    const sum = (key) => months.map((m) => stats.items.filter((x) => x.month === m).reduce((a, x) => a + (x[key] || 0), 0));
    const series = [
      { label: L('دریافت شده', 'Received'), values: sum('received'), tone: 'a' },
      { label: L('انجام در میز', 'At the desk'), values: sum('resolved_at_desk'), tone: 'b' },
      { label: L('ارجاع شده', 'Referred'), values: sum('referred'), tone: 'c' },
      { label: L('با تأخیر', 'Late'), values: sum('delivered_late'), tone: 'd' },
    ];
    const title = L('درخواست‌های میز خدمت به تفکیک ماه', 'Desk tickets by Jalali month');
    const oneYear = new Set(months.map((m) => m.slice(0, 4))).size === 1;
    // month names while they fit a phone; beyond six months, their numbers
    const categories = months.map((m) => (months.length > 6 ? (oneYear ? m.slice(5) : m.replace('-', '/')) : monthName(m, oneYear)));
    result.append(h('figure', { class: 'chart-box' }, barChart({ title, categories, series }),
      h('figcaption', {}, title), legend(series)));
    result.append(section(L('به تفکیک فرآیند و واحد', 'By procedure and unit'), stats.items.map((x) => card(`${x.procedure_title} — ${x.unit || ''}`, [
      [L('ماه', 'Month'), monthName(x.month)], [L('دریافت', 'Received'), num(x.received)],
      [L('انجام در میز', 'At the desk'), num(x.resolved_at_desk)], [L('ارجاع', 'Referred'), num(x.referred)],
      [L('به موقع / با تأخیر', 'On time / late'), `${num(x.delivered_on_time)} / ${num(x.delivered_late)}`],
      [L('میانه روزها', 'Median days'), x.median_days_to_resolve === null ? '—' : num(x.median_days_to_resolve)],
    ]))));
  }
  view.append(f.el, result);
  try {
    draw(await get('/desk/stats', f.values()));
  } catch (problem) {
    if (!problem.expired) result.append(alertBox(problem.detail));
  }
}

export default [
  { path: '/desk-new', title: () => L('ثبت درخواست مراجعه‌کننده', 'New visitor request'), roles: DESK, render: newTicket,
    about: () => L('ثبت درخواست، دریافت مدارک و صدور کد رهگیری', 'Record a request, its documents, and issue the tracking code') },
  { path: '/desk-tickets', title: () => L('درخواست‌های میز خدمت', 'Desk tickets'), roles: STAFF, render: tickets,
    about: () => L('انجام، ارجاع، نتیجه و تحویل درخواست‌ها', 'Resolve, refer, record results and deliver') },
  { path: '/desk-procedures', title: () => L('انتشار فرآیند', 'Publish procedures'), roles: EDITORS, render: procedures,
    about: () => L('مستندسازی فرآیندها و بازبینی سالانه', 'Document procedures; the yearly review') },
  { path: '/scorecard', title: () => L('کارنامه میز خدمت', 'Desk scorecard'), roles: OFFICE, render: scorecard,
    about: () => L('شاخص ارزیابی: دریافت، انجام، ارجاع، به موقع و با تأخیر، به تفکیک ماه', 'The evaluation indicator by Jalali month') },
];
