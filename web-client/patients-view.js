// #/patients (search by name, CCCD or BHYT), #/patients/new (create, with client-side
// CCCD/BHYT format hints and the server's errors shown per field) and #/patients/<id>
// (the chart: identifiers, past consultations, consents with a recording-consent action,
// and the consultations' recordings: recordings-view.js).

import { api, query, currentUser } from './rest.js';
import { t, i18nEvents } from './i18n.js';
import { consultationItem } from './consultation-item.js';
import { showChartRecordings } from './recordings-view.js';
import { el, formatBirthDate, formatDateTime, FieldErrors, showToast, errorMessage } from './ui.js';

// Formats as in docs/api.md and records/records.h; the server checks the rest
// (province codes, century digit against the birth year, beneficiary codes).
export const CCCD_RE = /^\d{12}$/;
export const BHYT_RE = /^[A-Z]{2}[1-5]\d{12}$/;

/** The GET /api/patients query for what the user typed. */
export function patientQuery(text) {
  const s = text.trim();
  if (CCCD_RE.test(s)) return { identifier: `cccd|${s}` };
  if (BHYT_RE.test(s.toUpperCase())) return { identifier: `bhyt|${s.toUpperCase()}` };
  return { q: s };
}

export function patientSummary(p) {
  return [p.cccd, p.birth_date ? t('patients.born', { date: formatBirthDate(p.birth_date) }) : null]
    .filter(Boolean).join(' · ');
}

// --- search ----------------------------------------------------------------------------

const searchView = document.getElementById('patients-view');
const searchForm = document.getElementById('patients-search');
const searchInput = document.getElementById('patients-q');
const searchStatus = document.getElementById('patients-status');
const searchList = document.getElementById('patients-list');
let results = null;
let searchFailure = null;
let searchSeq = 0;

searchForm.addEventListener('submit', (e) => {
  e.preventDefault();
  search(searchInput.value);
});

async function search(text) {
  const seq = ++searchSeq;
  results = null;
  searchFailure = null;
  renderSearch();
  try {
    const answer = await api('GET', `/api/patients${query(patientQuery(text))}`);
    if (seq !== searchSeq) return;
    results = Array.isArray(answer) ? answer : [];
  } catch (err) {
    if (seq !== searchSeq) return;
    searchFailure = err;
  }
  renderSearch();
}

function renderSearch() {
  searchList.replaceChildren();
  searchStatus.classList.toggle('form-error', !!searchFailure);
  if (searchFailure) {
    searchStatus.textContent = errorMessage(searchFailure);
    return;
  }
  if (!results) {
    searchStatus.textContent = t('patients.loading');
    return;
  }
  searchStatus.textContent = results.length ? t('patients.count', { n: results.length }) : t('patients.empty');
  for (const p of results) {
    searchList.append(el('li', { class: 'item', dataset: { patient: p.id } },
      el('a', { class: 'item-title patient-link', href: `#/patients/${encodeURIComponent(p.id)}` }, p.name),
      el('p', { class: 'item-text' }, patientSummary(p))));
  }
}

export function showPatients() {
  searchView.hidden = false;
  document.getElementById('patients-heading').focus();
  search(searchInput.value);
}

// --- new patient -----------------------------------------------------------------------

const newView = document.getElementById('patient-new-view');
const form = document.getElementById('patient-form');
const submit = document.getElementById('patient-form-submit');
const errors = new FieldErrors('pf', 'patient-form-error');
const inputs = {
  name: document.getElementById('pf-name'),
  cccd: document.getElementById('pf-cccd'),
  bhyt: document.getElementById('pf-bhyt'),
  birth_date: document.getElementById('pf-birth'),
  sex: document.getElementById('pf-sex'),
  phone: document.getElementById('pf-phone'),
  address: document.getElementById('pf-address'),
};
let navigate = () => {};

