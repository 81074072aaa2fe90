// Language (Persian by default, English as a switch), digits and the shared words of the product.
// Screen texts sit beside their screen as L('فارسی', 'English'); words used on many screens live here.

const STORE = 'khademyar.lang';
let lang = localStorage.getItem(STORE) === 'en' ? 'en' : 'fa';

export const getLang = () => lang;

export function applyLang() {
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === 'fa' ? 'rtl' : 'ltr';
}

export function setLang(next) {
  lang = next === 'en' ? 'en' : 'fa';
  localStorage.setItem(STORE, lang);
  applyLang();
}

/** The text in the current language. */
export const L = (fa, en) => (lang === 'en' ? en : fa);

const FA = '۰۱۲۳۴۵۶۷۸۹';
const AR = '٠١٢٣٤٥٦٧٨٩';

/** Persian or Arabic-Indic digits (and the Persian decimal point ٫) to Latin ones, before a value is sent. */
export const latinDigits = (s) => String(s ?? '').replace(/[۰-۹]/g, (c) => FA.indexOf(c))
  .replace(/[٠-٩]/g, (c) => AR.indexOf(c)).replace(/٫/g, '.');

/** Digits as the reader expects them: Persian in Persian, Latin in English. */
export const digits = (s) => {
  if (s === null || s === undefined) return '';
  return lang === 'fa' ? String(s).replace(/[0-9]/g, (d) => FA[d]) : latinDigits(s);
};

/** A number formatted for the reader (grouping, decimals, Persian digits). */
export function num(n, options = {}) {
  if (n === null || n === undefined || Number.isNaN(+n)) return '—';
  return new Intl.NumberFormat(lang === 'fa' ? 'fa-IR' : 'en-US', options).format(+n);
}

