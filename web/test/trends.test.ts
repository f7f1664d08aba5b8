import { describe, expect, it } from 'vitest';
import { createExpression, latest, type StylePropertySpecification } from '@maplibre/maplibre-gl-style-spec';
import {
  ApiError,
  earlyWarningUrl,
  hotspotsUrl,
  projectionUrl,
  trendsUrl,
  type Count,
  type EarlyWarningArea,
  type HotspotArea,
  type HotspotsResponse,
  type ProjectionArea,
  type ProjectionResponse,
  type TrendArea,
  type TrendsResponse,
} from '../src/api';
import { NO_DATA_COLOUR, TRENDS_VARIABLES, isAccessVariable, isHoursVariable, isTrendsVariable, variableDef } from '../src/legend';
import {
  BELOW_COLOURS,
  EMERGING_CATEGORIES,
  EMERGING_COLOURS,
  HOTSPOT_CLASSES,
  HOTSPOT_COLOURS,
  TREND_COLOURS,
  TRENDS_STATE_KEYS,
  WITHHELD_COLOUR,
  alignRows,
  bandPath,
  belowThreshold,
  buildEmergingLegend,
  buildHotspotLegend,
  buildProjectionLegend,
  buildTrendCountLegend,
  buildTrendLegend,
  clampIndex,
  countEntries,
  countFillExpression,
  countHover,
  countKind,
  countScale,
  countStateValue,
  earlyWarningText,
  emergingFillExpression,
  emergingHover,
  emergingLabel,
  emergingState,
  formatGrowth,
  formatQ,
  hotspotFillExpression,
  hotspotHover,
  hotspotLabel,
  hotspotState,
  intervalText,
  isMissingRoute,
  listErrorText,
  levelText,
  modelText,
  periodLabel,
  periodNoun,
  periodRange,
  projectionFillExpression,
  projectionHover,
  projectionScale,
  projectionState,
  reasonText,
  reasonsText,
  risingText,
  sectionStatus,
  signed,
  sliderText,
  sparklineModel,
  sparklinePath,
  sparklineSummary,
  testName,
  topRising,
  trendCountFillExpression,
  trendCountScale,
  trendCountState,
  trendFillExpression,
  trendHover,
  trendState,
  trendsErrorMessage,
  trendsNoDataOpacity,
  trendsSource,
} from '../src/trends';

