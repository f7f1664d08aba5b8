// Choropleth classification and legend (pure: no DOM, no map), plus the legend's DOM
// rendering at the bottom. Unit-tested in test/legend.test.ts.

import type { ExpressionSpecification, FilterSpecification } from 'maplibre-gl';
import type { AreaProperties } from './api';
import { decileLabel, formatBreak } from './format';

/** The area properties (in the tiles and /api/areas) that can drive the choropleth. */
export type AreaVariable = 'need_score' | 'simd_decile' | 'rate_per_1000';
/** Access to a kind of premises (GET /api/access), drawn through feature-state. */
export type AccessVariable = 'access_travel_time' | 'access_providers' | 'access_e2sfca' | 'access_catchment';
/** Opening hours matched to need (GET /api/hours/...), drawn through feature-state. */
export type HoursVariable = 'hours_access' | 'hours_gap';
/** Trends, hot spots and projected demand (GET /api/trends, /api/hotspots, /api/projection), drawn through feature-state. */
export type TrendsVariable = 'trend' | 'trend_counts' | 'hotspots' | 'emerging_hotspots' | 'projection';
/** Every choropleth variable of the layer switcher. */
export type Variable = AreaVariable | AccessVariable | HoursVariable | TrendsVariable;

export interface VariableDef {
  id: Variable;
  /** Radio button label. */
  label: string;
  /** Legend heading. */
  title: string;
  /** A short note under the legend heading. */
  note: string;
  /**
   * 'quantile': breaks from the data; 'decile': fixed classes 1..10; 'minutes': nice
   * minute breaks (src/access.ts); 'count': fixed provider-count classes (src/access.ts);
   * 'category': one colour per catchment from a qualitative palette (src/access.ts);
   * 'hour': equal classes up to the server's scale maximum over the week (src/hours.ts);
   * 'trend': classes, categories and protected counts of the trends layers (src/trends.ts).
   */
  mode: 'quantile' | 'decile' | 'minutes' | 'count' | 'category' | 'hour' | 'trend';
  /**
   * 'area': an area property; 'access': from /api/access for the chosen premises kind;
   * 'hours': from /api/hours/... for the kind chosen in the Opening hours section;
   * 'trends': from /api/trends, /api/hotspots and /api/projection (the Trends section).
   */
  group: 'area' | 'access' | 'hours' | 'trends';
  classes: number;
  /** Colours from the first (lowest value) class to the last. */
  anchors: string[];
}

/** Colour of areas whose value is null (suppressed or no data). */
export const NO_DATA_COLOUR = '#9a9a9a';
/** Colour of the lighter hatching lines drawn over no-data areas. */
export const NO_DATA_HATCH = '#d9d9d9';
export const NO_DATA_LABEL = 'suppressed / no data';

