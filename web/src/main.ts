// needmap web map: wires the API, the map and the panels together.

import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';

import {
  Map as MlMap,
  NavigationControl,
  Popup,
  ScaleControl,
  setWorkerUrl,
  type FilterSpecification,
  type GeoJSONSource,
  type MapGeoJSONFeature,
  type MapMouseEvent,
} from 'maplibre-gl';
// The worker is a self-contained ES module: ship it as an asset next to the bundle.
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import type { FeatureCollection, Point } from 'geojson';

import {
  describeError,
  getArea,
  getAreas,
  getBoundaries,
  getEquity,
  getMeta,
  getPremises,
  searchAreas,
  type AreaCollection,
  type AreaDetail,
  type AreaProperties,
  type Bbox,
  type Meta,
  type PremisesCollection,
  type PremisesProperties,
  type SearchResult,
} from './api';
import { formatCount, formatRate, formatScore, humanize, isValidBbox } from './format';
import {
  DEFAULT_VARIABLE,
  NO_DATA_HATCH,
  buildLegend,
  fillColourExpression,
  noDataFilter,
  renderLegend,
  type Variable,
} from './legend';
import {
  byId,
  clearAreaPanel,
  el,
  premisesPopup,
  renderArea,
  renderAreaError,
  renderAreaLoading,
  renderBoundaryToggles,
  renderEquity,
  renderEquityMessage,
  renderFooter,
  renderHeader,
  renderLayerSwitcher,
  renderPremisesToggles,
  renderSearchResults,
  showStatus,
} from './panels';
import {
  HATCH_IMAGE,
  LYR_AREAS_FILL,
  LYR_AREAS_HOVER,
  LYR_AREAS_SELECTED,
  LYR_AREAS_SELECTED_CASING,
  LYR_PREMISES,
  OTHER_KIND_COLOUR,
  SRC_AREAS,
  SRC_PREMISES,
  areaLayers,
  baseStyle,
  boundaryLayer,
  boundaryLayerId,
  boundarySourceId,
  boundaryStyle,
  hatchPattern,
  highlightLayers,
  kindColours,
  premisesFilter,
  premisesLayer,
  selectedFilter,
} from './style';

// ---------------------------------------------------------------- test handle

export interface NeedmapHandle {
  /** The MapLibre map, once created. */
  map: MlMap | null;
  /** True once the areas source has loaded and the map is idle. */
  ready: boolean;
  /** Set when start-up failed (the page shows the same message). */
  error: string | null;
  /** Open the side panel for an area and highlight it. */
  selectArea: (areaId: string) => Promise<AreaDetail | null>;
  /** Switch the choropleth variable. */
  setVariable: (v: Variable) => void;
}

declare global {
  interface Window {
    __needmap: NeedmapHandle;
  }
}

const handle: NeedmapHandle = {
  map: null,
  ready: false,
  error: null,
  selectArea: (areaId) => selectArea(areaId),
  setVariable: (v) => applyVariable(v),
};
window.__needmap = handle;

setWorkerUrl(new URL(workerUrl, window.location.href).href);

// ---------------------------------------------------------------- state

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };
const reduceMotion = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;

let map: MlMap | null = null;
let meta: Meta | null = null;
let variable: Variable = DEFAULT_VARIABLE;
let areaProps: AreaProperties[] = [];
const areaById = new Map<string, AreaProperties>();
let selectedArea: string | null = null;
let selectAbort: AbortController | null = null;
let kindColour: Record<string, string> = {};
let hoveredId: string | number | null = null;
let popup: Popup | null = null;
const boundaryLoads = new Map<number, Promise<void>>();

let resolveLayers: () => void = () => {};
/** Resolves once the map has loaded and the area layers exist. */
const layersReady = new Promise<void>((r) => (resolveLayers = r));

const panel = byId('area-panel');
const legendEl = byId('legend');

// ---------------------------------------------------------------- helpers

function fail(message: string): void {
  handle.error = message;
  document.documentElement.dataset.state = 'error';
  showStatus(message);
}

