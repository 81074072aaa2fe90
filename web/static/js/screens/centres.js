// The centres' screens: the county thematic centre (کانون موضوعی) reviews offers, the neighbourhood centre
// (کانون محله‌ای) keeps its beneficiaries and reserves offers for them, the supervisor (ناظر) reviews reports.
import { all, get, post } from '../core/api.js';
import { action, badge, card, code, date, form, h, notify, pagedView, phone, section, setOptions, span } from '../core/dom.js';
import { L, num, word } from '../core/i18n.js';
import { reasonForm } from './member.js';

const TONES = { approved: 'good', accepted: 'good', rejected: 'bad', declined: 'bad', cancelled: 'bad', pending_review: 'wait', submitted: 'wait', invited: 'wait' };
const status = (group, value) => badge(word(group, value), TONES[value] || '');

function statusFilter(id, group, values, initial, onChange) {
  const select = h('select', { id });
  setOptions(select, values.map((v) => [v, word(group, v)]), L('همه', 'All'));
  select.value = initial;
  select.addEventListener('change', onChange);
  return h('div', { class: 'field inline' }, h('label', { for: id }, L('وضعیت', 'Status')), select);
}

// -- thematic centre: offers to review
function reviewOffers(view) {
  let list = null;
  const filter = statusFilter('offer-status', 'offer', ['pending_review', 'approved', 'rejected'], 'pending_review', () => list.reload());
  const select = filter.querySelector('select');
  list = pagedView((cursor) => get('/offers', { status: select.value, cursor }), (o, reload) => {
    const actions = [];
    if (o.status === 'pending_review') {
      actions.push(action(L('تأیید', 'Approve'), async () => {
        await post(`/offers/${o.id}/approve`);
        notify(L('خدمت تأیید شد و برای کانون‌های محله‌ای شهرستان نمایش داده می‌شود.', 'Approved; neighbourhood centres of the county can now reserve it.'));
        reload();
      }, { tone: 'primary' }));
      actions.push(reasonForm(L('رد', 'Reject'), L('دلیل رد', 'Reason'), true, async (reason) => {
        await post(`/offers/${o.id}/reject`, { reason });
        notify(L('خدمت رد شد.', 'The offer was rejected.'));
        reload();
      }));
    }
    return card(o.service_name, [
      [L('عرصه', 'Field'), o.field_name],
      [L('وضعیت', 'Status'), status('offer', o.status)],
      [L('نحوه انجام', 'How'), o.details],
      [L('زمان‌های در دسترس', 'Availability'), o.availability],
      [L('تلفن', 'Phone'), phone(o.phone)],
      [L('مدارک بارگذاری‌شده', 'Documents'), o.requires_documents ? num(o.documents) : null],
      [L('تاریخ ثبت', 'Filed'), date(o.created_at)],
      [L('دلیل رد', 'Reason'), o.reason],
    ], actions);
  }, L('خدمتی در انتظار بررسی نیست.', 'No offers awaiting review.'));
  view.append(filter, list);
}

// -- neighbourhood centre: beneficiaries, reserving, reservations
function beneficiaries(view) {
  const f = form({
    id: 'beneficiary',
    intro: L('اطلاعات نیازمندان محرمانه است و فقط کانون شما و نمایندگی استان آن را می‌بینند.',
      'Beneficiaries are confidential: only your centre and the provincial office see them.'),
    fields: [
      { name: 'full_name', label: L('نام و نام خانوادگی', 'Full name'), required: true },
      { name: 'needs', label: L('نیازها', 'Needs'), type: 'textarea', required: true },
      { name: 'address', label: L('نشانی', 'Address'), type: 'textarea', required: true },
      { name: 'phone', label: L('تلفن', 'Phone'), type: 'tel', required: true, ltr: true },
    ],
    submit: L('ثبت نیازمند', 'Add'),
    async onSubmit(values) {
      await post('/beneficiaries', values);
      notify(L('ثبت شد.', 'Added.'));
      list.reload();
    },
  });
  const list = pagedView((cursor) => get('/beneficiaries', { cursor }), (b) => card(b.full_name, [
    [L('نیازها', 'Needs'), b.needs], [L('نشانی', 'Address'), b.address], [L('تلفن', 'Phone'), phone(b.phone)],
    [L('کانون', 'Centre'), b.center]]), L('هنوز نیازمندی ثبت نشده است.', 'No beneficiaries yet.'));
  view.append(section(L('ثبت نیازمند', 'New beneficiary'), f.el), section(L('فهرست نیازمندان', 'Beneficiaries'), list));
}

