// The call view: remote tiles in a grid sized to the screen, our own tile (mirrored,
// muted; picture-in-picture once someone else is here), per-pc connection state and
// the mic / camera / leave controls, and for care-team members the lobby panel: waiting
// patients with Admit / Deny. It renders a Call (call.js) and sends the user's actions
// back to it.
//
// Multi-party rooms (issue 6) — layouts, decided in layout():
//   grid     (consult) every remote tile the same size;
//   speaker  (consult) one large tile — a shared screen if there is one (pinned), else
//            the active speaker — and the others as a strip of thumbnails;
//   briefing presenters (host first, up to 4, a shared screen first) large, the rest of
//            the tiles in the strip; viewers have no tile, they are in the site list.
// The people panel lists everyone (raised hands first) with the host's controls (floor,
// mute, remove, lock, Last-N). Layer requests follow the layout: large tiles ask for the
// high simulcast layer, thumbnails for the low one.

import { t, i18nEvents } from './i18n.js';
import { showRecording, hideRecording } from './recording-view.js';
import { tileLayers, peopleOrder, gridColumns, mainAndStrip } from './layout.js';

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
const mainTiles = document.getElementById('main-tiles');
const aloneHint = document.getElementById('alone-hint');
const screenTemplate = document.getElementById('screen-tile-template');
const shareButton = document.getElementById('btn-share');
const handButton = document.getElementById('btn-hand');
const layoutButton = document.getElementById('btn-layout');
const peopleButton = document.getElementById('btn-people');
const handsBadge = document.getElementById('hands-badge');
const lockBadge = document.getElementById('lock-badge');
const peoplePanel = document.getElementById('people-panel');
const peopleHeading = document.getElementById('people-heading');
const peopleList = document.getElementById('people-list');
const peopleAnnounce = document.getElementById('people-announce');
const peopleClose = document.getElementById('people-close');
const hostTools = document.getElementById('host-tools');
const lockButton = document.getElementById('btn-lock');
const lastNSelect = document.getElementById('last-n-select');
const floorPrompt = document.getElementById('floor-prompt');
const floorStart = document.getElementById('floor-start');
const notice = document.getElementById('call-notice');
const controls = view.querySelector('.controls');

const TILE_ASPECT = 4 / 3;
const GRID_GAP = 8;
const NOTICE_MS = 8000;

let call = null;
const tiles = new Map(); // participant id (camera tile) or `${id}:screen` -> <figure>
let onActionError = () => {};
let announced = new Set(); // lobby ids already announced
let userLayout = 'grid'; // the consult layout the user chose: 'grid' | 'speaker'
let lastRemoteSpeaker = null; // the remote participant who spoke last (speaker layout)
let screenOrder = new Map(); // screen tile key -> when it appeared (newest is pinned)
let screenCounter = 0;
let peopleOpen = null; // null: not chosen by the user yet (briefing hosts start with it open)
let hands = new Set(); // ids whose raised hand was already announced
let shownNotice = null; // {key, params}
let noticeTimer = null;
let listeners = null; // AbortController of the current call's listeners

