import { describe, expect, it } from 'vitest';
import { createExpression, featureFilter, latest, type StylePropertySpecification } from '@maplibre/maplibre-gl-style-spec';
import {
  AREA_VARIABLES,
  NO_DATA_COLOUR,
  NO_DATA_LABEL,
  VARIABLES,
  buildLegend,
  classify,
  fillColourExpression,
  noDataFilter,
  quantile,
  quantileBreaks,
  rampColours,
  variableDef,
} from '../src/legend';
import type { AreaProperties } from '../src/api';

const area = (over: Partial<AreaProperties>): Partial<AreaProperties> => ({
  area_id: 'S01000001',
  need_score: null,
  simd_decile: null,
  rate_per_1000: null,
  ...over,
});

describe('rampColours', () => {
  it('returns the anchors unchanged when asked for as many colours', () => {
    const anchors = variableDef('need_score').anchors;
    expect(rampColours(anchors, anchors.length)).toEqual(anchors);
  });
  it('interpolates between anchors', () => {
    expect(rampColours(['#000000', '#ffffff'], 3)).toEqual(['#000000', '#808080', '#ffffff']);
  });
  it('spreads the 9-colour decile ramp over 10 distinct classes, darkest first', () => {
    const c = rampColours(variableDef('simd_decile').anchors, 10);
    expect(c).toHaveLength(10);
    expect(new Set(c).size).toBe(10);
    expect(c[0]).toBe('#081d58');
    expect(c[9]).toBe('#ffffd9');
  });
  it('rejects bad colours', () => {
    expect(() => rampColours(['red'], 2)).toThrow();
  });
});

describe('quantile classification', () => {
  it('computes type-7 quantiles', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([0, 10], 0.25)).toBe(2.5);
  });
  it('splits 1..100 into quintiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantileBreaks(values, 5)).toEqual([20.8, 40.6, 60.4, 80.2]);
  });
  it('merges tied classes and ignores non-finite values', () => {
    const values = [0, 0, 0, 0, 0, 0, 0, 0, 5, 10, Number.NaN];
    const b = quantileBreaks(values, 5);
    for (let i = 1; i < b.length; i++) expect(b[i]).toBeGreaterThan(b[i - 1]);
    expect(b.every((x) => x > 0)).toBe(true);
    expect(quantileBreaks([7, 7, 7], 5)).toEqual([]);
    expect(quantileBreaks([], 5)).toEqual([]);
  });
  it('classifies with the lower bound inclusive', () => {
    const breaks = [10, 20, 30];
    expect(classify(5, breaks)).toBe(0);
    expect(classify(10, breaks)).toBe(1);
    expect(classify(29.9, breaks)).toBe(2);
    expect(classify(30, breaks)).toBe(3);
    expect(classify(null, breaks)).toBeNull();
  });
});

describe('buildLegend', () => {
  it('has fixed classes 1..10 for SIMD deciles, 1 = most deprived', () => {
    const areas = [area({ simd_decile: 1 }), area({ simd_decile: 1 }), area({ simd_decile: 10 }), area({})];
    const l = buildLegend('simd_decile', areas);
    expect(l.entries).toHaveLength(10);
    expect(l.entries[0].label).toBe('1 (most deprived)');
    expect(l.entries[0].count).toBe(2);
    expect(l.entries[9].count).toBe(1);
    expect(l.breaks).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(l.noData).toEqual({ colour: NO_DATA_COLOUR, label: NO_DATA_LABEL, count: 1 });
  });
  it('uses quantile classes for need score and counts suppressed rates as no data', () => {
    const areas = Array.from({ length: 50 }, (_, i) => area({ need_score: i * 2, rate_per_1000: i % 5 === 0 ? null : i }));
    const need = buildLegend('need_score', areas);
    expect(need.entries).toHaveLength(5);
    expect(need.entries.reduce((s, e) => s + e.count, 0)).toBe(50);
    expect(need.entries[0].label.startsWith('0 – ')).toBe(true);
    expect(need.entries[4].label.endsWith(' – 98')).toBe(true);
    expect(need.noData.count).toBe(0);
    const rate = buildLegend('rate_per_1000', areas);
    expect(rate.noData.count).toBe(10);
    expect(rate.entries.reduce((s, e) => s + e.count, 0)).toBe(40);
  });
  it('has only the no-data entry when every value is missing', () => {
    const l = buildLegend('rate_per_1000', [area({}), area({})]);
    expect(l.entries).toEqual([]);
    expect(l.noData.count).toBe(2);
    expect(fillColourExpression(l)).toBe(NO_DATA_COLOUR);
  });
});

