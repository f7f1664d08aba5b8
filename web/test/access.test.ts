import { describe, expect, it } from 'vitest';
import { createExpression, latest, validateStyleMin, type StylePropertySpecification } from '@maplibre/maplibre-gl-style-spec';
import type { StyleSpecification } from 'maplibre-gl';
import type { AccessArea, AccessResponse } from '../src/api';
import {
  ACCESS_DESERT_SINGLE,
  ACCESS_STATE_KEYS,
  DEFAULT_THRESHOLD,
  NO_DATA_HATCH_OPACITY,
  THRESHOLDS,
  accessContext,
  accessFeatureState,
  accessFillExpression,
  accessKey,
  accessNoDataOpacity,
  accessValue,
  alignAccess,
  buildAccessLegend,
  defaultAccessKind,
  desertSummary,
  methodNote,
  minuteBreaks,
  providerClasses,
  providerColours,
} from '../src/access';
import { ACCESS_VARIABLES, NO_DATA_COLOUR, classify, isAccessVariable, type AccessVariable, type Legend } from '../src/legend';
import { AREAS_TILE_LAYER, LOADING_FILL, NOTHING, SRC_AREAS, SRC_PREMISES, areaLayers, baseStyle, kindColours, premisesEmphasis, premisesLayer, vectorSource } from '../src/style';

const row = (over: Partial<AccessArea>): AccessArea => ({
  area_id: 'DZ000001',
  nearest: 'SOC-0001',
  nearest_name: 'Westmuir Social Work Office 1',
  distance_m: 5210,
  travel_time_s: 813,
  providers_within: 1,
  choice_desert: true,
  access_2sfca: 0.00053,
  access_e2sfca: 0.000327,
  ...over,
});

const response = (areas: AccessArea[], over: Partial<AccessResponse> = {}): AccessResponse => ({
  kind: 'care_provider',
  premises: 17,
  threshold_min: 10,
  method: { type: 'straight_line', circuity: 1.3, speed_kmh: 30 },
  choice_deserts: { below: 2, areas: 144, population_by_simd_quintile: [9038, 19844, 18630, 22536, 23124] },
  areas,
  ...over,
});

describe('access choices', () => {
  it('offers 10, 15, 20 and 30 minutes, 15 by default', () => {
    expect(THRESHOLDS).toEqual([10, 15, 20, 30]);
    expect(DEFAULT_THRESHOLD).toBe(15);
  });
  it('prefers social work offices, else the first kind', () => {
    expect(defaultAccessKind(['care_provider', 'school', 'social_work_office'])).toBe('social_work_office');
    expect(defaultAccessKind(['school', 'nursery'])).toBe('school');
    expect(defaultAccessKind([])).toBeNull();
  });
  it('caches per kind and threshold', () => {
    expect(accessKey('school', 15)).toBe('school|15');
    expect(accessKey('school', 15)).not.toBe(accessKey('school', 20));
  });
  it('adds four access variables to the switcher', () => {
    expect(ACCESS_VARIABLES.map((v) => v.id)).toEqual(['access_travel_time', 'access_providers', 'access_e2sfca', 'access_catchment']);
    expect(ACCESS_VARIABLES.map((v) => v.label)).toEqual([
      'Travel time to nearest',
      'Providers within reach',
      'Accessibility (E2SFCA)',
      'Nearest premises (catchments)',
    ]);
    expect(isAccessVariable('access_e2sfca')).toBe(true);
    expect(isAccessVariable('access_catchment')).toBe(true);
    expect(isAccessVariable('need_score')).toBe(false);
  });
});

