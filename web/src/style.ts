// The map style and layer definitions. No basemap, no glyphs, no sprite: everything the
// map shows comes from our own server, so the page works with no network beyond it.
// Areas and boundary sets are vector-tile sources (/tiles/...), premises GeoJSON.

import type {
  ExpressionSpecification,
  FilterSpecification,
  LayerSpecification,
  StyleSpecification,
  VectorSourceSpecification,
} from 'maplibre-gl';
import { tileUrl, type Bbox } from './api';

export const BACKGROUND_COLOUR = '#dce3e9';

export const SRC_AREAS = 'areas';
export const SRC_PREMISES = 'premises';
export const SRC_ISOCHRONES = 'isochrones';
export const boundarySourceId = (i: number): string => `boundary-${i}`;

/** The tile layer (and source-layer) of the small areas; boundary sets use their own name. */
export const AREAS_TILE_LAYER = 'areas';
/**
 * Deepest zoom requested from the server: its geometry stops gaining detail at z14, so
 * MapLibre overzooms z14 tiles beyond that.
 */
export const TILE_MAXZOOM = 14;

/** Fill of the areas before the attributes (and so the legend breaks) have arrived. */
export const LOADING_FILL = '#eef1f4';
/** A filter matching no feature. */
export const NOTHING: FilterSpecification = ['boolean', false];

export const LYR_AREAS_FILL = 'areas-fill';
export const LYR_AREAS_NODATA = 'areas-nodata';
export const LYR_AREAS_OUTLINE = 'areas-outline';
export const LYR_AREAS_HOVER = 'areas-hover';
export const LYR_AREAS_SELECTED_CASING = 'areas-selected-casing';
export const LYR_AREAS_SELECTED = 'areas-selected';
export const LYR_PREMISES = 'premises-circles';
export const LYR_ISOCHRONES_FILL = 'isochrones-fill';
export const LYR_ISOCHRONES_CASING = 'isochrones-casing';
export const LYR_ISOCHRONES_LINE = 'isochrones-line';
/** The planning overlay (a siting result or a scenario comparison), over the choropleth. */
export const LYR_PLAN_FILL = 'plan-fill';
export const boundaryLayerId = (i: number): string => `boundary-${i}-line`;

export const HATCH_IMAGE = 'nodata-hatch';

/** `b` widened by `pad` degrees on each side, clamped to the Web Mercator world. */
export function padBbox(b: Bbox, pad: number): Bbox {
  return [Math.max(-180, b[0] - pad), Math.max(-85.051129, b[1] - pad), Math.min(180, b[2] + pad), Math.min(85.051129, b[3] + pad)];
}

/**
 * A vector-tile source for one server tile layer. `bounds` (WGS84) stops MapLibre asking
 * for tiles outside the data; it is padded a little against rounding of the box.
 */
export function vectorSource(layer: string, origin: string, bounds?: Bbox | null): VectorSourceSpecification {
  const src: VectorSourceSpecification = {
    type: 'vector',
    tiles: [tileUrl(layer, origin)],
    minzoom: 0,
    maxzoom: TILE_MAXZOOM,
  };
  if (bounds) src.bounds = padBbox(bounds, 0.001);
  return src;
}

/** The initial style: a plain background colour and nothing else. */
export function baseStyle(): StyleSpecification {
  return {
    version: 8,
    name: 'needmap',
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOUR } }],
  };
}

/**
 * A square RGBA image of diagonal lines in `hex` on transparent pixels, used as the
 * `fill-pattern` over areas with no data.
 */
export function hatchPattern(size: number, hex: string, lineWidth = 2): { width: number; height: number; data: Uint8Array } {
  const n = parseInt(hex.replace('#', ''), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if ((x + y) % size < lineWidth) {
        const o = (y * size + x) * 4;
        data[o] = r;
        data[o + 1] = g;
        data[o + 2] = b;
        data[o + 3] = 255;
      }
    }
  }
  return { width: size, height: size, data };
}

