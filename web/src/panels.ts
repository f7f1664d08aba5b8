// DOM for the side panels: layer controls, area details, equity table, search results,
// premises popups and status messages. Built with the DOM API (never innerHTML with data).

import type { AccessArea, AreaDetail, Count, Equity, EquityTotal, HoursExtension, Meta, PremisesProperties, SearchResult, SignpostResponse, SignpostResult } from './api';
import {
  NO_VALUE,
  formatAccessScore,
  formatCount,
  formatDistance,
  formatIndicator,
  formatNumber,
  formatOpeningHours,
  formatRate,
  formatScore,
  formatTravelTime,
  humanize,
  isSuppressed,
  kindPhrase,
  quintileLabel,
  splitList,
} from './format';
import { ACCESS_VARIABLES, AREA_VARIABLES, HOURS_VARIABLES, TRENDS_VARIABLES, type Variable, type VariableDef } from './legend';
import { HOURS_IN_WEEK, extensionText, hourLabel } from './hours';
import { placeStatus, servicesText, signpostHeading, travelText } from './signpost';
import type { BoundaryStyle } from './style';
import type { IsochroneLegend } from './isochrones';

type Child = Node | string | null | undefined | false;

/** Create an element with a class, attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  opts: { class?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (opts.class) e.className = opts.class;
  if (opts.text !== undefined) e.textContent = opts.text;
  if (opts.attrs) for (const [k, v] of Object.entries(opts.attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing element #${id}`);
  return e as T;
}

// ---------------------------------------------------------------- status

/** Show a message in the status bar; errors are announced assertively. */
export function showStatus(message: string, kind: 'error' | 'info' = 'error'): void {
  const s = byId('status');
  const item = el('p', { class: `status-${kind}`, text: message, attrs: { role: kind === 'error' ? 'alert' : 'status' } });
  const close = el('button', { class: 'status-close', text: '×', attrs: { type: 'button', 'aria-label': 'Dismiss message' } });
  close.addEventListener('click', () => {
    wrap.remove();
    if (!s.childElementCount) s.hidden = true;
  });
  const wrap = el('div', { class: 'status-item' }, item, close);
  // Do not pile up the same message.
  for (const old of Array.from(s.querySelectorAll('.status-item'))) {
    if (old.textContent?.startsWith(message)) old.remove();
  }
  s.append(wrap);
  s.hidden = false;
}

// ---------------------------------------------------------------- header and footer

export function renderHeader(meta: Meta): void {
  byId('region').textContent = meta.region;
  const role = byId('role');
  role.textContent = meta.role === 'planner' ? 'Planner view (exact aggregates)' : `${humanize(meta.role)} view`;
  role.dataset.role = meta.role;
  document.title = `needmap — ${meta.region}`;
}

export function renderFooter(meta: Meta | null): void {
  const a = byId('attribution');
  a.textContent = meta?.attribution ? meta.attribution : '';
  a.hidden = !meta?.attribution;
}

// ---------------------------------------------------------------- layer controls

/**
 * The choropleth radios (one group, name="variable"): the area variables, then nested
 * fieldsets "Access to premises", "Opening hours and need" and "Trends and hot spots".
 */
export function renderLayerSwitcher(container: HTMLElement, current: Variable, onChange: (v: Variable) => void): void {
  const radio = (def: VariableDef): HTMLElement => {
    const input = el('input', {
      attrs: { type: 'radio', name: 'variable', value: def.id, id: `variable-${def.id}` },
    });
    input.checked = def.id === current;
    input.dataset.group = def.group;
    input.addEventListener('change', () => {
      if (input.checked) onChange(def.id);
    });
    return el('div', { class: 'control-row' }, input, el('label', { text: def.label, attrs: { for: input.id } }));
  };
  const access = el('fieldset', { class: 'switcher-access' }, el('legend', { text: 'Access to premises' }), ...ACCESS_VARIABLES.map(radio));
  const hours = el('fieldset', { class: 'switcher-access switcher-hours' }, el('legend', { text: 'Opening hours and need' }), ...HOURS_VARIABLES.map(radio));
  const trends = el('fieldset', { class: 'switcher-access switcher-trends' }, el('legend', { text: 'Trends and hot spots' }), ...TRENDS_VARIABLES.map(radio));
  const fs = el('fieldset', {}, el('legend', { text: 'Colour areas by' }), ...AREA_VARIABLES.map(radio), access, hours, trends);
  container.replaceChildren(fs);
}

/** Enable or disable the access and hours radios (disabled when the workspace has no premises). */
export function setAccessRadiosEnabled(container: HTMLElement, enabled: boolean): void {
  for (const input of Array.from(container.querySelectorAll<HTMLInputElement>('input[data-group="access"], input[data-group="hours"]'))) input.disabled = !enabled;
}

/**
 * The Access section (#access-controls): premises kind and threshold selects
 * (#access-kind, #access-threshold). `onChange` gets the new kind and threshold.
 */