// Typing hints: digits only in CCCD, capitals in BHYT.
inputs.cccd.addEventListener('input', () => {
  const v = inputs.cccd.value.replace(/\D/g, '');
  if (v !== inputs.cccd.value) inputs.cccd.value = v;
});
inputs.bhyt.addEventListener('input', () => {
  const v = inputs.bhyt.value.toUpperCase().replace(/\s/g, '');
  if (v !== inputs.bhyt.value) inputs.bhyt.value = v;
});

function validatePatient(v) {
  const problems = [];
  if (!v.name) problems.push(['name', 'patient.invalid.name']);
  if (!CCCD_RE.test(v.cccd)) problems.push(['cccd', 'patient.invalid.cccd']);
  if (v.bhyt && !BHYT_RE.test(v.bhyt)) problems.push(['bhyt', 'patient.invalid.bhyt']);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v.birth_date)) problems.push(['birth_date', 'patient.invalid.birth_date']);
  return problems;
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  errors.clear();
  const v = Object.fromEntries(Object.entries(inputs).map(([k, input]) => [k, input.value.trim()]));
  const problems = validatePatient(v);
  if (problems.length) {
    for (const [field, key] of problems) errors.set(field, key);
    errors.setForm('patient.fix');
    errors.firstInvalid()?.focus();
    return;
  }
  const body = { cccd: v.cccd, name: v.name, birth_date: v.birth_date, sex: v.sex };
  for (const k of ['bhyt', 'phone', 'address']) if (v[k]) body[k] = v[k];
  submit.disabled = true;
  submit.textContent = t('patient.saving');
  try {
    const p = await api('POST', '/api/patients', body);
    form.reset();
    showToast('patient.created');
    navigate(`#/patients/${encodeURIComponent(p.id)}`);
  } catch (err) {
    errors.fromApi(err);
    (errors.firstInvalid() ?? submit).focus();
  } finally {
    submit.disabled = false;
    submit.textContent = t('patient.new.submit');
  }
});

export function showNewPatient({ go }) {
  navigate = go;
  newView.hidden = false;
  errors.clear();
  document.getElementById('patient-new-heading').focus();
}

// --- chart -----------------------------------------------------------------------------

const chartView = document.getElementById('chart-view');
const chartHeading = document.getElementById('chart-heading');
const chartStatus = document.getElementById('chart-status');
const chartBody = document.getElementById('chart-body');
const chartSchedule = document.getElementById('chart-schedule');
const consultList = document.getElementById('chart-consultations');
const consentList = document.getElementById('chart-consents');
const recordingState = document.getElementById('chart-recording-consent');
const consentMethod = document.getElementById('consent-method');
const grantButton = document.getElementById('consent-grant');
const withdrawButton = document.getElementById('consent-withdraw');
let chart = null; // {patient, consultations, consents}
let chartId = null;
let chartFailure = null;

i18nEvents.addEventListener('languagechange', () => {
  if (!searchView.hidden) renderSearch();
  if (!chartView.hidden) renderChart();
});
grantButton.addEventListener('click', () => recordConsent(true));
withdrawButton.addEventListener('click', () => recordConsent(false));

export function showChart(id) {
  chartView.hidden = false;
  chartId = id;
  chart = null;
  chartFailure = null;
  renderChart();
  chartHeading.focus();
  loadChart(id);
}

async function loadChart(id) {
  try {
    const answer = await api('GET', `/api/patients/${encodeURIComponent(id)}`);
    if (id !== chartId) return;
    chart = answer;
    showChartRecordings(chart.consultations ?? []);
  } catch (err) {
    if (id !== chartId) return;
    chartFailure = err;
  }
  renderChart();
}

/** The latest patient-wide recording decision. */
function currentRecordingConsent(consents) {
  return consents
    .filter((c) => c.purpose === 'recording' && !c.consultation_id)
    .sort((a, b) => String(b.at).localeCompare(String(a.at)))[0] ?? null;
}

