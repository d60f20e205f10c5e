// The demo check-in of `make testnet` (bin/difronte-dev testnet, which
// runs bin/difronte's nodes), as a newcomer tries it: start the local
// federation, log in to node 1 with the caregiver it prints, press Chiama
// on the agenda: the demo terminal of node 2 (a pion peer in the dev
// command's process) answers after its countdown and sends audio (silence
// as Opus), so the caregiver's page receives media; hang up.
//
// Loopback only (the testnet binds 127.0.0.1; the pion terminal gathers
// loopback candidates only).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { waitFor, chromiumArgs as baseChromiumArgs, mediaArgs } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
// The dev command (make build); it starts the difronte binary beside it,
// or the one DIFRONTE_BIN names.
const devBinary = process.env.DIFRONTE_DEV_BIN || join(here, '..', '..', 'bin', 'difronte-dev');
const binArgs = process.env.DIFRONTE_BIN ? ['--bin', process.env.DIFRONTE_BIN] : [];
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const chromiumArgs = [...baseChromiumArgs, ...mediaArgs];

let dataDir; let browser; let axeSource; let net;

// freeBase finds a port P with P..P+3 free (authority, two coops).
async function freeBase() {
  const free = (port) => new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (let i = 0; i < 50; i += 1) {
    const base = 20000 + Math.floor(Math.random() * 10000);
    let ok = true;
    for (let p = base; p < base + 4 && ok; p += 1) ok = await free(p);
    if (ok) return base;
  }
  throw new Error('no free ports');
}

before(async () => {
  axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-calls-demo-'));
  const base = await freeBase();
  net = { out: '', exited: false };
  net.proc = spawn(devBinary, ['testnet', '--nodes', '2', '--http-base-port', String(base), '--data', dataDir, ...binArgs], {
    env: { ...process.env, DIFRONTE_ADMIN_PASSWORD: 'girasole-nel-vento-97' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  net.proc.stdout.on('data', (d) => { net.out += d; });
  net.proc.stderr.on('data', (d) => { net.out += d; });
  net.proc.once('exit', () => { net.exited = true; });
  await waitFor('the testnet ready', () => {
    if (net.exited) throw new Error(`testnet exited:\n${net.out}`);
    return net.out.includes('Press Ctrl-C');
  }, 120000, 200);
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  if (net && !net.exited) {
    const gone = new Promise((r) => net.proc.once('exit', r));
    net.proc.kill('SIGTERM');
    await gone;
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a newcomer calls the demo terminal of difronte testnet from the agenda', { timeout: 120000 }, async () => {
  const m = net.out.match(/log in to node 1 \((http:\/\/[^)]+)\) as (\S+) \/ (\S+) and press Chiama/);
  assert.ok(m, `no login line in:\n${net.out}`);
  const [, url, username, password] = m;
  const r = await fetch(`${url}/api/v1/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
  assert.equal(r.status, 200);
  const { token } = await r.json();
  const ctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  await ctx.addCookies([{ name: 'difronte_session', value: token, url }]);
  const page = await ctx.newPage();
  await page.goto(`${url}/agenda`);
  const call = page.locator('button.call').first();
  await call.waitFor();
  assert.match(await page.locator('table.agenda').textContent(), /terminale demo/);
  await call.click();
  const connected = await page.locator('#agenda').getAttribute('data-msg-connected');
  await waitFor('the call connected', async () => (await page.locator('#call-status').textContent()) === connected, 30000);
  const inbound = () => page.evaluate(async () => {
    let n = 0;
    (await window.__difronte.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') n += s.bytesReceived || 0; });
    return n;
  });
  let first = 0;
  await waitFor('audio from the demo terminal', async () => { first = await inbound(); return first > 0; }, 15000);
  await waitFor('audio growing', async () => (await inbound()) > first + 300, 15000);
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }));
  assert.deepEqual(res.violations.map((v) => v.id), []);
  await page.locator('#hangup').click();
  assert.equal(await page.locator('#call-panel').isHidden(), true);
  await ctx.close();
});
