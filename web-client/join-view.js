// The join form: room code and display name, validated the way the server does
// (docs/protocol.md, `join`) so that most mistakes never reach it.

import { t, i18nEvents } from './i18n.js';

const ROOM_RE = /^[A-Za-z0-9_-]{1,64}$/;
// Protocol: 1–64 characters, UTF-8, no control characters (C0, DEL, C1, U+2028/9).
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

const view = document.getElementById('join-view');
const form = document.getElementById('join-form');
const roomInput = document.getElementById('join-room');
const nameInput = document.getElementById('join-name');
const kindSelect = document.getElementById('join-kind');
const submit = document.getElementById('join-submit');
const status = document.getElementById('join-status');
let statusKey = null;

i18nEvents.addEventListener('languagechange', () => {
  if (statusKey) status.textContent = t(statusKey);
});

export function validateJoin(room, name) {
  if (!ROOM_RE.test(room)) return 'join.invalid.room';
  const length = [...name].length;
  if (length < 1 || length > 64 || CONTROL_RE.test(name)) return 'join.invalid.name';
  return null;
}

/** Show the form; `onSubmit({room, name, kind})` is called with valid input (`kind`:
 *  'consult' or 'briefing', used when the room is new). */
export function initJoinView({ room = '', name = '', kind = '', onSubmit }) {
  roomInput.value = room;
  nameInput.value = name;
  kindSelect.value = kind === 'briefing' ? 'briefing' : 'consult';
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const values = { room: roomInput.value.trim(), name: nameInput.value.trim(), kind: kindSelect.value };
    const problem = validateJoin(values.room, values.name);
    roomInput.setAttribute('aria-invalid', String(problem === 'join.invalid.room'));
    nameInput.setAttribute('aria-invalid', String(problem === 'join.invalid.name'));
    if (problem) {
      setJoinStatus(problem);
      (problem === 'join.invalid.room' ? roomInput : nameInput).focus();
      return;
    }
    onSubmit(values);
  });
}

export function showJoinView() {
  view.hidden = false;
  setJoinBusy(false);
  (roomInput.value ? nameInput : roomInput).focus();
}

export function hideJoinView() {
  view.hidden = true;
}

export function setJoinBusy(busy) {
  submit.disabled = busy;
  roomInput.readOnly = busy;
  kindSelect.disabled = busy;
  nameInput.readOnly = busy;
  setJoinStatus(busy ? 'join.joining' : null);
}

export function setJoinStatus(key) {
  statusKey = key;
  status.textContent = key ? t(key) : '';
}
