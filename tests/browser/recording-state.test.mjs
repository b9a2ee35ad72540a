// Unit tests (node only, no browser) of web-client/recording-state.js: the care-team
// Record control's state machine and the chart's recordings helpers.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  REFRESH_LATER_MS, REFRESH_SOON_MS, composing, formatDuration, groupRecordings, initialRecordControl,
  needsRefresh, playable, recordControl, refreshDelay, stopReason,
} from '../../web-client/recording-state.js';

function run(...events) {
  return events.reduce((s, e) => recordControl(s, e), initialRecordControl);
}

describe('the Record control', () => {
  test('press → start sent; started → recording; press → stop sent; stopped → idle with the reason', () => {
    let s = recordControl(initialRecordControl, { type: 'press' });
    assert.deepEqual(s, { phase: 'starting', note: null, send: 'start' });
    s = recordControl(s, { type: 'started' });
    assert.deepEqual(s, { phase: 'recording', note: null, send: null });
    s = recordControl(s, { type: 'press' });
    assert.deepEqual(s, { phase: 'stopping', note: null, send: 'stop' });
    s = recordControl(s, { type: 'stopped', reason: 'stopped' });
    assert.deepEqual(s, { phase: 'idle', note: { key: 'rec.stopped.stopped' }, send: null });
  });

  test('consent-required waits for the patient; their yes sends start again', () => {
    const waiting = run({ type: 'press' }, { type: 'start-failed', code: 'consent-required' });
    assert.deepEqual(waiting, { phase: 'awaiting-consent', note: { key: 'rec.note.asked' }, send: null });
    assert.equal(recordControl(waiting, { type: 'press' }).send, null, 'no second request while waiting');
    const yes = recordControl(waiting, { type: 'consent', granted: true });
    assert.deepEqual(yes, { phase: 'starting', note: { key: 'rec.note.granted' }, send: 'start' });
    assert.equal(recordControl(yes, { type: 'started' }).phase, 'recording');
  });

  test('a refusal or no answer returns to idle and says why', () => {
    const waiting = run({ type: 'press' }, { type: 'start-failed', code: 'consent-required' });
    assert.deepEqual(recordControl(waiting, { type: 'consent', granted: false }),
      { phase: 'idle', note: { key: 'rec.note.refused' }, send: null });
    assert.deepEqual(recordControl(waiting, { type: 'consent-timeout' }),
      { phase: 'idle', note: { key: 'rec.note.noanswer' }, send: null });
    // A timeout that fires after the answer changes nothing.
    const recording = run({ type: 'press' }, { type: 'started' });
    assert.deepEqual(recordControl(recording, { type: 'consent-timeout' }), recording);
  });

  test('other refusals are shown as errors; a failed stop keeps recording', () => {
    assert.deepEqual(run({ type: 'press' }, { type: 'start-failed', code: 'disk-low' }),
      { phase: 'idle', note: { error: 'disk-low' }, send: null });
    assert.deepEqual(run({ type: 'press' }, { type: 'started' }, { type: 'press' }, { type: 'stop-failed', code: 'bad-state' }),
      { phase: 'recording', note: { error: 'bad-state' }, send: null });
  });

  test('someone else starting or stopping is followed; stop reasons are known or "failed"', () => {
    assert.equal(run({ type: 'started' }).phase, 'recording');
    assert.deepEqual(run({ type: 'started' }, { type: 'stopped', reason: 'consent-withdrawn' }).note,
      { key: 'rec.stopped.consent-withdrawn' });
    for (const r of ['stopped', 'consent-withdrawn', 'disk-low', 'failed', 'ended']) assert.equal(stopReason(r), r);
    assert.equal(stopReason('exploded'), 'failed');
    assert.equal(stopReason(undefined), 'failed');
  });
});

describe('recordings helpers', () => {
  test('formatDuration', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(8400), '0:08');
    assert.equal(formatDuration(65000), '1:05');
    assert.equal(formatDuration(3723000), '1:02:03');
    assert.equal(formatDuration(null), '');
    assert.equal(formatDuration(-1), '');
    assert.equal(formatDuration(Number.NaN), '');
  });

  test('playable, composing, needsRefresh', () => {
    const done = { status: 'complete', sha256: 'ab', compose_progress: null };
    assert.equal(playable(done), true);
    assert.equal(playable({ ...done, status: 'interrupted' }), true);
    assert.equal(playable({ ...done, sha256: null }), false);
    assert.equal(playable({ ...done, status: 'recording' }), false);
    assert.equal(playable({ ...done, status: 'failed' }), false);
    assert.equal(composing({ compose_progress: 40 }), true);
    assert.equal(composing({ compose_progress: 100 }), false);
    assert.equal(composing({ compose_progress: null }), false);
    assert.equal(needsRefresh([done]), false);
    assert.equal(needsRefresh([done, { status: 'recording', compose_progress: null }]), true);
    assert.equal(needsRefresh([done, { status: 'recording', compose_progress: 0 }]), true);
  });

  test('refreshDelay: soon while composing or about to, later while recording, never when settled', () => {
    const part = (status) => ({ kind: 'participant', status, compose_progress: null });
    const composed = (status, progress = null) => ({ kind: 'composed', status, compose_progress: progress });
    assert.equal(refreshDelay([composed('recording'), part('recording'), part('recording')]), REFRESH_LATER_MS);
    assert.equal(refreshDelay([composed('recording'), part('complete'), part('complete')]), REFRESH_SOON_MS, 'stopped, composing next');
    assert.equal(refreshDelay([composed('recording', 40), part('complete')]), REFRESH_SOON_MS);
    assert.equal(refreshDelay([composed('complete'), part('complete'), part('interrupted')]), null);
    assert.equal(refreshDelay([composed('failed'), part('complete')]), null);
    assert.equal(refreshDelay([]), null);
  });

  test('groupRecordings: newest recording first, the composed file first in each', () => {
    const files = [
      { id: 'a1', recording: 'A', kind: 'participant', started_at: '2026-11-22T08:00:02Z' },
      { id: 'b0', recording: 'B', kind: 'composed', started_at: '2026-11-22T09:00:00Z' },
      { id: 'a0', recording: 'A', kind: 'composed', started_at: '2026-11-22T08:00:00Z' },
      { id: 'a2', recording: 'A', kind: 'participant', started_at: '2026-11-22T08:00:01Z' },
    ];
    const groups = groupRecordings(files);
    assert.deepEqual(groups.map((g) => g.recording), ['B', 'A']);
    assert.deepEqual(groups[1].files.map((f) => f.id), ['a0', 'a2', 'a1']);
    assert.equal(groups[1].started_at, '2026-11-22T08:00:00Z');
  });
});
