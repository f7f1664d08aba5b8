// Boundary harmonisation (issue 6): the co-terminosity of two layers (GET /api/coterminosity
// and its split pieces) and the boundary designer (GET /api/design). Pure (no DOM, no map):
// the layer choices, checks before asking, headline figures, sorting of the unit table, the
// compact intersection matrix, split classes and their legend, unit colours of a proposal,
// the before → after verdict, readable infeasibility messages and the downloads (GeoJSON,
// lookup CSV). Unit-tested in test/coterminosity.test.ts.

import type { ExpressionSpecification } from 'maplibre-gl';
import type { Feature, Geometry, MultiPolygon, Polygon } from 'geojson';
import type {
  Bbox,
  CotermCell,
  CotermUnit,
  CoterminosityResponse,
  DesignParams,
  DesignResponse,
  DesignUnitProperties,
  SplitPieceProperties,
  SplitPieces,
} from './api';
import { NO_VALUE, formatCount, formatNumber, humanize } from './format';

/** The small areas as a layer (every other layer is a boundary set of /api/meta). */
export const LAYER_AREAS = 'areas';

const LOCALE = 'en-GB';

// ---------------------------------------------------------------- choices

export interface Choice {
  value: string;
  label: string;
}

/** The layers that can be compared or designed against: the small areas, then the boundary sets. */
export function layerChoices(boundarySets: readonly string[]): Choice[] {
  return [{ value: LAYER_AREAS, label: 'Small areas' }, ...boundarySets.filter((s) => s !== LAYER_AREAS).map((s) => ({ value: s, label: humanize(s) }))];
}

/** A layer's name in a sentence: "small areas", "teams". */
export function layerName(layer: string | null | undefined): string {
  if (!layer) return NO_VALUE;
  return layer === LAYER_AREAS ? 'small areas' : humanize(layer).toLowerCase();
}

/**
 * The pair compared first: the last boundary set against the first (e.g. teams against
 * localities); with one set, the set against the small areas.
 */
export function defaultPair(boundarySets: readonly string[]): { a: string; b: string } {
  const sets = boundarySets.filter((s) => s !== LAYER_AREAS);
  if (sets.length >= 2) return { a: sets[sets.length - 1], b: sets[0] };
  if (sets.length === 1) return { a: sets[0], b: LAYER_AREAS };
  return { a: LAYER_AREAS, b: LAYER_AREAS };
}

/** The parent columns a design can nest in (/api/meta `parent_columns`, else `rollup_levels`). */
export function parentColumns(meta: { parent_columns?: string[] | null; rollup_levels?: string[] | null } | null): string[] {
  const cols = meta?.parent_columns?.length ? meta.parent_columns : (meta?.rollup_levels ?? []);
  return [...new Set(cols)];
}

/** The parent chosen first: councils if present, else the last (coarsest) roll-up level. */
export function defaultParent(cols: readonly string[]): string | null {
  if (cols.includes('council_code')) return 'council_code';
  return cols[cols.length - 1] ?? null;
}

/** A parent column in words: "council_code" -> "Council", "iz_code" -> "IZ". */
export function parentLabel(col: string): string {
  const h = humanize(col.replace(/_(code|id)$/i, ''));
  return h === NO_VALUE ? col : h;
}

export const DEFAULT_SPLIT_SHARE_PCT = 1;
export const DEFAULT_TOLERANCE_PCT = 10;

// ---------------------------------------------------------------- numbers

/** A share 0..1 as a percentage with `digits` decimals: 0.3929 -> "39.29 %". */
export function formatShare(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  const pct = v * 100 + 0;
  return `${pct.toLocaleString(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits })} %`;
}

