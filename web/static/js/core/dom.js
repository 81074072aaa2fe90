// Small helpers to build the screens: elements, forms (labels, hints, per-field problems, drafts kept in
// sessionStorage), cards, notices and buttons that show they are working.
import { digits, L, latinDigits, num } from './i18n.js';
import { jalaliDate, jalaliDateTime } from './jalali.js';
import { clearDraft, loadDraft, saveDraft } from './session.js';

let uid = 0;
const nextId = (prefix) => `${prefix}-${(uid += 1)}`;

/** h('p', {class: 'x', onclick: fn}, 'text', child, [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// -- showing values
export const date = (iso) => digits(jalaliDate(iso));
export const dateTime = (iso) => digits(jalaliDateTime(iso));
/** A time window: "۱۴۰۵/۰۹/۰۴ ۱۰:۰۰ تا ۱۲:۰۰", with the day once when both ends share it. */
export function span(starts, ends) {
  const [a, b] = [jalaliDateTime(starts), jalaliDateTime(ends)];
  const sameDay = a.slice(0, 10) === b.slice(0, 10);
  return digits(`${a} ${L('تا', 'to')} ${sameDay ? b.slice(11) : b}`);
}
/** A code people read out or type (tracking code, national ID): kept left-to-right, Latin letters. */
export const code = (text) => h('bdi', { class: 'code', dir: 'ltr' }, text);
/** A number read digit by digit (mobile, national ID): the reader's digits, kept left-to-right. */
export const phone = (text) => h('bdi', { dir: 'ltr' }, digits(text));
export const nationalId = phone;

export function badge(text, tone = '') {
  return h('span', { class: `badge ${tone}` }, text);
}

