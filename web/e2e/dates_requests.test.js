// Typed dates (issue 13) on the forms that came after dates.test.js: a
// citizen's request from a catalogue offering (its start), the provider's
// offer on that request in /richieste (start, valid until) and a family's
// request for an assistant on /lavoro (issue 16, its start). Each refuses
// 31/02/2026 with a message beside the field that says how to type a date
// (Italian page), axe clean, and then takes a good date, stored as ISO (read
// back through the API). The offer form also refuses, beside their fields,
// a price that is no amount, an empty unit or start and a
// validity in the past. One real `difronte serve`: the node is its own
// provider, so the citizen asks this node's own offering and its admin offers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startNode, stopNode, api, axe, waitFor, chromiumPath, chromiumArgs } from './harness.js';

const nodes = {};
const citizenPassword = 'tramonto-sul-lago-blu';
let dataDir; let browser; let n; let offering; let citizenToken; let citizen; let admin;

// A day n days from today: as ISO, and as people type it (dd/mm/yyyy).
const iso = (days) => new Date(Date.now() + days * 86400e3).toISOString().slice(0, 10);
const typed = (days) => iso(days).split('-').reverse().join('/');
const badDate = /gg\/mm\/aaaa/;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-dates-rq-'));
  n = await startNode(nodes, dataDir, 'A');
  const o = await api(n, 'POST', '/api/v1/offerings', {
    name: 'Pasti a domicilio', description: 'Un pasto caldo a casa, dal lunedì al venerdì.',
    category: 'anziani.assistenza-domiciliare', delivery: 'individual', areas: ['015146'], languages: ['it'],
    cost: { type: 'paid', options: [{ option: 'Pasto', amount_cents: 900, currency: 'EUR', unit: 'hour' }] },
    contact: { name: 'Sportello', email: 'servizi@coop.example', phone: '+39 02 123456' }, status: 'active',
  });
  offering = { publisher: n.info.peer_id, id: o.id };
  await waitFor('the offering in the node\'s own catalogue', async () => {
    const r = await api(n, 'GET', `/api/v1/catalogue/search?publisher=${n.info.peer_id}`, null, null);
    return r.total >= 1;
  }, 30000, 200);
  await api(n, 'POST', '/api/v1/accounts', { username: 'rosa', role: 'citizen', display_name: 'Rosa Bianchi', password: citizenPassword });
  citizenToken = (await api(n, 'POST', '/api/v1/login', { username: 'rosa', password: citizenPassword }, null)).token;
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
  citizen = await newPage(citizenToken);
  admin = await newPage(n.token);
});

after(async () => {
  if (browser) await browser.close();
  for (const x of Object.values(nodes)) await stopNode(x);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// newPage is a desktop page in Italian, logged in with the session token.
async function newPage(token) {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'it-IT' });
  ctx.setDefaultTimeout(15000);
  await ctx.addCookies([{ name: 'difronte_session', value: token, url: n.base }]);
  return ctx.newPage();
}

// submit clicks the form's submit button and waits for the answer's page
// (the refused form itself, or where the redirect leads).
async function submit(page, sel) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator(sel).click()]);
}

// refused checks a form sent with 31/02/2026 in the date field came back
// with status 400, the message beside the field (its error, which the field
// names in aria-describedby), the field marked invalid and holding what was
// typed, and no axe violation.
async function refused(page, { name, date, error, send }) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator(send).click()]);
  assert.equal(res.status(), 400, `${name}: a bad date was not refused`);
  await page.locator(error).waitFor();
  assert.match(await page.locator(error).textContent(), badDate);
  const field = page.locator(date);
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  assert.ok((await field.getAttribute('aria-describedby') || '').split(' ').includes(error.slice(1)),
    `${name}: the date field is not described by its error`);
  assert.equal(await field.inputValue(), '31/02/2026', `${name}: what was typed is not shown back`);
  assert.equal(await page.locator('input[type=date]').count(), 0, `${name}: a native date picker on the page`);
  await axe(page, `${name} (bad date)`);
}