export const VARIABLES: readonly VariableDef[] = [
  {
    id: 'need_score',
    label: 'Need score',
    title: 'Need score (0–100)',
    note: 'Quintiles of areas; darker = higher need',
    mode: 'quantile',
    group: 'area',
    classes: 5,
    // ColorBrewer YlOrRd, 5 classes.
    anchors: ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'],
  },
  {
    id: 'simd_decile',
    label: 'SIMD decile',
    title: 'SIMD decile',
    note: 'Decile 1 = most deprived (darkest)',
    mode: 'decile',
    group: 'area',
    classes: 10,
    // ColorBrewer YlGnBu, 9 classes, reversed (dark first) and spread over 10 deciles.
    anchors: ['#081d58', '#253494', '#225ea8', '#1d91c0', '#41b6c4', '#7fcdbb', '#c7e9b4', '#edf8b1', '#ffffd9'],
  },
  {
    id: 'rate_per_1000',
    label: 'Referral rate per 1,000',
    title: 'Referrals per 1,000 people',
    note: 'Quintiles of areas; darker = higher rate',
    mode: 'quantile',
    group: 'area',
    classes: 5,
    // ColorBrewer BuPu, 5 classes.
    anchors: ['#edf8fb', '#b3cde3', '#8c96c6', '#8856a7', '#810f7c'],
  },
  // Access variables: titles and notes are completed with the premises kind and
  // threshold in src/access.ts (buildAccessLegend).
  {
    id: 'access_travel_time',
    label: 'Travel time to nearest',
    title: 'Travel time to nearest',
    note: 'Minutes; darker = further (lower is better)',
    mode: 'minutes',
    group: 'access',
    classes: 6,
    // ColorBrewer PuBu, 7 classes: light = quick, dark = far.
    anchors: ['#f1eef6', '#d0d1e6', '#a6bddb', '#74a9cf', '#3690c0', '#0570b0', '#034e7b'],
  },
  {
    id: 'access_providers',
    label: 'Providers within reach',
    title: 'Providers within reach',
    note: 'Distinct providers within the threshold; orange = choice desert',
    mode: 'count',
    group: 'access',
    classes: 5,
    // ColorBrewer PuOr (colour-blind safe): the purple side for 2+ providers, from light
    // to dark; the orange side (ACCESS_DESERT_ANCHORS in src/access.ts) for choice deserts.
    anchors: ['#d8daeb', '#998ec3', '#542788'],
  },
  {
    id: 'access_e2sfca',
    label: 'Accessibility (E2SFCA)',
    title: 'Accessibility (E2SFCA)',
    note: 'Quintiles of areas; capacity per 1,000 residents, weighted by travel time; darker = poorer access',
    mode: 'quantile',
    group: 'access',
    classes: 5,
    // ColorBrewer RdPu, 5 classes, reversed: the poorest access darkest.
    anchors: ['#7a0177', '#c51b8a', '#f768a1', '#fbb4b9', '#feebe2'],
  },
  {
    id: 'access_catchment',
    label: 'Nearest premises (catchments)',
    title: 'Nearest premises (catchments)',
    note: 'Each colour is the area served most quickly by one premises',
    mode: 'category',
    group: 'access',
    classes: 11,
    // ColorBrewer Set3 without its grey (kept for "no data"): a qualitative palette whose
    // colours are assigned to premises so that nearby catchments differ (src/access.ts).
    anchors: ['#8dd3c7', '#ffffb3', '#bebada', '#fb8072', '#80b1d3', '#fdb462', '#b3de69', '#fccde5', '#bc80bd', '#ccebc5', '#ffed6f'],
  },
  // Opening hours: titles and notes are completed with the kind and hour in src/hours.ts.
  {
    id: 'hours_access',
    label: 'Access at an hour of the week',
    title: 'Access at an hour of the week',
    note: 'E2SFCA counting only premises open in the hour; darker = better access',
    mode: 'hour',
    group: 'hours',
    classes: 5,
    // ColorBrewer YlGnBu, 5 classes: light = little open capacity, dark = much. Areas with
    // nothing open within reach get HOURS_NOTHING_OPEN (src/hours.ts), outside the ramp.
    anchors: ['#ffffcc', '#a1dab4', '#41b6c4', '#2c7fb8', '#253494'],
  },
  {
    id: 'hours_gap',
    label: 'Hours gap: demand while closed',
    title: 'Hours gap',
    note: 'Share of referrals arriving when nothing within reach is open; darker = larger share',
    mode: 'quantile',
    group: 'hours',
    classes: 5,
    // ColorBrewer OrRd, 5 classes.
    anchors: ['#fef0d9', '#fdcc8a', '#fc8d59', '#e34a33', '#b30000'],
  },
  // Trends and hot spots: colours, classes and legends in src/trends.ts.
  {
    id: 'trend',
    label: 'Trend',
    title: 'Trend of referrals',
    note: 'Rising = warm, falling = cool, no significant trend = neutral',
    mode: 'trend',
    group: 'trends',
    classes: 3,
    // Rising, none, falling (TREND_COLOURS in src/trends.ts; ColorBrewer RdBu ends and a neutral grey).
    anchors: ['#d6604d', '#e7e7e7', '#4393c3'],
  },
  {
    id: 'trend_counts',
    label: 'Referrals per period',
    title: 'Referrals per period',
    note: 'Referrals in the period chosen; one scale for every period; darker = more',
    mode: 'trend',
    group: 'trends',
    classes: 5,
    // ColorBrewer YlOrBr, 6 classes: the lightest for counts below the disclosure threshold, the rest for the classes.
    anchors: ['#fee391', '#fec44f', '#fe9929', '#d95f0e', '#993404'],
  },
  {
    id: 'hotspots',
    label: 'Hot spots',
    title: 'Hot and cold spots (Getis-Ord Gi*)',
    note: 'Clusters of high (hot) or low (cold) referral rates, by confidence',
    mode: 'trend',
    group: 'trends',
    classes: 7,
    // ColorBrewer RdBu, 7 classes (colour-blind safe): cold 99 % ... hot 99 %.
    anchors: ['#2166ac', '#67a9cf', '#d1e5f0', '#f7f7f7', '#fddbc7', '#ef8a62', '#b2182b'],
  },
  {
    id: 'emerging_hotspots',
    label: 'Emerging hot spots',
    title: 'Emerging hot and cold spots',
    note: 'How each area’s hot or cold spot status has developed over the periods',
    mode: 'trend',
    group: 'trends',
    classes: 17,
    // EMERGING_COLOURS in src/trends.ts: warm for hot spot patterns, cool for cold, neutral for none.
    anchors: ['#a50026', '#f7f7f7', '#313695'],
  },
  {
    id: 'projection',
    label: 'Projected demand',
    title: 'Projected referrals',
    note: 'Projected referrals in the period chosen; darker = more',
    mode: 'trend',
    group: 'trends',
    classes: 5,
    // ColorBrewer PuRd, 6 classes: the lightest for projections below the disclosure threshold.
    anchors: ['#d4b9da', '#c994c7', '#df65b0', '#dd1c77', '#980043'],
  },
];

