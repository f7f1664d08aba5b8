// Types mirroring the needmap JSON API, and the functions that fetch it.
// Everything is same-origin; GeoJSON is RFC 7946 (WGS84 lon/lat). Polygons (areas and
// boundary sets) come as Mapbox Vector Tiles from /tiles/{layer}/{z}/{x}/{y}.mvt.

import type { FeatureCollection, MultiPolygon, Point, Polygon } from 'geojson';

/** A count after disclosure control: a number, or a string such as "<10" when suppressed. */
export type Count = number | string;

export type Role = 'public' | 'planner' | (string & {});

/** [minLon, minLat, maxLon, maxLat] in WGS84. */
export type Bbox = [number, number, number, number];

/** GET /api/meta */
export interface Meta {
  region: string;
  bbox_wgs84: Bbox;
  areas: number;
  boundary_sets: string[];
  premises_kinds: string[];
  groups: string[];
  role: Role;
  /** Optional attribution text for the data shown (shown in the footer). */
  attribution?: string;
  /** Optional MapLibre style URL drawn beneath needmap's layers (null: no basemap, works offline). */
  basemap_style?: string | null;
}

/**
 * Properties of one small area in GET /api/areas (and /api/areas?geometry=false).
 * The `areas` vector tiles carry a subset (area_id, name, referrals, rate_per_1000,
 * need_score, simd_decile, simd_quintile), with absent properties instead of nulls.
 */
export interface AreaProperties {
  area_id: string;
  name: string | null;
  population: number | null;
  referrals: Count;
  /** null when suppressed or unknown. */
  rate_per_1000: number | null;
  /** 0-100. */
  need_score: number | null;
  simd_rank: number | null;
  /** 1 = most deprived. */
  simd_decile: number | null;
  simd_quintile: number | null;
}

/** GeoJSON of GET /api/areas (the map uses the `areas` tiles and the attributes instead). */
export type AreaCollection = FeatureCollection<Polygon | MultiPolygon, AreaProperties>;

/** GET /api/areas/{area_id} */
export interface AreaDetail extends AreaProperties {
  /** Parent codes by column name, e.g. {"iz2011": "S02001234", "council": "S12000036"}. */
  parents: Record<string, string>;
  referrals_by_group: Record<string, Count>;
  indicators: Record<string, number | null>;
}

export interface EquityTotal {
  areas: number;
  population: number;
  referrals: Count;
  rate_per_1000: number | null;
}

export interface EquityRow extends EquityTotal {
  /** 1 = most deprived ... 5 = least deprived. */
  simd_quintile: number;
}

/** GET /api/equity */
export interface Equity {
  rows: EquityRow[];
  total: EquityTotal;
}

/** Properties of one premises in GET /api/premises. */
export interface PremisesProperties {
  premises_id: string | number;
  name: string;
  /** school | nursery | health_centre | leisure_centre | social_work_office | care_provider | ... */
  kind: string;
  /** Semicolon-separated list of services. */
  services: string;
  capacity: number | null;
  provider: string | null;
  /** OpenStreetMap opening_hours syntax. */
  opening_hours: string | null;
}

export type PremisesCollection = FeatureCollection<Point, PremisesProperties>;

export interface BoundaryProperties {
  boundary_id: string | number;
  name: string | null;
}

/** GeoJSON of GET /api/boundaries/{name} (the map uses the boundary tiles instead). */
export type BoundaryCollection = FeatureCollection<Polygon | MultiPolygon, BoundaryProperties>;

export interface SearchResult {
  area_id: string;
  name: string | null;
  bbox_wgs84: Bbox;
}

/** GET /api/search?q= */
export interface SearchResponse {
  results: SearchResult[];
}

/** `method` of GET /api/access: how travel times were estimated. */
export interface AccessMethod {
  /** "straight_line": distance × circuity / speed; "road_network": over the roads. */
  type: string;
  circuity?: number;
  speed_kmh?: number;
  /** The server's own words, e.g. "road network, 15 km/h to and from the nearest road node". */
  description?: string;
}

