// `make screenshots`: a PNG of every page each role reaches, at desktop
// (1366x768) and phone (390x844) sizes, and the paired terminal's screen
// at 1024x600, so anyone can look at the whole product in a minute. Not a
// test (make test does not run it). Output: SCREENSHOTS_DIR, default
// bench/out/screenshots (git-ignored), one folder per role and size.
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { chromiumArgs, chromiumPath, mediaArgs, stopNode, waitFor } from './harness.js';
import { startWalkNode, login, setLang, crawl, viewports, pairTerminal } from './walk.js';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.env.SCREENSHOTS_DIR || join(here, '..', '..', 'bench', 'out', 'screenshots'));
const lang = process.env.SCREENSHOTS_LANG || 'it';
// At most this many pages per role and size (a quick look: SCREENSHOTS_MAX=5).
const maxPages = Number(process.env.SCREENSHOTS_MAX || 60);

// fileName makes a page address a file name: /beneficiaries/k2m... ->
// beneficiaries_k2m....png, / -> home.png.
function fileName(i, path) {
  const name = path === '/' ? 'home' : path.replace(/^\//, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${String(i).padStart(2, '0')}-${name}.png`;
}

async function shootRole(browser, n, role, username, size) {
  const context = await browser.newContext({ viewport: viewports[size], locale: `${lang}-IT` });
  context.setDefaultTimeout(15000);
  await setLang(context, n.base, lang);
  const page = await context.newPage();
  if (username) await login(page, n.base, username);
  const dir = join(out, role, size);
  await mkdir(dir, { recursive: true });
  const index = [];
  let i = 0;
  await crawl(page, n.base, async (path, res) => {
    i += 1;
    const file = fileName(i, path);
    await page.screenshot({ path: join(dir, file), fullPage: true });
    index.push(`${file}\t${res.status()}\t${path}`);
  }, { start: username ? ['/'] : ['/', '/login', '/catalogo?q=anziana+sola'], max: maxPages });
  await writeFile(join(dir, 'index.tsv'), `${index.join('\n')}\n`);
  await context.close();
  return index.length;
}

async function shootTerminal(n) {
  // The terminal needs the fake camera of the call tests to show its
  // home screen as a paired terminal does.
  const browser = await chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...mediaArgs], headless: true });
  try {
    const context = await browser.newContext({ viewport: viewports.terminal, locale: `${lang}-IT` });
    const page = await context.newPage();
    const dir = join(out, 'terminal', 'terminal');
    await mkdir(dir, { recursive: true });
    await page.goto(`${n.base}/terminal`);
    await page.screenshot({ path: join(dir, '01-pairing.png') });
    await page.goto(`${n.base}/terminal?code=${await pairTerminal(n)}`);
    await waitFor('the terminal home screen', async () => !(await page.locator('#home').isHidden()), 20000).catch(() => {});
    await page.screenshot({ path: join(dir, '02-home.png') });
    await context.close();
  } finally {
    await browser.close();
  }
}

const nodes = {};
const dataDir = await mkdtemp(join(tmpdir(), 'difronte-screenshots-'));
let browser;
try {
  const { node: n, users } = await startWalkNode(nodes, dataDir);
  browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
  const roles = { visitor: '', ...users };
  for (const [role, username] of Object.entries(roles)) {
    for (const size of ['desktop', 'phone']) {
      const count = await shootRole(browser, n, role, username, size);
      console.log(`${role} ${size}: ${count} pages`);
    }
  }
  await shootTerminal(n);
  console.log(`terminal: 2 screens\nscreenshots in ${out}`);
} finally {
  if (browser) await browser.close();
  for (const x of Object.values(nodes)) await stopNode(x);
  await rm(dataDir, { recursive: true, force: true });
}
