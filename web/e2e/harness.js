// Shared pieces of the browser tests: how Chromium is started here, a free
// loopback port, and bounded polling.
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

// The node binary under test (make build) and the admin password every
// test node starts with.
export const binary = process.env.DIFRONTE_BIN || join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'difronte');
export const adminPassword = 'password-e2e-lunga';

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// The flags that work on these machines (headless, no sandbox as root, no
// background traffic to the closed network).
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// For calls: a fake camera and microphone, candidates on loopback, and the
// terminal's ring without a click.
export const mediaArgs = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'];

// freePort asks the kernel for a free port on 127.0.0.1.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// waitFor polls check until it returns true, at most until the deadline.
export async function waitFor(what, check, ms = 20000, every = 100) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let axeSource;

// axe checks the page against WCAG 2.1 A and AA and fails on any
// violation. The script goes in through the debugging protocol, so the
// page's CSP stays as strict as in production.
export async function axe(page, name) {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const res = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const msg = res.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 3).map((x) => x.target.join(' ')).join('\n  ')}`).join('\n');
  assert.ok(res.passes.length > 5, `axe ran only ${res.passes.length} rules on ${name}`);
  assert.equal(res.violations.length, 0, `axe violations on ${name}:\n${msg}`);
}

// startNode runs `difronte serve` named name on loopback with its data in
// dataDir/name, waits until it is ready and logs in as admin. It keeps the
// node in nodes; starting a name again restarts that node on the same
// data and ports (after stopNode).
export async function startNode(nodes, dataDir, name, extra = [], ports) {
  const n = nodes[name] || { name, ports: ports || { http: await freePort(), p2p: await freePort() }, extra };
  n.base = `http://127.0.0.1:${n.ports.http}`;
  n.log = ''; n.exited = false;
  n.proc = spawn(binary, ['serve', '--data', join(dataDir, name), '--http', `127.0.0.1:${n.ports.http}`, '--coop-name', `Coop ${name}`,
    '--p2p', `/ip4/127.0.0.1/tcp/${n.ports.p2p}`, '--members', '127.0.0.1:0', ...n.extra], {
    env: { ...process.env, DIFRONTE_ADMIN_PASSWORD: adminPassword }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  n.proc.stdout.on('data', (d) => { n.log += d; });
  n.proc.stderr.on('data', (d) => { n.log += d; });
  n.proc.once('exit', () => { n.exited = true; });
  await waitFor(`node ${name} ready`, async () => {
    if (n.exited) throw new Error(`node ${name} exited:\n${n.log}`);
    try { return (await fetch(`${n.base}/readyz`)).ok; } catch { return false; }
  });
  n.token = (await api(n, 'POST', '/api/v1/login', { username: 'admin', password: adminPassword }, null)).token;
  n.info = await api(n, 'GET', '/api/v1/node');
  n.p2p = `/ip4/127.0.0.1/tcp/${n.ports.p2p}/p2p/${n.info.peer_id}`;
  nodes[name] = n;
  return n;
}

// stopNode stops a node with SIGTERM and waits for it to exit.
export async function stopNode(n) {
  if (n.exited) return;
  const gone = new Promise((r) => n.proc.once('exit', r));
  n.proc.kill('SIGTERM');
  await gone;
}

// api calls the node's JSON API with a bearer token; a status other than
// 2xx throws with the answer.
export async function api(n, method, path, body, token = n.token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const r = await fetch(`${n.base}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
