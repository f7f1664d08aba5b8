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
  getAccess,
  getArea,
  getAreaAttributes,
  getEquity,
  getIsochrones,
  getMeta,
  getPremises,
  searchAreas,
  tileUrl,
  type AccessArea,
  type AccessResponse,
  type AreaDetail,
  type AreaProperties,
  type Bbox,
  type Meta,
  type PremisesCollection,
  type PremisesProperties,
  type SearchResult,
} from './api';
import {
  describeTileError,
  formatAccessScore,
  formatCount,
  formatNumber,
  formatRate,
  formatScore,
  formatTravelTime,
  humanize,
  isValidBbox,
  kindPhrase,
} from './format';
import {
  DEFAULT_VARIABLE,
  NO_DATA_HATCH,
  buildLegend,
  fillColourExpression,
  isAccessVariable,
  noDataFilter,
  renderLegend,
  variableDef,
  type AccessVariable,
  type Legend,
  type Variable,
} from './legend';
import {
  DEFAULT_THRESHOLD,
  NO_DATA_HATCH_OPACITY,
  THRESHOLDS,
  accessContext,
  accessFeatureState,
  accessFillExpression,
  accessKey,
  accessNoDataOpacity,
  accessTitle,
  alignAccess,
  buildAccessLegend,
  buildCatchmentLegend,
  catchmentColours,
  catchmentFillExpression,
  defaultAccessKind,
  methodNote,
  premisesLocations,
} from './access';
import { ISOCHRONE_BANDS, ISOCHRONE_FILL_OPACITY, bandsBbox, isochroneLegend, prepareBands } from './isochrones';
import {
  accessBlock,
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
  renderIsochrones,
  renderLayerSwitcher,
  renderPremisesToggles,
  renderSearchResults,
  renderAccessControls,
  setAccessHint,
  setAccessRadiosEnabled,
  setAreaAccessBlock,
  showStatus,
  syncAccessControls,
} from './panels';
import {
  AREAS_TILE_LAYER,
  AREA_OUTLINE_OPACITY,
  CATCHMENT_OUTLINE_OPACITY,
  HATCH_IMAGE,
  LOADING_FILL,
  LYR_AREAS_FILL,
  LYR_AREAS_HOVER,
  LYR_AREAS_NODATA,
  LYR_AREAS_OUTLINE,
  LYR_AREAS_SELECTED,
  LYR_AREAS_SELECTED_CASING,
  LYR_PREMISES,
  NOTHING,
  OTHER_KIND_COLOUR,
  SRC_AREAS,
  SRC_ISOCHRONES,
  SRC_PREMISES,
  areaLayers,
  baseStyle,
  boundaryLayer,
  boundaryLayerId,
  boundarySourceId,
  boundaryStyle,
  hatchPattern,
  highlightLayers,
  isochroneLayers,
  kindColours,
  premisesEmphasis,
  premisesFilter,
  premisesLayer,
  selectedFilter,
  vectorSource,
} from './style';

// ---------------------------------------------------------------- test handle

export interface NeedmapHandle {
  /** The MapLibre map, once created. */
  map: MlMap | null;
  /**
   * True once the area attributes, premises and first boundary set have loaded, the
   * areas tile source has loaded and the map is idle.
   */
  ready: boolean;
  /** Set when start-up failed (the page shows the same message). */
  error: string | null;
  /** Open the side panel for an area and highlight it. */
  selectArea: (areaId: string) => Promise<AreaDetail | null>;
  /** Switch the choropleth variable. */
  setVariable: (v: Variable) => void;
  /**
   * Choose the premises kind and threshold (minutes) of the access variables. When an
   * access variable is shown, resolves once the map is recoloured (or the error shown).
   */
  setAccess: (kind: string, thresholdMin: number) => Promise<void>;
  /**
   * Draw the travel-time bands (5, 10, 15 min) of one premises, replacing any shown.
   * Resolves once they are drawn and the map is idle, or once the error is shown.
   */
  showIsochrones: (premisesId: string | number) => Promise<void>;
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
  setAccess: (kind, thresholdMin) => setAccess(kind, thresholdMin),
  showIsochrones: (premisesId) => showIsochrones(premisesId).then(() => undefined),
};
window.__needmap = handle;

