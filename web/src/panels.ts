// DOM for the side panels: layer controls, area details, equity table, search results,
// premises popups and status messages. Built with the DOM API (never innerHTML with data).

import type { AccessArea, AreaDetail, Count, Equity, EquityTotal, Meta, PremisesProperties, SearchResult } from './api';
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
import { ACCESS_VARIABLES, AREA_VARIABLES, type Variable, type VariableDef } from './legend';
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
 * The choropleth radios (one group, name="variable"): the area variables, then the access
 * variables in a nested fieldset "Access to premises".
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
  const fs = el('fieldset', {}, el('legend', { text: 'Colour areas by' }), ...AREA_VARIABLES.map(radio), access);
  container.replaceChildren(fs);
}

/** Enable or disable the access radios (disabled when the workspace has no premises). */
export function setAccessRadiosEnabled(container: HTMLElement, enabled: boolean): void {
  for (const input of Array.from(container.querySelectorAll<HTMLInputElement>('input[data-group="access"]'))) input.disabled = !enabled;
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
  add(
    'Opening hours',
    hours.length
      ? el('ul', { class: 'plain-list hours', attrs: { title: p.opening_hours ?? '' } }, ...hours.map((h) => el('li', {}, el('code', { text: h }))))
      : 'Not recorded',
  );
  const box = el('div', { class: 'premises-popup' }, el('h3', {}, dot, p.name || String(p.premises_id)), dl);
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
