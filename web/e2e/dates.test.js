// Every date of the pages' forms is typed day/month/year, never the
// browser's date picker (issue 13): each form that had a native picker
// takes 31/12/2026 (or, where only past days make sense, today typed
// the same way) and refuses 31/02/2026 with a message that says how to
// type a date, beside the field, in the page's language. axe on each
// refused form. One real `difronte serve --demo`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath, axe, stopNode, api } from './harness.js';
import { startWalkNode } from './walk.js';

const nodes = {};
let dataDir; let browser; let n; let page;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-dates-'));
  ({ node: n } = await startWalkNode(nodes, dataDir));
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'it-IT' });
  ctx.setDefaultTimeout(15000);
  await ctx.addCookies([{ name: 'difronte_session', value: n.token, url: n.base }]);
  page = await ctx.newPage();
});

after(async () => {
  if (browser) await browser.close();
  for (const x of Object.values(nodes)) await stopNode(x);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// dmy is a day typed as people type it.
const dmy = (d) => `${String(d.getDate()).padStart(2, '0')}/${String(d.getMonth() + 1).padStart(2, '0')}/${d.getFullYear()}`;
const today = dmy(new Date());
const badDate = /gg\/mm\/aaaa/;

async function submit(sel) {
  await Promise.all([page.waitForLoadState('load'), page.locator(sel).click()]);
  await page.waitForLoadState('load');
}

// Each form: where it is, how to fill the rest, the date field, the day it
// takes, the submit button, and where the refusal is said.
const forms = [
  {
    name: 'workshop intake', path: '/officina', date: '#date', good: today, submit: 'form[action="/officina/intake"] button[type=submit]',
    fill: async () => { await page.fill('#donor', 'Studio Bianchi'); await page.fill('#model', 'ThinkPad X230'); await page.fill('#serial', `S-${Date.now()}`); },
    error: '#date-err',
  },
  {
    name: 'workshop work log', path: async () => {
      const today = new Date().toISOString().slice(0, 10);
      const t = await api(n, 'POST', '/api/v1/terminals/intake', { donor: 'Studio Bianchi', date: today, model: 'ThinkPad X230', serial: `L-${Date.now()}` });
      return `/officina/${t.id}`;
    },
    date: 'form[action$="/worklog"] #date', good: today, submit: '#log-submit',
    fill: async () => { await page.fill('#hours', '1,5'); },
    error: '#date-err',
  },
  {
    name: 'worker form (consent date)', path: '/lavoratori/nuovo', date: '#f-consent_date', good: '31/12/2026',
    submit: 'form[action="/lavoratori/nuovo"] button[type=submit]', fill: async () => {}, error: '#e-consent_date',
  },
  {
    name: 'worker form (identity check date)', path: '/lavoratori/nuovo', date: '#f-check_date', good: '31/12/2026',
    submit: 'form[action="/lavoratori/nuovo"] button[type=submit]', fill: async () => {}, error: '#e-check_date',
  },
];

for (const f of forms) {
  test(`${f.name}: 31/02/2026 refused with a readable message, ${f.good} taken`, { timeout: 90000 }, async () => {
    const path = typeof f.path === 'function' ? await f.path() : f.path;
    await page.goto(`${n.base}${path}`);
    assert.equal(await page.locator(`${f.date}`).getAttribute('type'), 'text', 'still a native date picker');
    assert.equal(await page.locator('input[type=date]').count(), 0, 'a native date picker remains on the page');
    await f.fill();
    await page.fill(f.date, '31/02/2026');
    await submit(f.submit);
    await page.locator(f.error).waitFor();
    assert.match(await page.locator(f.error).textContent(), badDate);
    assert.equal(await page.locator(f.date).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator(f.date).inputValue(), '31/02/2026', 'what was typed is not shown back');
    await axe(page, `${f.name} (bad date)`);

    await page.goto(`${n.base}${path}`);
    await f.fill();
    await page.fill(f.date, f.good);
    await submit(f.submit);
    assert.equal(await page.locator(f.error).count(), 0, `${f.good} refused: ${await page.locator('main').textContent()}`);
  });
}

test('calls page, grant expiry: 31/02/2026 refused with a readable message, 31/12/2026 sent as ISO', { timeout: 60000 }, async () => {
  await page.goto(`${n.base}/calls`);
  assert.equal(await page.locator('input[type=date]').count(), 0, 'a native date picker remains on the page');
  const form = page.locator('form[data-api="/api/v1/calls/grants"]');
  if (await form.locator('input#ng-n').count()) await form.locator('#ng-n').fill('12D3KooWPeer');
  await form.locator('#ng-c').fill('c7p');
  await form.locator('#ng-x').fill('31/02/2026');
  await form.locator('button[type=submit]').click();
  await page.waitForFunction(() => /gg\/mm\/aaaa/.test(document.getElementById('admin-status').textContent));
  assert.equal(await form.locator('#ng-x').getAttribute('aria-invalid'), 'true');
  await axe(page, '/calls (bad grant expiry)');
  await form.locator('#ng-x').fill('31/12/2026');
  const [req] = await Promise.all([
    page.waitForRequest((r) => r.url().endsWith('/api/v1/calls/grants') && r.method() === 'POST'),
    form.locator('button[type=submit]').click(),
  ]);
  const body = JSON.parse(req.postData());
  // The end of that day in the admin's browser, as before.
  assert.equal(body.expires, await page.evaluate(() => new Date('2026-12-31T23:59:00').toISOString()));
  assert.equal(await form.locator('#ng-x').getAttribute('aria-invalid'), 'false');
});
