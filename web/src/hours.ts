// Opening hours matched to need (GET /api/hours/...): hour-of-week labels, the values put
// into the areas' feature-state for the two hours variables, their legends and paint
// expressions, and the texts of the hours section (premises open, recommended extensions).
// Pure (no DOM, no map): unit-tested in test/hours.test.ts.

import type { ExpressionSpecification } from 'maplibre-gl';
import type { AreaProperties, Count, HoursAccessArea, HoursAccessResponse, HoursExtension, HoursGapArea, HoursGapResponse } from './api';
import { NO_VALUE, formatAccessScore, formatCount, formatNumber, kindPhrase } from './format';
import {
  NO_DATA_COLOUR,
  classify,
  fillColourExpression,
  quantileClasses,
  rampColours,
  variableDef,
  type HoursVariable,
  type Legend,
  type LegendEntry,
} from './legend';

/** Hours in a week: slots 0..167, 0 = Monday 00:00-01:00 (Europe/London local time). */
export const HOURS_IN_WEEK = 168;
/** The hour shown first: Tuesday 10:00-11:00, an ordinary weekday morning. */
export const DEFAULT_HOUR = 34;
/** Rows of recommended extensions asked for. */
export const EXTENSIONS_LIMIT = 10;
/** Delay before a slider position is fetched (ms): dragging fetches only where it stops. */
export const SLIDER_DEBOUNCE_MS = 150;

export const DAY_SHORT: readonly string[] = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
export const DAY_LONG: readonly string[] = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** Colour of areas where premises are within reach but none is open in the hour. */
export const HOURS_NOTHING_OPEN = '#d7301f';
export const HOURS_NOTHING_OPEN_LABEL = 'nothing open within reach';
/** Areas with no premises of the kind within reach at all (score null): hatched. */
export const HOURS_NONE_IN_REACH_LABEL = 'no premises within reach';
/** Areas whose share is withheld (counts below 10) or unknown: hatched. */
export const HOURS_WITHHELD_LABEL = 'withheld (<10) / no data';

/** Feature-state keys on the `areas` features. */
export const HOURS_STATE_KEYS = {
  /** Hours-aware E2SFCA × 1,000 (capacity per 1,000 residents of premises open in the hour). */
  score: 'hours_score_k',
  /** Premises open within the threshold in the hour. */
  open: 'hours_open',
  /** Percent of timed referrals arriving when nothing in reach is open (null when withheld). */
  unmetPct: 'hours_unmet_pct',
} as const;

