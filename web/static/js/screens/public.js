// What anyone may do without an account: read about the programme, apply, read the desk's procedures and the
// official holidays (the admin loads them there), track a ticket; and the doors in: logging in and changing the
// first password.
import { get, post, put } from '../core/api.js';
import { alertBox, card, clear, code, date, empty, form, h, listView, notify, section } from '../core/dom.js';
import { digits, L, latinDigits, num, options } from '../core/i18n.js';
import { jalaliDate, jalaliParts, jalaliToday, MONTHS_EN, MONTHS_FA, WEEKDAYS_EN, WEEKDAYS_FA } from '../core/jalali.js';
import { bindProvinceCounty, provinces } from '../core/lookup.js';
import { go } from '../core/router.js';
import * as session from '../core/session.js';

const VISITOR = ['visitor'];
const EVERYONE = ['visitor', 'member', 'admin', 'province_office', 'thematic_center', 'neighborhood_center',
  'supervisor', 'shrine_office', 'desk_officer', 'unit_officer'];

function landing(view) {
  view.append(
    h('p', { class: 'lead' }, L('سامانه خادمیاری رضوی و میز خدمت: ثبت نام، اعلام آمادگی خدمت، کشیک حرم مطهر و پیگیری درخواست‌ها.',
      'The Razavi volunteer programme and the service desk: apply, offer your service, book shrine shifts and track requests.')),
    h('div', { class: 'tiles' },
      h('a', { class: 'tile', href: '#/apply' }, h('strong', {}, L('ثبت نام جدید', 'Apply')),
        h('span', {}, L('عضویت در طرح خادمیاری رضوی کاملاً رایگان است.', 'Membership is free.'))),
      h('a', { class: 'tile', href: '#/login' }, h('strong', {}, L('ورود به سامانه', 'Log in')),
        h('span', {}, L('با کد ملی و رمز عبوری که از نمایندگی استان گرفته‌اید.', 'With your national ID and the password from the provincial office.'))),
      h('a', { class: 'tile', href: '#/procedures' }, h('strong', {}, L('فرآیندهای میز خدمت', 'Service desk procedures')),
        h('span', {}, L('شرایط، مدارک لازم، گردش کار و زمان انجام هر خدمت.', 'Conditions, documents, steps and duration of each service.'))),
      h('a', { class: 'tile', href: '#/track' }, h('strong', {}, L('پیگیری درخواست', 'Track a request')),
        h('span', {}, L('با کد رهگیری و شماره همراه، بدون نیاز به حساب کاربری.', 'With the tracking code and your mobile, no account needed.')))),
    section(L('راهنمای قدم به قدم عضویت', 'Step-by-step guide to membership'),
      h('ol', { class: 'steps' },
        h('li', {}, L('در بخش ثبت نام جدید، اطلاعات خود را وارد نمایید.', 'Enter your details under “Apply”.')),
        h('li', {}, L('در صورتی که پس از گذشت ۱۵ روز از سوی نمایندگی آستان قدس در استان با شما تماسی گرفته نشد، خود پیگیر انجام مراحل بعد باشید.',
          'If the provincial office has not contacted you within 15 days, follow it up yourself.')),
        h('li', {}, L('با راهنمایی نمایندگی استان در جلسه حضوری و توجیهی آشنایی با طرح خادمیاری شرکت نمایید.',
          'Attend the in-person orientation session, as the provincial office guides you.')),
        h('li', {}, L('حداکثر دو ماه پس از شرکت در جلسه حضوری رمز عبور شما جهت ورود به سامانه مشخص می‌شود؛ آن را از دفتر نمایندگی استان دریافت نمایید.',
          'Within two months of the session your password is issued; collect it from the provincial office.')),
        h('li', {}, L('با کد ملی و رمز عبور وارد سامانه شوید، در بخش اعلام آمادگی خدمت استان، شهرستان و یک عرصه را انتخاب کنید و حداکثر دو خدمت برگزینید.',
          'Log in, declare your readiness (province, county, one field) and pick at most two services.')),
        h('li', {}, L('پس از اولین خدمت و تأیید گزارش آن، امکان رزرو کشیک‌های حرم مطهر برای شما فعال می‌گردد.',
          'After your first service report is approved, you can book shrine shifts.')))));
}

