// Shared fixtures for the browser tests: start caud on a free port (stopped by PID),
// launch headless Chromium confined to loopback (/work/shared/LAB-NOTES.md), open
// pages of the web client, and read WebRTC stats through the page's `window.cau` hook.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, createWriteStream, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = join(here, 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** caud's media UDP range (DESIGN.md default); override if caud is run otherwise. */
export const MEDIA_PORT_MIN = Number(process.env.CAUD_MEDIA_PORT_MIN ?? 20000);
export const MEDIA_PORT_MAX = Number(process.env.CAUD_MEDIA_PORT_MAX ?? 20999);

// Every flag from LAB-NOTES that keeps Chromium off the outside network, plus fake
// media devices. The profile is a fresh temporary directory made by playwright itself
// (it refuses --user-data-dir with launch()).
const LAB_DISABLED_FEATURES = [
  'WebRtcHideLocalIpsWithMdns', 'MediaRouter', 'DialMediaRouteProvider', 'OptimizationHints', 'Translate',
];
const CHROMIUM_ARGS = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
  '--no-pings',
  '--dns-prefetch-disable',
  // Tiles play with sound without a click after ?autojoin=1.
  '--autoplay-policy=no-user-gesture-required',
];

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

/**
 * Start caud (env CAUD, else ../../build/server/caud) on a free HTTPS port with a fresh
 * data directory and ICE pinned to 127.0.0.1; resolves when it prints "caud listening on".
 * `extraArgs` are appended to the command line, `env` is added to caud's environment,
 * and `prepare(dataDir)` (async) runs before caud starts (e.g. to seed the store with
 * `cau`, see runCau); the result carries `dataDir`. With env CAU_URL set, uses that
 * already running server instead and starts nothing (`external: true`, no `dataDir`).
 */
/** Write a WAV file of a steady tone (16-bit mono 48 kHz, `seconds` long, `dbov` loud) for
 *  --use-file-for-fake-audio-capture: a "voice" the active-speaker detector hears all the
 *  time, unlike the fake device's short beeps. Returns its path. */
export function writeToneWav(path, { seconds = 5, hz = 330, dbov = -12 } = {}) {
  const rate = 48000;
  const n = rate * seconds;
  const data = Buffer.alloc(44 + n * 2);
  data.write('RIFF', 0); data.writeUInt32LE(36 + n * 2, 4); data.write('WAVE', 8);
  data.write('fmt ', 12); data.writeUInt32LE(16, 16); data.writeUInt16LE(1, 20); data.writeUInt16LE(1, 22);
  data.writeUInt32LE(rate, 24); data.writeUInt32LE(rate * 2, 28); data.writeUInt16LE(2, 32); data.writeUInt16LE(16, 34);
  data.write('data', 36); data.writeUInt32LE(n * 2, 40);
  const amplitude = 32767 * Math.SQRT2 * 10 ** (dbov / 20);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(amplitude * Math.sin(2 * Math.PI * hz * i / rate)), 44 + i * 2);
  writeFileSync(path, data);
  return path;
}

