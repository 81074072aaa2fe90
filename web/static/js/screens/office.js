// The provincial office's (نمایندگی استان) screens, and the national admin's: applications through orientation
// to activation, staff accounts, members' suggestions and integrity reports, fields of service.
import { forget, get, post } from '../core/api.js';
import {
  action, alertBox, badge, card, clear, code, date, dateTime, empty, form, h, nationalId, notify, pagedView, phone, secret, section,
  setOptions,
} from '../core/dom.js';
import { digits, L, latinDigits, num, options, word } from '../core/i18n.js';
import { bindProvinceCounty, countyName, fieldOptions } from '../core/lookup.js';
import { menu } from '../core/router.js';
import * as session from '../core/session.js';
import { reasonForm } from './member.js';

const OFFICE = ['admin', 'province_office'];
const STAFF = ['admin', 'province_office', 'thematic_center', 'neighborhood_center', 'supervisor', 'shrine_office',
  'desk_officer', 'unit_officer'];

/** Every staff role's start: who they are and the screens they have. */
function staffHome(view) {
  const c = session.claims();
  const scope = [c.ctr, c.unt].filter(Boolean).join('، ');
  view.append(h('p', { class: 'lead' }, L(`خوش آمدید؛ نقش شما: ${word('role', c.role)}`, `Welcome; your role: ${word('role', c.role)}`),
    scope ? ` — ${scope}` : ''));
  view.append(h('div', { class: 'tiles' }, menu(c.role).filter((s) => s.path !== '/' && s.about)
    .map((s) => h('a', { class: 'tile', href: `#${s.path}` }, h('strong', {}, s.title()), h('span', {}, s.about())))));
}

// -- applications, orientation, activation
/** The orientation sessions still ahead (invitations are only to those), the soonest first. */
async function upcomingSessions() {
  const page = await get('/orientations', { from: new Date().toISOString(), limit: 200 });
  return page.items.slice().reverse();
}

function applications(view) {
  let sessions = [];
  const filter = h('select', { id: 'app-status' });
  setOptions(filter, options('application'), L('همه درخواست‌ها', 'All applications'));
  filter.value = 'submitted';
  const search = h('input', { id: 'app-q', type: 'text', autocomplete: 'off' });
  const overdue = h('div', { 'aria-live': 'polite' });
  const list = pagedView(async (cursor) => {
    if (!cursor) sessions = await upcomingSessions();
    const page = await get('/applications', { status: filter.value, q: latinDigits(search.value.trim()), cursor });
    clear(overdue);
    if (page.overdue_count) {
      overdue.append(alertBox(L(`${num(page.overdue_count)} درخواست بیش از ۱۵ روز است که بدون تماس مانده است.`,
        `${num(page.overdue_count)} application(s) have waited more than 15 days for a call.`), 'warn'));
    }
    return page;
  }, (a, reload) => applicationCard(a, reload, sessions), L('درخواستی در این وضعیت نیست.', 'No applications in this state.'));
  filter.addEventListener('change', () => list.reload());
  let pause;
  search.addEventListener('input', () => {
    clearTimeout(pause);
    pause = setTimeout(() => list.reload(), 300);
  });

  const orientation = form({
    id: 'orientation',
    fields: [
      { name: 'starts_at', label: L('زمان جلسه', 'When'), type: 'datetime', required: true },
      { name: 'place', label: L('مکان', 'Place'), required: true },
      { name: 'capacity', label: L('ظرفیت', 'Capacity'), type: 'number', required: true },
    ],
    submit: L('تعریف جلسه توجیهی', 'Schedule the session'),
    async onSubmit(values) {
      await post('/orientations', values);
      notify(L('جلسه توجیهی تعریف شد؛ اکنون متقاضیان را به آن دعوت کنید.', 'The session is scheduled; now invite applicants.'));
      list.reload();
    },
  });
  view.append(
    section(L('جلسه توجیهی جدید', 'New orientation session'), h('details', {}, h('summary', {}, L('تعریف جلسه', 'Schedule a session')), orientation.el)),
    section(L('درخواست‌های عضویت', 'Applications'), h('div', { class: 'field inline' }, h('label', { for: 'app-status' }, L('وضعیت', 'Status')), filter),
      h('div', { class: 'field' }, h('label', { for: 'app-q' }, L('جستجو در نام یا کد ملی', 'Search by name or national ID')), search),
      overdue, list));
}