micButton.addEventListener('click', () => call?.setMicMuted(!call.audioMuted));
camButton.addEventListener('click', () => call?.setCameraOff(!call.videoMuted));
shareButton.addEventListener('click', async () => {
  if (!call) return;
  shareButton.disabled = true;
  try {
    if (call.screenStream) await call.stopScreenShare();
    else await call.startScreenShare();
  } catch (err) {
    // The user closing the browser's picker is not an error worth a banner.
    if (err?.name !== 'NotAllowedError' && err?.name !== 'AbortError') {
      onActionError({ code: err.code ?? 'screen-failed', field: err.field, message: err.message });
    }
  } finally {
    shareButton.disabled = false;
    renderControls();
  }
});
handButton.addEventListener('click', async () => {
  if (!call) return;
  handButton.disabled = true;
  try {
    await call.raiseHand(!call.handRaised);
  } catch (err) {
    onActionError({ code: err.code ?? 'internal', field: err.field, message: err.message });
  } finally {
    handButton.disabled = false;
    renderControls();
  }
});
layoutButton.addEventListener('click', () => {
  userLayout = userLayout === 'grid' ? 'speaker' : 'grid';
  renderControls();
  layout();
});
peopleButton.addEventListener('click', () => setPeopleOpen(peoplePanel.hidden));
peopleClose.addEventListener('click', () => {
  setPeopleOpen(false);
  peopleButton.focus();
});
lockButton.addEventListener('click', () => hostAction(lockButton, () => call.lock(!call.roomState.locked)));
lastNSelect.addEventListener('change', () => hostAction(lastNSelect, () => call.setLastN(Number(lastNSelect.value))));
floorStart.addEventListener('click', async () => {
  floorStart.disabled = true;
  try {
    await call?.startPublishing();
    floorPrompt.hidden = true;
  } catch (err) {
    onActionError({ code: err.code ?? 'webrtc', field: err.field, message: err.message });
  } finally {
    floorStart.disabled = false;
    renderAll();
  }
});
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
i18nEvents.addEventListener('languagechange', () => {
  if (!call) return;
  renderAll();
  if (shownNotice) notice.textContent = t(shownNotice.key, shownNotice.params);
});
new ResizeObserver(() => call && layout()).observe(stage);

/** `onError({code, field, message})` is told when an admit/deny is refused;
 *  `recordingRole` is 'care-team', 'patient' or 'none' (recording-view.js). */
export function showCallView(newCall, { onError = () => {}, recordingRole = 'none' } = {}) {
  listeners?.abort();
  listeners = new AbortController();
  const { signal } = listeners;
  call = newCall;
  onActionError = onError;
  announced = new Set();
  hands = new Set();
  for (const tile of tiles.values()) tile.remove();
  tiles.clear();
  screenOrder = new Map();
  userLayout = 'grid';
  lastRemoteSpeaker = null;
  peopleOpen = null;
  leaveButton.disabled = false;
  audioUnblock.hidden = true;
  floorPrompt.hidden = true;
  hideNotice();
  call.addEventListener('participants', () => { syncTiles(); renderPeople(); renderControls(); }, { signal });
  call.addEventListener('participant-stream', (e) => attachStream(e.detail.id, e.detail.stream), { signal });
  call.addEventListener('connection', renderConnection, { signal });
  call.addEventListener('local-media', () => { renderLocal(); renderControls(); }, { signal });
  call.addEventListener('lobby', renderLobby, { signal });
  call.addEventListener('room', () => { renderControls(); syncTiles(); renderPeople(); renderConnection(); }, { signal });
  call.addEventListener('screen', () => { renderControls(); }, { signal });
  call.addEventListener('active-speaker', onActiveSpeaker, { signal });
  call.addEventListener('muted-by-host', (e) => showNotice(`notice.muted.${e.detail.kind}`, {
    name: nameOf(e.detail.by),
  }), { signal });
  call.addEventListener('floor', (e) => {
    floorPrompt.hidden = !e.detail.granted;
    if (e.detail.granted) floorStart.focus();
    showNotice(e.detail.granted ? 'notice.floor.granted' : 'notice.floor.revoked');
    renderAll();
  }, { signal });
  view.hidden = false;
  showRecording(call, { role: recordingRole });
  renderAll();
  // Move focus into the view (the join button just vanished) without a focus ring.
  roomTitle.focus();
}

export function hideCallView() {
  listeners?.abort();
  listeners = null;
  view.hidden = true;
  peoplePanel.hidden = true;
  floorPrompt.hidden = true;
  hideNotice();
  if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
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
  renderControls();
  syncTiles();
  renderPeople();
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
  localTile.classList.toggle('speaking', !!call.selfId && call.activeSpeaker === call.selfId);
  // A briefing viewer sends nothing: no own tile, no mic / camera buttons.
  const receiveOnly = !call.mayPublish && !hasAudio && !hasVideo;
  localTile.hidden = receiveOnly;
  micButton.hidden = receiveOnly;
  camButton.hidden = receiveOnly;
  setToggle(micButton, call.audioMuted, 'call.mic.unmute', 'call.mic.mute', !hasAudio);
  setToggle(camButton, call.videoMuted, 'call.cam.on', 'call.cam.off', !hasVideo);
}

