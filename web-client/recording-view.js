// The recording parts of the call view (docs/protocol.md "Recording"):
//   - everyone: the indicator (red dot + "Đang ghi hình" / "Recording") while the room is
//     recorded, and a note saying why recording stopped; both announced to screen readers;
//   - care-team members (staff in a consultation call): the Record / Stop button. A start
//     refused with `consent-required` means the patient has just been asked: the button
//     waits (aria-disabled, with the reason) and starts again by itself once the patient
//     agrees, or says they refused;
//   - the patient: the consent prompt on `consent-request` (what is recorded, who may see
//     it, that they may refuse or withdraw) with Agree / Refuse, and while recording a
//     button that withdraws consent (which stops the recording).

import { t, errorText, i18nEvents } from './i18n.js';
import { showToast } from './ui.js';
import { CONSENT_WAIT_MS, initialRecordControl, recordControl } from './recording-state.js';

const indicator = document.getElementById('rec-indicator');
const announce = document.getElementById('rec-announce');
const note = document.getElementById('rec-note');
const recButton = document.getElementById('btn-rec');
const withdrawButton = document.getElementById('btn-withdraw');
const dialog = document.getElementById('consent-dialog');
const dialogWho = document.getElementById('consent-who');
const dialogError = document.getElementById('consent-error');
const agreeButton = document.getElementById('consent-agree');
const refuseButton = document.getElementById('consent-refuse');

let call = null;
let role = 'none'; // 'care-team' | 'patient' | 'none'
let control = initialRecordControl;
let shownNote = null; // {key, params} | {error} — the note under the controls
let consentTimer = null;
let request = null; // the consent request being shown {by_name}
let listeners = null; // AbortController of the current call's listeners

recButton.addEventListener('click', () => {
  if (recButton.getAttribute('aria-disabled') === 'true') return;
  dispatch({ type: 'press' });
});
withdrawButton.addEventListener('click', () => answer(false, withdrawButton));
agreeButton.addEventListener('click', () => answer(true, agreeButton));
refuseButton.addEventListener('click', () => answer(false, refuseButton));
// Escape (or any close without an answer) counts as a refusal: no recording without a yes.
dialog.addEventListener('cancel', (e) => {
  e.preventDefault();
  answer(false, refuseButton);
});
i18nEvents.addEventListener('languagechange', () => { if (call) render(); });

/**
 * Attach to `newCall`. `role`: 'care-team' (may record), 'patient' (is asked, may
 * withdraw) or 'none' (anonymous rooms: only the indicator).
 */
export function showRecording(newCall, { role: newRole = 'none' } = {}) {
  hideRecording();
  call = newCall;
  role = newRole;
  control = call.recording ? { phase: 'recording', note: null, send: null } : initialRecordControl;
  shownNote = null;
  listeners = new AbortController();
  const { signal } = listeners;
  call.addEventListener('recording', (e) => onRecording(e.detail), { signal });
  call.addEventListener('consent-request', (e) => onConsentRequest(e.detail), { signal });
  call.addEventListener('consent-updated', (e) => onConsentUpdated(e.detail), { signal });
  call.addEventListener('state', (e) => {
    if (e.detail.state === 'left' || e.detail.state === 'failed') closeDialog();
  }, { signal });
  render();
}

export function hideRecording() {
  listeners?.abort();
  listeners = null;
  clearTimeout(consentTimer);
  consentTimer = null;
  closeDialog();
  call = null;
  indicator.hidden = true;
  note.hidden = true;
  note.textContent = '';
  announce.textContent = '';
  recButton.hidden = true;
  withdrawButton.hidden = true;
}

function onRecording({ reason, joined }) {
  if (reason === undefined) {
    shownNote = null;
    dispatch({ type: 'started' });
    say({ key: joined ? 'rec.announce.ongoing' : 'rec.announce.started' }, { note: false });
  } else {
    dispatch({ type: 'stopped', reason });
    // The patient's prompt is moot once recording is over.
    closeDialog();
  }
}