function applicationCard(a, reload, sessions = []) {
  const actions = [];
  let extra = null;
  if (a.status === 'submitted') {
    const open = sessions.filter((o) => o.province === a.province && o.invited < o.capacity);
    if (open.length) {
      const select = h('select', { id: `inv-${a.id}` });
      setOptions(select, open.map((o) => [o.id, `${dateTime(o.starts_at)} — ${o.place} (${L('ظرفیت باقی‌مانده', 'places left')}: ${num(o.capacity - o.invited)})`]),
        L('جلسه توجیهی', 'Orientation session'));
      // the session scheduled last (most likely the one the office has just defined)
      select.value = open.reduce((x, y) => (y.created_at > x.created_at ? y : x)).id;
      extra = h('div', { class: 'field' }, h('label', { for: `inv-${a.id}` }, L('دعوت به جلسه', 'Invite to')), select);
      actions.push(action(L('دعوت به جلسه توجیهی', 'Invite'), async () => {
        if (!select.value) throw new Error(L('جلسه را انتخاب کنید.', 'Choose a session.'));
        await post(`/applications/${a.id}/invite`, { orientation_id: select.value });
        notify(L('متقاضی دعوت شد.', 'The applicant was invited.'));
        reload();
      }, { tone: 'primary' }));
    } else {
      extra = h('p', { class: 'hint' }, L('برای دعوت، نخست یک جلسه توجیهی پیش رو با ظرفیت خالی تعریف کنید.', 'To invite, first schedule an orientation session ahead, with places left.'));
    }
  }
  if (a.status === 'activated' && a.member_id) {
    actions.push(h('a', { href: `#/members/${a.member_id}`, class: 'button secondary' }, L('وضعیت خادمیار', "The member's standing")));
  }
  if (a.status === 'invited') {
    actions.push(action(L('ثبت حضور در جلسه', 'Record attendance'), async () => {
      await post(`/orientations/${a.orientation_id}/attendance`, { application_ids: [a.id] });
      notify(L('حضور ثبت شد.', 'Attendance recorded.'));
      reload();
    }, { tone: 'primary' }));
  }
  const holder = card(`${a.first_name} ${a.last_name}`, [
    [L('وضعیت', 'Status'), h('span', {}, badge(word('application', a.status)), a.overdue ? badge(word('application', 'overdue'), 'bad') : null)],
    [L('کد ملی', 'National ID'), nationalId(a.national_id)],
    [L('همراه', 'Mobile'), phone(a.mobile)],
    [L('تحصیلات', 'Education'), word('education', a.education)],
    [L('تاریخ ثبت', 'Submitted'), date(a.submitted_at)],
    [L('مهلت تماس', 'Call by'), a.status === 'submitted' ? digits(a.contact_due_jalali) : null],
    [L('حضور در جلسه', 'Attended'), a.attended_at ? date(a.attended_at) : null],
  ], actions, extra);
  if (a.status === 'attended') {
    holder.querySelector('.actions')?.remove();
    holder.append(h('div', { class: 'actions' }, action(L('فعال‌سازی و صدور رمز اولیه', 'Activate and issue the first password'), async () => {
      const answer = await post(`/applications/${a.id}/activate`);
      holder.querySelector('.actions').remove();
      holder.querySelector('.badge').textContent = word('application', 'activated');
      holder.append(secret(L('رمز عبور اولیه', 'Initial password'), answer.initial_password,
        L('این رمز فقط یک بار نمایش داده می‌شود؛ آن را به خادمیار تحویل دهید. در نخستین ورود باید تغییر کند.',
          'Shown only once: hand it to the member; it must be changed at first login.')));
    }, { tone: 'primary' })));
  }
  countyName(a.province, a.county).then((name) => {
    const dl = holder.querySelector('dl');
    dl?.append(h('div', {}, h('dt', {}, L('شهرستان', 'County')), h('dd', {}, name)));
  });
  return holder;
}

