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
  /** Parent (roll-up) code columns of the areas, e.g. ["iz_code", "council_code"] (the boundary designer's parents). */
  rollup_levels?: string[];
  /** Parent code columns, when a server names them apart from the roll-up levels. */
  parent_columns?: string[];
  /** The one reach threshold (minutes) at which the public sees hours analyses of referrals. */
  public_hours_threshold_min?: number;
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
  /** Who may use the premises, in words (absent from older servers). */
  eligibility?: string | null;
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

// ---------------------------------------------------------------- hours (issue 5)

/** 168 values, one per hour of the week: slot 0 = Monday 00:00-01:00, Europe/London local time. */
export type WeekSlots<T> = T[];

export interface HoursTotals {
  timed: Count;
  unmet: Count;
  /** Percent (0-100) of timed referrals unmet; null when the counts are withheld. */
  unmet_pct: number | null;
}

/** One area of GET /api/hours/gap. */
export interface HoursGapArea {
  area_id: string;
  timed: Count;
  unmet: Count;
  unmet_pct: number | null;
}

/** One premises of GET /api/hours/gap. */
export interface HoursGapPremises {
  premises_id: string;
  name: string;
  opening_hours: string | null;
  open_hours_per_week: number | null;
  catchment_timed: Count;
  while_closed: Count;
  while_closed_pct: number | null;
}

/**
 * GET /api/hours/gap?kind=&threshold_min=&group=: referrals that arrived when no premises
 * of the kind within reach was open ("unmet"), by area, premises and hour of the week.
 */
export interface HoursGapResponse {
  kind: string;
  group: string | null;
  threshold_min: number;
  method: string;
  /** The Monday of the typical week used for opening hours (ISO date). */
  week_start: string;
  note: string;
  totals: HoursTotals;
  demand_by_hour: WeekSlots<Count>;
  unmet_by_hour: WeekSlots<Count>;
  areas: HoursGapArea[];
  premises: HoursGapPremises[];
}

/** One area of GET /api/hours/access. */
export interface HoursAccessArea {
  area_id: string;
  /** E2SFCA counting only premises open in the hour; 0 = nothing open in reach; null = nothing in reach at all. */
  score: number | null;
  /** Premises of the kind open in the hour within the threshold. */
  open_in_reach: number | null;
}

/** GET /api/hours/access?kind=&hour=&threshold_min=&decay= */
export interface HoursAccessResponse {
  kind: string;
  hour: number;
  /** The server's label of the hour, e.g. "Tu 17:00-18:00". */
  label: string;
  week_start: string;
  threshold_min: number;
  decay: string;
  method: string;
  demand: string;
  /** One colour-scale maximum of the score over all 168 hours. */
  scale_max: number | null;
  premises_open: string[];
  premises_total: number;
  areas: HoursAccessArea[];
}

/** One recommended extension of opening hours. */
export interface HoursExtension {
  rank?: number;
  premises_id: string;
  name: string;
  opening_hours: string | null;
  /** OSM-style rule of the hours added, e.g. "Th 17:00-18:00". */
  extension: string;
  extra_hours_per_week: number;
  referrals_covered: Count;
  covered_per_week: number | null;
  covered_per_extra_hour: number | null;
  cumulative_covered?: Count;
}

/** GET /api/hours/extensions?kind=&threshold_min=&group=&limit= */
export interface HoursExtensionsResponse {
  kind: string;
  group: string | null;
  threshold_min: number;
  method: string;
  weeks: number;
  unmet_referrals: Count;
  note: string;
  ranked: HoursExtension[];
  by_premises: { premises_id: string; best: HoursExtension[] }[];
}

/** GET /api/areas/{id}/hours?kind=&threshold_min=&group= */
export interface AreaHoursResponse {
  area_id: string;
  kind: string;
  group: string | null;
  threshold_min: number;
  week_start: string;
  /** Premises of the kind open within the threshold, per hour of a typical week. */
  open_in_reach: WeekSlots<number>;
  timed: Count;
  unmet: Count;
  unmet_pct: number | null;
  /** The area's nearest premises of the kind (its catchment). */
  catchment_premises: string | null;
  /** Demand by hour of the areas sharing this area's nearest premises. */
  catchment_demand: WeekSlots<Count>;
}