/** Map padding that keeps fitted bounds clear of the floating panels. */
function fitPadding(): { top: number; bottom: number; left: number; right: number } {
  const w = window.innerWidth;
  const h = window.innerHeight;
  const pad = { top: 16, bottom: 16, left: 16, right: 16 };
  const top = byId('topbar').getBoundingClientRect();
  const foot = byId('footer').getBoundingClientRect();
  pad.top = Math.max(16, top.bottom + 12);
  pad.bottom = Math.max(16, h - foot.top + 12);
  if (w >= 900) {
    pad.left = byId('controls').getBoundingClientRect().right + 16;
    if (!panel.hidden) pad.right = w - panel.getBoundingClientRect().left + 16;
  }
  // Never ask for more padding than the canvas has room for.
  if (pad.left + pad.right > w * 0.8) pad.left = pad.right = 16;
  if (pad.top + pad.bottom > h * 0.8) pad.top = pad.bottom = 16;
  return pad;
}

function fitTo(b: Bbox, maxZoom?: number): void {
  if (!map || !isValidBbox(b)) return;
  map.fitBounds(b, { padding: fitPadding(), maxZoom, duration: reduceMotion ? 0 : 800 });
}

function setHash(areaId: string | null): void {
  const url = new URL(window.location.href);
  url.hash = areaId ? `area=${encodeURIComponent(areaId)}` : '';
  history.replaceState(null, '', url);
}