/** Opacity of the area outlines by zoom. */
export const AREA_OUTLINE_OPACITY: ExpressionSpecification = ['interpolate', ['linear'], ['zoom'], 6, 0.15, 10, 0.45, 13, 0.7];
/** Fainter area outlines while catchments are shown, so that each catchment reads as one region. */
export const CATCHMENT_OUTLINE_OPACITY: ExpressionSpecification = ['interpolate', ['linear'], ['zoom'], 6, 0.05, 10, 0.12, 13, 0.25];

export function areaLayers(fillColour: ExpressionSpecification | string, noData: FilterSpecification): LayerSpecification[] {
  return [
    {
      id: LYR_AREAS_FILL,
      type: 'fill',
      source: SRC_AREAS,
      'source-layer': AREAS_TILE_LAYER,
      // Opaque, so the map matches the legend swatches exactly (there is no basemap to show through).
      paint: { 'fill-color': fillColour, 'fill-opacity': 1, 'fill-antialias': true },
    },
    {
      id: LYR_AREAS_NODATA,
      type: 'fill',
      source: SRC_AREAS,
      'source-layer': AREAS_TILE_LAYER,
      filter: noData,
      paint: { 'fill-pattern': HATCH_IMAGE, 'fill-opacity': 0.9 },
    },
    {
      id: LYR_AREAS_OUTLINE,
      type: 'line',
      source: SRC_AREAS,
      'source-layer': AREAS_TILE_LAYER,
      paint: {
        'line-color': '#4a4a4a',
        'line-opacity': AREA_OUTLINE_OPACITY,
        'line-width': ['interpolate', ['linear'], ['zoom'], 6, 0.2, 12, 0.6, 15, 1],
      },
    },
  ];
}

/**
 * The planning overlay: the areas again, coloured from their feature-state by a siting
 * result or a scenario comparison (paint set when one is shown), hidden otherwise. Drawn
 * over the choropleth and its hatching, below the area outlines.
 */
export function planLayer(): LayerSpecification {
  return {
    id: LYR_PLAN_FILL,
    type: 'fill',
    source: SRC_AREAS,
    'source-layer': AREAS_TILE_LAYER,
    layout: { visibility: 'none' },
    paint: { 'fill-color': LOADING_FILL, 'fill-opacity': 0, 'fill-antialias': true },
  };
}

/**
 * The travel-time bands of one premises (GeoJSON source `isochrones`, features from
 * prepareBands: largest first, each with its `colour`, `line` and `band`): translucent
 * fills, and outlines (the smallest band's widest) on a white casing; above the areas and
 * below the boundaries, hover and selection outlines and premises.
 */
export function isochroneLayers(fillOpacity: number): LayerSpecification[] {
  const fill: ExpressionSpecification = ['to-color', ['coalesce', ['get', 'colour'], '#238b45']];
  const line: ExpressionSpecification = ['to-color', ['coalesce', ['get', 'line'], '#00441b']];
  // The smallest band (band 0) has the widest outline.
  const width = (extra: number): ExpressionSpecification => [
    'interpolate',
    ['linear'],
    ['zoom'],
    8,
    ['+', extra + 1.5, ['*', -0.25, ['coalesce', ['get', 'band'], 0]]],
    13,
    ['+', extra + 3, ['*', -0.5, ['coalesce', ['get', 'band'], 0]]],
  ];
  return [
    {
      id: LYR_ISOCHRONES_FILL,
      type: 'fill',
      source: SRC_ISOCHRONES,
      paint: { 'fill-color': fill, 'fill-opacity': fillOpacity, 'fill-antialias': true },
    },
    {
      id: LYR_ISOCHRONES_CASING,
      type: 'line',
      source: SRC_ISOCHRONES,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': '#ffffff', 'line-width': width(2), 'line-opacity': 0.85 },
    },
    {
      id: LYR_ISOCHRONES_LINE,
      type: 'line',
      source: SRC_ISOCHRONES,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': line, 'line-width': width(0) },
    },
  ];
}