// -- staff accounts
const SCOPE = { thematic_center: ['county', 'field'], neighborhood_center: ['county', 'center'],
  supervisor: ['county', 'center'], unit_officer: ['unit'] };

async function staff(view) {
  const c = session.claims();
  const roles = options('role').filter(([r]) => !['visitor', 'member', 'admin'].includes(r) && (c.role === 'admin' || r !== 'province_office'));
  const result = h('div', { 'aria-live': 'polite' });
  const f = form({
    id: 'staff',
    fields: [
      { name: 'role', label: L('نقش', 'Role'), type: 'select', required: true, options: roles },
      { name: 'national_id', label: L('کد ملی', 'National ID'), required: true, inputmode: 'numeric', ltr: true },
      { name: 'first_name', label: L('نام', 'First name'), required: true },
      { name: 'last_name', label: L('نام خانوادگی', 'Last name'), required: true },
      { name: 'mobile', label: L('شماره همراه', 'Mobile'), type: 'tel', required: true, ltr: true },
      { name: 'province', label: L('استان', 'Province'), type: 'select', required: true },
      { name: 'county', label: L('شهرستان', 'County'), type: 'select' },
      { name: 'field', label: L('عرصه (کانون موضوعی)', 'Field (thematic centre)'), type: 'select' },
      { name: 'center', label: L('نام کانون', "Centre's name"), hint: L('کانون با نخستین نام‌بردن ساخته می‌شود؛ نام را یکسان بنویسید.', 'The centre exists once named; spell it the same way each time.') },
      { name: 'unit', label: L('واحد', 'Unit') },
    ],
    submit: L('ایجاد حساب', 'Create the account'),
    async onSubmit(values) {
      const answer = await post('/staff', { ...values, province: f.inputs.province.value });
      clear(result).append(secret(L('رمز عبور اولیه', 'Initial password'), answer.initial_password,
        L('فقط یک بار نمایش داده می‌شود؛ به کاربر تحویل دهید. در نخستین ورود باید تغییر کند.', 'Shown once; hand it over. It must be changed at first login.')));
    },
  });
  const scopeFields = ['county', 'field', 'center', 'unit'];
  const refresh = () => scopeFields.forEach((name) => f.show(name, (SCOPE[f.inputs.role.value] || []).includes(name)));
  f.inputs.role.addEventListener('change', refresh);
  refresh();
  view.append(f.el, result);
  await bindProvinceCounty(f, { fixed: c.role === 'admin' ? null : c.prov });
  setOptions(f.inputs.field, await fieldOptions());
  f.restore('field');
}

// -- members' tickets
function memberTickets(view) {
  const filter = h('select', { id: 'mt-kind' });
  setOptions(filter, [['suggestion', word('member_ticket', 'suggestion')], ['integrity', word('member_ticket', 'integrity')]], L('همه', 'All'));
  const list = pagedView((cursor) => get('/member-tickets', { kind: filter.value, cursor }), (t, reload) => card(
    t.title || word('member_ticket', t.kind), [
      [L('نوع', 'Kind'), word('member_ticket', t.kind)],
      [L('کد رهگیری', 'Tracking code'), code(t.tracking_code)],
      [L('تاریخ', 'Date'), digits(t.created_at_jalali)],
      [L('متن', 'Text'), t.body],
      [L('درباره', 'About'), t.accused],
      [L('وضعیت', 'Status'), word('member_ticket', t.status)],
      [L('پاسخ', 'Answer'), t.response],
    ], [], t.status === 'open' ? reasonForm(L('پاسخ و بستن', 'Answer and close'), L('پاسخ به خادمیار', 'Answer to the member'), true,
      async (response) => { await post(`/member-tickets/${t.id}/close`, { response }); reload(); }, { name: 'response' }) : null),
  L('موردی نیست.', 'Nothing here.'));
  filter.addEventListener('change', () => list.reload());
  view.append(h('div', { class: 'field inline' }, h('label', { for: 'mt-kind' }, L('نوع', 'Kind')), filter), list);
}

