// Comparing scenarios (GET /api/scenarios/compare): the metrics shown side by side, which
// way is better for each, the difference classes of the table, the change class of each
// area put into feature-state and its legend, and the premises kinds a scenario adds.
// Pure (no DOM, no map): unit-tested in test/scenarios.test.ts.

import type { CompareArea, Scenario, ScenarioMetrics, ScenarioQuintileMetrics, ScenarioSummary } from './api';
import { NO_VALUE, formatNumber, kindPhrase } from './format';
import type { PlanLegend } from './siting';

/** The implicit scenario: the premises as they are. */
export const BASELINE = 'baseline';

export type MetricKey = 'premises' | 'coverage_pct' | 'mean_travel_min' | 'p95_travel_min' | 'hours_gap_pct' | 'providers_mean' | 'choice_desert_pct';

export interface MetricDef {
  key: MetricKey;
  /** Row label (short enough for the side panel). */
  label: string;
  /** What it measures, in full (a tooltip). */
  long: string;
  /** Short column heading. */
  short: string;
  unit: '%' | 'min' | '' ;
  /** Which way is better; null: neither (a count). */
  better: 'higher' | 'lower' | null;
  digits: number;
  /** A difference smaller than this counts as no change. */
  tolerance: number;
  /** What null means. */
  nullText: string;
}

export const METRICS: readonly MetricDef[] = [
  { key: 'premises', label: 'Premises', long: 'Premises of the kind', short: 'Premises', unit: '', better: null, digits: 0, tolerance: 0.5, nullText: NO_VALUE },
  { key: 'coverage_pct', label: 'Within reach', long: 'Residents within reach (the threshold)', short: 'Cover %', unit: '%', better: 'higher', digits: 1, tolerance: 0.05, nullText: NO_VALUE },
  { key: 'mean_travel_min', label: 'Mean travel', long: 'Mean travel time of residents', short: 'Mean min', unit: 'min', better: 'lower', digits: 1, tolerance: 0.05, nullText: 'none' },
  { key: 'p95_travel_min', label: '95th pct travel', long: '95th-percentile travel time of residents', short: 'P95 min', unit: 'min', better: 'lower', digits: 1, tolerance: 0.05, nullText: 'none' },
  { key: 'hours_gap_pct', label: 'Hours gap', long: 'Hours gap: share of referrals arriving while nothing within reach is open', short: 'Gap %', unit: '%', better: 'lower', digits: 1, tolerance: 0.05, nullText: 'withheld' },
  { key: 'providers_mean', label: 'Providers (mean)', long: 'Providers within reach, mean over residents', short: 'Choice', unit: '', better: 'higher', digits: 2, tolerance: 0.005, nullText: NO_VALUE },
  { key: 'choice_desert_pct', label: 'Choice deserts', long: 'Residents in choice deserts (fewer than 2 providers within reach)', short: 'Deserts', unit: '%', better: 'lower', digits: 1, tolerance: 0.05, nullText: NO_VALUE },
];

/** The metrics of the by-quintile tables. */
export const QUINTILE_METRICS: readonly MetricDef[] = METRICS.filter((m) => ['coverage_pct', 'mean_travel_min', 'p95_travel_min', 'hours_gap_pct', 'providers_mean'].includes(m.key));

export function metricDef(key: MetricKey): MetricDef {
  const m = METRICS.find((x) => x.key === key);
  if (!m) throw new Error(`unknown metric ${key}`);
  return m;
}

/** A finite number (negative zero, e.g. a server's rounded -0.0, becomes 0), or null. */
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v + 0 : null);

/**
 * A metric's value as shown: "87.5%", "6.2 min", "1.75", or the metric's words for null.
 * `bare`: the number alone (the unit is in the column heading), "—" for null.
 */
export function formatMetric(m: MetricDef, v: number | null | undefined, bare = false): string {
  const x = num(v);
  if (x === null) return bare ? NO_VALUE : m.nullText;
  const s = fixedDigits(x, m.digits);
  if (bare) return s;
  return m.unit === '%' ? `${s}%` : m.unit === 'min' ? `${s} min` : s;
}

