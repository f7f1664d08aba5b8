// Travel-time bands (isochrones) of one premises, GET /api/premises/{id}/isochrones:
// the bands' colours, the features as drawn and the legend model. Pure (no DOM, no map):
// unit-tested in test/isochrones.test.ts.

import type { Feature, MultiPolygon, Polygon } from 'geojson';
import type { Bbox, IsochroneCollection, IsochroneProperties } from './api';
import { formatNumber } from './format';
import { rampColours } from './legend';

/** The bands asked for, minutes. */
export const ISOCHRONE_BANDS: readonly number[] = [5, 10, 15];

/**
 * Colours of the bands from the largest (lightest) to the smallest (darkest): ColorBrewer
 * BuGn's greens, which read over every choropleth ramp of the map.
 */
export const ISOCHRONE_ANCHORS: readonly string[] = ['#66c2a4', '#238b45', '#00441b'];
/** Outline colours, largest band first: darker than the fills, drawn over a white casing. */
export const ISOCHRONE_LINE_ANCHORS: readonly string[] = ['#238b45', '#006d2c', '#00441b'];

/** Opacity of each band's fill. The bands are cumulative, so the smallest is drawn over all. */
export const ISOCHRONE_FILL_OPACITY = 0.22;

/** Properties of a band as drawn: the API's plus its rank and colour. */
export interface DrawnBandProperties extends IsochroneProperties {
  /** 0 = the smallest band (drawn on top). */
  band: number;
  /** Fill colour. */
  colour: string;
  /** Outline colour. */
  line: string;
}

export type DrawnBands = {
  type: 'FeatureCollection';
  features: Feature<Polygon | MultiPolygon, DrawnBandProperties>[];
};

/** `n` band fill colours, smallest band first (darkest). */
export function bandColours(n: number, anchors: readonly string[] = ISOCHRONE_ANCHORS): string[] {
  if (n <= 0) return [];
  return rampColours(anchors, n).reverse();
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function hasPolygons(f: Feature | null | undefined): f is Feature<Polygon | MultiPolygon> {
  const g = f?.geometry;
  return !!g && (g.type === 'Polygon' || g.type === 'MultiPolygon') && Array.isArray(g.coordinates);
}

/**
 * The bands to draw: features with polygons and a number of minutes, largest band first
 * (so the smaller ones are drawn over it), each given its rank (`band`, 0 = smallest) and
 * colour (`colour`).
 */
export function prepareBands(fc: IsochroneCollection | null | undefined): DrawnBands {
  const usable = (fc?.features ?? []).filter((f) => hasPolygons(f) && finite(f.properties?.minutes));
  const bySize = [...usable].sort((a, b) => b.properties.minutes - a.properties.minutes);
  const colours = bandColours(bySize.length);
  const lines = bandColours(bySize.length, ISOCHRONE_LINE_ANCHORS);
  const n = bySize.length;
  return {
    type: 'FeatureCollection',
    features: bySize.map((f, i) => {
      const band = n - 1 - i;
      return {
        type: 'Feature',
        geometry: f.geometry,
        properties: { ...f.properties, band, colour: colours[band], line: lines[band] },
      };
    }),
  };
}

export interface BandRow {
  minutes: number;
  /** "Within 5 min". */
  label: string;
  /** "7.14 km²", or "—" when not given. */
  area: string;
  colour: string;
  /** Outline colour (the swatch's border). */
  line: string;
  /** Opacity of the band's swatch: the fills stacked over it (the smaller the band, the more). */
  opacity: number;
}

export interface IsochroneLegend {
  premisesId: string;
  name: string;
  /** "Within 5 / 10 / 15 min of Westmuir Social Work Office 1". */
  title: string;
  /** Smallest band first. */
  rows: BandRow[];
  /** "Travel: road network, 15 km/h to and from the nearest road node." */
  method: string;
}

/** "7.14 km²" (two decimals below 10 km², one below 100, none above). */
export function formatKm2(v: number | null | undefined): string {
  if (!finite(v)) return '—';
  const dp = Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0;
  return `${formatNumber(v, dp)} km²`;
}

/** The server's method line, tidied: "straight line x 1.3 at 30 km/h" -> "straight line × 1.3 at 30 km/h". */
export function isochroneMethod(method: unknown): string {
  if (typeof method !== 'string' || !method.trim()) return 'Travel: method not stated.';
  const m = method.trim().replace(/ x (?=\d)/g, ' × ');
  return `Travel: ${m}${/[.!?]$/.test(m) ? '' : '.'}`;
}

/** The legend block of the bands drawn for one premises. */
export function isochroneLegend(drawn: DrawnBands, method: unknown, premisesId: string | number, name: string | null | undefined): IsochroneLegend {
  const id = String(premisesId);
  const who = name?.trim() ? name.trim() : id;
  const n = drawn.features.length;
  const rows = drawn.features
    .map((f) => f.properties)
    .sort((a, b) => a.minutes - b.minutes)
    .map((p) => ({
      minutes: p.minutes,
      label: `Within ${formatNumber(p.minutes, 1)} min`,
      area: formatKm2(p.area_km2),
      colour: p.colour,
      line: p.line,
      opacity: 1 - (1 - ISOCHRONE_FILL_OPACITY) ** (n - p.band),
    }));
  const title = rows.length
    ? `Within ${rows.map((r) => formatNumber(r.minutes, 1)).join(' / ')} min of ${who}`
    : `No travel-time bands for ${who}`;
  return { premisesId: id, name: who, title, rows, method: isochroneMethod(method) };
}

/** The bounding box of the bands (WGS84), or null when there is nothing. */
export function bandsBbox(drawn: DrawnBands): Bbox | null {
  let b: Bbox | null = null;
  const add = (p: number[]): void => {
    const [x, y] = p;
    if (!finite(x) || !finite(y)) return;
    if (!b) b = [x, y, x, y];
    else b = [Math.min(b[0], x), Math.min(b[1], y), Math.max(b[2], x), Math.max(b[3], y)];
  };
  for (const f of drawn.features) {
    const g = f.geometry;
    const polys = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
    for (const poly of polys) for (const ring of poly) for (const p of ring) add(p);
  }
  return b;
}
