// Simulcast with real peers (issue 6): a headless Chromium publishes its fake camera at
// 1280x720 as three VP8 simulcast layers (rids l/m/h, scaleResolutionDownBy 4/2/1)
// through caud; a real aiortc subscriber (simulcast_subscriber.py, decoding VP8) whose
// REMB the test sets is moved to the low layer when it reports 150 kbit/s and back to
// the high layer at 5 Mbit/s, and keeps decoding new frames after each switch (no
// frozen video); asking for the low layer with the signaling `layer` message and then
// for `auto` moves it down and up the same way.  Then a Chromium subscriber (the web
// client) decodes the same simulcast publisher.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import {
  ARTIFACTS, startCaud, launchBrowser, openClient, saveLog, subscribeStats, waitFor, waitForRemoteVideo,
} from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const ROOM = `simulcast-${process.pid}`;

let server;
let browser;
let publisher;
let viewer;
let sub;

/** The aiortc subscriber as a child process: `last` is its latest JSON report. */
function startSubscriber(wsUrl) {
  const child = spawn('/usr/bin/python3', [join(here, 'simulcast_subscriber.py'), wsUrl, ROOM],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  const log = createWriteStream(join(ARTIFACTS, `simulcast-subscriber-${process.pid}.log`));
  const state = { child, last: null, history: [], exited: null };
  child.stderr.on('data', (c) => log.write(c));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) { log.write(`${line}\n`); return; }
    log.write(`${line}\n`);
    try {
      state.last = JSON.parse(line);
      state.history.push(state.last);
    } catch { log.write(`${line}\n`); }
  });
  child.on('exit', (code, signal) => { state.exited = { code, signal }; log.end(); });
  state.remb = (bps) => {
    log.write(`# remb ${bps}\n`);
    child.stdin.write(`remb ${bps}\n`);
  };
  state.layer = (layer) => {
    log.write(`# layer ${layer}\n`);
    child.stdin.write(`layer ${layer}\n`);
  };
  state.stop = async () => {
    if (state.exited) return;
    child.stdin.end('quit\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await new Promise((r) => child.on('exit', r));
    clearTimeout(timer);
  };
  return state;
}

