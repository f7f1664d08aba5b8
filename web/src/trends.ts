// Trends and anticipatory need (issue 10): the trend of referrals in each area, referrals per
// period, hot and cold spots, emerging hot spots and projected demand (GET /api/trends,
// /api/hotspots, /api/projection), and the early-warning list (GET /api/early-warning).
//
// The pure part (no DOM, no map; unit-tested in test/trends.test.ts): period labels, the
// values put into the areas' feature-state, palettes, legends and paint expressions, hover
// and list texts, friendly error messages and the sparkline geometry. The DOM part at the
// bottom builds the Trends section, its lists, the area panel's Trend block and the SVG.

import type { ExpressionSpecification } from 'maplibre-gl';
import {
  ApiError,
  describeError,
  type AreaProperties,
  type Count,
  type EarlyWarningArea,
  type EmergingCategory,
  type HotspotArea,
  type HotspotClass,
  type HotspotsResponse,
  type ProjectionArea,
  type ProjectionResponse,
  type TrendArea,
  type TrendDirection,
  type TrendsResponse,
} from './api';
import { NO_VALUE, formatBreak, formatCount, formatNumber, humanize } from './format';
import { NO_DATA_COLOUR, NO_DATA_LABEL, classify, quantileBreaks, rampColours, variableDef, type Legend, type LegendEntry, type TrendsVariable } from './legend';
import { el } from './panels';

// ---------------------------------------------------------------- constants

/** Feature-state keys on the `areas` features, one per trends variable. */
export const TRENDS_STATE_KEYS: Readonly<Record<TrendsVariable, string>> = {
  trend: 'trend_direction',
  trend_counts: 'trend_count',
  hotspots: 'hotspot_class',
  emerging_hotspots: 'emerging_category',
  projection: 'projected',
};

/** Periods projected: the horizon asked of /api/projection and /api/early-warning. */
export const PROJECTION_HORIZON = 3;
/** Rising areas listed in the Trends section. */
export const RISING_LIMIT = 10;

/** Which API table a trends variable is drawn from. */
export type TrendsSource = 'trends' | 'hotspots' | 'emerging' | 'projection';

