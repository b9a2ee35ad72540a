// Pure pieces of the recording UI (no DOM, testable under node): the care-team Record
// control's state machine, and helpers for the chart's recordings list. The protocol is
// docs/protocol.md "Recording"; the list and its fields docs/api.md "Recordings".

/** How long a Record press waits for the patient's answer before the button is offered again. */
export const CONSENT_WAIT_MS = 60000;

/** The control before anything happened. `note` is a message key (+ params) shown under it. */
export const initialRecordControl = Object.freeze({ phase: 'idle', note: null, send: null });

/**
 * The Record / Stop control of a care-team member. `state` is {phase, note, send}:
 *   phase: 'idle' | 'starting' | 'awaiting-consent' | 'recording' | 'stopping'
 *   note:  null | {key, params}   why the control is as it is (shown and announced)
 *   send:  null | 'start' | 'stop' the `record` action the caller must send now
 * Events: {type: 'press'} | {type: 'start-failed', code} | {type: 'stop-failed', code}
 *   | {type: 'started', recording} | {type: 'stopped', reason}
 *   | {type: 'consent', granted} | {type: 'consent-timeout'}.
 */
export function recordControl(state, event) {
  const s = { ...state, send: null };
  switch (event.type) {
    case 'press':
      if (s.phase === 'idle') return { phase: 'starting', note: null, send: 'start' };
      if (s.phase === 'recording') return { phase: 'stopping', note: null, send: 'stop' };
      return s; // starting, stopping, awaiting-consent: the button is not offered
    case 'start-failed':
      if (s.phase !== 'starting') return s;
      if (event.code === 'consent-required') {
        return { phase: 'awaiting-consent', note: { key: 'rec.note.asked' }, send: null };
      }
      return { phase: 'idle', note: { error: event.code }, send: null };
    case 'stop-failed':
      if (s.phase !== 'stopping') return s;
      return { phase: 'recording', note: { error: event.code }, send: null };
    case 'started':
      return { phase: 'recording', note: null, send: null };
    case 'stopped':
      return { phase: 'idle', note: { key: `rec.stopped.${stopReason(event.reason)}` }, send: null };
    case 'consent':
      if (s.phase === 'awaiting-consent') {
        return event.granted
          ? { phase: 'starting', note: { key: 'rec.note.granted' }, send: 'start' }
          : { phase: 'idle', note: { key: 'rec.note.refused' }, send: null };
      }
      if (!event.granted && s.phase === 'idle') return { ...s, note: { key: 'rec.note.refused' } };
      return s;
    case 'consent-timeout':
      if (s.phase !== 'awaiting-consent') return s;
      return { phase: 'idle', note: { key: 'rec.note.noanswer' }, send: null };
    default:
      return s;
  }
}

const STOP_REASONS = new Set(['stopped', 'consent-withdrawn', 'disk-low', 'failed', 'ended']);

/** A `recording-stopped` reason we have words for (anything else reads as 'failed'). */
export function stopReason(reason) {
  return STOP_REASONS.has(reason) ? reason : 'failed';
}

/** "m:ss" (or "h:mm:ss") of a duration in milliseconds; '' when unknown. */
export function formatDuration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '';
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** The composed file is still being made (progress 0–99, or recording with a progress). */
export function composing(r) {
  return typeof r.compose_progress === 'number' && r.compose_progress < 100;
}

/** A file the server can play: closed (its SHA-256 is known) and complete or interrupted. */
export function playable(r) {
  return (r.status === 'complete' || r.status === 'interrupted') && typeof r.sha256 === 'string' && r.sha256 !== '';
}

/** Whether the list should be fetched again soon: something is still being written or composed. */
export function needsRefresh(recordings) {
  return recordings.some((r) => r.status === 'recording' || composing(r));
}

/** Poll intervals of the chart's list (every fetch is an audited read: poll only while it
 *  matters). */
export const REFRESH_SOON_MS = 3000;
export const REFRESH_LATER_MS = 15000;

/**
 * When to fetch a consultation's list again: soon while a composed file is being made or
 * about to be (its recording stopped: no participant file still being written), later
 * while a recording is running, never (null) once everything is settled.
 */
export function refreshDelay(recordings) {
  const writing = recordings.some((r) => r.kind !== 'composed' && r.status === 'recording');
  if (recordings.some(composing)) return REFRESH_SOON_MS;
  if (recordings.some((r) => r.kind === 'composed' && r.status === 'recording')) {
    return writing ? REFRESH_LATER_MS : REFRESH_SOON_MS;
  }
  return writing ? REFRESH_LATER_MS : null;
}

/**
 * The files of a consultation grouped by recording (the session the WebSocket events
 * name), newest recording first; in each, the composed file first, then the participants
 * in start order.
 */
export function groupRecordings(recordings) {
  const groups = new Map();
  for (const r of recordings) {
    const key = r.recording ?? r.id;
    if (!groups.has(key)) groups.set(key, { recording: key, started_at: r.started_at, files: [] });
    const g = groups.get(key);
    g.files.push(r);
    if (String(r.started_at) < String(g.started_at)) g.started_at = r.started_at;
  }
  const order = (r) => (r.kind === 'composed' ? 0 : 1);
  for (const g of groups.values()) {
    g.files.sort((a, b) => order(a) - order(b) || String(a.started_at).localeCompare(String(b.started_at)));
  }
  return [...groups.values()].sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)));
}