function applyScreen(view) {
  const done = h('div', { class: 'result', 'aria-live': 'polite' });
  const f = form({
    id: 'apply',
    intro: L('همه موارد را دقیق وارد کنید؛ نمایندگی استان برای جلسه توجیهی با شما تماس می‌گیرد.',
      'Fill in every field accurately; the provincial office will call you for the orientation session.'),
    fields: [
      { name: 'national_id', label: L('کد ملی', 'National ID'), required: true, inputmode: 'numeric', ltr: true, autocomplete: 'off', maxlength: 10 },
      { name: 'first_name', label: L('نام', 'First name'), required: true, autocomplete: 'given-name' },
      { name: 'last_name', label: L('نام خانوادگی', 'Last name'), required: true, autocomplete: 'family-name' },
      { name: 'father_name', label: L('نام پدر', "Father's name"), required: true },
      { name: 'gender', label: L('جنسیت', 'Gender'), type: 'select', required: true, options: options('gender') },
      { name: 'birth_date', label: L('تاریخ تولد', 'Birth date'), type: 'date', required: true },
      { name: 'mobile', label: L('شماره همراه', 'Mobile'), type: 'tel', required: true, ltr: true, autocomplete: 'tel',
        placeholder: digits('09121234567') },
      { name: 'education', label: L('میزان تحصیلات', 'Education'), type: 'select', required: true, options: options('education'),
        hint: L('خواهران و برادران با تحصیلات زیر دیپلم امکان فعالیت به عنوان خادمیار در شهر خود را دارند و خدمت در حرم مطهر برای آنها مقدور نمی‌باشد.',
          'Below diploma: you serve in your own city; shrine shifts are not available.') },
      { name: 'province', label: L('استان', 'Province'), type: 'select', required: true },
      { name: 'county', label: L('شهرستان', 'County'), type: 'select', required: true },
      { name: 'address', label: L('نشانی', 'Address'), type: 'textarea', required: true, autocomplete: 'street-address' },
    ],
    submit: L('ثبت نام', 'Apply'),
    async onSubmit(values) {
      await post('/applications', values);
      clear(done).append(h('div', { class: 'notice ok', role: 'status' },
        h('p', {}, h('strong', {}, L('درخواست عضویت شما ثبت شد.', 'Your application was received.'))),
        h('p', {}, L('وضعیت: ثبت شده، در انتظار تماس نمایندگی استان', 'Status: received, awaiting the office’s call')),
        h('p', {}, L('در صورتی که پس از گذشت ۱۵ روز از سوی نمایندگی استان با شما تماسی گرفته نشد، خود پیگیر باشید.',
          'If the provincial office has not called you within 15 days, follow it up yourself.'))));
      done.focus();
    },
  });
  done.tabIndex = -1;
  view.append(f.el, done);
  bindProvinceCounty(f);
}

function procedureCard(p) {
  const more = h('div', { class: 'more' });
  const details = h('details', { class: 'card' },
    h('summary', {}, h('strong', {}, p.title), ' — ', p.unit || ''),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, L('واحد مسئول', 'Responsible unit')), h('dd', {}, p.unit || '—')),
      h('div', {}, h('dt', {}, L('مدت استاندارد انجام', 'Standard duration')), h('dd', {}, `${num(p.standard_days)} ${L('روز کاری', 'working days')}`)),
      h('div', {}, h('dt', {}, L('هزینه', 'Fee')), h('dd', {}, p.fee ? `${num(p.fee)} ${L('ریال', 'rials')}` : L('رایگان', 'Free'))),
      h('div', {}, h('dt', {}, L('آخرین بازبینی', 'Last reviewed')), h('dd', {}, date(p.reviewed_on)))),
    h('h4', {}, L('شرایط', 'Conditions')), h('p', {}, p.conditions),
    h('h4', {}, L('مدارک لازم', 'Required documents')),
    p.required_documents.length ? h('ul', {}, p.required_documents.map((d) => h('li', {}, d))) : h('p', {}, '—'),
    h('h4', {}, L('گردش کار', 'Steps')), h('ol', {}, p.steps.map((s) => h('li', {}, s))),
    more);
  details.addEventListener('toggle', async () => {
    if (!details.open || more.dataset.loaded) return;
    more.dataset.loaded = '1';
    try {
      const s = await get(`/desk/procedures/${p.id}/summary`);
      if (s.tickets) {
        more.append(h('p', { class: 'hint' }, L(
          `در یک سال گذشته ${num(s.tickets)} درخواست؛ ${num(Math.round((s.on_time_share || 0) * 100))}٪ به موقع انجام شده است.`,
          `${num(s.tickets)} requests in the last year; ${num(Math.round((s.on_time_share || 0) * 100))}% done on time.`)));
      }
    } catch { /* the summary is a nicety */ }
  });
  return details;
}