describe('map expressions', () => {
  it('steps through the legend colours and greys out non-numbers', () => {
    const l = buildLegend('simd_decile', [area({ simd_decile: 3 })]);
    const expr = fillColourExpression(l) as unknown[];
    expect(expr[0]).toBe('case');
    expect(expr[1]).toEqual(['==', ['typeof', ['get', 'simd_decile']], 'number']);
    const step = expr[2] as unknown[];
    expect(step[0]).toBe('step');
    expect(step[2]).toBe(l.entries[0].colour);
    expect(step[3]).toBe(2);
    expect(step[4]).toBe(l.entries[1].colour);
    expect(expr[3]).toBe(NO_DATA_COLOUR);
  });
  it('selects the areas with no value', () => {
    expect(noDataFilter('need_score')).toEqual(['!=', ['typeof', ['get', 'need_score']], 'number']);
  });
  it('defines the variables in switcher order: three area variables, four access variables, two hours variables, five trends variables', () => {
    expect(VARIABLES.map((v) => v.id)).toEqual([
      'need_score',
      'simd_decile',
      'rate_per_1000',
      'access_travel_time',
      'access_providers',
      'access_e2sfca',
      'access_catchment',
      'hours_access',
      'hours_gap',
      'trend',
      'trend_counts',
      'hotspots',
      'emerging_hotspots',
      'projection',
    ]);
    expect(AREA_VARIABLES.map((v) => v.id)).toEqual(['need_score', 'simd_decile', 'rate_per_1000']);
  });
  it('classifies an explicit input such as feature-state', () => {
    const l = buildLegend('need_score', [area({ need_score: 1 }), area({ need_score: 50 }), area({ need_score: 99 })]);
    const expr = fillColourExpression(l, ['feature-state', 'x']) as unknown[];
    expect(expr[1]).toEqual(['==', ['typeof', ['feature-state', 'x']], 'number']);
    expect((expr[2] as unknown[])[1]).toEqual(['feature-state', 'x']);
  });
});

// Evaluate the expressions as MapLibre does, on features as they come out of the `areas`
// vector tiles: numbers (MVT ints and doubles alike), absent properties, "<10" strings.
describe('expressions on tile features', () => {
  const fillSpec = latest.paint_fill['fill-color'] as StylePropertySpecification;
  const colourOf = (expr: unknown, properties: Record<string, unknown>): string => {
    const parsed = createExpression(expr, 'layers[0].paint.fill-color', fillSpec);
    if (parsed.result !== 'success') throw new Error(JSON.stringify(parsed.value));
    const c = parsed.value.evaluate({ zoom: 10 }, { type: 'Polygon', properties } as never) as { toString(): string };
    return c.toString();
  };
  const hex = (h: string): string => {
    const n = parseInt(h.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},1)`;
  };

  it('colours numbers by class and everything else as no data', () => {
    const areas = Array.from({ length: 20 }, (_, i) => area({ rate_per_1000: i * 5 }));
    const l = buildLegend('rate_per_1000', areas);
    const expr = fillColourExpression(l);
    expect(colourOf(expr, { rate_per_1000: 0 })).toBe(hex(l.entries[0].colour));
    expect(colourOf(expr, { rate_per_1000: 1000 })).toBe(hex(l.entries[l.entries.length - 1].colour));
    expect(colourOf(expr, {})).toBe(hex(NO_DATA_COLOUR));
    expect(colourOf(expr, { rate_per_1000: '<10' })).toBe(hex(NO_DATA_COLOUR));
    expect(colourOf(expr, { rate_per_1000: null })).toBe(hex(NO_DATA_COLOUR));
    expect(colourOf(expr, { rate_per_1000: '12.5' })).toBe(hex(NO_DATA_COLOUR));
  });
  it('gives every area the colour of the legend class it is counted in', () => {
    // Values on and around the breaks, integers and fractions, and missing values.
    const values = [null, 0, 1, 2.5, 10, 19.99, 20, 20.01, 33.3, 40, 41, 55, 60, 60.4, 75, 80, 99, 100, null];
    const areas = values.map((v) => area({ need_score: v }));
    const l = buildLegend('need_score', areas);
    expect(l.entries.length).toBeGreaterThan(1);
    const expr = fillColourExpression(l);
    const counts = new Map<string, number>();
    for (const v of values) {
      const c = colourOf(expr, v === null ? {} : { need_score: v });
      const cls = classify(v, l.breaks);
      expect(c).toBe(hex(cls === null ? NO_DATA_COLOUR : l.entries[cls].colour));
      counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    for (const e of l.entries) expect(counts.get(hex(e.colour)) ?? 0).toBe(e.count);
    expect(counts.get(hex(NO_DATA_COLOUR))).toBe(l.noData.count);
  });
  it('colours integer SIMD deciles 1..10 with ten distinct colours', () => {
    const l = buildLegend('simd_decile', []);
    const expr = fillColourExpression(l);
    const colours = Array.from({ length: 10 }, (_, i) => colourOf(expr, { simd_decile: i + 1 }));
    expect(colours).toEqual(l.entries.map((e) => hex(e.colour)));
    expect(colourOf(expr, {})).toBe(hex(NO_DATA_COLOUR));
  });
  it('hatches exactly the features without a numeric value', () => {
    const f = featureFilter(noDataFilter('rate_per_1000'), 'layers[0].filter');
    const hatched = (properties: Record<string, unknown>): boolean => f.filter({ zoom: 10 }, { type: 3, properties } as never);
    expect(hatched({})).toBe(true);
    expect(hatched({ rate_per_1000: '<10' })).toBe(true);
    expect(hatched({ rate_per_1000: 0 })).toBe(false);
    expect(hatched({ rate_per_1000: 12.5 })).toBe(false);
  });
});