// Shared words: group -> value -> [fa, en]
const WORDS = {
  role: {
    visitor: ['مهمان', 'Visitor'],
    admin: ['مدیر سامانه', 'Administrator'],
    province_office: ['نمایندگی استان', 'Provincial office'],
    thematic_center: ['کانون موضوعی', 'Thematic centre'],
    neighborhood_center: ['کانون محله‌ای', 'Neighbourhood centre'],
    supervisor: ['ناظر', 'Supervisor'],
    shrine_office: ['دفتر کشیک حرم', 'Shrine office'],
    desk_officer: ['مسئول میز خدمت', 'Desk officer'],
    unit_officer: ['کارشناس واحد', 'Unit officer'],
    member: ['خادمیار', 'Member'],
  },
  education: {
    below_diploma: ['زیر دیپلم', 'Below diploma'],
    diploma: ['دیپلم', 'Diploma'],
    associate: ['کاردانی', 'Associate degree'],
    bachelor: ['کارشناسی', "Bachelor's"],
    master: ['کارشناسی ارشد', "Master's"],
    doctorate: ['دکتری', 'Doctorate'],
    seminary: ['حوزوی', 'Seminary'],
  },
  gender: { male: ['مرد', 'Male'], female: ['زن', 'Female'] },
  kind: { general: ['عمومی', 'General'], specialized: ['تخصصی', 'Specialized'], staff: ['ستادی', 'Staff'] },
  application: {
    submitted: ['ثبت شده، در انتظار تماس', 'Submitted, awaiting contact'],
    invited: ['دعوت به جلسه توجیهی', 'Invited to orientation'],
    attended: ['حاضر در جلسه توجیهی', 'Attended orientation'],
    activated: ['فعال شده', 'Activated'],
    overdue: ['بیش از ۱۵ روز بدون تماس', 'Not contacted for over 15 days'],
  },
  member: {
    active: ['فعال', 'Active'], suspended: ['تعلیق', 'Suspended'], deactivated: ['غیرفعال', 'Deactivated'],
    under_review: ['در بازنگری', 'Under review'],
  },
  offer: {
    pending_review: ['در انتظار بررسی کانون موضوعی', 'Awaiting the thematic centre'],
    approved: ['تأیید شده', 'Approved'], rejected: ['رد شده', 'Rejected'], withdrawn: ['انصراف داده شده', 'Withdrawn'],
    completed: ['پایان یافته', 'Completed'],
  },
  reservation: {
    invited: ['دعوت شده', 'Invited'], accepted: ['پذیرفته شده', 'Accepted'], declined: ['رد شده', 'Declined'],
    cancelled: ['لغو شده', 'Cancelled'],
  },
  report: { submitted: ['در انتظار بررسی ناظر', 'Awaiting the supervisor'], approved: ['تأیید شده', 'Approved'],
    rejected: ['رد شده', 'Rejected'] },
  booking: {
    booked: ['رزرو شده', 'Booked'], cancelled: ['لغو شده', 'Cancelled'], offered: ['پیشنهاد از فهرست انتظار', 'Offered from the waiting list'],
    waiting: ['در فهرست انتظار', 'On the waiting list'], pending: ['در انتظار قرعه‌کشی', 'Awaiting the draw'],
    expired: ['منقضی', 'Expired'], left: ['خارج شده از فهرست', 'Left the list'], refused: ['ناموفق', 'Not granted'],
    declined: ['رد شده', 'Declined'],
  },
  phase: { not_open: ['هنوز باز نشده', 'Not open yet'], fair_window: ['نوبت‌دهی منصفانه (قرعه‌کشی)', 'Fair opening (draw)'],
    draw_due: ['در انتظار قرعه‌کشی', 'Draw due'], open: ['باز', 'Open'], started: ['آغاز شده', 'Started'] },
  ticket: {
    open: ['در حال بررسی در میز خدمت', 'Being handled at the desk'],
    awaiting_visitor: ['در انتظار مراجعه', 'Waiting for the visitor'],
    referred: ['ارجاع شده به واحد ذیربط', 'Referred to the unit'],
    result_ready: ['نتیجه آماده است', 'Result ready'], resolved: ['انجام شد', 'Done'],
    delivered: ['انجام و تحویل شد', 'Done and delivered'],
  },
  member_ticket: { suggestion: ['پیشنهاد و ابتکار', 'Suggestion'], integrity: ['گزارش درخواست وجه', 'Integrity report'],
    open: ['باز', 'Open'], closed: ['بسته شده', 'Closed'] },
  lesson: { read: ['مطالعه شده', 'Read'], unread: ['مطالعه نشده', 'Not read yet'] },
  // the review (بازنگری): a case, the office's decision, and the six grounds of the membership guide
  review: { open: ['باز، در انتظار تصمیم', 'Open, awaiting a decision'], closed: ['بسته شده', 'Closed'] },
  decision: { continue: ['ادامه خدمت', 'Continue'], suspend: ['تعلیق', 'Suspend'], deactivate: ['غیرفعال کردن', 'Deactivate'] },
  reason: {
    inactivity: ['عدم انتخاب خدمت یا عدم ثبت گزارش در زمان مشخص', 'No service chosen, or reports not filed on time'],
    report_rejected: ['عدم تأیید گزارش توسط ناظر', 'A report not approved by the supervisor'],
    breach: ['عدم رعایت مقررات و شئون خادمی', 'Not observing the rules of the service'],
    training_or_meeting: ['عدم شرکت در آموزش‌ها یا جلسات حضوری', 'Missed training or in-person meetings'],
    discontinuity: ['محرز شدن عدم استمرار خدمت', 'Discontinuity of service established'],
    shrine_absences: ['بیش از چهار غیبت در کشیک حرم مطهر', 'More than four absences from shrine shifts'],
  },
};

/** A shared word, e.g. word('offer', 'approved'); unknown values are shown as they are. */
export function word(group, value) {
  const pair = WORDS[group]?.[value];
  return pair ? L(pair[0], pair[1]) : (value ?? '');
}

export const options = (group) => Object.keys(WORDS[group]).map((k) => [k, word(group, k)]);