/** GET /api/premises/{id}/hours?week= */
export interface PremisesHoursResponse {
  premises_id: string;
  opening_hours: string | null;
  week_start: string;
  /** Share (0..1) of each hour of the week that the premises is open; null without opening hours. */
  open_share: WeekSlots<number> | null;
  open_hours_in_week?: number;
  catchment_demand?: WeekSlots<Count>;
  catchment_timed?: Count;
  while_closed?: Count;
  while_closed_pct?: number | null;
}

/** One place of GET /api/signpost, nearest (by travel time) first. */
export interface SignpostResult {
  rank: number;
  premises_id: string;
  name: string;
  kind: string;
  services: string[];
  provider: string | null;
  eligibility: string | null;
  opening_hours: string | null;
  lon: number;
  lat: number;
  travel_time_min: number;
  distance_m: number;
  now: 'open' | 'closed' | 'unknown';
  /** Local date-time (Europe/London, no offset) when it next closes, if open. */
  closes_at: string | null;
  /** Local date-time when it next opens, if closed. */
  opens_at: string | null;
  open_on_arrival: 'open' | 'closed' | 'unknown' | null;
  earliest_visit: string | null;
}

/** GET /api/signpost?lon=&lat=&service=&at=&limit=&max_min= */
export interface SignpostResponse {
  lon: number;
  lat: number;
  area_id: string | null;
  service: string | null;
  at: string;
  max_min: number;
  method: string;
  results: SignpostResult[];
}

// ---------------------------------------------------------------- siting and scenarios (issue 7)

/** Location-allocation models of GET /api/siting. */
export type SitingModel = 'mclp' | 'p_median' | 'p_center' | 'lscp';
/** Demand weights of GET /api/siting. */
export type SitingWeight = 'population' | 'need' | 'deprivation' | 'referrals';

/** The parameters of one siting request. */
export interface SitingParams {
  model: SitingModel;
  /** Premises kinds whose premises are the candidate sites. */
  candidates: string[];
  /** Sites to choose (ignored by LSCP, which chooses how many). */
  p: number;
  thresholdMin: number;
  weight: SitingWeight;
  /** Premises ids that must be among the sites. */
  keep?: string[];
  /** Premises kind whose coverage counts as "before" (e.g. social_work_office); null: none. */
  baseline?: string | null;
  seed?: number | null;
}

/** One chosen site of GET /api/siting. */
export interface SitingSite {
  premises_id: string;
  name: string;
  kind: string;
  lon: number;
  lat: number;
  /** Demand weight of the areas assigned to the site ("<10" when withheld for referrals). */
  weight_served: Count;
  areas_served: number;
}

/** One area of GET /api/siting. */
export interface SitingArea {
  area_id: string;
  /** The chosen site the area is assigned to (nearest), or null. */
  site: string | null;
  travel_time_min: number | null;
  /** Within the threshold of a chosen site. */
  covered: boolean;
  /** Within the threshold of the baseline premises (false without a baseline). */
  covered_before: boolean;
  /** covered && !covered_before. */
  newly_covered: boolean;
}

/** One SIMD quintile of GET /api/siting: demand and its share covered before and after. */
export interface SitingEquityRow {
  simd_quintile: number;
  demand: Count;
  covered_before_pct: number | null;
  covered_after_pct: number | null;
}

/** GET /api/siting?model=&candidates=&p=&threshold_min=&weight=[&keep=&baseline=&seed=] */
export interface SitingResponse {
  model: SitingModel | (string & {});
  weight: SitingWeight | (string & {});
  /** Sites chosen. */
  p: number;
  threshold_min: number;
  method: string;
  objective: Count;
  objective_unit: string;
  /** Upper bound on the distance from the optimum, percent. */
  gap_pct: number | null;
  proven_optimal: boolean;
  total_weight: Count;
  sites: SitingSite[];
  areas: SitingArea[];
  equity: SitingEquityRow[];
}