/** `choice_deserts` of GET /api/access: areas with fewer than `below` providers within the threshold. */
export interface ChoiceDeserts {
  below: number;
  areas: number;
  /** Residents of choice-desert areas in SIMD quintiles 1 (most deprived) .. 5. */
  population_by_simd_quintile: (number | null)[];
}

/** One area in GET /api/access (same order as /api/areas?geometry=false). */
export interface AccessArea {
  area_id: string;
  /** Code of the nearest premises of the kind, by travel time. */
  nearest: string | null;
  nearest_name: string | null;
  /** Straight-line distance to the nearest premises, metres. */
  distance_m: number | null;
  /** Estimated travel time to the nearest premises, seconds. */
  travel_time_s: number | null;
  /** Distinct providers (operators) with premises within the threshold. */
  providers_within: number | null;
  choice_desert: boolean | null;
  /** 2SFCA: capacity per resident within the threshold. */
  access_2sfca: number | null;
  /** E2SFCA: capacity per resident, weighted by travel time (10 / 20 / 30 min steps). */
  access_e2sfca: number | null;
}

/** GET /api/access?kind=&threshold_min=&desert_below= */
export interface AccessResponse {
  kind: string;
  /** Number of premises of the kind. */
  premises: number;
  threshold_min: number;
  method: AccessMethod;
  choice_deserts: ChoiceDeserts;
  areas: AccessArea[];
}

/** Properties of one band of GET /api/premises/{id}/isochrones. */
export interface IsochroneProperties {
  premises_id: string | number;
  /** The band's travel time, minutes (the places reached within it). */
  minutes: number;
  /** Area of the band's polygons, km². */
  area_km2: number;
}

/**
 * GET /api/premises/{id}/isochrones?bands_min=: one (Multi)Polygon per band, cumulative
 * (each band holds the smaller ones), largest band first.
 */
export interface IsochroneCollection extends FeatureCollection<Polygon | MultiPolygon, IsochroneProperties> {
  /** How travel was timed, e.g. "road network, 15 km/h to and from the nearest road node". */
  method?: string;
}

/** The JSON body of every non-2xx response. */
export interface ApiErrorBody {
  error: string;
  message: string;
}

/** A failed API call: HTTP status, the server's error code and message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly url: string;

  constructor(status: number, code: string, message: string, url: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.url = url;
  }
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  return typeof v === 'object' && v !== null && typeof (v as ApiErrorBody).error === 'string';
}

/** Fetch JSON from the API, turning non-2xx answers and network failures into ApiError. */
export async function fetchJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json' }, signal });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', `Could not reach the server (${String(e)})`, url);
  }
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const body: unknown = await res.json();
      if (isErrorBody(body)) {
        code = body.error;
        if (typeof body.message === 'string' && body.message) message = body.message;
      }
    } catch {
      // Not JSON: keep the status text.
    }
    throw new ApiError(res.status, code, message, url);
  }
  try {
    return (await res.json()) as T;
  } catch (e) {
    throw new ApiError(res.status, 'bad_json', `The server sent a response that is not JSON (${String(e)})`, url);
  }
}

export const getMeta = (signal?: AbortSignal): Promise<Meta> => fetchJson<Meta>('/api/meta', signal);

/** `GET /api/areas?geometry=false`: the areas' properties without polygons. */
export interface AreaAttributes {
  /** In feature-id order: index i is the feature with id i in /api/areas and in the `areas` tiles. */
  areas: AreaProperties[];
}

export const AREA_ATTRIBUTES_URL = '/api/areas?geometry=false';

/**
 * The list of area properties in an answer of `/api/areas?geometry=false`:
 * `{"areas": [...]}`. A GeoJSON FeatureCollection (a server that ignores the
 * parameter) is accepted too: its features' properties, in feature order.
 * Returns null for anything else.
 */
