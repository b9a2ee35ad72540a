// Boot: translations, the language switch, the hash router, and the move between the
// views and the call. Routes:
//   #/login                 staff log in
//   #/worklist              today's consultations               (staff)
//   #/patients              patient search                      (staff)
//   #/patients/new          create a patient                    (staff)
//   #/patients/<id>         the patient's chart, with its recordings (staff)
//   #/recordings/<id>       one recording's player page         (staff: the care team)
//   #/schedule[/<patient>]  schedule a consultation             (staff)
//   #/call/<consultation>   the consultation's call, with the lobby panel (staff)
//   #/briefing/<id>         a briefing (staff): its creator hosts, the others watch
//   #/join/<secret>         a patient's invitation link: lobby, then the call
//   #/room                  the anonymous room-code form (?room=&name=&kind=&autojoin=1&lang=),
//                           for servers that allow anonymous rooms (tests, benchmarks)
// With no hash: #/room when ?room= or ?autojoin= is given, else #/worklist when logged
// in, else #/login. Also exposes `window.cau`, a read-only hook the browser tests use to
// reach the peer connections, their stats, the route and the lobby.

import { applyTranslations, getLanguage, setLanguage, t } from './i18n.js';
import { Call } from './call.js';
import { defaultSignalingUrl } from './signaling.js';
import { showError, hideBanner } from './banner.js';
import { api, currentUser, currentToken, logout, sessionEvents } from './rest.js';
import { initJoinView, showJoinView, hideJoinView, setJoinBusy, setJoinStatus, validateJoin } from './join-view.js';
import { showCallView, hideCallView } from './call-view.js';
import { showLogin } from './login-view.js';
import { showWorklist } from './worklist-view.js';
import { showBriefings, briefingTitles } from './briefings-view.js';
import { showPatients, showNewPatient, showChart } from './patients-view.js';
import { hideChartRecordings, showRecordingPage, hideRecordingPage } from './recordings-view.js';
import { showSchedule } from './schedule-view.js';
import { showPatientJoin, hidePatientJoin, returnToPatientJoin } from './patient-join-view.js';
import { consultationNames } from './consultation-item.js';
import { hideToast } from './ui.js';

let call = null;
let route = { name: '', params: [] };
const NEXT_KEY = 'cau.next';

window.cau = {
  get state() { return call?.state ?? 'idle'; },
  get pcs() { return { publish: call?.pcs.publish ?? null, subscribe: call?.pcs.subscribe ?? null }; },
  /** Plain objects (serializable from page.evaluate), keyed by participant id. */
  get participants() {
    const out = {};
    for (const p of call?.participants.values() ?? []) {
      const { stream, screenStream, rawStream, ...rest } = p;
      out[p.id] = { ...rest, stream: stream?.id ?? null, screen: screenStream ? screenStream.getTracks().length : 0 };
    }
    return out;
  },
  get self() { return call?.selfId ?? null; },
  get connection() { return call ? structuredClone(call.connection) : null; },
  get call() { return call; },
  /** The current route: {name, params}. */
  get route() { return structuredClone(route); },
  /** The logged-in staff user, or null. */
  get user() { return currentUser(); },
  /** Waiting patients [{id, name}] (care-team members in a call). */
  get lobby() { return structuredClone(call?.lobby ?? []); },
  /** Multi-party state: {kind, role, room_state, active_speaker, hand_raised, sharing,
   *  simulcast, layout}. */
  get room() {
    if (!call) return null;
    return {
      kind: call.kind, role: call.role, room_state: structuredClone(call.roomState),
      active_speaker: call.activeSpeaker, hand_raised: call.handRaised, sharing: !!call.screenStream,
      simulcast: call.simulcast, layout: document.getElementById('stage').dataset.layout ?? null,
    };
  },
  /** Per video tile (camera and screen tiles, main area and strip/grid): participant,
   *  source, where it is shown, and the decoded frames / size of its video. */
  async videoTiles() {
    const pc = call?.pcs.subscribe;
    const out = [];
    for (const tile of document.querySelectorAll('#stage .tile[data-participant]')) {
      const video = tile.querySelector('video');
      const entry = {
        participant: tile.dataset.participant, source: tile.dataset.source ?? 'camera',
        main: !!tile.closest('#main-tiles'), speaking: tile.classList.contains('speaking'),
        framesDecoded: 0, videoWidth: video.videoWidth, videoHeight: video.videoHeight,
        width: tile.getBoundingClientRect().width, height: tile.getBoundingClientRect().height,
      };
      for (const track of video.srcObject?.getVideoTracks() ?? []) {
        const receiver = pc?.getReceivers().find((r) => r.track === track);
        if (!receiver) continue;
        (await receiver.getStats()).forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') entry.framesDecoded += s.framesDecoded ?? 0;
        });
      }
      out.push(entry);
    }
    return out;
  },
};

const STAFF_ROUTES = new Set(['worklist', 'patients', 'patient-new', 'chart', 'schedule', 'call', 'briefing', 'recording']);
const VIEW_IDS = ['login-view', 'worklist-view', 'patients-view', 'patient-new-view', 'chart-view',
  'schedule-view', 'patient-join-view', 'join-view', 'call-view', 'recording-page'];