export async function startCaud({ extraArgs = [], env = {}, prepare = null } = {}) {
  if (process.env.CAU_URL) {
    return { url: process.env.CAU_URL.replace(/\/?$/, '/'), stop: async () => {}, external: true };
  }
  const binary = resolve(here, process.env.CAUD ?? '../../build/server/caud');
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'cau-browser-'));
  if (prepare) {
    try {
      await prepare(dataDir);
    } catch (err) {
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
  }
  const args = [
    '--https-port', String(port), '--data-dir', dataDir, '--ice-addresses', '127.0.0.1',
    '--listen-address', '127.0.0.1',
    '--rtp-port-min', String(MEDIA_PORT_MIN), '--rtp-port-max', String(MEDIA_PORT_MAX),
    '--web-client-dir', resolve(here, '../../web-client'),
    '--log-level', process.env.CAUD_LOG_LEVEL ?? 'info',
    // The call tests use plain rooms; consultation rooms still need a token.
    '--anonymous-rooms', 'on',
    ...extraArgs,
  ];
  const logPath = join(ARTIFACTS, `caud-${port}.log`);
  const log = createWriteStream(logPath);
  log.write(`$ ${binary} ${args.join(' ')}\n`);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let exited = null;
  const exitPromise = new Promise((res) => child.on('exit', (code, signal) => {
    exited = { code, signal };
    res(exited);
  }));
  // The last lines caud wrote, for the error when it does not exit cleanly (a
  // sanitizer's report is written last).
  let tail = '';
  const keepTail = (chunk) => { tail = (tail + chunk.toString()).slice(-16384); };
  child.stdout.on('data', keepTail);
  child.stderr.on('data', keepTail);

  await new Promise((res, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`caud did not print "caud listening on" within 20 s:\n${seen}`)), 20000);
    const onData = (chunk) => {
      log.write(chunk);
      seen += chunk.toString();
      if (seen.includes('caud listening on')) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    exitPromise.then((e) => { clearTimeout(timer); reject(new Error(`caud exited early (${JSON.stringify(e)}):\n${seen}`)); });
  }).catch(async (err) => {
    await stopChild(child, exitPromise, () => exited);
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });

  let stopped = null;
  return {
    url: `https://localhost:${port}/`,
    dataDir,
    pid: child.pid,
    exited: () => exited,
    /** SIGTERM, then the exit status is checked: caud must exit 0 by itself
     *  within STOP_TIMEOUT_MS. A crash, a non-zero status (a sanitizer's report,
     *  a leak) or a hang rejects, so the test file that started caud fails. */
    stop: async () => {
      if (stopped) return stopped;
      stopped = (async () => {
        const byUs = !exited;
        const killed = await stopChild(child, exitPromise, () => exited);
        log.end();
        rmSync(dataDir, { recursive: true, force: true });
        const e = exited;
        if (!killed && e.code === 0) return;
        const how = killed ? `did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGTERM (killed)`
          : `exited ${e.signal ? `on signal ${e.signal}` : `with status ${e.code}`}${byUs ? ' after SIGTERM' : ' before the test stopped it'}`;
        throw new Error(`caud (pid ${child.pid}) ${how}; log ${logPath}, last lines:\n${tail.split('\n').slice(-40).join('\n')}`);
      })();
      return stopped;
    },
  };
}

/** Run the admin command line (env CAU, else ../../build/server/cau) with `args`; resolves
 *  with its stdout, rejects with its stderr when it exits non-zero. */
export function runCau(args, { env = {}, input = '' } = {}) {
  const binary = resolve(here, process.env.CAU ?? '../../build/server/cau');
  return new Promise((res, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { err += c; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? res(out) : reject(new Error(`cau ${args.join(' ')} exited ${code}: ${err}`))));
    child.stdin.end(input);
  });
}

/** How long caud may take to exit after SIGTERM (it closes recordings and joins
 *  its threads; LeakSanitizer's exit check adds a few seconds in the ASan build). */
const STOP_TIMEOUT_MS = 20000;

/** SIGTERM, then SIGKILL after STOP_TIMEOUT_MS; resolves true when it had to kill. */
async function stopChild(child, exitPromise, exited) {
  if (exited() || child.pid === undefined) return false;
  process.kill(child.pid, 'SIGTERM');
  let timer;
  const timeout = new Promise((res) => { timer = setTimeout(res, STOP_TIMEOUT_MS, 'timeout'); });
  const first = await Promise.race([exitPromise, timeout]);
  clearTimeout(timer);
  if (first === 'timeout' && !exited()) {
    process.kill(child.pid, 'SIGKILL');
    await exitPromise;
    return true;
  }
  return false;
}

/** Launch Chromium with the LAB-NOTES flags (plus `extraArgs`). Playwright passes its own
 *  --disable-features list; Chromium keeps only the last such switch, so both lists are
 *  merged into one. */
export async function launchBrowser({ extraArgs = [] } = {}) {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const probe = await chromium.launchServer({ executablePath, args: CHROMIUM_ARGS });
  let defaults;
  try {
    defaults = probe.process().spawnargs.filter((a) => a.startsWith('--disable-features='));
  } finally {
    await probe.close();
  }
  const features = new Set(LAB_DISABLED_FEATURES);
  for (const arg of defaults) for (const f of arg.slice('--disable-features='.length).split(',')) if (f) features.add(f);
  return chromium.launch({
    executablePath,
    ignoreDefaultArgs: defaults,
    args: [...CHROMIUM_ARGS, ...extraArgs, `--disable-features=${[...features].join(',')}`],
  });
}

/** A page (own context) of the web client, joined at once via ?autojoin=1 (`kind`:
 *  the plain room's kind when it is created). Console messages are kept in
 *  `page.cauLog` and written to artifacts/ by `saveLog`. */
export async function openClient(browser, baseUrl, { room, name, lang, viewport, kind } = {}) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: viewport ?? { width: 1024, height: 700 },
  });
  const page = await context.newPage();
  page.cauLog = [];
  page.on('console', (m) => page.cauLog.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => page.cauLog.push(`[pageerror] ${e.stack ?? e}`));
  const params = new URLSearchParams({ room, name, autojoin: '1' });
  if (lang) params.set('lang', lang);
  if (kind) params.set('kind', kind);
  await page.goto(`${baseUrl}?${params}`);
  return page;
}