describe('feature-state values', () => {
  it('puts minutes, provider counts and E2SFCA per 1,000 residents in the state', () => {
    const r = row({ travel_time_s: 813, providers_within: 3, access_e2sfca: 0.000327 });
    expect(accessValue(r, 'access_travel_time')).toBeCloseTo(13.55, 6);
    expect(accessValue(r, 'access_providers')).toBe(3);
    expect(accessValue(r, 'access_e2sfca')).toBeCloseTo(0.327, 9);
    expect(accessFeatureState(r)).toEqual({
      access_minutes: 813 / 60,
      access_providers: 3,
      access_e2sfca_k: 0.000327 * 1000,
      access_catchment: null,
    });
    expect(accessFeatureState(r, new Map([['SOC-0001', 4]])).access_catchment).toBe(4);
  });
  it('gives null for missing values and missing rows, so old values are overwritten', () => {
    const r = row({ travel_time_s: null, providers_within: null, access_e2sfca: null });
    const none = { access_minutes: null, access_providers: null, access_e2sfca_k: null, access_catchment: null };
    expect(accessFeatureState(r)).toEqual(none);
    expect(accessFeatureState(null, new Map([['SOC-0001', 4]]))).toEqual(none);
    expect(accessFeatureState(row({ nearest: null }), new Map([['SOC-0001', 4]]))).toEqual({ ...accessFeatureState(row({})), access_catchment: null });
    expect(Object.values(ACCESS_STATE_KEYS)).toHaveLength(4);
    expect(new Set(Object.values(ACCESS_STATE_KEYS)).size).toBe(4);
  });
  it('aligns rows to the areas by area_id (feature id = index)', () => {
    const areas = [{ area_id: 'A' }, { area_id: 'B' }, { area_id: 'C' }];
    const a = row({ area_id: 'A' });
    const c = row({ area_id: 'C' });
    expect(alignAccess(areas, [a, row({ area_id: 'B' }), c]).map((r) => r?.area_id)).toEqual(['A', 'B', 'C']);
    // Shuffled, and a missing area.
    expect(alignAccess(areas, [c, a])).toEqual([a, null, c]);
  });
});

describe('travel-time breaks', () => {
  it('snaps quintiles to round minutes and adds the threshold', () => {
    // Like social work offices in the demo: 0.4 to 18 minutes, median 7.5.
    const values = Array.from({ length: 100 }, (_, i) => 0.4 + (i / 99) * 18);
    const b = minuteBreaks(values, 15);
    expect(b).toContain(15);
    for (const x of b) expect([1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180]).toContain(x);
    for (let i = 1; i < b.length; i++) expect(b[i]).toBeGreaterThan(b[i - 1]);
    expect(b.length).toBeLessThanOrEqual(5);
  });
  it('keeps short times apart (schools a few minutes away)', () => {
    const values = Array.from({ length: 100 }, (_, i) => (i / 99) * 4.7);
    const b = minuteBreaks(values, 15);
    expect(b).not.toContain(15);
    expect(b.length).toBeGreaterThanOrEqual(2);
    expect(b.every((x) => x > 0 && x <= 4.7)).toBe(true);
  });
  it('has no breaks for no values or one value', () => {
    expect(minuteBreaks([], 15)).toEqual([]);
    expect(minuteBreaks([7, 7, 7], 15)).toEqual([]);
  });
});

describe('provider classes', () => {
  it('are 0, 1, 2, 3–4, 5 or more, with 0 and 1 choice deserts below 2', () => {
    const c = providerClasses(2);
    expect(c.map((x) => x.label)).toEqual(['0 — choice desert', '1 — choice desert', '2', '3–4', '5 or more']);
    expect(c.map((x) => x.desert)).toEqual([true, true, false, false, false]);
    expect(c.map((x) => x.lo)).toEqual([0, 1, 2, 3, 5]);
  });
  it('start a class at another desert threshold', () => {
    const c = providerClasses(4);
    expect(c.map((x) => x.label)).toEqual(['0 — choice desert', '1 — choice desert', '2 — choice desert', '3 — choice desert', '4', '5 or more']);
    expect(providerClasses(1).filter((x) => x.desert).map((x) => x.lo)).toEqual([0]);
  });
  it('colour deserts orange and the rest purple, all distinct', () => {
    const cols = providerColours(providerClasses(2));
    expect(new Set(cols).size).toBe(5);
    expect(cols[0]).toBe('#b35806');
    expect(cols[1]).toBe('#fdb863');
    expect(cols[4]).toBe('#542788');
    expect(providerColours(providerClasses(1))[0]).toBe(ACCESS_DESERT_SINGLE);
  });
});

