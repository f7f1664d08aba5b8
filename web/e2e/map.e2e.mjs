// Browser test: a real needmap server on loopback, Debian's chromium driven
// headless by playwright-core. Loads the map, checks the area layer is drawn
// with no console errors (playwright starts it with a fresh profile), clicks an area, reads its panel against the API,
// colours by access and catchments, draws a premises' travel-time bands, moves the hour-of-week
// slider of the opening-hours layer, checks the hours gap, extensions and week heatmaps, asks
// "who can help here?" by clicking the map, runs a siting from its panel, saves it as a scenario,
// compares it with the baseline and deletes it, compares two boundary sets (co-terminosity)
// and proposes boundaries with the designer, colours areas by trend, referrals per period,
// hot spots and projected demand, reads the early-warning list, and saves screenshots.
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

  // Access: colour by travel time to the default kind, read the legend, state and panel
  // against /api/access, then change kind and threshold.
  const meta = await (await fetch(`${base}/api/meta`)).json();
  // The layers download as files: the need map as CSV, one row per area, the protected
  // counts as the public layer has them; the equity table as a GeoPackage.
  await page.waitForSelector('#equity-downloads a', { timeout: 30_000 }).catch(() => {});
  const files = await page.evaluate(async () => {
    const need = document.querySelector('#data-downloads a[data-format="csv"]');
    const eq = document.querySelector('#equity-downloads a[data-format="gpkg"]');
    if (!need || !eq) return null;
    const text = await (await fetch(need.href)).text();
    const head = new Uint8Array(await (await fetch(eq.href)).arrayBuffer()).slice(0, 15);
    return { text, sqlite: String.fromCharCode(...head), sets: document.querySelectorAll('#data-downloads .download-row').length };
  });
  const needRows = (files?.text ?? '').trim().split('\n');
  check(
    'the need map downloads as CSV with one row per area, the equity table as a GeoPackage',
    files !== null && needRows.length === meta.areas + 1 && needRows[0].startsWith('area_id,') && files.sqlite === 'SQLite format 3' && files.sets === 2 + (meta.boundary_sets?.length ?? 0),
    JSON.stringify({ rows: needRows.length, areas: meta.areas, head: needRows[0]?.slice(0, 80), sqlite: files?.sqlite, sets: files?.sets }),
  );
  const kinds = meta.premises_kinds ?? [];
  if (kinds.length) {
    const kind = kinds.includes('social_work_office') ? 'social_work_office' : kinds[0];
    const waitAccess = (v, key) =>
      page.waitForFunction(
        ([v, key]) => {
          const l = document.querySelector('#legend');
          return l.dataset.state === 'error' || (l.dataset.variable === v && l.dataset.access === key && l.dataset.state === 'loaded');
        },
        [v, key],
        { timeout: 30_000 },
      );
    await page.evaluate(() => window.__needmap.setVariable('access_travel_time'));
    await waitAccess('access_travel_time', `${kind}|15`);
    const acc = await (await fetch(`${base}/api/access?kind=${kind}&threshold_min=15`)).json();
    const legend = await page.evaluate(() => {
      const l = document.querySelector('#legend');
      const counts = Array.from(l.querySelectorAll('.legend-count')).map((c) => Number(c.textContent.replace(/,/g, '')));
      return { state: l.dataset.state, text: l.innerText, total: counts.reduce((a, b) => a + b, 0) };
    });
    check('access legend loads for the default kind', legend.state === 'loaded', legend.text.slice(0, 200));
    check('access legend counts every area', legend.total === acc.areas.length, `${legend.total} vs ${acc.areas.length}`);
    check('access legend is in minutes and states the method', /min/.test(legend.text) && /straight line|road network/.test(legend.text), legend.text.slice(0, 300));
    const state = await page.evaluate(() => {
      const map = window.__needmap.map;
      return {
        paint: JSON.stringify(map.getPaintProperty('areas-fill', 'fill-color')),
        s0: map.getFeatureState({ source: 'areas', sourceLayer: 'areas', id: 0 }),
        drawn: map.queryRenderedFeatures({ layers: ['areas-fill'] }).length,
      };
    });
    check('areas are coloured through feature-state', state.paint.includes('feature-state'), state.paint.slice(0, 120));
    const t0 = acc.areas[0].travel_time_s;
    check(
      'feature 0 holds its travel time in minutes',
      t0 === null ? state.s0.access_minutes === null : Math.abs(state.s0.access_minutes - t0 / 60) < 1e-9,
      JSON.stringify(state.s0),
    );
    const block = await page.evaluate(() => document.querySelector('#area-panel .area-access')?.innerText ?? null);
    const mine = acc.areas.find((a) => a.area_id === panel.id);
    check('the area panel shows access to the kind', block !== null && (!mine?.nearest_name || block.includes(mine.nearest_name)), String(block));

    const other = kinds.find((k) => k !== kind) ?? kind;
    await page.evaluate(() => window.__needmap.setVariable('access_providers'));
    await page.evaluate((k) => window.__needmap.setAccess(k, 30), other);
    await waitAccess('access_providers', `${other}|30`);
    const after = await page.evaluate(() => ({
      text: document.querySelector('#legend').innerText,
      kind: document.querySelector('#access-kind').value,
      t: document.querySelector('#access-threshold').value,
    }));
    check('setAccess changes kind and threshold', after.kind === other && after.t === '30', JSON.stringify(after).slice(0, 200));
    check('the providers legend names choice deserts', after.text.includes('choice desert'), after.text.slice(0, 200));
    await page.evaluate(() => window.__needmap.setVariable('access_e2sfca'));
    await waitAccess('access_e2sfca', `${other}|30`);
    await page.evaluate(() => new Promise((r) => { const m = window.__needmap.map; m.once('idle', r); m.triggerRepaint(); }));
    await page.screenshot({ path: shot.replace(/\.png$/, '-access.png') });
    await page.evaluate(() => window.__needmap.setVariable('need_score'));
    const gone = await page.evaluate(() => document.querySelector('#area-panel .area-access') === null && document.querySelector('#legend').dataset.variable === 'need_score');
    check('back to need score: no access block, need legend', gone);

    // Catchments: every area coloured by the palette index of its nearest premises.
    await page.evaluate((k) => window.__needmap.setAccess(k, 15), kind);
    await page.evaluate(() => window.__needmap.setVariable('access_catchment'));
    await waitAccess('access_catchment', `${kind}|15`);
    const catch_ = await page.evaluate((n) => {
      const map = window.__needmap.map;
      const idx = [];
      for (let id = 0; id < n; id++) idx.push(map.getFeatureState({ source: 'areas', sourceLayer: 'areas', id }).access_catchment);
      return {
        idx,
        paint: JSON.stringify(map.getPaintProperty('areas-fill', 'fill-color')),
        text: document.querySelector('#legend').innerText,
        palette: document.querySelectorAll('#legend .legend-palette .swatch').length,
      };
    }, acc.areas.length);
    const withNearest = acc.areas.map((a, i) => [a.nearest, catch_.idx[i]]);
    check(
      'catchments set feature-state on every area',
      withNearest.every(([near, i]) => (near ? Number.isInteger(i) && i >= 0 : i === null)),
      JSON.stringify(catch_.idx.slice(0, 20)),
    );
    const byPremises = new Map();
    for (const [near, i] of withNearest) if (near) byPremises.set(near, [...(byPremises.get(near) ?? []), i]);
    check('areas of one catchment share a colour', [...byPremises.values()].every((l) => l.every((i) => i === l[0])));
    // The palette has 11 colours: up to 11 catchments all differ.
    if (byPremises.size <= 11) {
      check('every catchment has its own colour', new Set([...byPremises.values()].map((l) => l[0])).size === byPremises.size);
    }
    check('catchments are drawn from feature-state', catch_.paint.includes('access_catchment'), catch_.paint.slice(0, 120));
    check('the catchment legend explains the colours', catch_.text.includes('served most quickly by one') && catch_.text.includes(`${acc.premises} premises`), catch_.text.slice(0, 300));
    await page.evaluate(() => new Promise((r) => { const m = window.__needmap.map; m.once('idle', r); m.triggerRepaint(); }));
    await page.screenshot({ path: shot.replace(/\.png$/, '-catchments.png') });
    await page.evaluate(() => window.__needmap.setVariable('need_score'));
  }

  // Travel-time bands of one premises: three bands drawn, the legend block, Clear.
  const premises = await (await fetch(`${base}/api/premises`)).json();
  const target = premises.features.find((f) => f.properties.kind === 'social_work_office') ?? premises.features[0];
  if (target) {
    const pid = String(target.properties.premises_id);
    const iso = await (await fetch(`${base}/api/premises/${encodeURIComponent(pid)}/isochrones?bands_min=5,10,15`)).json();
    await page.evaluate((id) => window.__needmap.showIsochrones(id), pid);
    const bands = await page.evaluate(() => {
      const map = window.__needmap.map;
      const f = map.queryRenderedFeatures({ layers: ['isochrones-fill'] });
      const block = document.querySelector('#isochrones');
      const order = map.getStyle().layers.map((l) => l.id);
      return {
        minutes: [...new Set(f.map((x) => x.properties.minutes))].sort((a, b) => a - b),
        state: block.dataset.state,
        id: block.dataset.premisesId,
        text: block.innerText,
        above: order.indexOf('isochrones-fill') > order.indexOf('areas-fill') && order.indexOf('isochrones-fill') < order.indexOf('premises-circles'),
      };
    });
    check('the API gives three bands', iso.features?.length === 3, String(iso.features?.length));
    check('showIsochrones draws three band features', JSON.stringify(bands.minutes) === '[5,10,15]', JSON.stringify(bands.minutes));
    check('bands lie above the areas and below the premises', bands.above);
    check(
      'the bands legend names the premises, areas and method',
      bands.state === 'loaded' && bands.id === pid && bands.text.includes(`Within 5 / 10 / 15 min of ${target.properties.name}`) && /km²/.test(bands.text) && bands.text.includes(iso.method ?? 'Travel'),
      bands.text.slice(0, 300),
    );
    await page.screenshot({ path: shot.replace(/\.png$/, '-isochrones.png') });
    // The popup button draws the bands of the premises clicked.
    const pt = await page.evaluate(() => {
      const map = window.__needmap.map;
      const r = map.getCanvas().getBoundingClientRect();
      const left = document.querySelector('#controls').getBoundingClientRect().right + 30;
      for (const f of map.queryRenderedFeatures({ layers: ['premises-circles'] })) {
        const p = map.project(f.geometry.coordinates);
        const x = p.x + r.left;
        const y = p.y + r.top;
        if (x > left && x < r.right - 80 && y > r.top + 120 && y < r.bottom - 120) {
          const top = map.queryRenderedFeatures([p.x, p.y], { layers: ['premises-circles'] })[0];
          if (top) return { x, y, id: String(top.properties.premises_id) };
        }
      }
      return null;
    });
    if (pt) {
      await page.mouse.click(pt.x, pt.y);
      await page.locator('.premises-popup button[data-action="isochrones"]').click();
      await page.waitForFunction((id) => { const b = document.querySelector('#isochrones'); return b.dataset.premisesId === id && b.dataset.state !== 'loading'; }, pt.id, { timeout: 30_000 });
      const st = await page.evaluate(() => document.querySelector('#isochrones').dataset.state);
      check('the popup button draws that premises\' bands', st === 'loaded', `${pt.id}: ${st}`);
      await page.keyboard.press('Escape');
    }
    await page.locator('#isochrones-clear').click();
    await page.evaluate(() => new Promise((r) => { const m = window.__needmap.map; m.once('idle', r); m.triggerRepaint(); }));
    const cleared = await page.evaluate(() => ({
      hidden: document.querySelector('#isochrones').hidden,
      n: window.__needmap.map.queryRenderedFeatures({ layers: ['isochrones-fill'] }).length,
    }));
    check('Clear removes the bands', cleared.hidden && cleared.n === 0, JSON.stringify(cleared));
  }

  // Opening hours: the hours-aware access at an hour of the week (slider), the hours gap,
  // the recommended extensions, and the week heatmaps of an area and of a premises.
  const hoursKind = kinds.includes('social_work_office') ? 'social_work_office' : kinds[0];
  if (hoursKind) {
    const idle = () => page.evaluate(() => new Promise((r) => { const m = window.__needmap.map; m.once('idle', r); m.triggerRepaint(); }));
    const waitHour = (h) =>
      page.waitForFunction(
        (h) => {
          const s = window.__needmap.hoursState();
          return s.state === 'error' || (s.shownHour === h && s.state === 'loaded' && document.querySelector('#legend').dataset.state === 'loaded');
        },
        h,
        { timeout: 30_000 },
      );
    const scores = (n) =>
      page.evaluate((n) => {
        const map = window.__needmap.map;
        const out = [];
        for (let id = 0; id < n; id++) out.push(map.getFeatureState({ source: 'areas', sourceLayer: 'areas', id }).hours_score_k ?? null);
        return out;
      }, n);
    await page.evaluate((k) => window.__needmap.setHoursKind(k, 15, null), hoursKind);
    await page.locator('#variable-hours_access').check();
    await page.waitForFunction(() => document.querySelector('#legend').dataset.variable === 'hours_access' || document.querySelector('#legend').dataset.state === 'error', null, { timeout: 30_000 });
    // A weekday 10:00 through the slider itself (Monday 10:00-11:00 = slot 10).
    await page.locator('#hours-hour').fill('10');
    await waitHour(10);
    const nAreas = meta.areas;
    const day = await scores(nAreas);
    const open10 = await page.evaluate(() => ({ text: document.querySelector('#hours-open').innerText, label: document.querySelector('#hours-label').textContent, legend: document.querySelector('#legend').innerText }));
    const api10 = await (await fetch(`${base}/api/hours/access?kind=${hoursKind}&hour=10&threshold_min=15`)).json();
    const apiByArea = new Map(api10.areas.map((a) => [a.area_id, a.score]));
    const attrs = await (await fetch(`${base}/api/areas?geometry=false`)).json();
    const matches = attrs.areas.every((a, id) => {
      const want = apiByArea.get(a.area_id);
      return want === null || want === undefined ? day[id] === null : Math.abs(day[id] - want * 1000) < 1e-9;
    });
    check('the hour slider at Mon 10:00 colours areas by the hours-aware score', day.some((v) => v > 0) && matches && open10.label === 'Mon 10:00–11:00', `${day.filter((v) => v > 0).length} positive; label ${open10.label}`);
    // A weekday 21:00 (Tuesday 21:00-22:00 = slot 45): social work offices are all closed.
    await page.locator('#hours-hour').fill('45');
    await waitHour(45);
    const night = await scores(nAreas);
    const open21 = await page.evaluate(() => ({ text: document.querySelector('#hours-open').innerText, legend: document.querySelector('#legend').innerText, valuetext: document.querySelector('#hours-hour').getAttribute('aria-valuetext') }));
    if (hoursKind === 'social_work_office') {
      check('at Tue 21:00 every area scores 0 (nothing open) or null', night.every((v) => v === 0 || v === null) && night.some((v) => v === 0), JSON.stringify(night.slice(0, 10)));
    }
    check(
      'the "N of M premises open" text follows the slider',
      open10.text !== open21.text && new RegExp(`^${api10.premises_open.length} of ${api10.premises_total} premises open`).test(open10.text) && /^\d+ of \d+ premises open at Tue 21:00–22:00/.test(open21.text),
      `${open10.text} / ${open21.text}`,
    );
    check('the hours legend names "nothing open within reach" and the slider speaks its hour', open21.legend.includes('nothing open within reach') && open21.valuetext === 'Tuesday 21:00–22:00', `${open21.valuetext}: ${open21.legend.slice(0, 200)}`);
    // Keyboard: one hour back with the arrow key.
    await page.locator('#hours-hour').focus();
    await page.keyboard.press('ArrowLeft');
    await waitHour(44);
    const kb = await page.evaluate(() => window.__needmap.hoursState());
    check('the slider moves by keyboard', kb.hour === 44 && kb.label === 'Tue 20:00–21:00', JSON.stringify(kb));
    await idle();
    await page.screenshot({ path: shot.replace(/\.png$/, '-hours.png') });

    // Hours gap: each area's share of referrals arriving while nothing in reach is open.
    await page.evaluate(() => window.__needmap.setVariable('hours_gap'));
    await page.waitForFunction(() => { const l = document.querySelector('#legend'); return l.dataset.state === 'error' || (l.dataset.variable === 'hours_gap' && l.dataset.state === 'loaded'); }, null, { timeout: 30_000 });
    const gapApi = await (await fetch(`${base}/api/hours/gap?kind=${hoursKind}&threshold_min=15`)).json();
    const gap = await page.evaluate((n) => {
      const map = window.__needmap.map;
      const v = [];
      for (let id = 0; id < n; id++) v.push(map.getFeatureState({ source: 'areas', sourceLayer: 'areas', id }).hours_unmet_pct ?? null);
      const counts = Array.from(document.querySelectorAll('#legend .legend-count')).map((c) => Number(c.textContent.replace(/,/g, '')));
      return { v, total: counts.reduce((a, b) => a + b, 0), text: document.querySelector('#legend').innerText };
    }, nAreas);
    const gapBy = new Map(gapApi.areas.map((a) => [a.area_id, a.unmet_pct]));
    check(
      'the hours gap puts each area\'s unmet share (null when withheld) in feature-state',
      attrs.areas.every((a, id) => { const w = gapBy.get(a.area_id); return typeof w === 'number' ? Math.abs(gap.v[id] - w) < 1e-9 : gap.v[id] === null; }) && gap.total === nAreas,
      `${gap.total} in legend; ${gap.text.slice(0, 200)}`,
    );

    // Recommended extensions: rows in the hours section; choosing one opens its premises.
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.querySelector('#hours-extensions')?.dataset.state), null, { timeout: 30_000 });
    const ext = await page.evaluate(() => Array.from(document.querySelectorAll('#hours-extensions .extension-row')).map((b) => ({ text: b.textContent, id: b.dataset.premisesId })));
    check('the extensions list ranks extensions with what they cover', ext.length >= 1 && ext.every((r) => /^.+ — .+ \(\+[\d.]+ h\/week\): covers (\d[\d,]*|<10) referrals/.test(r.text)), JSON.stringify(ext.slice(0, 2)));
    if (ext.length) {
      await page.locator('#hours-extensions .extension-row').first().click();
      await page.waitForFunction((id) => document.querySelector(`.premises-popup[data-premises-id="${id}"] .premises-hours`)?.dataset.state === 'loaded', ext[0].id, { timeout: 30_000 });
      const pop = await page.evaluate((id) => {
        const box = document.querySelector(`.premises-popup[data-premises-id="${id}"]`);
        const map = window.__needmap.map;
        const b = map.getBounds();
        return {
          cells: box.querySelectorAll('.premises-hours svg rect.hm-cell').length,
          open: box.querySelectorAll('.premises-hours svg rect.hm-cell.hm-open').length,
          figure: box.querySelector('.premises-hours figure.heatmap')?.dataset.cells,
          caption: box.querySelector('.premises-hours figcaption')?.textContent ?? '',
          summary: box.querySelector('.premises-hours .heatmap-summary')?.textContent ?? '',
          bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
          zoom: map.getZoom(),
        };
      }, ext[0].id);
      const prem = premises.features.find((f) => String(f.properties.premises_id) === ext[0].id);
      const [plon, plat] = prem.geometry.coordinates;
      // The map may pan a little afterwards to keep the popup in view.
      const inView = plon > pop.bounds[0] && plon < pop.bounds[2] && plat > pop.bounds[1] && plat < pop.bounds[3];
      check('choosing an extension flies to its premises and opens it', inView && pop.zoom >= 12.99, `${plon},${plat} in ${pop.bounds} at z${pop.zoom}`);
      check('the premises heatmap draws 168 hours, open ones outlined, with a caption and summary', pop.cells === 168 && pop.figure === '168' && pop.open > 0 && pop.caption.includes('hatched = fewer than 10') && /\d+% of this catchment's referrals arrive while it is closed|withheld/.test(pop.summary), JSON.stringify(pop).slice(0, 400));
      await page.keyboard.press('Escape');
    }
    // The area panel's heatmap: the area's catchment demand against premises open in reach.
    await page.evaluate((id) => window.__needmap.selectArea(id), panel.id);
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.querySelector('#area-panel .area-hours')?.dataset.state), null, { timeout: 30_000 });
    const areaHeat = await page.evaluate(() => {
      const b = document.querySelector('#area-panel .area-hours');
      return {
        state: b.dataset.state,
        cells: b.querySelectorAll('svg rect.hm-cell').length,
        label: b.querySelector('svg').getAttribute('aria-label') ?? '',
        titles: b.querySelectorAll('svg rect.hm-cell > title').length,
        summary: b.querySelector('.heatmap-summary')?.textContent ?? '',
      };
    });
    check('the area panel heatmap draws 168 labelled hours with a text summary', areaHeat.state === 'loaded' && areaHeat.cells === 168 && areaHeat.titles === 168 && areaHeat.summary.length > 20 && areaHeat.label.includes(areaHeat.summary), JSON.stringify(areaHeat).slice(0, 300));
    await page.screenshot({ path: shot.replace(/\.png$/, '-heatmap.png') });
    await page.evaluate(() => window.__needmap.setVariable('need_score'));
  }

  // Signpost, "who can help here?": the toggle, a click in the region, the ranked list and
  // markers; a click outside the region and an unknown service give friendly messages.
  if (kinds.length) {
    await page.locator('#signpost-toggle').click();
    const on = await page.evaluate(() => ({ pressed: document.querySelector('#signpost-toggle').getAttribute('aria-pressed'), hidden: document.querySelector('#signpost-panel').hidden, mode: window.__needmap.signpostResults().mode }));
    check('"Who can help here?" turns on signpost mode', on.pressed === 'true' && !on.hidden && on.mode, JSON.stringify(on));
    // Show the whole region clear of the panels, then click lon -3.62, lat 55.70.
    await page.evaluate((b) => {
      const map = window.__needmap.map;
      const left = document.querySelector('#controls').getBoundingClientRect().right + 20;
      const right = window.innerWidth - document.querySelector('#signpost-panel').getBoundingClientRect().left + 20;
      map.fitBounds(b, { padding: { left, right, top: 80, bottom: 50 }, duration: 0 });
    }, meta.bbox_wgs84);
    await page.evaluate(() => new Promise((r) => { const m = window.__needmap.map; m.once('idle', r); m.triggerRepaint(); }));
    const target = await page.evaluate(([lon, lat]) => {
      const map = window.__needmap.map;
      const p = map.project([lon, lat]);
      const r = map.getCanvas().getBoundingClientRect();
      const x = r.left + p.x;
      const y = r.top + p.y;
      const hit = document.elementFromPoint(x, y);
      return { x, y, onMap: hit === map.getCanvas() || map.getCanvasContainer().contains(hit) };
    }, [-3.62, 55.7]);
    check('the signpost point is on the map, clear of the panels', target.onMap, JSON.stringify(target));
    await page.mouse.click(target.x, target.y);
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.querySelector('#signpost-results')?.dataset.state), null, { timeout: 30_000 });
    const sp = await page.evaluate(() => ({
      state: window.__needmap.signpostResults(),
      items: Array.from(document.querySelectorAll('#signpost-results .signpost-item')).map((li) => ({
        rank: Number(li.dataset.rank),
        t: Number(li.dataset.travelMin),
        status: li.querySelector('.signpost-status')?.textContent ?? '',
        name: li.querySelector('.signpost-name')?.textContent ?? '',
      })),
      markers: document.querySelectorAll('.signpost-marker').length,
    }));
    check('a click in signpost mode lists places that can help', sp.state.state === 'loaded' && sp.items.length >= 1, JSON.stringify(sp.state).slice(0, 300));
    check('the places are ranked 1, 2, 3... by travel time', sp.items.every((it, i) => it.rank === i + 1 && (i === 0 || it.t >= sp.items[i - 1].t)), JSON.stringify(sp.items.map((i) => [i.rank, i.t])));
    check('each place says whether it is open or closed', sp.items.every((it) => /^(Open|Closed) (now|then)( · (closes|opens) .+)?$|^Opening hours not known$/.test(it.status)), JSON.stringify(sp.items.map((i) => i.status)));
    check('each place has a numbered marker on the map', sp.markers === sp.items.length, `${sp.markers} markers, ${sp.items.length} places`);
    if (sp.state.lon !== null) {
      const api = await (await fetch(`${base}/api/signpost?lon=${sp.state.lon}&lat=${sp.state.lat}&at=${encodeURIComponent(sp.state.at.slice(0, 16))}&limit=10`)).json();
      check('the list is the API\'s answer for the point clicked', JSON.stringify(api.results.map((r) => r.premises_id)) === JSON.stringify(sp.state.results.map((r) => r.premises_id)) && api.area_id === sp.state.areaId, `${api.area_id} vs ${sp.state.areaId}`);
    }
    await page.screenshot({ path: shot.replace(/\.png$/, '-signpost.png') });
    // A click north of the region (zoomed out until such a point is clear of the panels).
    const outside = await page.evaluate((b) => {
      const map = window.__needmap.map;
      const r = map.getCanvas().getBoundingClientRect();
      const left = document.querySelector('#controls').getBoundingClientRect().right + 10;
      const right = document.querySelector('#signpost-panel').getBoundingClientRect().left - 10;
      const top = document.querySelector('#topbar').getBoundingClientRect().bottom + 10;
      const lon = (b[0] + b[2]) / 2;
      for (let k = 0; k < 4; k++) {
        for (let lat = b[3] + 0.005; lat < b[3] + 0.5; lat += 0.005) {
          const p = map.project([lon, lat]);
          const x = r.left + p.x;
          const y = r.top + p.y;
          if (x > left && x < right && y > top && y < r.bottom - 40) return { x, y, lat };
        }
        map.jumpTo({ zoom: map.getZoom() - 1 });
      }
      return null;
    }, meta.bbox_wgs84);
    if (outside) {
      await page.mouse.click(outside.x, outside.y);
      await page.waitForFunction(() => document.querySelector('#signpost-results')?.dataset.state === 'error', null, { timeout: 10_000 }).catch(() => {});
    }
    const outMsg = await page.evaluate(() => ({ state: document.querySelector('#signpost-results').dataset.state, text: document.querySelector('#signpost-results .signpost-error')?.textContent ?? '' }));
    check('a click outside the region shows a friendly message', outside !== null && outMsg.state === 'error' && /outside the area this map covers/.test(outMsg.text), JSON.stringify(outMsg));
    const bad = await page.evaluate(() => window.__needmap.signpost(-3.62, 55.7, { service: 'no_such_service' }));
    const badText = await page.evaluate(() => document.querySelector('#signpost-results .signpost-error')?.textContent ?? '');
    check('an unknown service shows a friendly message', bad.state === 'error' && /No place on this map offers/.test(badText), `${bad.error} | ${badText}`);
    await page.evaluate(() => window.__needmap.signpost(-3.62, 55.7, { service: null }));
    await page.locator('#signpost-panel .panel-close').click();
    const off = await page.evaluate(() => ({ mode: window.__needmap.signpostResults().mode, markers: document.querySelectorAll('.signpost-marker, .signpost-origin').length, hidden: document.querySelector('#signpost-panel').hidden }));
    check('closing the signpost panel leaves signpost mode and removes the markers', !off.mode && off.markers === 0 && off.hidden, JSON.stringify(off));
  }

  // Siting and scenarios (issue 7): run a siting from the panel, check the star markers, the
  // optimality gap and the newly covered areas against the API; save it as a scenario of
  // hubs, compare it with the baseline for kind "hub", then delete it from the list.
  if (kinds.length) {
    const idle = () => page.evaluate(() => new Promise((r) => { const m = window.__needmap.map; m.once('idle', r); m.triggerRepaint(); }));
    const scenarioName = `e2e-${Date.now().toString(36)}-${process.pid}`;
    try {
      await page.locator('#siting-panel > summary').click();
      await page.locator('#siting-p').fill('4');
      await page.locator('#siting-run').click();
      await page.waitForFunction(() => ['loaded', 'error'].includes(document.querySelector('#siting-result')?.dataset.state), null, { timeout: 60_000 });
      await idle();
      const st = await page.evaluate(() => window.__needmap.sitingState());
      const q = st.params ?? {};
      const sitingApi = await (
        await fetch(`${base}/api/siting?model=${q.model}&candidates=${(q.candidates ?? []).join(',')}&p=${q.p}&threshold_min=${q.thresholdMin}&weight=${q.weight}${q.baseline ? `&baseline=${q.baseline}` : ''}`)
      ).json();
      const ui = await page.evaluate(() => ({
        markers: Array.from(document.querySelectorAll('.siting-marker')).map((m) => Number(m.dataset.rank)).sort((a, b) => a - b),
        gap: document.querySelector('#siting-gap')?.textContent ?? '',
        equity: document.querySelectorAll('#siting-equity tbody tr').length,
        legendNew: Number(document.querySelector('#siting-legend li[data-class="new"] .legend-count')?.textContent.replace(/,/g, '') ?? NaN),
        visible: window.__needmap.map.getLayoutProperty('plan-fill', 'visibility'),
      }));
      check(
        'Run chooses p sites, drawn as numbered star markers',
        st.state === 'loaded' && st.sites.length === 4 && JSON.stringify(ui.markers) === '[1,2,3,4]' && JSON.stringify(st.sites.map((x) => x.premises_id)) === JSON.stringify(sitingApi.sites.map((x) => x.premises_id)),
        `${st.state} ${st.error ?? ''} ${JSON.stringify(ui.markers)}`,
      );
      const wantGap = sitingApi.proven_optimal ? /^Proven optimal$/ : /^Optimality gap ≤ [\d.]+ %$/;
      check('the optimality gap (or proven optimality) is shown', wantGap.test(ui.gap) && (sitingApi.proven_optimal || Number(ui.gap.match(/[\d.]+/)[0]) >= sitingApi.gap_pct), ui.gap);
      const classes = await page.evaluate((n) => {
        const map = window.__needmap.map;
        const out = [];
        for (let id = 0; id < n; id++) out.push(map.getFeatureState({ source: 'areas', sourceLayer: 'areas', id }).siting_class ?? null);
        return out;
      }, meta.areas);
      const attrs = await (await fetch(`${base}/api/areas?geometry=false`)).json();
      const newly = new Map(sitingApi.areas.map((a) => [a.area_id, a.newly_covered]));
      const nNew = sitingApi.areas.filter((a) => a.newly_covered).length;
      check(
        'areas newly covered by the sites are marked in feature-state as the API says',
        nNew > 0 && attrs.areas.every((a, id) => (classes[id] === 3) === (newly.get(a.area_id) === true)) && ui.legendNew === nNew && ui.visible === 'visible',
        `${nNew} newly covered in the API, ${classes.filter((c) => c === 3).length} on the map, legend ${ui.legendNew}, layer ${ui.visible}`,
      );
      check('the equity table gives coverage by SIMD quintile', ui.equity === 5, String(ui.equity));
      // The result's download links give the same sites as a file.
      const dl = await page.evaluate(async () => {
        const links = Array.from(document.querySelectorAll('#siting-result .downloads a'));
        const csv = links.find((a) => a.dataset.format === 'csv' && a.dataset.table === 'sites');
        const gpkg = links.find((a) => a.dataset.format === 'gpkg' && a.dataset.table === 'sites');
        if (!csv || !gpkg) return { links: links.length };
        const text = await (await fetch(csv.href)).text();
        const head = new Uint8Array(await (await fetch(gpkg.href)).arrayBuffer()).slice(0, 15);
        return { links: links.length, text, sqlite: String.fromCharCode(...head), name: csv.getAttribute('download') };
      });
      const rows = (dl.text ?? '').trim().split('\n');
      const idCol = rows[0]?.split(',').indexOf('premises_id') ?? -1;
      check(
        'the siting result downloads as CSV with the API\'s sites, and as a GeoPackage',
        dl.links === 6 && idCol >= 0 && JSON.stringify(rows.slice(1).map((r) => r.split(',')[idCol])) === JSON.stringify(sitingApi.sites.map((x) => x.premises_id)) && dl.sqlite === 'SQLite format 3' && /\.csv$/.test(dl.name ?? ''),
        JSON.stringify({ links: dl.links, head: rows[0], sqlite: dl.sqlite, name: dl.name }),
      );
      // Every star sits on its site: the marker's centre is where the map projects the site.
      const placed = await page.evaluate((sites) => {
        const map = window.__needmap.map;
        const box = map.getContainer().getBoundingClientRect();
        return Array.from(document.querySelectorAll('.siting-marker')).map((m) => {
          const s = sites[Number(m.dataset.rank) - 1];
          const p = map.project([s.lon, s.lat]);
          const r = m.getBoundingClientRect();
          return Math.hypot(r.left + r.width / 2 - (box.left + p.x), r.top + r.height / 2 - (box.top + p.y));
        });
      }, sitingApi.sites);
      check('each star marker sits on its site (within 3 px)', placed.length === 4 && placed.every((d) => d <= 3), JSON.stringify(placed.map((d) => Math.round(d))));
      // A site's popup, from a marker clear of the panels.
      const mk = await page.evaluate(() => {
        for (const m of document.querySelectorAll('.siting-marker')) {
          const r = m.getBoundingClientRect();
          const x = r.left + r.width / 2;
          const y = r.top + r.height / 2;
          if (m.contains(document.elementFromPoint(x, y))) return { x, y, rank: Number(m.dataset.rank) };
        }
        return null;
      });
      if (mk) {
        await page.mouse.click(mk.x, mk.y);
        await page.waitForSelector('.siting-popup', { timeout: 10_000 }).catch(() => {});
        const popText = await page.evaluate(() => document.querySelector('.siting-popup')?.innerText ?? '');
        const site = sitingApi.sites[mk.rank - 1];
        check('a star marker opens its site\'s popup', popText.includes(site.name) && popText.includes('Areas served') && popText.includes(site.areas_served.toLocaleString('en-GB')), popText.slice(0, 200));
      } else {
        check('a star marker opens its site\'s popup', false, 'no marker clear of the panels');
      }
      await page.screenshot({ path: shot.replace(/\.png$/, '-siting.png') });

      // Save the sites as a scenario of hubs.
      await page.locator('#scenario-name').fill(scenarioName);
      await page.locator('#scenario-save').click();
      await page.waitForFunction(() => ['saved', 'error'].includes(document.querySelector('#scenario-save-status')?.dataset.state), null, { timeout: 30_000 });
      const saved = await page.evaluate(() => window.__needmap.sitingState().save);
      const stored = await (await fetch(`${base}/api/scenarios/${scenarioName}`)).json();
      const wantEdits = sitingApi.sites.map((x) => ({ op: 'add', id: `HUB-${x.premises_id}`, kind: 'hub', lon: x.lon, lat: x.lat, name: `${x.name} (hub)` }));
      check(
        'saving stores a scenario adding one hub at each site',
        saved.state === 'saved' &&
          Array.isArray(stored.edits) &&
          stored.edits.length === wantEdits.length &&
          wantEdits.every((w, i) => Object.entries(w).every(([k, v]) => stored.edits[i][k] === v)),
        `${saved.state}: ${saved.message} | ${JSON.stringify(stored).slice(0, 200)}`,
      );

      // Compare baseline with it for kind "hub" (the selects are set by the save).
      await page.waitForFunction((n) => document.querySelector('#compare-b')?.value === n && document.querySelector('#compare-kind')?.value === 'hub', scenarioName, { timeout: 30_000 });
      await page.locator('#compare-run').click();
      await page.waitForFunction(() => ['loaded', 'error'].includes(document.querySelector('#compare-result')?.dataset.state), null, { timeout: 60_000 });
      await idle();
      const cmpApi = await (await fetch(`${base}/api/scenarios/compare?a=baseline&b=${scenarioName}&kind=hub&threshold_min=15`)).json();
      const cmp = await page.evaluate((n) => {
        const row = document.querySelector('#compare-table tr[data-metric="coverage_pct"]');
        const num = (td) => Number((td?.textContent ?? '').replace(/[^\d.]/g, ''));
        const map = window.__needmap.map;
        const gained = [];
        for (let id = 0; id < n; id++) gained.push(map.getFeatureState({ source: 'areas', sourceLayer: 'areas', id }).compare_class ?? null);
        return {
          state: window.__needmap.compareState(),
          rows: document.querySelectorAll('#compare-table tbody tr').length,
          a: num(row?.querySelector('td[data-side="a"]')),
          b: num(row?.querySelector('td[data-side="b"]')),
          better: row?.querySelector('td[data-side="change"]')?.classList.contains('diff-better') ?? false,
          quintiles: Array.from(document.querySelectorAll('.compare-quintiles')).map((t) => t.querySelectorAll('tbody tr').length),
          classes: gained,
          text: document.querySelector('#compare-result')?.innerText ?? '',
        };
      }, meta.areas);
      check(
        'the comparison renders side by side, the hubs covering at least as many as the baseline',
        cmp.state.state === 'loaded' && cmp.rows >= 6 && cmp.b >= cmp.a && Math.abs(cmp.b - cmpApi.b.coverage_pct) < 0.051 && Math.abs(cmp.a - Math.abs(cmpApi.a.coverage_pct)) < 0.051 && (cmp.b === cmp.a || cmp.better),
        `${cmp.state.state} ${cmp.state.error ?? ''} A ${cmp.a} B ${cmp.b} better ${cmp.better}: ${cmp.text.slice(0, 200)}`,
      );
      check('each scenario has a by-quintile table', JSON.stringify(cmp.quintiles) === '[5,5]', JSON.stringify(cmp.quintiles));
      const gainedApi = new Map(cmpApi.areas.map((a) => [a.area_id, a.covered_b && !a.covered_a]));
      check(
        'areas gained by the scenario are coloured through feature-state',
        attrs.areas.every((a, id) => (cmp.classes[id] === 3) === (gainedApi.get(a.area_id) === true)) && cmp.classes.some((c) => c === 3),
        `${cmp.classes.filter((c) => c === 3).length} gained on the map`,
      );
      await page.locator('#compare-result').scrollIntoViewIfNeeded();
      await page.screenshot({ path: shot.replace(/\.png$/, '-compare.png') });

      // Delete it from the list (with the confirmation step).
      await page.locator(`#scenario-list li[data-name="${scenarioName}"] .scenario-delete`).click();
      await page.locator(`#scenario-list li[data-name="${scenarioName}"] .scenario-confirm`).click();
      await page.waitForFunction((n) => !document.querySelector(`#scenario-list li[data-name="${n}"]`) && document.querySelector('#scenario-list')?.dataset.state === 'loaded', scenarioName, { timeout: 30_000 });
      const listed = await (await fetch(`${base}/api/scenarios`)).json();
      const after = await page.evaluate(() => window.__needmap.compareState());
      check('deleting the scenario removes it from the server and the list', !listed.scenarios.some((x) => x.name === scenarioName) && !after.list.includes(scenarioName), JSON.stringify(after.list));

      await page.locator('#siting-clear').click();
      const cleared = await page.evaluate(() => ({ markers: document.querySelectorAll('.siting-marker').length, st: window.__needmap.sitingState() }));
      check('Clear removes the sites and their markers', cleared.markers === 0 && cleared.st.state === 'idle', JSON.stringify(cleared).slice(0, 200));
    } finally {
      // Never leave a test scenario behind.
      const left = await fetch(`${base}/api/scenarios`).then((r) => r.json()).catch(() => null);
      if (left?.scenarios?.some((x) => x.name === scenarioName)) await fetch(`${base}/api/scenarios/${scenarioName}`, { method: 'DELETE' });
    }
  }

  // Boundary harmonisation (issue 6): compare teams with localities from the Boundaries
  // section, read the figures, the unit table and the matrix against the API, choose the
  // least co-terminous unit, hover over a split piece; then propose boundaries with the
  // designer, check the proposal, the before → after statement and the downloads; clear both.
  const sets = meta.boundary_sets ?? [];
  if (sets.includes('teams') && sets.includes('localities')) {
    const idle = () => page.evaluate(() => new Promise((r) => { const m = window.__needmap.map; m.once('idle', r); m.triggerRepaint(); }));
    const pct = (v) => `${(v * 100).toLocaleString('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`;
    await page.locator('#boundaries-panel > summary').click();
    await page.locator('#coterm-a').selectOption('teams');
    await page.locator('#coterm-b').selectOption('localities');
    await page.locator('#coterm-run').click();
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.querySelector('#coterm-result')?.dataset.state), null, { timeout: 120_000 });
    await idle();
    const ctApi = await (await fetch(`${base}/api/coterminosity?a=teams&b=localities`)).json();
    const piecesApi = await (await fetch(`${base}/api/coterminosity/splits?a=teams&b=localities`)).json();
    const ct = await page.evaluate(async () => {
      const map = window.__needmap.map;
      const src = map.getSource('coterm-splits');
      const data = src ? await src.getData() : { features: [] };
      const rendered = new Set(map.getLayer('coterm-splits-fill') ? map.queryRenderedFeatures({ layers: ['coterm-splits-fill'] }).map((f) => f.id) : []);
      return {
        state: window.__needmap.cotermState(),
        features: data.features.length,
        rendered: rendered.size,
        frag: document.querySelector('#coterm-fragmentation')?.textContent ?? '',
        firstRow: document.querySelector('#coterm-units tbody tr')?.dataset.code ?? null,
        lines: ['coterm-a-line', 'coterm-b-line'].map((id) => (map.getLayer(id) ? (map.getLayoutProperty(id, 'visibility') ?? 'visible') : null)),
        legend: document.querySelectorAll('#coterm-legend li').length,
        matrix: {
          label: document.querySelector('#coterm-matrix')?.getAttribute('aria-label') ?? '',
          caption: document.querySelector('#coterm-matrix caption')?.textContent ?? '',
          cols: Array.from(document.querySelectorAll('#coterm-matrix thead th[scope="col"]')).map((th) => th.dataset.b),
          cells: Array.from(document.querySelectorAll('#coterm-matrix tbody tr')).flatMap((tr) =>
            Array.from(tr.querySelectorAll('td[data-b]')).map((td) => ({ a: tr.dataset.a, b: td.dataset.b, text: td.textContent })),
          ),
          rowHeads: document.querySelectorAll('#coterm-matrix tbody th[scope="row"]').length,
        },
      };
    });
    const splitsA = ctApi.splits.filter((x) => x.side === 'a').length;
    check(
      'Compare draws both outlines and one split piece per split of A in the API',
      ct.state.state === 'loaded' && splitsA > 0 && ct.features === splitsA && ct.rendered > 0 && ct.lines.every((v) => v === 'visible') && ct.legend >= 6,
      `${ct.state.state} ${ct.state.error ?? ''}: ${ct.features} drawn (${ct.rendered} rendered), API ${splitsA}; lines ${JSON.stringify(ct.lines)}`,
    );
    check('the headline fragmentation is the API\'s', ct.frag === pct(ctApi.fragmentation) && ct.state.fragmentation === ctApi.fragmentation, `${ct.frag} vs ${pct(ctApi.fragmentation)}`);
    const minIndex = Math.min(...ctApi.units_a.map((u) => u.index));
    const worst = ctApi.units_a.filter((u) => u.index === minIndex).map((u) => u.code);
    check('the unit table starts with the least co-terminous unit', worst.includes(ct.firstRow), `${ct.firstRow} vs ${worst.join(',')} (index ${minIndex})`);
    const cellApi = new Map(ctApi.matrix.map((c) => [`${c.a}|${c.b}`, c]));
    const filled = ct.matrix.cells.filter((c) => c.text.trim() && c.text !== 'none');
    check(
      'the intersection matrix is a labelled table of unit codes with the API\'s populations',
      ct.matrix.label.includes('teams') && ct.matrix.caption.length > 0 && ct.matrix.rowHeads > 0 && ct.matrix.cols.length > 0 && filled.length > 0 &&
        filled.every((c) => cellApi.has(`${c.a}|${c.b}`) && c.text === Math.round(cellApi.get(`${c.a}|${c.b}`).population).toLocaleString('en-GB')) &&
        ct.matrix.cells.filter((c) => !cellApi.has(`${c.a}|${c.b}`)).every((c) => c.text === 'none'),
      JSON.stringify(ct.matrix).slice(0, 300),
    );

    // Choose the worst unit in the table: the map fits it (its split pieces all in view).
    await page.locator('#coterm-units tbody tr:first-child .coterm-unit').click();
    await page.waitForFunction((code) => window.__needmap.cotermState().selected === code, ct.firstRow, { timeout: 10_000 }).catch(() => {});
    await idle();
    const mine = piecesApi.features.filter((f) => f.properties.unit === ct.firstRow);
    const focus = await page.evaluate((pieces) => {
      const map = window.__needmap.map;
      const b = map.getBounds();
      const pts = pieces.flatMap((f) => (f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates).flat(2));
      return {
        selected: window.__needmap.cotermState().selected,
        filter: JSON.stringify(map.getFilter('coterm-selected')),
        row: document.querySelector('#coterm-units tbody tr[aria-current="true"]')?.dataset.code ?? null,
        inView: pts.every(([x, y]) => b.contains([x, y])),
      };
    }, mine);
    check(
      'choosing a unit in the table highlights it and fits the map to it',
      focus.selected === ct.firstRow && focus.row === ct.firstRow && focus.filter.includes(ct.firstRow) && mine.length > 0 && focus.inView,
      JSON.stringify(focus),
    );

    // Hover over a split piece clear of the panels (and of premises, whose hover comes first).
    const spot = await page.evaluate(() => {
      const map = window.__needmap.map;
      const r = map.getCanvas().getBoundingClientRect();
      const left = document.querySelector('#controls').getBoundingClientRect().right + 12;
      const top = document.querySelector('#topbar').getBoundingClientRect().bottom + 12;
      for (let y = top; y < r.bottom - 60; y += 17) {
        for (let x = left; x < r.right - 80; x += 17) {
          const p = [x - r.left, y - r.top];
          if (map.queryRenderedFeatures([[p[0] - 8, p[1] - 8], [p[0] + 8, p[1] + 8]], { layers: ['premises-circles'] }).length) continue;
          const f = map.queryRenderedFeatures(p, { layers: ['coterm-splits-fill'] })[0];
          if (f) return { x, y, unit: f.properties.unit, counterpart: f.properties.counterpart };
        }
      }
      return null;
    });
    if (spot) {
      await page.mouse.move(spot.x - 30, spot.y - 30);
      await page.mouse.move(spot.x, spot.y, { steps: 3 });
      await page.waitForFunction(() => !document.querySelector('#hover-info').hidden, null, { timeout: 5_000 }).catch(() => {});
    }
    const hover = await page.evaluate(() => document.querySelector('#hover-info')?.textContent ?? '');
    check('hovering over a split piece says unit → counterpart and share', spot !== null && hover.includes(`${spot.unit} → ${spot.counterpart}: `) && /\d %/.test(hover), `${JSON.stringify(spot)} ${hover}`);
    await page.mouse.move(5, 790);
    await page.locator('#coterm-result').scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot.replace(/\.png$/, '-coterminosity.png') });

    // The designer: units nested in councils, following localities, against today's teams.
    await page.locator('#designer-panel > summary').click();
    await page.locator('#design-parent').selectOption('council_code');
    await page.locator('#design-target').selectOption('localities');
    await page.locator('#design-current').selectOption('teams');
    await page.locator('#design-tolerance').fill('20');
    await page.locator('#design-balance').selectOption('population');
    await page.locator('#design-run').click();
    await page.waitForFunction(() => ['loaded', 'error'].includes(document.querySelector('#design-result')?.dataset.state), null, { timeout: 120_000 });
    await idle();
    const dApi = await (await fetch(`${base}/api/design?parent=council_code&target=localities&current=teams&tolerance=0.2&balance=population`)).json();
    const ds = await page.evaluate(async () => {
      const map = window.__needmap.map;
      const src = map.getSource('design-units');
      const data = src ? await src.getData() : { features: [] };
      const st = window.__needmap.designState();
      const text = async (u) => (u ? await (await fetch(u)).text() : '');
      return {
        state: st,
        features: data.features.length,
        rendered: new Set(map.getLayer('design-fill') ? map.queryRenderedFeatures({ layers: ['design-fill'] }).map((f) => f.properties.unit_id) : []).size,
        verdict: document.querySelector('#design-verdict')?.textContent ?? '',
        verdictCls: document.querySelector('#design-verdict')?.dataset.verdict ?? '',
        ceiling: document.querySelector('#design-ceiling')?.textContent ?? '',
        csv: await text(document.querySelector('#design-download-csv')?.getAttribute('href')),
        csvName: document.querySelector('#design-download-csv')?.getAttribute('download') ?? '',
        geojson: await text(document.querySelector('#design-download-geojson')?.getAttribute('href')),
        overlay: document.querySelector('#plan-overlay')?.dataset.overlay ?? null,
        splitsHidden: map.getLayer('coterm-splits-fill') ? map.getLayoutProperty('coterm-splits-fill', 'visibility') === 'none' : true,
      };
    });
    check(
      'Propose draws the API\'s proposed units as a layer (the comparison gives way)',
      ds.state.state === 'loaded' && dApi.features.length > 0 && ds.features === dApi.features.length && ds.rendered === dApi.features.length && ds.overlay === 'design' && ds.splitsHidden,
      `${ds.state.state} ${ds.state.error ?? ''}: ${ds.features} in the source, ${ds.rendered} rendered, API ${dApi.features.length}; overlay ${ds.overlay}`,
    );
    const before = dApi.coterminosity_before;
    const after = dApi.coterminosity_after;
    check(
      'the page says after ≥ before with the API\'s figures, and the ceiling',
      after >= before && ['better', 'same'].includes(ds.verdictCls) && ds.verdict.startsWith('After ≥ before') && ds.verdict.includes(`${pct(before)} before → ${pct(after)} after`) && ds.ceiling.includes(pct(dApi.ceiling)),
      `${ds.verdictCls}: ${ds.verdict} | ${ds.ceiling} (API ${before} → ${after}, ceiling ${dApi.ceiling})`,
    );
    const csvLines = ds.csv.trim().split(/\r?\n/);
    let geo = null;
    try {
      geo = JSON.parse(ds.geojson);
    } catch {
      // checked below
    }
    check(
      'the downloads hold the proposal (GeoJSON) and the area → unit lookup (CSV)',
      csvLines[0] === 'area_id,unit_id' && csvLines.length === dApi.lookup.length + 1 && csvLines[1] === `${dApi.lookup[0].area_id},${dApi.lookup[0].unit_id}` && ds.csvName.endsWith('.csv') &&
        geo?.type === 'FeatureCollection' && geo.features.length === dApi.features.length,
      `${csvLines.length} CSV lines (${csvLines[0]}), ${geo?.features?.length} features`,
    );
    await page.locator('#design-result').scrollIntoViewIfNeeded();
    await page.screenshot({ path: shot.replace(/\.png$/, '-design.png') });

    await page.locator('#design-clear').click();
    await page.locator('#coterm-clear').click();
    const gone = await page.evaluate(() => {
      const map = window.__needmap.map;
      const ids = map.getStyle().layers.map((l) => l.id).filter((id) => id.startsWith('coterm-') || id.startsWith('design-'));
      return {
        ids,
        sources: ['coterm-splits', 'design-units'].filter((s) => map.getSource(s)),
        coterm: window.__needmap.cotermState().state,
        design: window.__needmap.designState().state,
        plan: map.getLayoutProperty('plan-fill', 'visibility'),
        note: document.querySelector('#plan-overlay').hidden,
      };
    });
    check('Clear removes the boundary layers and results', gone.ids.length === 0 && gone.sources.length === 0 && gone.coterm === 'idle' && gone.design === 'idle' && gone.plan === 'none' && gone.note, JSON.stringify(gone));
  }

  // Trends and anticipatory need (issue 10): the Trend layer against /api/trends, the period
  // slider against each period's counts, the hot spots legend, projected demand against
  // /api/projection, the early-warning and rising lists against the API, the area panel's
  // Trend block. The page asks with the workspace's defaults (no period or group).
  {
    const idle = () => page.evaluate(() => new Promise((r) => { const m = window.__needmap.map; m.once('idle', r); m.triggerRepaint(); }));
    const waitTrends = (v, key) =>
      page.waitForFunction(
        ([v, key]) => {
          const l = document.querySelector('#legend');
          return l.dataset.state === 'error' || (l.dataset.variable === v && l.dataset.state === 'loaded' && l.dataset.trends === key);
        },
        [v, key],
        { timeout: 120_000 },
      );
    const stateOf = (key, n) =>
      page.evaluate(
        ([key, n]) => {
          const map = window.__needmap.map;
          const out = [];
          for (let id = 0; id < n; id++) {
            const v = map.getFeatureState({ source: 'areas', sourceLayer: 'areas', id })[key];
            out.push(v === undefined ? null : v);
          }
          return out;
        },
        [key, n],
      );
    const legendRows = () =>
      page.evaluate(() => ({
        keys: Array.from(document.querySelectorAll('#legend li')).map((li) => li.dataset.class ?? ''),
        counts: Array.from(document.querySelectorAll('#legend .legend-count')).map((c) => Number(c.textContent.replace(/,/g, ''))),
        text: document.querySelector('#legend').innerText,
        error: document.querySelector('#legend').dataset.state === 'error' ? document.querySelector('#legend').innerText : null,
        paint: JSON.stringify(window.__needmap.map.getPaintProperty('areas-fill', 'fill-color')),
      }));
    // A count as the page keeps it: numbers, "<N" as sent, any other string as "[c]", null when missing.
    const asState = (c) => (typeof c === 'number' ? c : typeof c === 'string' && c.trim() ? (/^<\s*\d/.test(c.trim()) ? c.trim() : '[c]') : null);
    const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
    const spoken = (p) => {
      const m = /^(\d{4})-(\d{2})$/.exec(p);
      if (m) return `${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
      const q = /^(\d{4})-?Q([1-4])$/i.exec(p);
      if (q) return `Q${q[2]} ${q[1]} (${MONTHS[(q[2] - 1) * 3]} to ${MONTHS[(q[2] - 1) * 3 + 2]})`;
      return p;
    };
    const tAttrs = await (await fetch(`${base}/api/areas?geometry=false`)).json();
    const nT = tAttrs.areas.length;
    const trendsRes = await fetch(`${base}/api/trends`);
    const trendsApi = trendsRes.ok ? await trendsRes.json() : { periods: [], areas: [], rising: [] };
    check('GET /api/trends answers with periods and areas', trendsRes.ok && trendsApi.periods.length >= 2 && trendsApi.areas.length > 0, `${trendsRes.status}: ${trendsApi.periods.length} periods, ${trendsApi.areas.length} areas`);
    const tBy = new Map(trendsApi.areas.map((a) => [a.area_id, a]));

    // Trend: every area's direction in the feature-state, the legend's counts as the API's.
    await page.locator('#variable-trend').check();
    await waitTrends('trend', 'trend');
    const dirs = await stateOf('trend_direction', nT);
    const wantDirs = tAttrs.areas.map((a) => { const d = tBy.get(a.area_id)?.direction; return ['rising', 'falling', 'none'].includes(d) ? d : null; });
    const tl = await legendRows();
    const nDir = (d) => wantDirs.filter((x) => x === d).length;
    check(
      'choosing Trend colours areas by direction: feature-state = /api/trends',
      tl.error === null && tl.paint.includes('trend_direction') && dirs.every((d, i) => d === wantDirs[i]) && wantDirs.some((d) => d !== null),
      `${tl.error ?? ''} ${dirs.filter((d, i) => d !== wantDirs[i]).length} differ`,
    );
    check(
      'the Trend legend counts rising, no trend and falling as the API',
      JSON.stringify(tl.keys.slice(0, 3)) === '["rising","none","falling"]' && tl.counts[0] === nDir('rising') && tl.counts[1] === nDir('none') && tl.counts[2] === nDir('falling') && tl.counts.reduce((a, b) => a + b, 0) === nT,
      `${JSON.stringify(tl.keys)} ${JSON.stringify(tl.counts)}`,
    );
    // Hover over an area with a known direction, clear of the panels and premises: arrow and q.
    const spotT = await page.evaluate(() => {
      const map = window.__needmap.map;
      const r = map.getCanvas().getBoundingClientRect();
      const left = document.querySelector('#controls').getBoundingClientRect().right + 12;
      const top = document.querySelector('#topbar').getBoundingClientRect().bottom + 12;
      const area = document.querySelector('#area-panel');
      const right = area && !area.hidden ? area.getBoundingClientRect().left - 12 : r.right - 80;
      for (let y = top; y < r.bottom - 60; y += 23) {
        for (let x = left; x < right; x += 23) {
          const p = [x - r.left, y - r.top];
          if (map.queryRenderedFeatures([[p[0] - 8, p[1] - 8], [p[0] + 8, p[1] + 8]], { layers: ['premises-circles'] }).length) continue;
          const f = map.queryRenderedFeatures(p, { layers: ['areas-fill'] })[0];
          if (f && typeof f.id === 'number' && map.getFeatureState({ source: 'areas', sourceLayer: 'areas', id: f.id }).trend_direction) return { x, y, id: f.properties.area_id };
        }
      }
      return null;
    });
    if (spotT) {
      await page.mouse.move(spotT.x - 20, spotT.y - 20);
      await page.mouse.move(spotT.x, spotT.y, { steps: 3 });
      await page.waitForFunction(() => !document.querySelector('#hover-info').hidden, null, { timeout: 5_000 }).catch(() => {});
    }
    const hoverT = await page.evaluate(() => document.querySelector('#hover-info')?.textContent ?? '');
    const dirT = spotT ? tBy.get(spotT.id)?.direction : null;
    const arrow = { rising: '↑', falling: '↓', none: '→' }[dirT] ?? '?';
    check('hovering over an area names its trend with an arrow and q', spotT !== null && hoverT.includes(spotT.id) && hoverT.includes(arrow) && /q = (\d\.\d{3}|< 0\.001|—)/.test(hoverT), `${JSON.stringify(spotT)} ${hoverT}`);
    await page.mouse.move(5, 790);
    await idle();
    await page.screenshot({ path: shot.replace(/\.png$/, '-trend.png') });

    // Referrals per period: the slider picks the period; each area's count in the feature-state.
    const periods = trendsApi.periods;
    for (const k of [0, Math.floor(periods.length / 2)]) {
      await page.locator('#trends-period').fill(String(k));
      await waitTrends('trend_counts', `trend_counts|${periods[k]}`);
      const got = await stateOf('trend_count', nT);
      const want = tAttrs.areas.map((a) => asState(tBy.get(a.area_id)?.counts?.[k]));
      const sl = await page.evaluate(() => ({ valuetext: document.querySelector('#trends-period').getAttribute('aria-valuetext'), label: document.querySelector('#trends-period-label').textContent, legend: document.querySelector('#legend').innerText }));
      const some = tAttrs.areas.slice(0, 3).map((a, i) => `${a.area_id}: ${JSON.stringify(got[i])} vs ${JSON.stringify(want[i])}`).join('; ');
      check(
        `the period slider at ${periods[k]} colours areas by that period's counts (= /api/trends)`,
        got.every((v, i) => v === want[i]) && want.some((v) => v !== null) && sl.valuetext === spoken(periods[k]),
        `${got.filter((v, i) => v !== want[i]).length} differ (${some}); aria-valuetext ${sl.valuetext}`,
      );
    }
    const cl = await legendRows();
    check('the per-period legend gives "<10" and "[c]" their own swatches', cl.keys[0] === 'below' && cl.keys.includes('withheld') && /fewer than \d+/.test(cl.text) && cl.text.includes('[c]') && cl.counts.reduce((a, b) => a + b, 0) === nT, `${JSON.stringify(cl.keys)} ${cl.text.slice(0, 200)}`);

    // Hot spots: the legend in order cold 99 % … hot 99 %, the classes as the API's.
    const hotApi = await (await fetch(`${base}/api/hotspots`)).json();
    await page.locator('#variable-hotspots').check();
    await waitTrends('hotspots', 'hotspots');
    const hl = await legendRows();
    const hBy = new Map((hotApi.areas ?? []).map((a) => [a.area_id, a.class]));
    const hs = await stateOf('hotspot_class', nT);
    check(
      'the Hot spots legend appears, cold 99 % to hot 99 %, counting every area',
      hl.error === null && JSON.stringify(hl.keys) === JSON.stringify(['cold_99', 'cold_95', 'cold_90', 'not_significant', 'hot_90', 'hot_95', 'hot_99', 'nodata']) && hl.counts.reduce((a, b) => a + b, 0) === nT && /Hot spot, 99 % confidence/.test(hl.text),
      `${hl.error ?? ''} ${JSON.stringify(hl.keys)}`,
    );
    check('hot spot classes in the feature-state are the API\'s', hs.every((c, i) => c === (hBy.get(tAttrs.areas[i].area_id) ?? null)), `${hs.filter((c, i) => c !== (hBy.get(tAttrs.areas[i].area_id) ?? null)).length} differ`);
    await idle();
    await page.screenshot({ path: shot.replace(/\.png$/, '-hotspots.png') });

    // Emerging hot spots: the legend lists the categories present.
    const emApi = await (await fetch(`${base}/api/hotspots?emerging=true`)).json();
    await page.evaluate(() => window.__needmap.setVariable('emerging_hotspots'));
    await waitTrends('emerging_hotspots', 'emerging_hotspots');
    const el_ = await legendRows();
    const present = new Set((emApi.areas ?? []).map((a) => a.emerging).filter((c) => typeof c === 'string' && c));
    check('the Emerging hot spots legend lists the categories present', el_.error === null && el_.keys.filter((k) => k !== 'nodata').length === present.size && el_.keys.every((k) => k === 'nodata' || present.has(k)), `${JSON.stringify(el_.keys)} vs ${JSON.stringify([...present])}`);

    // Projected demand: the last horizon period first, then the first through its slider.
    const projApi = await (await fetch(`${base}/api/projection?horizon=3`)).json();
    const pBy = new Map((projApi.areas ?? []).map((a) => [a.area_id, a]));
    const pp = projApi.periods ?? [];
    await page.locator('#variable-projection').check();
    for (const j of [pp.length - 1, 0]) {
      if (j !== pp.length - 1) await page.locator('#projection-period').fill(String(j));
      await waitTrends('projection', `projection|${pp[j]}`);
      const got = await stateOf('projected', nT);
      const want = tAttrs.areas.map((a) => asState(pBy.get(a.area_id)?.projected?.[j]));
      const pl = await legendRows();
      check(
        `projected demand for ${pp[j]} in the feature-state equals /api/projection`,
        pp.length > 0 && got.every((v, i) => v === want[i]) && want.some((v) => v !== null) && pl.text.includes('projected, 95 % interval in the area panel'),
        `${got.filter((v, i) => v !== want[i]).length} differ; ${pl.text.slice(0, 200)}`,
      );
    }
    await idle();
    await page.screenshot({ path: shot.replace(/\.png$/, '-projection.png') });

    // The Trends section's lists against the API.
    const ewApi = await (await fetch(`${base}/api/early-warning?horizon=3`)).json();
    const ts = await page.evaluate(() => window.__needmap.openTrends());
    const lists = await page.evaluate(() => ({
      warnings: Array.from(document.querySelectorAll('#early-warning .area-row')).map((b) => ({ id: b.dataset.areaId, text: b.textContent })),
      wState: document.querySelector('#early-warning').dataset.state,
      rising: Array.from(document.querySelectorAll('#rising-areas .area-row')).map((b) => b.dataset.areaId),
    }));
    const reasonWords = { rate: 'high referral rate', growth: 'fast growth', hotspot: 'hot spot', emerging: 'emerging hot spot' };
    check(
      'the early-warning list matches /api/early-warning, reasons in words',
      lists.wState === 'loaded' && JSON.stringify(lists.warnings.map((w) => w.id)) === JSON.stringify((ewApi.areas ?? []).map((a) => a.area_id)) &&
        lists.warnings.every((w, i) => (ewApi.areas[i].reasons ?? []).every((r) => w.text.toLowerCase().includes(reasonWords[r] ?? r.replace(/_/g, ' ')))),
      `${lists.wState}: ${lists.warnings.length} listed, API ${(ewApi.areas ?? []).length}; ${JSON.stringify(lists.warnings.slice(0, 2))}`,
    );
    check('the rising areas are /api/trends\' first 10', JSON.stringify(lists.rising) === JSON.stringify((trendsApi.rising ?? []).slice(0, 10)) && JSON.stringify(ts.rising.areas) === JSON.stringify(lists.rising), JSON.stringify(lists.rising));

    // Choosing a listed area selects it and zooms to it; its panel has the Trend block.
    const listed = lists.warnings[0]?.id ?? lists.rising[0] ?? null;
    if (listed) {
      await page.locator(`#trends-controls .area-row[data-area-id="${listed}"]`).first().click();
      await page.waitForFunction((id) => { const p = document.querySelector('#area-panel'); return p.dataset.areaId === id && p.dataset.state === 'loaded'; }, listed, { timeout: 30_000 });
    } else {
      await page.evaluate((id) => window.__needmap.selectArea(id), panel.id);
    }
    await page.waitForFunction(() => document.querySelector('#area-panel .area-trend') !== null, null, { timeout: 30_000 }).catch(() => {});
    await idle();
    const chosen = listed ?? panel.id;
    const blk = await page.evaluate((id) => {
      const b = document.querySelector('#area-panel .area-trend');
      const map = window.__needmap.map;
      const f = map.querySourceFeatures('areas', { sourceLayer: 'areas', filter: ['==', ['get', 'area_id'], id] });
      const view = map.getBounds();
      return {
        id: document.querySelector('#area-panel').dataset.areaId,
        label: b?.querySelector('svg[role="img"]')?.getAttribute('aria-label') ?? '',
        bars: b ? b.querySelectorAll('svg rect.spark-bar').length : 0,
        text: b?.innerText ?? '',
        inView: f.length > 0 && f.some((x) => { const c = x.geometry.type === 'Polygon' ? x.geometry.coordinates[0][0] : x.geometry.coordinates[0][0][0]; return view.contains(c); }),
      };
    }, chosen);
    const row = tBy.get(chosen);
    const nonMissing = (row?.counts ?? []).filter((c) => c !== null && c !== '').length;
    check(
      'choosing a listed area selects it and zooms there; its panel shows the trend as an accessible sparkline',
      blk.id === chosen && (listed === null || blk.inView) && blk.label.startsWith('Referrals per') && blk.bars === nonMissing && /Direction/.test(blk.text) && /q\)/.test(blk.text) && /Projected/.test(blk.text),
      JSON.stringify(blk).slice(0, 400),
    );
    await page.screenshot({ path: shot.replace(/\.png$/, '-early-warning.png') });
    await page.evaluate(() => window.__needmap.setVariable('need_score'));
  }

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
