// needmap web map: wires the API, the map and the panels together.

import 'maplibre-gl/dist/maplibre-gl.css';
import './app.css';

import {
  Map as MlMap,
  Marker,
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
  getAreaHours,
  getEquity,
  getHoursAccess,
  getHoursExtensions,
  getHoursGap,
  getEarlyWarning,
  getHotspots,
  getIsochrones,
  getProjection,
  getTrends,
  getPremisesHours,
  getSignpost,
  getMeta,
  getPremises,
  searchAreas,
  tileUrl,
  type AccessArea,
  type AccessResponse,
  type AreaDetail,
  type AreaProperties,
  type Bbox,
  type EarlyWarningResponse,
  type HotspotArea,
  type HotspotsResponse,
  type HoursAccessArea,
  type HoursAccessResponse,
  type HoursExtension,
  type HoursExtensionsResponse,
  type HoursGapArea,
  type HoursGapResponse,
  type Meta,
  type PremisesCollection,
  type PremisesProperties,
  type ProjectionArea,
  type ProjectionResponse,
  type SearchResult,
  type SignpostResponse,
  type SignpostResult,
  type TrendArea,
  type TrendsResponse,
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
  isHoursVariable,
  isTrendsVariable,
  noDataFilter,
  renderLegend,
  variableDef,
  type AccessVariable,
  type HoursVariable,
  type Legend,
  type TrendsVariable,
  type Variable,
} from './legend';
import { downloadLinks } from './downloads';
import {
  PROJECTION_HORIZON,
  RISING_LIMIT,
  SOURCE_WORDS,
  TRENDS_STATE_KEYS,
  alignRows,
  buildEmergingLegend,
  buildHotspotLegend,
  buildProjectionLegend,
  buildTrendCountLegend,
  buildTrendLegend,
  clampIndex,
  countHover,
  earlyWarningText,
  emergingFillExpression,
  emergingHover,
  emergingState,
  hotspotFillExpression,
  hotspotHover,
  hotspotState,
  periodLabel,
  projectionFillExpression,
  projectionHover,
  projectionScale,
  projectionState,
  reasonsText,
  renderAreaList,
  renderTrendsControls,
  risingText,
  setAreaTrendBlock,
  syncPeriodSlider,
  topRising,
  trendBlock,
  trendCountFillExpression,
  trendCountScale,
  trendCountState,
  trendFillExpression,
  trendHover,
  trendState,
  listErrorText,
  sectionStatus,
  trendsErrorMessage,
  trendsNoDataOpacity,
  trendsSource,
  trendsSpan,
  type CountScale,
  type TrendsControlsRefs,
  type TrendsSource,
} from './trends';
import {
  DEFAULT_HOUR,
  EXTENSIONS_LIMIT,
  HOURS_STATE_KEYS,
  SLIDER_DEBOUNCE_MS,
  alignByArea,
  buildHoursAccessLegend,
  buildHoursGapLegend,
  hourLabel,
  hoursAccessContext,
  hoursAccessFillExpression,
  hoursAccessState,
  hoursGapFillExpression,
  hoursGapState,
  hoursHover,
  hoursKey,
  openText,
  stateNoDataOpacity,
  wrapHour,
} from './hours';
import { heatmapCaption, heatmapModel, heatmapSummary, renderHeatmap } from './heatmap';
import { SIGNPOST_LIMIT, placeStatus, serviceChoices, signpostErrorMessage, signpostPrecheck, ukNowInput } from './signpost';
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
import { initPlanning, type CompareStateView, type Planning, type SitingStateView } from './planning';
import { initHarmonisation, type CotermStateView, type DesignHookParams, type DesignStateView, type Harmonisation } from './harmonisation';
import { LAYER_AREAS, parentColumns } from './coterminosity';
import type { CompareMapMode } from './scenarios';
import type { SitingParams } from './api';
import {
  accessBlock,
  byId,
  hoursBlock,
  renderExtensions,
  renderHoursControls,
  renderSignpostPanel,
  renderSignpostResults,
  setAreaHoursBlock,
  setHoursHint,
  syncHourControls,
  syncHoursSelects,
  type HoursControlsRefs,
  type SignpostPanelRefs,
  type SignpostView,
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
  planLayer,
  premisesLayer,
  selectedFilter,
  vectorSource,
  type TileLayerRef,
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
  /**
   * Move the hour-of-week slider (0..167). When the hours-aware access is shown, resolves
   * once the map is recoloured for that hour (or the error shown).
   */
  setHour: (hour: number) => Promise<void>;
  /** Choose the premises kind (and optionally reach and client group) of the opening-hours variables. */
  setHoursKind: (kind: string, thresholdMin?: number, group?: string | null) => Promise<void>;
  /** The opening-hours layer as shown: kind, hour, what is drawn and the premises open. */
  hoursState: () => HoursStateView;
  /** Switch signpost mode ("Who can help here?") on or off. */
  setSignpostMode: (on: boolean) => void;
  /**
   * Ask "who can help here" at a point (as a map click in signpost mode does), optionally
   * with a service and a UK local time; resolves with the list shown (or the error).
   */
  signpost: (lon: number, lat: number, opts?: { service?: string | null; at?: string | null }) => Promise<SignpostState>;
  /** The signpost list shown. */
  signpostResults: () => SignpostState;
  /** Open a premises' popup (with its week heatmap); resolves once the heatmap is drawn or failed. */
  openPremises: (premisesId: string | number) => Promise<void>;
  /**
   * Run a siting (the Siting section's form, with any parameters given put into it first);
   * resolves once the sites, markers and area colours are drawn and the map is idle, or
   * once the error is shown.
   */
  runSiting: (params?: Partial<SitingParams>) => Promise<SitingStateView>;
  /** The siting result shown. */
  sitingState: () => SitingStateView;
  /** Remove the siting result (markers, area colours, tables). */
  clearSiting: () => void;
  /** Save the siting result as a scenario (name and new premises kind default to the form's). */
  saveScenario: (name?: string, kind?: string) => Promise<SitingStateView>;
  /** Compare two scenarios for a kind (defaults: the Compare section's choices); resolves once drawn or failed. */
  compareScenarios: (opts?: { a?: string; b?: string; kind?: string; thresholdMin?: number; mode?: CompareMapMode }) => Promise<CompareStateView>;
  /** The comparison shown and the saved scenarios listed. */
  compareState: () => CompareStateView;
  /** List the saved scenarios again. */
  refreshScenarios: () => Promise<CompareStateView>;
  /** Delete a saved scenario (without asking) and list the rest. */
  deleteScenario: (name: string) => Promise<CompareStateView>;
  /**
   * Compare two layers (`areas` or boundary sets; defaults: the Boundaries section's
   * choices) with an optional split share in percent; resolves once the outlines, split
   * pieces and tables are drawn and the map is idle, or once the error is shown.
   */
  runCoterminosity: (a?: string, b?: string, splitSharePct?: number) => Promise<CotermStateView>;
  /** The boundary comparison shown. */
  cotermState: () => CotermStateView;
  /** Remove the boundary comparison (layers, tables). */
  clearCoterminosity: () => void;
  /** Choose a unit of layer A (as a click on its table row): highlight it and fit the map to it. */
  focusCotermUnit: (code: string) => Promise<CotermStateView>;
  /** Propose boundaries (the designer's form, with any parameters given put into it first); resolves once drawn or failed. */
  runDesign: (params?: DesignHookParams) => Promise<DesignStateView>;
  /** The proposal shown. */
  designState: () => DesignStateView;
  /** Remove the proposal (layers, result, downloads). */
  clearDesign: () => void;
  /**
   * Open the Trends section (as a click on its summary): resolves once the early-warning
   * list, the rising areas and the sliders' periods are loaded or have failed.
   */
  openTrends: () => Promise<TrendsStateView>;
  /**
   * Move the period slider (index into /api/trends `periods`; null = the last). When
   * Referrals per period is shown, resolves once the map shows that period.
   */
  setTrendsPeriod: (index: number | null) => Promise<TrendsStateView>;
  /** Move the projected-period slider (index into /api/projection `periods`); as setTrendsPeriod. */
  setProjectionPeriod: (index: number | null) => Promise<TrendsStateView>;
  /** The trends layers and lists as shown. */
  trendsState: () => TrendsStateView;
}

export interface TrendsStateView {
  variable: Variable;
  /** Of the trends layer shown: idle | loading | loaded | error. */
  state: string;
  error: string | null;
  /** The key of the trends layer drawn (as `#legend[data-trends]`), or null. */
  key: string | null;
  periods: string[];
  /** The period slider's index and label. */
  period: number | null;
  periodLabel: string;
  projectionPeriods: string[];
  projection: number | null;
  projectionLabel: string;
  /** The early-warning list and the rising areas as listed (area ids in order). */
  warnings: { state: string; areas: string[] };
  rising: { state: string; areas: string[] };
}

