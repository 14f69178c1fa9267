// What both browser tests share: Debian's Chromium started as this machine needs it, and a
// guard on each page for what must never happen on the gallery.
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

// Headless, no sandbox (root), and none of Chromium's own network traffic, which the
// machine's closed network would refuse.
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Fails the test at its end on a dialog (an alert from injected markup), a CSP violation, a
// page error, a request leaving `origin` — and, when asked, failed requests and 4xx/5xx
// answers other than the expected ones.

export function guardPage(t, page, origin, { brokenRequests = false, expectedErrors = () => false } = {}) {
  const problems = [];
  page.on('dialog', (d) => {
    problems.push(`dialog opened: ${d.type()} ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(`CSP violation: ${m.text()}`);
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(origin + '/')) problems.push(`off-site request: ${r.url()}`);
  });
  if (brokenRequests) {
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !expectedErrors(new URL(r.url()))) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
  }
  t.after(() => assert.deepEqual(problems, [], 'no dialogs, CSP violations, page errors or bad requests'));
}
