// Browser end to end of a citizen's request across two real `difronte
// serve` processes: node A is the citizen's home node (where they sign up,
// and where a proximity-point operator works), node B is the coop that
// publishes the offering. The citizen opens B's offering from the
// catalogue detail page on A, sends a request; before any offer a
// message goes each way on the request's messages page, with read
// receipts; B's admin sees it in /richieste and offers; the citizen accepts and sees the case on
// /pratiche/{id}; a message goes each way (the citizen's with a PDF
// attached from the page's form); B suspends; the citizen sees the new
// state. The first pass is keyboard only, on both nodes (but for picking
// the file, which is the browser's dialog, not the page). Then an operator does the same
// for a citizen they registered, acting for them, and the citizen sees
// what was done on their behalf. axe-core (WCAG 2.1 A/AA) on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startNode, stopNode, api, axe, waitFor, chromiumPath, chromiumArgs } from './harness.js';

const nodes = {};
let dataDir; let A; let B; let browser; let offering; let pdfPath;
const cspViolations = [];

const day = (n) => new Date(Date.now() + n * 86400e3).toISOString().slice(0, 10);

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-citflow-'));
  A = await startNode(nodes, dataDir, 'A');
  B = await startNode(nodes, dataDir, 'B', ['--bootstrap', A.p2p]);
  await api(A, 'POST', '/api/v1/accounts', { username: 'operatore', role: 'operator', display_name: 'Carla Operatrice', password: 'ponte-di-vetro-42' });
  const o = await api(B, 'POST', '/api/v1/offerings', {
    name: 'Assistenza domiciliare leggera', description: 'Aiuto a casa per alzarsi, vestirsi, preparare i pasti.',
    category: 'anziani.assistenza-domiciliare', delivery: 'individual', areas: ['015146'], languages: ['it'],
    cost: { type: 'paid', options: [{ option: 'Ora feriale', amount_cents: 1800, currency: 'EUR', unit: 'hour' }] },
    contact: { name: 'Sportello', email: 'servizi@coop.example', phone: '+39 02 123456' }, status: 'active',
  });
  offering = { publisher: B.info.peer_id, id: o.id };
  await waitFor('B\'s offering in A\'s catalogue', async () => {
    const r = await api(A, 'GET', `/api/v1/catalogue/search?publisher=${B.info.peer_id}`, null, null);
    return r.total >= 1;
  }, 60000, 250);
  pdfPath = join(dataDir, 'piano-assistenza.pdf');
  await writeFile(pdfPath, '%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  for (const x of Object.values(nodes)) await stopNode(x);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  assert.deepEqual(cspViolations, [], 'no CSP violation');
});

async function newPage(n, token) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  context.setDefaultTimeout(10000);
  if (token) await context.addCookies([{ name: 'difronte_session', value: token, url: n.base }]);
  const page = await context.newPage();
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  return page;
}

// tabTo presses Tab until check holds for the focused element; bounded.
async function tabTo(page, what, check, max = 120) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(check)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`${what} never got focus with Tab`);
}

const byId = (id) => new Function(`return document.activeElement && document.activeElement.id === ${JSON.stringify(id)}`);
const byHref = (href) => new Function(`const e = document.activeElement; return !!e && e.getAttribute('href') === ${JSON.stringify(href)}`);
const byText = (text) => new Function(`const e = document.activeElement; return !!e && e.tagName === 'BUTTON' && e.textContent.trim().startsWith(${JSON.stringify(text)})`);

async function typeInto(page, id, text) {
  await tabTo(page, `#${id}`, byId(id));
  await page.keyboard.type(text);
}

// press presses Enter on the focused element and waits for the page it loads.
async function press(page, url) {
  await Promise.all([url ? page.waitForURL(url) : page.waitForEvent('load'), page.keyboard.press('Enter')]);
}

// reloadUntil reloads page until check (on the page) holds; bounded.
async function reloadUntil(page, what, check) {
  await waitFor(what, async () => {
    await page.reload();
    return page.evaluate(check);
  }, 30000, 300);
}

const detail = () => `/catalogo/${offering.publisher}/${offering.id}`;

