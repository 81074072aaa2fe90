// Start: language and direction, the header and menu for the person's role, hash routing, and the rule that a
// refused token sends the person to log in and back to where they were, with what they had typed.
import { whenExpired } from './core/api.js';
import { alertBox, clear, h } from './core/dom.js';
import { applyLang, getLang, L, setLang, word } from './core/i18n.js';
import { current, go, match, menu, register } from './core/router.js';
import * as session from './core/session.js';
import screens from './screens/index.js';

register(screens);
applyLang();

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const toggle = document.getElementById('menu-toggle');
const flash = document.getElementById('flash');
let expiredNotice = false;
let rendering = 0;

whenExpired(() => {
  session.expire(current());
  expiredNotice = true;
  go('/login');
});

function chrome(role, path) {
  document.getElementById('brand').textContent = L('خادمیار رضوی', 'Khademyar');
  document.getElementById('skip').textContent = L('پرش به محتوا', 'Skip to content');
  document.getElementById('foot').textContent = L('خادمیاری رضوی و میز خدمت — عضویت رایگان است.',
    'Razavi volunteers and the service desk — membership is free.');
  const lang = document.getElementById('lang');
  lang.textContent = getLang() === 'fa' ? 'English' : 'فارسی';
  lang.lang = getLang() === 'fa' ? 'en' : 'fa';
  toggle.textContent = L('منو', 'Menu');
  nav.setAttribute('aria-label', L('بخش‌ها', 'Sections'));
  const list = clear(document.getElementById('nav-list'));
  for (const screen of menu(role)) {
    const here = screen.path === path;
    list.append(h('li', {}, h('a', { href: `#${screen.path}`, 'aria-current': here ? 'page' : null }, screen.title())));
  }
  const who = clear(document.getElementById('who'));
  if (role !== 'visitor') {
    who.append(h('span', { class: 'role' }, word('role', role)),
      h('button', { type: 'button', class: 'link', onclick: () => { session.signOut(); go('/'); } }, L('خروج', 'Log out')));
  }
}

async function render() {
  const path = current();
  if (!path.startsWith('/')) return; // an in-page anchor such as #main
  const mine = (rendering += 1);
  if (session.token() && session.secondsLeft() <= 5) {
    session.expire(path);
    expiredNotice = true;
    go('/login');
    return;
  }
  const role = session.role();
  if (session.mustChangePassword() && path !== '/password') {
    go('/password');
    return;
  }
  let found = match(path, role);
  if (found?.forbidden && role === 'visitor') {
    session.expire(path); // remember where they wanted to go
    go('/login');
    return;
  }
  if (!found || found.forbidden) found = match('/404', role);
  if (!(flash.dataset.at && Date.now() - Number(flash.dataset.at) < 800)) clear(flash);
  delete flash.dataset.at;
  toggle.setAttribute('aria-expanded', 'false');
  nav.classList.remove('open');
  chrome(role, path);
  const { screen, params } = found;
  const title = screen.title();
  const heading = h('h1', { tabindex: '-1' }, title);
  const view = h('div', { class: 'view' });
  if (path === '/login' && expiredNotice) view.dataset.reason = 'expired';
  expiredNotice = false;
  clear(main).append(heading, view);
  document.title = `${title} | ${L('خادمیار رضوی', 'Khademyar')}`;
  // after a navigation the new heading takes the focus (screen readers announce it); not on the first load,
  // where the first Tab should still reach the skip link
  if (mine > 1) heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
  try {
    await screen.render(view, params);
  } catch (problem) {
    if (!problem.expired && mine === rendering) {
      if (!(problem instanceof Error) || !('status' in problem)) console.error(problem);
      view.append(alertBox(problem.detail || L('خطایی رخ داد؛ دوباره تلاش کنید.', 'Something went wrong; try again.')));
    }
  }
  main.dataset.ready = String(mine); // for tests: the screen has drawn
}

// notify() stamps the flash so a message given just before a navigation survives it
new MutationObserver(() => { if (flash.childNodes.length) flash.dataset.at = String(Date.now()); })
  .observe(flash, { childList: true });

document.getElementById('lang').addEventListener('click', () => {
  setLang(getLang() === 'fa' ? 'en' : 'fa');
  render();
});
toggle.addEventListener('click', () => {
  const open = !nav.classList.contains('open');
  nav.classList.toggle('open', open);
  toggle.setAttribute('aria-expanded', String(open));
});
document.getElementById('skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', render);
render();