/** One edit of a scenario: the baseline premises changed. */
export type ScenarioEdit =
  | {
      op: 'add';
      id: string;
      name: string;
      kind: string;
      lon: number;
      lat: number;
      capacity?: number | null;
      opening_hours?: string | null;
      services?: string[];
      provider?: string | null;
    }
  | { op: 'close'; id: string }
  | { op: 'move'; id: string; lon: number; lat: number }
  | { op: 'hours'; id: string; opening_hours: string }
  | { op: 'capacity'; id: string; capacity: number };

/** One scenario of GET /api/scenarios ("baseline" is implicit and not listed). */
export interface ScenarioSummary {
  name: string;
  description: string | null;
  /** Number of edits. */
  edits: number;
  updated: string | null;
}

/** GET /api/scenarios */
export interface ScenarioList {
  scenarios: ScenarioSummary[];
}

/** GET /api/scenarios/{name} and the answer of PUT. */
export interface Scenario {
  name: string;
  description: string | null;
  edits: ScenarioEdit[];
  updated: string | null;
}

/** The metrics of one scenario for one premises kind, by SIMD quintile. */
export interface ScenarioQuintileMetrics {
  simd_quintile: number;
  coverage_pct: number | null;
  mean_travel_min: number | null;
  p95_travel_min: number | null;
  hours_gap_pct: number | null;
  providers_mean: number | null;
}

/** The metrics of one scenario for one premises kind. */
export interface ScenarioMetrics {
  name: string;
  /** Premises of the kind in the scenario. */
  premises: number;
  coverage_pct: number | null;
  mean_travel_min: number | null;
  p95_travel_min: number | null;
  /** Null when withheld. */
  hours_gap_pct: number | null;
  providers_mean: number | null;
  choice_desert_pct: number | null;
  by_quintile: ScenarioQuintileMetrics[];
}

/** One area of GET /api/scenarios/compare. */
export interface CompareArea {
  area_id: string;
  travel_time_min_a: number | null;
  travel_time_min_b: number | null;
  covered_a: boolean;
  covered_b: boolean;
}

/** GET /api/scenarios/compare?a=&b=&kind=&threshold_min= */
export interface CompareResponse {
  kind: string;
  threshold_min: number;
  method: string;
  a: ScenarioMetrics;
  b: ScenarioMetrics;
  areas: CompareArea[];
}

// ---------------------------------------------------------------- boundary harmonisation (issue 6)

/** One unit of a layer in GET /api/coterminosity (units_a / units_b). */
export interface CotermUnit {
  code: string;
  name: string | null;
  population: number;
  area_km2: number;
  /** The counterpart (unit of the other layer) holding most of its population; null when it meets none. */
  dominant: string | null;
  /** Co-terminosity index, 0..1: the share of the unit's population inside its dominant counterpart. */
  index: number;
  /** Counterparts it meets (slivers aside). */
  counterparts: number;
  /** 1 / Σ share² over its population shares. */
  effective_counterparts: number;
}

/** A piece of a unit outside its dominant counterpart. */
export interface CotermSplit {
  side: 'a' | 'b';
  unit: string;
  counterpart: string;
  population: number;
  area_km2: number;
  /** Share (0..1) of the unit's population in the piece. */
  share: number;
}

/** One non-empty cell A_i ∩ B_j of the intersection matrix. */
export interface CotermCell {
  a: string;
  b: string;
  area_km2: number;
  population: number;
  sliver: boolean;
}

/** GET /api/coterminosity?a=&b=&split_share= */
export interface CoterminosityResponse {
  a: string;
  b: string;
  /** min(fragmentation_a, fragmentation_b), 0..1 (0 = co-terminous or nested). */
  fragmentation: number;
  fragmentation_a: number;
  fragmentation_b: number;
  units_a_split: number;
  units_b_split: number;
  slivers: number;
  population_outside_a: number;
  population_outside_b: number;
  geometry_problems: number;
  overlay_fallbacks: number;
  units_a: CotermUnit[];
  units_b: CotermUnit[];
  splits: CotermSplit[];
  matrix: CotermCell[];
  /** Best fit of every small area in both layers. */
  lookup: { area_id: string; a: string | null; b: string | null }[];
}