// -- fields of service (admin)
async function fieldsScreen(view) {
  const list = h('div', { class: 'list' });
  async function draw() {
    forget('/fields');
    const items = (await get('/fields')).items;
    clear(list);
    if (!items.length) list.append(empty(L('عرصه‌ای تعریف نشده است.', 'No fields yet.')));
    for (const x of items) {
      list.append(card(`${x.name} (${word('kind', x.kind)})`, [], [], h('ul', {}, x.services.map((s) => h('li', {}, s.name, ': ', s.description)))));
    }
    setOptions(service.inputs.field, items.map((x) => [x.id, x.name]));
  }
  const field = form({
    fields: [
      { name: 'name', label: L('نام عرصه', 'Name'), required: true },
      { name: 'kind', label: L('نوع', 'Kind'), type: 'select', required: true, options: options('kind') },
    ],
    submit: L('ایجاد عرصه', 'Create the field'),
    async onSubmit(values) { await post('/fields', values); notify(L('عرصه ایجاد شد.', 'Field created.')); await draw(); },
  });
  const service = form({
    fields: [
      { name: 'field', label: L('عرصه', 'Field'), type: 'select', required: true },
      { name: 'name', label: L('نام خدمت', 'Service name'), required: true },
      { name: 'description', label: L('شرح خدمت', 'Description'), type: 'textarea', required: true },
      { name: 'requires_documents', label: L('نیازمند مدارک تخصصی', 'Needs documents'), type: 'checkbox' },
    ],
    submit: L('افزودن خدمت', 'Add the service'),
    async onSubmit({ field: id, ...values }) {
      await post(`/fields/${id}/services`, { requires_documents: false, ...values });
      notify(L('خدمت افزوده شد.', 'Service added.'));
      await draw();
    },
  });
  view.append(section(L('عرصه جدید', 'New field'), field.el), section(L('خدمت جدید', 'New service'), service.el),
    section(L('عرصه‌ها و خدمات', 'Fields and services'), list));
  await draw();
}

export default [
  { path: '/', title: () => L('میز کار', 'Workspace'), roles: STAFF, render: staffHome },
  { path: '/applications', title: () => L('درخواست‌های عضویت', 'Applications'), roles: OFFICE, render: applications,
    about: () => L('درخواست‌های در انتظار و معوق، جلسه توجیهی و فعال‌سازی', 'Pending and overdue applications, orientation, activation') },
  { path: '/staff', title: () => L('حساب‌های کاربری', 'Staff accounts'), roles: OFFICE, render: staff,
    about: () => L('ایجاد حساب کانون‌ها، ناظران و کارکنان', 'Accounts for centres, supervisors and staff') },
  { path: '/member-tickets', title: () => L('پیشنهادات و گزارش‌ها', 'Suggestions and reports'), roles: OFFICE, render: memberTickets,
    about: () => L('پیشنهادات و ابتکارات خادمیاران و گزارش‌های درخواست وجه', "Members' suggestions and integrity reports") },
  { path: '/fields', title: () => L('عرصه‌ها و خدمات', 'Fields and services'), roles: ['admin'], render: fieldsScreen,
    about: () => L('تعریف عرصه‌های خدمت و خدمات هر عرصه', 'Fields of service and their services') },
];
