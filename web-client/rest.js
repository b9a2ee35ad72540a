// The REST API of docs/api.md and the staff login session. (Not named api.js: libsoup's
// handler for /api also catches /api.js.)
//
// api(method, path, body) sends JSON with the session's bearer token and resolves with
// the parsed answer (null for 204); an error answer rejects with an ApiError carrying
// the server's `code`, `field`, `retry_after` and the HTTP status. A 401 on any call but
// login/redeem ends the session and dispatches 'expired' on `sessionEvents` (the router
// sends the user back to the login page).
//
// The session ({token, expires_at, user}) lives in sessionStorage: it survives a reload
// but not the tab. It is refreshed (POST /api/auth/refresh) two minutes before it
// expires — staff tokens live 30 minutes, the login session 12 hours. Patient tokens
// (from an invitation) are never stored here: they belong to one call.

const STORAGE_KEY = 'cau.session';
const REFRESH_MARGIN_MS = 2 * 60 * 1000;
const MIN_REFRESH_DELAY_MS = 5 * 1000;

export class ApiError extends Error {
  constructor(status, { code, message, field, retry_after } = {}) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || (status === 0 ? 'network' : 'internal');
    this.field = field;
    this.retryAfter = typeof retry_after === 'number' ? retry_after : undefined;
  }
}

export const sessionEvents = new EventTarget();

let session = load();
let refreshTimer = null;

function load() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw);
    if (typeof s?.token !== 'string' || !s.user) return null;
    if (Date.parse(s.expires_at) <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

function store(s) {
  session = s;
  try {
    if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch { /* storage disabled: the session lasts as long as the page */ }
  scheduleRefresh();
  sessionEvents.dispatchEvent(new Event('change'));
}

/** The logged-in staff user ({id, username, display_name, role, facility_id}) or null. */
export function currentUser() {
  return session?.user ?? null;
}

export function currentToken() {
  return session?.token ?? null;
}

export function sessionExpiresAt() {
  return session?.expires_at ?? null;
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = null;
  if (!session) return;
  const delay = Math.max(Date.parse(session.expires_at) - Date.now() - REFRESH_MARGIN_MS,
    MIN_REFRESH_DELAY_MS);
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, delay);
}

/** Renew the token for the same login session; on failure the session ends. */
export async function refresh() {
  if (!session) return;
  try {
    const answer = await api('POST', '/api/auth/refresh');
    store({ ...session, token: answer.token, expires_at: answer.expires_at });
  } catch (err) {
    // A 401 already ended the session (see api()); anything else (network) retries soon.
    if (session && !(err instanceof ApiError && err.status === 401)) {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, 30 * 1000);
    }
    throw err;
  }
}

export async function login(username, password) {
  const answer = await api('POST', '/api/auth/login', { username, password }, { auth: false });
  store({ token: answer.token, expires_at: answer.expires_at, user: answer.user });
  return answer.user;
}

/** End the login session on the server (best effort) and here. */
export async function logout() {
  if (!session) return;
  try {
    await api('POST', '/api/auth/logout');
  } catch { /* the token may already be dead; forget it anyway */ }
  store(null);
}

/** Redeem a patient invitation: {token, expires_at, consultation, patient}. */
export function redeemInvitation(secret) {
  return api('POST', '/api/invitations/redeem', { secret }, { auth: false });
}

export async function api(method, path, body, { auth = true, token } = {}) {
  const headers = { Accept: 'application/json' };
  const bearer = token ?? (auth ? session?.token : null);
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { code: 'network', message: String(err) });
  }
  let data = null;
  if (response.status !== 204) {
    const text = await response.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
  }
  if (!response.ok) {
    const err = new ApiError(response.status, data && typeof data === 'object' ? data : {});
    if (response.status === 401 && auth && !token && session) {
      store(null);
      sessionEvents.dispatchEvent(new CustomEvent('expired', { detail: { code: err.code } }));
    }
    throw err;
  }
  return data;
}

/** A query string from an object, skipping undefined/null/'' values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

scheduleRefresh();