export interface HoursStateView {
  variable: Variable;
  kind: string | null;
  thresholdMin: number;
  group: string | null;
  /** The slider's hour. */
  hour: number;
  label: string;
  /** The hour whose table is in the areas' feature-state (hours-aware access), or null. */
  shownHour: number | null;
  /** idle | loading | loaded | error */
  state: string;
  premisesOpen: number | null;
  premisesTotal: number | null;
  /** The "N of M premises open" text shown. */
  openText: string;
  scaleMax: number | null;
}

export interface SignpostState {
  mode: boolean;
  /** idle | loading | loaded | error */
  state: string;
  error: string | null;
  /** The point asked about (the click), or null. */
  lon: number | null;
  lat: number | null;
  areaId: string | null;
  at: string | null;
  results: { rank: number; premises_id: string; name: string; kind: string; travel_time_min: number; now: string; status: string }[];
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
  setVariable: (v) => chooseVariable(v),
  setAccess: (kind, thresholdMin) => setAccess(kind, thresholdMin),
  showIsochrones: (premisesId) => showIsochrones(premisesId).then(() => undefined),
  setHour: (hour) => setHour(hour),
  setHoursKind: (kind, thresholdMin, group) => setHoursOptions(kind, thresholdMin ?? hoursThreshold, group === undefined ? hoursGroup : group),
  hoursState: () => hoursStateView(),
  setSignpostMode: (on) => setSignpostMode(on),
  signpost: (lon, lat, opts) => signpostFromHook(lon, lat, opts),
  signpostResults: () => signpostState(),
  openPremises: (premisesId) => openPremisesById(premisesId),
  runSiting: (params) => whenPlanning((p) => p.runSiting(params)),
  sitingState: () => planning?.sitingState() ?? IDLE_SITING,
  clearSiting: () => planning?.clearSiting(),
  saveScenario: (name, kind) => whenPlanning((p) => p.saveScenario(name, kind)),
  compareScenarios: (opts) => whenPlanning((p) => p.compare(opts)),
  compareState: () => planning?.compareState() ?? IDLE_COMPARE,
  refreshScenarios: () => whenPlanning((p) => p.refreshScenarios()),
  deleteScenario: (name) => whenPlanning((p) => p.deleteScenario(name)),
  runCoterminosity: (a, b, pct) => whenHarmonisation((h) => h.runCoterminosity(a, b, pct)),
  cotermState: () => harmonisation?.cotermState() ?? IDLE_COTERM,
  clearCoterminosity: () => harmonisation?.clearCoterminosity(),
  focusCotermUnit: (code) => whenHarmonisation((h) => h.focusUnit(code)),
  runDesign: (params) => whenHarmonisation((h) => h.runDesign(params)),
  designState: () => harmonisation?.designState() ?? IDLE_DESIGN,
  clearDesign: () => harmonisation?.clearDesign(),
  openTrends: () => openTrends(),
  setTrendsPeriod: (index) => setTrendsIndex('trend_counts', index),
  setProjectionPeriod: (index) => setTrendsIndex('projection', index),
  trendsState: () => trendsStateView(),
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

// Opening hours: the chosen kind, reach and client group, the slider's hour, the tables
// fetched (kept for the page's life; failures are retried) and the one in the feature-state.
let hoursKind: string | null = null;
let hoursThreshold = DEFAULT_THRESHOLD;
let hoursGroup: string | null = null;
let hourShown = DEFAULT_HOUR;
let hoursRefs: HoursControlsRefs | null = null;
const hoursAccessCache = new Map<string, Promise<HoursAccessResponse>>();
const hoursGapCache = new Map<string, Promise<HoursGapResponse>>();
const extensionsCache = new Map<string, Promise<HoursExtensionsResponse>>();
interface ShownHours {
  key: string;
  variable: HoursVariable;
  access: HoursAccessResponse | null;
  gap: HoursGapResponse | null;
  byArea: Map<string, HoursAccessArea | HoursGapArea | null>;
}
let hoursShown: ShownHours | null = null;
let hoursLoad: 'idle' | 'loading' | 'loaded' | 'error' = 'idle';
let hourTimer: number | undefined;
let playing = false;
let extensionsKey: string | null = null;
/** The Monday of the typical week the server uses for opening hours (from any hours answer). */
let referenceWeek: string | null = null;
let areaHoursSeq = 0;

// Trends, hot spots, projected demand and the early-warning list (issue 10): each table is
// fetched when first needed (a trends variable chosen or the Trends section opened), kept
// for the page's life (failures are retried); the public gets the workspace's own period
// and group, so no period or group is sent.
const trendsCache = new Map<string, Promise<TrendsResponse>>();
const hotspotsCache = new Map<string, Promise<HotspotsResponse>>();
const projectionCache = new Map<string, Promise<ProjectionResponse>>();
const warningCache = new Map<string, Promise<EarlyWarningResponse>>();
interface TrendsTables {
  trends: TrendsResponse | null;
  hotspots: HotspotsResponse | null;
  emerging: HotspotsResponse | null;
  projection: ProjectionResponse | null;
}
const trendsTables: TrendsTables = { trends: null, hotspots: null, emerging: null, projection: null };
/** Rows of each table in feature-id order, and by area id. */
const trendsRows = new Map<TrendsSource, (TrendArea | HotspotArea | ProjectionArea | null)[]>();
const trendsByArea = new Map<TrendsSource, Map<string, TrendArea | HotspotArea | ProjectionArea>>();
let trendCounts: CountScale | null = null;
let projectionCounts: CountScale | null = null;
/** The sliders' indices (null: the last period, the end of the horizon). */
let trendPeriod: number | null = null;
let projectionStep: number | null = null;
let trendsRefs: TrendsControlsRefs | null = null;
/** The key of the trends layer in the areas' feature-state. */
let trendsShownKey: string | null = null;
let trendsLoad: 'idle' | 'loading' | 'loaded' | 'error' = 'idle';
let trendsError: string | null = null;
let trendsTimer: number | undefined;
let trendsLists: Promise<void> | null = null;
/** Requests of the Trends section that failed (by table), summed up under the sliders. */
const trendsProblems = new Map<TrendsSource | 'early-warning', unknown>();

// Signpost ("who can help here?"): the mode, the panel, the last answer and its markers.
let signpostMode = false;
let signpostRefs: SignpostPanelRefs | null = null;
/** The time input follows the clock until the user changes it. */
let signpostAtIsNow = true;
let signpostPoint: [number, number] | null = null;
let signpostSeq = 0;
let signpostAbort: AbortController | null = null;
let signpostView: SignpostView = { state: 'idle' };
let signpostMarkers: Marker[] = [];

// Planning (siting and scenarios): built once /api/meta has named the premises kinds.
let planning: Planning | null = null;
let resolvePlanning: (p: Planning) => void = () => {};
const planningReady = new Promise<Planning>((r) => (resolvePlanning = r));
const IDLE_SITING: SitingStateView = {
  state: 'idle',
  error: null,
  params: null,
  objective: '',
  gap: '',
  sites: [],
  markers: 0,
  counts: { new: 0, both: 0, before: 0, none: 0 },
  overlay: null,
  save: { state: 'idle', name: null, message: '' },
};
const IDLE_COMPARE: CompareStateView = {
  state: 'idle',
  error: null,
  a: null,
  b: null,
  kind: null,
  thresholdMin: null,
  mode: 'coverage',
  coverage: { a: null, b: null },
  rows: [],
  list: [],
  listState: 'idle',
  overlay: null,
};

function whenPlanning<T>(f: (p: Planning) => Promise<T>): Promise<T> {
  return planningReady.then(f);
}

// Boundary harmonisation (co-terminosity and the designer): built with the planning sections.
let harmonisation: Harmonisation | null = null;
let resolveHarmonisation: (h: Harmonisation) => void = () => {};
const harmonisationReady = new Promise<Harmonisation>((r) => (resolveHarmonisation = r));
const IDLE_COTERM: CotermStateView = {
  state: 'idle',
  error: null,
  a: null,
  b: null,
  splitShare: null,
  fragmentation: null,
  fragmentationText: '',
  headlines: [],
  splitFeatures: 0,
  splitsA: 0,
  units: [],
  sort: { key: 'index', dir: 'asc' },
  matrix: { rows: [], cols: [] },
  selected: null,
  overlay: null,
};
const IDLE_DESIGN: DesignStateView = {
  state: 'idle',
  error: null,
  params: null,
  units: 0,
  drawn: 0,
  before: null,
  after: null,
  ceiling: null,
  verdict: null,
  infeasible: 0,
  downloads: { geojson: null, csv: null },
  overlay: null,
};

function whenHarmonisation<T>(f: (h: Harmonisation) => Promise<T>): Promise<T> {
  return harmonisationReady.then(f);
}

/**
 * The tile source of a layer for the boundary comparison: the areas, or boundary set i's
 * `boundary-{i}` (added if it is not there yet; its line layer stays as the toggle says).
 */
function tileSourceFor(layer: string): TileLayerRef | null {
  if (layer === LAYER_AREAS) return { source: SRC_AREAS, sourceLayer: AREAS_TILE_LAYER, idProp: 'area_id' };
  const names = boundaryNames.length ? boundaryNames : (meta?.boundary_sets ?? []);
  const i = names.indexOf(layer);
  if (i < 0) return null;
  if (map && !map.getSource(boundarySourceId(i))) map.addSource(boundarySourceId(i), vectorSource(layer, window.location.origin));
  return { source: boundarySourceId(i), sourceLayer: layer, idProp: 'boundary_id' };
}

let resolveLayers: () => void = () => {};
/** Resolves once the map has loaded and the area layers exist. */
const layersReady = new Promise<void>((r) => (resolveLayers = r));

const panel = byId('area-panel');
const trendsPanel = byId<HTMLDetailsElement>('trends-panel');
const legendEl = byId('legend');
const isoEl = byId('isochrones');
const signpostPanel = byId('signpost-panel');

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
    const right = !panel.hidden ? panel : !signpostPanel.hidden ? signpostPanel : null;
    if (right) pad.right = w - right.getBoundingClientRect().left + 16;
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

/** A variable chosen (radios, hook): the planning overlay, if shown, gives way to it. */
function chooseVariable(v: Variable): void {
  planning?.hideOverlay();
  applyVariable(v);
}

function applyVariable(v: Variable): void {
  // Coming to the opening-hours variables: bring the slider into view.
  if (isHoursVariable(v) && !isHoursVariable(variable) && handle.ready) {
    byId('hours-controls').scrollIntoView({ block: 'nearest', behavior: reduceMotion ? 'auto' : 'smooth' });
  }
  // Coming to a trends variable: open the Trends section (its sliders and lists).
  if (isTrendsVariable(v) && !isTrendsVariable(variable)) {
    if (!trendsPanel.open) trendsPanel.open = true;
    if (handle.ready) trendsPanel.scrollIntoView({ block: 'nearest', behavior: reduceMotion ? 'auto' : 'smooth' });
  }
  variable = v;
  accessSeq++;
  delete legendEl.dataset.trends;
  const checked = document.querySelector<HTMLInputElement>(`#layer-switcher input[value="${v}"]`);
  if (checked && !checked.checked) checked.checked = true;
  setAccessHint(!isAccessVariable(v));
  setHoursHint(!isHoursVariable(v));
  if (v !== 'hours_access') stopPlay();
  if (!isHoursVariable(v)) {
    const ext = document.getElementById('hours-extensions');
    if (ext) renderExtensions(ext, { state: 'hidden' }, () => {});
    extensionsKey = null;
    showOpenText(null);
  }
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
  if (isHoursVariable(v)) {
    void applyHours();
    return;
  }
  if (isTrendsVariable(v)) {
    void applyTrends();
    return;
  }
  const legend = buildLegend(v, areaProps);
  renderLegend(legendEl, legend);
  legendEl.dataset.state = 'loaded';
  delete legendEl.dataset.access;
  delete legendEl.dataset.hours;
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
  delete legendEl.dataset.hours;
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
  delete legendEl.dataset.hours;
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
  const kind = isAccessVariable(variable) ? accessKind : isHoursVariable(variable) ? hoursKind : null;
  // At an hour, the kind's premises closed then are drawn faded.
  const shown = variable === 'hours_access' && hoursShown?.access && hoursShown.access.kind === kind ? hoursShown.access.premises_open : null;
  const e = premisesEmphasis(kind, shown);
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
  const plan = planning?.hoverLine(p.area_id) ?? null;
  if (plan) return `${name}\n${plan}`;
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
    case 'hours_access':
    case 'hours_gap':
      value = hoursHoverText(variable, p.area_id);
      break;
    case 'trend':
    case 'trend_counts':
    case 'hotspots':
    case 'emerging_hotspots':
    case 'projection':
      value = trendsHoverText(variable, p.area_id);
      break;
  }
  return `${name}\n${value}`;
}

