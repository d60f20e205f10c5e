// Browser test of the whole product as each role sees it: a visitor at /
// finds the public catalogue, every role's menu links to it, a missing
// page is in the site's layout, the admin's grouped menus work from the
// keyboard and on a phone, and every page each role reaches from its home
// page is axe clean in Italian and in English. A real `difronte serve
// --demo` that is also an authority; run with `make test-e2e` (or
// `node --test walk.test.js` here after `make build`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath, axe, stopNode } from './harness.js';
import { startWalkNode, login, setLang, crawl, viewports } from './walk.js';

let dataDir; let browser; let n; let users;
const nodes = {};

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-walk-'));
  ({ node: n, users } = await startWalkNode(nodes, dataDir));
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  for (const x of Object.values(nodes)) await stopNode(x);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function newPage(viewport = viewports.desktop, locale = 'it-IT') {
  const context = await browser.newContext({ viewport, locale });
  context.setDefaultTimeout(15000);
  return { context, page: await context.newPage() };
}

test('a visitor at / sees the federated catalogue with a discreet login link', async () => {
  const { context, page } = await newPage();
  const res = await page.goto(`${n.base}/`);
  assert.equal(res.status(), 200);
  assert.equal(await page.textContent('h1'), 'Catalogo dei servizi');
  assert.ok(await page.$('form.catalogue-search'), 'the search box is there');
  assert.equal(await page.$('nav.main-nav'), null, 'a visitor has no staff menu');
  const loginLink = page.locator('header a.login-link');
  assert.equal(await loginLink.getAttribute('href'), '/login');
  await axe(page, '/ (visitor)');
  // The login link leads to the login page, which does not offer itself.
  await Promise.all([page.waitForURL(`${n.base}/login`), loginLink.click()]);
  assert.equal(await page.$('header a.login-link'), null);
  await context.close();
});

test('every role has the catalogue in its menu; the operator searches the federated catalogue', async () => {
  for (const [role, username] of Object.entries(users)) {
    const { context, page } = await newPage();
    await login(page, n.base, username);
    const link = page.locator('nav.main-nav a[href="/catalogo"]');
    assert.equal(await link.count(), 1, `${role}'s menu links to /catalogo`);
    if (role === 'operator') {
      const search = page.locator('main a', { hasText: 'Cerca nel catalogo' });
      assert.equal(await search.getAttribute('href'), '/catalogo');
    }
    await context.close();
  }
});

test('a missing page and a refused one are in the site layout, axe clean', async () => {
  for (const lang of ['it', 'en']) {
    const { context, page } = await newPage();
    await setLang(context, n.base, lang);
    const res = await page.goto(`${n.base}/non-esiste/davvero`);
    assert.equal(res.status(), 404);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    assert.match(await page.title(), lang === 'it' ? /^Pagina non trovata · / : /^Page not found · /);
    for (const sel of ['header.top', 'main#main h1', 'footer.bottom', 'a.skip']) assert.ok(await page.$(sel), `${sel} on the 404 page`);
    await axe(page, `404 (${lang})`);
    // A page the role may not use: 403 in the same layout.
    await login(page, n.base, users.operator);
    const forbidden = await page.goto(`${n.base}/accounts`);
    assert.equal(forbidden.status(), 403);
    assert.ok(await page.$('nav.main-nav'), 'the 403 page keeps the menu');
    await axe(page, `403 (${lang})`);
    await context.close();
  }
  // The JSON API keeps its own answers.
  const api404 = await fetch(`${n.base}/api/v1/non-esiste`);
  assert.equal(api404.status, 404);
  assert.match(api404.headers.get('content-type'), /json/);
});

test("the admin's grouped menus open and close from the keyboard, and fit a phone", async () => {
  const { context, page } = await newPage();
  await login(page, n.base, users.admin);
  const groups = await page.$$eval('nav.main-nav details.menu > summary', (s) => s.map((x) => x.textContent));
  assert.deepEqual(groups, ['Persone', 'Chiamate', 'Servizi', 'Federazione', 'Amministrazione']);
  const people = page.locator('details[data-menu="people"]');
  await page.focus('details[data-menu="people"] > summary');
  await page.keyboard.press('Enter');
  assert.equal(await people.evaluate((d) => d.open), true, 'Enter opens the group');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '/beneficiaries');
  // Opening another group closes this one; Escape closes and gives focus back.
  await page.focus('details[data-menu="calls"] > summary');
  await page.keyboard.press('Enter');
  assert.equal(await people.evaluate((d) => d.open), false, 'one group open at a time');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('details[data-menu="calls"]').evaluate((d) => d.open), false);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Chiamate');
  await axe(page, 'admin home with menus');
  // The home page says what needs attention today.
  assert.equal(await page.textContent('#attn-h'), 'Da fare oggi');
  await context.close();

  const phone = await newPage(viewports.phone);
  await login(phone.page, n.base, users.admin);
  await phone.page.click('details[data-menu="services"] > summary');
  const over = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(over <= 1, `the phone menu scrolls sideways by ${over}px`);
  const target = await phone.page.locator('details[data-menu="services"] a[href="/catalogo"]').boundingBox();
  assert.ok(target.height >= 44, `menu links are ${target.height}px high on a phone`);
  await axe(phone.page, 'admin menu open on a phone');
  await phone.context.close();
});

// Every page each role reaches from its home page, in both languages:
// a page answer, the page's language, no untranslated key, axe clean.
for (const lang of ['it', 'en']) {
  test(`every page of every role is axe clean in ${lang === 'it' ? 'Italian' : 'English'}`, { timeout: 900000 }, async (t) => {
    const total = {};
    for (const [role, username] of Object.entries(users)) {
      const { context, page } = await newPage();
      await setLang(context, n.base, lang);
      await login(page, n.base, username);
      const visited = await crawl(page, n.base, async (path, res) => {
        const where = `${role} ${path} (${lang})`;
        assert.ok(res.status() < 400, `${where}: HTTP ${res.status()}`);
        assert.equal(await page.getAttribute('html', 'lang'), lang, `${where}: page language`);
        const text = await page.textContent('body');
        assert.ok(!text.includes('⟦'), `${where}: untranslated key ${text.match(/⟦[^⟧]*⟧/)}`);
        await axe(page, where);
      }, { max: 40 });
      total[role] = visited.length;
      await context.close();
    }
    t.diagnostic(`pages walked: ${JSON.stringify(total)}`);
    // Each role reached more than its home page.
    for (const [role, count] of Object.entries(total)) assert.ok(count > 2, `${role} walked only ${count} pages`);
  });
}
