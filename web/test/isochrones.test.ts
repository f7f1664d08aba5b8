import { describe, expect, it } from 'vitest';
import { createExpression, latest, validateStyleMin, type StylePropertySpecification } from '@maplibre/maplibre-gl-style-spec';
import type { StyleSpecification } from 'maplibre-gl';
import type { IsochroneCollection } from '../src/api';
import {
  ISOCHRONE_BANDS,
  ISOCHRONE_FILL_OPACITY,
  bandColours,
  bandsBbox,
  formatKm2,
  isochroneLegend,
  isochroneMethod,
  prepareBands,
} from '../src/isochrones';
import { LYR_ISOCHRONES_FILL, LYR_ISOCHRONES_LINE, SRC_ISOCHRONES, baseStyle, isochroneLayers } from '../src/style';

const square = (x: number, y: number, r: number): number[][][] => [
  [
    [x - r, y - r],
    [x + r, y - r],
    [x + r, y + r],
    [x - r, y + r],
    [x - r, y - r],
  ],
];

/** Like the server: largest band first, minutes as numbers, a method line. */
const response = (): IsochroneCollection => ({
  type: 'FeatureCollection',
  method: 'road network, 15 km/h to and from the nearest road node',
  features: [
    { type: 'Feature', properties: { premises_id: 'SOC-0001', minutes: 15, area_km2: 127.27 }, geometry: { type: 'Polygon', coordinates: square(-3.6, 55.7, 0.1) } },
    { type: 'Feature', properties: { premises_id: 'SOC-0001', minutes: 10, area_km2: 52.06 }, geometry: { type: 'Polygon', coordinates: square(-3.6, 55.7, 0.05) } },
    {
      type: 'Feature',
      properties: { premises_id: 'SOC-0001', minutes: 5, area_km2: 7.14 },
      geometry: { type: 'MultiPolygon', coordinates: [square(-3.6, 55.7, 0.01), square(-3.55, 55.72, 0.005)] },
    },
  ],
});

describe('band colours', () => {
  it('asks for 5, 10 and 15 minutes', () => {
    expect(ISOCHRONE_BANDS).toEqual([5, 10, 15]);
  });
  it('gives three distinct colours, the smallest band darkest', () => {
    const c = bandColours(3);
    expect(c).toHaveLength(3);
    expect(new Set(c).size).toBe(3);
    const lum = (h: string): number => {
      const n = parseInt(h.slice(1), 16);
      return 0.2126 * ((n >> 16) & 255) + 0.7152 * ((n >> 8) & 255) + 0.0722 * (n & 255);
    };
    expect(lum(c[0])).toBeLessThan(lum(c[1]));
    expect(lum(c[1])).toBeLessThan(lum(c[2]));
    expect(bandColours(0)).toEqual([]);
    expect(bandColours(1)).toHaveLength(1);
  });
});

