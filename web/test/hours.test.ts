import { describe, expect, it } from 'vitest';
import { createExpression, latest, validateStyleMin, type StylePropertySpecification } from '@maplibre/maplibre-gl-style-spec';
import type { StyleSpecification } from 'maplibre-gl';
import type { HoursAccessArea, HoursAccessResponse, HoursExtension, HoursGapArea, HoursGapResponse } from '../src/api';
import {
  DEFAULT_HOUR,
  HOURS_NOTHING_OPEN,
  HOURS_STATE_KEYS,
  alignByArea,
  buildHoursAccessLegend,
  buildHoursGapLegend,
  extensionText,
  hourClassLabel,
  hourLabel,
  hourScoreBreaks,
  hoursAccessContext,
  hoursAccessFillExpression,
  hoursAccessState,
  hoursGapFillExpression,
  hoursGapState,
  hoursHover,
  openText,
  slotOf,
  slotParts,
  stateNoDataOpacity,
  wrapHour,
} from '../src/hours';
import { HOURS_VARIABLES, NO_DATA_COLOUR, isAccessVariable, isHoursVariable } from '../src/legend';
import { AREAS_TILE_LAYER, SRC_AREAS, SRC_PREMISES, areaLayers, baseStyle, kindColours, premisesEmphasis, premisesLayer, vectorSource, NOTHING } from '../src/style';

describe('hours of the week', () => {
  it('labels slots Monday 00:00 first', () => {
    expect(hourLabel(0)).toBe('Mon 00:00–01:00');
    expect(hourLabel(41)).toBe('Tue 17:00–18:00');
    expect(hourLabel(45)).toBe('Tue 21:00–22:00');
    expect(hourLabel(167)).toBe('Sun 23:00–24:00');
    expect(hourLabel(41, true)).toBe('Tuesday 17:00–18:00');
    expect(hourLabel(DEFAULT_HOUR)).toBe('Tue 10:00–11:00');
  });
  it('wraps and rounds hours into 0..167', () => {
    expect(wrapHour(168)).toBe(0);
    expect(wrapHour(-1)).toBe(167);
    expect(wrapHour(10.4)).toBe(10);
    expect(wrapHour(NaN)).toBe(0);
    expect(slotParts(41)).toEqual({ day: 1, hour: 17 });
    expect(slotOf(1, 17)).toBe(41);
    expect(slotOf(6, 23)).toBe(167);
  });
  it('defines two hours variables, apart from the access ones', () => {
    expect(HOURS_VARIABLES.map((v) => v.id)).toEqual(['hours_access', 'hours_gap']);
    expect(isHoursVariable('hours_access')).toBe(true);
    expect(isAccessVariable('hours_gap')).toBe(false);
    expect(isHoursVariable('access_e2sfca')).toBe(false);
  });
});

const accessRow = (area_id: string, score: number | null, open: number | null = 1): HoursAccessArea => ({ area_id, score, open_in_reach: open });

const accessResponse = (areas: HoursAccessArea[], over: Partial<HoursAccessResponse> = {}): HoursAccessResponse => ({
  kind: 'social_work_office',
  hour: 41,
  label: 'Tu 17:00-18:00',
  week_start: '2023-01-09',
  threshold_min: 15,
  decay: 'e2sfca',
  method: 'road network, 15 km/h to and from the nearest road node',
  demand: 'population',
  scale_max: 0.001,
  premises_open: ['SOC-0001', 'SOC-0003'],
  premises_total: 5,
  areas,
  ...over,
});

