// #/worklist: today's consultations (local calendar day) from
// GET /api/consultations?from&to, earliest first, each with Join and invitation actions.
// While shown it refreshes itself every 30 s (a patient waiting in the lobby turns the
// status to "arrived"), quietly: only when something changed and no invitation link is
// open in the list.

import { api, query, currentUser } from './rest.js';
import { t, i18nEvents } from './i18n.js';
import { consultationItem } from './consultation-item.js';
import { localDayRange, formatLongDate, errorMessage } from './ui.js';

const view = document.getElementById('worklist-view');
const list = document.getElementById('worklist-list');
const status = document.getElementById('worklist-status');
const dateLine = document.getElementById('worklist-date');
const heading = document.getElementById('worklist-heading');
document.getElementById('worklist-refresh').addEventListener('click', () => load());

const AUTO_REFRESH_MS = 30000;

let items = null;
let failure = null;
let loadSeq = 0;
let timer = null;

i18nEvents.addEventListener('languagechange', () => { if (!view.hidden) render(); });

const scheduleLink = view.querySelector('a[href="#/schedule"]');

export function showWorklist() {
  view.hidden = false;
  scheduleLink.hidden = currentUser()?.role !== 'clinician'; // only clinicians schedule
  heading.focus();
  load();
  clearInterval(timer);
  timer = setInterval(() => {
    if (view.hidden) {
      clearInterval(timer);
      return;
    }
    if (!document.hidden && !list.querySelector('.invite:not([hidden])')) load({ quiet: true });
  }, AUTO_REFRESH_MS);
}

const fingerprint = (list) => JSON.stringify(list?.map((c) => [c.id, c.status, c.scheduled_at, c.reason, c.patient?.name]));

async function load({ quiet = false } = {}) {
  const seq = ++loadSeq;
  if (!quiet) {
    items = null;
    failure = null;
    render();
  }
  let next;
  try {
    const answer = await api('GET', `/api/consultations${query(localDayRange())}`);
    if (seq !== loadSeq) return;
    next = (Array.isArray(answer) ? answer : [])
      .slice()
      .sort((a, b) => String(a.scheduled_at).localeCompare(String(b.scheduled_at)));
  } catch (err) {
    if (seq !== loadSeq || quiet) return; // a quiet refresh keeps what is shown
    failure = err;
    render();
    return;
  }
  if (quiet && fingerprint(next) === fingerprint(items)) return;
  items = next;
  failure = null;
  render();
}

function render() {
  dateLine.textContent = formatLongDate(new Date());
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
  status.textContent = items.length ? t('worklist.count', { n: items.length }) : t('worklist.empty');
  for (const c of items) list.append(consultationItem(c, { timeOnly: true }));
  view.dataset.loaded = String(items.length);
}
