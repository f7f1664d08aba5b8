// Week heatmap: 7 rows (Monday to Sunday) × 24 columns (hours), one cell per hour of the
// week, shaded by demand (referrals by hour) with the hours when premises are open
// outlined, and cells withheld by disclosure control ("<10") hatched. Used in the area
// panel (the catchment's demand vs premises open within reach) and in the premises popup
// (its catchment's demand vs its own opening hours).
//
// The model (cell values, classes, labels, caption, summary) is pure and unit-tested in
// test/heatmap.test.ts; `renderHeatmap` at the bottom draws it as SVG (no chart library).

import type { Count } from './api';
import { formatCount, formatNumber, kindPhrase } from './format';
import { DAY_LONG, DAY_SHORT, HOURS_IN_WEEK, hourLabel } from './hours';

/** Demand shades, lightest first (ColorBrewer Purples, 5 classes); level 0 (no demand) is white. */
export const HEATMAP_SHADES: readonly string[] = ['#f2f0f7', '#cbc9e2', '#9e9ac8', '#756bb1', '#54278f'];
export const HEATMAP_EMPTY = '#ffffff';
/** Lines of the hatching drawn over withheld cells. */
export const HEATMAP_HATCH = '#6b6b6b';

export interface HeatCell {
  /** Hour of the week, 0 = Monday 00:00-01:00. */
  slot: number;
  /** 0 = Monday. */
  day: number;
  /** Hour of the day, 0..23. */
  hour: number;
  /** Demand in the hour (a published count), null when withheld or unknown. */
  demand: number | null;
  /** The count was withheld ("<10"). */
  suppressed: boolean;
  /** 0 = no demand (or withheld/unknown), 1..HEATMAP_SHADES.length = lightest..darkest. */
  level: number;
  /** Premises open in the hour (any share of it, or at least one within reach). */
  open: boolean;
  /** Open for part of the hour only (open share between 0 and 1). */
  partial: boolean;
  /** The open share (0..1) or the number of premises open within reach; null when unknown. */
  openValue: number | null;
  /** CSS classes: hm-cell, hm-l{level}, hm-open, hm-partial, hm-suppressed. */
  className: string;
  fill: string;
  /** "Tue 17:00–18:00: 45 referrals; open". */
  label: string;
}

export interface HeatmapInput {
  /** Demand by hour of the week (168 published counts). */
  demand: readonly (Count | null | undefined)[] | null | undefined;
  /** Open share (0..1) per hour, or premises open within reach per hour. */
  open: readonly (number | null | undefined)[] | null | undefined;
  /** 'share': `open` holds shares of the hour (a premises); 'count': premises open within reach (an area). */
  openMode: 'share' | 'count';
}