describe('prepareBands', () => {
  it('keeps the largest band first and ranks and colours each band', () => {
    const d = prepareBands(response());
    expect(d.features.map((f) => f.properties.minutes)).toEqual([15, 10, 5]);
    expect(d.features.map((f) => f.properties.band)).toEqual([2, 1, 0]);
    const c = bandColours(3);
    expect(d.features.map((f) => f.properties.colour)).toEqual([c[2], c[1], c[0]]);
    expect(d.features.every((f) => /^#[0-9a-f]{6}$/.test(f.properties.line))).toBe(true);
    expect(d.features[0].properties.premises_id).toBe('SOC-0001');
  });
  it('sorts bands given smallest first, and drops features without polygons or minutes', () => {
    const r = response();
    r.features.reverse();
    r.features.push({ type: 'Feature', properties: { premises_id: 'x', minutes: 20, area_km2: 1 }, geometry: null as never });
    r.features.push({ type: 'Feature', properties: { premises_id: 'x', minutes: null as never, area_km2: 1 }, geometry: { type: 'Polygon', coordinates: square(0, 0, 1) } });
    const d = prepareBands(r);
    expect(d.features.map((f) => f.properties.minutes)).toEqual([15, 10, 5]);
    expect(prepareBands(null).features).toEqual([]);
  });
});

describe('isochrone legend', () => {
  it('reads "Within 5 / 10 / 15 min of <name>" with the area of each band and the method', () => {
    const l = isochroneLegend(prepareBands(response()), response().method, 'SOC-0001', 'Westmuir Social Work Office 1');
    expect(l.title).toBe('Within 5 / 10 / 15 min of Westmuir Social Work Office 1');
    expect(l.rows.map((r) => r.label)).toEqual(['Within 5 min', 'Within 10 min', 'Within 15 min']);
    expect(l.rows.map((r) => r.area)).toEqual(['7.14 km²', '52.1 km²', '127 km²']);
    expect(l.method).toBe('Travel: road network, 15 km/h to and from the nearest road node.');
    expect(l.premisesId).toBe('SOC-0001');
    // The smallest band lies under all three fills, so its swatch is the most opaque.
    expect(l.rows[0].opacity).toBeCloseTo(1 - (1 - ISOCHRONE_FILL_OPACITY) ** 3, 9);
    expect(l.rows[2].opacity).toBeCloseTo(ISOCHRONE_FILL_OPACITY, 9);
    expect(l.rows[0].colour).toBe(bandColours(3)[0]);
  });
  it('falls back to the id for a missing name, and says when there are no bands', () => {
    const l = isochroneLegend(prepareBands({ type: 'FeatureCollection', features: [] }), undefined, 7, null);
    expect(l.title).toBe('No travel-time bands for 7');
    expect(l.rows).toEqual([]);
    expect(l.method).toBe('Travel: method not stated.');
  });
  it('formats areas and the method line', () => {
    expect(formatKm2(0.35)).toBe('0.35 km²');
    expect(formatKm2(44)).toBe('44 km²');
    expect(formatKm2(1234.5)).toBe('1,235 km²');
    expect(formatKm2(null)).toBe('—');
    expect(isochroneMethod('straight line x 1.3 at 30 km/h')).toBe('Travel: straight line × 1.3 at 30 km/h.');
    expect(isochroneMethod('')).toBe('Travel: method not stated.');
  });
  it('bounds the bands', () => {
    const all = bandsBbox(prepareBands(response()))!;
    [-3.7, 55.6, -3.5, 55.8].forEach((v, i) => expect(all[i]).toBeCloseTo(v, 9));
    const small = prepareBands({ ...response(), features: response().features.slice(2) });
    const b = bandsBbox(small)!;
    expect(b[0]).toBeCloseTo(-3.61, 9);
    expect(b[2]).toBeCloseTo(-3.545, 9);
    expect(b[3]).toBeCloseTo(55.725, 9);
    expect(bandsBbox(prepareBands(null))).toBeNull();
  });
});

describe('isochrone layers', () => {
  it('are valid, fill each band with its own colour and outline it', () => {
    const layers = isochroneLayers(ISOCHRONE_FILL_OPACITY);
    expect(layers.map((l) => l.id)).toEqual([LYR_ISOCHRONES_FILL, 'isochrones-casing', LYR_ISOCHRONES_LINE]);
    const style: StyleSpecification = { ...baseStyle(), sources: { [SRC_ISOCHRONES]: { type: 'geojson', data: prepareBands(response()) as never } } };
    style.layers.push(...layers);
    expect(validateStyleMin(style).map((x) => x.message)).toEqual([]);

    const fill = layers[0] as { paint: Record<string, unknown> };
    const spec = latest.paint_fill['fill-color'] as StylePropertySpecification;
    const parsed = createExpression(fill.paint['fill-color'], 'layers[0].paint', spec);
    if (parsed.result !== 'success') throw new Error(JSON.stringify(parsed.value));
    const f = prepareBands(response()).features[2];
    const got = parsed.value.evaluate({ zoom: 10 }, { type: 'Polygon', properties: f.properties } as never).toString();
    const n = parseInt(f.properties.colour.slice(1), 16);
    expect(got).toBe(`rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},1)`);
  });
});