// providerOffers fills B's offer form for the request id on /richieste.
async function providerOffers(page, id, price) {
  await page.goto(`${B.base}/richieste`);
  await page.locator(`#rq-${id}`).waitFor();
  await axe(page, 'provider inbox');
  await page.fill(`#p-${id}`, price);
  await page.fill(`#u-${id}`, 'ora');
  await page.fill(`#s-${id}`, day(7));
  await page.fill(`#v-${id}`, day(30));
  await page.fill(`#c-${id}`, 'Due ore al mattino.');
  await Promise.all([page.waitForEvent('load'), page.locator(`#rq-${id} ~ form button.primary, section[aria-labelledby="rq-${id}"] button.primary`).first().click()]);
  assert.match(await page.textContent('main'), /Offerta inviata/);
}

// typeDate types an ISO date into a date field as a person does (31/12/2026).
async function typeDate(page, id, iso) {
  await tabTo(page, `#${id}`, byId(id));
  // Typed day/month/year, like every date of the pages.
  const [y, m, d] = iso.split('-');
  await page.keyboard.type(`${d}/${m}/${y}`);
}

// providerOffersByKeyboard is providerOffers with the keyboard only.
async function providerOffersByKeyboard(page, id, price) {
  await page.goto(`${B.base}/richieste`);
  await page.locator(`#rq-${id}`).waitFor();
  await axe(page, 'provider inbox');
  await typeInto(page, `p-${id}`, price);
  await typeInto(page, `u-${id}`, 'ora');
  await typeDate(page, `s-${id}`, day(7));
  await typeDate(page, `v-${id}`, day(30));
  await typeInto(page, `c-${id}`, 'Due ore al mattino.');
  await tabTo(page, 'the send offer button', byText('Invia l\'offerta'));
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('main'), /Offerta inviata/);
}

// caseOnB waits until B holds the case and returns B's admin on its page.
async function providerCase(page, caseID) {
  await waitFor('the case on B', async () => {
    const r = await fetch(`${B.base}/api/v1/cases/${caseID}`, { headers: { Authorization: `Bearer ${B.token}` } });
    return r.ok;
  }, 30000, 200);
  await page.goto(`${B.base}/pratiche/${caseID}`);
}

// requestMessagesByKeyboard: the citizen opens the request's messages
// from /pratiche and writes; B's admin opens them from /richieste, reads
// and answers; the citizen sees the answer and the receipt of their own.
async function requestMessagesByKeyboard(page, bpage, id) {
  const path = `/richieste/${id}/messaggi`;
  const msgs = () => document.querySelector('#messages').textContent;
  await page.goto(`${A.base}/pratiche`);
  await tabTo(page, 'the request messages link (citizen)', byHref(path));
  await press(page, `${A.base}${path}`);
  await axe(page, 'request messages (citizen)');
  await typeInto(page, 'f-text', 'Si può iniziare alle nove?');
  await tabTo(page, 'the send message button', byText('Invia il messaggio'));
  await press(page);
  assert.match(await page.textContent('#messages'), /iniziare alle nove/);
  await bpage.goto(`${B.base}/richieste`);
  await tabTo(bpage, 'the request messages link (provider)', byHref(path));
  await press(bpage, `${B.base}${path}`);
  await reloadUntil(bpage, 'the citizen\'s message on B', new Function(`return /iniziare alle nove/.test((${msgs})())`));
  await axe(bpage, 'request messages (provider)');
  await typeInto(bpage, 'f-text', 'Sì, alle nove va bene.');
  await tabTo(bpage, 'the send message button (provider)', byText('Invia il messaggio'));
  await press(bpage);
  await reloadUntil(page, 'the answer and the read receipt on A',
    new Function(`const t = (${msgs})(); return /alle nove va bene/.test(t) && (t.match(/· letto/g) || []).length === 2`));
  await page.goto(`${A.base}/pratiche`);
}

