// Builds the test website in a folder: copies of static_web_server/ with generated
// gallery.json files and small PNG thumbnails (made here, so the tests need no image files).
//
//   node fixtures.mjs OUT_DIR
//
// OUT_DIR/            full gallery (what the screenshots show)
// OUT_DIR/empty/      gallery.json with no photos
// OUT_DIR/missing/    no gallery.json at all
// OUT_DIR/hostile/    thumbnails pointing off-site, which must not be loaded
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const SITE = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// ---- A minimal PNG encoder (8-bit RGB, no filtering) ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}
function png(width, height, pixel) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let i = 0;
  for (let y = 0; y < height; y++) {
    raw[i++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      raw[i++] = r; raw[i++] = g; raw[i++] = b;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, truecolour
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// A little landscape: sky gradient, a sun, rolling ground. Different palettes and
// sizes give different file sizes, which the sort test relies on.
const mix = (a, b, t) => a.map((v, k) => Math.round(v + (b[k] - v) * t));
function landscape(width, height, { skyTop, skyBottom, sun, ground, hills = 2, noise = 0 }) {
  const sunX = width * 0.7, sunY = height * 0.3, sunR = Math.min(width, height) * 0.1;
  return png(width, height, (x, y) => {
    const horizon = height * (0.62 + 0.06 * Math.sin((x / width) * Math.PI * hills));
    let c;
    if (y > horizon) c = mix(ground, ground.map((v) => v * 0.6), (y - horizon) / (height - horizon));
    else if ((x - sunX) ** 2 + (y - sunY) ** 2 < sunR ** 2) c = sun;
    else c = mix(skyTop, skyBottom, y / horizon);
    if (noise) {
      // deterministic grain, so some files compress worse than others
      const n = (((x * 73856093) ^ (y * 19349663)) >>> 0) % (noise * 2 + 1) - noise;
      c = c.map((v) => Math.max(0, Math.min(255, v + n)));
    }
    return c;
  });
}

export const XSS_NAME = '<img src=x onerror=alert(1)>.jpg';

// [file name, upload date, time, original bytes, width, height, palette]
const PHOTOS = [
  ['green meadow.jpg', '2026-11-28', '03:59:12', 183377, 256, 205,
    { skyTop: [120, 170, 220], skyBottom: [205, 225, 240], sun: [255, 244, 200], ground: [96, 150, 70] }],
  ['dragonfly by Bolly.jpg', '2026-11-27', '18:20:05', 2411520, 256, 171,
    { skyTop: [40, 60, 110], skyBottom: [230, 150, 110], sun: [255, 220, 150], ground: [50, 60, 50], hills: 3, noise: 6 }],
  ['china.jpg', '2026-11-27', '09:02:44', 938112, 256, 192,
    { skyTop: [200, 210, 220], skyBottom: [235, 230, 220], sun: [250, 250, 245], ground: [120, 110, 100], noise: 3 }],
  [XSS_NAME, '2026-11-26', '22:15:00', 51234, 256, 256,
    { skyTop: [170, 120, 160], skyBottom: [240, 200, 190], sun: [255, 250, 230], ground: [80, 70, 90] }],
  ['flower.jpg', '2026-11-26', '07:30:59', 4710000, 171, 256,
    { skyTop: [250, 200, 120], skyBottom: [250, 235, 200], sun: [255, 255, 255], ground: [170, 80, 90], hills: 1, noise: 10 }],
  ['fallen leaf (transparent).png', '2026-11-25', '12:00:00', 640, 256, 144,
    { skyTop: [60, 90, 80], skyBottom: [150, 180, 160], sun: [240, 200, 90], ground: [150, 90, 40] }],
];

function thumbnailPath(name) {
  return `thumbnails/${encodeURIComponent(name)}.png`;
}

function copySite(dir) {
  mkdirSync(dir, { recursive: true });
  for (const f of ['index.html', 'error.html', 'assets']) cpSync(join(SITE, f), join(dir, f), { recursive: true });
}

const writeJson = (file, value) => writeFileSync(file, JSON.stringify(value, null, 2));

export function build(out) {
  copySite(out);
  mkdirSync(join(out, 'thumbnails'), { recursive: true });
  const photos = PHOTOS.map(([fileName, date, time, original, width, height, palette]) => {
    const bytes = landscape(width, height, palette);
    // The pipeline percent-encodes the URL path; the file on disk has the plain name.
    writeFileSync(join(out, 'thumbnails', `${fileName}.png`), bytes);
    return {
      file_name: fileName,
      thumbnail: thumbnailPath(fileName),
      upload_date: date,
      upload_time: time,
      original_size: original,
      thumbnail_size: bytes.length,
      width,
      height,
    };
  });
  writeJson(join(out, 'gallery.json'), { generated_at: '2026-11-28T04:00:00Z', photos });

  copySite(join(out, 'empty'));
  writeJson(join(out, 'empty', 'gallery.json'), { generated_at: '2026-11-28T04:00:00Z', photos: [] });

  copySite(join(out, 'missing'));

  copySite(join(out, 'hostile'));
  const hostile = [
    'https://evil.example/x.png', '//evil.example/x.png', '/etc/passwd', '\\\\evil.example/x.png',
    'javascript:alert(1)', 'data:image/png;base64,AAAA', 'thumbnails/../../x.png',
    'thumbnails/%2e%2e/%2E%2E/x.png', ' //evil.example/x.png', 42, null,
  ].map((thumbnail, i) => ({
    file_name: `hostile ${i}.jpg`, thumbnail, upload_date: '2026-11-28', upload_time: '00:00:00',
    original_size: 100 + i, thumbnail_size: 10 + i, width: 256, height: 256,
  }));
  writeJson(join(out, 'hostile', 'gallery.json'), { generated_at: '2026-11-28T04:00:00Z', photos: hostile });
  return photos;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv[2]) {
    console.error('usage: node fixtures.mjs OUT_DIR');
    process.exit(2);
  }
  build(resolve(process.argv[2]));
}