/** Keep an hour of the week in 0..167 (wrapping), rounding to a whole hour. */
export function wrapHour(h: number): number {
  if (!Number.isFinite(h)) return 0;
  const r = Math.round(h) % HOURS_IN_WEEK;
  return r < 0 ? r + HOURS_IN_WEEK : r;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** "Tue 17:00–18:00" (slot 41); the last slot of a day ends at "24:00". */
export function hourLabel(slot: number, long = false): string {
  const s = wrapHour(slot);
  const day = Math.floor(s / 24);
  const h = s % 24;
  return `${(long ? DAY_LONG : DAY_SHORT)[day]} ${pad2(h)}:00–${pad2(h + 1)}:00`;
}

/** Day (0 = Monday) and hour of day of a slot. */
export function slotParts(slot: number): { day: number; hour: number } {
  const s = wrapHour(slot);
  return { day: Math.floor(s / 24), hour: s % 24 };
}

/** The slot of a day (0 = Monday) and hour of day. */
export function slotOf(day: number, hour: number): number {
  return wrapHour(day * 24 + hour);
}

/** Cache key of one hours request. */
export function hoursKey(...parts: (string | number | null | undefined)[]): string {
  return parts.map((p) => (p === null || p === undefined ? '' : String(p))).join('|');
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Rows of an hours table in feature-id order: element i belongs to `areas[i]` (tile feature
 * id i), matched by `area_id`; areas without a row get null.
 */
export function alignByArea<T extends { area_id: string }>(areas: readonly Partial<AreaProperties>[], rows: readonly T[]): (T | null)[] {
  const byId = new Map<string, T>();
  for (const r of rows) if (r && typeof r.area_id === 'string') byId.set(r.area_id, r);
  return areas.map((a) => (typeof a?.area_id === 'string' ? (byId.get(a.area_id) ?? null) : null));
}

/** Feature-state of one area for the hour shown: score × 1,000 (null: none in reach) and premises open. */
export function hoursAccessState(row: HoursAccessArea | null | undefined): Record<string, number | null> {
  const score = num(row?.score);
  return {
    [HOURS_STATE_KEYS.score]: score === null ? null : score * 1000,
    [HOURS_STATE_KEYS.open]: num(row?.open_in_reach),
  };
}

/** Feature-state of one area for the hours gap: the unmet share in percent, null when withheld. */
export function hoursGapState(row: HoursGapArea | null | undefined): Record<string, number | null> {
  return { [HOURS_STATE_KEYS.unmetPct]: num(row?.unmet_pct) };
}

// ---------------------------------------------------------------- classes

/**
 * Inner breaks of the hours-aware score: `classes` equal steps from 0 up to `scaleMax`
 * (the server's maximum over all 168 hours, in legend units), so that one colour means the
 * same at every hour. Values above the maximum fall in the top class.
 */
export function hourScoreBreaks(scaleMax: number | null | undefined, classes = 5): number[] {
  const max = num(scaleMax);
  if (max === null || max <= 0 || classes < 2) return [];
  return Array.from({ length: classes - 1 }, (_, i) => (max * (i + 1)) / classes);
}

/** Label of a score class [lo, hi): "under 0.2", "0.2 – 0.4", "0.8 or more", "any open capacity". */
export function hourClassLabel(lo: number | null, hi: number | null, fmt: (v: number) => string = formatAccessScore): string {
  if (lo === null && hi === null) return 'some capacity open';
  if (lo === null) return `under ${fmt(hi as number)}`;
  if (hi === null) return `${fmt(lo)} or more`;
  return `${fmt(lo)} – ${fmt(hi)}`;
}

/** "3 of 5 premises open". */
export function openText(open: number | null | undefined, total: number | null | undefined): string {
  const o = num(open);
  const t = num(total);
  if (o === null || t === null) return 'Premises open: not known';
  return `${formatNumber(o)} of ${formatNumber(t)} premises open`;
}

/** The context of an hours legend. */
export interface HoursContext {
  kind: string;
  thresholdMin: number;
  hour: number;
  method?: string | null;
  premisesOpen?: number | null;
  premisesTotal?: number | null;
  group?: string | null;
}

export function hoursAccessContext(r: HoursAccessResponse): HoursContext {
  return {
    kind: r.kind,
    thresholdMin: r.threshold_min,
    hour: r.hour,
    method: r.method,
    premisesOpen: Array.isArray(r.premises_open) ? r.premises_open.length : null,
    premisesTotal: r.premises_total,
  };
}

function methodLine(method: string | null | undefined): string {
  const m = typeof method === 'string' && method.trim() ? method.trim() : 'method not stated';
  return `Travel: ${m}${/[.!?]$/.test(m) ? '' : '.'}`;
}

/**
 * Legend of the hours-aware access for one hour: "nothing open within reach" (its own
 * colour), then equal classes of the score up to the week's maximum, and areas with no
 * premises within reach as hatched no data. Counts are of areas at this hour.
 */
export function buildHoursAccessLegend(rows: readonly (HoursAccessArea | null)[], scaleMax: number | null, ctx: HoursContext): Legend {
  const def = variableDef('hours_access');
  const max = num(scaleMax);
  const maxK = max === null ? null : max * 1000;
  const breaks = hourScoreBreaks(maxK, def.classes);
  const colours = rampColours(def.anchors, breaks.length + 1);
  const counts = new Array<number>(colours.length).fill(0);
  let closed = 0;
  let none = 0;
  for (const r of rows) {
    const s = num(r?.score);
    if (s === null) none++;
    else if (s <= 0) closed++;
    else counts[classify(s * 1000, breaks) ?? 0]++;
  }
  const fmt = (v: number): string => formatAccessScore(v);
  const classes: LegendEntry[] = colours.map((colour, i) => ({
    colour,
    label: hourClassLabel(i === 0 ? null : breaks[i - 1], i === breaks.length ? null : breaks[i], fmt),
    count: counts[i],
  }));
  const entries: LegendEntry[] = [{ colour: HOURS_NOTHING_OPEN, label: HOURS_NOTHING_OPEN_LABEL, count: closed, desert: true }, ...classes];
  const kind = kindPhrase(ctx.kind);
  const t = Math.round(ctx.thresholdMin);
  return {
    variable: 'hours_access',
    title: `Access to ${kind} at ${hourLabel(ctx.hour)}`,
    note: `${openText(ctx.premisesOpen, ctx.premisesTotal)}. Capacity per 1,000 residents of premises open in this hour, weighted by travel time (E2SFCA); one scale for every hour; darker = better access.`,
    breaks,
    entries,
    noData: { colour: NO_DATA_COLOUR, label: HOURS_NONE_IN_REACH_LABEL, count: none },
    footnotes: [`Red: premises of the kind lie within ${t} min but none is open in this hour.`, methodLine(ctx.method)],
  };
}

/** `fill-color` of the hours-aware access: no data, nothing open, then the step classes. */
export function hoursAccessFillExpression(legend: Legend): ExpressionSpecification {
  const input: ExpressionSpecification = ['feature-state', HOURS_STATE_KEYS.score];
  const classes = legend.entries.filter((e) => e.colour !== HOURS_NOTHING_OPEN);
  const first = classes[0]?.colour ?? NO_DATA_COLOUR;
  const stops: (number | string)[] = [];
  legend.breaks.forEach((b, i) => stops.push(b, classes[i + 1]?.colour ?? first));
  const stepped: ExpressionSpecification | string = stops.length ? (['step', input, first, ...stops] as ExpressionSpecification) : first;
  return ['case', ['!=', ['typeof', input], 'number'], NO_DATA_COLOUR, ['<=', ['to-number', input], 0], HOURS_NOTHING_OPEN, stepped];
}

/** `fill-opacity` of the hatching layer for a feature-state key: hatched where it holds no number. */
export function stateNoDataOpacity(key: string, opacity: number): ExpressionSpecification {
  return ['case', ['==', ['typeof', ['feature-state', key]], 'number'], 0, opacity];
}

/** "42.5%". */
export function formatPct(v: number | null | undefined, digits = 1): string {
  const x = num(v);
  return x === null ? NO_VALUE : `${formatNumber(x, digits)}%`;
}

/**
 * Legend of the hours gap: quintiles of the areas' unmet share (percent), withheld shares
 * (fewer than 10 referrals) hatched.
 */
export function buildHoursGapLegend(rows: readonly (HoursGapArea | null)[], data: Pick<HoursGapResponse, 'kind' | 'threshold_min' | 'method' | 'totals' | 'group'>): Legend {
  const def = variableDef('hours_gap');
  const values: number[] = [];
  let missing = 0;
  for (const r of rows) {
    const v = num(r?.unmet_pct);
    if (v === null) missing++;
    else values.push(v);
  }
  const { breaks, entries } = quantileClasses(values, def.classes, def.anchors, (v) => formatPct(v));
  const kind = kindPhrase(data.kind);
  const t = Math.round(data.threshold_min);
  const who = data.group ? ` (${data.group.replace(/_/g, ' ')})` : '';
  const total = data.totals;
  const region =
    num(total?.unmet_pct) !== null
      ? `Whole region: ${formatPct(total.unmet_pct)} of ${formatCount(total.timed)} timed referrals${who} arrived when no ${kind} within ${t} min was open.`
      : `Whole region: share withheld.`;
  return {
    variable: 'hours_gap',
    title: `Hours gap: ${kind} (${t} min)`,
    note: `Share of each area's referrals${who} arriving when no ${kind} within ${t} min is open. Quintiles of areas; darker = larger share.`,
    breaks,
    entries,
    noData: { colour: NO_DATA_COLOUR, label: HOURS_WITHHELD_LABEL, count: missing },
    footnotes: [region, methodLine(data.method)],
  };
}

/** `fill-color` of the hours gap, read from the features' state. */
export function hoursGapFillExpression(legend: Legend): ExpressionSpecification | string {
  return fillColourExpression(legend, ['feature-state', HOURS_STATE_KEYS.unmetPct]);
}

// ---------------------------------------------------------------- texts

/** "1 h", "1.5 h", "4 h". */
function hoursPhrase(h: number | null | undefined): string {
  const x = num(h);
  return x === null ? NO_VALUE : `${formatNumber(x, 1)} h`;
}

function referralsPhrase(c: Count | null | undefined): string {
  if (typeof c === 'number' && c === 1) return '1 referral';
  return `${formatCount(c)} referrals`;
}

/**
 * One row of the recommended extensions:
 * "Carronside Social Work Office 3 — Th 17:00-18:00 (+1 h/week): covers 185 referrals (1.77 per week)".
 */
export function extensionText(e: HoursExtension): string {
  const name = e.name?.trim() ? e.name.trim() : e.premises_id;
  const perWeek = num(e.covered_per_week);
  const rate = perWeek === null ? '' : ` (${formatNumber(perWeek, 2)} per week)`;
  return `${name} — ${e.extension} (+${hoursPhrase(e.extra_hours_per_week)}/week): covers ${referralsPhrase(e.referrals_covered)}${rate}`;
}

/** The hover line of an area for an hours variable. */
export function hoursHover(v: HoursVariable, state: Record<string, unknown> | null | undefined, ctx: { kind: string; hour: number; thresholdMin: number }): string {
  const kind = kindPhrase(ctx.kind);
  if (v === 'hours_gap') {
    const p = num(state?.[HOURS_STATE_KEYS.unmetPct]);
    return p === null ? `Hours gap (${kind}): withheld or no data` : `Hours gap (${kind}): ${formatPct(p)} of referrals arrive when nothing within reach is open`;
  }
  const s = num(state?.[HOURS_STATE_KEYS.score]);
  const o = num(state?.[HOURS_STATE_KEYS.open]);
  const at = hourLabel(ctx.hour);
  if (s === null) return `${at}: no ${kind} within reach`;
  const open = o === null ? '' : `; ${formatNumber(o)} open within ${Math.round(ctx.thresholdMin)} min`;
  if (s <= 0) return `${at}: nothing open within reach${open}`;
  return `${at}: ${formatAccessScore(s)} per 1,000 residents${open}`;
}