const nav = document.getElementById('app-nav');
const navUser = document.getElementById('nav-user');
const logoutButton = document.getElementById('logout');

applyTranslations(document);
document.getElementById('lang-switch').addEventListener('click', () => {
  setLanguage(getLanguage() === 'vi' ? 'en' : 'vi');
  renderNav();
});
logoutButton.addEventListener('click', async () => {
  await leaveCall();
  await logout();
  go('#/login', { notice: 'login.loggedout' });
});
sessionEvents.addEventListener('expired', () => {
  if (!STAFF_ROUTES.has(route.name)) return;
  rememberNext();
  go('#/login', { notice: 'login.expired' });
});
sessionEvents.addEventListener('change', renderNav);

// The anonymous join form (#/room).
const params = new URLSearchParams(location.search);
const prefill = { room: params.get('room') ?? '', name: params.get('name') ?? '', kind: params.get('kind') ?? '' };
initJoinView({ ...prefill, onSubmit: startAnonymousCall });

let pendingNotice = null;

/** Navigate; `notice` is a message key for the login page. */
function go(hash, { notice = null } = {}) {
  pendingNotice = notice;
  if (location.hash === hash) onRoute();
  else location.hash = hash;
}

function parseRoute() {
  let hash = location.hash.replace(/^#\/?/, '');
  if (!hash) {
    if (params.has('room') || params.has('autojoin')) hash = 'room';
    else hash = currentUser() ? 'worklist' : 'login';
    history.replaceState(null, '', `${location.pathname}${location.search}#/${hash}`);
  }
  const parts = hash.split('/').filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { return p; }
  });
  const [head, second] = parts;
  switch (head) {
    case 'login': return { name: 'login', params: [] };
    case 'worklist': return { name: 'worklist', params: [] };
    case 'patients':
      if (second === 'new') return { name: 'patient-new', params: [] };
      if (second) return { name: 'chart', params: [second] };
      return { name: 'patients', params: [] };
    case 'schedule': return { name: 'schedule', params: second ? [second] : [] };
    case 'call': return second ? { name: 'call', params: [second] } : { name: 'worklist', params: [] };
    case 'briefing': return second ? { name: 'briefing', params: [second] } : { name: 'worklist', params: [] };
    case 'recordings': return second ? { name: 'recording', params: [second] } : { name: 'patients', params: [] };
    case 'join': return second ? { name: 'join', params: [second] } : { name: 'login', params: [] };
    case 'room': return { name: 'room', params: [] };
    default: return { name: currentUser() ? 'worklist' : 'login', params: [] };
  }
}

function rememberNext() {
  try { sessionStorage.setItem(NEXT_KEY, location.hash); } catch { /* not fatal */ }
}

function takeNext() {
  try {
    const next = sessionStorage.getItem(NEXT_KEY);
    sessionStorage.removeItem(NEXT_KEY);
    if (next && next.startsWith('#/') && !next.startsWith('#/login')) return next;
  } catch { /* not fatal */ }
  return '#/worklist';
}

async function onRoute() {
  const next = parseRoute();
  const notice = pendingNotice;
  pendingNotice = null;
  // A call belongs to its route: navigating away leaves it.
  const sameCall = call && route.name === next.name && route.params[0] === next.params[0]
    && ['call', 'briefing', 'join', 'room'].includes(next.name);
  if (call && !sameCall && ['joining', 'lobby', 'joined'].includes(call.state)) await leaveCall();
  if (STAFF_ROUTES.has(next.name) && !currentUser()) {
    rememberNext();
    route = { name: 'login', params: [] };
    history.replaceState(null, '', '#/login');
  } else if (next.name === 'login' && currentUser()) {
    location.replace(takeNext());
    return;
  } else {
    route = next;
  }
  if (sameCall) return;
  for (const id of VIEW_IDS) document.getElementById(id).hidden = true;
  hideCallView();
  hideChartRecordings();
  hideRecordingPage();
  hidePatientJoin();
  renderNav();
  document.body.dataset.route = route.name;
  const [param] = route.params;
  switch (route.name) {
    case 'login':
      showLogin({ notice, onSuccess: () => { hideBanner(); location.hash = takeNext(); } });
      break;
    case 'worklist': showWorklist(); showBriefings(); break;
    case 'patients': showPatients(); break;
    case 'patient-new': showNewPatient({ go }); break;
    case 'chart': showChart(param); break;
    case 'schedule': showSchedule({ patientId: param, go }); break;
    case 'recording': showRecordingPage(param); break;
    case 'call': startStaffCall(param); break;
    case 'briefing': startBriefingCall(param); break;
    case 'join': showPatientJoin(param, startPatientCall); break;
    case 'room':
      showJoinView();
      if (params.get('autojoin') === '1' && !call && !validateJoin(prefill.room.trim(), prefill.name.trim())) {
        startAnonymousCall({ room: prefill.room.trim(), name: prefill.name.trim(), kind: prefill.kind });
      }
      break;
    default: break;
  }
}