// ---------------------------------------------------------------- opening hours

/** A promise from `cache`, loaded once per key; failures are forgotten so that they are retried. */
function cachedLoad<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    const fresh = load();
    cache.set(key, fresh);
    fresh.catch(() => {
      if (cache.get(key) === fresh) cache.delete(key);
    });
    p = fresh;
  }
  return p;
}

function fetchHoursAccess(kind: string, hour: number, thresholdMin: number): Promise<HoursAccessResponse> {
  return cachedLoad(hoursAccessCache, hoursKey(kind, thresholdMin, hour), () =>
    getHoursAccess(kind, hour, { thresholdMin }).then((d) => {
      referenceWeek ??= d.week_start ?? null;
      return d;
    }),
  );
}

function fetchHoursGap(kind: string, thresholdMin: number, group: string | null): Promise<HoursGapResponse> {
  return cachedLoad(hoursGapCache, hoursKey(kind, thresholdMin, group), () =>
    getHoursGap(kind, { thresholdMin, group }).then((d) => {
      referenceWeek ??= d.week_start ?? null;
      return d;
    }),
  );
}

/** The key of the hours table the current variable needs. */
function currentHoursKey(v: HoursVariable): string | null {
  if (!hoursKind) return null;
  return v === 'hours_access' ? hoursKey('access', hoursKind, hoursThreshold, hourShown) : hoursKey('gap', hoursKind, hoursThreshold, hoursGroup);
}

/** "3 of 5 premises open at Tue 10:00–11:00" under the slider (null: empty). */
function showOpenText(text: string | null): void {
  if (!hoursRefs) return;
  hoursRefs.open.textContent = text ?? '';
  hoursRefs.open.hidden = !text;
}

/** Legend heading with a message while an hours table is not shown. */
function hoursMessage(v: HoursVariable, text: string, state: 'loading' | 'error'): void {
  const title = v === 'hours_access' ? `Access to ${kindPhrase(hoursKind)} at ${hourLabel(hourShown)}` : `Hours gap: ${kindPhrase(hoursKind)}`;
  legendEl.replaceChildren(el('h2', { text: title }), el('p', { class: state === 'error' ? 'status-error' : 'muted', text }));
  delete legendEl.dataset.variable;
  delete legendEl.dataset.access;
  delete legendEl.dataset.hours;
  legendEl.dataset.state = state;
}

/**
 * Colour the areas by the current opening-hours variable: fetch (or reuse) the table, set
 * the feature-state, legend and paint. While another hour of the same kind loads, the map
 * keeps the previous hour's colours (so dragging the slider does not flash).
 */
