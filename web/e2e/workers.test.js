// Browser test of the family assistants' pages (issue 16): a coop has
// published a vouched profile; a family on a phone-sized screen browses
// /lavoro without an account, filters it, logs in with its citizen
// account, starts a request, sees the match with its reasons and asks to
// meet her; the coop (its admin, on a second screen) finds the ask from
// the menu and records her accept; the family then sees her contacts.
// Keyboard only, axe clean on every page, no sideways scroll.
// Run with `node --test workers.test.js` here after `make build`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startNode, stopNode, api, axe, chromiumArgs, chromiumPath, adminPassword, waitFor } from './harness.js';

const sesto = '015209'; // Sesto San Giovanni
const nodes = {};
const familyPassword = 'tramonto-sul-lago-blu';
let dataDir; let browser; let page; let coop;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-workers-'));
  coop = await startNode(nodes, dataDir, 'B');
  const today = new Date().toISOString().slice(0, 10);
  const w = await api(coop, 'POST', '/api/v1/workers', {
    full_name: 'Elena Popescu', phone: '+39 347 000 1111', email: 'elena@example.org',
    consent: { given: true, date: today, collected_by: 'admin' },
    check: { identity_seen: true, date: today, by: 'admin' },
    profile: {
      alias: 'Elena P.', work: ['elderly', 'night'], experience_years: 8, certificates: ['oss'],
      languages: ['ro', 'it'], areas: [sesto], availability: { days: ['MO', 'TU', 'WE'], hours_per_week: 40, night: true },
      pay: { amount_cents: 135000, unit: 'month' }, presentation: 'Assisto anziani da otto anni, anche di notte.',
    },
  });
  await api(coop, 'POST', `/api/v1/workers/${w.id}/publish`);
  await waitFor('the profile in the search', async () => (await api(coop, 'GET', '/api/v1/workers/search')).total === 1);
  await api(coop, 'POST', '/api/v1/accounts', { username: 'rosa', role: 'citizen', display_name: 'Rosa Bianchi', password: familyPassword });
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, locale: 'it-IT' });
  context.setDefaultTimeout(10000);
  page = await context.newPage();
});

