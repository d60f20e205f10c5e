// Browser end to end of what issue 13 left for the care pages, on a real
// `difronte serve`:
//   - a real call from the caregiver's agenda, answered by the paired
//     terminal, moves the admin's dashboard "Contatti fatti" up by one;
//   - in the call the terminal (1024×600) is filled by the caller's video,
//     with the caller's name and a calm initial-letter avatar (no photo);
//   - times are the coop's (Europe/Rome) whatever the browser's zone: the
//     terminal's clock across the night DST begins (28 March 2027, 02:00
//     → 03:00) in a browser set to New York, and the agenda's times;
//   - the admin sets the call-back time of "Chiamatemi" on the calls page;
//   - the caregiver uploads her photo from her own page (a file that is no
//     picture is refused with a readable message); the admin's list shows
//     it small; the next call shows it on the terminal instead of the
//     avatar, ringing and in the call.
// axe-core (WCAG 2.1 A/AA) on the pages touched; no CSP violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { waitFor, chromiumArgs, mediaArgs, chromiumPath, axe, startNode, stopNode, api } from './harness.js';

const nodes = {};
let dataDir; let browser;
const cspViolations = [];
const s = {};

async function newPage(n, token, opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT', ...opts });
  ctx.setDefaultTimeout(10000);
  if (token) await ctx.addCookies([{ name: 'difronte_session', value: token, url: n.base }]);
  const page = await ctx.newPage();
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  return page;
}

// contactsMade reads the dashboard's "Contatti fatti" card.
async function contactsMade(page, n) {
  await page.goto(`${n.base}/dashboard`);
  const card = page.locator('.cards.facts li', { hasText: 'Contatti fatti' });
  return Number(await card.locator('.num').textContent());
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-care3-'));
  const A = await startNode(nodes, dataDir, 'a');
  browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...mediaArgs] });
  const cg = await api(A, 'POST', '/api/v1/caregivers', { name: 'Carla Bianchi', languages: ['it'] });
  await api(A, 'POST', '/api/v1/accounts', { username: 'carla', role: 'caregiver', caregiver_id: cg.id, password: 'tramonto-sul-lago-blu' });
  const ben = await api(A, 'POST', '/api/v1/beneficiaries', { name: 'Maria Rossi', gender: 'f', address: 'Via Roma 1', municipality: '058091', caregivers: [cg.id] });
  const term = await api(A, 'POST', '/api/v1/terminals', { label: 'T-1', model: 'ThinkPad T440', state: 'in_service', beneficiary: ben.id });
  const today = new Date().toISOString().slice(0, 10);
  await api(A, 'POST', '/api/v1/calls/schedules', { beneficiary: ben.id, caregiver: cg.id, rule: 'FREQ=DAILY', time: '23:59', start: today });
  await api(A, 'PUT', `/api/v1/calls/settings/${ben.id}`, { countdown: 2 });
  const pr = await api(A, 'POST', `/api/v1/calls/terminals/${term.id}/pairing`);
  // The terminal's own screen, in a browser whose zone is not Rome's.
  s.tpage = await newPage(A, null, { viewport: { width: 1024, height: 600 }, timezoneId: 'America/New_York' });
  await s.tpage.goto(`${A.base}/terminal?code=${pr.code}`);
  await waitFor('the terminal online', async () => !(await s.tpage.locator('#home').isHidden()) && (await s.tpage.locator('#status').textContent()) === '');
  const login = await api(A, 'POST', '/api/v1/login', { username: 'carla', password: 'tramonto-sul-lago-blu' }, null);
  s.gpage = await newPage(A, login.token, { timezoneId: 'America/New_York' });
  s.apage = await newPage(A, A.token);
  Object.assign(s, { A, ben, cg });
});

after(async () => {
  if (browser) await browser.close();
  for (const n of Object.values(nodes)) await stopNode(n);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a real call moves "Contatti fatti" up; the caller fills the terminal with name and avatar', { timeout: 120000 }, async () => {
  const { A, tpage, gpage, apage } = s;
  const before = await contactsMade(apage, A);
  await axe(apage, '/dashboard');

  await gpage.goto(`${A.base}/agenda`);
  // The agreed time is shown in Rome's time, not New York's.
  assert.match(await gpage.locator('main').textContent(), /23:59/);
  await gpage.locator('button.call').first().click();
  await tpage.locator('#ringing').waitFor({ state: 'visible' });
  assert.equal((await tpage.locator('#ring-avatar').textContent()).trim(), 'C');
  assert.match(await tpage.locator('#ring-title').textContent(), /Carla/);
  await tpage.locator('#incall').waitFor({ state: 'visible', timeout: 30000 });
  await waitFor('the caregiver on the terminal', async () => tpage.evaluate(() => document.getElementById('remote-video').videoWidth > 0), 20000);
  const box = await tpage.locator('#remote-video').boundingBox();
  assert.ok(box.width >= 1024 && box.height >= 600, `remote video ${box.width}×${box.height} on a 1024×600 screen`);
  assert.match(await tpage.locator('#caller-name').textContent(), /Carla/);
  assert.equal((await tpage.locator('#caller-avatar').textContent()).trim(), 'C');
  assert.equal(await tpage.locator('#caller-avatar').isVisible(), true);
  await axe(tpage, '/terminal (in a call)');
  await gpage.locator('#hangup').click();
  await tpage.locator('#home').waitFor({ state: 'visible', timeout: 10000 });

  await waitFor('the contact counted', async () => (await contactsMade(apage, A)) === before + 1, 10000);
  const recs = await api(A, 'GET', `/api/v1/calls/records?beneficiary=${s.ben.id}`);
  assert.ok(recs.items ? recs.items.some((r) => r.answered) : recs.some((r) => r.answered), 'no answered call record');
});

