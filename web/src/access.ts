// Access to a kind of premises (GET /api/access) as choropleth variables: the values put
// into the areas' feature-state, class breaks, legends, paint expressions and notes.
// Pure (no DOM, no map): unit-tested in test/access.test.ts.

import type { ExpressionSpecification } from 'maplibre-gl';
import type { AccessArea, AccessMethod, AccessResponse, AreaProperties, PremisesCollection } from './api';
import { NO_VALUE, formatAccessScore, formatMinutes, formatNumber, kindPhrase, minuteClassLabel } from './format';
import {
  NO_DATA_COLOUR,
  NO_DATA_LABEL,
  classify,
  fillColourExpression,
  quantile,
  quantileClasses,
  rampColours,
  variableDef,
  type AccessVariable,
  type Legend,
  type LegendEntry,
} from './legend';

/** Threshold choices offered in the page, minutes. */
export const THRESHOLDS: readonly number[] = [10, 15, 20, 30];
export const DEFAULT_THRESHOLD = 15;
/** The premises kind selected first when the workspace has it. */
export const PREFERRED_KIND = 'social_work_office';
/** Fewer distinct providers than this within the threshold is a choice desert (server default). */
export const DEFAULT_DESERT_BELOW = 2;

/** Colours of the choice-desert classes (ColorBrewer PuOr, orange side): worst (0 providers) first. */
export const ACCESS_DESERT_ANCHORS: readonly string[] = ['#b35806', '#fdb863'];
/** The desert colour when only one class is a desert (0 providers). */
export const ACCESS_DESERT_SINGLE = '#e66101';

/** Opacity of the hatching over areas with no value (as the area variables' no-data layer). */
export const NO_DATA_HATCH_OPACITY = 0.9;

/** The premises kind to select first: social work offices if present, else the first kind. */
export function defaultAccessKind(kinds: readonly string[]): string | null {
  if (kinds.includes(PREFERRED_KIND)) return PREFERRED_KIND;
  return kinds[0] ?? null;
}

/** Cache key of one access table. */
export function accessKey(kind: string, thresholdMin: number): string {
  return `${kind}|${thresholdMin}`;
}

// ---------------------------------------------------------------- feature-state

/** The access variables whose value is a number read from the area's own row. */
export type NumericAccessVariable = Exclude<AccessVariable, 'access_catchment'>;
export const NUMERIC_ACCESS_VARIABLES: readonly NumericAccessVariable[] = ['access_travel_time', 'access_providers', 'access_e2sfca'];

/**
 * Feature-state key holding each access variable's value on the `areas` features. For
 * catchments the value is the palette index of the area's nearest premises.
 */
export const ACCESS_STATE_KEYS: Record<AccessVariable, string> = {
  access_travel_time: 'access_minutes',
  access_providers: 'access_providers',
  access_e2sfca: 'access_e2sfca_k',
  access_catchment: 'access_catchment',
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The value of an access variable for one area, in legend units (minutes; count; per 1,000 residents). */
export function accessValue(row: AccessArea | null | undefined, v: NumericAccessVariable): number | null {
  if (!row) return null;
  switch (v) {
    case 'access_travel_time': {
      const s = num(row.travel_time_s);
      return s === null ? null : s / 60;
    }
    case 'access_providers':
      return num(row.providers_within);
    case 'access_e2sfca': {
      const a = num(row.access_e2sfca);
      return a === null ? null : a * 1000;
    }
  }
}

/**
 * The feature-state of one area: every access variable's value (null when unknown), the
 * catchment's palette index from `catchments` (premises code -> index; see catchmentColours).
 */
export function accessFeatureState(
  row: AccessArea | null | undefined,
  catchments?: ReadonlyMap<string, number> | null,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const v of NUMERIC_ACCESS_VARIABLES) out[ACCESS_STATE_KEYS[v]] = accessValue(row, v);
  out[ACCESS_STATE_KEYS.access_catchment] = catchmentIndex(row, catchments);
  return out;
}

/**
 * The access rows in feature-id order: element i belongs to `areas[i]` (tile feature id i).
 * Rows are matched by `area_id`; a row without one falls back to its position. Areas with
 * no row get null.
 */
