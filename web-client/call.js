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
//   'room'                []                 kind, our role, room_state or our raised hand changed
//   'active-speaker'      [{id}]             the loudest participant (id, ours, or null)
//   'muted-by-host'       [{kind, by}]       a host turned our microphone / camera / screen off
//   'floor'               [{granted}]        (briefing) we were given the floor, or it was taken back
//   'screen'              []                 our screen share started or stopped
//
// Multi-party rooms (docs/protocol.md, issue 6): a room is a `consult` (everyone publishes)
// or a `briefing` (a host, up to 4 presenters holding the floor, viewers who only receive).
// A server that predates them sends no `kind`/`role`: everything then behaves as before
// (a consult, no moderation, no `sources` on publish).
//
// A patient's join is answered `lobby`: the call waits in state 'lobby' until a care-team
// member admits it (the server then sends `joined`) or denies it (`admission-denied`).

import { SignalingClient, SignalingError } from './signaling.js';

const PC_NAMES = ['publish', 'subscribe'];
// Errors after which the server closes the socket on purpose.
const ENDING_CODES = new Set(['replaced', 'admission-denied', 'token-expired', 'token-revoked', 'removed']);
// Roles that may publish (docs/protocol.md): a briefing viewer needs the floor first.
const PUBLISHING_ROLES = new Set(['host', 'presenter', 'participant']);
const LAYERS = new Set(['low', 'medium', 'high', 'auto']);

/** Camera simulcast for rural 3G/4G links: 1/4, 1/2 and full resolution of a 640×480
 *  camera; the server forwards each subscriber the best layer its downlink allows. */
export const SIMULCAST_ENCODINGS = [
  { rid: 'l', scaleResolutionDownBy: 4, maxBitrate: 100_000 },
  { rid: 'm', scaleResolutionDownBy: 2, maxBitrate: 300_000 },
  { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 900_000 },
];
// A shared screen (X-ray, ultrasound, documents): detail over motion, one encoding.
const SCREEN_MAX_BITRATE = 1_500_000;