/** A page in a new context (own cookies and storage) of the web client at `hash`. Console
 *  messages are kept in `page.cauLog`. Options: viewport, timezoneId, lang, clipboard. */
export async function openPage(browser, baseUrl, hash = '', { viewport, timezoneId, lang, clipboard = false } = {}) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: viewport ?? { width: 1024, height: 700 },
    timezoneId,
  });
  if (clipboard) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(baseUrl).origin });
  }
  // The machine may be shared with other test runs: give page loads more than 30 s.
  context.setDefaultNavigationTimeout(60000);
  const page = await context.newPage();
  page.cauLog = [];
  page.on('console', (m) => page.cauLog.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => page.cauLog.push(`[pageerror] ${e.stack ?? e}`));
  await page.goto(`${baseUrl}${lang ? `?lang=${lang}` : ''}${hash}`);
  return page;
}

export async function saveLog(page, label) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(join(ARTIFACTS, `${label}.console.log`), page.cauLog.join('\n') + '\n');
}

/** Poll `fn` until it returns a truthy value; fail after `timeout` ms with the last value. */
export async function waitFor(fn, { timeout = 20000, interval = 500, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}; last: ${inspectValue(last)}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

function inspectValue(v) {
  if (v instanceof Error) return v.stack;
  try { return JSON.stringify(v); } catch { return String(v); }
}

/**
 * Per remote tile on `page`: the participant id, and from the subscribe pc's stats the
 * inbound video framesDecoded and inbound audio packetsReceived of the tracks shown in
 * that tile; plus the selected candidate pair of the subscribe pc.
 */
export function subscribeStats(page) {
  return page.evaluate(async () => {
    const pc = window.cau.pcs.subscribe;
    if (!pc) return null;
    const tiles = [];
    for (const tile of document.querySelectorAll('.remote-tile')) {
      const stream = tile.querySelector('video').srcObject;
      const entry = { participant: tile.dataset.participant, framesDecoded: 0, audioPackets: 0, videoWidth: tile.querySelector('video').videoWidth };
      for (const track of stream?.getTracks() ?? []) {
        const receiver = pc.getReceivers().find((r) => r.track === track);
        if (!receiver) continue;
        (await receiver.getStats()).forEach((s) => {
          if (s.type !== 'inbound-rtp') return;
          if (s.kind === 'video') entry.framesDecoded += s.framesDecoded ?? 0;
          if (s.kind === 'audio') entry.audioPackets += s.packetsReceived ?? 0;
        });
      }
      tiles.push(entry);
    }
    const all = await pc.getStats();
    const stats = new Map();
    all.forEach((s) => stats.set(s.id, s));
    let pair = null;
    let inboundVideoFrames = 0;
    let inboundAudioPackets = 0;
    for (const s of stats.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') inboundVideoFrames += s.framesDecoded ?? 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio') inboundAudioPackets += s.packetsReceived ?? 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const p = stats.get(s.selectedCandidatePairId);
        const remote = stats.get(p.remoteCandidateId);
        const local = stats.get(p.localCandidateId);
        pair = {
          state: p.state,
          remote: { address: remote.address, port: remote.port, protocol: remote.protocol, type: remote.candidateType },
          local: { address: local.address, port: local.port, protocol: local.protocol, type: local.candidateType },
        };
      }
    }
    return { tiles, pair, inboundVideoFrames, inboundAudioPackets, connectionState: pc.connectionState };
  });
}

// --- the demo world (records/demo.c, seeded by `cau demo`) and staff/patient steps ---------

/** Every demo account's password: CAU_DEMO_PASSWORD (with CAU_URL, the one the running
 *  server was seeded with), else one made up for this run. */
export const DEMO_PASSWORD = process.env.CAU_DEMO_PASSWORD || `demo-${process.pid}-Pw`;

/** Demo accounts and the first demo patient: the Đông Sơn district clinic, its first
 *  patient, and the Thanh Hóa provincial specialist (on that patient's demo consultation). */
export const DEMO = {
  clinician: { username: 'clinician.dongson', name: 'BS Demo Đông Sơn' },
  specialist: { username: 'specialist.thanhhoa', name: 'BS chuyên khoa Demo Nội (Thanh Hóa)' },
  patient: { name: 'Bệnh nhân Demo Lê Văn An', cccd: '038058000101', bhyt: 'HT2383800000101' },
};

/** startCaud with the store seeded by `cau demo` (accounts' password DEMO_PASSWORD). */
export function startDemoCaud(options = {}) {
  return startCaud({
    ...options,
    prepare: (dataDir) => runCau(['--data-dir', dataDir, 'demo'], { env: { CAU_DEMO_PASSWORD: DEMO_PASSWORD } }),
  });
}

