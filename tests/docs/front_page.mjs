// node front_page.mjs PAGE.html SCREENSHOT.png TEXT...
//
// Opens the documentation site's front page in headless Chromium (/usr/bin/chromium,
// driven by playwright-core from report/node_modules) and fails (exit 1, one reason
// per line) on a page error, a console error, a request outside the site's folder,
// a stylesheet that did not load, or a TEXT missing from the page's visible text.
// Writes a screenshot of the first screen to SCREENSHOT.png.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'report', 'package.json'));
const { chromium } = require('playwright-core');

const [pagePath, shotPath, ...texts] = process.argv.slice(2);
if (!pagePath || !shotPath) {
  console.error('usage: node front_page.mjs PAGE.html SCREENSHOT.png TEXT...');
  process.exit(2);
}
const failures = [];
const site = pathToFileURL(path.dirname(path.resolve(pagePath))).href + '/';
const browser = await chromium.launch({
  executablePath: process.env.MTIF_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('console', (m) => { if (m.type() === 'error') failures.push('console error: ' + m.text()); });
  page.on('pageerror', (e) => failures.push('page error: ' + e.message));
  page.on('requestfailed', (r) => failures.push('request failed: ' + r.url()));
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(site)) return route.continue();
    failures.push('request outside the site: ' + u);
    return route.abort();
  });
  await page.goto(pathToFileURL(path.resolve(pagePath)).href, { waitUntil: 'load' });
  // The browser's own style gives <body> an 8px margin; every theme stylesheet sets its own.
  // (file:// pages cannot read their stylesheets' rules, so the computed style is the test.)
  const margin = await page.evaluate(() => getComputedStyle(document.body).margin);
  if (margin === '8px') failures.push('the body has the browser default margin: the theme stylesheet did not load');
  const body = await page.evaluate(() => document.body.innerText);
  for (const t of texts) if (!body.includes(t)) failures.push('text not on the page: ' + JSON.stringify(t));
  const title = await page.title();
  if (!title.includes('mtif')) failures.push('page title is ' + JSON.stringify(title));
  await page.screenshot({ path: shotPath });
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.error('FAIL: ' + f);
  process.exit(1);
}
console.log('ok: front page rendered, screenshot ' + shotPath);
