// Hash routes (#/path) to screens. A screen is {path, title(), roles, nav, render(view, params)}; screens/*.js
// export lists of them and screens/index.js gathers the lists (see docs/web.md: how to add a screen).
// ``nav``: false keeps a screen out of every menu; a list of roles shows it only in theirs (the others may still
// open it by its address).

const screens = [];

export function register(list) {
  screens.push(...list);
}

/** The screen for a path and a role: {screen, params}, {forbidden: true} or null. */
export function match(path, role) {
  let forbidden = false;
  for (const screen of screens) {
    const params = matchPath(screen.path, path);
    if (!params) continue;
    if (screen.roles.includes(role)) return { screen, params };
    forbidden = true;
  }
  return forbidden ? { forbidden: true } : null;
}

function matchPath(pattern, path) {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('?')[0].split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params = {};
  for (let i = 0; i < want.length; i += 1) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}

/** The screens a role sees in its menu, in the order they were registered. */
export const menu = (role) => screens.filter((screen) => screen.nav !== false && screen.roles.includes(role)
  && (!Array.isArray(screen.nav) || screen.nav.includes(role)));

export const current = () => (location.hash.replace(/^#/, '') || '/');

export function go(path) {
  if (current() === path) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = `#${path}`;
}