test('a citizen signs up on A, requests B\'s offering, accepts, messages; B suspends (keyboard only)', async () => {
  const page = await newPage(A);
  // Sign up and log in, by keyboard.
  await page.goto(`${A.base}/registrati`);
  await typeInto(page, 'f-display_name', 'Giulia Neri');
  await typeInto(page, 'f-email', 'giulia@example.org');
  await typeInto(page, 'f-username', 'giulia');
  await typeInto(page, 'f-password', 'tramonto-sul-lago-blu');
  await press(page);
  assert.match(await page.textContent('main .notice'), /già attivo/);
  await page.goto(`${A.base}/login?next=${encodeURIComponent(detail())}`);
  await typeInto(page, 'f-username', 'giulia');
  await typeInto(page, 'f-password', 'tramonto-sul-lago-blu');
  await press(page, `${A.base}${detail()}`);
  // The catalogue detail page of B's offering, on A.
  assert.match(await page.textContent('h1'), /Assistenza domiciliare leggera/);
  await axe(page, 'catalogue detail (citizen)');
  await tabTo(page, 'the request button', byHref(`${detail()}/richiedi`));
  await press(page, `${A.base}${detail()}/richiedi`);
  await axe(page, 'request form');
  await typeInto(page, 'f-for', 'mia madre, Anna');
  await typeInto(page, 'f-municipality', '015146');
  await typeInto(page, 'f-address', 'Via Brera 3');
  await typeDate(page, 'f-start', day(7));
  await typeInto(page, 'f-when', 'lun-ven mattina');
  await typeInto(page, 'f-notes', 'Cammina con il bastone.');
  await tabTo(page, 'the consent box', byId('f-consent'));
  await page.keyboard.press('Space');
  await tabTo(page, 'the send button', byText('Invia la richiesta'));
  await press(page, `${A.base}/pratiche`);
  assert.match(await page.textContent('main'), /Richiesta inviata/);
  await axe(page, 'cases and requests (citizen, sent)');

  // B's admin sees it in /richieste and offers.
  const bpage = await newPage(B, B.token);
  let rq;
  await waitFor('the request in B\'s inbox', async () => {
    const list = await api(B, 'GET', '/api/v1/requests');
    rq = list.find((x) => x.citizen_name === 'Giulia Neri' || x.need?.citizen_name === 'Giulia Neri') || list[0];
    return !!rq;
  }, 30000, 200);
  // Before any offer: a message each way on the request, keyboard only.
  await requestMessagesByKeyboard(page, bpage, rq.id);
  await providerOffersByKeyboard(bpage, rq.id, '18,50');

  // The citizen accepts, by keyboard.
  await reloadUntil(page, 'the offer on A', () => !!document.querySelector('form[action$="/accetta"] button'));
  await axe(page, 'cases and requests (citizen, offer)');
  await tabTo(page, 'the accept button', byText('Accetta l\'offerta'));
  await press(page, /\/pratiche\/pr-/);
  const caseID = new URL(page.url()).pathname.split('/').pop();
  assert.match(await page.textContent('#case-state'), /Attiva/);
  await axe(page, 'case (citizen)');
  // A message with a PDF attached, sent from the page's form.
  await typeInto(page, 'f-text', 'Buongiorno, confermo gli orari.');
  await page.setInputFiles('#f-file', pdfPath);
  await tabTo(page, 'the send message button', byText('Invia il messaggio'));
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
  assert.match(await page.textContent('#messages'), /confermo gli orari/);
  assert.match(await page.textContent('#messages'), /piano-assistenza\.pdf/);

  // B sees the case and the message with its attachment, answers, suspends.
  await providerCase(bpage, caseID);
  await reloadUntil(bpage, 'the citizen\'s message on B', () => /confermo gli orari/.test(document.querySelector('#messages').textContent));
  assert.match(await bpage.textContent('#messages'), /piano-assistenza\.pdf/);
  await tabTo(bpage, 'the attachment link', () => !!document.activeElement && document.activeElement.hasAttribute('download'));
  const [download] = await Promise.all([bpage.waitForEvent('download'), bpage.keyboard.press('Enter')]);
  assert.equal(download.suggestedFilename(), 'piano-assistenza.pdf');
  await axe(bpage, 'case (provider)');
  await typeInto(bpage, 'f-text', 'Perfetto, a presto.');
  await tabTo(bpage, 'the send message button', byText('Invia il messaggio'));
  await Promise.all([bpage.waitForEvent('load'), bpage.keyboard.press('Enter')]);
  await typeInto(bpage, 'f-reason', 'Ferie della operatrice');
  await tabTo(bpage, 'the suspend button', byText('Sospendi'));
  await Promise.all([bpage.waitForEvent('load'), bpage.keyboard.press('Enter')]);
  assert.match(await bpage.textContent('#case-state'), /Sospesa/);

  // The citizen sees B's message and the new state.
  await reloadUntil(page, 'the suspension on A', () => /Sospesa/.test(document.querySelector('#case-state').textContent));
  assert.match(await page.textContent('#messages'), /Perfetto, a presto/);
  assert.match(await page.textContent('.timeline'), /Ferie della operatrice/);
  await axe(page, 'case (citizen, suspended)');
  await page.context().close();
  await bpage.context().close();
});

