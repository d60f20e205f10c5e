// The whole product, page by page: a demo coop node that is also an
// authority, one account per role, and a crawler that follows the links a
// role sees from its home page. The page-walk test (walk.test.js) runs axe
// on every page in Italian and English; `make screenshots`
// (screenshots.js) photographs them at desktop, phone and terminal sizes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { binary, adminPassword, startNode, api } from './harness.js';

// The demo node's authority: the name the qualified badge shows.
export const authorityName = 'Ufficio qualità dei servizi sociali';

// The screen sizes: an ordinary laptop, a phone, the refurbished terminal.
export const viewports = {
  desktop: { width: 1366, height: 768 },
  phone: { width: 390, height: 844 },
  terminal: { width: 1024, height: 600 },
};

// startWalkNode starts `difronte serve --demo` as an authority too, and
// returns it with the username of one account per role (all with the
// harness's admin password) and a pairing code for the demo terminal.
export async function startWalkNode(nodes, dataDir) {
  const key = join(dataDir, 'authority.jwk');
  await promisify(execFile)(binary, ['authority', 'keygen', '--out', key]);
  const n = await startNode(nodes, dataDir, 'walk', ['--demo', '--authority-key', key, '--authority-name', authorityName,
    '--authority-territory', '015,080,108']);
  await api(n, 'POST', '/api/v1/accounts', { username: 'funzionario', role: 'officer', display_name: 'Funzionaria', lang: 'it', password: adminPassword });
  const users = { admin: 'admin', caregiver: 'giulia.ferrari', operator: 'operatore', refurbisher: 'officina', officer: 'funzionario' };
  return { node: n, users };
}

// pairTerminal makes a one-time pairing code for the demo terminal that
// is in service at a beneficiary's home.
export async function pairTerminal(n) {
  const terms = (await api(n, 'GET', '/api/v1/terminals?limit=100')).items;
  const t = terms.find((x) => x.beneficiary && x.state === 'in_service') || terms.find((x) => x.beneficiary);
  const p = await api(n, 'POST', `/api/v1/calls/terminals/${t.id}/pairing`, {});
  return p.code;
}

// login logs a browser page in through the login form.
export async function login(page, base, username) {
  await page.goto(`${base}/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', adminPassword);
  await Promise.all([page.waitForURL(`${base}/`), page.press('#f-password', 'Enter')]);
}

// setLang chooses the UI language as the language switch does (a cookie).
export async function setLang(context, base, lang) {
  await context.addCookies([{ name: 'difronte_lang', value: lang, url: base }]);
}

// Links the crawler never follows: leaving the session, files that are not
// pages, one-time links, the JSON API.
const skip = [/^\/logout/, /^\/static\//, /^\/api\//, /^\/escalation\/ack\//, /\.csv(\?|$)/, /^\/terminal(\?|$)/, /^\/\.well-known\//, /\/attachments?\//];

// shape is a page address with its ids and query values taken out, so
// the crawler visits one beneficiary, one case, one offering...
export function shape(path) {
  const u = new URL(path, 'http://x');
  const segs = u.pathname.split('/').map((s) => (/\d/.test(s) && s.length >= 8 ? ':id' : s));
  const keys = [...u.searchParams.keys()].sort().join('&');
  return segs.join('/') + (keys ? `?${keys}` : '');
}

// crawl visits the pages a logged-in role reaches by links from start,
// breadth first, one page per shape, at most max pages; for each it calls
// visit(path, response) and follows the page's links on this site.
export async function crawl(page, base, visit, { start = ['/'], max = 60 } = {}) {
  const seen = new Set(); const queue = [...start]; const visited = [];
  for (const p of start) seen.add(shape(p));
  while (queue.length > 0 && visited.length < max) {
    const path = queue.shift();
    const res = await page.goto(base + path);
    visited.push(path);
    await visit(path, res);
    const links = await page.$$eval('a[href]', (as) => as.map((a) => a.getAttribute('href')));
    for (const href of links) {
      if (!href || !href.startsWith('/') || href.startsWith('//') || skip.some((re) => re.test(href))) continue;
      const clean = href.split('#')[0];
      const s = shape(clean);
      if (clean === '' || seen.has(s)) continue;
      seen.add(s);
      queue.push(clean);
    }
  }
  return visited;
}