/** Fill and submit the login form (either language). */
export async function logIn(page, username, password = DEMO_PASSWORD) {
  await page.getByLabel(/^(Tên đăng nhập|Username)$/).fill(username);
  await page.getByLabel(/^(Mật khẩu|Password)$/).fill(password);
  await page.getByRole('button', { name: /^(Đăng nhập|Log in)$/ }).click();
}

/** The page's current route name (window.cau.route). */
export function routeName(page) {
  return page.evaluate(() => window.cau.route.name);
}

/** A staff page (own context) logged in as `username`, on the worklist. */
export async function openStaffPage(browser, baseUrl, username, options = {}) {
  const page = await openPage(browser, baseUrl, '', options);
  await logIn(page, username);
  await waitFor(async () => (await routeName(page)) === 'worklist', { timeout: 10000, what: `${username} on the worklist` });
  return page;
}

/** A REST call (docs/api.md) from `page` with its staff session's token; resolves with
 *  {status, body}. */
export function apiFrom(page, method, path, body) {
  return page.evaluate(async ({ method, path, body }) => {
    const session = JSON.parse(sessionStorage.getItem('cau.session') ?? 'null');
    const headers = { Accept: 'application/json' };
    if (session) headers.Authorization = `Bearer ${session.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    return { status: r.status, body: parsed };
  }, { method, path, body });
}

/** Schedule a consultation for the patient with `cccd` (REST, as `page`'s clinician)
 *  ten minutes from now and make its invitation; resolves {consultationId, patientId,
 *  inviteUrl} with the invitation url pointing at `baseUrl`. */
export async function scheduleWithInvitation(page, baseUrl, { cccd, reason, specialistIds = [] }) {
  const found = await apiFrom(page, 'GET', `/api/patients?identifier=cccd%7C${cccd}`);
  if (found.status !== 200 || found.body.length !== 1) throw new Error(`patient ${cccd}: ${JSON.stringify(found)}`);
  const patientId = found.body[0].id;
  const scheduledAt = new Date(Date.now() + 10 * 60000).toISOString();
  const made = await apiFrom(page, 'POST', '/api/consultations',
    { patient_id: patientId, scheduled_at: scheduledAt, reason, specialist_ids: specialistIds });
  if (made.status !== 201) throw new Error(`schedule: ${JSON.stringify(made)}`);
  const inv = await apiFrom(page, 'POST', `/api/consultations/${made.body.id}/invitations`, {});
  if (inv.status !== 201) throw new Error(`invitation: ${JSON.stringify(inv)}`);
  return { consultationId: made.body.id, patientId, inviteUrl: inv.body.url.replace(/^https:\/\/[^/]+\//, baseUrl) };
}

/** The patient opens `inviteUrl` (a phone-sized page by default) and waits in the lobby. */
export async function openInvitation(browser, baseUrl, inviteUrl, options = {}) {
  const page = await openPage(browser, baseUrl, '', { viewport: { width: 360, height: 740 }, ...options });
  await page.goto(inviteUrl);
  await waitFor(() => page.evaluate(() => window.cau.state === 'lobby'), { timeout: 15000, what: 'patient in the lobby' });
  return page;
}

/** The care-team page joins the consultation's call and admits the waiting patient. */
export async function joinAndAdmit(doc, patientPage, baseUrl, consultationId, patientName) {
  await doc.goto(`${baseUrl}#/call/${consultationId}`);
  await waitFor(() => doc.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'care team joined' });
  await doc.locator('#lobby-panel li', { hasText: patientName }).waitFor({ timeout: 10000 });
  await doc.getByRole('button', { name: new RegExp(`^(Cho ${patientName} vào phòng|Admit ${patientName})$`) }).click();
  await waitFor(() => patientPage.evaluate(() => window.cau.state === 'joined'), { timeout: 15000, what: 'patient admitted' });
}

/** Waits until `page` shows `tiles` remote tiles that all decode video and get audio;
 *  resolves with the last subscribeStats. */
export async function waitForRemoteVideo(page, label, { tiles = 1, timeout = 25000 } = {}) {
  let last = null;
  try {
    return await waitFor(async () => {
      const s = last = await subscribeStats(page);
      if (!s || s.tiles.length !== tiles) return false;
      return s.tiles.every((tile) => tile.framesDecoded > 0 && tile.audioPackets > 0 && tile.videoWidth > 0) && s;
    }, { timeout, what: `${label}: ${tiles} remote tile(s) decoding video` });
  } catch (err) {
    err.message += `\nlast subscribe stats of ${label}: ${JSON.stringify(last)}`;
    throw err;
  }
}
