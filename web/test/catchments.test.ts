import { describe, expect, it } from 'vitest';
import { createExpression, latest, validateStyleMin, type StylePropertySpecification } from '@maplibre/maplibre-gl-style-spec';
import type { StyleSpecification } from 'maplibre-gl';
import type { AccessArea, PremisesCollection } from '../src/api';
import {
  CATCHMENT_PALETTE,
  SIMILAR_DELTA_E,
  accessContext,
  accessFeatureState,
  accessNoDataOpacity,
  accessTitle,
  buildCatchmentLegend,
  catchmentColours,
  catchmentFillExpression,
  catchmentIndex,
  colourSameness,
  deltaE,
  distanceKm,
  premisesLocations,
} from '../src/access';
import { NO_DATA_COLOUR, variableDef } from '../src/legend';
import { AREAS_TILE_LAYER, CATCHMENT_OUTLINE_OPACITY, NOTHING, SRC_AREAS, areaLayers, baseStyle, vectorSource } from '../src/style';

const row = (area: string, nearest: string | null, over: Partial<AccessArea> = {}): AccessArea => ({
  area_id: area,
  nearest,
  nearest_name: nearest,
  distance_m: 1000,
  travel_time_s: 300,
  providers_within: 1,
  choice_desert: true,
  access_2sfca: null,
  access_e2sfca: null,
  ...over,
});

/** n areas nearest to each premises code. */
const rowsFor = (sizes: Record<string, number>): AccessArea[] =>
  Object.entries(sizes).flatMap(([code, n]) => Array.from({ length: n }, (_, i) => row(`${code}-${i}`, code)));

describe('catchment palette', () => {
  it('is 11 distinct qualitative colours without the no-data grey', () => {
    expect(CATCHMENT_PALETTE).toHaveLength(11);
    expect(new Set(CATCHMENT_PALETTE).size).toBe(11);
    expect(CATCHMENT_PALETTE).not.toContain(NO_DATA_COLOUR);
    expect(variableDef('access_catchment').mode).toBe('category');
  });
  it('measures colour differences in CIE Lab', () => {
    expect(deltaE('#ffffff', '#ffffff')).toBe(0);
    expect(deltaE('#000000', '#ffffff')).toBeCloseTo(100, 0);
    const same = colourSameness(['#ffffff', '#fefefe', '#000000']);
    expect(same[0][0]).toBe(1);
    expect(same[0][1]).toBeGreaterThan(0.9);
    expect(same[0][2]).toBe(0);
    expect(SIMILAR_DELTA_E).toBeGreaterThan(0);
  });
  it('measures distances on the ground', () => {
    expect(distanceKm([-3.6, 55.7], [-3.6, 56.7])).toBeCloseTo(110.57, 1);
    expect(distanceKm([-3.6, 55.7], [-2.6, 55.7])).toBeCloseTo(111.32 * Math.cos((55.7 * Math.PI) / 180), 3);
  });
});

describe('catchmentColours', () => {
  it('gives every catchment its own colour while there are enough', () => {
    const locs = new Map<string, [number, number]>([
      ['A', [-3.6, 55.7]],
      ['B', [-3.59, 55.7]],
      ['C', [-3.58, 55.7]],
      ['D', [-3.57, 55.7]],
      ['E', [-3.56, 55.7]],
    ]);
    const c = catchmentColours(rowsFor({ A: 5, B: 9, C: 1, D: 3, E: 2 }), locs);
    expect(c.size).toBe(5);
    expect(new Set(c.values()).size).toBe(5);
    // The largest catchment is coloured first, with the first colour.
    expect(c.get('B')).toBe(0);
    // Deterministic.
    expect(catchmentColours(rowsFor({ A: 5, B: 9, C: 1, D: 3, E: 2 }), locs)).toEqual(c);
  });
  it('reuses a colour only far away: neighbours on a line alternate with two colours', () => {
    const codes = ['P0', 'P1', 'P2', 'P3', 'P4', 'P5'];
    const locs = new Map<string, [number, number]>(codes.map((c, i) => [c, [-3.6 + i * 0.02, 55.7]]));
    const sizes = Object.fromEntries(codes.map((c) => [c, 3]));
    const c = catchmentColours(rowsFor(sizes), locs, ['#1b9e77', '#d95f02']);
    const seq = codes.map((k) => c.get(k));
    for (let i = 1; i < seq.length; i++) expect(seq[i]).not.toBe(seq[i - 1]);
  });
  it('keeps nearby premises on a grid apart in colour (the real palette)', () => {
    const locs = new Map<string, [number, number]>();
    const sizes: Record<string, number> = {};
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 8; j++) {
        const code = `G${i}-${j}`;
        locs.set(code, [-3.7 + i * 0.016, 55.65 + j * 0.009]);
        sizes[code] = 1 + ((i * 7 + j * 3) % 5);
      }
    const c = catchmentColours(rowsFor(sizes), locs);
    expect(c.size).toBe(64);
    // Grid neighbours (about 1 km apart, diagonals included) never share a colour.
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 8; j++)
        for (const [di, dj] of [[1, 0], [0, 1], [1, 1], [1, -1]]) {
          const a = c.get(`G${i}-${j}`);
          const b = c.get(`G${i + di}-${j + dj}`);
          if (b !== undefined) expect(a).not.toBe(b);
        }
    // Every colour is used.
    expect(new Set(c.values()).size).toBe(CATCHMENT_PALETTE.length);
  });
  it('ignores areas with no nearest premises, and cycles colours for premises with no location', () => {
    const rows = [...rowsFor({ X: 3, Y: 2, Z: 1 }), row('none', null)];
    const c = catchmentColours(rows, new Map(), ['#1b9e77', '#d95f02']);
    expect([...c.entries()]).toEqual([
      ['X', 0],
      ['Y', 1],
      ['Z', 0],
    ]);
    expect(catchmentColours([], new Map()).size).toBe(0);
  });
  it('reads the locations of one kind from /api/premises', () => {
    const fc: PremisesCollection = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { premises_id: 'SOC-0001', name: 'a', kind: 'social_work_office', services: '', capacity: null, provider: null, opening_hours: null }, geometry: { type: 'Point', coordinates: [-3.6, 55.7] } },
        { type: 'Feature', properties: { premises_id: 12, name: 'b', kind: 'social_work_office', services: '', capacity: null, provider: null, opening_hours: null }, geometry: { type: 'Point', coordinates: [-3.5, 55.6] } },
        { type: 'Feature', properties: { premises_id: 'SCH-0001', name: 'c', kind: 'school', services: '', capacity: null, provider: null, opening_hours: null }, geometry: { type: 'Point', coordinates: [-3.4, 55.5] } },
      ],
    };
    const l = premisesLocations(fc, 'social_work_office');
    expect([...l.keys()]).toEqual(['SOC-0001', '12']);
    expect(l.get('12')).toEqual([-3.5, 55.6]);
    expect(premisesLocations(null, 'school').size).toBe(0);
  });
});

