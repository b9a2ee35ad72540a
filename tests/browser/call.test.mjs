// End-to-end: real caud, real headless Chromium pages of web-client/, media over
// loopback only. Run with `node --test` (or ./run.sh). The steps build on each other:
// A and B join, then C, then A mutes, then B is looked at on a phone-sized screen.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ARTIFACTS, MEDIA_PORT_MAX, MEDIA_PORT_MIN, launchBrowser, openClient, saveLog, startCaud,
  subscribeStats, waitFor,
} from './harness.mjs';

const ROOM = `kham-${process.pid}`;
const MEDIA_TIMEOUT = 20000;

describe('web client against caud', { timeout: 240000 }, () => {
  let server;
  let browser;
  const pages = {};

  before(async () => {
    server = await startCaud();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const [label, page] of Object.entries(pages)) await saveLog(page, label).catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  /** Waits until `page` shows `n` remote tiles, each decoding video and receiving audio. */
  async function expectRemoteMedia(page, n, label) {
    let last = null;
    try {
      return await waitFor(async () => {
        const s = last = await subscribeStats(page);
        if (!s || s.tiles.length !== n) return false;
        if (!s.tiles.every((t) => t.framesDecoded > 0 && t.audioPackets > 0 && t.videoWidth > 0)) return false;
        return s;
      }, { timeout: MEDIA_TIMEOUT, what: `${label}: ${n} remote tile(s) decoding video and receiving audio` });
    } catch (err) {
      err.message += `\nlast subscribe stats of ${label}: ${JSON.stringify(last)}`;
      throw err;
    }
  }

  /** Waits until every remote tile on `page` decodes new frames and gets new audio. */
  async function expectFlowing(page, n, label) {
    const before = await expectRemoteMedia(page, n, label);
    const start = new Map(before.tiles.map((t) => [t.participant, t]));
    let last = null;
    try {
      return await waitFor(async () => {
        const s = last = await subscribeStats(page);
        return s && s.tiles.length === n && s.tiles.every((t) => {
          const t0 = start.get(t.participant);
          return t0 && t.framesDecoded >= t0.framesDecoded + 10 && t.audioPackets > t0.audioPackets;
        }) && s;
      }, { timeout: 10000, what: `${label}: media still flowing on ${n} tile(s)` });
    } catch (err) {
      err.message += `\nfirst: ${JSON.stringify(before)}\nlast: ${JSON.stringify(last)}`;
      throw err;
    }
  }

  function assertServerPair(stats, label) {
    assert.ok(stats.pair, `${label}: subscribe pc has a selected candidate pair`);
    const { remote } = stats.pair;
    if (server.external) return; // an external server may use any port
    assert.equal(remote.address, '127.0.0.1', `${label}: remote candidate is caud on loopback`);
    assert.ok(remote.port >= MEDIA_PORT_MIN && remote.port <= MEDIA_PORT_MAX,
      `${label}: remote candidate port ${remote.port} within caud's range ${MEDIA_PORT_MIN}-${MEDIA_PORT_MAX}`);
  }

  test('(a) two pages join one room and receive each other\'s audio and video via caud', async () => {
    pages.A = await openClient(browser, server.url, { room: ROOM, name: 'BS. Lan' });
    pages.B = await openClient(browser, server.url, { room: ROOM, name: 'BS. Minh' });
    for (const label of ['A', 'B']) {
      await waitFor(() => pages[label].evaluate(() => window.cau.state === 'joined'),
        { timeout: 10000, what: `${label} joined` });
    }
    const selfA = await pages.A.evaluate(() => window.cau.self);
    const selfB = await pages.B.evaluate(() => window.cau.self);
    assert.ok(selfA && selfB && selfA !== selfB, 'distinct participant ids');

    const statsA = await expectRemoteMedia(pages.A, 1, 'A');
    const statsB = await expectRemoteMedia(pages.B, 1, 'B');
    assert.equal(statsA.tiles[0].participant, selfB, 'A\'s tile is B (streams[0].id = participant id)');
    assert.equal(statsB.tiles[0].participant, selfA, 'B\'s tile is A');
    assertServerPair(statsA, 'A');
    assertServerPair(statsB, 'B');

    // The publish pc's remote candidate is the server too.
    const publishPair = await pages.A.evaluate(async () => {
      const stats = new Map();
      (await window.cau.pcs.publish.getStats()).forEach((s) => stats.set(s.id, s));
      for (const s of stats.values()) {
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          const remote = stats.get(stats.get(s.selectedCandidatePairId).remoteCandidateId);
          return { address: remote.address, port: remote.port, srtpCipher: s.srtpCipher,
            tlsVersion: s.tlsVersion };
        }
      }
      return null;
    });
    assert.ok(publishPair, 'A\'s publish pc has a selected pair');
    // caud offers SRTP_AEAD_AES_128_GCM first (media/dtls.c), and Chromium takes it:
    // the profile cau-bench measures (docs/performance.md) is the one browsers use.
    assert.equal(publishPair.srtpCipher, 'SRTP_AEAD_AES_128_GCM', 'SRTP profile');
    assert.equal(publishPair.tlsVersion, 'FEFD', 'DTLS 1.2 (OpenSSL 3.0 has no DTLS 1.3)');
    if (!server.external) assert.equal(publishPair.address, '127.0.0.1');

    // Names are shown on the tiles.
    await waitFor(async () => (await pages.B.locator(`[data-participant="${selfA}"] .tile-name`).textContent()) === 'BS. Lan',
      { timeout: 5000, what: 'B shows A\'s name' });
    // Connection indicators reach "connected" for both pcs.
    for (const pc of ['publish', 'subscribe']) {
      await waitFor(() => pages.A.evaluate((p) => document.querySelector(`.conn[data-pc="${p}"]`).dataset.state === 'connected', pc),
        { timeout: 10000, what: `A's ${pc} indicator connected` });
    }
  });

  test('(a2) the call outlives the 30 s RFC 7675 consent timeout in both directions', async () => {
    // Once connected, caud reads the sockets itself (media/poller.c): it answers
    // Chromium's consent checks and makes its own, which Chromium answers. Either
    // side failing to would end the call about 30 s in.
    const consentExpired = async () => {
      const text = await pages.A.evaluate(async () => (await fetch('/metrics')).text());
      const m = /^cau_media_consent_expired_total (\d+)/m.exec(text);
      assert.ok(m, '/metrics has cau_media_consent_expired_total');
      return Number(m[1]);
    };
    assert.equal(await consentExpired(), 0, 'no consent expired before the wait');
    await new Promise((resolve) => setTimeout(resolve, 40000));
    await expectFlowing(pages.A, 1, 'A after 40 s');
    await expectFlowing(pages.B, 1, 'B after 40 s');
    for (const label of ['A', 'B']) {
      const states = await pages[label].evaluate(() => Object.fromEntries(
        Object.entries(window.cau.pcs).filter(([, pc]) => pc).map(([k, pc]) => [k, pc.connectionState])));
      assert.deepEqual(states, { publish: 'connected', subscribe: 'connected' },
        `${label}: both peer connections still connected after 40 s`);
    }
    assert.equal(await consentExpired(), 0, 'caud saw every consent check answered');
  });

  test('(b) a third page joins; everyone sees two remote tiles decoding', async () => {
    pages.C = await openClient(browser, server.url, { room: ROOM, name: 'Bệnh nhân Hoa' });
    await waitFor(() => pages.C.evaluate(() => window.cau.state === 'joined'), { timeout: 10000, what: 'C joined' });
    const ids = {};
    for (const label of ['A', 'B', 'C']) ids[label] = await pages[label].evaluate(() => window.cau.self);
    for (const label of ['A', 'B', 'C']) {
      const stats = await expectRemoteMedia(pages[label], 2, label);
      const expected = Object.entries(ids).filter(([l]) => l !== label).map(([, id]) => id).sort();
      assert.deepEqual(stats.tiles.map((t) => t.participant).sort(), expected, `${label} sees the other two`);
      assertServerPair(stats, label);
    }
  });

  test('(c) A mutes the microphone; B sees the mute icon on A\'s tile', async () => {
    const selfA = await pages.A.evaluate(() => window.cau.self);
    const icon = pages.B.locator(`[data-participant="${selfA}"] .icon-mic-off`);
    assert.equal(await icon.isVisible(), false, 'no mute icon before muting');

    await pages.A.getByRole('button', { name: 'Tắt micrô' }).click();
    assert.equal(await pages.A.locator('#btn-mic').getAttribute('aria-pressed'), 'true');
    assert.equal(await pages.A.evaluate(() => window.cau.call.localStream.getAudioTracks()[0].enabled), false);

    await icon.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await pages.B.evaluate((id) => window.cau.participants[id].audio_muted, selfA), true);
    assert.equal(await icon.getAttribute('aria-label'), 'Micrô đang tắt');

    // And back.
    await pages.A.getByRole('button', { name: 'Bật micrô' }).click();
    await icon.waitFor({ state: 'hidden', timeout: 5000 });
  });

  test('(d) call view fits a 360×740 phone screen', async () => {
    const page = pages.B;
    await page.setViewportSize({ width: 360, height: 740 });
    await expectRemoteMedia(page, 2, 'B at phone size');
    await page.waitForTimeout(500); // let the grid settle after the resize
    const file = join(ARTIFACTS, 'call-view-360x740.png');
    await page.screenshot({ path: file });

    const layout = await page.evaluate(() => {
      const box = (sel) => {
        const r = document.querySelector(sel).getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
      };
      return {
        scrollWidth: document.documentElement.scrollWidth,
        scrollHeight: document.documentElement.scrollHeight,
        controls: box('.controls'),
        local: box('#local-tile'),
        tiles: [...document.querySelectorAll('.remote-tile')].map((t) => {
          const r = t.getBoundingClientRect();
          return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
        }),
      };
    });
    assert.ok(layout.scrollWidth <= 360, `no horizontal scrolling (scrollWidth ${layout.scrollWidth})`);
    assert.ok(layout.scrollHeight <= 740, `no vertical scrolling (scrollHeight ${layout.scrollHeight})`);
    assert.ok(layout.controls.bottom <= 740 && layout.controls.top > 0, 'controls on screen');
    assert.equal(layout.tiles.length, 2);
    for (const t of layout.tiles) {
      assert.ok(t.left >= 0 && t.right <= 360 && t.bottom <= layout.controls.top, `tile inside the stage: ${JSON.stringify(t)}`);
      assert.ok(t.width >= 200 && t.height >= 150, `tile big enough to see a face: ${JSON.stringify(t)}`);
    }
    assert.ok(layout.local.right <= 360 && layout.local.bottom <= layout.controls.top, 'own tile on screen');
  });

  test('(e) leaving removes the tile on the others', async () => {
    const selfC = await pages.C.evaluate(() => window.cau.self);
    await pages.C.getByRole('button', { name: 'Rời phòng' }).click();
    await waitFor(() => pages.C.evaluate(() => window.cau.state === 'left'), { timeout: 5000, what: 'C left' });
    for (const label of ['A', 'B']) {
      await pages[label].locator(`[data-participant="${selfC}"]`).waitFor({ state: 'detached', timeout: 5000 });
    }
    await expectFlowing(pages.A, 1, 'A after C left');
  });

  // The participant whose tracks hold the BUNDLE-tag m-lines of A's subscribe pc leaves:
  // those m-lines must stay bundled (inactive) and be reused for the next participant with
  // new SSRCs, or Chrome drops the transport (port 0) or never renders the reused receiver.
  test('(f) the first participant A subscribed to leaves; A keeps receiving the others',
    async () => {
      pages.D = await openClient(browser, server.url, { room: ROOM, name: 'KTV. Dũng' });
      await expectFlowing(pages.A, 2, 'A with B and D');
      await pages.B.getByRole('button', { name: 'Rời phòng' }).click();
      await expectFlowing(pages.A, 1, 'A after B left');
    });

  test('(g) after being alone in the room, A receives a newcomer',
    async () => {
      if (pages.B && (await pages.B.evaluate(() => window.cau.state)) === 'joined') {
        await pages.B.getByRole('button', { name: 'Rời phòng' }).click();
      }
      await pages.D?.getByRole('button', { name: 'Rời phòng' }).click();
      await waitFor(() => pages.A.evaluate(() => document.querySelectorAll('.remote-tile').length === 0),
        { timeout: 5000, what: 'A alone' });
      await pages.A.waitForTimeout(1000);
      pages.E = await openClient(browser, server.url, { room: ROOM, name: 'BS. Hạnh' });
      await expectFlowing(pages.A, 1, 'A with newcomer E');
    });
});