/** Share screen, raise hand, layout and people buttons: who may use them, and their state. */
function renderControls() {
  if (!call) return;
  const joined = call.state === 'joined';
  const canShare = typeof navigator.mediaDevices?.getDisplayMedia === 'function';
  shareButton.hidden = !canShare || !call.mayPublish || !joined;
  const sharing = !!call.screenStream;
  const shareLabel = t(sharing ? 'call.share.stop' : 'call.share.start');
  shareButton.setAttribute('aria-pressed', String(sharing));
  shareButton.setAttribute('aria-label', shareLabel);
  shareButton.title = shareLabel;
  shareButton.querySelector('.ctl-label').textContent = shareLabel;

  // Raising a hand is how a briefing site asks for the floor; the host gives it.
  handButton.hidden = !(call.kind === 'briefing' && call.role === 'viewer' && joined);
  const handLabel = t(call.handRaised ? 'call.hand.lower' : 'call.hand.raise');
  handButton.setAttribute('aria-pressed', String(call.handRaised));
  handButton.setAttribute('aria-label', handLabel);
  handButton.title = handLabel;
  handButton.querySelector('.ctl-label').textContent = handLabel;

  const briefing = call.kind === 'briefing';
  layoutButton.hidden = briefing || !joined;
  const speaker = userLayout === 'speaker';
  const layoutLabel = t(speaker ? 'call.layout.grid' : 'call.layout.speaker');
  layoutButton.setAttribute('aria-pressed', String(speaker));
  layoutButton.setAttribute('aria-label', layoutLabel);
  layoutButton.title = layoutLabel;
  layoutButton.querySelector('.info-label').textContent = t('call.layout');

  peopleButton.hidden = !joined;
  const n = call.participants.size + 1;
  const peopleLabel = t(briefing ? 'people.sites.button' : 'people.button', { n });
  peopleButton.setAttribute('aria-label', peopleLabel);
  peopleButton.title = peopleLabel;
  peopleButton.querySelector('.info-label').textContent = String(n);
  lockBadge.hidden = !call.roomState.locked;

  // Many buttons on a phone: icons only (each keeps its aria-label).
  const visible = [...controls.querySelectorAll('.ctl')].filter((b) => !b.hidden).length;
  controls.classList.toggle('compact', visible > 4);
}

function setPeopleOpen(open) {
  peopleOpen = open;
  peoplePanel.hidden = !open;
  peopleButton.setAttribute('aria-expanded', String(open));
  if (open) renderPeople();
}

// --- notices (muted by the host, floor given or taken) -----------------------------------

function showNotice(key, params = {}) {
  shownNotice = { key, params };
  notice.textContent = t(key, params);
  notice.dataset.key = key;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(hideNotice, NOTICE_MS);
}

function hideNotice() {
  clearTimeout(noticeTimer);
  shownNotice = null;
  notice.hidden = true;
  notice.textContent = '';
  delete notice.dataset.key;
}

function nameOf(id) {
  if (!id || !call) return t('people.host');
  return call.participants.get(id)?.name || t('people.host');
}

