// The worklist's briefing section (docs/api.md "Briefings"): the upcoming briefings
// (GET /api/briefings: planned or live) with a Join link to #/briefing/<id>, and for
// clinicians and specialists a small form that schedules one (POST /api/briefings).
// Joining is a WebSocket `join` of the briefing's id with the staff token: its creator
// hosts, everyone else watches (docs/protocol.md "Rooms, roles and moderation").

import { api, currentUser } from './rest.js';
import { t, i18nEvents } from './i18n.js';
import { el, formatDateTime, localInputValues, errorMessage } from './ui.js';

const section = document.getElementById('briefings-section');
const list = document.getElementById('briefings-list');
const status = document.getElementById('briefings-status');
const form = document.getElementById('briefing-form');
const titleInput = document.getElementById('bf-title');
const dateInput = document.getElementById('bf-date');
const timeInput = document.getElementById('bf-time');
const formError = document.getElementById('bf-error');
const submit = document.getElementById('bf-submit');

/** Briefing titles seen in lists, for the call view's title. */
export const briefingTitles = new Map();

// docs/api.md: clinical staff see and join briefings; clinicians and specialists schedule.
const CLINICAL = new Set(['clinician', 'specialist', 'nurse']);
const CREATORS = new Set(['clinician', 'specialist']);
const STATUS_KEYS = { planned: 'briefings.status.planned', live: 'briefings.status.live', ended: 'briefings.status.ended' };

let items = null;
let failure = null;
let seq = 0;
let formErrorKey = null;

i18nEvents.addEventListener('languagechange', () => {
  if (section.hidden) return;
  render();
  if (formErrorKey) formError.textContent = formErrorKey.err ? errorMessage(formErrorKey.err) : t(formErrorKey.key);
});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const title = titleInput.value.trim();
  const when = dateInput.value && timeInput.value ? new Date(`${dateInput.value}T${timeInput.value}`) : null;
  if (!title || [...title].length > 200 || /[\r\n]/.test(title)) return showFormError({ key: 'briefings.invalid.title' }, titleInput);
  if (!when || Number.isNaN(when.getTime())) return showFormError({ key: 'briefings.invalid.when' }, dateInput);
  showFormError(null);
  submit.disabled = true;
  try {
    const made = await api('POST', '/api/briefings', { title, scheduled_at: when.toISOString() });
    titleInput.value = '';
    if (made?.id) briefingTitles.set(made.id, made.title);
    await loadBriefings();
    list.querySelector(`li[data-briefing="${CSS.escape(made?.id ?? '')}"] .join-link`)?.focus();
  } catch (err) {
    showFormError({ err }, err.field === 'scheduled_at' ? dateInput : titleInput);
  } finally {
    submit.disabled = false;
  }
});

function showFormError(what, input) {
  formErrorKey = what;
  formError.textContent = what ? (what.err ? errorMessage(what.err) : t(what.key)) : '';
  titleInput.setAttribute('aria-invalid', String(!!what && input === titleInput));
  dateInput.setAttribute('aria-invalid', String(!!what && input === dateInput));
  if (input) input.focus();
}

/** Show the section (staff worklist) and load the upcoming briefings. */
export function showBriefings() {
  const user = currentUser();
  section.hidden = !CLINICAL.has(user?.role);
  if (section.hidden) return;
  form.hidden = !CREATORS.has(user.role);
  if (!dateInput.value) {
    const next = new Date(Math.ceil(Date.now() / (15 * 60000)) * 15 * 60000);
    const values = localInputValues(next);
    dateInput.value = values.date;
    timeInput.value = values.time;
  }
  loadBriefings();
}

export async function loadBriefings() {
  const mine = ++seq;
  items = null;
  failure = null;
  render();
  try {
    const answer = await api('GET', '/api/briefings');
    if (mine !== seq) return;
    items = Array.isArray(answer) ? answer : [];
  } catch (err) {
    if (mine !== seq) return;
    failure = err;
  }
  render();
}

function render() {
  list.replaceChildren();
  status.classList.toggle('form-error', !!failure);
  if (failure) {
    status.textContent = errorMessage(failure);
    return;
  }
  if (!items) {
    status.textContent = t('worklist.loading');
    return;
  }
  status.textContent = items.length ? '' : t('briefings.empty');
  const user = currentUser();
  for (const b of items) {
    briefingTitles.set(b.id, b.title);
    const headingId = `briefing-${b.id}-title`;
    const li = el('li', { class: 'item briefing', dataset: { briefing: b.id, status: b.status }, 'aria-labelledby': headingId });
    const when = el('time', { class: 'when', datetime: b.scheduled_at }, formatDateTime(b.scheduled_at));
    li.append(
      el('div', { class: 'item-head' },
        el('h3', { class: 'item-title', id: headingId }, when, ' ', el('span', { class: 'briefing-title' }, b.title)),
        el('span', { class: `badge briefing-${b.status}` }, t(STATUS_KEYS[b.status] ?? 'briefings.status.planned'))),
      el('p', { class: 'item-text' }, t(b.host_id === user?.id ? 'briefings.host.you' : 'briefings.host', { name: b.host_name ?? '' })),
    );
    if (b.status !== 'ended') {
      li.append(el('div', { class: 'item-actions' },
        el('a', {
          class: 'btn btn-primary btn-inline join-link', href: `#/briefing/${encodeURIComponent(b.id)}`,
          'aria-label': t('briefings.join.aria', { title: b.title }),
        }, t('briefings.join'))));
    }
    list.append(li);
  }
}