/** Properties of one piece of GET /api/coterminosity/splits. */
export interface SplitPieceProperties {
  unit: string;
  counterpart: string;
  population: number;
  share: number;
}

export type SplitPieces = FeatureCollection<Polygon | MultiPolygon, SplitPieceProperties>;

export type DesignBalance = 'population' | 'referrals';

/** The parameters of one boundary design. */
export interface DesignParams {
  /** Parent code column the units nest in (e.g. council_code). */
  parent: string;
  /** The layer the units should follow. */
  target: string;
  /** Today's layer, whose co-terminosity with the target is "before" (null: none). */
  current?: string | null;
  /** Allowed deviation from the parent's mean unit weight, 0.01..0.9 (0.1 = ±10 %). */
  tolerance: number;
  balance: DesignBalance;
}

/** Properties of one proposed unit of GET /api/design. */
export interface DesignUnitProperties {
  unit_id: string;
  parent: string;
  /** The target unit it stands for (null for extra units). */
  aligned_with: string | null;
  areas: number;
  /** Population, or referrals (a count after disclosure control, "<10" when withheld). */
  weight: Count;
  within_tolerance: boolean;
}

/** GET /api/design?parent=&target=[&current=&tolerance=&balance=] */
export interface DesignResponse extends FeatureCollection<Polygon | MultiPolygon, DesignUnitProperties> {
  parent?: string;
  target?: string;
  current?: string | null;
  /** Co-terminosity (0..1) of `current` with the target; null without `current`. */
  coterminosity_before: number | null;
  coterminosity_after: number;
  /** The best-fit grouping's co-terminosity: the most whole areas allow (constraints aside). */
  ceiling: number;
  /** Constraints that could not be met, in the server's words. */
  /** Structured entries `{kind, message, ...}` (older servers sent debug strings). */
  infeasible: (string | { kind?: string; message?: string })[];
  tolerance: number;
  balance: DesignBalance;
  lookup: { area_id: string; unit_id: string }[];
}

// ---------------------------------------------------------------- trends and anticipatory need (issue 10)

/** Direction of an area's trend after the false discovery rate: `none` = no significant trend. */
export type TrendDirection = 'rising' | 'falling' | 'none';

/** One area of GET /api/trends. */
export interface TrendArea {
  area_id: string;
  /** Referrals per complete period (same order as `periods`), after disclosure control: numbers, "<10" or "[c]". */
  counts: Count[];
  direction: TrendDirection | (string & {});
  /** p-value of the trend test (null when not tested). */
  p: number | null;
  /** q-value: the p-value adjusted for the false discovery rate across areas. */
  q: number | null;
  /** Rank among the rising areas (1 = fastest), null for the others. */
  rank: number | null;
  /** Growth of referrals, percent a year (Poisson rate ratio per year − 1, × 100). */
  growth_pct_per_year: number | null;
  /** Change of the referral rate per 1,000 residents per year. */
  rate_per_1000_per_year: number | null;
  /** Sen's slope of the counts, referrals per year. */
  sen_slope_per_year: number | null;
}

/** GET /api/trends?period=&group=&test=&alpha= */
export interface TrendsResponse {
  /** month | quarter | year */
  period: string;
  /** The complete periods, in time order: "2023-02", "2024-Q1" or "2024". */
  periods: string[];
  /** Periods the extract covers only in part (left out). */
  partial?: unknown[];
  /** The trend test, e.g. "mann-kendall". */
  test: string;
  alpha: number;
  group: string | null;
  areas: TrendArea[];
  /** The rising areas, fastest first. */
  rising: string[];
}

/** Getis-Ord Gi* classes: hot or cold spot at a confidence level, or not significant. */
export type HotspotClass = 'hot_99' | 'hot_95' | 'hot_90' | 'not_significant' | 'cold_90' | 'cold_95' | 'cold_99';

