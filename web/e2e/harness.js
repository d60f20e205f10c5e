// Shared pieces of the browser tests: how Chromium is started here, a free
// loopback port, and bounded polling.
import { createServer } from 'node:net';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

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