async function applyHours(): Promise<void> {
  const m = map;
  const v = variable;
  if (!m || !isHoursVariable(v) || areaProps.length === 0 || !m.getLayer(LYR_AREAS_FILL)) return;
  const seq = ++accessSeq;
  window.clearTimeout(hourTimer);
  const kind = hoursKind;
  const key = currentHoursKey(v);
  if (!kind || !key) {
    legendEl.replaceChildren(el('h2', { text: variableDef(v).title }), el('p', { class: 'muted', text: 'No premises in this workspace.' }));
    legendEl.dataset.state = 'error';
    m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', LOADING_FILL);
    m.setFilter(LYR_AREAS_NODATA, NOTHING);
    return;
  }
  void loadExtensions();
  const hour = hourShown;
  if (hoursShown?.key !== key) {
    const sameLayer =
      v === 'hours_access' && hoursShown?.variable === 'hours_access' && hoursShown.access?.kind === kind && hoursShown.access.threshold_min === hoursThreshold;
    hoursLoad = 'loading';
    if (sameLayer) {
      legendEl.dataset.state = 'loading';
      showOpenText(`Loading ${hourLabel(hour)}…`);
    } else {
      hoursMessage(v, v === 'hours_access' ? 'Loading access at this hour…' : 'Loading the hours gap…', 'loading');
      m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', LOADING_FILL);
      m.setFilter(LYR_AREAS_NODATA, NOTHING);
      if (v === 'hours_access') showOpenText('Loading…');
    }
    let access: HoursAccessResponse | null = null;
    let gap: HoursGapResponse | null = null;
    try {
      if (v === 'hours_access') access = await fetchHoursAccess(kind, hour, hoursThreshold);
      else gap = await fetchHoursGap(kind, hoursThreshold, hoursGroup);
    } catch (e) {
      if (seq !== accessSeq) return;
      hoursLoad = 'error';
      const msg = `Could not load ${v === 'hours_access' ? 'access at this hour' : 'the hours gap'} for ${kindPhrase(kind)}: ${describeError(e)}`;
      hoursMessage(v, msg, 'error');
      m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', LOADING_FILL);
      m.setFilter(LYR_AREAS_NODATA, NOTHING);
      if (v === 'hours_access') showOpenText(null);
      showStatus(msg);
      return;
    }
    if (seq !== accessSeq) return;
    const rows = alignByArea<HoursAccessArea | HoursGapArea>(areaProps, (access ?? gap)!.areas);
    const byArea = new Map<string, HoursAccessArea | HoursGapArea | null>();
    rows.forEach((r, id) => {
      m.setFeatureState(
        { source: SRC_AREAS, sourceLayer: AREAS_TILE_LAYER, id },
        access ? hoursAccessState(r as HoursAccessArea | null) : hoursGapState(r as HoursGapArea | null),
      );
      const a = areaProps[id]?.area_id;
      if (typeof a === 'string') byArea.set(a, r);
    });
    hoursShown = { key, variable: v, access, gap, byArea };
  }
  const shown = hoursShown!;
  let legend: Legend;
  if (shown.access) {
    const d = shown.access;
    const rows = areaProps.map((a) => (shown.byArea.get(a?.area_id) as HoursAccessArea | null | undefined) ?? null);
    legend = buildHoursAccessLegend(rows, d.scale_max, hoursAccessContext(d));
    m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', hoursAccessFillExpression(legend));
    m.setPaintProperty(LYR_AREAS_NODATA, 'fill-opacity', stateNoDataOpacity(HOURS_STATE_KEYS.score, NO_DATA_HATCH_OPACITY));
    showOpenText(`${openText(d.premises_open?.length ?? null, d.premises_total)} at ${hourLabel(d.hour)}`);
  } else {
    const d = shown.gap!;
    const rows = areaProps.map((a) => (shown.byArea.get(a?.area_id) as HoursGapArea | null | undefined) ?? null);
    legend = buildHoursGapLegend(rows, d);
    m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', hoursGapFillExpression(legend));
    m.setPaintProperty(LYR_AREAS_NODATA, 'fill-opacity', stateNoDataOpacity(HOURS_STATE_KEYS.unmetPct, NO_DATA_HATCH_OPACITY));
    showOpenText(null);
  }
  m.setFilter(LYR_AREAS_NODATA, null);
  renderLegend(legendEl, legend);
  delete legendEl.dataset.access;
  legendEl.dataset.hours = shown.key;
  legendEl.dataset.state = 'loaded';
  hoursLoad = 'loaded';
  applyPremisesEmphasis();
}

/** The hover line of an area for an opening-hours variable. */
function hoursHoverText(v: HoursVariable, areaId: string | undefined): string {
  if (!hoursShown || hoursShown.variable !== v || !areaId) return 'Opening hours: loading…';
  const r = hoursShown.byArea.get(areaId) ?? null;
  const state = hoursShown.access ? hoursAccessState(r as HoursAccessArea | null) : hoursGapState(r as HoursGapArea | null);
  const kind = hoursShown.access?.kind ?? hoursShown.gap?.kind ?? hoursKind ?? '';
  return hoursHover(v, state, { kind, hour: hoursShown.access?.hour ?? hourShown, thresholdMin: hoursThreshold });
}

/** The recommended extensions for the chosen kind, reach and group (in the Opening hours section). */
async function loadExtensions(): Promise<void> {
  const container = document.getElementById('hours-extensions');
  const kind = hoursKind;
  if (!container || !kind) return;
  const key = hoursKey(kind, hoursThreshold, hoursGroup);
  if (extensionsKey === key) return;
  extensionsKey = key;
  renderExtensions(container, { state: 'loading', kind }, flyToExtension);
  try {
    const thresholdMin = hoursThreshold;
    const group = hoursGroup;
    const d = await cachedLoad(extensionsCache, key, () => getHoursExtensions(kind, { thresholdMin, group, limit: EXTENSIONS_LIMIT }));
    if (extensionsKey !== key) return;
    renderExtensions(container, { state: 'loaded', kind, rows: d.ranked, note: d.note, weeks: d.weeks, unmet: d.unmet_referrals }, flyToExtension);
  } catch (e) {
    if (extensionsKey !== key) return;
    extensionsKey = null;
    renderExtensions(container, { state: 'error', message: `Could not load the recommended extensions: ${describeError(e)}` }, flyToExtension);
  }
}

/** An extension row chosen: fly to its premises and open its popup. */
function flyToExtension(e: HoursExtension): void {
  void openPremisesById(e.premises_id, true);
}

/** Move the slider; the map follows after a short pause (debounced), or at once with `now`. */
function onHourInput(h: number): void {
  hourShown = wrapHour(h);
  syncHourControls(hoursRefs, hourShown);
  if (variable !== 'hours_access') {
    applyVariable('hours_access');
    return;
  }
  window.clearTimeout(hourTimer);
  hourTimer = window.setTimeout(() => void applyHours(), SLIDER_DEBOUNCE_MS);
}

/** Set the hour (the hook): resolves once the map shows it when the hours-aware access is shown. */
async function setHour(h: number): Promise<void> {
  await layersReady;
  hourShown = wrapHour(h);
  syncHourControls(hoursRefs, hourShown);
  window.clearTimeout(hourTimer);
  if (variable === 'hours_access') await applyHours();
}

/** Choose the kind, reach and group of the opening-hours variables (selects and hook). */
async function setHoursOptions(kind: string, thresholdMin: number, group: string | null): Promise<void> {
  hoursKind = kind;
  hoursThreshold = thresholdMin;
  hoursGroup = group;
  syncHoursSelects(kind, thresholdMin, group);
  void updateAreaHours();
  if (isHoursVariable(variable)) await applyHours();
  else applyPremisesEmphasis();
}

function stopPlay(): void {
  playing = false;
  if (hoursRefs) {
    hoursRefs.play.textContent = '▶';
    hoursRefs.play.setAttribute('aria-pressed', 'false');
    hoursRefs.play.setAttribute('aria-label', 'Play through the week');
  }
}

/** Play: step one hour at a time, each shown before the next. */
async function togglePlay(): Promise<void> {
  if (playing) {
    stopPlay();
    return;
  }
  playing = true;
  if (hoursRefs) {
    hoursRefs.play.textContent = '❚❚';
    hoursRefs.play.setAttribute('aria-pressed', 'true');
    hoursRefs.play.setAttribute('aria-label', 'Pause');
  }
  if (variable !== 'hours_access') applyVariable('hours_access');
  while (playing) {
    await new Promise((r) => window.setTimeout(r, reduceMotion ? 1500 : 700));
    if (!playing) break;
    await setHour(hourShown + 1);
  }
}

function hoursStateView(): HoursStateView {
  const a = hoursShown?.access ?? null;
  return {
    variable,
    kind: hoursKind,
    thresholdMin: hoursThreshold,
    group: hoursGroup,
    hour: hourShown,
    label: hourLabel(hourShown),
    shownHour: a ? a.hour : null,
    state: hoursLoad,
    premisesOpen: a?.premises_open?.length ?? null,
    premisesTotal: a?.premises_total ?? null,
    openText: hoursRefs?.open.textContent ?? '',
    scaleMax: a?.scale_max ?? null,
  };
}

/** The area panel's week heatmap: its catchment's demand vs premises open within reach. */
async function updateAreaHours(): Promise<void> {
  const areaId = selectedArea;
  const kind = hoursKind;
  const seq = ++areaHoursSeq;
  if (!areaId || panel.dataset.state !== 'loaded' || !kind) {
    setAreaHoursBlock(panel, null);
    return;
  }
  const t = hoursThreshold;
  const group = hoursGroup;
  const heading = `Week: ${kindPhrase(kind)} hours and demand`;
  setAreaHoursBlock(panel, hoursBlock('area-hours', heading, { message: 'Loading the week…' }, 'loading'));
  try {
    const d = await getAreaHours(areaId, kind, { thresholdMin: t, group });
    if (seq !== areaHoursSeq || selectedArea !== areaId) return;
    referenceWeek ??= d.week_start ?? null;
    const model = heatmapModel({ demand: d.catchment_demand, open: d.open_in_reach, openMode: 'count' });
    const summary = heatmapSummary(model, { subject: 'area', kind, thresholdMin: d.threshold_min ?? t, pct: d.unmet_pct });
    const nearest = d.catchment_premises ? (premisesName.get(d.catchment_premises) ?? d.catchment_premises) : null;
    const who = group ? ` (${humanize(group).toLowerCase()})` : '';
    const title = nearest
      ? `Referrals${who} of the areas nearest ${nearest}, by hour, against ${kindPhrase(kind)} premises open within ${Math.round(t)} min of this area`
      : `Referrals${who} by hour against ${kindPhrase(kind)} premises open within ${Math.round(t)} min`;
    const fig = renderHeatmap(model, { title, summary, caption: heatmapCaption('count') });
    setAreaHoursBlock(panel, hoursBlock('area-hours', heading, fig, 'loaded'));
  } catch (e) {
    if (seq !== areaHoursSeq || selectedArea !== areaId) return;
    setAreaHoursBlock(panel, hoursBlock('area-hours', heading, { message: `Could not load the week: ${describeError(e)}`, error: true }, 'error'));
  }
}

