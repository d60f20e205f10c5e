// Browser end to end of the refurbishment workshop on one real `difronte
// serve`, with the keyboard only: a refurbisher takes a donated PC from
// the queue, the probe's report arrives with the one-time code (posted
// here as `difronte terminal probe` would), its warnings show, the
// checklists of every step are completed up to the delivery (one refusal
// shown with its reason on the way), hours are logged; the coop admin
// opens the worker's certificate, which shows the hours. axe-core (WCAG
// 2.1 A/AA) on the queue, the device page and the certificate; no CSP
// violation anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startNode, stopNode, api, axe, chromiumPath, chromiumArgs } from './harness.js';

const nodes = {};
let n; let dataDir; let browser;
const cspViolations = [];
const lucaPassword = 'tramonto-sul-lago-blu';

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-shop-'));
  n = await startNode(nodes, dataDir, 'officina');
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  if (n) await stopNode(n);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function newPage(token) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  ctx.setDefaultTimeout(10000);
  await ctx.addCookies([{ name: 'difronte_session', value: token, url: n.base }]);
  const page = await ctx.newPage();
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  return page;
}

// focused is the focused element's id, or its href for links.
const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a ? (a.id || a.getAttribute('href') || '') : '';
});

// tabTo presses Tab until the element matching want has focus, as a
// keyboard user would; bounded so a broken tab order fails.
async function tabTo(page, want, max = 250) {
  for (let i = 0; i < max; i++) {
    if (await focused(page) === want) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${want} never got focus with Tab`);
}

// pressAndLoad presses key and waits for the page the form posts to.
async function pressAndLoad(page, key) {
  await Promise.all([page.waitForNavigation(), page.keyboard.press(key)]);
  await page.waitForLoadState('load');
}

// fill completes one move's checklist from the keyboard: text typed,
// boxes ticked with Space, the first real option of a list chosen with
// the arrow; dates keep today, already filled in. Then the move's button.
async function move(page, to, items) {
  for (const [key, v] of items) {
    await tabTo(page, `cl-${to}-${key}`);
    if (v === true) await page.keyboard.press('Space');
    else if (v === 'first') await page.keyboard.press('ArrowDown');
    else await page.keyboard.type(v);
  }
  await tabTo(page, `move-${to}`);
  await pressAndLoad(page, 'Enter');
}

test('a refurbisher takes a donated PC from the queue to its delivery, logs hours; the coop prints the certificate', { timeout: 180000 }, async () => {
  await api(n, 'POST', '/api/v1/accounts', { username: 'luca', role: 'refurbisher', display_name: 'Luca Neri', password: lucaPassword });
  const ben = await api(n, 'POST', '/api/v1/beneficiaries', { name: 'Maria Rossi', address: 'Via Roma 1', municipality: '058091' });
  const today = new Date().toISOString().slice(0, 10);
  // The coop took in a donated laptop; the code is printed for the worker.
  const taken = await api(n, 'POST', '/api/v1/terminals/intake', { donor: 'Studio Bianchi', date: today, model: 'ThinkPad X230', serial: 'PB-0042' });
  assert.match(taken.code, /^[A-Z2-7]{12}$/);

  const luca = (await api(n, 'POST', '/api/v1/login', { username: 'luca', password: lucaPassword }, null)).token;
  const page = await newPage(luca);
  // Home → the workshop, from the keyboard.
  await page.goto(`${n.base}/`);
  await tabTo(page, '/officina');
  await pressAndLoad(page, 'Enter');
  assert.match(await page.locator('main').textContent(), /PB-0042/);
  await axe(page, '/officina');
  // Take it from the queue.
  await tabTo(page, `take-${taken.id}`);
  await pressAndLoad(page, 'Enter');
  await page.goto(`${n.base}/officina?mine=1`);
  await tabTo(page, `/officina/${taken.id}`);
  await pressAndLoad(page, 'Enter');
  assert.equal(new URL(page.url()).pathname, `/officina/${taken.id}`);
  assert.match(await page.locator('main').textContent(), /Assegnato a\s*luca/);

  // The probe sends the report with the code: no account, once only.
  const report = {
    collected_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), arch: 'amd64', cpu: { model: 'Intel Core i5-3320M', cores: 2 }, ram_mb: 4096,
    disks: [{ name: 'sda', model: 'ST500LM012', size_gb: 500.1, rotational: true, smart: 'passed' }],
    battery: { present: true, wear_percent: 85.0 }, screen: { width: 1366, height: 768 },
    webcam: true, microphone: true, speakers: true, network: { ethernet: true, wifi: true },
    bios: { vendor: 'LENOVO', version: 'G2ET86WW', date: '2012-11-19' }, rtc_wakealarm: false, rtc_local_time: false,
    audio_test: { recorded: true, seconds: 3 },
  };
  const probed = await api(n, 'POST', '/api/v1/terminals/probe', { code: taken.code, report }, null);
  assert.deepEqual(probed.warnings, ['no_rtc_alarm', 'battery_dead']);
  await assert.rejects(api(n, 'POST', '/api/v1/terminals/probe', { code: taken.code, report }, null), /401/);
  await page.reload();
  const main = page.locator('main');
  assert.match(await main.textContent(), /Questo PC non può accendersi da solo/);
  assert.match(await main.textContent(), /Intel Core i5-3320M/);
  await axe(page, '/officina/{id} with its report');

  // The steps, each with its checklist.
  await move(page, 'wiping', []);
  await move(page, 'installing', [['wipe_method', 'first'], ['wipe_verified', true]]);
  assert.match(await main.textContent(), /Cancellazione dati → Installazione sistema/);
  await move(page, 'configuring', [['os', 'Debian 12'], ['os_installed', true]]);
  await move(page, 'testing', [['setup_done', true], ['kiosk_starts', true]]);
  await move(page, 'ready', [['test_call_with', 'Carla'], ['audio_ok', true], ['video_ok', true], ['wakes_by_itself', true]]);
  // A delivery without the training signed off is refused, with its reason.
  await move(page, 'delivered', [['beneficiary', ben.id], ['signed_by', 'Luca Rossi'], ['signer_role', 'first']]);
  const refusal = page.locator('#errsum');
  assert.match(await refusal.textContent(), /La lista di controllo non è completa/);
  assert.match(await refusal.textContent(), /Ha imparato a rispondere a una chiamata/);
  await axe(page, 'a refused move');
  await move(page, 'delivered', [['beneficiary', ben.id], ['signed_by', 'Luca Rossi'], ['signer_role', 'first'],
    ['training_answer', true], ['training_volume', true], ['training_power', true], ['training_help', true]]);
  assert.match(await page.locator('h1').textContent(), /Consegnato/);
  const term = await api(n, 'GET', `/api/v1/terminals/${taken.id}`);
  assert.equal(term.state, 'delivered');
  assert.equal(term.beneficiary, ben.id);

  // Hours logged on the device.
  await tabTo(page, 'hours');
  await page.keyboard.type('2,5');
  await tabTo(page, 'log-submit');
  await pressAndLoad(page, 'Enter');
  assert.match(await page.locator('#work').textContent(), /Ore registrate su questo dispositivo: 2,5/);

  // The admin prints Luca's certificate: the hours are there.
  const admin = await newPage(n.token);
  await admin.goto(`${n.base}/officina`);
  assert.match(await admin.locator('main').textContent(), /Consegnati\s*1/);
  await tabTo(admin, '/officina/lavoratori/luca');
  await pressAndLoad(admin, 'Enter');
  const cert = admin.locator('article.certificate');
  assert.match(await cert.textContent(), /Luca Neri/);
  assert.match(await cert.textContent(), /Ore di lavoro: 2,5/);
  assert.match(await cert.textContent(), /Cancellazione sicura dei dati/);
  await axe(admin, 'the certificate');
  // Printed, the page is the certificate alone.
  await admin.emulateMedia({ media: 'print' });
  assert.equal(await admin.locator('header.top').isVisible(), false);
  assert.equal(await cert.isVisible(), true);
  assert.deepEqual(cspViolations, []);
});
