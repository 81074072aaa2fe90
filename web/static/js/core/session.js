// Who is signed in: the bearer token (in sessionStorage: this tab only) and its claims, read from the JWT.
// Drafts of forms are kept per person in sessionStorage too, so an expired token never loses what was typed.

const TOKEN = 'khademyar.token';
const RETURN = 'khademyar.return';
const DRAFT = 'khademyar.draft:';
let loginNationalId = null; // kept in memory only, to log in again right after the first password is changed

function decode(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')),
      (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN);
}

/** The claims of the current token: {sub, role, prov, cty, fld, ctr, unt, pwd, exp}, or null. */
export function claims() {
  const t = token();
  return t ? decode(t) : null;
}

/** The role the screens are chosen by: 'visitor' without a token. */
export function role() {
  return claims()?.role || 'visitor';
}

export const mustChangePassword = () => Boolean(claims()?.pwd);

/** Seconds the token has left (negative once expired), or null without a token. */
export function secondsLeft(now = Date.now()) {
  const c = claims();
  return c?.exp ? c.exp - now / 1000 : null;
}

export function signIn(accessToken, nationalId) {
  sessionStorage.setItem(TOKEN, accessToken);
  if (nationalId) loginNationalId = nationalId;
}

export const rememberedNationalId = () => loginNationalId;

/** The person logs out: the token and their drafts go. */
export function signOut() {
  const owner = draftOwner();
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(RETURN);
  loginNationalId = null;
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(`${DRAFT}${owner}:`)) sessionStorage.removeItem(key);
  }
}

/** The token expired or was refused: forget it, keep the drafts and where the person was. */
export function expire(returnTo) {
  const c = claims();
  sessionStorage.removeItem(TOKEN);
  if (returnTo) sessionStorage.setItem(RETURN, JSON.stringify({ to: returnTo, sub: c?.sub || null }));
}

/** Where to go after logging in (only for the same person who was sent away), once. */
export function takeReturn() {
  const raw = sessionStorage.getItem(RETURN);
  sessionStorage.removeItem(RETURN);
  if (!raw) return null;
  try {
    const { to, sub } = JSON.parse(raw);
    return !sub || sub === claims()?.sub ? to : null;
  } catch {
    return null;
  }
}

// -- drafts of forms
const draftOwner = () => claims()?.sub || 'visitor';

export function loadDraft(formId) {
  try {
    return JSON.parse(sessionStorage.getItem(`${DRAFT}${draftOwner()}:${formId}`)) || null;
  } catch {
    return null;
  }
}

export function saveDraft(formId, values) {
  sessionStorage.setItem(`${DRAFT}${draftOwner()}:${formId}`, JSON.stringify(values));
}

export function clearDraft(formId) {
  sessionStorage.removeItem(`${DRAFT}${draftOwner()}:${formId}`);
}
