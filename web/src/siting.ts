// Siting co-located premises (GET /api/siting): the models and weights offered, checks of
// the form before asking, the texts of a result (objective, optimality gap, equity), the
// class of each area put into feature-state and its legend, and the scenario edits that
// turn the chosen sites into new premises. Pure (no DOM, no map): unit-tested in
// test/siting.test.ts.

import type { ExpressionSpecification } from 'maplibre-gl';
import type { Count, PremisesCollection, ScenarioEdit, SitingArea, SitingModel, SitingParams, SitingResponse, SitingSite, SitingWeight } from './api';
import { NO_VALUE, formatCount, formatNumber, humanize, kindPhrase, quintileLabel } from './format';
import { NO_DATA_COLOUR } from './legend';

export interface ModelDef {
  id: SitingModel;
  label: string;
  /** What it chooses, in a sentence. */
  help: string;
  /** Whether the number of sites is asked for (LSCP finds it). */
  usesP: boolean;
}

export const SITING_MODELS: readonly ModelDef[] = [
  { id: 'mclp', label: 'Cover most demand (MCLP)', help: 'Choose p sites that bring the most demand within the threshold.', usesP: true },
  { id: 'p_median', label: 'Shortest total travel (p-median)', help: 'Choose p sites that make the demand-weighted travel time smallest.', usesP: true },
  { id: 'p_center', label: 'Shortest longest trip (p-center)', help: 'Choose p sites that make the longest travel time of any area smallest.', usesP: true },
  { id: 'lscp', label: 'Fewest sites to cover all (LSCP)', help: 'Choose as few sites as cover every area within the threshold.', usesP: false },
];

export const SITING_WEIGHTS: readonly { id: SitingWeight; label: string; served: string }[] = [
  { id: 'population', label: 'Population', served: 'Residents served' },
  { id: 'need', label: 'Need (population × need score)', served: 'Need served' },
  { id: 'deprivation', label: 'Deprivation-weighted population', served: 'Weighted demand served' },
  { id: 'referrals', label: 'Referrals', served: 'Referrals served' },
];

export const DEFAULT_MODEL: SitingModel = 'mclp';
export const DEFAULT_P = 5;
export const DEFAULT_SITING_THRESHOLD = 15;
export const DEFAULT_WEIGHT: SitingWeight = 'population';
/** Candidate kinds ticked first (co-location in schools and health centres), when present. */
export const DEFAULT_CANDIDATES: readonly string[] = ['school', 'health_centre'];
/** The baseline kind chosen first, when present. */
export const DEFAULT_BASELINE = 'social_work_office';
/** The premises kind given to the new premises of a saved scenario. */
export const DEFAULT_HUB_KIND = 'hub';
export const MAX_P = 500;

export function modelDef(id: string): ModelDef {
  return SITING_MODELS.find((m) => m.id === id) ?? SITING_MODELS[0];
}

export function weightDef(id: string): { id: SitingWeight; label: string; served: string } {
  return SITING_WEIGHTS.find((w) => w.id === id) ?? SITING_WEIGHTS[0];
}

/** The candidate kinds ticked first: schools and health centres if present, else the first kind. */
export function defaultCandidates(kinds: readonly string[]): string[] {
  const out = DEFAULT_CANDIDATES.filter((k) => kinds.includes(k));
  return out.length ? out : kinds.slice(0, 1);
}

/** The baseline kind chosen first: social work offices if present, else none. */
export function defaultBaseline(kinds: readonly string[]): string | null {
  return kinds.includes(DEFAULT_BASELINE) ? DEFAULT_BASELINE : null;
}

/** "A12, B7 ,, C" -> ["A12", "B7", "C"]. */
export function parseIdList(s: string | null | undefined): string[] {
  if (!s) return [];
  return [...new Set(s.split(/[,;\s]+/).map((x) => x.trim()).filter((x) => x.length > 0))];
}

/**
 * What the server would refuse, checked first so that the page says it plainly (and the
 * browser logs no failed request): no candidate kind, p or the threshold out of range,
 * a kind not in the workspace, or a premises to keep that is not a candidate.
 * Returns the message, or null when the request can be sent.
 */