/** Hover and selection outlines, drawn above boundaries and below premises. */
export function highlightLayers(): LayerSpecification[] {
  const none: FilterSpecification = ['==', ['get', 'area_id'], ''];
  return [
    {
      id: LYR_AREAS_HOVER,
      type: 'line',
      source: SRC_AREAS,
      'source-layer': AREAS_TILE_LAYER,
      paint: {
        'line-color': '#000000',
        'line-width': ['case', ['boolean', ['feature-state', 'hover'], false], 2, 0],
      },
    },
    {
      id: LYR_AREAS_SELECTED_CASING,
      type: 'line',
      source: SRC_AREAS,
      'source-layer': AREAS_TILE_LAYER,
      filter: none,
      paint: { 'line-color': '#ffffff', 'line-width': 6 },
    },
    {
      id: LYR_AREAS_SELECTED,
      type: 'line',
      source: SRC_AREAS,
      'source-layer': AREAS_TILE_LAYER,
      filter: none,
      paint: { 'line-color': '#000000', 'line-width': 3 },
    },
  ];
}

export function selectedFilter(areaId: string | null): FilterSpecification {
  return ['==', ['get', 'area_id'], areaId ?? ''];
}

// ---------------------------------------------------------------- premises

/** Okabe-Ito colour-blind-safe colours for the known premises kinds. */
const KNOWN_KIND_COLOURS: Record<string, string> = {
  school: '#0072b2',
  nursery: '#56b4e9',
  health_centre: '#009e73',
  leisure_centre: '#e69f00',
  social_work_office: '#cc79a7',
  care_provider: '#d55e00',
};

/** Colours for further kinds, in order. */
const EXTRA_KIND_COLOURS = ['#000000', '#7f3b08', '#5e3c99', '#1b7837', '#b2182b', '#666666', '#f0e442', '#2166ac'];

/** A distinct colour per premises kind: fixed for known kinds, then from a palette in order. */
export function kindColours(kinds: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  let next = 0;
  for (const k of kinds) {
    if (k in out) continue;
    const known = KNOWN_KIND_COLOURS[k];
    if (known) {
      out[k] = known;
    } else {
      out[k] = EXTRA_KIND_COLOURS[next % EXTRA_KIND_COLOURS.length];
      next++;
    }
  }
  return out;
}

export const OTHER_KIND_COLOUR = '#444444';

export function premisesLayer(colours: Record<string, string>, visibleKinds: readonly string[]): LayerSpecification {
  const entries = Object.entries(colours);
  const colour: ExpressionSpecification | string =
    entries.length === 0
      ? OTHER_KIND_COLOUR
      : (['match', ['get', 'kind'], ...entries.flat(), OTHER_KIND_COLOUR] as unknown as ExpressionSpecification);
  return {
    id: LYR_PREMISES,
    type: 'circle',
    source: SRC_PREMISES,
    filter: premisesFilter(visibleKinds),
    layout: { 'circle-sort-key': 0 },
    paint: {
      'circle-color': colour,
      'circle-radius': premisesRadius(null),
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 5, 0.5, 8, 1, 12, 2],
    },
  };
}

/** Circle radius by zoom; `emphasis` (a boolean expression) picks the larger radii. */
function premisesRadius(emphasis: ExpressionSpecification | null): ExpressionSpecification {
  const stops: [number, number, number][] = [
    [5, 2, 3],
    [8, 3.5, 5],
    [12, 6, 8],
    [15, 8, 10],
  ];
  const out: unknown[] = ['interpolate', ['linear'], ['zoom']];
  for (const [z, r, big] of stops) out.push(z, emphasis ? ['case', emphasis, big, r] : r);
  return out as ExpressionSpecification;
}

/** Opacity of the premises of other kinds while one kind is emphasised. */
export const PREMISES_DIMMED_OPACITY = 0.3;
/** Fill opacity of the emphasised kind's premises that are closed in the hour shown (their white ring stays). */
export const PREMISES_CLOSED_OPACITY = 0.25;