/** A number with exactly `digits` decimals (so that a column lines up): "30.1", "0.0", "1,234". */
function fixedDigits(x: number, digits: number): string {
  return x.toLocaleString('en-GB', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export type DiffClass = 'better' | 'worse' | 'same' | 'changed' | 'unknown';

export interface MetricDiff {
  cls: DiffClass;
  /** b − a, or null. */
  delta: number | null;
  /** "+4.2 pts", "−1.5 min", "no change", "—". */
  text: string;
  /** "better", "worse", "no change", "changed", "not comparable". */
  word: string;
}

/**
 * The difference of B from A for one metric: its class (better / worse by the metric's
 * direction, the same within its tolerance, "changed" for a count) and its text. A
 * travel time that appears (none reachable before) is better; one that vanishes is worse.
 */
export function metricDiff(m: MetricDef, a: number | null | undefined, b: number | null | undefined): MetricDiff {
  const x = num(a);
  const y = num(b);
  if (x === null || y === null) {
    if (m.unit === 'min' && x === null && y !== null) return { cls: 'better', delta: null, text: 'now reachable', word: 'better' };
    if (m.unit === 'min' && x !== null && y === null) return { cls: 'worse', delta: null, text: 'no longer reachable', word: 'worse' };
    return { cls: 'unknown', delta: null, text: NO_VALUE, word: 'not comparable' };
  }
  const d = y - x;
  if (Math.abs(d) < m.tolerance) return { cls: 'same', delta: 0, text: 'no change', word: 'no change' };
  const sign = d > 0 ? '+' : '−';
  const mag = fixedDigits(Math.abs(d), m.digits);
  const text = m.unit === '%' ? `${sign}${mag} pts` : m.unit === 'min' ? `${sign}${mag} min` : `${sign}${mag}`;
  if (m.better === null) return { cls: 'changed', delta: d, text, word: 'changed' };
  const good = m.better === 'higher' ? d > 0 : d < 0;
  return { cls: good ? 'better' : 'worse', delta: d, text, word: good ? 'better' : 'worse' };
}

export interface CompareRow {
  key: MetricKey;
  label: string;
  long: string;
  a: string;
  b: string;
  diff: MetricDiff;
}

/** The side-by-side rows of two scenarios' metrics. */
export function compareRows(a: ScenarioMetrics, b: ScenarioMetrics): CompareRow[] {
  return METRICS.map((m) => {
    const va = num((a as unknown as Record<string, unknown>)[m.key]);
    const vb = num((b as unknown as Record<string, unknown>)[m.key]);
    return { key: m.key, label: m.label, long: m.long, a: formatMetric(m, va), b: formatMetric(m, vb), diff: metricDiff(m, va, vb) };
  });
}

export interface QuintileCell {
  key: MetricKey;
  /** The number alone ("—" for none). */
  text: string;
  /** With its unit or the words for null ("none", "withheld"). */
  full: string;
  /** Against the other scenario's same quintile (null for the first table). */
  diff: MetricDiff | null;
}

export interface QuintileRow {
  quintile: number;
  cells: QuintileCell[];
}

/**
 * The by-quintile table of one scenario, quintile 1 first; with `other` (scenario A), each
 * cell carries its difference from A's same quintile.
 */
export function quintileRows(m: Pick<ScenarioMetrics, 'by_quintile'>, other?: Pick<ScenarioMetrics, 'by_quintile'> | null): QuintileRow[] {
  const others = new Map((other?.by_quintile ?? []).map((q) => [q.simd_quintile, q]));
  return [...(m.by_quintile ?? [])]
    .sort((x, y) => x.simd_quintile - y.simd_quintile)
    .map((q) => {
      const o = others.get(q.simd_quintile);
      return {
        quintile: q.simd_quintile,
        cells: QUINTILE_METRICS.map((def) => {
          const v = num(q[def.key as keyof ScenarioQuintileMetrics]);
          return {
            key: def.key,
            text: formatMetric(def, v, true),
            full: formatMetric(def, v),
            diff: other ? metricDiff(def, o ? num(o[def.key as keyof ScenarioQuintileMetrics]) : null, v) : null,
          };
        }),
      };
    });
}

// ---------------------------------------------------------------- areas

/** What the compare overlay colours areas by. */
export type CompareMapMode = 'coverage' | 'travel';

/** Feature-state key of the compare overlay (a class index) on the `areas` features. */
export const COMPARE_STATE_KEY = 'compare_class';

/** Coverage change: lost, not covered in either, covered in both, gained. */
export const COVERAGE_CLASSES = { lost: 0, neither: 1, both: 2, gained: 3 } as const;
/** ColorBrewer PuOr-like: lost dark orange, unchanged greys, gained purple. */
export const COVERAGE_COLOURS: readonly string[] = ['#e66101', '#f0f0f0', '#bdbdbd', '#5e3c99'];

/**
 * Travel-time change classes (B − A, minutes): no longer reachable, ≥ 5 min slower,
 * 1–5 min slower, within 1 min, 1–5 min faster, ≥ 5 min faster, newly reachable.
 */
export const TRAVEL_CLASSES = { lostReach: 0, slower5: 1, slower1: 2, same: 3, faster1: 4, faster5: 5, newReach: 6 } as const;
/** ColorBrewer PuOr (7): orange = slower, purple = faster, grey-white = unchanged. */
export const TRAVEL_COLOURS: readonly string[] = ['#b35806', '#f1a340', '#fee0b6', '#f7f7f7', '#d8daeb', '#998ec3', '#542788'];
/** Minutes of change counted as none. */
export const TRAVEL_SAME_MIN = 1;
export const TRAVEL_BIG_MIN = 5;

export function coverageClass(a: Pick<CompareArea, 'covered_a' | 'covered_b'> | null | undefined): number | null {
  if (!a) return null;
  if (a.covered_a && a.covered_b) return COVERAGE_CLASSES.both;
  if (a.covered_b) return COVERAGE_CLASSES.gained;
  if (a.covered_a) return COVERAGE_CLASSES.lost;
  return COVERAGE_CLASSES.neither;
}

export function travelClass(a: Pick<CompareArea, 'travel_time_min_a' | 'travel_time_min_b'> | null | undefined): number | null {
  if (!a) return null;
  const x = num(a.travel_time_min_a);
  const y = num(a.travel_time_min_b);
  if (x === null && y === null) return null;
  if (x === null) return TRAVEL_CLASSES.newReach;
  if (y === null) return TRAVEL_CLASSES.lostReach;
  const d = y - x;
  if (Math.abs(d) < TRAVEL_SAME_MIN) return TRAVEL_CLASSES.same;
  if (d >= TRAVEL_BIG_MIN) return TRAVEL_CLASSES.slower5;
  if (d > 0) return TRAVEL_CLASSES.slower1;
  if (d <= -TRAVEL_BIG_MIN) return TRAVEL_CLASSES.faster5;
  return TRAVEL_CLASSES.faster1;
}

export function compareClass(a: CompareArea | null | undefined, mode: CompareMapMode): number | null {
  return mode === 'coverage' ? coverageClass(a) : travelClass(a);
}

export function compareColours(mode: CompareMapMode): readonly string[] {
  return mode === 'coverage' ? COVERAGE_COLOURS : TRAVEL_COLOURS;
}

/** The legend of the compare overlay: the classes with their counts, largest gain first. */
export function compareLegend(classes: readonly (number | null)[], mode: CompareMapMode, ctx: { a: string; b: string; kind: string; thresholdMin: number; method?: string | null }): PlanLegend {
  const colours = compareColours(mode);
  const counts = colours.map(() => 0);
  let noData = 0;
  for (const c of classes) {
    if (c === null || c < 0 || c >= counts.length) noData++;
    else counts[c]++;
  }
  const kind = kindPhrase(ctx.kind);
  const t = Math.round(ctx.thresholdMin);
  const labels =
    mode === 'coverage'
      ? ['Lost: within reach only in A', `Not within ${t} min in either`, 'Within reach in both', 'Gained: within reach only in B']
      : [
          'No longer reachable in B',
          `${TRAVEL_BIG_MIN}+ min slower in B`,
          `${TRAVEL_SAME_MIN}–${TRAVEL_BIG_MIN} min slower`,
          `Within ${TRAVEL_SAME_MIN} min (unchanged)`,
          `${TRAVEL_SAME_MIN}–${TRAVEL_BIG_MIN} min faster`,
          `${TRAVEL_BIG_MIN}+ min faster in B`,
          'Newly reachable in B',
        ];
  const order = mode === 'coverage' ? [3, 0, 2, 1] : [6, 5, 4, 3, 2, 1, 0];
  const keys = mode === 'coverage' ? ['lost', 'neither', 'both', 'gained'] : ['lost_reach', 'slower5', 'slower1', 'same', 'faster1', 'faster5', 'new_reach'];
  const rows = order
    .filter((i) => counts[i] > 0 || (mode === 'coverage' ? i === 3 || i === 0 : i === 3))
    .map((i) => ({ key: keys[i], colour: colours[i], label: labels[i], count: counts[i] }));
  return {
    title: mode === 'coverage' ? `Change in coverage: ${kind}` : `Change in travel time: ${kind}`,
    note: `B “${ctx.b}” against A “${ctx.a}”, ${kind} within ${t} min.`,
    rows,
    noData,
    footnote: `Travel: ${ctx.method?.trim() || 'method not stated'}.`,
  };
}

// ---------------------------------------------------------------- scenarios

/** The kinds a scenario's edits add (sorted, distinct). */
export function addedKinds(s: Pick<Scenario, 'edits'> | null | undefined): string[] {
  const out = new Set<string>();
  for (const e of s?.edits ?? []) if (e && e.op === 'add' && typeof e.kind === 'string' && e.kind) out.add(e.kind);
  return [...out].sort();
}

/** The premises kinds to offer: the workspace's, then any added by scenarios. */
export function compareKinds(base: readonly string[], scenarios: readonly (Pick<Scenario, 'edits'> | null | undefined)[]): string[] {
  const out = [...base];
  for (const s of scenarios) for (const k of addedKinds(s)) if (!out.includes(k)) out.push(k);
  return out;
}

/** The choices of the A and B selects: baseline first, then the saved names in order. */
export function scenarioChoices(list: readonly Pick<ScenarioSummary, 'name'>[]): string[] {
  return [BASELINE, ...list.map((s) => s.name).filter((n) => n !== BASELINE)];
}

/** "5 edits · updated 2026-11-23 16:20". */
export function scenarioMeta(s: Pick<ScenarioSummary, 'edits' | 'updated'>): string {
  const n = typeof s.edits === 'number' ? s.edits : Array.isArray(s.edits) ? (s.edits as unknown[]).length : null;
  const edits = n === null ? '' : `${formatNumber(n)} edit${n === 1 ? '' : 's'}`;
  const when = typeof s.updated === 'string' && s.updated ? `updated ${s.updated.replace('T', ' ').replace(/(:\d{2})(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/, '$1')}` : '';
  return [edits, when].filter(Boolean).join(' · ');
}

/** A friendly message for a failed scenario request (save, delete, compare, list). */
export function scenarioErrorMessage(what: string, e: unknown): string {
  const err = e as { status?: unknown; message?: unknown } | null;
  const status = typeof err?.status === 'number' ? err.status : null;
  const msg = typeof err?.message === 'string' ? err.message.replace(/[.\s]+$/, '') : String(e);
  if (status === 0) return `Could not ${what}: the server could not be reached. Check the connection and try again.`;
  if (status === 404 && /^\s*(not found)?\s*$/i.test(msg)) return `Could not ${what}: this server has no scenarios yet.`;
  if (status === 400 || status === 404 || status === 409 || status === 422) return `Could not ${what}: ${msg}.`;
  return `Sorry, could not ${what} (${msg}).`;
}