test('request form: 31/02/2026 refused beside the start date, a good start stored as ISO', { timeout: 90000 }, async () => {
  const path = `/catalogo/${offering.publisher}/${offering.id}/richiedi`;
  const send = 'form[action$="/richiedi"] button[type=submit]';
  const fill = async (who) => {
    await citizen.goto(`${n.base}${path}`);
    assert.equal(await citizen.locator('#f-start').getAttribute('type'), 'text', 'still a native date picker');
    await citizen.fill('#f-for', who);
    await citizen.fill('#f-municipality', '015146');
    await citizen.check('#f-consent');
  };
  await fill('mia madre, Anna');
  await citizen.fill('#f-start', '31/02/2026');
  await refused(citizen, { name: 'request form', date: '#f-start', error: '#e-start', send });
  assert.equal((await api(n, 'GET', '/api/v1/requests', null, citizenToken)).length, 0, 'a request was stored with a bad date');

  await fill('mia madre, Anna');
  await citizen.fill('#f-start', typed(20));
  await submit(citizen, send);
  assert.equal(new URL(citizen.url()).pathname, '/pratiche', `the request was refused: ${await citizen.locator('main').textContent()}`);
  const mine = (await api(n, 'GET', '/api/v1/requests', null, citizenToken)).filter((r) => r.for === 'mia madre, Anna');
  assert.equal(mine.length, 1);
  assert.equal(mine[0].start, iso(20));
});

test('offer form: 31/02/2026 refused beside the start and beside the valid-until date, good dates stored as ISO', { timeout: 90000 }, async () => {
  const rq = await api(n, 'POST', '/api/v1/requests', {
    offerings: [`${offering.publisher}/${offering.id}`], for: 'mio padre, Carlo', municipality: '015146', start: iso(10), consent: true,
  }, citizenToken);
  await waitFor('the request in the provider\'s inbox', async () => (await api(n, 'GET', '/api/v1/requests')).some((r) => r.id === rq.id), 30000, 200);
  const send = `form[action="/richieste/${rq.id}/offerta"] button[type=submit]`;
  const fill = async (start, until) => {
    await admin.goto(`${n.base}/richieste`);
    await admin.locator(`#rq-${rq.id}`).waitFor();
    await admin.fill(`#p-${rq.id}`, '9,50');
    await admin.fill(`#u-${rq.id}`, 'pasto');
    await admin.fill(`#s-${rq.id}`, start);
    await admin.fill(`#v-${rq.id}`, until);
    await admin.fill(`#c-${rq.id}`, 'Consegna entro le 12.');
  };
  await fill('31/02/2026', typed(40));
  await refused(admin, { name: 'offer form (start)', date: `#s-${rq.id}`, error: `#e-s-${rq.id}`, send });
  // The rest of the offer comes back as typed; the good date is not marked.
  assert.equal(await admin.inputValue(`#p-${rq.id}`), '9,50');
  assert.equal(await admin.inputValue(`#u-${rq.id}`), 'pasto');
  assert.equal(await admin.inputValue(`#c-${rq.id}`), 'Consegna entro le 12.');
  assert.equal(await admin.inputValue(`#v-${rq.id}`), typed(40));
  assert.equal(await admin.locator(`#v-${rq.id}`).getAttribute('aria-invalid'), null);
  assert.equal(await admin.locator(`#e-v-${rq.id}`).count(), 0);
  // The summary at the top links to the wrong date.
  assert.equal(await admin.locator(`#errsum a[href="#s-${rq.id}"]`).count(), 1);

  await fill(typed(30), '31/02/2026');
  await refused(admin, { name: 'offer form (valid until)', date: `#v-${rq.id}`, error: `#e-v-${rq.id}`, send });
  assert.equal(await admin.locator(`#e-s-${rq.id}`).count(), 0);
  assert.equal((await api(n, 'GET', `/api/v1/requests/${rq.id}`)).offers.length, 0, 'an offer was made with a bad date');

  await fill(typed(30), typed(40));
  await submit(admin, send);
  assert.equal(new URL(admin.url()).pathname, '/richieste', `the offer was refused: ${await admin.locator('main').textContent()}`);
  assert.match(await admin.locator('main').textContent(), /Offerta inviata/);
  const { offers } = await api(n, 'GET', `/api/v1/requests/${rq.id}`);
  assert.equal(offers.length, 1);
  assert.equal(offers[0].start, iso(30));
  assert.equal(offers[0].valid_until, iso(40));
});