/** The change between two shares in percentage points: "+22.77 points", "−1.50 points", "no change". */
export function formatPoints(before: number, after: number, digits = 2): string {
  const d = Math.round((after - before) * 10 ** (digits + 2)) / 10 ** digits;
  if (d === 0) return 'no change';
  const abs = Math.abs(d).toLocaleString(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${d > 0 ? '+' : '−'}${abs} points`;
}

/** A population (apportioned, so fractional) to the whole person. */
export function formatPopulation(v: number | null | undefined): string {
  return formatNumber(typeof v === 'number' ? Math.round(v) : v, 0);
}

/** A surface in km²: two decimals below 10, one below 100, whole above. */
export function formatKm2(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return NO_VALUE;
  const digits = Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0;
  return `${v.toLocaleString(LOCALE, { minimumFractionDigits: digits, maximumFractionDigits: digits })} km²`;
}

// ---------------------------------------------------------------- checks and errors

/** What the server would refuse in a comparison, said plainly; null when it can be asked. */
export function cotermPrecheck(a: string, b: string, splitSharePct: number, layers: readonly string[]): string | null {
  if (!a || !b) return 'Choose two layers to compare.';
  const unknown = [a, b].find((l) => !layers.includes(l));
  if (unknown) return `There is no layer “${unknown}” in this workspace.`;
  if (a === b) return 'Choose two different layers: a layer is always co-terminous with itself.';
  if (!Number.isFinite(splitSharePct) || splitSharePct < 0 || splitSharePct >= 50) return 'The split share must be at least 0 % and below 50 %.';
  return null;
}

/** What the server would refuse in a design, said plainly; null when it can be asked. */
export function designPrecheck(q: Partial<DesignParams> & { tolerancePct: number }, ctx: { parents: readonly string[]; layers: readonly string[] }): string | null {
  if (!ctx.parents.length) return 'The areas have no parent (roll-up) codes to nest new units in.';
  if (!q.parent || !ctx.parents.includes(q.parent)) return 'Choose the parent the new units must nest in.';
  if (!q.target || !ctx.layers.includes(q.target)) return 'Choose the layer the new units should follow.';
  if (q.current && !ctx.layers.includes(q.current)) return `There is no layer “${q.current}” in this workspace.`;
  if (!Number.isFinite(q.tolerancePct) || q.tolerancePct < 1 || q.tolerancePct > 90) return 'The tolerance must be between 1 % and 90 %.';
  return null;
}

/** A friendly message for a request the server refused or could not answer. */
export function harmonisationErrorMessage(what: string, e: unknown): string {
  const err = e as { status?: unknown; message?: unknown } | null;
  const status = typeof err?.status === 'number' ? err.status : null;
  const msg = typeof err?.message === 'string' ? err.message.replace(/[.\s]+$/, '') : String(e);
  if (status === 0) return 'The server could not be reached. Check the connection and try again.';
  if (status === 400 || status === 404 || status === 422) return `Could not ${what}: ${msg}.`;
  return `Sorry, could not ${what} (${msg}).`;
}

// ---------------------------------------------------------------- headline figures

export interface Headline {
  key: string;
  label: string;
  value: string;
  /** The figure in words (title and screen readers). */
  long: string;
}

/** The headline figures of a comparison, in order. */
export function cotermHeadlines(r: CoterminosityResponse): Headline[] {
  const an = layerName(r.a);
  const bn = layerName(r.b);
  const out: Headline[] = [
    {
      key: 'fragmentation',
      label: 'Fragmentation',
      value: formatShare(r.fragmentation),
      long: `Fragmentation ${formatShare(r.fragmentation)}: the smaller of the two sides' shares of residents living outside the dominant counterpart of their unit (0 = co-terminous or nested).`,
    },
    {
      key: 'fragmentation_a',
      label: `Residents outside (${an})`,
      value: formatShare(r.fragmentation_a),
      long: `${formatShare(r.fragmentation_a)} of residents live outside the ${bn} unit that holds most of their ${an} unit.`,
    },
    {
      key: 'fragmentation_b',
      label: `Residents outside (${bn})`,
      value: formatShare(r.fragmentation_b),
      long: `${formatShare(r.fragmentation_b)} of residents live outside the ${an} unit that holds most of their ${bn} unit.`,
    },
    {
      key: 'units_a_split',
      label: `Units split (${an})`,
      value: `${formatNumber(r.units_a_split)} of ${formatNumber(r.units_a.length)}`,
      long: `${formatNumber(r.units_a_split)} of ${formatNumber(r.units_a.length)} ${an} units are split between ${bn} units.`,
    },
    {
      key: 'units_b_split',
      label: `Units split (${bn})`,
      value: `${formatNumber(r.units_b_split)} of ${formatNumber(r.units_b.length)}`,
      long: `${formatNumber(r.units_b_split)} of ${formatNumber(r.units_b.length)} ${bn} units are split between ${an} units.`,
    },
    {
      key: 'slivers',
      label: 'Slivers',
      value: formatNumber(r.slivers),
      long: `${formatNumber(r.slivers)} sliver${r.slivers === 1 ? '' : 's'}: thin overlaps from boundaries drawn slightly apart, not counted as splits.`,
    },
    {
      key: 'geometry_problems',
      label: 'Geometry problems',
      value: formatNumber(r.geometry_problems) + (r.overlay_fallbacks ? ` (${formatNumber(r.overlay_fallbacks)} overlay fallback${r.overlay_fallbacks === 1 ? '' : 's'})` : ''),
      long:
        r.geometry_problems || r.overlay_fallbacks
          ? `${formatNumber(r.geometry_problems)} invalid geometries were repaired or skipped; ${formatNumber(r.overlay_fallbacks)} overlays fell back to a simpler method.`
          : 'No geometry problems: every polygon was valid and every overlay exact.',
    },
  ];
  if (r.population_outside_a > 0 || r.population_outside_b > 0) {
    out.push({
      key: 'population_outside',
      label: 'Residents in neither',
      value: `${formatPopulation(r.population_outside_a)} / ${formatPopulation(r.population_outside_b)}`,
      long: `${formatPopulation(r.population_outside_a)} residents live outside every ${an} unit and ${formatPopulation(r.population_outside_b)} outside every ${bn} unit.`,
    });
  }
  return out;
}