describe('catchment map and legend', () => {
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

  it('colours each area by the palette index in its feature-state', () => {
    const expr = catchmentFillExpression();
    const rows = rowsFor({ A: 2, B: 1 });
    const c = catchmentColours(rows, new Map());
    for (const r of rows) {
      const state = accessFeatureState(r, c);
      expect(state.access_catchment).toBe(catchmentIndex(r, c));
      expect(colour(expr, state)).toBe(rgba(CATCHMENT_PALETTE[c.get(r.nearest!)!]));
    }
    CATCHMENT_PALETTE.forEach((p, i) => expect(colour(expr, { access_catchment: i })).toBe(rgba(p)));
    expect(colour(expr, {})).toBe(rgba(NO_DATA_COLOUR));
    expect(colour(expr, { access_catchment: null })).toBe(rgba(NO_DATA_COLOUR));
    expect(colour(expr, { access_catchment: 99 })).toBe(rgba(NO_DATA_COLOUR));
    expect(catchmentFillExpression([])).toBe(NO_DATA_COLOUR);
    expect(catchmentIndex(row('a', 'Q'), c)).toBeNull();
    expect(catchmentIndex(row('a', 'A'), null)).toBeNull();
  });
  it('explains the colours instead of listing every premises', () => {
    const rows: (AccessArea | null)[] = [...rowsFor({ A: 3, B: 2 }), row('x', null), null];
    const c = catchmentColours(rows, new Map());
    const ctx = {
      ...accessContext({
        kind: 'social_work_office',
        premises: 5,
        threshold_min: 15,
        method: { type: 'road_network', description: 'road network, 15 km/h to and from the nearest road node' },
        choice_deserts: { below: 2, areas: 0, population_by_simd_quintile: [] },
        areas: [],
      }),
    };
    const l = buildCatchmentLegend(rows, c, ctx);
    expect(l.variable).toBe('access_catchment');
    expect(l.title).toBe('Nearest social work office (catchments)');
    expect(l.note).toContain('Each colour is the area served most quickly by one social work office; 5 premises');
    expect(l.note).toContain('2 nearest to at least one area');
    expect(l.entries).toEqual([]);
    expect(l.palette).toEqual([CATCHMENT_PALETTE[0], CATCHMENT_PALETTE[1]]);
    expect(l.noData.count).toBe(2);
    expect(l.footnotes).toEqual(['Travel: road network, 15 km/h to and from the nearest road node.']);
    // Every premises with a catchment: no "nearest to at least one area" clause.
    expect(accessTitle('access_catchment', { kind: 'school', thresholdMin: 15, premises: 2, catchments: 2 }).note).toBe(
      'Each colour is the area served most quickly by one school; 2 premises. Nearby catchments get different colours.',
    );
  });
  it('builds a valid style with the catchment paint, hatching and faint outlines', () => {
    const layers = areaLayers(catchmentFillExpression(), NOTHING);
    const nodata = { ...layers[1], paint: { 'fill-pattern': 'nodata-hatch', 'fill-opacity': accessNoDataOpacity('access_catchment') } };
    delete (nodata as { filter?: unknown }).filter;
    const outline = { ...layers[2], paint: { ...(layers[2] as { paint: object }).paint, 'line-opacity': CATCHMENT_OUTLINE_OPACITY } };
    const style: StyleSpecification = { ...baseStyle(), sources: { [SRC_AREAS]: vectorSource(AREAS_TILE_LAYER, 'http://h') } };
    style.layers.push(layers[0], nodata as (typeof layers)[number], outline as (typeof layers)[number]);
    expect(validateStyleMin(style).map((x) => x.message)).toEqual([]);
  });
});