setWorkerUrl(new URL(workerUrl, window.location.href).href);

// ---------------------------------------------------------------- state

const EMPTY: FeatureCollection = { type: 'FeatureCollection', features: [] };
const reduceMotion = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches ?? false;

let map: MlMap | null = null;
let meta: Meta | null = null;
let variable: Variable = DEFAULT_VARIABLE;
/** Attributes of every area, in feature-id order (index i = tile feature id i). */
let areaProps: AreaProperties[] = [];
const areaById = new Map<string, AreaProperties>();
let selectedArea: string | null = null;
let selectAbort: AbortController | null = null;
let kindColour: Record<string, string> = {};
let hoveredId: string | number | null = null;
let popup: Popup | null = null;
let boundaryNames: readonly string[] = [];
/** Every premises (GeoJSON), and their names by premises_id. */
let premisesFc: PremisesCollection | null = null;
const premisesName = new Map<string, string>();
/** Bumped on every travel-time bands request or clear: only the latest is drawn. */
let isoSeq = 0;
let isoAbort: AbortController | null = null;

// Access variables: the chosen premises kind and threshold, the tables fetched (per
// kind|threshold, kept for the page's life) and the one whose values are in the areas'
// feature-state.
let accessKind: string | null = null;
let accessThreshold = DEFAULT_THRESHOLD;
const accessCache = new Map<string, Promise<AccessResponse>>();
interface ShownAccess {
  key: string;
  data: AccessResponse;
  /** In feature-id order (index i = tile feature id i). */
  rows: (AccessArea | null)[];
  byArea: Map<string, AccessArea | null>;
  /** Palette index of each premises' catchment (premises code -> index). */
  catchments: Map<string, number>;
}
let accessShown: ShownAccess | null = null;
/** Bumped on every variable or access change: a slower, older access load is dropped. */
let accessSeq = 0;

let resolveLayers: () => void = () => {};
/** Resolves once the map has loaded and the area layers exist. */
const layersReady = new Promise<void>((r) => (resolveLayers = r));

const panel = byId('area-panel');
const legendEl = byId('legend');
const isoEl = byId('isochrones');

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
  // An explicit `maxZoom: undefined` would override MapLibre's default and give NaN.
  map.fitBounds(b, { padding: fitPadding(), duration: reduceMotion ? 0 : 800, ...(maxZoom === undefined ? {} : { maxZoom }) });
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
  accessSeq++;
  const checked = document.querySelector<HTMLInputElement>(`#layer-switcher input[value="${v}"]`);
  if (checked && !checked.checked) checked.checked = true;
  setAccessHint(!isAccessVariable(v));
  applyPremisesEmphasis();
  // The hover box describes the previous variable until the pointer moves again.
  showHoverInfo(null);
  if (!map || areaProps.length === 0 || !map.getLayer(LYR_AREAS_FILL)) return;
  map.setPaintProperty(LYR_AREAS_OUTLINE, 'line-opacity', v === 'access_catchment' ? CATCHMENT_OUTLINE_OPACITY : AREA_OUTLINE_OPACITY);
  map.getCanvas().setAttribute('aria-label', `Map of ${meta?.region ?? 'the region'}: small areas coloured by ${variableDef(v).label.toLowerCase()}`);
  if (isAccessVariable(v)) {
    void applyAccess();
    return;
  }
  const legend = buildLegend(v, areaProps);
  renderLegend(legendEl, legend);
  legendEl.dataset.state = 'loaded';
  delete legendEl.dataset.access;
  map.setPaintProperty(LYR_AREAS_FILL, 'fill-color', fillColourExpression(legend));
  map.setFilter(LYR_AREAS_NODATA, noDataFilter(v));
  map.setPaintProperty(LYR_AREAS_NODATA, 'fill-opacity', NO_DATA_HATCH_OPACITY);
  updateAreaAccess();
}