// ---------------------------------------------------------------- unit table

export type UnitSortKey = 'index' | 'population' | 'code' | 'counterparts';
export type SortDir = 'asc' | 'desc';

export const UNIT_SORTS: readonly { key: UnitSortKey; label: string; first: SortDir }[] = [
  { key: 'code', label: 'Unit', first: 'asc' },
  { key: 'population', label: 'Population', first: 'desc' },
  { key: 'index', label: 'Index', first: 'asc' },
  { key: 'counterparts', label: 'Counterparts', first: 'desc' },
];

const byCode = (x: string, y: string): number => x.localeCompare(y, LOCALE, { numeric: true });
const finite = (v: unknown, dflt: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);

/**
 * The units sorted by a column; ties go to the larger population, then the code, so that
 * the order is stable. The default (index ascending) puts the least co-terminous first.
 */
export function sortUnits(units: readonly CotermUnit[], key: UnitSortKey = 'index', dir: SortDir = 'asc'): CotermUnit[] {
  const sign = dir === 'asc' ? 1 : -1;
  const primary = (x: CotermUnit, y: CotermUnit): number => {
    switch (key) {
      case 'index':
        return finite(x.index, 1) - finite(y.index, 1);
      case 'population':
        return finite(x.population, 0) - finite(y.population, 0);
      case 'counterparts':
        return finite(x.effective_counterparts, 1) - finite(y.effective_counterparts, 1);
      case 'code':
        return byCode(x.code, y.code);
    }
  };
  return [...units].sort((x, y) => sign * primary(x, y) || finite(y.population, 0) - finite(x.population, 0) || byCode(x.code, y.code));
}

/** The least co-terminous unit (lowest index; ties: the larger population, then the code). */
export function worstUnit(units: readonly CotermUnit[]): CotermUnit | null {
  return sortUnits(units, 'index', 'asc')[0] ?? null;
}

/** The `aria-sort` value of a column header. */
export function ariaSort(column: UnitSortKey, sort: { key: UnitSortKey; dir: SortDir }): 'ascending' | 'descending' | 'none' {
  if (column !== sort.key) return 'none';
  return sort.dir === 'asc' ? 'ascending' : 'descending';
}

/** The sort after a header is chosen: the same column flips, another starts in its natural direction. */
export function nextSort(current: { key: UnitSortKey; dir: SortDir }, key: UnitSortKey): { key: UnitSortKey; dir: SortDir } {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: UNIT_SORTS.find((s) => s.key === key)?.first ?? 'asc' };
}

/** A unit's row in words (the row's title): "Team 9 (T009): 28.0 % of 12,345 residents inside LOC004; 3 counterparts (effectively 2.7)". */
export function unitSummary(u: CotermUnit, counterpartLayer: string): string {
  const who = u.name && u.name !== u.code ? `${u.name} (${u.code})` : u.code;
  const dom = u.dominant ? `inside ${u.dominant}` : `inside any ${layerName(counterpartLayer)} unit`;
  const eff = formatNumber(u.effective_counterparts, 1);
  return `${who}: ${formatShare(u.index, 1)} of ${formatPopulation(u.population)} residents ${dom}; ${formatNumber(u.counterparts)} counterpart${u.counterparts === 1 ? '' : 's'} (effectively ${eff})`;
}

