// Browser test of the admin's care setup on one real `difronte serve`:
// the admin sets up a person's weekly calls without knowing what an RRULE
// is (picks the caregiver, ticks the days, chooses the time), sees them in
// words on the person's page, changes and removes them. The pages touched
// are axe clean (WCAG 2.1 A/AA) in Italian and English, and the audit log
// shows no untranslated key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumPath, chromiumArgs, startNode, stopNode, api, axe } from './harness.js';

let dataDir; let browser; let n;
const nodes = {};
const cspViolations = [];

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-care-'));
  n = await startNode(nodes, dataDir, 'care');
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  if (n) await stopNode(n);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// adminPage opens a page logged in as the node's admin, in lang.
async function adminPage(lang = 'it') {
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: lang === 'it' ? 'it-IT' : 'en-GB' });
  ctx.setDefaultTimeout(10000);
  await ctx.addCookies([{ name: 'difronte_session', value: n.token, url: n.base }, { name: 'difronte_lang', value: lang, url: n.base }]);
  const page = await ctx.newPage();
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  return page;
}

test('an admin sets up weekly calls by ticking days, sees them in words, changes and removes them', { timeout: 300000 }, async () => {
  const cg = await api(n, 'POST', '/api/v1/caregivers', { name: 'Giulia Ferrari', languages: ['it'] });
  await api(n, 'POST', '/api/v1/caregivers', { name: 'Paolo Neri', languages: ['it'] });
  const ben = await api(n, 'POST', '/api/v1/beneficiaries', { name: 'Maria Rossi', address: 'Via Roma 1', municipality: '058091', caregivers: [cg.id] });
  await api(n, 'POST', '/api/v1/terminals', { label: 'T-7', model: 'ThinkPad T440', state: 'in_service', beneficiary: ben.id });

  const page = await adminPage('it');
  await page.goto(`${n.base}/beneficiaries/${ben.id}`);
  assert.match(await page.locator('main').textContent(), /T-7 · mai collegato/);
  await axe(page, 'beneficiary page');

  // New schedule: the caregiver from a list, two days ticked, a time.
  await page.getByRole('link', { name: 'Aggiungi chiamate programmate' }).click();
  await page.waitForURL(/\/schedules\/new$/);
  await axe(page, 'new schedule form');
  assert.equal(await page.locator('text=RRULE').count(), 0);
  await page.locator('#f-caregiver').selectOption({ label: 'Giulia Ferrari' });
  await page.getByLabel('lunedì').check();
  await page.getByLabel('giovedì').check();
  await page.locator('#f-time').fill('10:00');
  await page.getByRole('button', { name: 'Crea' }).click();
  await page.waitForURL(new RegExp(`/beneficiaries/${ben.id}#schedules$`));
  const list = page.locator('ul.schedules');
  assert.equal((await list.locator('.words').textContent()).trim(), 'lunedì e giovedì alle 10:00 con Giulia Ferrari');
  let ss = (await api(n, 'GET', `/api/v1/calls/schedules?beneficiary=${ben.id}`)).items;
  assert.equal(ss.length, 1);
  assert.equal(ss[0].rule, 'FREQ=WEEKLY;BYDAY=MO,TH');
  assert.equal(ss[0].caregiver, cg.id);
  await axe(page, 'beneficiary page with a schedule');

  // Change it: Friday instead of Thursday, half past eleven, one day skipped.
  await list.getByRole('link', { name: /^Modifica/ }).click();
  await page.waitForURL(/\/edit$/);
  assert.equal(await page.getByLabel('giovedì').isChecked(), true);
  await page.getByLabel('giovedì').uncheck();
  await page.getByLabel('venerdì').check();
  await page.locator('#f-time').fill('11:30');
  await page.getByLabel('Giorno da saltare 1').fill('2027-01-01');
  await axe(page, 'edit schedule form');
  await page.getByRole('button', { name: 'Salva' }).click();
  await page.waitForURL(new RegExp(`/beneficiaries/${ben.id}#schedules$`));
  assert.equal((await list.locator('.words').textContent()).trim(), 'lunedì e venerdì alle 11:30 con Giulia Ferrari; salta 01/01/2027');
  ss = (await api(n, 'GET', `/api/v1/calls/schedules?beneficiary=${ben.id}`)).items;
  assert.equal(ss[0].rule, 'FREQ=WEEKLY;BYDAY=MO,FR');
  assert.deepEqual(ss[0].except, ['2027-01-01']);

  // The same in English.
  const en = await adminPage('en');
  await en.goto(`${n.base}/beneficiaries/${ben.id}`);
  assert.equal((await en.locator('ul.schedules .words').textContent()).trim(), 'Monday and Friday at 11:30 with Giulia Ferrari; skipping 1 Jan 2027');
  await axe(en, 'beneficiary page (en)');
  await en.locator('ul.schedules').getByRole('link', { name: /^Edit/ }).click();
  await axe(en, 'edit schedule form (en)');

  // The calls page lists it in words too, and names coops, not peer ids.
  await page.goto(`${n.base}/calls`);
  assert.match(await page.locator('#sc-title + p + ul.schedules').textContent(), /Maria Rossi: lunedì e venerdì alle 11:30 con Giulia Ferrari/);
  await axe(page, '/calls');

  // Remove it: asked first, then gone.
  await page.goto(`${n.base}/beneficiaries/${ben.id}`);
  await list.getByRole('link', { name: /^Rimuovi/ }).click();
  await page.waitForURL(/\/delete$/);
  await axe(page, 'remove schedule question');
  await page.getByRole('button', { name: 'Rimuovi' }).click();
  await page.waitForURL(new RegExp(`/beneficiaries/${ben.id}#schedules$`));
  assert.match(await page.locator('section[aria-labelledby="schedules"]').textContent(), /Nessuna chiamata programmata/);
  assert.equal((await api(n, 'GET', `/api/v1/calls/schedules?beneficiary=${ben.id}`)).items.length, 0);

  // The lists show whether terminals and caregivers are online.
  for (const [p, path] of [[page, '/terminals'], [page, '/caregivers'], [en, '/terminals'], [en, '/caregivers']]) {
    await p.goto(`${n.base}${path}`);
    assert.match(await p.locator('table').textContent(), /mai collegato|never connected/);
    await axe(p, path);
  }

  // The audit log speaks both languages, with names.
  for (const [p, lang] of [[page, 'it'], [en, 'en']]) {
    await p.goto(`${n.base}/audit`);
    const text = await p.locator('main').textContent();
    assert.ok(!text.includes('⟦'), `untranslated key on the ${lang} audit page`);
    assert.match(text, /Maria Rossi/);
    await axe(p, `/audit (${lang})`);
  }
  assert.deepEqual(cspViolations, []);
});