export function parseAreaAttributes(body: unknown): AreaProperties[] | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as { areas?: unknown; type?: unknown; features?: unknown };
  const props = (list: unknown[]): AreaProperties[] =>
    list.map((p) => (typeof p === 'object' && p !== null ? (p as AreaProperties) : ({} as AreaProperties)));
  if (Array.isArray(b.areas)) return props(b.areas);
  if (b.type === 'FeatureCollection' && Array.isArray(b.features)) {
    return props(b.features.map((f: unknown) => (typeof f === 'object' && f !== null ? (f as { properties?: unknown }).properties : null)));
  }
  return null;
}

/** Every area's properties (no geometry), for legend breaks, counts and hover text. */
export async function getAreaAttributes(signal?: AbortSignal): Promise<AreaProperties[]> {
  const body = await fetchJson<unknown>(AREA_ATTRIBUTES_URL, signal);
  const areas = parseAreaAttributes(body);
  if (!areas) throw new ApiError(200, 'bad_response', 'The area attributes are not in the expected form {"areas": [...]}', AREA_ATTRIBUTES_URL);
  return areas;
}

export const getArea = (areaId: string, signal?: AbortSignal): Promise<AreaDetail> =>
  fetchJson<AreaDetail>(`/api/areas/${encodeURIComponent(areaId)}`, signal);

export const getEquity = (signal?: AbortSignal): Promise<Equity> => fetchJson<Equity>('/api/equity', signal);

export const getPremises = (signal?: AbortSignal): Promise<PremisesCollection> =>
  fetchJson<PremisesCollection>('/api/premises', signal);

export const searchAreas = (q: string, signal?: AbortSignal): Promise<SearchResponse> =>
  fetchJson<SearchResponse>(`/api/search?q=${encodeURIComponent(q)}`, signal);

/** The URL of GET /api/access for a premises kind and a threshold in minutes. */
export function accessUrl(kind: string, thresholdMin: number): string {
  return `/api/access?kind=${encodeURIComponent(kind)}&threshold_min=${encodeURIComponent(String(thresholdMin))}`;
}

/** Per-area access to one kind of premises. */
export async function getAccess(kind: string, thresholdMin: number, signal?: AbortSignal): Promise<AccessResponse> {
  const url = accessUrl(kind, thresholdMin);
  const body = await fetchJson<AccessResponse>(url, signal);
  if (typeof body !== 'object' || body === null || !Array.isArray(body.areas)) {
    throw new ApiError(200, 'bad_response', 'The access table is not in the expected form {"areas": [...]}', url);
  }
  return body;
}

/** The URL of GET /api/premises/{id}/isochrones for bands in minutes (e.g. 5,10,15). */
export function isochronesUrl(premisesId: string | number, bandsMin: readonly number[]): string {
  const bands = bandsMin.map((b) => String(b)).join(',');
  return `/api/premises/${encodeURIComponent(String(premisesId))}/isochrones?bands_min=${encodeURIComponent(bands).replace(/%2C/g, ',')}`;
}

/** Travel-time bands around one premises. */
export async function getIsochrones(premisesId: string | number, bandsMin: readonly number[], signal?: AbortSignal): Promise<IsochroneCollection> {
  const url = isochronesUrl(premisesId, bandsMin);
  const body = await fetchJson<IsochroneCollection>(url, signal);
  if (typeof body !== 'object' || body === null || body.type !== 'FeatureCollection' || !Array.isArray(body.features)) {
    throw new ApiError(200, 'bad_response', 'The travel-time bands are not a GeoJSON FeatureCollection', url);
  }
  return body;
}

/**
 * The tile URL template of a vector-tile layer (`areas` or a boundary set name), absolute
 * on `origin` (MapLibre fetches tiles from a worker, so relative URLs are not safe):
 * `${origin}/tiles/{layer}/{z}/{x}/{y}.mvt`.
 */
export function tileUrl(layer: string, origin: string): string {
  return `${origin.replace(/\/+$/, '')}/tiles/${encodeURIComponent(layer)}/{z}/{x}/{y}.mvt`;
}

/** A readable one-line description of any error thrown by the functions above. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const where = e.status ? `${e.status} ${e.code}` : e.code;
    return `${e.message} [${where}, ${e.url}]`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}