export interface HeatmapModel {
  cells: HeatCell[];
  /** Largest published demand in one hour (0 when none). */
  max: number;
  /** Hours with premises open (any share). */
  openHours: number;
  /** Hours withheld ("<10"). */
  suppressedHours: number;
  /**
   * Share (0..1) of the published hourly demand falling in closed hours; withheld hours
   * count as 0. Null when there is no published demand.
   */
  closedShare: number | null;
  /** The slot of the largest demand, or null. */
  busiest: number | null;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Shade level of a demand: 0 for none, else 1..levels by its share of the maximum. */
export function demandLevel(v: number | null, max: number, levels: number = HEATMAP_SHADES.length): number {
  if (v === null || !finite(v) || v <= 0 || !(max > 0)) return 0;
  return Math.min(levels, Math.max(1, Math.ceil((v / max) * levels)));
}

/** What a demand count says in a cell label: "45 referrals", "fewer than 10 referrals", "no referrals". */
export function demandPhrase(c: Count | null | undefined): string {
  if (typeof c === 'string') return c.trim() === '<10' ? 'fewer than 10 referrals' : `${formatCount(c)} referrals`;
  if (!finite(c)) return 'demand not known';
  if (c === 0) return 'no referrals';
  return `${formatCount(c)} referral${c === 1 ? '' : 's'}`;
}

function openPhrase(mode: 'share' | 'count', v: number | null): string {
  if (v === null) return 'hours not known';
  if (mode === 'count') return v > 0 ? `${formatNumber(v)} open within reach` : 'nothing open within reach';
  if (v >= 1) return 'open';
  if (v > 0) return `open ${formatNumber(v * 60)} min of the hour`;
  return 'closed';
}

/** The cells (168, Monday 00:00 first) and totals of a week heatmap. */
export function heatmapModel(input: HeatmapInput): HeatmapModel {
  const demand = input.demand ?? [];
  const open = input.open ?? [];
  const nums = Array.from({ length: HOURS_IN_WEEK }, (_, i) => (finite(demand[i]) ? (demand[i] as number) : null));
  const max = nums.reduce<number>((m, v) => (v !== null && v > m ? v : m), 0);
  let openHours = 0;
  let suppressedHours = 0;
  let total = 0;
  let closedTotal = 0;
  let busiest: number | null = null;
  const cells: HeatCell[] = [];
  for (let slot = 0; slot < HOURS_IN_WEEK; slot++) {
    const raw = demand[slot];
    const d = nums[slot];
    const suppressed = typeof raw === 'string';
    const o = finite(open[slot]) ? (open[slot] as number) : null;
    const isOpen = o !== null && o > 0;
    const partial = input.openMode === 'share' && isOpen && (o as number) < 1;
    const level = demandLevel(d, max);
    if (isOpen) openHours++;
    if (suppressed) suppressedHours++;
    if (d !== null) {
      total += d;
      if (!isOpen) closedTotal += d;
      if (d > 0 && (busiest === null || d > (nums[busiest] ?? 0))) busiest = slot;
    }
    const classes = ['hm-cell', `hm-l${level}`];
    if (isOpen) classes.push('hm-open');
    if (partial) classes.push('hm-partial');
    if (suppressed) classes.push('hm-suppressed');
    cells.push({
      slot,
      day: Math.floor(slot / 24),
      hour: slot % 24,
      demand: d,
      suppressed,
      level,
      open: isOpen,
      partial,
      openValue: o,
      className: classes.join(' '),
      fill: level === 0 ? HEATMAP_EMPTY : HEATMAP_SHADES[level - 1],
      label: `${hourLabel(slot)}: ${demandPhrase(raw)}; ${openPhrase(input.openMode, o)}`,
    });
  }
  return { cells, max, openHours, suppressedHours, closedShare: total > 0 ? closedTotal / total : null, busiest };
}

/** "41%" (whole percent; one decimal below 1%). */
export function percentText(share: number): string {
  const p = share * 100;
  return `${formatNumber(p, p > 0 && p < 1 ? 1 : 0)}%`;
}

/** The caption under a heatmap. */
export function heatmapCaption(mode: 'share' | 'count'): string {
  const open = mode === 'share' ? 'outlined = open (dashed: part of the hour)' : 'outlined = open within reach';
  return `Demand by hour of week (darker = more referrals); ${open}; hatched = fewer than 10.`;
}

export interface SummaryContext {
  /** 'premises': the premises' own catchment; 'area': an area and its catchment. */
  subject: 'premises' | 'area';
  kind?: string | null;
  thresholdMin?: number | null;
  /**
   * The server's share (percent) of referrals arriving while closed (premises:
   * while_closed_pct; area: unmet_pct); null when withheld, undefined when not sent.
   */
  pct?: number | null;
  /** The referrals behind `pct` (a published count). */
  timed?: Count | null;
}

/**
 * The accessible text summary of a heatmap, e.g. "41% of this catchment's referrals arrive
 * while it is closed. Open 39 of 168 hours; busiest hour Tue 11:00–12:00 (195 referrals)."
 * Uses the server's share when sent, else the share computed from the published hours.
 */
export function heatmapSummary(model: HeatmapModel, ctx: SummaryContext): string {
  const parts: string[] = [];
  const kind = kindPhrase(ctx.kind ?? 'premises');
  const within = finite(ctx.thresholdMin) ? ` within ${formatNumber(ctx.thresholdMin)} min` : ' within reach';
  const share = finite(ctx.pct) ? ctx.pct / 100 : ctx.pct === undefined ? model.closedShare : null;
  const estimated = !finite(ctx.pct) && ctx.pct === undefined ? ' (from the hourly counts shown)' : '';
  if (ctx.subject === 'premises') {
    if (share !== null) parts.push(`${percentText(share)} of this catchment's referrals arrive while it is closed${estimated}.`);
    else parts.push("The share of this catchment's referrals arriving while it is closed is withheld (fewer than 10).");
    parts.push(`Open ${formatNumber(model.openHours)} of ${HOURS_IN_WEEK} hours in the week.`);
  } else {
    if (share !== null) parts.push(`${percentText(share)} of this area's referrals arrive when no ${kind}${within} is open${estimated}.`);
    else parts.push(`The share of this area's referrals arriving when no ${kind}${within} is open is withheld (fewer than 10).`);
    parts.push(`${/^[aeiou]/i.test(kind) ? 'An' : 'A'} ${kind} is open${within} in ${formatNumber(model.openHours)} of ${HOURS_IN_WEEK} hours.`);
  }
  if (model.busiest !== null) {
    parts.push(`Busiest hour for the catchment: ${hourLabel(model.busiest)} (${demandPhrase(model.cells[model.busiest].demand)}).`);
  }
  if (model.suppressedHours > 0) parts.push(`${formatNumber(model.suppressedHours)} hours have fewer than 10 referrals.`);
  return parts.join(' ');
}

// ---------------------------------------------------------------- SVG

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Cell size and gap (SVG user units; the chart scales to its container's width). */
const CELL = 11;
const GAP = 1;
const LEFT = 30;
const TOP = 14;

let patternSeq = 0;

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

/**
 * Draw a heatmap: a <figure class="heatmap" data-cells="168"> holding the SVG (role img,
 * labelled by the summary; one <rect class="hm-cell"> per hour with a <title>), the
 * caption and the text summary.
 */
export function renderHeatmap(model: HeatmapModel, opts: { title: string; summary: string; caption: string }): HTMLElement {
  const id = `hm-hatch-${++patternSeq}`;
  const width = LEFT + 24 * (CELL + GAP);
  const height = TOP + 7 * (CELL + GAP);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'heatmap-svg', role: 'img', 'aria-label': `${opts.title}. ${opts.summary}` });
  const defs = svg('defs');
  const pattern = svg('pattern', { id, width: 4, height: 4, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' });
  pattern.append(svg('rect', { width: 4, height: 4, fill: '#ffffff' }), svg('line', { x1: 0, y1: 0, x2: 0, y2: 4, stroke: HEATMAP_HATCH, 'stroke-width': 1.6 }));
  defs.append(pattern);
  root.append(defs);
  for (let h = 0; h < 24; h += 6) {
    const t = svg('text', { x: LEFT + h * (CELL + GAP), y: TOP - 4, class: 'hm-axis' });
    t.textContent = `${String(h).padStart(2, '0')}:00`;
    root.append(t);
  }
  for (let d = 0; d < 7; d++) {
    const t = svg('text', { x: 0, y: TOP + d * (CELL + GAP) + CELL - 2, class: 'hm-axis' });
    t.textContent = DAY_SHORT[d].slice(0, 2);
    const title = svg('title');
    title.textContent = DAY_LONG[d];
    t.append(title);
    root.append(t);
  }
  const cells = svg('g', { class: 'hm-cells' });
  for (const c of model.cells) {
    const x = LEFT + c.hour * (CELL + GAP);
    const y = TOP + c.day * (CELL + GAP);
    const r = svg('rect', {
      x,
      y,
      width: CELL,
      height: CELL,
      class: c.className,
      fill: c.suppressed ? `url(#${id})` : c.fill,
      stroke: '#c8c8c8',
      'stroke-width': 0.5,
      'data-slot': c.slot,
    });
    const title = svg('title');
    title.textContent = c.label;
    r.append(title);
    cells.append(r);
  }
  root.append(cells);
  // Open hours outlined on top (inset, so neighbouring outlines do not overlap).
  const outlines = svg('g', { class: 'hm-outlines', 'aria-hidden': 'true' });
  for (const c of model.cells) {
    if (!c.open) continue;
    outlines.append(
      svg('rect', {
        x: LEFT + c.hour * (CELL + GAP) + 0.75,
        y: TOP + c.day * (CELL + GAP) + 0.75,
        width: CELL - 1.5,
        height: CELL - 1.5,
        class: c.partial ? 'hm-outline hm-outline-partial' : 'hm-outline',
        fill: 'none',
        stroke: '#111111',
        'stroke-width': 1.5,
        ...(c.partial ? { 'stroke-dasharray': '2 1.5' } : {}),
      }),
    );
  }
  root.append(outlines);

  const figure = document.createElement('figure');
  figure.className = 'heatmap';
  figure.dataset.cells = String(model.cells.length);
  figure.dataset.openHours = String(model.openHours);
  const heading = document.createElement('p');
  heading.className = 'heatmap-title';
  heading.textContent = opts.title;
  const caption = document.createElement('figcaption');
  caption.className = 'heatmap-caption';
  caption.textContent = opts.caption;
  const summary = document.createElement('p');
  summary.className = 'heatmap-summary';
  summary.textContent = opts.summary;
  figure.append(heading, root, caption, summary);
  return figure;
}