// ---------------------------------------------------------------- access

function currentAccessKey(): string | null {
  return accessKind ? accessKey(accessKind, accessThreshold) : null;
}

/** The access table for a kind and threshold, fetched once per page (failures are retried). */
function fetchAccess(kind: string, thresholdMin: number): Promise<AccessResponse> {
  const key = accessKey(kind, thresholdMin);
  let p = accessCache.get(key);
  if (!p) {
    const fresh = getAccess(kind, thresholdMin);
    accessCache.set(key, fresh);
    fresh.catch(() => {
      if (accessCache.get(key) === fresh) accessCache.delete(key);
    });
    p = fresh;
  }
  return p;
}

/** Put an access table's values into the areas' feature-state (feature id = area index). */
function setAccessState(m: MlMap, key: string, data: AccessResponse): void {
  const rows = alignAccess(areaProps, data.areas);
  const catchments = catchmentColours(rows, premisesLocations(premisesFc, data.kind));
  rows.forEach((r, id) => m.setFeatureState({ source: SRC_AREAS, sourceLayer: AREAS_TILE_LAYER, id }, accessFeatureState(r, catchments)));
  const byArea = new Map<string, AccessArea | null>();
  areaProps.forEach((a, i) => {
    if (a && typeof a.area_id === 'string') byArea.set(a.area_id, rows[i]);
  });
  accessShown = { key, data, rows, byArea, catchments };
}

/** Legend heading with a message (loading or error) while an access table is not shown. */
function accessMessage(v: AccessVariable, kind: string, text: string, state: 'loading' | 'error'): void {
  const title = accessTitle(v, { kind, thresholdMin: accessThreshold }).title;
  const p = el('p', { class: state === 'error' ? 'status-error' : 'muted', text });
  legendEl.replaceChildren(el('h2', { text: title }), p);
  delete legendEl.dataset.variable;
  delete legendEl.dataset.access;
  legendEl.dataset.state = state;
}

/**
 * Colour the areas by the current access variable for the chosen kind and threshold:
 * fetch (or reuse) the table, set the feature-state, legend and paint. Areas are drawn in
 * the neutral loading colour while the table loads or when it fails.
 */
async function applyAccess(): Promise<void> {
  const m = map;
  const v = variable;
  if (!m || !isAccessVariable(v) || areaProps.length === 0 || !m.getLayer(LYR_AREAS_FILL)) return;
  const seq = ++accessSeq;
  const kind = accessKind;
  const key = currentAccessKey();
  if (!kind || !key) {
    legendEl.replaceChildren(el('h2', { text: variableDef(v).title }), el('p', { class: 'muted', text: 'No premises in this workspace.' }));
    delete legendEl.dataset.variable;
    delete legendEl.dataset.access;
    legendEl.dataset.state = 'error';
    m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', LOADING_FILL);
    m.setFilter(LYR_AREAS_NODATA, NOTHING);
    return;
  }
  if (accessShown?.key !== key) {
    accessMessage(v, kind, 'Loading access…', 'loading');
    m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', LOADING_FILL);
    m.setFilter(LYR_AREAS_NODATA, NOTHING);
    setAreaAccessBlock(panel, null);
    let data: AccessResponse;
    try {
      data = await fetchAccess(kind, accessThreshold);
    } catch (e) {
      if (seq !== accessSeq) return;
      const msg = `Could not load access to ${kindPhrase(kind)}: ${describeError(e)}`;
      accessMessage(v, kind, msg, 'error');
      showStatus(msg);
      return;
    }
    if (seq !== accessSeq) return;
    setAccessState(m, key, data);
  }
  const shown = accessShown!;
  const ctx = accessContext(shown.data);
  let legend: Legend;
  let fill: ReturnType<typeof accessFillExpression>;
  if (v === 'access_catchment') {
    legend = buildCatchmentLegend(shown.rows, shown.catchments, ctx);
    fill = catchmentFillExpression();
  } else {
    const l = buildAccessLegend(v, shown.rows, ctx) as Legend & { variable: AccessVariable };
    legend = l;
    fill = accessFillExpression(l);
  }
  renderLegend(legendEl, legend);
  legendEl.dataset.access = key;
  legendEl.dataset.state = 'loaded';
  m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', fill);
  // Hatch every area whose state has no number: by opacity (filters cannot read feature-state).
  m.setFilter(LYR_AREAS_NODATA, null);
  m.setPaintProperty(LYR_AREAS_NODATA, 'fill-opacity', accessNoDataOpacity(v));
  updateAreaAccess();
}