// ---------------------------------------------------------------- intersection matrix

export const MATRIX_TOP_N = 12;

export interface MatrixView {
  /** Units of A (rows) and of B (columns) met by the top cells, in code order. */
  rows: string[];
  cols: string[];
  /** cells[r][c]: the cell of the full matrix, or null when the pair does not meet. */
  cells: (CotermCell | null)[][];
  /** top[r][c]: among the N most populous cells. */
  top: boolean[][];
  /** Cells in the full matrix. */
  total: number;
  /** The N used (at most the number of cells). */
  n: number;
}

/**
 * A compact view of the intersection matrix: the `n` most populous cells (ties: the larger
 * surface, then the codes), laid out as a table of the A and B units they involve. Every
 * cell of those rows and columns is filled from the full matrix.
 */
export function matrixTopN(matrix: readonly CotermCell[], n = MATRIX_TOP_N): MatrixView {
  const ranked = [...matrix].sort(
    (x, y) => finite(y.population, 0) - finite(x.population, 0) || finite(y.area_km2, 0) - finite(x.area_km2, 0) || byCode(x.a, y.a) || byCode(x.b, y.b),
  );
  const chosen = ranked.slice(0, Math.max(0, Math.floor(n)));
  const rows = [...new Set(chosen.map((c) => c.a))].sort(byCode);
  const cols = [...new Set(chosen.map((c) => c.b))].sort(byCode);
  const key = (a: string, b: string): string => `${a}\u0000${b}`;
  const all = new Map(matrix.map((c) => [key(c.a, c.b), c]));
  const topKeys = new Set(chosen.map((c) => key(c.a, c.b)));
  return {
    rows,
    cols,
    cells: rows.map((a) => cols.map((b) => all.get(key(a, b)) ?? null)),
    top: rows.map((a) => cols.map((b) => topKeys.has(key(a, b)))),
    total: matrix.length,
    n: chosen.length,
  };
}

// ---------------------------------------------------------------- split pieces

/** Classes of a split piece's share of its unit's population (ColorBrewer YlOrRd). */
export const SPLIT_CLASSES: readonly { min: number; label: string; colour: string }[] = [
  { min: 0, label: 'under 5 % of the unit', colour: '#fecc5c' },
  { min: 0.05, label: '5–15 %', colour: '#fd8d3c' },
  { min: 0.15, label: '15–30 %', colour: '#e31a1c' },
  { min: 0.3, label: '30 % or more', colour: '#800026' },
];

/** Outline styles of the two layers compared (distinct from the boundary sets' own styles). */
export const COTERM_A_LINE = { colour: '#4a148c', width: 3, dash: null as number[] | null };
export const COTERM_B_LINE = { colour: '#00838f', width: 2.5, dash: [2, 1.5] as number[] | null };
export const SPLIT_FILL_OPACITY = 0.75;

/** The class (index into SPLIT_CLASSES) of a share. */
export function splitClass(share: number | null | undefined): number {
  const s = finite(share, 0);
  let c = 0;
  SPLIT_CLASSES.forEach((k, i) => {
    if (s >= k.min) c = i;
  });
  return c;
}

/** The fill colour of the split pieces: a step over `share`. */
export function splitFillExpression(): ExpressionSpecification {
  const out: unknown[] = ['step', ['to-number', ['get', 'share'], 0], SPLIT_CLASSES[0].colour];
  for (const k of SPLIT_CLASSES.slice(1)) out.push(k.min, k.colour);
  return out as ExpressionSpecification;
}

/** The pieces as drawn: the server's features with an `id` (their position), for hover. */
export function prepareSplits(fc: SplitPieces): SplitPieces {
  return { type: 'FeatureCollection', features: fc.features.map((f, i) => ({ ...f, id: i })) };
}

export interface SplitLegendRow {
  key: string;
  label: string;
  colour: string;
  count: number;
}

/** The split legend's fill rows, with the number of pieces in each class. */
export function splitLegendRows(pieces: readonly { properties: SplitPieceProperties | null }[]): SplitLegendRow[] {
  const counts = SPLIT_CLASSES.map(() => 0);
  for (const p of pieces) counts[splitClass(p.properties?.share)]++;
  return SPLIT_CLASSES.map((k, i) => ({ key: String(i), label: k.label, colour: k.colour, count: counts[i] }));
}

