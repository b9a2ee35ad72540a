// Recordings (docs/api.md "Recordings"): the chart's list of each consultation's
// recorded files (GET /api/consultations/{id}/recordings — status, duration, kind,
// the composed file's progress, refreshed while something is still being written or
// composed — each fetch is an audited read, so only then — and on the Refresh button) with a Play action, and #/recordings/<id>, a page that plays one recording
// (a link a care-team member can share). Play asks POST /api/recordings/{id}/playback for
// a five-minute ticket url and hands it to a <video> element (it cannot send a bearer
// token); a refusal (403), a failed integrity check (409 integrity-failed) or a file
// not ready is shown, and nothing is played.

import { api } from './rest.js';
import { t, hasText, i18nEvents } from './i18n.js';
import { el, formatDateTime, errorMessage } from './ui.js';
import { composing, formatDuration, groupRecordings, playable, refreshDelay } from './recording-state.js';

const MAX_CONSULTATIONS = 20;  // the most recent ones are asked for their recordings

// --- the chart's panel ------------------------------------------------------------------

const panel = document.getElementById('chart-recordings');
const status = document.getElementById('chart-recordings-status');
const player = document.getElementById('chart-player');
const playerTitle = document.getElementById('chart-player-title');
const playerVideo = document.getElementById('chart-player-video');
const playerError = document.getElementById('chart-player-error');
const refreshButton = document.getElementById('chart-recordings-refresh');

let consultations = []; // of the chart shown, newest first
let results = new Map(); // consultation id -> {list} | {error}
let loadSeq = 0;
let refreshTimer = null;
let lastRendered = '';
let playing = null; // {id, title}

i18nEvents.addEventListener('languagechange', () => {
  if (!panel.isConnected || panel.closest('[hidden]')) return;
  lastRendered = '';
  render();
});
refreshButton.addEventListener('click', () => { if (consultations.length) load(); });
playerVideo.addEventListener('error', () => {
  if (!playing) return;
  showPlayerError(playerError, { key: 'rec.play.failed' });
});

/** Show the recordings of `list` (the chart's consultations) and keep them fresh. */
export function showChartRecordings(list) {
  const ids = (list ?? [])
    .filter((c) => c.status !== 'planned')
    .sort((a, b) => String(b.scheduled_at).localeCompare(String(a.scheduled_at)))
    .slice(0, MAX_CONSULTATIONS);
  const same = ids.length === consultations.length && ids.every((c, i) => c.id === consultations[i].id);
  consultations = ids;
  if (!same) {
    results = new Map();
    lastRendered = '';
  }
  render();
  load();
}

/** Stop refreshing and playing (the chart is left). */
export function hideChartRecordings() {
  loadSeq++;
  clearTimeout(refreshTimer);
  refreshTimer = null;
  stopPlayer();
  consultations = [];
  results = new Map();
  lastRendered = '';
}

async function load() {
  const seq = ++loadSeq;
  clearTimeout(refreshTimer);
  refreshTimer = null;
  const answers = await Promise.all(consultations.map(async (c) => {
    try {
      const list = await api('GET', `/api/consultations/${encodeURIComponent(c.id)}/recordings`);
      return [c.id, { list: Array.isArray(list) ? list : [] }];
    } catch (err) {
      return [c.id, { error: err }];
    }
  }));
  if (seq !== loadSeq) return;
  results = new Map(answers);
  render();
  const delays = [...results.values()].map((r) => (r.list ? refreshDelay(r.list) : null)).filter((d) => d !== null);
  if (delays.length) refreshTimer = setTimeout(load, Math.min(...delays));
}

function render() {
  const snapshot = JSON.stringify([consultations.map((c) => c.id), [...results].map(([id, r]) => [id, r.list ?? r.error?.code])]);
  if (snapshot === lastRendered) return;
  lastRendered = snapshot;
  // Keep keyboard focus on the same action across a refresh.
  const focused = document.activeElement?.closest?.('#chart-recordings [data-recording]');
  const focusKey = focused ? [focused.dataset.recording, document.activeElement.dataset.action] : null;

  panel.replaceChildren();
  let files = 0;
  let loaded = 0;
  for (const c of consultations) {
    const r = results.get(c.id);
    if (!r) continue;
    loaded++;
    if (r.error) {
      panel.append(groupSection(c, el('p', { class: 'form-error rec-error', dataset: { code: r.error.code } },
        r.error.status === 403 ? t('rec.list.forbidden') : errorMessage(r.error))));
      continue;
    }
    if (!r.list.length) continue;
    files += r.list.length;
    const list = el('ul', { class: 'item-list compact rec-list' });
    for (const g of groupRecordings(r.list)) for (const f of g.files) list.append(recordingItem(f));
    panel.append(groupSection(c, list));
  }
  panel.dataset.files = String(files);
  if (loaded < consultations.length && !files) status.textContent = t('rec.list.loading');
  else status.textContent = files || panel.childElementCount ? '' : t('rec.list.empty');
  if (focusKey) {
    const again = panel.querySelector(`[data-recording="${CSS.escape(focusKey[0])}"] [data-action="${focusKey[1]}"]`);
    again?.focus();
  }
}