export class Call extends EventTarget {
  state = 'idle';
  room = '';
  name = '';
  selfId = null;
  iceServers = [];
  /** id -> {id, name, role, audio_muted, video_muted, hand_raised, tracks, stream,
   *  screenStream} for the others: `stream` holds the microphone and camera tracks,
   *  `screenStream` (or null) the tracks whose source is "screen". */
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
  /** 'consult' | 'briefing' (joined.kind; 'consult' from a server without kinds). */
  kind = 'consult';
  /** Our role (host | presenter | participant | viewer), or null from an older server. */
  role = null;
  /** {locked, last_n, presenters: [ids], active_speaker} */
  roomState = { locked: false, last_n: 0, presenters: [], active_speaker: null };
  activeSpeaker = null;
  handRaised = false;
  /** The server accepts simulcast publish (joined.simulcast). */
  simulcast = false;
  /** Our screen share's stream while sharing, else null. */
  screenStream = null;

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
  // Publish negotiations (first offer, screen share on/off) run one after another.
  #publishChain = Promise.resolve();
  // The video transceiver that carries our screen share (kept inactive between shares).
  #screenTransceiver = null;
  // The server refused `sources` (a server without screen-share sources).
  #noSources = false;
  // Subscribe pc: mid -> msid track id, from the last remote offer.
  #midToTrack = new Map();
  // Last layer asked per "participant/track", so each change is sent once.
  #layers = new Map();
  // Join order of the participants, for lists that keep it.
  #joinOrder = 0;

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
    s.addEventListener('participant-updated', (e) => {
      const info = e.detail.participant;
      if (info && info.id === this.selfId) this.#updateSelf(info);
      else this.#upsertParticipant(info);
    });
    s.addEventListener('room-updated', (e) => this.#setRoomState(e.detail.room_state));
    s.addEventListener('active-speaker', (e) => {
      const id = typeof e.detail.participant === 'string' ? e.detail.participant : null;
      this.#setActiveSpeaker(id);
    });
    s.addEventListener('muted-by-host', (e) => this.#onMutedByHost(e.detail));
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
  async join({ url, room, name, token, kind, mediaAfterJoin = false }) {
    this.room = room;
    this.name = name;
    this.#setState('joining');
    try {
      // A briefing's sites need no camera: with `mediaAfterJoin` only a joiner whose role
      // may publish (the host) asks for camera and microphone, once joined.
      if (!mediaAfterJoin) await this.#acquireMedia();
      await this.#signaling.connect(url);
      const request = { type: 'join', room, name };
      if (token) request.token = token;
      if (kind === 'consult' || kind === 'briefing') request.kind = kind;
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
      this.kind = joined.kind === 'briefing' ? 'briefing' : 'consult';
      this.role = typeof joined.role === 'string' ? joined.role : null;
      // Simulcast in every room kind: a briefing fans one presenter out to many sites on
      // very different links, and a consult's participants are on rural links too. The
      // recorder follows the best layer the publisher actually sends (record.test).
      this.simulcast = joined.simulcast === true;
      this.#setRoomState(joined.room_state, { quiet: true });
      if (!this.mayPublish) this.#releaseMedia();
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
    this.#emit('room');
    if (mediaAfterJoin && this.mayPublish) await this.#acquireMedia();
    if (this.state === 'joined' && this.mayPublish && this.localStream && this.localStream.getTracks().length > 0) {
      this.#negotiatePublish().catch((err) => this.#report(err, 'webrtc'));
    }
  }

  /** True when the server lets us publish: not a briefing viewer without the floor. */
  get mayPublish() {
    return this.role === null || PUBLISHING_ROLES.has(this.role);
  }

  /** True when we may moderate (mute, remove, lock, floor). */
  get isHost() {
    return this.role === 'host';
  }

  /** (Briefing, after being given the floor) turn on the camera and microphone and
   *  publish them. Resolves once the publish is answered. */
  async startPublishing() {
    if (this.state !== 'joined' || !this.mayPublish) return;
    if (!this.localStream || this.localStream.getTracks().length === 0) await this.#acquireMedia();
    if (this.state !== 'joined' || !this.mayPublish) {
      this.#releaseMedia();
      return;
    }
    if (this.localStream.getTracks().length === 0) return;
    await this.#negotiatePublish();
  }

  /** Share a screen or window (getDisplayMedia) as a second video track with source
   *  "screen"; the browser's own "stop sharing" ends it too. */
  async startScreenShare() {
    if (this.screenStream || this.state !== 'joined' || !this.mayPublish) return;
    const stream = await navigator.mediaDevices.getDisplayMedia({
      video: { frameRate: { ideal: 15, max: 30 } }, audio: false,
    });
    const [track] = stream.getVideoTracks();
    if (!track) return;
    if (this.state !== 'joined' || !this.mayPublish) {
      track.stop();
      return;
    }
    // Imaging: keep the resolution sharp, drop frames first.
    if ('contentHint' in track) track.contentHint = 'detail';
    track.addEventListener('ended', () => {
      if (this.screenStream === stream) this.stopScreenShare().catch((err) => this.#report(err, 'webrtc'));
    });
    this.screenStream = stream;
    this.#emit('screen');
    try {
      await this.#negotiatePublish({ screen: track });
    } catch (err) {
      if (this.screenStream === stream) {
        this.screenStream = null;
        track.stop();
        this.#emit('screen');
      }
      throw err;
    }
  }

  /** Stop our screen share: the transceiver goes inactive, the server drops the track. */
  async stopScreenShare() {
    const stream = this.screenStream;
    if (!stream) return;
    this.screenStream = null;
    for (const t of stream.getTracks()) t.stop();
    this.#emit('screen');
    if (this.state !== 'joined' || !this.pcs.publish) return;
    await this.#negotiatePublish({ screen: null });
  }

  /** Send a protocol message as is and resolve with the reply (diagnostics and tests:
   *  e.g. a publish the UI would not offer). */
  request(msg) {
    return this.#signaling.request(msg);
  }

  /** Raise or lower our hand (anyone); the others see `hand_raised`. */
  async raiseHand(raised) {
    await this.#signaling.request({ type: 'raise-hand', raised });
    this.handRaised = raised;
    this.#emit('room');
  }

  /** (Briefing host) give `participant` the floor, or take it back. */
  floor(action, participant) {
    return this.#signaling.request({ type: 'floor', action, participant });
  }

  /** (Host) turn another participant's audio, video or screen off. */
  muteParticipant(participant, kind) {
    return this.#signaling.request({ type: 'mute-participant', participant, kind });
  }

  /** (Host) remove a participant from the room. */
  removeParticipant(participant) {
    return this.#signaling.request({ type: 'remove-participant', participant });
  }

  /** (Host) lock or unlock the room against new joins. */
  lock(locked) {
    return this.#signaling.request({ type: 'lock', locked });
  }

  /** (Host) forward video of the `n` most recent speakers only (0: everyone). */
  setLastN(n) {
    return this.#signaling.request({ type: 'last-n', n });
  }

  /** Ask for a simulcast layer of `participant`'s `track` ('low'|'medium'|'high'|'auto');
   *  sent only when it differs from the last one asked. Errors are logged, not shown. */
  requestLayer(participant, track, layer) {
    if (!LAYERS.has(layer) || this.state !== 'joined') return;
    const key = `${participant}/${track}`;
    if ((this.#layers.get(key) ?? 'auto') === layer) return;
    this.#layers.set(key, layer);
    this.#signaling.request({ type: 'layer', participant, track, layer })
      .catch((err) => console.warn('layer request refused', key, layer, err.code ?? err));
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

  /** Stop and forget our camera and microphone (a viewer needs neither). */
  #releaseMedia() {
    for (const t of this.localStream?.getTracks() ?? []) t.stop();
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

  /** Queue a publish negotiation: the first one creates the publish pc with our camera
   *  and microphone; `screen` (a track, or null to stop) changes the screen share. */
  #negotiatePublish(change = {}) {
    const run = this.#publishChain.then(() => this.#doNegotiatePublish(change));
    this.#publishChain = run.catch(() => {});
    return run;
  }

  async #doNegotiatePublish({ screen } = {}) {
    if (this.state !== 'joined') return;
    let pc = this.pcs.publish;
    const first = !pc;
    if (first) {
      pc = this.#newPeerConnection('publish');
      for (const track of this.localStream?.getTracks() ?? []) {
        const init = { direction: 'sendonly', streams: [this.localStream] };
        if (track.kind === 'video' && this.simulcast) init.sendEncodings = SIMULCAST_ENCODINGS.map((e) => ({ ...e }));
        pc.addTransceiver(track, init);
      }
    }
    if (screen !== undefined) {
      if (screen) {
        if (this.#screenTransceiver && this.#screenTransceiver.currentDirection !== 'stopped') {
          await this.#screenTransceiver.sender.replaceTrack(screen);
          this.#screenTransceiver.direction = 'sendonly';
        } else {
          this.#screenTransceiver = pc.addTransceiver(screen, {
            direction: 'sendonly',
            streams: [this.screenStream],
            sendEncodings: [{ maxBitrate: SCREEN_MAX_BITRATE }],
          });
        }
        const params = this.#screenTransceiver.sender.getParameters();
        params.degradationPreference = 'maintain-resolution';
        await this.#screenTransceiver.sender.setParameters(params).catch(() => {});
      } else if (this.#screenTransceiver) {
        await this.#screenTransceiver.sender.replaceTrack(null);
        this.#screenTransceiver.direction = 'inactive';
      }
    }
    if (!first && screen === undefined) return;
    const reply = await this.#offerAnswer(pc);
    if (!reply) return;
    if (first) {
      await this.#flushRemoteCandidates('publish');
      this.#flushLocalCandidates('publish');
    }
    // joined.simulcast said yes but the answer declined simulcast: Chromium would send
    // only the lowest encoding, without a=ssrc, and refuse its own later offers (the
    // rid without the rid header extension). The camera moves to a plain transceiver.
    if (first && this.simulcast && !/^a=simulcast:/m.test(reply.sdp)) {
      console.warn('publish: the server declined simulcast; publishing one encoding');
      this.simulcast = false;
      if (await this.#replaceCameraTransceiver(pc)) await this.#offerAnswer(pc);
    }
    if (first) {
      // Tell the others our mute state if it changed while we were negotiating.
      if (this.audioMuted) this.#sendMute('audio', true);
      if (this.videoMuted) this.#sendMute('video', true);
    }
  }

  /** One publish offer/answer on `pc`; resolves with the reply (null if the pc went away). */
  async #offerAnswer(pc) {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const request = { type: 'publish', sdp: offer.sdp };
    const screenMid = this.#screenTransceiver?.direction === 'sendonly' ? this.#screenTransceiver.mid : null;
    // Only a server that speaks the multi-party protocol (it sends `role`) knows `sources`.
    if (screenMid !== null && this.role !== null && !this.#noSources) request.sources = { [screenMid]: 'screen' };
    let reply;
    try {
      reply = await this.#signaling.request(request);
    } catch (err) {
      if (!(err instanceof SignalingError && err.code === 'invalid-field' && err.field === 'sources' && request.sources)) throw err;
      this.#noSources = true;
      delete request.sources;
      reply = await this.#signaling.request(request);
    }
    if (pc.signalingState === 'closed' || pc !== this.pcs.publish) return null;
    await pc.setRemoteDescription({ type: 'answer', sdp: reply.sdp });
    return reply;
  }

  /** Stop the camera's (simulcast) transceiver and send the camera on a new plain one;
   *  false when there is no camera. */
  async #replaceCameraTransceiver(pc) {
    const camera = this.localStream?.getVideoTracks()[0];
    const old = pc.getTransceivers().find((t) => t !== this.#screenTransceiver && t.sender.track === camera
      && t.currentDirection !== 'stopped');
    if (!camera || !old) return false;
    old.stop();
    pc.addTransceiver(camera, { direction: 'sendonly', streams: [this.localStream] });
    return true;
  }

  /** Close the publish pc and let go of camera, microphone and screen (the floor was
   *  taken back). A later publish starts a new pc. */
  #stopPublishing() {
    const pc = this.pcs.publish;
    this.pcs.publish = null;
    pc?.close();
    this.connection.publish = { local: 'new', server: 'new' };
    this.#localReady.publish = false;
    this.#localQueue.publish = [];
    this.#remoteQueue.publish = [];
    this.#screenTransceiver = null;
    if (this.screenStream) {
      for (const t of this.screenStream.getTracks()) t.stop();
      this.screenStream = null;
      this.#emit('screen');
    }
    this.#releaseMedia();
    this.#emit('connection', { pc: 'publish' });
  }

  async #answerSubscribe(msg) {
    if (this.state !== 'joined') return;
    let pc = this.pcs.subscribe;
    if (!pc) {
      pc = this.#newPeerConnection('subscribe');
      pc.addEventListener('track', (e) => this.#onRemoteTrack(e));
    }
    this.#midToTrack = msidTracksByMid(msg.sdp);
    await pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    await this.#flushRemoteCandidates('subscribe');
    // A reused m-line may now carry another participant's track of another source.
    for (const p of this.participants.values()) this.#syncStreams(p);
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
    if (!p) return;
    if (p.rawStream !== stream) {
      p.rawStream = stream;
      const changed = () => this.#syncStreams(p);
      stream.addEventListener('addtrack', changed);
      stream.addEventListener('removetrack', changed);
    }
    this.#syncStreams(p);
    if (e.track.kind === 'video') this.#signaling.notify({ type: 'keyframe', participant: id });
  }

  /** The source ("microphone" | "camera" | "screen") of a received track: its m-line's
   *  msid names the server's track id, whose `source` came with track-added or joined. */
  sourceOf(p, track) {
    const info = this.trackInfoOf(p, track);
    if (info && typeof info.source === 'string') return info.source;
    if (track.kind === 'audio') return 'microphone';
    // A server without sources: this client publishes a second video track only to
    // share a screen, so a participant's later video track is taken for one.
    const videos = p.tracks.filter((t) => t.kind === 'video' && t.source === undefined);
    if (info && videos.length > 1 && videos.indexOf(info) > 0) return 'screen';
    return 'camera';
  }

  /** The server's description {id, kind, codec, source, layers} of a received track. */
  trackInfoOf(p, track) {
    const transceiver = this.pcs.subscribe?.getTransceivers().find((t) => t.receiver.track === track);
    const trackId = transceiver ? this.#midToTrack.get(transceiver.mid) : undefined;
    return trackId === undefined ? null : p.tracks.find((t) => t.id === trackId) ?? null;
  }

  // Split what the browser groups per participant (every track of one msid stream) into
  // `stream` (microphone, camera) and `screenStream` (screen): tiles show one video each.
  #syncStreams(p) {
    const raw = p.rawStream?.getTracks() ?? [];
    const screen = raw.filter((t) => t.kind === 'video' && this.sourceOf(p, t) === 'screen');
    const main = raw.filter((t) => !screen.includes(t));
    let changed = false;
    const sync = (stream, wanted) => {
      for (const t of stream.getTracks()) if (!wanted.includes(t)) { stream.removeTrack(t); changed = true; }
      for (const t of wanted) if (!stream.getTrackById(t.id)) { stream.addTrack(t); changed = true; }
    };
    if (!p.stream) { p.stream = new MediaStream(); changed = true; }
    sync(p.stream, main);
    if (screen.length > 0 && !p.screenStream) { p.screenStream = new MediaStream(); changed = true; }
    if (p.screenStream) sync(p.screenStream, screen);
    if (p.screenStream && p.screenStream.getTracks().length === 0) { p.screenStream = null; changed = true; }
    if (changed) {
      this.#emit('participant-stream', { id: p.id, stream: p.stream });
      this.#emit('participants');
    }
  }

  // --- participants -----------------------------------------------------------------

  #upsertParticipant(info, { quiet = false } = {}) {
    if (!info || typeof info.id !== 'string' || info.id === this.selfId) return null;
    const p = this.participants.get(info.id) ?? {
      id: info.id, name: '', role: null, audio_muted: false, video_muted: false, hand_raised: false,
      tracks: [], stream: null, screenStream: null, rawStream: null, joinedAt: this.#joinOrder++,
    };
    if (typeof info.name === 'string' && info.name) p.name = info.name;
    if (typeof info.role === 'string') p.role = info.role;
    if (typeof info.audio_muted === 'boolean') p.audio_muted = info.audio_muted;
    if (typeof info.video_muted === 'boolean') p.video_muted = info.video_muted;
    if (typeof info.hand_raised === 'boolean') p.hand_raised = info.hand_raised;
    if (Array.isArray(info.tracks)) p.tracks = info.tracks.filter((t) => t && typeof t.id === 'string');
    this.participants.set(p.id, p);
    if (!quiet) this.#emit('participants');
    return p;
  }