export function alignAccess(areas: readonly Partial<AreaProperties>[], rows: readonly AccessArea[]): (AccessArea | null)[] {
  const byId = new Map<string, AccessArea>();
  for (const r of rows) if (r && typeof r.area_id === 'string') byId.set(r.area_id, r);
  return areas.map((a, i) => {
    const id = a?.area_id;
    if (typeof id === 'string' && byId.has(id)) return byId.get(id)!;
    const r = rows[i];
    return r && typeof r.area_id !== 'string' ? r : null;
  });
}

// ---------------------------------------------------------------- catchments

/** The qualitative palette of the catchments (the variable's anchors: ColorBrewer Set3 without grey). */
export const CATCHMENT_PALETTE: readonly string[] = variableDef('access_catchment').anchors;

/** [lon, lat] of each premises of one kind, by premises code (`premises_id`). */
export function premisesLocations(fc: PremisesCollection | null | undefined, kind: string): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const f of fc?.features ?? []) {
    if (f?.properties?.kind !== kind || f.geometry?.type !== 'Point') continue;
    const [lon, lat] = f.geometry.coordinates;
    if (Number.isFinite(lon) && Number.isFinite(lat)) out.set(String(f.properties.premises_id), [lon, lat]);
  }
  return out;
}

/** Approximate ground distance between two [lon, lat] points, km (equirectangular; fine at city scale). */
export function distanceKm(a: readonly [number, number], b: readonly [number, number]): number {
  const k = Math.cos((((a[1] + b[1]) / 2) * Math.PI) / 180);
  const dx = (a[0] - b[0]) * 111.32 * k;
  const dy = (a[1] - b[1]) * 110.57;
  return Math.hypot(dx, dy);
}

