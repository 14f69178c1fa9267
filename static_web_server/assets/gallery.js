// Photo gallery for the thumbnail bucket. Runs unchanged on the S3 website endpoint,
// CloudFront and `photopipe serve`. Plain ES2020, no dependencies, no build step.
//
// Safety rule for this file: every string from gallery.json or from an upload response is
// put into the page with textContent or setAttribute, never innerHTML.
'use strict';

(() => {
  const GALLERY_URL = 'gallery.json';  // relative: the file sits beside index.html
  const HEALTH_URL = '/healthz';       // answered only by `photopipe serve`
  const UPLOAD_PREFIX = '/uploads/';

  const $ = (id) => document.getElementById(id);
  const els = {
    summary: $('summary'),
    state: $('state'),
    stateText: $('state-text'),
    retry: $('retry'),
    grid: $('grid'),
    upload: $('upload'),
    dropzone: $('dropzone'),
    fileInput: $('file-input'),
    results: $('upload-results'),
  };

  // ---- Formatting -------------------------------------------------------------------

  // Decimal units (1 KB = 1000 bytes), as file managers on phones and macOS show them.
  function formatBytes(n) {
    if (!Number.isFinite(n) || n < 0) return '—';
    if (n < 1000) return `${n} B`;
    const units = ['KB', 'MB', 'GB', 'TB'];
    let value = n / 1000;
    let i = 0;
    while (value >= 999.5 && i < units.length - 1) {
      value /= 1000;
      i += 1;
    }
    return `${value < 9.95 ? value.toFixed(1) : Math.round(value)} ${units[i]}`;
  }

  const exactBytes = (n) => `${n.toLocaleString()} bytes`;

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  // The pipeline records upload_date + upload_time in UTC; show them in the viewer's zone.
  function parseUtc(date, time) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date || '')) return null;
    const t = /^\d{2}:\d{2}(:\d{2})?$/.test(time || '') ? time : '00:00:00';
    const d = new Date(`${date}T${t}Z`);
    return Number.isNaN(d.getTime()) ? null : d;
  }

  // ---- Data validation ----------------------------------------------------------------

  // Thumbnail paths come already percent-encoded from the pipeline. Accept only plain
  // relative paths under this site, whatever is in the data (defence in depth).
  function safeThumbnailUrl(value) {
    if (typeof value !== 'string' || value === '') return null;
    // Browsers strip or rewrite whitespace, control characters and backslashes while parsing
    // URLs ("\\evil.example" becomes "//evil.example"), so refuse them outright.
    if (/[\u0000-\u0020\u007f\\]/.test(value)) return null;
    if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return null; // a scheme: https:, javascript:, data:
    if (value.startsWith('/')) return null;               // root- or protocol-relative (//host)
    const path = value.split(/[?#]/)[0];
    // ".." segments, also percent-encoded ones, which URL parsers treat the same.
    if (path.split('/').some((s) => /^(\.|%2e){2}$/i.test(s))) return null;
    // Belt and braces: the resolved URL must stay on this origin, under this folder.
    const base = new URL('.', document.baseURI);
    let url;
    try {
      url = new URL(value, base);
    } catch {
      return null;
    }
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return null;
    return value;
  }

  const positiveInt = (n) => (Number.isInteger(n) && n > 0 && n <= 100000 ? n : null);
  const byteCount = (n) => (Number.isSafeInteger(n) && n >= 0 ? n : null);

  function normalise(raw) {
    if (!raw || typeof raw !== 'object') return null;
    const name = typeof raw.file_name === 'string' && raw.file_name !== '' ? raw.file_name : '(unnamed)';
    const date = typeof raw.upload_date === 'string' ? raw.upload_date : '';
    const time = typeof raw.upload_time === 'string' ? raw.upload_time : '';
    return {
      name,
      src: safeThumbnailUrl(raw.thumbnail),
      uploaded: parseUtc(date, time),
      // ISO date + time strings sort chronologically as plain text.
      sortKey: `${date}T${time}`,
      original: byteCount(raw.original_size),
      thumbnail: byteCount(raw.thumbnail_size),
      width: positiveInt(raw.width),
      height: positiveInt(raw.height),
    };
  }

  // ---- Sorting and the URL hash ------------------------------------------------------

  const byName = (a, b) => a.name.localeCompare(b.name);
  const SORTS = {
    newest: (a, b) => (a.sortKey < b.sortKey ? 1 : a.sortKey > b.sortKey ? -1 : byName(a, b)),
    // Unknown sizes go last.
    smallest: (a, b) =>
      (a.thumbnail ?? Infinity) - (b.thumbnail ?? Infinity) || byName(a, b),
  };

  // The view lives in the URL hash (#newest, #smallest) so it can be linked. Other hashes,
  // such as the skip link's #gallery, leave the current view alone.
  let sort = 'newest';
  function sortFromHash() {
    const key = location.hash.slice(1);
    if (!Object.prototype.hasOwnProperty.call(SORTS, key)) return false;
    sort = key;
    return true;
  }

  // ---- Rendering ----------------------------------------------------------------------

  let photos = null; // normalised photos once gallery.json has loaded

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function sizeRow(label, bytes, className) {
    const row = el('div', className);
    row.append(el('dt', '', label));
    const dd = el('dd');
    const value = el('data', '', formatBytes(bytes));
    if (bytes !== null) {
      value.setAttribute('value', String(bytes));
      value.setAttribute('title', exactBytes(bytes));
    }
    dd.append(value);
    row.append(dd);
    return row;
  }

  function card(photo) {
    const li = el('li', 'card');
    const figure = el('figure');
    const frame = el('div', 'frame');

    if (photo.src) {
      const img = document.createElement('img');
      img.setAttribute('src', photo.src);
      img.setAttribute('alt', photo.name);
      img.setAttribute('loading', 'lazy');
      img.setAttribute('decoding', 'async');
      // Intrinsic size reserves the space before the image arrives: no layout shift.
      img.setAttribute('width', String(photo.width ?? 256));
      img.setAttribute('height', String(photo.height ?? 256));
      img.addEventListener('error', () => {
        img.remove();
        frame.classList.add('is-missing');
      }, { once: true });
      frame.append(img);
    } else {
      frame.classList.add('is-missing');
    }

    const caption = el('figcaption');
    caption.append(el('span', 'name', photo.name));
    if (photo.uploaded) {
      const time = el('time', '', dateFormat.format(photo.uploaded));
      const iso = photo.uploaded.toISOString().replace('.000Z', 'Z');
      time.setAttribute('datetime', iso);
      time.setAttribute('title', `${iso.replace('T', ' ').replace('Z', '')} UTC`);
      caption.append(time);
    } else {
      caption.append(el('span', '', 'Upload time unknown'));
    }
    const sizes = el('dl', 'sizes');
    sizes.append(
      sizeRow('Original', photo.original, 'size-original'),
      sizeRow('Thumbnail', photo.thumbnail, 'size-thumbnail'),
    );
    caption.append(sizes);

    figure.append(frame, caption);
    li.append(figure);
    return li;
  }

  function showState(text, { error = false } = {}) {
    els.stateText.textContent = text;
    els.state.classList.toggle('is-error', error);
    els.retry.hidden = !error;
    els.state.hidden = false;
  }

  function render() {
    for (const link of document.querySelectorAll('.sort a')) {
      if (link.dataset.sort === sort) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
    if (!photos) return;

    els.grid.setAttribute('data-sort', sort);
    if (photos.length === 0) {
      els.grid.replaceChildren();
      showState('No photos yet');
      return;
    }
    els.state.hidden = true;
    const fragment = document.createDocumentFragment();
    for (const photo of [...photos].sort(SORTS[sort])) fragment.append(card(photo));
    els.grid.replaceChildren(fragment);
  }

  function renderSummary(generatedAt) {
    const count = photos.length;
    let text = count === 1 ? '1 photo' : `${count} photos`;
    const when = typeof generatedAt === 'string' ? new Date(generatedAt) : null;
    if (when && !Number.isNaN(when.getTime())) text += ` · updated ${dateFormat.format(when)}`;
    els.summary.textContent = text;
  }

  async function loadGallery() {
    if (!photos) showState('Loading photos…');
    try {
      // no-cache: revalidate every time, so a new upload shows on reload.
      const res = await fetch(GALLERY_URL, { cache: 'no-cache' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const data = await res.json();
      if (!data || !Array.isArray(data.photos)) throw new Error('unexpected gallery.json shape');
      photos = data.photos.map(normalise).filter(Boolean);
      renderSummary(data.generated_at);
    } catch (err) {
      console.error('gallery.json could not be loaded:', err);
      photos = null;
      els.grid.replaceChildren();
      els.summary.textContent = '';
      showState('The gallery could not be loaded. Please try again in a moment.', { error: true });
      return;
    }
    render();
  }

  // ---- Uploads (photopipe serve only) ------------------------------------------------

  // S3 and CloudFront answer /healthz with 403/404, or with an HTML page when CloudFront
  // maps errors to index.html, so only a 200 with the exact JSON counts.
  async function uploadsAvailable() {
    try {
      const res = await fetch(HEALTH_URL, { cache: 'no-store' });
      if (res.status !== 200) return false;
      const body = await res.json();
      return body !== null && typeof body === 'object' && body.status === 'ok';
    } catch {
      return false;
    }
  }

  function describeOutcome(res, body) {
    if (body && body.ok === true) {
      const size = byteCount(body.catalog && body.catalog.thumbnail_size);
      return { ok: true, text: size === null ? 'Thumbnail ready' : `Thumbnail ready · ${formatBytes(size)}` };
    }
    if (body && body.ok === false) {
      const failure = body.failure && typeof body.failure === 'object' ? body.failure : {};
      const message = typeof failure.error_message === 'string' && failure.error_message
        ? failure.error_message : 'The upload failed';
      const type = typeof failure.error_type === 'string' && failure.error_type ? `${failure.error_type}: ` : '';
      if (!body.failure && typeof body.error === 'string' && body.error) {
        // Refused before any execution (a bad name, a body over the limit): the server says why.
        return { ok: false, text: `Failed · ${body.error}` };
      }
      return { ok: false, text: `Failed · ${type}${message}` };
    }
    return { ok: false, text: `Failed · HTTP ${res.status}` };
  }

  async function uploadFile(file) {
    const item = el('li', 'is-pending');
    const outcome = el('span', 'outcome', 'Uploading…');
    item.append(el('span', 'file', file.name), outcome);
    els.results.append(item);

    let result;
    try {
      const res = await fetch(UPLOAD_PREFIX + encodeURIComponent(file.name), {
        method: 'PUT',
        body: file, // the raw bytes
        headers: { 'Content-Type': file.type || 'application/octet-stream' },
      });
      let body = null;
      try {
        body = await res.json();
      } catch {
        // not JSON: described by the status code
      }
      result = describeOutcome(res, body);
      if (body && typeof body.execution === 'string') item.setAttribute('title', `Execution ${body.execution}`);
    } catch (err) {
      result = { ok: false, text: `Failed · network error: ${err.message}` };
    }
    outcome.textContent = result.text;
    item.className = result.ok ? 'is-ok' : 'is-fail';
  }

  async function uploadAll(fileList) {
    const files = [...fileList];
    if (files.length === 0) return;
    // One at a time: keeps the local pipeline and the results list in a calm order.
    for (const file of files) await uploadFile(file);
    await loadGallery();
  }

  function enableUploads() {
    els.upload.hidden = false;
    els.fileInput.addEventListener('change', () => {
      uploadAll(els.fileInput.files).finally(() => { els.fileInput.value = ''; });
    });
    const zone = els.dropzone;
    zone.addEventListener('dragover', (e) => {
      e.preventDefault();
      zone.classList.add('is-dragover');
    });
    zone.addEventListener('dragleave', () => zone.classList.remove('is-dragover'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('is-dragover');
      if (e.dataTransfer) uploadAll(e.dataTransfer.files);
    });
    // A file dropped beside the zone would otherwise make the browser navigate to it.
    for (const type of ['dragover', 'drop']) {
      window.addEventListener(type, (e) => {
        if (!zone.contains(e.target)) e.preventDefault();
      });
    }
  }

  // ---- Start ----------------------------------------------------------------------------

  window.addEventListener('hashchange', () => { if (sortFromHash()) render(); });
  sortFromHash();
  els.retry.addEventListener('click', loadGallery);
  render(); // marks the current sort link before the data arrives
  loadGallery();
  uploadsAvailable().then((ok) => { if (ok) enableUploads(); });
})();