async function proceduresScreen(view) {
  view.append(h('p', { class: 'lead' }, L('ضوابط، مقررات، گردش کار و زمان انجام هر یک از خدمات مرتبط با مراجعان، پیش از مراجعه در اختیار شماست.',
    'The rules, steps and duration of every service, to read before you come.')));
  const province = h('select', { id: 'proc-province' });
  const label = h('label', { for: 'proc-province' }, L('استان', 'Province'));
  const list = listView(async () => {
    const query = province.value ? { province: province.value } : {};
    return (await get('/desk/procedures', query)).items;
  }, procedureCard, L('هنوز فرآیندی منتشر نشده است.', 'No procedures have been published yet.'));
  province.addEventListener('change', () => list.reload());
  view.append(h('div', { class: 'field inline' }, label, province), list);
  const items = await provinces();
  province.append(h('option', { value: '' }, L('همه استان‌ها', 'All provinces')), ...items.map((p) => h('option', { value: p.code }, p.name)));
}

/** "۱۴۰۵/۰۱/۰۱ — شنبه ۱ فروردین" */
function holidayItem(iso) {
  const { m, d, weekday } = jalaliParts(iso);
  return h('li', {}, h('strong', {}, digits(jalaliDate(iso))), ' — ',
    `${L(WEEKDAYS_FA, WEEKDAYS_EN)[weekday]} ${digits(d)} ${L(MONTHS_FA, MONTHS_EN)[m - 1]}`);
}

async function holidaysScreen(view) {
  let year = Number(jalaliToday().slice(0, 4));
  const heading = h('h2', { id: 'holidays-year' });
  const list = h('div', { 'aria-live': 'polite' });
  const intro = h('span');
  let editor = null;
  function draw(data) {
    year = data.jalali_year;
    heading.textContent = L(`تعطیلات رسمی سال ${digits(year)}`, `Official holidays of ${year}`);
    clear(list).append(...(data.dates.length
      ? [h('p', { class: 'hint' }, L(`${num(data.dates.length)} روز، افزون بر جمعه‌ها`, `${num(data.dates.length)} day(s), besides Fridays`)),
        h('ul', { class: 'holidays' }, data.dates.map(holidayItem))]
      : [empty(L(`برای سال ${digits(year)} هنوز تعطیل رسمی ثبت نشده است؛ جمعه‌ها همیشه تعطیل‌اند.`,
        `No official holidays are loaded for ${year} yet; Fridays are always off.`))]));
    if (editor) {
      editor.inputs.dates.value = data.dates.map((iso) => digits(jalaliDate(iso))).join('\n');
      intro.textContent = L(`فهرست تعطیلات رسمی سال ${digits(year)}؛ فهرست تازه جای فهرست پیشین این سال را می‌گیرد.`,
        `The official holidays of ${year}; the new list replaces the year's previous one.`);
    }
  }
  const show = async (which) => draw(await get(`/desk/holidays/${encodeURIComponent(latinDigits(which ?? ''))}`));
  const pick = form({
    fields: [{ name: 'jalali_year', label: L('سال شمسی', 'Jalali year'), type: 'number', required: true, value: digits(year) }],
    submit: L('نمایش', 'Show'),
    resetOnSuccess: false,
    async onSubmit(values) {
      await show(values.jalali_year);
    },
  });
  view.append(h('p', { class: 'lead' }, L('روزهای تعطیل رسمی و جمعه‌ها روز کاری میز خدمت نیستند؛ تاریخ وعده هر درخواست بدون آنها حساب می‌شود.',
    'Official holidays and Fridays are not working days of the service desk: promised dates skip them.')),
  pick.el, h('section', { class: 'block', 'aria-labelledby': 'holidays-year' }, heading, list));
  if (session.role() === 'admin') {
    editor = form({
      intro,
      fields: [{ name: 'dates', label: L('تاریخ‌های تعطیل رسمی (هر تاریخ در یک سطر)', 'Official holidays (one date per line)'),
        type: 'textarea', rows: 10, hint: L('تاریخ شمسی، مانند ۱۴۰۵/۰۱/۰۱ (ارقام فارسی یا لاتین)؛ جمعه‌ها را ننویسید.',
          'Jalali dates, e.g. 1405/01/01 (Persian or Latin digits); leave out Fridays.') }],
      submit: L('ثبت تعطیلات رسمی', 'Save the holidays'),
      resetOnSuccess: false,
      async onSubmit(values) {
        const dates = String(values.dates || '').split(/[\s,،]+/).map(latinDigits).filter(Boolean);
        const data = await put(`/desk/holidays/${year}`, { dates });
        notify(L(`تعطیلات رسمی سال ${digits(data.jalali_year)} ثبت شد.`, `The official holidays of ${data.jalali_year} are saved.`));
        draw(data);
      },
    });
    view.append(section(L('بارگذاری تعطیلات رسمی', 'Load the official holidays'), editor.el));
  }
  await show(year);
}

