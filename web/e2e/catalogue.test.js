// Browser test of the public catalogue: a citizen with no account goes
// through the funnel with the keyboard only, down to a service's detail
// page. A real `difronte serve --demo` on loopback, the system Chromium
// driven by playwright-core, axe-core for WCAG 2.1 A/AA. Run with
// `make test-e2e` (or `node --test catalogue.test.js` here after `make build`).
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

let server; let dataDir; let base; let browser; let context; let page;
let serverLog = '';
const cspViolations = [];
let axeSource;

// waitFor polls check until it returns true, at most until the deadline.
before(async () => {
  axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-cat-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(binary, ['serve', '--demo', '--data', join(dataDir, 'data'), '--http', `127.0.0.1:${port}`], {
    env: { ...process.env, DIFRONTE_ADMIN_PASSWORD: 'password-e2e-catalogo' }, stdio: ['ignore', 'pipe', 'pipe'],
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
  // The demo coop's offerings reach the search index through the replica.
  await waitFor('the demo offerings in the index', async () => {
    const res = await fetch(`${base}/api/v1/catalogue/search?price=free`);
    return res.ok && (await res.json()).total > 0;
  });
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  // No cookies, no account: a citizen's first visit on an old 1024x768 screen.
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
// through the debugging protocol, so the page's CSP stays strict.
async function axe(name) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const msg = res.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n  ')}`).join('\n');
  assert.ok(res.passes.length > 10, `axe ran only ${res.passes.length} rules on ${name}`);
  assert.equal(res.violations.length, 0, `axe violations on ${name}:\n${msg}`);
}

// focused describes the focused element: its id, or its href for links.
const focused = () => page.evaluate(() => {
  const a = document.activeElement;
  if (!a) return '';
  return a.id || a.getAttribute('href') || '';
});

// tabTo presses Tab until match(focused) holds, as a keyboard user would;
// bounded so a broken tab order fails instead of hanging.
async function tabTo(what, match, max = 80) {
  for (let i = 0; i < max; i++) {
    if (match(await focused())) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${what} never got focus with Tab`);
}

// press presses key on the focused element and waits for the page it opens.
async function press(key) {
  const before = page.url();
  await Promise.all([page.waitForURL((u) => u.toString() !== before), page.keyboard.press(key)]);
  await page.waitForLoadState('load');
}

async function noSidewaysScroll(name) {
  const over = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(over <= 1, `${name} scrolls sideways by ${over}px`);
}

test('funnel with the keyboard only: top category, subcategory, free only, result, detail', async () => {
  const res = await page.goto(`${base}/catalogo`);
  assert.ok(res.ok(), `HTTP ${res.status()}`);
  assert.equal(await page.getAttribute('html', 'lang'), 'it');
  // A citizen on a slow line: the page and its style sheet come gzipped,
  // and the browser unpacks them (bytes on the wire under half the page's).
  assert.equal(res.headers()['content-encoding'], 'gzip');
  const sizes = await page.evaluate(() => [
    ...performance.getEntriesByType('navigation'),
    ...performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/static/app.css')),
  ].map((e) => [e.name, e.encodedBodySize, e.decodedBodySize]));
  assert.equal(sizes.length, 2, `timings: ${JSON.stringify(sizes)}`);
  for (const [name, sent, size] of sizes) assert.ok(sent > 0 && sent * 2 < size, `${name}: ${sent} bytes sent for ${size}`);
  assert.equal(await page.textContent('h1'), 'Catalogo dei servizi');
  await axe('catalogue start');

  // Step 1: a top category, a large button with icon and text.
  await tabTo('the "Compagnia" button', (f) => f === '/catalogo?category=compagnia');
  await press('Enter');
  assert.match(page.url(), /category=compagnia$/);
  await axe('top category');

  // Step 2: a subcategory.
  await tabTo('the subcategory button', (f) => f.includes('category=compagnia.video-check-in'));
  await press('Enter');
  assert.match(page.url(), /category=compagnia\.video-check-in/);
  assert.match(await page.textContent('#results-h'), /\d+ serviz/);
  await axe('subcategory with results');

  // Step 3: a filter, free services only, chosen from the keyboard
  // behind the "Filtra" disclosure (results come first on a phone).
  await tabTo('the "Filtra" disclosure', (f) => f === 'filters-toggle');
  assert.equal(await page.$eval('#filters-box', (d) => d.open), false, 'the filters start closed');
  await page.keyboard.press('Enter');
  await tabTo('the price filter', (f) => f === 'f-price');
  await page.keyboard.type('Gratuito');
  assert.equal(await page.inputValue('#f-price'), 'free');
  await tabTo('the apply button', (f) => f === 'filters-apply');
  await press('Space');
  assert.match(page.url(), /price=free/);
  const cards = await page.$$eval('.results .card h3 a', (as) => as.map((a) => a.textContent));
  assert.deepEqual(cards, ['Video check-in quotidiano']);
  await axe('filtered results');

  // Step 4: the result leads to its detail page.
  await tabTo('the result link', (f) => /^\/catalogo\/[^/]+\/[0-9a-f-]{36}$/.test(f));
  await press('Enter');
  assert.equal(await page.textContent('h1'), 'Video check-in quotidiano');
  assert.ok(await page.$('a[href^="tel:"]'), 'the detail page has a phone link');
  assert.ok(await page.$('a[href^="mailto:"]'), 'the detail page has an e-mail link');
  await axe('detail');
  assert.deepEqual(cspViolations, []);
});

test('free text from the first page, then the municipality by name with suggestions', async () => {
  await page.goto(`${base}/catalogo`);
  await tabTo('the search box', (f) => f === 'q');
  await page.keyboard.type('pasti');
  await press('Enter');
  assert.match(page.url(), /q=pasti/);
  const cards = await page.$$eval('.results .card h3 a', (as) => as.map((a) => a.textContent));
  assert.ok(cards.length > 0, 'free text finds something');
  await axe('free text results');

  // The municipality box suggests names as the citizen types...
  await tabTo('the "Filtra" disclosure', (f) => f === 'filters-toggle');
  await page.keyboard.press('Enter');
  await tabTo('the municipality box', (f) => f === 'f-municipality');
  await page.keyboard.type('Sesto San');
  await waitFor('municipality suggestions', async () => (await page.$$eval('#f-municipality ~ datalist option',
    (os) => os.map((o) => o.value))).some((v) => v.startsWith('015209 Sesto San Giovanni')), 5000);
  // ...and a plain name works too, as it does without JavaScript.
  await page.fill('#f-municipality', '');
  await page.keyboard.type('Milano');
  await press('Enter');
  assert.match(page.url(), /municipality=Milano/);
  assert.equal(await page.inputValue('#f-municipality'), '015146 Milano (MI)');
  assert.equal(await page.$('.error-summary'), null, 'Milano is understood');
  await axe('municipality chosen');

  // A name that is no municipality is said so, not a failure.
  const res = await page.goto(`${base}/catalogo?q=pasti&municipality=Atlantide`);
  assert.equal(res.status(), 200);
  assert.match(await page.textContent('.error-summary'), /Non troviamo il comune/);
  assert.deepEqual(cspViolations, []);
});

test('relevance: the verb finds the noun, and a strict search with no result shows similar ones, labelled', async () => {
  await page.goto(`${base}/catalogo?q=accompagnare`);
  const cards = await page.$$eval('.results .card h3 a', (as) => as.map((a) => a.textContent));
  assert.ok(cards.some((c) => c.startsWith('Accompagnamento alle visite')), `accompagnare found ${cards}`);
  await page.goto(`${base}/catalogo?q=anziana+sola`);
  assert.equal(await page.textContent('#similar-h'), 'Risultati simili');
  const similar = await page.$$eval('.similar-results .card h3 a', (as) => as.map((a) => a.textContent));
  assert.ok(similar.length > 0, 'anziana sola shows similar results');
  await axe('similar results');
  // Results come first on a phone: the filters wait behind "Filtra".
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(`${base}/catalogo?category=compagnia`);
    assert.equal(await page.$eval('#filters-box', (d) => d.open), false);
    const resultsTop = await page.$eval('.results', (e) => e.getBoundingClientRect().top);
    assert.ok(resultsTop < 844 * 2, `results start ${resultsTop}px down on a phone`);
    await axe('results on a phone');
  } finally {
    await page.setViewportSize({ width: 1024, height: 768 });
  }
});

test('print: a result list and a detail page without navigation, with whole addresses', async () => {
  await page.goto(`${base}/catalogo?category=compagnia`);
  await page.emulateMedia({ media: 'print' });
  try {
    for (const sel of ['header.top', 'form.filters', 'form.catalogue-search', '.funnel']) {
      const shown = await page.$eval(sel, (e) => getComputedStyle(e).display !== 'none');
      assert.equal(shown, false, `${sel} is printed`);
    }
    const after = await page.$eval('.results .card h3 a', (a) => getComputedStyle(a, '::after').content);
    assert.match(after, /http:\/\/127\.0\.0\.1:\d+\/catalogo\//);
    const brk = await page.$eval('.results .card', (c) => getComputedStyle(c).breakInside);
    assert.equal(brk, 'avoid');
    await page.click('.results .card h3 a');
    await page.waitForLoadState('load');
    assert.equal(await page.$eval('.no-print', (e) => getComputedStyle(e).display), 'none');
    assert.ok(await page.$eval('a[href^="tel:"]', (e) => getComputedStyle(e).display !== 'none'));
  } finally {
    await page.emulateMedia({ media: 'screen' });
  }
});

test('200% zoom on a 1024x768 screen: catalogue pages reflow without sideways scrolling', async () => {
  // 200% zoom of 1024x768 is a 512x384 CSS-pixel viewport (WCAG 1.4.10).
  const zoomed = await browser.newContext({ viewport: { width: 512, height: 384 }, deviceScaleFactor: 2, locale: 'it-IT' });
  const prev = page;
  page = await zoomed.newPage();
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  try {
    const api = await (await fetch(`${base}/api/v1/catalogue/search?category=compagnia`)).json();
    const hit = api.results[0];
    for (const path of ['/catalogo', '/catalogo?category=compagnia', '/catalogo?category=compagnia.video-check-in&price=free',
      '/catalogo?q=pasti', `/catalogo/${hit.publisher}/${hit.id}`]) {
      const res = await page.goto(base + path);
      assert.ok(res.ok(), `${path}: HTTP ${res.status()}`);
      await noSidewaysScroll(`${path} at 200% zoom`);
      await axe(`${path} at 200% zoom`);
    }
  } finally {
    await zoomed.close();
    page = prev;
  }
  assert.deepEqual(cspViolations, []);
});
