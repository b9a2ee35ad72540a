// The web client's own behaviour against a real caud: languages (vi default, ?lang=en,
// remembered choice), client-side validation, a server error shown in the banner by its
// code (room-full, from a caud started with --max-participants 2), accessible names.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openClient, saveLog, startCaud, waitFor } from './harness.mjs';

describe('web client UI', { timeout: 120000 }, () => {
  let server;
  let browser;
  const pages = {};

  before(async () => {
    server = await startCaud({ extraArgs: ['--max-participants', '2'] });
    browser = await launchBrowser();
  });

  after(async () => {
    for (const [label, page] of Object.entries(pages)) await saveLog(page, `ui-${label}`).catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  // The anonymous room-code form lives at #/room (without a hash the staff login opens).
  async function plainPage(query = '') {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 800, height: 700 } });
    const page = await context.newPage();
    await page.goto(`${server.url}${query}#/room`);
    return page;
  }

  test('Vietnamese by default; ?lang=en and the switch are remembered', async () => {
    const page = pages.lang = await plainPage();
    const heading = page.locator('#join-heading');
    assert.equal(await heading.textContent(), 'Tham gia phòng khám trực tuyến');
    assert.equal(await page.getAttribute('html', 'lang'), 'vi');

    await page.goto(`${server.url}?lang=en#/room`);
    assert.equal(await heading.textContent(), 'Join an online consultation');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await page.getByLabel('Room code').count(), 1, 'inputs are labelled');

    await page.goto(`${server.url}#/room`); // no parameter: the remembered choice
    assert.equal(await heading.textContent(), 'Join an online consultation');

    await page.getByRole('button', { name: 'Switch to Vietnamese' }).click();
    assert.equal(await heading.textContent(), 'Tham gia phòng khám trực tuyến');
    await page.reload();
    assert.equal(await heading.textContent(), 'Tham gia phòng khám trực tuyến');
    assert.equal(await page.evaluate(() => localStorage.getItem('cau.lang')), 'vi');
  });

  test('invalid input is caught before it reaches the server', async () => {
    const page = pages.invalid = await plainPage('?room=bad%20room&name=X&autojoin=1');
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => window.cau.state), 'idle', 'autojoin refused an invalid room');
    await page.getByRole('button', { name: 'Vào phòng' }).click();
    assert.equal(await page.locator('#join-room').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#join-status').textContent(), /Mã phòng/);
    assert.equal(await page.evaluate(() => window.cau.state), 'idle');
  });

  test('room-full from caud is shown in the banner, localized, and the form comes back', async (t) => {
    if (server.external) {
      t.skip('needs a caud started with --max-participants 2');
      return;
    }
    const room = `day-${process.pid}`;
    pages.one = await openClient(browser, server.url, { room, name: 'Một' });
    pages.two = await openClient(browser, server.url, { room, name: 'Hai' });
    for (const p of [pages.one, pages.two]) {
      await waitFor(() => p.evaluate(() => window.cau.state === 'joined'), { timeout: 10000, what: 'joined' });
    }
    const third = pages.three = await openClient(browser, server.url, { room, name: 'Ba', lang: 'en' });
    const banner = third.locator('#banner');
    await banner.waitFor({ state: 'visible', timeout: 10000 });
    assert.equal(await banner.getAttribute('data-code'), 'room-full');
    assert.equal(await third.locator('#banner-text').textContent(), 'The room is full.');
    assert.equal(await third.evaluate(() => window.cau.state), 'failed');
    assert.equal(await third.locator('#join-view').isVisible(), true);
    assert.equal(await third.locator('#join-submit').isEnabled(), true);

    await third.getByRole('button', { name: 'Switch to Vietnamese' }).click();
    assert.equal(await third.locator('#banner-text').textContent(), 'Phòng đã đủ người.');
    await third.getByRole('button', { name: 'Đóng thông báo' }).click();
    assert.equal(await banner.isVisible(), false);
  });

  test('every visible control in the call view has an accessible name', async (t) => {
    const page = pages.one;
    if (!page) {
      t.skip('no joined page');
      return;
    }
    const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, [role="toolbar"]')]
      .filter((el) => el.getClientRects().length > 0)
      .filter((el) => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim()))
      .map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, []);
    // Keyboard: Tab reaches the mic button and Space toggles it.
    await page.locator('#btn-mic').focus();
    await page.keyboard.press('Space');
    assert.equal(await page.locator('#btn-mic').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.evaluate(() => window.cau.call.audioMuted), true);
  });
});
