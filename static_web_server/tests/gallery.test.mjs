// Headless Chromium tests of the gallery website, run by run.sh (node --test).
// BASE_URL points at a static server of the site built by fixtures.mjs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { guardPage, launchChromium } from './browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = process.env.BASE_URL;
const FIXTURE_DIR = process.env.FIXTURE_DIR;
const SHOTS = resolve(process.env.SCREENSHOT_DIR || join(HERE, 'artifacts'));
const XSS_NAME = '<img src=x onerror=alert(1)>.jpg';
assert.ok(BASE && FIXTURE_DIR, 'run through run.sh (BASE_URL and FIXTURE_DIR are needed)');
mkdirSync(SHOTS, { recursive: true });

const gallery = JSON.parse(readFileSync(join(FIXTURE_DIR, 'gallery.json'), 'utf8'));
const origin = new URL(BASE).origin;

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

let browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

// A page that fails the test on anything guardPage watches for.
async function openPage(t, path, { viewport = DESKTOP, colorScheme = 'light', setup } = {}) {
  const context = await browser.newContext({
    viewport, colorScheme, locale: 'en-US', timezoneId: 'UTC',
    isMobile: viewport === PHONE, hasTouch: viewport === PHONE,
  });
  t.after(() => context.close());
  const page = await context.newPage();
  guardPage(t, page, origin);
  if (setup) await setup(page);
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

const newestFirst = [...gallery.photos]
  .sort((a, b) => `${b.upload_date}T${b.upload_time}`.localeCompare(`${a.upload_date}T${a.upload_time}`))
  .map((p) => p.file_name);
const smallestFirst = [...gallery.photos]
  .sort((a, b) => a.thumbnail_size - b.thumbnail_size)
  .map((p) => p.file_name);

describe('gallery', () => {
  test('renders every thumbnail, newest first, lazily and with a reserved size', async (t) => {
    const page = await openPage(t, '/');
    await page.locator('#grid .card').first().waitFor();
    assert.deepEqual(await cardNames(page), newestFirst);
    await loadAllImages(page);
    const imgs = await page.locator('#grid img').evaluateAll((list) => list.map((i) => ({
      alt: i.getAttribute('alt'), loading: i.getAttribute('loading'),
      width: i.getAttribute('width'), height: i.getAttribute('height'), natural: i.naturalWidth,
    })));
    assert.equal(imgs.length, gallery.photos.length);
    for (const [i, img] of imgs.entries()) {
      const photo = gallery.photos.find((p) => p.file_name === newestFirst[i]);
      assert.equal(img.alt, photo.file_name);
      assert.equal(img.loading, 'lazy');
      assert.equal(img.width, String(photo.width));
      assert.equal(img.height, String(photo.height));
      assert.ok(img.natural > 0, `${photo.file_name} rendered`);
    }
    await page.screenshot({ path: join(SHOTS, 'desktop.png'), fullPage: true });
  });

  test('shows upload time and human-readable sizes with exact bytes in a title', async (t) => {
    const page = await openPage(t, '/');
    const card = page.locator('#grid .card', { hasText: 'green meadow.jpg' });
    await card.waitFor();
    assert.equal(await card.locator('time').getAttribute('datetime'), '2026-11-28T03:59:12Z');
    assert.match(await card.locator('time').textContent(), /Nov 28, 2026.*3:59/);
    const original = card.locator('.size-original data');
    assert.equal(await original.textContent(), '183 KB');
    assert.equal(await original.getAttribute('title'), '183,377 bytes');
    const big = page.locator('#grid .card', { hasText: 'flower.jpg' }).locator('.size-original data');
    assert.equal(await big.textContent(), '4.7 MB');
    const tiny = page.locator('#grid .card', { hasText: 'fallen leaf' }).locator('.size-original data');
    assert.equal(await tiny.textContent(), '640 B');
    assert.match(await page.locator('#summary').textContent(), /^6 photos · updated /);
  });

  test('a file name with markup is shown as text and never runs', async (t) => {
    const page = await openPage(t, '/');
    await page.locator('#grid .card').first().waitFor();
    await loadAllImages(page);
    assert.ok((await cardNames(page)).includes(XSS_NAME));
    assert.equal(await page.locator('#grid img[src="x"], [onerror]').count(), 0);
    assert.equal(await page.locator(`#grid img[alt="${XSS_NAME}"]`).count(), 1);
  });

  test('the size view puts the smallest thumbnails first and is linkable', async (t) => {
    const page = await openPage(t, '/');
    await page.locator('#grid .card').first().waitFor();
    await page.getByRole('link', { name: 'Smallest thumbnails' }).click();
    await page.waitForFunction(() => location.hash === '#smallest');
    assert.deepEqual(await cardNames(page), smallestFirst);
    assert.equal(await page.getByRole('link', { name: 'Smallest thumbnails' }).getAttribute('aria-current'), 'true');
    const shown = await page.locator('#grid .size-thumbnail data').evaluateAll((l) => l.map((d) => Number(d.value)));
    assert.deepEqual(shown, [...shown].sort((a, b) => a - b));
    await page.getByRole('link', { name: 'Newest' }).click();
    await page.waitForFunction(() => location.hash === '#newest');
    assert.deepEqual(await cardNames(page), newestFirst);

    // A hash that is not a view (the skip link's) keeps the current view.
    await page.getByRole('link', { name: 'Smallest thumbnails' }).click();
    await page.evaluate(() => { location.hash = '#gallery'; });
    await page.waitForFunction(() => location.hash === '#gallery');
    assert.deepEqual(await cardNames(page), smallestFirst);

    const linked = await openPage(t, '/#smallest');
    await linked.locator('#grid .card').first().waitFor();
    assert.deepEqual(await cardNames(linked), smallestFirst);
  });

  test('fits a phone screen without horizontal scrolling', async (t) => {
    for (const scheme of ['light', 'dark']) {
      const page = await openPage(t, '/', { viewport: PHONE, colorScheme: scheme });
      await page.locator('#grid .card').first().waitFor();
      await loadAllImages(page);
      const m = await page.evaluate(() => ({
        scrollWidth: document.scrollingElement.scrollWidth,
        innerWidth: window.innerWidth,
        columns: getComputedStyle(document.getElementById('grid')).gridTemplateColumns.split(' ').length,
        viewportMeta: document.querySelector('meta[name="viewport"]')?.content,
      }));
      assert.ok(m.scrollWidth <= m.innerWidth, `scrollWidth ${m.scrollWidth} <= ${m.innerWidth}`);
      assert.ok(m.columns >= 1);
      assert.match(m.viewportMeta, /width=device-width/);
      await page.screenshot({ path: join(SHOTS, scheme === 'light' ? 'phone.png' : 'phone-dark.png') });
    }
  });

  test('an empty gallery says so', async (t) => {
    const page = await openPage(t, '/empty/');
    await page.getByText('No photos yet').waitFor();
    assert.equal(await page.locator('#grid .card').count(), 0);
    assert.equal(await page.locator('#retry').isVisible(), false);
    await page.screenshot({ path: join(SHOTS, 'empty.png') });
  });

  test('a missing gallery.json shows an error with a retry button', async (t) => {
    const page = await openPage(t, '/missing/');
    await page.getByText('The gallery could not be loaded').waitFor();
    assert.equal(await page.locator('#retry').isVisible(), true);
    assert.equal(await page.locator('#grid .card').count(), 0);
    await page.screenshot({ path: join(SHOTS, 'error-state.png') });
  });

  test('thumbnail paths that leave the site are never loaded', async (t) => {
    const page = await openPage(t, '/hostile/');
    await page.locator('#grid .card').first().waitFor();
    assert.equal(await page.locator('#grid .card').count(), 11);
    assert.equal(await page.locator('#grid img').count(), 0);
    assert.equal(await page.locator('#grid .frame.is-missing').count(), 11);
  });

  test('a strict Content-Security-Policy, and no inline script or style', async (t) => {
    const page = await openPage(t, '/');
    await page.locator('#grid .card').first().waitFor();
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'"]) {
      assert.ok(csp.includes(d), `CSP has ${d}`);
    }
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*|https?:/);
    const inline = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script:not([src])').length,
      styles: document.querySelectorAll('style, [style]').length,
    }));
    assert.deepEqual(inline, { scripts: 0, styles: 0 });
  });

  test('the error page is styled and links back to the gallery', async (t) => {
    const page = await openPage(t, '/error.html');
    assert.equal(await page.getByRole('heading', { name: 'Page not found' }).isVisible(), true);
    assert.equal(await page.getByRole('link', { name: 'Back to the photos' }).getAttribute('href'), '/index.html');
    assert.ok(await page.evaluate(() => document.styleSheets[0]?.cssRules.length > 0), 'stylesheet loaded');
    assert.ok(await page.locator('meta[http-equiv="Content-Security-Policy"]').count());
    await page.screenshot({ path: join(SHOTS, 'error-page.png') });
  });
});