function hashArea(): string | null {
  const m = /^#area=(.+)$/.exec(window.location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

// ---------------------------------------------------------------- choropleth

function applyVariable(v: Variable): void {
  variable = v;
  const checked = document.querySelector<HTMLInputElement>(`#layer-switcher input[value="${v}"]`);
  if (checked && !checked.checked) checked.checked = true;
  if (!map || areaProps.length === 0 || !map.getLayer(LYR_AREAS_FILL)) return;
  const legend = buildLegend(v, areaProps);
  renderLegend(legendEl, legend);
  map.setPaintProperty(LYR_AREAS_FILL, 'fill-color', fillColourExpression(legend));
  map.setFilter('areas-nodata', noDataFilter(v));
}

function hoverText(p: AreaProperties): string {
  const name = p.name ? `${p.name} (${p.area_id})` : p.area_id;
  let value: string;
  switch (variable) {
    case 'need_score':
      value = `Need score ${formatScore(p.need_score)}`;
      break;
    case 'simd_decile':
      value = `SIMD decile ${p.simd_decile ?? '—'}`;
      break;
    case 'rate_per_1000':
      value = `${formatRate(p.rate_per_1000)} per 1,000 (referrals ${formatCount(p.referrals)})`;
      break;
  }
  return `${name}\n${value}`;
}

// ---------------------------------------------------------------- area selection

function closeArea(): void {
  selectedArea = null;
  selectAbort?.abort();
  selectAbort = null;
  if (map?.getLayer(LYR_AREAS_SELECTED)) {
    map.setFilter(LYR_AREAS_SELECTED, selectedFilter(null));
    map.setFilter(LYR_AREAS_SELECTED_CASING, selectedFilter(null));
  }
  clearAreaPanel(panel);
  setHash(null);
}

async function selectArea(areaId: string, opts: { bbox?: Bbox; focus?: boolean } = {}): Promise<AreaDetail | null> {
  await layersReady;
  if (!map) return null;
  selectedArea = areaId;
  const filter: FilterSpecification = selectedFilter(areaId);
  map.setFilter(LYR_AREAS_SELECTED, filter);
  map.setFilter(LYR_AREAS_SELECTED_CASING, filter);
  renderAreaLoading(panel, areaId, areaById.get(areaId)?.name ?? null, closeArea);
  setHash(areaId);
  if (opts.bbox) fitTo(opts.bbox, 14);
  if (opts.focus) byId('area-title').focus();

  selectAbort?.abort();
  const ac = new AbortController();
  selectAbort = ac;
  try {
    const detail = await getArea(areaId, ac.signal);
    if (selectedArea !== areaId) return null;
    renderArea(panel, detail, meta?.groups ?? [], closeArea);
    if (opts.focus) byId('area-title').focus();
    return detail;
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') return null;
    if (selectedArea === areaId) renderAreaError(panel, areaId, `Could not load area ${areaId}: ${describeError(e)}`, closeArea);
    return null;
  } finally {
    if (selectAbort === ac) selectAbort = null;
  }
}

// ---------------------------------------------------------------- map events

function existing(layers: string[]): string[] {
  return map ? layers.filter((l) => map!.getLayer(l)) : [];
}

function premisesAt(e: MapMouseEvent): MapGeoJSONFeature[] {
  if (!map) return [];
  const layers = existing([LYR_PREMISES]);
  if (!layers.length) return [];
  const r = 5;
  return map.queryRenderedFeatures(
    [
      [e.point.x - r, e.point.y - r],
      [e.point.x + r, e.point.y + r],
    ],
    { layers },
  );
}

function areaAt(e: MapMouseEvent): MapGeoJSONFeature | null {
  if (!map) return null;
  const layers = existing([LYR_AREAS_FILL]);
  if (!layers.length) return null;
  return map.queryRenderedFeatures(e.point, { layers })[0] ?? null;
}

function setHover(id: string | number | null): void {
  if (!map || id === hoveredId) return;
  if (hoveredId !== null) map.setFeatureState({ source: SRC_AREAS, id: hoveredId }, { hover: false });
  hoveredId = id;
  if (id !== null) map.setFeatureState({ source: SRC_AREAS, id }, { hover: true });
}

function showHoverInfo(text: string | null, x = 0, y = 0): void {
  const box = byId('hover-info');
  if (!text) {
    box.hidden = true;
    return;
  }
  box.textContent = text;
  box.hidden = false;
  const w = box.offsetWidth;
  const h = box.offsetHeight;
  const left = x + 16 + w > window.innerWidth ? x - 12 - w : x + 16;
  const top = y + 16 + h > window.innerHeight ? y - 12 - h : y + 16;
  box.style.left = `${Math.max(0, left)}px`;
  box.style.top = `${Math.max(0, top)}px`;
}

/** Pan the map so that an open popup is clear of the header, footer and panels. */
function keepPopupInView(m: MlMap, p: Popup): void {
  const r = p.getElement()?.getBoundingClientRect();
  if (!r) return;
  const pad = fitPadding();
  const minX = pad.left;
  const maxX = window.innerWidth - pad.right;
  const minY = pad.top;
  const maxY = window.innerHeight - pad.bottom;
  // How far the popup (with the map) must move to fit; prefer showing its top-left.
  let dx = 0;
  let dy = 0;
  if (r.right > maxX) dx = maxX - r.right;
  if (r.left + dx < minX) dx = minX - r.left;
  if (r.bottom > maxY) dy = maxY - r.bottom;
  if (r.top + dy < minY) dy = minY - r.top;
  if (dx || dy) m.panBy([-dx, -dy], { duration: reduceMotion ? 0 : 300 });
}

function wireMapEvents(m: MlMap): void {
  m.on('mousemove', (e) => {
    const prem = premisesAt(e)[0];
    const area = prem ? null : areaAt(e);
    m.getCanvas().style.cursor = prem || area ? 'pointer' : '';
    setHover(area?.id ?? null);
    if (prem) {
      const p = prem.properties as PremisesProperties;
      showHoverInfo(`${p.name}\n${humanize(p.kind)}`, e.point.x, e.point.y);
    } else if (area) {
      showHoverInfo(hoverText(area.properties as AreaProperties), e.point.x, e.point.y);
    } else {
      showHoverInfo(null);
    }
  });
  m.getCanvas().addEventListener('mouseleave', () => {
    setHover(null);
    showHoverInfo(null);
  });

  m.on('click', (e) => {
    const prem = premisesAt(e)[0];
    if (prem) {
      const p = prem.properties as PremisesProperties;
      const coords = (prem.geometry as Point).coordinates as [number, number];
      popup?.remove();
      popup = new Popup({ closeButton: true, maxWidth: '340px', focusAfterOpen: true })
        .setLngLat(coords)
        .setDOMContent(premisesPopup(p, kindColour[p.kind] ?? OTHER_KIND_COLOUR))
        .addTo(m);
      showHoverInfo(null);
      keepPopupInView(m, popup);
      return;
    }
    const area = areaAt(e);
    if (area) void selectArea((area.properties as AreaProperties).area_id);
  });

  // With a listener attached MapLibre does not log errors itself: show them in the page.
  m.on('error', (e) => {
    const msg = e.error?.message ?? 'unknown error';
    showStatus(`Map error: ${msg}`);
  });
}

// ---------------------------------------------------------------- layers

function addBaseLayers(m: MlMap): void {
  const img = hatchPattern(8, NO_DATA_HATCH, 2);
  m.addImage(HATCH_IMAGE, img, { pixelRatio: 1 });
  m.addSource(SRC_AREAS, { type: 'geojson', data: EMPTY, generateId: true });
  const initial = buildLegend(variable, []);
  for (const l of areaLayers(fillColourExpression(initial), noDataFilter(variable))) m.addLayer(l);
  for (const l of highlightLayers()) m.addLayer(l);
  m.addSource(SRC_PREMISES, { type: 'geojson', data: EMPTY });
}

async function loadAreas(m: MlMap, data: Promise<AreaCollection>): Promise<void> {
  const fc = await data;
  areaProps = fc.features.map((f) => f.properties ?? ({} as AreaProperties));
  areaById.clear();
  for (const p of areaProps) if (p && p.area_id) areaById.set(p.area_id, p);
  await (m.getSource(SRC_AREAS) as GeoJSONSource).setData(fc);
  applyVariable(variable);
}

async function loadPremises(m: MlMap, data: Promise<PremisesCollection>, metaKinds: readonly string[]): Promise<void> {
  const container = byId('premises-toggles');
  let fc: PremisesCollection;
  try {
    fc = await data;
  } catch (e) {
    renderPremisesToggles(container, [], {}, {}, () => {});
    showStatus(`Could not load premises: ${describeError(e)}`);
    throw e;
  }
  const counts: Record<string, number> = {};
  const kinds = [...metaKinds];
  for (const f of fc.features) {
    const k = f.properties?.kind ?? '';
    counts[k] = (counts[k] ?? 0) + 1;
    if (!kinds.includes(k)) kinds.push(k);
  }
  kindColour = kindColours(kinds);
  await (m.getSource(SRC_PREMISES) as GeoJSONSource).setData(fc);
  m.addLayer(premisesLayer(kindColour, kinds));
  renderPremisesToggles(container, kinds, kindColour, counts, (visible) => {
    m.setFilter(LYR_PREMISES, premisesFilter(visible));
    popup?.remove();
  });
}

function ensureBoundary(m: MlMap, i: number, name: string): Promise<void> {
  let p = boundaryLoads.get(i);
  if (!p) {
    p = getBoundaries(name)
      .then((fc) => (m.getSource(boundarySourceId(i)) as GeoJSONSource).setData(fc))
      .then(() => undefined)
      .catch((e: unknown) => {
        boundaryLoads.delete(i);
        showStatus(`Could not load boundaries “${name}”: ${describeError(e)}`);
        throw e;
      });
    boundaryLoads.set(i, p);
  }
  return p;
}

function setupBoundaries(m: MlMap, names: readonly string[]): Promise<void> {
  const on = (i: number): boolean => i === 0;
  names.forEach((_, i) => {
    m.addSource(boundarySourceId(i), { type: 'geojson', data: EMPTY });
    m.addLayer(boundaryLayer(i, on(i)), LYR_AREAS_HOVER);
  });
  renderBoundaryToggles(
    byId('boundary-toggles'),
    names,
    names.map((_, i) => boundaryStyle(i)),
    on,
    (i, visible) => {
      m.setLayoutProperty(boundaryLayerId(i), 'visibility', visible ? 'visible' : 'none');
      if (visible) ensureBoundary(m, i, names[i]).catch(() => {});
    },
  );
  return names.length ? ensureBoundary(m, 0, names[0]) : Promise.resolve();
}

// ---------------------------------------------------------------- search

function wireSearch(): void {
  const input = byId<HTMLInputElement>('search');
  const list = byId('search-results');
  let timer: number | undefined;
  let ac: AbortController | null = null;
  let last: SearchResult[] = [];

  const choose = (r: SearchResult): void => {
    list.hidden = true;
    input.value = r.name ? `${r.name} (${r.area_id})` : r.area_id;
    void selectArea(r.area_id, { bbox: r.bbox_wgs84, focus: true });
  };

  const run = async (q: string): Promise<void> => {
    ac?.abort();
    if (q.length < 2) {
      last = [];
      renderSearchResults(list, null, null, choose);
      return;
    }
    const mine = new AbortController();
    ac = mine;
    try {
      const res = await searchAreas(q, mine.signal);
      if (ac !== mine) return;
      last = res.results;
      renderSearchResults(list, last, last.length ? null : `No areas match “${q}”`, choose);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      last = [];
      renderSearchResults(list, null, `Search failed: ${describeError(e)}`, choose);
    }
  };

  input.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void run(input.value.trim()), 200);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      window.clearTimeout(timer);
      const q = input.value.trim();
      if (last.length && !list.hidden) choose(last[0]);
      else void run(q).then(() => (last.length === 1 ? choose(last[0]) : undefined));
    } else if (e.key === 'ArrowDown') {
      const first = list.querySelector<HTMLButtonElement>('button');
      if (first && !list.hidden) {
        e.preventDefault();
        first.focus();
      }
    } else if (e.key === 'Escape') {
      list.hidden = true;
    }
  });
  input.addEventListener('focus', () => {
    if (list.childElementCount) list.hidden = false;
  });
  list.addEventListener('keydown', (e) => {
    const buttons = Array.from(list.querySelectorAll<HTMLButtonElement>('button'));
    const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (e.key === 'ArrowDown' && i >= 0) {
      e.preventDefault();
      buttons[Math.min(i + 1, buttons.length - 1)].focus();
    } else if (e.key === 'ArrowUp' && i >= 0) {
      e.preventDefault();
      if (i === 0) input.focus();
      else buttons[i - 1].focus();
    } else if (e.key === 'Escape') {
      list.hidden = true;
      input.focus();
    }
  });
  document.addEventListener('click', (e) => {
    if (!(e.target instanceof Node) || !input.parentElement?.contains(e.target)) list.hidden = true;
  });
}