async function reserve(view) {
  const people = await all('/beneficiaries');
  const list = pagedView((cursor) => get('/offers', { status: 'approved', cursor }), (o) => {
    const f = form({
      id: `reserve-${o.id}`,
      fields: [
        { name: 'beneficiary', label: L('نیازمند', 'Beneficiary'), type: 'select', required: true, options: people.map((b) => [b.id, b.full_name]) },
        { name: 'starts_at', label: L('از', 'From'), type: 'datetime', required: true },
        { name: 'ends_at', label: L('تا', 'To'), type: 'datetime', required: true },
        { name: 'place', label: L('مکان', 'Place'), required: true },
      ],
      submit: L('رزرو و دعوت از خادمیار', 'Reserve and invite'),
      async onSubmit(values) {
        await post('/reservations', { ...values, offer: o.id });
        notify(L('رزرو شد و از خادمیار دعوت شد.', 'Reserved; the member is invited.'));
      },
    });
    return card(o.service_name, [
      [L('عرصه', 'Field'), o.field_name], [L('نحوه انجام', 'How'), o.details], [L('زمان‌های در دسترس', 'Availability'), o.availability],
      [L('تلفن', 'Phone'), phone(o.phone)]], [], h('details', {}, h('summary', {}, L('رزرو برای نیازمند', 'Reserve for someone')), f.el));
  }, L('خدمت تأییدشده‌ای در شهرستان نیست.', 'No approved offers in the county.'));
  view.append(h('p', { class: 'lead' }, L('خدمات تأییدشده خادمیاران شهرستان؛ برای نیاز هر نیازمند، زمان و مکان را تعیین و رزرو کنید.',
    "Approved offers of the county's members: reserve one for a beneficiary's need, with a time and place.")), list);
}

function reservations(view) {
  const list = pagedView((cursor) => get('/reservations', { cursor }), (x) => card(x.service_name, [
    [L('زمان', 'When'), span(x.starts_at, x.ends_at)],
    [L('مکان', 'Place'), x.place], [L('وضعیت', 'Status'), status('reservation', x.status)], [L('دلیل', 'Reason'), x.decline_reason || x.cancel_note],
  ]), L('رزروی نیست.', 'No reservations.'));
  view.append(list);
}

// -- supervisor: reports to approve
function reviewReports(view) {
  let list = null;
  const filter = statusFilter('report-status', 'report', ['submitted', 'approved', 'rejected'], 'submitted', () => list.reload());
  const select = filter.querySelector('select');
  list = pagedView((cursor) => get('/reports', { status: select.value, cursor }), (r, reload) => {
    const actions = [];
    if (r.status === 'submitted') {
      actions.push(action(L('تأیید گزارش', 'Approve'), async () => {
        await post(`/reports/${r.id}/approve`);
        notify(L('گزارش تأیید شد.', 'The report was approved.'));
        reload();
      }, { tone: 'primary' }));
      actions.push(reasonForm(L('رد', 'Reject'), L('دلیل رد', 'Reason'), true, async (reason) => {
        await post(`/reports/${r.id}/reject`, { reason });
        reload();
      }));
    }
    return card(r.service_name, [
      [L('کانون', 'Centre'), r.center],
      [L('تاریخ انجام', 'Done on'), date(r.performed_on)],
      [L('مدت', 'Hours'), num(r.hours)],
      [L('شرح', 'Summary'), r.summary],
      [L('وضعیت', 'Status'), status('report', r.status)],
      [L('دلیل رد', 'Reason'), r.reason],
      [L('شناسه خادمیار', 'Member'), code(r.member_id.slice(0, 8))],
    ], actions);
  }, L('گزارشی در انتظار بررسی نیست.', 'No reports awaiting review.'));
  view.append(filter, list);
}

export default [
  { path: '/review-offers', title: () => L('بررسی خدمات', 'Offers to review'), roles: ['thematic_center'], render: reviewOffers,
    about: () => L('تأیید یا رد خدمات اعلام‌شده خادمیاران عرصه شما', "Approve or reject members' offers in your field") },
  { path: '/beneficiaries', title: () => L('نیازمندان', 'Beneficiaries'), roles: ['neighborhood_center'], render: beneficiaries,
    about: () => L('فهرست نیازمندان محله و نیازهای آنان', "Your area's people in need") },
  { path: '/reserve', title: () => L('رزرو خدمت', 'Reserve a service'), roles: ['neighborhood_center'], render: reserve,
    about: () => L('رزرو خدمات تأییدشده برای نیازمندان', 'Reserve approved offers for beneficiaries') },
  { path: '/centre-reservations', title: () => L('رزروها', 'Reservations'), roles: ['neighborhood_center'], render: reservations,
    about: () => L('رزروهای کانون و پاسخ خادمیاران', "The centre's reservations and the members' answers") },
  { path: '/review-reports', title: () => L('بررسی گزارش‌ها', 'Reports to review'), roles: ['supervisor'], render: reviewReports,
    about: () => L('تأیید یا رد گزارش‌های خدمت', 'Approve or reject service reports') },
];