describe('uploads', () => {
  test('the upload panel stays hidden where /healthz is not served (S3)', async (t) => {
    const page = await openPage(t, '/');
    const health = await page.waitForResponse((r) => r.url().endsWith('/healthz'));
    assert.equal(health.status(), 404);
    await page.locator('#grid .card').first().waitFor();
    await page.waitForTimeout(200);
    assert.equal(await page.locator('#upload').isVisible(), false);
  });

  test('a 200 that is not the health JSON (CloudFront error page) keeps it hidden', async (t) => {
    const page = await openPage(t, '/', {
      setup: (p) => p.route('**/healthz', (r) => r.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><p>index' })),
    });
    await page.waitForResponse((r) => r.url().endsWith('/healthz'));
    await page.locator('#grid .card').first().waitFor();
    await page.waitForTimeout(200);
    assert.equal(await page.locator('#upload').isVisible(), false);
  });

  test('on photopipe serve, files are PUT one by one and each outcome is shown', async (t) => {
    const puts = [];
    let galleryLoads = 0;
    const page = await openPage(t, '/', {
      setup: async (p) => {
        await p.route('**/healthz', (r) => r.fulfill({ status: 200, contentType: 'application/json', body: '{"status":"ok"}' }));
        await p.route('**/gallery.json', (r) => { galleryLoads += 1; return r.fallback(); });
        await p.route('**/uploads/**', async (r) => {
          const req = r.request();
          puts.push({ method: req.method(), path: new URL(req.url()).pathname, body: req.postDataBuffer() });
          const body = req.postDataBuffer().toString().startsWith('GOOD')
            ? { ok: true, execution: 'exec-1', catalog: { file_name: 'x', thumbnail_size: 10699 } }
            : { ok: false, execution: 'exec-2', failure: { error_type: 'unsupported_format', error_message: '<b>not an image</b>' } };
          await r.fulfill({ status: body.ok ? 200 : 422, contentType: 'application/json', body: JSON.stringify(body) });
        });
      },
    });
    await page.locator('#upload').waitFor();
    await page.locator('#grid .card').first().waitFor();
    const loadsBefore = galleryLoads;
    await page.locator('#file-input').setInputFiles([
      { name: 'sunny day #1.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('GOOD jpeg bytes') },
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') },
    ]);
    await page.locator('#upload-results li.is-fail').waitFor();
    await page.waitForFunction(() => !document.querySelector('#upload-results .is-pending'));
    assert.deepEqual(puts.map((p) => [p.method, p.path, p.body.toString()]), [
      ['PUT', `/uploads/${encodeURIComponent('sunny day #1.jpg')}`, 'GOOD jpeg bytes'],
      ['PUT', '/uploads/notes.txt', 'hello'],
    ]);
    const rows = await page.locator('#upload-results li').allTextContents();
    assert.match(rows[0], /sunny day #1\.jpg.*Thumbnail ready · 11 KB/);
    assert.match(rows[1], /notes\.txt.*Failed · unsupported_format: <b>not an image<\/b>/);
    assert.equal(await page.locator('#upload-results b').count(), 0, 'error message shown as text');
    await page.waitForFunction(() => document.querySelectorAll('#grid .card').length > 0);
    assert.ok(galleryLoads > loadsBefore, 'gallery reloaded after the uploads');
    await page.screenshot({ path: join(SHOTS, 'desktop-upload.png') });
  });
});