/** A card of one record: a heading, label/value rows, and actions. */
export function card(title, rows = [], actions = [], extra = null) {
  const list = h('dl', { class: 'facts' });
  for (const [label, value] of rows) {
    if (value === null || value === undefined || value === '') continue;
    list.append(h('div', {}, h('dt', {}, label), h('dd', {}, value)));
  }
  return h('article', { class: 'card' },
    title ? h('h3', {}, title) : null,
    list.children.length ? list : null,
    extra,
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

export function section(title, ...children) {
  const id = nextId('sec');
  return h('section', { class: 'block', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

/** A message in the page's live region (read out by screen readers). */
export function notify(text, tone = 'ok') {
  const region = document.getElementById('flash');
  clear(region);
  if (text) region.append(h('p', { class: `notice ${tone}` }, text));
}

export function alertBox(text, tone = 'error') {
  return h('p', { class: `notice ${tone}`, role: tone === 'error' ? 'alert' : 'status' }, text);
}

/** A one-time secret (an initial password): shown once, large, with a way to copy it. */
export function secret(label, value, note) {
  const out = h('output', { class: 'secret', dir: 'ltr' }, value);
  const copy = h('button', { type: 'button', class: 'secondary small' }, L('رونوشت', 'Copy'));
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(value);
      copy.textContent = L('رونوشت شد', 'Copied');
    } catch {
      copy.textContent = L('رونوشت ممکن نشد؛ آن را بنویسید', 'Copy failed; write it down');
    }
  });
  return h('div', { class: 'notice ok one-time', role: 'status' }, h('p', {}, h('strong', {}, label)), out, copy,
    h('p', { class: 'hint' }, note));
}

/** A button whose click runs an async action: disabled while it runs, its problem shown beside it. */
export function action(label, run, { tone = 'secondary', confirmText = null } = {}) {
  const button = h('button', { type: 'button', class: `${tone} small` }, label);
  button.addEventListener('click', async () => {
    if (confirmText && !window.confirm(confirmText)) return;
    const holder = button.closest('.card, .block') || button.parentElement;
    holder.querySelectorAll(':scope > .notice.error').forEach((n) => n.remove());
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    try {
      await run();
    } catch (problem) {
      if (!problem.expired) holder.append(alertBox(problem.detail || String(problem)));
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
  return button;
}

// -- forms
const DATE_HINT = () => L('تاریخ شمسی، مانند ۱۴۰۴/۰۸/۳۰ (ارقام فارسی یا لاتین)',
  'Jalali date, e.g. 1404/08/30 (Persian or Latin digits)');
const DATETIME_HINT = () => L('تاریخ و ساعت شمسی، مانند ۱۴۰۴/۰۸/۳۰ ۱۴:۳۰', 'Jalali date and time, e.g. 1404/08/30 14:30');

function control(spec, id, describedBy) {
  const common = { id, name: spec.name, 'aria-describedby': describedBy, autocomplete: spec.autocomplete || null,
    required: spec.required || null };
  switch (spec.type) {
    case 'textarea':
      return h('textarea', { ...common, rows: spec.rows || 3, maxlength: spec.maxlength || null });
    case 'select': {
      const select = h('select', common);
      setOptions(select, spec.options || [], spec.placeholder);
      return select;
    }
    case 'checkbox':
      return h('input', { ...common, type: 'checkbox' });
    case 'date':
    case 'datetime':
      return h('input', { ...common, type: 'text', inputmode: 'numeric', dir: 'ltr', class: 'ltr',
        placeholder: digits(spec.type === 'date' ? '1404/08/30' : '1404/08/30 14:30') });
    case 'number':
      return h('input', { ...common, type: 'text', inputmode: spec.decimal ? 'decimal' : 'numeric', dir: 'ltr',
        class: 'ltr' });
    case 'file':
      return h('input', { ...common, type: 'file', accept: spec.accept || null });
    default:
      return h('input', { ...common, type: spec.type || 'text', inputmode: spec.inputmode || null,
        dir: spec.ltr ? 'ltr' : null, class: spec.ltr ? 'ltr' : null, maxlength: spec.maxlength || null,
        placeholder: spec.placeholder || null });
  }
}

/** Replace a select's options: [[value, label], ...], with an empty first choice. */
export function setOptions(select, options, placeholder) {
  const keep = select.value;
  clear(select);
  select.append(h('option', { value: '' }, placeholder || L('انتخاب کنید', 'Choose')));
  for (const [value, label] of options) select.append(h('option', { value }, label));
  if (options.some(([value]) => value === keep)) select.value = keep;
}

function setNested(target, dotted, value) {
  const keys = dotted.split('.');
  let node = target;
  keys.slice(0, -1).forEach((k) => { node = node[k] || (node[k] = {}); });
  node[keys[keys.length - 1]] = value;
}

/**
 * A form: form({id, fields: [{name, label, type, required, hint, options, ...}], submit, onSubmit}).
 * onSubmit(values, f) may throw a Problem: its detail is shown on top and its per-field errors under the fields.
 * What is typed is kept as a draft (not passwords nor files) until the form succeeds.
 */
export function form({ id, fields, submit, onSubmit, persist = true, errorPrefix = '', intro = null,
  resetOnSuccess = true, secondary = null }) {
  const formId = nextId('form');
  const el = h('form', { class: 'form', novalidate: true, id: id ? `form-${id}` : null });
  const status = h('div', { class: 'form-status' });
  const inputs = {};
  const errorsOf = {};
  const specs = {};
  const groups = {};
  function fillChecks(name, options, prefix = `${formId}-${name}`) {
    const boxes = options.map(([value, label]) => {
      const boxId = `${prefix}-${(uid += 1)}`;
      return h('div', { class: 'check' }, h('input', { type: 'checkbox', id: boxId, name, value }),
        h('label', { for: boxId }, label));
    });
    inputs[name] = boxes.map((b) => b.querySelector('input'));
    clear(groups[name]).append(...(boxes.length ? boxes : [h('p', { class: 'hint' }, L('موردی نیست.', 'None.'))]));
  }
  if (intro) el.append(h('p', { class: 'intro' }, intro));
  el.append(status);
  for (const spec of fields) {
    specs[spec.name] = spec;
    if (spec.type === 'hidden') {
      inputs[spec.name] = h('input', { type: 'hidden', name: spec.name, value: spec.value ?? '' });
      el.append(inputs[spec.name]);
      continue;
    }
    const inputId = `${formId}-${spec.name.replace(/\W/g, '_')}`;
    const hintId = `${inputId}-hint`;
    const errorId = `${inputId}-error`;
    const hintText = spec.hint ?? (spec.type === 'date' ? DATE_HINT() : spec.type === 'datetime' ? DATETIME_HINT() : null);
    const error = h('p', { class: 'field-error', id: errorId, hidden: true });
    errorsOf[spec.name] = error;
    if (spec.type === 'checks') {
      groups[spec.name] = h('div', { class: 'checks' });
      fillChecks(spec.name, spec.options || [], inputId);
      el.append(h('fieldset', { class: 'field', 'aria-describedby': errorId },
        h('legend', {}, spec.label), hintText ? h('p', { class: 'hint', id: hintId }, hintText) : null,
        groups[spec.name], error));
      continue;
    }
    const input = control(spec, inputId, [hintText ? hintId : null, errorId].filter(Boolean).join(' '));
    if (spec.value !== undefined && spec.type !== 'select') {
      if (spec.type === 'checkbox') input.checked = Boolean(spec.value);
      else input.value = spec.value;
    } else if (spec.value !== undefined) {
      input.value = spec.value;
    }
    inputs[spec.name] = input;
    // the asterisk stays outside the label, so the field's name is its label alone (``required`` tells the rest)
    const label = h('label', { for: inputId }, spec.label);
    const mark = spec.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, '*') : null;
    const wrap = spec.type === 'checkbox'
      ? h('div', { class: 'field check' }, input, label, hintText ? h('p', { class: 'hint', id: hintId }, hintText) : null, error)
      : h('div', { class: 'field' }, h('div', { class: 'label-row' }, label, mark),
        hintText ? h('p', { class: 'hint', id: hintId }, hintText) : null, input, error);
    el.append(wrap);
  }
  const button = h('button', { type: 'submit', class: 'primary' }, submit || L('ثبت', 'Submit'));
  el.append(h('div', { class: 'actions' }, button, secondary));

  const kept = (name) => persist && specs[name].persist !== false && !['password', 'file', 'hidden'].includes(specs[name].type);

  function raw() {
    const out = {};
    for (const [name, input] of Object.entries(inputs)) {
      if (!Array.isArray(input) && input.closest('.field')?.hidden) continue;
      if (Array.isArray(input)) out[name] = input.filter((b) => b.checked).map((b) => b.value);
      else if (input.type === 'checkbox') out[name] = input.checked;
      else if (input.type === 'file') out[name] = input.files[0] || null;
      else out[name] = input.value;
    }
    return out;
  }

  /** The values to send: trimmed, digits made Latin, numbers as numbers, empty ones left out, dotted names nested. */
  function values() {
    const out = {};
    for (const [name, value] of Object.entries(raw())) {
      const spec = specs[name];
      let v = value;
      if (typeof v === 'string') {
        v = v.trim();
        if (['number', 'date', 'datetime', 'tel'].includes(spec.type) || spec.ltr) v = latinDigits(v);
        if (v === '') continue;
        if (spec.type === 'number') v = Number.isNaN(Number(v)) ? v : Number(v);
      }
      if (v === null) continue;
      setNested(out, name, v);
    }
    return out;
  }

  function saveNow() {
    if (!id || !persist) return;
    const keep = {};
    for (const [name, value] of Object.entries(raw())) if (kept(name)) keep[name] = value;
    saveDraft(id, keep);
  }

  function fill(draft) {
    for (const [name, value] of Object.entries(draft || {})) {
      const input = inputs[name];
      if (!input || !kept(name)) continue;
      if (Array.isArray(input)) input.forEach((b) => { b.checked = (value || []).includes(b.value); });
      else if (input.type === 'checkbox') input.checked = Boolean(value);
      else if (input.tagName === 'SELECT') {
        input.dataset.pending = value; // options may arrive later: see restore()
        if ([...input.options].some((o) => o.value === value)) input.value = value;
      } else input.value = value;
    }
  }

  function clearErrors() {
    clear(status);
    for (const [name, error] of Object.entries(errorsOf)) {
      error.hidden = true;
      error.textContent = '';
      const input = inputs[name];
      if (input && !Array.isArray(input)) input.removeAttribute('aria-invalid');
    }
  }

  function showProblem(problem) {
    clearErrors();
    const unplaced = [];
    for (const [key, message] of Object.entries(problem.errors || {})) {
      const name = key.startsWith(errorPrefix) ? key.slice(errorPrefix.length) : key;
      const target = errorsOf[name] || errorsOf[name.split('.')[0]];
      if (target) {
        target.textContent = message;
        target.hidden = false;
        const input = inputs[name] || inputs[name.split('.')[0]];
        if (input && !Array.isArray(input)) input.setAttribute('aria-invalid', 'true');
      } else {
        unplaced.push(message);
      }
    }
    status.append(alertBox(problem.detail || L('خطایی رخ داد.', 'Something went wrong.')));
    if (unplaced.length) status.append(h('ul', { class: 'notice error' }, unplaced.map((m) => h('li', {}, m))));
    const firstBad = el.querySelector('[aria-invalid="true"]');
    (firstBad || status).focus?.();
  }

  const api = {
    el, inputs, values, raw, showProblem, clearErrors,
    /** Fill the draft's value of a select whose options just arrived. */
    restore(name) {
      const input = inputs[name];
      if (input?.dataset.pending && [...input.options].some((o) => o.value === input.dataset.pending)) {
        input.value = input.dataset.pending;
      }
      if (input) delete input.dataset.pending;
    },
    /** Replace the boxes of a 'checks' field: [[value, label], ...]. */
    setChecks(name, options) {
      fillChecks(name, options);
    },
    /** Show or hide a field (with its label and hint) by name. */
    show(name, visible) {
      const input = Array.isArray(inputs[name]) ? groups[name] : inputs[name];
      const wrap = input.closest('.field');
      wrap.hidden = !visible;
    },
    error(name, message) {
      clearErrors();
      const target = errorsOf[name];
      target.textContent = message;
      target.hidden = false;
      inputs[name].setAttribute('aria-invalid', 'true');
      inputs[name].focus();
    },
    success(node) {
      clear(status);
      if (node) status.append(node);
    },
    reset() {
      el.reset();
      if (id) clearDraft(id);
    },
  };

  if (id && persist) {
    fill(loadDraft(id));
    el.addEventListener('input', saveNow);
    el.addEventListener('change', saveNow);
  }
  status.tabIndex = -1;
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    button.disabled = true;
    el.setAttribute('aria-busy', 'true');
    try {
      const result = await onSubmit(values(), api);
      if (result !== false) {
        if (id) clearDraft(id);
        if (resetOnSuccess) el.reset();
      }
    } catch (problem) {
      if (!problem.expired) {
        if (problem instanceof Error && !('status' in problem)) console.error(problem);
        showProblem(problem);
      }
    } finally {
      button.disabled = false;
      el.removeAttribute('aria-busy');
    }
  });
  return api;
}

/** Load a list and show it, or a message; reload() draws it again. */
export function listView(load, renderItem, emptyText) {
  const holder = h('div', { class: 'list', 'aria-live': 'polite' });
  async function reload() {
    holder.setAttribute('aria-busy', 'true');
    try {
      const items = await load();
      clear(holder);
      if (!items.length) holder.append(empty(emptyText));
      for (const item of items) holder.append(renderItem(item, reload));
    } catch (problem) {
      clear(holder);
      if (!problem.expired) holder.append(alertBox(problem.detail || String(problem)));
    } finally {
      holder.removeAttribute('aria-busy');
    }
  }
  holder.reload = reload;
  reload();
  return holder;
}

/** A list read page by page ({items, next}): the first page, then a "more" button while there is a next. */
export function pagedView(loadPage, renderItem, emptyText) {
  const holder = h('div', { class: 'list', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, L('نمایش بیشتر', 'Show more'));
  const wrap = h('div', {}, holder, more);
  let cursor = null;
  async function page(first) {
    holder.setAttribute('aria-busy', 'true');
    try {
      const answer = await loadPage(first ? undefined : cursor);
      if (first) clear(holder);
      if (first && !answer.items.length) holder.append(empty(emptyText));
      for (const item of answer.items) holder.append(renderItem(item, reload));
      cursor = answer.next;
      more.hidden = !cursor;
    } catch (problem) {
      if (first) clear(holder);
      if (!problem.expired) holder.append(alertBox(problem.detail || String(problem)));
    } finally {
      holder.removeAttribute('aria-busy');
    }
  }
  const reload = () => page(true);
  more.addEventListener('click', () => page(false));
  wrap.reload = reload;
  reload();
  return wrap;
}

export { num };
