import { describe, expect, it } from 'vitest';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import type { StyleSpecification } from 'maplibre-gl';
import {
  AREAS_TILE_LAYER,
  LOADING_FILL,
  NOTHING,
  SRC_AREAS,
  SRC_PREMISES,
  TILE_MAXZOOM,
  areaLayers,
  baseStyle,
  boundaryLayer,
  boundarySourceId,
  boundaryStyle,
  hatchPattern,
  highlightLayers,
  kindColours,
  padBbox,
  premisesFilter,
  premisesLayer,
  selectedFilter,
  vectorSource,
} from '../src/style';
import { buildLegend, fillColourExpression, noDataFilter } from '../src/legend';

describe('style', () => {
  it('uses only a background layer: no basemap, glyphs or sprite', () => {
    const s = baseStyle();
    expect(s.layers.map((l) => l.type)).toEqual(['background']);
    expect(s.glyphs).toBeUndefined();
    expect(s.sprite).toBeUndefined();
    expect(Object.keys(s.sources)).toEqual([]);
  });
  it('gives every premises kind a distinct colour', () => {
    const kinds = ['school', 'nursery', 'health_centre', 'leisure_centre', 'social_work_office', 'care_provider', 'library', 'pharmacy'];
    const c = kindColours(kinds);
    expect(Object.keys(c)).toEqual(kinds);
    expect(new Set(Object.values(c)).size).toBe(kinds.length);
    expect(kindColours(['library', 'school']).school).toBe(c.school);
  });
  it('filters premises by visible kinds', () => {
    expect(premisesFilter(['school'])).toEqual(['in', ['get', 'kind'], ['literal', ['school']]]);
  });
  it('gives boundary sets distinct colours and dashes', () => {
    const a = boundaryStyle(0);
    const b = boundaryStyle(1);
    expect(a.colour).not.toBe(b.colour);
    expect(a.dash).not.toEqual(b.dash);
  });
  it('draws a diagonal hatch on transparent pixels', () => {
    const p = hatchPattern(8, '#d9d9d9', 2);
    expect(p.data).toHaveLength(8 * 8 * 4);
    const alpha = (x: number, y: number) => p.data[(y * 8 + x) * 4 + 3];
    expect(alpha(0, 0)).toBe(255);
    expect(alpha(7, 1)).toBe(255);
    expect(alpha(3, 0)).toBe(0);
    expect(p.data[0]).toBe(0xd9);
  });
});

describe('vector tile sources', () => {
  it('requests tiles up to z14 from the page origin, within the padded region', () => {
    const s = vectorSource('areas', 'http://127.0.0.1:8089', [-3.75, 55.64, -3.48, 55.76]);
    expect(s.type).toBe('vector');
    expect(s.tiles).toEqual(['http://127.0.0.1:8089/tiles/areas/{z}/{x}/{y}.mvt']);
    expect(s.maxzoom).toBe(TILE_MAXZOOM);
    expect(TILE_MAXZOOM).toBe(14);
    expect(s.minzoom).toBe(0);
    const [w, south, e, n] = s.bounds!;
    expect(w).toBeLessThan(-3.75);
    expect(south).toBeLessThan(55.64);
    expect(e).toBeGreaterThan(-3.48);
    expect(n).toBeGreaterThan(55.76);
    expect(vectorSource('localities', 'http://h').bounds).toBeUndefined();
  });
  it('pads a box without leaving the Web Mercator world', () => {
    expect(padBbox([-180, -90, 180, 90], 1)).toEqual([-180, -85.051129, 180, 85.051129]);
    expect(padBbox([0, 0, 1, 1], 0.5)).toEqual([-0.5, -0.5, 1.5, 1.5]);
  });
  it('reads areas from the `areas` source-layer and boundaries from their set name', () => {
    for (const l of [...areaLayers(LOADING_FILL, NOTHING), ...highlightLayers()]) {
      expect(l).toMatchObject({ source: SRC_AREAS, 'source-layer': AREAS_TILE_LAYER });
    }
    expect(boundaryLayer(1, 'localities', true)).toMatchObject({
      type: 'line',
      source: boundarySourceId(1),
      'source-layer': 'localities',
      layout: { visibility: 'visible' },
    });
    expect(boundaryLayer(0, 'teams', false).layout).toMatchObject({ visibility: 'none' });
  });
  it('builds a complete style that passes MapLibre validation', () => {
    const legend = buildLegend('need_score', [{ need_score: 1 }, { need_score: 50 }, { need_score: 99 }]);
    const style: StyleSpecification = {
      ...baseStyle(),
      sources: {
        [SRC_AREAS]: vectorSource('areas', 'http://h', [-4, 55, -3, 56]),
        [boundarySourceId(0)]: vectorSource('localities', 'http://h'),
        [SRC_PREMISES]: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } },
      },
    };
    const areas = areaLayers(fillColourExpression(legend), noDataFilter('need_score'));
    const loading = areaLayers(LOADING_FILL, NOTHING).map((l) => ({ ...l, id: `${l.id}-loading` }));
    const highlights = highlightLayers();
    highlights[1] = { ...highlights[1], filter: selectedFilter('S01000001') } as (typeof highlights)[number];
    style.layers.push(
      ...areas,
      ...loading,
      boundaryLayer(0, 'localities', true),
      ...highlights,
      premisesLayer(kindColours(['school']), ['school']),
    );
    expect(validateStyleMin(style).map((e) => e.message)).toEqual([]);
  });
});