export function renderAccessControls(
  container: HTMLElement,
  kinds: readonly string[],
  kind: string | null,
  thresholdMin: number,
  thresholds: readonly number[],
  onChange: (kind: string, thresholdMin: number) => void,
): void {
  const heading = el('h2', { text: 'Access', attrs: { id: 'access-heading' } });
  if (kinds.length === 0 || !kind) {
    container.replaceChildren(heading, el('p', { class: 'muted', text: 'No premises in this workspace: access is not available.' }));
    return;
  }
  const kindSel = el('select', { attrs: { id: 'access-kind', name: 'access-kind' } });
  for (const k of kinds) kindSel.append(el('option', { text: humanize(k), attrs: { value: k } }));
  kindSel.value = kind;
  const tSel = el('select', { attrs: { id: 'access-threshold', name: 'access-threshold' } });
  for (const t of thresholds) tSel.append(el('option', { text: `${t} minutes`, attrs: { value: String(t) } }));
  setThresholdOption(tSel, thresholdMin);
  const changed = (): void => onChange(kindSel.value, Number(tSel.value));
  kindSel.addEventListener('change', changed);
  tSel.addEventListener('change', changed);
  container.replaceChildren(
    heading,
    el('div', { class: 'select-row' }, el('label', { text: 'Premises kind', attrs: { for: kindSel.id } }), kindSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Reach within', attrs: { for: tSel.id } }), tSel),
    el('p', {
      class: 'muted access-hint',
      text: 'Choose an access variable under “Colour areas by” to colour the map.',
      attrs: { id: 'access-hint' },
    }),
  );
}

/** Select a threshold, adding an option for a value not offered (e.g. set from a test). */
export function setThresholdOption(select: HTMLSelectElement, thresholdMin: number): void {
  const v = String(thresholdMin);
  if (!Array.from(select.options).some((o) => o.value === v)) {
    select.append(el('option', { text: `${thresholdMin} minutes`, attrs: { value: v } }));
  }
  select.value = v;
}

/** Show the selected kind and threshold in the Access section (after a programmatic change). */
export function syncAccessControls(kind: string, thresholdMin: number): void {
  const k = document.getElementById('access-kind') as HTMLSelectElement | null;
  const t = document.getElementById('access-threshold') as HTMLSelectElement | null;
  if (k) {
    if (!Array.from(k.options).some((o) => o.value === kind)) k.append(el('option', { text: humanize(kind), attrs: { value: kind } }));
    k.value = kind;
  }
  if (t) setThresholdOption(t, thresholdMin);
}

/** Show the hint under the Access selects only while no access variable is chosen. */
export function setAccessHint(visible: boolean): void {
  const hint = document.getElementById('access-hint');
  if (hint) hint.hidden = !visible;
}

export function renderPremisesToggles(
  container: HTMLElement,
  kinds: readonly string[],
  colours: Record<string, string>,
  counts: Record<string, number>,
  onChange: (visible: string[]) => void,
): void {
  const fs = el('fieldset', {}, el('legend', { text: 'Premises' }));
  const boxes: HTMLInputElement[] = [];
  const changed = (): void => onChange(boxes.filter((b) => b.checked).map((b) => b.value));
  kinds.forEach((kind, i) => {
    const input = el('input', { attrs: { type: 'checkbox', value: kind, id: `premises-kind-${i}` } });
    input.checked = true;
    input.dataset.kind = kind;
    input.addEventListener('change', changed);
    boxes.push(input);
    const dot = el('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } });
    dot.style.backgroundColor = colours[kind] ?? '#444444';
    const label = el('label', { attrs: { for: input.id } }, dot, humanize(kind));
    const n = counts[kind] ?? 0;
    fs.append(el('div', { class: 'control-row' }, input, label, el('span', { class: 'legend-count', text: formatNumber(n) })));
  });
  if (kinds.length === 0) fs.append(el('p', { class: 'muted', text: 'No premises in this workspace.' }));
  container.replaceChildren(fs);
}

export function renderBoundaryToggles(
  container: HTMLElement,
  names: readonly string[],
  styles: readonly BoundaryStyle[],
  initiallyOn: (i: number) => boolean,
  onChange: (i: number, on: boolean) => void,
): void {
  const fs = el('fieldset', {}, el('legend', { text: 'Boundaries' }));
  names.forEach((name, i) => {
    const input = el('input', { attrs: { type: 'checkbox', value: name, id: `boundary-${i}` } });
    input.checked = initiallyOn(i);
    input.dataset.boundary = name;
    input.addEventListener('change', () => onChange(i, input.checked));
    const line = el('span', { class: 'line-swatch', attrs: { 'aria-hidden': 'true' } });
    const s = styles[i];
    // Dashes drawn with a gradient: colour for the first dash, transparent for the gap.
    const [on, off] = [s.dash[0] ?? 4, s.dash[1] ?? 2];
    const unit = 3;
    line.style.backgroundImage = `repeating-linear-gradient(90deg, ${s.colour} 0 ${on * unit}px, transparent ${on * unit}px ${(on + off) * unit}px)`;
    fs.append(el('div', { class: 'control-row' }, input, el('label', { attrs: { for: input.id } }, line, humanize(name))));
  });
  if (names.length === 0) fs.append(el('p', { class: 'muted', text: 'No boundary sets loaded.' }));
  container.replaceChildren(fs);
}

// ---------------------------------------------------------------- area panel

function closeButton(onClose: () => void): HTMLButtonElement {
  const b = el('button', { class: 'panel-close', text: '×', attrs: { type: 'button', 'aria-label': 'Close area details' } });
  b.addEventListener('click', onClose);
  return b;
}

function facts(rows: [string, string, string?][]): HTMLDListElement {
  const dl = el('dl', { class: 'facts' });
  for (const [k, v, hint] of rows) {
    const dd = el('dd', { text: v });
    if (hint) dd.title = hint;
    dl.append(el('dt', { text: k }), dd);
  }
  return dl;
}

export function renderAreaLoading(panel: HTMLElement, areaId: string, name: string | null, onClose: () => void): void {
  panel.replaceChildren(
    closeButton(onClose),
    el('h2', { text: name ?? areaId, attrs: { id: 'area-title', tabindex: '-1' } }),
    el('p', { class: 'muted', text: 'Loading…' }),
  );
  panel.dataset.areaId = areaId;
  panel.dataset.state = 'loading';
  panel.hidden = false;
}

export function renderAreaError(panel: HTMLElement, areaId: string, message: string, onClose: () => void): void {
  panel.replaceChildren(
    closeButton(onClose),
    el('h2', { text: areaId, attrs: { id: 'area-title', tabindex: '-1' } }),
    el('p', { class: 'status-error', text: message, attrs: { role: 'alert' } }),
  );
  panel.dataset.areaId = areaId;
  panel.dataset.state = 'error';
  panel.hidden = false;
}

function countHint(v: Count): string | undefined {
  if (v === '[c]') return 'Withheld so that small counts nearby cannot be worked out by subtraction';
  return isSuppressed(v) ? 'Suppressed: counts below 10 are not shown' : undefined;
}

function orderKeys(keys: string[], preferred: readonly string[]): string[] {
  const pos = new Map(preferred.map((k, i) => [k, i]));
  return [...keys].sort((a, b) => (pos.get(a) ?? Infinity) - (pos.get(b) ?? Infinity) || a.localeCompare(b));
}

export function renderArea(panel: HTMLElement, d: AreaDetail, groups: readonly string[], onClose: () => void): void {
  const title = el('h2', { text: d.name ?? d.area_id, attrs: { id: 'area-title', tabindex: '-1' } });
  const code = el('p', { class: 'area-code' }, 'Code ', el('code', { text: d.area_id }));

  const summary = facts([
    ['Population', formatNumber(d.population)],
    ['Referrals', formatCount(d.referrals), countHint(d.referrals)],
    ['Rate per 1,000', d.rate_per_1000 === null && isSuppressed(d.referrals) ? 'suppressed' : formatRate(d.rate_per_1000)],
    ['Need score', formatScore(d.need_score)],
    ['SIMD rank', formatNumber(d.simd_rank)],
    ['SIMD decile', d.simd_decile === null ? NO_VALUE : `${d.simd_decile} of 10`, '1 = most deprived'],
    ['SIMD quintile', d.simd_quintile === null ? NO_VALUE : quintileLabel(d.simd_quintile)],
  ]);
  summary.classList.add('area-summary');

  const sections: HTMLElement[] = [];
  const parents = Object.entries(d.parents ?? {});
  if (parents.length) {
    sections.push(
      el('section', { class: 'area-parents' }, el('h3', { text: 'Parent areas' }), facts(parents.map(([k, v]) => [humanize(k), v]))),
    );
  }

  const groupKeys = orderKeys(Object.keys(d.referrals_by_group ?? {}), groups);
  if (groupKeys.length) {
    const tbody = el('tbody');
    for (const g of groupKeys) {
      const v = d.referrals_by_group[g];
      const td = el('td', { class: 'num', text: formatCount(v) });
      const hint = countHint(v);
      if (hint) td.title = hint;
      tbody.append(el('tr', {}, el('th', { text: humanize(g), attrs: { scope: 'row' } }), td));
    }
    sections.push(
      el(
        'section',
        { class: 'area-groups' },
        el('h3', { text: 'Referrals by group' }),
        el(
          'table',
          { class: 'data-table' },
          el('thead', {}, el('tr', {}, el('th', { text: 'Group', attrs: { scope: 'col' } }), el('th', { class: 'num', text: 'Referrals', attrs: { scope: 'col' } }))),
          tbody,
        ),
      ),
    );
  }

  const indicatorKeys = Object.keys(d.indicators ?? {}).sort((a, b) => a.localeCompare(b));
  if (indicatorKeys.length) {
    const tbody = el('tbody');
    for (const k of indicatorKeys) {
      tbody.append(
        el('tr', {}, el('th', { text: humanize(k), attrs: { scope: 'row', title: k } }), el('td', { class: 'num', text: formatIndicator(d.indicators[k]) })),
      );
    }
    sections.push(
      el(
        'section',
        { class: 'area-indicators' },
        el('h3', { text: 'Indicators' }),
        el(
          'table',
          { class: 'data-table' },
          el('thead', {}, el('tr', {}, el('th', { text: 'Indicator', attrs: { scope: 'col' } }), el('th', { class: 'num', text: 'Value', attrs: { scope: 'col' } }))),
          tbody,
        ),
      ),
    );
  }

  panel.replaceChildren(closeButton(onClose), title, code, summary, ...sections);
  panel.dataset.areaId = d.area_id;
  panel.dataset.state = 'loaded';
  panel.hidden = false;
}

/**
 * The "Access to <kind>" block of the area panel: nearest premises, distance, travel time,
 * providers within reach and E2SFCA. `row` null: the area has no access values.
 */
export function accessBlock(kind: string, thresholdMin: number, row: AccessArea | null, method: string): HTMLElement {
  const t = Math.round(thresholdMin);
  const heading = el('h3', { text: `Access to ${kindPhrase(kind)}` });
  if (!row) return el('section', { class: 'area-access' }, heading, el('p', { class: 'muted', text: 'No access values for this area.' }));
  const providers =
    typeof row.providers_within === 'number'
      ? `${formatNumber(row.providers_within)}${row.choice_desert ? ' (choice desert)' : ''}`
      : NO_VALUE;
  const e2 = typeof row.access_e2sfca === 'number' ? `${formatAccessScore(row.access_e2sfca * 1000)} per 1,000 residents` : NO_VALUE;
  const nearest = row.nearest_name?.trim() ? row.nearest_name : (row.nearest ?? NO_VALUE);
  const dl = facts([
    ['Nearest', nearest],
    ['Distance', formatDistance(row.distance_m), 'Straight-line distance to the nearest premises'],
    ['Travel time', formatTravelTime(row.travel_time_s), `Estimated: ${method}`],
    [`Providers within ${t} min`, providers, 'Distinct providers with premises within the threshold'],
    ['Accessibility (E2SFCA)', e2, 'Capacity per 1,000 residents, weighted by travel time (10/20/30 min steps)'],
  ]);
  dl.classList.add('access-facts');
  return el('section', { class: 'area-access' }, heading, dl, el('p', { class: 'access-method muted', text: `Travel time estimated by ${method}.` }));
}

/**
 * Put (or replace) the access block in a loaded area panel, after the summary; null
 * removes it.
 */
export function setAreaAccessBlock(panel: HTMLElement, block: HTMLElement | null): void {
  panel.querySelector('.area-access')?.remove();
  if (!block || panel.dataset.state !== 'loaded') return;
  const summary = panel.querySelector('.area-summary');
  if (summary) summary.after(block);
  else panel.append(block);
}

export function clearAreaPanel(panel: HTMLElement): void {
  panel.replaceChildren();
  panel.hidden = true;
  delete panel.dataset.areaId;
  delete panel.dataset.state;
}

// ---------------------------------------------------------------- equity table

function equityCells(r: EquityTotal, maxRate: number): HTMLTableCellElement[] {
  const rate = el('td', { class: 'num rate-cell' });
  if (r.rate_per_1000 !== null && maxRate > 0) {
    const bar = el('span', { class: 'bar', attrs: { 'aria-hidden': 'true' } });
    bar.style.width = `${Math.max(2, (r.rate_per_1000 / maxRate) * 100)}%`;
    rate.append(bar);
  }
  rate.append(el('span', { class: 'bar-value', text: formatRate(r.rate_per_1000) }));
  const refs = el('td', { class: 'num', text: formatCount(r.referrals) });
  const hint = countHint(r.referrals);
  if (hint) refs.title = hint;
  return [el('td', { class: 'num', text: formatNumber(r.areas) }), el('td', { class: 'num', text: formatNumber(r.population) }), refs, rate];
}

export function renderEquity(table: HTMLTableElement, eq: Equity): void {
  const rows = [...eq.rows].sort((a, b) => a.simd_quintile - b.simd_quintile);
  const maxRate = Math.max(0, ...rows.map((r) => r.rate_per_1000 ?? 0));
  const head = el(
    'thead',
    {},
    el(
      'tr',
      {},
      el('th', { attrs: { scope: 'col' } }, el('abbr', { text: 'Quintile', attrs: { title: 'SIMD quintile' } })),
      el('th', { class: 'num', text: 'Areas', attrs: { scope: 'col' } }),
      el('th', { class: 'num', attrs: { scope: 'col' } }, el('abbr', { text: 'Pop.', attrs: { title: 'Population' } })),
      el('th', { class: 'num', text: 'Referrals', attrs: { scope: 'col' } }),
      el('th', { class: 'num', attrs: { scope: 'col' } }, el('abbr', { text: 'Rate', attrs: { title: 'Referrals per 1,000 people' } })),
    ),
  );
  const body = el('tbody');
  for (const r of rows) {
    const label = el('th', { text: String(r.simd_quintile), attrs: { scope: 'row', title: `SIMD quintile ${quintileLabel(r.simd_quintile)}` } });
    const tr = el('tr', {}, label, ...equityCells(r, maxRate));
    tr.dataset.quintile = String(r.simd_quintile);
    body.append(tr);
  }
  const foot = el('tfoot', {}, el('tr', {}, el('th', { text: 'All', attrs: { scope: 'row', title: 'All areas' } }), ...equityCells(eq.total, maxRate)));
  table.replaceChildren(el('caption', { text: 'Quintile 1 = most deprived, 5 = least deprived. Rate = referrals per 1,000 people.' }), head, body, foot);
  table.dataset.state = 'loaded';
}

export function renderEquityMessage(table: HTMLTableElement, message: string, state: 'loading' | 'error'): void {
  const td = el('td', { text: message, attrs: { colspan: '5' } });
  if (state === 'error') td.className = 'status-error';
  table.replaceChildren(el('caption', { text: 'Referrals by SIMD quintile (1 = most deprived)' }), el('tbody', {}, el('tr', {}, td)));
  table.dataset.state = state;
}

// ---------------------------------------------------------------- search

export function renderSearchResults(
  list: HTMLElement,
  results: readonly SearchResult[] | null,
  message: string | null,
  onChoose: (r: SearchResult) => void,
): void {
  list.replaceChildren();
  if (message) list.append(el('li', { class: 'muted search-message', text: message }));
  for (const r of results ?? []) {
    const b = el(
      'button',
      { class: 'search-result', attrs: { type: 'button', 'data-area-id': r.area_id } },
      el('span', { class: 'search-name', text: r.name ?? r.area_id }),
      r.name ? el('span', { class: 'search-code', text: r.area_id }) : null,
    );
    b.addEventListener('click', () => onChoose(r));
    list.append(el('li', {}, b));
  }
  list.hidden = list.childElementCount === 0;
}

// ---------------------------------------------------------------- premises popup

/**
 * The popup of a premises. With `onBands`, a "Travel-time bands" button draws the
 * premises' isochrones; `onBands` resolves with an error message to show, or null.
 */
export function premisesPopup(p: PremisesProperties, colour: string, onBands?: () => Promise<string | null>): HTMLElement {
  const dot = el('span', { class: 'dot', attrs: { 'aria-hidden': 'true' } });
  dot.style.backgroundColor = colour;
  const services = splitList(p.services);
  const hours = formatOpeningHours(p.opening_hours);
  const dl = el('dl', { class: 'facts' });
  const add = (k: string, v: Node | string): void => {
    dl.append(el('dt', { text: k }), el('dd', {}, v));
  };
  add('Kind', humanize(p.kind));
  add(
    'Services',
    services.length ? el('ul', { class: 'plain-list' }, ...services.map((s) => el('li', { text: s }))) : NO_VALUE,
  );
  add('Capacity', formatNumber(p.capacity));
  add('Provider', p.provider?.trim() ? p.provider : NO_VALUE);
  if (typeof p.eligibility === 'string' && p.eligibility.trim()) add('Who can use it', p.eligibility.trim());
  add(
    'Opening hours',
    hours.length
      ? el('ul', { class: 'plain-list hours', attrs: { title: p.opening_hours ?? '' } }, ...hours.map((h) => el('li', {}, el('code', { text: h }))))
      : 'Not recorded',
  );
  const box = el('div', { class: 'premises-popup', attrs: { 'data-premises-id': String(p.premises_id) } }, el('h3', {}, dot, p.name || String(p.premises_id)), dl);
  if (onBands) {
    const label = 'Travel-time bands';
    const button = el('button', {
      class: 'popup-action',
      text: label,
      attrs: { type: 'button', 'data-action': 'isochrones', 'data-premises-id': String(p.premises_id) },
    });
    const message = el('p', { class: 'status-error popup-message', attrs: { role: 'alert' } });
    message.hidden = true;
    button.addEventListener('click', () => {
      button.disabled = true;
      button.textContent = 'Loading bands…';
      message.hidden = true;
      void onBands().then((err) => {
        button.disabled = false;
        button.textContent = label;
        message.textContent = err ?? '';
        message.hidden = !err;
      });
    });
    box.append(el('div', { class: 'popup-actions' }, button), message);
  }
  // The week heatmap (opening hours vs the catchment's demand) is filled in by main.ts.
  box.append(el('section', { class: 'premises-hours', attrs: { 'aria-live': 'polite' } }));
  return box;
}

// ---------------------------------------------------------------- travel-time bands

export type IsochroneView =
  | { state: 'hidden' }
  | { state: 'loading'; premisesId: string; name: string }
  | { state: 'error'; premisesId: string; name: string; message: string }
  | { state: 'loaded'; legend: IsochroneLegend };

/** A colour with an opacity, as #rrggbbaa. */
function withAlpha(hex: string, opacity: number): string {
  const a = Math.round(Math.min(1, Math.max(0, opacity)) * 255);
  return /^#[0-9a-f]{6}$/i.test(hex) ? `${hex}${a.toString(16).padStart(2, '0')}` : hex;
}

/**
 * The travel-time bands block (#isochrones): loading, an error, or the legend (one row
 * per band with its area, the method line) with a Clear button; hidden when none is shown.
 * `data-state` = loading | loaded | error; `data-premises-id` = the premises.
 */
export function renderIsochrones(container: HTMLElement, view: IsochroneView, onClear: () => void): void {
  if (view.state === 'hidden') {
    container.replaceChildren();
    container.hidden = true;
    delete container.dataset.state;
    delete container.dataset.premisesId;
    return;
  }
  const clear = el('button', { class: 'isochrones-clear', text: 'Clear', attrs: { type: 'button', id: 'isochrones-clear' } });
  clear.addEventListener('click', onClear);
  const heading = (text: string): HTMLElement => el('div', { class: 'isochrones-head' }, el('h2', { text }), clear);
  if (view.state === 'loading') {
    container.replaceChildren(heading('Travel-time bands'), el('p', { class: 'muted', text: `Loading travel-time bands for ${view.name}…` }));
    container.dataset.premisesId = view.premisesId;
  } else if (view.state === 'error') {
    container.replaceChildren(heading('Travel-time bands'), el('p', { class: 'status-error', text: view.message, attrs: { role: 'alert' } }));
    container.dataset.premisesId = view.premisesId;
  } else {
    const l = view.legend;
    const list = el('ul', { class: 'legend-list' });
    for (const r of l.rows) {
      const sw = el('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } });
      sw.style.backgroundColor = withAlpha(r.colour, r.opacity);
      sw.style.borderColor = r.line;
      sw.style.borderWidth = '2px';
      list.append(el('li', { attrs: { 'data-minutes': String(r.minutes) } }, sw, el('span', { class: 'legend-label', text: r.label }), el('span', { class: 'legend-count', text: r.area })));
    }
    container.replaceChildren(heading(l.title), list, el('p', { class: 'legend-footnote', text: l.method }));
    container.dataset.premisesId = l.premisesId;
  }
  container.dataset.state = view.state;
  container.hidden = false;
}

// ---------------------------------------------------------------- opening hours

export interface HoursControlsState {
  kinds: readonly string[];
  kind: string | null;
  thresholdMin: number;
  thresholds: readonly number[];
  groups: readonly string[];
  group: string | null;
  hour: number;
}

export interface HoursControlsHandlers {
  /** Kind, threshold or group changed. */
  onOptions: (kind: string, thresholdMin: number, group: string | null) => void;
  /** The slider moved (dragging, keys or the step buttons); main.ts debounces the fetch. */
  onHour: (hour: number) => void;
  /** Play / pause. */
  onPlay: () => void;
}

/** The elements of the Opening hours section that main.ts updates. */
export interface HoursControlsRefs {
  slider: HTMLInputElement;
  label: HTMLElement;
  open: HTMLElement;
  play: HTMLButtonElement;
  extensions: HTMLElement;
}

/**
 * The Opening hours section (#hours-controls): premises kind (#hours-kind), reach
 * (#hours-threshold), client group (#hours-group), the hour-of-week slider (#hours-hour,
 * 0..167, with step and play buttons), the hour's label (#hours-label), the premises open
 * (#hours-open) and the recommended extensions (#hours-extensions).
 */
export function renderHoursControls(container: HTMLElement, st: HoursControlsState, h: HoursControlsHandlers): HoursControlsRefs | null {
  const heading = el('h2', { text: 'Opening hours', attrs: { id: 'hours-heading' } });
  if (st.kinds.length === 0 || !st.kind) {
    container.replaceChildren(heading, el('p', { class: 'muted', text: 'No premises in this workspace: opening hours are not available.' }));
    return null;
  }
  const kindSel = el('select', { attrs: { id: 'hours-kind', name: 'hours-kind' } });
  for (const k of st.kinds) kindSel.append(el('option', { text: humanize(k), attrs: { value: k } }));
  kindSel.value = st.kind;
  const tSel = el('select', { attrs: { id: 'hours-threshold', name: 'hours-threshold' } });
  for (const t of st.thresholds) tSel.append(el('option', { text: `${t} minutes`, attrs: { value: String(t) } }));
  setThresholdOption(tSel, st.thresholdMin);
  const gSel = el('select', { attrs: { id: 'hours-group', name: 'hours-group' } });
  gSel.append(el('option', { text: 'All referrals', attrs: { value: '' } }));
  for (const g of st.groups) gSel.append(el('option', { text: humanize(g), attrs: { value: g } }));
  gSel.value = st.group ?? '';
  const changed = (): void => h.onOptions(kindSel.value, Number(tSel.value), gSel.value || null);
  for (const sel of [kindSel, tSel, gSel]) sel.addEventListener('change', changed);

  const slider = el('input', {
    attrs: { id: 'hours-hour', type: 'range', min: '0', max: String(HOURS_IN_WEEK - 1), step: '1', value: String(st.hour), 'aria-describedby': 'hours-open' },
  });
  slider.setAttribute('aria-valuetext', hourLabel(st.hour, true));
  slider.addEventListener('input', () => h.onHour(Number(slider.value)));
  // Page Up / Page Down move a whole day (the browser's default step is arbitrary).
  slider.addEventListener('keydown', (e) => {
    if (e.key !== 'PageUp' && e.key !== 'PageDown') return;
    e.preventDefault();
    const v = (Number(slider.value) + (e.key === 'PageUp' ? 24 : -24) + HOURS_IN_WEEK) % HOURS_IN_WEEK;
    slider.value = String(v);
    h.onHour(v);
  });
  const label = el('output', { class: 'hours-label', text: hourLabel(st.hour), attrs: { id: 'hours-label', for: 'hours-hour', 'aria-live': 'off' } });
  const step = (d: number, text: string, aria: string, id: string): HTMLButtonElement => {
    const b = el('button', { class: 'hours-step', text, attrs: { type: 'button', 'aria-label': aria, id } });
    b.addEventListener('click', () => {
      const v = (Number(slider.value) + d + HOURS_IN_WEEK) % HOURS_IN_WEEK;
      slider.value = String(v);
      h.onHour(v);
    });
    return b;
  };
  const play = el('button', { class: 'hours-step hours-play', text: '▶', attrs: { type: 'button', id: 'hours-play', 'aria-label': 'Play through the week', 'aria-pressed': 'false' } });
  play.addEventListener('click', () => h.onPlay());
  const open = el('p', { class: 'hours-open', attrs: { id: 'hours-open', 'aria-live': 'polite' } });
  const extensions = el('section', { class: 'hours-extensions', attrs: { id: 'hours-extensions', 'aria-labelledby': 'hours-extensions-heading' } });
  extensions.hidden = true;
  container.replaceChildren(
    heading,
    el('div', { class: 'select-row' }, el('label', { text: 'Premises kind', attrs: { for: kindSel.id } }), kindSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Reach within', attrs: { for: tSel.id } }), tSel),
    el('div', { class: 'select-row' }, el('label', { text: 'Referrals', attrs: { for: gSel.id } }), gSel),
    el('div', { class: 'hours-slider-row' }, el('label', { text: 'Hour of the week', attrs: { for: slider.id } }), label),
    el('div', { class: 'hours-slider-row' }, step(-1, '‹', 'Previous hour', 'hours-prev'), slider, step(1, '›', 'Next hour', 'hours-next'), play),
    open,
    el('p', {
      class: 'muted access-hint',
      text: 'Choose an opening-hours variable under “Colour areas by” to colour the map; moving the slider shows access at that hour.',
      attrs: { id: 'hours-hint' },
    }),
    extensions,
  );
  return { slider, label, open, play, extensions };
}

/** Show the hour in the slider and its labels. */
export function syncHourControls(refs: HoursControlsRefs | null, hour: number): void {
  if (!refs) return;
  if (Number(refs.slider.value) !== hour) refs.slider.value = String(hour);
  refs.slider.setAttribute('aria-valuetext', hourLabel(hour, true));
  refs.label.textContent = hourLabel(hour);
}

/** Show the chosen kind, threshold and group in the selects (after a programmatic change). */
export function syncHoursSelects(kind: string, thresholdMin: number, group: string | null): void {
  const k = document.getElementById('hours-kind') as HTMLSelectElement | null;
  const t = document.getElementById('hours-threshold') as HTMLSelectElement | null;
  const g = document.getElementById('hours-group') as HTMLSelectElement | null;
  if (k) {
    if (!Array.from(k.options).some((o) => o.value === kind)) k.append(el('option', { text: humanize(kind), attrs: { value: kind } }));
    k.value = kind;
  }
  if (t) setThresholdOption(t, thresholdMin);
  if (g) {
    if (group && !Array.from(g.options).some((o) => o.value === group)) g.append(el('option', { text: humanize(group), attrs: { value: group } }));
    g.value = group ?? '';
  }
}

export function setHoursHint(visible: boolean): void {
  const hint = document.getElementById('hours-hint');
  if (hint) hint.hidden = !visible;
}

export type ExtensionsView =
  | { state: 'hidden' }
  | { state: 'loading'; kind: string }
  | { state: 'error'; message: string }
  | { state: 'loaded'; kind: string; rows: readonly HoursExtension[]; note: string; weeks: number | null; unmet: Count };

/**
 * The recommended extensions of opening hours (#hours-extensions): one button per row
 * ("name — extension (+h/week): covers N referrals (x per week)"); choosing one flies to
 * the premises. `data-state` = loading | loaded | error.
 */
export function renderExtensions(container: HTMLElement, view: ExtensionsView, onChoose: (e: HoursExtension) => void): void {
  if (view.state === 'hidden') {
    container.replaceChildren();
    container.hidden = true;
    delete container.dataset.state;
    return;
  }
  const heading = el('h3', { text: 'Extensions that would meet most unmet demand', attrs: { id: 'hours-extensions-heading' } });
  container.dataset.state = view.state;
  container.hidden = false;
  if (view.state === 'loading') {
    container.replaceChildren(heading, el('p', { class: 'muted', text: 'Loading recommended extensions…' }));
    return;
  }
  if (view.state === 'error') {
    container.replaceChildren(heading, el('p', { class: 'status-error', text: view.message, attrs: { role: 'alert' } }));
    return;
  }
  if (view.rows.length === 0) {
    container.replaceChildren(heading, el('p', { class: 'muted', text: `No extension of ${humanize(view.kind).toLowerCase()} hours would meet unmet demand.` }));
    return;
  }
  const list = el('ol', { class: 'extensions-list' });
  view.rows.forEach((row, i) => {
    const b = el('button', {
      class: 'extension-row',
      text: extensionText(row),
      attrs: { type: 'button', 'data-premises-id': row.premises_id, 'data-rank': String(row.rank ?? i + 1), title: row.opening_hours ? `Now open: ${row.opening_hours}` : 'No opening hours recorded' },
    });
    b.addEventListener('click', () => onChoose(row));
    list.append(el('li', {}, b));
  });
  const weeks = typeof view.weeks === 'number' ? ` over ${formatNumber(view.weeks, 1)} weeks` : '';
  container.replaceChildren(
    heading,
    el('p', { class: 'legend-note', text: `${formatCount(view.unmet)} referrals${weeks} arrived when nothing within reach was open. Choose a row to go to the premises.` }),
    list,
    el('p', { class: 'legend-footnote', text: view.note }),
  );
}

/**
 * Put (or replace) the week heatmap block (.area-hours) in a loaded area panel, after the
 * access block or the summary; null removes it.
 */
export function setAreaHoursBlock(panel: HTMLElement, block: HTMLElement | null): void {
  panel.querySelector('.area-hours')?.remove();
  if (!block || panel.dataset.state !== 'loaded') return;
  const after = panel.querySelector('.area-access') ?? panel.querySelector('.area-summary');
  if (after) after.after(block);
  else panel.append(block);
}

/** A block with a heading and a message (loading, error) or a heatmap. */
export function hoursBlock(className: string, heading: string, body: Node | { message: string; error?: boolean }, state: 'loading' | 'loaded' | 'error', headingTag: 'h3' | 'h4' = 'h3'): HTMLElement {
  const content =
    body instanceof Node ? body : el('p', { class: body.error ? 'status-error' : 'muted', text: body.message, attrs: body.error ? { role: 'alert' } : {} });
  const sec = el('section', { class: className }, el(headingTag, { text: heading }), content);
  sec.dataset.state = state;
  return sec;
}

// ---------------------------------------------------------------- signpost

export interface SignpostPanelRefs {
  service: HTMLSelectElement;
  at: HTMLInputElement;
  results: HTMLElement;
}

/**
 * The signpost panel (#signpost-panel): how to use it, the service (#signpost-service:
 * "any", kinds, services) and time (#signpost-at, UK local time, with "Now") selects, and
 * the results block (#signpost-results).
 */
export function renderSignpostPanel(
  panel: HTMLElement,
  choices: { kinds: readonly string[]; services: readonly string[] },
  atValue: string,
  h: { onChange: (what: 'service' | 'at') => void; onNow: () => void; onClose: () => void; onCentre: () => void },
): SignpostPanelRefs {
  const close = el('button', { class: 'panel-close', text: '×', attrs: { type: 'button', 'aria-label': 'Close “Who can help here?”' } });
  close.addEventListener('click', h.onClose);
  const service = el('select', { attrs: { id: 'signpost-service', name: 'signpost-service' } });
  service.append(el('option', { text: 'Any service', attrs: { value: '' } }));
  if (choices.kinds.length) {
    const g = el('optgroup', { attrs: { label: 'Kind of place' } });
    for (const k of choices.kinds) g.append(el('option', { text: humanize(k), attrs: { value: k } }));
    service.append(g);
  }
  if (choices.services.length) {
    const g = el('optgroup', { attrs: { label: 'Service' } });
    for (const s of choices.services) g.append(el('option', { text: humanize(s), attrs: { value: s } }));
    service.append(g);
  }
  const at = el('input', { attrs: { id: 'signpost-at', type: 'datetime-local', name: 'signpost-at', step: '60' } });
  at.value = atValue;
  const now = el('button', { class: 'isochrones-clear', text: 'Now', attrs: { type: 'button', id: 'signpost-now' } });
  service.addEventListener('change', () => h.onChange('service'));
  at.addEventListener('change', () => h.onChange('at'));
  now.addEventListener('click', h.onNow);
  // Without a pointer: ask at the centre of the map (moved with the arrow keys).
  const centre = el('button', { class: 'isochrones-clear signpost-centre', text: 'Ask at the map centre', attrs: { type: 'button', id: 'signpost-centre' } });
  centre.addEventListener('click', h.onCentre);
  const results = el('section', { class: 'signpost-results', attrs: { id: 'signpost-results', 'aria-live': 'polite', 'aria-label': 'Places that can help' } });
  panel.replaceChildren(
    close,
    el('h2', { text: 'Who can help here?', attrs: { id: 'signpost-title', tabindex: '-1' } }),
    el('p', { class: 'muted signpost-how', text: 'Click the map where help is needed (or right-click anywhere) to list the nearest places, how long it takes to get there and whether they are open.' }),
    el('div', { class: 'select-row' }, el('label', { text: 'Service', attrs: { for: service.id } }), service),
    el('div', { class: 'select-row signpost-when' }, el('label', { text: 'When (UK local time)', attrs: { for: at.id } }), el('span', { class: 'signpost-at' }, at, now)),
    centre,
    results,
  );
  return { service, at, results };
}

export type SignpostView =
  | { state: 'idle' }
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'loaded'; response: SignpostResponse; isNow: boolean };

/** One place of the list: rank, name, kind and services, travel, open / closed, eligibility. */
function signpostItem(r: SignpostResult, at: string, isNow: boolean, onChoose: (r: SignpostResult) => void): HTMLLIElement {
  const st = placeStatus(r, at, isNow);
  const name = el('button', { class: 'signpost-name', text: r.name || r.premises_id, attrs: { type: 'button', title: 'Show on the map' } });
  name.addEventListener('click', () => onChoose(r));
  const li = el(
    'li',
    { class: 'signpost-item' },
    el('span', { class: 'signpost-rank', text: String(r.rank), attrs: { 'aria-hidden': 'true' } }),
    el(
      'div',
      { class: 'signpost-body' },
      name,
      el('p', { class: 'signpost-kind', text: `${humanize(r.kind)} · ${servicesText(r.services)}` }),
      el('p', { class: 'signpost-travel', text: travelText(r) }),
      el('p', { class: `signpost-status signpost-${st.state}`, text: st.text }),
      st.arrival ? el('p', { class: 'signpost-arrival', text: st.arrival }) : null,
      r.eligibility?.trim() ? el('p', { class: 'signpost-eligibility', text: r.eligibility.trim() }) : null,
    ),
  );
  li.dataset.rank = String(r.rank);
  li.dataset.premisesId = r.premises_id;
  li.dataset.now = r.now;
  li.dataset.travelMin = String(r.travel_time_min);
  return li;
}

/** The results block: a ranked list, a friendly error, or a prompt. `data-state` follows the view. */
export function renderSignpostResults(container: HTMLElement, view: SignpostView, onChoose: (r: SignpostResult) => void): void {
  container.dataset.state = view.state;
  if (view.state === 'idle') {
    container.replaceChildren();
    return;
  }
  if (view.state === 'loading') {
    container.replaceChildren(el('p', { class: 'muted', text: 'Looking for places that can help…' }));
    return;
  }
  if (view.state === 'error') {
    container.replaceChildren(el('p', { class: 'status-error signpost-error', text: view.message, attrs: { role: 'alert' } }));
    return;
  }
  const r = view.response;
  const list = el('ol', { class: 'signpost-list' });
  for (const x of r.results) list.append(signpostItem(x, r.at, view.isNow, onChoose));
  container.replaceChildren(
    el('h3', { class: 'signpost-heading', text: signpostHeading(r) }),
    list,
    el('p', { class: 'legend-footnote', text: `Ranked by travel time (${r.method || 'method not stated'}); within ${formatNumber(r.max_min)} min. Times are UK local time.` }),
  );
}