// ---------------------------------------------------------------- start-up

async function waitUntilIdleWithAreas(m: MlMap): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const idle = m.once('idle');
    m.triggerRepaint();
    await idle;
    if (m.isSourceLoaded(SRC_AREAS)) return;
  }
}

async function start(): Promise<void> {
  renderFooter(null);
  renderLayerSwitcher(byId('layer-switcher'), variable, applyVariable);
  legendEl.replaceChildren(el('p', { class: 'muted', text: 'Loading areas…' }));
  const equityTable = byId<HTMLTableElement>('equity-table');
  renderEquityMessage(equityTable, 'Loading…', 'loading');
  wireSearch();
  const toggle = byId('controls-toggle');
  toggle.addEventListener('click', () => {
    const open = document.body.classList.toggle('controls-open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !panel.hidden && panel.contains(document.activeElement)) closeArea();
  });

  // Start every request at once; the map waits only for the description.
  const metaP = getMeta();
  const areasP = getAreas();
  const premisesP = getPremises();
  // Avoid unhandled-rejection noise if start-up stops before these are awaited.
  areasP.catch(() => {});
  premisesP.catch(() => {});
  getEquity()
    .then((eq) => renderEquity(equityTable, eq))
    .catch((e: unknown) => renderEquityMessage(equityTable, `Could not load the equity table: ${describeError(e)}`, 'error'));

  try {
    meta = await metaP;
  } catch (e) {
    fail(`Could not load the workspace description: ${describeError(e)}`);
    return;
  }
  renderHeader(meta);
  renderFooter(meta);

  let m: MlMap;
  try {
    m = new MlMap({
      container: 'map',
      style: baseStyle(),
      ...(isValidBbox(meta.bbox_wgs84)
        ? { bounds: meta.bbox_wgs84, fitBoundsOptions: { padding: fitPadding() } }
        : { center: [-4.2, 56.8] as [number, number], zoom: 5 }),
      attributionControl: { compact: true },
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      maxPitch: 0,
      renderWorldCopies: false,
    });
  } catch (e) {
    fail(`The map could not start (WebGL is needed): ${describeError(e)}`);
    return;
  }
  map = m;
  handle.map = m;
  m.touchZoomRotate.disableRotation();
  m.keyboard.disableRotation();
  m.addControl(new NavigationControl({ showCompass: false }), 'bottom-right');
  m.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-right');
  wireMapEvents(m);
  m.getCanvas().setAttribute('aria-label', `Map of ${meta.region}: small areas coloured by need`);

  await m.once('load');
  addBaseLayers(m);
  resolveLayers();

  const areasDone = loadAreas(m, areasP).catch((e: unknown) => {
    legendEl.replaceChildren(el('p', { class: 'status-error', text: 'No areas to show.' }));
    fail(`Could not load the areas: ${describeError(e)}`);
    throw e;
  });
  const others = [loadPremises(m, premisesP, meta.premises_kinds ?? []), setupBoundaries(m, meta.boundary_sets ?? [])];
  const results = await Promise.allSettled([areasDone, ...others]);
  if (results[0].status === 'rejected') return;

  await waitUntilIdleWithAreas(m);
  handle.ready = true;
  document.documentElement.dataset.state = 'ready';

  const fromHash = hashArea();
  if (fromHash) void selectArea(fromHash);
}

start().catch((e: unknown) => fail(`Unexpected error: ${describeError(e)}`));
