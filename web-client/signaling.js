// WebSocket client for the Cầu signaling protocol (docs/protocol.md, v1).
//
// request(msg) gives the message an `id` and returns a promise for the server's reply
// (the message whose `ref` echoes that id); an `error` with that `ref` rejects it with
// a SignalingError. Messages that answer nothing (trickle, participant-*, subscribe-offer,
// connection-state, errors without a pending ref) are dispatched as events named after
// their `type`, with the message in `event.detail`. Reconnection is not attempted.

export class SignalingError extends Error {
  constructor(code, message, field) {
    super(message || code);
    this.name = 'SignalingError';
    this.code = code;
    this.field = field;
  }
}

// Replies the server sends to a request; any of them settles the pending promise.
// `lobby` answers a patient's `join`: the `joined` that follows admission has no `ref`.
const REPLY_TYPES = new Set(['joined', 'lobby', 'publish-answer', 'ok', 'left', 'pong']);

export class SignalingClient extends EventTarget {
  #ws = null;
  #nextId = 1;
  #pending = new Map(); // id -> {resolve, reject, type}

  /** Open the socket; resolves once it is open, rejects if it cannot be opened. */
  connect(url) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      this.#ws = ws;
      let opened = false;
      ws.addEventListener('open', () => { opened = true; resolve(); });
      ws.addEventListener('message', (e) => this.#onMessage(e.data));
      ws.addEventListener('close', (e) => {
        const err = new SignalingError(opened ? 'socket-closed' : 'socket-failed',
          `WebSocket closed (${e.code}${e.reason ? ' ' + e.reason : ''})`);
        for (const p of this.#pending.values()) p.reject(err);
        this.#pending.clear();
        if (!opened) reject(err);
        this.dispatchEvent(new CustomEvent('close', { detail: { code: e.code, reason: e.reason } }));
      });
    });
  }

  get open() {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Send a message that expects a reply; resolves with the reply message. */
  request(msg) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (!this.open) {
        reject(new SignalingError('socket-closed', 'not connected'));
        return;
      }
      this.#pending.set(id, { resolve, reject, type: msg.type });
      this.#ws.send(JSON.stringify({ ...msg, id }));
    });
  }

  /** Send a message that has no reply (trickle, keyframe). Errors it causes arrive
   *  as 'error' events. Silently dropped when the socket is not open. */
  notify(msg) {
    if (this.open) this.#ws.send(JSON.stringify(msg));
  }

  close() {
    this.#ws?.close(1000);
  }

  #onMessage(data) {
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      console.warn('signaling: unparsable message from server', data);
      return;
    }
    if (typeof msg !== 'object' || msg === null || typeof msg.type !== 'string') {
      console.warn('signaling: message without type', msg);
      return;
    }
    const pending = msg.ref !== undefined ? this.#pending.get(msg.ref) : undefined;
    if (pending && (msg.type === 'error' || REPLY_TYPES.has(msg.type))) {
      this.#pending.delete(msg.ref);
      if (msg.type === 'error') pending.reject(new SignalingError(msg.code, msg.message, msg.field));
      else pending.resolve(msg);
      return;
    }
    this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
  }
}

/** The WebSocket URL of the server that served this page. */
export function defaultSignalingUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}
