// Issue 6, the briefing view in real headless Chromium against a real caud: a plain room
// created with `kind: "briefing"` (anonymous rooms are on in the harness). The host (first
// joiner) presents; two viewer sites (one on a 360 px phone) receive only. A viewer's
// publish is refused (floor-required) until the host gives it the floor from the site
// list; the phone viewer raises its hand, which the host sees first in the list; once
// given the floor it turns its camera on and the others decode it large; taking the
// floor back stops it. Then a stored briefing (records + REST, on a server seeded with the
// demo world): a specialist schedules it from the worklist and hosts it, a clinician
// joins it from the worklist as a viewer. Screenshots in artifacts/.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ARTIFACTS, DEMO, launchBrowser, openClient, openStaffPage, saveLog, startCaud, startDemoCaud, waitFor,
} from './harness.mjs';

const ROOM = `giaoban-${process.pid}`;
const PHONE = { width: 360, height: 740 };

function videoTiles(page) {
  return page.evaluate(() => window.cau.videoTiles());
}

/** Waits until `page` shows `who`'s camera large and decodes at least 10 new frames of it. */
async function expectLarge(page, who, label) {
  let last = null;
  const fail = (err) => {
    err.message += `\nlast tiles of ${label}: ${JSON.stringify(last)}`;
    throw err;
  };
  const first = await waitFor(async () => {
    last = await videoTiles(page);
    return last.find((t) => t.participant === who && t.source === 'camera' && t.main && t.framesDecoded > 0 && t.videoWidth > 0);
  }, { timeout: 25000, what: `${label}: ${who} large and decoding` }).catch(fail);
  return waitFor(async () => {
    last = await videoTiles(page);
    const tile = last.find((t) => t.participant === who && t.source === 'camera' && t.main);
    return tile && tile.framesDecoded >= first.framesDecoded + 10 && tile;
  }, { timeout: 15000, what: `${label}: ${who} keeps decoding` }).catch(fail);
}

/** Count getUserMedia calls in `page` (window.cameraRequests) from now on. */
function countCameraRequests(page) {
  return page.evaluate(() => {
    window.cameraRequests = 0;
    const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (constraints) => {
      window.cameraRequests++;
      return original(constraints);
    };
  });
}

/** A publish offer (camera + microphone) sent as is from `page`: resolves 'ok' or the error code. */
function tryPublish(page) {
  return page.evaluate(async () => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection();
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    const offer = await pc.createOffer();
    try {
      await window.cau.call.request({ type: 'publish', sdp: offer.sdp });
      return 'ok';
    } catch (err) {
      return err.code;
    } finally {
      pc.close();
      for (const track of stream.getTracks()) track.stop();
    }
  });
}

