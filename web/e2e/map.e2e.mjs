// Browser test: a real needmap server on loopback, Debian's chromium driven
// headless by playwright-core. Loads the map, checks the area layer is drawn
// with no console errors (playwright starts it with a fresh profile), clicks an area, reads its panel against the API,
// and saves a screenshot.
//
//   node e2e/map.e2e.mjs            (from web/, after `npm run build` and `cargo build`)
// Env: NEEDMAP_BIN (default ../target/debug/needmap), CHROMIUM (default /usr/bin/chromium),
//      E2E_SCREENSHOT (default ../target/e2e/map.png), NEEDMAP_CONFIG (default: the demo region).
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const bin = process.env.NEEDMAP_BIN ?? join(root, 'target', 'debug', 'needmap');
const shot = process.env.E2E_SCREENSHOT ?? join(root, 'target', 'e2e', 'map.png');

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok   ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name} ${detail}`);
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitHealthy(base, server, seconds) {
  for (let i = 0; i < seconds * 4; i += 1) {
    if (server.exitCode !== null) throw new Error(`needmap exited with ${server.exitCode}`);
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('needmap did not become healthy');
}

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const args = ['serve', '--addr', `127.0.0.1:${port}`, '--web', join(root, 'web', 'dist')];
if (process.env.NEEDMAP_CONFIG) args.push('--config', process.env.NEEDMAP_CONFIG);
const server = spawn(bin, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let browser;
try {
  await waitHealthy(base, server, 120);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--enable-unsafe-swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));

  await page.goto(base);
  await page.waitForFunction(() => window.__needmap && (window.__needmap.ready === true || window.__needmap.error), null, {
    timeout: 90_000,
  });
  const startError = await page.evaluate(() => window.__needmap.error ?? null);
  check('map becomes ready', startError === null, startError ?? '');

  const drawn = await page.evaluate(() => {
    const map = window.__needmap.map;
    const layer = map.getStyle().layers.find((l) => l.source === 'areas' && l.type === 'fill');
    return layer ? map.queryRenderedFeatures({ layers: [layer.id] }).length : 0;
  });
  check('area layer is rendered', drawn > 0, `(${drawn} features)`);

  // Click the middle of the map and read the panel.
  const box = await page.locator('#map').boundingBox();
  const clickX = box.x + box.width * 0.6;
  const clickY = box.y + box.height * 0.5;
  const under = await page.evaluate(
    ([x, y]) => {
      const map = window.__needmap.map;
      const rect = map.getCanvas().getBoundingClientRect();
      const layer = map.getStyle().layers.find((l) => l.source === 'areas' && l.type === 'fill');
      const f = map.queryRenderedFeatures([x - rect.left, y - rect.top], { layers: [layer.id] });
      return f.length ? f[0].properties.area_id : null;
    },
    [clickX, clickY],
  );
  check('an area lies under the click point', typeof under === 'string', String(under));
  await page.mouse.click(clickX, clickY);
  await page.waitForFunction(() => document.querySelector('#area-panel')?.dataset.state === 'loaded', null, { timeout: 30_000 });
  const panel = await page.evaluate(() => {
    const p = document.querySelector('#area-panel');
    return { id: p.dataset.areaId, text: p.innerText };
  });
  check('the panel shows the clicked area', panel.id === under, `${panel.id} vs ${under}`);
  const detail = await (await fetch(`${base}/api/areas/${encodeURIComponent(panel.id)}`)).json();
  const pop = Number(detail.population).toLocaleString('en-GB');
  check('the panel shows the area population from the API', panel.text.includes(pop), `(${pop} not in panel)`);
  check('the panel shows the referral count from the API', panel.text.includes(String(detail.referrals).replace(/\B(?=(\d{3})+(?!\d))/g, ',')), String(detail.referrals));

  check('no request leaves loopback', requests.every((u) => u.startsWith(base) || u.startsWith('data:') || u.startsWith('blob:')), requests.filter((u) => !u.startsWith(base)).join(' '));
  mkdirSync(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot });
  check('no console errors', errors.length === 0, errors.join(' | '));
  console.log(`screenshot: ${shot}`);
} catch (e) {
  failed += 1;
  console.log(`FAIL e2e: ${e.stack ?? e}`);
} finally {
  if (browser) await browser.close();
  server.kill('SIGTERM');
}
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