export function sitingPrecheck(q: SitingParams, ctx: { kinds: readonly string[]; premises?: PremisesCollection | null }): string | null {
  if (!q.candidates.length) return 'Tick at least one kind of premises as candidate sites.';
  const unknown = q.candidates.find((k) => !ctx.kinds.includes(k));
  if (unknown) return `There are no ${kindPhrase(unknown)} premises in this workspace.`;
  if (modelDef(q.model).usesP && (!Number.isInteger(q.p) || q.p < 1 || q.p > MAX_P)) return `The number of sites must be a whole number from 1 to ${MAX_P}.`;
  if (!Number.isFinite(q.thresholdMin) || q.thresholdMin < 1 || q.thresholdMin > 180) return 'The travel-time threshold must be between 1 and 180 minutes.';
  if (q.baseline && !ctx.kinds.includes(q.baseline)) return `There are no ${kindPhrase(q.baseline)} premises to compare with.`;
  const keep = q.keep ?? [];
  if (keep.length && ctx.premises) {
    const byId = new Map(ctx.premises.features.map((f) => [String(f.properties?.premises_id), f.properties?.kind]));
    for (const id of keep) {
      const kind = byId.get(id);
      if (kind === undefined) return `No premises “${id}” in this workspace (must stay open).`;
      if (!q.candidates.includes(kind)) return `“${id}” must stay open but is a ${kindPhrase(kind)}, not one of the candidate kinds.`;
    }
    if (modelDef(q.model).usesP && keep.length > q.p) return `${keep.length} premises must stay open, more than the ${q.p} sites to choose.`;
  }
  return null;
}

/** A friendly message for a siting request the server refused or could not answer. */
export function sitingErrorMessage(e: unknown): string {
  const err = e as { status?: unknown; message?: unknown } | null;
  const status = typeof err?.status === 'number' ? err.status : null;
  const msg = typeof err?.message === 'string' ? err.message.replace(/[.\s]+$/, '') : String(e);
  if (status === 0) return 'The server could not be reached. Check the connection and try again.';
  if (status === 400 || status === 404 || status === 422) return `The sites could not be chosen: ${msg}.`;
  return `Sorry, the sites could not be chosen (${msg}).`;
}

// ---------------------------------------------------------------- result texts

/** A finite number (negative zero, e.g. a server's rounded -0.0, becomes 0), or null. */
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v + 0 : null);

/**
 * The objective with its unit: "406,171 demand weight within the threshold (100% of 406,171)"
 * for MCLP, "249,879 weighted minutes of travel", "12.5 minutes to the farthest area", "15 sites".
 */
export function objectiveText(r: Pick<SitingResponse, 'model' | 'objective' | 'objective_unit' | 'total_weight'>): string {
  const o = num(r.objective);
  const value = o === null ? formatCount(r.objective) : formatNumber(o, Math.abs(o) < 100 ? 1 : 0);
  let out = `${value} ${r.objective_unit || ''}`.trim();
  const total = num(r.total_weight);
  if (r.model === 'mclp' && o !== null && total !== null && total > 0) out += ` (${fixed1((100 * o) / total)}% of all demand, ${formatNumber(total, 0)})`;
  return out;
}

/**
 * The optimality gap, rounded up so that the bound still holds: "proven optimal", or
 * "optimality gap ≤ 0.65 %"; "optimality gap not known" without a number.
 */
export function gapText(r: Pick<SitingResponse, 'gap_pct' | 'proven_optimal'>): string {
  if (r.proven_optimal) return 'proven optimal';
  const g = num(r.gap_pct);
  if (g === null) return 'optimality gap not known';
  // Two decimals, rounded up (a bound must not be understated); 1e-9 absorbs float noise.
  const up = Math.ceil(g * 100 - 1e-9) / 100;
  return `optimality gap ≤ ${up.toLocaleString('en-GB', { maximumFractionDigits: 2 })} %`;
}

/** "Almond Vale School 76 (school): 173 areas, residents served 106,390". */
export function siteSummary(s: SitingSite, weight: string): string {
  return `${s.name || s.premises_id} (${kindPhrase(s.kind)}): ${formatNumber(s.areas_served)} areas, ${weightDef(weight).served.toLowerCase()} ${formatCount(s.weight_served)}`;
}

/** The facts of a site's popup. */
export function siteFacts(s: SitingSite, weight: string): [string, string][] {
  return [
    ['Kind', humanize(s.kind)],
    ['Premises', s.premises_id],
    ['Areas served', formatNumber(s.areas_served)],
    [weightDef(weight).served, formatCount(s.weight_served)],
  ];
}

