// Boundary harmonisation in the map (issue 6): the Boundaries section (co-terminosity of two
// layers: both outlines overlaid, the split pieces filled, headline figures, the per-unit
// table and a compact intersection matrix) and the Boundary designer section (a proposal of
// units nested in a parent, following a target layer: drawn as a layer, before → after
// co-terminosity, the ceiling, infeasibility and downloads). Both results take part in the
// planning overlay's one-result-at-a-time rule (src/planning.ts). The texts and models come
// from src/coterminosity.ts (pure); this file holds the DOM and the map layers.

import type { GeoJSONSource, Map as MlMap, MapGeoJSONFeature, PointLike } from 'maplibre-gl';
import type { Geometry } from 'geojson';
import {
  describeError,
  getCoterminosity,
  getDesign,
  getSplitPieces,
  type Bbox,
  type CotermUnit,
  type CoterminosityResponse,
  type DesignBalance,
  type DesignParams,
  type DesignResponse,
  type DesignUnitProperties,
  type SplitPieceProperties,
  type SplitPieces,
} from './api';
import {
  COTERM_A_LINE,
  COTERM_B_LINE,
  DEFAULT_SPLIT_SHARE_PCT,
  DEFAULT_TOLERANCE_PCT,
  DESIGN_FILL_OPACITY,
  DESIGN_LINE_COLOUR,
  LAYER_AREAS,
  SPLIT_FILL_OPACITY,
  UNIT_PALETTE,
  UNIT_SORTS,
  ariaSort,
  areasByUnit,
  ceilingText,
  cotermHeadlines,
  cotermPrecheck,
  defaultPair,
  defaultParent,
  designFileStem,
  designHoverText,
  designPrecheck,
  designSummary,
  designVerdict,
  formatKm2,
  formatPopulation,
  formatShare,
  geometryBbox,
  harmonisationErrorMessage,
  infeasibleLines,
  layerChoices,
  layerName,
  lookupCsv,
  matrixTopN,
  nextSort,
  parentLabel,
  prepareDesign,
  prepareSplits,
  proposalGeoJson,
  sortUnits,
  splitFillExpression,
  splitHoverText,
  splitLegendRows,
  unitSummary,
  type DesignFeature,
  type SortDir,
  type UnitSortKey,
  type Verdict,
} from './coterminosity';
import { formatNumber, humanize } from './format';
import { el } from './panels';
import type { Planning, PlanOverlay } from './planning';
import {
  LYR_AREAS_HOVER,
  LYR_AREAS_OUTLINE,
  LYR_COTERM_A,
  LYR_COTERM_B,
  LYR_COTERM_SELECTED,
  LYR_COTERM_SPLITS_FILL,
  LYR_COTERM_SPLITS_LINE,
  LYR_DESIGN_FILL,
  LYR_DESIGN_LINE,
  LYR_DESIGN_UNBALANCED,
  LYR_ISOCHRONES_FILL,
  SRC_COTERM_SPLITS,
  SRC_DESIGN,
  cotermLineLayer,
  cotermSelectedLayer,
  designLayers,
  splitLayers,
  type TileLayerRef,
} from './style';

/** What main.ts lends the harmonisation sections. */
export interface HarmonisationContext {
  map: () => MlMap | null;
  /** Resolves once the map and the area layers exist. */
  layersReady: Promise<void>;
  /** The workspace's boundary sets (/api/meta `boundary_sets`). */
  boundarySets: () => readonly string[];
  /** The parent (roll-up) code columns of the areas. */
  parents: () => readonly string[];
  /** The tile source of a layer (`areas` or a boundary set), added to the map if need be; null if unknown. */
  tileSource: (layer: string) => TileLayerRef | null;
  planning: Planning;
  /** Fit the map to a box (clear of the panels). */
  fitTo: (b: Bbox, maxZoom?: number) => void;
  /** Wait until the map is idle with the given sources loaded. */
  waitIdle: (m: MlMap, sources: readonly string[]) => Promise<void>;
}

export interface CotermStateView {
  /** idle | loading | loaded | error */
  state: string;
  error: string | null;
  a: string | null;
  b: string | null;
  /** 0..1 */
  splitShare: number | null;
  fragmentation: number | null;
  /** The headline fragmentation as shown. */
  fragmentationText: string;
  headlines: { key: string; value: string }[];
  /** Split pieces drawn (features in the coterm-splits source). */
  splitFeatures: number;
  /** The API's splits of A's units (side "a"). */
  splitsA: number;
  /** The unit codes of A in table order. */
  units: string[];
  sort: { key: UnitSortKey; dir: SortDir };
  matrix: { rows: string[]; cols: string[] };
  /** The unit chosen in the table. */
  selected: string | null;
  overlay: PlanOverlay;
}

export interface DesignStateView {
  /** idle | loading | loaded | error */
  state: string;
  error: string | null;
  params: DesignParams | null;
  /** Proposed units in the answer, and drawn (features in the design-units source). */
  units: number;
  drawn: number;
  before: number | null;
  after: number | null;
  ceiling: number | null;
  verdict: Verdict | null;
  infeasible: number;
  downloads: { geojson: string | null; csv: string | null };
  overlay: PlanOverlay;
}

export interface DesignHookParams {
  parent?: string;
  target?: string;
  /** null or '' for none. */
  current?: string | null;
  /** Percent, 1..90 (20 = ±20 %). */
  tolerancePct?: number;
  balance?: DesignBalance;
}

export interface Harmonisation {
  runCoterminosity: (a?: string, b?: string, splitSharePct?: number) => Promise<CotermStateView>;
  cotermState: () => CotermStateView;
  clearCoterminosity: () => void;
  focusUnit: (code: string) => Promise<CotermStateView>;
  runDesign: (params?: DesignHookParams) => Promise<DesignStateView>;
  designState: () => DesignStateView;
  clearDesign: () => void;
  /** The hover text of a split piece under a point of the map, else null. */
  hoverAt: (point: PointLike) => string | null;
  /** The pointer left the map: no split piece is hovered. */
  clearHover: () => void;
}

