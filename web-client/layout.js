// Layout decisions of the call view, as plain functions of plain data (no DOM), so that
// they read in one place: which tiles are large, which go to the strip or the grid, the
// simulcast layer each tile asks for, the order of the people list, the grid's columns.

/** Presenters shown large in a briefing (the contract's floor limit). */
export const MAX_MAIN_BRIEFING = 4;

const ROLE_RANK = { host: 0, presenter: 1 };

/**
 * entries: [{key, id, screen, role, order, joinedAt}] (order: when a screen tile appeared).
 * Returns {mode: 'grid'|'speaker'|'briefing', main: [entries], strip: [entries]}:
 *   - briefing: the newest shared screen, then the host and the presenters (in the
 *     room's `presenters` order), at most 4 large; everything else in the strip;
 *   - consult with a shared screen: 'speaker' with the newest screen pinned large;
 *   - consult, speaker layout: the active speaker large (the last remote one when we
 *     speak ourselves), the others in the strip;
 *   - consult, grid: everyone in the grid.
 */
export function mainAndStrip(entries, { kind, userLayout, activeSpeaker, lastRemoteSpeaker, presenters = [] }) {
  const byJoin = (a, b) => a.joinedAt - b.joinedAt;
  const screens = entries.filter((e) => e.screen).sort((a, b) => b.order - a.order);
  const cameras = entries.filter((e) => !e.screen).sort(byJoin);
  if (kind === 'briefing') {
    const rank = (e) => {
      const i = presenters.indexOf(e.id);
      return [ROLE_RANK[e.role] ?? 2, i < 0 ? Infinity : i, e.joinedAt];
    };
    const speakers = cameras.filter((e) => e.role === 'host' || e.role === 'presenter')
      .sort((a, b) => compareTuples(rank(a), rank(b)));
    const main = [...screens.slice(0, 1), ...speakers].slice(0, MAX_MAIN_BRIEFING);
    let strip = [...screens, ...cameras].filter((e) => !main.includes(e));
    if (main.length === 0 && strip.length > 0) {
      main.push(strip[0]);
      strip = strip.slice(1);
    }
    return { mode: 'briefing', main, strip };
  }
  if (screens.length > 0) {
    const main = [screens[0]];
    return { mode: 'speaker', main, strip: [...screens.slice(1), ...cameras] };
  }
  if (userLayout === 'speaker' && cameras.length > 0) {
    const pick = cameras.find((e) => e.id === activeSpeaker)
      ?? cameras.find((e) => e.id === lastRemoteSpeaker)
      ?? cameras[0];
    return { mode: 'speaker', main: [pick], strip: cameras.filter((e) => e !== pick) };
  }
  return { mode: 'grid', main: [], strip: cameras };
}

/** Layer requests for simulcast video tracks (`layers` > 1): large tiles 'high',
 *  thumbnails 'low', grid tiles 'auto' (the server's bandwidth estimate decides).
 *  tracksOf(id) → the participant's track descriptions [{id, kind, source, layers}]. */
export function tileLayers(main, strip, mode, tracksOf) {
  const out = [];
  const add = (entry, layer) => {
    for (const track of tracksOf(entry.id)) {
      if (track.kind !== 'video' || !(track.layers > 1)) continue;
      if ((track.source === 'screen') !== entry.screen) continue;
      out.push({ participant: entry.id, track: track.id, layer });
    }
  };
  for (const e of main) add(e, 'high');
  for (const e of strip) add(e, mode === 'grid' ? 'auto' : 'low');
  return out;
}

/** People list order: raised hands first, then the host, the presenters, everyone else;
 *  join order within each group. */
export function peopleOrder(people) {
  const rank = (p) => [p.hand_raised ? 0 : 1, ROLE_RANK[p.role] ?? 2, p.joinedAt ?? 0];
  return [...people].sort((a, b) => compareTuples(rank(a), rank(b)));
}

/** The column count that makes `n` tiles of `aspect` largest in width × height. */
export function gridColumns(n, width, height, { aspect = 4 / 3, gap = 8 } = {}) {
  let best = 1;
  let bestWidth = 0;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    const cellW = (width - gap * (cols - 1)) / cols;
    const cellH = (height - gap * (rows - 1)) / rows;
    const tileW = Math.min(cellW, cellH * aspect);
    if (tileW > bestWidth + 0.5) {
      bestWidth = tileW;
      best = cols;
    }
  }
  return best;
}

function compareTuples(a, b) {
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return 0;
}
