// End to end, the way issue 4 says it is done: against a real caud whose store was seeded
// with the demo world by `cau demo` (every demo account's password = CAU_DEMO_PASSWORD;
// with CAU_URL, a server seeded that way already), a clinician logs in, opens a
// patient, schedules a consultation inviting a specialist and copies the patient's
// invitation link; the patient (a second browser context, on a phone-sized screen) opens
// it and waits in the lobby; the clinician joins the call, sees the waiting patient and
// admits them; both then decode each other's video (getStats framesDecoded > 0).
// Also: a wrong password and a locked account are explained on the login page, the
// language switch works on the new views, and they fit a 360 px screen (screenshots in
// artifacts/).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ARTIFACTS, DEMO, DEMO_PASSWORD as PASSWORD, launchBrowser, logIn, openPage, routeName as route, saveLog,
  startDemoCaud, waitFor, waitForRemoteVideo as expectRemoteVideo,
} from './harness.mjs';

// Demo accounts and patient (records/demo.c, harness.mjs DEMO).
const CLINICIAN = DEMO.clinician;
const SPECIALIST = DEMO.specialist.name;
const PATIENT = DEMO.patient;
const REASON = `Hội chẩn thử nghiệm ${process.pid}: khó thở khi gắng sức`;
const TZ = 'Asia/Ho_Chi_Minh';
const PHONE = { width: 360, height: 740 };