/** Hover text of a split piece: "T001 → LOC006: 28.72 % of Team 1 (2,492 residents)". */
export function splitHoverText(p: Partial<SplitPieceProperties> | null | undefined, unitName?: string | null): string {
  if (!p?.unit) return 'Split piece';
  const who = unitName && unitName !== p.unit ? `${unitName}` : p.unit;
  const pop = typeof p.population === 'number' ? ` (${formatPopulation(p.population)} residents)` : '';
  return `${p.unit} → ${p.counterpart ?? NO_VALUE}: ${formatShare(p.share)} of ${who}${pop}`;
}

// ---------------------------------------------------------------- extents

/** The box around some geometries' coordinates (any nesting), or null when there are none. */
export function geometryBbox(geoms: readonly (Geometry | null | undefined)[]): Bbox | null {
  let w = Infinity;
  let s = Infinity;
  let e = -Infinity;
  let n = -Infinity;
  const walk = (c: unknown): void => {
    if (!Array.isArray(c)) return;
    if (c.length >= 2 && typeof c[0] === 'number' && typeof c[1] === 'number') {
      const [x, y] = c as number[];
      if (Number.isFinite(x) && Number.isFinite(y)) {
        if (x < w) w = x;
        if (x > e) e = x;
        if (y < s) s = y;
        if (y > n) n = y;
      }
      return;
    }
    for (const x of c) walk(x);
  };
  for (const g of geoms) {
    if (!g) continue;
    if (g.type === 'GeometryCollection') {
      const b = geometryBbox(g.geometries);
      if (b) walk([[b[0], b[1]], [b[2], b[3]]]);
    } else {
      walk((g as { coordinates?: unknown }).coordinates);
    }
  }
  return Number.isFinite(w) ? [w, s, e, n] : null;
}

/** The small areas of each unit of A (or B) from the comparison's lookup. */
export function areasByUnit(lookup: readonly { area_id: string; a: string | null; b: string | null }[], side: 'a' | 'b'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of lookup) {
    const u = r[side];
    if (!u) continue;
    const list = out.get(u);
    if (list) list.push(r.area_id);
    else out.set(u, [r.area_id]);
  }
  return out;
}

// ---------------------------------------------------------------- the designer

/** ColorBrewer Set3 without its grey: light, distinct colours for the proposed units. */
export const UNIT_PALETTE: readonly string[] = ['#8dd3c7', '#ffffb3', '#bebada', '#fb8072', '#80b1d3', '#fdb462', '#b3de69', '#fccde5', '#bc80bd', '#ccebc5', '#ffed6f'];
export const DESIGN_FILL_OPACITY = 0.8;
export const DESIGN_LINE_COLOUR = '#1f2933';

const boxesTouch = (x: Bbox, y: Bbox, pad: number): boolean => x[0] - pad <= y[2] && y[0] - pad <= x[2] && x[1] - pad <= y[3] && y[1] - pad <= x[3];

/**
 * A palette index per unit such that units whose boxes touch (a stand-in for adjacency)
 * get different colours where the palette allows: greedy, largest box first, each taking
 * the first colour no touching unit holds (else the least used among them).
 */
export function unitColourIndex(boxes: readonly (Bbox | null)[], paletteSize = UNIT_PALETTE.length): number[] {
  const out = boxes.map(() => -1);
  const size = (b: Bbox | null): number => (b ? (b[2] - b[0]) * (b[3] - b[1]) : 0);
  const order = boxes.map((_, i) => i).sort((x, y) => size(boxes[y]) - size(boxes[x]) || x - y);
  // A tiny pad so that units sharing an edge count as touching despite rounding.
  const pad = 1e-6;
  for (const i of order) {
    const bi = boxes[i];
    const used = new Map<number, number>();
    if (bi) {
      boxes.forEach((bj, j) => {
        if (j !== i && bj && out[j] >= 0 && boxesTouch(bi, bj, pad)) used.set(out[j], (used.get(out[j]) ?? 0) + 1);
      });
    }
    let pick = -1;
    for (let c = 0; c < paletteSize; c++) {
      if (!used.has(c)) {
        pick = c;
        break;
      }
    }
    if (pick < 0) {
      // Every colour is taken by a neighbour: the one fewest neighbours hold.
      pick = [...used.entries()].sort((x, y) => x[1] - y[1] || x[0] - y[0])[0][0];
    }
    out[i] = pick;
  }
  return out;
}