/** Run a host action from `control`, disabled meanwhile; errors go to the banner. */
async function hostAction(control, action) {
  if (!call) return;
  control.disabled = true;
  try {
    await action();
  } catch (err) {
    onActionError({ code: err.code ?? 'internal', field: err.field, message: err.message });
  } finally {
    control.disabled = false;
    renderPeople();
  }
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

/** True when `p` gets a camera tile: everyone in a consult; in a briefing those who hold
 *  the floor (a WHIP publisher is a presenter too) — a viewer has none, even while the
 *  tracks of a floor just taken back are still being removed. */
function hasCameraTile(p) {
  if (call.kind !== 'briefing') return true;
  if (p.role === 'host' || p.role === 'presenter') return true;
  return p.role === null && p.tracks.length > 0;
}

function syncTiles() {
  if (!call) return;
  const wanted = new Set();
  for (const p of call.participants.values()) {
    if (hasCameraTile(p)) wanted.add(p.id);
    if (p.screenStream) wanted.add(`${p.id}:screen`);
  }
  for (const [key, tile] of tiles) {
    if (!wanted.has(key)) {
      tile.querySelector('video').srcObject = null;
      tile.remove();
      tiles.delete(key);
      screenOrder.delete(key);
    }
  }
  for (const p of call.participants.values()) {
    if (wanted.has(p.id)) {
      let tile = tiles.get(p.id);
      if (!tile) {
        tile = tileTemplate.content.firstElementChild.cloneNode(true);
        tile.dataset.participant = p.id;
        tile.dataset.source = 'camera';
        tiles.set(p.id, tile);
        grid.append(tile);
        if (p.stream) attachStream(p.id, p.stream);
      }
      renderTile(tile, p);
    }
    const key = `${p.id}:screen`;
    if (wanted.has(key)) {
      let tile = tiles.get(key);
      if (!tile) {
        tile = newScreenTile(p.id);
        tiles.set(key, tile);
        screenOrder.set(key, ++screenCounter);
        grid.append(tile);
      }
      attachVideo(tile, p.screenStream);
      renderScreenTile(tile, p);
    }
  }
  const n = call.participants.size;
  count.textContent = t(call.kind === 'briefing' ? 'call.sites' : 'call.participants', { n: n + 1 });
  stage.classList.toggle('alone', tiles.size === 0);
  // A briefing host presenting to sites is not waiting for anyone.
  aloneHint.hidden = call.kind === 'briefing' && n > 0;
  stage.dataset.kind = call.kind;
  layout();
}

function newScreenTile(id) {
  const tile = screenTemplate.content.firstElementChild.cloneNode(true);
  tile.dataset.participant = id;
  const button = tile.querySelector('.tile-fullscreen');
  button.addEventListener('click', () => {
    if (document.fullscreenElement === tile) document.exitFullscreen().catch(() => {});
    else tile.requestFullscreen?.().catch(() => {});
  });
  tile.addEventListener('fullscreenchange', () => renderScreenTile(tile, call?.participants.get(id)));
  return tile;
}

function renderScreenTile(tile, p) {
  if (!p) return;
  const name = t('call.screen.of', { name: p.name || '…' });
  tile.querySelector('.tile-name').textContent = name;
  tile.setAttribute('aria-label', name);
  const full = document.fullscreenElement === tile;
  const button = tile.querySelector('.tile-fullscreen');
  const label = t(full ? 'call.fullscreen.exit' : 'call.fullscreen', { name: p.name || '…' });
  button.setAttribute('aria-label', label);
  button.title = label;
}

function onActiveSpeaker() {
  if (!call) return;
  const id = call.activeSpeaker;
  if (id && id !== call.selfId && call.participants.has(id)) lastRemoteSpeaker = id;
  for (const [key, tile] of tiles) {
    if (tile.dataset.source === 'camera') tile.classList.toggle('speaking', key === id);
  }
  localTile.classList.toggle('speaking', !!id && id === call.selfId);
  layout();
}

/** Place the tiles for the current layout (see the top of this file) and ask for the
 *  matching simulcast layers. */
function layout() {
  if (!call) return;
  const entries = [...tiles.entries()].map(([key, tile]) => {
    const p = call.participants.get(tile.dataset.participant);
    return {
      key, id: tile.dataset.participant, screen: tile.dataset.source === 'screen',
      role: p?.role ?? null, order: screenOrder.get(key) ?? 0, joinedAt: p?.joinedAt ?? 0,
    };
  });
  const { mode, main, strip } = mainAndStrip(entries, {
    kind: call.kind, userLayout, activeSpeaker: call.activeSpeaker, lastRemoteSpeaker,
    presenters: call.roomState.presenters,
  });
  stage.dataset.layout = mode;
  stage.classList.toggle('no-strip', strip.length === 0 && localTile.hidden);
  stage.classList.toggle('no-local', localTile.hidden);
  grid.classList.toggle('strip', mode !== 'grid');
  placeTiles(mainTiles, main.map((e) => tiles.get(e.key)));
  placeTiles(grid, strip.map((e) => tiles.get(e.key)));
  if (mode === 'grid') fitGrid(grid, strip.length);
  else fitGrid(mainTiles, main.length);
  for (const { participant, track, layer } of tileLayers(main, strip, mode, (id) => call.participants.get(id)?.tracks ?? [])) {
    call.requestLayer(participant, track, layer);
  }
}

/** Put `wanted` tiles into `container` in that order, moving only what is out of place. */
function placeTiles(container, wanted) {
  wanted.forEach((tile, i) => {
    if (container.children[i] !== tile) container.insertBefore(tile, container.children[i] ?? null);
  });
  for (const extra of [...container.children].slice(wanted.length)) {
    if (!wanted.includes(extra)) extra.remove();
  }
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
  tile.dataset.role = p.role ?? '';
  const hand = tile.querySelector('.icon-hand');
  hand.toggleAttribute('hidden', !p.hand_raised);
  hand.setAttribute('aria-label', t('people.hand'));
  tile.classList.toggle('speaking', !!call.activeSpeaker && call.activeSpeaker === p.id);
  tile.classList.toggle('no-video', p.video_muted || !hasVideo);
  tile.setAttribute('aria-label', p.name || p.id);
}

function attachStream(id, stream) {
  const tile = tiles.get(id);
  const p = call?.participants.get(id);
  if (!p) return;
  const screenTile = tiles.get(`${id}:screen`);
  if (screenTile && p.screenStream) attachVideo(screenTile, p.screenStream);
  if (!tile) {
    // A briefing viewer who started publishing (a WHIP presenter): it gets a tile now.
    if (hasCameraTile(p)) syncTiles();
    return;
  }
  attachVideo(tile, stream);
  renderTile(tile, p);
}

function attachVideo(tile, stream) {
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

/** Give `container` the column count that makes its `n` 4:3 tiles largest. */
function fitGrid(container, n) {
  const { width, height } = container.getBoundingClientRect();
  if (width === 0 || height === 0) return;
  const cols = gridColumns(Math.max(n, 1), width, height, { aspect: TILE_ASPECT, gap: GRID_GAP });
  container.style.setProperty('--cols', cols);
  container.style.setProperty('--rows', Math.ceil(Math.max(n, 1) / cols));
}

// --- people panel: everyone, raised hands first, with the host's controls -------------------

const ROLE_KEYS = { host: 'people.role.host', presenter: 'people.role.presenter', viewer: 'people.role.viewer', participant: 'people.role.participant' };

function renderPeople() {
  if (!call) return;
  const briefing = call.kind === 'briefing';
  peopleHeading.textContent = t(briefing ? 'people.sites' : 'people.heading', { n: call.participants.size + 1 });
  // Briefing hosts start with the site list open (on screens wider than a phone).
  if (peopleOpen === null && briefing && call.isHost && window.innerWidth > 600) setPeopleOpen(true);
  hostTools.hidden = !call.isHost;
  const locked = call.roomState.locked;
  lockButton.setAttribute('aria-pressed', String(locked));
  lockButton.textContent = t(locked ? 'host.unlock' : 'host.lock');
  if (document.activeElement !== lastNSelect) lastNSelect.value = String(call.roomState.last_n ?? 0);
  if (!lastNSelect.value) lastNSelect.value = '0';

  const self = {
    id: call.selfId, name: call.name, role: call.role, hand_raised: call.handRaised,
    audio_muted: call.audioMuted, video_muted: call.videoMuted, joinedAt: -1, self: true,
  };
  const people = peopleOrder([self, ...call.participants.values()]);
  const raised = people.filter((p) => p.hand_raised);
  handsBadge.hidden = raised.length === 0;
  handsBadge.textContent = String(raised.length);
  handsBadge.setAttribute('aria-label', t('people.hands', { n: raised.length }));
  const fresh = raised.filter((p) => !p.self && !hands.has(p.id));
  hands = new Set(raised.map((p) => p.id));
  if (fresh.length && call.isHost) peopleAnnounce.textContent = fresh.map((p) => t('people.hand.raised', { name: p.name || '…' })).join(' ');

  if (peoplePanel.hidden) return;
  const focused = document.activeElement?.closest?.('#people-list') ? document.activeElement : null;
  const focusKey = focused ? `${focused.closest('li')?.dataset.participant}/${focused.dataset.action}` : null;
  peopleList.replaceChildren(...people.map(personRow));
  if (focusKey) {
    const [id, action] = focusKey.split('/');
    (peopleList.querySelector(`li[data-participant="${id}"] [data-action="${action}"]`) ?? peopleHeading).focus?.();
  }
}

function personRow(p) {
  const li = document.createElement('li');
  li.className = 'person';
  li.dataset.participant = p.id ?? '';
  li.dataset.role = p.role ?? '';
  li.dataset.hand = String(!!p.hand_raised);
  const name = p.name || '…';
  const label = document.createElement('span');
  label.className = 'person-name';
  label.textContent = p.self ? t('call.you', { name }) : name;
  const meta = document.createElement('span');
  meta.className = 'person-meta';
  if (p.hand_raised) meta.append(badge('person-hand', t('people.hand')));
  if (p.role && ROLE_KEYS[p.role]) meta.append(badge('person-role', t(ROLE_KEYS[p.role])));
  if (p.audio_muted) meta.append(badge('person-muted', t('call.muted.audio')));
  if (call.activeSpeaker && call.activeSpeaker === p.id) meta.append(badge('person-speaking', t('people.speaking')));
  li.append(label, meta);
  if (call.isHost && !p.self && p.id) li.append(hostButtons(p, name));
  return li;
}

function badge(cls, text) {
  const span = document.createElement('span');
  span.className = `person-badge ${cls}`;
  span.textContent = text;
  return span;
}

function hostButtons(p, name) {
  const box = document.createElement('span');
  box.className = 'person-actions';
  const add = (action, key, run, { disabled = false, danger = false } = {}) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = `btn btn-inline person-action${danger ? ' person-danger' : ''}`;
    b.dataset.action = action;
    b.textContent = t(`host.${key}`);
    b.setAttribute('aria-label', t(`host.${key}.aria`, { name }));
    b.disabled = disabled;
    b.addEventListener('click', () => hostAction(b, run));
    box.append(b);
  };
  if (call.kind === 'briefing') {
    if (p.role === 'presenter') add('revoke', 'floor.revoke', () => call.floor('revoke', p.id));
    else if (p.role === 'viewer' || p.role === null) add('grant', 'floor.grant', () => call.floor('grant', p.id));
  }
  const publishes = p.role !== 'viewer' || p.tracks?.length > 0;
  if (publishes) {
    add('mute-audio', 'mute.audio', () => call.muteParticipant(p.id, 'audio'), { disabled: p.audio_muted });
    add('mute-video', 'mute.video', () => call.muteParticipant(p.id, 'video'), { disabled: p.video_muted });
  }
  if (p.screenStream) add('mute-screen', 'mute.screen', () => call.muteParticipant(p.id, 'screen'));
  add('remove', 'remove', () => call.removeParticipant(p.id), { danger: true });
  return box;
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
    // A briefing site sends nothing: no "Sending: not connected" to worry it.
    el.hidden = pc === 'publish' && !call.pcs.publish && !call.mayPublish;
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
