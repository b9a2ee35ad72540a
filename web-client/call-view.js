// The call view: remote tiles in a grid sized to the screen, our own tile (mirrored,
// muted; picture-in-picture once someone else is here), per-pc connection state and
// the mic / camera / leave controls, and for care-team members the lobby panel: waiting
// patients with Admit / Deny. It renders a Call (call.js) and sends the user's actions
// back to it.

import { t, i18nEvents } from './i18n.js';
import { showRecording, hideRecording } from './recording-view.js';

const view = document.getElementById('call-view');
const stage = document.getElementById('stage');
const grid = document.getElementById('remote-grid');
const roomTitle = document.getElementById('call-room');
const count = document.getElementById('call-count');
const localTile = document.getElementById('local-tile');
const localVideo = document.getElementById('local-video');
const micButton = document.getElementById('btn-mic');
const camButton = document.getElementById('btn-cam');
const leaveButton = document.getElementById('btn-leave');
const audioUnblock = document.getElementById('audio-unblock');
const tileTemplate = document.getElementById('tile-template');
const lobbyPanel = document.getElementById('lobby-panel');
const lobbyList = document.getElementById('lobby-list');
const lobbyAnnounce = document.getElementById('lobby-announce');

const TILE_ASPECT = 4 / 3;
const GRID_GAP = 8;

let call = null;
const tiles = new Map(); // participant id -> <figure>
let onActionError = () => {};
let announced = new Set(); // lobby ids already announced

micButton.addEventListener('click', () => call?.setMicMuted(!call.audioMuted));
camButton.addEventListener('click', () => call?.setCameraOff(!call.videoMuted));
leaveButton.addEventListener('click', () => {
  leaveButton.disabled = true;
  leaveButton.querySelector('.ctl-label').textContent = t('call.leaving');
  call?.leave();
});
audioUnblock.addEventListener('click', () => {
  for (const tile of tiles.values()) {
    const video = tile.querySelector('video');
    video.muted = false;
    video.play().catch(() => {});
  }
  audioUnblock.hidden = true;
});
i18nEvents.addEventListener('languagechange', () => call && renderAll());
new ResizeObserver(layoutGrid).observe(stage);

/** `onError({code, field, message})` is told when an admit/deny is refused;
 *  `recordingRole` is 'care-team', 'patient' or 'none' (recording-view.js). */
export function showCallView(newCall, { onError = () => {}, recordingRole = 'none' } = {}) {
  call = newCall;
  onActionError = onError;
  announced = new Set();
  for (const tile of tiles.values()) tile.remove();
  tiles.clear();
  leaveButton.disabled = false;
  audioUnblock.hidden = true;
  call.addEventListener('participants', syncTiles);
  call.addEventListener('participant-stream', (e) => attachStream(e.detail.id, e.detail.stream));
  call.addEventListener('connection', renderConnection);
  call.addEventListener('local-media', renderLocal);
  call.addEventListener('lobby', renderLobby);
  view.hidden = false;
  showRecording(call, { role: recordingRole });
  renderAll();
  // Move focus into the view (the join button just vanished) without a focus ring.
  roomTitle.focus();
}

export function hideCallView() {
  view.hidden = true;
  hideRecording();
  lobbyPanel.hidden = true;
  lobbyList.replaceChildren();
  for (const tile of tiles.values()) tile.querySelector('video').srcObject = null;
  localVideo.srcObject = null;
  call = null;
}

function renderAll() {
  roomTitle.textContent = call.title ? call.title() : t('call.room', { room: call.room });
  renderLobby();
  leaveButton.querySelector('.ctl-label').textContent =
    t(leaveButton.disabled ? 'call.leaving' : 'call.leave');
  renderLocal();
  syncTiles();
  renderConnection();
}

function renderLocal() {
  if (localVideo.srcObject !== call.localStream) localVideo.srcObject = call.localStream;
  const hasVideo = (call.localStream?.getVideoTracks().length ?? 0) > 0;
  const hasAudio = (call.localStream?.getAudioTracks().length ?? 0) > 0;
  fillCaption(localTile, {
    name: t('call.you', { name: call.name }),
    initialsOf: call.name,
    audioMuted: call.audioMuted || !hasAudio,
    videoMuted: call.videoMuted || !hasVideo,
  });
  localTile.classList.toggle('no-video', call.videoMuted || !hasVideo);
  setToggle(micButton, call.audioMuted, 'call.mic.unmute', 'call.mic.mute', !hasAudio);
  setToggle(camButton, call.videoMuted, 'call.cam.on', 'call.cam.off', !hasVideo);
}

// --- lobby (care team) -----------------------------------------------------------------

function renderLobby() {
  if (!call) return;
  const waiting = call.lobby ?? [];
  lobbyPanel.hidden = waiting.length === 0;
  const focused = document.activeElement?.closest?.('#lobby-list') ? document.activeElement.dataset.action : null;
  lobbyList.replaceChildren();
  const fresh = [];
  for (const w of waiting) {
    const name = w.name || t('lobby.patient');
    if (!announced.has(w.id)) fresh.push(name);
    announced.add(w.id);
    const li = document.createElement('li');
    li.className = 'lobby-item';
    li.dataset.participant = w.id;
    const label = document.createElement('span');
    label.className = 'lobby-name';
    label.textContent = name;
    li.append(label, lobbyButton('admit', w, name), lobbyButton('deny', w, name));
    lobbyList.append(li);
  }
  if (fresh.length) lobbyAnnounce.textContent = fresh.map((name) => t('lobby.arrived', { name })).join(' ');
  if (focused) (lobbyList.querySelector(`[data-action="${focused}"]`) ?? roomTitle).focus();
}

