// Browser tests of the citizens' pages: a citizen signs up on a node with
// no mail server (active at once, and the page says so) and reaches their
// private area; a proximity-point operator registers a citizen with their
// consent and acts for them. Keyboard only, axe on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startNode, stopNode, api, axe, chromiumPath, chromiumArgs } from './harness.js';

const nodes = {};
let dataDir; let n; let browser;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-citizens-'));
  n = await startNode(nodes, dataDir, 'nodo');
  await api(n, 'POST', '/api/v1/accounts', { username: 'operatore', role: 'operator', display_name: 'Carla Operatrice', password: 'ponte-di-vetro-42' });
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  for (const x of Object.values(nodes)) await stopNode(x);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  context.setDefaultTimeout(10000);
  return context.newPage();
}

// tabTo presses Tab until the element matching test has focus; bounded.
async function tabTo(page, what, check, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(check)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${what} never got focus with Tab`);
}

const byId = (id) => new Function(`return document.activeElement && document.activeElement.id === ${JSON.stringify(id)}`);
const byHref = (href) => new Function(`const e = document.activeElement; return !!e && e.getAttribute('href') === ${JSON.stringify(href)}`);
const byText = (text) => new Function(`const e = document.activeElement; return !!e && e.tagName === 'BUTTON' && e.textContent.trim() === ${JSON.stringify(text)}`);

async function typeInto(page, id, text) {
  await tabTo(page, `#${id}`, byId(id));
  await page.keyboard.type(text);
}

async function login(page, user, password, next) {
  await page.goto(`${n.base}/login${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  await typeInto(page, 'f-username', user);
  await typeInto(page, 'f-password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.keyboard.press('Enter')]);
}

test('a citizen signs up from the login page and reaches the private area', async () => {
  const page = await newPage();
  await page.goto(`${n.base}/login`);
  await axe(page, 'login with the sign-up link');
  await tabTo(page, 'the sign-up link', byHref('/registrati'));
  await Promise.all([page.waitForURL(`${n.base}/registrati`), page.keyboard.press('Enter')]);
  assert.equal(await page.textContent('h1'), 'Registrati');
  await axe(page, 'sign-up');
  await typeInto(page, 'f-display_name', 'Giulia Neri');
  await typeInto(page, 'f-email', 'giulia@example.org');
  await typeInto(page, 'f-username', 'giulia');
  await typeInto(page, 'f-password', 'tramonto-sul-lago-blu');
  await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
  // No mail server on this node: active at once, and the page says so.
  assert.match(await page.textContent('main .notice'), /già attivo/);
  await axe(page, 'signed up');
  await tabTo(page, 'the login link', byHref('/login?next=%2Farea-personale'));
  await Promise.all([page.waitForURL(/\/login/), page.keyboard.press('Enter')]);
  await typeInto(page, 'f-username', 'giulia');
  await typeInto(page, 'f-password', 'tramonto-sul-lago-blu');
  await Promise.all([page.waitForURL(`${n.base}/area-personale`), page.keyboard.press('Enter')]);
  assert.equal(await page.textContent('h1'), 'Area personale');
  const text = await page.textContent('main');
  for (const s of ['Nessuna richiesta.', 'Nessuna pratica.', 'Nessun messaggio.', 'Nessun pagamento.', 'Nessuna azione per tuo conto.']) {
    assert.ok(text.includes(s), `private area lacks "${s}"`);
  }
  await axe(page, 'private area');
  // The readable summary and the deletion page.
  await tabTo(page, 'the summary link', byHref('/area-personale/riepilogo'));
  await Promise.all([page.waitForURL(`${n.base}/area-personale/riepilogo`), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('main'), /giulia@example\.org/);
  await axe(page, 'summary');
  await page.goto(`${n.base}/area-personale/elimina`);
  await axe(page, 'deletion');
  await page.context().close();
});

test('an operator registers a citizen with consent and acts for them', async () => {
  const page = await newPage();
  await login(page, 'operatore', 'ponte-di-vetro-42', '/cittadini');
  assert.equal(page.url(), `${n.base}/cittadini`);
  await axe(page, 'assisted citizens (empty)');
  await tabTo(page, 'the register link', byHref('/cittadini/nuovo'));
  await Promise.all([page.waitForURL(`${n.base}/cittadini/nuovo`), page.keyboard.press('Enter')]);
  await axe(page, 'register a citizen');
  await typeInto(page, 'f-display_name', 'Rosa Greco');
  await typeInto(page, 'f-username', 'rosa');
  // Consent: signed paper form, given.
  await tabTo(page, 'the first consent method', byId('f-consent-method-0'));
  await page.keyboard.press('Space');
  await tabTo(page, 'the consent box', byId('f-consent-given'));
  await page.keyboard.press('Space');
  await Promise.all([page.waitForURL(`${n.base}/cittadini`), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('main'), /Rosa Greco/);
  await axe(page, 'assisted citizens');
  await tabTo(page, 'the act-for button', byText('Agisci per'));
  await Promise.all([page.waitForURL(`${n.base}/area-personale`), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('.acting'), /rosa/);
  assert.match(await page.textContent('main'), /ha iniziato ad agire per te/);
  await axe(page, 'private area, acting');
  await tabTo(page, 'the stop button', byText('Smetti di agire per conto del cittadino'));
  await Promise.all([page.waitForURL(`${n.base}/cittadini`), page.keyboard.press('Enter')]);
  assert.equal(await page.$('.acting'), null);
  await page.context().close();

  // The audit log names the operator for the citizen.
  const { events } = await api(n, 'GET', '/api/v1/audit?kind=citizen&actor=operatore');
  assert.ok(events.some((e) => e.action === 'act_for_start' && e.for === 'rosa'), JSON.stringify(events));
  assert.ok(events.some((e) => e.action === 'create' && e.for === 'rosa' && e.detail === 'consent:signed_form'), JSON.stringify(events));
});