  // participant-updated about ourselves: our role (the floor) or our hand changed.
  #updateSelf(info) {
    if (typeof info.hand_raised === 'boolean') this.handRaised = info.hand_raised;
    if (typeof info.role === 'string' && info.role !== this.role) {
      const could = this.mayPublish;
      this.role = info.role;
      if (!could && this.mayPublish) this.#emit('floor', { granted: true });
      if (could && !this.mayPublish) {
        this.#stopPublishing();
        this.#emit('floor', { granted: false });
      }
    }
    this.#emit('room');
  }

  #setRoomState(state, { quiet = false } = {}) {
    if (!state || typeof state !== 'object') return;
    this.roomState = {
      locked: state.locked === true,
      last_n: Number.isInteger(state.last_n) ? state.last_n : 0,
      presenters: Array.isArray(state.presenters) ? state.presenters.filter((id) => typeof id === 'string') : [],
      active_speaker: typeof state.active_speaker === 'string' ? state.active_speaker : null,
    };
    if ('active_speaker' in state) this.activeSpeaker = this.roomState.active_speaker;
    if (!quiet) this.#emit('room');
  }

  #setActiveSpeaker(id) {
    if (id === this.activeSpeaker) return;
    this.activeSpeaker = id;
    this.roomState.active_speaker = id;
    this.#emit('active-speaker', { id });
  }

  #onMutedByHost({ kind, by }) {
    if (kind === 'audio') {
      this.audioMuted = true;
      for (const t of this.localStream?.getAudioTracks() ?? []) t.enabled = false;
    } else if (kind === 'video') {
      this.videoMuted = true;
      for (const t of this.localStream?.getVideoTracks() ?? []) t.enabled = false;
    } else if (kind === 'screen') {
      this.stopScreenShare().catch((err) => this.#report(err, 'webrtc'));
    } else {
      return;
    }
    this.#emit('local-media');
    this.#emit('muted-by-host', { kind, by: typeof by === 'string' ? by : null });
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
    const i = p.tracks.findIndex((t) => t.id === track.id);
    if (i >= 0) p.tracks[i] = track;
    else p.tracks.push(track);
    this.#syncStreams(p);
    this.#emit('participants');
  }

  #onTrackRemoved({ participant, track }) {
    const p = this.participants.get(participant);
    if (!p) return;
    const trackId = typeof track === 'object' && track ? track.id : track;
    p.tracks = p.tracks.filter((t) => t.id !== trackId);
    this.#syncStreams(p);
    this.#emit('participants');
  }

  // --- plumbing ---------------------------------------------------------------------

  #teardown(finalState) {
    for (const t of this.screenStream?.getTracks() ?? []) t.stop();
    this.screenStream = null;
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

/** mid -> the track id of its `a=msid:<stream> <track>` in an SDP. */
function msidTracksByMid(sdp) {
  const map = new Map();
  let mid = null;
  let track = null;
  const flush = () => { if (mid !== null && track !== null) map.set(mid, track); };
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      flush();
      mid = null;
      track = null;
    } else if (line.startsWith('a=mid:')) {
      mid = line.slice(6).trim();
    } else if (line.startsWith('a=msid:')) {
      const parts = line.slice(7).trim().split(/\s+/);
      if (parts.length >= 2) track = parts[1];
    }
  }
  flush();
  return map;
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
