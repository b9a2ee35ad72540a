// One participant's call: the signaling socket and the two peer connections of
// docs/protocol.md — `publish` (we offer, sendonly: our microphone and camera) and
// `subscribe` (the server offers, sendonly from its side: every other participant's
// tracks). Views listen to the events this object dispatches; it never touches the DOM.
//
// Events (CustomEvent, detail in brackets):
//   'state'               [state]            idle → joining → (lobby →) joined → leaving → left,
//                                            or failed
//   'participants'        []                 the participants map changed (join/leave/update)
//   'participant-stream'  [{id, stream}]     a remote participant's MediaStream appeared or changed
//   'connection'          [{pc}]             a pc's local or server-side state changed
//   'local-media'         []                 local stream or mute state changed
//   'lobby'               []                 the waiting list (care team only) changed
//   'error'               [{code, field, message}]  something the user should be told about
//   'recording'           [{reason?, joined?}]  `recording` changed: started (no reason;
//                                            `joined` when it was running as we joined),
//                                            or stopped with the server's reason
//   'consent-request'     [{purpose, by, by_name}]  (patient) a care-team member asks to record
//   'consent-updated'     [{purpose, granted}]      the patient answered or withdrew
//
// A patient's join is answered `lobby`: the call waits in state 'lobby' until a care-team
// member admits it (the server then sends `joined`) or denies it (`admission-denied`).

import { SignalingClient, SignalingError } from './signaling.js';

const PC_NAMES = ['publish', 'subscribe'];
// Errors after which the server closes the socket on purpose.
const ENDING_CODES = new Set(['replaced', 'admission-denied', 'token-expired', 'token-revoked']);

export class Call extends EventTarget {
  state = 'idle';
  room = '';
  name = '';
  selfId = null;
  iceServers = [];
  /** id -> {id, name, audio_muted, video_muted, tracks, stream} for the others. */
  participants = new Map();
  pcs = { publish: null, subscribe: null };
  /** Per pc: the browser's RTCPeerConnection state and the server's `connection-state`. */
  connection = {
    publish: { local: 'new', server: 'new' },
    subscribe: { local: 'new', server: 'new' },
  };
  /** Waiting patients [{id, name}], sent to care-team members only. */
  lobby = [];
  /** The room's running recording {id, started_at, by, by_name}, or null. */
  recording = null;
  localStream = null;
  audioMuted = false;
  videoMuted = false;

  #signaling = new SignalingClient();
  // Candidates we gathered before the other side has our description: held, then sent.
  #localReady = { publish: false, subscribe: false };
  #localQueue = { publish: [], subscribe: [] };
  // Server candidates that arrived before the matching remote description was applied.
  #remoteQueue = { publish: [], subscribe: [] };
  // subscribe-offers are answered strictly one after another.
  #subscribeChain = Promise.resolve();
  // Set when the server ended the call with an error of its own (replaced,
  // admission-denied): the socket close that follows is not "connection lost".
  #endedBy = null;
  // While in the lobby: settles the wait for admission.
  #admission = null;