/** The typical week's Monday used by the hours layer (asked of the server once if not yet known). */
async function typicalWeek(kind: string): Promise<string | null> {
  if (referenceWeek) return referenceWeek;
  try {
    const d = await fetchHoursAccess(kind, hourShown, hoursThreshold);
    return d.week_start ?? null;
  } catch {
    return null;
  }
}

/**
 * Fill a premises popup's week heatmap: its opening hours (share of each hour) against the
 * demand of its catchment, in the same typical week as the hours layer.
 */
async function loadPremisesHours(box: HTMLElement, p: PremisesProperties, onSized: () => void): Promise<void> {
  const slot = box.querySelector<HTMLElement>('.premises-hours');
  if (!slot) return;
  const heading = 'Week: opening hours and demand';
  const put = (block: HTMLElement): void => {
    slot.replaceChildren(...Array.from(block.childNodes));
    slot.dataset.state = block.dataset.state ?? '';
  };
  put(hoursBlock('premises-hours', heading, { message: 'Loading opening hours…' }, 'loading', 'h4'));
  try {
    const week = await typicalWeek(p.kind);
    const d = await getPremisesHours(p.premises_id, week);
    const model = heatmapModel({ demand: d.catchment_demand, open: d.open_share, openMode: 'share' });
    // The server's share when sent (null = withheld); an older server sends none: computed.
    const summary = heatmapSummary(model, { subject: 'premises', pct: d.while_closed_pct });
    const title = d.open_share
      ? `Referrals of the areas nearest ${p.name} by hour, against its opening hours`
      : `Referrals of the areas nearest ${p.name} by hour (no opening hours recorded)`;
    put(hoursBlock('premises-hours', heading, renderHeatmap(model, { title, summary, caption: heatmapCaption('share') }), 'loaded', 'h4'));
  } catch (e) {
    put(hoursBlock('premises-hours', heading, { message: `Could not load the opening hours: ${describeError(e)}`, error: true }, 'error', 'h4'));
  }
  onSized();
}

// ---------------------------------------------------------------- trends and anticipatory need

/** Load one trends table (once per page; failures are retried) and index its rows. */
function loadTrendsSource(src: TrendsSource): Promise<unknown> {
  const index = (rows: readonly (TrendArea | HotspotArea | ProjectionArea)[]): void => {
    trendsRows.set(src, alignRows(areaProps, rows));
    const by = new Map<string, TrendArea | HotspotArea | ProjectionArea>();
    for (const r of rows) if (r && typeof r.area_id === 'string') by.set(r.area_id, r);
    trendsByArea.set(src, by);
  };
  switch (src) {
    case 'trends':
      return cachedLoad(trendsCache, 'trends', () =>
        getTrends().then((d) => {
          trendsTables.trends = d;
          index(d.areas);
          trendCounts = trendCountScale(d);
          trendsProblems.delete('trends');
          syncTrendsSliders();
          updateAreaTrend();
          return d;
        }),
      );
    case 'hotspots':
    case 'emerging':
      return cachedLoad(hotspotsCache, src, () =>
        getHotspots(src === 'emerging' ? { emerging: true } : {}).then((d) => {
          trendsTables[src] = d;
          index(d.areas);
          return d;
        }),
      );
    case 'projection':
      return cachedLoad(projectionCache, 'projection', () =>
        getProjection({ horizon: PROJECTION_HORIZON }).then((d) => {
          trendsTables.projection = d;
          index(d.areas);
          projectionCounts = projectionScale(d);
          trendsProblems.delete('projection');
          syncTrendsSliders();
          updateAreaTrend();
          return d;
        }),
      );
  }
}

/** Rows of a loaded table in feature-id order (aligned again if the attributes came later). */
function rowsOf<T>(src: TrendsSource): (T | null)[] {
  let rows = trendsRows.get(src);
  if (!rows || rows.length !== areaProps.length) {
    const by = trendsByArea.get(src);
    rows = areaProps.map((a) => (typeof a?.area_id === 'string' ? (by?.get(a.area_id) ?? null) : null));
    trendsRows.set(src, rows);
  }
  return rows as (T | null)[];
}

/** The sliders show the periods loaded and the chosen ones; problems loading them under them. */
function syncTrendsSliders(): void {
  const r = trendsRefs;
  if (!r) return;
  syncPeriodSlider(r.period, r.periodLabel, trendsTables.trends?.periods ?? (trendsProblems.has('trends') ? [] : null), trendPeriod);
  syncPeriodSlider(r.projection, r.projectionLabel, trendsTables.projection?.periods ?? (trendsProblems.has('projection') ? [] : null), projectionStep);
  const failures = [...trendsProblems].map(([src, error]) => ({ what: SOURCE_WORDS[src], error, listed: src !== 'projection' }));
  r.status.textContent = sectionStatus(failures);
  r.status.className = failures.length ? 'status-error trends-status' : 'muted trends-status';
}

/** The key of the trends layer the current choices draw (as `#legend[data-trends]`), or null before its table is loaded. */
function trendsLayerKey(v: TrendsVariable): string | null {
  switch (v) {
    case 'trend':
      return trendsTables.trends ? 'trend' : null;
    case 'trend_counts': {
      const d = trendsTables.trends;
      return d && d.periods.length ? `trend_counts|${d.periods[clampIndex(trendPeriod, d.periods.length)]}` : null;
    }
    case 'hotspots':
      return trendsTables.hotspots ? 'hotspots' : null;
    case 'emerging_hotspots':
      return trendsTables.emerging ? 'emerging_hotspots' : null;
    case 'projection': {
      const d = trendsTables.projection;
      return d && d.periods.length ? `projection|${d.periods[clampIndex(projectionStep, d.periods.length)]}` : null;
    }
  }
}

/** Legend heading with a message while a trends table is not shown. */
function trendsMessage(v: TrendsVariable, text: string, state: 'loading' | 'error'): void {
  legendEl.replaceChildren(el('h2', { text: variableDef(v).title }), el('p', { class: state === 'error' ? 'status-error' : 'muted', text }));
  delete legendEl.dataset.variable;
  delete legendEl.dataset.access;
  delete legendEl.dataset.hours;
  delete legendEl.dataset.trends;
  legendEl.dataset.state = state;
}

/**
 * Colour the areas by the current trends variable: fetch (or reuse) its table, put the
 * values of the period chosen into the feature-state, draw the legend and paint.
 */
async function applyTrends(): Promise<void> {
  const m = map;
  const v = variable;
  if (!m || !isTrendsVariable(v) || areaProps.length === 0 || !m.getLayer(LYR_AREAS_FILL)) return;
  const seq = ++accessSeq;
  window.clearTimeout(trendsTimer);
  const src = trendsSource(v);
  if (!trendsTables[src]) {
    trendsLoad = 'loading';
    trendsError = null;
    trendsMessage(v, `Loading ${SOURCE_WORDS[src]}…`, 'loading');
    m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', LOADING_FILL);
    m.setFilter(LYR_AREAS_NODATA, NOTHING);
    try {
      await loadTrendsSource(src);
    } catch (e) {
      const msg = trendsErrorMessage(e, SOURCE_WORDS[src]);
      if (src === 'trends' || src === 'projection') {
        trendsProblems.set(src, e);
        syncTrendsSliders();
      }
      if (seq !== accessSeq) return;
      trendsLoad = 'error';
      trendsError = msg;
      trendsMessage(v, msg, 'error');
      showStatus(msg);
      return;
    }
    if (seq !== accessSeq) return;
  }
  const key = trendsLayerKey(v);
  if (!key) {
    trendsLoad = 'error';
    trendsError = `No periods to show for ${SOURCE_WORDS[src]}.`;
    trendsMessage(v, trendsError, 'error');
    m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', LOADING_FILL);
    return;
  }
  const stateKey = TRENDS_STATE_KEYS[v];
  let legend: Legend;
  let fill: ReturnType<typeof trendFillExpression>;
  type Row = TrendArea | HotspotArea | ProjectionArea | null;
  let stateOf: (r: Row) => Record<string, unknown>;
  switch (v) {
    case 'trend': {
      const rows = rowsOf<TrendArea>('trends');
      legend = buildTrendLegend(rows, trendsTables.trends!);
      fill = trendFillExpression();
      stateOf = (r) => trendState(r as TrendArea | null);
      break;
    }
    case 'trend_counts': {
      const d = trendsTables.trends!;
      const k = clampIndex(trendPeriod, d.periods.length);
      const rows = rowsOf<TrendArea>('trends');
      legend = buildTrendCountLegend(rows, k, trendCounts!, d);
      fill = trendCountFillExpression(trendCounts!);
      stateOf = (r) => trendCountState(r as TrendArea | null, k);
      break;
    }
    case 'hotspots': {
      legend = buildHotspotLegend(rowsOf<HotspotArea>('hotspots'), trendsTables.hotspots!);
      fill = hotspotFillExpression();
      stateOf = (r) => hotspotState(r as HotspotArea | null);
      break;
    }
    case 'emerging_hotspots': {
      legend = buildEmergingLegend(rowsOf<HotspotArea>('emerging'), trendsTables.emerging!);
      fill = emergingFillExpression();
      stateOf = (r) => emergingState(r as HotspotArea | null);
      break;
    }
    case 'projection': {
      const d = trendsTables.projection!;
      const k = clampIndex(projectionStep, d.periods.length);
      legend = buildProjectionLegend(rowsOf<ProjectionArea>('projection'), k, projectionCounts!, d);
      fill = projectionFillExpression(projectionCounts!);
      stateOf = (r) => projectionState(r as ProjectionArea | null, k);
      break;
    }
  }
  if (trendsShownKey !== key) {
    const rows = rowsOf<NonNullable<Row>>(src);
    rows.forEach((r, id) => m.setFeatureState({ source: SRC_AREAS, sourceLayer: AREAS_TILE_LAYER, id }, stateOf(r)));
    trendsShownKey = key;
  }
  m.setPaintProperty(LYR_AREAS_FILL, 'fill-color', fill);
  m.setFilter(LYR_AREAS_NODATA, null);
  m.setPaintProperty(LYR_AREAS_NODATA, 'fill-opacity', trendsNoDataOpacity(stateKey, NO_DATA_HATCH_OPACITY));
  renderLegend(legendEl, legend);
  delete legendEl.dataset.access;
  delete legendEl.dataset.hours;
  legendEl.dataset.trends = key;
  legendEl.dataset.state = 'loaded';
  trendsLoad = 'loaded';
  trendsError = null;
}