/** CIE L*a*b* (D65) of a #rrggbb colour. */
export function hexToLab(hex: string): [number, number, number] {
  const n = parseInt(hex.replace('#', ''), 16);
  const lin = (c: number): number => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [r, g, b] = [lin((n >> 16) & 255), lin((n >> 8) & 255), lin(n & 255)];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** Colour difference ΔE*ab (CIE 1976) between two #rrggbb colours. */
export function deltaE(a: string, b: string): number {
  const p = hexToLab(a);
  const q = hexToLab(b);
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/** Colours closer than this (ΔE*ab) count as partly the same colour when catchments are coloured. */
export const SIMILAR_DELTA_E = 40;

/**
 * How much two palette colours count as the same (1 = identical, 0 = clearly different):
 * 1 - ΔE / SIMILAR_DELTA_E, at least 0.
 */
export function colourSameness(palette: readonly string[]): number[][] {
  return palette.map((a, i) => palette.map((b, j) => (i === j ? 1 : Math.max(0, 1 - deltaE(a, b) / SIMILAR_DELTA_E))));
}

/**
 * A palette index for every premises that is the nearest of at least one area, chosen so
 * that catchments next to each other differ: premises are taken largest catchment first
 * (then by code) and each gets the colour whose closest premises already holding it — or a
 * similar colour, whose distance is stretched by 1 / sameness — is farthest away. This is a
 * greedy colouring of the premises' proximity, a cheap stand-in for catchment adjacency
 * (which needs the polygons). Ties go to the least used colour, then the lowest index, so
 * with no more catchments than colours all differ. Premises with no known location get the
 * least used colour (so, in order, index modulo the palette size).
 */
export function catchmentColours(
  rows: readonly (AccessArea | null | undefined)[],
  locations: ReadonlyMap<string, readonly [number, number]>,
  palette: readonly string[] = CATCHMENT_PALETTE,
): Map<string, number> {
  const size = new Map<string, number>();
  for (const r of rows) {
    const code = r?.nearest;
    if (typeof code === 'string' && code) size.set(code, (size.get(code) ?? 0) + 1);
  }
  const codes = [...size.keys()].sort((a, b) => size.get(b)! - size.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
  const out = new Map<string, number>();
  const n = Math.max(1, palette.length);
  const same = palette.length ? colourSameness(palette) : [[1]];
  const uses = new Array<number>(n).fill(0);
  const placed: { at: readonly [number, number]; colour: number }[] = [];
  for (const code of codes) {
    const at = locations.get(code);
    // Effective distance to the closest premises already holding each colour (or a similar one).
    const score = new Array<number>(n).fill(Infinity);
    if (at) {
      for (const p of placed) {
        const d = distanceKm(at, p.at);
        for (let c = 0; c < n; c++) {
          const w = same[c][p.colour];
          if (w > 0) score[c] = Math.min(score[c], d / w);
        }
      }
    }
    let best = 0;
    for (let c = 1; c < n; c++) {
      if (score[c] > score[best] || (score[c] === score[best] && uses[c] < uses[best])) best = c;
    }
    out.set(code, best);
    uses[best]++;
    if (at) placed.push({ at, colour: best });
  }
  return out;
}

/** The palette index of an area's catchment (its nearest premises), or null. */
export function catchmentIndex(row: AccessArea | null | undefined, catchments: ReadonlyMap<string, number> | null | undefined): number | null {
  const code = row?.nearest;
  if (typeof code !== 'string' || !catchments) return null;
  return catchments.get(code) ?? null;
}

/** `fill-color` of the areas for the catchments: the palette colour of the index in the feature-state. */
export function catchmentFillExpression(palette: readonly string[] = CATCHMENT_PALETTE): ExpressionSpecification | string {
  if (palette.length === 0) return NO_DATA_COLOUR;
  const input = accessInput('access_catchment');
  const stops = palette.flatMap((c, i) => [i, c]);
  const match = ['match', input, ...stops, NO_DATA_COLOUR] as unknown as ExpressionSpecification;
  return ['case', ['==', ['typeof', input], 'number'], match, NO_DATA_COLOUR];
}

/** "1 premises" reads oddly either way: the count and "premises". */
function premisesCount(n: number): string {
  return `${formatNumber(n)} premises`;
}

/**
 * The legend of the catchments: a title, a short explanation instead of one row per
 * premises, the palette colours in use as a strip, areas with no nearest premises as no
 * data, and the travel method.
 */
export function buildCatchmentLegend(
  rows: readonly (AccessArea | null)[],
  catchments: ReadonlyMap<string, number>,
  ctx: AccessContext,
  palette: readonly string[] = CATCHMENT_PALETTE,
): Legend {
  let missing = 0;
  for (const r of rows) if (catchmentIndex(r, catchments) === null) missing++;
  const used = [...new Set(catchments.values())].sort((a, b) => a - b).map((i) => palette[i]).filter((c): c is string => !!c);
  const { title, note } = accessTitle('access_catchment', { ...ctx, catchments: catchments.size });
  return {
    variable: 'access_catchment',
    title,
    note,
    breaks: [],
    entries: [],
    noData: { colour: NO_DATA_COLOUR, label: NO_DATA_LABEL, count: missing },
    footnotes: [`Travel: ${methodNote(ctx.method)}.`],
    palette: used,
  };
}

// ---------------------------------------------------------------- classes

/** Round minute values for travel-time breaks. */
export const MINUTE_LADDER: readonly number[] = [1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180];

/**
 * Inner breaks (minutes) for travel times: each quintile of the values snapped to the
 * nearest round value of MINUTE_LADDER (on a log scale), plus the threshold, keeping only
 * breaks above the minimum and at most the maximum (so no class is empty by construction).
 * At most six classes.
 */
export function minuteBreaks(values: readonly number[], thresholdMin: number | null): number[] {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  const picks = new Set<number>();
  for (const q of [0.2, 0.4, 0.6, 0.8]) {
    const x = quantile(sorted, q);
    if (!(x > 0)) continue;
    let best = MINUTE_LADDER[0];
    for (const b of MINUTE_LADDER) if (Math.abs(Math.log(b / x)) < Math.abs(Math.log(best / x))) best = b;
    picks.add(best);
  }
  if (thresholdMin !== null && Number.isFinite(thresholdMin)) picks.add(thresholdMin);
  return [...picks].filter((b) => b > min && b <= max).sort((a, b) => a - b);
}

export interface CountClass {
  /** Lowest count in the class. */
  lo: number;
  /** Highest count in the class; null for the open top class. */
  hi: number | null;
  label: string;
  desert: boolean;
}

/**
 * Provider-count classes 0, 1, 2, 3–4, 5 or more, split further so that `below` (the
 * choice-desert threshold) starts a class: classes entirely under it are deserts.
 */
export function providerClasses(below: number = DEFAULT_DESERT_BELOW): CountClass[] {
  const starts = new Set([0, 1, 2, 3, 5]);
  if (Number.isInteger(below) && below > 0 && below <= 50) starts.add(below);
  const s = [...starts].sort((a, b) => a - b);
  return s.map((lo, i) => {
    const hi = i + 1 < s.length ? s[i + 1] - 1 : null;
    const range = hi === null ? `${lo} or more` : hi === lo ? String(lo) : `${lo}–${hi}`;
    const desert = hi !== null && hi < below;
    return { lo, hi, label: desert ? `${range} — choice desert` : range, desert };
  });
}

/** Colours of the provider classes: orange for deserts (darkest = fewest), purples for the rest. */
export function providerColours(classes: readonly CountClass[]): string[] {
  const nd = classes.filter((c) => c.desert).length;
  const rest = classes.length - nd;
  const desert = nd === 1 ? [ACCESS_DESERT_SINGLE] : rampColours(ACCESS_DESERT_ANCHORS, nd);
  const others = rampColours(variableDef('access_providers').anchors, rest);
  return [...desert, ...others];
}

// ---------------------------------------------------------------- legend

export interface AccessContext {
  kind: string;
  thresholdMin: number;
  /** Premises of the kind (the `premises` of the response), if known. */
  premises?: number | null;
  /** Choice-desert threshold (the response's `choice_deserts.below`). */
  below?: number;
  method?: AccessMethod | null;
  choiceDeserts?: AccessResponse['choice_deserts'] | null;
  /** Catchments drawn: premises that are the nearest of at least one area. */
  catchments?: number | null;
}

/** The context of a legend from an /api/access response. */
export function accessContext(r: AccessResponse): AccessContext {
  return {
    kind: r.kind,
    thresholdMin: r.threshold_min,
    premises: r.premises,
    below: r.choice_deserts?.below ?? DEFAULT_DESERT_BELOW,
    method: r.method,
    choiceDeserts: r.choice_deserts,
  };
}

/**
 * "straight line × 1.3 at 30 km/h"; other methods by the server's description
 * ("road network, 15 km/h to and from the nearest road node"), else by name.
 */
export function methodNote(m: AccessMethod | null | undefined): string {
  if (!m) return 'method not stated';
  if (m.type === 'straight_line' && (typeof m.circuity === 'number' || typeof m.speed_kmh === 'number' || !m.description)) {
    const parts = ['straight line'];
    if (typeof m.circuity === 'number') parts.push(`× ${formatNumber(m.circuity, 2)}`);
    if (typeof m.speed_kmh === 'number') parts.push(`at ${formatNumber(m.speed_kmh, 1)} km/h`);
    return parts.join(' ');
  }
  if (typeof m.description === 'string' && m.description.trim()) return m.description.trim();
  return m.type ? m.type.replace(/_/g, ' ') : 'method not stated';
}

/** "2 providers" / "1 provider". */
function providersPhrase(n: number): string {
  return `${n} provider${n === 1 ? '' : 's'}`;
}

/**
 * One line summarising the choice deserts: their number and residents by SIMD quintile.
 * "Choice deserts (fewer than 2 providers within 15 min): 144 areas; residents by SIMD
 * quintile 1–5 (1 = most deprived): 9,038 · 19,844 · 18,630 · 22,536 · 23,124."
 */
export function desertSummary(cd: AccessResponse['choice_deserts'] | null | undefined, thresholdMin: number): string {
  if (!cd) return 'Choice deserts: not reported.';
  const head = `Choice deserts (fewer than ${providersPhrase(cd.below)} within ${Math.round(thresholdMin)} min)`;
  const n = `${formatNumber(cd.areas)} area${cd.areas === 1 ? '' : 's'}`;
  const pops = Array.isArray(cd.population_by_simd_quintile) ? cd.population_by_simd_quintile : [];
  if (cd.areas === 0 || pops.length === 0) return `${head}: ${n}.`;
  const q = pops.map((p) => (typeof p === 'number' ? formatNumber(p) : NO_VALUE)).join(' · ');
  return `${head}: ${n}; residents by SIMD quintile 1–${pops.length} (1 = most deprived): ${q}.`;
}

/** The footnotes under an access legend: the travel method, then the choice-desert summary. */
export function accessFootnotes(ctx: AccessContext): string[] {
  return [`Travel: ${methodNote(ctx.method)}.`, desertSummary(ctx.choiceDeserts, ctx.thresholdMin)];
}

/** Legend title and note of an access variable for a premises kind and threshold. */
export function accessTitle(v: AccessVariable, ctx: AccessContext): { title: string; note: string } {
  const kind = kindPhrase(ctx.kind);
  const t = Math.round(ctx.thresholdMin);
  const of = typeof ctx.premises === 'number' ? ` of ${formatNumber(ctx.premises)} premises` : '';
  switch (v) {
    case 'access_travel_time':
      return {
        title: `Travel time to nearest ${kind}`,
        note: `Estimated minutes to the nearest${of}; darker = further. Reach threshold ${t} min.`,
      };
    case 'access_providers':
      return {
        title: `Providers within reach: ${kind} (${t} min)`,
        note: `Distinct providers with premises within ${t} min; orange = choice desert (fewer than ${providersPhrase(ctx.below ?? DEFAULT_DESERT_BELOW)}).`,
      };
    case 'access_e2sfca':
      return {
        title: `Accessibility (E2SFCA): ${kind}`,
        note: 'Quintiles of areas; capacity per 1,000 residents, weighted by travel time (10/20/30 min steps); darker = poorer access.',
      };
    case 'access_catchment': {
      const n = typeof ctx.premises === 'number' ? `; ${premisesCount(ctx.premises)}` : '';
      const c = ctx.catchments;
      const some = typeof c === 'number' && typeof ctx.premises === 'number' && c < ctx.premises ? `, ${formatNumber(c)} nearest to at least one area` : '';
      return {
        title: `Nearest ${kind} (catchments)`,
        note: `Each colour is the area served most quickly by one ${kind}${n}${some}. Nearby catchments get different colours.`,
      };
    }
  }
}

/**
 * The legend of an access variable from the aligned access rows (one per area, null when
 * the area has none): classes, colours, labels and counts. Areas with no value are
 * counted as no data, as they are drawn.
 */
export function buildAccessLegend(v: NumericAccessVariable, rows: readonly (AccessArea | null)[], ctx: AccessContext): Legend {
  const def = variableDef(v);
  const values: number[] = [];
  let missing = 0;
  for (const r of rows) {
    const x = accessValue(r, v);
    if (x === null) missing++;
    else values.push(x);
  }
  const noData: LegendEntry = { colour: NO_DATA_COLOUR, label: NO_DATA_LABEL, count: missing };
  const { title, note } = accessTitle(v, ctx);
  const footnotes = accessFootnotes(ctx);
  const base = { variable: v, title, note, noData, footnotes };

  if (v === 'access_providers') {
    const classes = providerClasses(ctx.below ?? DEFAULT_DESERT_BELOW);
    const colours = providerColours(classes);
    const breaks = classes.slice(1).map((c) => c.lo);
    const counts = new Array<number>(classes.length).fill(0);
    for (const x of values) counts[classify(x, breaks) ?? 0]++;
    const entries = classes.map((c, i) => ({ colour: colours[i], label: c.label, count: counts[i], desert: c.desert }));
    return { ...base, breaks, entries };
  }

  if (v === 'access_travel_time') {
    if (values.length === 0) return { ...base, breaks: [], entries: [] };
    const breaks = minuteBreaks(values, ctx.thresholdMin);
    const n = breaks.length + 1;
    const colours = rampColours(def.anchors, n);
    const counts = new Array<number>(n).fill(0);
    for (const x of values) counts[classify(x, breaks) ?? 0]++;
    const max = Math.max(...values);
    const entries = colours.map((colour, i) => ({
      colour,
      label:
        n === 1
          ? `up to ${formatMinutes(Math.max(1, Math.ceil(max)))}`
          : minuteClassLabel(i === 0 ? null : breaks[i - 1], i === n - 1 ? null : breaks[i]),
      count: counts[i],
    }));
    return { ...base, breaks, entries };
  }

  const { breaks, entries } = quantileClasses(values, def.classes, def.anchors, formatAccessScore);
  return { ...base, breaks, entries };
}

// ---------------------------------------------------------------- expressions

/** The `feature-state` input of an access variable. */
export function accessInput(v: AccessVariable): ExpressionSpecification {
  return ['feature-state', ACCESS_STATE_KEYS[v]];
}

/** `fill-color` of the areas for an access legend, read from the features' state. */
export function accessFillExpression(legend: Legend & { variable: AccessVariable }): ExpressionSpecification | string {
  return fillColourExpression(legend, accessInput(legend.variable));
}

/**
 * `fill-opacity` of the hatching layer for an access variable: opaque hatching where the
 * feature-state has no number (filters cannot read feature-state, opacity can).
 */
export function accessNoDataOpacity(v: AccessVariable): ExpressionSpecification {
  return ['case', ['==', ['typeof', accessInput(v)], 'number'], 0, NO_DATA_HATCH_OPACITY];
}
