// The shrine office's screen: publish duty shifts (کشیک), see each shift's roster and record attendance.
import { get, post } from '../core/api.js';
import { action, badge, card, clear, code, empty, form, h, listView, notify, section, span } from '../core/dom.js';
import { L, num, options, word } from '../core/i18n.js';

const SHRINE = ['shrine_office', 'admin'];

function shifts(view) {
  const f = form({
    id: 'shift',
    errorPrefix: 'shifts.0.',
    fields: [
      { name: 'post', label: L('محل کشیک', 'Post'), required: true, hint: L('مانند صحن انقلاب یا یکی از درهای ورودی', 'e.g. a courtyard or a gate') },
      { name: 'starts_at', label: L('آغاز', 'Starts'), type: 'datetime', required: true },
      { name: 'ends_at', label: L('پایان', 'Ends'), type: 'datetime', required: true },
      { name: 'capacity', label: L('ظرفیت', 'Capacity'), type: 'number', required: true },
      { name: 'gender', label: L('ویژه', 'For'), type: 'select', options: options('gender'), placeholder: L('برادران و خواهران', 'Everyone') },
      { name: 'opens_at', label: L('زمان گشایش نوبت‌دهی (اختیاری)', 'Booking opens at (optional)'), type: 'datetime',
        hint: L('اگر خالی بماند، نوبت‌دهی از همین حالا باز است.', 'Empty: booking opens now.') },
      { name: 'cancel_cutoff_hours', label: L('مهلت لغو (ساعت پیش از آغاز، اختیاری)', 'Cancel cut-off, hours before (optional)'), type: 'number' },
    ],
    submit: L('انتشار کشیک', 'Publish the shift'),
    async onSubmit(values) {
      await post('/shrine/shifts', { shifts: [values] });
      notify(L('کشیک منتشر شد.', 'The shift was published.'));
      list.reload();
    },
  });
  const list = listView(async () => (await get('/shrine/shifts')).items, (s) => {
    const roster = h('div', { class: 'roster', 'aria-live': 'polite' });
    const show = action(L('فهرست کشیک و حضور و غیاب', 'Roster and attendance'), async () => {
      clear(roster);
      const items = (await get(`/shrine/shifts/${s.id}/bookings`)).items.filter((b) => b.status === 'booked');
      if (!items.length) roster.append(empty(L('هنوز کسی این کشیک را رزرو نکرده است.', 'Nobody has booked this shift yet.')));
      for (const b of items) {
        const mark = h('span', {}, b.present === null ? '' : badge(b.present ? L('حاضر', 'Present') : L('غایب', 'Absent'), b.present ? 'good' : 'bad'));
        const record = (present) => action(present ? L('حاضر', 'Present') : L('غایب', 'Absent'), async () => {
          const answer = await post(`/shrine/shifts/${s.id}/attendance`, { booking: b.id, present });
          clear(mark).append(badge(present ? L('حاضر', 'Present') : L('غایب', 'Absent'), present ? 'good' : 'bad'),
            present ? '' : ` ${L('غیبت‌ها', 'absences')}: ${num(answer.absences)}`);
        });
        roster.append(h('div', { class: 'row' }, code(b.member_id.slice(0, 8)), mark, record(true), record(false)));
      }
    });
    return card(s.post, [
      [L('زمان', 'When'), span(s.starts_at, s.ends_at)],
      [L('رزرو شده', 'Booked'), `${num(s.booked)} ${L('از', 'of')} ${num(s.capacity)}`],
      [L('ویژه', 'For'), s.gender ? word('gender', s.gender) : null],
      [L('نوبت‌دهی', 'Booking'), word('phase', s.phase)],
    ], [show], roster);
  }, L('در دو هفته آینده کشیکی منتشر نشده است.', 'No shifts in the next two weeks.'));
  view.append(section(L('انتشار کشیک', 'Publish a shift'), f.el), section(L('کشیک‌های دو هفته آینده', 'Shifts of the next two weeks'), list));
}

export default [
  { path: '/shifts', title: () => L('کشیک‌های حرم', 'Shrine shifts'), roles: SHRINE, render: shifts,
    about: () => L('انتشار کشیک‌ها، فهرست هر کشیک و ثبت حضور و غیاب', 'Publish shifts, rosters and attendance') },
];
