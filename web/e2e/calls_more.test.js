// More browser end to end of check-in calls on two real `difronte serve`
// processes (node A: the caregiver's coop; node B: the beneficiary's, with
// the paired terminal), beyond calls.test.js:
//   - the countdown set per beneficiary on B reaches the terminal page and
//     is the one it counts down from (and a changed setting is honoured on
//     the next call);
//   - mute and camera-off change the outgoing tracks' `enabled` state, and
//     the terminal sees it: inbound audio energy stops growing, the remote
//     video turns black;
//   - the quality warning: the agenda's real monitor (watchQuality in
//     calls-rtc.js, polling pc.getStats every 2 s) runs on the live call;
//     the test wraps that connection's getStats from outside the page so
//     it reports growing packet loss, the warning appears, the wrapper is
//     removed, the warning goes. Loopback cannot be degraded for real
//     without root (tc netem on lo in a namespace), and the pages carry no
//     test-only code: this checks the monitor's thresholds and the
//     warning's wiring, not Chromium's loss accounting;
//   - the terminal reconnects by itself after B is stopped with SIGTERM
//     and started again on the same data directory and ports, keeps its
//     pairing (no pairing screen, same credential) and answers a new call.
// axe-core runs on the agenda during a call with the warning shown and on
// the terminal during a call and after reconnecting.
//
// Loopback only, as calls.test.js (see there for the network namespace).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { waitFor, chromiumPath, chromiumArgs as baseChromiumArgs, mediaArgs, axe, startNode as start, stopNode, api, adminPassword } from './harness.js';

const chromiumArgs = [...baseChromiumArgs, ...mediaArgs];
const CREDENTIAL_KEY = 'difronte.terminal.credential';

let dataDir; let browser;
const nodes = {};
const cspViolations = [];
const startNode = (name, extra, ports) => start(nodes, dataDir, name, extra, ports);
// Shared by the tests, in order.
const s = {};

// rtp sums a field of the page's live call's stats of one type and kind.
function rtp(page, type, kind, field) {
  return page.evaluate(async ([t, k, f]) => {
    const pc = window.__difronte && window.__difronte.pc;
    if (!pc || pc.connectionState === 'closed') return 0;
    let n = 0;
    (await pc.getStats()).forEach((x) => { if (x.type === t && x.kind === k) n += x[f] || 0; });
    return n;
  }, [type, kind, field]);
}

// growing is true when f() grows by more than min over ms.
async function growing(f, ms, min = 0) {
  return (await growth(f, ms)) > min;
}

// growth is how much counter f grows in ms.
async function growth(f, ms) {
  const a = await f();
  await new Promise((r) => setTimeout(r, ms));
  return (await f()) - a;
}

// lumaOf samples the mean luma of a <video> on the page (0 black, 255 white).
function lumaOf(page, id) {
  return page.evaluate((vid) => {
    const v = document.getElementById(vid);
    if (!v || !v.videoWidth) return -1;
    const c = document.createElement('canvas');
    c.width = 64; c.height = 48;
    const g = c.getContext('2d');
    g.drawImage(v, 0, 0, c.width, c.height);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0;
    for (let i = 0; i < d.length; i += 4) sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
    return sum / (d.length / 4);
  }, id);
}

// recordCountdown keeps every text the terminal's countdown shows.
async function recordCountdown(page) {
  await page.evaluate(() => {
    window.__seen = [];
    const el = document.getElementById('countdown');
    const note = () => { if (el.textContent) window.__seen.push(el.textContent); };
    new MutationObserver(note).observe(el, { childList: true, characterData: true, subtree: true });
  });
}

function watchCSP(page) {
  page.on('console', (m) => { if (/Content[- ]Security[- ]Policy/i.test(m.text())) cspViolations.push(m.text()); });
}

// callAndWait presses Chiama on the agenda and waits until the terminal
// shows the call and both sides receive media.
async function callAndWait(expectCountdown) {
  const { gpage, tpage, B } = s;
  await recordCountdown(tpage);
  await gpage.locator(`button.call[data-node="${B.info.peer_id}"]`).first().click();
  await tpage.locator('#ringing').waitFor({ state: 'visible' });
  const rangAt = Date.now();
  await tpage.locator('#incall').waitFor({ state: 'visible', timeout: 30000 });
  const took = Date.now() - rangAt;
  const seen = (await tpage.evaluate(() => window.__seen)).map((t) => Number((t.match(/\d+/) || [])[0]));
  const want = [];
  for (let n = expectCountdown; n > 0; n -= 1) want.push(n);
  assert.deepEqual([...new Set(seen)], want, `countdown shown ${JSON.stringify(seen)}`);
  assert.ok(took >= (expectCountdown - 1) * 1000, `answered ${took} ms after ringing, countdown ${expectCountdown} s`);
  for (const [who, p] of [['caregiver', gpage], ['terminal', tpage]]) {
    await waitFor(`${who} receiving media`, async () => (await rtp(p, 'inbound-rtp', 'video', 'bytesReceived')) > 0, 20000);
  }
}

