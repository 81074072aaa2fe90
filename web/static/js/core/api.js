// The one way screens talk to the gateway: JSON under /api/v1, the bearer token, the reader's language, and
// RFC 9457 problems turned into a Problem error whose detail and per-field errors are shown as they come.
import { getLang, L } from './i18n.js';
import * as session from './session.js';

const PREFIX = '/api/v1';
let onExpired = () => {};

/** What to do when the token is refused (set by main.js: back to the login, keeping the drafts). */
export function whenExpired(handler) {
  onExpired = handler;
}

export class Problem extends Error {
  constructor(status, body = {}) {
    super(body.detail || body.title || `HTTP ${status}`);
    this.status = status;
    this.code = body.code || '';
    this.detail = body.detail || body.title || '';
    this.errors = body.errors || {};
    this.body = body;
    this.expired = false;
  }
}

// While answers are awaited the page's main region says so (aria-busy), for assistive technology and tests.
let inFlight = 0;
function busy(delta) {
  inFlight += delta;
  const main = document.getElementById('main');
  if (!main) return;
  if (inFlight > 0) main.setAttribute('aria-busy', 'true');
  else main.removeAttribute('aria-busy');
}

function queryString(query) {
  const pairs = Object.entries(query || {}).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return pairs.length ? `?${new URLSearchParams(pairs)}` : '';
}

/** Call the API: resolves to the JSON answer (null for 204), rejects with a Problem. */
export async function api(method, path, { body, query, headers = {} } = {}) {
  const h = { Accept: 'application/json, application/problem+json', 'Accept-Language': getLang(), ...headers };
  const t = session.token();
  if (t) h.Authorization = `Bearer ${t}`;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  let data;
  busy(1);
  try {
    response = await fetch(PREFIX + path + queryString(query), { method, headers: h, body: payload });
    data = response.status === 204 ? null : await response.json().catch(() => null);
  } catch {
    throw new Problem(0, { detail: L('اتصال به سامانه برقرار نشد؛ اینترنت خود را بررسی کنید و دوباره تلاش کنید.',
      'Could not reach the server; check your connection and try again.'), code: 'network' });
  } finally {
    busy(-1);
  }
  if (response.ok) return data;
  const problem = new Problem(response.status, data || {});
  // A refused token (expired or invalid) sends the person to log in; a wrong password on a form does not.
  if (response.status === 401 && t && ['invalid_token', 'authentication_required'].includes(problem.code)) {
    problem.expired = true;
    onExpired(problem);
  }
  throw problem;
}

export const get = (path, query) => api('GET', path, { query });
export const post = (path, body, options = {}) => api('POST', path, { body, ...options });
export const put = (path, body) => api('PUT', path, { body });
export const del = (path) => api('DELETE', path);

/** Every page of a list ({items, next}), up to a limit of items. */
export async function all(path, query = {}, max = 500) {
  const items = [];
  let cursor;
  do {
    const page = await get(path, { ...query, cursor });
    items.push(...(page.items || []));
    cursor = page.next;
  } while (cursor && items.length < max);
  return items;
}

// Geography changes rarely: asked once per page load.
const cache = new Map();
export function cached(path) {
  if (!cache.has(path)) cache.set(path, get(path).catch((e) => { cache.delete(path); throw e; }));
  return cache.get(path);
}

export function forget(path) {
  cache.delete(path);
}