/** Emphasise the premises of the access kind while an access variable is shown. */
function applyPremisesEmphasis(): void {
  if (!map?.getLayer(LYR_PREMISES)) return;
  const e = premisesEmphasis(isAccessVariable(variable) ? accessKind : null);
  map.setPaintProperty(LYR_PREMISES, 'circle-opacity', e.paint['circle-opacity']);
  map.setPaintProperty(LYR_PREMISES, 'circle-stroke-opacity', e.paint['circle-stroke-opacity']);
  map.setPaintProperty(LYR_PREMISES, 'circle-radius', e.paint['circle-radius']);
  map.setLayoutProperty(LYR_PREMISES, 'circle-sort-key', e.sortKey);
}

/** Choose the premises kind and threshold of the access variables (the selects and tests). */
function setAccess(kind: string, thresholdMin: number): Promise<void> {
  accessKind = kind;
  accessThreshold = thresholdMin;
  syncAccessControls(kind, thresholdMin);
  applyPremisesEmphasis();
  if (isAccessVariable(variable)) return applyAccess();
  return Promise.resolve();
}

/** The shown access row of an area, when the table shown is the one chosen. */
function accessRow(areaId: string | null | undefined): { row: AccessArea | null; data: AccessResponse } | null {
  if (!accessShown || accessShown.key !== currentAccessKey() || !areaId) return null;
  return { row: accessShown.byArea.get(areaId) ?? null, data: accessShown.data };
}

/** Add, update or remove the area panel's access block for the current variable. */
function updateAreaAccess(): void {
  if (panel.dataset.state !== 'loaded' || !selectedArea) return;
  const a = isAccessVariable(variable) ? accessRow(selectedArea) : null;
  setAreaAccessBlock(panel, a ? accessBlock(a.data.kind, a.data.threshold_min, a.row, methodNote(a.data.method)) : null);
}

/** Hover text of an access variable for one area. */
function accessHover(v: AccessVariable, areaId: string | undefined): string {
  const a = accessRow(areaId);
  if (!a) return 'Access: loading…';
  const r = a.row;
  const kind = kindPhrase(a.data.kind);
  switch (v) {
    case 'access_travel_time':
      return `Travel time to nearest ${kind}: ${formatTravelTime(r?.travel_time_s)}`;
    case 'access_providers': {
      const n = typeof r?.providers_within === 'number' ? formatNumber(r.providers_within) : '—';
      return `Providers within ${Math.round(a.data.threshold_min)} min (${kind}): ${n}${r?.choice_desert ? ' — choice desert' : ''}`;
    }
    case 'access_e2sfca': {
      const e2 = typeof r?.access_e2sfca === 'number' ? `${formatAccessScore(r.access_e2sfca * 1000)} per 1,000 residents` : '—';
      return `Accessibility (E2SFCA): ${e2}`;
    }
    case 'access_catchment': {
      const who = r?.nearest_name ?? r?.nearest ?? '—';
      return `Nearest ${kind}: ${who} (${formatTravelTime(r?.travel_time_s)})`;
    }
  }
}

/** Hover text from an area's attributes, or from its tile feature's properties. */
function hoverText(p: Partial<AreaProperties>): string {
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
    case 'access_travel_time':
    case 'access_providers':
    case 'access_e2sfca':
    case 'access_catchment':
      value = accessHover(variable, p.area_id);
      break;
  }
  return `${name}\n${value}`;
}

// ---------------------------------------------------------------- travel-time bands