function renderNav() {
  const user = currentUser();
  const staffPage = !!user && route.name !== 'join' && route.name !== 'room';
  nav.hidden = !staffPage || route.name === 'call' || route.name === 'briefing';
  logoutButton.hidden = !staffPage;
  if (user) navUser.textContent = t('nav.user', { name: user.display_name, role: t(`role.${user.role}`) });
  const section = { chart: 'patients', 'patient-new': 'patients', recording: 'patients' }[route.name] ?? route.name;
  for (const a of nav.querySelectorAll('a[data-route]')) {
    if (a.dataset.route === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  // Only clinicians schedule (docs/api.md).
  nav.querySelector('[data-route="schedule"]').hidden = user?.role !== 'clinician';
}

/** Leave the current call, if any, without its view reacting (we are going elsewhere). */
async function leaveCall() {
  const c = call;
  if (!c) return;
  call = null;
  hideCallView();
  if (['joining', 'lobby', 'joined'].includes(c.state)) await c.leave();
}

function newCall() {
  hideBanner();
  hideToast();
  const c = new Call();
  c.addEventListener('error', (e) => { if (c === call) showError(e.detail); });
  c.addEventListener('state', (e) => { if (c === call) document.body.dataset.callState = e.detail.state; });
  call = c;
  return c;
}

// --- #/room: anonymous --------------------------------------------------------------------

async function startAnonymousCall({ room, name, kind }) {
  if (call && ['joining', 'lobby', 'joined'].includes(call.state)) return;
  setJoinBusy(true);
  const c = newCall();
  c.addEventListener('state', (e) => {
    if (c !== call || route.name !== 'room') return;
    const state = e.detail.state;
    if (state === 'joined') {
      hideJoinView();
      showCallView(c, { onError: showError });
    } else if (state === 'left' || state === 'failed') {
      hideCallView();
      showJoinView();
      if (state === 'left') setJoinStatus('call.left');
    }
  });
  try {
    // `kind` only matters to the room's first joiner; sent only when asked for, so that
    // a server without room kinds keeps accepting the join.
    await c.join({ url: defaultSignalingUrl(), room, name, kind: kind === 'briefing' ? 'briefing' : undefined });
  } catch {
    // Already reported through the 'error' event; back to the form.
    setJoinBusy(false);
  }
}

// --- #/call/<id>: staff --------------------------------------------------------------------

function startStaffCall(consultationId) {
  const user = currentUser();
  const c = newCall();
  c.title = () => {
    const name = consultationNames.get(consultationId);
    return name ? t('call.consultation', { name }) : t('call.consultation.plain');
  };
  c.addEventListener('state', (e) => {
    if (c !== call) return;
    const state = e.detail.state;
    if ((state === 'left' || state === 'failed') && route.name === 'call' && route.params[0] === consultationId) {
      hideCallView();
      go('#/worklist');
    }
  });
  showCallView(c, { onError: showError, recordingRole: 'care-team' });
  const name = [...(user.display_name || user.username)].slice(0, 64).join('');
  c.join({ url: defaultSignalingUrl(), room: consultationId, name, token: currentToken() }).catch(() => {});
}

// --- #/briefing/<id>: staff ------------------------------------------------------------------

function startBriefingCall(briefingId) {
  const user = currentUser();
  const c = newCall();
  c.title = () => {
    const title = briefingTitles.get(briefingId);
    return title ? t('call.briefing', { title }) : t('call.briefing.plain');
  };
  c.addEventListener('state', (e) => {
    if (c !== call) return;
    const state = e.detail.state;
    if ((state === 'left' || state === 'failed') && route.name === 'briefing' && route.params[0] === briefingId) {
      hideCallView();
      go('#/worklist');
    }
  });
  showCallView(c, { onError: showError });
  if (!briefingTitles.has(briefingId)) {
    // Opened from a link: fetch the title for the heading (the call does not wait for it).
    api('GET', `/api/briefings/${encodeURIComponent(briefingId)}`).then((b) => {
      if (b?.title) briefingTitles.set(briefingId, b.title);
      if (c === call) document.getElementById('call-room').textContent = c.title();
    }).catch(() => {});
  }
  const name = [...(user.display_name || user.username)].slice(0, 64).join('');
  c.join({ url: defaultSignalingUrl(), room: briefingId, name, token: currentToken(), mediaAfterJoin: true }).catch(() => {});
}

// --- #/join/<secret>: patient ----------------------------------------------------------------

function startPatientCall({ room, name, token }) {
  const c = newCall();
  c.title = () => t('pj.heading');
  let wasJoined = false;
  c.addEventListener('state', (e) => {
    if (c !== call) return;
    const state = e.detail.state;
    if (state === 'joined') {
      wasJoined = true;
      hidePatientJoin();
      showCallView(c, { onError: showError, recordingRole: 'patient' });
    } else if ((state === 'left' || state === 'failed') && wasJoined && route.name === 'join') {
      hideCallView();
      returnToPatientJoin();
    }
  });
  c.join({ url: defaultSignalingUrl(), room, name, token }).catch(() => {});
  return c;
}

window.addEventListener('hashchange', onRoute);
onRoute();
