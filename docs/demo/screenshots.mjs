// The screenshots of docs/demo.md, run by docs/demo/run.sh against a `photopipe serve` that
// holds what the page uploads with curl: flower.jpg, empty.jpg and the other sample photos.
// Each page is guarded like the website tests guard theirs (no dialog, page error, CSP
// violation, off-site or failed request); anything wrong fails the script.
//   BASE_URL        the server (http://127.0.0.1:PORT/)
//   SCREENSHOT_DIR  where demo-*.png go
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { guardPage, launchChromium } from '../../static_web_server/tests/browser.mjs';

const BASE = process.env.BASE_URL;
const OUT = process.env.SCREENSHOT_DIR;
assert.ok(BASE && OUT, 'run through docs/demo/run.sh (BASE_URL and SCREENSHOT_DIR are needed)');
mkdirSync(OUT, { recursive: true });
const origin = new URL(BASE).origin;

const checks = []; // guardPage's end-of-page assertions
const browser = await launchChromium();
try {
  async function open(path, viewport = { width: 1280, height: 900 }) {
    const context = await browser.newContext({ viewport, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC' });
    const page = await context.newPage();
    guardPage({ after: (fn) => checks.push(fn) }, page, origin, {
      brokenRequests: true,
      expectedErrors: (url) => url.pathname.startsWith('/uploads/'),
    });
    await page.goto(new URL(path, BASE).href);
    return page;
  }
  async function allImagesLoaded(page) {
    for (const img of await page.locator('#grid img').all()) await img.scrollIntoViewIfNeeded();
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#grid img')].every((i) => i.complete && i.naturalWidth > 0));
    await page.evaluate(() => window.scrollTo(0, 0));
  }
  const shot = async (page, name, options = {}) => {
    await page.screenshot({ path: join(OUT, name), ...options });
    console.log(`  ${name}`);
  };

  // The gallery: the photos uploaded with curl, newest first.
  const gallery = await (await fetch(new URL('gallery.json', BASE))).json();
  const names = gallery.photos.map((p) => p.file_name);
  assert.ok(names.includes('flower.jpg'), `flower.jpg is in gallery.json (${names})`);
  assert.ok(!names.includes('empty.jpg'), 'the empty file is not');
  let page = await open('/');
  await page.locator('#grid .card').first().waitFor();
  assert.equal(await page.locator('#grid .card').count(), gallery.photos.length);
  await allImagesLoaded(page);
  await shot(page, 'demo-gallery.png', { fullPage: true });

  // The five smallest thumbnails, as the page's size view shows them.
  await page.getByRole('link', { name: 'Smallest thumbnails' }).click();
  await page.waitForFunction(() => document.getElementById('grid').dataset.sort === 'smallest');
  await allImagesLoaded(page);
  await shot(page, 'demo-smallest.png');

  // A thumbnail opened on its own: the file the resize step wrote into the output bucket.
  const flower = gallery.photos.find((p) => p.file_name === 'flower.jpg');
  page = await open(flower.thumbnail, { width: 480, height: 320 });
  await page.waitForFunction(() => document.images[0]?.complete && document.images[0].naturalWidth > 0);
  await shot(page, 'demo-thumbnail.png');

  // A failure in the page: an empty file chosen in the upload panel.
  page = await open('/');
  await page.locator('#upload').waitFor({ state: 'visible' });
  await page.locator('#file-input').setInputFiles({ name: 'empty from the page.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(0) });
  const failed = page.locator('#upload-results li.is-fail');
  await failed.waitFor();
  assert.match(await failed.locator('.outcome').textContent(), /PhotoPipe\.EmptyObject/);
  await page.waitForFunction(() => !document.querySelector('#upload-results .is-pending'));
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, 'demo-upload-failure.png');

  // The executions page: every execution, the failed ones with their error.
  page = await open('/executions');
  await page.getByRole('heading', { name: 'Executions' }).waitFor();
  const rows = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) =>
    [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  const status = Object.fromEntries(rows.map(([file, , s]) => [file, s]));
  assert.equal(status['flower.jpg'], 'SUCCEEDED');
  assert.equal(status['empty.jpg'], 'FAILED');
  assert.equal(status['empty from the page.jpg'], 'FAILED');
  await shot(page, 'demo-executions.png', { fullPage: true });

  for (const check of checks) check();
} finally {
  await browser.close();
}