/** Emerging hot and cold spot categories (as ArcGIS's emerging hot spot analysis). */
export type EmergingCategory =
  | 'new_hot_spot'
  | 'consecutive_hot_spot'
  | 'intensifying_hot_spot'
  | 'persistent_hot_spot'
  | 'diminishing_hot_spot'
  | 'sporadic_hot_spot'
  | 'oscillating_hot_spot'
  | 'historical_hot_spot'
  | 'new_cold_spot'
  | 'consecutive_cold_spot'
  | 'intensifying_cold_spot'
  | 'persistent_cold_spot'
  | 'diminishing_cold_spot'
  | 'sporadic_cold_spot'
  | 'oscillating_cold_spot'
  | 'historical_cold_spot'
  | 'no_pattern';

/** One area of GET /api/hotspots. */
export interface HotspotArea {
  area_id: string;
  class: HotspotClass | (string & {});
  /** q-value after the false discovery rate. */
  q: number | null;
  /** Local Moran's I quadrant (HH, LL, HL, LH), null when not significant. */
  moran_quadrant: 'HH' | 'LL' | 'HL' | 'LH' | (string & {}) | null;
  /** With `emerging=true`: the emerging hot spot category; otherwise null or absent. */
  emerging?: EmergingCategory | (string & {}) | null;
  /** Gi* z-score (planners only; null for the public). */
  z: number | null;
  gi: number | null;
}

/** GET /api/hotspots?weights=&value=&emerging=&period= */
export interface HotspotsResponse {
  /** The spatial weights in words, e.g. "rook contiguity". */
  weights: string;
  /** rate | count */
  value: string;
  alpha: number;
  fdr: boolean;
  periods: string[];
  areas: HotspotArea[];
}

/** Projected referrals with their prediction interval, one value per projected period. */
export interface ProjectionSeries {
  projected: Count[];
  lower: Count[];
  upper: Count[];
}

export interface ProjectionArea extends ProjectionSeries {
  area_id: string;
}

/** GET /api/projection?horizon=&model=&level=&period= */
export interface ProjectionResponse {
  period: string;
  /** Periods projected. */
  horizon: number;
  /** trend | damped:0.9 | level */
  model: string;
  /** Level of the prediction interval, e.g. 0.95. */
  level: number;
  /** The projected periods, e.g. ["2025-01", "2025-02", "2025-03"]. */
  periods: string[];
  areas: ProjectionArea[];
  /** The whole region. */
  region: ProjectionSeries;
}

/** Why an area is on the early-warning list ("rate", "growth", "hotspot", "emerging"). */
export type WarningReason = 'rate' | 'growth' | 'hotspot' | 'emerging' | (string & {});

/** One flagged area of GET /api/early-warning, most reasons and most demand first. */
export interface EarlyWarningArea {
  area_id: string;
  reasons: WarningReason[];
  /** Referrals per 1,000 residents per year over the recent year (null when withheld). */
  rate_per_1000: number | null;
  growth_pct_per_year: number | null;
  /** Projected referrals per period at the end of the horizon. */
  projected: Count | null;
}

/** GET /api/early-warning?rate_min=&growth_min=&hotspot_confidence=&horizon= */
export interface EarlyWarningResponse {
  /** The thresholds applied. */
  rules: Record<string, unknown>;
  areas: EarlyWarningArea[];
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

/** A query string from the parameters that are set (null/undefined/'' left out), in order. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Options shared by the hours endpoints. */
export interface HoursOptions {
  thresholdMin?: number | null;
  group?: string | null;
}

export function hoursGapUrl(kind: string, o: HoursOptions = {}): string {
  return `/api/hours/gap${query({ kind, threshold_min: o.thresholdMin, group: o.group })}`;
}

export function hoursAccessUrl(kind: string, hour: number, o: HoursOptions & { decay?: string | null } = {}): string {
  return `/api/hours/access${query({ kind, hour, threshold_min: o.thresholdMin, decay: o.decay })}`;
}

export function hoursExtensionsUrl(kind: string, o: HoursOptions & { limit?: number | null } = {}): string {
  return `/api/hours/extensions${query({ kind, threshold_min: o.thresholdMin, group: o.group, limit: o.limit })}`;
}

export function areaHoursUrl(areaId: string, kind: string, o: HoursOptions = {}): string {
  return `/api/areas/${encodeURIComponent(areaId)}/hours${query({ kind, threshold_min: o.thresholdMin, group: o.group })}`;
}

export function premisesHoursUrl(premisesId: string | number, week?: string | null): string {
  return `/api/premises/${encodeURIComponent(String(premisesId))}/hours${query({ week })}`;
}

export interface SignpostQuery {
  lon: number;
  lat: number;
  service?: string | null;
  /** Local date-time, e.g. 2024-03-05T17:30 (UK local time). */
  at?: string | null;
  limit?: number | null;
  maxMin?: number | null;
}

export function signpostUrl(q: SignpostQuery): string {
  // Six decimals (about 0.1 m) are plenty for a click.
  const round = (v: number): string => String(Math.round(v * 1e6) / 1e6);
  return `/api/signpost${query({ lon: round(q.lon), lat: round(q.lat), service: q.service, at: q.at, limit: q.limit, max_min: q.maxMin })}`;
}

function expectArray(body: unknown, field: string, what: string, url: string): void {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as Record<string, unknown>)[field])) {
    throw new ApiError(200, 'bad_response', `${what} is not in the expected form {"${field}": [...]}`, url);
  }
}