describe('briefing: host presents, viewers receive, the floor is given and taken back', { timeout: 300000 }, () => {
  let server;
  let browser;
  const pages = {};
  const ids = {};

  before(async () => {
    server = await startCaud();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const [label, page] of Object.entries(pages)) await saveLog(page, `briefing-${label}`).catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  test('the host creates the briefing; two viewer sites join and see the host large', async () => {
    pages.host = await openClient(browser, server.url, { room: ROOM, name: 'BV tỉnh Thanh Hóa', kind: 'briefing' });
    await waitFor(() => pages.host.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'host joined' });
    pages.v1 = await openClient(browser, server.url, { room: ROOM, name: 'TTYT Đông Sơn' });
    pages.v2 = await openClient(browser, server.url, { room: ROOM, name: 'TYT Sầm Sơn', viewport: PHONE });
    for (const label of ['host', 'v1', 'v2']) {
      await waitFor(() => pages[label].evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: `${label} joined` });
      ids[label] = await pages[label].evaluate(() => window.cau.self);
    }
    const hostRoom = await pages.host.evaluate(() => window.cau.room);
    assert.equal(hostRoom.kind, 'briefing');
    assert.equal(hostRoom.role, 'host');
    for (const label of ['v1', 'v2']) {
      const room = await pages[label].evaluate(() => window.cau.room);
      assert.equal(room.kind, 'briefing', `${label}: the room's kind comes from its creation`);
      assert.equal(room.role, 'viewer');
      // A viewer sends nothing: no own tile, no mic / camera / share buttons, camera released.
      assert.equal(await pages[label].locator('#local-tile').isVisible(), false, `${label}: no own tile`);
      for (const id of ['#btn-mic', '#btn-cam', '#btn-share']) {
        assert.equal(await pages[label].locator(id).isVisible(), false, `${label}: ${id} hidden`);
      }
      assert.equal(await pages[label].evaluate(() => window.cau.call.localStream.getTracks().length), 0, `${label}: camera released`);
      assert.equal(await pages[label].evaluate(() => window.cau.pcs.publish), null, `${label}: no publish pc`);
      assert.equal(await pages[label].locator('.conn[data-pc="publish"]').isVisible(), false, `${label}: no sending indicator`);
      await pages[label].getByRole('button', { name: 'Giơ tay' }).waitFor({ timeout: 5000 });
      const large = await expectLarge(pages[label], ids.host, label);
      assert.ok(large.width > 300, `${label}: the presenter is shown large (${large.width} px)`);
      assert.equal(await pages[label].evaluate(() => document.getElementById('stage').dataset.layout), 'briefing');
      // Viewers have no tiles, only places in the site list.
      const tiles = await videoTiles(pages[label]);
      assert.deepEqual(tiles.map((t) => t.participant), [ids.host], `${label}: only the presenter has a tile`);
    }
    // The server takes simulcast: the host's camera goes out in three layers (rid l/m/h).
    assert.equal(hostRoom.simulcast, true, 'joined.simulcast');
    await waitFor(() => pages.v1.evaluate((id) => window.cau.participants[id].tracks
      .some((t) => t.kind === 'video' && t.source === 'camera' && t.layers === 3), ids.host),
    { timeout: 10000, what: 'v1: the host\'s camera track has 3 layers' });
    const rids = await pages.host.evaluate(async () => {
      const out = [];
      (await window.cau.pcs.publish.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp' && s.kind === 'video') out.push(s.rid);
      });
      return out.sort();
    });
    assert.deepEqual(rids, ['h', 'l', 'm'], 'three encodings sent');
    // The host's site list is open (wide screen) and lists both sites; no viewer tiles.
    await pages.host.locator('#people-panel').waitFor({ state: 'visible', timeout: 5000 });
    for (const name of ['TTYT Đông Sơn', 'TYT Sầm Sơn']) {
      await pages.host.locator('#people-list li', { hasText: name }).waitFor({ timeout: 5000 });
    }
    assert.equal((await videoTiles(pages.host)).length, 0, 'the host sees no viewer tiles');
    assert.match(await pages.host.locator('#call-count').textContent(), /^3 điểm cầu$/);
  });

  test('a viewer\'s publish is refused with floor-required', async () => {
    assert.equal(await tryPublish(pages.v1), 'floor-required');
  });

  test('the host limits the videos shown (Last-N) and sets it back; the sites see the room state', async () => {
    await pages.host.getByLabel('Video hiển thị').selectOption('2');
    for (const label of ['v1', 'v2']) {
      await waitFor(() => pages[label].evaluate(() => window.cau.room.room_state.last_n === 2),
        { timeout: 10000, what: `${label}: last_n 2` });
    }
    await pages.host.getByLabel('Video hiển thị').selectOption('0');
    await waitFor(() => pages.v1.evaluate(() => window.cau.room.room_state.last_n === 0), { timeout: 10000, what: 'v1: last_n 0' });
    assert.equal(await pages.v1.locator('#host-tools').isVisible(), false, 'no host tools for a site');
  });

  test('the phone viewer raises its hand: first in the host\'s site list, with the count', async () => {
    await pages.v2.getByRole('button', { name: 'Giơ tay' }).click();
    await pages.v2.getByRole('button', { name: 'Hạ tay' }).waitFor({ timeout: 5000 });
    assert.equal(await pages.v2.locator('#btn-hand').getAttribute('aria-pressed'), 'true');
    await waitFor(async () => (await pages.host.locator('#people-list li').first().getAttribute('data-participant')) === ids.v2,
      { timeout: 10000, what: 'the raised hand first in the host\'s list' });
    const row = pages.host.locator(`#people-list li[data-participant="${ids.v2}"]`);
    assert.equal(await row.getAttribute('data-hand'), 'true');
    assert.equal(await row.locator('.person-hand').textContent(), 'Đang giơ tay');
    assert.equal(await pages.host.locator('#hands-badge').textContent(), '1');
    assert.equal(await pages.host.locator('#people-announce').textContent(), 'TYT Sầm Sơn giơ tay xin phát biểu.');
    await pages.host.screenshot({ path: join(ARTIFACTS, 'briefing-host-hand.png') });
    // The host's site list on a phone: on screen, nothing wider than the screen.
    await pages.host.setViewportSize(PHONE);
    await pages.host.waitForTimeout(300);
    const hostPhone = await pages.host.evaluate((id) => ({
      scrollWidth: document.documentElement.scrollWidth,
      panel: document.getElementById('people-panel').getBoundingClientRect().toJSON(),
      grant: document.querySelector(`#people-list li[data-participant="${id}"] [data-action="grant"]`).getBoundingClientRect().toJSON(),
    }), ids.v2);
    await pages.host.screenshot({ path: join(ARTIFACTS, 'briefing-host-sites-360.png') });
    assert.ok(hostPhone.scrollWidth <= PHONE.width, `host at 360 px: no horizontal scrolling: ${JSON.stringify(hostPhone)}`);
    assert.ok(hostPhone.panel.left >= 0 && hostPhone.panel.right <= PHONE.width, 'the site list fits the width');
    assert.ok(hostPhone.grant.right <= PHONE.width && hostPhone.grant.bottom <= PHONE.height, 'the floor button is on screen');
    await pages.host.setViewportSize({ width: 1024, height: 700 });

    // The phone's briefing view fits 360×740.
    const layout = await pages.v2.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth, scrollHeight: document.documentElement.scrollHeight,
      hand: document.getElementById('btn-hand').getBoundingClientRect().toJSON(),
    }));
    assert.ok(layout.scrollWidth <= PHONE.width && layout.scrollHeight <= PHONE.height, `fits: ${JSON.stringify(layout)}`);
    assert.ok(layout.hand.right <= PHONE.width && layout.hand.bottom <= PHONE.height, 'the hand button on screen');
    await pages.v2.screenshot({ path: join(ARTIFACTS, 'briefing-viewer-360.png') });
  });

  test('the host gives the phone viewer the floor: it turns its camera on and the others decode it large', async () => {
    await pages.host.getByRole('button', { name: 'Cho TYT Sầm Sơn phát biểu' }).click();
    await pages.v2.locator('#floor-prompt').waitFor({ state: 'visible', timeout: 10000 });
    assert.equal((await pages.v2.evaluate(() => window.cau.room)).role, 'presenter');
    assert.equal(await pages.v2.evaluate(() => window.cau.room.hand_raised), false, 'the hand is lowered with the grant');
    await pages.v2.getByRole('button', { name: 'Bật camera và micrô' }).click();
    await pages.v2.locator('#floor-prompt').waitFor({ state: 'hidden', timeout: 10000 });
    assert.equal(await pages.v2.locator('#local-tile').isVisible(), true, 'the new presenter sees itself');

    for (const label of ['host', 'v1']) {
      const large = await expectLarge(pages[label], ids.v2, label);
      assert.ok(large.framesDecoded > 0);
    }
    await pages.v1.locator('#main-tiles [data-participant]').nth(1).waitFor({ timeout: 5000 });
    const main = (await videoTiles(pages.v1)).filter((t) => t.main).map((t) => t.participant);
    assert.deepEqual(main, [ids.host, ids.v2], 'v1: host first, then the new presenter, both large');
    const row = pages.host.locator(`#people-list li[data-participant="${ids.v2}"]`);
    await waitFor(async () => (await row.getAttribute('data-role')) === 'presenter' && (await row.getAttribute('data-hand')) === 'false',
      { timeout: 5000, what: 'host\'s list: presenter, hand down' });
    assert.equal(await pages.host.locator('#hands-badge').isVisible(), false);
    await pages.v1.screenshot({ path: join(ARTIFACTS, 'briefing-two-presenters.png') });
    await pages.v2.screenshot({ path: join(ARTIFACTS, 'briefing-presenter-360.png') });
  });

  test('the host takes the floor back: the phone stops publishing, its tile goes', async () => {
    await pages.host.getByRole('button', { name: 'Thu hồi quyền phát biểu của TYT Sầm Sơn' }).click();
    await waitFor(async () => (await pages.v2.locator('#call-notice').getAttribute('data-key')) === 'notice.floor.revoked',
      { timeout: 10000, what: 'v2 told the floor was taken back' });
    assert.equal((await pages.v2.evaluate(() => window.cau.room)).role, 'viewer');
    assert.equal(await pages.v2.evaluate(() => window.cau.pcs.publish), null, 'publish pc closed');
    assert.equal(await pages.v2.evaluate(() => window.cau.call.localStream.getTracks().length), 0, 'camera released');
    assert.equal(await pages.v2.locator('#local-tile').isVisible(), false);
    for (const label of ['host', 'v1']) {
      await waitFor(async () => (await videoTiles(pages[label])).every((t) => t.participant !== ids.v2),
        { timeout: 15000, what: `${label}: the phone's tile removed` });
    }
    // The server took the phone's tracks away (not just its role).
    for (const label of ['host', 'v1']) {
      await waitFor(() => pages[label].evaluate((id) => window.cau.participants[id].tracks.length === 0, ids.v2),
        { timeout: 15000, what: `${label}: the phone's tracks removed (track-removed)` });
    }
    await expectLarge(pages.v1, ids.host, 'v1 after the revoke');
    assert.equal(await tryPublish(pages.v2), 'floor-required', 'publishing is refused again');
  });
});