export type DesignFeature = Feature<Polygon | MultiPolygon, DesignUnitProperties & { colour: string }>;

/** The proposal as drawn: each unit with its `id` (position) and `colour`. */
export function prepareDesign(fc: Pick<DesignResponse, 'features'>): { type: 'FeatureCollection'; features: DesignFeature[] } {
  const idx = unitColourIndex(fc.features.map((f) => geometryBbox([f.geometry])));
  return {
    type: 'FeatureCollection',
    features: fc.features.map((f, i) => ({
      type: 'Feature',
      id: i,
      geometry: f.geometry,
      properties: { ...f.properties, colour: UNIT_PALETTE[idx[i]] ?? UNIT_PALETTE[0] },
    })),
  };
}

export interface Verdict {
  /** better: after > before; same: equal; worse: after < before; none: no current layer. */
  cls: 'better' | 'same' | 'worse' | 'none';
  text: string;
}

/**
 * The before → after statement of a proposal: its co-terminosity with the target against
 * the current layer's (both shares of residents).
 */
export function designVerdict(r: Pick<DesignResponse, 'coterminosity_before' | 'coterminosity_after'>, names: { target: string; current?: string | null }): Verdict {
  const after = r.coterminosity_after;
  const before = r.coterminosity_before;
  const target = layerName(names.target);
  if (typeof before !== 'number' || !Number.isFinite(before) || !names.current) {
    return { cls: 'none', text: `The proposed units are ${formatShare(after)} co-terminous with ${target}. Choose a current layer to compare with today's boundaries.` };
  }
  const current = layerName(names.current);
  const figures = `${formatShare(before)} before → ${formatShare(after)} after (${formatPoints(before, after)})`;
  if (after > before) return { cls: 'better', text: `After ≥ before: the proposal is more co-terminous with ${target} than today's ${current}: ${figures}.` };
  if (after === before) return { cls: 'same', text: `After ≥ before: the proposal is as co-terminous with ${target} as today's ${current}: ${figures}.` };
  return {
    cls: 'worse',
    text: `After < before: the proposal is less co-terminous with ${target} than today's ${current}: ${figures}. Balancing the units within the tolerance costs alignment; a wider tolerance may help.`,
  };
}

/** The ceiling in words. */
export function ceilingText(r: Pick<DesignResponse, 'ceiling' | 'coterminosity_after'>, target: string): string {
  const gap = formatPoints(r.coterminosity_after, r.ceiling);
  const reach = gap === 'no change' ? 'the proposal reaches it' : `the proposal is ${gap.replace(/^\+/, '')} below it`;
  return `Ceiling ${formatShare(r.ceiling)}: the most co-terminous grouping of whole small areas with ${layerName(target)}, ignoring balance and contiguity; ${reach}.`;
}

/** What the designer is asked for, in a sentence. */
export function designSummary(q: DesignParams): string {
  const bal = q.balance === 'referrals' ? 'referrals' : 'population';
  return `Units nested in each ${parentLabel(q.parent)}, following ${layerName(q.target)}, balanced on ${bal} within ±${formatNumber(q.tolerance * 100, 1)} %.`;
}

export interface InfeasibleContext {
  /** Unit ids (U001…) by unit index, and their parent codes. */
  units: readonly { unit_id: string; parent: string }[];
  /** Area codes by area index (the lookup's order). */
  areaIds: readonly string[];
  balance: string;
}

const NUM = '(-?[0-9.eE+-]+)';

/**
 * A readable line for one of the server's infeasibility entries, which come in its debug
 * form, e.g. `Unbalanced { parent: 0, unit: 3, weight: 16110.0, band: [16299.657, 16628.943] }`
 * or `AreaTooHeavy { parent: 0, area: 12, weight: 815.0, high: 785.79 }`. Parent and unit
 * indices are turned into codes; anything else is shown as sent.
 */