async function hangup() {
  const { gpage, tpage } = s;
  await gpage.locator('#hangup').click();
  await tpage.locator('#home').waitFor({ state: 'visible', timeout: 10000 });
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-calls-more-'));
  // A first, B bootstraps from A: a restarted B dials A again (a node with
  // no bootstrap peers is not redialed by the peers that found it).
  const A = await startNode('A', []);
  const B = await startNode('B', ['--bootstrap', A.p2p]);
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });

  const cg = await api(A, 'POST', '/api/v1/caregivers', { name: 'Paolo Verdi', languages: ['it'] });
  await api(A, 'POST', '/api/v1/accounts', { username: 'paolo', role: 'caregiver', caregiver_id: cg.id, password: 'orologio-fermo-in-cucina' });
  const ben = await api(B, 'POST', '/api/v1/beneficiaries', { name: 'Lucia Neri', address: 'Via Po 2', municipality: '058091' });
  const term = await api(B, 'POST', '/api/v1/terminals', { label: 'T-2', model: 'Dell Latitude', state: 'in_service', beneficiary: ben.id });
  await api(B, 'PUT', `/api/v1/calls/settings/${ben.id}`, { display_name: 'Signora Lucia', countdown: 4 });
  const today = new Date().toISOString().slice(0, 10);
  await api(B, 'POST', '/api/v1/calls/schedules', { beneficiary: ben.id, caregiver: `${A.info.peer_id}/${cg.id}`, rule: 'FREQ=DAILY', time: '23:59', start: today });
  const grant = await api(B, 'POST', '/api/v1/calls/grants', {
    beneficiary: ben.id, node: A.info.peer_id, caregiver: cg.id, name: 'Paolo', expires: new Date(Date.now() + 3600e3).toISOString(),
  });
  await waitFor('the grant on A', async () => (await api(A, 'GET', `/api/v1/calls/held?caregiver=${cg.id}`)).items.some((h) => h.id === grant.id));
  const pairing = await api(B, 'POST', `/api/v1/calls/terminals/${term.id}/pairing`, null);
  Object.assign(s, { A, B, ben, grant });

  const tctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  s.tpage = await tctx.newPage();
  watchCSP(s.tpage);
  await s.tpage.goto(`${B.base}/terminal?code=${pairing.code}`);
  await waitFor('the terminal online', async () => !(await s.tpage.locator('#home').isHidden()) && (await s.tpage.locator('#status').textContent()) === '');
  s.credential = await s.tpage.evaluate((k) => localStorage.getItem(k), CREDENTIAL_KEY);
  assert.ok(s.credential, 'no credential stored');

  const gctx = await browser.newContext({ viewport: { width: 1024, height: 768 }, locale: 'it-IT' });
  const login = await api(A, 'POST', '/api/v1/login', { username: 'paolo', password: 'orologio-fermo-in-cucina' }, null);
  await gctx.addCookies([{ name: 'difronte_session', value: login.token, url: A.base }]);
  s.gpage = await gctx.newPage();
  watchCSP(s.gpage);
  await s.gpage.goto(`${A.base}/agenda`);
  await s.gpage.locator(`button.call[data-node="${B.info.peer_id}"]`).first().waitFor();
});

