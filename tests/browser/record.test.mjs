// Issue 5's "Done when", end to end against a real caud seeded by `cau demo`: a clinician
// and the patient (invitation link, phone-sized page) are in a consultation call; the
// clinician presses Record, the patient is asked and agrees, both see the recording
// indicator; after ~8 s the clinician stops and both leave; the recording appears in the
// patient's chart within seconds, the composed file's progress runs to the end, and it
// plays in the chart's <video> (readyState ≥ 2, currentTime advancing, the duration the
// file carries within ±1 s of what was recorded). Also: the patient refuses (no
// recording, the clinician is told why) and then agrees and withdraws (recording stops
// with that reason); a staff user outside the consultation's care team is refused (403
// shown, nothing played); a file altered on disk is reported (409 integrity-failed), not played.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ARTIFACTS, DEMO, apiFrom, joinAndAdmit, launchBrowser, openInvitation, openStaffPage, routeName,
  saveLog, scheduleWithInvitation, startDemoCaud, waitFor, waitForRemoteVideo,
} from './harness.mjs';

const TZ = 'Asia/Ho_Chi_Minh';
const PATIENT = DEMO.patient;
const RECORD_MS = 8000;

describe('recording a consultation: consent, indicator, chart, playback', { timeout: 300000 }, () => {
  let server;
  let browser;
  const pages = {};
  const shared = {}; // from the main flow: consultationId, patientId, recordingId, composedId

  before(async () => {
    server = await startDemoCaud();
    browser = await launchBrowser();
  });

  after(async () => {
    for (const [label, page] of Object.entries(pages)) await saveLog(page, `record-${label}`).catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  /** Clinician and patient in a new consultation's call, seeing each other. */
  async function callWithPatient(label, reason) {
    const doc = pages[`${label}-clinician`] = await openStaffPage(browser, server.url, DEMO.clinician.username, { timezoneId: TZ });
    const made = await scheduleWithInvitation(doc, server.url, { cccd: PATIENT.cccd, reason });
    const patient = pages[`${label}-patient`] = await openInvitation(browser, server.url, made.inviteUrl, { timezoneId: TZ });
    await joinAndAdmit(doc, patient, server.url, made.consultationId, PATIENT.name);
    await waitForRemoteVideo(doc, `${label} clinician`);
    await waitForRemoteVideo(patient, `${label} patient`);
    return { doc, patient, ...made };
  }

  const indicatorShown = (page) => page.locator('#rec-indicator').isVisible();
  const noteKey = (page) => page.locator('#rec-note').getAttribute('data-key');

  test('Record → the patient agrees → both see the indicator → stop → in the chart within seconds → plays', async () => {
    const { doc, patient, consultationId, patientId } = await callWithPatient('main', `Ghi hình thử ${process.pid}`);
    Object.assign(shared, { consultationId, patientId });
    assert.equal(await indicatorShown(doc), false, 'not recording yet');
    assert.equal(await patient.locator('#btn-rec').isVisible(), false, 'the patient has no Record button');

    // The recording's start and stop as the clinician's page sees them (performance.now()).
    await doc.evaluate(() => {
      window.recEvents = [];
      window.cau.call.addEventListener('recording', (e) => window.recEvents.push({ at: performance.now(), reason: e.detail.reason ?? null }));
    });

    // Record: the patient has not consented, so they are asked and the button waits.
    const record = doc.getByRole('button', { name: 'Ghi hình', exact: true });
    await record.click();
    const dialog = patient.locator('#consent-dialog');
    await waitFor(() => dialog.isVisible(), { timeout: 20000, what: 'the patient\'s consent prompt' });
    assert.equal(await patient.locator('#consent-title').textContent(), 'Cho phép ghi hình buổi khám?');
    assert.equal(await patient.locator('#consent-who').textContent(), `${DEMO.clinician.name} đề nghị ghi hình buổi khám này.`);
    const points = await patient.locator('.consent-points li').allTextContents();
    assert.match(points[0], /hình ảnh và âm thanh/, 'what is recorded');
    assert.match(points[1], /chỉ các bác sĩ, điều dưỡng điều trị/, 'who may see it');
    assert.match(points[2], /quyền từ chối.*rút lại/, 'that they may refuse or withdraw');
    await waitFor(async () => (await noteKey(doc)) === 'rec.note.asked', { timeout: 10000, what: 'the clinician told the patient is asked' });
    const waiting = doc.locator('#btn-rec');
    assert.equal(await waiting.getAttribute('aria-disabled'), 'true', 'Record waits for the answer');
    assert.equal(await waiting.getAttribute('aria-describedby'), 'rec-note');
    assert.match(await doc.locator('#rec-note').textContent(), /^Bệnh nhân chưa đồng ý ghi hình\./);
    const dialogBox = await dialog.boundingBox();
    assert.ok(dialogBox.x >= 0 && dialogBox.x + dialogBox.width <= 360 && dialogBox.y + dialogBox.height <= 740,
      `the prompt fits the phone screen: ${JSON.stringify(dialogBox)}`);
    await patient.screenshot({ path: join(ARTIFACTS, 'record-consent-360.png') });

    // The patient agrees: recording starts by itself, both see the indicator.
    await patient.getByRole('button', { name: 'Đồng ý ghi hình' }).click();
    await waitFor(() => indicatorShown(doc), { timeout: 15000, what: 'clinician sees the indicator' });
    await waitFor(() => indicatorShown(patient), { timeout: 10000, what: 'patient sees the indicator' });
    assert.equal(await dialog.isVisible(), false, 'the prompt closed');
    for (const page of [doc, patient]) {
      assert.equal(await page.locator('#rec-indicator').textContent(), 'Đang ghi hình');
      assert.match(await page.locator('#rec-announce').textContent(), /^Bắt đầu ghi hình buổi khám\./, 'announced');
    }
    assert.equal(await doc.locator('#btn-rec').getAttribute('aria-disabled'), 'false');
    assert.equal(await doc.locator('#btn-rec .ctl-label').textContent(), 'Dừng ghi');
    assert.equal(await patient.getByRole('button', { name: 'Rút lại đồng ý và dừng ghi hình' }).isVisible(), true,
      'the patient can withdraw while recording');
    const recordingId = await doc.evaluate(() => window.cau.call.recording?.id);
    assert.ok(recordingId, 'the call knows the recording');
    shared.recordingId = recordingId;
    assert.equal(await patient.evaluate(() => window.cau.call.recording?.id), recordingId);
    await patient.screenshot({ path: join(ARTIFACTS, 'record-patient-360.png') });
    const layout = await patient.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      controls: [...document.querySelectorAll('.controls button')].filter((b) => b.getClientRects().length)
        .map((b) => b.getBoundingClientRect().right),
    }));
    assert.ok(layout.scrollWidth <= 360 && layout.controls.every((r) => r <= 360), `call controls fit 360 px: ${JSON.stringify(layout)}`);

    // A nurse of the clinic (care team) joins while recording: told at once by `joined`.
    const joinedAt = performance.now();
    const nurse = pages['main-nurse'] = await openStaffPage(browser, server.url, 'nurse.dongson', { timezoneId: TZ, lang: 'en' });
    await nurse.goto(`${server.url}#/call/${consultationId}`);
    await waitFor(() => nurse.evaluate(() => window.cau.state === 'joined'), { timeout: 20000, what: 'nurse joined' });
    assert.equal(await nurse.evaluate(() => window.cau.call.recording?.id), recordingId, 'joined.recording');
    assert.equal(await indicatorShown(nurse), true);
    assert.equal(await nurse.locator('#rec-indicator').textContent(), 'Recording');
    assert.equal(await nurse.locator('#rec-announce').textContent(), 'This consultation is being recorded.');
    assert.equal(await nurse.locator('#btn-rec .ctl-label').textContent(), 'Stop recording', 'the care team may stop it');
    await nurse.getByRole('button', { name: 'Leave', exact: true }).click();
    await waitFor(async () => (await routeName(nurse)) === 'worklist', { timeout: 20000, what: 'nurse left' });
    assert.equal(await indicatorShown(doc), true, 'still recording after the nurse left');

    // Consults publish simulcast. Halfway the clinician's camera is left with its lowest layer
    // only, as Chromium does when short of CPU or bandwidth: the recorder moves to that layer
    // at its key frame and the file keeps its video (below: it decodes and plays to the end).
    assert.equal(await doc.evaluate(() => window.cau.room.simulcast), true, 'consults publish simulcast');
    await doc.waitForTimeout(Math.max(0, RECORD_MS / 2 - (performance.now() - joinedAt)));
    const encodings = await doc.evaluate(async () => {
      const sender = window.cau.pcs.publish.getSenders().find((s) => s.getParameters().encodings.length > 1);
      const params = sender.getParameters();
      for (const e of params.encodings) e.active = e.rid === 'l';
      await sender.setParameters(params);
      return sender.getParameters().encodings.map((e) => `${e.rid}:${e.active}`).join(' ');
    });
    assert.equal(encodings, 'l:true m:false h:false', 'the camera sends its lowest layer only');

    // About 8 s of call, then the clinician stops; both are told.
    await doc.waitForTimeout(Math.max(0, RECORD_MS - (performance.now() - joinedAt)));
    await doc.getByRole('button', { name: 'Dừng ghi', exact: true }).click();
    await waitFor(async () => !(await indicatorShown(doc)), { timeout: 20000, what: 'indicator gone (clinician)' });
    const events = await doc.evaluate(() => window.recEvents);
    assert.deepEqual(events.map((e) => e.reason), [null, 'stopped'], 'started, then stopped');
    const recordedMs = Math.round(events[1].at - events[0].at);
    await waitFor(async () => !(await indicatorShown(patient)), { timeout: 10000, what: 'indicator gone (patient)' });
    for (const page of [doc, patient]) {
      await waitFor(async () => (await noteKey(page)) === 'rec.stopped.stopped', { timeout: 10000, what: 'stop reason shown' });
      assert.equal(await page.locator('#rec-note').textContent(), 'Đã dừng ghi hình.');
    }

    // Both leave: the call is over.
    await patient.getByRole('button', { name: 'Rời phòng' }).click();
    await doc.getByRole('button', { name: 'Rời phòng' }).click();
    await waitFor(async () => (await routeName(doc)) === 'worklist', { timeout: 20000, what: 'clinician back on the worklist' });
    const endedAt = Date.now();

    // The patient's chart lists the recording within seconds (the chart refreshes itself).
    await doc.goto(`${server.url}#/patients/${patientId}`);
    await doc.locator('#chart-body:not([hidden])').waitFor({ timeout: 20000 });
    // The patient's answer in the call is on the chart: an electronic consent for this consultation.
    const consentRow = doc.locator('#chart-consents li', { hasText: 'Cho buổi hội chẩn' });
    assert.equal(await consentRow.count(), 1);
    assert.match(await consentRow.textContent(), /^Ghi hình: đồng ýĐiện tử · /);
    const group = doc.locator(`#chart-recordings .rec-group[data-consultation="${consultationId}"]`);
    const composed = group.locator('.rec-item[data-kind="composed"]');
    await composed.waitFor({ timeout: 15000 }); // "within seconds" (the time is logged below)
    const listedAfterMs = Date.now() - endedAt;
    const participants = group.locator('.rec-item[data-kind="participant"]');
    // One file per participant who published: the clinician, the patient and (if their
    // camera was up before they left) the nurse.
    await waitFor(async () => (await participants.count()) >= 2, { timeout: 20000, what: 'one file per participant' });
    const names = (await participants.locator('.rec-title').allTextContents()).sort();
    const expected = [`Hình của ${DEMO.clinician.name}`, `Hình của ${PATIENT.name}`];
    if (names.length === 3) expected.push('Hình của ĐD Demo Đông Sơn');
    assert.deepEqual(names, expected.sort());

    // Composition: the progress shown only grows, and the file ends complete.
    const progress = [];
    const composedAt = await waitFor(async () => {
      const [status, value] = await Promise.all([composed.getAttribute('data-status'), composed.getAttribute('data-progress')]);
      if (value !== '' && progress.at(-1) !== Number(value)) progress.push(Number(value));
      if (status === 'failed') throw new Error('composition failed');
      return status === 'complete' && Date.now();
    }, { timeout: 120000, interval: 250, what: 'the composed file complete' });
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b), `progress only grows: ${progress}`);
    assert.ok(progress.every((p) => p >= 0 && p <= 100));
    assert.equal(await composed.locator('progress').count(), 0, 'no progress bar once composed');
    const composedId = await composed.getAttribute('data-recording');
    shared.composedId = composedId;
    const durationMs = Number(await composed.getAttribute('data-duration-ms'));
    for (const row of await participants.all()) assert.equal(await row.getAttribute('data-status'), 'complete');
    await doc.screenshot({ path: join(ARTIFACTS, 'record-chart.png'), fullPage: true });

    // Play it: a ticket url into the <video>, which loads and plays.
    await composed.getByRole('button', { name: 'Phát Toàn bộ buổi khám (ghép)' }).click();
    const video = doc.locator('#chart-player-video');
    await waitFor(() => video.isVisible(), { timeout: 20000, what: 'the player' });
    const src = await video.getAttribute('src');
    assert.match(src, new RegExp(`^/api/recordings/${composedId}/content\\?ticket=`));
    const first = await waitFor(() => doc.evaluate(() => {
      const v = document.getElementById('chart-player-video');
      return v.readyState >= 2 && !v.error && { readyState: v.readyState, time: v.currentTime, duration: v.duration };
    }), { timeout: 20000, what: 'the video has data (readyState >= 2)' });
    const later = await waitFor(() => doc.evaluate((t0) => {
      const v = document.getElementById('chart-player-video');
      return v.currentTime > t0 + 1 && { time: v.currentTime, duration: v.duration, width: v.videoWidth, error: v.error?.code ?? null };
    }, first.time), { timeout: 15000, what: 'currentTime advances' });
    assert.ok(later.width > 0, 'video frames decoded');
    assert.equal(await doc.locator('#chart-player-error').textContent(), '');
    const headerDuration = Number.isFinite(later.duration) ? later.duration : null;
    // A file written as it is recorded may carry no duration (the <video> says Infinity):
    // play it to its end, fast, and take the time it ends at.
    const end = await doc.evaluate(() => new Promise((resolve) => {
      const v = document.getElementById('chart-player-video');
      const done = () => resolve({ ended: v.ended, time: v.currentTime, duration: v.duration, error: v.error?.code ?? null });
      if (v.ended) return done();
      v.addEventListener('ended', done, { once: true });
      v.addEventListener('error', done, { once: true });
      v.muted = true;
      v.playbackRate = 16;
      v.play().catch(done);
      setTimeout(done, 30000);
    }));
    assert.ok(end.ended && end.error === null, `played to the end: ${JSON.stringify(end)}`);
    console.log(`record: recorded ${recordedMs} ms (between the page's events), row duration ${durationMs} ms, ` +
      `<video> header duration ${headerDuration} s, played to ${end.time} s; listed ${listedAfterMs} ms after the call, ` +
      `composed ${composedAt - endedAt} ms after; progress seen ${progress.join(',') || 'none'}`);
    if (headerDuration !== null) {
      assert.ok(Math.abs(headerDuration * 1000 - recordedMs) <= 1000, `the file's duration ${headerDuration} s is within ±1 s of ${recordedMs} ms recorded`);
    }
    assert.ok(Math.abs(end.time * 1000 - recordedMs) <= 1000, `the file plays ${end.time} s, within ±1 s of ${recordedMs} ms recorded`);
    assert.ok(Math.abs(durationMs - recordedMs) <= 1000, `the row's duration ${durationMs} ms is within ±1 s of ${recordedMs} ms recorded`);
  });

  test('the patient refuses: nothing is recorded and the clinician is told; then agrees and withdraws', async () => {
    const { doc, patient, consultationId } = await callWithPatient('refuse', `Từ chối ghi hình ${process.pid}`);
    await doc.getByRole('button', { name: 'Ghi hình', exact: true }).click();
    await waitFor(() => patient.locator('#consent-dialog').isVisible(), { timeout: 20000, what: 'consent prompt' });
    await patient.getByRole('button', { name: 'Không đồng ý' }).click();
    await waitFor(async () => (await noteKey(doc)) === 'rec.note.refused', { timeout: 20000, what: 'the clinician told of the refusal' });
    assert.equal(await doc.locator('#rec-note').textContent(), 'Bệnh nhân không đồng ý ghi hình. Buổi khám không được ghi.');
    assert.equal(await doc.locator('#btn-rec').getAttribute('aria-disabled'), 'false', 'Record is offered again');
    assert.equal(await doc.locator('#btn-rec .ctl-label').textContent(), 'Ghi hình');
    await doc.waitForTimeout(1500); // nothing starts behind anyone's back
    assert.equal(await indicatorShown(doc), false);
    assert.equal(await indicatorShown(patient), false);
    const none = await apiFrom(doc, 'GET', `/api/consultations/${consultationId}/recordings`);
    assert.deepEqual(none, { status: 200, body: [] }, 'no recording filed');

    // Asked again, the patient agrees, then withdraws: recording stops, everyone is told why.
    await doc.getByRole('button', { name: 'Ghi hình', exact: true }).click();
    await waitFor(() => patient.locator('#consent-dialog').isVisible(), { timeout: 20000, what: 'consent prompt again' });
    await patient.getByRole('button', { name: 'Đồng ý ghi hình' }).click();
    await waitFor(() => indicatorShown(patient), { timeout: 15000, what: 'recording (patient)' });
    await waitFor(() => indicatorShown(doc), { timeout: 10000, what: 'recording (clinician)' });
    await patient.waitForTimeout(2000);
    await patient.getByRole('button', { name: 'Rút lại đồng ý và dừng ghi hình' }).click();
    for (const page of [doc, patient]) {
      await waitFor(async () => !(await indicatorShown(page)), { timeout: 20000, what: 'indicator gone' });
      await waitFor(async () => (await noteKey(page)) === 'rec.stopped.consent-withdrawn', { timeout: 10000, what: 'withdrawal reason shown' });
    }
    assert.equal(await doc.locator('#rec-note').textContent(), 'Đã dừng ghi hình vì bệnh nhân rút lại đồng ý.');
    assert.equal(await patient.locator('#btn-withdraw').isVisible(), false);
    await patient.getByRole('button', { name: 'Rời phòng' }).click();
    await doc.getByRole('button', { name: 'Rời phòng' }).click();
  });

  test('a staff user outside the care team is refused: the list and playback answer 403, shown, nothing played', async (t) => {
    if (!shared.composedId) {
      t.skip('needs the main flow\'s recording');
      return;
    }
    // The Thanh Hóa specialist is on the patient's demo consultation (so may open the
    // chart) but not on the recorded one.
    const page = pages.outsider = await openStaffPage(browser, server.url, DEMO.specialist.username, { timezoneId: TZ, lang: 'en' });
    await page.goto(`${server.url}#/patients/${shared.patientId}`);
    await page.locator('#chart-body:not([hidden])').waitFor({ timeout: 20000 });
    const refused = page.locator(`#chart-recordings .rec-group[data-consultation="${shared.consultationId}"] .rec-error`);
    await refused.waitFor({ timeout: 20000 });
    assert.equal(await refused.getAttribute('data-code'), 'forbidden');
    assert.equal(await refused.textContent(), "Only this consultation's care team may see its recordings.");
    assert.equal(await page.locator(`[data-recording="${shared.composedId}"]`).count(), 0, 'the file is not listed');

    // The recording's own page (a link a colleague may have shared): Play is refused.
    await page.goto(`${server.url}#/recordings/${shared.composedId}`);
    await page.locator('#recording-page:not([hidden])').waitFor({ timeout: 20000 });
    const answer = page.waitForResponse((r) => r.url().endsWith(`/api/recordings/${shared.composedId}/playback`));
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    assert.equal((await answer).status(), 403);
    const error = page.locator('#recording-page-error');
    await waitFor(async () => (await error.getAttribute('data-code')) === 'forbidden', { timeout: 10000, what: '403 shown' });
    assert.equal(await error.textContent(), "You may not play this recording: only the consultation's care team may.");
    assert.equal(await page.locator('#recording-page-video').isVisible(), false, 'nothing played');
    assert.equal(await page.locator('#recording-page-video').getAttribute('src'), null);
  });

  test('a file altered on disk fails its integrity check: the chart says so and plays nothing', async (t) => {
    if (!shared.composedId || !server.dataDir) {
      t.skip(server.dataDir ? 'needs the main flow\'s recording' : 'needs the server\'s data directory (not with CAU_URL)');
      return;
    }
    const file = join(server.dataDir, 'recordings', `${shared.recordingId}-composed.mkv.cauv`);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(file, bytes);
    const later = new Date(Date.now() + 60000); // a new modification time: the digest is checked again
    utimesSync(file, later, later);

    const doc = pages['main-clinician'];
    await doc.goto(`${server.url}#/patients/${shared.patientId}`);
    const composed = doc.locator(`#chart-recordings [data-recording="${shared.composedId}"]`);
    await composed.waitFor({ timeout: 20000 });
    const answer = doc.waitForResponse((r) => r.url().endsWith(`/api/recordings/${shared.composedId}/playback`));
    await composed.getByRole('button', { name: 'Phát Toàn bộ buổi khám (ghép)' }).click();
    assert.equal((await answer).status(), 409);
    const error = doc.locator('#chart-player-error');
    await waitFor(async () => (await error.getAttribute('data-code')) === 'integrity-failed', { timeout: 10000, what: 'integrity failure shown' });
    assert.equal(await error.textContent(),
      'Bản ghi không qua được kiểm tra toàn vẹn (có thể đã bị hỏng hoặc bị sửa). Bản ghi không được phát.');
    assert.equal(await doc.locator('#chart-player-video').isVisible(), false, 'nothing played');
    assert.equal(await doc.locator('#chart-player-video').getAttribute('src'), null);
  });
});