export async function getHoursGap(kind: string, o: HoursOptions = {}, signal?: AbortSignal): Promise<HoursGapResponse> {
  const url = hoursGapUrl(kind, o);
  const body = await fetchJson<HoursGapResponse>(url, signal);
  expectArray(body, 'areas', 'The hours gap', url);
  return body;
}

export async function getHoursAccess(kind: string, hour: number, o: HoursOptions & { decay?: string | null } = {}, signal?: AbortSignal): Promise<HoursAccessResponse> {
  const url = hoursAccessUrl(kind, hour, o);
  const body = await fetchJson<HoursAccessResponse>(url, signal);
  expectArray(body, 'areas', 'The hours access table', url);
  return body;
}

export async function getHoursExtensions(kind: string, o: HoursOptions & { limit?: number | null } = {}, signal?: AbortSignal): Promise<HoursExtensionsResponse> {
  const url = hoursExtensionsUrl(kind, o);
  const body = await fetchJson<HoursExtensionsResponse>(url, signal);
  expectArray(body, 'ranked', 'The list of extensions', url);
  return body;
}

export async function getAreaHours(areaId: string, kind: string, o: HoursOptions = {}, signal?: AbortSignal): Promise<AreaHoursResponse> {
  const url = areaHoursUrl(areaId, kind, o);
  const body = await fetchJson<AreaHoursResponse>(url, signal);
  expectArray(body, 'open_in_reach', 'The area’s week', url);
  return body;
}

export const getPremisesHours = (premisesId: string | number, week?: string | null, signal?: AbortSignal): Promise<PremisesHoursResponse> =>
  fetchJson<PremisesHoursResponse>(premisesHoursUrl(premisesId, week), signal);

export async function getSignpost(q: SignpostQuery, signal?: AbortSignal): Promise<SignpostResponse> {
  const url = signpostUrl(q);
  const body = await fetchJson<SignpostResponse>(url, signal);
  expectArray(body, 'results', 'The signpost answer', url);
  return body;
}

/** The URL of GET /api/siting (keep, baseline and seed only when set; no p for LSCP). */
export function sitingUrl(q: SitingParams): string {
  return `/api/siting${query({
    model: q.model,
    candidates: q.candidates.join(','),
    p: q.model === 'lscp' ? null : q.p,
    threshold_min: q.thresholdMin,
    weight: q.weight,
    keep: q.keep?.length ? q.keep.join(',') : null,
    baseline: q.baseline,
    seed: q.seed,
  })}`.replace(/%2C/g, ',');
}

export async function getSiting(q: SitingParams, signal?: AbortSignal): Promise<SitingResponse> {
  const url = sitingUrl(q);
  const body = await fetchJson<SitingResponse>(url, signal);
  expectArray(body, 'sites', 'The siting answer', url);
  expectArray(body, 'areas', 'The siting answer', url);
  return body;
}