/** The hover line of an area for a trends variable. */
function trendsHoverText(v: TrendsVariable, areaId: string | undefined): string {
  const src = trendsSource(v);
  if (!areaId) return '';
  if (!trendsTables[src]) return `${variableDef(v).label}: ${trendsLoad === 'error' ? 'not available' : 'loading…'}`;
  const row = trendsByArea.get(src)?.get(areaId) ?? null;
  switch (v) {
    case 'trend':
      return trendHover(row as TrendArea | null);
    case 'trend_counts': {
      const d = trendsTables.trends!;
      const k = clampIndex(trendPeriod, d.periods.length);
      return countHover((row as TrendArea | null)?.counts?.[k], d.periods[k]);
    }
    case 'hotspots':
      return hotspotHover(row as HotspotArea | null);
    case 'emerging_hotspots':
      return emergingHover(row as HotspotArea | null);
    case 'projection': {
      const d = trendsTables.projection!;
      return projectionHover(row as ProjectionArea | null, clampIndex(projectionStep, d.periods.length), d);
    }
  }
}

/** The area panel's Trend block, while the trends table is loaded (with the projection when it is). */
function updateAreaTrend(): void {
  const d = trendsTables.trends;
  if (panel.dataset.state !== 'loaded' || !selectedArea || !d) {
    setAreaTrendBlock(panel, null);
    return;
  }
  const p = trendsTables.projection;
  const row = (trendsByArea.get('trends')?.get(selectedArea) as TrendArea | undefined) ?? null;
  const projRow = (trendsByArea.get('projection')?.get(selectedArea) as ProjectionArea | undefined) ?? null;
  setAreaTrendBlock(panel, trendBlock({ trend: row, periods: d.periods, periodKind: d.period, test: d.test, projection: p ? { data: p, row: projRow } : null }));
}

/** A slider moved: show that period (switching to its variable); redrawn after a short pause while dragging. */
function onTrendsSlider(v: 'trend_counts' | 'projection', i: number): void {
  if (v === 'trend_counts') trendPeriod = i;
  else projectionStep = i;
  syncTrendsSliders();
  if (variable !== v) {
    chooseVariable(v);
    return;
  }
  window.clearTimeout(trendsTimer);
  trendsTimer = window.setTimeout(() => void applyTrends(), 40);
}

/** Set a slider (the hook): resolves once the map shows the period when its variable is shown. */
async function setTrendsIndex(v: 'trend_counts' | 'projection', index: number | null): Promise<TrendsStateView> {
  await layersReady;
  if (v === 'trend_counts') trendPeriod = index;
  else projectionStep = index;
  syncTrendsSliders();
  if (variable === v) await applyTrends();
  return trendsStateView();
}

/** Go to an area of a list: select it and fit the map to it (its box from the search, like a search result). */
async function goToArea(areaId: string): Promise<void> {
  let bbox: Bbox | undefined;
  try {
    const r = await searchAreas(areaId);
    bbox = r.results.find((x) => x.area_id === areaId)?.bbox_wgs84;
  } catch {
    // Select it without moving the map.
  }
  await selectArea(areaId, bbox ? { bbox, focus: true } : { focus: true });
}

/**
 * The Trends section's lists and sliders: the trends table (rising areas, the period
 * slider), the early-warning list and the projection (its slider); once, retried after a
 * failure when the section is opened again.
 */
function loadTrendsLists(): Promise<void> {
  if (trendsLists) return trendsLists;
  const r = trendsRefs;
  if (!r) return Promise.resolve();
  const headings = { warnings: 'Early warning', rising: `Fastest rising areas (top ${RISING_LIMIT})` };
  renderAreaList(r.warnings, headings.warnings, { state: 'loading' }, (id) => void goToArea(id));
  renderAreaList(r.rising, headings.rising, { state: 'loading' }, (id) => void goToArea(id));
  const failed: string[] = [];
  const trendsP = loadTrendsSource('trends') as Promise<TrendsResponse>;
  const warningsP = cachedLoad(warningCache, 'early-warning', () => getEarlyWarning({ horizon: PROJECTION_HORIZON }));
  const projectionP = (loadTrendsSource('projection') as Promise<ProjectionResponse>).catch((e: unknown) => {
    trendsProblems.set('projection', e);
    failed.push('projection');
    syncTrendsSliders();
  });
  const name = (id: string): string | null => areaById.get(id)?.name ?? null;
  const run = async (): Promise<void> => {
    const [t, w] = await Promise.allSettled([trendsP, warningsP]);
    if (t.status === 'fulfilled') {
      const by = trendsByArea.get('trends');
      const ids = topRising(t.value);
      renderAreaList(
        r.rising,
        headings.rising,
        {
          state: 'loaded',
          rows: ids.map((id) => ({ areaId: id, text: risingText(id, by?.get(id) as TrendArea | undefined, name(id)) })),
          note: `Areas whose referrals rose significantly, fastest first (${trendsSpan(t.value)}). Choose one to go to it.`,
          empty: 'No area’s referrals rose significantly.',
        },
        (id) => void goToArea(id),
      );
    } else {
      trendsProblems.set('trends', t.reason);
      failed.push('trends');
      syncTrendsSliders();
      renderAreaList(r.rising, headings.rising, { state: 'error', message: listErrorText(t.reason, SOURCE_WORDS.trends) }, (id) => void goToArea(id));
    }
    if (w.status === 'fulfilled') {
      trendsProblems.delete('early-warning');
      const kind = t.status === 'fulfilled' ? t.value.period : (trendsTables.projection?.period ?? null);
      renderAreaList(
        r.warnings,
        headings.warnings,
        {
          state: 'loaded',
          rows: w.value.areas.map((a) => ({ areaId: a.area_id, text: earlyWarningText(a, name(a.area_id), kind), title: reasonsText(a.reasons ?? []) })),
          note: 'Areas crossing the thresholds of rate, growth or hot spot status, most reasons first. Choose one to go to it.',
          empty: 'No area crosses the early-warning thresholds.',
        },
        (id) => void goToArea(id),
      );
    } else {
      failed.push('early-warning');
      trendsProblems.set('early-warning', w.reason);
      syncTrendsSliders();
      renderAreaList(r.warnings, headings.warnings, { state: 'error', message: listErrorText(w.reason, SOURCE_WORDS['early-warning']) }, (id) => void goToArea(id));
    }
    await projectionP;
    // Opening the section again retries what failed.
    if (failed.length) trendsLists = null;
  };
  trendsLists = run();
  return trendsLists;
}

/** Open the Trends section (the hook); resolves once its lists and sliders are loaded or failed. */
async function openTrends(): Promise<TrendsStateView> {
  await layersReady;
  if (!trendsPanel.open) trendsPanel.open = true;
  await loadTrendsLists();
  return trendsStateView();
}