/** Resolves once a camera move ends (or after 2 s, should the map not move at all). */
function settled(m: MlMap): Promise<void> {
  return Promise.race([m.once('moveend').then(() => undefined), new Promise<void>((r) => window.setTimeout(r, 2000))]);
}

const COTERM_LAYERS = [LYR_COTERM_SELECTED, LYR_COTERM_A, LYR_COTERM_B, LYR_COTERM_SPLITS_LINE, LYR_COTERM_SPLITS_FILL];
const DESIGN_LAYERS = [LYR_DESIGN_LINE, LYR_DESIGN_UNBALANCED, LYR_DESIGN_FILL];

export function initHarmonisation(ctx: HarmonisationContext, containers: { coterm: HTMLElement; design: HTMLElement }): Harmonisation {
  const layers = (): string[] => layerChoices(ctx.boundarySets()).map((c) => c.value);

  // ------------------------------------------------------------ co-terminosity state
  let cLoad: 'idle' | 'loading' | 'loaded' | 'error' = 'idle';
  let cError: string | null = null;
  let cResp: CoterminosityResponse | null = null;
  let cPieces: SplitPieces | null = null;
  let cPiecesError: string | null = null;
  let cShare: number | null = null;
  let cSeq = 0;
  let cAbort: AbortController | null = null;
  let sort: { key: UnitSortKey; dir: SortDir } = { key: 'index', dir: 'asc' };
  let selected: string | null = null;
  let refA: TileLayerRef | null = null;
  let refB: TileLayerRef | null = null;
  let hoveredPiece: number | null = null;
  let areaToUnits = new Map<string, { a: string | null; b: string | null }>();

  // ------------------------------------------------------------ design state
  let dLoad: 'idle' | 'loading' | 'loaded' | 'error' = 'idle';
  let dError: string | null = null;
  let dResp: DesignResponse | null = null;
  let dDrawn: { type: 'FeatureCollection'; features: DesignFeature[] } | null = null;
  let dParams: DesignParams | null = null;
  let dSeq = 0;
  let dAbort: AbortController | null = null;
  let dUrls: { geojson: string | null; csv: string | null } = { geojson: null, csv: null };
  let unitOfArea = new Map<string, DesignUnitProperties>();

  // ------------------------------------------------------------ map helpers

  function removeLayers(m: MlMap, ids: readonly string[]): void {
    for (const id of ids) if (m.getLayer(id)) m.removeLayer(id);
  }

  function setVisible(ids: readonly string[], on: boolean): void {
    const m = ctx.map();
    if (!m) return;
    for (const id of ids) if (m.getLayer(id)) m.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  }

  /** The first of `ids` present on the map (to insert a layer below it), else undefined (on top). */
  function below(m: MlMap, ...ids: string[]): string | undefined {
    return ids.find((id) => m.getLayer(id));
  }

  function drawCoterm(): void {
    const m = ctx.map();
    const r = cResp;
    if (!m || !r) return;
    removeLayers(m, COTERM_LAYERS);
    const data = cPieces ?? { type: 'FeatureCollection' as const, features: [] };
    const src = m.getSource(SRC_COTERM_SPLITS) as GeoJSONSource | undefined;
    if (src) void src.setData(data);
    else m.addSource(SRC_COTERM_SPLITS, { type: 'geojson', data });
    // Split pieces above the area outlines, below the travel-time bands and boundaries.
    for (const l of splitLayers(splitFillExpression(), SPLIT_FILL_OPACITY)) m.addLayer(l, below(m, LYR_ISOCHRONES_FILL, LYR_AREAS_HOVER));
    refA = ctx.tileSource(r.a);
    refB = ctx.tileSource(r.b);
    // B under A: A's solid outline reads on top of B's dashes where they coincide.
    if (refB) m.addLayer(cotermLineLayer(LYR_COTERM_B, refB, COTERM_B_LINE), below(m, LYR_AREAS_HOVER));
    if (refA) {
      m.addLayer(cotermLineLayer(LYR_COTERM_A, refA, COTERM_A_LINE), below(m, LYR_AREAS_HOVER));
      m.addLayer(cotermSelectedLayer(refA, selected), below(m, LYR_AREAS_HOVER));
    }
  }

  function removeCoterm(): void {
    const m = ctx.map();
    if (!m) return;
    setPieceHover(null);
    removeLayers(m, COTERM_LAYERS);
    if (m.getSource(SRC_COTERM_SPLITS)) m.removeSource(SRC_COTERM_SPLITS);
  }

  function drawDesign(): void {
    const m = ctx.map();
    if (!m || !dDrawn) return;
    removeLayers(m, DESIGN_LAYERS);
    const src = m.getSource(SRC_DESIGN) as GeoJSONSource | undefined;
    if (src) void src.setData(dDrawn);
    else m.addSource(SRC_DESIGN, { type: 'geojson', data: dDrawn });
    const [fill, hatch, line] = designLayers(DESIGN_FILL_OPACITY, DESIGN_LINE_COLOUR);
    // Fills over the (muted) choropleth and under the area outlines; the unit outlines above them.
    m.addLayer(fill, below(m, LYR_AREAS_OUTLINE));
    m.addLayer(hatch, below(m, LYR_AREAS_OUTLINE));
    m.addLayer(line, below(m, LYR_ISOCHRONES_FILL, LYR_AREAS_HOVER));
  }

  function removeDesign(): void {
    const m = ctx.map();
    if (!m) return;
    removeLayers(m, DESIGN_LAYERS);
    if (m.getSource(SRC_DESIGN)) m.removeSource(SRC_DESIGN);
  }

  ctx.planning.registerOverlay('coterm', {
    show: () => {
      const m = ctx.map();
      if (m && cResp && !m.getLayer(LYR_COTERM_SPLITS_FILL)) drawCoterm();
      setVisible(COTERM_LAYERS, true);
      renderShowButtons();
    },
    hide: () => {
      setPieceHover(null);
      setVisible(COTERM_LAYERS, false);
      renderShowButtons();
    },
    note: 'the boundary comparison (legend under “Boundaries”)',
    muteAreas: true,
    hover: (areaId) => {
      const u = areaToUnits.get(areaId);
      if (!u || !cResp) return null;
      return `${humanize(cResp.a)} ${u.a ?? '—'} · ${humanize(cResp.b)} ${u.b ?? '—'}`;
    },
  });
  ctx.planning.registerOverlay('design', {
    show: () => {
      const m = ctx.map();
      if (m && dDrawn && !m.getLayer(LYR_DESIGN_FILL)) drawDesign();
      setVisible(DESIGN_LAYERS, true);
      renderShowButtons();
    },
    hide: () => {
      setVisible(DESIGN_LAYERS, false);
      renderShowButtons();
    },
    note: 'the proposed boundaries (legend under “Boundary designer”)',
    muteAreas: true,
    hover: (areaId) => {
      const u = unitOfArea.get(areaId);
      return u ? designHoverText(u, dParams?.balance ?? 'population') : null;
    },
  });

  function renderShowButtons(): void {
    const shown = ctx.planning.overlay();
    const cb = containers.coterm.querySelector<HTMLButtonElement>('#coterm-show');
    if (cb) cb.hidden = shown === 'coterm' || !cResp;
    const db = containers.design.querySelector<HTMLButtonElement>('#design-show');
    if (db) db.hidden = shown === 'design' || !dResp;
  }

  // ------------------------------------------------------------ hover on split pieces

  function setPieceHover(id: number | null): void {
    const m = ctx.map();
    if (!m || id === hoveredPiece) return;
    if (hoveredPiece !== null && m.getSource(SRC_COTERM_SPLITS)) m.setFeatureState({ source: SRC_COTERM_SPLITS, id: hoveredPiece }, { hover: false });
    hoveredPiece = id;
    if (id !== null && m.getSource(SRC_COTERM_SPLITS)) m.setFeatureState({ source: SRC_COTERM_SPLITS, id }, { hover: true });
  }

  function hoverAt(point: PointLike): string | null {
    const m = ctx.map();
    if (!m || !m.getLayer(LYR_COTERM_SPLITS_FILL) || m.getLayoutProperty(LYR_COTERM_SPLITS_FILL, 'visibility') === 'none') {
      setPieceHover(null);
      return null;
    }
    const f: MapGeoJSONFeature | undefined = m.queryRenderedFeatures(point, { layers: [LYR_COTERM_SPLITS_FILL] })[0];
    if (!f) {
      setPieceHover(null);
      return null;
    }
    setPieceHover(typeof f.id === 'number' ? f.id : null);
    const p = f.properties as Partial<SplitPieceProperties>;
    const unit = cResp?.units_a.find((u) => u.code === p.unit);
    return `Split piece\n${splitHoverText(p, unit?.name ?? null)}`;
  }

  // ------------------------------------------------------------ co-terminosity form

  const aSel = el('select', { attrs: { id: 'coterm-a', name: 'coterm-a' } });
  const bSel = el('select', { attrs: { id: 'coterm-b', name: 'coterm-b' } });
  const shareInput = el('input', {
    attrs: { id: 'coterm-split-share', name: 'coterm-split-share', type: 'number', min: '0', max: '49.9', step: '0.1', value: String(DEFAULT_SPLIT_SHARE_PCT), inputmode: 'decimal' },
  });
  const shareHelp = el('p', { class: 'muted plan-help', text: 'A piece of a unit counts as a split when it holds at least this share of the unit’s residents.', attrs: { id: 'coterm-split-share-help' } });
  shareInput.setAttribute('aria-describedby', shareHelp.id);
  const cRun = el('button', { class: 'plan-button plan-primary', text: 'Compare', attrs: { type: 'submit', id: 'coterm-run' } });
  const cClear = el('button', { class: 'plan-button', text: 'Clear', attrs: { type: 'button', id: 'coterm-clear' } });
  const cResult = el('section', { class: 'plan-result', attrs: { id: 'coterm-result', 'aria-live': 'polite', 'aria-label': 'Boundary comparison' } });
  const cForm = el(
    'form',
    { class: 'plan-form', attrs: { id: 'coterm-form', novalidate: '' } },
    el('p', { class: 'muted plan-help', text: 'How well do two sets of boundaries line up? Compare them to see which units are split and how badly.' }),
    el('div', { class: 'select-row' }, el('label', { text: 'Layer A', attrs: { for: aSel.id } }), aSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Layer B', attrs: { for: bSel.id } }), bSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Split share (%)', attrs: { for: shareInput.id } }), shareInput),
    shareHelp,
    el('div', { class: 'plan-buttons' }, cRun, cClear),
  );
  cForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void runCoterminosity();
  });
  cClear.addEventListener('click', () => clearCoterminosity());

  // ------------------------------------------------------------ designer form

  const parentSel = el('select', { attrs: { id: 'design-parent', name: 'design-parent' } });
  const targetSel = el('select', { attrs: { id: 'design-target', name: 'design-target' } });
  const currentSel = el('select', { attrs: { id: 'design-current', name: 'design-current' } });
  const tolInput = el('input', {
    attrs: { id: 'design-tolerance', name: 'design-tolerance', type: 'number', min: '1', max: '90', step: '1', value: String(DEFAULT_TOLERANCE_PCT), inputmode: 'decimal' },
  });
  const tolHelp = el('p', { class: 'muted plan-help', text: 'How far a unit may stray from its parent’s mean unit size (20 = ±20 %).', attrs: { id: 'design-tolerance-help' } });
  tolInput.setAttribute('aria-describedby', tolHelp.id);
  const balanceSel = el('select', { attrs: { id: 'design-balance', name: 'design-balance' } });
  balanceSel.append(el('option', { text: 'Population', attrs: { value: 'population' } }), el('option', { text: 'Referrals (caseload)', attrs: { value: 'referrals' } }));
  const dRun = el('button', { class: 'plan-button plan-primary', text: 'Propose', attrs: { type: 'submit', id: 'design-run' } });
  const dClear = el('button', { class: 'plan-button', text: 'Clear', attrs: { type: 'button', id: 'design-clear' } });
  const dResult = el('section', { class: 'plan-result', attrs: { id: 'design-result', 'aria-live': 'polite', 'aria-label': 'Proposed boundaries' } });
  const dForm = el(
    'form',
    { class: 'plan-form', attrs: { id: 'design-form', novalidate: '' } },
    el('p', { class: 'muted plan-help', text: 'Propose units made of whole small areas that nest in a parent, are contiguous and balanced, and follow a target layer as closely as they can.' }),
    el('div', { class: 'select-row' }, el('label', { text: 'Nest in', attrs: { for: parentSel.id } }), parentSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Follow', attrs: { for: targetSel.id } }), targetSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Compare with', attrs: { for: currentSel.id } }), currentSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Tolerance (%)', attrs: { for: tolInput.id } }), tolInput),
    tolHelp,
    el('div', { class: 'select-row' }, el('label', { text: 'Balance on', attrs: { for: balanceSel.id } }), balanceSel),
    el('div', { class: 'plan-buttons' }, dRun, dClear),
  );
  dForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void runDesign();
  });
  dClear.addEventListener('click', () => clearDesign());

  function fillChoices(): void {
    const choices = layerChoices(ctx.boundarySets());
    const pair = defaultPair(ctx.boundarySets());
    for (const [sel, dflt] of [
      [aSel, pair.a],
      [bSel, pair.b],
      [targetSel, pair.b],
    ] as const) {
      const keep = sel.value;
      sel.replaceChildren(...choices.map((c) => el('option', { text: c.label, attrs: { value: c.value } })));
      sel.value = choices.some((c) => c.value === keep) ? keep : dflt;
    }
    const keepCur = currentSel.value;
    currentSel.replaceChildren(el('option', { text: 'Nothing (no current layer)', attrs: { value: '' } }), ...choices.map((c) => el('option', { text: c.label, attrs: { value: c.value } })));
    currentSel.value = keepCur && choices.some((c) => c.value === keepCur) ? keepCur : pair.a !== pair.b ? pair.a : '';
    const parents = ctx.parents();
    const keepP = parentSel.value;
    parentSel.replaceChildren(...parents.map((p) => el('option', { text: `${parentLabel(p)} (${p})`, attrs: { value: p } })));
    parentSel.value = parents.includes(keepP) ? keepP : (defaultParent(parents) ?? '');
    cRun.disabled = choices.length < 2;
    dRun.disabled = parents.length === 0;
  }

  function selectValue(sel: HTMLSelectElement, v: string): void {
    if (!Array.from(sel.options).some((o) => o.value === v)) sel.append(el('option', { text: v ? humanize(v) : 'Nothing', attrs: { value: v } }));
    sel.value = v;
  }

  // ------------------------------------------------------------ co-terminosity result

  function headlineList(r: CoterminosityResponse): HTMLElement {
    const dl = el('dl', { class: 'facts coterm-headlines', attrs: { id: 'coterm-headlines' } });
    for (const h of cotermHeadlines(r)) {
      const dd = el('dd', { text: h.value, attrs: { 'data-key': h.key, title: h.long } });
      if (h.key === 'fragmentation') {
        dd.id = 'coterm-fragmentation';
        dd.dataset.value = String(r.fragmentation);
      }
      dl.append(el('dt', { attrs: { title: h.long } }, el('abbr', { text: h.label, attrs: { title: h.long } })), dd);
    }
    return dl;
  }

  function lineSwatch(s: { colour: string; dash: number[] | null }): HTMLElement {
    const line = el('span', { class: 'line-swatch coterm-line-swatch', attrs: { 'aria-hidden': 'true' } });
    if (s.dash) {
      const [on, off] = [s.dash[0] ?? 2, s.dash[1] ?? 1.5];
      const unit = 4;
      line.style.backgroundImage = `repeating-linear-gradient(90deg, ${s.colour} 0 ${on * unit}px, transparent ${on * unit}px ${(on + off) * unit}px)`;
    } else {
      line.style.backgroundColor = s.colour;
    }
    return line;
  }

  function cotermLegend(r: CoterminosityResponse): HTMLElement {
    const list = el('ul', { class: 'legend-list' });
    list.append(
      el('li', { attrs: { 'data-class': 'a' } }, lineSwatch(COTERM_A_LINE), el('span', { class: 'legend-label', text: `A: ${humanize(r.a)} (${formatNumber(r.units_a.length)} units)` })),
      el('li', { attrs: { 'data-class': 'b' } }, lineSwatch(COTERM_B_LINE), el('span', { class: 'legend-label', text: `B: ${humanize(r.b)} (${formatNumber(r.units_b.length)} units)` })),
    );
    const pieces = cPieces?.features ?? [];
    for (const row of splitLegendRows(pieces)) {
      const sw = el('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
      sw.style.backgroundColor = row.colour;
      list.append(
        el('li', { attrs: { 'data-class': `split-${row.key}` } }, sw, el('span', { class: 'legend-label', text: row.label }), el('span', { class: 'legend-count', text: formatNumber(row.count), attrs: { title: `${row.count} pieces` } })),
      );
    }
    const splitsA = r.splits.filter((s) => s.side === 'a').length;
    const note = `Filled: the pieces of ${layerName(r.a)} units outside the ${layerName(r.b)} unit holding most of their residents, by their share of the unit’s residents.`;
    const foot = cPiecesError
      ? `The split pieces could not be drawn: ${cPiecesError}`
      : pieces.length === splitsA
        ? `${formatNumber(pieces.length)} split piece${pieces.length === 1 ? '' : 's'}. Hover over one for its unit, counterpart and share.`
        : `${formatNumber(pieces.length)} of ${formatNumber(splitsA)} split pieces drawn (the others have no geometry to show).`;
    return el('div', { class: 'plan-legend', attrs: { id: 'coterm-legend' } }, el('h4', { text: 'On the map' }), el('p', { class: 'legend-note', text: note }), list, el('p', { class: 'legend-footnote', text: foot }));
  }

  function unitTable(r: CoterminosityResponse): HTMLElement {
    const units = sortUnits(r.units_a, sort.key, sort.dir);
    const headCell = (key: UnitSortKey, label: string, title: string, num: boolean): HTMLTableCellElement => {
      const b = el('button', { class: 'sort-button', attrs: { type: 'button', 'data-sort': key, title: `Sort by ${title.toLowerCase()}` } }, label, el('span', { class: 'sort-mark', text: sort.key === key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : '', attrs: { 'aria-hidden': 'true' } }));
      b.addEventListener('click', () => {
        sort = nextSort(sort, key);
        renderCotermResult();
        containers.coterm.querySelector<HTMLButtonElement>(`#coterm-units button[data-sort="${key}"]`)?.focus();
      });
      return el('th', { class: num ? 'num' : '', attrs: { scope: 'col', 'aria-sort': ariaSort(key, sort) } }, b);
    };
    const head = el(
      'thead',
      {},
      el(
        'tr',
        {},
        headCell('code', 'Unit', 'Unit code', false),
        headCell('population', 'Pop.', 'Population', true),
        headCell('index', 'Index', 'Co-terminosity index', true),
        el('th', { text: 'Mostly in', attrs: { scope: 'col', title: `The ${layerName(r.b)} unit holding most of its residents` } }),
        headCell('counterparts', 'Parts', 'Effective number of counterparts', true),
      ),
    );
    const body = el('tbody');
    for (const u of units) {
      const btn = el('button', { class: 'coterm-unit', text: u.code, attrs: { type: 'button', title: `Show ${u.name ?? u.code} on the map` } });
      const tr = el(
        'tr',
        { class: u.code === selected ? 'coterm-row-selected' : '', attrs: { 'data-code': u.code, title: unitSummary(u, r.b) } },
        el('th', { attrs: { scope: 'row' } }, btn),
        el('td', { class: 'num', text: formatPopulation(u.population) }),
        el('td', { class: `num${u.index < 0.5 ? ' coterm-poor' : ''}`, text: formatShare(u.index, 1), attrs: { 'data-index': String(u.index) } }),
        el('td', { text: u.dominant ?? '—' }),
        el('td', { class: 'num', text: formatNumber(u.effective_counterparts, 1), attrs: { title: `${u.counterparts} counterparts; effectively ${formatNumber(u.effective_counterparts, 2)}` } }),
      );
      if (u.code === selected) tr.setAttribute('aria-current', 'true');
      const choose = (): void => void focusUnit(u.code);
      btn.addEventListener('click', (e) => {
        e.stopPropagation();
        choose();
      });
      tr.addEventListener('click', choose);
      body.append(tr);
    }
    const what = UNIT_SORTS.find((s) => s.key === sort.key)?.label.toLowerCase() ?? sort.key;
    const order = sort.key === 'index' && sort.dir === 'asc' ? 'least co-terminous first' : `by ${what}, ${sort.dir === 'asc' ? 'ascending' : 'descending'}`;
    return el(
      'div',
      { class: 'table-scroll coterm-table-scroll' },
      el(
        'table',
        { class: 'data-table plan-table', attrs: { id: 'coterm-units' } },
        el('caption', { text: `${humanize(r.a)} units (${order}). Index = share of the unit’s residents inside the ${layerName(r.b)} unit holding most of them; parts = effective number of ${layerName(r.b)} units it spans. Choose a unit to show it.` }),
        head,
        body,
      ),
    );
  }

  function matrixTable(r: CoterminosityResponse): HTMLElement {
    const v = matrixTopN(r.matrix);
    const names = new Map<string, string>();
    for (const u of [...r.units_a, ...r.units_b]) if (u.name) names.set(u.code, u.name);
    const head = el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('td', { class: 'coterm-corner', attrs: { 'aria-hidden': 'true' } }, el('span', { text: `${humanize(r.a)} \\ ${humanize(r.b)}` })),
        ...v.cols.map((b) => el('th', { class: 'num', attrs: { scope: 'col', 'data-b': b } }, el('abbr', { text: b, attrs: { title: names.get(b) ?? b } }))),
      ),
    );
    const body = el('tbody');
    v.rows.forEach((a, i) => {
      const tr = el('tr', { attrs: { 'data-a': a } }, el('th', { attrs: { scope: 'row' } }, el('abbr', { text: a, attrs: { title: names.get(a) ?? a } })));
      v.cols.forEach((b, j) => {
        const c = v.cells[i][j];
        const text = c ? formatPopulation(c.population) : '';
        const td = el('td', { class: `num${v.top[i][j] ? ' coterm-top' : ''}${c?.sliver ? ' coterm-sliver' : ''}`, text, attrs: { 'data-b': b } });
        if (c) td.title = `${a} ∩ ${b}: ${formatPopulation(c.population)} residents, ${formatKm2(c.area_km2)}${c.sliver ? ' (sliver)' : ''}`;
        else td.append(el('span', { class: 'visually-hidden', text: 'none' }));
        tr.append(td);
      });
      body.append(tr);
    });
    // The explanation sits outside the scrolling box (a caption is only as wide as the table).
    const note = el('p', {
      class: 'muted plan-help coterm-matrix-note',
      text: `Residents in each intersection: rows ${layerName(r.a)}, columns ${layerName(r.b)}, for the units of the ${formatNumber(v.n)} most populous of ${formatNumber(v.total)} intersections (those in bold); blank = they do not meet.`,
      attrs: { id: 'coterm-matrix-note' },
    });
    return el(
      'div',
      {},
      note,
      el(
        'div',
        { class: 'table-scroll' },
        el(
          'table',
          {
            class: 'data-table plan-table coterm-matrix',
            attrs: { id: 'coterm-matrix', 'aria-label': `Residents in each intersection of ${layerName(r.a)} (rows) and ${layerName(r.b)} (columns)`, 'aria-describedby': note.id },
          },
          el('caption', { text: `Top ${formatNumber(v.n)} intersections` }),
          head,
          body,
        ),
      ),
    );
  }

  function renderCotermResult(): void {
    cResult.dataset.state = cLoad;
    if (cLoad === 'idle') {
      cResult.replaceChildren();
      return;
    }
    if (cLoad === 'loading') {
      cResult.replaceChildren(el('p', { class: 'muted', text: 'Comparing the boundaries…' }));
      return;
    }
    if (cLoad === 'error') {
      cResult.replaceChildren(el('p', { class: 'status-error plan-error', text: cError ?? 'Something went wrong.', attrs: { role: 'alert' } }));
      return;
    }
    const r = cResp!;
    const show = el('button', { class: 'plan-button', text: 'Show on map', attrs: { type: 'button', id: 'coterm-show' } });
    show.addEventListener('click', () => ctx.planning.showOverlay('coterm'));
    cResult.replaceChildren(
      el('h3', { text: `${humanize(r.a)} against ${humanize(r.b)}` }),
      headlineList(r),
      show,
      cotermLegend(r),
      el('h4', { text: `${humanize(r.a)} units` }),
      unitTable(r),
      el('h4', { text: 'Intersection matrix' }),
      matrixTable(r),
    );
    renderShowButtons();
  }

  // ------------------------------------------------------------ co-terminosity run / clear

  async function runCoterminosity(a?: string, b?: string, splitSharePct?: number): Promise<CotermStateView> {
    await ctx.layersReady;
    containers.coterm.closest('details')?.setAttribute('open', '');
    if (a !== undefined) selectValue(aSel, a);
    if (b !== undefined) selectValue(bSel, b);
    if (splitSharePct !== undefined) shareInput.value = String(splitSharePct);
    const la = aSel.value;
    const lb = bSel.value;
    const pct = shareInput.value.trim() === '' ? DEFAULT_SPLIT_SHARE_PCT : Number(shareInput.value);
    const seq = ++cSeq;
    cAbort?.abort();
    resetCoterm();
    const refused = cotermPrecheck(la, lb, pct, layers());
    if (refused) {
      cLoad = 'error';
      cError = refused;
      renderCotermResult();
      return cotermState();
    }
    const share = Math.round(pct * 100) / 10000;
    cShare = share;
    cLoad = 'loading';
    renderCotermResult();
    cRun.disabled = true;
    const ac = new AbortController();
    cAbort = ac;
    let r: CoterminosityResponse;
    let pieces: SplitPieces | null = null;
    let piecesError: string | null = null;
    try {
      const piecesP = getSplitPieces(la, lb, share, ac.signal).catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') throw e;
        piecesError = describeError(e);
        return null;
      });
      [r, pieces] = await Promise.all([getCoterminosity(la, lb, share, ac.signal), piecesP]);
    } catch (e) {
      if (seq !== cSeq || (e instanceof DOMException && e.name === 'AbortError')) return cotermState();
      cLoad = 'error';
      cError = harmonisationErrorMessage(`compare ${layerName(la)} with ${layerName(lb)}`, e);
      renderCotermResult();
      return cotermState();
    } finally {
      if (cAbort === ac) cAbort = null;
      if (seq === cSeq) cRun.disabled = false;
    }
    if (seq !== cSeq) return cotermState();
    cResp = r;
    cPieces = pieces ? prepareSplits(pieces) : null;
    cPiecesError = piecesError;
    cLoad = 'loaded';
    sort = { key: 'index', dir: 'asc' };
    areaToUnits = new Map(r.lookup.map((x) => [x.area_id, { a: x.a, b: x.b }]));
    drawCoterm();
    renderCotermResult();
    ctx.planning.showOverlay('coterm');
    const m = ctx.map();
    if (m) {
      // Bring the split pieces into view if some are not.
      const box = geometryBbox((cPieces?.features ?? []).map((f) => f.geometry));
      const view = m.getBounds();
      if (box && !(view.contains([box[0], box[1]]) && view.contains([box[2], box[3]]))) ctx.fitTo(box, 14);
      await ctx.waitIdle(m, [SRC_COTERM_SPLITS, ...(refA ? [refA.source] : []), ...(refB ? [refB.source] : [])]);
    }
    return cotermState();
  }

  function resetCoterm(): void {
    removeCoterm();
    cResp = null;
    cPieces = null;
    cPiecesError = null;
    cError = null;
    selected = null;
    refA = refB = null;
    areaToUnits = new Map();
  }

  function clearCoterminosity(): void {
    cSeq++;
    cAbort?.abort();
    cAbort = null;
    cRun.disabled = false;
    resetCoterm();
    cShare = null;
    cLoad = 'idle';
    renderCotermResult();
    if (ctx.planning.overlay() === 'coterm') ctx.planning.showOverlay(null);
  }

  /** The extent of a unit of A: its tiles, its small areas' tiles and its split pieces, as loaded. */
  function unitExtent(code: string): Bbox | null {
    const m = ctx.map();
    const r = cResp;
    if (!m || !r) return null;
    const geoms: (Geometry | null)[] = [];
    if (refA && m.getSource(refA.source)) {
      for (const f of m.querySourceFeatures(refA.source, { sourceLayer: refA.sourceLayer, filter: ['==', ['to-string', ['get', refA.idProp]], code] })) geoms.push(f.geometry);
    }
    const areaIds = areasByUnit(r.lookup, 'a').get(code) ?? [];
    const areasRef = ctx.tileSource(LAYER_AREAS);
    if (areaIds.length && areasRef && m.getSource(areasRef.source)) {
      for (const f of m.querySourceFeatures(areasRef.source, { sourceLayer: areasRef.sourceLayer, filter: ['in', ['get', 'area_id'], ['literal', areaIds]] })) geoms.push(f.geometry);
    }
    for (const f of cPieces?.features ?? []) if (f.properties?.unit === code) geoms.push(f.geometry);
    return geometryBbox(geoms);
  }

  async function focusUnit(code: string): Promise<CotermStateView> {
    const m = ctx.map();
    if (!m || !cResp || !cResp.units_a.some((u) => u.code === code)) return cotermState();
    selected = code;
    if (ctx.planning.overlay() !== 'coterm') ctx.planning.showOverlay('coterm');
    if (m.getLayer(LYR_COTERM_SELECTED) && refA) m.setFilter(LYR_COTERM_SELECTED, ['==', ['to-string', ['get', refA.idProp]], code]);
    for (const tr of Array.from(cResult.querySelectorAll<HTMLTableRowElement>('#coterm-units tbody tr'))) {
      const on = tr.dataset.code === code;
      tr.classList.toggle('coterm-row-selected', on);
      if (on) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    }
    const box = unitExtent(code);
    // No geometry at hand (tiles not loaded, no pieces): the map stays where it is.
    if (box) {
      ctx.fitTo(box, 14);
      await settled(m);
    }
    return cotermState();
  }

  function cotermState(): CotermStateView {
    const r = cResp;
    const v = r ? matrixTopN(r.matrix) : null;
    return {
      state: cLoad,
      error: cError,
      a: r?.a ?? (aSel.value || null),
      b: r?.b ?? (bSel.value || null),
      splitShare: cShare,
      fragmentation: r?.fragmentation ?? null,
      fragmentationText: cResult.querySelector('#coterm-fragmentation')?.textContent ?? '',
      headlines: r ? cotermHeadlines(r).map((h) => ({ key: h.key, value: h.value })) : [],
      splitFeatures: cPieces?.features.length ?? 0,
      splitsA: r ? r.splits.filter((s) => s.side === 'a').length : 0,
      units: r ? sortUnits(r.units_a, sort.key, sort.dir).map((u: CotermUnit) => u.code) : [],
      sort: { ...sort },
      matrix: { rows: v?.rows ?? [], cols: v?.cols ?? [] },
      selected,
      overlay: ctx.planning.overlay(),
    };
  }

  // ------------------------------------------------------------ design result

  function revokeUrls(): void {
    for (const u of [dUrls.geojson, dUrls.csv]) if (u) URL.revokeObjectURL(u);
    dUrls = { geojson: null, csv: null };
  }

  function designLegend(r: DesignResponse): HTMLElement {
    const strip = el('div', { class: 'legend-palette', attrs: { 'aria-hidden': 'true' } });
    const used = new Set((dDrawn?.features ?? []).map((f) => f.properties.colour));
    for (const c of UNIT_PALETTE.filter((c) => used.has(c))) {
      const sw = el('span', { class: 'swatch' });
      sw.style.backgroundColor = c;
      strip.append(sw);
    }
    const outside = r.features.filter((f) => f.properties?.within_tolerance === false).length;
    const list = el('ul', { class: 'legend-list' });
    const line = el('span', { class: 'line-swatch', attrs: { 'aria-hidden': 'true' } });
    line.style.backgroundColor = DESIGN_LINE_COLOUR;
    list.append(el('li', { attrs: { 'data-class': 'outline' } }, line, el('span', { class: 'legend-label', text: 'Proposed unit boundary' })));
    list.append(
      el(
        'li',
        { attrs: { 'data-class': 'outside' } },
        el('span', { class: 'swatch swatch-nodata', attrs: { 'aria-hidden': 'true' } }),
        el('span', { class: 'legend-label', text: 'Hatched: outside the tolerance' }),
        el('span', { class: 'legend-count', text: formatNumber(outside), attrs: { title: `${outside} units` } }),
      ),
    );
    return el(
      'div',
      { class: 'plan-legend', attrs: { id: 'design-legend' } },
      el('h4', { text: 'On the map' }),
      el('p', { class: 'legend-note', text: `Each colour is one proposed unit (${formatNumber(r.features.length)}); neighbouring units differ.` }),
      strip,
      list,
    );
  }

  function renderDesignResult(): void {
    dResult.dataset.state = dLoad;
    if (dLoad === 'idle') {
      dResult.replaceChildren();
      return;
    }
    if (dLoad === 'loading') {
      dResult.replaceChildren(el('p', { class: 'muted', text: 'Designing units… (this can take a few seconds)' }));
      return;
    }
    if (dLoad === 'error') {
      dResult.replaceChildren(el('p', { class: 'status-error plan-error', text: dError ?? 'Something went wrong.', attrs: { role: 'alert' } }));
      return;
    }
    const r = dResp!;
    const q = dParams!;
    const verdict = designVerdict(r, { target: q.target, current: q.current ?? null });
    const within = r.features.filter((f) => f.properties?.within_tolerance !== false).length;
    const ctxInf = { units: r.features.map((f) => ({ unit_id: f.properties.unit_id, parent: f.properties.parent })), areaIds: r.lookup.map((x) => x.area_id), balance: r.balance ?? q.balance };
    const inf = infeasibleLines(r.infeasible ?? [], ctxInf);
    const infBlock = el('div', { class: 'design-infeasible', attrs: { id: 'design-infeasible', 'data-count': String(r.infeasible?.length ?? 0) } });
    if (inf.lines.length) {
      infBlock.append(
        el('h4', { text: `Constraints not met (${formatNumber(r.infeasible.length)})` }),
        el('ul', { class: 'design-infeasible-list' }, ...inf.lines.map((t) => el('li', { text: t }))),
      );
      if (inf.more) infBlock.append(el('p', { class: 'muted', text: `…and ${formatNumber(inf.more)} more.` }));
    } else {
      infBlock.append(el('p', { class: 'design-feasible', text: 'Every constraint is met: each unit nests in its parent, is contiguous and lies within the tolerance.' }));
    }
    const show = el('button', { class: 'plan-button', text: 'Show on map', attrs: { type: 'button', id: 'design-show' } });
    show.addEventListener('click', () => ctx.planning.showOverlay('design'));
    const stem = designFileStem(q);
    const geo = el('a', { class: 'plan-button design-download', text: 'Download GeoJSON', attrs: { id: 'design-download-geojson', href: dUrls.geojson ?? '#', download: `${stem}.geojson`, type: 'application/geo+json' } });
    const csv = el('a', { class: 'plan-button design-download', text: 'Download lookup CSV', attrs: { id: 'design-download-csv', href: dUrls.csv ?? '#', download: `${stem}-lookup.csv`, type: 'text/csv' } });
    dResult.replaceChildren(
      el('h3', { text: `${formatNumber(r.features.length)} units proposed` }),
      el('p', { class: 'muted', text: designSummary(q), attrs: { id: 'design-summary' } }),
      el('p', { class: `design-verdict design-${verdict.cls}`, text: verdict.text, attrs: { id: 'design-verdict', 'data-verdict': verdict.cls } }),
      el('p', { text: ceilingText(r, q.target), attrs: { id: 'design-ceiling' } }),
      el('p', { text: `${formatNumber(within)} of ${formatNumber(r.features.length)} units within ±${formatNumber((r.tolerance ?? q.tolerance) * 100, 1)} % of their parent’s mean ${r.balance === 'referrals' ? 'caseload' : 'population'}.`, attrs: { id: 'design-balance-note' } }),
      infBlock,
      show,
      designLegend(r),
      el('div', { class: 'plan-buttons design-downloads' }, geo, csv),
    );
    renderShowButtons();
  }

  // ------------------------------------------------------------ design run / clear

  function readDesign(): DesignParams & { tolerancePct: number } {
    const pct = tolInput.value.trim() === '' ? NaN : Number(tolInput.value);
    return {
      parent: parentSel.value,
      target: targetSel.value,
      current: currentSel.value || null,
      tolerancePct: pct,
      tolerance: Math.round(pct * 100) / 10000,
      balance: balanceSel.value === 'referrals' ? 'referrals' : 'population',
    };
  }

  async function runDesign(p?: DesignHookParams): Promise<DesignStateView> {
    await ctx.layersReady;
    containers.design.closest('details')?.setAttribute('open', '');
    if (p?.parent !== undefined) selectValue(parentSel, p.parent);
    if (p?.target !== undefined) selectValue(targetSel, p.target);
    if (p?.current !== undefined) selectValue(currentSel, p.current ?? '');
    if (p?.tolerancePct !== undefined) tolInput.value = String(p.tolerancePct);
    if (p?.balance !== undefined) balanceSel.value = p.balance;
    const q = readDesign();
    const seq = ++dSeq;
    dAbort?.abort();
    resetDesign();
    const refused = designPrecheck(q, { parents: ctx.parents(), layers: layers() });
    const params: DesignParams = { parent: q.parent, target: q.target, current: q.current, tolerance: q.tolerance, balance: q.balance };
    dParams = params;
    if (refused) {
      dLoad = 'error';
      dError = refused;
      renderDesignResult();
      return designState();
    }
    dLoad = 'loading';
    renderDesignResult();
    dRun.disabled = true;
    const ac = new AbortController();
    dAbort = ac;
    let r: DesignResponse;
    try {
      r = await getDesign(params, ac.signal);
    } catch (e) {
      if (seq !== dSeq || (e instanceof DOMException && e.name === 'AbortError')) return designState();
      dLoad = 'error';
      dError = harmonisationErrorMessage(`propose units following ${layerName(q.target)}`, e);
      renderDesignResult();
      return designState();
    } finally {
      if (dAbort === ac) dAbort = null;
      if (seq === dSeq) dRun.disabled = false;
    }
    if (seq !== dSeq) return designState();
    dResp = r;
    dDrawn = prepareDesign(r);
    dLoad = 'loaded';
    const byUnit = new Map(r.features.map((f) => [f.properties.unit_id, f.properties]));
    unitOfArea = new Map();
    for (const x of r.lookup ?? []) {
      const u = byUnit.get(x.unit_id);
      if (u) unitOfArea.set(x.area_id, u);
    }
    dUrls = {
      geojson: URL.createObjectURL(new Blob([proposalGeoJson(r, params)], { type: 'application/geo+json' })),
      csv: URL.createObjectURL(new Blob([lookupCsv(r.lookup ?? [])], { type: 'text/csv' })),
    };
    drawDesign();
    renderDesignResult();
    ctx.planning.showOverlay('design');
    const m = ctx.map();
    if (m) {
      // Bring the whole proposal into view if some of it is not.
      const box = geometryBbox(dDrawn.features.map((f) => f.geometry));
      const view = m.getBounds();
      if (box && !(view.contains([box[0], box[1]]) && view.contains([box[2], box[3]]))) {
        ctx.fitTo(box, 14);
        await settled(m);
      }
      await ctx.waitIdle(m, [SRC_DESIGN]);
    }
    return designState();
  }

  function resetDesign(): void {
    removeDesign();
    revokeUrls();
    dResp = null;
    dDrawn = null;
    dError = null;
    unitOfArea = new Map();
  }

  function clearDesign(): void {
    dSeq++;
    dAbort?.abort();
    dAbort = null;
    dRun.disabled = ctx.parents().length === 0;
    resetDesign();
    dParams = null;
    dLoad = 'idle';
    renderDesignResult();
    if (ctx.planning.overlay() === 'design') ctx.planning.showOverlay(null);
  }

  function designState(): DesignStateView {
    const r = dResp;
    return {
      state: dLoad,
      error: dError,
      params: dParams,
      units: r?.features.length ?? 0,
      drawn: dDrawn?.features.length ?? 0,
      before: r?.coterminosity_before ?? null,
      after: r?.coterminosity_after ?? null,
      ceiling: r?.ceiling ?? null,
      verdict: r && dParams ? designVerdict(r, { target: dParams.target, current: dParams.current ?? null }) : null,
      infeasible: r?.infeasible?.length ?? 0,
      downloads: { ...dUrls },
      overlay: ctx.planning.overlay(),
    };
  }

  // ------------------------------------------------------------ mount

  containers.coterm.replaceChildren(cForm, cResult);
  containers.design.replaceChildren(dForm, dResult);
  fillChoices();
  renderCotermResult();
  renderDesignResult();

  return {
    runCoterminosity,
    cotermState,
    clearCoterminosity,
    focusUnit,
    runDesign,
    designState,
    clearDesign,
    hoverAt,
    clearHover: () => setPieceHover(null),
  };
}
