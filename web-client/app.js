// Boot: translations, the language switch, URL parameters (?room=&name=&autojoin=1&lang=),
// and the move between the join form and the call view. Also exposes `window.cau`, a
// read-only hook the browser tests use to reach the peer connections and their stats.

import { applyTranslations, getLanguage, setLanguage } from './i18n.js';
import { Call } from './call.js';
import { defaultSignalingUrl } from './signaling.js';
import { showError, hideBanner } from './banner.js';
import { initJoinView, showJoinView, hideJoinView, setJoinBusy, setJoinStatus, validateJoin } from './join-view.js';
import { showCallView, hideCallView } from './call-view.js';

let call = null;

window.cau = {
  get state() { return call?.state ?? 'idle'; },
  get pcs() { return { publish: call?.pcs.publish ?? null, subscribe: call?.pcs.subscribe ?? null }; },
  /** Plain objects (serializable from page.evaluate), keyed by participant id. */
  get participants() {
    const out = {};
    for (const p of call?.participants.values() ?? []) {
      const { stream, ...rest } = p;
      out[p.id] = { ...rest, stream: stream?.id ?? null };
    }
    return out;
  },
  get self() { return call?.selfId ?? null; },
  get connection() { return call ? structuredClone(call.connection) : null; },
  get call() { return call; },
};

applyTranslations(document);
document.getElementById('lang-switch').addEventListener('click', () => {
  setLanguage(getLanguage() === 'vi' ? 'en' : 'vi');
});

const params = new URLSearchParams(location.search);
const prefill = { room: params.get('room') ?? '', name: params.get('name') ?? '' };
initJoinView({ ...prefill, onSubmit: startCall });
showJoinView();
if (params.get('autojoin') === '1' && !validateJoin(prefill.room.trim(), prefill.name.trim())) {
  startCall({ room: prefill.room.trim(), name: prefill.name.trim() });
}

async function startCall({ room, name }) {
  if (call && (call.state === 'joining' || call.state === 'joined')) return;
  hideBanner();
  setJoinBusy(true);
  call = new Call();
  call.addEventListener('error', (e) => showError(e.detail));
  call.addEventListener('state', (e) => onStateChange(e.detail.state));
  try {
    await call.join({ url: defaultSignalingUrl(), room, name });
  } catch {
    // Already reported through the 'error' event; back to the form.
    setJoinBusy(false);
  }
}

function onStateChange(state) {
  document.body.dataset.callState = state;
  if (state === 'joined') {
    hideJoinView();
    showCallView(call);
  } else if (state === 'left' || state === 'failed') {
    hideCallView();
    showJoinView();
    if (state === 'left') setJoinStatus('call.left');
  }
}