  constructor() {
    super();
    const s = this.#signaling;
    s.addEventListener('subscribe-offer', (e) => {
      this.#subscribeChain = this.#subscribeChain
        .then(() => this.#answerSubscribe(e.detail))
        .catch((err) => this.#report(err, 'webrtc'));
    });
    s.addEventListener('trickle', (e) => this.#onRemoteCandidate(e.detail));
    s.addEventListener('participant-joined', (e) => this.#upsertParticipant(e.detail.participant));
    s.addEventListener('participant-updated', (e) => this.#upsertParticipant(e.detail.participant));
    s.addEventListener('participant-left', (e) => this.#removeParticipant(e.detail.participant));
    s.addEventListener('track-added', (e) => this.#onTrackAdded(e.detail));
    s.addEventListener('track-removed', (e) => this.#onTrackRemoved(e.detail));
    s.addEventListener('connection-state', (e) => {
      const { pc, state } = e.detail;
      if (!this.connection[pc]) return;
      this.connection[pc].server = state;
      this.#emit('connection', { pc });
    });
    s.addEventListener('lobby-updated', (e) => this.#setLobby(e.detail.waiting));
    s.addEventListener('joined', (e) => this.#admission?.resolve(e.detail));
    s.addEventListener('recording-started', (e) => this.#setRecording(e.detail));
    s.addEventListener('recording-stopped', (e) => {
      const { recording, reason } = e.detail;
      if (this.recording && typeof recording === 'string' && recording !== this.recording.id) return;
      this.recording = null;
      this.#emit('recording', { reason: typeof reason === 'string' ? reason : 'failed' });
    });
    s.addEventListener('consent-request', (e) => {
      const { purpose, by, by_name: byName } = e.detail;
      this.#emit('consent-request', { purpose: purpose ?? 'recording', by, by_name: typeof byName === 'string' ? byName : '' });
    });
    s.addEventListener('consent-updated', (e) => {
      this.#emit('consent-updated', { purpose: e.detail.purpose ?? 'recording', granted: e.detail.granted === true });
    });
    s.addEventListener('error', (e) => {
      const { code, message, field } = e.detail;
      if (ENDING_CODES.has(code)) this.#endedBy = code;
      if (this.#admission) {
        this.#admission.reject(new SignalingError(code, message, field));
        return;
      }
      this.#emit('error', { code, message, field });
    });
    s.addEventListener('close', () => {
      if (this.#admission) {
        this.#admission.reject(new SignalingError('socket-closed', 'closed while waiting'));
        return;
      }
      if (this.state === 'leaving' || this.state === 'left') return;
      if (this.state === 'joining' || this.state === 'joined') {
        if (!this.#endedBy) this.#emit('error', { code: 'socket-closed' });
        this.#teardown('failed');
      }
    });
  }

  /** Connect, join `room` as `name` (with `token` when given: a staff or patient
   *  token, docs/api.md), wait in the lobby if the server says so, start publishing.
   *  Resolves once joined (media may still be connecting); rejects (and tears down) if
   *  the join itself fails or admission is denied. */
  async join({ url, room, name, token }) {
    this.room = room;
    this.name = name;
    this.#setState('joining');
    try {
      await this.#acquireMedia();
      await this.#signaling.connect(url);
      const request = { type: 'join', room, name };
      if (token) request.token = token;
      let joined = await this.#signaling.request(request);
      if (joined.type === 'lobby') {
        const admitted = new Promise((resolve, reject) => { this.#admission = { resolve, reject }; });
        this.#setState('lobby');
        try {
          joined = await admitted;
        } finally {
          this.#admission = null;
        }
      }
      this.selfId = joined.participant;
      this.room = joined.room ?? room;
      this.iceServers = Array.isArray(joined.ice_servers) ? joined.ice_servers : [];
      for (const p of joined.participants ?? []) this.#upsertParticipant(p, { quiet: true });
      if (Array.isArray(joined.lobby)) this.#setLobby(joined.lobby);
      this.recording = null;
      this.#setState('joined');
      if (joined.recording && typeof joined.recording === 'object') {
        this.#setRecording({ ...joined.recording, recording: joined.recording.id }, { joined: true });
      }
      this.#emit('participants');
    } catch (err) {
      if (this.state === 'left') throw err; // the user left the lobby
      this.#report(err, 'socket-failed');
      this.#teardown('failed');
      throw err;
    }
    if (this.localStream && this.localStream.getTracks().length > 0) {
      this.#publish().catch((err) => this.#report(err, 'webrtc'));
    }
  }

  async setMicMuted(muted) {
    this.audioMuted = muted;
    for (const t of this.localStream?.getAudioTracks() ?? []) t.enabled = !muted;
    this.#emit('local-media');
    await this.#sendMute('audio', muted);
  }

  async setCameraOff(off) {
    this.videoMuted = off;
    for (const t of this.localStream?.getVideoTracks() ?? []) t.enabled = !off;
    this.#emit('local-media');
    await this.#sendMute('video', off);
  }

  /** Let a waiting patient in (care team only); resolves on `ok`. */
  async admit(participant) {
    const reply = await this.#signaling.request({ type: 'admit', participant });
    this.#dropFromLobby(participant);
    return reply;
  }

  /** Refuse a waiting patient (care team only); resolves on `ok`. */
  async deny(participant) {
    const reply = await this.#signaling.request({ type: 'deny', participant });
    this.#dropFromLobby(participant);
    return reply;
  }

  /** Start or stop recording the room (care team only): `action` 'start' | 'stop';
   *  resolves on `ok` (recording-started / -stopped follow), rejects with the server's
   *  error (consent-required: the patient has been asked). */
  record(action) {
    return this.#signaling.request({ type: 'record', action });
  }

  /** The patient's answer to a consent request, or a withdrawal while recording. */
  sendConsent(granted) {
    return this.#signaling.request({ type: 'consent', purpose: 'recording', granted });
  }

  #setRecording({ recording, started_at: startedAt, by, by_name: byName }, { joined = false } = {}) {
    if (typeof recording !== 'string') return;
    this.recording = {
      id: recording,
      started_at: typeof startedAt === 'string' ? startedAt : null,
      by: typeof by === 'string' ? by : null,
      by_name: typeof byName === 'string' ? byName : '',
    };
    this.#emit('recording', joined ? { joined: true } : {});
  }

  // The server's lobby-updated follows; this only spares the user a second click.
  #dropFromLobby(id) {
    const before = this.lobby.length;
    this.lobby = this.lobby.filter((w) => w.id !== id);
    if (this.lobby.length !== before) this.#emit('lobby');
  }

  /** Leave politely (`leave` → `left`), then close everything. */
  async leave() {
    if (this.state === 'lobby') {
      this.#admission?.reject(new SignalingError('left', 'left the lobby'));
      this.#teardown('left');
      return;
    }
    if (this.state !== 'joined' && this.state !== 'joining') {
      this.#teardown('left');
      return;
    }
    this.#setState('leaving');
    try {
      await withTimeout(this.#signaling.request({ type: 'leave' }), 3000);
    } catch (err) {
      console.warn('leave: no `left` from server', err);
    }
    this.#teardown('left');
  }

  // --- media ------------------------------------------------------------------------

  async #acquireMedia() {
    // Ask for both; a patient's phone may lack a working camera, so fall back to the
    // microphone alone, and finally to receiving only (with a message saying why).
    const attempts = [
      { audio: true, video: { width: { ideal: 640 }, height: { ideal: 480 } } },
      { audio: true, video: false },
    ];
    let lastErr;
    for (const constraints of attempts) {
      try {
        this.localStream = await navigator.mediaDevices.getUserMedia(constraints);
        this.#emit('local-media');
        return;
      } catch (err) {
        lastErr = err;
        if (err.name === 'NotAllowedError' || err.name === 'SecurityError') break;
      }
    }
    console.warn('getUserMedia failed; joining receive-only', lastErr);
    const code = lastErr?.name === 'NotFoundError' ? 'media-missing' : 'media-denied';
    this.#emit('error', { code, message: String(lastErr) });
    this.localStream = new MediaStream();
    this.#emit('local-media');
  }

  async #sendMute(kind, muted) {
    if (this.state !== 'joined') return;
    try {
      await this.#signaling.request({ type: 'mute', kind, muted });
    } catch (err) {
      this.#report(err, 'internal');
    }
  }

  // --- peer connections -------------------------------------------------------------

  #newPeerConnection(name) {
    const pc = new RTCPeerConnection({
      iceServers: this.iceServers,
      // The server is our only ICE peer and uses one 5-tuple for everything: our offer
      // (publish) is max-bundle. For subscribe the server's offer decides; 'balanced'
      // still accepts an offer whose m-lines are all rejected (port 0, hence no BUNDLE
      // group), which max-bundle refuses — leaving the offer unanswered and blocking
      // every later subscribe-offer.
      bundlePolicy: name === 'publish' ? 'max-bundle' : 'balanced',
      rtcpMuxPolicy: 'require',
    });
    this.pcs[name] = pc;
    pc.addEventListener('icecandidate', (e) => {
      // Chrome may signal the end of a generation with an empty candidate string;
      // only the null candidate means end-of-candidates in the protocol.
      if (e.candidate && !e.candidate.candidate) return;
      this.#sendLocalCandidate(name, e.candidate ? e.candidate.toJSON() : null);
    });
    pc.addEventListener('connectionstatechange', () => {
      this.connection[name].local = pc.connectionState;
      this.#emit('connection', { pc: name });
    });
    return pc;
  }

  async #publish() {
    const pc = this.#newPeerConnection('publish');
    for (const track of this.localStream.getTracks()) {
      pc.addTransceiver(track, { direction: 'sendonly', streams: [this.localStream] });
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const reply = await this.#signaling.request({ type: 'publish', sdp: offer.sdp });
    if (pc.signalingState === 'closed') return;
    await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    await this.#flushRemoteCandidates('publish');
    this.#flushLocalCandidates('publish');
    // Tell the others our mute state if it changed while we were negotiating.
    if (this.audioMuted) this.#sendMute('audio', true);
    if (this.videoMuted) this.#sendMute('video', true);
  }

  async #answerSubscribe(msg) {
    if (this.state !== 'joined') return;
    let pc = this.pcs.subscribe;
    if (!pc) {
      pc = this.#newPeerConnection('subscribe');
      pc.addEventListener('track', (e) => this.#onRemoteTrack(e));
    }
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    await this.#flushRemoteCandidates('subscribe');
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const ok = this.#signaling.request({ type: 'subscribe-answer', sdp: answer.sdp, version: msg.version });
    // The answer is on the wire before any candidate gathered for it.
    this.#flushLocalCandidates('subscribe');
    await ok;
  }

  #sendLocalCandidate(pc, candidate) {
    if (!this.#localReady[pc]) {
      this.#localQueue[pc].push(candidate);
      return;
    }
    this.#signaling.notify({ type: 'trickle', pc, candidate });
  }

  #flushLocalCandidates(pc) {
    if (this.#localReady[pc]) return;
    this.#localReady[pc] = true;
    for (const candidate of this.#localQueue[pc].splice(0)) {
      this.#signaling.notify({ type: 'trickle', pc, candidate });
    }
  }

  #onRemoteCandidate({ pc: name, candidate }) {
    const pc = this.pcs[name];
    if (!PC_NAMES.includes(name)) return;
    if (!pc || !pc.remoteDescription) {
      this.#remoteQueue[name].push(candidate);
      return;
    }
    addCandidate(pc, candidate);
  }

  async #flushRemoteCandidates(name) {
    const pc = this.pcs[name];
    for (const candidate of this.#remoteQueue[name].splice(0)) await addCandidate(pc, candidate);
  }

  #onRemoteTrack(e) {
    const stream = e.streams[0];
    if (!stream) {
      console.warn('subscribe: track without a stream (no a=msid?)', e.track.kind, e.transceiver?.mid);
      return;
    }
    const id = stream.id;
    let p = this.participants.get(id);
    if (!p) {
      // The offer named a participant we have not heard of yet; participant-joined
      // will fill in the name.
      p = this.#upsertParticipant({ id, name: '' });
    }
    if (p.stream !== stream) {
      p.stream = stream;
      const changed = () => this.#emit('participant-stream', { id, stream });
      stream.addEventListener('addtrack', changed);
      stream.addEventListener('removetrack', changed);
    }
    this.#emit('participant-stream', { id, stream });
    if (e.track.kind === 'video') this.#signaling.notify({ type: 'keyframe', participant: id });
  }

  // --- participants -----------------------------------------------------------------

  #upsertParticipant(info, { quiet = false } = {}) {
    if (!info || typeof info.id !== 'string' || info.id === this.selfId) return null;
    const p = this.participants.get(info.id) ?? {
      id: info.id, name: '', audio_muted: false, video_muted: false, tracks: [], stream: null,
    };
    if (typeof info.name === 'string' && info.name) p.name = info.name;
    if (typeof info.audio_muted === 'boolean') p.audio_muted = info.audio_muted;
    if (typeof info.video_muted === 'boolean') p.video_muted = info.video_muted;
    if (Array.isArray(info.tracks)) p.tracks = info.tracks.slice();
    this.participants.set(p.id, p);
    if (!quiet) this.#emit('participants');
    return p;
  }

  #setLobby(waiting) {
    if (!Array.isArray(waiting)) return;
    this.lobby = waiting
      .filter((w) => w && typeof w.id === 'string')
      .map((w) => ({ id: w.id, name: typeof w.name === 'string' ? w.name : '' }));
    this.#emit('lobby');
  }

  #removeParticipant(id) {
    if (this.participants.delete(id)) this.#emit('participants');
  }

  #onTrackAdded({ participant, track }) {
    const p = this.participants.get(participant) ?? this.#upsertParticipant({ id: participant });
    if (!p || !track) return;
    if (!p.tracks.some((t) => t.id === track.id)) p.tracks.push(track);
    this.#emit('participants');
  }

  #onTrackRemoved({ participant, track }) {
    const p = this.participants.get(participant);
    if (!p) return;
    const trackId = typeof track === 'object' && track ? track.id : track;
    p.tracks = p.tracks.filter((t) => t.id !== trackId);
    this.#emit('participants');
  }

  // --- plumbing ---------------------------------------------------------------------

  #teardown(finalState) {
    for (const name of PC_NAMES) {
      this.pcs[name]?.close();
      if (this.pcs[name]) this.connection[name].local = 'closed';
    }
    for (const t of this.localStream?.getTracks() ?? []) t.stop();
    this.#signaling.close();
    this.#setState(finalState);
  }

  #setState(state) {
    this.state = state;
    this.#emit('state', { state });
  }

  #report(err, fallbackCode) {
    if (err instanceof SignalingError) {
      this.#emit('error', { code: err.code, field: err.field, message: err.message });
    } else {
      console.error(err);
      this.#emit('error', { code: fallbackCode, message: String(err) });
    }
  }

  #emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

async function addCandidate(pc, candidate) {
  try {
    // null (end-of-candidates) → addIceCandidate() with no argument.
    if (candidate) await pc.addIceCandidate(candidate);
    else await pc.addIceCandidate();
  } catch (err) {
    console.warn('addIceCandidate failed', candidate, err);
  }
}

function withTimeout(promise, ms) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms)),
  ]);
}