describe('consultation: login → chart → schedule → invitation → lobby → admitted call', { timeout: 360000 }, () => {
  let server;
  let browser;
  const pages = {};
  const shared = {}; // consultationId, inviteUrl: from the main flow to the tests after it

  before(async () => {
    server = await startDemoCaud();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const [label, page] of Object.entries(pages)) await saveLog(page, `consult-${label}`).catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  test('a wrong password is refused with an explanation; no session is kept', async () => {
    const page = pages.wrong = await openPage(browser, server.url);
    assert.equal(await route(page), 'login', 'without a session the login page opens');
    await logIn(page, CLINICIAN.username, `${PASSWORD}-wrong`);
    const error = page.locator('#login-error');
    await waitFor(async () => (await error.getAttribute('data-code')) === 'invalid-credentials',
      { timeout: 10000, what: 'invalid-credentials shown' });
    assert.equal(await error.textContent(), 'Tên đăng nhập hoặc mật khẩu không đúng.');
    assert.equal(await route(page), 'login');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cau.session')), null);
    assert.equal(await page.locator('#login-password').inputValue(), '', 'the password field is cleared');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'login-password', 'focus back on the password');
  });

  test('five failures lock the account; the wait is shown in minutes', async () => {
    const page = pages.locked = await openPage(browser, server.url, '#/login', { lang: 'en' });
    const error = page.locator('#login-error');
    for (let i = 1; i <= 5; i++) {
      await logIn(page, 'nurse.samson', `wrong-${i}`);
      // The fifth failure itself may already answer account-locked.
      await waitFor(async () => ['invalid-credentials', 'account-locked'].includes(await error.getAttribute('data-code'))
        && (await page.locator('#login-submit').isEnabled()), { timeout: 10000, what: `failure ${i} answered` });
      await page.evaluate(() => { document.getElementById('login-error').dataset.code = ''; });
    }
    await logIn(page, 'nurse.samson', PASSWORD); // even the right password now
    await waitFor(async () => (await error.getAttribute('data-code')) === 'account-locked',
      { timeout: 10000, what: 'account-locked shown' });
    assert.match(await error.textContent(), /^The account is locked after too many failed attempts\. Try again in (1[0-5]) minute\(s\)\.$/);
    assert.equal(await route(page), 'login');
  });

  test('the clinician schedules a consultation, the patient waits in the lobby, is admitted, and both see each other; the invited specialist joins from their worklist', async () => {
    const doc = pages.clinician = await openPage(browser, server.url, '', { timezoneId: TZ, clipboard: true });
    await logIn(doc, CLINICIAN.username);
    await waitFor(async () => (await route(doc)) === 'worklist', { timeout: 10000, what: 'worklist after login' });
    assert.equal(await doc.evaluate(() => window.cau.user.role), 'clinician');
    assert.equal(await doc.locator('#worklist-heading').textContent(), 'Lịch hội chẩn hôm nay');
    await doc.locator('#worklist-view[data-loaded]').waitFor({ timeout: 10000 });

    // Open the patient: search by name, then the chart.
    await doc.getByRole('link', { name: 'Bệnh nhân', exact: true }).click();
    await doc.getByLabel('Tìm theo tên, CCCD hoặc số thẻ BHYT').fill('Lê Văn An');
    await doc.getByRole('button', { name: 'Tìm', exact: true }).click();
    await doc.getByRole('link', { name: PATIENT.name }).click();
    await doc.locator('#chart-body:not([hidden])').waitFor({ timeout: 10000 });
    assert.equal(await doc.locator('#chart-heading').textContent(), PATIENT.name);
    assert.equal(await doc.locator('#chart-cccd').textContent(), PATIENT.cccd);
    assert.equal(await doc.locator('#chart-bhyt').textContent(), PATIENT.bhyt);
    assert.equal(await doc.locator('#chart-birth').textContent(), '12/04/1958');
    assert.equal(await doc.locator('#chart-sex').textContent(), 'Nam');

    // Recording consent: grant it, and it shows as the current decision.
    await doc.getByRole('button', { name: 'Ghi nhận đồng ý ghi hình' }).click();
    await waitFor(async () => (await doc.locator('#chart-recording-consent').getAttribute('data-state')) === 'granted',
      { timeout: 10000, what: 'recording consent granted' });
    assert.match(await doc.locator('#chart-recording-consent').textContent(), /^Ghi hình: bệnh nhân đã đồng ý \(Bằng lời, /);

    // Schedule a consultation today (local time), inviting a specialist.
    await doc.getByRole('link', { name: 'Đặt lịch hội chẩn' }).click();
    await doc.locator('#sf-patient-chosen:not([hidden])').waitFor({ timeout: 10000 });
    assert.match(await doc.locator('#sf-patient-chosen').textContent(), new RegExp(PATIENT.name));
    const when = await doc.evaluate(() => {
      const now = new Date();
      const later = new Date(now.getTime() + 10 * 60000);
      const d = later.getDate() === now.getDate() ? later : now; // stay on today's date
      const pad = (n) => String(n).padStart(2, '0');
      return { date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, time: `${pad(d.getHours())}:${pad(d.getMinutes())}` };
    });
    await doc.getByLabel('Ngày', { exact: true }).fill(when.date);
    await doc.getByLabel('Giờ', { exact: true }).fill(when.time);
    await doc.getByLabel('Lý do hội chẩn').fill(REASON);
    await doc.getByLabel(SPECIALIST).check();
    await doc.getByRole('button', { name: 'Đặt lịch', exact: true }).click();
    await waitFor(async () => (await route(doc)) === 'chart', { timeout: 10000, what: 'back to the chart after scheduling' });
    const item = doc.locator('#chart-consultations li.consult', { hasText: REASON });
    await item.waitFor({ timeout: 10000 });
    const consultationId = await item.getAttribute('data-consultation');
    assert.ok(consultationId, 'the new consultation is listed on the chart');
    assert.equal(await item.locator('.badge').textContent(), 'Đã lên lịch');
    assert.equal(await item.locator('time').textContent(), `${when.time} ${when.date.split('-').reverse().join('/')}`,
      'scheduled time shown in local time');

    // It is on today's worklist too, with the patient's name and the local time.
    await doc.getByRole('link', { name: 'Lịch hôm nay' }).click();
    const row = doc.locator(`#worklist-list li[data-consultation="${consultationId}"]`);
    await row.waitFor({ timeout: 10000 });
    assert.equal(await row.locator('time').textContent(), when.time);
    assert.equal(await row.locator('.patient-link').textContent(), PATIENT.name);

    // Copy the patient's invitation link.
    await row.getByRole('button', { name: 'Sao chép liên kết cho bệnh nhân' }).click();
    const urlInput = row.getByLabel('Liên kết mời bệnh nhân');
    await urlInput.waitFor({ timeout: 10000 });
    const inviteUrl = await urlInput.inputValue();
    Object.assign(shared, { consultationId, inviteUrl });
    assert.match(inviteUrl, /^https:\/\/[^/]+\/#\/join\/[^/]+$/, `invitation url ${inviteUrl}`);
    assert.equal(await doc.evaluate(() => navigator.clipboard.readText()), inviteUrl, 'the link is on the clipboard');
    assert.match(await row.locator('.invite-status').textContent(), /^Đã sao chép liên kết\. Hiệu lực đến \d\d:\d\d \d\d\/\d\d\/\d{4}\.$/);

    // The patient opens it on a phone and waits in the lobby.
    const patient = pages.patient = await openPage(browser, server.url, '', { viewport: PHONE, timezoneId: TZ });
    await patient.goto(inviteUrl.replace(/^https:\/\/[^/]+\//, server.url));
    await waitFor(() => patient.evaluate(() => window.cau.state === 'lobby'), { timeout: 15000, what: 'patient in the lobby' });
    assert.equal(await patient.locator('#patient-join-view').getAttribute('data-phase'), 'waiting');
    assert.equal(await patient.locator('#pj-status').textContent(), 'Vui lòng chờ bác sĩ cho bạn vào phòng.');
    assert.match(await patient.locator('#pj-who').textContent(), new RegExp(`^${PATIENT.name} · hẹn lúc `));
    assert.equal(await patient.locator('#call-view').isVisible(), false, 'no call view while waiting');
    // The worklist says the patient is waiting.
    await doc.getByRole('button', { name: 'Làm mới' }).click();
    await waitFor(async () => (await row.locator('.badge').textContent()) === 'Bệnh nhân đang chờ',
      { timeout: 10000, what: 'worklist status: patient waiting (arrived)' });
    await patient.screenshot({ path: join(ARTIFACTS, 'patient-lobby-360.png') });

    // The clinician joins the call and sees the patient waiting.
    await row.getByRole('link', { name: 'Vào phòng' }).click();
    await waitFor(() => doc.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'clinician joined' });
    assert.deepEqual(await doc.evaluate(() => window.cau.route), { name: 'call', params: [consultationId] });
    const waiting = doc.locator('#lobby-panel li', { hasText: PATIENT.name });
    await waiting.waitFor({ timeout: 10000 });
    assert.equal(await doc.locator('#call-room').textContent(), `Hội chẩn: ${PATIENT.name}`);
    const lobby = await doc.evaluate(() => window.cau.lobby);
    assert.equal(lobby.length, 1);
    assert.equal(lobby[0].name, PATIENT.name);
    assert.equal(await patient.evaluate(() => window.cau.state), 'lobby', 'still waiting until admitted');
    // The lobby panel on a phone: on screen, nothing wider than the screen.
    await doc.setViewportSize(PHONE);
    await doc.waitForTimeout(300);
    await doc.screenshot({ path: join(ARTIFACTS, 'clinician-lobby-360.png') });
    const phoneLayout = await doc.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      scrollHeight: document.documentElement.scrollHeight,
      admit: document.querySelector('#lobby-panel .lobby-admit').getBoundingClientRect().toJSON(),
    }));
    assert.ok(phoneLayout.scrollWidth <= 360 && phoneLayout.scrollHeight <= 740, `call view with the lobby fits: ${JSON.stringify(phoneLayout)}`);
    assert.ok(phoneLayout.admit.right <= 360 && phoneLayout.admit.bottom <= 740, 'Admit is on screen');
    await doc.setViewportSize({ width: 1024, height: 700 });

    await doc.getByRole('button', { name: `Cho ${PATIENT.name} vào phòng` }).click();
    await waitFor(() => patient.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'patient admitted' });
    await doc.locator('#lobby-panel').waitFor({ state: 'hidden', timeout: 10000 });

    // Both see each other's video.
    const selfDoc = await doc.evaluate(() => window.cau.self);
    const selfPatient = await patient.evaluate(() => window.cau.self);
    assert.ok(selfDoc && selfPatient && selfDoc !== selfPatient);
    const docStats = await expectRemoteVideo(doc, 'clinician');
    const patientStats = await expectRemoteVideo(patient, 'patient');
    assert.equal(docStats.tiles[0].participant, selfPatient, 'the clinician\'s tile is the patient');
    assert.equal(patientStats.tiles[0].participant, selfDoc, 'the patient\'s tile is the clinician');
    assert.ok(docStats.tiles[0].framesDecoded > 0 && patientStats.tiles[0].framesDecoded > 0);
    // Names come from the accounts, not from what the client typed.
    await waitFor(async () => (await doc.locator(`[data-participant="${selfPatient}"] .tile-name`).textContent()) === PATIENT.name,
      { timeout: 5000, what: 'clinician shows the patient\'s name' });
    await waitFor(async () => (await patient.locator(`[data-participant="${selfDoc}"] .tile-name`).textContent()) === CLINICIAN.name,
      { timeout: 5000, what: 'patient shows the clinician\'s name' });
    await patient.screenshot({ path: join(ARTIFACTS, 'patient-call-360.png') });

    // The invited specialist finds the consultation on their worklist and joins: three
    // participants, each decoding the other two.
    const spec = pages.specialist = await openPage(browser, server.url, '', { timezoneId: TZ });
    await logIn(spec, DEMO.specialist.username);
    await waitFor(async () => (await route(spec)) === 'worklist', { timeout: 10000, what: 'specialist worklist' });
    const specRow = spec.locator(`#worklist-list li[data-consultation="${consultationId}"]`);
    await specRow.waitFor({ timeout: 10000 });
    await specRow.getByRole('link', { name: 'Vào phòng' }).click();
    await waitFor(() => spec.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'specialist joined' });
    const selfSpec = await spec.evaluate(() => window.cau.self);
    const specStats = await expectRemoteVideo(spec, 'specialist', { tiles: 2 });
    assert.deepEqual(specStats.tiles.map((t) => t.participant).sort(), [selfDoc, selfPatient].sort());
    const patientStats3 = await expectRemoteVideo(patient, 'patient with the specialist', { tiles: 2 });
    assert.deepEqual(patientStats3.tiles.map((t) => t.participant).sort(), [selfDoc, selfSpec].sort());
    await spec.getByRole('button', { name: 'Rời phòng' }).click();
    await waitFor(async () => (await route(spec)) === 'worklist', { timeout: 10000, what: 'specialist back on the worklist' });

    // The patient leaves; the clinician leaves and is back on the worklist.
    await patient.getByRole('button', { name: 'Rời phòng' }).click();
    await waitFor(() => patient.evaluate(() => window.cau.state === 'left'), { timeout: 5000, what: 'patient left' });
    assert.equal(await patient.locator('#patient-join-view').getAttribute('data-phase'), 'left');
    await doc.getByRole('button', { name: 'Rời phòng' }).click();
    await waitFor(async () => (await route(doc)) === 'worklist', { timeout: 10000, what: 'clinician back on the worklist' });
  });

  test('the same link opened again replaces the older window; a denied patient is told so', async (t) => {
    if (!shared.inviteUrl) {
      t.skip('needs the main flow\'s invitation');
      return;
    }
    const link = shared.inviteUrl.replace(/^https:\/\/[^/]+\//, server.url);
    const first = pages.first = await openPage(browser, server.url, '', { viewport: PHONE, timezoneId: TZ });
    await first.goto(link);
    await waitFor(() => first.evaluate(() => window.cau.state === 'lobby'), { timeout: 15000, what: 'first window waiting' });
    const second = pages.second = await openPage(browser, server.url, '', { viewport: PHONE, timezoneId: TZ, lang: 'en' });
    await second.goto(link);
    await waitFor(() => second.evaluate(() => window.cau.state === 'lobby'), { timeout: 15000, what: 'second window waiting' });
    await waitFor(async () => (await first.locator('#pj-status').getAttribute('data-code')) === 'replaced',
      { timeout: 10000, what: 'the first window is told it was replaced' });
    assert.equal(await first.locator('#pj-status').textContent(), 'Liên kết này vừa được mở ở nơi khác; kết nối ở đây đã đóng.');
    assert.equal(await first.evaluate(() => window.cau.state), 'failed');
    assert.equal(await first.getByRole('button', { name: 'Thử lại' }).isVisible(), true);

    const doc = pages.clinician;
    await doc.goto(`${server.url}#/call/${shared.consultationId}`);
    await waitFor(() => doc.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'clinician joined again' });
    await waitFor(async () => (await doc.evaluate(() => window.cau.lobby.length)) === 1,
      { timeout: 10000, what: 'exactly one waiting patient (the replaced window is gone)' });
    await doc.getByRole('button', { name: `Từ chối ${PATIENT.name}` }).click();
    await waitFor(async () => (await second.locator('#pj-status').getAttribute('data-code')) === 'admission-denied',
      { timeout: 10000, what: 'the second window is told it was denied' });
    assert.equal(await second.locator('#pj-status').textContent(), 'The doctor did not let you in at this time.');
    assert.equal(await second.evaluate(() => window.cau.state), 'failed');
    await doc.locator('#lobby-panel').waitFor({ state: 'hidden', timeout: 10000 });
    await doc.getByRole('button', { name: 'Rời phòng' }).click();
    await waitFor(async () => (await route(doc)) === 'worklist', { timeout: 10000, what: 'clinician back on the worklist' });
  });

  test('Vietnamese / English switch on the staff views', async () => {
    const page = pages.lang = await openPage(browser, server.url, '', { timezoneId: TZ });
    assert.equal(await page.locator('#login-heading').textContent(), 'Đăng nhập');
    await page.getByRole('button', { name: 'Chuyển sang tiếng Anh' }).click();
    assert.equal(await page.locator('#login-heading').textContent(), 'Log in');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await logIn(page, CLINICIAN.username);
    await waitFor(async () => (await route(page)) === 'worklist', { timeout: 10000, what: 'worklist' });
    assert.equal(await page.locator('#worklist-heading').textContent(), 'Today\'s consultations');
    await page.locator('#worklist-view[data-loaded]').waitFor({ timeout: 10000 });
    const firstStatus = page.locator('#worklist-list .badge').first();
    if (await firstStatus.count()) assert.match(await firstStatus.textContent(), /^(Scheduled|Patient waiting|In progress|Finished|Cancelled)$/);

    await page.getByRole('link', { name: 'Patients', exact: true }).click();
    await page.getByLabel('Search by name, CCCD or BHYT number').fill(PATIENT.cccd);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('link', { name: PATIENT.name }).click();
    await page.locator('#chart-body:not([hidden])').waitFor({ timeout: 10000 });
    assert.equal(await page.locator('#chart-consents-heading').textContent(), 'Consents');
    assert.equal(await page.locator('#chart-sex').textContent(), 'Male');
    assert.match(await page.locator('#chart-recording-consent').textContent(), /^Recording: /);

    await page.getByRole('button', { name: 'Switch to Vietnamese' }).click();
    assert.equal(await page.locator('#chart-consents-heading').textContent(), 'Đồng ý của bệnh nhân');
    assert.equal(await page.locator('#chart-sex').textContent(), 'Nam');
    assert.match(await page.locator('#chart-recording-consent').textContent(), /^Ghi hình: /);
    assert.equal(await page.getAttribute('html', 'lang'), 'vi');

    // The new-patient form: client-side format hints, then the server's verdict per field.
    await page.goto(`${server.url}#/patients/new`);
    await page.getByLabel('Số CCCD').fill('12345');
    await page.getByLabel('Số thẻ BHYT (nếu có)').fill('xx9');
    await page.getByRole('button', { name: 'Lưu hồ sơ' }).click();
    assert.equal(await page.locator('#pf-cccd').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#pf-cccd-error').textContent(), 'Số CCCD gồm đúng 12 chữ số.');
    assert.equal(await page.locator('#pf-bhyt-error').textContent(), 'Số thẻ BHYT gồm 2 chữ cái, 1 số từ 1–5 và 12 chữ số.');
    assert.equal(await page.locator('#pf-name-error').textContent(), 'Hãy nhập họ và tên.');
    await page.getByRole('button', { name: 'Chuyển sang tiếng Anh' }).click();
    assert.equal(await page.locator('#pf-cccd-error').textContent(), 'A CCCD number has exactly 12 digits.');
    // 12 digits, but 999 is no province: only the server knows.
    await page.getByLabel('Full name').fill('Bệnh nhân Thử Nghiệm');
    await page.getByLabel('CCCD (citizen ID)').fill('999190000555');
    await page.getByLabel('BHYT (health insurance) number, if any').fill('');
    await page.getByLabel('Date of birth').fill('1990-01-02');
    await page.getByRole('button', { name: 'Save record' }).click();
    await waitFor(async () => (await page.locator('#pf-cccd-error').textContent()) === 'The CCCD number is not valid.',
      { timeout: 10000, what: 'the server\'s invalid-cccd on the CCCD field' });
    assert.equal(await page.locator('#pf-cccd').getAttribute('aria-invalid'), 'true');
    assert.equal(await route(page), 'patient-new', 'stays on the form');

    // A valid one (Thanh Hóa 038, a man born in 1990) is created and its chart opens.
    const cccd = `038090${String(process.pid % 1000000).padStart(6, '0')}`;
    await page.getByLabel('CCCD (citizen ID)').fill(cccd);
    await page.getByLabel('Sex').selectOption('male');
    await page.getByLabel('Phone, if any').fill('0912 345 678');
    await page.getByRole('button', { name: 'Save record' }).click();
    await waitFor(async () => (await route(page)) === 'chart', { timeout: 10000, what: 'the new patient\'s chart' });
    await page.locator('#chart-body:not([hidden])').waitFor({ timeout: 10000 });
    assert.equal(await page.locator('#chart-heading').textContent(), 'Bệnh nhân Thử Nghiệm');
    assert.equal(await page.locator('#chart-cccd').textContent(), cccd);
    assert.equal(await page.locator('#chart-bhyt').textContent(), '—');
    assert.equal(await page.locator('#chart-birth').textContent(), '02/01/1990');

    // The same CCCD again: the server's conflict is shown, nothing else happens.
    await page.goto(`${server.url}#/patients/new`);
    await page.getByLabel('Full name').fill('Bệnh nhân Trùng');
    await page.getByLabel('CCCD (citizen ID)').fill(cccd);
    await page.getByLabel('Date of birth').fill('1990-01-02');
    await page.getByLabel('Sex').selectOption('male');
    await page.getByRole('button', { name: 'Save record' }).click();
    const conflict = page.locator('#pf-cccd-error, #patient-form-error').filter({ hasText: 'This duplicates an existing record' });
    await conflict.first().waitFor({ timeout: 10000 });
    assert.equal(await route(page), 'patient-new');
  });

  test('the session is refreshed before it expires; a token the server refuses leads back to the login', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, timezoneId: TZ });
    const page = pages.refresh = await context.newPage();
    page.cauLog = [];
    page.on('console', (m) => page.cauLog.push(`[${m.type()}] ${m.text()}`));
    await page.clock.install(); // the page's timers run on a clock the test moves
    await page.goto(server.url);
    await logIn(page, CLINICIAN.username);
    await waitFor(async () => (await route(page)) === 'worklist', { timeout: 10000, what: 'worklist' });
    const before = JSON.parse(await page.evaluate(() => sessionStorage.getItem('cau.session')));
    const lifetime = Date.parse(before.expires_at) - (await page.evaluate(() => Date.now()));
    assert.ok(lifetime > 5 * 60000, `a staff token lives minutes (${lifetime} ms)`);

    // Two minutes before expiry the client asks for a fresh token.
    const refreshed = page.waitForResponse((r) => r.url().endsWith('/api/auth/refresh') && r.request().method() === 'POST',
      { timeout: 15000 });
    await page.clock.fastForward(lifetime - 2 * 60000 + 1000);
    const response = await refreshed;
    assert.equal(response.status(), 200);
    const answer = await response.json();
    await waitFor(async () => JSON.parse(await page.evaluate(() => sessionStorage.getItem('cau.session'))).token === answer.token,
      { timeout: 5000, what: 'the fresh token stored' });
    await page.getByRole('button', { name: 'Làm mới' }).click();
    await page.locator('#worklist-view[data-loaded]').waitFor({ timeout: 10000 });
    assert.equal(await route(page), 'worklist', 'still logged in with the fresh token');

    // A token the server refuses (tampered signature): the next call answers 401 and the
    // user is sent to the login page, told why; after logging in they are back where they were.
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('cau.session'));
      s.token = `${s.token.slice(0, -4)}AAAA`;
      sessionStorage.setItem('cau.session', JSON.stringify(s));
    });
    await page.goto(`${server.url}#/patients`);
    await page.reload(); // the page reads the stored session afresh
    await waitFor(async () => (await route(page)) === 'login', { timeout: 10000, what: 'login after a refused token' });
    assert.equal(await page.locator('#login-error').textContent(), 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cau.session')), null);
    await logIn(page, CLINICIAN.username);
    await waitFor(async () => (await route(page)) === 'patients', { timeout: 10000, what: 'back on the patients page' });
  });

  test('worklist and chart fit a 360 px phone screen (screenshots in artifacts/)', async () => {
    const page = pages.phone = await openPage(browser, server.url, '', { viewport: PHONE, timezoneId: TZ });
    await logIn(page, CLINICIAN.username);
    await waitFor(async () => (await route(page)) === 'worklist', { timeout: 10000, what: 'worklist' });
    await page.locator('#worklist-view[data-loaded]').waitFor({ timeout: 10000 });
    assert.ok(Number(await page.locator('#worklist-view').getAttribute('data-loaded')) >= 1, 'today\'s consultation is listed');

    const check = async (label) => {
      const layout = await page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        unnamed: [...document.querySelectorAll('button, input, select, textarea, a[href]')]
          .filter((el) => el.getClientRects().length > 0)
          .filter((el) => !(el.getAttribute('aria-label') || el.labels?.length || el.textContent.trim()))
          .map((el) => el.outerHTML.slice(0, 80)),
        offscreen: [...document.querySelectorAll('#main button, #main a[href], #main input')]
          .filter((el) => el.getClientRects().length > 0)
          .map((el) => el.getBoundingClientRect())
          .filter((r) => r.left < 0 || r.right > 360.5).length,
      }));
      assert.ok(layout.scrollWidth <= 360, `${label}: no horizontal scrolling (scrollWidth ${layout.scrollWidth})`);
      assert.deepEqual(layout.unnamed, [], `${label}: every control has an accessible name`);
      assert.equal(layout.offscreen, 0, `${label}: every control within the width`);
    };
    await check('worklist');
    await page.screenshot({ path: join(ARTIFACTS, 'worklist-360.png'), fullPage: true });

    await page.locator('#worklist-list .patient-link', { hasText: PATIENT.name }).first().click();
    await page.locator('#chart-body:not([hidden])').waitFor({ timeout: 10000 });
    await check('chart');
    await page.screenshot({ path: join(ARTIFACTS, 'chart-360.png'), fullPage: true });

    // Keyboard: the consent button is reachable with Tab from the method choice.
    await page.locator('#consent-method').focus();
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement.id);
    assert.ok(['consent-grant', 'consent-withdraw'].includes(focused), `Tab reaches the consent action (${focused})`);

    // Logging out ends the session: the worklist asks for a login again.
    await page.getByRole('button', { name: 'Đăng xuất' }).click();
    await waitFor(async () => (await route(page)) === 'login', { timeout: 10000, what: 'login after logout' });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cau.session')), null);
    await page.goto(`${server.url}#/worklist`);
    assert.equal(await route(page), 'login');
  });
});
