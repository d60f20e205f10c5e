// The terminal kit end to end: `difronte terminal setup` pairs a terminal
// of a real `difronte serve` and writes the kiosk session; the session's
// own .xinitrc starts the kiosk browser (headless Chromium behind a thin
// wrapper that only adds the flags of these machines) on /terminal with
// the credential; `difronte terminal run` programs the wake alarm of a
// fake sysfs for the scheduled window and reports health; the caregiver's
// call from the agenda is answered by the terminal by itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, readFile, chmod } from 'node:fs/promises';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { waitFor, chromiumPath, chromiumArgs, mediaArgs, freePort, startNode, stopNode, api, axe, binary } from './harness.js';

const run = promisify(execFile);
const nodes = {};
let dataDir; let browser; let kiosk; let agent; let caregiverBrowser;

function spawnGroup(cmd, args, env) {
  const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  p.log = '';
  p.stdout.on('data', (d) => { p.log += d; });
  p.stderr.on('data', (d) => { p.log += d; });
  return p;
}

// killGroup stops a process group started by spawnGroup and waits until
// every process of it is gone (SIGKILL after 10 s).
async function killGroup(p) {
  if (!p) return;
  const alive = () => { try { process.kill(-p.pid, 0); return true; } catch { return false; } };
  try { process.kill(-p.pid, 'SIGTERM'); } catch { return; }
  await waitFor('the process group to end', async () => !alive(), 10000).catch(() => {
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* gone */ }
  });
  await waitFor('the process group to end after SIGKILL', async () => !alive(), 5000);
}

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'difronte-e2e-kiosk-'));
});

