// Browser tests of the web UI: a real `difronte serve` on loopback, the
// system Chromium driven by playwright-core, axe-core for WCAG 2.1 A/AA.
// Run with `make test-e2e` (or `node --test` here after `make build`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { waitFor, freePort, chromiumArgs } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const binary = process.env.DIFRONTE_BIN || join(here, '..', '..', 'bin', 'difronte');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const adminPassword = 'password-e2e-lunga';

let server; let dataDir; let base; let browser; let context; let page;
let serverLog = '';
const cspViolations = [];
let axeSource;

// waitFor polls check until it returns true, at most until the deadline.
before(async () => {
  axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(binary, ['serve', '--data', join(dataDir, 'data'), '--http', `127.0.0.1:${port}`, '--coop-name', 'Coop Prova'], {
    env: { ...process.env, DIFRONTE_ADMIN_PASSWORD: adminPassword }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => { serverLog += d; });
  server.stderr.on('data', (d) => { serverLog += d; });
  let exited = false;
  server.once('exit', () => { exited = true; });
  await waitFor('the node to be ready', async () => {
    if (exited) throw new Error(`node exited:\n${serverLog}`);
    try {
      return (await fetch(`${base}/readyz`)).ok;
    } catch {
      return false;
    }
  });
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  // A fresh temporary profile per run; 1024x768 is the old screen the UI must fit.
  context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  context.setDefaultTimeout(10000);
  page = await context.newPage();
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    const done = new Promise((r) => server.once('exit', r));
    process.kill(server.pid, 'SIGTERM');
    await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
    if (server.exitCode === null) process.kill(server.pid, 'SIGKILL');
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// axe checks the current page against WCAG 2.1 A and AA. The script goes in
// through the debugging protocol, so the page's CSP stays as strict as in
// production.
async function axe(name) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const msg = res.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`).join('\n');
  assert.ok(res.passes.length > 10, `axe ran only ${res.passes.length} rules on ${name}`);
  assert.equal(res.violations.length, 0, `axe violations on ${name}:\n${msg}`);
}

const activeId = () => page.evaluate(() => document.activeElement && document.activeElement.id);

// tabTo presses Tab until the element with id has focus, as a keyboard
// user would; bounded so a broken tab order fails instead of hanging.
async function tabTo(id, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await activeId() === id) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`#${id} never got focus with Tab`);
}

async function go(path) {
  const res = await page.goto(base + path);
  assert.ok(res.ok(), `${path}: HTTP ${res.status()}`);
}

test('login: wrong password is announced, right one logs in', async () => {
  // A visitor at / sees the public catalogue; its header offers the login.
  await go('/');
  await Promise.all([page.waitForURL(/\/login$/), page.click('header a.login-link')]);
  assert.equal(await page.getAttribute('html', 'lang'), 'it');
  await axe('login');
  await page.fill('#f-username', 'admin');
  await page.fill('#f-password', 'non-e-questa');
  await Promise.all([page.waitForLoadState('load'), page.press('#f-password', 'Enter')]);
  await page.waitForSelector('#errsum');
  await waitFor('focus on the error summary', async () => (await activeId()) === 'errsum', 5000, 50);
  assert.equal(await page.getAttribute('#f-password', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#f-password', 'aria-describedby'), 'e-password');
  await axe('login with errors');
  await page.fill('#f-password', adminPassword);
  await Promise.all([page.waitForURL(`${base}/`), page.press('#f-password', 'Enter')]);
  assert.equal(await page.textContent('h1'), 'Inizio');
  await axe('home');
});

test('beneficiary: created with the keyboard only, then listed', async () => {
  await go('/beneficiaries');
  await axe('beneficiary list (empty)');
  await tabTo('');
  // Reach the "new" link by Tab and follow it with Enter.
  for (let i = 0; i < 80; i++) {
    const href = await page.evaluate(() => document.activeElement.getAttribute('href'));
    if (href === '/beneficiaries/new') break;
    await page.keyboard.press('Tab');
  }
  await Promise.all([page.waitForURL(`${base}/beneficiaries/new`), page.keyboard.press('Enter')]);
  await axe('beneficiary form');

  // Sending it empty: the summary takes focus and lists the errors.
  await tabTo('f-name');
  await Promise.all([page.waitForLoadState('load'), page.keyboard.press('Enter')]);
  await page.waitForSelector('#errsum');
  await waitFor('focus on the error summary', async () => (await activeId()) === 'errsum', 5000, 50);
  await axe('beneficiary form with errors');

  await tabTo('f-name');
  await page.keyboard.type('Maria Esposito');
  await tabTo('f-address');
  await page.keyboard.type('Via Marina 12');
  await tabTo('f-municipality');
  await page.keyboard.type('Reggio di Cal');
  // The autocomplete module fills the datalist from the API.
  await waitFor('municipality suggestions', () => page.evaluate(() => {
    const l = document.querySelector('#f-municipality + datalist');
    return !!l && [...l.options].some((o) => o.value.startsWith('080063 '));
  }), 5000, 50);
  await page.keyboard.type('abria');
  await tabTo('f-birth_year');
  await page.keyboard.type('1938');
  await tabTo('f-fragility-1');
  await page.keyboard.press('Space');
  await tabTo('f-fragility-0');
  await page.keyboard.press('Space');
  await tabTo('f-contacts-0-name');
  await page.keyboard.type('Giovanni Esposito');
  await tabTo('f-contacts-0-relation');
  await page.keyboard.type('figlio');
  await tabTo('f-contacts-0-phone');
  await page.keyboard.type('+39 333 1112223');
  await Promise.all([page.waitForURL(/\/beneficiaries\/(?!new$)[a-z0-9]+$/), page.keyboard.press('Enter')]);
  assert.equal(await page.textContent('h1'), 'Maria Esposito');
  assert.match(await page.textContent('[role=status]'), /creata/);
  assert.match(await page.textContent('main'), /Reggio di Calabria/);
  assert.match(await page.textContent('main'), /Vive solo/);
  await axe('beneficiary detail');

  await go('/beneficiaries?q=esposito');
  assert.match(await page.textContent('table'), /Maria Esposito/);
  await axe('beneficiary list');
});

test('offering: created through the form', async () => {
  await go('/offerings');
  await axe('offering list (empty)');
  await go('/offerings/new');
  await axe('offering form');
  await page.fill('#f-name', 'Compagnia e spesa a domicilio');
  await page.fill('#f-description', 'Un operatore passa due volte a settimana per compagnia e piccole commissioni.');
  const cat = await page.$eval('#f-category optgroup option', (o) => o.value);
  await page.selectOption('#f-category', cat);
  await page.check('#f-cost-type-1');
  await page.fill('#f-cost-options-0-option', 'Visita di due ore');
  await page.fill('#f-cost-options-0-amount', '18,50');
  await page.selectOption('#f-cost-options-0-unit', 'visit');
  // A second price, by keyboard only.
  await tabTo('f-cost-options-1-option');
  await page.keyboard.type('Visita festiva');
  await page.keyboard.press('Tab');
  await page.keyboard.type('22');
  await page.check('#f-delivery-1');
  await page.fill('#f-areas-0', '080063');
  await page.fill('#f-areas-1', 'Villa San Giovanni');
  // Weekly hours, by keyboard only: Thursday 9 to 12:30.
  await tabTo('f-schedule-weekly-0-days-3');
  await page.keyboard.press('Space');
  await tabTo('f-schedule-weekly-0-opens');
  await page.keyboard.type('9:00');
  await page.keyboard.press('Tab');
  await page.keyboard.type('12:30');
  await page.fill('#f-contact-phone', '+39 0965 123456');
  await Promise.all([page.waitForURL(/\/offerings\/[0-9a-f-]{36}$/), page.click('button[type=submit].primary')]);
  assert.equal(await page.textContent('h1'), 'Compagnia e spesa a domicilio');
  assert.match(await page.textContent('main'), /18,50/);
  assert.match(await page.textContent('main'), /Visita festiva: € ?22,00/);
  assert.match(await page.textContent('main'), /giovedì 09:00–12:30/);
  await axe('offering detail');
  assert.match(await page.textContent('main'), /Villa San Giovanni/);
  await go('/offerings');
  assert.match(await page.textContent('table'), /Compagnia e spesa a domicilio/);
  await axe('offering list');
});

test('archive: after confirmation the beneficiary leaves the list', async () => {
  await go('/beneficiaries?q=esposito');
  await Promise.all([page.waitForURL(/\/beneficiaries\/(?!new$)[a-z0-9]+$/), page.click('table a')]);
  await Promise.all([page.waitForURL(/\/archive$/), page.click('a.danger')]);
  await axe('archive confirmation');
  await Promise.all([page.waitForURL(`${base}/beneficiaries`), page.click('button.danger')]);
  assert.match(await page.textContent('[role=status]'), /archiviata/);
  assert.doesNotMatch(await page.textContent('main'), /Maria Esposito/);
  await go('/beneficiaries?archived=1');
  assert.match(await page.textContent('table'), /Maria Esposito/);
});

test('audit: the log shows events and the chain verifies', async () => {
  await go('/audit');
  await axe('audit');
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/audit/verify"] button')]);
  await page.waitForSelector('.result.ok');
  await axe('audit verified');
});

test('federation: the page lists this coop online, axe clean', async () => {
  await go('/federation');
  const text = await page.textContent('main');
  assert.match(text, /Coop Prova/);
  assert.match(text, /In linea/);
  await axe('federation');
});

test('language: switching to English', async () => {
  await go('/beneficiaries');
  await Promise.all([page.waitForLoadState('load'), page.click('button[name=lang][value=en]')]);
  await waitFor('the English page', async () => (await page.getAttribute('html', 'lang')) === 'en', 5000, 50);
  assert.equal(await page.textContent('h1'), 'Beneficiaries');
  assert.equal(await page.getAttribute('button[name=lang][value=en]', 'aria-pressed'), 'true');
  await axe('beneficiary list in English');
  await go('/');
  assert.equal(await page.textContent('h1'), 'Home');
});

test('200% zoom on a 1024x768 screen: pages reflow without sideways scrolling', async () => {
  // 200% zoom of 1024x768 is a 512x384 CSS-pixel viewport (WCAG 1.4.10).
  await page.setViewportSize({ width: 512, height: 384 });
  try {
    for (const path of ['/', '/beneficiaries/new', '/offerings/new', '/offerings']) {
      await go(path);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(over <= 1, `${path} scrolls sideways by ${over}px at 200% zoom`);
    }
  } finally {
    await page.setViewportSize({ width: 1024, height: 768 });
  }
});

test('no page broke the Content Security Policy', () => {
  assert.deepEqual(cspViolations, []);
});
