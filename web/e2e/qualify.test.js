// Browser test of the qualification flow across two real nodes on
// loopback: an authority node (Città Metropolitana di Reggio Calabria) and
// a coop node that trusts it. The coop admin applies from the UI, an
// officer approves in the authority console, and the "qualificato da"
// badge appears on the coop's offering page. axe-core checks the console
// and application pages. Run with `make test-e2e`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { waitFor, freePort, chromiumArgs } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const binary = process.env.DIFRONTE_BIN || join(here, '..', '..', 'bin', 'difronte');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const adminPassword = 'password-e2e-lunga';
const officerPassword = 'timbro-rosso-di-ufficio';
const authorityName = 'Città Metropolitana di Reggio Calabria';

let dataDir; let browser; let axeSource;
const nodes = {}; // name -> { proc, base, log, peer, addrs }
const cspViolations = [];

// waitFor polls check until it returns true, at most until the deadline.
// startNode runs `difronte serve` with args and waits until it answers.
async function startNode(name, args) {
  const port = await freePort();
  const n = { base: `http://127.0.0.1:${port}`, log: '' };
  nodes[name] = n;
  n.proc = spawn(binary, ['serve', '--data', join(dataDir, name), '--http', `127.0.0.1:${port}`,
    '--p2p', '/ip4/127.0.0.1/tcp/0', '--members', '127.0.0.1:0', '--members-profile', 'lan', '--federation-secret', 'x', ...args], {
    env: { ...process.env, DIFRONTE_ADMIN_PASSWORD: adminPassword }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  n.proc.stdout.on('data', (d) => { n.log += d; });
  n.proc.stderr.on('data', (d) => { n.log += d; });
  let exited = false;
  n.proc.once('exit', () => { exited = true; });
  await waitFor(`${name} to be ready`, async () => {
    if (exited) throw new Error(`${name} exited:\n${n.log}`);
    try {
      const res = await fetch(`${n.base}/api/v1/node`);
      if (!res.ok) return false;
      const info = await res.json();
      n.peer = info.peer_id;
      n.addrs = info.addrs.filter((a) => a.startsWith('/ip4/127.0.0.1/'));
      return n.addrs.length > 0;
    } catch {
      return false;
    }
  });
  return n;
}

async function api(n, method, path, token, body) {
  const res = await fetch(n.base + path, {
    method, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

before(async () => {
  axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-qualify-'));
  const key = join(dataDir, 'authority.jwk');
  await promisify(execFile)(binary, ['authority', 'keygen', '--out', key]);
  const a = await startNode('authority', ['--coop-name', authorityName,
    '--authority-key', key, '--authority-name', authorityName, '--authority-territory', '080']);
  // The coop trusts the JWKS the authority node serves: it names the
  // node's peer, where applications go.
  const jwks = await (await fetch(`${a.base}/.well-known/jwks.json`)).text();
  await writeFile(join(dataDir, 'trust.json'), jwks);
  await startNode('coop', ['--coop-name', 'Cooperativa Aurora', '--trust', join(dataDir, 'trust.json'),
    ...a.addrs.flatMap((x) => ['--bootstrap', x])]);
  const { token } = await api(a, 'POST', '/api/v1/login', null, { username: 'admin', password: adminPassword });
  await api(a, 'POST', '/api/v1/accounts', token, { username: 'funzionario', password: officerPassword, role: 'officer' });
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  for (const n of Object.values(nodes)) {
    if (n.proc && n.proc.exitCode === null) {
      const done = new Promise((r) => n.proc.once('exit', r));
      process.kill(n.proc.pid, 'SIGTERM');
      await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
      if (n.proc.exitCode === null) process.kill(n.proc.pid, 'SIGKILL');
    }
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// A browser context per person: both nodes are on 127.0.0.1, and cookies
// do not tell ports apart.
async function session(n, username, password) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  context.setDefaultTimeout(10000);
  const page = await context.newPage();
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(`${n.base}/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await Promise.all([page.waitForURL(`${n.base}/`), page.press('#f-password', 'Enter')]);
  return page;
}

// axe checks the page against WCAG 2.1 A and AA; the script goes in
// through the debugging protocol, so the page's CSP stays strict.
async function axe(page, name) {
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const msg = res.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 3).map((x) => x.target.join(' ')).join('\n  ')}`).join('\n');
  assert.ok(res.passes.length > 10, `axe ran only ${res.passes.length} rules on ${name}`);
  assert.equal(res.violations.length, 0, `axe violations on ${name}:\n${msg}`);
}

test('an officer approves an application and the badge appears on the coop offering page', async () => {
  const { authority: a, coop: c } = nodes;
  const coop = await session(c, 'admin', adminPassword);

  // The coop publishes an offering in Reggio Calabria.
  await coop.goto(`${c.base}/offerings/new`);
  await coop.fill('#f-name', 'Compagnia a domicilio');
  await coop.fill('#f-description', 'Visite di compagnia due volte a settimana.');
  const category = await coop.$eval('#f-category optgroup option', (o) => o.value);
  await coop.selectOption('#f-category', category);
  await coop.fill('#f-areas-0', '080063');
  await coop.fill('#f-contact-phone', '+39 0965 123456');
  await Promise.all([coop.waitForURL(/\/offerings\/[0-9a-f-]{36}$/), coop.click('button[type=submit].primary')]);
  const offeringURL = coop.url();
  assert.doesNotMatch(await coop.textContent('main'), /Qualificato da/);

  // The authority takes applications only from federation members.
  await waitFor('the authority to see the coop', async () => {
    const res = await fetch(`${a.base}/api/v1/federation/peers`);
    return res.ok && (await res.json()).peers.some((p) => p.peer_id === c.peer && p.online);
  }, 30000, 200);

  // The coop admin applies: the offering is not covered yet.
  await coop.goto(`${c.base}/qualification`);
  assert.match(await coop.textContent('main'), /Non qualificato/);
  await axe(coop, 'qualification page');
  await Promise.all([coop.waitForURL(`${c.base}/qualification/new`), coop.click('a[href="/qualification/new"].primary')]);
  await axe(coop, 'application form');
  assert.ok((await coop.$eval('#f-authority', (s) => s.options[s.selectedIndex].textContent)).startsWith(authorityName));
  await coop.check(`input[name=categories][value="${category.split('.')[0]}"]`);
  await coop.fill('#f-municipalities-0', '080063');
  await coop.fill('#f-description', 'Cooperativa sociale attiva a Reggio Calabria dal 2012.');
  await coop.setInputFiles('#f-attachments', { name: 'statuto.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% statuto\n') });
  await Promise.all([coop.waitForURL(`${c.base}/qualification`), coop.click('button[type=submit].primary')]);
  assert.match(await coop.textContent('.flash'), /Candidatura inviata/);
  assert.match(await coop.textContent('td.appstate'), /Inviata/);
  await axe(coop, 'qualification page with an application');

  // The officer reviews and approves in the console.
  const officer = await session(a, 'funzionario', officerPassword);
  await officer.goto(`${a.base}/authority`);
  await axe(officer, 'authority console');
  await Promise.all([officer.waitForURL(/\/authority\/applications\//), officer.click('table a')]);
  assert.match(await officer.textContent('h1'), /Cooperativa Aurora/);
  assert.match(await officer.textContent('main'), /statuto\.pdf/);
  await axe(officer, 'application review');
  await Promise.all([officer.waitForLoadState('load'), officer.click('form[action$="/approve"] button[type=submit]')]);
  assert.match(await officer.textContent('.flash'), /Candidatura approvata/);
  await officer.goto(`${a.base}/authority?state=approved`);
  assert.match(await officer.textContent('main'), /Cooperativa Aurora/);
  await axe(officer, 'authority console, approved');

  // The credential reaches the coop node over the federation, which
  // verifies it itself and shows the badge.
  const badge = new RegExp(`Qualificato da ${authorityName}, valido fino al \\d\\d/\\d\\d/\\d{4}`);
  await waitFor('the badge on the coop offering page', async () => {
    await coop.goto(offeringURL);
    return badge.test(await coop.textContent('main'));
  }, 30000, 500);
  await axe(coop, 'qualified offering');
  await coop.goto(`${c.base}/qualification`);
  assert.match(await coop.textContent('main'), badge);
  await axe(coop, 'qualification page, qualified');
});

test('no page broke the Content Security Policy', () => {
  assert.deepEqual(cspViolations, []);
});