export function infeasibleText(entry: string | { kind?: string; message?: string }, ctx: InfeasibleContext): string {
  // The server now sends structured entries with a ready sentence.
  if (typeof entry !== 'string') return entry.message ?? JSON.stringify(entry);
  const what = ctx.balance === 'referrals' ? 'referrals' : 'residents';
  const parentCodes = [...new Set(ctx.units.map((u) => u.parent))].sort();
  const parentOf = (i: number): string => parentCodes[i] ?? `parent ${i}`;
  const w = (v: string): string => formatNumber(Number(v), 0);
  let m = new RegExp(`^\\s*Unbalanced\\s*\\{\\s*parent:\\s*(\\d+),\\s*unit:\\s*(\\d+),\\s*weight:\\s*${NUM},\\s*band:\\s*\\[\\s*${NUM},\\s*${NUM}\\s*\\]\\s*\\}\\s*$`).exec(entry);
  if (m) {
    const u = ctx.units[Number(m[2])];
    const name = u ? `${u.unit_id} (${u.parent})` : `Unit ${Number(m[2]) + 1} of ${parentOf(Number(m[1]))}`;
    const weight = Number(m[3]);
    const side = weight < Number(m[4]) ? 'below' : 'above';
    return `${name} has ${w(m[3])} ${what}, ${side} the allowed ${w(m[4])}–${w(m[5])}.`;
  }
  m = new RegExp(`^\\s*AreaTooHeavy\\s*\\{\\s*parent:\\s*(\\d+),\\s*area:\\s*(\\d+),\\s*weight:\\s*${NUM},\\s*high:\\s*${NUM}\\s*\\}\\s*$`).exec(entry);
  if (m) {
    const area = ctx.areaIds[Number(m[2])] ?? `area ${m[2]}`;
    return `Small area ${area} (${parentOf(Number(m[1]))}) alone has ${w(m[3])} ${what}, more than a unit may hold (${w(m[4])}).`;
  }
  return entry;
}

export const INFEASIBLE_SHOWN = 8;

/** The infeasibility lines shown (at most `limit`) and how many more there are. */
export function infeasibleLines(list: readonly (string | { kind?: string; message?: string })[], ctx: InfeasibleContext, limit = INFEASIBLE_SHOWN): { lines: string[]; more: number } {
  return { lines: list.slice(0, limit).map((e) => infeasibleText(e, ctx)), more: Math.max(0, list.length - limit) };
}

/** A unit's hover line: "Proposed unit U003 (CA01), following LOC007: 19,319 residents". */
export function designHoverText(p: Partial<DesignUnitProperties> | null | undefined, balance: string): string {
  if (!p?.unit_id) return 'Proposed unit';
  const follows = p.aligned_with ? `, following ${p.aligned_with}` : ', not aligned with a target unit';
  const what = balance === 'referrals' ? 'referrals' : 'residents';
  const weight = typeof p.weight === 'number' ? formatNumber(p.weight, 0) : formatCount(p.weight ?? null);
  const band = p.within_tolerance === false ? ' (outside the tolerance)' : '';
  return `Proposed unit ${p.unit_id} (${p.parent ?? NO_VALUE})${follows}: ${weight} ${what}${band}`;
}

// ---------------------------------------------------------------- downloads

/** One CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
export function csvField(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The lookup of small areas to proposed units as CSV: `area_id,unit_id`, CRLF line ends. */
export function lookupCsv(lookup: readonly { area_id: string; unit_id: string }[]): string {
  const lines = ['area_id,unit_id', ...lookup.map((r) => `${csvField(r.area_id)},${csvField(r.unit_id)}`)];
  return `${lines.join('\r\n')}\r\n`;
}

/** The proposal as a GeoJSON file: the units, with what was asked and the figures as foreign members. */
export function proposalGeoJson(r: DesignResponse, q: DesignParams): string {
  const out = {
    type: 'FeatureCollection',
    parent: q.parent,
    target: q.target,
    current: q.current ?? null,
    tolerance: r.tolerance ?? q.tolerance,
    balance: r.balance ?? q.balance,
    coterminosity_before: r.coterminosity_before ?? null,
    coterminosity_after: r.coterminosity_after,
    ceiling: r.ceiling,
    infeasible: r.infeasible ?? [],
    features: r.features.map((f, i) => ({ type: 'Feature', id: f.id ?? i, properties: f.properties, geometry: f.geometry })),
  };
  return JSON.stringify(out);
}

/** A file name for the downloads: "needmap-design-council_code-localities-20pct". */
export function designFileStem(q: DesignParams): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, '_');
  return `needmap-design-${safe(q.parent)}-${safe(q.target)}-${formatNumber(q.tolerance * 100, 1).replace(/[^0-9]/g, '_')}pct`;
}