function lobbyButton(action, w, name) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `btn btn-inline lobby-${action}`;
  b.dataset.action = action;
  b.textContent = t(`lobby.${action}`);
  b.setAttribute('aria-label', t(`lobby.${action}.aria`, { name }));
  b.addEventListener('click', async () => {
    for (const other of b.parentElement.querySelectorAll('button')) other.disabled = true;
    try {
      await (action === 'admit' ? call.admit(w.id) : call.deny(w.id));
    } catch (err) {
      onActionError({ code: err.code ?? 'internal', field: err.field, message: err.message });
      for (const other of b.parentElement?.querySelectorAll('button') ?? []) other.disabled = false;
    }
  });
  return b;
}

function setToggle(button, off, labelWhenOff, labelWhenOn, unavailable) {
  const label = t(off ? labelWhenOff : labelWhenOn);
  button.setAttribute('aria-pressed', String(off));
  button.setAttribute('aria-label', label);
  button.title = label;
  button.querySelector('.ctl-label').textContent = label;
  button.disabled = unavailable;
}

// --- remote tiles ---------------------------------------------------------------------

function syncTiles() {
  if (!call) return;
  for (const [id, tile] of tiles) {
    if (!call.participants.has(id)) {
      tile.querySelector('video').srcObject = null;
      tile.remove();
      tiles.delete(id);
    }
  }
  for (const p of call.participants.values()) {
    let tile = tiles.get(p.id);
    if (!tile) {
      tile = tileTemplate.content.firstElementChild.cloneNode(true);
      tile.dataset.participant = p.id;
      tiles.set(p.id, tile);
      grid.append(tile);
      if (p.stream) attachStream(p.id, p.stream);
    }
    renderTile(tile, p);
  }
  const n = call.participants.size;
  count.textContent = t('call.participants', { n: n + 1 });
  stage.classList.toggle('alone', n === 0);
  layoutGrid();
}

function renderTile(tile, p) {
  const hasVideo = (p.stream?.getVideoTracks().length ?? 0) > 0;
  fillCaption(tile, {
    name: p.name || '…',
    initialsOf: p.name,
    audioMuted: p.audio_muted,
    videoMuted: p.video_muted,
  });
  tile.dataset.audioMuted = String(p.audio_muted);
  tile.dataset.videoMuted = String(p.video_muted);
  tile.classList.toggle('no-video', p.video_muted || !hasVideo);
  tile.setAttribute('aria-label', p.name || p.id);
}

function attachStream(id, stream) {
  const tile = tiles.get(id);
  const p = call?.participants.get(id);
  if (!tile || !p) return;
  const video = tile.querySelector('video');
  if (video.srcObject !== stream) {
    video.srcObject = stream;
    // Autoplay with sound needs a user gesture; after `?autojoin=1` there may have been
    // none. Play muted then, and offer a button that turns the sound on.
    video.play().catch(() => {
      video.muted = true;
      video.play().catch(() => {});
      audioUnblock.hidden = false;
    });
  }
  renderTile(tile, p);
}

function fillCaption(tile, { name, initialsOf, audioMuted, videoMuted }) {
  tile.querySelector('.tile-name').textContent = name;
  tile.querySelector('.initials').textContent = initials(initialsOf);
  const mic = tile.querySelector('.icon-mic-off');
  const cam = tile.querySelector('.icon-cam-off');
  // SVG elements have no `hidden` property; set the attribute.
  mic.toggleAttribute('hidden', !audioMuted);
  cam.toggleAttribute('hidden', !videoMuted);
  mic.setAttribute('aria-label', t('call.muted.audio'));
  cam.setAttribute('aria-label', t('call.muted.video'));
}

function initials(name) {
  const words = (name || '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const last = words[words.length - 1];
  return [...last][0].toUpperCase();
}

/** Pick the column count that gives the largest 4:3 tiles in the stage. */
function layoutGrid() {
  const n = Math.max(tiles.size, 1);
  const { width, height } = stage.getBoundingClientRect();
  if (width === 0 || height === 0) return;
  let best = 1;
  let bestWidth = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (width - GRID_GAP * (cols - 1)) / cols;
    const cellH = (height - GRID_GAP * (rows - 1)) / rows;
    const tileW = Math.min(cellW, cellH * TILE_ASPECT);
    if (tileW > bestWidth + 0.5) {
      bestWidth = tileW;
      best = cols;
    }
  }
  grid.style.setProperty('--cols', best);
  grid.style.setProperty('--rows', Math.ceil(n / best));
}

// --- connection state -----------------------------------------------------------------

/** One state for the user from the browser's and the server's view of a pc. */
function combinedState({ local, server }) {
  if (local === 'failed' || server === 'failed') return 'failed';
  if (local === 'connected' || local === 'disconnected' || local === 'closed') return local;
  if (local === 'connecting' || server === 'connecting' || server === 'connected') return 'connecting';
  return 'new';
}

function renderConnection() {
  if (!call) return;
  for (const el of view.querySelectorAll('.conn')) {
    const pc = el.dataset.pc;
    const states = call.connection[pc];
    const state = combinedState(states);
    el.dataset.state = state;
    el.dataset.local = states.local;
    el.dataset.server = states.server;
    const text = `${t(`conn.${pc}`)}: ${t(`conn.${state}`)}`;
    el.querySelector('.conn-text').textContent = text;
    el.title = `${text} (${t('conn.server')}: ${t(`conn.${states.server}`)})`;
  }
}
