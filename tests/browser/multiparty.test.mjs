// Issue 6, the consult view in real headless Chromium against a real caud: three pages in
// one plain room (the first joiner is its host). One of them shares a screen
// (getDisplayMedia: headless Chromium's fake capture, a 1280×720 "screen" picked without
// a prompt thanks to --use-fake-device-for-media-stream and --use-fake-ui-for-media-stream);
// the others show it large, unmirrored, and decode its frames (framesDecoded increasing).
// The active-speaker highlight follows whoever has the microphone on (a steady tone from
// a WAV file as every page's fake microphone; the muted pages send silence). Then the speaker layout, and the host's
// moderation: mute another participant (who is told and may unmute), lock, remove.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ARTIFACTS, launchBrowser, openClient, saveLog, startCaud, waitFor, waitForRemoteVideo, writeToneWav,
} from './harness.mjs';

const ROOM = `hoichan-${process.pid}`;
const PHONE = { width: 360, height: 740 };

/** The page's video tiles (window.cau.videoTiles): participant, source, large or not,
 *  speaking, frames decoded, video size. */
function videoTiles(page) {
  return page.evaluate(() => window.cau.videoTiles());
}

/** Waits until `page` shows `owner`'s screen large and decodes at least `more` new frames of it. */
async function expectScreenLarge(page, owner, label, { more = 10 } = {}) {
  let last = null;
  const first = await waitFor(async () => {
    last = await videoTiles(page);
    return last.find((t) => t.participant === owner && t.source === 'screen' && t.main && t.framesDecoded > 0 && t.videoWidth > 0);
  }, { timeout: 25000, what: `${label}: ${owner}'s screen large and decoding` }).catch((err) => {
    err.message += `\nlast tiles of ${label}: ${JSON.stringify(last)}`;
    throw err;
  });
  const next = await waitFor(async () => {
    last = await videoTiles(page);
    const tile = last.find((t) => t.participant === owner && t.source === 'screen');
    return tile && tile.framesDecoded >= first.framesDecoded + more && tile;
  }, { timeout: 15000, what: `${label}: ${owner}'s screen keeps decoding` }).catch((err) => {
    err.message += `\nfirst: ${JSON.stringify(first)}\nlast tiles of ${label}: ${JSON.stringify(last)}`;
    throw err;
  });
  return { first, next, tiles: last };
}