after(async () => {
  if (browser) await browser.close();
  for (const n of Object.values(nodes)) await stopNode(n);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test('the countdown set for the beneficiary reaches the terminal; mute and camera off reach the other side', { timeout: 120000 }, async () => {
  const { gpage, tpage } = s;
  // The hello carries the setting too (the page keeps it for the ring).
  await callAndWait(4);
  await axe(tpage, '/terminal during a call');

  // Mute: the outgoing audio track is disabled, the terminal's inbound
  // audio energy stops growing; unmute brings it back.
  const audioEnabled = () => gpage.evaluate(() => window.__difronte.pc.getSenders().find((x) => x.track && x.track.kind === 'audio').track.enabled);
  const energy = () => rtp(tpage, 'inbound-rtp', 'audio', 'totalAudioEnergy');
  // Silence is measured against the energy a second of sound brings:
  // concealment on a loaded machine can add a trace of energy after the
  // mute, never a hundredth of the sound's.
  let sound = 0;
  await waitFor('audio energy at the terminal', async () => (sound = await growth(energy, 1000)) > 0, 15000, 0);
  assert.equal(await audioEnabled(), true);
  await gpage.locator('#mute').click();
  assert.equal(await audioEnabled(), false);
  assert.equal(await gpage.locator('#mute').getAttribute('aria-pressed'), 'true');
  await waitFor('silence at the terminal', async () => (await growth(energy, 1000)) <= sound / 100, 15000, 0);
  await gpage.locator('#mute').click();
  assert.equal(await audioEnabled(), true);
  assert.equal(await gpage.locator('#mute').getAttribute('aria-pressed'), 'false');
  await waitFor('audio energy again', () => growing(energy, 1000), 15000, 0);

  // Camera off: the outgoing video track is disabled, the terminal's
  // remote video turns black; camera on brings the picture back.
  const videoEnabled = () => gpage.evaluate(() => window.__difronte.pc.getSenders().find((x) => x.track && x.track.kind === 'video').track.enabled);
  await waitFor('a picture at the terminal', async () => (await lumaOf(tpage, 'remote-video')) > 20, 15000);
  await gpage.locator('#camera').click();
  assert.equal(await videoEnabled(), false);
  assert.equal(await gpage.locator('#camera').getAttribute('aria-pressed'), 'true');
  await waitFor('black video at the terminal', async () => { const l = await lumaOf(tpage, 'remote-video'); return l >= 0 && l < 5; }, 15000);
  await gpage.locator('#camera').click();
  assert.equal(await videoEnabled(), true);
  await waitFor('the picture again', async () => (await lumaOf(tpage, 'remote-video')) > 20, 15000);

  // Quality warning: the live connection's stats report loss (see the top
  // of the file), the page's monitor warns; real stats again, it clears.
  // The real link is fine on loopback, but a loaded machine can make the
  // monitor warn for real for a moment: start from a quiet state.
  await waitFor('no warning on the real link', async () => (await gpage.locator('#call-warning').textContent()) === '', 15000);
  await gpage.evaluate(() => {
    const pc = window.__difronte.pc;
    let lost = 0;
    pc.getStats = async () => {
      const real = await RTCPeerConnection.prototype.getStats.call(pc);
      lost += 500;
      const out = new Map();
      real.forEach((x, k) => out.set(k, x.type === 'inbound-rtp' ? { ...x, packetsLost: (x.packetsLost || 0) + lost } : x));
      return out;
    };
  });
  const poor = await gpage.locator('#agenda').getAttribute('data-msg-poor');
  assert.ok(poor);
  await waitFor('the quality warning', async () => (await gpage.locator('#call-warning').textContent()) === poor, 10000);
  await axe(gpage, '/agenda during a call with the quality warning');
  await gpage.evaluate(() => { delete window.__difronte.pc.getStats; });
  await waitFor('the warning cleared', async () => (await gpage.locator('#call-warning').textContent()) === '', 15000);

  await hangup();
});

test('the terminal reconnects by itself after its node restarts, keeps its pairing and answers', { timeout: 120000 }, async () => {
  const { tpage, B } = s;
  const offline = await tpage.locator('#screen').getAttribute('data-msg-offline');
  await stopNode(B);
  await waitFor('the terminal noticing', async () => (await tpage.locator('#status').textContent()) === offline, 10000);
  await startNode('B');
  // The page backs off up to 10 s between attempts.
  await waitFor('the terminal online again', async () => (await tpage.locator('#status').textContent()) === '', 30000);
  assert.equal(await tpage.locator('#home').isHidden(), false);
  assert.equal(await tpage.locator('#pairing').isHidden(), true);
  assert.equal(await tpage.evaluate((k) => localStorage.getItem(k), CREDENTIAL_KEY), s.credential);

  // A changed countdown is honoured on the next call.
  await api(B, 'PUT', `/api/v1/calls/settings/${s.ben.id}`, { display_name: 'Signora Lucia', countdown: 2 });
  // B dialed A again at start (its bootstrap peer): the call crosses nodes.
  await callAndWait(2);
  await axe(tpage, '/terminal after reconnecting');
  await hangup();
  await waitFor('both call records on B', async () => {
    const recs = (await api(B, 'GET', `/api/v1/calls/records?beneficiary=${s.ben.id}`)).items;
    return recs.filter((r) => r.answered && r.ended && r.grant === s.grant.id).length === 2;
  });
  assert.deepEqual(cspViolations, []);
});