/** Send a JSON body (PUT, DELETE...), with the same error handling as fetchJson; a 204 gives null. */
export async function sendJson<T>(method: string, url: string, body?: unknown, signal?: AbortSignal): Promise<T | null> {
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', `Could not reach the server (${String(e)})`, url);
  }
  if (!res.ok) {
    let code = `http_${res.status}`;
    let message = res.statusText || `HTTP ${res.status}`;
    try {
      const b: unknown = await res.json();
      if (isErrorBody(b)) {
        code = b.error;
        if (typeof b.message === 'string' && b.message) message = b.message;
      }
    } catch {
      // Not JSON: keep the status text.
    }
    throw new ApiError(res.status, code, message, url);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text.trim()) return null;
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new ApiError(res.status, 'bad_json', `The server sent a response that is not JSON (${String(e)})`, url);
  }
}

export function scenarioUrl(name: string): string {
  return `/api/scenarios/${encodeURIComponent(name)}`;
}

export function compareUrl(a: string, b: string, kind: string, thresholdMin: number): string {
  return `/api/scenarios/compare${query({ a, b, kind, threshold_min: thresholdMin })}`;
}

export async function listScenarios(signal?: AbortSignal): Promise<ScenarioList> {
  const url = '/api/scenarios';
  const body = await fetchJson<ScenarioList>(url, signal);
  expectArray(body, 'scenarios', 'The list of scenarios', url);
  return body;
}

export async function getScenario(name: string, signal?: AbortSignal): Promise<Scenario> {
  const url = scenarioUrl(name);
  const body = await fetchJson<Scenario>(url, signal);
  expectArray(body, 'edits', 'The scenario', url);
  return body;
}

/** Store a scenario (created or replaced); resolves with the stored scenario. */
export async function putScenario(name: string, s: { description?: string | null; edits: ScenarioEdit[] }, signal?: AbortSignal): Promise<Scenario> {
  const url = scenarioUrl(name);
  const body = await sendJson<Scenario>('PUT', url, s, signal);
  return body ?? { name, description: s.description ?? null, edits: s.edits, updated: null };
}

export async function deleteScenario(name: string, signal?: AbortSignal): Promise<void> {
  await sendJson<unknown>('DELETE', scenarioUrl(name), undefined, signal);
}

export async function compareScenarios(a: string, b: string, kind: string, thresholdMin: number, signal?: AbortSignal): Promise<CompareResponse> {
  const url = compareUrl(a, b, kind, thresholdMin);
  const body = await fetchJson<CompareResponse>(url, signal);
  expectArray(body, 'areas', 'The comparison', url);
  if (typeof body.a !== 'object' || body.a === null || typeof body.b !== 'object' || body.b === null) {
    throw new ApiError(200, 'bad_response', 'The comparison has no metrics for a and b', url);
  }
  return body;
}

export function coterminosityUrl(a: string, b: string, splitShare?: number | null): string {
  return `/api/coterminosity${query({ a, b, split_share: splitShare })}`;
}

export function splitsUrl(a: string, b: string, splitShare?: number | null): string {
  return `/api/coterminosity/splits${query({ a, b, split_share: splitShare })}`;
}

export function designUrl(q: DesignParams): string {
  return `/api/design${query({ parent: q.parent, target: q.target, current: q.current, tolerance: q.tolerance, balance: q.balance })}`;
}

export async function getCoterminosity(a: string, b: string, splitShare?: number | null, signal?: AbortSignal): Promise<CoterminosityResponse> {
  const url = coterminosityUrl(a, b, splitShare);
  const body = await fetchJson<CoterminosityResponse>(url, signal);
  expectArray(body, 'units_a', 'The co-terminosity answer', url);
  expectArray(body, 'splits', 'The co-terminosity answer', url);
  return body;
}

export async function getSplitPieces(a: string, b: string, splitShare?: number | null, signal?: AbortSignal): Promise<SplitPieces> {
  const url = splitsUrl(a, b, splitShare);
  const body = await fetchJson<SplitPieces>(url, signal);
  if (typeof body !== 'object' || body === null || body.type !== 'FeatureCollection' || !Array.isArray(body.features)) {
    throw new ApiError(200, 'bad_response', 'The split pieces are not a GeoJSON FeatureCollection', url);
  }
  return body;
}