/** Scroll the controls so that the travel-time bands block is in view. */
function revealIsochrones(): void {
  if (!isoEl.hidden) isoEl.scrollIntoView({ block: 'nearest', behavior: reduceMotion ? 'auto' : 'smooth' });
}

/** The popup's "Travel-time bands" button: draw them, then keep the (maybe taller) popup in view. */
async function bandsFromPopup(m: MlMap, premisesId: string | number): Promise<string | null> {
  const mine = popup;
  const err = await showIsochrones(premisesId);
  // After the popup shows the message (set when this promise resolves).
  window.setTimeout(() => {
    if (mine && popup === mine && mine.isOpen()) keepPopupInView(m, mine);
  }, 0);
  return err;
}

/** Remove the travel-time bands (and cancel a request under way). */
function clearIsochrones(): void {
  isoSeq++;
  isoAbort?.abort();
  isoAbort = null;
  if (map?.getSource(SRC_ISOCHRONES)) void (map.getSource(SRC_ISOCHRONES) as GeoJSONSource).setData(EMPTY);
  renderIsochrones(isoEl, { state: 'hidden' }, clearIsochrones);
}

/**
 * Draw the travel-time bands of one premises (the only ones shown): fetch them, show the
 * legend block, bring them into view and wait until the map is idle. Resolves with a short
 * error message for the popup, or null (drawn, or superseded by a later request or a clear).
 */