describe('consult: three parties, a shared screen, the active speaker, moderation', { timeout: 300000 }, () => {
  let server;
  let browser;
  const pages = {};
  const ids = {};

  before(async () => {
    server = await startCaud();
    // Every page's microphone plays a steady tone (the fake device's beeps are too short
    // to hold the floor); the muted pages send silence.
    const tone = writeToneWav(join(tmpdir(), `cau-tone-${process.pid}.wav`));
    browser = await launchBrowser({ extraArgs: [`--use-file-for-fake-audio-capture=${tone}`] });
  });

  after(async () => {
    for (const [label, page] of Object.entries(pages)) await saveLog(page, `multiparty-${label}`).catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    rmSync(join(tmpdir(), `cau-tone-${process.pid}.wav`), { force: true });
  });

  test('three pages join a consult; the first is its host', async () => {
    pages.A = await openClient(browser, server.url, { room: ROOM, name: 'BS. Lan' });
    await waitFor(() => pages.A.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'A joined' });
    pages.B = await openClient(browser, server.url, { room: ROOM, name: 'BS. Minh' });
    // C, on a phone, reads English.
    pages.C = await openClient(browser, server.url, { room: ROOM, name: 'ĐD. Hoa', viewport: PHONE, lang: 'en' });
    for (const label of ['A', 'B', 'C']) {
      await waitFor(() => pages[label].evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: `${label} joined` });
      ids[label] = await pages[label].evaluate(() => window.cau.self);
    }
    const room = await pages.A.evaluate(() => window.cau.room);
    assert.equal(room.kind, 'consult');
    assert.equal(room.role, 'host', 'the first joiner of a plain room is its host');
    assert.equal((await pages.B.evaluate(() => window.cau.room)).role, 'participant');
    for (const label of ['A', 'B', 'C']) await waitForRemoteVideo(pages[label], label, { tiles: 2 });
    assert.equal(await pages.B.evaluate(() => document.getElementById('stage').dataset.layout), 'grid');
  });

  test('A shares a screen: B and C show it large (pinned), unmirrored, and decode it', async () => {
    const share = pages.A.getByRole('button', { name: 'Chia sẻ màn hình' });
    await share.click();
    await waitFor(() => pages.A.evaluate(() => window.cau.room.sharing), { timeout: 10000, what: 'A sharing' });
    await pages.A.getByRole('button', { name: 'Dừng chia sẻ' }).waitFor({ timeout: 5000 });
    assert.equal(await pages.A.locator('#btn-share').getAttribute('aria-pressed'), 'true');

    // The server knows the track as a screen.
    await waitFor(() => pages.B.evaluate((a) => window.cau.participants[a].tracks.some((t) => t.source === 'screen'), ids.A),
      { timeout: 10000, what: 'B: track-added with source "screen"' });
    for (const label of ['B', 'C']) {
      const { next, tiles } = await expectScreenLarge(pages[label], ids.A, label);
      // The fake capture is 16:9 (1280×720), the fake camera 4:3: this is the screen.
      const aspect = next.videoWidth / next.videoHeight;
      assert.ok(Math.abs(aspect - 16 / 9) < 0.05, `${label}: the screen tile shows the screen (${next.videoWidth}×${next.videoHeight})`);
      assert.equal(tiles.filter((t) => t.main).length, 1, `${label}: one large tile`);
      // The cameras are thumbnails now and still decode.
      const cams = tiles.filter((t) => t.source === 'camera');
      assert.equal(cams.length, 2, `${label}: both cameras in the strip`);
      assert.ok(cams.every((t) => !t.main && t.framesDecoded > 0), `${label}: camera thumbnails decode: ${JSON.stringify(cams)}`);
      assert.equal(await pages[label].evaluate(() => document.getElementById('stage').dataset.layout), 'speaker');
      const style = await pages[label].evaluate((a) => {
        const video = document.querySelector(`#main-tiles .screen-tile[data-participant="${a}"] video`);
        const cs = getComputedStyle(video);
        return { transform: cs.transform, objectFit: cs.objectFit };
      }, ids.A);
      assert.deepEqual(style, { transform: 'none', objectFit: 'contain' }, `${label}: imaging shown whole and unmirrored`);
    }
    // The large tile really is large, also on the phone.
    const phoneTiles = await videoTiles(pages.C);
    const screenOnPhone = phoneTiles.find((t) => t.source === 'screen');
    assert.ok(screenOnPhone.width >= 320, `C (360 px): the screen tile spans the width (${screenOnPhone.width} px)`);
    const phoneLayout = await pages.C.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth, scrollHeight: document.documentElement.scrollHeight,
    }));
    assert.ok(phoneLayout.scrollWidth <= PHONE.width && phoneLayout.scrollHeight <= PHONE.height,
      `C: nothing scrolls at 360×740: ${JSON.stringify(phoneLayout)}`);
    await pages.B.screenshot({ path: join(ARTIFACTS, 'multiparty-screen-share.png') });
    await pages.C.screenshot({ path: join(ARTIFACTS, 'multiparty-screen-share-360.png') });
    assert.equal(await pages.C.locator('#main-tiles .screen-tile .tile-name').textContent(), 'BS. Lan\'s screen');
    assert.equal(await pages.C.locator('#main-tiles .tile-fullscreen').getAttribute('aria-label'), 'Full screen: BS. Lan\'s screen');
    // A phone cannot fit six labelled buttons: icons, each with its spoken name.
    assert.equal(await pages.C.locator('#btn-share').getAttribute('aria-label'), 'Share screen');

    // Full screen for the imaging, and back.
    const fullscreen = pages.B.getByRole('button', { name: 'Xem toàn màn hình: màn hình của BS. Lan' });
    await fullscreen.click();
    await waitFor(() => pages.B.evaluate(() => document.fullscreenElement?.classList.contains('screen-tile') ?? false),
      { timeout: 5000, what: 'B: the screen tile in full screen' });
    await pages.B.getByRole('button', { name: 'Thoát toàn màn hình' }).click();
    await waitFor(() => pages.B.evaluate(() => document.fullscreenElement === null), { timeout: 5000, what: 'B: full screen left' });
  });

  /** Turn `label`'s microphone on or off with its button (if not already so). */
  async function setMic(label, on) {
    const page = pages[label];
    if ((await page.locator('#btn-mic').getAttribute('aria-pressed')) === String(!on)) return;
    await page.locator('#btn-mic').click();
    await waitFor(async () => (await page.locator('#btn-mic').getAttribute('aria-pressed')) === String(!on),
      { timeout: 5000, what: `${label}: microphone ${on ? 'on' : 'off'}` });
  }

  test('the active-speaker highlight follows the open microphone', async (t) => {
    t.after(async () => { for (const label of ['A', 'B', 'C']) await setMic(label, true).catch(() => {}); });
    // Only A's microphone on: A is the speaker for B.
    for (const label of ['B', 'C']) await setMic(label, false);
    const speaking = (page, who) => waitFor(async () => {
      const room = await page.evaluate(() => window.cau.room);
      const tiles = await videoTiles(page);
      const tile = tiles.find((t) => t.participant === who && t.source === 'camera');
      return room.active_speaker === who && tile?.speaking && tiles.filter((t) => t.speaking).length === 1;
    }, { timeout: 20000, what: `${who} highlighted as the active speaker` });
    await speaking(pages.B, ids.A);
    await speaking(pages.C, ids.A);
    // Now only B's.
    await setMic('B', true);
    await setMic('A', false);
    await speaking(pages.A, ids.B);
    await speaking(pages.C, ids.B);
    assert.equal(await pages.B.evaluate(() => document.getElementById('local-tile').classList.contains('speaking')), true,
      'B sees its own tile highlighted');
  });

  test('A stops sharing: the screen tile goes, the grid comes back; the speaker layout puts the speaker large', async () => {
    await pages.A.getByRole('button', { name: 'Dừng chia sẻ' }).click();
    for (const label of ['B', 'C']) {
      await waitFor(async () => (await videoTiles(pages[label])).every((t) => t.source !== 'screen'),
        { timeout: 15000, what: `${label}: screen tile removed` });
      await waitFor(() => pages[label].evaluate(() => document.getElementById('stage').dataset.layout === 'grid'),
        { timeout: 5000, what: `${label}: back to the grid` });
    }
    await waitForRemoteVideo(pages.B, 'B after the share', { tiles: 2 });

    await pages.B.getByRole('button', { name: 'Chuyển sang bố cục người nói' }).click();
    assert.equal(await pages.B.evaluate(() => document.getElementById('stage').dataset.layout), 'speaker');
    const tiles = await videoTiles(pages.B);
    const main = tiles.filter((t) => t.main);
    assert.equal(main.length, 1, 'one large tile');
    assert.notEqual(main[0].participant, ids.B, 'never our own tile');
    await pages.B.screenshot({ path: join(ARTIFACTS, 'multiparty-speaker-layout.png') });
    await pages.B.getByRole('button', { name: 'Chuyển sang bố cục lưới' }).click();
    assert.equal(await pages.B.evaluate(() => document.getElementById('stage').dataset.layout), 'grid');
  });

  test('the host mutes B: B is told, its mic button shows muted, and B may unmute', async () => {
    await pages.C.locator(`[data-participant="${ids.B}"] .icon-mic-off`).waitFor({ state: 'hidden', timeout: 5000 });
    await pages.A.getByRole('button', { name: /^Người tham gia/ }).click();
    await pages.A.locator('#people-panel').waitFor({ state: 'visible', timeout: 5000 });
    await pages.A.getByRole('button', { name: 'Tắt micrô của BS. Minh' }).click();
    await waitFor(async () => (await pages.B.locator('#call-notice').getAttribute('data-key')) === 'notice.muted.audio',
      { timeout: 10000, what: 'B told it was muted' });
    assert.equal(await pages.B.locator('#call-notice').textContent(), 'BS. Lan đã tắt micrô của bạn. Bạn có thể tự bật lại khi cần.');
    assert.equal(await pages.B.locator('#btn-mic').getAttribute('aria-pressed'), 'true');
    assert.equal(await pages.B.evaluate(() => window.cau.call.localStream.getAudioTracks()[0].enabled), false);
    // The others see B muted.
    await pages.C.locator(`[data-participant="${ids.B}"] .icon-mic-off`).waitFor({ state: 'visible', timeout: 5000 });
    // Only B unmutes itself.
    await pages.B.getByRole('button', { name: 'Bật micrô' }).click();
    await pages.C.locator(`[data-participant="${ids.B}"] .icon-mic-off`).waitFor({ state: 'hidden', timeout: 5000 });
  });

  test('a participant cannot moderate: not-host', async () => {
    const code = await pages.B.evaluate(async (a) => {
      try { await window.cau.call.muteParticipant(a, 'audio'); return 'ok'; } catch (err) { return err.code; }
    }, ids.A);
    assert.equal(code, 'not-host');
    assert.equal(await pages.B.locator('#host-tools').isVisible(), false, 'no host tools for a participant');
  });

  test('the host locks the room (a newcomer is refused with room-locked) and removes C', async () => {
    await pages.A.getByRole('button', { name: 'Khoá phòng' }).click();
    await pages.B.locator('#lock-badge').waitFor({ state: 'visible', timeout: 5000 });
    pages.D = await openClient(browser, server.url, { room: ROOM, name: 'Người nhà' });
    await waitFor(async () => (await pages.D.locator('#banner').getAttribute('data-code')) === 'room-locked',
      { timeout: 15000, what: 'D refused: room-locked' });
    assert.equal(await pages.D.locator('#banner-text').textContent(), 'Phòng đang khoá; chủ trì chưa cho thêm người vào.');
    // The banner comes with the server's error; the call ends when the server then
    // closes the socket, a moment later (longer against the ASan caud).
    await waitFor(async () => (await pages.D.evaluate(() => window.cau.state)) !== 'joined',
      { timeout: 5000, what: 'D not in the call' });
    await pages.A.getByRole('button', { name: 'Mở khoá phòng' }).click();
    await pages.B.locator('#lock-badge').waitFor({ state: 'hidden', timeout: 5000 });

    await pages.A.getByRole('button', { name: 'Mời ĐD. Hoa ra khỏi phòng' }).click();
    await waitFor(async () => (await pages.C.locator('#banner').getAttribute('data-code')) === 'removed',
      { timeout: 10000, what: 'C told it was removed' });
    assert.equal(await pages.C.locator('#banner-text').textContent(), 'The host removed you from the room.');
    await waitFor(async () => (await pages.C.evaluate(() => window.cau.state)) !== 'joined',
      { timeout: 5000, what: 'C out of the call' });
    for (const label of ['A', 'B']) {
      await pages[label].locator(`[data-participant="${ids.C}"]`).first().waitFor({ state: 'detached', timeout: 10000 });
    }
    await waitForRemoteVideo(pages.A, 'A after removing C', { tiles: 1 });
  });
});