export async function getDesign(q: DesignParams, signal?: AbortSignal): Promise<DesignResponse> {
  const url = designUrl(q);
  const body = await fetchJson<DesignResponse>(url, signal);
  if (typeof body !== 'object' || body === null || body.type !== 'FeatureCollection' || !Array.isArray(body.features)) {
    throw new ApiError(200, 'bad_response', 'The proposal is not a GeoJSON FeatureCollection', url);
  }
  return body;
}

/** Parameters of GET /api/trends (the public may use only the defaults: send none). */
export interface TrendsQuery {
  period?: string | null;
  group?: string | null;
  /** mann-kendall | poisson */
  test?: string | null;
  alpha?: number | null;
}

export function trendsUrl(q: TrendsQuery = {}): string {
  return `/api/trends${query({ period: q.period, group: q.group, test: q.test, alpha: q.alpha })}`;
}

/** Parameters of GET /api/hotspots. */
export interface HotspotsQuery {
  /** rook | queen | distance:METRES */
  weights?: string | null;
  value?: 'rate' | 'count' | null;
  /** Ask for the emerging hot spot categories too. */
  emerging?: boolean | null;
  period?: string | null;
}

export function hotspotsUrl(q: HotspotsQuery = {}): string {
  const emerging = q.emerging === undefined || q.emerging === null ? null : String(q.emerging);
  return `/api/hotspots${query({ weights: q.weights, value: q.value, emerging, period: q.period })}`;
}

/** Parameters of GET /api/projection. */
export interface ProjectionQuery {
  horizon?: number | null;
  /** trend | damped:0.9 | level */
  model?: string | null;
  /** Level of the prediction interval, e.g. 0.95. */
  level?: number | null;
  period?: string | null;
}

export function projectionUrl(q: ProjectionQuery = {}): string {
  return `/api/projection${query({ horizon: q.horizon, model: q.model, level: q.level, period: q.period })}`.replace(/%3A/g, ':');
}

/** Parameters of GET /api/early-warning (thresholds; unset ones take the server's defaults). */
export interface EarlyWarningQuery {
  /** Referrals per 1,000 residents per year. */
  rateMin?: number | null;
  /** Growth a year as a share: 0.1 = 10 %. */
  growthMin?: number | null;
  /** 90, 95 or 99. */
  hotspotConfidence?: number | null;
  horizon?: number | null;
}

export function earlyWarningUrl(q: EarlyWarningQuery = {}): string {
  return `/api/early-warning${query({ rate_min: q.rateMin, growth_min: q.growthMin, hotspot_confidence: q.hotspotConfidence, horizon: q.horizon })}`;
}

export async function getTrends(q: TrendsQuery = {}, signal?: AbortSignal): Promise<TrendsResponse> {
  const url = trendsUrl(q);
  const body = await fetchJson<TrendsResponse>(url, signal);
  expectArray(body, 'areas', 'The trends table', url);
  expectArray(body, 'periods', 'The trends table', url);
  return body;
}

export async function getHotspots(q: HotspotsQuery = {}, signal?: AbortSignal): Promise<HotspotsResponse> {
  const url = hotspotsUrl(q);
  const body = await fetchJson<HotspotsResponse>(url, signal);
  expectArray(body, 'areas', 'The hot spots table', url);
  return body;
}

export async function getProjection(q: ProjectionQuery = {}, signal?: AbortSignal): Promise<ProjectionResponse> {
  const url = projectionUrl(q);
  const body = await fetchJson<ProjectionResponse>(url, signal);
  expectArray(body, 'areas', 'The projection', url);
  expectArray(body, 'periods', 'The projection', url);
  return body;
}

export async function getEarlyWarning(q: EarlyWarningQuery = {}, signal?: AbortSignal): Promise<EarlyWarningResponse> {
  const url = earlyWarningUrl(q);
  const body = await fetchJson<EarlyWarningResponse>(url, signal);
  expectArray(body, 'areas', 'The early-warning list', url);
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