describe('access legends', () => {
  const rows = [0, 0, 1, 2, 3, 4, 5, 9, null].map((n, i) => (n === null ? null : row({ area_id: `A${i}`, providers_within: n })));

  it('counts provider classes and names choice deserts', () => {
    const l = buildAccessLegend('access_providers', rows, accessContext(response([])));
    expect(l.entries.map((e) => e.count)).toEqual([2, 1, 1, 2, 2]);
    expect(l.entries.filter((e) => e.desert).map((e) => e.label)).toEqual(['0 — choice desert', '1 — choice desert']);
    expect(l.noData.count).toBe(1);
    expect(l.breaks).toEqual([1, 2, 3, 5]);
    expect(l.title).toBe('Providers within reach: care provider (10 min)');
  });
  it('labels travel-time classes in minutes', () => {
    const tt = [30, 200, 400, 700, 1000, 1100].map((s, i) => row({ area_id: `A${i}`, travel_time_s: s }));
    const l = buildAccessLegend('access_travel_time', tt, { kind: 'social_work_office', thresholdMin: 15, premises: 5 });
    expect(l.title).toBe('Travel time to nearest social work office');
    expect(l.entries[0].label.startsWith('under ')).toBe(true);
    expect(l.entries[l.entries.length - 1].label.endsWith(' or more')).toBe(true);
    for (const e of l.entries) expect(e.label).toMatch(/min/);
    expect(l.breaks).toContain(15);
    expect(l.entries.reduce((s, e) => s + e.count, 0)).toBe(6);
  });
  it('uses quintiles of E2SFCA per 1,000 residents', () => {
    const e2 = Array.from({ length: 50 }, (_, i) => row({ area_id: `A${i}`, access_e2sfca: (i + 1) / 100000 }));
    const l = buildAccessLegend('access_e2sfca', e2, { kind: 'school', thresholdMin: 15 });
    expect(l.entries).toHaveLength(5);
    expect(l.entries.reduce((s, e) => s + e.count, 0)).toBe(50);
    expect(l.entries[0].label).toBe('0.01 – 0.108');
    expect(l.title).toBe('Accessibility (E2SFCA): school');
  });
  it('adds the method and the choice-desert summary under the legend', () => {
    const l = buildAccessLegend('access_travel_time', [], accessContext(response([])));
    expect(l.footnotes).toEqual([
      'Travel: straight line × 1.3 at 30 km/h.',
      'Choice deserts (fewer than 2 providers within 10 min): 144 areas; residents by SIMD quintile 1–5 (1 = most deprived): 9,038 · 19,844 · 18,630 · 22,536 · 23,124.',
    ]);
    expect(l.entries).toEqual([]);
  });
  it('describes the method and deserts', () => {
    expect(methodNote({ type: 'straight_line', circuity: 1.3, speed_kmh: 30 })).toBe('straight line × 1.3 at 30 km/h');
    expect(methodNote({ type: 'road_network' })).toBe('road network');
    expect(methodNote({ type: 'road_network', circuity: 1.3, speed_kmh: 30, description: 'road network, 15 km/h to and from the nearest road node' })).toBe(
      'road network, 15 km/h to and from the nearest road node',
    );
    expect(methodNote({ type: 'straight_line', circuity: 1.3, speed_kmh: 30, description: 'straight line x 1.3 at 30 km/h' })).toBe(
      'straight line × 1.3 at 30 km/h',
    );
    expect(methodNote(null)).toBe('method not stated');
    expect(desertSummary({ below: 2, areas: 0, population_by_simd_quintile: [0, 0, 0, 0, 0] }, 30)).toBe(
      'Choice deserts (fewer than 2 providers within 30 min): 0 areas.',
    );
    expect(desertSummary({ below: 1, areas: 1, population_by_simd_quintile: [5, null, 0, 0, 0] }, 15)).toBe(
      'Choice deserts (fewer than 1 provider within 15 min): 1 area; residents by SIMD quintile 1–5 (1 = most deprived): 5 · — · 0 · 0 · 0.',
    );
  });
});

