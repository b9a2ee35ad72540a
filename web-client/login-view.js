// #/login: username and password → POST /api/auth/login. Errors are shown in the form
// (wrong credentials; a locked account with the minutes left to wait).

import { login, ApiError } from './rest.js';
import { t, i18nEvents } from './i18n.js';
import { errorMessage } from './ui.js';

const view = document.getElementById('login-view');
const form = document.getElementById('login-form');
const username = document.getElementById('login-username');
const password = document.getElementById('login-password');
const submit = document.getElementById('login-submit');
const error = document.getElementById('login-error');
const heading = document.getElementById('login-heading');

let onLoggedIn = () => {};
let shown = null; // {key} or {err}: re-rendered on language change

i18nEvents.addEventListener('languagechange', render);

function render() {
  if (!shown) error.textContent = '';
  else error.textContent = shown.key ? t(shown.key) : errorMessage(shown.err);
  error.dataset.code = shown?.err?.code ?? shown?.key ?? '';
}

function setError(what) {
  shown = what;
  render();
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const user = username.value.trim();
  const pass = password.value;
  const missing = !user || !pass;
  username.setAttribute('aria-invalid', String(!user));
  password.setAttribute('aria-invalid', String(!!user && !pass));
  if (missing) {
    setError({ key: 'login.missing' });
    (user ? password : username).focus();
    return;
  }
  submit.disabled = true;
  submit.textContent = t('login.busy');
  try {
    await login(user, pass);
    password.value = '';
    setError(null);
    onLoggedIn();
  } catch (err) {
    setError({ err: err instanceof ApiError ? err : new ApiError(0, { code: 'network' }) });
    password.value = '';
    if (err.code === 'invalid-credentials') password.setAttribute('aria-invalid', 'true');
    password.focus();
  } finally {
    submit.disabled = false;
    submit.textContent = t('login.submit');
  }
});

/** Show the form; `notice` is a message key (e.g. session expired) shown above. */
export function showLogin({ notice = null, onSuccess }) {
  onLoggedIn = onSuccess;
  view.hidden = false;
  setError(notice ? { key: notice } : null);
  (username.value ? password : username).focus();
  if (!username.value) heading.scrollIntoView({ block: 'nearest' });
}