// refusedFields checks the offer form of request id came back (400) with
// each of fields (the input's id prefix, and the message expected) marked
// invalid and described by its message, the summary linking to it, and no
// axe violation.
async function refusedFields(page, id, name, send, fields) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.locator(send).click()]);
  assert.equal(res.status(), 400, `${name}: not refused with 400`);
  for (const [prefix, message] of fields) {
    const error = `e-${prefix}-${id}`;
    const field = page.locator(`#${prefix}-${id}`);
    assert.match(await page.locator(`#${error}`).textContent(), message, `${name}: the message beside #${prefix}-${id}`);
    assert.equal(await field.getAttribute('aria-invalid'), 'true', `${name}: #${prefix}-${id} not marked invalid`);
    assert.ok((await field.getAttribute('aria-describedby') || '').split(' ').includes(error), `${name}: #${prefix}-${id} not described by its error`);
    assert.equal(await page.locator(`#errsum a[href="#${prefix}-${id}"]`).count(), 1, `${name}: the summary does not link to #${prefix}-${id}`);
  }
  await axe(page, name);
}

test('offer form: a price that is no amount, a blank unit and no start refused beside each field, a validity in the past beside its date', { timeout: 90000 }, async () => {
  const rq = await api(n, 'POST', '/api/v1/requests', {
    offerings: [`${offering.publisher}/${offering.id}`], for: 'mia zia, Lucia', municipality: '015146', start: iso(10), consent: true,
  }, citizenToken);
  await waitFor('the request in the provider\'s inbox', async () => (await api(n, 'GET', '/api/v1/requests')).some((r) => r.id === rq.id), 30000, 200);
  const send = `form[action="/richieste/${rq.id}/offerta"] button[type=submit]`;
  const fill = async ({ price, unit, start, until }) => {
    await admin.goto(`${n.base}/richieste`);
    await admin.locator(`#rq-${rq.id}`).waitFor();
    await admin.fill(`#p-${rq.id}`, price);
    await admin.fill(`#u-${rq.id}`, unit);
    await admin.fill(`#s-${rq.id}`, start);
    await admin.fill(`#v-${rq.id}`, until);
  };
  await fill({ price: 'nove', unit: '   ', start: '', until: typed(40) });
  await refusedFields(admin, rq.id, 'offer form (price, unit, start)', send,
    [['p', /importo non valido/], ['u', /campo obbligatorio/], ['s', /campo obbligatorio/]]);
  // The form comes back as typed; the good date is not marked.
  assert.equal(await admin.inputValue(`#p-${rq.id}`), 'nove');
  assert.equal(await admin.inputValue(`#v-${rq.id}`), typed(40));
  assert.equal(await admin.locator(`#v-${rq.id}`).getAttribute('aria-invalid'), null);
  assert.equal(await admin.locator(`#e-v-${rq.id}`).count(), 0);

  await fill({ price: '12,50', unit: 'ora', start: typed(30), until: typed(-2) });
  await refusedFields(admin, rq.id, 'offer form (validity in the past)', send, [['v', /già passata/]]);
  assert.equal(await admin.inputValue(`#v-${rq.id}`), typed(-2));
  assert.equal(await admin.inputValue(`#p-${rq.id}`), '12,50');
  assert.equal(await admin.locator(`#p-${rq.id}`).getAttribute('aria-invalid'), null);
  assert.equal((await api(n, 'GET', `/api/v1/requests/${rq.id}`)).offers.length, 0, 'a refused offer was made');
});

test('family request: 31/02/2026 refused beside the start date, a good start stored as ISO', { timeout: 90000 }, async () => {
  const send = 'form[action="/lavoro/richiesta"] button[type=submit]';
  const fill = async () => {
    await citizen.goto(`${n.base}/lavoro`);
    assert.equal(await citizen.locator('#f-start_date').getAttribute('type'), 'text', 'still a native date picker');
    await citizen.selectOption('#f-req-work', 'elderly');
    await citizen.fill('#f-hours_per_week', '30');
    await citizen.fill('#f-req-municipality', 'Sesto San Giovanni');
    await citizen.fill('#f-contact_name', 'Rosa Bianchi');
    await citizen.fill('#f-notes', 'Per mia madre, di mattina.');
  };
  await fill();
  await citizen.fill('#f-start_date', '31/02/2026');
  await refused(citizen, { name: 'family request', date: '#f-start_date', error: '#e-start_date', send });
  // With no request the list answers null.
  assert.equal((await api(n, 'GET', '/api/v1/family-requests', null, citizenToken)).requests.length, 0, 'a family request was stored with a bad date');

  await fill();
  await citizen.fill('#f-start_date', typed(15));
  await submit(citizen, send);
  assert.match(new URL(citizen.url()).pathname, /^\/lavoro\/richieste\//, `the family request was refused: ${await citizen.locator('main').textContent()}`);
  const { requests } = await api(n, 'GET', '/api/v1/family-requests', null, citizenToken);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].start_date, iso(15));
});