function onConsentRequest(detail) {
  if (role !== 'patient' || detail.purpose !== 'recording') return;
  request = detail;
  dialogError.textContent = '';
  for (const b of [agreeButton, refuseButton]) b.disabled = false;
  renderDialog();
  if (!dialog.open) dialog.showModal();
  dialog.querySelector('h2').focus();
}

function onConsentUpdated({ granted }) {
  if (role === 'care-team') dispatch({ type: 'consent', granted });
}

async function answer(granted, button) {
  if (!call) return;
  for (const b of [agreeButton, refuseButton, withdrawButton]) b.disabled = true;
  try {
    await call.sendConsent(granted);
    closeDialog();
    if (button !== withdrawButton) showToast(granted ? 'rec.consent.sent.yes' : 'rec.consent.sent.no');
  } catch (err) {
    const code = err.code ?? 'internal';
    if (dialog.open) dialogError.textContent = errorText(code, err.field);
    else say({ error: code });
  } finally {
    for (const b of [agreeButton, refuseButton, withdrawButton]) b.disabled = false;
  }
}

function closeDialog() {
  request = null;
  if (dialog.open) dialog.close();
}

/** Feed the control an event; send what it asks for; render. */
function dispatch(event) {
  const before = control;
  control = recordControl(control, event);
  if (control.note !== before.note && control.note) say(control.note);
  clearTimeout(consentTimer);
  consentTimer = null;
  if (control.phase === 'awaiting-consent') {
    consentTimer = setTimeout(() => dispatch({ type: 'consent-timeout' }), CONSENT_WAIT_MS);
  }
  if (control.send && call) {
    const action = control.send;
    call.record(action).catch((err) => {
      dispatch({ type: action === 'start' ? 'start-failed' : 'stop-failed', code: err.code ?? 'internal' });
    });
  }
  render();
}

/** Show `what` under the controls (unless note: false) and announce it. */
function say(what, { note: visible = true } = {}) {
  if (visible) shownNote = what;
  announce.textContent = noteText(what);
  render();
}

function noteText(what) {
  if (!what) return '';
  return what.error ? errorText(what.error) : t(what.key, what.params);
}

function render() {
  if (!call) return;
  const recording = !!call.recording;
  indicator.hidden = !recording;
  indicator.dataset.recording = call.recording?.id ?? '';
  note.hidden = !shownNote;
  note.textContent = noteText(shownNote);
  note.dataset.key = shownNote?.key ?? (shownNote?.error ? `error.${shownNote.error}` : '');
  note.classList.toggle('form-error', !!shownNote?.error);

  recButton.hidden = role !== 'care-team';
  if (role === 'care-team') {
    const phase = recording && control.phase === 'idle' ? 'recording' : control.phase;
    recButton.dataset.phase = phase;
    const label = {
      idle: 'rec.start', starting: 'rec.starting', 'awaiting-consent': 'rec.waiting',
      recording: 'rec.stop', stopping: 'rec.stopping',
    }[phase];
    recButton.querySelector('.ctl-label').textContent = t(label);
    recButton.setAttribute('aria-label', t(label));
    recButton.title = t(label);
    const busy = phase === 'starting' || phase === 'stopping' || phase === 'awaiting-consent';
    recButton.setAttribute('aria-disabled', String(busy));
    recButton.classList.toggle('is-recording', phase === 'recording' || phase === 'stopping');
  }
  withdrawButton.hidden = !(role === 'patient' && recording);
  withdrawButton.setAttribute('aria-label', t('rec.withdraw.aria'));
  withdrawButton.querySelector('.ctl-label').textContent = t('rec.withdraw');
  if (dialog.open) renderDialog();
}

function renderDialog() {
  const name = request?.by_name;
  dialogWho.textContent = name ? t('rec.consent.who', { name }) : t('rec.consent.who.plain');
}

/** For tests and the chart: the control's state. */
export function recordControlState() {
  return { ...control };
}
