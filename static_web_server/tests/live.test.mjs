// Headless Chromium tests of the gallery website served by the real `photopipe serve`, run by
// run.sh (node --test) after it has uploaded upload_files/ through `PUT /uploads/…`:
// real thumbnails from the engine, the real gallery.json, the real /healthz, uploads and
// /executions page. gallery.test.mjs covers the same site on generated fixtures.
//
//   LIVE_URL       the server (http://127.0.0.1:PORT/)
//   UPLOAD_DIR     upload_files/ (the page's own upload sends a file from here)
//   PAGE_UPLOAD    the file of UPLOAD_DIR that run.sh held back for the page to upload
//   SCREENSHOT_DIR where screenshots go (live-*.png)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardPage, launchChromium } from './browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = process.env.LIVE_URL;
const UPLOAD_DIR = process.env.UPLOAD_DIR;
const PAGE_UPLOAD = process.env.PAGE_UPLOAD;
const SHOTS = resolve(process.env.SCREENSHOT_DIR || join(HERE, 'artifacts'));
const XSS_NAME = '<img src=x onerror=alert(1)>.jpg';
assert.ok(BASE && UPLOAD_DIR && PAGE_UPLOAD, 'run through run.sh (LIVE_URL, UPLOAD_DIR and PAGE_UPLOAD are needed)');
mkdirSync(SHOTS, { recursive: true });

const origin = new URL(BASE).origin;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