function listIds(container: HTMLElement | undefined): { state: string; areas: string[] } {
  if (!container) return { state: 'idle', areas: [] };
  return {
    state: container.dataset.state ?? 'idle',
    areas: Array.from(container.querySelectorAll<HTMLElement>('.area-row')).map((b) => b.dataset.areaId ?? ''),
  };
}

function trendsStateView(): TrendsStateView {
  const periods = trendsTables.trends?.periods ?? [];
  const projectionPeriods = trendsTables.projection?.periods ?? [];
  const k = periods.length ? clampIndex(trendPeriod, periods.length) : null;
  const j = projectionPeriods.length ? clampIndex(projectionStep, projectionPeriods.length) : null;
  return {
    variable,
    state: isTrendsVariable(variable) ? trendsLoad : 'idle',
    error: trendsError,
    key: legendEl.dataset.trends ?? null,
    periods: [...periods],
    period: k,
    periodLabel: k === null ? '' : periodLabel(periods[k]),
    projectionPeriods: [...projectionPeriods],
    projection: j,
    projectionLabel: j === null ? '' : periodLabel(projectionPeriods[j]),
    warnings: listIds(trendsRefs?.warnings),
    rising: listIds(trendsRefs?.rising),
  };
}

// ---------------------------------------------------------------- premises popup

/** Open the popup of a premises (with its week heatmap); resolves once the heatmap is drawn or failed. */
function openPremisesPopup(m: MlMap, p: PremisesProperties, coords: [number, number]): Promise<void> {
  popup?.remove();
  const box = premisesPopup(p, kindColour[p.kind] ?? OTHER_KIND_COLOUR, () => bandsFromPopup(m, p.premises_id));
  const mine = new Popup({ closeButton: true, maxWidth: '360px', focusAfterOpen: true }).setLngLat(coords).setDOMContent(box).addTo(m);
  popup = mine;
  showHoverInfo(null);
  keepPopupInView(m, mine);
  return loadPremisesHours(box, p, () => {
    if (popup === mine && mine.isOpen()) keepPopupInView(m, mine);
  });
}

/** Open a premises' popup by id, flying to it first when asked (or when it is out of view). */
async function openPremisesById(premisesId: string | number, fly = false): Promise<void> {
  await layersReady;
  const m = map;
  if (!m) return;
  const id = String(premisesId);
  const f = premisesFc?.features.find((x) => String(x.properties?.premises_id) === id);
  if (!f || f.geometry?.type !== 'Point') {
    showStatus(`No premises “${id}” in this workspace.`);
    return;
  }
  const coords = f.geometry.coordinates as [number, number];
  if (fly || !m.getBounds().contains(coords)) {
    m.flyTo({ center: coords, zoom: Math.max(m.getZoom(), 13), duration: reduceMotion ? 0 : 900 });
    await m.once('moveend');
  }
  await openPremisesPopup(m, f.properties, coords);
}

// ---------------------------------------------------------------- signpost

/** Build the signpost panel (once; the service list needs the premises). */
function ensureSignpostPanel(): SignpostPanelRefs {
  if (signpostRefs) return signpostRefs;
  const choices = serviceChoices(premisesFc);
  if (!choices.kinds.length) choices.kinds = [...(meta?.premises_kinds ?? [])];
  signpostRefs = renderSignpostPanel(signpostPanel, choices, ukNowInput(), {
    onChange: (what) => {
      // A time chosen by hand stays put; an emptied time input means "now" again.
      if (what === 'at') signpostAtIsNow = !signpostRefs?.at.value;
      if (signpostPoint) void runSignpost(signpostPoint[0], signpostPoint[1]);
    },
    onNow: () => {
      signpostAtIsNow = true;
      if (signpostRefs) signpostRefs.at.value = ukNowInput();
      if (signpostPoint) void runSignpost(signpostPoint[0], signpostPoint[1]);
    },
    onClose: () => setSignpostMode(false),
    onCentre: () => {
      const c = map?.getCenter();
      if (c) void runSignpost(c.lng, c.lat);
    },
  });
  renderSignpostResults(signpostRefs.results, signpostView, chooseSignpostResult);
  return signpostRefs;
}

function clearSignpostMarkers(): void {
  for (const mk of signpostMarkers) mk.remove();
  signpostMarkers = [];
}

/** Switch signpost mode: map clicks then ask "who can help here?" instead of opening areas. */
function setSignpostMode(on: boolean): void {
  const toggle = byId('signpost-toggle');
  if (on === signpostMode) {
    if (on) byId('signpost-title').focus();
    return;
  }
  signpostMode = on;
  toggle.setAttribute('aria-pressed', String(on));
  toggle.textContent = on ? 'Stop: who can help here?' : 'Who can help here?';
  document.body.classList.toggle('signpost-mode', on);
  if (on) {
    if (!panel.hidden) closeArea();
    popup?.remove();
    ensureSignpostPanel();
    signpostPanel.hidden = false;
    byId('signpost-title').focus();
  } else {
    signpostSeq++;
    signpostAbort?.abort();
    signpostAbort = null;
    signpostPoint = null;
    clearSignpostMarkers();
    signpostView = { state: 'idle' };
    if (signpostRefs) renderSignpostResults(signpostRefs.results, signpostView, chooseSignpostResult);
    signpostPanel.hidden = true;
    if (map) map.getCanvas().style.cursor = '';
  }
}

/** A marker element: the rank in a disc, or the point asked about. */
function markerElement(text: string | null, label: string, onClick?: () => void): HTMLElement {
  const e = el(onClick ? 'button' : 'div', {
    class: text ? 'signpost-marker' : 'signpost-origin',
    text: text ?? '',
    attrs: { title: label, 'aria-label': label, ...(onClick ? { type: 'button' } : {}) },
  });
  if (onClick) {
    e.addEventListener('click', (ev) => {
      ev.stopPropagation();
      onClick();
    });
  }
  return e;
}

/** Focus a place of the list (a marker clicked). */
function focusSignpostItem(rank: number): void {
  const li = signpostPanel.querySelector<HTMLElement>(`.signpost-item[data-rank="${rank}"]`);
  if (!li) return;
  li.scrollIntoView({ block: 'nearest', behavior: reduceMotion ? 'auto' : 'smooth' });
  li.querySelector<HTMLButtonElement>('.signpost-name')?.focus();
}

/** A place of the list chosen: show it on the map with its popup. */
function chooseSignpostResult(r: SignpostResult): void {
  const m = map;
  if (!m) return;
  const f = premisesFc?.features.find((x) => String(x.properties?.premises_id) === r.premises_id);
  const props: PremisesProperties = f?.properties ?? {
    premises_id: r.premises_id,
    name: r.name,
    kind: r.kind,
    services: r.services.join(';'),
    capacity: null,
    provider: r.provider,
    opening_hours: r.opening_hours,
    eligibility: r.eligibility,
  };
  const coords: [number, number] = [r.lon, r.lat];
  if (!m.getBounds().contains(coords)) m.easeTo({ center: coords, duration: reduceMotion ? 0 : 600 });
  void openPremisesPopup(m, props, coords);
}

/** Ask the server who can help at a point, and show the ranked list and numbered markers. */
async function runSignpost(lon: number, lat: number): Promise<void> {
  await layersReady;
  const m = map;
  if (!m) return;
  if (!signpostMode) setSignpostMode(true);
  const refs = ensureSignpostPanel();
  signpostPoint = [lon, lat];
  if (signpostAtIsNow) refs.at.value = ukNowInput();
  const at = refs.at.value || ukNowInput();
  const service = refs.service.value || null;
  const seq = ++signpostSeq;
  signpostAbort?.abort();
  const ac = new AbortController();
  signpostAbort = ac;
  clearSignpostMarkers();
  signpostMarkers.push(new Marker({ element: markerElement(null, 'The point asked about') }).setLngLat([lon, lat]).addTo(m));
  const refused = signpostPrecheck(lon, lat, service, { bbox: meta?.bbox_wgs84 ?? null, region: meta?.region, choices: premisesFc ? serviceChoices(premisesFc) : null });
  if (refused) {
    signpostAbort = null;
    signpostView = { state: 'error', message: refused };
    renderSignpostResults(refs.results, signpostView, chooseSignpostResult);
    return;
  }
  signpostView = { state: 'loading' };
  renderSignpostResults(refs.results, signpostView, chooseSignpostResult);
  let resp: SignpostResponse;
  try {
    resp = await getSignpost({ lon, lat, service, at, limit: SIGNPOST_LIMIT }, ac.signal);
  } catch (e) {
    if (seq !== signpostSeq || (e instanceof DOMException && e.name === 'AbortError')) return;
    signpostView = { state: 'error', message: signpostErrorMessage(e, meta?.region) };
    renderSignpostResults(refs.results, signpostView, chooseSignpostResult);
    return;
  } finally {
    if (signpostAbort === ac) signpostAbort = null;
  }
  if (seq !== signpostSeq) return;
  signpostView = { state: 'loaded', response: resp, isNow: signpostAtIsNow };
  renderSignpostResults(refs.results, signpostView, chooseSignpostResult);
  // Numbered markers, the nearest drawn on top.
  for (const r of [...resp.results].reverse()) {
    if (!Number.isFinite(r.lon) || !Number.isFinite(r.lat)) continue;
    const label = `${r.rank}. ${r.name} (${placeStatus(r, resp.at, signpostAtIsNow).text})`;
    signpostMarkers.push(new Marker({ element: markerElement(String(r.rank), label, () => focusSignpostItem(r.rank)) }).setLngLat([r.lon, r.lat]).addTo(m));
  }
}