test('an operator requests, accepts and messages for a registered citizen', async () => {
  const opLogin = await api(A, 'POST', '/api/v1/login', { username: 'operatore', password: 'ponte-di-vetro-42' }, null);
  await api(A, 'POST', '/api/v1/citizens', {
    username: 'rosa', display_name: 'Rosa Greco', consent: { given: true, method: 'signed_form' },
  }, opLogin.token);
  const page = await newPage(A, opLogin.token);
  await page.goto(`${A.base}/cittadini`);
  await Promise.all([page.waitForURL(`${A.base}/area-personale`), page.click('button:has-text("Agisci per")')]);
  await page.goto(`${A.base}${detail()}`);
  await axe(page, 'catalogue detail (operator acting)');
  await Promise.all([page.waitForURL(`${A.base}${detail()}/richiedi`), page.click(`a[href="${detail()}/richiedi"]`)]);
  assert.match(await page.textContent('.acting'), /rosa/);
  await axe(page, 'request form (operator acting)');
  await page.fill('#f-for', 'io');
  await page.fill('#f-municipality', '015146');
  await page.fill('#f-start', day(10));
  await page.check('#f-consent');
  await Promise.all([page.waitForURL(`${A.base}/pratiche`), page.click('button:has-text("Invia la richiesta")')]);
  await axe(page, 'cases and requests (operator acting)');

  let rq;
  await waitFor('Rosa\'s request on B', async () => {
    rq = (await api(B, 'GET', '/api/v1/requests')).find((x) => x.state === 'open');
    return !!rq;
  }, 30000, 200);
  const bpage = await newPage(B, B.token);
  await providerOffers(bpage, rq.id, '20');
  await reloadUntil(page, 'the offer for Rosa', () => !!document.querySelector('form[action$="/accetta"] button'));
  await Promise.all([page.waitForURL(/\/pratiche\/pr-/), page.click('form[action$="/accetta"] button')]);
  const caseID = new URL(page.url()).pathname.split('/').pop();
  await axe(page, 'case (operator acting)');
  // A file that is not a PDF, JPEG or PNG is refused with the reason.
  const fake = join(dataDir, 'nota.pdf');
  await writeFile(fake, 'solo testo, non un PDF\n');
  await page.fill('#f-text', 'Questo non deve partire.');
  await page.setInputFiles('#f-file', fake);
  await Promise.all([page.waitForEvent('load'), page.click('form[action$="/messaggio"] button[type=submit]')]);
  assert.match(await page.textContent('.flash'), /solo file PDF, JPEG o PNG/);
  assert.match(await page.textContent('#messages'), /Nessun messaggio/);
  await axe(page, 'case (attachment refused)');
  await page.fill('#f-text', 'Scrivo per conto della signora Rosa.');
  await Promise.all([page.waitForEvent('load'), page.click('form[action$="/messaggio"] button[type=submit]')]);
  assert.match(await page.textContent('#messages'), /per conto della signora Rosa/);
  assert.match(await page.textContent('#messages'), /operatore per conto di rosa/);

  // The coop's admin acts on the coop's own case: answers and suspends.
  await providerCase(bpage, caseID);
  await reloadUntil(bpage, 'the operator\'s message on B', () => /per conto della signora Rosa/.test(document.querySelector('#messages').textContent));
  await bpage.fill('#f-text', 'Ricevuto, grazie.');
  await Promise.all([bpage.waitForEvent('load'), bpage.click('form[action$="/messaggio"] button[type=submit]')]);
  await bpage.fill('#f-reason', 'Ricovero');
  await Promise.all([bpage.waitForEvent('load'), bpage.click('button[name=to][value=suspended]')]);
  await reloadUntil(page, 'the suspension for Rosa', () => /Sospesa/.test(document.querySelector('#case-state').textContent));
  assert.match(await page.textContent('#messages'), /Ricevuto, grazie/);

  // The citizen's private area shows what the operator did for her.
  await page.goto(`${A.base}/area-personale`);
  const area = await page.textContent('main');
  assert.match(area, /Carla Operatrice|operatore/);
  await axe(page, 'private area (operator acting, after the case)');
  await page.context().close();
  await bpage.context().close();

  // The audit log names the operator for the citizen on every step.
  const { events } = await api(A, 'GET', '/api/v1/audit?actor=operatore');
  for (const [action, kind] of [['create', 'request'], ['create', 'case'], ['create', 'case_message']]) {
    assert.ok(events.some((e) => e.action === action && e.kind === kind && e.for === 'rosa'), `no ${action} ${kind} for rosa: ${JSON.stringify(events)}`);
  }
});