function trackScreen(view) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  out.tabIndex = -1;
  const f = form({
    id: 'track',
    intro: L('کد رهگیری را که میز خدمت به شما داده است، همراه با شماره همراه خود وارد کنید.',
      'Enter the tracking code the desk gave you and your mobile number.'),
    fields: [
      { name: 'code', label: L('کد رهگیری', 'Tracking code'), required: true, ltr: true, autocomplete: 'off' },
      { name: 'mobile', label: L('شماره همراه', 'Mobile'), type: 'tel', required: true, ltr: true, autocomplete: 'tel' },
    ],
    submit: L('پیگیری', 'Track'),
    resetOnSuccess: false,
    async onSubmit(values) {
      const codeText = String(values.code || '').replace(/[\s-]/g, '').toUpperCase();
      if (!codeText) {
        f.error('code', L('کد رهگیری را وارد کنید.', 'Enter the tracking code.'));
        return false;
      }
      const t = await get(`/desk/tickets/${encodeURIComponent(codeText)}`, { mobile: values.mobile });
      clear(out).append(ticketStatus(t, values.mobile));
      out.focus();
      return true;
    },
  });
  view.append(f.el, out);
}

function ticketStatus(t, mobile) {
  const rows = [
    [L('کد رهگیری', 'Tracking code'), code(t.tracking_code)],
    [L('خدمت', 'Service'), t.procedure_title],
    [L('وضعیت', 'Status'), h('strong', {}, t.status_label)],
    [L('تاریخ ثبت', 'Filed on'), digits(t.created_at_jalali)],
    [L('تاریخ وعده', 'Promised date'), date(t.due_date)],
    [L('گام بعدی', 'Next step'), L(t.next_step, t.next_step_en)],
    [L('مدارک کسری', 'Missing documents'), t.missing_documents?.length ? t.missing_documents.join('، ') : null],
    [L('امتیاز شما', 'Your rating'), t.rating ? num(t.rating) : null],
  ];
  const holder = card(L('وضعیت درخواست', 'Request status'), rows);
  if (t.can_rate && !t.rating) {
    const f = form({
      fields: [
        { name: 'score', label: L('رضایت شما از ۱ تا ۵', 'Your satisfaction, 1 to 5'), type: 'select', required: true,
          options: [5, 4, 3, 2, 1].map((n) => [String(n), num(n)]) },
        { name: 'comment', label: L('توضیح (اختیاری)', 'Comment (optional)'), type: 'textarea' },
      ],
      submit: L('ثبت امتیاز', 'Rate'),
      async onSubmit(values) {
        await post(`/desk/tickets/${t.tracking_code}/rating`, { ...values, mobile });
        f.success(h('p', { class: 'notice ok', role: 'status' }, L('سپاس از شما؛ امتیاز ثبت شد.', 'Thank you; your rating was saved.')));
        f.el.querySelector('button[type=submit]').hidden = true;
      },
    });
    holder.append(f.el);
  }
  return holder;
}