function groupSection(c, body) {
  const headingId = `rec-group-${c.id}`;
  return el('section', { class: 'rec-group', dataset: { consultation: c.id }, 'aria-labelledby': headingId },
    el('h3', { class: 'rec-group-title', id: headingId },
      el('time', { datetime: c.scheduled_at }, formatDateTime(c.scheduled_at)),
      c.reason ? ` · ${c.reason}` : ''),
    body);
}

function fileTitle(r) {
  return r.kind === 'composed'
    ? t('rec.kind.composed')
    : t('rec.kind.participant', { name: r.participant_name || t('rec.kind.unknown') });
}

function recordingItem(r) {
  const title = fileTitle(r);
  const li = el('li', {
    class: 'item rec-item',
    dataset: {
      recording: r.id, kind: r.kind, status: r.status,
      progress: typeof r.compose_progress === 'number' ? String(r.compose_progress) : '',
      durationMs: typeof r.duration_ms === 'number' ? String(r.duration_ms) : '',
    },
  });
  const facts = [hasText(`rec.status.${r.status}`) ? t(`rec.status.${r.status}`) : r.status];
  if (r.started_at) facts.push(formatDateTime(r.started_at));
  const duration = formatDuration(r.duration_ms);
  if (duration && r.status !== 'recording') facts.push(t('rec.duration', { duration }));
  li.append(
    el('span', { class: 'item-title rec-title' }, title),
    el('span', { class: 'item-text rec-facts' }, facts.join(' · ')),
  );
  if (composing(r)) {
    const pct = Math.max(0, Math.min(100, Math.round(r.compose_progress)));
    const label = t('rec.composing', { percent: pct });
    li.append(el('div', { class: 'rec-progress' },
      el('progress', { max: '100', value: String(pct), 'aria-label': t('rec.composing.aria', { title }) }),
      el('span', { class: 'rec-progress-text' }, label)));
  }
  const actions = el('div', { class: 'rec-actions' });
  if (playable(r)) {
    actions.append(el('button', {
      type: 'button', class: 'btn btn-secondary btn-inline rec-play', dataset: { action: 'play' },
      'aria-label': t('rec.play.aria', { title }),
      onclick: () => playInChart(r.id, title),
    }, t('rec.play')));
    actions.append(el('a', {
      class: 'rec-link', href: `#/recordings/${encodeURIComponent(r.id)}`, dataset: { action: 'link' },
      'aria-label': t('rec.link.aria', { title }),
    }, t('rec.link')));
  }
  if (actions.childElementCount) li.append(actions);
  return li;
}

async function playInChart(id, title) {
  stopPlayer();
  playing = { id, title };
  player.hidden = false;
  player.dataset.recording = id;
  playerTitle.textContent = title;
  await play(id, playerVideo, playerError);
}

function stopPlayer() {
  playing = null;
  playerVideo.pause();
  playerVideo.removeAttribute('src');
  playerVideo.load();
  player.hidden = true;
  delete player.dataset.recording;
  playerError.textContent = '';
  delete playerError.dataset.code;
}

/** Ask for a ticket and play it in `video`; problems go to `errorBox`. */
async function play(id, video, errorBox) {
  errorBox.textContent = '';
  delete errorBox.dataset.code;
  video.hidden = true;
  let ticket;
  try {
    ticket = await api('POST', `/api/recordings/${encodeURIComponent(id)}/playback`);
  } catch (err) {
    showPlayerError(errorBox, { err });
    return false;
  }
  if (typeof ticket?.url !== 'string' || !ticket.url.startsWith('/')) {
    showPlayerError(errorBox, { key: 'rec.play.failed' });
    return false;
  }
  video.hidden = false;
  video.src = ticket.url;
  video.play().catch(() => { /* the controls let the user start it */ });
  video.focus();
  return true;
}

function showPlayerError(box, { err, key }) {
  box.dataset.code = err?.code ?? key;
  if (key) box.textContent = t(key);
  else if (err.status === 403) box.textContent = t('rec.play.forbidden');
  else box.textContent = errorMessage(err);
}

// --- #/recordings/<id> ------------------------------------------------------------------

const pageView = document.getElementById('recording-page');
const pageVideo = document.getElementById('recording-page-video');
const pageError = document.getElementById('recording-page-error');
const pagePlay = document.getElementById('recording-page-play');
let pageId = null;

pagePlay.addEventListener('click', async () => {
  if (!pageId) return;
  pagePlay.disabled = true;
  try {
    await play(pageId, pageVideo, pageError);
  } finally {
    pagePlay.disabled = false;
  }
});
pageVideo.addEventListener('error', () => {
  if (pageId && pageVideo.getAttribute('src')) showPlayerError(pageError, { key: 'rec.play.failed' });
});

export function showRecordingPage(id) {
  pageId = id;
  pageView.hidden = false;
  pageView.dataset.recording = id;
  pageError.textContent = '';
  delete pageError.dataset.code;
  pageVideo.hidden = true;
  document.getElementById('recording-page-heading').focus();
}

export function hideRecordingPage() {
  pageId = null;
  pageVideo.pause();
  pageVideo.removeAttribute('src');
  pageVideo.load();
}
