// node report_page.mjs PAGE.html SCREENSHOT.png PLOT_IDS [--text STRING]... [--selector CSS=MIN]...
//
// Opens a page written by `mtif report` in headless Chromium (/usr/bin/chromium,
// driven by playwright-core from report/node_modules) and fails (exit 1, one
// reason per line) unless:
//   * there is no page error, no console error and no network request other
//     than the file itself (the page must be self-contained);
//   * report.js finished with #mtif-status data-status="ok";
//   * the charts drawn are exactly PLOT_IDS (comma-separated), and each one
//     holds an <svg> that ECharts filled with at least 20 shapes;
//   * each --text STRING appears in the visible text of the page;
//   * each --selector CSS=MIN matches at least MIN elements (MIN 0 means: none).
// Writes a full-page screenshot to SCREENSHOT.png for a person to look at, and
// with --sections DIR one PNG per <section> (readable at full size).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'report', 'package.json'));
const { chromium } = require('playwright-core');

const [pagePath, shotPath, plotList, ...rest] = process.argv.slice(2);
if (!pagePath || !shotPath || plotList === undefined) {
  console.error('usage: node report_page.mjs PAGE.html SCREENSHOT.png PLOT_IDS [--text S]... [--selector CSS=MIN]...');
  process.exit(2);
}
const texts = [], selectors = [];
let sectionDir = null;
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] === '--text') texts.push(rest[i + 1]);
  else if (rest[i] === '--selector') selectors.push(rest[i + 1]);
  else if (rest[i] === '--sections') sectionDir = rest[i + 1];
  else { console.error('unknown argument ' + rest[i]); process.exit(2); }
}
const expectedPlots = plotList ? plotList.split(',') : [];
const failures = [];

const browser = await chromium.launch({
  executablePath: process.env.MTIF_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const url = pathToFileURL(path.resolve(pagePath)).href;
  page.on('console', (m) => { if (m.type() === 'error') failures.push('console error: ' + m.text()); });
  page.on('pageerror', (e) => failures.push('page error: ' + e.message));
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u === url) return route.continue();
    failures.push('request outside the page: ' + u);
    return route.abort();
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#mtif-status[data-status]', { state: 'attached', timeout: 20000 })
    .catch(() => failures.push('report.js never set #mtif-status (it did not finish)'));
  const status = await page.getAttribute('#mtif-status', 'data-status');
  if (status !== 'ok') failures.push('data-status is ' + status + ', not ok');
  const drawn = ((await page.getAttribute('#mtif-status', 'data-plots')) || '').split(',').filter(Boolean);
  if (drawn.join(',') !== expectedPlots.join(','))
    failures.push('charts drawn: [' + drawn.join(',') + '], expected [' + expectedPlots.join(',') + ']');
  for (const id of expectedPlots) {
    const shapes = await page.evaluate((id) => {
      const e = document.getElementById(id);
      if (!e) return -1;
      const svg = e.querySelector('svg');
      return svg ? svg.querySelectorAll('path, rect, text, circle').length : -2;
    }, id);
    if (shapes === -1) failures.push('no element #' + id);
    else if (shapes === -2) failures.push('#' + id + ' holds no <svg>: the chart library drew nothing');
    else if (shapes < 20) failures.push('#' + id + ' has only ' + shapes + ' shapes');
  }
  const body = await page.evaluate(() => document.body.innerText);
  for (const t of texts) if (!body.includes(t)) failures.push('text not on the page: ' + JSON.stringify(t));
  for (const s of selectors) {
    const at = s.lastIndexOf('=');
    const css = s.slice(0, at), min = Number(s.slice(at + 1));
    const n = await page.locator(css).count();
    if (min === 0 ? n !== 0 : n < min) failures.push(`selector ${css}: ${n} matches, expected ${min === 0 ? 'none' : 'at least ' + min}`);
  }
  await page.screenshot({ path: shotPath, fullPage: true });
  if (sectionDir)
    for (const id of await page.$$eval('section', (all) => all.map((s) => s.id)))
      await page.locator('#' + id).screenshot({ path: path.join(sectionDir, id + '.png') });
} finally {
  await browser.close();
}
if (failures.length) {
  for (const f of failures) console.error('FAIL: ' + f);
  process.exit(1);
}
console.log('ok: ' + expectedPlots.length + ' charts, no errors, screenshot ' + shotPath);