describe('a stored briefing: scheduled on the worklist, hosted by its creator, watched by staff', { timeout: 300000 }, () => {
  let server;
  let browser;
  const pages = {};
  const TITLE = `Giao ban tuyến tỉnh ${process.pid}`;

  before(async () => {
    server = await startDemoCaud();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const [label, page] of Object.entries(pages)) await saveLog(page, `briefing-stored-${label}`).catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  test('the specialist schedules and hosts it; a clinician joins as a viewer, raises a hand, gets the floor', async () => {
    const host = pages.host = await openStaffPage(browser, server.url, DEMO.specialist.username);
    await host.locator('#briefing-form').waitFor({ state: 'visible', timeout: 10000 });
    await host.getByLabel('Tên buổi giao ban').fill(TITLE);
    await host.getByRole('button', { name: 'Tạo buổi giao ban' }).click();
    const item = host.locator('#briefings-list li', { hasText: TITLE });
    await item.waitFor({ timeout: 10000 });
    assert.equal(await item.locator('.badge').textContent(), 'Đã lên lịch');
    assert.equal(await item.locator('.item-text').textContent(), 'Bạn chủ trì');
    const briefingId = await item.getAttribute('data-briefing');
    await host.getByRole('link', { name: `Vào giao ban: ${TITLE}` }).click();
    await waitFor(() => host.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'host joined' });
    assert.deepEqual(await host.evaluate(() => window.cau.route), { name: 'briefing', params: [briefingId] });
    assert.equal(await host.locator('#call-room').textContent(), `Giao ban: ${TITLE}`);
    const hostRoom = await host.evaluate(() => window.cau.room);
    assert.equal(hostRoom.kind, 'briefing');
    assert.equal(hostRoom.role, 'host', 'the creator hosts');

    const viewer = pages.viewer = await openStaffPage(browser, server.url, DEMO.clinician.username, { viewport: PHONE });
    const row = viewer.locator('#briefings-list li', { hasText: TITLE });
    await row.waitFor({ timeout: 10000 });
    assert.equal(await row.locator('.item-text').textContent(), `Chủ trì: ${DEMO.specialist.name}`);
    assert.equal(await viewer.locator('#briefing-form').isVisible(), true, 'clinicians may schedule briefings too');
    await countCameraRequests(viewer);
    await viewer.getByRole('link', { name: `Vào giao ban: ${TITLE}` }).click();
    await waitFor(() => viewer.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'viewer joined' });
    assert.equal((await viewer.evaluate(() => window.cau.room)).role, 'viewer');
    assert.equal(await viewer.evaluate(() => window.cameraRequests), 0, 'a site joining from the worklist never opens its camera');
    const hostId = await host.evaluate(() => window.cau.self);
    const viewerId = await viewer.evaluate(() => window.cau.self);
    await expectLarge(viewer, hostId, 'viewer');
    assert.equal(await tryPublish(viewer), 'floor-required');
    await viewer.evaluate(() => { window.cameraRequests = 0; }); // tryPublish's own

    await viewer.getByRole('button', { name: 'Giơ tay' }).click();
    const hostRow = host.locator(`#people-list li[data-participant="${viewerId}"]`);
    await waitFor(async () => (await hostRow.getAttribute('data-hand')) === 'true', { timeout: 10000, what: 'host sees the hand' });
    assert.equal(await hostRow.locator('.person-name').textContent(), DEMO.clinician.name, 'names come from the accounts');
    await host.getByRole('button', { name: `Cho ${DEMO.clinician.name} phát biểu` }).click();
    await viewer.getByRole('button', { name: 'Bật camera và micrô' }).click();
    await expectLarge(host, viewerId, 'host');
    assert.equal(await viewer.evaluate(() => window.cameraRequests), 1, 'the camera opens once the site has the floor');
    await viewer.screenshot({ path: join(ARTIFACTS, 'briefing-stored-presenter-360.png') });
    await host.screenshot({ path: join(ARTIFACTS, 'briefing-stored-host.png') });

    // Leaving goes back to the worklist.
    await viewer.getByRole('button', { name: 'Rời phòng' }).click();
    await waitFor(async () => (await viewer.evaluate(() => window.cau.route.name)) === 'worklist',
      { timeout: 10000, what: 'viewer back on the worklist' });
  });
});