async function showIsochrones(premisesId: string | number): Promise<string | null> {
  await layersReady;
  const m = map;
  if (!m) return 'The map is not ready.';
  const id = String(premisesId);
  const name = premisesName.get(id) ?? id;
  const seq = ++isoSeq;
  isoAbort?.abort();
  const ac = new AbortController();
  isoAbort = ac;
  const source = m.getSource(SRC_ISOCHRONES) as GeoJSONSource;
  void source.setData(EMPTY);
  // A premises not in /api/premises: say so without asking the server (a 404 is logged by the browser).
  if (premisesFc && !premisesName.has(id)) {
    const message = `Could not load travel-time bands: no premises “${id}” in this workspace.`;
    renderIsochrones(isoEl, { state: 'error', premisesId: id, name, message }, clearIsochrones);
    revealIsochrones();
    return message;
  }
  renderIsochrones(isoEl, { state: 'loading', premisesId: id, name }, clearIsochrones);
  revealIsochrones();
  let fc;
  try {
    fc = await getIsochrones(id, ISOCHRONE_BANDS, ac.signal);
  } catch (e) {
    if (seq !== isoSeq || (e instanceof DOMException && e.name === 'AbortError')) return null;
    const message = `Could not load travel-time bands for ${name}: ${describeError(e)}`;
    renderIsochrones(isoEl, { state: 'error', premisesId: id, name, message }, clearIsochrones);
    revealIsochrones();
    // The popup gets the short form; the block has the details.
    return `Could not load the bands: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    if (isoAbort === ac) isoAbort = null;
  }
  if (seq !== isoSeq) return null;
  const drawn = prepareBands(fc);
  await source.setData(drawn);
  if (seq !== isoSeq) return null;
  renderIsochrones(isoEl, { state: 'loaded', legend: isochroneLegend(drawn, fc.method, id, name) }, clearIsochrones);
  revealIsochrones();
  const b = bandsBbox(drawn);
  const view = m.getBounds();
  if (b && !(view.contains([b[0], b[1]]) && view.contains([b[2], b[3]]))) fitTo(b, 14);
  await waitUntilIdleWith(m, [SRC_ISOCHRONES]);
  return null;
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
    updateAreaAccess();
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
  if (hoveredId !== null) map.setFeatureState({ source: SRC_AREAS, sourceLayer: AREAS_TILE_LAYER, id: hoveredId }, { hover: false });
  hoveredId = id;
  if (id !== null) map.setFeatureState({ source: SRC_AREAS, sourceLayer: AREAS_TILE_LAYER, id }, { hover: true });
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
      const tileProps = area.properties as Partial<AreaProperties>;
      const attrs = tileProps.area_id ? areaById.get(tileProps.area_id) : undefined;
      showHoverInfo(hoverText(attrs ?? tileProps), e.point.x, e.point.y);
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
        .setDOMContent(premisesPopup(p, kindColour[p.kind] ?? OTHER_KIND_COLOUR, () => bandsFromPopup(m, p.premises_id)))
        .addTo(m);
      showHoverInfo(null);
      keepPopupInView(m, popup);
      return;
    }
    const areaId = (areaAt(e)?.properties as Partial<AreaProperties> | undefined)?.area_id;
    if (typeof areaId === 'string' && areaId) void selectArea(areaId);
  });

  // With a listener attached MapLibre does not log errors itself: show them in the page.
  // Tile errors carry the source id (404 tiles are skipped by MapLibre without an event).
  m.on('error', (e) => {
    const sourceId = (e as { sourceId?: string }).sourceId;
    const boundary = boundaryNames.findIndex((_, i) => boundarySourceId(i) === sourceId);
    if (sourceId === SRC_AREAS) {
      // Before start-up completes the map cannot be trusted to show every area.
      const msg = `Could not load the area tiles (${describeTileError(e.error)})`;
      if (!handle.ready) fail(msg);
      else showStatus(msg);
    } else if (boundary >= 0) {
      showStatus(`Could not load boundaries “${boundaryNames[boundary]}” (${describeTileError(e.error)})`);
    } else {
      showStatus(`Map error: ${e.error?.message ?? 'unknown error'}`);
    }
  });
}

// ---------------------------------------------------------------- layers

/**
 * The areas tile source and its layers. Tiles start loading at once; until the attributes
 * (and so the legend breaks) arrive, areas are drawn in a neutral colour without hatching.
 */
function addBaseLayers(m: MlMap, bbox: Bbox | null): void {
  const img = hatchPattern(8, NO_DATA_HATCH, 2);
  m.addImage(HATCH_IMAGE, img, { pixelRatio: 1 });
  m.addSource(SRC_AREAS, vectorSource(AREAS_TILE_LAYER, window.location.origin, bbox));
  for (const l of areaLayers(LOADING_FILL, NOTHING)) m.addLayer(l);
  // Travel-time bands above the areas, below boundaries (added before the hover layer),
  // outlines and premises.
  m.addSource(SRC_ISOCHRONES, { type: 'geojson', data: EMPTY });
  for (const l of isochroneLayers(ISOCHRONE_FILL_OPACITY)) m.addLayer(l);
  for (const l of highlightLayers()) m.addLayer(l);
  m.addSource(SRC_PREMISES, { type: 'geojson', data: EMPTY });
  // Over a basemap, let it show through the choropleth.
  if (meta?.basemap_style) m.setPaintProperty(LYR_AREAS_FILL, 'fill-opacity', 0.7);
}

async function loadAttributes(data: Promise<AreaProperties[]>): Promise<void> {
  areaProps = await data;
  areaById.clear();
  for (const p of areaProps) if (p && typeof p.area_id === 'string') areaById.set(p.area_id, p);
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
  premisesFc = fc;
  premisesName.clear();
  for (const f of fc.features) if (f.properties) premisesName.set(String(f.properties.premises_id), f.properties.name);
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
  applyPremisesEmphasis();
  renderPremisesToggles(container, kinds, kindColour, counts, (visible) => {
    m.setFilter(LYR_PREMISES, premisesFilter(visible));
    popup?.remove();
  });
}

/**
 * Show boundary set i, adding its tile source and line layer the first time. Sets stack
 * in /api/meta order (later sets on top), all below the hover and selection outlines.
 */
function showBoundary(m: MlMap, i: number): void {
  if (m.getLayer(boundaryLayerId(i))) {
    m.setLayoutProperty(boundaryLayerId(i), 'visibility', 'visible');
    return;
  }
  const name = boundaryNames[i];
  if (!m.getSource(boundarySourceId(i))) m.addSource(boundarySourceId(i), vectorSource(name, window.location.origin));
  let before = LYR_AREAS_HOVER;
  for (let j = i + 1; j < boundaryNames.length; j++) {
    if (m.getLayer(boundaryLayerId(j))) {
      before = boundaryLayerId(j);
      break;
    }
  }
  m.addLayer(boundaryLayer(i, name, true), before);
}

/** The boundary toggles; the first set is switched on (and its tiles requested) at once. */
function setupBoundaries(m: MlMap, names: readonly string[]): void {
  boundaryNames = [...names];
  const on = (i: number): boolean => i === 0;
  renderBoundaryToggles(
    byId('boundary-toggles'),
    names,
    names.map((_, i) => boundaryStyle(i)),
    on,
    (i, visible) => {
      if (visible) showBoundary(m, i);
      else if (m.getLayer(boundaryLayerId(i))) m.setLayoutProperty(boundaryLayerId(i), 'visibility', 'none');
    },
  );
  if (names.length) showBoundary(m, 0);
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

/** Wait until the map is idle with every given source loaded (visible tiles included). */
async function waitUntilIdleWith(m: MlMap, sources: readonly string[]): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const idle = m.once('idle');
    m.triggerRepaint();
    await idle;
    if (sources.every((s) => !m.getSource(s) || m.isSourceLoaded(s))) return;
  }
}

async function start(): Promise<void> {
  renderFooter(null);
  renderLayerSwitcher(byId('layer-switcher'), variable, applyVariable);
  // The access radios wait for the premises kinds in /api/meta.
  setAccessRadiosEnabled(byId('layer-switcher'), false);
  byId('access-controls').replaceChildren(el('h2', { text: 'Access', attrs: { id: 'access-heading' } }), el('p', { class: 'muted', text: 'Loading…' }));
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
  const areasP = getAreaAttributes();
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
  const kinds = meta.premises_kinds ?? [];
  accessKind = defaultAccessKind(kinds);
  renderAccessControls(byId('access-controls'), kinds, accessKind, accessThreshold, THRESHOLDS, (k, t) => void setAccess(k, t));
  setAccessRadiosEnabled(byId('layer-switcher'), accessKind !== null);
  setAccessHint(!isAccessVariable(variable));

  let m: MlMap;
  try {
    m = new MlMap({
      container: 'map',
      // A basemap only when the workspace names one; otherwise our own plain style (offline).
      style: meta.basemap_style ? meta.basemap_style : baseStyle(),
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
  addBaseLayers(m, isValidBbox(meta.bbox_wgs84) ? meta.bbox_wgs84 : null);
  setupBoundaries(m, meta.boundary_sets ?? []);
  resolveLayers();

  const areasDone = loadAttributes(areasP).catch((e: unknown) => {
    legendEl.replaceChildren(el('p', { class: 'status-error', text: 'No areas to show.' }));
    fail(`Could not load the area attributes: ${describeError(e)}`);
    throw e;
  });
  const results = await Promise.allSettled([areasDone, loadPremises(m, premisesP, meta.premises_kinds ?? [])]);
  if (results[0].status === 'rejected') return;

  await waitUntilIdleWith(m, [SRC_AREAS, SRC_PREMISES, ...(boundaryNames.length ? [boundarySourceId(0)] : [])]);
  if (handle.error) return;
  // The view starts on the region, so its tiles must hold areas; none at all means the
  // tiles are missing (MapLibre skips 404 tiles silently) or do not match /api/meta.
  if (areaProps.length > 0 && m.querySourceFeatures(SRC_AREAS, { sourceLayer: AREAS_TILE_LAYER }).length === 0) {
    fail(`No areas in the map tiles (${tileUrl(AREAS_TILE_LAYER, window.location.origin)})`);
    return;
  }
  handle.ready = true;
  document.documentElement.dataset.state = 'ready';

  const fromHash = hashArea();
  if (fromHash) void selectArea(fromHash);
}

start().catch((e: unknown) => fail(`Unexpected error: ${describeError(e)}`));