function loginScreen(view) {
  if (view.dataset.reason === 'expired') {
    view.append(alertBox(L('مهلت ورود شما به پایان رسیده است؛ دوباره وارد شوید. آنچه نوشته بودید نگه داشته شده است.',
      'Your session has expired; log in again. What you typed has been kept.'), 'warn'));
  }
  const f = form({
    id: 'login',
    fields: [
      { name: 'national_id', label: L('کد ملی (نام کاربری)', 'National ID (user name)'), required: true, inputmode: 'numeric', ltr: true, autocomplete: 'username' },
      { name: 'password', label: L('رمز عبور', 'Password'), type: 'password', required: true, autocomplete: 'current-password' },
    ],
    submit: L('ورود', 'Log in'),
    async onSubmit(values) {
      const answer = await post('/auth/login', values);
      session.signIn(answer.access_token, values.national_id);
      if (answer.must_change_password) go('/password');
      else go(session.takeReturn() || '/');
    },
  });
  view.append(f.el, h('p', { class: 'hint' }, L('رمز عبور اولیه را از دفتر نمایندگی استان خود دریافت نمایید.',
    'Collect your first password from your provincial office.')));
}

function passwordScreen(view) {
  if (session.mustChangePassword()) {
    view.append(alertBox(L('رمز عبور اولیه را تغییر دهید؛ پس از آن همه بخش‌ها باز می‌شود.',
      'Change your initial password; then everything opens.'), 'warn'));
  }
  const f = form({
    id: 'password',
    fields: [
      { name: 'current_password', label: L('رمز عبور فعلی', 'Current password'), type: 'password', required: true, autocomplete: 'current-password' },
      { name: 'new_password', label: L('رمز عبور جدید', 'New password'), type: 'password', required: true, autocomplete: 'new-password',
        hint: L('دست‌کم ۸ نویسه، غیر از رمز فعلی و کد ملی؛ آن را به کسی نگویید.', 'At least 8 characters, not your current password nor your national ID; tell no one.') },
      { name: 'repeat', label: L('تکرار رمز عبور جدید', 'Repeat the new password'), type: 'password', required: true, autocomplete: 'new-password' },
    ],
    submit: L('تغییر رمز عبور', 'Change password'),
    async onSubmit(values) {
      if (values.new_password !== values.repeat) {
        f.error('repeat', L('تکرار رمز عبور با رمز جدید یکی نیست.', 'The two new passwords differ.'));
        return false;
      }
      await post('/auth/password', { current_password: values.current_password, new_password: values.new_password });
      const nationalId = session.rememberedNationalId();
      if (nationalId) {
        const answer = await post('/auth/login', { national_id: nationalId, password: values.new_password });
        session.signIn(answer.access_token, nationalId);
        notify(L('رمز عبور تغییر کرد.', 'Your password was changed.'));
        go(session.takeReturn() || '/');
      } else {
        session.signOut();
        notify(L('رمز عبور تغییر کرد؛ با رمز جدید وارد شوید.', 'Your password was changed; log in with it.'));
        go('/login');
      }
      return true;
    },
  });
  view.append(f.el);
}

function notFound(view) {
  view.append(empty(L('این صفحه پیدا نشد.', 'This page was not found.')), h('a', { href: '#/' }, L('بازگشت به صفحه نخست', 'Back to the start')));
}

export default [
  { path: '/', title: () => L('خادمیاری رضوی', 'Razavi volunteers'), roles: VISITOR, render: landing },
  { path: '/apply', title: () => L('ثبت نام جدید', 'Apply for membership'), roles: VISITOR, render: applyScreen },
  { path: '/procedures', title: () => L('فرآیندهای میز خدمت', 'Service desk procedures'), roles: EVERYONE, render: proceduresScreen },
  { path: '/holidays', title: () => L('تعطیلات رسمی', 'Official holidays'), roles: EVERYONE, render: holidaysScreen,
    nav: ['visitor', 'admin', 'province_office', 'desk_officer', 'unit_officer'],
    about: () => L('تعطیلات رسمی هر سال شمسی، که در تاریخ وعده درخواست‌ها روز کاری نیستند', 'Each Jalali year’s official holidays, skipped by promised dates') },
  { path: '/track', title: () => L('پیگیری درخواست', 'Track a request'), roles: VISITOR, render: trackScreen },
  { path: '/login', title: () => L('ورود به سامانه', 'Log in'), roles: VISITOR, render: loginScreen },
  { path: '/password', title: () => L('تغییر رمز عبور', 'Change password'), roles: EVERYONE.filter((r) => r !== 'visitor'), render: passwordScreen },
  { path: '/404', title: () => L('پیدا نشد', 'Not found'), roles: EVERYONE, nav: false, render: notFound },
];
