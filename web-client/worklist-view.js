// #/worklist: today's consultations (local calendar day) from
// GET /api/consultations?from&to, earliest first, each with Join and invitation actions.

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

let items = null;
let failure = null;
let loadSeq = 0;

i18nEvents.addEventListener('languagechange', () => { if (!view.hidden) render(); });

const scheduleLink = view.querySelector('a[href="#/schedule"]');

export function showWorklist() {
  view.hidden = false;
  scheduleLink.hidden = currentUser()?.role !== 'clinician'; // only clinicians schedule
  heading.focus();
  load();
}

async function load() {
  const seq = ++loadSeq;
  items = null;
  failure = null;
  render();
  try {
    const answer = await api('GET', `/api/consultations${query(localDayRange())}`);
    if (seq !== loadSeq) return;
    items = (Array.isArray(answer) ? answer : [])
      .slice()
      .sort((a, b) => String(a.scheduled_at).localeCompare(String(b.scheduled_at)));
  } catch (err) {
    if (seq !== loadSeq) return;
    failure = err;
  }
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