describe('hours-aware access', () => {
  it('puts the score × 1,000 and the premises open into the feature-state', () => {
    expect(hoursAccessState(accessRow('A', 0.0005, 2))).toEqual({ [HOURS_STATE_KEYS.score]: 0.5, [HOURS_STATE_KEYS.open]: 2 });
    expect(hoursAccessState(accessRow('A', 0, 0))).toEqual({ hours_score_k: 0, hours_open: 0 });
    expect(hoursAccessState(accessRow('A', null, null))).toEqual({ hours_score_k: null, hours_open: null });
    expect(hoursAccessState(null)).toEqual({ hours_score_k: null, hours_open: null });
  });
  it('aligns rows to feature ids by area code', () => {
    const rows = alignByArea([{ area_id: 'B' }, { area_id: 'A' }, { area_id: 'C' }], [accessRow('A', 1), accessRow('B', 2)]);
    expect(rows.map((r) => r?.area_id ?? null)).toEqual(['B', 'A', null]);
  });
  it('uses one scale for every hour: equal steps up to the week maximum', () => {
    const b = hourScoreBreaks(1, 5);
    expect(b).toHaveLength(4);
    [0.2, 0.4, 0.6, 0.8].forEach((x, i) => expect(b[i]).toBeCloseTo(x, 12));
    expect(hourScoreBreaks(null)).toEqual([]);
    expect(hourScoreBreaks(0)).toEqual([]);
    expect(hourClassLabel(null, 0.2)).toBe('under 0.2');
    expect(hourClassLabel(0.2, 0.4)).toBe('0.2 – 0.4');
    expect(hourClassLabel(0.8, null)).toBe('0.8 or more');
  });
  it('builds a legend with "nothing open" first and "none in reach" as no data', () => {
    const rows = [accessRow('A', 0), accessRow('B', 0), accessRow('C', 0.0001), accessRow('D', 0.00095), accessRow('E', 0.002), accessRow('F', null, null)];
    const l = buildHoursAccessLegend(rows, 0.001, hoursAccessContext(accessResponse(rows)));
    expect(l.variable).toBe('hours_access');
    expect(l.title).toBe('Access to social work office at Tue 17:00–18:00');
    expect(l.note.startsWith('2 of 5 premises open.')).toBe(true);
    expect(l.entries[0]).toMatchObject({ colour: HOURS_NOTHING_OPEN, label: 'nothing open within reach', count: 2 });
    expect(l.entries).toHaveLength(6);
    expect(l.entries.slice(1).map((e) => e.count)).toEqual([1, 0, 0, 0, 2]);
    expect(l.noData).toMatchObject({ label: 'no premises within reach', count: 1 });
    expect(l.entries.reduce((a, e) => a + e.count, 0) + l.noData.count).toBe(rows.length);
    expect(l.footnotes?.join(' ')).toContain('road network');
  });

  const fillSpec = latest.paint_fill['fill-color'] as StylePropertySpecification;
  const colour = (expr: unknown, state: Record<string, unknown>): string => {
    const parsed = createExpression(expr, 'layers[0].paint', fillSpec);
    if (parsed.result !== 'success') throw new Error(JSON.stringify(parsed.value));
    return (parsed.value.evaluate({ zoom: 10 }, { type: 'Polygon', properties: {} } as never, state as never) as { toString(): string }).toString();
  };
  const rgba = (h: string): string => {
    const n = parseInt(h.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},1)`;
  };

  it('draws nothing open, each class and no data from the feature-state', () => {
    const rows = [accessRow('A', 0), accessRow('B', 0.0005)];
    const l = buildHoursAccessLegend(rows, 0.001, hoursAccessContext(accessResponse(rows)));
    const expr = hoursAccessFillExpression(l);
    expect(colour(expr, { hours_score_k: 0 })).toBe(rgba(HOURS_NOTHING_OPEN));
    expect(colour(expr, { hours_score_k: null })).toBe(rgba(NO_DATA_COLOUR));
    expect(colour(expr, {})).toBe(rgba(NO_DATA_COLOUR));
    expect(colour(expr, { hours_score_k: 0.05 })).toBe(rgba(l.entries[1].colour));
    expect(colour(expr, { hours_score_k: 0.5 })).toBe(rgba(l.entries[3].colour));
    expect(colour(expr, { hours_score_k: 5 })).toBe(rgba(l.entries[5].colour));
  });
  it('describes an area on hover', () => {
    const ctx = { kind: 'social_work_office', hour: 45, thresholdMin: 15 };
    expect(hoursHover('hours_access', hoursAccessState(accessRow('A', 0, 0)), ctx)).toBe('Tue 21:00–22:00: nothing open within reach; 0 open within 15 min');
    expect(hoursHover('hours_access', hoursAccessState(accessRow('A', 0.0003, 2)), ctx)).toBe('Tue 21:00–22:00: 0.3 per 1,000 residents; 2 open within 15 min');
    expect(hoursHover('hours_access', hoursAccessState(null), ctx)).toBe('Tue 21:00–22:00: no social work office within reach');
    expect(hoursHover('hours_gap', hoursGapState({ area_id: 'A', timed: 40, unmet: 20, unmet_pct: 50 }), ctx)).toContain('50% of referrals');
  });
  it('says how many premises are open', () => {
    expect(openText(3, 5)).toBe('3 of 5 premises open');
    expect(openText(0, 5)).toBe('0 of 5 premises open');
    expect(openText(null, 5)).toBe('Premises open: not known');
  });
});

describe('hours gap', () => {
  const gapRow = (area_id: string, unmet_pct: number | null): HoursGapArea => ({ area_id, timed: unmet_pct === null ? '<10' : 40, unmet: unmet_pct === null ? '<10' : 20, unmet_pct });
  const gap = (areas: HoursGapArea[]): Pick<HoursGapResponse, 'kind' | 'threshold_min' | 'method' | 'totals' | 'group'> => ({
    kind: 'social_work_office',
    threshold_min: 15,
    method: 'road network',
    group: null,
    totals: { timed: 30000, unmet: 13115, unmet_pct: 43.7 },
    ...{ areas },
  });
  it('keeps withheld shares out of the classes', () => {
    expect(hoursGapState(gapRow('A', 42.5))).toEqual({ hours_unmet_pct: 42.5 });
    expect(hoursGapState(gapRow('A', null))).toEqual({ hours_unmet_pct: null });
    const rows = [gapRow('A', 10), gapRow('B', 30), gapRow('C', 50), gapRow('D', 70), gapRow('E', 100), gapRow('F', null), null];
    const l = buildHoursGapLegend(rows, gap([]));
    expect(l.title).toBe('Hours gap: social work office (15 min)');
    expect(l.noData).toMatchObject({ label: 'withheld (<10) / no data', count: 2 });
    expect(l.entries.reduce((a, e) => a + e.count, 0)).toBe(5);
    expect(l.entries[0].label).toMatch(/%/);
    expect(l.footnotes?.[0]).toBe('Whole region: 43.7% of 30,000 timed referrals arrived when no social work office within 15 min was open.');
    const expr = hoursGapFillExpression(l) as unknown[];
    expect(JSON.stringify(expr)).toContain('"feature-state","hours_unmet_pct"');
    expect(stateNoDataOpacity('hours_unmet_pct', 0.9)).toEqual(['case', ['==', ['typeof', ['feature-state', 'hours_unmet_pct']], 'number'], 0, 0.9]);
  });
});

describe('extensions', () => {
  const ext: HoursExtension = {
    rank: 1,
    premises_id: 'SOC-0003',
    name: 'Carronside Social Work Office 3',
    opening_hours: 'Mo-Th 09:00-17:00; Fr 09:00-16:00; PH off',
    extension: 'Th 17:00-18:00',
    extra_hours_per_week: 1,
    referrals_covered: 185,
    covered_per_week: 1.77,
    covered_per_extra_hour: 1.77,
    cumulative_covered: 185,
  };
  it('words a row: name — extension (+h/week): covers N referrals (x per week)', () => {
    expect(extensionText(ext)).toBe('Carronside Social Work Office 3 — Th 17:00-18:00 (+1 h/week): covers 185 referrals (1.77 per week)');
    expect(extensionText({ ...ext, extension: 'Mo-Th 17:00-18:00', extra_hours_per_week: 4, referrals_covered: '<10', covered_per_week: null })).toBe(
      'Carronside Social Work Office 3 — Mo-Th 17:00-18:00 (+4 h/week): covers <10 referrals',
    );
  });
});

describe('style', () => {
  it('validates the hours paint and the premises open at an hour', () => {
    const rows = [accessRow('A', 0), accessRow('B', 0.0005)];
    const l = buildHoursAccessLegend(rows, 0.001, hoursAccessContext(accessResponse(rows)));
    const layers = areaLayers(hoursAccessFillExpression(l), NOTHING);
    const nodata = { ...layers[1], paint: { 'fill-pattern': 'nodata-hatch', 'fill-opacity': stateNoDataOpacity(HOURS_STATE_KEYS.score, 0.9) } };
    delete (nodata as { filter?: unknown }).filter;
    const prem = premisesLayer(kindColours(['social_work_office', 'school']), ['social_work_office', 'school']);
    const e = premisesEmphasis('social_work_office', ['SOC-0001']);
    const emphasised = { ...prem, id: 'premises-open', layout: { 'circle-sort-key': e.sortKey }, paint: { ...prem.paint, ...e.paint } };
    const style: StyleSpecification = {
      ...baseStyle(),
      sources: {
        [SRC_AREAS]: vectorSource(AREAS_TILE_LAYER, 'http://h', [-4, 55, -3, 56]),
        [SRC_PREMISES]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      },
    };
    style.layers.push(layers[0], nodata as (typeof layers)[number], emphasised as typeof prem);
    expect(validateStyleMin(style).map((x) => x.message)).toEqual([]);
    expect(JSON.stringify(e.paint['circle-opacity'])).toContain('SOC-0001');
  });
});
