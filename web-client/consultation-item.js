// One consultation as a list item (worklist and patient chart): scheduled time, status,
// patient, reason, and the actions: join the call, copy a patient invitation link
// (POST /api/consultations/{id}/invitations; the link is shown too, with its expiry,
// in case the clipboard is not available).

import { api } from './rest.js';
import { t } from './i18n.js';
import { el, formatDateTime, formatTime, copyText, errorMessage } from './ui.js';

/** Patient names of consultations seen in lists, for the call view's title. */
export const consultationNames = new Map();

const ACTIVE = new Set(['planned', 'arrived', 'in-progress']);

/**
 * `c` is a consultation (docs/api.md) with optional `patient: {id, name}`.
 * Options: `timeOnly` (worklist: today), `showPatient`.
 */
export function consultationItem(c, { timeOnly = false, showPatient = true } = {}) {
  if (c.patient?.name) consultationNames.set(c.id, c.patient.name);
  const headingId = `consult-${c.id}-title`;
  const li = el('li', { class: 'item consult', dataset: { consultation: c.id, status: c.status }, 'aria-labelledby': headingId });
  const when = el('time', { class: 'when', datetime: c.scheduled_at },
    timeOnly ? formatTime(c.scheduled_at) : formatDateTime(c.scheduled_at));
  const title = el('h3', { class: 'item-title', id: headingId }, when);
  if (showPatient && c.patient) {
    title.append(' ', el('a', { href: `#/patients/${encodeURIComponent(c.patient.id ?? c.patient_id)}`, class: 'patient-link' }, c.patient.name));
  }
  li.append(
    el('div', { class: 'item-head' }, title,
      el('span', { class: `badge status-${c.status}` }, t(`status.${c.status}`))),
  );
  if (c.reason) li.append(el('p', { class: 'item-text' }, t('consult.reason', { reason: c.reason })));

  if (ACTIVE.has(c.status)) {
    const actions = el('div', { class: 'item-actions' });
    const join = el('a', { class: 'btn btn-primary btn-inline join-link', href: `#/call/${encodeURIComponent(c.id)}` }, t('worklist.join'));
    const inviteButton = el('button', { type: 'button', class: 'btn btn-secondary btn-inline invite-button' }, t('consult.invite'));
    const inviteBox = el('div', { class: 'invite', hidden: true });
    inviteButton.addEventListener('click', () => createInvitation(c.id, inviteButton, inviteBox));
    actions.append(join, inviteButton);
    li.append(actions, inviteBox);
  }
  return li;
}

async function createInvitation(consultationId, button, box) {
  button.disabled = true;
  const label = button.textContent;
  button.textContent = t('consult.invite.busy');
  box.replaceChildren();
  box.hidden = false;
  const status = el('p', { class: 'invite-status', role: 'status' });
  try {
    const inv = await api('POST', `/api/consultations/${encodeURIComponent(consultationId)}/invitations`, {});
    const inputId = `invite-${consultationId}`;
    const input = el('input', { id: inputId, class: 'invite-url', type: 'text', readonly: true, value: inv.url, dataset: { expires: inv.expires_at } });
    box.append(el('label', { for: inputId }, t('consult.invite.label')), input, status);
    const copied = await copyText(inv.url, input);
    const at = formatDateTime(inv.expires_at);
    status.textContent = t(copied ? 'consult.invite.copied' : 'consult.invite.ready', { at });
    box.dataset.copied = String(copied);
    input.addEventListener('focus', () => input.select());
  } catch (err) {
    status.classList.add('form-error');
    status.textContent = errorMessage(err);
    box.append(status);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}
