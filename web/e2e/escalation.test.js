// Browser end to end of what follows a check-in call, on one real
// `difronte serve`: a caregiver calls the paired terminal from the agenda
// (Chromium with a fake camera plays both the caregiver and the terminal),
// then records a problem on the outcome form in a few taps (kind, urgency,
// note, actions: alert family, propose services); the coop admin sees the
// case with its actions and timeline, the alert in the inbox, and the
// dashboard. axe-core (WCAG 2.1 A/AA) on the outcome form, the case page
// and the dashboard; no CSP violation anywhere.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { waitFor, freePort, chromiumArgs as baseChromiumArgs, mediaArgs, axe } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const binary = process.env.DIFRONTE_BIN || join(here, '..', '..', 'bin', 'difronte');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const adminPassword = 'password-e2e-lunga';
const chromiumArgs = [...baseChromiumArgs, ...mediaArgs];

let dataDir; let browser;
const n = { log: '', exited: false };
const cspViolations = [];

// waitFor polls check until it returns true, at most until the deadline.
async function api(method, path, body, token = n.token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${n.base}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// newPage opens a page in a fresh context logged in with token.
async function newPage(token) {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  ctx.setDefaultTimeout(10000);
  if (token) await ctx.addCookies([{ name: 'difronte_session', value: token, url: n.base }]);
  const page = await ctx.newPage();
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  return page;
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-esc-'));
  const port = await freePort();
  const p2p = await freePort();
  n.base = `http://127.0.0.1:${port}`;
  n.proc = spawn(binary, ['serve', '--data', join(dataDir, 'data'), '--http', `127.0.0.1:${port}`, '--coop-name', 'Coop Prova',
    '--p2p', `/ip4/127.0.0.1/tcp/${p2p}`, '--members', '127.0.0.1:0'], {
    env: { ...process.env, DIFRONTE_ADMIN_PASSWORD: adminPassword }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  n.proc.stdout.on('data', (d) => { n.log += d; });
  n.proc.stderr.on('data', (d) => { n.log += d; });
  n.proc.once('exit', () => { n.exited = true; });
  await waitFor('the node to be ready', async () => {
    if (n.exited) throw new Error(`node exited:\n${n.log}`);
    try { return (await fetch(`${n.base}/readyz`)).ok; } catch { return false; }
  });
  n.token = (await api('POST', '/api/v1/login', { username: 'admin', password: adminPassword }, null)).token;
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  if (n.proc && !n.exited) {
    const gone = new Promise((r) => n.proc.once('exit', r));
    n.proc.kill('SIGTERM');
    await gone;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('after a call the caregiver reports a problem and the admin follows the case', { timeout: 120000 }, async () => {
  // The coop: a caregiver with an account, a beneficiary assigned to her
  // with her terminal, a daily call, and an escalation chain that alerts
  // the admin in the app.
  const cg = await api('POST', '/api/v1/caregivers', { name: 'Carla Bianchi', languages: ['it'] });
  await api('POST', '/api/v1/accounts', { username: 'carla', role: 'caregiver', caregiver_id: cg.id, password: 'lanterna-blu-sul-molo' });
  const ben = await api('POST', '/api/v1/beneficiaries', {
    name: 'Maria Rossi', address: 'Via Roma 1', municipality: '058091', caregivers: [cg.id],
    consent: { given: true, date: '2026-01-10' },
  });
  await api('PUT', `/api/v1/escalation/settings/${ben.id}`, {
    chain: [{ kind: 'family', name: 'Luca Rossi', channel: 'inapp', to: 'admin' }],
  });
  const term = await api('POST', '/api/v1/terminals', { label: 'T-1', model: 'ThinkPad T440', state: 'in_service', beneficiary: ben.id });
  await api('PUT', `/api/v1/calls/settings/${ben.id}`, { display_name: 'Signora Maria', countdown: 1 });
  const today = new Date().toISOString().slice(0, 10);
  await api('POST', '/api/v1/calls/schedules', { beneficiary: ben.id, caregiver: cg.id, rule: 'FREQ=DAILY', time: '23:59', start: today });
  const { code } = await api('POST', `/api/v1/calls/terminals/${term.id}/pairing`, {});

  // The terminal pairs and connects.
  const tpage = await newPage(null);
  await tpage.goto(`${n.base}/terminal?code=${code}`);
  await waitFor('the terminal online', async () => !(await tpage.locator('#home').isHidden()) && (await tpage.locator('#status').textContent()) === '');

  // The caregiver calls from her agenda; the terminal answers by itself.
  const carla = (await api('POST', '/api/v1/login', { username: 'carla', password: 'lanterna-blu-sul-molo' }, null)).token;
  const gpage = await newPage(carla);
  await gpage.goto(`${n.base}/agenda`);
  const callButton = gpage.locator(`button.call[data-beneficiary="${ben.id}"]`).first();
  await callButton.click();
  await tpage.locator('#incall').waitFor({ state: 'visible', timeout: 15000 });
  await gpage.locator('#hangup').click();
  await tpage.locator('#home').waitFor({ state: 'visible', timeout: 10000 });

  // The outcome form lists the call; a problem in a few taps.
  await gpage.goto(`${n.base}/cases/outcome`);
  const call = gpage.locator('#f-call');
  await call.waitFor();
  assert.match(await call.textContent(), /Maria Rossi/);
  await axe(gpage, '/cases/outcome');
  await gpage.locator('label[for="f-status-problem"]').click();
  await gpage.locator('label[for="f-kind-food"]').click();
  await gpage.locator('label[for="f-urgency-high"]').click();
  await gpage.locator('#f-note').fill('Frigorifero vuoto, non esce da una settimana');
  await gpage.locator('label[for="f-act-alert_family"]').click();
  await gpage.locator('label[for="f-act-propose_services"]').click();
  await gpage.locator('form[action="/cases/outcome"] button[type="submit"]').click();
  await gpage.waitForURL(/\/cases\/[a-z0-9]+$/);
  const caseID = new URL(gpage.url()).pathname.split('/').pop();
  assert.match(await gpage.locator('h1').textContent(), /Maria Rossi/);
  await axe(gpage, '/cases/{id} (caregiver)');
  // The call is no longer offered.
  await gpage.goto(`${n.base}/cases/outcome`);
  assert.equal(await gpage.locator('#f-call').count(), 0);

  // The admin: the case in the list, its actions and timeline, the alert
  // in the inbox, acknowledged from the case page; then the dashboard.
  const apage = await newPage(n.token);
  await apage.goto(`${n.base}/cases`);
  await apage.locator(`a[href="/cases/${caseID}"]`).click();
  await apage.waitForURL(new RegExp(`/cases/${caseID}$`));
  assert.ok(await apage.locator('ol.timeline li').count() >= 2, 'the timeline shows the opening and the actions started');
  const actions = await apage.locator('ul.plain').first().textContent();
  assert.match(actions, /famiglia/i);
  assert.match(actions, /serviz/i);
  await axe(apage, '/cases/{id} (admin)');
  await apage.goto(`${n.base}/inbox`);
  assert.match(await apage.locator('main').textContent(), new RegExp(caseID));
  await apage.goto(`${n.base}/cases/${caseID}`);
  const ack = apage.locator('form input[name="op"][value="ack"]');
  if (await ack.count()) {
    await apage.locator('form:has(input[name="op"][value="ack"]) button').first().click();
    await apage.waitForURL(new RegExp(`/cases/${caseID}$`));
  }
  await apage.goto(`${n.base}/dashboard`);
  assert.ok(await apage.locator('main svg').count() >= 1, 'the dashboard draws its charts');
  assert.match(await apage.locator('main').textContent(), /Carla Bianchi|[0-9]/);
  await axe(apage, '/dashboard');

  const c = await api('GET', `/api/v1/cases/${caseID}`);
  assert.equal(c.kind, 'food');
  assert.deepEqual(c.actions.map((a) => a.kind).sort(), ['alert_family', 'propose_services']);
  assert.deepEqual(cspViolations, []);
});