export function trendsSource(v: TrendsVariable): TrendsSource {
  switch (v) {
    case 'trend':
    case 'trend_counts':
      return 'trends';
    case 'hotspots':
      return 'hotspots';
    case 'emerging_hotspots':
      return 'emerging';
    case 'projection':
      return 'projection';
  }
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

// ---------------------------------------------------------------- periods

const MONTHS_SHORT = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * A period as the server labels it ("2024-03", "2024-Q1", "2024") in words: "Mar 2024",
 * "Q1 2024", "2024"; `long`: "March 2024", "Q1 2024 (January to March)", "2024". Anything
 * else is shown as sent.
 */
export function periodLabel(p: string | null | undefined, long = false): string {
  if (typeof p !== 'string' || !p.trim()) return NO_VALUE;
  const s = p.trim();
  let m = /^(\d{4})-(\d{1,2})$/.exec(s);
  if (m) {
    const month = Number(m[2]);
    if (month >= 1 && month <= 12) return `${(long ? MONTHS_LONG : MONTHS_SHORT)[month - 1]} ${m[1]}`;
  }
  m = /^(\d{4})-?Q([1-4])$/i.exec(s);
  if (m) {
    const q = Number(m[2]);
    const first = (q - 1) * 3;
    return long ? `Q${q} ${m[1]} (${MONTHS_LONG[first]} to ${MONTHS_LONG[first + 2]})` : `Q${q} ${m[1]}`;
  }
  return s;
}

/** The noun of a period kind: "month" / "months" (quarter, year; anything else "period"). */
export function periodNoun(kind: string | null | undefined, plural = false): string {
  const k = kind === 'month' || kind === 'quarter' || kind === 'year' ? kind : 'period';
  return plural ? `${k}s` : k;
}

/** "a month", "a quarter", "a year", "per period". */
export function perPeriod(kind: string | null | undefined): string {
  const k = periodNoun(kind);
  return k === 'period' ? 'per period' : `a ${k}`;
}

/** An index into `n` periods: rounded and clamped; null (or no periods) gives the last. */
export function clampIndex(i: number | null | undefined, n: number): number {
  if (n <= 0) return 0;
  if (i === null || i === undefined || !Number.isFinite(i)) return n - 1;
  return Math.min(n - 1, Math.max(0, Math.round(i)));
}

/** What a period slider shows: the label beside it, its aria-valuetext and its position. */
export function sliderText(periods: readonly string[], index: number | null | undefined): { label: string; valuetext: string; position: string } {
  if (!periods.length) return { label: NO_VALUE, valuetext: 'No periods', position: '' };
  const i = clampIndex(index, periods.length);
  return { label: periodLabel(periods[i]), valuetext: periodLabel(periods[i], true), position: `${i + 1} of ${periods.length}` };
}

/** "Mar 2023 – Feb 2025". */
export function periodRange(periods: readonly string[]): string {
  if (!periods.length) return NO_VALUE;
  if (periods.length === 1) return periodLabel(periods[0]);
  return `${periodLabel(periods[0])} – ${periodLabel(periods[periods.length - 1])}`;
}

// ---------------------------------------------------------------- formatting

/** A q- or p-value: "0.012", "< 0.001"; null: a dash. */
export function formatQ(q: number | null | undefined): string {
  const v = num(q);
  if (v === null) return NO_VALUE;
  if (v < 0.001) return '< 0.001';
  return v.toFixed(3);
}

/** A signed number with a real minus sign: "+12.3", "−8", "0". */
export function signed(v: number, digits = 1): string {
  const r = Number(v.toFixed(digits));
  if (r === 0) return '0';
  const s = formatNumber(Math.abs(r), digits);
  return r > 0 ? `+${s}` : `−${s}`;
}

/** Growth in percent a year: "+12.3 % a year"; null: a dash. */
export function formatGrowth(pct: number | null | undefined): string {
  const v = num(pct);
  return v === null ? NO_VALUE : `${signed(v)} % a year`;
}

/** The prediction interval: "95 % interval 20–45" (protected counts as sent). */
export function intervalText(lower: Count | null | undefined, upper: Count | null | undefined, level: number | null | undefined): string {
  const l = num(level);
  const pct = l === null ? '' : `${formatNumber(l <= 1 ? l * 100 : l, 1)} % `;
  if ((lower === null || lower === undefined) && (upper === null || upper === undefined)) return `${pct}interval not known`;
  return `${pct}interval ${formatCount(lower)}–${formatCount(upper)}`;
}

/** A projected count: whole numbers as counts, fractions with one decimal; protected ones as sent. */
export function formatProjected(c: Count | null | undefined): string {
  if (typeof c === 'number') return formatNumber(c, Number.isInteger(c) ? 0 : 1);
  return formatCount(c);
}

/** The name of the trend test: "Mann-Kendall", "Poisson". */
export function testName(t: string | null | undefined): string {
  if (!t) return 'trend';
  const k = t.toLowerCase();
  if (k === 'mann-kendall' || k === 'mann_kendall' || k === 'mk') return 'Mann-Kendall';
  if (k === 'poisson') return 'Poisson';
  return humanize(t);
}

/** The projection model in words: "trend", "damped trend (φ = 0.9)", "level". */
export function modelText(model: string | null | undefined): string {
  if (!model) return 'trend';
  const m = /^damped:?([\d.]+)?$/.exec(model);
  if (m) return m[1] ? `damped trend (φ = ${m[1]})` : 'damped trend';
  return model === 'level' ? 'level (no trend)' : model;
}

// ---------------------------------------------------------------- protected counts

/** How a count after disclosure control reads: a number, below the threshold ("<10"), withheld ("[c]") or missing. */
export type CountKind = 'value' | 'below' | 'withheld' | 'missing';

export function countKind(c: Count | null | undefined): CountKind {
  if (typeof c === 'number') return Number.isFinite(c) ? 'value' : 'missing';
  if (typeof c !== 'string') return 'missing';
  const s = c.trim();
  if (s === '') return 'missing';
  if (/^<\s*\d/.test(s)) return 'below';
  return 'withheld';
}

/** The threshold of a count shown as "<N": N (null for anything else). */
export function belowThreshold(c: Count | null | undefined): number | null {
  if (typeof c !== 'string') return null;
  const m = /^<\s*(\d+(?:\.\d+)?)/.exec(c.trim());
  return m ? Number(m[1]) : null;
}

/** Colours of the protected counts, outside the class ramps. */
export const WITHHELD_COLOUR = '#737373';
export const WITHHELD_LABEL = 'withheld [c], so that small counts nearby cannot be worked out';
/** Colour of counts below the disclosure threshold, per variable: the lightest step of its ramp. */
export const BELOW_COLOURS: Readonly<Record<'trend_counts' | 'projection', string>> = {
  trend_counts: '#ffffd4',
  projection: '#f1eef6',
};

/**
 * The feature-state value of a protected count: the number, the string as sent for a count
 * below the threshold ("<10"), "[c]" for a withheld count, null when missing.
 */
export function countStateValue(c: Count | null | undefined): number | string | null {
  switch (countKind(c)) {
    case 'value':
      return c as number;
    case 'below':
      return (c as string).trim();
    case 'withheld':
      return '[c]';
    case 'missing':
      return null;
  }
}

/** One colour scale for a protected-count variable: quantile breaks over every numeric value given. */
export interface CountScale {
  breaks: number[];
  colours: string[];
  min: number;
  max: number;
  /** The "<N" label of counts below the threshold (the first seen; "<10" when none). */
  below: string;
}

/** The scale of a protected-count variable over all its values (all periods, so that a colour means the same in every period). */
export function countScale(values: Iterable<Count | null | undefined>, anchors: readonly string[], classes: number): CountScale {
  const nums: number[] = [];
  let below: string | null = null;
  for (const v of values) {
    const k = countKind(v);
    if (k === 'value') nums.push(v as number);
    else if (k === 'below' && below === null) below = (v as string).trim();
  }
  const breaks = quantileBreaks(nums, classes);
  const n = breaks.length + 1;
  const colours = n === anchors.length ? [...anchors] : rampColours(anchors, n);
  let min = Infinity;
  let max = -Infinity;
  for (const v of nums) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { breaks, colours, min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0, below: below ?? '<10' };
}

/** "fewer than 10 (<10)". */
export function belowLabel(below: string): string {
  const n = belowThreshold(below);
  return n === null ? below : `fewer than ${formatNumber(n)} (${below})`;
}

/**
 * Legend entries of protected counts on a scale: counts below the threshold first (their
 * own swatch), the classes, then withheld counts (their own swatch); missing ones in noData.
 */
export function countEntries(
  cells: readonly (Count | null | undefined)[],
  scale: CountScale,
  belowColour: string,
  format: (v: number) => string = formatBreak,
): { entries: LegendEntry[]; noData: LegendEntry } {
  const counts = new Array<number>(scale.colours.length).fill(0);
  let below = 0;
  let withheld = 0;
  let missing = 0;
  for (const c of cells) {
    const k = countKind(c);
    if (k === 'value') counts[Math.min(classify(c as number, scale.breaks) ?? 0, counts.length - 1)]++;
    else if (k === 'below') below++;
    else if (k === 'withheld') withheld++;
    else missing++;
  }
  const bounds = [scale.min, ...scale.breaks, scale.max];
  const classes: LegendEntry[] = scale.colours.map((colour, i) => ({
    colour,
    label: scale.colours.length === 1 ? format(scale.min) : `${format(bounds[i])} – ${format(bounds[i + 1])}`,
    count: counts[i],
    key: `class-${i}`,
  }));
  return {
    entries: [{ colour: belowColour, label: belowLabel(scale.below), count: below, key: 'below' }, ...classes, { colour: WITHHELD_COLOUR, label: WITHHELD_LABEL, count: withheld, key: 'withheld' }],
    noData: { colour: NO_DATA_COLOUR, label: 'no data', count: missing, key: 'nodata' },
  };
}

/** `fill-color` of a protected count in the feature-state `key`: classes, "<N", "[c]", no data. */
export function countFillExpression(key: string, scale: CountScale, belowColour: string): ExpressionSpecification {
  const input: ExpressionSpecification = ['feature-state', key];
  const stops: (number | string)[] = [];
  scale.breaks.forEach((b, i) => stops.push(b, scale.colours[i + 1]));
  const first = scale.colours[0] ?? NO_DATA_COLOUR;
  const stepped: ExpressionSpecification | string = stops.length ? (['step', ['to-number', input], first, ...stops] as ExpressionSpecification) : first;
  return [
    'case',
    ['==', ['typeof', input], 'number'],
    stepped,
    ['==', ['to-string', input], '[c]'],
    WITHHELD_COLOUR,
    ['==', ['typeof', input], 'string'],
    belowColour,
    NO_DATA_COLOUR,
  ];
}

/** `fill-opacity` of the hatching layer for a trends key: hatched only where the state holds no value at all. */
export function trendsNoDataOpacity(key: string, opacity: number): ExpressionSpecification {
  const t: ExpressionSpecification = ['typeof', ['feature-state', key]];
  return ['case', ['any', ['==', t, 'number'], ['==', t, 'string']], 0, opacity];
}

/** `fill-color` of a categorical trends key (direction, hot spot class, emerging category). */
export function categoryFillExpression(key: string, colours: Readonly<Record<string, string>>, fallback: string): ExpressionSpecification {
  const input: ExpressionSpecification = ['feature-state', key];
  const pairs = Object.entries(colours).flat();
  const match = (pairs.length ? ['match', ['to-string', input], ...pairs, fallback] : fallback) as ExpressionSpecification;
  return ['case', ['==', ['typeof', input], 'string'], match, NO_DATA_COLOUR];
}

// ---------------------------------------------------------------- aligning rows with the areas

/** Rows in feature-id order (element i belongs to `areas[i]`), matched by area_id; null where missing. */
export function alignRows<T extends { area_id: string }>(areas: readonly Partial<AreaProperties>[], rows: readonly T[]): (T | null)[] {
  const byId = new Map<string, T>();
  for (const r of rows) if (r && typeof r.area_id === 'string') byId.set(r.area_id, r);
  return areas.map((a) => (typeof a?.area_id === 'string' ? (byId.get(a.area_id) ?? null) : null));
}

// ---------------------------------------------------------------- trend direction

export const TREND_DIRECTIONS: readonly TrendDirection[] = ['rising', 'none', 'falling'];
/** Rising = warm, none = neutral, falling = cool (ColorBrewer RdBu ends: colour-blind safe). */
export const TREND_COLOURS: Readonly<Record<TrendDirection, string>> = { rising: '#d6604d', none: '#e7e7e7', falling: '#4393c3' };
export const TREND_ARROWS: Readonly<Record<TrendDirection, string>> = { rising: '↑', none: '→', falling: '↓' };
const TREND_WORDS: Readonly<Record<TrendDirection, string>> = { rising: 'Rising', none: 'No significant trend', falling: 'Falling' };

/** A direction as sent, or null when unknown. */
export function directionOf(row: Pick<TrendArea, 'direction'> | null | undefined): TrendDirection | null {
  const d: string | undefined = row?.direction;
  return d === 'rising' || d === 'falling' || d === 'none' ? d : null;
}

/** "↑ Rising", "↓ Falling", "→ No significant trend". */
export function directionText(d: TrendDirection | null): string {
  return d === null ? 'No trend known' : `${TREND_ARROWS[d]} ${TREND_WORDS[d]}`;
}

/** Feature-state of one area for the Trend variable. */
export function trendState(row: TrendArea | null | undefined): Record<string, string | null> {
  return { [TRENDS_STATE_KEYS.trend]: directionOf(row) };
}

/** Feature-state of one area for Referrals per period: its count in period `k`. */
export function trendCountState(row: TrendArea | null | undefined, k: number): Record<string, number | string | null> {
  return { [TRENDS_STATE_KEYS.trend_counts]: countStateValue(row?.counts?.[k]) };
}

/** Periods left out because the extract covers them only in part. */
function partialNote(partial: unknown[] | undefined): string | null {
  const labels = (partial ?? []).filter((p): p is string => typeof p === 'string').map((p) => periodLabel(p));
  if (!labels.length) return null;
  return `Left out, as only partly covered: ${labels.join(', ')}.`;
}

/** The trends table's context line: "24 months, Mar 2023 – Feb 2025". */
export function trendsSpan(d: Pick<TrendsResponse, 'period' | 'periods'>): string {
  const n = d.periods.length;
  return `${formatNumber(n)} ${periodNoun(d.period, n !== 1)}, ${periodRange(d.periods)}`;
}

/** Legend of the Trend variable: rising, no significant trend, falling; no data hatched. */
export function buildTrendLegend(rows: readonly (TrendArea | null)[], d: Pick<TrendsResponse, 'period' | 'periods' | 'test' | 'alpha' | 'group' | 'partial'>): Legend {
  const counts: Record<TrendDirection, number> = { rising: 0, none: 0, falling: 0 };
  let missing = 0;
  for (const r of rows) {
    const dir = directionOf(r);
    if (dir === null) missing++;
    else counts[dir]++;
  }
  const alpha = num(d.alpha);
  const fdr = alpha === null ? '' : `, false discovery rate ${formatNumber(alpha * 100, 1)} %`;
  const who = d.group ? ` (${humanize(d.group).toLowerCase()})` : '';
  const footnotes = ['The significance (q: the p-value adjusted for testing every area) is in the hover text and the area panel.'];
  const partial = partialNote(d.partial);
  if (partial) footnotes.push(partial);
  return {
    variable: 'trend',
    title: `Trend of referrals${who}`,
    note: `${trendsSpan(d)}; ${testName(d.test)} test${fdr}. Rising = warm, falling = cool.`,
    breaks: [],
    entries: TREND_DIRECTIONS.map((dir) => ({ colour: TREND_COLOURS[dir], label: directionText(dir), count: counts[dir], key: dir })),
    noData: { colour: NO_DATA_COLOUR, label: NO_DATA_LABEL, count: missing, key: 'nodata' },
    footnotes,
  };
}

export function trendFillExpression(): ExpressionSpecification {
  return categoryFillExpression(TRENDS_STATE_KEYS.trend, TREND_COLOURS, TREND_COLOURS.none);
}

/** The scale of Referrals per period: every count of every period. */
export function trendCountScale(d: Pick<TrendsResponse, 'areas'>): CountScale {
  const def = variableDef('trend_counts');
  function* all(): Generator<Count> {
    for (const a of d.areas) for (const c of a?.counts ?? []) yield c;
  }
  return countScale(all(), def.anchors, def.classes);
}

/** Legend of Referrals per period for period `k`. */
export function buildTrendCountLegend(rows: readonly (TrendArea | null)[], k: number, scale: CountScale, d: Pick<TrendsResponse, 'period' | 'periods' | 'group'>): Legend {
  const { entries, noData } = countEntries(
    rows.map((r) => r?.counts?.[k] ?? null),
    scale,
    BELOW_COLOURS.trend_counts,
  );
  const who = d.group ? ` (${humanize(d.group).toLowerCase()})` : '';
  return {
    variable: 'trend_counts',
    title: `Referrals${who} in ${periodLabel(d.periods[k], true)}`,
    note: `Referrals per ${periodNoun(d.period)}; one scale for all ${formatNumber(d.periods.length)} ${periodNoun(d.period, true)} (quintiles of every published count); darker = more.`,
    breaks: scale.breaks,
    entries,
    noData,
    footnotes: ['Counts below the threshold and counts withheld to protect them have their own colours.'],
  };
}

export function trendCountFillExpression(scale: CountScale): ExpressionSpecification {
  return countFillExpression(TRENDS_STATE_KEYS.trend_counts, scale, BELOW_COLOURS.trend_counts);
}

// ---------------------------------------------------------------- hot spots

/** Gi* classes in legend order, coldest first. */
export const HOTSPOT_CLASSES: readonly HotspotClass[] = ['cold_99', 'cold_95', 'cold_90', 'not_significant', 'hot_90', 'hot_95', 'hot_99'];

/** ColorBrewer RdBu, 7 classes (colour-blind safe), cold 99 % to hot 99 %. */
export const HOTSPOT_COLOURS: Readonly<Record<HotspotClass, string>> = Object.fromEntries(
  HOTSPOT_CLASSES.map((c, i) => [c, variableDef('hotspots').anchors[i]]),
) as Record<HotspotClass, string>;

/** "Hot spot, 99 % confidence", "Cold spot, 90 % confidence", "Not significant". */
export function hotspotLabel(c: string | null | undefined): string {
  if (!c) return 'No data';
  if (c === 'not_significant') return 'Not significant';
  const m = /^(hot|cold)_(\d+)$/.exec(c);
  if (m) return `${m[1] === 'hot' ? 'Hot' : 'Cold'} spot, ${m[2]} % confidence`;
  return humanize(c);
}

export function hotspotState(row: HotspotArea | null | undefined): Record<string, string | null> {
  const c = row?.class;
  return { [TRENDS_STATE_KEYS.hotspots]: typeof c === 'string' && c ? c : null };
}

export function emergingState(row: HotspotArea | null | undefined): Record<string, string | null> {
  const c = row?.emerging;
  return { [TRENDS_STATE_KEYS.emerging_hotspots]: typeof c === 'string' && c ? c : null };
}

function hotspotBasis(d: Pick<HotspotsResponse, 'value' | 'weights' | 'fdr' | 'alpha' | 'periods'>): string {
  const value = d.value === 'count' ? 'Referrals' : d.value === 'rate' || !d.value ? 'Referral rates' : humanize(d.value);
  const weights = d.weights ? `; neighbours by ${d.weights}` : '';
  const fdr = d.fdr ? '; false discovery rate controlled' : '';
  const span = Array.isArray(d.periods) && d.periods.length ? ` over ${periodRange(d.periods)}` : '';
  return `${value}${span}${weights}${fdr}`;
}

/** Legend of hot spots: every Gi* class in order cold_99 … hot_99, with counts of areas. */
export function buildHotspotLegend(rows: readonly (HotspotArea | null)[], d: Pick<HotspotsResponse, 'value' | 'weights' | 'fdr' | 'alpha' | 'periods'>): Legend {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const r of rows) {
    const c = hotspotState(r)[TRENDS_STATE_KEYS.hotspots];
    if (c === null) missing++;
    else counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  return {
    variable: 'hotspots',
    title: 'Hot and cold spots (Getis-Ord Gi*)',
    note: `Clusters of areas with high (hot) or low (cold) values among their neighbours. ${hotspotBasis(d)}.`,
    breaks: [],
    entries: HOTSPOT_CLASSES.map((c) => ({ colour: HOTSPOT_COLOURS[c], label: hotspotLabel(c), count: counts.get(c) ?? 0, key: c })),
    noData: { colour: NO_DATA_COLOUR, label: NO_DATA_LABEL, count: missing, key: 'nodata' },
    footnotes: ['Confidence after controlling the false discovery rate across areas; q-values in the hover text.'],
  };
}

export function hotspotFillExpression(): ExpressionSpecification {
  return categoryFillExpression(TRENDS_STATE_KEYS.hotspots, HOTSPOT_COLOURS, HOTSPOT_COLOURS.not_significant);
}

/** Emerging hot and cold spot categories in legend order: hot patterns, cold patterns, no pattern. */
export const EMERGING_CATEGORIES: readonly EmergingCategory[] = [
  'new_hot_spot',
  'consecutive_hot_spot',
  'intensifying_hot_spot',
  'persistent_hot_spot',
  'diminishing_hot_spot',
  'sporadic_hot_spot',
  'oscillating_hot_spot',
  'historical_hot_spot',
  'new_cold_spot',
  'consecutive_cold_spot',
  'intensifying_cold_spot',
  'persistent_cold_spot',
  'diminishing_cold_spot',
  'sporadic_cold_spot',
  'oscillating_cold_spot',
  'historical_cold_spot',
  'no_pattern',
];

/**
 * Hot patterns in reds and oranges (ColorBrewer RdYlBu's warm half) and pinks (PiYG) for the
 * irregular ones; cold patterns in blues (RdYlBu's cool half) and greens (PiYG); no pattern neutral.
 */
export const EMERGING_COLOURS: Readonly<Record<EmergingCategory, string>> = {
  new_hot_spot: '#a50026',
  consecutive_hot_spot: '#d73027',
  intensifying_hot_spot: '#f46d43',
  persistent_hot_spot: '#fdae61',
  diminishing_hot_spot: '#fee090',
  sporadic_hot_spot: '#c51b7d',
  oscillating_hot_spot: '#de77ae',
  historical_hot_spot: '#f1b6da',
  new_cold_spot: '#313695',
  consecutive_cold_spot: '#4575b4',
  intensifying_cold_spot: '#74add1',
  persistent_cold_spot: '#abd9e9',
  diminishing_cold_spot: '#e0f3f8',
  sporadic_cold_spot: '#1b7837',
  oscillating_cold_spot: '#5aae61',
  historical_cold_spot: '#a6dba0',
  no_pattern: '#f7f7f7',
};

/** "New hot spot", "No pattern". */
export function emergingLabel(c: string | null | undefined): string {
  return c ? humanize(c) : 'No data';
}

/** Legend of emerging hot spots: the categories present, in the canonical order (unknown ones after). */
export function buildEmergingLegend(rows: readonly (HotspotArea | null)[], d: Pick<HotspotsResponse, 'value' | 'weights' | 'fdr' | 'alpha' | 'periods'>): Legend {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const r of rows) {
    const c = emergingState(r)[TRENDS_STATE_KEYS.emerging_hotspots];
    if (c === null) missing++;
    else counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  const known = new Set<string>(EMERGING_CATEGORIES);
  const order = [...EMERGING_CATEGORIES.filter((c) => counts.has(c)), ...[...counts.keys()].filter((c) => !known.has(c)).sort()];
  return {
    variable: 'emerging_hotspots',
    title: 'Emerging hot and cold spots',
    note: `How each area’s hot or cold spot status has developed, period by period. ${hotspotBasis(d)}.`,
    breaks: [],
    entries: order.map((c) => ({ colour: EMERGING_COLOURS[c as EmergingCategory] ?? EMERGING_COLOURS.no_pattern, label: emergingLabel(c), count: counts.get(c) ?? 0, key: c })),
    noData: { colour: NO_DATA_COLOUR, label: NO_DATA_LABEL, count: missing, key: 'nodata' },
    footnotes: ['Categories as in ArcGIS’s emerging hot spot analysis: e.g. “new” = a hot spot in the last period only, “intensifying” = a hot spot in most periods, growing stronger.'],
  };
}

export function emergingFillExpression(): ExpressionSpecification {
  return categoryFillExpression(TRENDS_STATE_KEYS.emerging_hotspots, EMERGING_COLOURS, EMERGING_COLOURS.no_pattern);
}

// ---------------------------------------------------------------- projected demand

export function projectionState(row: ProjectionArea | null | undefined, k: number): Record<string, number | string | null> {
  return { [TRENDS_STATE_KEYS.projection]: countStateValue(row?.projected?.[k]) };
}

/** The scale of Projected demand: every projected value of every horizon period. */
export function projectionScale(d: Pick<ProjectionResponse, 'areas'>): CountScale {
  const def = variableDef('projection');
  function* all(): Generator<Count> {
    for (const a of d.areas) for (const c of a?.projected ?? []) yield c;
  }
  return countScale(all(), def.anchors, def.classes);
}

/** "95 %" from a level of 0.95 (or 95). */
export function levelText(level: number | null | undefined): string {
  const l = num(level);
  return l === null ? '95 %' : `${formatNumber(l <= 1 ? l * 100 : l, 1)} %`;
}

/** Legend of projected demand for horizon period `k`. */
export function buildProjectionLegend(rows: readonly (ProjectionArea | null)[], k: number, scale: CountScale, d: Pick<ProjectionResponse, 'period' | 'periods' | 'level' | 'model' | 'region'>): Legend {
  const { entries, noData } = countEntries(
    rows.map((r) => r?.projected?.[k] ?? null),
    scale,
    BELOW_COLOURS.projection,
  );
  const footnotes: string[] = [];
  const region = d.region;
  if (region && Array.isArray(region.projected) && region.projected[k] !== undefined) {
    footnotes.push(`Whole region: ${formatProjected(region.projected[k])} referrals projected (${intervalText(region.lower?.[k], region.upper?.[k], d.level)}).`);
  }
  return {
    variable: 'projection',
    title: `Projected referrals in ${periodLabel(d.periods[k], true)}`,
    note: `Referrals per ${periodNoun(d.period)} (${modelText(d.model)} model): projected, ${levelText(d.level)} interval in the area panel. One scale for every projected ${periodNoun(d.period)}; darker = more.`,
    breaks: scale.breaks,
    entries,
    noData,
    footnotes,
  };
}

export function projectionFillExpression(scale: CountScale): ExpressionSpecification {
  return countFillExpression(TRENDS_STATE_KEYS.projection, scale, BELOW_COLOURS.projection);
}

// ---------------------------------------------------------------- hover texts

/** "↑ Rising: +12.3 % a year (q = 0.012)". */
export function trendHover(row: TrendArea | null | undefined): string {
  const d = directionOf(row);
  if (!row || d === null) return 'Trend: no data';
  const growth = num(row.growth_pct_per_year);
  const g = d !== 'none' && growth !== null ? `: ${formatGrowth(growth)}` : '';
  return `${directionText(d)}${g} (q = ${formatQ(row.q)})`;
}

/** "Referrals in Mar 2024: 25", "…: fewer than 10", "…: withheld [c]". */
export function countHover(c: Count | null | undefined, period: string | null | undefined, what = 'Referrals'): string {
  const at = `${what} in ${periodLabel(period)}`;
  switch (countKind(c)) {
    case 'value':
      return `${at}: ${formatProjected(c)}`;
    case 'below':
      return `${at}: ${belowLabel((c as string).trim())}`;
    case 'withheld':
      return `${at}: withheld [c]`;
    case 'missing':
      return `${at}: no data`;
  }
}

/** "Hot spot, 99 % confidence (q = 0.001)". */
export function hotspotHover(row: HotspotArea | null | undefined): string {
  if (!row || typeof row.class !== 'string') return 'Hot spots: no data';
  const q = num(row.q) === null ? '' : ` (q = ${formatQ(row.q)})`;
  return `${hotspotLabel(row.class)}${q}`;
}

export function emergingHover(row: HotspotArea | null | undefined): string {
  return row && typeof row.emerging === 'string' ? emergingLabel(row.emerging) : 'Emerging hot spots: no data';
}

/** "Projected referrals in Apr 2025: 42 (95 % interval 30–55)". */
export function projectionHover(row: ProjectionArea | null | undefined, k: number, d: Pick<ProjectionResponse, 'periods' | 'level'>): string {
  const base = countHover(row?.projected?.[k], d.periods[k], 'Projected referrals');
  if (!row || countKind(row.projected?.[k]) === 'missing') return base;
  return `${base} (${intervalText(row.lower?.[k], row.upper?.[k], d.level)})`;
}

// ---------------------------------------------------------------- lists

/** Reasons of the early-warning list in words (both the short and the analysis' own names). */
const REASON_TEXT: Readonly<Record<string, string>> = {
  rate: 'high referral rate',
  high_rate: 'high referral rate',
  growth: 'fast growth',
  fast_growth: 'fast growth',
  hotspot: 'hot spot',
  hot_spot: 'hot spot',
  emerging: 'emerging hot spot',
  emerging_hot_spot: 'emerging hot spot',
};

export function reasonText(r: string): string {
  return REASON_TEXT[r] ?? humanize(r).toLowerCase();
}

/** "High referral rate, fast growth and hot spot". */
export function reasonsText(reasons: readonly string[]): string {
  const words = reasons.map(reasonText);
  if (!words.length) return 'No reason given';
  const joined = words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
  return joined.charAt(0).toUpperCase() + joined.slice(1);
}

/** "Name (code)" or the code. */
export function areaName(areaId: string, name: string | null | undefined): string {
  return name?.trim() ? `${name.trim()} (${areaId})` : areaId;
}

/**
 * One row of the early-warning list:
 * "Carronside 4 (DZ000123) — High referral rate and fast growth: 41.2 per 1,000 a year; +15.0 % a year; 42 projected a month".
 */
export function earlyWarningText(w: EarlyWarningArea, name: string | null | undefined, periodKind?: string | null): string {
  const parts: string[] = [];
  const rate = num(w.rate_per_1000);
  if (rate !== null) parts.push(`${formatNumber(rate, 1)} per 1,000 a year`);
  const growth = num(w.growth_pct_per_year);
  if (growth !== null) parts.push(formatGrowth(growth));
  if (w.projected !== null && w.projected !== undefined && countKind(w.projected) !== 'missing') parts.push(`${formatProjected(w.projected)} projected ${perPeriod(periodKind)}`);
  const figures = parts.length ? `: ${parts.join('; ')}` : '';
  return `${areaName(w.area_id, name)} — ${reasonsText(Array.isArray(w.reasons) ? w.reasons : [])}${figures}`;
}

/** One row of the rising areas: "Carronside 4 (DZ000123): +12.3 % a year (q = 0.012)". */
export function risingText(areaId: string, row: TrendArea | null | undefined, name: string | null | undefined): string {
  if (!row) return areaName(areaId, name);
  return `${areaName(areaId, name)}: ${formatGrowth(row.growth_pct_per_year)} (q = ${formatQ(row.q)})`;
}

/** The first `limit` rising areas, in the server's order. */
export function topRising(d: Pick<TrendsResponse, 'rising'>, limit = RISING_LIMIT): string[] {
  return (Array.isArray(d.rising) ? d.rising : []).filter((x) => typeof x === 'string').slice(0, limit);
}

// ---------------------------------------------------------------- errors

/** What each table is called in messages. */
export const SOURCE_WORDS: Readonly<Record<TrendsSource | 'early-warning', string>> = {
  trends: 'trends',
  hotspots: 'hot spots',
  emerging: 'emerging hot spots',
  projection: 'projected demand',
  'early-warning': 'the early-warning list',
};

/**
 * A friendly message for a failed trends request: a 404 means the server predates these
 * analyses; client errors give the server's message; anything else its description.
 */
export function trendsErrorMessage(e: unknown, what: string): string {
  if (e instanceof ApiError) {
    if (e.status === 404) return `This server does not offer ${what} yet (it may be an older version of needmap).`;
    if (e.status === 0) return `Could not load ${what}: the server could not be reached.`;
    if (e.status === 401 || e.status === 403) return `Could not load ${what}: ${e.message} (not available to this user).`;
    if (e.status >= 400 && e.status < 500) return `Could not load ${what}: ${e.message}`;
    return `Could not load ${what}: the server had a problem (${e.status}). Try again later.`;
  }
  return `Could not load ${what}: ${describeError(e)}`;
}

function joinWords(words: readonly string[], last: string): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} ${last} ${words[words.length - 1]}`;
}

/** True when a request failed because the server has no such route (an older server). */
export function isMissingRoute(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404;
}

/**
 * The status line of the Trends section for the requests that failed: the tables a server
 * does not offer (404) named in one sentence; other failures of tables without a list of
 * their own (`listed` false: the projection behind its slider) with their message. Lists
 * show their own other failures.
 */
export function sectionStatus(failures: readonly { what: string; error: unknown; listed: boolean }[]): string {
  const missing = failures.filter((f) => isMissingRoute(f.error)).map((f) => f.what);
  const parts: string[] = [];
  if (missing.length) parts.push(`This server does not offer ${joinWords(missing, 'or')} yet (it may be an older version of needmap).`);
  for (const f of failures) if (!isMissingRoute(f.error) && !f.listed) parts.push(trendsErrorMessage(f.error, f.what));
  return parts.join(' ');
}

/** The message of a list that could not be loaded: short when the status line explains (404). */
export function listErrorText(e: unknown, what: string): string {
  return isMissingRoute(e) ? 'Not available from this server.' : trendsErrorMessage(e, what);
}

// ---------------------------------------------------------------- sparkline geometry

export interface SparkPoint {
  x: number;
  y: number;
}

/** An SVG path through the points, lifting the pen at each null (a gap). */
export function sparklinePath(points: readonly (SparkPoint | null)[]): string {
  const r = (v: number): string => String(Math.round(v * 100) / 100);
  let out = '';
  let pen = false;
  for (const p of points) {
    if (!p || !Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    out += `${out ? ' ' : ''}${pen ? 'L' : 'M'}${r(p.x)},${r(p.y)}`;
    pen = true;
  }
  return out;
}

/** A closed SVG path of the band between upper and lower points (same x, in order); empty with fewer than two. */
export function bandPath(upper: readonly SparkPoint[], lower: readonly SparkPoint[]): string {
  if (upper.length < 2 || upper.length !== lower.length) return '';
  const line = sparklinePath([...upper, ...[...lower].reverse()]);
  return line ? `${line} Z` : '';
}

/** One bar of the sparkline: an observed period. */
export interface SparkBar {
  x: number;
  y: number;
  width: number;
  height: number;
  kind: CountKind;
  period: string;
  /** "Mar 2024: 25 referrals". */
  label: string;
}

export interface SparkInput {
  periods: readonly string[];
  counts: readonly Count[];
  periodKind?: string | null;
  projection?: { periods: readonly string[]; projected: readonly Count[]; lower: readonly Count[]; upper: readonly Count[]; level: number | null } | null;
  /** The trend in words, added to the summary (e.g. "↑ Rising: +12.3 % a year (q = 0.012)"). */
  trend?: string | null;
}

export interface SparkModel {
  width: number;
  height: number;
  /** The value at the top of the chart. */
  max: number;
  bars: SparkBar[];
  /** x of the boundary between observed and projected periods (null without a projection). */
  divider: number | null;
  /** Projected values: dashed line from the last observed count, and the interval band. */
  projectedLine: string;
  band: string;
  projectedPoints: (SparkPoint & { label: string })[];
  /** The text alternative of the chart. */
  summary: string;
}

function countValueForScale(c: Count | null | undefined): number | null {
  const k = countKind(c);
  if (k === 'value') return c as number;
  if (k === 'below') return belowThreshold(c);
  return null;
}

function referralsWord(n: number | null): string {
  return n === 1 ? 'referral' : 'referrals';
}

/** The words for one count: "25 referrals", "fewer than 10 referrals", "withheld", "no data". */
export function countWords(c: Count | null | undefined): string {
  switch (countKind(c)) {
    case 'value':
      return `${formatProjected(c)} ${referralsWord(c as number)}`;
    case 'below':
      return `fewer than ${formatNumber(belowThreshold(c))} referrals`;
    case 'withheld':
      return 'withheld';
    case 'missing':
      return 'no data';
  }
}

/**
 * The sparkline of an area's referrals per period (bars: a count's height; a count below the
 * threshold as a pale bar up to the threshold, i.e. the range it lies in; a withheld count as a
 * tick on the baseline), and its projection (a dashed line and the interval band after a
 * divider), with a text summary.
 */
export function sparklineModel(input: SparkInput, size: { width?: number; height?: number } = {}): SparkModel {
  const width = size.width ?? 240;
  const height = size.height ?? 48;
  const top = 3;
  const n = input.periods.length;
  const proj = input.projection && input.projection.periods.length ? input.projection : null;
  const m = proj ? proj.periods.length : 0;
  const slots = Math.max(1, n + m + (proj ? 0.5 : 0));
  const slot = width / slots;
  let max = 0;
  for (let i = 0; i < n; i++) max = Math.max(max, countValueForScale(input.counts[i]) ?? 0);
  if (proj) for (let j = 0; j < m; j++) max = Math.max(max, countValueForScale(proj.upper[j]) ?? 0, countValueForScale(proj.projected[j]) ?? 0);
  if (max <= 0) max = 1;
  const yOf = (v: number): number => height - (Math.max(0, v) / max) * (height - top);
  const bars: SparkBar[] = [];
  for (let i = 0; i < n; i++) {
    const c = input.counts[i];
    const kind = countKind(c);
    const x = i * slot + Math.min(0.5, slot * 0.1);
    const w = Math.max(0.5, slot - Math.min(1, slot * 0.2));
    let y = height;
    let h = 0;
    if (kind === 'value' || kind === 'below') {
      y = yOf(countValueForScale(c) ?? 0);
      h = height - y;
    } else if (kind === 'withheld') {
      h = 2;
      y = height - h;
    }
    bars.push({ x, y, width: w, height: h, kind, period: input.periods[i], label: `${periodLabel(input.periods[i])}: ${countWords(c)}` });
  }
  let projectedLine = '';
  let band = '';
  const projectedPoints: (SparkPoint & { label: string })[] = [];
  let divider: number | null = null;
  if (proj) {
    divider = n * slot + slot * 0.25;
    const centre = (j: number): number => (n + 0.5 + j) * slot + slot * 0.5;
    const pts: (SparkPoint | null)[] = [];
    // Join the projection to the last observed period when its count is a number.
    const last = n > 0 ? input.counts[n - 1] : null;
    if (countKind(last) === 'value') pts.push({ x: (n - 1) * slot + slot / 2, y: yOf(last as number) });
    const upper: SparkPoint[] = [];
    const lower: SparkPoint[] = [];
    for (let j = 0; j < m; j++) {
      const v = countKind(proj.projected[j]) === 'value' ? (proj.projected[j] as number) : null;
      const p = v === null ? null : { x: centre(j), y: yOf(v) };
      pts.push(p);
      if (p) projectedPoints.push({ ...p, label: `${periodLabel(proj.periods[j])}: ${countWords(proj.projected[j])} projected (${intervalText(proj.lower[j], proj.upper[j], proj.level)})` });
      const hi = countValueForScale(proj.upper[j]);
      // A lower bound below the threshold may be anything from 0.
      const lo = countKind(proj.lower[j]) === 'value' ? (proj.lower[j] as number) : countKind(proj.lower[j]) === 'below' ? 0 : null;
      if (hi !== null && lo !== null) {
        upper.push({ x: centre(j), y: yOf(hi) });
        lower.push({ x: centre(j), y: yOf(lo) });
      }
    }
    projectedLine = sparklinePath(pts);
    band = upper.length === m ? bandPath(upper, lower) : '';
  }
  return { width, height, max, bars, divider, projectedLine, band, projectedPoints, summary: sparklineSummary(input) };
}

/**
 * The text alternative of a sparkline: "Referrals per month, Mar 2023 – Feb 2025 (24 months):
 * first 25, last 40, highest 55 in Aug 2024; 3 months fewer than 10; 1 withheld. Projected for
 * May 2025: 42 (95 % interval 30–55)."
 */
export function sparklineSummary(input: SparkInput): string {
  const n = input.periods.length;
  const noun = periodNoun(input.periodKind);
  if (n === 0) return 'No referral counts by period.';
  const parts: string[] = [];
  let first: Count | null = null;
  let last: Count | null = null;
  let best: number | null = null;
  let bestAt = '';
  let below = 0;
  let withheld = 0;
  let belowText = '';
  for (let i = 0; i < n; i++) {
    const c = input.counts[i];
    const k = countKind(c);
    if (k === 'missing') continue;
    if (first === null) first = c;
    last = c;
    if (k === 'value' && (best === null || (c as number) > best)) {
      best = c as number;
      bestAt = input.periods[i];
    }
    if (k === 'below') {
      below++;
      belowText ||= `fewer than ${formatNumber(belowThreshold(c))}`;
    }
    if (k === 'withheld') withheld++;
  }
  const head = `Referrals per ${noun}, ${periodRange(input.periods)} (${formatNumber(n)} ${periodNoun(input.periodKind, n !== 1)})`;
  if (first !== null) parts.push(`first ${formatCount(first)}, last ${formatCount(last)}`);
  if (best !== null) parts.push(`highest ${formatProjected(best)} in ${periodLabel(bestAt)}`);
  let text = `${head}: ${parts.join(', ') || 'no counts'}`;
  if (below) text += `; ${formatNumber(below)} ${periodNoun(input.periodKind, below !== 1)} ${belowText}`;
  if (withheld) text += `; ${formatNumber(withheld)} withheld`;
  text += '.';
  if (input.trend) text += ` ${input.trend}.`;
  const proj = input.projection;
  if (proj && proj.periods.length) {
    const j = proj.periods.length - 1;
    text += ` Projected for ${periodLabel(proj.periods[j])}: ${formatProjected(proj.projected[j])} (${intervalText(proj.lower[j], proj.upper[j], proj.level)}).`;
  }
  return text;
}

// ---------------------------------------------------------------- DOM

const SVG_NS = 'http://www.w3.org/2000/svg';

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function titled<T extends SVGElement>(e: T, text: string): T {
  const t = svg('title');
  t.textContent = text;
  e.append(t);
  return e;
}

/** Draw a sparkline: an SVG (role img, labelled by its summary) with one titled bar per period. */
export function renderSparkline(model: SparkModel): SVGSVGElement {
  const root = svg('svg', { viewBox: `0 0 ${model.width} ${model.height + 1}`, class: 'sparkline', role: 'img', 'aria-label': model.summary });
  root.append(svg('line', { x1: 0, y1: model.height + 0.5, x2: model.width, y2: model.height + 0.5, class: 'spark-axis', 'aria-hidden': 'true' }));
  const bars = svg('g', { class: 'spark-bars' });
  for (const b of model.bars) {
    if (b.kind === 'missing') continue;
    const r = svg('rect', { x: b.x, y: b.y, width: b.width, height: b.height, class: `spark-bar spark-${b.kind}`, 'data-period': b.period });
    bars.append(titled(r, b.label));
  }
  root.append(bars);
  if (model.divider !== null) {
    root.append(svg('line', { x1: model.divider, y1: 0, x2: model.divider, y2: model.height, class: 'spark-divider', 'aria-hidden': 'true' }));
    if (model.band) root.append(svg('path', { d: model.band, class: 'spark-band', 'aria-hidden': 'true' }));
    if (model.projectedLine) root.append(svg('path', { d: model.projectedLine, class: 'spark-projected', fill: 'none', 'aria-hidden': 'true' }));
    for (const p of model.projectedPoints) root.append(titled(svg('circle', { cx: p.x, cy: p.y, r: 2, class: 'spark-point' }), p.label));
  }
  return root;
}

/** Elements of the Trends section that main.ts updates. */
export interface TrendsControlsRefs {
  period: HTMLInputElement;
  periodLabel: HTMLOutputElement;
  projection: HTMLInputElement;
  projectionLabel: HTMLOutputElement;
  status: HTMLElement;
  warnings: HTMLElement;
  rising: HTMLElement;
}

/**
 * The Trends section (inside #trends-panel): the period slider (#trends-period, label
 * #trends-period-label), the projected-period slider (#projection-period,
 * #projection-period-label), a status line (#trends-status), the early-warning list
 * (#early-warning) and the fastest rising areas (#rising-areas). Sliders stay disabled
 * until their periods are known.
 */
export function renderTrendsControls(container: HTMLElement, h: { onPeriod: (i: number) => void; onProjection: (i: number) => void }): TrendsControlsRefs {
  const slider = (id: string, labelId: string, onInput: (i: number) => void): [HTMLInputElement, HTMLOutputElement] => {
    const input = el('input', { class: 'trends-slider', attrs: { id, type: 'range', min: '0', max: '0', step: '1', value: '0', 'aria-valuetext': 'Loading periods' } });
    input.disabled = true;
    input.addEventListener('input', () => onInput(Number(input.value)));
    const out = el('output', { class: 'hours-label', text: NO_VALUE, attrs: { id: labelId, for: id, 'aria-live': 'off' } });
    return [input, out];
  };
  const [period, periodLabelEl] = slider('trends-period', 'trends-period-label', h.onPeriod);
  const [projection, projectionLabelEl] = slider('projection-period', 'projection-period-label', h.onProjection);
  const status = el('p', { class: 'muted trends-status', attrs: { id: 'trends-status', 'aria-live': 'polite' } });
  const warnings = el('section', { class: 'trends-list', attrs: { id: 'early-warning', 'aria-labelledby': 'early-warning-heading' } });
  const rising = el('section', { class: 'trends-list', attrs: { id: 'rising-areas', 'aria-labelledby': 'rising-areas-heading' } });
  container.replaceChildren(
    el('p', { class: 'muted plan-help', text: 'Trends use complete periods only. Choose a layer under “Trends and hot spots” to colour the map; moving a slider shows that period.' }),
    el('div', { class: 'hours-slider-row' }, el('label', { text: 'Referrals in', attrs: { for: period.id } }), periodLabelEl),
    el('div', { class: 'hours-slider-row' }, period),
    el('div', { class: 'hours-slider-row' }, el('label', { text: 'Projected for', attrs: { for: projection.id } }), projectionLabelEl),
    el('div', { class: 'hours-slider-row' }, projection),
    status,
    warnings,
    rising,
  );
  return { period, periodLabel: periodLabelEl, projection, projectionLabel: projectionLabelEl, status, warnings, rising };
}

/** Show periods and the chosen one in a period slider and its label. */
export function syncPeriodSlider(input: HTMLInputElement, label: HTMLElement, periods: readonly string[] | null, index: number | null): void {
  if (!periods || !periods.length) {
    input.disabled = true;
    input.max = '0';
    input.value = '0';
    input.setAttribute('aria-valuetext', periods ? 'No periods' : 'Loading periods');
    label.textContent = NO_VALUE;
    return;
  }
  const i = clampIndex(index, periods.length);
  const t = sliderText(periods, i);
  input.disabled = false;
  input.max = String(periods.length - 1);
  if (Number(input.value) !== i) input.value = String(i);
  input.setAttribute('aria-valuetext', t.valuetext);
  input.title = t.position;
  label.textContent = t.label;
}

/** A list of areas in the Trends section: loading, an error, or one button per area. */
export type AreaListView =
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'loaded'; rows: readonly { areaId: string; text: string; title?: string }[]; note?: string; empty: string };

/**
 * Render a list of areas (#early-warning, #rising-areas): a heading, then loading, an error
 * or an ordered list of buttons (`.area-row[data-area-id]`) that go to the area. `data-state`
 * = loading | loaded | error.
 */
export function renderAreaList(container: HTMLElement, heading: string, view: AreaListView, onChoose: (areaId: string) => void): void {
  const h = el('h3', { text: heading, attrs: { id: `${container.id}-heading` } });
  container.dataset.state = view.state;
  if (view.state === 'loading') {
    container.replaceChildren(h, el('p', { class: 'muted', text: 'Loading…' }));
    return;
  }
  if (view.state === 'error') {
    container.replaceChildren(h, el('p', { class: 'status-error', text: view.message, attrs: { role: 'alert' } }));
    return;
  }
  if (!view.rows.length) {
    container.replaceChildren(h, el('p', { class: 'muted', text: view.empty }));
    return;
  }
  const list = el('ol', { class: 'extensions-list' });
  view.rows.forEach((r, i) => {
    const b = el('button', { class: 'extension-row area-row', text: r.text, attrs: { type: 'button', 'data-area-id': r.areaId, 'data-rank': String(i + 1), ...(r.title ? { title: r.title } : {}) } });
    b.addEventListener('click', () => onChoose(r.areaId));
    list.append(el('li', {}, b));
  });
  container.replaceChildren(h, ...(view.note ? [el('p', { class: 'legend-note', text: view.note })] : []), list);
}

/** What the area panel's Trend block shows. */
export interface TrendBlockInput {
  trend: TrendArea | null;
  periods: readonly string[];
  periodKind: string | null;
  test: string | null;
  projection: { data: Pick<ProjectionResponse, 'periods' | 'level' | 'model'>; row: ProjectionArea | null } | null;
}

function factRow(dl: HTMLDListElement, k: string, v: string, hint?: string): void {
  const dd = el('dd', { text: v });
  if (hint) dd.title = hint;
  dl.append(el('dt', { text: k }), dd);
}

/**
 * The area panel's Trend block (.area-trend): the counts per period as a sparkline (with the
 * projection after a divider when loaded), direction, q, growth, changes per year, and the
 * projected referrals with their interval.
 */
export function trendBlock(input: TrendBlockInput): HTMLElement {
  const heading = el('h3', { text: 'Trend' });
  const sec = el('section', { class: 'area-trend' }, heading);
  const t = input.trend;
  if (!t) {
    sec.append(el('p', { class: 'muted', text: 'No trend for this area.' }));
    return sec;
  }
  const pr = input.projection;
  const projRow = pr?.row ?? null;
  const model = sparklineModel({
    periods: input.periods,
    counts: Array.isArray(t.counts) ? t.counts : [],
    periodKind: input.periodKind,
    trend: trendHover(t),
    projection: pr && projRow ? { periods: pr.data.periods, projected: projRow.projected ?? [], lower: projRow.lower ?? [], upper: projRow.upper ?? [], level: pr.data.level } : null,
  });
  const fig = el('figure', { class: 'sparkline-figure' });
  fig.append(renderSparkline(model));
  fig.append(el('figcaption', { class: 'heatmap-caption', text: `Referrals per ${periodNoun(input.periodKind)}, ${periodRange(input.periods)}${pr && projRow ? '; after the line, projected with its interval' : ''}. Pale bars: fewer than the threshold.` }));
  const dl = el('dl', { class: 'facts trend-facts' });
  factRow(dl, 'Direction', directionText(directionOf(t)), `${testName(input.test)} test`);
  factRow(dl, 'Significance (q)', formatQ(t.q), 'The p-value adjusted for testing every area (false discovery rate)');
  factRow(dl, 'Growth', formatGrowth(t.growth_pct_per_year));
  const rate = num(t.rate_per_1000_per_year);
  factRow(dl, 'Rate change', rate === null ? NO_VALUE : `${signed(rate, 2)} per 1,000 a year`, 'Change of the referral rate per 1,000 residents per year');
  const sen = num(t.sen_slope_per_year);
  factRow(dl, 'Sen’s slope', sen === null ? NO_VALUE : `${signed(sen, 1)} referrals a year`, 'The median of the slopes between every two periods');
  if (num(t.rank) !== null) factRow(dl, 'Rank among rising', formatNumber(t.rank));
  sec.append(fig, dl);
  if (pr) {
    const rows = el('dl', { class: 'facts trend-projection' });
    if (!projRow) {
      sec.append(el('p', { class: 'muted', text: 'No projection for this area.' }));
    } else {
      pr.data.periods.forEach((p, j) => {
        factRow(rows, `Projected ${periodLabel(p)}`, `${formatProjected(projRow.projected?.[j])} (${intervalText(projRow.lower?.[j], projRow.upper?.[j], pr.data.level)})`, `${modelText(pr.data.model)} model`);
      });
      sec.append(el('h4', { text: 'Projected referrals' }), rows);
    }
  }
  return sec;
}

/** Put (or replace) the Trend block in a loaded area panel, after the other blocks; null removes it. */
export function setAreaTrendBlock(panel: HTMLElement, block: HTMLElement | null): void {
  panel.querySelector('.area-trend')?.remove();
  if (!block || panel.dataset.state !== 'loaded') return;
  const after = panel.querySelector('.area-hours') ?? panel.querySelector('.area-access') ?? panel.querySelector('.area-summary');
  if (after) after.after(block);
  else panel.append(block);
}
