// Browser end to end of a terminal's "Chiamatemi" and of the alerts that
// follow, on real `difronte serve` nodes: the request survives a reload of
// the agenda, reaches the caregiver's home and inbox, and is closed from
// the agenda; on a node whose coop waits two seconds, nobody calls back,
// a case opens, and the admin's inbox holds an alert in Italian that names
// the person and whose link opens the case. axe-core (WCAG 2.1 A/AA) on
// every page touched; no CSP violation; no sideways scroll on a phone.
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

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-callreq-'));
  await startNode(nodes, dataDir, 'a');
  await startNode(nodes, dataDir, 'b', ['--call-request-wait', '2s']);
  browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...mediaArgs] });
});

after(async () => {
  if (browser) await browser.close();
  for (const n of Object.values(nodes)) await stopNode(n);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function newPage(n, token, viewport = { width: 1024, height: 768 }) {
  const ctx = await browser.newContext({ viewport, locale: 'it-IT' });
  ctx.setDefaultTimeout(10000);
  if (token) await ctx.addCookies([{ name: 'difronte_session', value: token, url: n.base }]);
  const page = await ctx.newPage();
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  return page;
}

// person makes a caregiver with an account, a beneficiary she follows and
// a paired terminal showing its screen in the browser.
async function person(n, name, gender) {
  const cg = await api(n, 'POST', '/api/v1/caregivers', { name: 'Carla Bianchi', languages: ['it'] });
  await api(n, 'POST', '/api/v1/accounts', { username: 'carla', role: 'caregiver', caregiver_id: cg.id, password: 'tramonto-sul-lago-blu' });
  const ben = await api(n, 'POST', '/api/v1/beneficiaries', { name, gender, address: 'Via Roma 1', municipality: '058091', caregivers: [cg.id] });
  const term = await api(n, 'POST', '/api/v1/terminals', { label: 'T-1', model: 'ThinkPad T440', state: 'in_service', beneficiary: ben.id });
  const pr = await api(n, 'POST', `/api/v1/calls/terminals/${term.id}/pairing`);
  const tpage = await newPage(n, null);
  await tpage.goto(`${n.base}/terminal?code=${pr.code}`);
  await waitFor('the terminal online', async () => !(await tpage.locator('#home').isHidden()) && (await tpage.locator('#status').textContent()) === '');
  const login = await api(n, 'POST', '/api/v1/login', { username: 'carla', password: 'tramonto-sul-lago-blu' }, null);
  return { ben, tpage, token: login.token };
}

test('a call request survives a reload, reaches home and inbox, and is closed', async () => {
  const A = nodes.a;
  const { ben, tpage, token } = await person(A, 'Maria Rossi', 'f');
  const gpage = await newPage(A, token);
  await gpage.goto(`${A.base}/agenda`);
  await gpage.locator('#requests li.none').waitFor();

  // "Chiamatemi": the terminal says so calmly, on the whole screen.
  await tpage.locator('#request').click();
  await tpage.locator('#confirm').waitFor({ state: 'visible' });
  assert.match(await tpage.locator('#confirm-text').textContent(), /Ti chiameremo/);
  assert.equal(await tpage.locator('#home').isHidden(), true);
  await axe(tpage, '/terminal (request sent)');
  await tpage.locator('#confirm-ok').click();
  await tpage.locator('#home').waitFor({ state: 'visible' });

  // The open agenda hears it, with the feminine from the record.
  const item = gpage.locator('#requests li.request');
  await item.waitFor();
  assert.match(await item.textContent(), /Maria Rossi chiede di essere chiamata/);
  assert.match(await gpage.locator('#live').textContent(), /Maria Rossi chiede di essere chiamata/);
  // A reload keeps it.
  await gpage.reload();
  await item.waitFor();
  assert.match(await item.textContent(), /Maria Rossi chiede di essere chiamata/);
  assert.equal(await item.locator('.badge.ok').count(), 1, 'the terminal shows as on');
  await axe(gpage, '/agenda (with a request)');

  // The caregiver's home and inbox.
  await gpage.goto(`${A.base}/`);
  assert.match(await gpage.locator('#requests li.request').textContent(), /Maria Rossi chiede di essere chiamata/);
  assert.match(await gpage.locator('.cards').textContent(), /1\s+persona che segui/);
  await axe(gpage, '/ (caregiver)');
  await gpage.goto(`${A.base}/inbox`);
  const msg = gpage.locator('.inbox-item').first();
  assert.match(await msg.locator('h2').textContent(), /Richiesta di chiamata dal terminale/);
  assert.match(await msg.textContent(), /Riguarda Maria Rossi/);
  await axe(gpage, '/inbox (caregiver)');
  await msg.locator('a.button').click();
  await gpage.waitForURL(/\/agenda#request-/);

  // Closed from the agenda: gone after a reload, on the API too.
  await gpage.locator('#requests li.request button[type=submit]').click();
  await gpage.waitForURL(/\/agenda$/);
  await gpage.locator('#requests li.none').waitFor();
  const open = await api(A, 'GET', '/api/v1/calls/requests');
  assert.equal(open.items.filter((r) => r.beneficiary === ben.id).length, 0);
  assert.deepEqual(cspViolations, []);
});

test('an alert is in Italian, names the person and its link opens the case', async () => {
  const B = nodes.b;
  const { ben, tpage } = await person(B, 'Giovanni Verdi', 'm');
  await api(B, 'PUT', `/api/v1/escalation/settings/${ben.id}`, { chain: [{ kind: 'coop', name: 'Ufficio', channel: 'inapp', to: 'admin' }] });
  await tpage.locator('#request').click();
  await tpage.locator('#confirm').waitFor({ state: 'visible' });
  // Nobody calls back within the coop's two seconds: a case, an alert.
  let cs = [];
  await waitFor('the case of the missed request', async () => {
    cs = (await api(B, 'GET', `/api/v1/cases?beneficiary=${ben.id}`)).items.filter((c) => c.reason === 'call_request');
    return cs.length === 1;
  }, 20000);
  const page = await newPage(B, B.token, { width: 360, height: 740 });
  await waitFor('the alert in the inbox', async () => {
    await page.goto(`${B.base}/inbox`);
    return (await page.locator('.inbox-item').count()) > 0;
  });
  const alert = page.locator('.inbox-item').first();
  const text = await alert.textContent();
  assert.match(await alert.locator('h2').textContent(), /richiesta di chiamata senza risposta/);
  assert.match(text, /Urgenza: Alta/);
  assert.match(text, /Riguarda Giovanni Verdi/);
  assert.doesNotMatch(text, /alert|case [a-z0-9]{6}/i, 'no English in the Italian inbox');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the inbox scrolls sideways by ${overflow}px on a phone`);
  await axe(page, '/inbox (admin, phone)');
  await alert.locator('a.button', { hasText: 'Apri il caso' }).click();
  await page.waitForURL(new RegExp(`/cases/${cs[0].id}$`));
  assert.match(await page.locator('main').textContent(), /Giovanni Verdi/);
  await axe(page, '/cases/{id}');
  assert.deepEqual(cspViolations, []);
});
