// Small DOM helpers shared by the staff and patient views: element building, local
// date formatting, per-field form errors, a polite status toast, clipboard copy.

import { t, errorText, hasText, locale, i18nEvents } from './i18n.js';

/** el('li', {class: 'x', dataset: {id}}, child, 'text', …) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** A local date and time, e.g. "22/11/2026 09:30" (vi) or "22 Nov 2026, 09:30" (en). */
export function formatDateTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso ?? '';
  return new Intl.DateTimeFormat(locale(), {
    day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(d);
}

export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso ?? '';
  return new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit' }).format(d);
}

/** A calendar date "YYYY-MM-DD" (no time zone involved) in the user's language. */
export function formatBirthDate(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd ?? '');
  if (!m) return ymd ?? '';
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return new Intl.DateTimeFormat(locale(), { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'UTC' }).format(d);
}

export function formatLongDate(date) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'full' }).format(date);
}

/** Start and end (exclusive) of the local calendar day containing `date`, as UTC ISO. */
export function localDayRange(date = new Date()) {
  const start = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  const end = new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1);
  return { from: start.toISOString(), to: end.toISOString() };
}

/** "YYYY-MM-DD" and "HH:MM" of a Date in local time (for date/time inputs). */
export function localInputValues(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return {
    date: `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`,
    time: `${pad(date.getHours())}:${pad(date.getMinutes())}`,
  };
}

/** Per-field errors of a form: inputs `${prefix}-${field}` (or given), messages in
 *  `#${prefix}-${field}-error`. Messages are keys, re-rendered on language change. */
export class FieldErrors {
  #prefix;
  #shown = new Map(); // field -> {key?, code?, params}
  #formError;
  #formKey = null;

  constructor(prefix, formErrorId) {
    this.#prefix = prefix;
    this.#formError = document.getElementById(formErrorId);
    i18nEvents.addEventListener('languagechange', () => this.#render());
  }

  clear() {
    for (const field of this.#shown.keys()) this.#input(field)?.setAttribute('aria-invalid', 'false');
    this.#shown.clear();
    this.#formKey = null;
    this.#render();
  }

  /** Mark `field` with a client message key. */
  set(field, key) {
    this.#shown.set(field, { key });
    this.#render();
  }

  /** Show an ApiError: on its field when the form has one, else above the button. */
  fromApi(err, fieldFor = (f) => f) {
    const field = err.field ? fieldFor(err.field) : null;
    const target = field ?? FIELD_OF_CODE[err.code];
    if (target && document.getElementById(`${this.#prefix}-${target}-error`)) {
      this.#shown.set(target, { code: err.code, field: null });
    } else {
      this.#formKey = { code: err.code, field: err.field };
    }
    this.#render();
  }

  setForm(key) {
    this.#formKey = key ? { key } : null;
    this.#render();
  }

  get count() {
    return this.#shown.size;
  }

  /** The first field input with an error (to move focus there). */
  firstInvalid() {
    for (const field of this.#shown.keys()) {
      const input = this.#input(field);
      if (input) return input;
    }
    return null;
  }

  #input(field) {
    const msg = document.getElementById(`${this.#prefix}-${field}-error`);
    const id = msg && [...document.querySelectorAll(`[aria-describedby~="${msg.id}"]`)][0];
    return id ?? null;
  }

  #render() {
    for (const msg of document.querySelectorAll(`[id^="${this.#prefix}-"][id$="-error"].field-error`)) {
      msg.textContent = '';
    }
    for (const [field, what] of this.#shown) {
      const msg = document.getElementById(`${this.#prefix}-${field}-error`);
      if (!msg) continue;
      msg.textContent = what.key ? t(what.key) : errorText(what.code, what.field);
      for (const input of document.querySelectorAll(`[aria-describedby~="${msg.id}"]`)) {
        input.setAttribute('aria-invalid', 'true');
      }
    }
    if (this.#formError) {
      const f = this.#formKey;
      this.#formError.textContent = !f ? '' : f.key ? t(f.key) : errorText(f.code, f.field);
    }
  }
}

// Server codes that name their field without `field` (docs/api.md).
const FIELD_OF_CODE = { 'invalid-cccd': 'cccd', 'invalid-bhyt': 'bhyt' };

// --- toast: one short polite message ---------------------------------------------------

const toast = document.getElementById('toast');
let toastKey = null;
let toastTimer = null;
i18nEvents.addEventListener('languagechange', () => {
  if (toastKey) toast.textContent = t(toastKey.key, toastKey.params);
});

export function showToast(key, params = {}) {
  toastKey = { key, params };
  toast.textContent = t(key, params);
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; toastKey = null; }, 6000);
}

export function hideToast() {
  clearTimeout(toastTimer);
  toast.hidden = true;
  toastKey = null;
}

/** Translate an error code if known, else the generic message. */
export function errorMessage(err) {
  const code = err?.code ?? 'internal';
  const minutes = err?.retryAfter !== undefined ? Math.max(1, Math.ceil(err.retryAfter / 60)) : '?';
  return hasText(`error.${code}`) ? errorText(code, err?.field, { minutes }) : t('error.unknown', { code });
}

/** Copy `text`; resolves true when the clipboard took it. */
export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (or an old browser): select the text and try the old way.
    if (!input) return false;
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}
