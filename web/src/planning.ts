// Planning in the map (issue 7): the Siting section (choose sites for co-located services
// with GET /api/siting, numbered star markers, areas coloured by what the new sites cover,
// the equity table, and "save as scenario") and the Compare scenarios section (two
// scenarios side by side for a premises kind, areas coloured by the change, saved
// scenarios listed with a delete button). The texts and classes come from src/siting.ts and
// src/scenarios.ts (pure); this file holds the DOM, the markers and the feature-state.

import { Popup, Marker, type Map as MlMap } from 'maplibre-gl';
import {
  compareScenarios,
  deleteScenario,
  getScenario,
  getSiting,
  listScenarios,
  sitingUrl,
  putScenario,
  type AreaProperties,
  type CompareArea,
  type CompareResponse,
  type PremisesCollection,
  type Scenario,
  type ScenarioMetrics,
  type ScenarioSummary,
  type SitingArea,
  type SitingModel,
  type SitingParams,
  type SitingResponse,
  type SitingWeight,
} from './api';
import { formatNumber, humanize, kindPhrase, quintileLabel } from './format';
import { el } from './panels';
import { downloadLinks } from './downloads';
import {
  DEFAULT_HUB_KIND,
  DEFAULT_MODEL,
  DEFAULT_P,
  DEFAULT_SITING_THRESHOLD,
  DEFAULT_WEIGHT,
  MAX_P,
  SITING_COLOURS,
  SITING_MODELS,
  SITING_STATE_KEY,
  SITING_WEIGHTS,
  classFillExpression,
  classOpacityExpression,
  defaultBaseline,
  defaultCandidates,
  defaultScenarioName,
  equityLines,
  gapText,
  hubEdits,
  kindNameProblem,
  modelDef,
  objectiveText,
  parseIdList,
  scenarioDescription,
  scenarioNameProblem,
  siteFacts,
  sitingClass,
  sitingErrorMessage,
  sitingLegend,
  sitingPrecheck,
  type PlanLegend,
  type SitingClass,
} from './siting';
import {
  BASELINE,
  COMPARE_STATE_KEY,
  QUINTILE_METRICS,
  compareClass,
  compareColours,
  compareKinds,
  compareLegend,
  compareRows,
  quintileRows,
  scenarioChoices,
  scenarioErrorMessage,
  scenarioMeta,
  type CompareMapMode,
  type MetricDiff,
} from './scenarios';
import { AREAS_TILE_LAYER, LYR_PLAN_FILL, SRC_AREAS } from './style';

/** What main.ts lends the planning sections. */
/**
 * The result shown on the map over the choropleth, one at a time: a siting result, a
 * scenario comparison, or a result of another section registered with `registerOverlay`
 * (the boundary comparison, a proposed design).
 */
export type PlanOverlay = 'siting' | 'compare' | 'coterm' | 'design' | null;
export type ExternalOverlay = Exclude<PlanOverlay, 'siting' | 'compare' | null>;

/** A result of another section drawn on the map under the one-at-a-time rule. */
export interface OverlayOwner {
  /** Draw (or make visible) its layers. */
  show: () => void;
  /** Hide its layers (its result stays in its section, with "Show on map"). */
  hide: () => void;
  /** The note above the legend, e.g. "the boundary comparison (legend under “Boundaries”)". */
  note: string;
  /** Mute the choropleth under it (plan-fill in a neutral light grey). */
  muteAreas: boolean;
  /** The hover line of an area while shown, if any. */
  hover?: (areaId: string) => string | null;
}

/** The neutral fill that mutes the choropleth under an outline result. */
export const MUTED_AREAS_FILL = '#f3f4f1';
export const MUTED_AREAS_OPACITY = 0.85;

export interface PlanningContext {
  map: () => MlMap | null;
  /** Resolves once the map and the area layers exist. */
  layersReady: Promise<void>;
  /** Area attributes in feature-id order (index i = tile feature id i). */
  areas: () => readonly AreaProperties[];
  /** The workspace's premises kinds (/api/meta, then /api/premises). */
  kinds: () => readonly string[];
  premises: () => PremisesCollection | null;
  /** Wait until the map is idle with the areas drawn. */
  waitIdle: (m: MlMap) => Promise<void>;
  /** Called when the overlay is shown or hidden (the hover text and legend note follow). */
  onOverlay: (shown: PlanOverlay) => void;
  reduceMotion: boolean;
}

export interface SitingStateView {
  /** idle | loading | loaded | error */
  state: string;
  error: string | null;
  params: SitingParams | null;
  objective: string;
  gap: string;
  sites: { rank: number; premises_id: string; name: string; kind: string; lon: number; lat: number }[];
  /** Site markers on the map. */
  markers: number;
  /** Areas by class: newly covered, covered by both, already covered, not covered. */
  counts: { new: number; both: number; before: number; none: number };
  overlay: PlanOverlay;
  /** idle | saving | saved | error, and the message shown. */
  save: { state: string; name: string | null; message: string };
}

export interface CompareStateView {
  /** idle | loading | loaded | error */
  state: string;
  error: string | null;
  a: string | null;
  b: string | null;
  kind: string | null;
  thresholdMin: number | null;
  mode: CompareMapMode;
  coverage: { a: number | null; b: number | null };
  rows: { key: string; a: string; b: string; diff: string; cls: string }[];
  /** Saved scenarios listed (baseline is implicit). */
  list: string[];
  /** idle | loading | loaded | error */
  listState: string;
  overlay: PlanOverlay;
}

export interface Planning {
  runSiting: (params?: Partial<SitingParams>) => Promise<SitingStateView>;
  sitingState: () => SitingStateView;
  clearSiting: () => void;
  saveScenario: (name?: string, kind?: string) => Promise<SitingStateView>;
  compare: (opts?: { a?: string; b?: string; kind?: string; thresholdMin?: number; mode?: CompareMapMode }) => Promise<CompareStateView>;
  compareState: () => CompareStateView;
  refreshScenarios: () => Promise<CompareStateView>;
  deleteScenario: (name: string) => Promise<CompareStateView>;
  /** Hide the overlay (the results stay in their sections, with "Show on map"). */
  hideOverlay: () => void;
  /** Let another section's result take part in the one-result-at-a-time rule. */
  registerOverlay: (which: ExternalOverlay, owner: OverlayOwner) => void;
  /** Show a registered result (the others give way) or, with null, none. */
  showOverlay: (which: PlanOverlay) => void;
  /** The result shown on the map. */
  overlay: () => PlanOverlay;
  /** The hover line of an area while an overlay is shown, else null. */
  hoverLine: (areaId: string | undefined) => string | null;
}

const THRESHOLD_CHOICES: readonly number[] = [10, 15, 20, 30];