function renderChart() {
  chartStatus.classList.toggle('form-error', !!chartFailure);
  if (chartFailure || !chart) {
    chartBody.hidden = true;
    chartHeading.textContent = t('patients.heading');
    chartStatus.textContent = chartFailure ? errorMessage(chartFailure) : t('chart.loading');
    return;
  }
  const { patient } = chart;
  const consultations = (chart.consultations ?? []).slice()
    .sort((a, b) => String(b.scheduled_at).localeCompare(String(a.scheduled_at)));
  const consents = (chart.consents ?? []).slice();
  chartStatus.textContent = '';
  chartBody.hidden = false;
  chartHeading.textContent = patient.name;
  chartView.dataset.patient = patient.id;
  const none = t('patient.none');
  document.getElementById('chart-cccd').textContent = patient.cccd || none;
  document.getElementById('chart-bhyt').textContent = patient.bhyt || none;
  document.getElementById('chart-birth').textContent = patient.birth_date ? formatBirthDate(patient.birth_date) : none;
  document.getElementById('chart-sex').textContent = patient.sex ? t(`sex.${patient.sex}`) : none;
  document.getElementById('chart-phone').textContent = patient.phone || none;
  document.getElementById('chart-address').textContent = patient.address || none;
  chartSchedule.href = `#/schedule/${encodeURIComponent(patient.id)}`;
  const role = currentUser()?.role;
  chartSchedule.hidden = role !== 'clinician';

  consultList.replaceChildren();
  for (const c of consultations) {
    consultList.append(consultationItem({ ...c, patient: { id: patient.id, name: patient.name } }, { showPatient: false }));
  }
  if (!consultations.length) consultList.append(el('li', { class: 'item empty' }, t('chart.consultations.empty')));

  const rec = currentRecordingConsent(consents);
  recordingState.dataset.state = rec ? (rec.granted ? 'granted' : 'withdrawn') : 'none';
  recordingState.textContent = rec
    ? t(rec.granted ? 'consent.recording.granted' : 'consent.recording.withdrawn',
      { method: t(`method.${rec.method}`), at: formatDateTime(rec.at) })
    : t('consent.recording.none');
  grantButton.hidden = rec?.granted === true;
  withdrawButton.hidden = !rec?.granted;

  consentList.replaceChildren();
  for (const c of consents.sort((a, b) => String(b.at).localeCompare(String(a.at)))) {
    const purpose = t(`purpose.${c.purpose}`);
    consentList.append(el('li', { class: 'item', dataset: { consent: c.id, granted: String(c.granted) } },
      el('span', { class: 'item-title' }, t(c.granted ? 'consent.row.granted' : 'consent.row.withdrawn', { purpose })),
      el('span', { class: 'item-text' }, t('consent.row.detail', { method: t(`method.${c.method}`), at: formatDateTime(c.at) })),
      c.consultation_id ? el('span', { class: 'item-text consent-scope' }, consentScope(c.consultation_id, consultations)) : null));
  }
  if (!consents.length) consentList.append(el('li', { class: 'item empty' }, t('chart.consents.empty')));
}

/** "for the consultation of <time>" of a consent given for one consultation. */
function consentScope(consultationId, consultations) {
  const c = consultations.find((x) => x.id === consultationId);
  return c ? t('consent.row.consultation', { at: formatDateTime(c.scheduled_at) }) : t('consent.row.consultation.plain');
}

async function recordConsent(granted) {
  if (!chart) return;
  const id = chart.patient.id;
  grantButton.disabled = withdrawButton.disabled = true;
  try {
    await api('POST', `/api/patients/${encodeURIComponent(id)}/consents`,
      { purpose: 'recording', granted, method: consentMethod.value });
    showToast('consent.saved');
    await loadChart(id);
    if (grantButton.hidden && withdrawButton.hidden) recordingState.focus();
    else (grantButton.hidden ? withdrawButton : grantButton).focus();
  } catch (err) {
    chartStatus.classList.add('form-error');
    chartStatus.textContent = errorMessage(err);
  } finally {
    grantButton.disabled = withdrawButton.disabled = false;
  }
}