async function api(path) {
  const res = await fetch(new URL(path, BASE));
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

// A page that fails the test on anything guardPage watches for, failed requests included.
async function openPage(t, path, { viewport = DESKTOP } = {}) {
  const context = await browser.newContext({
    viewport, colorScheme: 'light', locale: 'en-US', timezoneId: 'UTC',
    isMobile: viewport === PHONE, hasTouch: viewport === PHONE,
  });
  t.after(() => context.close());
  const page = await context.newPage();
  // A 4xx or 5xx is a broken link or a failed API call; the tests check uploads' own answers.
  guardPage(t, page, origin, { brokenRequests: true, expectedErrors: (url) => url.pathname.startsWith('/uploads/') });
  await page.goto(new URL(path, BASE).href);
  return page;
}

const cardNames = (page) => page.locator('#grid .name').allTextContents();

async function loadAllImages(page) {
  // loading="lazy" defers images below the fold: bring each into view, then wait.
  for (const img of await page.locator('#grid img').all()) await img.scrollIntoViewIfNeeded();
  await page.waitForFunction(() =>
    [...document.querySelectorAll('#grid img')].every((i) => i.complete && i.naturalWidth > 0));
  await page.evaluate(() => window.scrollTo(0, 0));
}

async function noHorizontalScroll(page) {
  const m = await page.evaluate(() => ({
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(m.scrollWidth <= m.innerWidth, `page scrollWidth ${m.scrollWidth} <= ${m.innerWidth}`);
}

// Cards in the size view against the API's order. Equal thumbnail sizes may come in either
// order (the page breaks ties by name, the API by row id), so names are compared per size.
function groupBySize(pairs) {
  const groups = new Map();
  for (const [size, name] of pairs) groups.set(size, [...(groups.get(size) || []), name].sort());
  return [...groups.entries()];
}

// Tests run in order: the page's own upload comes first, so every later view has all photos.
describe('live gallery on photopipe serve', () => {
  test('the upload panel shows (healthz answers); a chosen file becomes a thumbnail, a dropped text file a failure', async (t) => {
    const health = await api('/healthz');
    assert.deepEqual(health, { status: 'ok' });
    const before = await api('/api/catalog?limit=1000');
    assert.ok(!before.some((r) => r.file_name === PAGE_UPLOAD), `${PAGE_UPLOAD} not uploaded yet`);

    const page = await openPage(t, '/');
    await page.locator('#upload').waitFor({ state: 'visible' });
    await page.locator('#grid .card').first().waitFor();
    const cardsBefore = await page.locator('#grid .card').count();
    assert.equal(cardsBefore, before.length);

    const put = page.waitForResponse((r) => r.url().includes('/uploads/') && r.request().method() === 'PUT');
    await page.locator('#file-input').setInputFiles(join(UPLOAD_DIR, PAGE_UPLOAD));
    const response = await put;
    assert.equal(new URL(response.url()).pathname, `/uploads/${encodeURIComponent(PAGE_UPLOAD)}`);
    assert.equal(response.status(), 201);

    const row = page.locator('#upload-results li.is-ok');
    await row.waitFor();
    assert.match(await row.textContent(), /Thumbnail ready · \d/);
    // The page reloads gallery.json after the upload: the new photo shows, with its thumbnail.
    const card = page.locator('#grid .card', { has: page.locator('.name', { hasText: PAGE_UPLOAD }) });
    await card.waitFor();
    assert.equal(await page.locator('#grid .card').count(), cardsBefore + 1);
    await card.locator('img').scrollIntoViewIfNeeded();
    await page.waitForFunction((name) => {
      const img = [...document.querySelectorAll('#grid img')].find((i) => i.alt === name);
      return img && img.complete && img.naturalWidth > 0;
    }, PAGE_UPLOAD);
    const after = await api('/api/catalog?limit=1000');
    const added = after.filter((r) => r.file_name === PAGE_UPLOAD);
    assert.equal(added.length, 1, 'one catalog row for the page upload');
    const shown = await card.locator('.size-thumbnail data').getAttribute('value');
    assert.equal(shown, String(added[0].thumbnail_size));

    // Drag and drop: a DataTransfer made in the page, dropped on the zone. A text file: the
    // real server's failure comes back and is shown, as text.
    const dropName = 'dropped <b>notes.txt'; // no '/': a file name never has one
    const dropPut = page.waitForResponse((r) => r.url().includes('/uploads/') && r.request().method() === 'PUT');
    await page.locator('#dropzone').evaluate((zone, { name, text }) => {
      const data = new DataTransfer();
      data.items.add(new File([text], name, { type: 'text/plain' }));
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, { name: dropName, text: readFileSync(join(UPLOAD_DIR, 'notes.txt'), 'utf8') });
    const dropped = await dropPut;
    assert.equal(new URL(dropped.url()).pathname, `/uploads/${encodeURIComponent(dropName)}`);
    assert.equal(dropped.status(), 201);
    const failed = page.locator('#upload-results li.is-fail');
    await failed.waitFor();
    assert.equal(await failed.locator('.file').textContent(), dropName);
    assert.match(await failed.locator('.outcome').textContent(), /^Failed · PhotoPipe\.UnsupportedFormat: /);
    assert.equal(await page.locator('#upload-results b').count(), 0, 'the name is shown as text');
    await page.waitForFunction(() => !document.querySelector('#upload-results .is-pending'));

    // A name the server refuses before any execution (over 255 bytes): its reason is shown.
    const longName = `${'long '.repeat(60)}.jpg`;
    await page.locator('#file-input').setInputFiles({ name: longName, mimeType: 'image/jpeg', buffer: Buffer.from('x') });
    const refused = page.locator('#upload-results li', { hasText: 'long long' });
    await refused.and(page.locator('.is-fail')).waitFor();
    assert.match(await refused.locator('.outcome').textContent(), /^Failed · bad file name: .*255 bytes/);
    await page.waitForFunction(() => !document.querySelector('#upload-results .is-pending'));
    assert.equal(await page.locator('#grid .card').count(), cardsBefore + 1, 'no card for a failed upload');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SHOTS, 'live-desktop-upload.png') });
  });

  test('every catalogued photo is a card whose thumbnail renders', async (t) => {
    const rows = await api('/api/catalog?limit=1000');
    const gallery = await api('/gallery.json');
    assert.ok(rows.length >= 5, `${rows.length} catalog rows`);
    assert.equal(gallery.photos.length, rows.length, 'gallery.json has every catalog row');

    const page = await openPage(t, '/');
    await page.locator('#grid .card').first().waitFor();
    assert.deepEqual([...await cardNames(page)].sort(), rows.map((r) => r.file_name).sort());
    await loadAllImages(page);
    const imgs = await page.locator('#grid img').evaluateAll((list) => list.map((i) => ({
      alt: i.getAttribute('alt'), natural: i.naturalWidth, src: i.getAttribute('src'),
    })));
    assert.equal(imgs.length, rows.length, 'one img per photo');
    for (const img of imgs) assert.ok(img.natural > 0, `${img.alt} rendered (${img.src})`);
    // Newest first (equal times in any order).
    const times = await page.locator('#grid time').evaluateAll((l) => l.map((e) => e.getAttribute('datetime')));
    assert.deepEqual(times, [...times].sort().reverse());
    // The sizes shown are the catalog's.
    for (const row of rows) {
      const card = page.locator('#grid .card', { has: page.locator('.name', { hasText: row.file_name }) }).first();
      assert.equal(await card.locator('.size-thumbnail data').getAttribute('value'), String(row.thumbnail_size));
      assert.equal(await card.locator('.size-original data').getAttribute('value'), String(row.original_size));
    }
    assert.match(await page.locator('#summary').textContent(), new RegExp(`^${rows.length} photos · updated `));
    await page.screenshot({ path: join(SHOTS, 'live-desktop.png'), fullPage: true });
  });

  test('a file named with markup shows as text, and nothing runs', async (t) => {
    const rows = await api('/api/catalog?limit=1000');
    assert.ok(rows.some((r) => r.file_name === XSS_NAME), 'run.sh uploaded the hostile name');
    const page = await openPage(t, '/');
    await page.locator('#grid .card').first().waitFor();
    await loadAllImages(page);
    assert.ok((await cardNames(page)).includes(XSS_NAME));
    assert.equal(await page.locator('img[src="x"], [onerror]').count(), 0);
    const alts = await page.locator('#grid img').evaluateAll((l) => l.map((i) => i.alt));
    assert.ok(alts.includes(XSS_NAME), 'the name is the alt text, verbatim');
    // Give a stray onerror handler time to fire; openPage's dialog check would catch it.
    await page.waitForTimeout(300);
  });

  test('the size view matches /api/catalog?order_by=thumbnail_size&direction=asc', async (t) => {
    const rows = await api('/api/catalog?order_by=thumbnail_size&direction=asc&limit=1000');
    const sizes = rows.map((r) => r.thumbnail_size);
    assert.deepEqual(sizes, [...sizes].sort((a, b) => a - b), 'the API answers in ascending order');
    const page = await openPage(t, '/');
    await page.locator('#grid .card').first().waitFor();
    await page.getByRole('link', { name: 'Smallest thumbnails' }).click();
    await page.waitForFunction(() => document.getElementById('grid').dataset.sort === 'smallest');
    const shown = await page.locator('#grid .card').evaluateAll((cards) => cards.map((c) => [
      Number(c.querySelector('.size-thumbnail data').getAttribute('value')),
      c.querySelector('.name').textContent,
    ]));
    assert.deepEqual(shown.map(([size]) => size), sizes);
    assert.deepEqual(groupBySize(shown), groupBySize(rows.map((r) => [r.thumbnail_size, r.file_name])));
    // The five smallest, as `photopipe catalog smallest` lists them.
    const five = await api('/api/catalog?order_by=thumbnail_size&direction=asc&limit=5');
    assert.deepEqual(five.map((r) => r.thumbnail_size), sizes.slice(0, 5));
    for (const r of five) {
      for (const field of ['upload_date', 'upload_time', 'file_name', 'original_size', 'thumbnail_size']) {
        assert.ok(r[field] !== undefined && r[field] !== null, `${field} in every row`);
      }
    }
  });

  test('fits a phone screen without horizontal scrolling', async (t) => {
    const page = await openPage(t, '/', { viewport: PHONE });
    await page.locator('#grid .card').first().waitFor();
    await page.locator('#upload').waitFor({ state: 'visible' });
    await loadAllImages(page);
    await noHorizontalScroll(page);
    const columns = await page.evaluate(() =>
      getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length);
    assert.ok(columns >= 2, `${columns} columns on a phone`);
    // A touch screen cannot drop files: the zone offers to choose them, and still works as a label.
    assert.equal(await page.evaluate(() => matchMedia('(pointer: coarse)').matches), true);
    assert.equal(await page.getByText('Drop photos here').isVisible(), false);
    assert.equal(await page.locator('#dropzone .link-like').isVisible(), true);
    await page.screenshot({ path: join(SHOTS, 'live-phone.png') });
    await page.screenshot({ path: join(SHOTS, 'live-phone-full.png'), fullPage: true });
  });

  test('the executions page lists every execution and escapes the hostile name', async (t) => {
    const rows = await api('/api/catalog?limit=1000');
    const page = await openPage(t, '/executions');
    await page.getByRole('heading', { name: 'Executions' }).waitFor();
    const table = await page.locator('table tbody tr').evaluateAll((trs) => trs.map((tr) =>
      [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    // run.sh's uploads, the page's upload: every catalogued photo succeeded, empty.jpg failed.
    const statuses = Object.fromEntries(table.map(([file, , status]) => [file, status]));
    for (const r of rows) assert.equal(statuses[r.file_name], 'SUCCEEDED', `${r.file_name} succeeded`);
    assert.equal(statuses['empty.jpg'], 'FAILED');
    const empty = table.find(([file]) => file === 'empty.jpg');
    assert.match(empty[5], /Validate.*OnFailure/, 'states of the failed execution');
    assert.match(empty[6], /PhotoPipe\.EmptyObject/);
    const ok = table.find(([file]) => file === XSS_NAME);
    assert.match(ok[5], /Validate → Resize → Catalog/);
    assert.equal(statuses['dropped <b>notes.txt'], 'FAILED');
    assert.equal(await page.locator('img, [onerror], script, b').count(), 0, 'names are text, not markup');
    // Each execution links to its JSON history.
    const href = await page.locator('table tbody tr', { hasText: XSS_NAME }).locator('a').getAttribute('href');
    const history = await api(href);
    assert.equal(history.input.key, XSS_NAME);
    assert.equal(history.status, 'SUCCEEDED');
    assert.ok(await page.evaluate(() => document.styleSheets[0]?.cssRules.length > 0), 'stylesheet loaded');
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(SHOTS, 'live-executions.png'), fullPage: true });

    const phone = await openPage(t, '/executions', { viewport: PHONE });
    await phone.getByRole('heading', { name: 'Executions' }).waitFor();
    await noHorizontalScroll(phone);
    await phone.screenshot({ path: join(SHOTS, 'live-executions-phone.png') });
  });
});