after(async () => {
  if (caregiverBrowser) await caregiverBrowser.close();
  if (browser) await browser.close().catch(() => {});
  await killGroup(kiosk);
  await killGroup(agent);
  for (const n of Object.values(nodes)) await stopNode(n);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

// connectCDP attaches to the kiosk's browser. Its DevTools socket can
// accept the connection and still not answer Playwright's handshake while
// the browser is busy starting the kiosk page (seen once in CI: connected,
// then 30 s of silence), so it tries three times, 20 s each.
async function connectCDP(url) {
  let last;
  for (let i = 0; i < 3; i++) {
    try {
      return await chromium.connectOverCDP(url, { timeout: 20000 });
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

test('a PC set up by the kit becomes the kiosk, wakes for its window and answers the call by itself', { timeout: 180000 }, async () => {
  const A = await startNode(nodes, dataDir, 'A');
  const cg = await api(A, 'POST', '/api/v1/caregivers', { name: 'Paolo Verdi', languages: ['it'] });
  await api(A, 'POST', '/api/v1/accounts', { username: 'paolo', role: 'caregiver', caregiver_id: cg.id, password: 'orologio-fermo-in-cucina' });
  const ben = await api(A, 'POST', '/api/v1/beneficiaries', { name: 'Lucia Neri', address: 'Via Po 2', municipality: '058091', caregivers: [cg.id] });
  const term = await api(A, 'POST', '/api/v1/terminals', { label: 'T-9', model: 'ThinkPad X220', state: 'in_service', beneficiary: ben.id });
  await api(A, 'PUT', `/api/v1/calls/settings/${ben.id}`, { display_name: 'Signora Lucia', countdown: 2 });
  // A window 30 minutes ahead, to the minute, in Rome's wall clock.
  const start = new Date(Math.ceil((Date.now() + 30 * 60e3) / 60e3) * 60e3);
  const rome = (d) => new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(d).replace(' ', 'T');
  await api(A, 'POST', '/api/v1/calls/schedules', { beneficiary: ben.id, caregiver: cg.id, time: rome(start).slice(11), start: rome(start).slice(0, 10), minutes: 15, extra: [rome(start)] });
  const pairing = await api(A, 'POST', `/api/v1/calls/terminals/${term.id}/pairing`, null);

  // setup in a throwaway root: a useradd that writes the root's passwd,
  // and a "chromium" that is the real one headless, with a debugging port.
  const root = join(dataDir, 'root');
  const tools = join(dataDir, 'tools');
  await mkdir(join(root, 'etc'), { recursive: true });
  await mkdir(tools, { recursive: true });
  await writeFile(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  await writeFile(join(tools, 'useradd'), `#!/bin/sh\nfor a; do last=$a; done\nmkdir -p "${root}/home/$last"\necho "$last:x:1001:1001::/home/$last:/bin/bash" >> "${root}/etc/passwd"\n`);
  const cdp = await freePort();
  const profile = join(dataDir, 'profile');
  await writeFile(join(tools, 'chromium'), `#!/bin/sh\nexec ${chromiumPath} ${[...chromiumArgs, ...mediaArgs].join(' ')} --remote-debugging-address=127.0.0.1 --remote-debugging-port=${cdp} --user-data-dir=${profile} "$@"\n`);
  await chmod(join(tools, 'useradd'), 0o755);
  await chmod(join(tools, 'chromium'), 0o755);
  const out = await run(binary, ['terminal', 'setup', '--root', root, '--node', A.base, '--pair-code', pairing.code,
    '--useradd', join(tools, 'useradd'), '--chromium', join(tools, 'chromium'), '--power-off-after', '15m']);
  assert.match(out.stdout, /wrote \/home\/difronte-kiosk\/\.xinitrc/);
  const again = await run(binary, ['terminal', 'setup', '--root', root]);
  assert.match(again.stdout, /^nothing to change/);

  // The kiosk session as autologin would start it (X is not needed: the
  // browser is headless; xset and amixer may be missing and are skipped).
  const home = join(root, 'home', 'difronte-kiosk');
  kiosk = spawnGroup('/bin/sh', [join(home, '.xinitrc')], { PATH: `${tools}:/usr/bin:/bin`, HOME: home });
  await waitFor('the kiosk browser', async () => {
    try { return (await fetch(`http://127.0.0.1:${cdp}/json/version`)).ok; } catch { return false; }
  }, 30000);
  browser = await connectCDP(`http://127.0.0.1:${cdp}`);
  let tpage;
  await waitFor('the /terminal page', async () => {
    tpage = browser.contexts().flatMap((c) => c.pages()).find((p) => p.url().startsWith(`${A.base}/terminal`));
    return !!tpage;
  }, 30000);
  await waitFor('the terminal online', async () => !(await tpage.locator('#home').isHidden()) && (await tpage.locator('#status').textContent()) === '', 30000);
  // Asked of the page itself: Playwright attached to a browser already
  // running, and its record of the URL can miss a replaceState made while
  // it was attaching.
  assert.equal(await tpage.evaluate(() => location.href), `${A.base}/terminal`, 'the credential left the address bar');

  // The agent: the alarm for the window, the heartbeat as health.
  const sys = join(dataDir, 'sys');
  await mkdir(join(sys, 'class', 'rtc', 'rtc0'), { recursive: true });
  await writeFile(join(sys, 'class', 'rtc', 'rtc0', 'wakealarm'), '');
  agent = spawnGroup(binary, ['terminal', 'run', '--config', join(root, 'etc', 'difronte', 'terminal.json'), '--sysfs', sys, '--etc', join(root, 'etc'),
    '--poll', '2s', '--poweroff-cmd', '/bin/false'], { PATH: '/usr/bin:/bin' });
  const wake = String(start.getTime() / 1000 - 600);
  await waitFor('the wake alarm', async () => (await readFile(join(sys, 'class', 'rtc', 'rtc0', 'wakealarm'), 'utf8')).trim() === wake, 20000);
  let health;
  await waitFor('the heartbeat', async () => { health = await api(A, 'GET', `/api/v1/terminals/${term.id}/health`); return health.agent; }, 20000);
  assert.equal(health.online, true);
  assert.equal(new Date(health.next_wake).getTime(), start.getTime() - 600e3);

  // The admin sees it on the terminal's page; the kit's page gives the
  // command; both pass axe.
  caregiverBrowser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...mediaArgs], headless: true });
  const actx = await caregiverBrowser.newContext({ locale: 'it-IT' });
  await actx.addCookies([{ name: 'difronte_session', value: A.token, url: A.base }]);
  const apage = await actx.newPage();
  await apage.goto(`${A.base}/terminals/${term.id}`);
  assert.match(await apage.locator('#health-title').textContent(), /Stato del terminale/);
  assert.match(await apage.locator('main').textContent(), /sì, in linea/);
  await axe(apage, '/terminals/{id} with health');
  await apage.goto(`${A.base}/terminal/install`);
  assert.match(await apage.locator('#kit-command').inputValue(), /\/terminal\/install\.sh \| sudo sh -s --/);
  await axe(apage, '/terminal/install');
  await actx.close();

  // The caregiver calls from the agenda; the kiosk answers by itself.
  const gctx = await caregiverBrowser.newContext({ locale: 'it-IT' });
  const login = await api(A, 'POST', '/api/v1/login', { username: 'paolo', password: 'orologio-fermo-in-cucina' }, null);
  await gctx.addCookies([{ name: 'difronte_session', value: login.token, url: A.base }]);
  const gpage = await gctx.newPage();
  await gpage.goto(`${A.base}/agenda`);
  await gpage.locator(`button.call[data-beneficiary="${ben.id}"]`).first().click();
  await tpage.locator('#ringing').waitFor({ state: 'visible', timeout: 20000 });
  await tpage.locator('#incall').waitFor({ state: 'visible', timeout: 30000 });
  await waitFor('the call recorded as answered', async () => (await api(A, 'GET', `/api/v1/calls/records?beneficiary=${ben.id}`)).items.some((r) => r.answered), 30000);
});