test("the terminal's clock is Rome's across the night DST begins, in a New York browser", async () => {
  const { tpage } = s;
  // 00:30 UTC is 01:30 in Rome (CET); an hour later it is 03:30 (CEST).
  for (const [utc, rome] of [['2027-03-28T00:30:00Z', '01:30'], ['2027-03-28T01:30:00Z', '03:30'], ['2026-10-25T01:30:00Z', '02:30']]) {
    await tpage.clock.setFixedTime(new Date(utc));
    await waitFor(`the clock at ${rome}`, async () => (await tpage.locator('#clock').textContent()) === rome, 5000);
  }
  await tpage.clock.setFixedTime(new Date('2027-03-28T01:30:00Z'));
  await waitFor('the date in Rome', async () => /domenica 28 marzo 2027/.test(await tpage.locator('#date').textContent()), 5000);
});

test('the admin sets the call-back time of "Chiamatemi" on the calls page', async () => {
  const { A, apage } = s;
  await apage.goto(`${A.base}/calls`);
  const field = apage.getByLabel('Minuti entro cui richiamare');
  assert.equal(await field.inputValue(), '');
  await field.fill('45');
  await Promise.all([apage.waitForEvent('load'), field.locator('xpath=ancestor::form').locator('button[type=submit]').click()]);
  await waitFor('the time saved', async () => (await api(A, 'GET', '/api/v1/calls/coop')).request_wait_minutes === 45);
  assert.equal(await apage.getByLabel('Minuti entro cui richiamare').inputValue(), '45');
  await axe(apage, '/calls');
  assert.deepEqual(cspViolations, []);
});

// A real 48×48 PNG would do as well: a 1×1 one is the smallest picture
// Go's decoder reads.
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

test('the caregiver sets her photo; the terminal shows it when she calls', { timeout: 120000 }, async () => {
  const { A, tpage, gpage, apage, cg } = s;
  await gpage.goto(`${A.base}/caregivers/${cg.id}`);
  assert.match(await gpage.locator('#photo').textContent(), /Nessuna foto/);
  // Not a picture, whatever its name: refused, said beside the field.
  await gpage.locator('#f-photo').setInputFiles({ name: 'foto.png', mimeType: 'image/png', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>') });
  await gpage.locator('#photo button[type=submit]').first().click();
  await gpage.locator('#e-photo').waitFor();
  assert.match(await gpage.locator('#e-photo').textContent(), /JPEG o PNG/);
  assert.equal(await gpage.locator('#f-photo').getAttribute('aria-invalid'), 'true');
  await axe(gpage, '/caregivers/{id} (photo refused)');
  await gpage.locator('#f-photo').setInputFiles({ name: 'io.png', mimeType: 'image/png', buffer: png });
  await gpage.locator('#photo button[type=submit]').first().click();
  await gpage.locator('#photo img.portrait').waitFor();
  assert.ok(await gpage.locator('#photo img.portrait').evaluate((i) => i.complete && i.naturalWidth > 0), 'the photo does not load on her page');
  await axe(gpage, '/caregivers/{id} (with a photo)');
  await apage.goto(`${A.base}/caregivers`);
  assert.ok(await apage.locator('img.thumb').first().evaluate((i) => i.complete && i.naturalWidth > 0), 'no small photo in the list');
  await axe(apage, '/caregivers (with a photo)');

  await gpage.goto(`${A.base}/agenda`);
  await gpage.locator('button.call').first().click();
  await tpage.locator('#ringing').waitFor({ state: 'visible' });
  await waitFor('the photo on the ringing screen', async () => tpage.locator('#ring-photo').evaluate((i) => !i.hidden && i.complete && i.naturalWidth > 0), 10000);
  assert.equal(await tpage.locator('#ring-avatar').isVisible(), false);
  await tpage.locator('#incall').waitFor({ state: 'visible', timeout: 30000 });
  assert.equal(await tpage.locator('#caller-photo').isVisible(), true);
  assert.equal(await tpage.locator('#caller-avatar').isVisible(), false);
  assert.match(await tpage.locator('#caller-name').textContent(), /Carla/);
  await axe(tpage, '/terminal (in a call, with the photo)');
  await gpage.locator('#hangup').click();
  await tpage.locator('#home').waitFor({ state: 'visible', timeout: 10000 });

  // Removed: the next ring shows the avatar again.
  await gpage.goto(`${A.base}/caregivers/${cg.id}`);
  await gpage.locator('form[action$="/photo/remove"] button').click();
  await gpage.locator('#photo img.portrait').waitFor({ state: 'detached' });
  assert.deepEqual(cspViolations, []);
});