const fillSpec = latest.paint_fill['fill-color'] as StylePropertySpecification;
const opacitySpec = latest.paint_fill['fill-opacity'] as StylePropertySpecification;
function evaluate(expr: unknown, spec: StylePropertySpecification, state: Record<string, unknown>): unknown {
  const parsed = createExpression(expr, 'layers[0].paint', spec);
  if (parsed.result !== 'success') throw new Error(JSON.stringify(parsed.value));
  return parsed.value.evaluate({ zoom: 10 }, { type: 'Polygon', properties: {} } as never, state as never);
}
const colour = (expr: unknown, state: Record<string, unknown>): string => (evaluate(expr, fillSpec, state) as { toString(): string }).toString();
const rgba = (h: string): string => {
  const n = parseInt(h.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},1)`;
};

const trendRow = (area_id: string, counts: Count[], over: Partial<TrendArea> = {}): TrendArea => ({
  area_id,
  counts,
  direction: 'none',
  p: 0.5,
  q: 0.6,
  rank: null,
  growth_pct_per_year: 1,
  rate_per_1000_per_year: 0.1,
  sen_slope_per_year: 0.5,
  ...over,
});

const trends = (areas: TrendArea[], over: Partial<TrendsResponse> = {}): TrendsResponse => ({
  period: 'month',
  periods: ['2024-01', '2024-02', '2024-03'],
  partial: ['2023-12'],
  test: 'mann-kendall',
  alpha: 0.05,
  group: null,
  areas,
  rising: [],
  ...over,
});

const hot = (area_id: string, cls: string, emerging: string | null = null): HotspotArea => ({ area_id, class: cls, q: 0.01, moran_quadrant: null, emerging, z: null, gi: null });
const hotspots = (areas: HotspotArea[]): HotspotsResponse => ({ weights: 'rook contiguity', value: 'rate', alpha: 0.05, fdr: true, periods: ['2024-01', '2024-03'], areas });

const projRow = (area_id: string, projected: Count[], lower: Count[], upper: Count[]): ProjectionArea => ({ area_id, projected, lower, upper });
const projection = (areas: ProjectionArea[]): ProjectionResponse => ({
  period: 'month',
  horizon: 2,
  model: 'trend',
  level: 0.95,
  periods: ['2024-04', '2024-05'],
  areas,
  region: { projected: [400, 410], lower: [350, 355], upper: [450, 470] },
});

describe('the trends variables and URLs', () => {
  it('adds five variables under "Trends and hot spots"', () => {
    expect(TRENDS_VARIABLES.map((v) => v.id)).toEqual(['trend', 'trend_counts', 'hotspots', 'emerging_hotspots', 'projection']);
    expect(TRENDS_VARIABLES.map((v) => v.label)).toEqual(['Trend', 'Referrals per period', 'Hot spots', 'Emerging hot spots', 'Projected demand']);
    expect(isTrendsVariable('hotspots')).toBe(true);
    expect(isTrendsVariable('hours_gap')).toBe(false);
    expect(isAccessVariable('trend')).toBe(false);
    expect(isHoursVariable('projection')).toBe(false);
    expect(trendsSource('trend')).toBe('trends');
    expect(trendsSource('trend_counts')).toBe('trends');
    expect(trendsSource('emerging_hotspots')).toBe('emerging');
    expect(new Set(Object.values(TRENDS_STATE_KEYS)).size).toBe(5);
  });
  it('builds the URLs, sending only what is set (the public sends no period or group)', () => {
    expect(trendsUrl()).toBe('/api/trends');
    expect(trendsUrl({ period: 'quarter', group: 'adults', test: 'poisson', alpha: 0.1 })).toBe('/api/trends?period=quarter&group=adults&test=poisson&alpha=0.1');
    expect(hotspotsUrl()).toBe('/api/hotspots');
    expect(hotspotsUrl({ emerging: true })).toBe('/api/hotspots?emerging=true');
    expect(hotspotsUrl({ weights: 'distance:1500', value: 'count', emerging: false })).toBe('/api/hotspots?weights=distance%3A1500&value=count&emerging=false');
    expect(projectionUrl({ horizon: 3 })).toBe('/api/projection?horizon=3');
    expect(projectionUrl({ horizon: 6, model: 'damped:0.9', level: 0.8 })).toBe('/api/projection?horizon=6&model=damped:0.9&level=0.8');
    expect(earlyWarningUrl()).toBe('/api/early-warning');
    expect(earlyWarningUrl({ rateMin: 40, growthMin: 0.1, hotspotConfidence: 95, horizon: 3 })).toBe('/api/early-warning?rate_min=40&growth_min=0.1&hotspot_confidence=95&horizon=3');
  });
});

describe('periods and slider labels', () => {
  it('labels months, quarters and years', () => {
    expect(periodLabel('2024-03')).toBe('Mar 2024');
    expect(periodLabel('2024-03', true)).toBe('March 2024');
    expect(periodLabel('2024-Q1')).toBe('Q1 2024');
    expect(periodLabel('2024-Q4', true)).toBe('Q4 2024 (October to December)');
    expect(periodLabel('2024')).toBe('2024');
    expect(periodLabel('week 3')).toBe('week 3');
    expect(periodLabel('2024-13')).toBe('2024-13');
    expect(periodLabel(null)).toBe('—');
    expect(periodRange(['2024-01', '2024-02', '2024-03'])).toBe('Jan 2024 – Mar 2024');
    expect(periodNoun('quarter', true)).toBe('quarters');
    expect(periodNoun('fortnight')).toBe('period');
  });
  it('clamps slider positions, the last period by default', () => {
    expect(clampIndex(null, 5)).toBe(4);
    expect(clampIndex(-2, 5)).toBe(0);
    expect(clampIndex(9, 5)).toBe(4);
    expect(clampIndex(2.4, 5)).toBe(2);
    expect(clampIndex(3, 0)).toBe(0);
  });
  it('gives the slider a short label and a spoken value', () => {
    expect(sliderText(['2024-01', '2024-02'], 0)).toEqual({ label: 'Jan 2024', valuetext: 'January 2024', position: '1 of 2' });
    expect(sliderText(['2024-01', '2024-02'], null).valuetext).toBe('February 2024');
    expect(sliderText([], 0).valuetext).toBe('No periods');
  });
});

describe('formatting', () => {
  it('formats q-values, growth and signed changes', () => {
    expect(formatQ(0.01234)).toBe('0.012');
    expect(formatQ(0.0002)).toBe('< 0.001');
    expect(formatQ(null)).toBe('—');
    expect(signed(12.34)).toBe('+12.3');
    expect(signed(-8)).toBe('−8');
    expect(signed(0.01)).toBe('0');
    expect(formatGrowth(12.34)).toBe('+12.3 % a year');
    expect(formatGrowth(-5)).toBe('−5 % a year');
  });
  it('states intervals, levels, models and tests', () => {
    expect(intervalText(20, 45, 0.95)).toBe('95 % interval 20–45');
    expect(intervalText('<10', 25, 0.8)).toBe('80 % interval <10–25');
    expect(intervalText(null, null, 0.95)).toBe('95 % interval not known');
    expect(levelText(0.95)).toBe('95 %');
    expect(modelText('damped:0.9')).toBe('damped trend (φ = 0.9)');
    expect(modelText('level')).toBe('level (no trend)');
    expect(testName('mann-kendall')).toBe('Mann-Kendall');
    expect(testName('poisson')).toBe('Poisson');
  });
});

describe('protected counts', () => {
  it('reads numbers, counts below the threshold, withheld and missing counts', () => {
    expect(countKind(12)).toBe('value');
    expect(countKind(0)).toBe('value');
    expect(countKind('<10')).toBe('below');
    expect(countKind('<5')).toBe('below');
    expect(countKind('[c]')).toBe('withheld');
    expect(countKind(null)).toBe('missing');
    expect(countKind('')).toBe('missing');
    expect(belowThreshold('<10')).toBe(10);
    expect(belowThreshold('[c]')).toBeNull();
    expect(countStateValue(25)).toBe(25);
    expect(countStateValue(' <10')).toBe('<10');
    expect(countStateValue('[c]')).toBe('[c]');
    expect(countStateValue(undefined)).toBeNull();
  });
  it('gives "<10" and "[c]" their own legend swatches around one scale', () => {
    const scale = countScale([10, 15, 20, 25, 30, 50, 80, 100, 120, 200, '<10', '[c]', null], variableDef('trend_counts').anchors, 5);
    expect(scale.below).toBe('<10');
    expect(scale.min).toBe(10);
    expect(scale.max).toBe(200);
    expect(scale.breaks.length).toBe(4);
    const { entries, noData } = countEntries([10, 200, '<10', '<10', '[c]', null], scale, BELOW_COLOURS.trend_counts);
    expect(entries[0]).toMatchObject({ key: 'below', label: 'fewer than 10 (<10)', count: 2, colour: BELOW_COLOURS.trend_counts });
    expect(entries[entries.length - 1]).toMatchObject({ key: 'withheld', count: 1, colour: WITHHELD_COLOUR });
    expect(entries[entries.length - 1].label).toContain('[c]');
    expect(entries.slice(1, -1).map((e) => e.count)).toEqual([1, 0, 0, 0, 1]);
    expect(noData.count).toBe(1);
    // The swatches are all different colours.
    expect(new Set(entries.map((e) => e.colour)).size).toBe(entries.length);
  });
  it('draws counts, "<10", "[c]" and no data from the feature-state', () => {
    const scale = countScale([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], variableDef('trend_counts').anchors, 5);
    const expr = countFillExpression('trend_count', scale, BELOW_COLOURS.trend_counts);
    expect(colour(expr, { trend_count: 10 })).toBe(rgba(scale.colours[0]));
    expect(colour(expr, { trend_count: 100 })).toBe(rgba(scale.colours[scale.colours.length - 1]));
    expect(colour(expr, { trend_count: '<10' })).toBe(rgba(BELOW_COLOURS.trend_counts));
    expect(colour(expr, { trend_count: '[c]' })).toBe(rgba(WITHHELD_COLOUR));
    expect(colour(expr, { trend_count: null })).toBe(rgba(NO_DATA_COLOUR));
    expect(colour(expr, {})).toBe(rgba(NO_DATA_COLOUR));
    const op = trendsNoDataOpacity('trend_count', 0.9);
    expect(evaluate(op, opacitySpec, { trend_count: 3 })).toBe(0);
    expect(evaluate(op, opacitySpec, { trend_count: '[c]' })).toBe(0);
    expect(evaluate(op, opacitySpec, { trend_count: null })).toBe(0.9);
    expect(evaluate(op, opacitySpec, {})).toBe(0.9);
  });
  it('aligns rows with the feature ids by area code', () => {
    expect(alignRows([{ area_id: 'B' }, { area_id: 'A' }, {}], [trendRow('A', []), trendRow('B', [])]).map((r) => r?.area_id ?? null)).toEqual(['B', 'A', null]);
  });
});

describe('trend direction', () => {
  const rows = [
    trendRow('A', [1, 2, 3], { direction: 'rising', q: 0.012, growth_pct_per_year: 12.34, rank: 1 }),
    trendRow('B', [3, 2, 1], { direction: 'falling', q: 0.03, growth_pct_per_year: -8 }),
    trendRow('C', [2, 2, 2]),
    trendRow('D', [2, 2, 2], { direction: 'odd' }),
    null,
  ];
  it('puts the direction into the feature-state', () => {
    expect(trendState(rows[0])).toEqual({ trend_direction: 'rising' });
    expect(trendState(rows[3])).toEqual({ trend_direction: null });
    expect(trendState(null)).toEqual({ trend_direction: null });
  });
  it('colours rising warm, falling cool and none neutral', () => {
    const expr = trendFillExpression();
    expect(colour(expr, { trend_direction: 'rising' })).toBe(rgba(TREND_COLOURS.rising));
    expect(colour(expr, { trend_direction: 'falling' })).toBe(rgba(TREND_COLOURS.falling));
    expect(colour(expr, { trend_direction: 'none' })).toBe(rgba(TREND_COLOURS.none));
    expect(colour(expr, { trend_direction: null })).toBe(rgba(NO_DATA_COLOUR));
    // Warm: more red than blue; cool: more blue than red.
    const [r1, , b1] = [1, 3, 5].map((i) => parseInt(TREND_COLOURS.rising.slice(i, i + 2), 16));
    const [r2, , b2] = [1, 3, 5].map((i) => parseInt(TREND_COLOURS.falling.slice(i, i + 2), 16));
    expect(r1).toBeGreaterThan(b1);
    expect(b2).toBeGreaterThan(r2);
  });
  it('builds the legend with counts and notes the test and the left-out periods', () => {
    const l = buildTrendLegend(rows, trends([]));
    expect(l.entries.map((e) => [e.key, e.label, e.count])).toEqual([
      ['rising', '↑ Rising', 1],
      ['none', '→ No significant trend', 1],
      ['falling', '↓ Falling', 1],
    ]);
    expect(l.noData.count).toBe(2);
    expect(l.note).toContain('3 months, Jan 2024 – Mar 2024');
    expect(l.note).toContain('Mann-Kendall');
    expect(l.note).toContain('false discovery rate 5 %');
    expect(l.footnotes?.join(' ')).toContain('Dec 2023');
  });
  it('hovers with an arrow, growth and q', () => {
    expect(trendHover(rows[0])).toBe('↑ Rising: +12.3 % a year (q = 0.012)');
    expect(trendHover(rows[1])).toBe('↓ Falling: −8 % a year (q = 0.030)');
    expect(trendHover(rows[2])).toBe('→ No significant trend (q = 0.600)');
    expect(trendHover(null)).toBe('Trend: no data');
  });
});

describe('referrals per period', () => {
  const d = trends([trendRow('A', [10, 25, '<10']), trendRow('B', ['[c]', 40, 55]), trendRow('C', [15, 20, 100])]);
  const scale = trendCountScale(d);
  it('uses one scale for every period', () => {
    expect(scale.min).toBe(10);
    expect(scale.max).toBe(100);
  });
  it('puts the chosen period’s count into the feature-state', () => {
    expect(trendCountState(d.areas[0], 2)).toEqual({ trend_count: '<10' });
    expect(trendCountState(d.areas[1], 0)).toEqual({ trend_count: '[c]' });
    expect(trendCountState(d.areas[2], 1)).toEqual({ trend_count: 20 });
    expect(trendCountState(null, 1)).toEqual({ trend_count: null });
  });
  it('builds the legend of one period', () => {
    const l = buildTrendCountLegend(d.areas, 0, scale, d);
    expect(l.title).toBe('Referrals in January 2024');
    expect(l.entries[0]).toMatchObject({ key: 'below', count: 0 });
    expect(l.entries[l.entries.length - 1]).toMatchObject({ key: 'withheld', count: 1 });
    expect(l.entries.reduce((a, e) => a + e.count, 0) + l.noData.count).toBe(3);
    expect(trendCountFillExpression(scale)[0]).toBe('case');
  });
  it('hovers with the period and the protected count', () => {
    expect(countHover(25, '2024-02')).toBe('Referrals in Feb 2024: 25');
    expect(countHover('<10', '2024-03')).toBe('Referrals in Mar 2024: fewer than 10 (<10)');
    expect(countHover('[c]', '2024-01')).toBe('Referrals in Jan 2024: withheld [c]');
  });
});

describe('hot spots', () => {
  const rows = [hot('A', 'hot_99'), hot('B', 'hot_99'), hot('C', 'cold_95'), hot('D', 'not_significant'), null];
  it('lists every Gi* class in order, cold 99 % first, with a diverging palette', () => {
    const l = buildHotspotLegend(rows, hotspots([]));
    expect(l.entries.map((e) => e.key)).toEqual(['cold_99', 'cold_95', 'cold_90', 'not_significant', 'hot_90', 'hot_95', 'hot_99']);
    expect(l.entries.map((e) => e.count)).toEqual([0, 1, 0, 1, 0, 0, 2]);
    expect(l.entries[0].label).toBe('Cold spot, 99 % confidence');
    expect(l.entries[6].label).toBe('Hot spot, 99 % confidence');
    expect(l.noData.count).toBe(1);
    expect(l.note).toContain('rook contiguity');
    expect(new Set(Object.values(HOTSPOT_COLOURS)).size).toBe(7);
    expect(HOTSPOT_CLASSES).toHaveLength(7);
  });
  it('draws each class from the feature-state', () => {
    const expr = hotspotFillExpression();
    expect(hotspotState(rows[0])).toEqual({ hotspot_class: 'hot_99' });
    expect(colour(expr, { hotspot_class: 'hot_99' })).toBe(rgba(HOTSPOT_COLOURS.hot_99));
    expect(colour(expr, { hotspot_class: 'cold_90' })).toBe(rgba(HOTSPOT_COLOURS.cold_90));
    expect(colour(expr, { hotspot_class: 'unknown' })).toBe(rgba(HOTSPOT_COLOURS.not_significant));
    expect(colour(expr, { hotspot_class: null })).toBe(rgba(NO_DATA_COLOUR));
  });
  it('labels and hovers', () => {
    expect(hotspotLabel('not_significant')).toBe('Not significant');
    expect(hotspotLabel('cold_90')).toBe('Cold spot, 90 % confidence');
    expect(hotspotHover(rows[0])).toBe('Hot spot, 99 % confidence (q = 0.010)');
    expect(hotspotHover(null)).toBe('Hot spots: no data');
  });
  it('lists only the emerging categories present, in order', () => {
    const em = [hot('A', 'hot_99', 'intensifying_hot_spot'), hot('B', 'hot_95', 'new_hot_spot'), hot('C', 'x', 'no_pattern'), hot('D', 'x', 'new_hot_spot'), hot('E', 'x', null)];
    const l = buildEmergingLegend(em, hotspots([]));
    expect(l.entries.map((e) => [e.key, e.label, e.count])).toEqual([
      ['new_hot_spot', 'New hot spot', 2],
      ['intensifying_hot_spot', 'Intensifying hot spot', 1],
      ['no_pattern', 'No pattern', 1],
    ]);
    expect(l.noData.count).toBe(1);
    expect(emergingState(em[0])).toEqual({ emerging_category: 'intensifying_hot_spot' });
    expect(colour(emergingFillExpression(), { emerging_category: 'new_hot_spot' })).toBe(rgba(EMERGING_COLOURS.new_hot_spot));
    expect(emergingHover(em[1])).toBe('New hot spot');
    expect(emergingLabel('persistent_cold_spot')).toBe('Persistent cold spot');
    expect(EMERGING_CATEGORIES).toHaveLength(17);
    expect(new Set(Object.values(EMERGING_COLOURS)).size).toBe(17);
  });
});

describe('projected demand', () => {
  const d = projection([projRow('A', [42, 44], [30, 31], [55, 58]), projRow('B', ['<10', '<10'], ['<10', '<10'], [12, 14]), projRow('C', [12.5, 20], [5, 9], [20, 33])]);
  const scale = projectionScale(d);
  it('puts the chosen horizon period into the feature-state', () => {
    expect(projectionState(d.areas[0], 1)).toEqual({ projected: 44 });
    expect(projectionState(d.areas[1], 0)).toEqual({ projected: '<10' });
    expect(projectionState(null, 0)).toEqual({ projected: null });
  });
  it('notes where the interval is, and the whole region', () => {
    const l = buildProjectionLegend(d.areas, 1, scale, d);
    expect(l.title).toBe('Projected referrals in May 2024');
    expect(l.note).toContain('projected, 95 % interval in the area panel');
    expect(l.note).toContain('trend model');
    expect(l.entries[0]).toMatchObject({ key: 'below', count: 1, colour: BELOW_COLOURS.projection });
    expect(l.footnotes?.[0]).toBe('Whole region: 410 referrals projected (95 % interval 355–470).');
    const expr = projectionFillExpression(scale);
    expect(colour(expr, { projected: '<10' })).toBe(rgba(BELOW_COLOURS.projection));
    expect(colour(expr, { projected: 44 })).toBe(rgba(scale.colours[scale.colours.length - 1]));
  });
  it('hovers with the interval', () => {
    expect(projectionHover(d.areas[0], 0, d)).toBe('Projected referrals in Apr 2024: 42 (95 % interval 30–55)');
    expect(projectionHover(d.areas[2], 0, d)).toBe('Projected referrals in Apr 2024: 12.5 (95 % interval 5–20)');
    expect(projectionHover(null, 0, d)).toBe('Projected referrals in Apr 2024: no data');
  });
});

describe('lists', () => {
  it('humanises the reasons of the early-warning list', () => {
    expect(reasonText('rate')).toBe('high referral rate');
    expect(reasonText('hot_spot')).toBe('hot spot');
    expect(reasonText('something_new')).toBe('something new');
    expect(reasonsText(['rate', 'growth', 'hotspot', 'emerging'])).toBe('High referral rate, fast growth, hot spot and emerging hot spot');
    expect(reasonsText(['growth'])).toBe('Fast growth');
    expect(reasonsText([])).toBe('No reason given');
  });
  it('writes one early-warning row', () => {
    const w: EarlyWarningArea = { area_id: 'DZ000123', reasons: ['rate', 'growth'], rate_per_1000: 41.23, growth_pct_per_year: 15, projected: 42 };
    expect(earlyWarningText(w, 'Carronside 4', 'month')).toBe('Carronside 4 (DZ000123) — High referral rate and fast growth: 41.2 per 1,000 a year; +15 % a year; 42 projected a month');
    expect(earlyWarningText({ ...w, rate_per_1000: null, growth_pct_per_year: null, projected: '<10', reasons: ['hotspot'] }, null, null)).toBe('DZ000123 — Hot spot: <10 projected per period');
    expect(earlyWarningText({ ...w, rate_per_1000: null, growth_pct_per_year: null, projected: null, reasons: ['emerging'] }, '', 'quarter')).toBe('DZ000123 — Emerging hot spot');
  });
  it('writes the rising areas, top 10 in the server’s order', () => {
    expect(risingText('DZ1', trendRow('DZ1', [], { growth_pct_per_year: 20, q: 0.001 }), 'Alpha')).toBe('Alpha (DZ1): +20 % a year (q = 0.001)');
    expect(risingText('DZ2', null, null)).toBe('DZ2');
    const ids = Array.from({ length: 14 }, (_, i) => `DZ${i}`);
    expect(topRising({ rising: ids })).toEqual(ids.slice(0, 10));
    expect(topRising({ rising: undefined as unknown as string[] })).toEqual([]);
  });
});

describe('errors', () => {
  it('says an older server does not offer the analyses', () => {
    expect(trendsErrorMessage(new ApiError(404, 'http_404', 'Not Found', '/api/trends'), 'trends')).toBe('This server does not offer trends yet (it may be an older version of needmap).');
    expect(trendsErrorMessage(new ApiError(400, 'bad_request', 'fewer than 4 complete periods', '/api/trends'), 'trends')).toBe('Could not load trends: fewer than 4 complete periods');
    expect(trendsErrorMessage(new ApiError(0, 'network', 'x', '/api/trends'), 'hot spots')).toBe('Could not load hot spots: the server could not be reached.');
    expect(trendsErrorMessage(new ApiError(500, 'internal', 'boom', '/api/trends'), 'trends')).toContain('the server had a problem (500)');
  });
  it('names the routes an older server lacks once, and keeps the lists short', () => {
    const e404 = (u: string): ApiError => new ApiError(404, 'http_404', 'Not Found', u);
    const e400 = new ApiError(400, 'bad_request', 'horizon must be 1-24', '/api/projection');
    expect(isMissingRoute(e404('/api/trends'))).toBe(true);
    expect(isMissingRoute(e400)).toBe(false);
    expect(
      sectionStatus([
        { what: 'trends', error: e404('/api/trends'), listed: true },
        { what: 'the early-warning list', error: e404('/api/early-warning'), listed: true },
        { what: 'projected demand', error: e404('/api/projection'), listed: false },
      ]),
    ).toBe('This server does not offer trends, the early-warning list or projected demand yet (it may be an older version of needmap).');
    expect(sectionStatus([{ what: 'projected demand', error: e400, listed: false }])).toBe('Could not load projected demand: horizon must be 1-24');
    expect(sectionStatus([{ what: 'trends', error: new ApiError(500, 'x', 'y', '/api/trends'), listed: true }])).toBe('');
    expect(sectionStatus([])).toBe('');
    expect(listErrorText(e404('/api/trends'), 'trends')).toBe('Not available from this server.');
    expect(listErrorText(e400, 'trends')).toBe('Could not load trends: horizon must be 1-24');
  });
});

describe('sparkline', () => {
  it('draws a path with gaps at missing values', () => {
    expect(sparklinePath([{ x: 0, y: 10 }, { x: 5, y: 2 }, null, { x: 15, y: 4 }, { x: 20, y: 6 }])).toBe('M0,10 L5,2 M15,4 L20,6');
    expect(sparklinePath([])).toBe('');
    expect(sparklinePath([{ x: 1.234, y: NaN }, { x: 1.234, y: 2.345 }])).toBe('M1.23,2.35');
    expect(bandPath([{ x: 0, y: 1 }, { x: 10, y: 2 }], [{ x: 0, y: 5 }, { x: 10, y: 6 }])).toBe('M0,1 L10,2 L10,6 L0,5 Z');
    expect(bandPath([{ x: 0, y: 1 }], [{ x: 0, y: 5 }])).toBe('');
  });
  it('has one bar per period: counts, "<10" up to the threshold, "[c]" as a tick', () => {
    const m = sparklineModel({ periods: ['2024-01', '2024-02', '2024-03', '2024-04'], counts: [20, '<10', '[c]', 40], periodKind: 'month' }, { width: 40, height: 40 });
    expect(m.bars).toHaveLength(4);
    expect(m.bars.map((b) => b.kind)).toEqual(['value', 'below', 'withheld', 'value']);
    expect(m.max).toBe(40);
    expect(m.bars[3].height).toBeCloseTo(40 - 3, 6);
    expect(m.bars[0].height).toBeCloseTo((20 / 40) * 37, 6);
    expect(m.bars[1].height).toBeCloseTo((10 / 40) * 37, 6);
    expect(m.bars[2].height).toBe(2);
    expect(m.bars[1].label).toBe('Feb 2024: fewer than 10 referrals');
    expect(m.bars[2].label).toBe('Mar 2024: withheld');
    expect(m.divider).toBeNull();
    expect(m.projectedLine).toBe('');
    // Bars do not overlap and stay inside the chart.
    for (let i = 1; i < m.bars.length; i++) expect(m.bars[i].x).toBeGreaterThanOrEqual(m.bars[i - 1].x + m.bars[i - 1].width);
    expect(m.bars[3].x + m.bars[3].width).toBeLessThanOrEqual(40);
  });
  it('adds the projection after a divider, joined to the last count, with its band', () => {
    const m = sparklineModel(
      { periods: ['2024-01', '2024-02'], counts: [20, 30], projection: { periods: ['2024-03', '2024-04'], projected: [32, 34], lower: ['<10', 20], upper: [50, 60], level: 0.95 } },
      { width: 90, height: 60 },
    );
    expect(m.max).toBe(60);
    expect(m.divider).not.toBeNull();
    expect(m.projectedLine.startsWith('M')).toBe(true);
    expect(m.projectedLine.split('L')).toHaveLength(3);
    expect(m.band.endsWith('Z')).toBe(true);
    expect(m.projectedPoints[0].label).toBe('Mar 2024: 32 referrals projected (95 % interval <10–50)');
    expect(m.projectedPoints.every((p) => p.x > (m.divider as number) && p.x <= 90)).toBe(true);
  });
  it('summarises the chart in words', () => {
    const s = sparklineSummary({ periods: ['2024-01', '2024-02', '2024-03', '2024-04'], counts: [20, '<10', '[c]', 40], periodKind: 'month', trend: '↑ Rising: +12.3 % a year (q = 0.012)' });
    expect(s).toBe('Referrals per month, Jan 2024 – Apr 2024 (4 months): first 20, last 40, highest 40 in Apr 2024; 1 month fewer than 10; 1 withheld. ↑ Rising: +12.3 % a year (q = 0.012).');
    expect(sparklineSummary({ periods: [], counts: [] })).toBe('No referral counts by period.');
    const p = sparklineSummary({ periods: ['2024'], counts: [100], periodKind: 'year', projection: { periods: ['2025', '2026'], projected: [110, 120], lower: [90, 95], upper: [130, 150], level: 0.95 } });
    expect(p).toBe('Referrals per year, 2024 (1 year): first 100, last 100, highest 100 in 2024. Projected for 2026: 120 (95 % interval 95–150).');
  });
});