/**
 * Paint of the premises circles emphasising one kind (the kind of the access or hours
 * variable shown): its circles larger and on top, the other kinds faded. `null`: all alike.
 * With `openIds` (the premises open in the hour shown), the kind's closed premises are
 * drawn as faded discs in their white ring.
 */
export function premisesEmphasis(kind: string | null, openIds?: readonly string[] | null): {
  paint: {
    'circle-opacity': ExpressionSpecification | number;
    'circle-stroke-opacity': ExpressionSpecification | number;
    'circle-radius': ExpressionSpecification;
  };
  /** Layout `circle-sort-key`: the emphasised kind drawn on top. */
  sortKey: ExpressionSpecification | number;
} {
  if (kind === null) {
    return { paint: { 'circle-opacity': 1, 'circle-stroke-opacity': 1, 'circle-radius': premisesRadius(null) }, sortKey: 0 };
  }
  const is: ExpressionSpecification = ['==', ['get', 'kind'], kind];
  const opacity: ExpressionSpecification = ['case', is, 1, PREMISES_DIMMED_OPACITY];
  if (openIds) {
    const open: ExpressionSpecification = ['in', ['to-string', ['get', 'premises_id']], ['literal', [...openIds]]];
    const fill: ExpressionSpecification = ['case', ['all', is, open], 1, is, PREMISES_CLOSED_OPACITY, PREMISES_DIMMED_OPACITY];
    return {
      paint: { 'circle-opacity': fill, 'circle-stroke-opacity': opacity, 'circle-radius': premisesRadius(is) },
      sortKey: ['case', is, 1, 0],
    };
  }
  return {
    paint: { 'circle-opacity': opacity, 'circle-stroke-opacity': opacity, 'circle-radius': premisesRadius(is) },
    sortKey: ['case', is, 1, 0],
  };
}

export function premisesFilter(visibleKinds: readonly string[]): FilterSpecification {
  return ['in', ['get', 'kind'], ['literal', [...visibleKinds]]];
}

// ---------------------------------------------------------------- boundaries

const BOUNDARY_COLOURS = ['#111111', '#0b3d91', '#7b1fa2', '#00695c', '#a84300', '#c2185b'];
const BOUNDARY_DASHES: number[][] = [
  [4, 2],
  [2, 2],
  [6, 2, 1, 2],
  [1, 1.5],
  [8, 3],
  [3, 1, 1, 1],
];

export interface BoundaryStyle {
  colour: string;
  dash: number[];
}

/** Distinct colour and dash pattern for the i-th boundary set. */
export function boundaryStyle(i: number): BoundaryStyle {
  return {
    colour: BOUNDARY_COLOURS[i % BOUNDARY_COLOURS.length],
    dash: BOUNDARY_DASHES[i % BOUNDARY_DASHES.length],
  };
}

/** The line layer of boundary set `name`, the i-th in /api/meta `boundary_sets`. */
export function boundaryLayer(i: number, name: string, visible: boolean): LayerSpecification {
  const s = boundaryStyle(i);
  return {
    id: boundaryLayerId(i),
    type: 'line',
    source: boundarySourceId(i),
    'source-layer': name,
    layout: { visibility: visible ? 'visible' : 'none', 'line-join': 'round' },
    paint: {
      'line-color': s.colour,
      'line-width': ['interpolate', ['linear'], ['zoom'], 6, 1.5, 12, 2.5],
      'line-dasharray': s.dash,
    },
  };
}

// ---------------------------------------------------------------- boundary harmonisation (issue 6)