async function signpostFromHook(lon: number, lat: number, opts: { service?: string | null; at?: string | null } = {}): Promise<SignpostState> {
  await layersReady;
  if (!signpostMode) setSignpostMode(true);
  const refs = ensureSignpostPanel();
  if (opts.service !== undefined) {
    const v = opts.service ?? '';
    if (v && !Array.from(refs.service.options).some((o) => o.value === v)) refs.service.append(el('option', { text: humanize(v), attrs: { value: v } }));
    refs.service.value = v;
  }
  if (opts.at !== undefined) {
    signpostAtIsNow = !opts.at;
    refs.at.value = opts.at ?? ukNowInput();
  }
  await runSignpost(lon, lat);
  return signpostState();
}

function signpostState(): SignpostState {
  const v = signpostView;
  const base: SignpostState = {
    mode: signpostMode,
    state: v.state,
    error: null,
    lon: signpostPoint?.[0] ?? null,
    lat: signpostPoint?.[1] ?? null,
    areaId: null,
    at: null,
    results: [],
  };
  if (v.state === 'error') base.error = v.message;
  if (v.state === 'loaded') {
    base.areaId = v.response.area_id;
    base.at = v.response.at;
    base.results = v.response.results.map((r) => ({
      rank: r.rank,
      premises_id: r.premises_id,
      name: r.name,
      kind: r.kind,
      travel_time_min: r.travel_time_min,
      now: r.now,
      status: placeStatus(r, v.response.at, v.isNow).text,
    }));
  }
  return base;
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
  areaHoursSeq++;
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
  // The area panel and the signpost panel share the right-hand side.
  if (signpostMode) setSignpostMode(false);
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
    void updateAreaHours();
    updateAreaTrend();
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
  // Right-click (long-press on most touch screens): who can help here?
  m.on('contextmenu', (e) => {
    e.originalEvent?.preventDefault();
    void runSignpost(e.lngLat.lng, e.lngLat.lat);
  });
  m.on('mousemove', (e) => {
    const prem = premisesAt(e)[0];
    // A split piece of the boundary comparison, when shown, describes itself.
    const piece = prem ? null : (harmonisation?.hoverAt(e.point) ?? null);
    const area = prem ? null : areaAt(e);
    m.getCanvas().style.cursor = signpostMode ? 'crosshair' : prem || area ? 'pointer' : '';
    setHover(area?.id ?? null);
    if (prem) {
      const p = prem.properties as PremisesProperties;
      showHoverInfo(`${p.name}\n${humanize(p.kind)}`, e.point.x, e.point.y);
    } else if (piece) {
      showHoverInfo(piece, e.point.x, e.point.y);
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
    harmonisation?.clearHover();
    showHoverInfo(null);
  });

  m.on('click', (e) => {
    // Clicks on the signpost markers are theirs, not the map's.
    const target = e.originalEvent?.target;
    if (target instanceof Element && target.closest('.maplibregl-marker')) return;
    if (signpostMode) {
      void runSignpost(e.lngLat.lng, e.lngLat.lat);
      return;
    }
    const prem = premisesAt(e)[0];
    if (prem) {
      const p = prem.properties as PremisesProperties;
      const coords = (prem.geometry as Point).coordinates as [number, number];
      void openPremisesPopup(m, p, coords);
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
  // The planning overlay (siting result or scenario comparison): over the choropleth, under the outlines.
  m.addLayer(planLayer(), LYR_AREAS_OUTLINE);
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
  renderDataDownloads(names);
}

/** Links to the map's layers as files (the protected figures the map shows). */
function renderDataDownloads(boundarySets: readonly string[]): void {
  const box = byId('data-downloads');
  const links = [
    downloadLinks(document, '/api/areas', 'need-map', [{ table: null, label: 'the need map' }]),
    downloadLinks(document, '/api/premises', 'premises', [{ table: null, label: 'the premises' }]),
    ...boundarySets.map((n) =>
      downloadLinks(document, `/api/boundaries/${encodeURIComponent(n)}`, n, [{ table: null, label: humanize(n) }]),
    ),
  ];
  box.replaceChildren(el('h2', { text: 'Download' }), ...links);
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
  renderLayerSwitcher(byId('layer-switcher'), variable, chooseVariable);
  // The access radios wait for the premises kinds in /api/meta.
  setAccessRadiosEnabled(byId('layer-switcher'), false);
  byId('access-controls').replaceChildren(el('h2', { text: 'Access', attrs: { id: 'access-heading' } }), el('p', { class: 'muted', text: 'Loading…' }));
  byId('hours-controls').replaceChildren(el('h2', { text: 'Opening hours', attrs: { id: 'hours-heading' } }), el('p', { class: 'muted', text: 'Loading…' }));
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
    if (e.key !== 'Escape') return;
    if (!panel.hidden && panel.contains(document.activeElement)) closeArea();
    else if (signpostMode && (signpostPanel.contains(document.activeElement) || document.activeElement === document.body || document.activeElement === map?.getCanvas())) {
      setSignpostMode(false);
      byId('signpost-toggle').focus();
    }
  });
  byId('signpost-toggle').addEventListener('click', () => setSignpostMode(!signpostMode));

  // Start every request at once; the map waits only for the description.
  const metaP = getMeta();
  const areasP = getAreaAttributes();
  const premisesP = getPremises();
  // Avoid unhandled-rejection noise if start-up stops before these are awaited.
  areasP.catch(() => {});
  premisesP.catch(() => {});
  getEquity()
    .then((eq) => {
      renderEquity(equityTable, eq);
      byId('equity-downloads').replaceChildren(downloadLinks(document, '/api/equity', 'equity', undefined, ['csv', 'gpkg']));
    })
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
  hoursKind = defaultAccessKind(kinds);
  // The public sees hours analyses of referrals at one reach and for all client groups
  // together (so that nested catchments and groups cannot be subtracted); planners choose.
  const hoursOpen = meta.role === 'planner' || meta.role === 'steward';
  if (!hoursOpen) hoursThreshold = meta.public_hours_threshold_min ?? hoursThreshold;
  hoursRefs = renderHoursControls(
    byId('hours-controls'),
    {
      kinds,
      kind: hoursKind,
      thresholdMin: hoursThreshold,
      thresholds: hoursOpen ? THRESHOLDS : [hoursThreshold],
      groups: hoursOpen ? (meta.groups ?? []) : [],
      group: hoursGroup,
      hour: hourShown,
    },
    { onOptions: (k, t, g) => void setHoursOptions(k, t, g), onHour: onHourInput, onPlay: () => void togglePlay() },
  );
  showOpenText(null);
  setHoursHint(!isHoursVariable(variable));
  trendsRefs = renderTrendsControls(byId('trends-controls'), { onPeriod: (i) => onTrendsSlider('trend_counts', i), onProjection: (i) => onTrendsSlider('projection', i) });
  trendsPanel.addEventListener('toggle', () => {
    if (trendsPanel.open) void loadTrendsLists();
  });
  byId<HTMLButtonElement>('signpost-toggle').disabled = kinds.length === 0;
  planning = initPlanning(
    {
      map: () => map,
      layersReady,
      areas: () => areaProps,
      kinds: () => meta?.premises_kinds ?? [],
      premises: () => premisesFc,
      waitIdle: (m) => waitUntilIdleWith(m, [SRC_AREAS]),
      onOverlay: () => showHoverInfo(null),
      reduceMotion,
    },
    { siting: byId('siting-controls'), scenarios: byId('scenarios-controls'), overlayNote: byId('plan-overlay') },
  );
  resolvePlanning(planning);
  harmonisation = initHarmonisation(
    {
      map: () => map,
      layersReady,
      boundarySets: () => meta?.boundary_sets ?? [],
      parents: () => parentColumns(meta),
      tileSource: tileSourceFor,
      planning,
      fitTo: (b, maxZoom) => fitTo(b, maxZoom),
      waitIdle: (m, sources) => waitUntilIdleWith(m, sources),
    },
    { coterm: byId('boundaries-controls'), design: byId('designer-controls') },
  );
  resolveHarmonisation(harmonisation);
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