export function initPlanning(ctx: PlanningContext, containers: { siting: HTMLElement; scenarios: HTMLElement; overlayNote: HTMLElement }): Planning {
  // ------------------------------------------------------------ state
  let overlay: PlanOverlay = null;
  const owners = new Map<ExternalOverlay, OverlayOwner>();
  const ownerOf = (w: PlanOverlay): OverlayOwner | null => (w === 'coterm' || w === 'design' ? (owners.get(w) ?? null) : null);

  let sitingLoad: 'idle' | 'loading' | 'loaded' | 'error' = 'idle';
  let sitingError: string | null = null;
  let sitingParams: SitingParams | null = null;
  let sitingResp: SitingResponse | null = null;
  let sitingCandidates: string[] = [];
  let sitingClasses: (SitingClass | null)[] = [];
  const sitingByArea = new Map<string, SitingArea>();
  let sitingSeq = 0;
  let sitingAbort: AbortController | null = null;
  let markers: Marker[] = [];
  let sitePopup: Popup | null = null;
  let saveView: { state: string; name: string | null; message: string } = { state: 'idle', name: null, message: '' };

  let compareLoad: 'idle' | 'loading' | 'loaded' | 'error' = 'idle';
  let compareError: string | null = null;
  let compareResp: CompareResponse | null = null;
  let compareMode: CompareMapMode = 'coverage';
  let compareClasses: (number | null)[] = [];
  const compareByArea = new Map<string, CompareArea>();
  let compareSeq = 0;
  let scenarioList: ScenarioSummary[] = [];
  let listLoad: 'idle' | 'loading' | 'loaded' | 'error' = 'idle';
  const scenarioDetails = new Map<string, Promise<Scenario | null>>();
  let listSeq = 0;

  // ------------------------------------------------------------ siting form

  const kinds = (): string[] => [...ctx.kinds()];
  const modelSel = el('select', { attrs: { id: 'siting-model', name: 'siting-model' } });
  for (const m of SITING_MODELS) modelSel.append(el('option', { text: m.label, attrs: { value: m.id } }));
  modelSel.value = DEFAULT_MODEL;
  const modelHelp = el('p', { class: 'muted plan-help', attrs: { id: 'siting-model-help' } });
  modelSel.setAttribute('aria-describedby', modelHelp.id);
  const candBox = el('fieldset', { class: 'plan-candidates', attrs: { id: 'siting-candidates' } });
  const pInput = el('input', { attrs: { id: 'siting-p', name: 'siting-p', type: 'number', min: '1', max: String(MAX_P), step: '1', value: String(DEFAULT_P), inputmode: 'numeric' } });
  const tInput = el('input', { attrs: { id: 'siting-threshold', name: 'siting-threshold', type: 'number', min: '1', max: '180', step: '1', value: String(DEFAULT_SITING_THRESHOLD), inputmode: 'numeric' } });
  const weightSel = el('select', { attrs: { id: 'siting-weight', name: 'siting-weight' } });
  for (const w of SITING_WEIGHTS) weightSel.append(el('option', { text: w.label, attrs: { value: w.id } }));
  weightSel.value = DEFAULT_WEIGHT;
  const baseSel = el('select', { attrs: { id: 'siting-baseline', name: 'siting-baseline' } });
  const keepInput = el('input', { attrs: { id: 'siting-keep', name: 'siting-keep', type: 'text', placeholder: 'premises ids, e.g. SCH-0010', autocomplete: 'off', spellcheck: 'false' } });
  const runBtn = el('button', { class: 'plan-button plan-primary', text: 'Run', attrs: { type: 'submit', id: 'siting-run' } });
  const clearBtn = el('button', { class: 'plan-button', text: 'Clear', attrs: { type: 'button', id: 'siting-clear' } });
  const result = el('section', { class: 'plan-result', attrs: { id: 'siting-result', 'aria-live': 'polite', 'aria-label': 'Siting result' } });
  const form = el(
    'form',
    { class: 'plan-form', attrs: { id: 'siting-form', novalidate: '' } },
    el('p', { class: 'muted plan-help', text: 'Choose existing premises where new services could be co-located, and see who they would reach.' }),
    el('div', { class: 'select-row' }, el('label', { text: 'Model', attrs: { for: modelSel.id } }), modelSel),
    modelHelp,
    candBox,
    el('div', { class: 'select-row' }, el('label', { text: 'Sites to choose', attrs: { for: pInput.id } }), pInput),
    el('div', { class: 'select-row' }, el('label', { text: 'Reach within (min)', attrs: { for: tInput.id } }), tInput),
    el('div', { class: 'select-row' }, el('label', { text: 'Weight demand by', attrs: { for: weightSel.id } }), weightSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Compare with', attrs: { for: baseSel.id } }), baseSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Must stay open', attrs: { for: keepInput.id } }), keepInput),
    el('div', { class: 'plan-buttons' }, runBtn, clearBtn),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void runSiting();
  });
  clearBtn.addEventListener('click', () => clearSiting());
  const syncModel = (): void => {
    const def = modelDef(modelSel.value);
    modelHelp.textContent = def.help;
    pInput.disabled = !def.usesP;
    pInput.title = def.usesP ? '' : 'LSCP finds how many sites are needed';
  };
  modelSel.addEventListener('change', syncModel);
  syncModel();

  /** Candidate checkboxes and baseline choices from the workspace's kinds. */
  function fillKinds(): void {
    const ks = kinds();
    const ticked = defaultCandidates(ks);
    candBox.replaceChildren(el('legend', { text: 'Candidate sites' }));
    ks.forEach((k, i) => {
      const input = el('input', { attrs: { type: 'checkbox', name: 'siting-candidate', value: k, id: `siting-candidate-${i}` } });
      input.checked = ticked.includes(k);
      candBox.append(el('div', { class: 'control-row' }, input, el('label', { text: humanize(k), attrs: { for: input.id } })));
    });
    if (!ks.length) candBox.append(el('p', { class: 'muted', text: 'No premises in this workspace.' }));
    baseSel.replaceChildren(el('option', { text: 'Nothing (no baseline)', attrs: { value: '' } }));
    for (const k of ks) baseSel.append(el('option', { text: `${humanize(k)} today`, attrs: { value: k } }));
    baseSel.value = defaultBaseline(ks) ?? '';
    runBtn.disabled = ks.length === 0;
  }

  function readForm(): SitingParams {
    const candidates = Array.from(candBox.querySelectorAll<HTMLInputElement>('input[name="siting-candidate"]'))
      .filter((b) => b.checked)
      .map((b) => b.value);
    return {
      model: modelSel.value as SitingModel,
      candidates,
      p: pInput.value.trim() === '' ? NaN : Number(pInput.value),
      thresholdMin: tInput.value.trim() === '' ? NaN : Number(tInput.value),
      weight: weightSel.value as SitingWeight,
      keep: parseIdList(keepInput.value),
      baseline: baseSel.value || null,
    };
  }

  /** Put parameters (from the hook) into the form. */
  function writeForm(q: Partial<SitingParams>): void {
    if (q.model) modelSel.value = q.model;
    if (q.candidates) {
      for (const b of Array.from(candBox.querySelectorAll<HTMLInputElement>('input[name="siting-candidate"]'))) b.checked = q.candidates.includes(b.value);
    }
    if (q.p !== undefined) pInput.value = String(q.p);
    if (q.thresholdMin !== undefined) tInput.value = String(q.thresholdMin);
    if (q.weight) weightSel.value = q.weight;
    if (q.keep !== undefined) keepInput.value = (q.keep ?? []).join(', ');
    if (q.baseline !== undefined) {
      const v = q.baseline ?? '';
      if (v && !Array.from(baseSel.options).some((o) => o.value === v)) baseSel.append(el('option', { text: humanize(v), attrs: { value: v } }));
      baseSel.value = v;
    }
    syncModel();
  }

  // ------------------------------------------------------------ overlay

  function setOverlay(which: PlanOverlay): void {
    const prev = overlay;
    overlay = which;
    if (prev !== which) ownerOf(prev)?.hide();
    const owner = ownerOf(which);
    const m = ctx.map();
    if (m?.getLayer(LYR_PLAN_FILL)) {
      if (owner) {
        m.setPaintProperty(LYR_PLAN_FILL, 'fill-color', MUTED_AREAS_FILL);
        m.setPaintProperty(LYR_PLAN_FILL, 'fill-opacity', owner.muteAreas ? MUTED_AREAS_OPACITY : 0);
      } else if (which === 'siting') {
        m.setPaintProperty(LYR_PLAN_FILL, 'fill-color', classFillExpression(SITING_STATE_KEY, [0, 1, 2, 3].map((c) => SITING_COLOURS[c as SitingClass])));
        m.setPaintProperty(LYR_PLAN_FILL, 'fill-opacity', classOpacityExpression(SITING_STATE_KEY));
      } else if (which === 'compare') {
        m.setPaintProperty(LYR_PLAN_FILL, 'fill-color', classFillExpression(COMPARE_STATE_KEY, compareColours(compareMode)));
        m.setPaintProperty(LYR_PLAN_FILL, 'fill-opacity', classOpacityExpression(COMPARE_STATE_KEY));
      }
      m.setLayoutProperty(LYR_PLAN_FILL, 'visibility', which ? 'visible' : 'none');
    }
    owner?.show();
    for (const mk of markers) mk.getElement().hidden = which !== 'siting';
    if (which !== 'siting') sitePopup?.remove();
    renderOverlayNote();
    renderSitingShowButton();
    renderCompareShowButton();
    ctx.onOverlay(which);
  }

  function renderOverlayNote(): void {
    const note = containers.overlayNote;
    if (!overlay) {
      note.replaceChildren();
      note.hidden = true;
      delete note.dataset.overlay;
      return;
    }
    const hide = el('button', { class: 'plan-button', text: 'Show the layer instead', attrs: { type: 'button', id: 'plan-overlay-hide' } });
    hide.addEventListener('click', () => setOverlay(null));
    const what =
      overlay === 'siting'
        ? 'the siting result (legend under “Siting”)'
        : overlay === 'compare'
          ? 'the scenario comparison (legend under “Compare scenarios”)'
          : (ownerOf(overlay)?.note ?? 'a planning result');
    note.replaceChildren(el('p', { text: `The map shows ${what}.` }), hide);
    note.dataset.overlay = overlay;
    note.hidden = false;
  }

  function setAreaState(key: string, values: readonly (number | null)[]): void {
    const m = ctx.map();
    if (!m) return;
    values.forEach((v, id) => m.setFeatureState({ source: SRC_AREAS, sourceLayer: AREAS_TILE_LAYER, id }, { [key]: v }));
  }

  function clearAreaState(key: string): void {
    setAreaState(
      key,
      ctx.areas().map(() => null),
    );
  }

  // ------------------------------------------------------------ markers

  function clearMarkers(): void {
    for (const mk of markers) mk.remove();
    markers = [];
    sitePopup?.remove();
    sitePopup = null;
  }

  function starMarker(rank: number, label: string, onClick: () => void): HTMLElement {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    const path = document.createElementNS(ns, 'path');
    // A five-pointed star.
    path.setAttribute('d', 'M12 1.5l3.09 6.26 6.91 1-5 4.87 1.18 6.87L12 17.27l-6.18 3.23L7 13.63 2 8.76l6.91-1z');
    svg.append(path);
    const b = el('button', { class: 'siting-marker', attrs: { type: 'button', title: label, 'aria-label': label, 'data-rank': String(rank) } });
    b.append(svg, el('span', { class: 'siting-rank', text: String(rank), attrs: { 'aria-hidden': 'true' } }));
    b.addEventListener('click', (ev) => {
      ev.stopPropagation();
      onClick();
    });
    return b;
  }

  function openSitePopup(i: number): void {
    const m = ctx.map();
    const r = sitingResp;
    if (!m || !r) return;
    const s = r.sites[i];
    if (!s) return;
    sitePopup?.remove();
    const dl = el('dl', { class: 'facts' });
    for (const [k, v] of siteFacts(s, String(r.weight))) dl.append(el('dt', { text: k }), el('dd', { text: v }));
    const box = el(
      'div',
      { class: 'siting-popup', attrs: { 'data-premises-id': s.premises_id } },
      el('h3', {}, el('span', { class: 'siting-rank-badge', text: String(i + 1), attrs: { 'aria-hidden': 'true' } }), `Site ${i + 1}: ${s.name || s.premises_id}`),
      dl,
    );
    sitePopup = new Popup({ closeButton: true, maxWidth: '320px', offset: 16, focusAfterOpen: true }).setLngLat([s.lon, s.lat]).setDOMContent(box).addTo(m);
  }

  function drawMarkers(r: SitingResponse): void {
    const m = ctx.map();
    clearMarkers();
    if (!m) return;
    // The first site drawn on top.
    for (let i = r.sites.length - 1; i >= 0; i--) {
      const s = r.sites[i];
      if (!Number.isFinite(s.lon) || !Number.isFinite(s.lat)) continue;
      const label = `Site ${i + 1}: ${s.name || s.premises_id} (${kindPhrase(s.kind)})`;
      const mk = new Marker({ element: starMarker(i + 1, label, () => openSitePopup(i)) }).setLngLat([s.lon, s.lat]).addTo(m);
      markers.push(mk);
    }
  }

  // ------------------------------------------------------------ siting result

  function legendBlock(l: PlanLegend, id: string): HTMLElement {
    const list = el('ul', { class: 'legend-list' });
    for (const r of l.rows) {
      const sw = el('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
      sw.style.backgroundColor = r.colour;
      list.append(el('li', { attrs: { 'data-class': r.key } }, sw, el('span', { class: 'legend-label', text: r.label }), el('span', { class: 'legend-count', text: formatNumber(r.count), attrs: { title: `${r.count} areas` } })));
    }
    if (l.noData > 0) {
      list.append(el('li', { attrs: { 'data-class': 'nodata' } }, el('span', { class: 'swatch swatch-nodata', attrs: { 'aria-hidden': 'true' } }), el('span', { class: 'legend-label', text: 'no data' }), el('span', { class: 'legend-count', text: formatNumber(l.noData) })));
    }
    return el('div', { class: 'plan-legend', attrs: { id } }, el('h4', { text: l.title }), el('p', { class: 'legend-note', text: l.note }), list, el('p', { class: 'legend-footnote', text: l.footnote }));
  }

  function equityTable(r: SitingResponse, hasBaseline: boolean): HTMLTableElement {
    const lines = equityLines(r, hasBaseline);
    const head = el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { attrs: { scope: 'col' } }, el('abbr', { text: 'Quintile', attrs: { title: 'SIMD quintile (1 = most deprived)' } })),
        el('th', { class: 'num', text: 'Demand', attrs: { scope: 'col' } }),
        el('th', { class: 'num', text: 'Before', attrs: { scope: 'col' } }),
        el('th', { class: 'num', text: 'After', attrs: { scope: 'col' } }),
        el('th', { class: 'num', text: 'Change', attrs: { scope: 'col' } }),
      ),
    );
    const body = el('tbody');
    for (const l of lines) {
      const tr = el(
        'tr',
        { attrs: { 'data-quintile': String(l.quintile), title: l.spoken } },
        el('th', { text: String(l.quintile), attrs: { scope: 'row', title: `SIMD quintile ${l.label}` } }),
        el('td', { class: 'num', text: l.demand }),
        el('td', { class: 'num', text: l.before }),
        el('td', { class: 'num', text: l.after }),
        el('td', { class: `num${/^\+/.test(l.change) ? ' diff-better' : /^−/.test(l.change) ? ' diff-worse' : ''}`, text: l.change }),
      );
      body.append(tr);
    }
    const weight = SITING_WEIGHTS.find((w) => w.id === r.weight)?.label.toLowerCase() ?? String(r.weight);
    const caption = hasBaseline
      ? `Share of demand (${weight}) within ${formatNumber(r.threshold_min, 1)} min, by SIMD quintile (1 = most deprived): before = the baseline premises only, after = with the new sites.`
      : `Share of demand (${weight}) within ${formatNumber(r.threshold_min, 1)} min of the new sites, by SIMD quintile (1 = most deprived).`;
    return el('table', { class: 'data-table plan-table', attrs: { id: 'siting-equity' } }, el('caption', { text: caption }), head, body);
  }

  function renderSitingShowButton(): void {
    const b = result.querySelector<HTMLButtonElement>('#siting-show');
    if (b) b.hidden = overlay === 'siting' || !sitingResp;
  }

  function renderSitingResult(): void {
    result.dataset.state = sitingLoad;
    if (sitingLoad === 'idle') {
      result.replaceChildren();
      return;
    }
    if (sitingLoad === 'loading') {
      result.replaceChildren(el('p', { class: 'muted', text: 'Choosing sites…' }));
      return;
    }
    if (sitingLoad === 'error') {
      result.replaceChildren(el('p', { class: 'status-error plan-error', text: sitingError ?? 'Something went wrong.', attrs: { role: 'alert' } }));
      return;
    }
    const r = sitingResp!;
    const q = sitingParams!;
    const gap = gapText(r);
    const list = el('ol', { class: 'siting-sites' });
    r.sites.forEach((s, i) => {
      const b = el('button', { class: 'siting-site', text: `${s.name || s.premises_id}`, attrs: { type: 'button', 'data-premises-id': s.premises_id, title: 'Show on the map' } });
      b.addEventListener('click', () => {
        if (overlay !== 'siting') setOverlay('siting');
        const m = ctx.map();
        if (m && !m.getBounds().contains([s.lon, s.lat])) m.easeTo({ center: [s.lon, s.lat], duration: ctx.reduceMotion ? 0 : 600 });
        openSitePopup(i);
      });
      list.append(el('li', { attrs: { 'data-rank': String(i + 1) } }, b, el('span', { class: 'muted siting-site-kind', text: ` ${kindPhrase(s.kind)} · ${formatNumber(s.areas_served)} areas` })));
    });
    const show = el('button', { class: 'plan-button', text: 'Show on map', attrs: { type: 'button', id: 'siting-show' } });
    show.addEventListener('click', () => setOverlay('siting'));
    const legend = sitingLegend(sitingClasses, { baseline: q.baseline ?? null, thresholdMin: r.threshold_min, method: r.method });
    result.replaceChildren(
      el('h3', { text: `${formatNumber(r.sites.length)} site${r.sites.length === 1 ? '' : 's'} chosen: ${modelDef(String(r.model)).label}` }),
      el('p', { class: 'siting-objective' }, el('strong', { text: 'Objective: ' }), objectiveText(r)),
      el('p', { class: `siting-gap${r.proven_optimal ? ' siting-optimal' : ''}`, text: gap.charAt(0).toUpperCase() + gap.slice(1), attrs: { id: 'siting-gap' } }),
      list,
      show,
      legendBlock(legend, 'siting-legend'),
      el('div', { class: 'table-scroll' }, equityTable(r, !!q.baseline)),
      downloadLinks(document, sitingUrl(q), `siting-${String(r.model)}`, [
        { table: 'sites', label: 'the sites' },
        { table: 'areas', label: 'each area’s site and travel time' },
      ]),
      saveBlock(q, r),
    );
    renderSitingShowButton();
  }

  // ------------------------------------------------------------ save as scenario

  let nameInput: HTMLInputElement | null = null;
  let kindInput: HTMLInputElement | null = null;
  let saveStatus: HTMLElement | null = null;

  function saveBlock(q: SitingParams, r: SitingResponse): HTMLElement {
    nameInput = el('input', { attrs: { id: 'scenario-name', name: 'scenario-name', type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: '64', pattern: '[A-Za-z0-9_-]{1,64}' } });
    nameInput.value = defaultScenarioName(q.model, r.sites.length);
    kindInput = el('input', { attrs: { id: 'scenario-kind', name: 'scenario-kind', type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: '64' } });
    kindInput.value = DEFAULT_HUB_KIND;
    const save = el('button', { class: 'plan-button plan-primary', text: 'Save as scenario', attrs: { type: 'submit', id: 'scenario-save' } });
    saveStatus = el('p', { class: 'plan-save-status', attrs: { id: 'scenario-save-status', 'aria-live': 'polite' } });
    const f = el(
      'form',
      { class: 'plan-save', attrs: { id: 'scenario-save-form', novalidate: '' } },
      el('h4', { text: 'Save as a scenario' }),
      el('p', { class: 'muted plan-help', text: 'Adds a new premises of the kind below at each chosen site; compare it with the baseline under “Compare scenarios”.' }),
      el('div', { class: 'select-row' }, el('label', { text: 'Scenario name', attrs: { for: nameInput.id } }), nameInput),
      el('div', { class: 'select-row' }, el('label', { text: 'New premises kind', attrs: { for: kindInput.id } }), kindInput),
      el('div', { class: 'plan-buttons' }, save),
      saveStatus,
    );
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      void saveScenario();
    });
    renderSave();
    return f;
  }

  function renderSave(): void {
    if (!saveStatus) return;
    saveStatus.textContent = saveView.message;
    saveStatus.dataset.state = saveView.state;
    saveStatus.className = `plan-save-status${saveView.state === 'error' ? ' status-error' : ''}`;
    if (saveView.state === 'error') saveStatus.setAttribute('role', 'alert');
    else saveStatus.removeAttribute('role');
  }

  async function saveScenario(name?: string, kind?: string): Promise<SitingStateView> {
    const r = sitingResp;
    if (!r || sitingLoad !== 'loaded') {
      saveView = { state: 'error', name: null, message: 'Run a siting first: there are no sites to save.' };
      renderSave();
      return sitingState();
    }
    if (name !== undefined && nameInput) nameInput.value = name;
    if (kind !== undefined && kindInput) kindInput.value = kind;
    const n = (nameInput?.value ?? '').trim();
    const k = (kindInput?.value ?? '').trim();
    const problem = scenarioNameProblem(n) ?? kindNameProblem(k);
    if (problem) {
      saveView = { state: 'error', name: n || null, message: problem };
      renderSave();
      return sitingState();
    }
    saveView = { state: 'saving', name: n, message: `Saving “${n}”…` };
    renderSave();
    const edits = hubEdits(r.sites, k);
    try {
      const stored = await putScenario(n, { description: scenarioDescription(r, sitingCandidates, k), edits });
      scenarioDetails.set(n, Promise.resolve(stored));
      saveView = { state: 'saved', name: n, message: `Saved scenario “${n}”: ${edits.length} new ${kindPhrase(k)} premises. Compare it under “Compare scenarios”.` };
      renderSave();
      // Offer it for comparison at once: baseline against it, for the new kind.
      await refreshScenarios();
      selectValue(aSel, BASELINE);
      selectValue(bSel, n);
      await updateKinds();
      selectValue(kindSel, k);
      containers.scenarios.closest('details')?.setAttribute('open', '');
    } catch (e) {
      saveView = { state: 'error', name: n, message: scenarioErrorMessage(`save “${n}”`, e) };
      renderSave();
    }
    return sitingState();
  }

  // ------------------------------------------------------------ run / clear

  async function runSiting(params?: Partial<SitingParams>): Promise<SitingStateView> {
    await ctx.layersReady;
    if (params) writeForm(params);
    containers.siting.closest('details')?.setAttribute('open', '');
    const q = readForm();
    const seq = ++sitingSeq;
    sitingAbort?.abort();
    resetSiting();
    sitingParams = q;
    const refused = sitingPrecheck(q, { kinds: kinds(), premises: ctx.premises() });
    if (refused) {
      sitingLoad = 'error';
      sitingError = refused;
      renderSitingResult();
      return sitingState();
    }
    sitingLoad = 'loading';
    renderSitingResult();
    runBtn.disabled = true;
    const ac = new AbortController();
    sitingAbort = ac;
    let r: SitingResponse;
    try {
      r = await getSiting(q, ac.signal);
    } catch (e) {
      if (seq !== sitingSeq || (e instanceof DOMException && e.name === 'AbortError')) return sitingState();
      sitingLoad = 'error';
      sitingError = sitingErrorMessage(e);
      renderSitingResult();
      return sitingState();
    } finally {
      if (sitingAbort === ac) sitingAbort = null;
      if (seq === sitingSeq) runBtn.disabled = false;
    }
    if (seq !== sitingSeq) return sitingState();
    sitingResp = r;
    sitingCandidates = [...q.candidates];
    sitingLoad = 'loaded';
    saveView = { state: 'idle', name: null, message: '' };
    for (const a of r.areas) sitingByArea.set(a.area_id, a);
    sitingClasses = ctx.areas().map((a) => sitingClass(typeof a?.area_id === 'string' ? sitingByArea.get(a.area_id) : null));
    setAreaState(SITING_STATE_KEY, sitingClasses);
    drawMarkers(r);
    renderSitingResult();
    setOverlay('siting');
    const m = ctx.map();
    if (m) await ctx.waitIdle(m);
    return sitingState();
  }

  function resetSiting(): void {
    clearMarkers();
    if (sitingResp) clearAreaState(SITING_STATE_KEY);
    sitingResp = null;
    sitingClasses = [];
    sitingByArea.clear();
    sitingError = null;
    saveView = { state: 'idle', name: null, message: '' };
    nameInput = kindInput = saveStatus = null;
  }

  function clearSiting(): void {
    sitingSeq++;
    sitingAbort?.abort();
    sitingAbort = null;
    runBtn.disabled = kinds().length === 0;
    resetSiting();
    sitingParams = null;
    sitingLoad = 'idle';
    renderSitingResult();
    if (overlay === 'siting') setOverlay(null);
  }

  function sitingState(): SitingStateView {
    const counts = { new: 0, both: 0, before: 0, none: 0 };
    for (const c of sitingClasses) {
      if (c === 3) counts.new++;
      else if (c === 2) counts.both++;
      else if (c === 1) counts.before++;
      else if (c === 0) counts.none++;
    }
    const r = sitingResp;
    return {
      state: sitingLoad,
      error: sitingError,
      params: sitingParams,
      objective: r ? objectiveText(r) : '',
      gap: r ? gapText(r) : '',
      sites: (r?.sites ?? []).map((s, i) => ({ rank: i + 1, premises_id: s.premises_id, name: s.name, kind: s.kind, lon: s.lon, lat: s.lat })),
      markers: markers.length,
      counts,
      overlay,
      save: { ...saveView },
    };
  }

  // ------------------------------------------------------------ compare form

  const aSel = el('select', { attrs: { id: 'compare-a', name: 'compare-a' } });
  const bSel = el('select', { attrs: { id: 'compare-b', name: 'compare-b' } });
  const kindSel = el('select', { attrs: { id: 'compare-kind', name: 'compare-kind' } });
  const ctSel = el('select', { attrs: { id: 'compare-threshold', name: 'compare-threshold' } });
  for (const t of THRESHOLD_CHOICES) ctSel.append(el('option', { text: `${t} minutes`, attrs: { value: String(t) } }));
  ctSel.value = '15';
  const modeSel = el('select', { attrs: { id: 'compare-map', name: 'compare-map' } });
  modeSel.append(el('option', { text: 'Change in coverage', attrs: { value: 'coverage' } }), el('option', { text: 'Change in travel time', attrs: { value: 'travel' } }));
  const compareBtn = el('button', { class: 'plan-button plan-primary', text: 'Compare', attrs: { type: 'submit', id: 'compare-run' } });
  const compareClearBtn = el('button', { class: 'plan-button', text: 'Clear', attrs: { type: 'button', id: 'compare-clear' } });
  const compareResult = el('section', { class: 'plan-result', attrs: { id: 'compare-result', 'aria-live': 'polite', 'aria-label': 'Scenario comparison' } });
  const listEl = el('ul', { class: 'scenario-list', attrs: { id: 'scenario-list', 'aria-label': 'Saved scenarios' } });
  const listStatus = el('p', { class: 'plan-list-status', attrs: { id: 'scenario-list-status', 'aria-live': 'polite' } });
  const refreshBtn = el('button', { class: 'plan-button', text: 'Refresh', attrs: { type: 'button', id: 'scenarios-refresh' } });
  const compareForm = el(
    'form',
    { class: 'plan-form', attrs: { id: 'compare-form', novalidate: '' } },
    el('p', { class: 'muted plan-help', text: 'Put two scenarios (saved changes to the premises) side by side for one kind of premises.' }),
    el('div', { class: 'select-row' }, el('label', { text: 'Scenario A', attrs: { for: aSel.id } }), aSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Scenario B', attrs: { for: bSel.id } }), bSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Premises kind', attrs: { for: kindSel.id } }), kindSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Reach within', attrs: { for: ctSel.id } }), ctSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Map shows', attrs: { for: modeSel.id } }), modeSel),
    el('div', { class: 'plan-buttons' }, compareBtn, compareClearBtn),
  );
  compareForm.addEventListener('submit', (e) => {
    e.preventDefault();
    void runCompare();
  });
  compareClearBtn.addEventListener('click', () => clearCompare());
  modeSel.addEventListener('change', () => {
    compareMode = modeSel.value === 'travel' ? 'travel' : 'coverage';
    if (compareResp) {
      applyCompareClasses();
      renderCompareResult();
      setOverlay('compare');
    }
  });
  refreshBtn.addEventListener('click', () => void refreshScenarios());

  function selectValue(sel: HTMLSelectElement, v: string): void {
    if (!Array.from(sel.options).some((o) => o.value === v)) sel.append(el('option', { text: v === BASELINE ? 'Baseline (as today)' : v, attrs: { value: v } }));
    sel.value = v;
  }

  function fillScenarioSelects(): void {
    const names = scenarioChoices(scenarioList);
    for (const sel of [aSel, bSel]) {
      const keep = sel.value;
      sel.replaceChildren(...names.map((n) => el('option', { text: n === BASELINE ? 'Baseline (as today)' : n, attrs: { value: n } })));
      sel.value = names.includes(keep) ? keep : sel === aSel ? BASELINE : (names[1] ?? BASELINE);
    }
  }

  async function updateKinds(): Promise<void> {
    const details = await Promise.all(scenarioList.slice(0, 30).map((s) => scenarioDetail(s.name)));
    const ks = compareKinds(kinds(), details);
    const keep = kindSel.value;
    kindSel.replaceChildren(...ks.map((k) => el('option', { text: humanize(k), attrs: { value: k } })));
    kindSel.value = ks.includes(keep) ? keep : (defaultBaseline(ks) ?? ks[0] ?? '');
  }

  function scenarioDetail(name: string): Promise<Scenario | null> {
    let p = scenarioDetails.get(name);
    if (!p) {
      p = getScenario(name).catch(() => null);
      scenarioDetails.set(name, p);
    }
    return p;
  }

  function renderList(): void {
    listEl.dataset.state = listLoad;
    if (listLoad === 'loading' && !scenarioList.length) {
      listEl.replaceChildren(el('li', { class: 'muted', text: 'Loading saved scenarios…' }));
      return;
    }
    if (!scenarioList.length) {
      listEl.replaceChildren(el('li', { class: 'muted scenario-empty', text: listLoad === 'error' ? 'The saved scenarios could not be listed.' : 'No saved scenarios yet: run a siting and save it.' }));
      return;
    }
    listEl.replaceChildren(
      ...scenarioList.map((s) => {
        const del = el('button', { class: 'plan-button scenario-delete', text: 'Delete', attrs: { type: 'button', 'aria-label': `Delete scenario ${s.name}` } });
        const li = el(
          'li',
          { class: 'scenario-item', attrs: { 'data-name': s.name } },
          el('div', { class: 'scenario-text' }, el('span', { class: 'scenario-name', text: s.name }), el('span', { class: 'muted scenario-meta', text: [s.description, scenarioMeta(s)].filter(Boolean).join(' · ') })),
          del,
        );
        del.addEventListener('click', () => askDelete(li, s.name));
        return li;
      }),
    );
  }

  /** Ask before deleting: the row becomes "Delete X? [Delete] [Cancel]". */
  function askDelete(li: HTMLElement, name: string): void {
    const yes = el('button', { class: 'plan-button plan-danger scenario-confirm', text: 'Delete', attrs: { type: 'button' } });
    const no = el('button', { class: 'plan-button scenario-cancel', text: 'Cancel', attrs: { type: 'button' } });
    yes.addEventListener('click', () => void removeScenario(name));
    no.addEventListener('click', () => {
      renderList();
      listEl.querySelector<HTMLButtonElement>(`li[data-name="${CSS.escape(name)}"] .scenario-delete`)?.focus();
    });
    li.replaceChildren(el('p', { class: 'scenario-ask', text: `Delete scenario “${name}”? This cannot be undone.`, attrs: { role: 'alert' } }), el('div', { class: 'plan-buttons' }, yes, no));
    li.dataset.confirm = 'true';
    yes.focus();
  }

  async function removeScenario(name: string): Promise<CompareStateView> {
    listStatus.textContent = `Deleting “${name}”…`;
    listStatus.className = 'plan-list-status';
    try {
      await deleteScenario(name);
      scenarioDetails.delete(name);
      listStatus.textContent = `Deleted scenario “${name}”.`;
      if (compareResp && (compareResp.a.name === name || compareResp.b.name === name)) clearCompare();
    } catch (e) {
      listStatus.textContent = scenarioErrorMessage(`delete “${name}”`, e);
      listStatus.className = 'plan-list-status status-error';
    }
    await refreshScenarios();
    return compareState();
  }

  async function refreshScenarios(): Promise<CompareStateView> {
    const seq = ++listSeq;
    listLoad = 'loading';
    renderList();
    try {
      const l = await listScenarios();
      if (seq !== listSeq) return compareState();
      scenarioList = [...l.scenarios].sort((x, y) => x.name.localeCompare(y.name));
      listLoad = 'loaded';
    } catch (e) {
      if (seq !== listSeq) return compareState();
      listLoad = 'error';
      scenarioList = [];
      listStatus.textContent = scenarioErrorMessage('list the saved scenarios', e);
      listStatus.className = 'plan-list-status status-error';
    }
    // Forget the details of scenarios that changed or went.
    for (const name of [...scenarioDetails.keys()]) if (!scenarioList.some((s) => s.name === name)) scenarioDetails.delete(name);
    fillScenarioSelects();
    renderList();
    await updateKinds();
    return compareState();
  }

  // ------------------------------------------------------------ compare result

  function applyCompareClasses(): void {
    compareClasses = ctx.areas().map((a) => compareClass(typeof a?.area_id === 'string' ? compareByArea.get(a.area_id) : null, compareMode));
    setAreaState(COMPARE_STATE_KEY, compareClasses);
  }

  function diffCell(d: MetricDiff | null, text: string, attrs: Record<string, string> = {}, title?: string): HTMLTableCellElement {
    const td = el('td', { class: `num${d && d.cls !== 'unknown' ? ` diff-${d.cls}` : ''}`, text, attrs });
    if (title) td.title = title;
    if (d && (d.cls === 'better' || d.cls === 'worse')) {
      td.append(el('span', { class: 'diff-mark', text: d.cls === 'better' ? '▲' : '▼', attrs: { 'aria-hidden': 'true' } }), el('span', { class: 'visually-hidden', text: ` (${d.word})` }));
      td.title = `${title ? `${title}: ` : ''}${d.text} against A (${d.word})`;
    }
    return td;
  }

  function quintileTable(m: ScenarioMetrics, other: ScenarioMetrics | null, side: 'a' | 'b'): HTMLElement {
    const rows = quintileRows(m, other);
    const head = el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { attrs: { scope: 'col' } }, el('abbr', { text: 'Q', attrs: { title: 'SIMD quintile (1 = most deprived)' } })),
        ...QUINTILE_METRICS.map((d) => el('th', { class: 'num', attrs: { scope: 'col' } }, el('abbr', { text: d.short, attrs: { title: d.long } }))),
      ),
    );
    const body = el('tbody');
    for (const r of rows) {
      body.append(
        el(
          'tr',
          { attrs: { 'data-quintile': String(r.quintile) } },
          el('th', { text: String(r.quintile), attrs: { scope: 'row', title: `SIMD quintile ${quintileLabel(r.quintile)}` } }),
          ...r.cells.map((c) => diffCell(c.diff, c.text, { 'data-metric': c.key }, c.full)),
        ),
      );
    }
    const who = side === 'a' ? `A (${m.name})` : `B (${m.name})${other ? ', ▲ better / ▼ worse than A' : ''}`;
    return el(
      'div',
      { class: 'table-scroll' },
      el('table', { class: 'data-table plan-table compare-quintiles', attrs: { 'data-side': side } }, el('caption', { text: `By SIMD quintile (1 = most deprived): ${who}. — = none within reach or withheld.` }), head, body),
    );
  }

  function renderCompareShowButton(): void {
    const b = compareResult.querySelector<HTMLButtonElement>('#compare-show');
    if (b) b.hidden = overlay === 'compare' || !compareResp;
  }

  function renderCompareResult(): void {
    compareResult.dataset.state = compareLoad;
    if (compareLoad === 'idle') {
      compareResult.replaceChildren();
      return;
    }
    if (compareLoad === 'loading') {
      compareResult.replaceChildren(el('p', { class: 'muted', text: 'Comparing…' }));
      return;
    }
    if (compareLoad === 'error') {
      compareResult.replaceChildren(el('p', { class: 'status-error plan-error', text: compareError ?? 'Something went wrong.', attrs: { role: 'alert' } }));
      return;
    }
    const r = compareResp!;
    const rows = compareRows(r.a, r.b);
    const head = el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { text: 'Measure', attrs: { scope: 'col' } }),
        el('th', { class: 'num', attrs: { scope: 'col' } }, el('abbr', { text: 'A', attrs: { title: `Scenario A: ${r.a.name}` } })),
        el('th', { class: 'num', attrs: { scope: 'col' } }, el('abbr', { text: 'B', attrs: { title: `Scenario B: ${r.b.name}` } })),
        el('th', { class: 'num', text: 'Change', attrs: { scope: 'col' } }),
      ),
    );
    const body = el('tbody');
    for (const row of rows) {
      body.append(
        el(
          'tr',
          { attrs: { 'data-metric': row.key, 'data-diff': row.diff.cls } },
          el('th', { attrs: { scope: 'row' } }, el('abbr', { text: row.label, attrs: { title: row.long } })),
          el('td', { class: 'num', text: row.a, attrs: { 'data-side': 'a' } }),
          el('td', { class: 'num', text: row.b, attrs: { 'data-side': 'b' } }),
          diffCell(row.diff, row.diff.text, { 'data-side': 'change' }),
        ),
      );
    }
    const kind = kindPhrase(r.kind);
    const t = formatNumber(r.threshold_min, 1);
    const table = el(
      'table',
      { class: 'data-table plan-table', attrs: { id: 'compare-table' } },
      el('caption', { text: `A = ${r.a.name}, B = ${r.b.name}; ${kind} within ${t} min. ▲ better, ▼ worse.` }),
      head,
      body,
    );
    const show = el('button', { class: 'plan-button', text: 'Show on map', attrs: { type: 'button', id: 'compare-show' } });
    show.addEventListener('click', () => setOverlay('compare'));
    const legend = compareLegend(compareClasses, compareMode, { a: r.a.name, b: r.b.name, kind: r.kind, thresholdMin: r.threshold_min, method: r.method });
    compareResult.replaceChildren(
      el('h3', { text: `${r.b.name} against ${r.a.name}: ${kind}` }),
      el('div', { class: 'table-scroll' }, table),
      show,
      legendBlock(legend, 'compare-legend'),
      quintileTable(r.a, null, 'a'),
      quintileTable(r.b, r.a, 'b'),
    );
    renderCompareShowButton();
  }

  async function runCompare(opts: { a?: string; b?: string; kind?: string; thresholdMin?: number; mode?: CompareMapMode } = {}): Promise<CompareStateView> {
    await ctx.layersReady;
    containers.scenarios.closest('details')?.setAttribute('open', '');
    if (listLoad === 'idle') await refreshScenarios();
    if (opts.a) selectValue(aSel, opts.a);
    if (opts.b) selectValue(bSel, opts.b);
    if (opts.kind) selectValue(kindSel, opts.kind);
    if (opts.thresholdMin !== undefined) selectValue(ctSel, String(opts.thresholdMin));
    if (opts.mode) {
      modeSel.value = opts.mode;
      compareMode = opts.mode;
    }
    const a = aSel.value;
    const b = bSel.value;
    const kind = kindSel.value;
    const t = Number(ctSel.value);
    const seq = ++compareSeq;
    if (compareResp) clearAreaState(COMPARE_STATE_KEY);
    compareResp = null;
    compareByArea.clear();
    compareClasses = [];
    if (!a || !b || !kind) {
      compareLoad = 'error';
      compareError = 'Choose two scenarios and a premises kind.';
      renderCompareResult();
      return compareState();
    }
    if (a === b) {
      compareLoad = 'error';
      compareError = 'Choose two different scenarios to compare.';
      renderCompareResult();
      return compareState();
    }
    compareLoad = 'loading';
    compareError = null;
    renderCompareResult();
    compareBtn.disabled = true;
    let r: CompareResponse;
    try {
      r = await compareScenarios(a, b, kind, t);
    } catch (e) {
      if (seq !== compareSeq) return compareState();
      compareLoad = 'error';
      compareError = scenarioErrorMessage(`compare “${a}” with “${b}”`, e);
      renderCompareResult();
      return compareState();
    } finally {
      if (seq === compareSeq) compareBtn.disabled = false;
    }
    if (seq !== compareSeq) return compareState();
    compareResp = r;
    compareLoad = 'loaded';
    for (const x of r.areas) compareByArea.set(x.area_id, x);
    applyCompareClasses();
    renderCompareResult();
    setOverlay('compare');
    const m = ctx.map();
    if (m) await ctx.waitIdle(m);
    return compareState();
  }

  function clearCompare(): void {
    compareSeq++;
    compareBtn.disabled = false;
    if (compareResp) clearAreaState(COMPARE_STATE_KEY);
    compareResp = null;
    compareByArea.clear();
    compareClasses = [];
    compareLoad = 'idle';
    compareError = null;
    renderCompareResult();
    if (overlay === 'compare') setOverlay(null);
  }

  function compareState(): CompareStateView {
    const r = compareResp;
    return {
      state: compareLoad,
      error: compareError,
      a: r?.a.name ?? (aSel.value || null),
      b: r?.b.name ?? (bSel.value || null),
      kind: r?.kind ?? (kindSel.value || null),
      thresholdMin: r?.threshold_min ?? (Number(ctSel.value) || null),
      mode: compareMode,
      coverage: { a: r?.a.coverage_pct ?? null, b: r?.b.coverage_pct ?? null },
      rows: r ? compareRows(r.a, r.b).map((x) => ({ key: x.key, a: x.a, b: x.b, diff: x.diff.text, cls: x.diff.cls })) : [],
      list: scenarioList.map((s) => s.name),
      listState: listLoad,
      overlay,
    };
  }

  // ------------------------------------------------------------ hover

  function hoverLine(areaId: string | undefined): string | null {
    if (!overlay || !areaId) return null;
    const owner = ownerOf(overlay);
    if (owner) return owner.hover?.(areaId) ?? null;
    if (overlay === 'siting') {
      const a = sitingByArea.get(areaId);
      if (!a) return 'Siting: no data';
      const c = sitingClass(a);
      const site = a.site ? (sitingResp?.sites.find((s) => s.premises_id === a.site)?.name ?? a.site) : null;
      const travel = typeof a.travel_time_min === 'number' ? `${formatNumber(a.travel_time_min, 1)} min to ${site ?? 'the nearest site'}` : 'no site within reach';
      const what = c === 3 ? 'newly covered' : c === 2 ? 'covered by a new site (and before)' : c === 1 ? 'already covered (baseline only)' : 'not covered';
      return `Siting: ${what}; ${travel}`;
    }
    const a = compareByArea.get(areaId);
    if (!a || !compareResp) return 'Comparison: no data';
    const fmt = (v: number | null): string => (typeof v === 'number' ? `${formatNumber(v, 1)} min` : 'none reachable');
    const cov = a.covered_a === a.covered_b ? (a.covered_b ? 'within reach in both' : 'within reach in neither') : a.covered_b ? 'gained' : 'lost';
    return `${kindPhrase(compareResp.kind)}: A ${fmt(a.travel_time_min_a)}, B ${fmt(a.travel_time_min_b)} (${cov})`;
  }

  // ------------------------------------------------------------ mount

  containers.siting.replaceChildren(form, result);
  containers.scenarios.replaceChildren(
    compareForm,
    compareResult,
    el('div', { class: 'scenario-list-head' }, el('h3', { text: 'Saved scenarios' }), refreshBtn),
    listStatus,
    listEl,
  );
  fillKinds();
  fillScenarioSelects();
  kindSel.replaceChildren(...kinds().map((k) => el('option', { text: humanize(k), attrs: { value: k } })));
  kindSel.value = defaultBaseline(kinds()) ?? kinds()[0] ?? '';
  renderList();
  renderSitingResult();
  renderCompareResult();
  // The saved scenarios are listed when the section is first opened.
  const details = containers.scenarios.closest('details');
  details?.addEventListener('toggle', () => {
    if (details.open && listLoad === 'idle') void refreshScenarios();
  });

  return {
    runSiting: (p) => runSiting(p),
    sitingState,
    clearSiting,
    saveScenario: (n, k) => saveScenario(n, k),
    compare: (o) => runCompare(o),
    compareState,
    refreshScenarios,
    deleteScenario: (name) => removeScenario(name),
    hideOverlay: () => {
      if (overlay) setOverlay(null);
    },
    registerOverlay: (which, owner) => {
      owners.set(which, owner);
    },
    showOverlay: (which) => setOverlay(which),
    overlay: () => overlay,
    hoverLine,
  };
}