/** GeoJSON sources of the boundary comparison's split pieces and of a proposed design. */
export const SRC_COTERM_SPLITS = 'coterm-splits';
export const SRC_DESIGN = 'design-units';
export const LYR_COTERM_SPLITS_FILL = 'coterm-splits-fill';
export const LYR_COTERM_SPLITS_LINE = 'coterm-splits-line';
/** Outlines of the two layers compared, drawn from their tile sources. */
export const LYR_COTERM_A = 'coterm-a-line';
export const LYR_COTERM_B = 'coterm-b-line';
/** The unit of A chosen in the table. */
export const LYR_COTERM_SELECTED = 'coterm-selected';
export const LYR_DESIGN_FILL = 'design-fill';
export const LYR_DESIGN_UNBALANCED = 'design-unbalanced';
export const LYR_DESIGN_LINE = 'design-line';

/** A tile layer's source: `areas`, or a boundary set's `boundary-{i}`, and the property naming a unit. */
export interface TileLayerRef {
  source: string;
  sourceLayer: string;
  /** `area_id` for the areas, `boundary_id` for boundary sets. */
  idProp: string;
}

/** The outline of one compared layer (A or B), from its vector tiles. */
export function cotermLineLayer(id: string, ref: TileLayerRef, s: { colour: string; width: number; dash: number[] | null }): LayerSpecification {
  const paint: Record<string, unknown> = {
    'line-color': s.colour,
    'line-width': ['interpolate', ['linear'], ['zoom'], 8, s.width * 0.6, 12, s.width, 15, s.width * 1.4],
    'line-opacity': 0.95,
  };
  if (s.dash) paint['line-dasharray'] = s.dash;
  return {
    id,
    type: 'line',
    source: ref.source,
    'source-layer': ref.sourceLayer,
    layout: { 'line-join': 'round' },
    paint,
  } as LayerSpecification;
}

/** The chosen unit of A: a thick black outline (filter set on the unit's code). */
export function cotermSelectedLayer(ref: TileLayerRef, code: string | null): LayerSpecification {
  return {
    id: LYR_COTERM_SELECTED,
    type: 'line',
    source: ref.source,
    'source-layer': ref.sourceLayer,
    filter: ['==', ['to-string', ['get', ref.idProp]], code ?? ''],
    layout: { 'line-join': 'round' },
    paint: { 'line-color': '#000000', 'line-width': 4.5 },
  };
}

/** The split pieces (GeoJSON source coterm-splits): filled by share, with a thin dark outline; hover widens it. */
export function splitLayers(fill: ExpressionSpecification, opacity: number): LayerSpecification[] {
  return [
    {
      id: LYR_COTERM_SPLITS_FILL,
      type: 'fill',
      source: SRC_COTERM_SPLITS,
      paint: { 'fill-color': fill, 'fill-opacity': opacity, 'fill-antialias': true },
    },
    {
      id: LYR_COTERM_SPLITS_LINE,
      type: 'line',
      source: SRC_COTERM_SPLITS,
      layout: { 'line-join': 'round' },
      paint: {
        'line-color': '#3b0a0a',
        'line-width': ['case', ['boolean', ['feature-state', 'hover'], false], 3, 0.8],
      },
    },
  ];
}

/**
 * A proposed design (GeoJSON source design-units, features with `colour` and
 * `within_tolerance`): a light categorical fill, units outside the tolerance hatched, and
 * dark outlines.
 */
export function designLayers(fillOpacity: number, lineColour: string): LayerSpecification[] {
  return [
    {
      id: LYR_DESIGN_FILL,
      type: 'fill',
      source: SRC_DESIGN,
      paint: { 'fill-color': ['to-color', ['coalesce', ['get', 'colour'], '#cccccc']], 'fill-opacity': fillOpacity, 'fill-antialias': true },
    },
    {
      id: LYR_DESIGN_UNBALANCED,
      type: 'fill',
      source: SRC_DESIGN,
      filter: ['==', ['get', 'within_tolerance'], false],
      paint: { 'fill-pattern': HATCH_IMAGE, 'fill-opacity': 0.6 },
    },
    {
      id: LYR_DESIGN_LINE,
      type: 'line',
      source: SRC_DESIGN,
      layout: { 'line-join': 'round' },
      paint: {
        'line-color': lineColour,
        'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.2, 12, 2.2, 15, 3],
      },
    },
  ];
}