/** A percentage with one decimal, "—" when missing. */
export function pct(v: number | null | undefined): string {
  const x = num(v);
  return x === null ? NO_VALUE : `${fixed1(x)}%`;
}

/** One decimal, always shown: "92.0". */
function fixed1(x: number): string {
  return x.toLocaleString('en-GB', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

/** "+7.6 pts", "−2.0 pts", "no change"; null when either side is missing. */
export function pointsChange(before: number | null | undefined, after: number | null | undefined): string | null {
  const a = num(before);
  const b = num(after);
  if (a === null || b === null) return null;
  const d = Math.round((b - a) * 10) / 10;
  if (d === 0) return 'no change';
  return `${d > 0 ? '+' : '−'}${fixed1(Math.abs(d))} pts`;
}

export interface EquityLine {
  quintile: number;
  label: string;
  demand: string;
  before: string;
  after: string;
  change: string;
  /** Screen-reader sentence of the row. */
  spoken: string;
}

/** The equity table of a result, quintile 1 (most deprived) first. */
export function equityLines(r: Pick<SitingResponse, 'equity'>, hasBaseline: boolean): EquityLine[] {
  return [...(r.equity ?? [])]
    .sort((a, b) => a.simd_quintile - b.simd_quintile)
    .map((e) => {
      const change = pointsChange(e.covered_before_pct, e.covered_after_pct) ?? NO_VALUE;
      const before = hasBaseline ? pct(e.covered_before_pct) : NO_VALUE;
      const spoken = hasBaseline
        ? `SIMD quintile ${quintileLabel(e.simd_quintile)}: covered ${pct(e.covered_before_pct)} before, ${pct(e.covered_after_pct)} after (${change}).`
        : `SIMD quintile ${quintileLabel(e.simd_quintile)}: ${pct(e.covered_after_pct)} covered by the new sites.`;
      return {
        quintile: e.simd_quintile,
        label: quintileLabel(e.simd_quintile),
        demand: formatCount(e.demand as Count),
        before,
        after: pct(e.covered_after_pct),
        change: hasBaseline ? change : NO_VALUE,
        spoken,
      };
    });
}

// ---------------------------------------------------------------- area classes

/** Feature-state key of the siting result on the `areas` features. */
export const SITING_STATE_KEY = 'siting_class';

/**
 * The classes of areas in a siting result: not covered; covered by the baseline only
 * ("already covered"); covered by the baseline and by a new site; covered by a new site
 * only ("newly covered" = the API's `newly_covered`).
 */
export const SITING_CLASS = { none: 0, before: 1, both: 2, new: 3 } as const;
export type SitingClass = (typeof SITING_CLASS)[keyof typeof SITING_CLASS];

/** Colours by class: grey, light blue, mid blue, orange (newly covered stands out). */
export const SITING_COLOURS: Record<SitingClass, string> = {
  0: '#f0f0f0',
  1: '#c6dbef',
  2: '#6baed6',
  3: '#f16913',
};

export function sitingClass(a: Pick<SitingArea, 'covered' | 'covered_before' | 'newly_covered'> | null | undefined): SitingClass | null {
  if (!a) return null;
  if (a.newly_covered || (a.covered && !a.covered_before)) return SITING_CLASS.new;
  if (a.covered && a.covered_before) return SITING_CLASS.both;
  if (a.covered_before) return SITING_CLASS.before;
  return SITING_CLASS.none;
}

export interface PlanLegendRow {
  key: string;
  colour: string;
  label: string;
  count: number;
}

export interface PlanLegend {
  title: string;
  note: string;
  rows: PlanLegendRow[];
  /** Areas without a value (hatched). */
  noData: number;
  footnote: string;
}

/** The legend of a siting result: one row per class in use (and "newly covered" always). */
export function sitingLegend(classes: readonly (SitingClass | null)[], ctx: { baseline: string | null; thresholdMin: number; method?: string | null }): PlanLegend {
  const counts = [0, 0, 0, 0];
  let noData = 0;
  for (const c of classes) {
    if (c === null) noData++;
    else counts[c]++;
  }
  const t = Math.round(ctx.thresholdMin);
  const base = ctx.baseline ? kindPhrase(ctx.baseline) : null;
  const labels: Record<SitingClass, string> = base
    ? {
        3: `Newly covered (only by a new site)`,
        2: `Covered by a new site and a ${base}`,
        1: `Already covered (by a ${base} only)`,
        0: 'Not covered',
      }
    : { 3: `Covered by the new sites`, 2: 'Covered by a new site and before', 1: 'Already covered', 0: 'Not covered' };
  const order: SitingClass[] = [3, 2, 1, 0];
  const rows = order
    .filter((c) => c === 3 || c === 0 || counts[c] > 0)
    .map((c) => ({ key: ['none', 'before', 'both', 'new'][c], colour: SITING_COLOURS[c], label: labels[c], count: counts[c] }));
  return {
    title: 'Siting result',
    note: base ? `Areas within ${t} min of a chosen site, against ${base} premises today.` : `Areas within ${t} min of a chosen site.`,
    rows,
    noData,
    footnote: `Travel: ${ctx.method?.trim() || 'method not stated'}.`,
  };
}

/** `fill-color` of the planning overlay for a feature-state key holding a class index. */
export function classFillExpression(key: string, colours: readonly string[]): ExpressionSpecification {
  const input: ExpressionSpecification = ['feature-state', key];
  const stops: (number | string)[] = [];
  colours.forEach((c, i) => stops.push(i, c));
  const matched = ['match', ['to-number', input], ...stops, NO_DATA_COLOUR] as unknown as ExpressionSpecification;
  return ['case', ['!=', ['typeof', input], 'number'], NO_DATA_COLOUR, matched];
}

/** `fill-opacity` of the overlay: opaque where the state holds a class, clear elsewhere. */
export function classOpacityExpression(key: string, opacity = 1): ExpressionSpecification {
  return ['case', ['==', ['typeof', ['feature-state', key]], 'number'], opacity, 0];
}

// ---------------------------------------------------------------- scenario edits

/** Scenario names the server accepts: letters, digits, - and _, 1-64 characters. */
export const SCENARIO_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Premises kinds given to new premises: the same characters. */
export const KIND_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** "hubs-mclp-5". */
export function defaultScenarioName(model: string, p: number): string {
  return `hubs-${model.replace(/[^A-Za-z0-9_-]/g, '')}-${Math.max(0, Math.round(p))}`;
}

/** Why a scenario name or kind cannot be used, or null. */
export function scenarioNameProblem(name: string): string | null {
  if (!name) return 'Give the scenario a name.';
  if (name === 'baseline') return '“baseline” is the premises as they are; choose another name.';
  if (name === 'compare') return '“compare” is reserved; choose another name.';
  if (!SCENARIO_NAME.test(name)) return 'A scenario name may use letters, digits, - and _ only (at most 64 characters).';
  return null;
}

export function kindNameProblem(kind: string): string | null {
  if (!kind) return 'Give the new premises a kind.';
  if (!KIND_NAME.test(kind)) return 'A premises kind may use letters, digits, - and _ only (at most 64 characters).';
  return null;
}

/**
 * The edits that add a new premises of `kind` at each chosen site: id `HUB-<premises_id>`,
 * name `<site name> (hub)`, the site's lon/lat, nothing else copied.
 */
export function hubEdits(sites: readonly Pick<SitingSite, 'premises_id' | 'name' | 'lon' | 'lat'>[], kind: string): ScenarioEdit[] {
  const seen = new Set<string>();
  const out: ScenarioEdit[] = [];
  for (const s of sites) {
    const id = `HUB-${s.premises_id}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ op: 'add', id, name: `${s.name || s.premises_id} (hub)`, kind, lon: s.lon, lat: s.lat });
  }
  return out;
}

/** The description stored with a saved scenario: "MCLP, 5 sites among school, health centre within 15 min, weighted by population". */
export function scenarioDescription(r: Pick<SitingResponse, 'model' | 'p' | 'threshold_min' | 'weight'>, candidates: readonly string[], kind: string): string {
  const cands = candidates.map((k) => kindPhrase(k)).join(', ');
  return `${r.p} ${kindPhrase(kind)} premises at sites chosen by ${String(r.model).toUpperCase().replace('_', '-')} among ${cands} within ${formatNumber(r.threshold_min, 1)} min, weighted by ${weightDef(String(r.weight)).label.toLowerCase()}`;
}
