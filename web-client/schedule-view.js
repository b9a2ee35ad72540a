// #/schedule and #/schedule/<patient id>: a clinician schedules a consultation for a
// patient at a local date and time, with a reason, inviting specialists
// (GET /api/users?role=specialist) → POST /api/consultations → the patient's chart.

import { api, query } from './rest.js';
import { t, i18nEvents } from './i18n.js';
import { patientQuery, patientSummary } from './patients-view.js';
import { el, FieldErrors, localInputValues, showToast, errorMessage } from './ui.js';

const view = document.getElementById('schedule-view');
const form = document.getElementById('schedule-form');
const submit = document.getElementById('schedule-submit');
const chosen = document.getElementById('sf-patient-chosen');
const searchRow = document.getElementById('sf-patient-search');
const patientInput = document.getElementById('sf-patient-q');
const findButton = document.getElementById('sf-patient-find');
const results = document.getElementById('sf-patient-results');
const dateInput = document.getElementById('sf-date');
const timeInput = document.getElementById('sf-time');
const reasonInput = document.getElementById('sf-reason');
const specialistBox = document.getElementById('sf-specialists');
const errors = new FieldErrors('sf', 'schedule-error');

let patient = null; // {id, name, …}
let specialists = null;
let specialistsFailure = null;
let facilities = new Map();
let found = [];
let navigate = () => {};

i18nEvents.addEventListener('languagechange', () => {
  if (view.hidden) return;
  renderPatient();
  renderSpecialists();
  renderResults();
});

findButton.addEventListener('click', findPatients);
patientInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    e.preventDefault();
    findPatients();
  }
});

async function findPatients() {
  try {
    const answer = await api('GET', `/api/patients${query(patientQuery(patientInput.value))}`);
    found = Array.isArray(answer) ? answer : [];
  } catch (err) {
    found = [];
    errors.fromApi({ ...err, field: 'patient_id', code: err.code });
  }
  renderResults();
  results.querySelector('button')?.focus();
}

function renderResults() {
  results.replaceChildren();
  if (patient) return;
  for (const p of found) {
    results.append(el('li', {},
      el('button', { type: 'button', class: 'pick', 'aria-label': t('schedule.patient.pick', { name: p.name }), onclick: () => choose(p) },
        el('span', { class: 'pick-name' }, p.name), el('span', { class: 'pick-detail' }, patientSummary(p)))));
  }
}

function choose(p) {
  patient = p;
  found = [];
  renderPatient();
  renderResults();
  dateInput.focus();
}

function renderPatient() {
  chosen.hidden = !patient;
  searchRow.hidden = !!patient;
  document.getElementById('sf-patient-hint').hidden = !!patient;
  chosen.replaceChildren();
  if (!patient) return;
  chosen.dataset.patient = patient.id;
  chosen.append(el('strong', {}, patient.name), ' ', el('span', { class: 'pick-detail' }, patientSummary(patient)), ' ',
    el('button', {
      type: 'button',
      class: 'link-button',
      onclick: () => { patient = null; renderPatient(); patientInput.focus(); },
    }, t('schedule.patient.change')));
}

function renderSpecialists() {
  specialistBox.replaceChildren();
  if (specialistsFailure) {
    specialistBox.append(el('p', { class: 'form-error' }, errorMessage(specialistsFailure)));
    return;
  }
  if (!specialists) return;
  if (!specialists.length) specialistBox.append(el('p', { class: 'hint' }, t('schedule.specialists.none')));
  for (const u of specialists) {
    const id = `sf-spec-${u.id}`;
    const facility = facilities.get(u.facility_id);
    specialistBox.append(el('div', { class: 'check' },
      el('input', { type: 'checkbox', id, value: u.id, name: 'specialist', 'aria-describedby': 'sf-specialist_ids-error' }),
      el('label', { for: id }, u.display_name, facility ? el('span', { class: 'pick-detail' }, ` — ${facility}`) : null)));
  }
}

async function loadSpecialists() {
  const checked = new Set([...specialistBox.querySelectorAll('input:checked')].map((i) => i.value));
  try {
    const [users, facs] = await Promise.all([
      api('GET', '/api/users?role=specialist'),
      api('GET', '/api/facilities').catch(() => []),
    ]);
    specialists = (Array.isArray(users) ? users : []).filter((u) => u.role === 'specialist');
    facilities = new Map((Array.isArray(facs) ? facs : []).map((f) => [f.id, f.name]));
    specialistsFailure = null;
  } catch (err) {
    specialistsFailure = err;
  }
  renderSpecialists();
  for (const input of specialistBox.querySelectorAll('input')) input.checked = checked.has(input.value);
}

async function loadPatient(id) {
  try {
    const answer = await api('GET', `/api/patients/${encodeURIComponent(id)}`);
    patient = answer.patient ?? null;
  } catch (err) {
    patient = null;
    errors.fromApi({ code: err.code, field: 'patient_id' });
  }
  renderPatient();
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  errors.clear();
  const reason = reasonInput.value.trim();
  const when = dateInput.value && timeInput.value ? new Date(`${dateInput.value}T${timeInput.value}`) : null;
  if (!patient) errors.set('patient_id', 'schedule.invalid.patient_id');
  if (!when || Number.isNaN(when.getTime())) errors.set('scheduled_at', 'schedule.invalid.scheduled_at');
  if (!reason) errors.set('reason', 'schedule.invalid.reason');
  if (errors.count) {
    (errors.firstInvalid() ?? patientInput).focus();
    return;
  }
  const body = {
    patient_id: patient.id,
    scheduled_at: when.toISOString(),
    reason,
    specialist_ids: [...specialistBox.querySelectorAll('input:checked')].map((i) => i.value),
  };
  submit.disabled = true;
  submit.textContent = t('schedule.saving');
  try {
    const c = await api('POST', '/api/consultations', body);
    showToast('schedule.created');
    reasonInput.value = '';
    navigate(`#/patients/${encodeURIComponent(c.patient_id ?? patient.id)}`);
  } catch (err) {
    // specialist_ids.0 and the like belong to the specialists box.
    errors.fromApi(err, (f) => f.split(/[.[]/)[0]);
    (errors.firstInvalid() ?? submit).focus();
  } finally {
    submit.disabled = false;
    submit.textContent = t('schedule.submit');
  }
});

export function showSchedule({ patientId, go }) {
  navigate = go;
  view.hidden = false;
  errors.clear();
  found = [];
  renderResults();
  // Default: the next quarter hour, local time.
  const next = new Date(Math.ceil(Date.now() / (15 * 60000)) * 15 * 60000);
  const v = localInputValues(next);
  dateInput.value = v.date;
  timeInput.value = v.time;
  if (patientId && patientId !== patient?.id) {
    patient = null;
    renderPatient();
    loadPatient(patientId);
  } else if (!patientId) {
    patient = null;
    renderPatient();
  } else {
    renderPatient();
  }
  document.getElementById('schedule-heading').focus();
  loadSpecialists();
}