/** Publishes from `page` over caud's signaling, camera only, as three simulcast layers. */
async function publishSimulcast(page, wsUrl, room) {
  await page.evaluate(async ({ wsUrl, room }) => {
    const ws = new WebSocket(wsUrl);
    await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
    let nextId = 1;
    const waiters = new Map();
    const pc = new RTCPeerConnection({ iceServers: [] });
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.ref && waiters.has(msg.ref)) { waiters.get(msg.ref)(msg); waiters.delete(msg.ref); }
      if (msg.type === 'trickle' && msg.pc === 'publish' && msg.candidate) {
        pc.addIceCandidate(msg.candidate).catch(() => {});
      }
    };
    const request = (msg) => new Promise((res) => {
      const id = nextId++;
      waiters.set(id, res);
      ws.send(JSON.stringify({ ...msg, id }));
    });
    const joined = await request({ type: 'join', room, name: 'simulcast-publisher' });
    if (joined.type !== 'joined') throw new Error(`join: ${JSON.stringify(joined)}`);
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: 1280, height: 720, frameRate: 30 },
    });
    pc.addTransceiver(stream.getAudioTracks()[0], { direction: 'sendonly', streams: [stream] });
    pc.addTransceiver(stream.getVideoTracks()[0], {
      direction: 'sendonly',
      streams: [stream],
      sendEncodings: [
        { rid: 'l', scaleResolutionDownBy: 4 },
        { rid: 'm', scaleResolutionDownBy: 2 },
        { rid: 'h', scaleResolutionDownBy: 1 },
      ],
    });
    pc.onicecandidate = (ev) => ws.send(JSON.stringify({
      type: 'trickle', pc: 'publish', candidate: ev.candidate ? ev.candidate.toJSON() : null,
    }));
    await pc.setLocalDescription(await pc.createOffer());
    const answer = await request({ type: 'publish', sdp: pc.localDescription.sdp });
    if (answer.type !== 'publish-answer') throw new Error(`publish: ${JSON.stringify(answer)}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    window.simulcast = { ws, pc, answer: answer.sdp };
  }, { wsUrl, room });
}

/** outbound-rtp video stats of the publisher, by rid. */
function publisherLayers(page) {
  return page.evaluate(async () => {
    const out = {};
    (await window.simulcast.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        out[s.rid] = {
          width: s.frameWidth ?? 0, frames: s.framesEncoded ?? 0, bytes: s.bytesSent ?? 0,
          limitation: s.qualityLimitationReason, active: s.active,
        };
      }
    });
    return out;
  });
}

async function metric(name) {
  const text = await publisher.evaluate(async () => (await fetch('/metrics')).text());
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : null;
}

/** Waits until the subscriber decodes frames of `pred(width)` and then `more` new ones. */
async function expectDecoding(pred, what, { timeout = 20000, more = 20 } = {}) {
  const t0 = Date.now();
  const first = await waitFor(() => sub.last && sub.last.frames > 0 && pred(sub.last.width) && sub.last,
    { timeout, interval: 100, what: `${what} (last report ${JSON.stringify(sub.last)})` });
  const switchedMs = Date.now() - t0;
  const after = await waitFor(() => sub.last.frames >= first.frames + more && pred(sub.last.width) && sub.last,
    { timeout: 10000, interval: 100, what: `${what}: ${more} more frames after the switch (frozen?)` });
  return { first, after, switchedMs };
}

before(async () => {
  // Loopback only, so the publisher may use up to 4 Mbit/s for its three layers.
  server = await startCaud({ extraArgs: ['--max-bitrate-kbps', '4000'] });
  browser = await launchBrowser();
});

after(async () => {
  await sub?.stop().catch(() => {});
  if (publisher) await saveLog(publisher, 'simulcast-publisher').catch(() => {});
  if (viewer) await saveLog(viewer, 'simulcast-viewer').catch(() => {});
  await browser?.close().catch(() => {});
  await server?.stop();
});

test('simulcast: layers follow a real subscriber\'s REMB, switching without freezing', { timeout: 180000 }, async () => {
  const wsUrl = `${server.url.replace(/^https/, 'wss')}ws`;
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  publisher = await context.newPage();
  publisher.cauLog = [];
  publisher.on('console', (m) => publisher.cauLog.push(`[${m.type()}] ${m.text()}`));
  // Any page of caud's origin: a secure context for getUserMedia.
  await publisher.goto(`${server.url}metrics`);
  await publishSimulcast(publisher, wsUrl, ROOM);
  assert.match(await publisher.evaluate(() => window.simulcast.answer), /a=simulcast:recv l;m;h/);

  // Chromium really sends three layers (its bandwidth estimate has to ramp up first).
  const layers = await waitFor(async () => {
    const l = await publisherLayers(publisher);
    return ['l', 'm', 'h'].every((rid) => l[rid] && l[rid].frames > 10 && l[rid].width > 0) && l;
  }, { timeout: 60000, interval: 1000, what: 'the publisher sending layers l, m and h' });
  console.log('publisher layers', JSON.stringify(layers));
  assert.ok(layers.h.width >= 1200 && layers.l.width <= 400, JSON.stringify(layers));

  sub = startSubscriber(wsUrl);
  // No REMB yet: the estimate starts unconstrained, the top layer is forwarded.
  const high0 = await expectDecoding((w) => w >= 1200, 'aiortc decoding the high layer', { timeout: 30000 });
  const switchesBefore = await metric('cau_media_layer_switches_total');

  sub.remb(150000);
  const low = await expectDecoding((w) => w > 0 && w <= 400, 'aiortc moved to the low layer at 150 kbit/s');
  console.log(`down-switch: ${low.switchedMs} ms from REMB to the first low frame seen; frames ${low.first.frames} -> ${low.after.frames}`);

  sub.remb(5000000);
  const high = await expectDecoding((w) => w >= 1200, 'aiortc back on the high layer at 5 Mbit/s');
  console.log(`up-switch: ${high.switchedMs} ms from REMB to the first high frame seen (2 s hold included); frames ${high.first.frames} -> ${high.after.frames}`);
  assert.ok(high.after.frames > low.after.frames && low.first.frames > high0.first.frames);

  const switches = await metric('cau_media_layer_switches_total');
  assert.ok(switches >= switchesBefore + 2, `layer switches ${switchesBefore} -> ${switches}`);

  // The subscriber asks for a layer (a thumbnail: low), whatever its estimate allows,
  // then lifts the cap again (auto: straight back up, no hold for an explicit request).
  sub.layer('low');
  const capped = await expectDecoding((w) => w > 0 && w <= 400, 'aiortc on the low layer it asked for');
  console.log(`layer low: ${capped.switchedMs} ms; frames ${capped.first.frames} -> ${capped.after.frames}`);
  sub.layer('auto');
  const uncapped = await expectDecoding((w) => w >= 1200, 'aiortc back on the high layer after layer auto');
  console.log(`layer auto: ${uncapped.switchedMs} ms; frames ${uncapped.first.frames} -> ${uncapped.after.frames}`);
});

test('simulcast: a Chromium subscriber (web client) decodes the simulcast publisher', { timeout: 150000 }, async () => {
  await sub?.stop();
  viewer = await openClient(browser, server.url, { room: ROOM, name: 'viewer' });
  const stats = await waitForRemoteVideo(viewer, 'web client viewer', { timeout: 40000 });
  assert.ok(stats.tiles[0].framesDecoded > 0 && stats.tiles[0].videoWidth > 0, JSON.stringify(stats.tiles[0]));
  // Chromium's own REMB (goog-remb, no transport-cc) then lets it climb to the top layer.
  const high = await waitFor(async () => {
    const s = await subscribeStats(viewer);
    return s && s.tiles[0] && s.tiles[0].videoWidth >= 1200 && s;
  }, { timeout: 40000, what: 'the web client viewer on the high layer' });
  const t0 = high.tiles[0];
  const flowing = await waitFor(async () => {
    const s = await subscribeStats(viewer);
    return s && s.tiles[0].framesDecoded >= t0.framesDecoded + 20 && s;
  }, { timeout: 10000, what: 'the web client viewer still decoding' });
  console.log('web client viewer', JSON.stringify(flowing.tiles[0]));
  // Its own REMB takes over a few seconds in and may move it down (libwebrtc's receive-side
  // estimate starts low and falls with delay; on this loaded 2-core machine it often
  // does) and back up by probing: whatever happened, 20 s later it still decodes.
  await new Promise((r) => setTimeout(r, 20000));
  const before20 = (await subscribeStats(viewer)).tiles[0];
  const later = await waitFor(async () => {
    const s = await subscribeStats(viewer);
    return s && s.tiles[0].framesDecoded >= before20.framesDecoded + 20 && s.tiles[0].videoWidth > 0 && s;
  }, { timeout: 15000, what: 'the web client viewer still decoding 20 s on' });
  console.log('web client viewer later', JSON.stringify(later.tiles[0]));
});