// Evaluate the expressions as MapLibre does, with the values in feature-state.
describe('feature-state expressions', () => {
  const fillSpec = latest.paint_fill['fill-color'] as StylePropertySpecification;
  const opacitySpec = latest.paint_fill['fill-opacity'] as StylePropertySpecification;
  const evaluate = (expr: unknown, spec: StylePropertySpecification, state: Record<string, unknown>): unknown => {
    const parsed = createExpression(expr, 'layers[0].paint', spec);
    if (parsed.result !== 'success') throw new Error(JSON.stringify(parsed.value));
    return parsed.value.evaluate({ zoom: 10 }, { type: 'Polygon', properties: {} } as never, state as never);
  };
  const colour = (expr: unknown, state: Record<string, unknown>): string =>
    (evaluate(expr, fillSpec, state) as { toString(): string }).toString();
  const hex = (h: string): string => {
    const n = parseInt(h.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},1)`;
  };

  it('reads the class of each area from its feature-state', () => {
    const rows = [0, 1, 2, 3, 4, 5, 12].map((n, i) => row({ area_id: `A${i}`, providers_within: n }));
    const l = buildAccessLegend('access_providers', rows, { kind: 'care_provider', thresholdMin: 10, below: 2 }) as Legend & {
      variable: AccessVariable;
    };
    const expr = accessFillExpression(l) as unknown[];
    expect(expr[0]).toBe('case');
    expect(JSON.stringify(expr)).toContain('["feature-state","access_providers"]');
    expect(JSON.stringify(expr)).not.toContain('"get"');
    for (const r of rows) {
      const state = accessFeatureState(r);
      const cls = classify(r.providers_within, l.breaks)!;
      expect(colour(expr, state)).toBe(hex(l.entries[cls].colour));
    }
    expect(colour(expr, {})).toBe(hex(NO_DATA_COLOUR));
    expect(colour(expr, { access_providers: null })).toBe(hex(NO_DATA_COLOUR));
  });
  it('colours travel times by minutes and hatches only areas without a value', () => {
    const rows = [60, 300, 600, 900, 1200].map((s, i) => row({ area_id: `A${i}`, travel_time_s: s }));
    const l = buildAccessLegend('access_travel_time', rows, { kind: 'school', thresholdMin: 15 }) as Legend & {
      variable: AccessVariable;
    };
    const expr = accessFillExpression(l);
    for (const r of rows) {
      const cls = classify(r.travel_time_s! / 60, l.breaks)!;
      expect(colour(expr, accessFeatureState(r))).toBe(hex(l.entries[cls].colour));
    }
    const op = accessNoDataOpacity('access_travel_time');
    expect(evaluate(op, opacitySpec, { access_minutes: 3 })).toBe(0);
    expect(evaluate(op, opacitySpec, { access_minutes: null })).toBe(NO_DATA_HATCH_OPACITY);
    expect(evaluate(op, opacitySpec, {})).toBe(NO_DATA_HATCH_OPACITY);
  });
  it('builds a valid style with the access paint and the premises emphasis', () => {
    const l = buildAccessLegend('access_e2sfca', [row({ access_e2sfca: 0.0001 }), row({ access_e2sfca: 0.0005 })], {
      kind: 'school',
      thresholdMin: 15,
    }) as Legend & { variable: AccessVariable };
    const layers = areaLayers(accessFillExpression(l), NOTHING);
    const nodata = { ...layers[1], paint: { 'fill-pattern': 'nodata-hatch', 'fill-opacity': accessNoDataOpacity('access_e2sfca') } };
    delete (nodata as { filter?: unknown }).filter;
    const loading = areaLayers(LOADING_FILL, NOTHING)[0];
    const prem = premisesLayer(kindColours(['school', 'nursery']), ['school', 'nursery']);
    const e = premisesEmphasis('school');
    const emphasised = { ...prem, id: 'premises-emphasis', layout: { 'circle-sort-key': e.sortKey }, paint: { ...prem.paint, ...e.paint } };
    const style: StyleSpecification = {
      ...baseStyle(),
      sources: {
        [SRC_AREAS]: vectorSource(AREAS_TILE_LAYER, 'http://h', [-4, 55, -3, 56]),
        [SRC_PREMISES]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      },
    };
    style.layers.push(layers[0], nodata as (typeof layers)[number], { ...loading, id: 'loading' }, prem, emphasised as typeof prem);
    expect(validateStyleMin(style).map((x) => x.message)).toEqual([]);
    expect(premisesEmphasis(null).paint['circle-opacity']).toBe(1);
  });
});