after(async () => {
  if (browser) await browser.close();
  for (const n of Object.values(nodes)) await stopNode(n);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// tabTo presses Tab until the element with id has the focus (bounded).
async function tabTo(id, pg = page) {
  for (let i = 0; i < 120; i++) {
    if (await pg.evaluate((x) => document.activeElement && document.activeElement.id === x, id)) return;
    await pg.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached #${id}`);
}

async function noSidewaysScroll(name, pg = page) {
  const [sw, iw] = await pg.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= iw + 1, `${name}: page is ${sw}px wide on a ${iw}px screen`);
}

test('a family finds a vouched assistant on a phone, starts a request and sees why she fits', async () => {
  const res = await page.goto(`${coop.base}/lavoro`);
  assert.equal(res.status(), 200, await page.content());
  assert.match(await page.textContent('main h1'), /assistenti familiari/i);
  assert.match(await page.textContent('.results'), /Elena P\./);
  await axe(page, '/lavoro');
  await noSidewaysScroll('/lavoro');

  // Filter by night work with the keyboard.
  await tabTo('f-work');
  await page.keyboard.press('ArrowDown'); // elderly
  await page.keyboard.press('ArrowDown'); // night
  await tabTo('f-night');
  await page.keyboard.press('Space');
  await page.keyboard.press('Enter');
  await page.waitForURL(/night=true/);
  assert.match(await page.textContent('.results'), /Elena P\./);

  // The profile page: pseudonymous, vouched, no contact.
  await tabTo('results-first');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/lavoro\/[0-9a-f-]{36}$/);
  const profile = await page.textContent('main');
  assert.match(profile, /Verificata da Coop B/);
  assert.doesNotMatch(profile, /Popescu|347 000|elena@example/);
  await axe(page, '/lavoro/{profile}');
  await noSidewaysScroll('/lavoro/{profile}');

  // Log in to file the request.
  await page.goto(`${coop.base}/login?next=%2Flavoro`);
  await tabTo('f-username');
  await page.keyboard.type('rosa');
  await tabTo('f-password');
  await page.keyboard.type(familyPassword);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/lavoro$/);
  assert.ok(await page.locator('nav a[href="/lavoro"]').count() > 0, 'the citizen menu lacks /lavoro');

  await tabTo('f-req-work');
  await page.keyboard.press('ArrowDown'); // night
  await tabTo('f-hours_per_week');
  await page.keyboard.type('40');
  await tabTo('f-req-municipality');
  await page.keyboard.type('Sesto San Giovanni');
  await tabTo('f-req-lang');
  await page.keyboard.press('ArrowDown'); // rumeno
  await tabTo('f-budget');
  await page.keyboard.type('1200');
  await tabTo('f-contact_name');
  await page.keyboard.type('Rosa Bianchi');
  await tabTo('f-contact_phone');
  await page.keyboard.type('+39 333 999 8888');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/lavoro\/richieste\//);
  await axe(page, 'matches');
  await noSidewaysScroll('matches');
  const matches = await page.textContent('.results');
  assert.match(matches, /Elena P\./);
  assert.match(matches, /parla rumeno e italiano/);
  assert.match(matches, /disponibile la notte/);
  assert.match(matches, /lavora a Sesto San Giovanni/);
  assert.match(matches, /verificata dalla Coop B il \d\d\/\d\d/);
  assert.match(matches, /chiede 1\.350 €\/mese, oltre il budget/);
  const matchesURL = page.url();

  // Ask to meet her, through the coop.
  await tabTo('f-msg-0');
  await page.keyboard.type('Cerchiamo aiuto per la notte, per mia madre.');
  await tabTo('ask-0');
  await page.keyboard.press('Enter');
  await page.waitForURL(/#contatti$/);
  assert.match(await page.textContent('.flash'), /Richiesta di incontro inviata/);
  assert.match(await page.textContent('#contatti'), /Elena P\./);
  assert.doesNotMatch(await page.textContent('main'), /Popescu|347 000/);
  await axe(page, 'matches with a request to meet');
  await noSidewaysScroll('matches with a request to meet');

  // The coop's admin, on another screen, finds the ask from the menu.
  const coopCtx = await browser.newContext({ viewport: { width: 1024, height: 800 }, locale: 'it-IT' });
  coopCtx.setDefaultTimeout(10000);
  const desk = await coopCtx.newPage();
  await desk.goto(`${coop.base}/login?next=%2F`);
  await tabTo('f-username', desk);
  await desk.keyboard.type('admin');
  await tabTo('f-password', desk);
  await desk.keyboard.type(adminPassword);
  await desk.keyboard.press('Enter');
  await desk.waitForURL(`${coop.base}/`);
  const menuLink = desk.locator('nav a[href="/lavoratori"]');
  assert.equal(await menuLink.count(), 1, 'the admin menu lacks /lavoratori');
  await desk.goto(`${coop.base}/lavoratori`);
  await tabTo('to-contacts', desk);
  await desk.keyboard.press('Enter');
  await desk.waitForURL(/\/lavoratori\/contatti$/);
  const inbox = await desk.textContent('main');
  assert.match(inbox, /Elena P\./);
  assert.match(inbox, /Cerchiamo aiuto per la notte/);
  assert.doesNotMatch(inbox, /Rosa Bianchi|333 999/, 'the family\'s contacts before the accept');
  await axe(desk, '/lavoratori/contatti');
  const [asked] = (await api(coop, 'GET', '/api/v1/worker-contacts')).contacts;
  await tabTo(`${asked.id}-asked`, desk);
  await desk.keyboard.press('Enter');
  await desk.waitForURL(/\/lavoratori\/contatti#/);
  await tabTo(`${asked.id}-accepted`, desk);
  // The URL already ends in the anchor, so waiting for it would not wait
  // for the accept's redirect: wait for that navigation itself to load
  // before visiting the page again.
  await Promise.all([
    desk.waitForNavigation({ url: /\/lavoratori\/contatti#/, waitUntil: 'load' }),
    desk.keyboard.press('Enter'),
  ]);
  await waitFor('the family\'s contacts at the coop', async () => (await api(coop, 'GET', `/api/v1/worker-contacts/${asked.id}`)).family);
  await desk.goto(`${coop.base}/lavoratori/contatti`);
  assert.match(await desk.textContent('main'), /Rosa Bianchi/);
  await axe(desk, '/lavoratori/contatti after the accept');
  await coopCtx.close();

  // The family sees each step and her contacts.
  await page.goto(matchesURL);
  const mine = await page.textContent('#contatti');
  assert.match(mine, /la cooperativa ha chiesto alla persona/);
  assert.match(mine, /la persona ha accettato/);
  assert.match(mine, /Elena Popescu/);
  assert.match(mine, /\+39 347 000 1111/);
  await axe(page, 'matches after the accept');
  await noSidewaysScroll('matches after the accept');
});

test('the cost estimate says it is an estimate', async () => {
  await page.goto(`${coop.base}/lavoro/costo?hours=54&level=BS&live_in=true`);
  const main = await page.textContent('main');
  assert.match(main, /Stima mensile \(2026\)/);
  assert.match(main, /€ 1053,39/);
  await axe(page, '/lavoro/costo');
  await noSidewaysScroll('/lavoro/costo');
});
