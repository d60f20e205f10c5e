// Browser end to end of check-in calls on two real `difronte serve`
// processes: node A (the caregiver's coop) and node B (the beneficiary's,
// with the paired terminal). Headless Chromium with a fake camera and
// microphone plays the caregiver on A's agenda and the terminal on B's
// /terminal screen; signaling goes browser ⇄ WebSocket ⇄ A ⇄ libp2p ⇄ B ⇄
// WebSocket ⇄ browser; media goes browser to browser on 127.0.0.1.
//
// Loopback only: nodes listen on 127.0.0.1 and Chromium runs with
// --allow-loopback-in-peer-connection. On a machine with other interfaces
// Chromium may also gather their host candidates; for a strictly loopback
// run start the test inside a network namespace that has only `lo`
// (`make test-e2e-calls-netns`, as root).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { waitFor, chromiumPath, chromiumArgs as baseChromiumArgs, mediaArgs, axe, startNode as start, api, adminPassword } from './harness.js';

const chromiumArgs = [...baseChromiumArgs, ...mediaArgs];

let dataDir; let browser;
const nodes = {};
const cspViolations = [];
const startNode = (name, extra) => start(nodes, dataDir, name, extra);

// inboundBytes sums inbound-rtp bytes of the page's live call.
function inboundBytes(page) {
  return page.evaluate(async () => {
    const pc = window.__difronte && window.__difronte.pc;
    if (!pc) return 0;
    let n = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') n += s.bytesReceived || 0; });
    return n;
  });
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-calls-'));
  nodes.B = await startNode('B', []);
  nodes.A = await startNode('A', ['--bootstrap', nodes.B.p2p]);
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
});

after(async () => {
  if (browser) await browser.close();
  for (const n of Object.values(nodes)) {
    if (!n.exited) {
      const gone = new Promise((r) => n.proc.once('exit', r));
      n.proc.kill('SIGTERM');
      await gone;
    }
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('a caregiver on node A calls the paired terminal of node B', { timeout: 120000 }, async () => {
  const { A, B } = nodes;
  // A: a caregiver with an account.
  const cg = await api(A, 'POST', '/api/v1/caregivers', { name: 'Giulia Bianchi', languages: ['it'] });
  await api(A, 'POST', '/api/v1/accounts', { username: 'giulia', role: 'caregiver', caregiver_id: cg.id, password: 'matita-gialla-sul-tavolo' });
  // B: a beneficiary, her terminal, call settings, a schedule and a grant for A's caregiver.
  const ben = await api(B, 'POST', '/api/v1/beneficiaries', { name: 'Maria Rossi', address: 'Via Roma 1', municipality: '058091' });
  const term = await api(B, 'POST', '/api/v1/terminals', { label: 'T-1', model: 'ThinkPad T440', state: 'in_service', beneficiary: ben.id });
  await api(B, 'PUT', `/api/v1/calls/settings/${ben.id}`, { display_name: 'Signora Maria', countdown: 2 });
  const today = new Date().toISOString().slice(0, 10);
  await api(B, 'POST', '/api/v1/calls/schedules', { beneficiary: ben.id, caregiver: `${A.info.peer_id}/${cg.id}`, rule: 'FREQ=DAILY', time: '23:59', start: today });
  const expires = new Date(Date.now() + 3600e3).toISOString();
  const grant = await api(B, 'POST', '/api/v1/calls/grants', { beneficiary: ben.id, node: A.info.peer_id, caregiver: cg.id, name: 'Giulia', expires });
  await waitFor('the grant on A', async () => (await api(A, 'GET', `/api/v1/calls/held?caregiver=${cg.id}`)).items.some((h) => h.id === grant.id));

  // B's admin makes a pairing code and QR on the calls page.
  const actx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  await actx.addCookies([{ name: 'difronte_session', value: B.token, url: B.base }]);
  const apage = await actx.newPage();
  apage.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  await apage.goto(`${B.base}/calls`);
  await axe(apage, '/calls');
  await apage.locator(`form[data-api="/api/v1/calls/terminals/${term.id}/pairing"] button`).click();
  const qr = apage.locator('.pairing-out img');
  await qr.waitFor();
  assert.match(await qr.getAttribute('src'), /^data:image\/png;base64,/);
  const pairURL = await qr.getAttribute('alt');
  const code = new URL(pairURL).searchParams.get('code');
  assert.match(code, /^\d{10}$/);
  await actx.close();

  // The terminal opens the QR's link, pairs and connects.
  const pairing = { code };
  const tctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  const tpage = await tctx.newPage();
  tpage.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  await tpage.goto(`${B.base}/terminal?code=${pairing.code}`);
  await waitFor('the terminal online', async () => !(await tpage.locator('#home').isHidden()) && (await tpage.locator('#status').textContent()) === '');
  assert.ok(!tpage.url().includes('code='), 'the pairing code stays in the address bar');
  assert.match(await tpage.locator('#clock').textContent(), /^\d\d:\d\d$/);
  await axe(tpage, '/terminal');

  // The caregiver logs in on A and opens the agenda: B's schedule is there.
  const gctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  const login = await api(A, 'POST', '/api/v1/login', { username: 'giulia', password: 'matita-gialla-sul-tavolo' }, null);
  await gctx.addCookies([{ name: 'difronte_session', value: login.token, url: A.base }]);
  const gpage = await gctx.newPage();
  gpage.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
  await gpage.goto(`${A.base}/agenda`);
  const callButton = gpage.locator(`button.call[data-node="${B.info.peer_id}"]`).first();
  await callButton.waitFor();
  assert.match(await gpage.locator('table.agenda').textContent(), /Signora Maria/);
  await axe(gpage, '/agenda');

  // Call: the terminal rings, counts down, answers by itself.
  await callButton.click();
  await tpage.locator('#ringing').waitFor({ state: 'visible' });
  assert.match(await tpage.locator('#ring-title').textContent(), /Giulia/);
  await tpage.locator('#incall').waitFor({ state: 'visible', timeout: 15000 });

  // Media flows both ways: inbound bytes grow on both sides.
  for (const [who, p] of [['caregiver', gpage], ['terminal', tpage]]) {
    let first = 0;
    await waitFor(`${who} receiving media`, async () => { first = await inboundBytes(p); return first > 0; }, 20000);
    await waitFor(`${who} media growing`, async () => (await inboundBytes(p)) > first + 1000, 20000);
  }

  // Hang up on A ends the call on both sides.
  await gpage.locator('#hangup').click();
  await tpage.locator('#home').waitFor({ state: 'visible', timeout: 10000 });
  assert.equal(await gpage.locator('#call-panel').isHidden(), true);
  assert.equal(await tpage.evaluate(() => window.__difronte.pc.connectionState), 'closed');

  // The record lives on B, the beneficiary's node; A keeps none.
  await waitFor('the call record on B', async () => {
    const recs = (await api(B, 'GET', `/api/v1/calls/records?beneficiary=${ben.id}`)).items;
    return recs.some((r) => r.answered && r.ended && r.grant === grant.id);
  });
  assert.equal((await api(A, 'GET', '/api/v1/calls/records')).items.length, 0);
  assert.deepEqual(cspViolations, []);
  await tctx.close();
  await gctx.close();
});
