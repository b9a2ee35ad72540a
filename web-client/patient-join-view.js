// #/join/<secret>: a patient opens the invitation link. The secret is redeemed
// (POST /api/invitations/redeem) for a patient token bound to one consultation; the call
// joins with it and waits in the lobby ("waiting for the doctor to admit you", with a
// preview of the camera) until a care-team member admits it (→ the call view) or
// denies it. Opening the link again later (a dropped connection) redeems it again: the
// server closes the older connection (`replaced`).

import { redeemInvitation } from './rest.js';
import { t, i18nEvents } from './i18n.js';
import { formatDateTime, errorMessage } from './ui.js';

const view = document.getElementById('patient-join-view');
const heading = document.getElementById('pj-heading');
const who = document.getElementById('pj-who');
const status = document.getElementById('pj-status');
const preview = document.getElementById('pj-preview');
const retry = document.getElementById('pj-retry');
const leave = document.getElementById('pj-leave');

let state = null; // {phase: 'checking'|'connecting'|'waiting'|'left'|'error', err?, info?}
let current = null; // {secret, startCall, call}

i18nEvents.addEventListener('languagechange', () => { if (!view.hidden) render(); });
retry.addEventListener('click', () => current && start(current.secret, current.startCall));
leave.addEventListener('click', () => current?.call?.leave());

function set(phase, extra = {}) {
  state = { ...state, phase, ...extra };
  render();
}

function render() {
  view.dataset.phase = state.phase;
  const info = state.info;
  who.hidden = !info;
  if (info) {
    who.textContent = t('pj.who', { name: info.patient?.name ?? '', at: formatDateTime(info.consultation?.scheduled_at) });
  }
  status.classList.toggle('form-error', state.phase === 'error');
  status.dataset.code = state.err?.code ?? '';
  status.textContent = state.phase === 'error' ? errorMessage(state.err) : t(`pj.${state.phase}`);
  retry.hidden = !(state.phase === 'error' || state.phase === 'left');
  leave.hidden = state.phase !== 'waiting' && state.phase !== 'connecting';
  preview.parentElement.hidden = !preview.srcObject;
}

/**
 * Show the view and start: `startCall({room, name, token})` makes and joins a Call
 * (app.js) and returns it; this view follows its state until it is joined.
 */
export async function showPatientJoin(secret, startCall) {
  view.hidden = false;
  heading.focus();
  await start(secret, startCall);
}

export function hidePatientJoin() {
  view.hidden = true;
  preview.srcObject = null;
}

async function start(secret, startCall) {
  current = { secret, startCall, call: null };
  const mine = current;
  state = { phase: 'checking' };
  preview.srcObject = null;
  render();
  let info;
  try {
    info = await redeemInvitation(secret);
  } catch (err) {
    if (mine === current) set('error', { err });
    return;
  }
  if (mine !== current) return;
  set('connecting', { info });
  const name = [...(info.patient?.name || t('lobby.patient'))].slice(0, 64).join('');
  const call = startCall({ room: info.consultation.id, name, token: info.token, patientToken: true });
  mine.call = call;
  call.addEventListener('local-media', () => {
    if (call.localStream?.getVideoTracks().length) preview.srcObject = call.localStream;
    render();
  });
  // The error that ended the call (denied, replaced, …); camera problems are not fatal.
  let fatal = null;
  call.addEventListener('error', (e) => {
    if (!e.detail.code?.startsWith('media-')) fatal = e.detail;
  });
  call.addEventListener('state', (e) => {
    const s = e.detail.state;
    if (s === 'lobby') set('waiting');
    else if (s === 'left') set('left');
    else if (s === 'failed') set('error', { err: fatal ?? { code: 'socket-closed' } });
    if (s === 'left' || s === 'failed') preview.srcObject = null;
  });
}

/** Back to this view after the call ended (left or failed). */
export function returnToPatientJoin() {
  view.hidden = false;
  render();
  heading.focus();
}
