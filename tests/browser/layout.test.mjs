// Unit tests (node only, no browser) of web-client/layout.js: which tiles are large in
// each layout, the simulcast layer each tile asks for, the people list's order, the grid.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MAIN_BRIEFING, gridColumns, mainAndStrip, peopleOrder, tileLayers } from '../../web-client/layout.js';

const cam = (id, joinedAt, role = 'participant') => ({ key: id, id, screen: false, role, order: 0, joinedAt });
const screen = (id, order, joinedAt = 0) => ({ key: `${id}:screen`, id, screen: true, role: 'participant', order, joinedAt });
const keys = (entries) => entries.map((e) => e.key);

describe('mainAndStrip', () => {
  const a = cam('a', 0, 'host');
  const b = cam('b', 1);
  const c = cam('c', 2);

  test('consult grid: everyone in the grid, in join order; nothing large', () => {
    const r = mainAndStrip([c, a, b], { kind: 'consult', userLayout: 'grid', activeSpeaker: 'b' });
    assert.deepEqual(r, { mode: 'grid', main: [], strip: [a, b, c] });
  });

  test('consult speaker layout: the active speaker large; else the last remote speaker; else the first', () => {
    let r = mainAndStrip([a, b, c], { kind: 'consult', userLayout: 'speaker', activeSpeaker: 'c' });
    assert.equal(r.mode, 'speaker');
    assert.deepEqual(keys(r.main), ['c']);
    assert.deepEqual(keys(r.strip), ['a', 'b']);
    // We speak ourselves (no tile of ours): the last remote speaker stays large.
    r = mainAndStrip([a, b, c], { kind: 'consult', userLayout: 'speaker', activeSpeaker: 'me', lastRemoteSpeaker: 'b' });
    assert.deepEqual(keys(r.main), ['b']);
    r = mainAndStrip([a, b, c], { kind: 'consult', userLayout: 'speaker', activeSpeaker: null, lastRemoteSpeaker: null });
    assert.deepEqual(keys(r.main), ['a']);
  });

  test('a shared screen is pinned large in a consult, the newest of several, whatever the layout', () => {
    const s1 = screen('b', 1);
    const s2 = screen('c', 2);
    const r = mainAndStrip([a, b, c, s1, s2], { kind: 'consult', userLayout: 'grid', activeSpeaker: 'a' });
    assert.equal(r.mode, 'speaker');
    assert.deepEqual(keys(r.main), ['c:screen']);
    assert.deepEqual(keys(r.strip), ['b:screen', 'a', 'b', 'c']);
  });

  test('briefing: the newest screen, then the host and the presenters in room order, at most 4 large', () => {
    const host = cam('h', 0, 'host');
    const p1 = cam('p1', 3, 'presenter');
    const p2 = cam('p2', 1, 'presenter');
    const p3 = cam('p3', 2, 'presenter');
    const sc = screen('p1', 5);
    let r = mainAndStrip([p1, p2, host], { kind: 'briefing', presenters: ['h', 'p1', 'p2'] });
    assert.equal(r.mode, 'briefing');
    assert.deepEqual(keys(r.main), ['h', 'p1', 'p2'], 'host first, then the presenters list order (not join order)');
    assert.deepEqual(r.strip, []);
    r = mainAndStrip([p1, p2, p3, host, sc], { kind: 'briefing', presenters: ['h', 'p1', 'p2', 'p3'] });
    assert.equal(r.main.length, MAX_MAIN_BRIEFING);
    assert.deepEqual(keys(r.main), ['p1:screen', 'h', 'p1', 'p2']);
    assert.deepEqual(keys(r.strip), ['p3']);
  });

  test('briefing without a known presenter (e.g. a publisher without a role): someone is still large', () => {
    const x = { ...cam('x', 0), role: null };
    const r = mainAndStrip([x], { kind: 'briefing', presenters: [] });
    assert.deepEqual(keys(r.main), ['x']);
    assert.deepEqual(r.strip, []);
  });
});

describe('tileLayers', () => {
  const tracks = {
    a: [{ id: 'a0', kind: 'audio', source: 'microphone', layers: 1 }, { id: 'v1', kind: 'video', source: 'camera', layers: 3 },
      { id: 'v2', kind: 'video', source: 'screen', layers: 1 }],
    b: [{ id: 'v1', kind: 'video', source: 'camera', layers: 3 }],
    c: [{ id: 'v1', kind: 'video', source: 'camera', layers: 1 }],
  };
  const tracksOf = (id) => tracks[id] ?? [];

  test('large tiles ask high, thumbnails low; single-layer tracks and audio ask nothing', () => {
    const main = [cam('b', 1)];
    const strip = [cam('a', 0), cam('c', 2)];
    assert.deepEqual(tileLayers(main, strip, 'speaker', tracksOf), [
      { participant: 'b', track: 'v1', layer: 'high' },
      { participant: 'a', track: 'v1', layer: 'low' },
    ]);
  });

  test('grid tiles leave the choice to the server (auto); a screen tile concerns only screen tracks', () => {
    assert.deepEqual(tileLayers([], [cam('a', 0), cam('b', 1)], 'grid', tracksOf), [
      { participant: 'a', track: 'v1', layer: 'auto' },
      { participant: 'b', track: 'v1', layer: 'auto' },
    ]);
    assert.deepEqual(tileLayers([screen('a', 1)], [], 'speaker', tracksOf), [], 'the screen track has one layer');
  });
});

describe('peopleOrder', () => {
  test('raised hands first, then the host, the presenters, the rest; join order within each', () => {
    const people = [
      { id: 'v1', role: 'viewer', hand_raised: false, joinedAt: 1 },
      { id: 'v2', role: 'viewer', hand_raised: true, joinedAt: 2 },
      { id: 'h', role: 'host', hand_raised: false, joinedAt: 0 },
      { id: 'p', role: 'presenter', hand_raised: false, joinedAt: 4 },
      { id: 'v3', role: 'viewer', hand_raised: true, joinedAt: 3 },
      { id: 'me', role: 'viewer', hand_raised: false, joinedAt: -1 },
    ];
    assert.deepEqual(peopleOrder(people).map((p) => p.id), ['v2', 'v3', 'h', 'p', 'me', 'v1']);
  });
});

describe('gridColumns', () => {
  test('the column count that makes 4:3 tiles largest', () => {
    assert.equal(gridColumns(1, 800, 600), 1);
    assert.equal(gridColumns(2, 1000, 400), 2, 'side by side on a wide screen');
    assert.equal(gridColumns(2, 344, 500), 1, 'stacked on a phone');
    assert.equal(gridColumns(4, 1000, 700), 2);
    assert.equal(gridColumns(12, 1000, 700), 4);
    assert.equal(gridColumns(12, 344, 560), 2);
  });
});
