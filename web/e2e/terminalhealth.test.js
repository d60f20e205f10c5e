// Terminal health where people look, in a real browser against a real
// `difronte serve`: a paired PC without an RTC wake alarm and a nearly
// empty battery reports its heartbeat; its caregiver's home, agenda and
// the person's page say "Questo PC non può accendersi da solo" and when
// the PC was last seen; the admin's list of terminals has the same line;
// the admin turns the coop's power saving on from its page with the
// keyboard only, a wrong grace first. Every page passes axe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath, chromiumArgs, startNode, stopNode, api, axe } from './harness.js';

const nodes = {};
let dataDir; let browser;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-termhealth-'));
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  for (const n of Object.values(nodes)) await stopNode(n);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a ? (a.id || a.getAttribute('href') || '') : '';
});

// tabTo presses Tab until the element with id want has focus (bounded).
async function tabTo(page, want, max = 120) {
  for (let i = 0; i < max; i++) {
    if (await focused(page) === want) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${want} never got focus with Tab`);
}

async function pressAndLoad(page, key) {
  await Promise.all([page.waitForNavigation(), page.keyboard.press(key)]);
  await page.waitForLoadState('load');
}

async function session(n, token) {
  const ctx = await browser.newContext({ locale: 'it-IT' });
  await ctx.addCookies([{ name: 'difronte_session', value: token, url: n.base }]);
  return ctx.newPage();
}

const noRTC = 'Questo PC non può accendersi da solo';

test('the caregiver and the admin see the terminal\'s health; power saving is set from the keyboard', { timeout: 120000 }, async () => {
  const A = await startNode(nodes, dataDir, 'A');
  const cg = await api(A, 'POST', '/api/v1/caregivers', { name: 'Paolo Verdi', languages: ['it'] });
  await api(A, 'POST', '/api/v1/accounts', { username: 'paolo', role: 'caregiver', caregiver_id: cg.id, password: 'orologio-fermo-in-cucina' });
  const ben = await api(A, 'POST', '/api/v1/beneficiaries', { name: 'Lucia Neri', address: 'Via Po 2', municipality: '058091', caregivers: [cg.id] });
  const term = await api(A, 'POST', '/api/v1/terminals', { label: 'T-9', model: 'ThinkPad X220', state: 'in_service', beneficiary: ben.id });
  const start = new Date(Math.ceil((Date.now() + 90 * 60e3) / 60e3) * 60e3);
  const rome = (d) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(d).replace(' ', 'T');
  await api(A, 'POST', '/api/v1/calls/schedules', { beneficiary: ben.id, caregiver: cg.id, time: rome(start).slice(11), start: rome(start).slice(0, 10), minutes: 15, extra: [rome(start)] });
  const pairing = await api(A, 'POST', `/api/v1/calls/terminals/${term.id}/pairing`, null);
  const dev = await api(A, 'POST', '/api/v1/calls/pair', { code: pairing.code }, null);
  // The agent's heartbeat, as `difronte terminal run` sends it from a PC
  // without a wake alarm.
  await api(A, 'POST', '/api/v1/terminal/heartbeat', { at: new Date().toISOString(), rtc: false, battery: { percent: 12, wear_percent: 20 }, disk: { free_percent: 60 } }, dev.credential);
  const health = await api(A, 'GET', `/api/v1/beneficiaries/${ben.id}/terminal-health`);
  assert.deepEqual(health.terminals.map((h) => h.warnings), [['battery_low', 'no_rtc']]);

  const login = await api(A, 'POST', '/api/v1/login', { username: 'paolo', password: 'orologio-fermo-in-cucina' }, null);
  const gpage = await session(A, login.token);
  await gpage.goto(`${A.base}/`);
  const home = gpage.locator('section[aria-labelledby="term-health-title"]');
  assert.match(await home.textContent(), /Lucia Neri: PC acceso ora · .*Batteria quasi scarica.*Questo PC non può accendersi da solo/s);
  await axe(gpage, 'caregiver home with terminal health');
  await gpage.goto(`${A.base}/agenda`);
  const row = gpage.locator('tr', { has: gpage.locator(`button.call[data-beneficiary="${ben.id}"]`) });
  assert.match(await row.textContent(), new RegExp(noRTC));
  await axe(gpage, 'agenda with terminal health');
  await gpage.goto(`${A.base}/beneficiaries/${ben.id}`);
  assert.match(await gpage.locator('section[aria-labelledby="ben-terminal"]').textContent(), new RegExp(`PC acceso ora.*${noRTC}`, 's'));
  await axe(gpage, 'person page with terminal health');

  const apage = await session(A, A.token);
  await apage.goto(`${A.base}/terminals`);
  assert.match(await apage.locator('table').textContent(), /Stato del PC.*PC acceso ora.*Questo PC non può accendersi da solo/s);
  await axe(apage, 'terminals list with health');

  // Power saving, keyboard only: from the list's link to the form; a grace
  // of 2 minutes is refused, 20 is saved.
  await tabTo(apage, '/terminal/power-saving');
  await pressAndLoad(apage, 'Enter');
  assert.equal(new URL(apage.url()).pathname, '/terminal/power-saving');
  await axe(apage, '/terminal/power-saving');
  await tabTo(apage, 'on');
  await apage.keyboard.press('Space');
  await tabTo(apage, 'grace_minutes');
  await apage.keyboard.press('Control+A');
  await apage.keyboard.type('2');
  await tabTo(apage, 'power-save');
  await pressAndLoad(apage, 'Enter');
  assert.match(await apage.locator('#errsum').textContent(), /da 5 a 240/);
  assert.equal(await apage.locator('#grace_minutes').getAttribute('aria-invalid'), 'true');
  await axe(apage, '/terminal/power-saving with an error');
  assert.equal(await apage.locator('#on').isChecked(), true, 'the ticked box is kept');
  await tabTo(apage, 'grace_minutes');
  await apage.keyboard.press('Control+A');
  await apage.keyboard.type('20');
  await tabTo(apage, 'power-save');
  await pressAndLoad(apage, 'Enter');
  assert.match(await apage.locator('.flash').textContent(), /Impostazione salvata/);
  const ps = await api(A, 'GET', '/api/v1/fleet/power-saving');
  assert.equal(ps.on, true);
  assert.equal(ps.grace_minutes, 20);
  // The agent reads it with its windows.
  const r = await fetch(`${A.base}/api/v1/terminal/windows`, { headers: { Authorization: `Bearer ${dev.credential}` } });
  const ws = await r.json();
  assert.deepEqual(ws.power_saving, { on: true, grace_minutes: 20, updated_at: ps.updated_at });
  assert.equal(new Date(ws.windows[0].start).getTime(), start.getTime());
});