export const AREA_VARIABLES: readonly VariableDef[] = VARIABLES.filter((v) => v.group === 'area');
export const ACCESS_VARIABLES: readonly VariableDef[] = VARIABLES.filter((v) => v.group === 'access');
export const HOURS_VARIABLES: readonly VariableDef[] = VARIABLES.filter((v) => v.group === 'hours');
export const TRENDS_VARIABLES: readonly VariableDef[] = VARIABLES.filter((v) => v.group === 'trends');

export const DEFAULT_VARIABLE: Variable = 'need_score';

export function variableDef(id: Variable): VariableDef {
  const def = VARIABLES.find((v) => v.id === id);
  if (!def) throw new Error(`unknown variable ${id}`);
  return def;
}

export function isVariable(s: string): s is Variable {
  return VARIABLES.some((v) => v.id === s);
}

export function isAccessVariable(v: Variable): v is AccessVariable {
  return variableDef(v).group === 'access';
}

export function isHoursVariable(v: Variable): v is HoursVariable {
  return variableDef(v).group === 'hours';
}

export function isTrendsVariable(v: Variable): v is TrendsVariable {
  return variableDef(v).group === 'trends';
}

// ---------------------------------------------------------------- colours

function parseHex(hex: string): [number, number, number] {
  const m = /^#?([0-9a-f]{6})$/i.exec(hex.trim());
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`);
  const n = parseInt(m[1], 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function toHex(rgb: [number, number, number]): string {
  return '#' + rgb.map((c) => Math.round(Math.min(255, Math.max(0, c))).toString(16).padStart(2, '0')).join('');
}

/**
 * `n` colours spread evenly along the piecewise-linear ramp through `anchors` (RGB
 * interpolation). With `n === anchors.length` the anchors come back unchanged.
 */
export function rampColours(anchors: readonly string[], n: number): string[] {
  if (anchors.length === 0) throw new Error('empty ramp');
  if (n <= 0) return [];
  const rgb = anchors.map(parseHex);
  if (n === 1) return [toHex(rgb[rgb.length - 1])];
  if (rgb.length === 1) return Array.from({ length: n }, () => toHex(rgb[0]));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = (i / (n - 1)) * (rgb.length - 1);
    const lo = Math.min(Math.floor(t), rgb.length - 2);
    const f = t - lo;
    const a = rgb[lo];
    const b = rgb[lo + 1];
    out.push(toHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]));
  }
  return out;
}

// ---------------------------------------------------------------- classification

/** Value of quantile `q` (0..1) of sorted values, linear interpolation (R type 7). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Decimal places used to round breaks, from the spread of the data. */
function breakDecimals(min: number, max: number): number {
  const range = max - min;
  if (range >= 100) return 0;
  if (range >= 10) return 1;
  if (range >= 1) return 2;
  return 3;
}

/**
 * Inner class breaks (at most `classes - 1`, strictly increasing, each above the minimum)
 * splitting `values` into quantile classes. Non-finite values are ignored. A value `v` is
 * in class `classify(v, breaks)`, i.e. class i holds breaks[i-1] <= v < breaks[i].
 * Ties and duplicate breaks merge classes, so fewer classes than asked may result.
 */
export function quantileBreaks(values: readonly number[], classes: number): number[] {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0 || classes < 2) return [];
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  const p = 10 ** breakDecimals(min, max);
  const breaks: number[] = [];
  for (let i = 1; i < classes; i++) {
    const b = Math.round(quantile(sorted, i / classes) * p) / p;
    if (b > min && b <= max && (breaks.length === 0 || b > breaks[breaks.length - 1])) breaks.push(b);
  }
  return breaks;
}

/** Class index of `v` given inner breaks (number of breaks <= v); null for null/NaN. */
export function classify(v: number | null | undefined, breaks: readonly number[]): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  let i = 0;
  while (i < breaks.length && v >= breaks[i]) i++;
  return i;
}

// ---------------------------------------------------------------- legend model

export interface LegendEntry {
  colour: string;
  label: string;
  /** Number of areas in this class. */
  count: number;
  /** A class of choice deserts (provider counts below the desert threshold). */
  desert?: boolean;
  /** A stable key of the class or category (data-class of its legend row). */
  key?: string;
}

export interface Legend {
  variable: Variable;
  title: string;
  note: string;
  /** Inner breaks; empty for a single class. For deciles: [2, 3, ..., 10]. */
  breaks: number[];
  entries: LegendEntry[];
  noData: LegendEntry;
  /** Lines shown under the legend list (access: method and choice-desert summary). */
  footnotes?: string[];
  /**
   * Categorical legends (catchments): the colours in use, drawn as one strip of swatches
   * instead of one row per category (`entries` is then empty).
   */
  palette?: string[];
}

/** The numeric value of `variable` in an area's properties, or null. */
export function valueOf(props: Partial<AreaProperties> | null | undefined, variable: AreaVariable): number | null {
  const v = props?.[variable];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Quantile classes of `values` (finite numbers) coloured along `anchors`: inner breaks and
 * one entry per class, labelled "min – max" of the class with `format`.
 */
export function quantileClasses(
  values: readonly number[],
  classes: number,
  anchors: readonly string[],
  format: (v: number) => string = formatBreak,
): { breaks: number[]; entries: LegendEntry[] } {
  if (values.length === 0) return { breaks: [], entries: [] };
  const breaks = quantileBreaks(values, classes);
  const n = breaks.length + 1;
  // Keep the full ramp's contrast when classes merge: take evenly spaced anchors.
  const colours = n === anchors.length ? [...anchors] : rampColours(anchors, n);
  const counts = new Array<number>(n).fill(0);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    counts[classify(v, breaks) ?? 0]++;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const bounds = [min, ...breaks, max];
  const entries = colours.map((colour, i) => ({
    colour,
    label: n === 1 ? format(min) : `${format(bounds[i])} – ${format(bounds[i + 1])}`,
    count: counts[i],
  }));
  return { breaks, entries };
}

/** Build the legend (classes, colours, labels, counts) for a variable from the areas' properties. */
export function buildLegend(variable: AreaVariable, areas: readonly Partial<AreaProperties>[]): Legend {
  const def = variableDef(variable);
  const values: number[] = [];
  let missing = 0;
  for (const a of areas) {
    const v = valueOf(a, variable);
    if (v === null) missing++;
    else values.push(v);
  }
  const noData: LegendEntry = { colour: NO_DATA_COLOUR, label: NO_DATA_LABEL, count: missing };

  if (def.mode === 'decile') {
    const colours = rampColours(def.anchors, 10);
    const breaks = [2, 3, 4, 5, 6, 7, 8, 9, 10];
    const counts = new Array<number>(10).fill(0);
    for (const v of values) {
      const c = classify(v, breaks);
      if (c !== null) counts[c]++;
    }
    const entries = colours.map((colour, i) => ({ colour, label: decileLabel(i + 1), count: counts[i] }));
    return { variable, title: def.title, note: def.note, breaks, entries, noData };
  }

  const { breaks, entries } = quantileClasses(values, def.classes, def.anchors);
  return { variable, title: def.title, note: def.note, breaks, entries, noData };
}

/**
 * The maplibre `fill-color` expression that draws a legend: a `step` over the legend's
 * breaks for numeric values. Anything that is not a number — a property absent from the
 * tile feature (suppressed or unknown), null, or a suppressed string such as "<10" — gets
 * the no-data colour, matching how `buildLegend` counts the attributes.
 * `input` is the value classified: the tile property named like the variable by default,
 * or e.g. `['feature-state', key]` for the access variables.
 */
export function fillColourExpression(
  legend: Legend,
  input: ExpressionSpecification = ['get', legend.variable],
): ExpressionSpecification | string {
  const get = input;
  if (legend.entries.length === 0) return NO_DATA_COLOUR;
  let classed: ExpressionSpecification | string;
  if (legend.breaks.length === 0) {
    classed = legend.entries[0].colour;
  } else {
    const stops: (number | string)[] = [];
    legend.breaks.forEach((b, i) => stops.push(b, legend.entries[i + 1].colour));
    classed = ['step', get, legend.entries[0].colour, ...stops] as ExpressionSpecification;
  }
  return ['case', ['==', ['typeof', get], 'number'], classed, NO_DATA_COLOUR];
}

/** Filter selecting the areas with no numeric value for a variable (drawn hatched). */
export function noDataFilter(variable: AreaVariable): FilterSpecification {
  return ['!=', ['typeof', ['get', variable]], 'number'];
}

// ---------------------------------------------------------------- DOM

/** Render the legend into its container (#legend). */
export function renderLegend(container: HTMLElement, legend: Legend): void {
  container.replaceChildren();
  const h = document.createElement('h2');
  h.textContent = legend.title;
  const note = document.createElement('p');
  note.className = 'legend-note';
  note.textContent = legend.note;
  const list = document.createElement('ul');
  list.className = 'legend-list';
  const rows = [...legend.entries];
  for (const e of rows) list.append(legendRow(e, false));
  list.append(legendRow(legend.noData, true));
  container.append(h, note);
  if (legend.palette?.length) {
    const strip = document.createElement('div');
    strip.className = 'legend-palette';
    strip.setAttribute('aria-hidden', 'true');
    for (const c of legend.palette) {
      const sw = document.createElement('span');
      sw.className = 'swatch';
      sw.style.backgroundColor = c;
      strip.append(sw);
    }
    container.append(strip);
  }
  container.append(list);
  for (const line of legend.footnotes ?? []) {
    const p = document.createElement('p');
    p.className = 'legend-footnote';
    p.textContent = line;
    container.append(p);
  }
  container.dataset.variable = legend.variable;
}

function legendRow(e: LegendEntry, hatched: boolean): HTMLLIElement {
  const li = document.createElement('li');
  if (e.desert) li.className = 'legend-desert';
  if (e.key) li.dataset.class = e.key;
  const sw = document.createElement('span');
  sw.className = hatched ? 'swatch swatch-nodata' : 'swatch';
  if (!hatched) sw.style.backgroundColor = e.colour;
  sw.setAttribute('aria-hidden', 'true');
  const label = document.createElement('span');
  label.className = 'legend-label';
  label.textContent = e.label;
  const count = document.createElement('span');
  count.className = 'legend-count';
  count.textContent = e.count.toLocaleString('en-GB');
  count.title = `${e.count} areas`;
  li.append(sw, label, count);
  return li;
}
